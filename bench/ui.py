"""Benchmark: the desk stays responsive while 10,000 book updates a second flow through the engine.

    .venv/bin/python bench/ui.py                          # 50 markets, 10,000 updates/s, 10 s, 160x50
    .venv/bin/python bench/ui.py --rate 20000 --seconds 20 --size 80x24

What runs: the real engine kernel (console.engine.kernel.Kernel, its own thread, as `build_engine` makes
it) with 50 markets loaded; a feeder thread posts decoded `BookDelta` events into the kernel's inbox at
the given rate (what the io thread does after decoding the venue's WebSocket); the kernel applies them to
its books and publishes `DeskSnapshot`s at <= 20 Hz through `Control`. The desk (EdgeDeskApp) runs in
a child process on a real pseudo-terminal with Textual's normal Linux driver, so every frame is rendered
and written as escape codes; the parent drains the terminal. All threads share the child's GIL, as
they do in the real desk.

Measured in the child:
- event-loop lag: an asyncio task sleeps 5 ms in a loop on the UI's loop; lag = how late it wakes.
- key-press latency: a thread posts a `Key("v")` to the app every 100 ms (as the driver's input thread
  does) and the time until the bound action (toggle the ladder's YES/NO view) runs is recorded.
Targets: lag p99 < 16 ms, key p99 < 50 ms. The exchange itself is not in the loop: a WebSocket feed of
10,000 messages/s is bench/feed.py's subject.
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import json
import os
import pty
import random
import select
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from fractions import Fraction
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # runnable from a checkout

LAG_TARGET_MS = 16.0
KEY_TARGET_MS = 50.0
SLEEP_S = 0.005


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# --- the engine side (child process) -----------------------------------------------------------------


def start_kernel(markets: int):
    from console.config import DeskConfig
    from console.domain.fees import FeeType, KalshiFees
    from console.domain.grid import PriceGrid
    from console.engine import messages as m
    from console.engine.control import Control
    from console.engine.kernel import Kernel
    from console.venues.events import BookSnapshot

    grid = PriceGrid.for_structure("linear_cent")
    fees = KalshiFees(FeeType.QUADRATIC, Fraction(1))
    tickers = [f"KXBENCH-{i:02d}" for i in range(markets)]
    control = Control()
    kernel = Kernel(control, DeskConfig(), session="bench", act=lambda action: None)
    kernel.start()
    metas = tuple(m.MarketMeta(t, f"KXBENCHEV-{i // 5}", f"bench market {i}", ("Senate", "House", "Weather",
                                                                                  "CPI", "Governor")[i % 5],
                               "active", grid, fees, False, 2_000_000_000) for i, t in enumerate(tickers))
    kernel.post(m.MarketsLoaded(metas))
    books = {}
    for t in tickers:
        bids = {p: 1000 + 100 * (p % 7) for p in range(3000, 4900, 100)}
        asks = {p: 1000 + 100 * (p % 5) for p in range(5100, 7000, 100)}
        books[t] = (bids, asks)
        kernel.post(BookSnapshot("kalshi", t, tuple(sorted(bids.items())), tuple(sorted(asks.items())), sid=1))
    return control, kernel, tickers, books


class Feeder(threading.Thread):
    """Posts `rate` BookDelta events a second into the kernel inbox, spread over every market."""

    def __init__(self, kernel, tickers, books, rate: int) -> None:
        super().__init__(name="bench-feeder", daemon=True)
        self.kernel, self.tickers, self.books, self.rate = kernel, tickers, books, rate
        self.posted = 0
        self.stop_flag = threading.Event()

    def run(self) -> None:
        from console.domain.side import Side
        from console.venues.events import BookDelta

        rng = random.Random(7)
        start = time.perf_counter()
        post = self.kernel.post
        while not self.stop_flag.is_set():
            due = int((time.perf_counter() - start) * self.rate)
            while self.posted < due:
                ticker = self.tickers[self.posted % len(self.tickers)]
                bids, asks = self.books[ticker]
                is_bid = rng.random() < 0.5
                levels = bids if is_bid else asks
                price = rng.randrange(3000, 4900, 100) if is_bid else rng.randrange(5100, 7000, 100)
                current = levels.get(price, 0)
                delta = max(-current, rng.randrange(-800, 900, 100)) or 100
                levels[price] = current + delta
                post(BookDelta("kalshi", ticker, Side.BID if is_bid else Side.ASK, price, delta, sid=1))
                self.posted += 1
            time.sleep(0.001)


def child(args: argparse.Namespace) -> None:
    from textual import events

    from console.tui.app import EdgeDeskApp

    control, kernel, tickers, books = start_kernel(args.markets)
    feeder = Feeder(kernel, tickers, books, args.rate)
    lags: list[float] = []
    lag_at: list[float] = []  # seconds since the feed started, per lag sample
    keys: list[float] = []
    pending: dict[int, float] = {}
    versions: set[int] = set()
    app = EdgeDeskApp(control, tune_gc=True)  # as run_desk makes it
    desk = app.desk
    original_toggle = desk.action_toggle_no_view
    probe_ids = iter(range(1, 10**9))

    def toggle_and_record() -> None:
        if pending:
            keys.append((time.perf_counter() - pending.pop(min(pending))) * 1000)
        original_toggle()

    desk.action_toggle_no_view = toggle_and_record

    def key_prober() -> None:
        time.sleep(1.0)
        while not stop.is_set():
            pending[next(probe_ids)] = time.perf_counter()
            app.post_message(events.Key("v", "v"))
            time.sleep(0.1)

    async def lag_sampler() -> None:
        while True:
            before = time.perf_counter()
            await asyncio.sleep(SLEEP_S)
            if stop.is_set():
                break  # the app is exiting: tearing the screen down is not lag under load
            lags.append((time.perf_counter() - before - SLEEP_S) * 1000)
            lag_at.append(before - feed_started[0])
            versions.add(control.snapshot().version)

    stop = threading.Event()

    feed_started = [time.perf_counter()]

    def on_ready() -> None:
        feed_started[0] = time.perf_counter()
        feeder.start()
        threading.Thread(target=key_prober, daemon=True).start()
        app._bench_task = asyncio.get_running_loop().create_task(lag_sampler())
        app.set_timer(args.seconds, finish)

    def finish() -> None:
        stop.set()
        feeder.stop_flag.set()
        app.exit()

    app.call_later(on_ready)
    profiler = None
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()  # the UI thread only: where the event-loop lag comes from
        profiler.enable()
    started = time.perf_counter()
    app.run()
    elapsed = time.perf_counter() - started
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(args.profile)
    kernel.stop()
    skip = int(len(lags) * 0.1)
    warm = lags[skip:]  # skip start-up (first composition, table builds)
    worst = max(range(skip, len(lags)), key=lags.__getitem__, default=None)
    result = {
        "markets": args.markets, "rate": args.rate, "seconds": round(elapsed, 1), "posted": feeder.posted,
        "snapshots_seen": len(versions), "lag_samples": len(warm),
        "lag_p50_ms": percentile(warm, 0.5), "lag_p99_ms": percentile(warm, 0.99), "lag_max_ms": max(warm or [0]),
        "lag_max_at_s": lag_at[worst] if worst is not None else 0.0, "lags_over_50ms": sum(v > 50 for v in warm),
        "key_samples": len(keys), "key_p50_ms": percentile(keys, 0.5), "key_p99_ms": percentile(keys, 0.99),
        "key_max_ms": max(keys or [0]),
    }
    Path(args.result).write_text(json.dumps(result), encoding="utf-8")


# --- the parent: a pseudo-terminal for the desk ------------------------------------------------------


def parent(args: argparse.Namespace) -> int:
    width, height = (int(v) for v in args.size.split("x"))
    with tempfile.TemporaryDirectory() as tmp:
        result_path = Path(tmp) / "result.json"
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))
        env = {**os.environ, "TERM": "xterm-256color", "EDGEDESK_HOME": tmp}
        cmd = [sys.executable, __file__, "--child", "--result", str(result_path), "--markets", str(args.markets),
               "--rate", str(args.rate), "--seconds", str(args.seconds)]
        if args.profile:
            cmd += ["--profile", str(Path(args.profile).resolve())]
        proc = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True)
        os.close(slave)
        written = 0
        while True:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(master, 1 << 16)
                except OSError:
                    break
                if not chunk:
                    break
                written += len(chunk)
            elif proc.poll() is not None:
                break
        proc.wait(30)
        os.close(master)
        if not result_path.exists():
            print(f"bench/ui.py: the desk process exited with {proc.returncode} and no result", file=sys.stderr)
            return 1
        r = json.loads(result_path.read_text(encoding="utf-8"))
    rate = r["posted"] / r["seconds"]
    load = os.getloadavg()[0]
    print(f"machine: {os.cpu_count()} CPUs, load average {load:.2f} at the end (other processes compete for the "
          "same cores; the figures include their effect)")
    print(f"desk {width}x{height} on a pty; engine kernel with {r['markets']} markets; "
          f"{r['posted']:,} book updates in {r['seconds']} s ({rate:,.0f}/s); "
          f"{r['snapshots_seen']} snapshots drawn; terminal output {written / r['seconds'] / 1e6:.2f} MB/s")
    lag_ok = r["lag_p99_ms"] < LAG_TARGET_MS
    key_ok = r["key_p99_ms"] < KEY_TARGET_MS
    print(f"event-loop lag  p50 {r['lag_p50_ms']:6.2f} ms  p99 {r['lag_p99_ms']:6.2f} ms  max {r['lag_max_ms']:6.2f} ms"
          f"  ({r['lag_samples']} samples)  target p99 < {LAG_TARGET_MS:.0f} ms: {'OK' if lag_ok else 'MISSED'}")
    print(f"                worst stall {r['lag_max_at_s']:.1f} s after the feed started; "
          f"{r['lags_over_50ms']} sample(s) over 50 ms")
    print(f"key press       p50 {r['key_p50_ms']:6.2f} ms  p99 {r['key_p99_ms']:6.2f} ms  max {r['key_max_ms']:6.2f} ms"
          f"  ({r['key_samples']} samples)  target p99 < {KEY_TARGET_MS:.0f} ms: {'OK' if key_ok else 'MISSED'}")
    return 0 if lag_ok and key_ok else 2


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--markets", type=int, default=50)
    parser.add_argument("--rate", type=int, default=10_000, help="book updates per second (default 10,000)")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--size", default="160x50", help="terminal size, e.g. 80x24 (default 160x50)")
    parser.add_argument("--profile", help="write a cProfile of the desk's UI thread to this file (pstats format)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return 0
    return parent(args)


if __name__ == "__main__":
    sys.exit(main())
