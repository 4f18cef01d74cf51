"""Paper trading on live Kalshi data: orders fill against the real book, but never leave the desk.

Production starts here unless `[venue] live_trading = true`. `PaperRest` wraps the real REST client:
reads (markets, books, events) go to the venue; order writes and the account's own reads (orders,
fills, positions, balance) are answered from the paper account. `paper_sink` sits in front of the
engine's WebSocket sink and keeps a copy of every subscribed book and the public trade tape, which is
what paper orders fill against:

- A marketable order takes the levels the book shows, best first, up to its limit price: it fills at
  prices the book offered and never more than the size shown there (size a paper order already took
  is remembered until the real level shrinks by as much, so the same contracts are not taken twice).
- A resting order joins the back of its level: it has the level's size ahead of it. Trades printed
  at its price use up that size first; only what trades beyond it fills the order, at its limit.
  A trade printed through its price means the whole level traded: the order fills. When the level
  shrinks below the size ahead (cancellations), the size ahead shrinks with it.
- IOC remainders are cancelled; post-only orders that would cross are refused; reduce-only orders are
  capped at the paper position. Fees are Kalshi's quadratic schedule (taker / maker).

Fills reach the engine as the same `fill` and `user_order` messages the venue would send, so the
engine, journal and reconciliation run unchanged. Prices YES-scale pips, counts hundredths, money
micro-dollars.
"""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import msgspec

from console.domain.fees import KalshiFees
from console.domain.portfolio import Position
from console.domain.side import Side
from console.venues.errors import NotFound, OrderRejected
from console.venues.events import BookDelta, BookSnapshot
from console.venues.kalshi import codec_rest as r
from console.venues.kalshi import codec_ws as w
from console.venues.kalshi.orders import OrderSpec

_FEES = KalshiFees()


class _PaperOrder:
    __slots__ = (
        "ahead",
        "created_ms",
        "filled",
        "maker_cost",
        "maker_fees",
        "order_id",
        "remaining",
        "spec",
        "status",
        "taker_cost",
        "taker_fees",
    )

    def __init__(self, spec: OrderSpec, ahead: int, now_ms: int) -> None:
        self.spec = spec
        self.order_id = f"paper-{uuid.uuid4().hex[:16]}"
        self.remaining = spec.count
        self.filled = 0
        self.ahead = ahead
        self.status = "resting"
        self.created_ms = now_ms
        self.taker_cost = self.maker_cost = self.taker_fees = self.maker_fees = 0


class PaperBooks:
    """The live books as the feed shows them, plus what paper orders already took at each level."""

    def __init__(self) -> None:
        self.levels: dict[str, dict[Side, dict[int, int]]] = {}
        self.taken: dict[tuple[str, Side, int], int] = {}

    def apply(self, event: object) -> tuple[str, Side, int, int] | None:
        """Apply a book event; returns (ticker, side, price, new size) for a level change."""
        if isinstance(event, BookSnapshot):
            self.levels[event.ticker] = {Side.BID: dict(event.bids), Side.ASK: dict(event.asks)}
            for key in [k for k in self.taken if k[0] == event.ticker]:
                del self.taken[key]
            return None
        if isinstance(event, BookDelta):
            side = self.levels.setdefault(event.ticker, {Side.BID: {}, Side.ASK: {}})[event.side]
            size = side.get(event.price, 0) + event.delta
            if size > 0:
                side[event.price] = size
            else:
                side.pop(event.price, None)
            if event.delta < 0:  # the real level shrank: it may be what we took
                key = (event.ticker, event.side, event.price)
                if key in self.taken:
                    self.taken[key] = max(0, self.taken[key] + event.delta)
            return event.ticker, event.side, event.price, max(size, 0)
        return None

    def available(self, ticker: str, side: Side) -> list[tuple[int, int]]:
        """Levels of one side (best first) with what paper orders took removed."""
        book = self.levels.get(ticker, {}).get(side, {})
        prices = sorted(book, reverse=side is Side.BID)
        out = []
        for price in prices:
            size = book[price] - self.taken.get((ticker, side, price), 0)
            if size > 0:
                out.append((price, size))
        return out


class PaperRest:
    """The REST client with order writes and account reads answered by the paper account."""

    def __init__(self, rest: Any, post: Callable[[object], None], *, clock_ms: Callable[[], int] | None = None,
                 fees: Callable[[str], KalshiFees | None] | None = None) -> None:
        self._rest = rest
        self.post = post
        self.books = PaperBooks()
        self.orders: dict[str, _PaperOrder] = {}
        self.fills: list[r.Fill] = []
        self.positions: dict[str, Position] = {}
        self.cash_delta = 0
        self.clock_ms = clock_ms or (lambda: time.time_ns() // 1_000_000)
        self._fees = fees or (lambda _ticker: None)
        self.settlements: list[r.Settlement] = []
        self._determined: dict[str, tuple[str, int]] = {}  # ticker -> (result, YES value in pips)
        self._trades = itertools.count(1)
        self.portfolio_lag_margin_ms = 0

    def fees(self, ticker: str) -> KalshiFees:
        """The market's own fee schedule (from the engine's market data); Kalshi's default until known."""
        return self._fees(ticker) or _FEES

    def __getattr__(self, name: str) -> Any:  # every read the paper account does not answer
        return getattr(self._rest, name)

    # --- writes ----------------------------------------------------------------------------------
    async def create_order(self, spec: OrderSpec) -> r.CreateOrderResult:
        held = self.positions.get(spec.ticker)
        count = spec.count
        if spec.reduce_only:
            signed = held.position if held else 0
            cap = max(0, -signed if spec.side is Side.BID else signed)
            if spec.time_in_force != "immediate_or_cancel":
                raise OrderRejected("reduce_only requires immediate_or_cancel", status=400, code="invalid_order")
            count = min(count, cap)
        against = Side.ASK if spec.side is Side.BID else Side.BID
        crossing = [(p, s) for p, s in self.books.available(spec.ticker, against)
                    if (p <= spec.price if spec.side is Side.BID else p >= spec.price)]
        if spec.post_only and crossing:
            raise OrderRejected("post only cross", status=400, code="invalid_order")
        now = self.clock_ms()
        own = self.books.levels.get(spec.ticker, {}).get(spec.side, {}).get(spec.price, 0)
        order = _PaperOrder(spec, own, now)
        self.orders[order.order_id] = order
        order.remaining = count
        for price, size in crossing:
            if not order.remaining:
                break
            take = min(size, order.remaining)
            key = (spec.ticker, against, price)
            self.books.taken[key] = self.books.taken.get(key, 0) + take
            self._fill(order, price, take, taker=True)
        if order.remaining and spec.time_in_force != "good_till_canceled" or count == 0:
            order.remaining = 0
        order.status = "resting" if order.remaining else ("executed" if order.filled >= spec.count else "canceled")
        self._announce(order)
        return r.CreateOrderResult(order_id=order.order_id, fill_count=order.filled, remaining_count=order.remaining,
                                   client_order_id=spec.client_order_id, ts_ms=now)

    async def cancel_order(self, order_id: str) -> r.CancelResult:
        order = self.orders.get(order_id)
        if order is None or order.status != "resting":
            raise NotFound(f"order {order_id} is not resting", status=404, code="not_found")
        reduced, order.remaining, order.status = order.remaining, 0, "canceled"
        self._announce(order)
        return r.CancelResult(order_id=order_id, reduced_by=reduced, client_order_id=order.spec.client_order_id)

    async def amend_order(self, order_id: str, *, ticker: str, side: Side, price: int, count: int,
                          **_: Any) -> r.AmendResult:
        order = self.orders.get(order_id)
        if order is None or order.status != "resting":
            raise NotFound(f"order {order_id} is not resting", status=404, code="not_found")
        wanted = count - order.filled
        if wanted <= 0:
            raise OrderRejected("amend below the filled count", status=400, code="invalid_parameters")
        if price != order.spec.price or wanted > order.remaining:  # loses its place in the queue
            order.ahead = self.books.levels.get(ticker, {}).get(side, {}).get(price, 0)
        order.spec = msgspec.structs.replace(order.spec, price=price, count=count)
        order.remaining = wanted
        self._announce(order)
        return r.AmendResult(order_id=order_id, client_order_id=order.spec.client_order_id,
                             fill_count=order.filled, remaining_count=order.remaining)

    async def cancel_all(self) -> None:
        for order in self.orders.values():
            if order.status == "resting":
                order.remaining, order.status = 0, "canceled"
                self._announce(order)

    async def create_order_group(self, contracts_limit: int) -> r.OrderGroupCreated:
        return r.OrderGroupCreated(order_group_id=f"paper-group-{uuid.uuid4().hex[:8]}")

    # --- the paper account's reads ------------------------------------------------------------------
    async def get_balance(self) -> r.Balance:
        real = await self._rest.get_balance()
        return r.Balance(balance=real.balance + self.cash_delta)

    async def get_user_data_timestamp(self) -> r.UserDataTimestamp:
        return r.UserDataTimestamp(as_of_time=datetime.now(UTC))

    def _order(self, o: _PaperOrder) -> r.Order:
        return r.Order(order_id=o.order_id, ticker=o.spec.ticker, side=o.spec.side, status=o.status,
                       yes_price=o.spec.price, fill_count=o.filled, remaining_count=o.remaining,
                       initial_count=o.spec.count, taker_fill_cost=o.taker_cost, maker_fill_cost=o.maker_cost,
                       taker_fees=o.taker_fees, maker_fees=o.maker_fees, client_order_id=o.spec.client_order_id)

    async def iter_orders(self, *, ticker: str | None = None, status: str | None = None, **_: Any):
        for o in list(self.orders.values()):
            if (ticker is None or o.spec.ticker == ticker) and (status is None or o.status == status):
                yield self._order(o)

    async def get_orders(self, *, ticker: str | None = None, status: str | None = None, **_: Any) -> r.OrdersPage:
        return r.OrdersPage(orders=[o async for o in self.iter_orders(ticker=ticker, status=status)])

    async def get_order(self, order_id: str) -> r.Order:
        if order_id not in self.orders:
            raise NotFound(f"no paper order {order_id}", status=404, code="not_found")
        return self._order(self.orders[order_id])

    async def find_orders_by_client_id(self, ticker: str, client_order_ids: list[str]) -> dict[str, r.Order]:
        wanted = set(client_order_ids)
        return {o.spec.client_order_id: self._order(o) for o in self.orders.values()
                if o.spec.ticker == ticker and o.spec.client_order_id in wanted}

    async def iter_fills(self, *, min_ts: int | None = None, **_: Any):
        for f in list(self.fills):
            if min_ts is None or (f.ts or 0) >= min_ts:
                yield f

    async def iter_settlements(self, *, min_ts: int | None = None, **_: Any):
        """The paper account's own settlements (never the real account's)."""
        for s in list(self.settlements):
            if min_ts is None or s.settled_time.timestamp() >= min_ts:
                yield s

    async def iter_positions(self, **_: Any):
        for ticker, p in list(self.positions.items()):
            yield r.MarketPosition(ticker=ticker, position=p.position, market_exposure=p.cost_basis,
                                   realized_pnl=p.realized, fees_paid=p.fees)

    # --- the tape ---------------------------------------------------------------------------------
    def on_feed(self, event: object) -> None:
        change = self.books.apply(event)
        if change is not None:
            ticker, side, price, size = change
            for o in self._resting(ticker, side, price):
                o.ahead = min(o.ahead, size)
        elif isinstance(event, w.TradeMsg):
            self._on_trade(event.msg)
        elif isinstance(event, w.MarketLifecycle):
            self._on_lifecycle(event.msg)

    def _on_lifecycle(self, body: w.MarketLifecycleBody) -> None:
        """The real market resolved: the paper position is paid as the venue pays a real one."""
        ticker = body.market_ticker
        if body.event_type in ("determined", "amended"):
            value = body.settlement_value if body.settlement_value is not None else \
                {"yes": 10_000, "no": 0}.get(body.result or "")
            if value is not None:
                self._determined[ticker] = (body.result or "", value)
            return
        if body.event_type != "settled" or ticker not in self._determined:
            return
        result, value = self._determined.pop(ticker)
        for o in self._resting(ticker, Side.BID) + self._resting(ticker, Side.ASK):
            o.status = "canceled"
            self._announce(o)
        position = self.positions.get(ticker)
        if position is None or not position.position:
            return
        held, cost = position.position, position.cost_basis
        payout = held * value if held > 0 else -held * (10_000 - value)
        position.settle(value)
        self.cash_delta += payout
        self.settlements.append(r.Settlement(
            ticker=ticker, market_result=result, yes_count=max(0, held), no_count=max(0, -held),
            yes_total_cost=cost if held > 0 else 0, no_total_cost=cost if held < 0 else 0,
            revenue_cents=payout // 10_000, settled_time=datetime.fromtimestamp(self.clock_ms() / 1000, UTC),
            fee_cost=0, value_cents=value // 100))

    def _resting(self, ticker: str, side: Side, price: int | None = None) -> list[_PaperOrder]:
        return [o for o in self.orders.values() if o.status == "resting" and o.spec.ticker == ticker
                and o.spec.side is side and (price is None or o.spec.price == price)]

    def _on_trade(self, trade: w.TradeBody) -> None:
        hit = Side.ASK if trade.taker is Side.BID else Side.BID  # the resting side the taker traded against
        for o in sorted(self._resting(trade.market_ticker, hit), key=lambda o: o.created_ms):
            through = trade.yes_price < o.spec.price if hit is Side.BID else trade.yes_price > o.spec.price
            at = trade.yes_price == o.spec.price
            if through:
                self._fill(o, o.spec.price, o.remaining, taker=False)
            elif at:
                beyond = trade.count - o.ahead
                o.ahead = max(0, o.ahead - trade.count)
                if beyond > 0:
                    self._fill(o, o.spec.price, min(beyond, o.remaining), taker=False)
            else:
                continue
            if not o.remaining:
                o.status = "executed"
            self._announce(o)

    def _fill(self, order: _PaperOrder, price: int, count: int, *, taker: bool) -> None:
        if count <= 0:
            return
        spec = order.spec
        fee = self.fees(spec.ticker).trade_fee(price, count, maker=not taker)
        order.remaining -= count
        order.filled += count
        cost = (price if spec.side is Side.BID else 10_000 - price) * count
        if taker:
            order.taker_cost += cost
            order.taker_fees += fee
        else:
            order.maker_cost += cost
            order.maker_fees += fee
        position = self.positions.setdefault(spec.ticker, Position(spec.ticker))
        before = position.cost_basis
        realized = position.apply_fill(spec.side, price, count, fee)
        self.cash_delta -= position.cost_basis - before - realized + fee
        now = self.clock_ms()
        trade_id = f"paper-trade-{next(self._trades)}"
        self.fills.append(r.Fill(fill_id=trade_id, order_id=order.order_id, ticker=spec.ticker, side=spec.side,
                                 count=count, yes_price=price, is_taker=taker, fee_cost=fee, ts=now // 1000,
                                 trade_id=trade_id, client_order_id=spec.client_order_id))
        self.post(w.FillMsg(sid=0, msg=w.FillBody(
            trade_id=trade_id, order_id=order.order_id, market_ticker=spec.ticker, side=spec.side, is_taker=taker,
            yes_price=price, count=count, fee_cost=fee, post_position=position.position, ts_ms=now,
            client_order_id=spec.client_order_id)))

    def _announce(self, o: _PaperOrder) -> None:
        self.post(w.UserOrderMsg(sid=0, msg=w.UserOrderBody(
            order_id=o.order_id, ticker=o.spec.ticker, status=o.status, side=o.spec.side, yes_price=o.spec.price,
            fill_count=o.filled, remaining_count=o.remaining, initial_count=o.spec.count,
            taker_fill_cost=o.taker_cost, maker_fill_cost=o.maker_cost, taker_fees=o.taker_fees,
            maker_fees=o.maker_fees, created_ts_ms=o.created_ms, client_order_id=o.spec.client_order_id,
            last_updated_ts_ms=self.clock_ms())))


def paper_sink(sink: Callable[[object], None], paper: Callable[[], PaperRest | None]) -> Callable[[object], None]:
    """A WebSocket sink that lets the paper account see books and trades before the engine does."""

    def on_event(event: object) -> None:
        account = paper()
        if account is not None:
            account.on_feed(event)
        sink(event)

    return on_event
