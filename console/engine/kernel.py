"""`Kernel`: the single writer of all trading state, on its own thread.

Each turn of its loop: drain the `Control` commands (Flatten and Halt first), then the event inbox
(venue events and request results from the io thread, worker results, the watchdog), then run the
strategies on the markets whose books changed, then the timers, then publish a snapshot if
something changed (at most `[engine] snapshot_hz` a second). Events for the front ends go out
through `Control.emit` as they happen and are never dropped.

Deterministic: every item the kernel handles (command, event, result, `Evaluate`, `Tick`) goes
through `handle(item)`, which reads the injected clock once; decisions depend only on the items and
those readings. `tap(now_ms, mono_ns, item)` sees every handled item, so a session can be recorded
and replayed through a fresh kernel with a `ManualClock` to the very same orders (tests do this).

Model fair values arrive as `FairValues` (console/engine/fair.py) from the model runner: the kernel keeps
the latest per market (and the election state) on the desk, re-runs the strategies there, journals the
predictions (throttled) and keeps the snapshot's edge rows for the markets that changed.

The kernel owns the mode: MANUAL (intents wait for the operator), AUTO (intents that pass risk are
sent), HALTED (nothing new; cancels and flatten still work). A breaker moves AUTO to HALTED and says
why (`RiskBreached`). Pausing the bot (`SetAuto(False)`) cancels bot orders and leaves manual ones.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor

from console.config import DeskConfig
from console.domain.orders import OrderState, SendFailed
from console.domain.units import PRICE_MAX
from console.engine.clock import Clock, WallClock
from console.engine.control import (
    Approve,
    CancelAll,
    CancelOrder,
    CheckOrder,
    Control,
    ExitPolicy,
    Flatten,
    Halt,
    Mode,
    PlaceOrder,
    Reject,
    Resume,
    RiskBreached,
    SetAuto,
    Shutdown,
    Watch,
)
from console.engine.execution import Execution
from console.engine.fair import FairValue, FairValues
from console.engine.flatten import Flattener
from console.engine.journal import ForwardTestLog, Journal, Recovered
from console.engine.kernel_news import VenueNews
from console.engine.messages import (
    AmendAnswer,
    BalanceLoaded,
    CancelAllAction,
    CancelAllAnswer,
    CancelAnswer,
    EnsureOrderGroup,
    Evaluate,
    FetchBalance,
    FlattenBooks,
    LoadMarkets,
    MarketsLoaded,
    Note,
    OrderAnswer,
    OrderGroupReady,
    ReconcileResult,
    RequestOutcome,
    Tick,
    WatchdogFired,
    WorkDone,
)
from console.engine.reconcile import Reconciler
from console.engine.snapshot import SnapshotBuilder
from console.engine.state import Desk
from console.engine.strategies.base import MarketView, OwnOrder, Strategy
from console.engine.strategies.directional import Directional
from console.venues.events import BookDelta, BookLevelSet, BookSnapshot
from console.venues.kalshi import codec_ws as w
from console.venues.kalshi.ws_events import (
    FeedConnected,
    FeedDecodeError,
    FeedDisconnected,
    SeqGap,
    SilenceDetected,
    SubscriptionLost,
)

log = logging.getLogger(__name__)

TICK_MS = 50
BALANCE_EVERY_MS = 60_000
SWEEP_MS = 250  # every watched market is evaluated at least this often
WORKERS = 2
SHUTDOWN_CANCEL_WAIT_MS = 3_000
EVALUATE = Evaluate()
TICK = Tick()
PREDICTION_MOVE = 0.01  # journal a market's prediction when it moves this much...
PREDICTION_EVERY_MS = 15 * 60_000  # ...or this long after the last one
MODEL_ALERT_EVERY_MS = 60_000  # the same model data problem is alerted at most once a minute
EDGE_ROW_REFRESH_MS = 5_000  # edge rows of a changed market are recomputed, and at least this often


class Kernel(VenueNews):
    """The trading kernel (see the module docstring). Build with `runtime.build_engine` for live use."""

    def __init__(self, control: Control, config: DeskConfig, *, session: str, act: Callable[[object], None],
                 clock: Clock | None = None, journal: Journal | None = None, strategies: Iterable[Strategy] = (),
                 forward_log: ForwardTestLog | None = None, recovered: Recovered | None = None,
                 auto: bool | None = None) -> None:
        self.control = control
        self.clock = clock or WallClock()
        self.desk = Desk(config, control, self.clock, journal, act, session, forward_log)
        self.execution = Execution(self.desk)
        self.reconciler = Reconciler(self.desk, self.execution)
        self.flattener = Flattener(self.desk, self.execution)
        self.snapshots = SnapshotBuilder(self.desk)
        self.strategies = list(strategies)
        self.inbox: deque[object] = deque()  # filled by other threads (append is atomic); drained here
        self.dirty: dict[str, None] = {}
        self.skipped = True
        self.last_sweep_ms = 0
        self.breach_noted: object = None
        self.tap: Callable[[int, int, object], None] | None = None
        self.want_auto = (config.engine.start_mode == "auto") if auto is None else auto
        self.next_tick_ms = 0
        self.last_publish_ms = 0
        self.publish_every_ms = int(1000 / config.engine.snapshot_hz)
        self.book_changed = True
        self.last_balance_ms = 0
        self.shutdown_policy: ExitPolicy | None = None
        self.shutdown_ms = 0
        self.finished = threading.Event()
        self.last_beat = time.monotonic()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._workers: ThreadPoolExecutor | None = None
        self.work_handlers: dict[str, Callable[[WorkDone], None]] = {}
        self.predicted: dict[tuple[str, str], tuple[float, int]] = {}  # (ticker, model) -> (prob, ms) journaled
        self.model_alerted: dict[str, int] = {}  # model data problem -> ms last alerted
        self.edge_keys: dict[str, tuple] = {}  # ticker -> what its edge row was computed from
        self._edge_source: Directional | None = None
        self._handlers = self._make_handlers()
        if journal is not None:
            journal.start_session(session, self.desk.now_ms)
        if recovered is not None:
            self._recover(recovered)

    # --- wiring -----------------------------------------------------------------------------------
    def _make_handlers(self) -> dict[type, Callable[[object], None]]:
        ex = self.execution
        return {
            BookDelta: self._on_book, BookSnapshot: self._on_book, BookLevelSet: self._on_book,
            w.FillMsg: self._on_fill_noting_loss, w.UserOrderMsg: ex.on_user_order,
            w.MarketPositionMsg: self._on_position, w.MarketLifecycle: self._on_lifecycle_noting_loss,
            w.OrderGroupUpdate: self._on_group, w.Ticker: self._on_ticker, FairValues: self._on_fair,
            w.TradeMsg: self._on_trade, SeqGap: self._on_gap, FeedDecodeError: self._on_feed_trouble,
            SubscriptionLost: self._on_feed_trouble, SilenceDetected: self._on_silence,
            FeedConnected: self._on_connected, FeedDisconnected: self._on_disconnected,
            OrderAnswer: self._on_answer, CancelAnswer: self._on_cancel_answer, AmendAnswer: ex.on_amend_answer,
            CancelAllAnswer: self._on_cancel_all, MarketsLoaded: self._on_markets, ReconcileResult: self._on_reconciled_noting_loss,
            FlattenBooks: self.flattener.on_books, BalanceLoaded: self._on_balance, OrderGroupReady: self._on_group_ready,
            RequestOutcome: self._on_request, Tick: self._on_tick, Evaluate: self._evaluate,
            WorkDone: self._on_work, WatchdogFired: self._on_watchdog, Note: lambda n: self.desk.alert(n.level, n.kind, n.message),
            PlaceOrder: ex.place_manual, CancelOrder: self._cancel_one, CancelAll: ex.cancel_all,
            Flatten: lambda c: self.flattener.start(c.reason), SetAuto: self._set_auto, Approve: ex.approve,
            Reject: ex.reject, Halt: lambda c: self.halt(c.reason), Resume: self._resume, Watch: self._watch,
            Shutdown: self._shutdown, CheckOrder: ex.check_order,
        }

    def _recover(self, rec: Recovered) -> None:
        desk = self.desk
        desk.portfolio = rec.portfolio
        for order in rec.open_orders:
            desk.orders.add(order)
            desk.track(order)
            if order.state is OrderState.PENDING:
                # journaled before sending, then the desk stopped: it may or may not have left
                desk.apply_order(order.client_order_id, SendFailed("the desk stopped before the venue answered"))
        held = sum(1 for p in desk.portfolio.positions.values() if p.position)
        if rec.open_orders or held:
            # raised on the kernel's first turn, once the front ends have subscribed
            self.inbox.append(Note("warn", "recovery", f"recovered from the journal: {len(rec.open_orders)} open "
                                   f"order(s) ({len(desk.unknown_tickers())} market(s) with orders of unknown "
                                   f"outcome), {held} position(s); reconciling with the venue before trading"))

    # --- threads ----------------------------------------------------------------------------------
    def post(self, item: object) -> None:
        """Put an event on the inbox (any thread)."""
        self.inbox.append(item)
        self.control.wake()

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="edgedesk-kernel", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        self.control.wake()
        if self._thread is not None:
            self._thread.join(timeout_s)
        if self._workers is not None:
            self._workers.shutdown(wait=False, cancel_futures=True)

    def run_in_worker(self, tag: str, fn: Callable[..., object], *args: object) -> None:
        """Run heavy work (model refits, Monte Carlo) on the worker pool; the result comes back to the
        kernel as `WorkDone(tag, ...)`, handled by `work_handlers[tag]` on the kernel thread."""
        if self._workers is None:
            self._workers = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="edgedesk-worker")

        def done(future) -> None:
            error = future.exception()
            self.post(WorkDone(tag, None if error else future.result(), repr(error) if error else ""))

        self._workers.submit(fn, *args).add_done_callback(done)

    def run(self) -> None:
        wait_s = TICK_MS / 1000
        while not self._stop.is_set():
            self.control.wait(wait_s)
            self.turn()

    def turn(self) -> None:
        """One loop turn: commands, inbox, strategies, timers, snapshot."""
        self.last_beat = time.monotonic()
        for command in self.control.drain():
            self.handle(command)
        inbox = self.inbox
        while inbox:
            self.handle(inbox.popleft())
        if self.dirty:
            self.handle(EVALUATE)
        now = self.clock.now_ms()
        if now >= self.next_tick_ms:
            self.next_tick_ms = now + TICK_MS
            self.handle(TICK)
        self.publish_if_due(now)

    def handle(self, item: object) -> None:
        """Handle one item at the clock's current time (the only entry point for decisions)."""
        desk = self.desk
        desk.now_ms = self.clock.now_ms()
        if self.tap is not None:
            self.tap(desk.now_ms, self.clock.mono_ns(), item)
        handler = self._handlers.get(type(item))
        if handler is None:
            return
        try:
            handler(item)
        except Exception as exc:
            log.exception("kernel: %s failed on %r", type(item).__name__, item)
            desk.alert("error", "engine", f"internal error handling {type(item).__name__}: {exc!r}; halting")
            if desk.mode is not Mode.HALTED:
                self.halt(f"internal error: {exc!r}")

    def publish_if_due(self, now_ms: int, force: bool = False) -> None:
        if not (self.desk.changed or self.book_changed):
            return
        if not force and now_ms - self.last_publish_ms < self.publish_every_ms:
            return
        self.last_publish_ms = now_ms
        self.desk.changed = self.book_changed = False
        self.control.publish(self.snapshots.build())

    # --- commands ---------------------------------------------------------------------------------
    def _cancel_one(self, cmd: CancelOrder) -> None:
        order = self.desk.orders.get(cmd.client_order_id)
        if order is None:
            self.desk.alert("warn", "cancel", f"no order {cmd.client_order_id}")
            return
        self.execution.cancel(order)

    def _set_auto(self, cmd: SetAuto) -> None:
        desk = self.desk
        if cmd.on:
            if desk.mode is Mode.HALTED:
                desk.alert("warn", "mode", f"still HALTED ({desk.mode_reason}); resume first")
                return
            if desk.breakers.tripped is not None:
                desk.alert("warn", "mode", f"breaker {desk.breakers.tripped}; resume first")
                return
            self.want_auto = True
            self._apply_auto()
            return
        self.want_auto = False
        if desk.mode is Mode.AUTO:
            desk.set_mode(Mode.MANUAL, "bot paused by the operator")
        n = self.execution.cancel_where(lambda o: o.is_bot)
        if n:
            desk.alert("info", "cancel", f"bot paused: cancelling {n} bot order(s); manual orders left alone")

    def halt(self, reason: str, rule: str | None = None) -> None:
        desk = self.desk
        desk.set_mode(Mode.HALTED, reason)
        self.want_auto = False
        for intent_id in list(desk.proposals):
            self.execution._drop(intent_id, "halted", f"not sent: halted ({reason})")
        self.execution.cancel_where(lambda o: o.is_bot and o.origin != "flatten")
        if rule is not None:
            desk.emit(RiskBreached(rule, reason, Mode.HALTED))

    def _resume(self, _: Resume) -> None:
        desk = self.desk
        if desk.flattening:
            desk.alert("warn", "mode", "flatten in progress; resume when it has finished")
            return
        if desk.mode is Mode.HALTED:
            desk.breakers.reset(desk.now_ms)
            desk.set_mode(Mode.MANUAL, "resumed by the operator")
            self.dirty.update(dict.fromkeys(desk.watched))
            desk.act(EnsureOrderGroup(desk.config.engine.bot_group_contracts * 100))

    def _watch(self, cmd: Watch) -> None:
        new = tuple(t for t in cmd.tickers if t not in self.desk.markets)
        if new:
            self.desk.act(LoadMarkets(new))

    def _shutdown(self, cmd: Shutdown) -> None:
        desk = self.desk
        self.shutdown_policy, self.shutdown_ms = cmd.policy, desk.now_ms
        if cmd.policy is ExitPolicy.FLATTEN:
            self.flattener.start("shutdown")
        elif cmd.policy is ExitPolicy.CANCEL:
            self.halt("shutting down: cancelling every order")
            self.execution.cancel_where(lambda o: True)
            desk.act(CancelAllAction("shutdown"))
        else:
            desk.set_mode(Mode.HALTED, "shutting down: resting orders left at the venue")
        self._shutdown_progress()

    def _shutdown_progress(self) -> None:
        if self.shutdown_policy is None or self.finished.is_set():
            return
        desk = self.desk
        done = {
            ExitPolicy.LEAVE: True,
            ExitPolicy.CANCEL: not desk.open or desk.now_ms - self.shutdown_ms > SHUTDOWN_CANCEL_WAIT_MS,
            ExitPolicy.FLATTEN: not self.flattener.active,
        }[self.shutdown_policy]
        if done:
            self.publish_if_due(desk.now_ms, force=True)
            self.finished.set()

    # --- strategies and timers --------------------------------------------------------------------
    def _evaluate(self, _: Evaluate) -> None:
        desk = self.desk
        dirty, self.dirty = self.dirty, {}
        if not desk.ready or desk.mode is Mode.HALTED or not self.strategies:
            self.skipped = True  # books moved while we could not trade: look at every market when we can
            if desk.fairs:
                self._edge_rows(dirty)
            return
        if self.skipped:
            self.skipped = False
            dirty = dict.fromkeys(desk.watched)
        for ticker in dirty:
            book = desk.book(ticker)
            if book is None:
                continue
            healthy = desk.health(ticker)[0] != "red"
            position = desk.position(ticker)
            meta, fair = desk.markets.get(ticker), desk.fairs.get(ticker)
            for strategy in self.strategies:
                if strategy.tickers is not None and ticker not in strategy.tickers:
                    continue
                own = tuple(OwnOrder(o.client_order_id, o.side, o.price, o.remaining, o.state.value)
                            for o in desk.open.values() if o.ticker == ticker and o.origin == strategy.name)
                intents = strategy.evaluate(MarketView(ticker, book, healthy, position, own, desk.now_ms, meta, fair,
                                                       desk))
                if intents:
                    self.execution.submit_intents(intents)
        if desk.fairs:
            self._edge_rows(dirty)  # after the strategies: the directional strategy's own assessments are reused

    # --- model fair values ------------------------------------------------------------------------
    def _on_fair(self, msg: FairValues) -> None:
        """A model refresh: keep the latest value per market and the election state, re-run the strategies
        on those markets, journal the predictions (throttled) and alert the refresh's data problems."""
        desk = self.desk
        for value in msg.values:
            desk.fairs[value.ticker] = value
            self.dirty[value.ticker] = None
            self._journal_prediction(value)
        if msg.election is not None:
            desk.election = msg.election
            self.dirty.update(dict.fromkeys(msg.election.markets))  # the correlated bound moved for all of them
        if len(self.model_alerted) > 1_000:  # error texts may carry times or counts: forget the old ones
            self.model_alerted = {t: ms for t, ms in self.model_alerted.items()
                                  if desk.now_ms - ms < MODEL_ALERT_EVERY_MS}
        for text in msg.errors:
            last = self.model_alerted.get(text)
            if last is None or desk.now_ms - last >= MODEL_ALERT_EVERY_MS:
                self.model_alerted[text] = desk.now_ms
                desk.alert("warn", "model", f"model data ({msg.source or 'model runner'}): {text}")
        desk.changed = True

    def _journal_prediction(self, value: FairValue) -> None:
        desk = self.desk
        if desk.journal is None:
            return
        key = (value.ticker, value.model)  # a market priced by another model is that model's prediction
        last = self.predicted.get(key)
        if last is not None and abs(value.prob_yes - last[0]) < PREDICTION_MOVE \
                and desk.now_ms - last[1] < PREDICTION_EVERY_MS:
            return
        self.predicted[key] = (value.prob_yes, desk.now_ms)
        book = desk.book(value.ticker)
        bid, ask = (book.best_bid, book.best_ask) if book is not None else (None, None)
        market_prob = (bid[0] + ask[0]) / (2 * PRICE_MAX) if bid is not None and ask is not None else None
        desk.journal.record_prediction(value.model, value.ticker, value.prob_yes, desk.now_ms,
                                       category=value.category, market_prob=market_prob)

    def _edge_rows(self, dirty: dict[str, None]) -> None:
        """The snapshot's edge rows for the changed markets a model prices (the directional strategy's view
        of them: edge after fees, Kelly size, the signal or why not); unchanged markets are not redone."""
        desk = self.desk
        source = self._edge_source
        if source is None:
            source = next((s for s in self.strategies if isinstance(s, Directional)), None) \
                or Directional("directional", None)
            self._edge_source = source
        recent = source.recent
        for ticker in dirty:
            fair = desk.fairs.get(ticker)
            if fair is None:
                continue
            book = desk.book(ticker)
            if book is None:
                continue
            position = desk.position(ticker)
            seen = recent.get(ticker)
            if seen is not None and seen[0] == desk.now_ms and seen[1] is fair and seen[2] == book.version \
                    and seen[3] == position:
                found = seen[4]  # the strategy assessed this very market state a moment ago
                if desk.edge_rows.get(ticker) != found.row:
                    desk.edge_rows[ticker] = found.row
                    desk.changed = True
                continue
            healthy = desk.health(ticker)[0] != "red"
            key = (book.version, fair, healthy, position, desk.bankroll, desk.last_loss, desk.election,
                   desk.now_ms // EDGE_ROW_REFRESH_MS)
            if self.edge_keys.get(ticker) == key:
                continue
            self.edge_keys[ticker] = key
            own = tuple(OwnOrder(o.client_order_id, o.side, o.price, o.remaining, o.state.value)
                        for o in desk.open.values() if o.ticker == ticker and o.origin == source.name)
            found = source.assess(MarketView(ticker, book, healthy, position, own, desk.now_ms,
                                             desk.markets.get(ticker), fair, desk))
            if found is not None and desk.edge_rows.get(ticker) != found.row:
                desk.edge_rows[ticker] = found.row
                desk.changed = True

    # --- money moved by fills and settlements (bankroll, the guard's cooling-off) -------------------
    def _on_fill_noting_loss(self, msg: w.FillMsg) -> None:
        ticker = msg.msg.market_ticker
        before = self.desk.money(ticker)
        self._on_fill(msg)
        self.desk.note_money(ticker, before)

    def _on_lifecycle_noting_loss(self, msg: w.MarketLifecycle) -> None:
        ticker = msg.msg.market_ticker
        before = self.desk.money(ticker)
        self._on_lifecycle(msg)
        self.desk.note_money(ticker, before)

    def _on_reconciled_noting_loss(self, result: ReconcileResult) -> None:
        # a reconciliation pass can settle positions (the venue's settlement records): a large loss there
        # cools the models off too; cash is left to the next balance fetch (the venue's figure already has it)
        desk = self.desk
        before = {t: (p.realized, p.fees) for t, p in desk.portfolio.positions.items()}
        self._on_reconciled(result)
        for ticker, pos in desk.portfolio.positions.items():
            realized, fees = before.get(ticker, (0, 0))
            if pos.realized != realized:
                desk.note_realized(ticker, (pos.realized - realized) - (pos.fees - fees))

    def _on_tick(self, _: Tick) -> None:
        desk = self.desk
        self.execution.expire_proposals()
        self.reconciler.on_tick()
        self.flattener.on_tick()
        self._apply_auto()
        if desk.ready and desk.mode_reason.startswith("starting"):
            desk.set_mode(desk.mode, "ready")
        if desk.ready and desk.mode is not Mode.HALTED and self.strategies and (
                self.skipped or desk.now_ms - self.last_sweep_ms >= SWEEP_MS):
            # strategies also see quiet markets now and then (time-based rules: pacing, TTLs)
            self.last_sweep_ms = desk.now_ms
            self.dirty.update(dict.fromkeys(desk.watched))
        if desk.now_ms - self.last_balance_ms >= BALANCE_EVERY_MS:
            self.last_balance_ms = desk.now_ms
            desk.act(FetchBalance())
        desk.breakers.kernel_beat(desk.now_ms)  # a slow start-up is not a stall (the watchdog judges stalls)
        if desk.ready:
            desk.breakers.observe_pnl(desk.now_ms, self.snapshots.day_pnl())
            if desk.feed.connected:
                desk.breakers.check(desk.now_ms)
            self._breach_check()
        self._shutdown_progress()

    def _breach_check(self) -> None:
        desk = self.desk
        breach = desk.breakers.tripped
        if breach is None or desk.mode is Mode.HALTED:
            return
        if desk.mode is Mode.AUTO:
            self.halt(f"breaker {breach.rule}: {breach.message}", rule=breach.rule)
        elif self.breach_noted != breach:
            self.breach_noted = breach
            desk.alert("warn", "risk", f"breaker {breach.rule}: {breach.message} (auto trading stays off)")

    def _on_work(self, done: WorkDone) -> None:
        handler = self.work_handlers.get(done.tag)
        if done.error:
            self.desk.alert("error", "engine", f"worker job {done.tag} failed: {done.error}")
        if handler is not None:
            handler(done)

    def _on_watchdog(self, event: WatchdogFired) -> None:
        desk = self.desk
        desk.alert("error", "watchdog", f"watchdog: {event.reason}; every resting order was cancelled")
        self.halt(f"watchdog: {event.reason}", rule="kernel_stall" if "kernel" in event.reason else "feed_silence")
