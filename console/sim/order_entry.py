"""Order entry and matching: create, amend, decrease, cancel, cancel-all (reference sections 6.4, 7, 12).

Refusals (`ExchangeError(status, code, message, details)`):

| status | code | when |
|---|---|---|
| 503 | `exchange_paused` | the exchange is paused (creates, amends, decreases and cancels) |
| 400 | `trading_paused` | trading is paused (creates and amends; cancels still work) |
| 404 | `user_not_found` / `market_not_found` / `order_not_found` / `order_group_not_found` | unknown id |
| 400 | `market_not_open` / `market_inactive` / `market_closed` | market initialized / inactive / closed or later |
| 400 | `invalid_order` | bad count, price (details `price not on grid`), time in force combination, expiration, amend/decrease values; `post only cross` |
| 400 | `order_not_resting` | amend/decrease/cancel of an order that is already canceled or executed |
| 400 | `order_ticker_mismatch` / `order_side_mismatch` / `order_id_and_client_order_id_mismatch` | amend body disagrees with the order |
| 400 | `order_group_triggered` | the order's group hit its limit and was not reset |
| 400 | `insufficient_balance` | available balance cannot cover the collateral (see `console.sim.accounts`) |
| 400 | `invalid_parameters` | decrease without exactly one of reduce_by / reduce_to |
| 409 | `order_already_exists` | client_order_id equals one of the account's live orders |

Admin and group calls add: `invalid_parameters` (bad limit, result or close time), `market_not_active`
/ `market_not_inactive` (deactivate / activate from the wrong state), `market_already_determined`,
`market_not_determined` (settle before determine), `account_exists`.

Matching: an incoming order meets the best opposite level first, then time priority; each fill is
at the resting (maker) order's price. Self-trade prevention: `taker_at_cross` cancels the incoming
order where it would meet its owner's resting order (earlier fills stand); `maker` cancels the
owner's resting orders it meets and keeps going. Fill-or-kill fills in full or not at all, judged on
the liquidity of other accounts (own orders are left to STP): if that liquidity suffices the order
matches normally, so a FoK with `taker_at_cross` that reaches its owner's order keeps the fills made
before it, as Kalshi documents. Reduce-only (IOC only) is capped at the position it can reduce and
cancelled with "ReduceOnlyCancel" when there is none.
"""

from __future__ import annotations

from typing import Any

from console.domain.grid import OffGridPrice
from console.domain.units import PRICE_MAX
from console.sim.accounts import book_fill
from console.sim.core import (
    REASON_AMEND,
    REASON_DECREASE,
    REASON_REDUCE_ONLY,
    REASON_SELF_TRADE,
    REASON_TIME_IN_FORCE,
    REASON_TRADE,
    trade_fee,
)
from console.sim.events import (
    BookSide,
    FillHappened,
    OrderChanged,
    PositionChanged,
    TradePrinted,
)
from console.sim.matching import OrderBook
from console.sim.model import (
    ExchangeError,
    Fill,
    Market,
    MarketStatus,
    Order,
    OrderRequest,
    OrderStatus,
    SelfTradePrevention,
    TimeInForce,
    Trade,
)
from console.sim.order_groups import OrderGroups


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()  # amend_order's expiration_time_s default: keep the order's expiry

_NOT_OPEN = {
    MarketStatus.INITIALIZED: ("market_not_open", "market is not open yet"),
    MarketStatus.INACTIVE: ("market_inactive", "market is paused by the exchange"),
}


def _invalid(details: str) -> ExchangeError:
    return ExchangeError(400, "invalid_order", "invalid order", details)


class OrderEntry(OrderGroups):
    """The order-entry half of `Exchange`."""

    # --- public API ----------------------------------------------------------------------------

    def create_order(self, account_id: str, req: OrderRequest) -> Order:
        """Place a V2 order; it matches at once and any GTC remainder rests. Returns the order."""
        self.tick()
        now = self.clock.now_ms()
        self._check_exchange_open()
        account = self._account(account_id)
        market = self._market(req.ticker)
        self._check_tradable(market)
        self._check_price(market, req.price)
        if req.count <= 0:
            raise _invalid(f"count must be greater than 0, got {req.count}")
        tif = req.time_in_force
        if req.expiration_time_s is not None:
            if tif is not TimeInForce.GTC:
                raise _invalid("expiration_time is only allowed with good_till_canceled")
            if req.expiration_time_s * 1000 <= now:
                raise _invalid("expiration_time must be in the future")
        if req.reduce_only and tif is not TimeInForce.IOC:
            raise _invalid("reduce_only requires time_in_force immediate_or_cancel")
        if req.post_only and tif is not TimeInForce.GTC:
            raise _invalid("post_only requires time_in_force good_till_canceled")
        if req.client_order_id is not None:
            self._check_client_order_id_free(account_id, req.client_order_id)
        group = self._group_for_new_order(account_id, req.order_group_id)
        book = self._books[req.ticker]
        if req.post_only and book.crosses(req.side, req.price):
            raise _invalid("post only cross")

        position = account.positions.get(req.ticker)
        held = position.position if position is not None else 0
        count = req.count
        if req.reduce_only:
            reducible = max(-held, 0) if req.side is BookSide.BID else max(held, 0)
            count = min(count, reducible)  # the order is capped at creation (initial_count too)
        order = Order(
            order_id=self.new_id(),
            account_id=account_id,
            client_order_id=req.client_order_id or self.new_id(),
            ticker=req.ticker,
            side=req.side,
            price=req.price,
            initial_count=count or req.count,
            remaining_count=count,
            time_in_force=tif,
            self_trade_prevention=req.self_trade_prevention,
            post_only=req.post_only,
            reduce_only=req.reduce_only,
            cancel_order_on_pause=req.cancel_order_on_pause,
            order_group_id=req.order_group_id,
            expiration_time_s=req.expiration_time_s,
            created_time_ms=now,
            last_update_time_ms=now,
            subaccount=req.subaccount,
            sequence=self._next_sequence(),
        )
        before = self._ticker_state(req.ticker)
        if count == 0:  # reduce-only with nothing to reduce: recorded, then cancelled
            self._register_live(order)
            self._record_new(order, group, now)
            self._cancel(order, REASON_REDUCE_ONLY, now)
            return order
        self._register_live(order)
        reserved_before = account.reserved
        self._refresh_reservations(account_id, req.ticker, order)
        if account.reserved > reserved_before and account.available < 0:
            needed = account.reserved - reserved_before
            self._unregister_live(order)
            raise ExchangeError(400, "insufficient_balance", "insufficient balance",
                                f"order needs ${needed / 1e6:.6f} of collateral; available is "
                                f"${(account.available) / 1e6:.6f}")
        self._record_new(order, group, now)

        if tif is TimeInForce.FOK:
            _, others = book.crossing_liquidity(order.side, order.price, account_id, count)
            if others < count:
                self._cancel(order, REASON_TIME_IN_FORCE, now)
                self._after_action(order.ticker, before, now)
                return order
        self._match(order, market, book, now)
        self._finish_incoming(order, book, now)
        self._after_action(order.ticker, before, now)
        return order

    def decrease_order(self, account_id: str, order_id: str, reduce_by: int | None = None,
                       reduce_to: int | None = None) -> tuple[Order, int]:
        """Reduce a resting order's remaining count, keeping its place. Returns (order, reduced_by)."""
        self.tick()
        self._check_exchange_open()
        if (reduce_by is None) == (reduce_to is None):
            raise ExchangeError(400, "invalid_parameters", "invalid parameters",
                                "give exactly one of reduce_by or reduce_to")
        order = self._own_order(account_id, order_id)
        self._check_resting(order)
        remaining = order.remaining_count
        if reduce_by is not None:
            if reduce_by <= 0:
                raise _invalid(f"reduce_by must be greater than 0, got {reduce_by}")
            amount = min(reduce_by, remaining)
        else:
            assert reduce_to is not None
            if not 0 <= reduce_to < remaining:
                raise _invalid(f"reduce_to must be at least 0 and below the remaining count {remaining}")
            amount = remaining - reduce_to
        now = self.clock.now_ms()
        before = self._ticker_state(order.ticker)
        if amount == remaining:
            self._cancel(order, REASON_DECREASE, now)
        else:
            self._books[order.ticker].reduce(order, amount)
            order.remaining_count -= amount
            order.last_update_time_ms = now
            order.last_update_reason = REASON_DECREASE
            self._book_delta(order, -amount, now)
            self._refresh_reservations(account_id, order.ticker, order)
            self._emit(OrderChanged(account_id, order, REASON_DECREASE, now))
        self._after_action(order.ticker, before, now)
        return order, amount

    def cancel_order(self, account_id: str, order_id: str) -> tuple[Order, int]:
        """Cancel a resting order (a decrease to zero); the record stays with status canceled."""
        self.tick()
        self._check_exchange_open()
        order = self._own_order(account_id, order_id)
        self._check_resting(order)
        return self.decrease_order(account_id, order_id, reduce_to=0)

    def cancel_all(self, account_id: str) -> list[Order]:
        """Cancel every resting order of the account; returns them."""
        self.tick()
        self._check_exchange_open()
        self._account(account_id)
        now = self.clock.now_ms()
        cancelled = self.live_orders(account_id=account_id)
        tickers = {o.ticker for o in cancelled}
        befores = {t: self._ticker_state(t) for t in tickers}
        for order in cancelled:
            self._cancel(order, REASON_DECREASE, now)
        for t, before in befores.items():
            self._after_action(t, before, now)
        return cancelled

    def amend_order(self, account_id: str, order_id: str, *, ticker: str, side: BookSide, price: int, count: int,
                    client_order_id: str | None = None, updated_client_order_id: str | None = None,
                    expiration_time_s: Any = UNSET) -> Order:
        """Change price, total count (filled + remaining) and/or expiry of a resting order.

        A new price or a larger remaining count loses queue priority and may cross and fill at once;
        a smaller count or a new expiry keeps it. `expiration_time_s` None or 0 removes the expiry.
        """
        self.tick()
        self._check_exchange_open()
        order = self._own_order(account_id, order_id)
        market = self._market(order.ticker)
        self._check_tradable(market)
        self._check_resting(order)
        if ticker != order.ticker:
            raise ExchangeError(400, "order_ticker_mismatch", "order ticker mismatch",
                                f"order {order_id} is on {order.ticker}, not {ticker}")
        if side is not order.side:
            raise ExchangeError(400, "order_side_mismatch", "order side mismatch",
                                f"order {order_id} is a {order.side}, not a {side}")
        if client_order_id is not None and client_order_id != order.client_order_id:
            raise ExchangeError(400, "order_id_and_client_order_id_mismatch", "order id and client order id mismatch",
                                f"order {order_id} has client_order_id {order.client_order_id!r}")
        self._check_price(market, price)
        new_remaining = count - order.fill_count
        if new_remaining <= 0:
            raise _invalid(f"count is the new total including the {order.fill_count} already filled; "
                           f"it must exceed that, got {count}")
        now = self.clock.now_ms()
        expiry = order.expiration_time_s
        if expiration_time_s is not UNSET:
            expiry = expiration_time_s or None
            if expiry is not None and expiry * 1000 <= now:
                raise _invalid("expiration_time must be in the future")
        if updated_client_order_id is not None and updated_client_order_id != order.client_order_id:
            self._check_client_order_id_free(account_id, updated_client_order_id)
        book = self._books[order.ticker]
        price_changed = price != order.price
        if order.post_only and price_changed and book.crosses(order.side, price):
            raise _invalid("post only cross")
        loses_priority = price_changed or new_remaining > order.remaining_count

        # collateral check on the amended shape, before anything visible happens
        account = self.accounts[account_id]
        mine = self._live_by_account_market[(account_id, order.ticker)]
        old_price, old_remaining = order.price, order.remaining_count
        reserved_before = account.reserved
        old_place = mine.requeue(order) if loses_priority else None
        order.price, order.remaining_count = price, new_remaining
        self._refresh_reservations(account_id, order.ticker, order)
        if account.reserved > reserved_before and account.available < 0:
            order.price, order.remaining_count = old_price, old_remaining
            if old_place is not None:
                position = account.positions.get(order.ticker)
                mine.unrequeue(order, old_place, account, position.position if position else 0)
            else:
                self._refresh_reservations(account_id, order.ticker, order)
            raise ExchangeError(400, "insufficient_balance", "insufficient balance",
                                "available balance cannot cover the amended order")
        order.price, order.remaining_count = old_price, old_remaining

        before = self._ticker_state(order.ticker)
        if loses_priority:
            book.remove(order, old_remaining)
            self._book_delta(order, -old_remaining, now)
            order.sequence = self._next_sequence()
        elif new_remaining < old_remaining:
            book.reduce(order, old_remaining - new_remaining)
            self._book_delta(order, new_remaining - old_remaining, now)
        order.price = price
        order.remaining_count = new_remaining
        order.initial_count = count
        if updated_client_order_id is not None:
            order.client_order_id = updated_client_order_id
            self._by_client_id[(account_id, updated_client_order_id)] = order
        if expiry != order.expiration_time_s:
            order.expiration_time_s = expiry
            self._schedule_expiry(order)
        order.last_update_time_ms = now
        order.last_update_reason = REASON_AMEND
        self._refresh_reservations(account_id, order.ticker, order)
        self._emit(OrderChanged(account_id, order, REASON_AMEND, now))
        if loses_priority:
            self._match(order, market, book, now)
            self._finish_incoming(order, book, now)
        self._after_action(order.ticker, before, now)
        return order

    # --- matching ------------------------------------------------------------------------------

    def _match(self, taker: Order, market: Market, book: OrderBook, now: int) -> None:
        owner = taker.account_id
        stp_taker = taker.self_trade_prevention is SelfTradePrevention.TAKER_AT_CROSS
        while taker.remaining_count > 0 and taker.status is OrderStatus.RESTING:
            maker = book.best_maker(taker.side, taker.price)
            if maker is None:
                return
            if maker.account_id == owner:
                if stp_taker:
                    self._cancel(taker, REASON_SELF_TRADE, now)
                    return
                self._cancel(maker, REASON_SELF_TRADE, now)
                continue
            self._execute(market, book, taker, maker, min(taker.remaining_count, maker.remaining_count), now)

    def _finish_incoming(self, order: Order, book: OrderBook, now: int) -> None:
        """After matching: a GTC remainder rests, any other remainder is cancelled."""
        if order.status is not OrderStatus.RESTING or order.remaining_count == 0:
            return
        if order.time_in_force is TimeInForce.GTC:
            book.add(order)
            self._book_delta(order, order.remaining_count, now)
            if order.expiration_time_s is not None:
                self._schedule_expiry(order)
        else:
            self._cancel(order, REASON_TIME_IN_FORCE, now)

    def _execute(self, market: Market, book: OrderBook, taker: Order, maker: Order, count: int, now: int) -> None:
        """One fill between an incoming order and a resting one, at the resting order's price."""
        ticker = market.ticker
        price = maker.price
        trade_id = self.new_id()
        fees = self.fees_for(ticker)
        taker_fee = trade_fee(fees, price, count, False)
        maker_fee = trade_fee(fees, price, count, True)

        maker_left = maker.remaining_count - count
        book.reduce(maker, count)
        if maker_left == 0:
            book.remove(maker, 0)
        self._book_delta(maker, -count, now)

        market.last_price = price
        market.volume += count
        trade = Trade(trade_id, ticker, price, count, taker.side, now)
        self.trades.append(trade)
        tape = self._tapes[ticker]
        tape.record_trade(now, price, count, market.open_interest)
        market.volume_24h = tape.volume_24h
        if self._listeners:
            self._emit(TradePrinted(trade_id, ticker, price, count, taker.side, now))

        taker_account, maker_account = self.accounts[taker.account_id], self.accounts[maker.account_id]
        taker_pos, maker_pos = self._position(taker_account, ticker), self._position(maker_account, ticker)
        tb = book_fill(taker_account, taker_pos, taker.side, price, count, taker_fee, now)
        mb = book_fill(maker_account, maker_pos, maker.side, price, count, maker_fee, now)
        market.open_interest += tb.yes_held_delta + mb.yes_held_delta
        tape.fix_last_open_interest(market.open_interest)

        taker.fill_count += count
        taker.remaining_count -= count
        taker.taker_fill_cost += tb.cost
        taker.taker_fees += tb.fee
        maker.fill_count += count
        maker.remaining_count = maker_left
        maker.maker_fill_cost += mb.cost
        maker.maker_fees += mb.fee
        for o in (taker, maker):
            o.last_update_time_ms = now
            o.last_update_reason = REASON_TRADE
            if o.remaining_count == 0:
                o.status = OrderStatus.EXECUTED
                self._unregister_live(o)
            else:
                self._refresh_reservations(o.account_id, ticker, o)

        taker_fill = Fill(trade_id, taker.order_id, taker.account_id, ticker, taker.side, price, count, True,
                          tb.fee, now, taker.client_order_id, tb.post_position, subaccount=taker.subaccount)
        maker_fill = Fill(trade_id, maker.order_id, maker.account_id, ticker, maker.side, price, count, False,
                          mb.fee, now, maker.client_order_id, mb.post_position, subaccount=maker.subaccount)
        self.fills.append(taker_fill)
        self.fills.append(maker_fill)
        if self._listeners:
            emit = self._emit
            for f in (taker_fill, maker_fill):
                emit(FillHappened(f.account_id, trade_id, f.order_id, f.client_order_id, ticker, f.side, price,
                                  count, f.fee, f.is_taker, f.post_position, now))
            emit(OrderChanged(maker.account_id, maker, REASON_TRADE, now))
            emit(OrderChanged(taker.account_id, taker, REASON_TRADE, now))
            for pos, owner in ((taker_pos, taker.account_id), (maker_pos, maker.account_id)):
                emit(PositionChanged(owner, ticker, pos.position, pos.position_cost, pos.realized_pnl,
                                     pos.fees_paid, pos.volume, now))
        self._group_matched(taker, count, now)
        self._group_matched(maker, count, now)

    # --- checks and bookkeeping ----------------------------------------------------------------

    def _check_exchange_open(self) -> None:
        if self.exchange_paused:
            raise ExchangeError(503, "exchange_paused", "exchange is paused",
                                "the exchange is paused; no order actions until it resumes")

    def _check_tradable(self, market: Market) -> None:
        status = market.status
        if status is not MarketStatus.ACTIVE:
            code, message = _NOT_OPEN.get(status, ("market_closed", "market is closed"))
            raise ExchangeError(400, code, message, f"{market.ticker} is {status}; orders need an active market")
        if self.trading_paused:
            raise ExchangeError(400, "trading_paused", "trading is paused",
                                "trading is paused; cancels still work, new orders and amends wait for the resume")

    @staticmethod
    def _check_price(market: Market, price: int) -> None:
        if not 0 < price < PRICE_MAX:
            raise _invalid("price must be strictly between 0 and 1")
        try:
            market.grid.index_of(price)
        except OffGridPrice:
            raise _invalid("price not on grid") from None

    @staticmethod
    def _check_resting(order: Order) -> None:
        if order.status is not OrderStatus.RESTING:
            raise ExchangeError(400, "order_not_resting", "order is not resting",
                                f"order {order.order_id} is already {order.status}")

    def _check_client_order_id_free(self, account_id: str, client_order_id: str) -> None:
        existing = self._by_client_id.get((account_id, client_order_id))
        if existing is not None and existing.status is OrderStatus.RESTING:
            raise ExchangeError(409, "order_already_exists", "order already exists",
                                f"client_order_id {client_order_id!r} belongs to live order {existing.order_id}")

    def _record_new(self, order: Order, group: Any, now: int) -> None:
        self.orders[order.order_id] = order
        self._by_client_id[(order.account_id, order.client_order_id)] = order
        if group is not None:
            group.order_ids.append(order.order_id)
        self._emit(OrderChanged(order.account_id, order, None, now))

    def _schedule_expiry(self, order: Order) -> None:
        raise NotImplementedError  # provided by the lifecycle mixin
