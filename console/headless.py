"""`edgedesk run --headless`: the same engine with no UI, for servers and unattended auto trading.

- Every engine event is one JSON line on stdout (`{"type": "Filled", ...}`; prices YES-scale pips,
  counts hundredths of a contract, money micro-dollars, as everywhere in the desk), and every
  `[engine] status_interval_s` a `{"type": "status", ...}` line: mode, orders, positions, P&L,
  venue health, blocked markets.
- SIGTERM (and SIGINT) stop the desk with the configured exit policy (`[ui] exit_policy`: leave the
  orders, cancel them all, or flatten); SIGUSR1 flattens and keeps running (HALTED).
- `--for SECONDS` stops by itself after that long (same exit policy). `--auto` starts in AUTO.
- A second instance on the same account refuses to start (exit status 3), as does a venue that
  cannot be reached or a key that is missing; config errors are exit status 2.

Nothing here imports the TUI (a test checks `textual` is never loaded).
"""

from __future__ import annotations

import json
import logging
import queue
import signal
import sys
import threading
import time
from dataclasses import asdict, is_dataclass
from enum import Enum
from typing import IO, Any

from console.config import DeskConfig
from console.engine.control import DeskSnapshot, ExitPolicy, Flatten

log = logging.getLogger(__name__)

EXIT_OK, EXIT_CONFIG, EXIT_START = 0, 2, 3


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _dump(obj: dict[str, Any]) -> str:
    return json.dumps(obj, separators=(",", ":"))


def event_json(event: Any) -> str:
    body = asdict(event) if is_dataclass(event) else {"value": repr(event)}
    return json.dumps({"type": type(event).__name__, **_plain(body)}, separators=(",", ":"))


def status_json(snap: DeskSnapshot, started: float) -> str:
    return json.dumps({
        "type": "status", "uptime_s": round(time.monotonic() - started, 1), "version": snap.version,
        "mode": snap.mode.value, "mode_reason": snap.mode_reason, "venue": snap.venue_health,
        "venue_reason": snap.venue_reason, "open_orders": len(snap.orders), "proposals": len(snap.proposals),
        "positions": {p.ticker: p.position for p in snap.positions if p.position},
        "realized_pnl": sum(p.realized_pnl for p in snap.positions),
        "unrealized_pnl": sum(p.unrealized_pnl or 0 for p in snap.positions),
        "fees": sum(p.fees for p in snap.positions), "cost_to_flatten": snap.cost_to_flatten,
        "day_pnl": snap.pnl_today[-1] if snap.pnl_today else 0, "markets": len(snap.markets),
        "blocked_markets": [list(b) for b in snap.blocked_markets], "flattening": snap.flattening,
        "flatten_report": snap.flatten_report,
    }, separators=(",", ":"))


class _Signals:
    """SIGTERM/SIGINT -> stop; SIGUSR1 -> flatten (handlers only set flags; the main loop acts)."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.flatten = threading.Event()
        self.stop_signal = ""

    def install(self) -> None:
        signal.signal(signal.SIGTERM, self._on_stop)
        signal.signal(signal.SIGINT, self._on_stop)
        signal.signal(signal.SIGUSR1, lambda *_: self.flatten.set())

    def _on_stop(self, signum: int, _frame: object) -> None:
        self.stop_signal = signal.Signals(signum).name
        self.stop.set()


def run_headless(config: DeskConfig, *, auto: bool = False, for_s: float | None = None, url: str | None = None,
                 key_dir: str | None = None, home: str | None = None, out: IO[str] | None = None) -> int:
    """Run the engine until SIGTERM/SIGINT or `for_s`; returns the process exit status."""
    from console.engine.lock import AccountLocked
    from console.engine.runtime import build_engine
    from console.venues.errors import VenueError
    from console.venues.kalshi.venue import VenueConfigError

    out = out or sys.stdout
    logging.getLogger("httpx").setLevel(logging.WARNING)
    signals = _Signals()
    signals.install()
    events: queue.SimpleQueue[Any] = queue.SimpleQueue()

    def write(line: str) -> None:
        out.write(line + "\n")
        out.flush()

    try:
        engine = build_engine(config, home=home, url=url, key_dir=key_dir, auto=auto or None)
    except (AccountLocked, VenueConfigError, VenueError, OSError, RuntimeError) as exc:
        print(f"edgedesk: {exc}", file=sys.stderr)
        return EXIT_START
    engine.control.subscribe(events.put)
    try:
        engine.start()
    except Exception as exc:  # noqa: BLE001 - reported with what to do; nothing was traded
        print(f"edgedesk: could not start: {exc}", file=sys.stderr)
        return EXIT_START
    started = time.monotonic()
    write(_dump({"type": "started", "venue": engine.venue.name, "url": engine.venue.rest_url,
                      "paper": engine.paper, "auto": bool(auto or config.engine.start_mode == "auto"),
                      "exit_policy": config.ui.exit_policy, "pid": __import__("os").getpid()}))
    next_status = started
    policy = ExitPolicy(config.ui.exit_policy)
    reason = "signal"
    try:
        while True:
            if signals.flatten.is_set():
                signals.flatten.clear()
                engine.control.submit(Flatten("SIGUSR1"))
            if signals.stop.is_set():
                reason = signals.stop_signal
                break
            if for_s is not None and time.monotonic() - started >= for_s:
                reason = f"--for {for_s:g}"
                break
            now = time.monotonic()
            if now >= next_status:
                write(status_json(engine.control.snapshot(), started))
                next_status = now + config.engine.status_interval_s
            try:
                write(event_json(events.get(timeout=0.1)))
            except queue.Empty:
                pass
    finally:
        completed = engine.stop(policy)
        while True:
            try:
                write(event_json(events.get_nowait()))
            except queue.Empty:
                break
        write(status_json(engine.control.snapshot(), started))
        write(_dump({"type": "stopped", "reason": reason, "exit_policy": policy.value, "completed": completed}))
    return EXIT_OK
