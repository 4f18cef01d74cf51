"""Market lifecycle, pauses and time (reference sections 8 and 12).

`tick()` applies simulated time: `initialized -> active` at `open_time` (no event, as on Kalshi),
`active|inactive -> closed` at `close_time` (resting orders cancelled, "CloseCancel"), GTC orders
cancelled at their `expiration_time` ("ExpiryCancel"), `determined -> finalized` once
`settlement_timer_seconds` have passed, and a daily roll of `previous_*` prices. It is cheap when
nothing is due (it keeps the earliest due time), so the server can call it often and every order
action calls it first.

Admin transitions emit `MarketLifecycle` with `market_lifecycle_v2` fields (Unix-second `*_ts`,
`settlement_value` as a 4-decimal dollar string): `created` (from `add_market`), `deactivated` /
`activated` (`is_deactivated`; reactivation cancels every resting order, "HaltCancel"),
`close_date_updated`, `determined`, `settled`.

Pauses: `set_trading_paused(True)` refuses creates and amends but allows cancels; the exchange pause
refuses cancels too. Orders placed with `cancel_order_on_pause` are cancelled ("HaltCancel") when
either pause begins.

Settlement pays `settlement_value` (10000 pips = $1 for a YES result, 0 for NO) per YES count unit
and the complement per NO unit, records a `Settlement` per account that held a position, and leaves
every position flat.
"""

from __future__ import annotations

import heapq
from typing import Any

from console.domain.units import PRICE_MAX, format_price
from console.sim.accounts import settle_position
from console.sim.core import REASON_CLOSE, REASON_EXPIRY, REASON_HALT
from console.sim.events import EventLifecycle, MarketLifecycle, PositionChanged
from console.sim.model import (
    Event,
    ExchangeError,
    Market,
    MarketStatus,
    Order,
    OrderStatus,
    Settlement,
)
from console.sim.order_entry import OrderEntry

_DAY_MS = 86_400_000
_VOLUME_PRUNE_EVERY_MS = 1_000
_OPEN_STATES = (MarketStatus.ACTIVE, MarketStatus.INACTIVE)
_UNDETERMINED = (MarketStatus.INITIALIZED, MarketStatus.ACTIVE, MarketStatus.INACTIVE, MarketStatus.CLOSED)


class Lifecycle(OrderEntry):
    """The lifecycle half of `Exchange`."""

    # --- time ---------------------------------------------------------------------------------

    def tick(self) -> None:
        """Apply the current simulated time to every market and order (see the module docstring)."""
        now = self.clock.now_ms()
        if now >= self._next_due_ms:
            self._next_due_ms = min((self._advance_market(m, now) for m in list(self.markets.values())),
                                    default=1 << 62)
        heap = self._expiry_heap
        while heap and heap[0][0] * 1000 <= now:
            expiry_s, sequence, order_id = heapq.heappop(heap)
            order = self.orders[order_id]
            if order.status is OrderStatus.RESTING and order.expiration_time_s == expiry_s:
                before = self._ticker_state(order.ticker)
                self._cancel(order, REASON_EXPIRY, now)
                self._after_action(order.ticker, before, now)
        day = now // _DAY_MS
        if day != self._last_roll_day:
            self._last_roll_day = day
            for ticker, market in self.markets.items():
                book = self._books[ticker]
                bid, ask = book.best_bid(), book.best_ask()
                market.previous_yes_bid = bid[0] if bid else 0
                market.previous_yes_ask = ask[0] if ask else 0
                market.previous_price = market.last_price
        if now - self._last_volume_prune_ms >= _VOLUME_PRUNE_EVERY_MS:
            self._last_volume_prune_ms = now
            for ticker, tape in self._tapes.items():
                if tape.volume_24h:
                    self.markets[ticker].volume_24h = tape.expire_volume(now)

    def _advance_market(self, market: Market, now: int) -> int:
        """Apply due transitions to one market; returns when it next needs attention."""
        if market.status is MarketStatus.INITIALIZED:
            if now < market.open_time_ms:
                return market.open_time_ms
            market.status = MarketStatus.ACTIVE
            market.updated_time_ms = now
        if market.status in _OPEN_STATES:
            if now < market.close_time_ms:
                return market.close_time_ms
            self._close(market, now)
        if market.status is MarketStatus.DETERMINED:
            due = self._settle_due_ms(market)
            if now < due:
                return due
            self._settle(market, now)
        return 1 << 62

    def _reschedule(self, market: Market) -> None:
        """A market's times or status changed: make sure tick() looks at it when due."""
        if market.status is MarketStatus.INITIALIZED:
            due = market.open_time_ms
        elif market.status in _OPEN_STATES:
            due = market.close_time_ms
        elif market.status is MarketStatus.DETERMINED:
            due = self._settle_due_ms(market)
        else:
            return
        self._next_due_ms = min(self._next_due_ms, due)

    @staticmethod
    def _settle_due_ms(market: Market) -> int:
        return (market.determined_time_ms or 0) + market.settlement_timer_seconds * 1000

    def _schedule_expiry(self, order: Order) -> None:
        if order.expiration_time_s is not None:
            heapq.heappush(self._expiry_heap, (order.expiration_time_s, order.sequence, order.order_id))

    # --- pauses -------------------------------------------------------------------------------

    def set_trading_paused(self, paused: bool) -> None:
        """Pause or resume trading: creates and amends are refused while paused, cancels work."""
        if paused and not self.trading_paused and not self.exchange_paused:
            self._cancel_on_pause_begin()
        self.trading_paused = paused

    def set_exchange_paused(self, paused: bool) -> None:
        """Pause or resume the whole exchange: no creates, amends or cancels while paused."""
        if paused and not self.exchange_paused and not self.trading_paused:
            self._cancel_on_pause_begin()
        self.exchange_paused = paused

    def _cancel_on_pause_begin(self) -> None:
        now = self.clock.now_ms()
        for order in sorted(self._cancel_on_pause.values(), key=lambda o: o.sequence):
            before = self._ticker_state(order.ticker)
            self._cancel(order, REASON_HALT, now)
            self._after_action(order.ticker, before, now)

    # --- admin transitions ----------------------------------------------------------------------

    def deactivate_market(self, ticker: str) -> None:
        """Pause one market (`inactive`); resting orders stay."""
        market = self._market(ticker)
        if market.status is not MarketStatus.ACTIVE:
            raise ExchangeError(400, "market_not_active", "market is not active", f"{ticker} is {market.status}")
        now = self.clock.now_ms()
        market.status = MarketStatus.INACTIVE
        market.updated_time_ms = now
        self._lifecycle(market, "deactivated", now, is_deactivated=True)

    def activate_market(self, ticker: str) -> None:
        """Resume an inactive market (or open an initialized one early); every resting order is cancelled."""
        market = self._market(ticker)
        if market.status not in (MarketStatus.INACTIVE, MarketStatus.INITIALIZED):
            raise ExchangeError(400, "market_not_inactive", "market is not inactive", f"{ticker} is {market.status}")
        now = self.clock.now_ms()
        self._cancel_market_orders(market, REASON_HALT, now)
        market.status = MarketStatus.ACTIVE
        market.updated_time_ms = now
        self._reschedule(market)
        self._lifecycle(market, "activated", now, is_deactivated=False)

    def set_close_time(self, ticker: str, close_time_ms: int) -> None:
        """Move a market's close time; a closed (undetermined) market reopens if the new time is later than now."""
        market = self._market(ticker)
        if market.status not in _UNDETERMINED:
            raise ExchangeError(400, "market_closed", "market is closed", f"{ticker} is {market.status}")
        if close_time_ms < market.close_time_ms and not market.can_close_early:
            raise ExchangeError(400, "invalid_parameters", "invalid parameters",
                                f"{ticker} cannot close early (can_close_early is false)")
        now = self.clock.now_ms()
        market.close_time_ms = close_time_ms
        market.updated_time_ms = now
        self._lifecycle(market, "close_date_updated", now, close_ts=close_time_ms // 1000)
        if market.status is MarketStatus.CLOSED and close_time_ms > now:
            market.status = MarketStatus.ACTIVE
            self._lifecycle(market, "activated", now, is_deactivated=False)
        self._reschedule(market)
        self.tick()

    def determine_market(self, ticker: str, result: str, settlement_value: int | None = None) -> None:
        """Record the result; an open market is closed first. Settles after `settlement_timer_seconds`."""
        market = self._market(ticker)
        if market.status not in _UNDETERMINED:
            raise ExchangeError(400, "market_already_determined", "market already determined",
                                f"{ticker} is {market.status}")
        if result not in ("yes", "no", "scalar"):
            raise ExchangeError(400, "invalid_parameters", "invalid parameters", "result must be yes, no or scalar")
        if settlement_value is None:
            if result == "scalar":
                raise ExchangeError(400, "invalid_parameters", "invalid parameters",
                                    "a scalar result needs a settlement_value")
            settlement_value = PRICE_MAX if result == "yes" else 0
        if not 0 <= settlement_value <= PRICE_MAX:
            raise ExchangeError(400, "invalid_parameters", "invalid parameters",
                                "settlement_value must be between 0 and 10000 pips")
        now = self.clock.now_ms()
        if market.status is not MarketStatus.CLOSED:
            if market.close_time_ms > now:
                market.close_time_ms = now
                self._lifecycle(market, "close_date_updated", now, close_ts=now // 1000)
            self._close(market, now)
        market.result = result
        market.settlement_value = settlement_value
        market.determined_time_ms = now
        market.status = MarketStatus.DETERMINED
        market.updated_time_ms = now
        self._lifecycle(market, "determined", now, determination_ts=now // 1000, result=result,
                        settlement_value=format_price(settlement_value))
        self._reschedule(market)

    def settle_market(self, ticker: str) -> list[Settlement]:
        """Pay out a determined market now (without waiting for its timer); returns the settlements."""
        market = self._market(ticker)
        if market.status is not MarketStatus.DETERMINED:
            raise ExchangeError(400, "market_not_determined", "market is not determined",
                                f"{ticker} is {market.status}; determine it first")
        return self._settle(market, self.clock.now_ms())

    # --- internals ----------------------------------------------------------------------------

    def _close(self, market: Market, now: int) -> None:
        self._cancel_market_orders(market, REASON_CLOSE, now)
        market.status = MarketStatus.CLOSED
        market.updated_time_ms = now

    def _cancel_market_orders(self, market: Market, reason: str, now: int) -> None:
        before = self._ticker_state(market.ticker)
        for order in self.live_orders(ticker=market.ticker):
            self._cancel(order, reason, now)
        self._after_action(market.ticker, before, now)

    def _settle(self, market: Market, now: int) -> list[Settlement]:
        value = market.settlement_value if market.settlement_value is not None else 0
        ticker = market.ticker
        before = self._ticker_state(ticker)
        out: list[Settlement] = []
        for account in self.accounts.values():
            position = account.positions.get(ticker)
            if position is None or position.settled:
                continue
            if position.position == 0:
                position.settled = True
                continue
            revenue, yes_count, yes_cost, no_count, no_cost = settle_position(account, position, value)
            position.last_updated_ms = now
            settlement = Settlement(
                account_id=account.account_id, ticker=ticker, event_ticker=market.event_ticker,
                market_result=market.result, yes_count=yes_count, yes_total_cost=yes_cost, no_count=no_count,
                no_total_cost=no_cost, revenue=revenue, fee_cost=position.fees_paid, settled_time_ms=now,
                value=value,
            )
            self.settlements.append(settlement)
            out.append(settlement)
            self._emit(PositionChanged(account.account_id, ticker, 0, 0, position.realized_pnl, position.fees_paid,
                                       position.volume, now))
        market.open_interest = 0
        market.status = MarketStatus.FINALIZED
        market.settlement_time_ms = now
        market.updated_time_ms = now
        self._lifecycle(market, "settled", now, settled_ts=now // 1000)
        self._after_action(ticker, before, now)
        return out

    def _lifecycle(self, market: Market, event_type: str, now: int, **fields: Any) -> None:
        self._emit(MarketLifecycle(market.ticker, event_type, fields, now))

    def _announce_created(self, market: Market) -> None:
        now = self.clock.now_ms()
        event = self.events[market.event_ticker]
        if event.event_ticker not in self._announced_events:
            self._announced_events.add(event.event_ticker)
            self._emit(EventLifecycle(event.event_ticker, event_lifecycle_fields(event), now))
        self._lifecycle(market, "created", now, **market_created_fields(market))


def market_created_fields(market: Market) -> dict[str, Any]:
    """`market_lifecycle_v2` fields of a `created` event."""
    metadata: dict[str, Any] = {
        "name": market.title,
        "title": market.title,
        "yes_sub_title": market.yes_sub_title,
        "no_sub_title": market.no_sub_title,
        "rules_primary": market.rules_primary,
        "rules_secondary": market.rules_secondary,
        "can_close_early": market.can_close_early,
        "event_ticker": market.event_ticker,
        "expected_expiration_ts": (market.expected_expiration_time_ms or market.close_time_ms) // 1000,
    }
    for key in ("strike_type", "floor_strike", "cap_strike"):
        value = getattr(market, key)
        if value is not None:
            metadata[key] = value
    return {
        "exchange_index": market.exchange_index,
        "open_ts": market.open_time_ms // 1000,
        "close_ts": market.close_time_ms // 1000,
        "additional_metadata": metadata,
        "price_level_structure": market.price_level_structure,
        "price_ranges": market.grid.to_wire(),
    }


def event_lifecycle_fields(event: Event) -> dict[str, Any]:
    """`event_lifecycle` fields."""
    fields: dict[str, Any] = {
        "exchange_index": 0,
        "title": event.title,
        "subtitle": event.sub_title,
        "collateral_return_type": event.collateral_return_type,
        "series_ticker": event.series_ticker,
    }
    if event.strike_date_ms is not None:
        fields["strike_date"] = event.strike_date_ms // 1000
    return fields
