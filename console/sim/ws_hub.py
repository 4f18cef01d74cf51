"""Fan-out of exchange events to WebSocket subscriptions.

`WsHub.on_event` is the one listener the WebSocket layer registers on the exchange core. It runs
synchronously inside the core's call, so it only builds payloads and appends them to connection
queues (see ws_connection); it never awaits. Subscriptions are indexed by channel; private channels
deliver only the subscriber's own account's events.

Book consistency: a subscription is attached and its snapshot taken in the same synchronous step
(no await in between), so every book change after the snapshot reaches it as a delta, in order.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from console.sim import ws_messages as wm
from console.sim.events import (
    BookDelta,
    EventLifecycle,
    FillHappened,
    MarketLifecycle,
    OrderChanged,
    OrderGroupChanged,
    PositionChanged,
    TickerChanged,
    TradePrinted,
)

if TYPE_CHECKING:
    from console.sim.exchange import Exchange
    from console.sim.ws_connection import Connection, Subscription

log = logging.getLogger(__name__)

#: channel -> whether a market filter is required / allowed
MARKET_FILTER = {
    "orderbook_delta": "required",
    "ticker": "optional",
    "trade": "optional",
    "fill": "optional",
    "market_positions": "optional",
    "user_orders": "optional",
    "order_group_updates": "ignored",
    "market_lifecycle_v2": "ignored",
}
CHANNELS = tuple(MARKET_FILTER)
PRIVATE_CHANNELS = frozenset({"fill", "market_positions", "user_orders", "order_group_updates"})
#: Kalshi filters multivariate (combo) markets and events out of market_lifecycle_v2
_COMBO_PREFIX = "KXMVE"


class WsHub:
    """Routes exchange events to subscriptions; one per simulator app."""

    def __init__(self, exchange: Exchange) -> None:
        self.exchange = exchange
        self.connections: set[Connection] = set()
        self._subs: dict[str, dict[Subscription, None]] = {channel: {} for channel in CHANNELS}
        self._last_ticker: dict[str, dict[str, Any]] = {}  # ticker -> last values sent (sans ts)
        self._last_trade_size: dict[str, int] = {}
        #: event type -> (the channel it feeds, its handler)
        self._handlers: dict[type, tuple[str, Callable[[Any], None]]] = {
            BookDelta: ("orderbook_delta", self._on_book_delta),
            TradePrinted: ("trade", self._on_trade),
            FillHappened: ("fill", self._on_fill),
            OrderChanged: ("user_orders", self._on_order),
            PositionChanged: ("market_positions", self._on_position),
            MarketLifecycle: ("market_lifecycle_v2", self._on_market_lifecycle),
            EventLifecycle: ("market_lifecycle_v2", self._on_event_lifecycle),
            OrderGroupChanged: ("order_group_updates", self._on_order_group),
            TickerChanged: ("ticker", self._on_ticker),
        }

    # --- registry ---------------------------------------------------------------------------

    def attach(self, sub: Subscription) -> None:
        self._subs[sub.channel][sub] = None

    def detach(self, sub: Subscription) -> None:
        self._subs[sub.channel].pop(sub, None)

    def _targets(self, channel: str) -> list[Subscription]:
        # a copy: delivering can drop a subscription (buffer overflow) while we iterate
        return list(self._subs[channel])

    # --- the listener -----------------------------------------------------------------------

    def on_event(self, event: Any) -> None:
        entry = self._handlers.get(type(event))
        if entry is None:
            return
        channel, handler = entry
        # A fan-out bug must not break the exchange call that emitted the event (an order placement
        # would fail half-done). It is logged loudly and every subscriber of the channel that
        # failed gets error 10 "channel error" and loses the subscription, so nothing is silently
        # wrong on a client: it knows it must resubscribe.
        try:
            handler(event)
        except Exception:
            log.exception("ws fan-out failed on %s", type(event).__name__)
            for sub in self._targets(channel):
                sub.conn.drop_subscription(sub)
                sub.conn.send_error(None, 10, f"internal error on {channel}; resubscribe",
                                    sid=sub.sid, seq=sub.next_seq())

    # --- market data ------------------------------------------------------------------------

    def market_id(self, ticker: str) -> str:
        market = self.exchange.markets.get(ticker)
        return market.market_id if market is not None else ""

    def _on_book_delta(self, event: BookDelta) -> None:
        targets = [sub for sub in self._targets("orderbook_delta") if sub.wants(event.ticker)]
        if not targets:
            return
        market_id = self.market_id(event.ticker)
        plain: dict[bool, dict[str, Any]] = {}  # use_yes_price -> payload shared by non-owners
        for sub in targets:
            msg = plain.get(sub.use_yes_price)
            if msg is None:
                msg = plain[sub.use_yes_price] = wm.orderbook_delta(event, market_id, sub.use_yes_price)
            if event.account_id is not None and event.account_id == sub.conn.account_id:
                msg = wm.annotate_owner(msg, event.client_order_id, self._subaccount_of(event))
            sub.conn.publish(sub, "orderbook_delta", msg)

    def _subaccount_of(self, event: BookDelta) -> int:
        if not event.client_order_id or event.account_id is None:
            return 0
        order = self.exchange.order_by_client_id(event.account_id, event.client_order_id)
        return order.subaccount if order is not None else 0

    def send_book_snapshot(self, sub: Subscription, ticker: str, cmd_id: int | None = None) -> None:
        market = self.exchange.markets[ticker]
        msg = wm.orderbook_snapshot(self.exchange, market, sub.use_yes_price)
        extra = {"id": cmd_id} if cmd_id else {}
        sub.conn.publish(sub, "orderbook_snapshot", msg, **extra)

    def _on_trade(self, event: TradePrinted) -> None:
        self._last_trade_size[event.ticker] = event.count
        targets = [sub for sub in self._targets("trade") if sub.wants(event.ticker)]
        if targets:
            msg = wm.trade(event)
            for sub in targets:
                sub.conn.publish(sub, "trade", msg)

    def ticker_message(self, ticker: str) -> dict[str, Any]:
        """Current `ticker` values of a market (without ts_ms)."""
        market = self.exchange.markets[ticker]
        return wm.ticker_values(self.exchange, market, self._trade_size(ticker))

    def _trade_size(self, ticker: str) -> int:
        size = self._last_trade_size.get(ticker)
        if size is None:
            # trades printed before the hub existed: look back once, then track
            size = next((t.count for t in reversed(self.exchange.trades) if t.ticker == ticker), 0)
            self._last_trade_size[ticker] = size
        return size

    def _on_ticker(self, event: TickerChanged) -> None:
        if event.ticker not in self.exchange.markets:
            return
        targets = [sub for sub in self._targets("ticker") if sub.wants(event.ticker)]
        if not targets:
            # nobody listens: skip the work, and forget the last values so that the first change
            # after someone subscribes is always sent (they may not have seen the remembered one)
            self._last_ticker.pop(event.ticker, None)
            return
        values = self.ticker_message(event.ticker)
        if self._last_ticker.get(event.ticker) == values:
            return  # Kalshi sends ticker only when a field changed
        self._last_ticker[event.ticker] = values
        msg = {**values, "ts_ms": event.ts_ms}
        for sub in targets:
            sub.conn.publish(sub, "ticker", msg)

    def send_ticker_snapshot(self, sub: Subscription, ticker: str) -> None:
        msg = {**self.ticker_message(ticker), "ts_ms": self.exchange.clock.now_ms()}
        sub.conn.publish(sub, "ticker", msg)

    def _on_market_lifecycle(self, event: MarketLifecycle) -> None:
        if event.ticker.startswith(_COMBO_PREFIX):
            return
        msg = wm.market_lifecycle(event)
        for sub in self._targets("market_lifecycle_v2"):
            sub.conn.publish(sub, "market_lifecycle_v2", msg)

    def _on_event_lifecycle(self, event: EventLifecycle) -> None:
        if event.event_ticker.startswith(_COMBO_PREFIX):
            return
        msg = wm.event_lifecycle(event)
        for sub in self._targets("market_lifecycle_v2"):
            sub.conn.publish(sub, "event_lifecycle", msg)

    # --- private channels -------------------------------------------------------------------

    def _own(self, channel: str, account_id: str, ticker: str | None = None) -> list[Subscription]:
        return [
            sub
            for sub in self._targets(channel)
            if sub.conn.account_id == account_id and (ticker is None or sub.wants(ticker))
        ]

    def _on_fill(self, event: FillHappened) -> None:
        targets = self._own("fill", event.account_id, event.ticker)
        if targets:
            order = self.exchange.orders.get(event.order_id)
            msg = wm.fill(event, order.subaccount if order is not None else 0)
            for sub in targets:
                sub.conn.publish(sub, "fill", msg)

    def _on_order(self, event: OrderChanged) -> None:
        targets = self._own("user_orders", event.account_id, event.order.ticker)
        if targets:
            msg = wm.user_order(event)
            for sub in targets:
                sub.conn.publish(sub, "user_order", msg)

    def _on_position(self, event: PositionChanged) -> None:
        targets = self._own("market_positions", event.account_id, event.ticker)
        if targets:
            msg = wm.market_position(event)
            for sub in targets:
                sub.conn.publish(sub, "market_position", msg)

    def _on_order_group(self, event: OrderGroupChanged) -> None:
        targets = self._own("order_group_updates", event.account_id)
        if targets:
            msg = wm.order_group_update(event)
            for sub in targets:
                sub.conn.publish(sub, "order_group_updates", msg)

    # --- shutdown ---------------------------------------------------------------------------

    async def close_all(self) -> None:
        """Close every client socket (server shutdown), all at once so slow peers do not add up."""
        connections = list(self.connections)
        await asyncio.gather(*(conn.ws.close() for conn in connections), return_exceptions=True)
        for conn in connections:
            await conn.close()
