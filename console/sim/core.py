"""`ExchangeCore`: the state every part of the simulated exchange shares, and the helpers they all use.

`console.sim.exchange.Exchange` is assembled from this base and three mixins (order entry, order
groups, market lifecycle), each in its own module so none grows past a screenful of concerns. This
module owns:

- the registries (series, events, markets, accounts, orders, trades, fills, settlements, groups);
- indices of live orders (by market, by account, by account and market) used for cancels,
  collateral and cancel-on-pause;
- deterministic ids (UUID strings from a seeded `random.Random`) and the time-priority sequence;
- listener dispatch, the one place that turns a cancellation into book and order events, and the
  "did the ticker change" check that ends every action.

Order `last_update_reason` values (Kalshi's names where Kalshi has one):
None (created), "Trade", "Amend", "Decrease" (decrease, cancel and cancel-all: a cancel is a decrease
to zero), "SelfTradeCancel", "ExpiryCancel", "CloseCancel" (market closed or determined),
"HaltCancel" (cancel_order_on_pause when a pause begins, and resting orders on market reactivation),
"ReduceOnlyCancel", and two of the simulator's own: "TimeInForceCancel" (the unfilled rest of an IOC
or a killed FoK) and "OrderGroupCancel" (the order's group triggered or was deleted).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from functools import lru_cache

from console.domain.fees import KalshiFees
from console.sim.clock import SimClock
from console.sim.collateral import MarketOrders
from console.sim.events import (
    BookDelta,
    BookSide,
    ExchangeEvent,
    OrderChanged,
    TickerChanged,
)
from console.sim.matching import OrderBook
from console.sim.model import (
    Account,
    Event,
    ExchangeError,
    Fill,
    Market,
    Order,
    OrderGroup,
    OrderStatus,
    Position,
    Series,
    Settlement,
    Trade,
)
from console.sim.tape import MarketTape

REASON_TRADE = "Trade"
REASON_AMEND = "Amend"
REASON_DECREASE = "Decrease"
REASON_SELF_TRADE = "SelfTradeCancel"
REASON_EXPIRY = "ExpiryCancel"
REASON_CLOSE = "CloseCancel"
REASON_HALT = "HaltCancel"
REASON_REDUCE_ONLY = "ReduceOnlyCancel"
REASON_TIME_IN_FORCE = "TimeInForceCancel"
REASON_ORDER_GROUP = "OrderGroupCancel"

_TickerState = tuple[int, int, int, int, int, int, int]


@lru_cache(maxsize=65_536)
def trade_fee(fees: KalshiFees, yes_price: int, count: int, maker: bool) -> int:
    """`KalshiFees.trade_fee`, memoised: fills repeat the same (price, count) pairs all day long."""
    return fees.trade_fee(yes_price, count, maker=maker)


class ExchangeCore:
    """Shared state and helpers of the simulated exchange (see the module docstring)."""

    def __init__(self, clock: SimClock, seed: int = 0) -> None:
        self.clock = clock
        self._rng = random.Random(seed)
        self._listeners: list[Callable[[ExchangeEvent], None]] = []
        self.series: dict[str, Series] = {}
        self.events: dict[str, Event] = {}
        self.markets: dict[str, Market] = {}
        self.accounts: dict[str, Account] = {}
        self.orders: dict[str, Order] = {}
        self.trades: list[Trade] = []
        self.fills: list[Fill] = []
        self.settlements: list[Settlement] = []
        self.order_groups: dict[str, OrderGroup] = {}
        self.trading_paused = False
        self.exchange_paused = False
        self._books: dict[str, OrderBook] = {}
        self._tapes: dict[str, MarketTape] = {}
        self._live_by_market: dict[str, dict[str, Order]] = {}
        self._live_by_account: dict[str, dict[str, Order]] = {}
        self._live_by_account_market: dict[tuple[str, str], MarketOrders] = {}
        self._by_client_id: dict[tuple[str, str], Order] = {}
        self._cancel_on_pause: dict[str, Order] = {}
        self._fee_cache: dict[tuple[object, ...], KalshiFees] = {}
        self._sequence = 0
        # lifecycle scheduling (console.sim.lifecycle)
        self._expiry_heap: list[tuple[int, int, str]] = []  # (expiration_time_s, sequence, order_id)
        self._next_due_ms = 0  # earliest open/close/settle time of any market; tick() scans only then
        self._last_roll_day = -1  # UTC day of the last previous_* roll
        self._last_volume_prune_ms = 0
        self._announced_events: set[str] = set()  # events whose EventLifecycle went out

    # --- listeners and ids --------------------------------------------------------------------

    def add_listener(self, fn: Callable[[ExchangeEvent], None]) -> None:
        """Call `fn` synchronously, in causal order, for every event the exchange emits."""
        self._listeners.append(fn)

    def remove_listener(self, fn: Callable[[ExchangeEvent], None]) -> None:
        self._listeners.remove(fn)

    def _emit(self, event: ExchangeEvent) -> None:
        for fn in self._listeners:
            fn(event)

    def new_id(self) -> str:
        """A UUID4-shaped string from the exchange's seeded generator (same seed, same ids)."""
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def _next_sequence(self) -> int:
        self._sequence += 1
        return self._sequence

    # --- lookups that refuse with Kalshi-like errors --------------------------------------------

    def _account(self, account_id: str) -> Account:
        account = self.accounts.get(account_id)
        if account is None:
            raise ExchangeError(404, "user_not_found", "user not found", f"no account {account_id!r}")
        return account

    def _market(self, ticker: str) -> Market:
        market = self.markets.get(ticker)
        if market is None:
            raise ExchangeError(404, "market_not_found", "market not found", f"no market {ticker!r}")
        return market

    def _own_order(self, account_id: str, order_id: str) -> Order:
        order = self.orders.get(order_id)
        if order is None or order.account_id != account_id:
            raise ExchangeError(404, "order_not_found", "order not found", f"no order {order_id!r} for this user")
        return order

    def _position(self, account: Account, ticker: str) -> Position:
        position = account.positions.get(ticker)
        if position is None:
            position = account.positions[ticker] = Position(ticker=ticker)
        return position

    def fees_for(self, ticker: str) -> KalshiFees:
        """The fee schedule in force for a market: its series' fee type and multiplier, event overrides applied."""
        market = self._market(ticker)
        series = self.series[market.series_ticker]
        event = self.events[market.event_ticker]
        key = (series.fee_type, series.fee_multiplier, event.fee_type_override, event.fee_multiplier_override)
        fees = self._fee_cache.get(key)
        if fees is None:
            fees = self._fee_cache[key] = KalshiFees.resolve(*key)
        return fees

    # --- live orders ----------------------------------------------------------------------------

    def _register_live(self, order: Order) -> None:
        oid = order.order_id
        self._live_by_market.setdefault(order.ticker, {})[oid] = order
        self._live_by_account.setdefault(order.account_id, {})[oid] = order
        key = (order.account_id, order.ticker)
        mine = self._live_by_account_market.get(key)
        if mine is None:
            mine = self._live_by_account_market[key] = MarketOrders()
        mine.add(order)
        if order.cancel_order_on_pause:
            self._cancel_on_pause[oid] = order

    def _unregister_live(self, order: Order) -> None:
        """Forget a finished order everywhere and release whatever collateral it held."""
        oid = order.order_id
        self._live_by_market[order.ticker].pop(oid, None)
        self._live_by_account[order.account_id].pop(oid, None)
        self._live_by_account_market[(order.account_id, order.ticker)].discard(order)
        self._cancel_on_pause.pop(oid, None)
        if order.order_group_id is not None:
            group = self.order_groups.get(order.order_group_id)
            if group is not None and oid in group.order_ids:
                group.order_ids.remove(oid)
        # the order leaves the set MarketOrders.refresh looks at: release its collateral here
        self.accounts[order.account_id].reserved -= order.reserved
        order.reserved = 0
        self._refresh_reservations(order.account_id, order.ticker)

    def _refresh_reservations(self, account_id: str, ticker: str, changed: Order | None = None) -> None:
        """Bring the collateral of an account's orders in one market up to date (`changed`: an order whose
        size or price moved; position changes are picked up by themselves)."""
        mine = self._live_by_account_market.get((account_id, ticker))
        if mine is None:
            return
        account = self.accounts[account_id]
        position = account.positions.get(ticker)
        mine.refresh(account, position.position if position else 0, changed)

    def live_orders(self, *, account_id: str | None = None, ticker: str | None = None) -> list[Order]:
        """Resting orders, optionally of one account and/or one market, oldest first."""
        if account_id is not None and ticker is not None:
            mine = self._live_by_account_market.get((account_id, ticker))
            return sorted(mine.orders(), key=lambda o: o.sequence) if mine else []
        if account_id is not None:
            source = self._live_by_account.get(account_id, {})
        elif ticker is not None:
            source = self._live_by_market.get(ticker, {})
        else:
            source = {oid: o for d in self._live_by_market.values() for oid, o in d.items()}
        return sorted(source.values(), key=lambda o: o.sequence)

    # --- cancellation ---------------------------------------------------------------------------

    def _cancel(self, order: Order, reason: str, now_ms: int) -> int:
        """Cancel what is left of a live order; emits the book and order events. Returns the count removed."""
        if order.status is not OrderStatus.RESTING:
            return 0
        reduced = order.remaining_count
        book = self._books[order.ticker]
        if order in book:
            book.remove(order, reduced)
            self._book_delta(order, -reduced, now_ms)
        order.remaining_count = 0
        order.status = OrderStatus.CANCELED
        order.last_update_time_ms = now_ms
        order.last_update_reason = reason
        self._unregister_live(order)
        self._emit(OrderChanged(order.account_id, order, reason, now_ms))
        return reduced

    def _book_delta(self, order: Order, delta: int, now_ms: int, price: int | None = None) -> None:
        if self._listeners:
            self._emit(BookDelta(order.ticker, order.side, order.price if price is None else price, delta,
                                 now_ms, order.account_id, order.client_order_id))

    # --- ticker changes -------------------------------------------------------------------------

    def _ticker_state(self, ticker: str) -> _TickerState:
        m = self.markets[ticker]
        return (*self._books[ticker].top(), m.last_price, m.volume, m.open_interest)

    def _after_action(self, ticker: str, before: _TickerState, now_ms: int) -> None:
        """End of an action on one market: sample the quote for candles, announce a ticker change."""
        after = self._ticker_state(ticker)
        if after == before:
            return
        if after[0] != before[0] or after[2] != before[2]:
            best_bid = self._books[ticker].best_bid()
            best_ask = self._books[ticker].best_ask()
            self._tapes[ticker].record_quote(now_ms, best_bid[0] if best_bid else None,
                                             best_ask[0] if best_ask else None)
        self._emit(TickerChanged(ticker, now_ms))

    # --- read-only views the API layer uses -----------------------------------------------------

    def book(self, ticker: str) -> OrderBook:
        self._market(ticker)
        return self._books[ticker]

    def book_levels(self, ticker: str, side: BookSide) -> list[tuple[int, int]]:
        """(YES price, count) levels of one side, ascending by YES price."""
        return self.book(ticker).levels(side)

    def best_bid(self, ticker: str) -> tuple[int, int] | None:
        return self.book(ticker).best_bid()

    def best_ask(self, ticker: str) -> tuple[int, int] | None:
        return self.book(ticker).best_ask()

    def order_by_client_id(self, account_id: str, client_order_id: str) -> Order | None:
        """The account's latest order with this client_order_id (live or finished), or None."""
        return self._by_client_id.get((account_id, client_order_id))

    def queue_position(self, account_id: str, order_id: str) -> int:
        """Count units resting ahead of a resting order at its price level (0 = front)."""
        order = self._own_order(account_id, order_id)
        if order.status is not OrderStatus.RESTING:
            raise ExchangeError(400, "order_not_resting", "order is not resting", f"order {order_id} is {order.status}")
        return self._books[order.ticker].queue_ahead(order)


__all__ = ["ExchangeCore", "trade_fee"]
