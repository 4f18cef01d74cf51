"""The kernel's handlers for what the venue and the io thread report (a mixin of `Kernel`).

Market data (books, ticker, trades, feed trouble), account news (fills, positions, lifecycle, the bot
order group) and the results of the io thread's requests. They run on the kernel thread like every
other handler; the state they touch is the kernel's (`self.desk`, `self.execution`, `self.reconciler`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from console.engine.control import Mode, VenueHealth
from console.engine.messages import (
    BalanceLoaded,
    CancelAllAnswer,
    CancelAnswer,
    MarketsLoaded,
    OrderAnswer,
    OrderGroupReady,
    ReconcileResult,
    RequestOutcome,
)
from console.venues.kalshi import codec_ws as w
from console.venues.kalshi.ws_events import (
    FeedConnected,
    FeedDisconnected,
    SeqGap,
    SilenceDetected,
)

if TYPE_CHECKING:
    from console.engine.execution import Execution
    from console.engine.reconcile import Reconciler
    from console.engine.state import Desk


class VenueNews:
    desk: Desk
    execution: Execution
    reconciler: Reconciler
    dirty: dict[str, None]
    book_changed: bool

    if TYPE_CHECKING:
        def halt(self, reason: str, rule: str | None = None) -> None: ...

    # --- market data ------------------------------------------------------------------------------
    def _on_book(self, event) -> None:
        self.desk.books.apply(event)
        self.desk.breakers.feed_message(self.desk.now_ms)
        self.dirty[event.ticker] = None
        # another venue's book (a Polymarket token) re-runs the strategies of the markets paired with it
        for ticker in self.desk.linked.get(event.ticker, ()):
            self.dirty[ticker] = None
        self.book_changed = True

    def _on_ticker(self, msg: w.Ticker) -> None:
        self.desk.last_price[msg.msg.market_ticker] = msg.msg.price

    def _on_trade(self, msg: w.TradeMsg) -> None:
        self.desk.last_price[msg.msg.market_ticker] = msg.msg.yes_price

    def _on_gap(self, gap: SeqGap) -> None:
        self.desk.books.apply(gap)
        if gap.channel != "orderbook_delta" and gap.kind == "gap":
            self.reconciler.request(f"sequence gap on {gap.channel}", 200)

    def _on_feed_trouble(self, event) -> None:
        self.desk.books.apply(event)

    def _on_silence(self, event: SilenceDetected) -> None:
        self.desk.alert("warn", "venue", f"{event.venue} feed silent for {event.seconds:.1f} s; reconnecting")

    def _on_connected(self, event: FeedConnected) -> None:
        desk = self.desk
        desk.feed.connected, desk.feed.connections, desk.feed.reason = True, event.connection, "connected"
        desk.breakers.feed_message(desk.now_ms)
        desk.emit(VenueHealth(event.venue, "green", "connected"))
        if event.connection > 1:
            self.reconciler.request("reconnect")

    def _on_disconnected(self, event: FeedDisconnected) -> None:
        desk = self.desk
        desk.books.apply(event)
        desk.feed.connected, desk.feed.reason = False, event.reason
        desk.emit(VenueHealth(event.venue, "red", event.reason))

    # --- account news -----------------------------------------------------------------------------
    def _on_fill(self, msg: w.FillMsg) -> None:
        self.execution.on_fill(msg)
        self.dirty[msg.msg.market_ticker] = None

    def _on_position(self, msg: w.MarketPositionMsg) -> None:
        b = msg.msg
        if b.position != self.desk.portfolio.signed(b.market_ticker):
            self.reconciler.request(f"{b.market_ticker} position message differs", 1_000)

    def _on_lifecycle(self, msg: w.MarketLifecycle) -> None:
        b = msg.msg
        self.reconciler.settler.on_lifecycle(b)  # settles positions and records outcomes (settlements.py)
        if b.event_type in ("deactivated", "determined", "settled", "activated"):
            self.desk.alert("info", "market", f"{b.market_ticker}: {b.event_type}")

    def _on_group(self, msg: w.OrderGroupUpdate) -> None:
        b = msg.msg
        desk = self.desk
        if b.order_group_id == desk.order_group_id and b.event_type == "triggered":
            self.halt("the bot order group hit its matched-contracts cap; the venue cancelled every bot order",
                      rule="order_group")

    def _on_reconciled(self, result: ReconcileResult) -> None:
        was_ready = self.desk.ready
        self.reconciler.on_result(result)
        if self.desk.ready and not was_ready:
            desk = self.desk
            books = {t: b for t in desk.portfolio.positions if (b := desk.book(t)) is not None}
            desk.day_start_pnl = desk.portfolio.net_pnl(books)  # the day's P&L counts from here
            self._apply_auto()

    def _apply_auto(self) -> None:
        desk = self.desk
        if desk.ready and self.want_auto and desk.mode is Mode.MANUAL and desk.breakers.tripped is None:
            for intent_id in list(desk.proposals):
                self.execution._drop(intent_id, "superseded", "auto trading on: strategies send directly")
            desk.set_mode(Mode.AUTO, "auto trading on")
            self.dirty.update(dict.fromkeys(desk.watched))  # look at every market with the new mode

    def _on_answer(self, answer: OrderAnswer) -> None:
        self.execution.on_answer(answer)
        if answer.outcome == "unknown":
            self.reconciler.request("order of unknown outcome", 250)

    def _on_cancel_answer(self, answer: CancelAnswer) -> None:
        self.execution.on_cancel_answer(answer)
        if not answer.ok:
            self.reconciler.request("cancel refused", 250)

    def _on_cancel_all(self, answer: CancelAllAnswer) -> None:
        if not answer.ok:
            self.desk.alert("error", "cancel", f"venue cancel-all ({answer.reason}) failed: {answer.message}")
        else:
            self.reconciler.request("after cancel-all", 500)

    def _on_markets(self, loaded: MarketsLoaded) -> None:
        desk = self.desk
        for meta in loaded.markets:
            desk.markets[meta.ticker] = meta
            info = meta.info()
            desk.portfolio.add_market(info)
            if desk.journal is not None:
                desk.journal.record_market(info)
            desk.books.add_market(desk.venue, meta.ticker, meta.grid)
            if meta.ticker not in desk.watched:
                desk.watched.append(meta.ticker)
        if loaded.missing:
            desk.alert("warn", "market", f"not found at the venue: {', '.join(loaded.missing)}")
        if loaded.message:
            desk.alert("error", "market", f"loading markets failed: {loaded.message}")
        if self.reconciler.passes == 0 and self.reconciler.in_flight is None:
            self.reconciler.request("startup")
        desk.changed = True

    def _on_balance(self, loaded: BalanceLoaded) -> None:
        self.desk.cash = loaded.balance
        self.desk.changed = True

    def _on_group_ready(self, ready: OrderGroupReady) -> None:
        self.desk.order_group_id = ready.order_group_id
        if ready.order_group_id is None:
            self.desk.alert("warn", "venue", f"no bot order group ({ready.message}); bot orders go without the "
                            "venue-side cap")

    def _on_request(self, outcome: RequestOutcome) -> None:
        self.desk.breakers.observe_request(self.desk.now_ms, outcome.ok)
        self._breach_check()
