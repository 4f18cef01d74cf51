"""An in-process venue for one kernel: its actions run on the simulator's `Exchange`, synchronously.

What `console.engine.io.IoThread` does over the network, done directly on the exchange core: every
kernel action (create, cancel, amend, cancel-all, market loads, reconciliation reads, flatten reads,
balance, the bot order group) is executed at once and answered with the very result message io.py
would post (plus the `RequestOutcome` the venue-error breaker counts). The exchange's listener events
for this account become the WebSocket messages the kernel would decode: `FillHappened` ->
`codec_ws.FillMsg`, `OrderChanged` -> `codec_ws.UserOrderMsg`, determinations and settlements ->
`codec_ws.MarketLifecycle`. Books reach the kernel as `BookSnapshot`s of the markets that changed
since its last turn (and of quiet ones now and then, so book health stays green on coarse steps).

The adapter only reads public state (books, market listings) and this account's own records; the
world's hidden truth never passes through here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from console.domain.side import Side
from console.engine import messages as m
from console.sim.events import BookDelta as SimBookDelta
from console.sim.events import BookSide, FillHappened, MarketLifecycle, OrderChanged
from console.sim.model import (
    ExchangeError,
    MarketStatus,
    OrderRequest,
    SelfTradePrevention,
    TimeInForce,
)
from console.venues.events import BookSnapshot
from console.venues.kalshi import codec_rest as r
from console.venues.kalshi import codec_ws as w

SNAPSHOT_EVERY_MS = 100_000  # resend a quiet book this often (book health turns red after 120 s of silence)
_SIDE = {BookSide.BID: Side.BID, BookSide.ASK: Side.ASK}
_BOOK_SIDE = {Side.BID: BookSide.BID, Side.ASK: BookSide.ASK}


def _utc(ms: int | None) -> dt.datetime | None:
    return None if ms is None else dt.datetime.fromtimestamp(ms / 1000, dt.UTC)


def rest_order(o: Any) -> r.Order:
    return r.Order(order_id=o.order_id, ticker=o.ticker, side=_SIDE[o.side], status=str(o.status),
                   yes_price=o.price, fill_count=o.fill_count, remaining_count=o.remaining_count,
                   initial_count=o.initial_count, taker_fill_cost=o.taker_fill_cost,
                   maker_fill_cost=o.maker_fill_cost, taker_fees=o.taker_fees, maker_fees=o.maker_fees,
                   client_order_id=o.client_order_id, created_time=_utc(o.created_time_ms),
                   last_update_time=_utc(o.last_update_time_ms), last_update_reason=o.last_update_reason,
                   order_group_id=o.order_group_id, time_in_force=str(o.time_in_force))


class InProcessVenue:
    """Answers one kernel's actions on the exchange as `account_id` (see the module docstring)."""

    def __init__(self, exchange: Any, account_id: str, post: Callable[[object], None]) -> None:
        self.exchange, self.account_id, self.post = exchange, account_id, post
        self.pending: list[object] = []  # account news waiting for the kernel's next turn
        self.fills: list[r.Fill] = []
        self.dirty: dict[str, None] = {}
        self.sent_ms: dict[str, int] = {}  # ticker -> when its book was last sent
        self.loaded: dict[str, None] = {}  # ordered (a set's order would change with the hash seed)
        self.requests = 0
        self.refusals = 0
        exchange.add_listener(self._on_event)

    # --- exchange events ----------------------------------------------------------------------------
    def _on_event(self, event: object) -> None:
        if isinstance(event, SimBookDelta):
            self.dirty[event.ticker] = None
        elif isinstance(event, FillHappened):
            if event.account_id == self.account_id:
                self._on_fill(event)
        elif isinstance(event, OrderChanged):
            if event.account_id == self.account_id:
                self.pending.append(self._user_order(event.order, event.ts_ms))
        elif (isinstance(event, MarketLifecycle) and event.ticker in self.loaded
              and event.event_type in ("determined", "settled", "deactivated", "activated")):
            market = self.exchange.markets[event.ticker]
            self.pending.append(w.MarketLifecycle(sid=0, msg=w.MarketLifecycleBody(
                market_ticker=event.ticker, event_type=event.event_type, result=market.result or None,
                settlement_value=market.settlement_value)))

    def _on_fill(self, e: FillHappened) -> None:
        side = _SIDE[e.side]
        self.fills.append(r.Fill(fill_id=e.fill_id, order_id=e.order_id, ticker=e.ticker, side=side, count=e.count,
                                 yes_price=e.yes_price, is_taker=e.is_taker, fee_cost=e.fee, ts=e.ts_ms // 1000,
                                 trade_id=e.fill_id, client_order_id=e.client_order_id))
        self.pending.append(w.FillMsg(sid=0, msg=w.FillBody(
            trade_id=e.fill_id, order_id=e.order_id, market_ticker=e.ticker, side=side, is_taker=e.is_taker,
            yes_price=e.yes_price, count=e.count, fee_cost=e.fee, post_position=e.post_position, ts_ms=e.ts_ms,
            client_order_id=e.client_order_id)))

    def _user_order(self, o: Any, ts_ms: int) -> w.UserOrderMsg:
        return w.UserOrderMsg(sid=0, msg=w.UserOrderBody(
            order_id=o.order_id, ticker=o.ticker, status=str(o.status), side=_SIDE[o.side], yes_price=o.price,
            fill_count=o.fill_count, remaining_count=o.remaining_count, initial_count=o.initial_count,
            taker_fill_cost=o.taker_fill_cost, maker_fill_cost=o.maker_fill_cost, taker_fees=o.taker_fees,
            maker_fees=o.maker_fees, created_ts_ms=o.created_time_ms, client_order_id=o.client_order_id,
            order_group_id=o.order_group_id, last_updated_ts_ms=ts_ms, last_update_reason=o.last_update_reason))

    # --- what the kernel receives before a turn ----------------------------------------------------
    def deliver(self, now_ms: int) -> None:
        """Post new markets, the books that changed (or went quiet too long) and the account's news."""
        ex = self.exchange
        new = [t for t, mk in ex.markets.items() if t not in self.loaded and mk.status is MarketStatus.ACTIVE]
        if new:
            self.post(self.markets_loaded(new))
        for ticker in self.loaded:
            changed = ticker in self.dirty
            quiet = now_ms - self.sent_ms.get(ticker, 0) >= SNAPSHOT_EVERY_MS
            if changed or (quiet and ex.markets[ticker].status is MarketStatus.ACTIVE):
                self.post(self.snapshot(ticker, now_ms))
        self.dirty.clear()
        self.flush()

    def flush(self) -> None:
        pending, self.pending = self.pending, []
        for item in pending:
            self.post(item)

    def snapshot(self, ticker: str, now_ms: int) -> BookSnapshot:
        self.sent_ms[ticker] = now_ms
        ex = self.exchange
        return BookSnapshot("kalshi", ticker, tuple(ex.book_levels(ticker, BookSide.BID)),
                            tuple(ex.book_levels(ticker, BookSide.ASK)), sid=1, ts_ms=now_ms)

    def meta(self, ticker: str) -> m.MarketMeta:
        ex = self.exchange
        mk = ex.markets[ticker]
        event = ex.events[mk.event_ticker]
        return m.MarketMeta(ticker, mk.event_ticker, mk.title, ex.series[mk.series_ticker].category, str(mk.status),
                            mk.grid, ex.fees_for(ticker), event.mutually_exclusive, mk.close_time_ms // 1000)

    def markets_loaded(self, tickers: list[str]) -> m.MarketsLoaded:
        known = [t for t in tickers if t in self.exchange.markets]
        self.loaded.update(dict.fromkeys(known))
        return m.MarketsLoaded(tuple(self.meta(t) for t in known), tuple(t for t in tickers if t not in known))

    # --- actions ------------------------------------------------------------------------------------
    def act(self, action: object) -> None:
        """Execute one kernel action and post its answer(s), then the account news it caused."""
        self.flush()  # news from before the action reaches the kernel before the action's answer
        handler = _HANDLERS.get(type(action))
        if handler is not None:
            handler(self, action)
        self.flush()

    def _answer(self, answer: object, ok: bool) -> None:
        self.requests += 1
        self.post(answer)
        self.post(m.RequestOutcome(ok, type(answer).__name__))

    def _send(self, action: m.SendOrder) -> None:
        spec = action.spec
        req = OrderRequest(ticker=spec.ticker, side=_BOOK_SIDE[spec.side], price=spec.price, count=spec.count,
                           time_in_force=TimeInForce(spec.time_in_force),
                           self_trade_prevention=SelfTradePrevention(spec.self_trade_prevention),
                           client_order_id=spec.client_order_id, expiration_time_s=spec.expiration_time_s,
                           post_only=spec.post_only, reduce_only=spec.reduce_only,
                           cancel_order_on_pause=spec.cancel_order_on_pause, order_group_id=spec.order_group_id)
        try:
            order = self.exchange.create_order(self.account_id, req)
        except ExchangeError as exc:
            self.refusals += 1
            self._answer(m.OrderAnswer(spec.client_order_id, None, "rejected", exc.code, exc.message, exc.status),
                         True)
        else:
            result = r.CreateOrderResult(order_id=order.order_id, fill_count=order.fill_count,
                                         remaining_count=order.remaining_count,
                                         client_order_id=order.client_order_id, ts_ms=order.created_time_ms)
            self._answer(m.OrderAnswer(spec.client_order_id, result, "accepted"), True)  # before its fills, as over REST

    def _cancel(self, action: m.CancelOrderAction) -> None:
        try:
            _, reduced = self.exchange.cancel_order(self.account_id, action.order_id)
        except ExchangeError as exc:
            self._answer(m.CancelAnswer(action.client_order_id, False, None, str(exc), gone=True), True)
        else:
            self._answer(m.CancelAnswer(action.client_order_id, True, reduced), True)

    def _amend(self, action: m.AmendOrderAction) -> None:
        try:
            order = self.exchange.amend_order(self.account_id, action.order_id, ticker=action.ticker,
                                              side=_BOOK_SIDE[action.side], price=action.price, count=action.count)
        except ExchangeError as exc:
            self._answer(m.AmendAnswer(action.client_order_id, False, message=str(exc)), True)
        else:
            self._answer(m.AmendAnswer(action.client_order_id, True, action.price, action.count, order.fill_count,
                                       order.remaining_count), True)

    def _cancel_all(self, action: m.CancelAllAction) -> None:
        self.exchange.cancel_all(self.account_id)
        self._answer(m.CancelAllAnswer(True, action.reason), True)

    def _load(self, action: m.LoadMarkets) -> None:
        ex = self.exchange
        if action.tickers is None:
            tickers = [t for t, mk in ex.markets.items() if mk.status is MarketStatus.ACTIVE][:action.limit]
        else:
            tickers = list(action.tickers)
        self.post(self.markets_loaded(tickers))

    def _reconcile(self, action: m.ReconcileAction) -> None:
        ex, acct = self.exchange, self.account_id
        resting = [rest_order(o) for o in ex.live_orders(account_id=acct)]
        at_venue = {o.order_id for o in resting}
        looked: list[tuple[str, r.Order | None]] = []
        for u in action.unknown:
            found = ex.order_by_client_id(acct, u.client_order_id)
            looked.append((u.client_order_id, None if found is None else rest_order(found)))
        for o in action.open:
            if o.order_id in at_venue:
                continue
            found = ex.orders.get(o.order_id) if o.order_id else ex.order_by_client_id(acct, o.client_order_id)
            if found is not None and found.account_id == acct:
                looked.append((o.client_order_id, rest_order(found)))
        since = action.fills_since_s or 0
        fills = tuple(f for f in self.fills if (f.ts or 0) >= since)
        self.post(m.ReconcileResult(action.pass_id, action.reason, True, tuple(resting), tuple(looked), fills,
                                    self.positions()))

    def positions(self) -> tuple[r.MarketPosition, ...]:
        account = self.exchange.accounts[self.account_id]
        return tuple(r.MarketPosition(ticker=p.ticker, position=p.position, market_exposure=p.position_cost,
                                      realized_pnl=p.realized_pnl, fees_paid=p.fees_paid)
                     for p in account.positions.values() if not p.settled)

    def _flatten(self, action: m.FlattenFetch) -> None:
        held = {p.ticker: p.position for p in self.positions() if p.position}
        wanted = [t for t in (action.tickers or tuple(held)) if held.get(t)]
        now = self.exchange.clock.now_ms()
        self.post(m.FlattenBooks(action.round_no, True, held, {t: self.snapshot(t, now) for t in wanted}))

    def _balance(self, _: m.FetchBalance) -> None:
        self.post(m.BalanceLoaded(self.exchange.accounts[self.account_id].available))

    def _group(self, action: m.EnsureOrderGroup) -> None:
        try:
            group = self.exchange.create_order_group(self.account_id, action.contracts_limit)
        except ExchangeError as exc:
            self.post(m.OrderGroupReady(None, str(exc)))
        else:
            self.post(m.OrderGroupReady(group.order_group_id))


_HANDLERS: dict[type, Callable[[InProcessVenue, Any], None]] = {
    m.SendOrder: InProcessVenue._send,
    m.CancelOrderAction: InProcessVenue._cancel,
    m.AmendOrderAction: InProcessVenue._amend,
    m.CancelAllAction: InProcessVenue._cancel_all,
    m.LoadMarkets: InProcessVenue._load,
    m.ReconcileAction: InProcessVenue._reconcile,
    m.FlattenFetch: InProcessVenue._flatten,
    m.FetchBalance: InProcessVenue._balance,
    m.EnsureOrderGroup: InProcessVenue._group,
}
