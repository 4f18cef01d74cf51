"""`Desk`: everything the kernel owns, and the small helpers its parts share.

One instance per engine, touched only by the kernel thread (DESIGN.md section 2): books, orders,
positions, risk state, mode, proposals, alerts. The kernel's parts (execution, reconciliation,
flatten, snapshots) each hold a reference to it; nothing here locks, because nothing else writes it.

Helpers keep the bookkeeping in one place: `apply_order` applies a venue or local event to an order,
journals it, keeps the index of open orders and tells the front ends (`OrderUpdated`) when the order
changed; `alert` journals and emits an `Alert`; `act` hands an action to the io thread.

The desk is also the strategies' `DeskContext` (console/engine/strategies/base.py): the latest model
fair values and election state, any watched book and its health, positions, the calibration shrink
(from `scorebook` when one is set, else 1.0) and when the desk last booked a large loss.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from console.config import DeskConfig
from console.domain.book import Book
from console.domain.breakers import Breakers
from console.domain.order_table import OrderTable
from console.domain.orders import Applied, ClientOrderIds, Order, OrderEvent, OrderState
from console.domain.portfolio import Portfolio
from console.domain.risk import BookHealth, RiskGate, RiskState
from console.domain.side import Side
from console.domain.units import PRICE_MAX
from console.engine.book_health import Health
from console.engine.books import BookManager
from console.engine.clock import Clock
from console.engine.control import (
    Alert,
    Control,
    EdgeRow,
    EngineEvent,
    Mode,
    OrderUpdated,
)
from console.engine.fair import ElectionState, FairValue
from console.engine.journal import ForwardTestLog, Journal
from console.engine.messages import MarketMeta

VENUE = "kalshi"
ALERTS_KEPT = 200


@dataclass
class Proposal:
    """A MANUAL-mode intent waiting for the operator."""

    intent_id: str
    intent: object  # strategies.base.Intent
    created_ms: int
    expires_ms: int


@dataclass
class FeedState:
    connected: bool = False
    connections: int = 0
    reason: str = "starting"
    last_message_ms: int = 0


@dataclass
class Desk:
    config: DeskConfig
    control: Control
    clock: Clock
    journal: Journal | None
    act: Callable[[object], None]
    session: str
    forward_log: ForwardTestLog | None = None
    venue: str = VENUE
    books: BookManager = field(init=False)
    orders: OrderTable = field(default_factory=OrderTable)
    portfolio: Portfolio = field(default_factory=Portfolio)
    gate: RiskGate = field(init=False)
    breakers: Breakers = field(init=False)
    ids: ClientOrderIds = field(init=False)
    markets: dict[str, MarketMeta] = field(default_factory=dict)
    watched: list[str] = field(default_factory=list)
    open: dict[str, Order] = field(default_factory=dict)  # client_order_id -> order that may still rest or fill
    lagging: dict[str, Order] = field(default_factory=dict)  # client_order_id -> order with fills still to come
    #: another venue's book id -> the Kalshi tickers whose strategies read it (arb pairs)
    linked: dict[str, tuple[str, ...]] = field(default_factory=dict)
    adopted: set[str] = field(default_factory=set)
    announced: dict[str, tuple] = field(default_factory=dict)
    proposals: dict[str, Proposal] = field(default_factory=dict)
    mode: Mode = Mode.MANUAL
    mode_reason: str = "starting: reconciling with the venue"
    ready: bool = False  # start-up reconciliation done: trading allowed
    alerts: deque[Alert] = field(default_factory=lambda: deque(maxlen=ALERTS_KEPT))
    now_ms: int = 0
    cash: int | None = None
    day_start_pnl: int | None = None
    order_group_id: str | None = None
    feed: FeedState = field(default_factory=FeedState)
    last_price: dict[str, int] = field(default_factory=dict)
    changed: bool = True
    flatten_report: str = ""
    flattening: bool = False
    fairs: dict[str, FairValue] = field(default_factory=dict)  # ticker -> the latest model value
    election: ElectionState | None = None  # the latest correlated election model
    scorebook: object | None = None  # calibration: .shrink(model, category) -> 0..1; None = no shrink
    last_loss: int | None = None  # ms of the last realized loss above [engine] large_loss_share of bankroll
    edge_rows: dict[str, EdgeRow] = field(default_factory=dict)  # ticker -> the snapshot's edge row

    def __post_init__(self) -> None:
        self.books = BookManager(clock_ns=self.clock.mono_ns)
        self.gate = RiskGate(self.config.risk)
        self.now_ms = self.clock.now_ms()
        self.breakers = Breakers(self.config.risk, self.now_ms)
        self.ids = ClientOrderIds(self.session)

    # --- events and alerts ------------------------------------------------------------------------
    def emit(self, event: EngineEvent) -> None:
        self.changed = True
        self.control.emit(event)

    def alert(self, level: str, kind: str, message: str) -> None:
        event = Alert(level, kind, message, self.now_ms)
        self.alerts.append(event)
        if self.journal is not None:
            self.journal.record_alert(self.now_ms, level, kind, message)
        self.emit(event)

    # --- books ----------------------------------------------------------------------------------
    def book(self, ticker: str, venue: str = VENUE) -> Book | None:
        return self.books.book(venue, ticker)

    def health(self, ticker: str, venue: str = VENUE) -> tuple[str, str]:
        try:
            h = self.books.health(venue, ticker)
        except KeyError:
            return Health.RED.value, "not watched"
        return h.level.value, h.reason

    def healthy(self, ticker: str, venue: str = VENUE) -> bool:
        return self.health(ticker, venue)[0] != Health.RED.value

    # --- the strategies' context (DeskContext) ----------------------------------------------------
    def fair(self, ticker: str) -> FairValue | None:
        return self.fairs.get(ticker)

    def meta(self, ticker: str) -> MarketMeta | None:
        return self.markets.get(ticker)

    def cost_basis(self, ticker: str) -> int:
        """Money paid for the open lots in a market (micro-dollars, the held side's scale)."""
        pos = self.portfolio.positions.get(ticker)
        return pos.cost_basis if pos else 0

    def working(self, ticker: str) -> tuple[int, int]:
        """Our open orders' remaining count in a market, signed like a position, and what it would cost
        (micro-dollars): the election bound counts them as if filled, so two markets evaluated in the
        same turn cannot each use the whole bound."""
        count = cost = 0
        for order in self.open.values():
            if order.ticker == ticker and order.remaining:
                if order.side is Side.BID:
                    count, cost = count + order.remaining, cost + order.remaining * order.price
                else:
                    count, cost = count - order.remaining, cost + order.remaining * (PRICE_MAX - order.price)
        return count, cost

    def shrink(self, model: str, category: str) -> float:
        """Calibration's sizing factor for a model in a category (1.0 until a scorebook is set)."""
        if self.scorebook is None:
            return 1.0
        return max(0.0, min(1.0, float(self.scorebook.shrink(model, category))))  # type: ignore[attr-defined]

    def last_loss_ms(self) -> int | None:
        return self.last_loss

    def money(self, ticker: str) -> tuple[int, int, int]:
        """(cost basis, realized, fees) of a market's position, to see what a fill or settlement changed."""
        pos = self.portfolio.positions.get(ticker)
        return (pos.cost, pos.realized, pos.fees) if pos is not None else (0, 0, 0)

    def note_money(self, ticker: str, before: tuple[int, int, int]) -> None:
        """After a fill or settlement in `ticker`: move cash by what it paid or received (so the bankroll,
        cash + cost of positions, does not count a purchase twice until the next balance fetch) and
        remember a large realized loss (the guard's cooling-off period starts from it)."""
        cost, realized, fees = self.money(ticker)
        if self.cash is not None:
            # opening pays the cost added; closing receives the cost released plus the P&L; fees are paid
            self.cash += (before[0] - cost) + (realized - before[1]) - (fees - before[2])
        self.note_realized(ticker, (realized - before[1]) - (fees - before[2]))

    def note_realized(self, ticker: str, change: int) -> None:
        """A fill or settlement realized `change` micro-dollars (after fees) in `ticker`: remember a large loss
        (the guard's cooling-off period starts from it)."""
        limit = self.config.engine.large_loss_share * self.bankroll
        if change < 0 and -change > limit:
            self.last_loss = self.now_ms
            self.alert("warn", "risk", f"{ticker}: large loss {change / 1e6:+.2f} $ (over "
                       f"{self.config.engine.large_loss_share:.1%} of bankroll); model strategies cool off")

    # --- orders ---------------------------------------------------------------------------------
    def track(self, order: Order) -> None:
        cid = order.client_order_id
        if order.state.open:
            self.open[cid] = order
        else:
            self.open.pop(cid, None)
        # an order the venue says filled before its fills reached us: its count is position already
        if order.unapplied:
            self.lagging[cid] = order
        else:
            self.lagging.pop(cid, None)

    def position(self, ticker: str) -> int:
        """Signed YES position including fills the venue reported whose fill messages are still on their
        way; strategies size from this, so a fast create answer cannot make them buy twice."""
        held = self.portfolio.signed(ticker)
        for order in self.lagging.values():
            if order.ticker == ticker:
                held += order.unapplied if order.side is Side.BID else -order.unapplied
        return held

    def apply_order(self, client_order_id: str, event: OrderEvent) -> list[tuple[Order, Applied]]:
        """Apply an event to one of our orders by client id; journal, index and announce the changes."""
        results = self.orders.apply(client_order_id, event)
        self.after_apply(results, event)
        return results

    def after_apply(self, results: list[tuple[Order, Applied]], event: OrderEvent | str,
                    reason: str = "") -> None:
        for order, applied in results:
            self.track(order)
            if self.journal is not None and (applied.changed or applied.anomaly):
                self.journal.record_order_event(order, event, applied, self.now_ms)
            if applied.anomaly:
                self.alert("warn", "order", applied.anomaly)
            if applied.changed:
                self.announce(order, reason)

    def announce(self, order: Order, reason: str = "") -> None:
        """Tell the front ends about an order whose visible state (state, price, fills) changed."""
        key = (order.state, order.price, order.filled, order.remaining)
        if self.announced.get(order.client_order_id) == key:
            return
        if order.state.terminal:
            self.announced.pop(order.client_order_id, None)
        else:
            self.announced[order.client_order_id] = key
        self.emit(OrderUpdated(order.client_order_id, order.ticker, order.state.value, order.side, order.price,
                               order.filled, order.remaining, order.origin, reason))

    def unknown_tickers(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for order in self.open.values():
            if order.state is OrderState.UNKNOWN:
                out.setdefault(order.ticker, []).append(order.client_order_id)
        return out

    # --- risk -------------------------------------------------------------------------------------
    @property
    def bankroll(self) -> int:
        """Account equity for the share caps: cash plus the cost of open positions."""
        return (self.cash or 0) + self.portfolio.total_exposure

    def risk_state(self, ticker: str, exclude: str | None = None) -> RiskState:
        book = self.book(ticker)
        books = {ticker: book} if book is not None else {}
        level, reason = self.health(ticker)
        health = {ticker: BookHealth(red=level == Health.RED.value, detail=reason)} if book is not None else {}
        orders = [o for cid, o in self.open.items() if cid != exclude]
        orders.extend(o for cid, o in self.lagging.items() if cid != exclude and cid not in self.open)
        return RiskState(self.portfolio, orders, books, health, self.bankroll, self.now_ms)

    def set_mode(self, mode: Mode, reason: str) -> None:
        if mode is self.mode and reason == self.mode_reason:
            return
        before = self.mode
        self.mode, self.mode_reason = mode, reason
        self.changed = True
        if before is not mode:
            self.alert("warn" if mode is Mode.HALTED else "info", "mode", f"{before.value} -> {mode.value}: {reason}")
