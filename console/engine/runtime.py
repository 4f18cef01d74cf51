"""Builds and runs the whole engine from config: venue, journal, kernel, io thread, watchdog.

    engine = build_engine(load_config())          # sim by default: starts `edgedesk sim` as a child
    engine.start()                                # threads up, journal loaded, reconciling
    engine.wait_ready(30)                         # start-up reconciliation done: trading allowed
    control = engine.control                      # the only way in (commands, snapshot(), subscribe())
    ...
    engine.stop()                                 # exit policy from [ui] exit_policy (or pass one)

Venues (`[venue] name`): `sim` starts the built-in exchange on 127.0.0.1 (unless `url` is given: an
exchange already running, with its `key_dir`); `demo` / `prod` take the key from the environment.
Production trades on paper (`console.venues.paper`: fills simulated against the live book) unless
`[venue] live_trading = true`.

Start-up: lock the account (a second desk on the same account refuses), open the journal and load
it (open orders, positions, past sessions), connect (REST + WebSocket private channels), load the
watched markets and subscribe their books, then reconcile with the venue; trading starts only when
that first reconciliation is done. Stop: `Shutdown(policy)` through the kernel (leave / cancel /
flatten), then the threads, the journal, the child exchange and the lock, in that order.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Iterable, Mapping
from pathlib import Path

from console.config import DeskConfig
from console.domain.orders import ClientOrderIds
from console.engine.clock import Clock
from console.engine.control import Control, ExitPolicy, Shutdown
from console.engine.io import IoThread
from console.engine.journal import JOURNAL_FILE, ForwardTestLog, Journal, data_dir
from console.engine.kernel import Kernel
from console.engine.lock import AccountLock
from console.engine.messages import EnsureOrderGroup, FetchBalance, LoadMarkets
from console.engine.polyfeed import prepare_arbitrage
from console.engine.scorebook import ScoreBook
from console.engine.simproc import SimProcess
from console.engine.strategies import Strategy, build_strategies
from console.engine.watchdog import Watchdog
from console.venues.kalshi.venue import KalshiVenue, resolve_venue

log = logging.getLogger(__name__)
SWITCH_INTERVAL_S = 0.001


class Engine:
    """A built engine (see the module docstring). `control` is the front ends' handle."""

    def __init__(self, config: DeskConfig, venue: KalshiVenue, *, home: Path, journal_path: Path,
                 strategies: list[Strategy], clock: Clock | None, auto: bool | None,
                 sim: SimProcess | None = None, paper: bool = False) -> None:
        self.config = config
        self.venue = venue
        self.home = home
        self.sim = sim
        self.paper = paper
        self.control = Control()
        self.lock = AccountLock(venue.rest_url, venue.signer.api_key_id if venue.signer else "public")
        self.lock.acquire()
        try:
            self.journal = Journal(journal_path)
        except Exception:
            self.lock.release()
            raise
        recovered = self.journal.load()
        session = ClientOrderIds.random_session()
        while session in recovered.sessions:
            session = ClientOrderIds.random_session()
        self.forward_log = ForwardTestLog(journal_path.parent / "forward_test.jsonl") \
            if config.engine.forward_test_log else None
        self.io: IoThread | None = None
        self.kernel = Kernel(self.control, config, session=session, act=self._act, clock=clock, journal=self.journal,
                             strategies=strategies, forward_log=self.forward_log, recovered=recovered, auto=auto)
        self.kernel.desk.scorebook = ScoreBook.from_journal(self.journal)  # calibration -> the strategies' shrink
        # cross-venue arbitrage: pair registry, Polymarket books on the io loop, arb rows (polyfeed.py)
        self.polyfeed, self._arb_tickers = prepare_arbitrage(config, home, sim.polymarket_url if sim else None,
                                                             self.kernel)
        self._recovered_tickers = tuple(sorted({o.ticker for o in recovered.open_orders}
                                               | {t for t, p in recovered.portfolio.positions.items() if p.position}))
        risk = config.risk
        self.watchdog = Watchdog(kernel_beat=lambda: self.kernel.last_beat, feed_mono=self._feed_mono,
                                 armed=lambda: self.kernel.desk.ready, cancel_all=self._act,
                                 tell_kernel=self.kernel.post, kernel_stall_s=risk.kernel_stall_ms / 1000,
                                 feed_silence_s=float(risk.feed_silence_s))
        self.models = None  # the model runner, once started
        self.started = False

    def _act(self, action: object) -> None:
        if self.io is not None:
            self.io.submit(action)

    def _feed_mono(self) -> float | None:
        return self.io.last_feed_mono() if self.io is not None else None

    def _make_rest(self):
        rest = self.venue.rest()
        if self.paper:
            from console.venues.paper import PaperRest

            markets = self.kernel.desk.markets  # read-only here; a market's meta is replaced, never mutated

            def fees(ticker: str):
                meta = markets.get(ticker)
                return meta.fees if meta is not None else None

            return PaperRest(rest, self.kernel.post, fees=fees)
        return rest

    def _make_ws(self, sink):
        silence = max(1.0, self.config.risk.feed_silence_s / 3)
        if self.paper:
            from console.venues.paper import paper_sink

            sink = paper_sink(sink, lambda: self.io.rest if self.io else None)
        return self.venue.ws(sink, silence_s=silence)

    def start(self, timeout_s: float = 20.0) -> None:
        # the io and kernel threads hand work to each other on every tick; a waiting thread gets the GIL
        # within 1 ms instead of CPython's default 5 ms (tick-to-order p99, bench/tick_to_order.py)
        sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL_S))
        self.io = IoThread(self._make_rest, self._make_ws, self.kernel.post, fast_orders=not self.paper,
                           order_timeout_s=self.venue.timeout_s)
        self.io.trade_tape = self.paper
        try:
            self.io.start(timeout_s)
        except BaseException:
            self.close()
            raise
        self.kernel.start()
        cfg = self.config.engine
        self._act(EnsureOrderGroup(cfg.bot_group_contracts * 100))
        self._act(FetchBalance())
        watch = tuple(dict.fromkeys(tuple(cfg.watch) + self._recovered_tickers + self._arb_tickers))
        self._act(LoadMarkets(watch if cfg.watch else None, limit=cfg.max_watch))
        if not cfg.watch and self._recovered_tickers:
            self._act(LoadMarkets(self._recovered_tickers))
        if not cfg.watch and self._arb_tickers:
            self._act(LoadMarkets(self._arb_tickers))  # the paired markets, wherever they rank
        if self.polyfeed is not None and self.io.loop is not None:
            self.polyfeed.start(self.io.loop)
        if self.config.models.enabled:
            self._start_models()
        self.watchdog.start()
        self.started = True

    def _start_models(self) -> None:
        """The model runner (console.engine.modelrun) on the io loop: fair values for the kernel."""
        from console.engine.control import Watch
        from console.engine.modelrun import ModelRunner

        io = self.io
        assert io is not None
        desk = self.kernel.desk

        def watch(tickers: tuple[str, ...]) -> bool:
            # after the start-up load (the desk is ready then): a market is never loaded twice at once
            if not desk.ready:
                return False
            new = tuple(t for t in tickers if t not in desk.markets)
            if new:
                self.control.submit(Watch(new))
            return True

        self.models = ModelRunner(self.config.models, self.venue.name, self.venue.rest_url, rest=lambda: io.rest,
                                  post=self.kernel.post, watch=watch, now_ms=self.kernel.clock.now_ms)
        io.run_background(self.models.run)

    def wait_ready(self, timeout_s: float = 30.0) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.kernel.desk.ready:
                return True
            time.sleep(0.02)
        return False

    def stop(self, policy: ExitPolicy | str | None = None, timeout_s: float | None = None) -> bool:
        """Shut down with the exit policy (default `[ui] exit_policy`); returns True if it completed in time."""
        done = True
        if self.started:
            policy = ExitPolicy(policy or self.config.ui.exit_policy)
            limit = timeout_s if timeout_s is not None else (
                self.config.engine.flatten_timeout_s + 5 if policy is ExitPolicy.FLATTEN else 10.0)
            self.control.submit(Shutdown(policy))
            done = self.kernel.finished.wait(limit)
            if not done:
                log.error("shutdown (%s) did not finish within %.0f s", policy.value, limit)
        self.close()
        return done

    def close(self) -> None:
        """Stop the threads and release everything (no exit policy: see `stop`)."""
        self.watchdog.stop()
        self.kernel.stop()
        if self.polyfeed is not None:
            self.polyfeed.stop()
        if self.io is not None:
            self.io.stop()
        self.kernel.publish_if_due(self.kernel.clock.now_ms(), force=True)
        self.journal.close()
        if self.forward_log is not None:
            self.forward_log.close()
        if self.sim is not None:
            self.sim.stop()
        self.lock.release()
        self.started = False


def build_engine(config: DeskConfig, *, home: str | os.PathLike[str] | None = None, url: str | None = None,
                 key_dir: str | os.PathLike[str] | None = None, venue: KalshiVenue | None = None,
                 strategies: Iterable[Strategy] | None = None, clock: Clock | None = None,
                 auto: bool | None = None, env: Mapping[str, str] | None = None,
                 sim_args: tuple[str, ...] = (), paper: bool | None = None) -> Engine:
    """Make an engine from config (nothing runs until `start()`).

    `home`: the data directory (journal, locks, sim keys; default $EDGEDESK_HOME or ~/.local/share/edgedesk).
    `url` / `key_dir`: an exchange that is already running (sim) or another host. `venue`: a ready-made
    venue (tests use accounts they created). `strategies`: default from `[engine.strategies]`. `paper`:
    force paper trading on or off (default: on for prod unless `[venue] live_trading`).
    """
    base = Path(home).expanduser() if home is not None else data_dir(env)
    base.mkdir(parents=True, exist_ok=True)
    journal_path = Path(config.engine.journal_path).expanduser() if config.engine.journal_path else base / JOURNAL_FILE
    sim = None
    if venue is None:
        if config.venue.name == "sim" and url is None:
            sim_keys = Path(key_dir) if key_dir else base / "sim-keys"
            sim = SimProcess.start(config, sim_keys, extra_args=sim_args, log_path=base / "sim.log")
            url, key_dir = sim.rest_url, sim_keys
        try:
            venue = resolve_venue(config, url=url, key_dir=key_dir, env=env)
        except BaseException:
            if sim is not None:
                sim.stop()
            raise
    if paper is None:
        paper = venue.name == "prod" and not config.venue.live_trading
    chosen = list(strategies) if strategies is not None else build_strategies(config.engine.strategies)
    try:
        return Engine(config, venue, home=base, journal_path=journal_path, strategies=chosen, clock=clock,
                      auto=auto, sim=sim, paper=paper)
    except BaseException:
        if sim is not None:
            sim.stop()
        raise
