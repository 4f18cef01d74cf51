"""The io thread: one asyncio loop running the venue clients for the kernel.

- The Kalshi WebSocket client (`KalshiWs`) feeds the kernel's inbox directly: order books
  (`orderbook_delta`), our `fill`s, `user_orders`, `market_positions`, `market_lifecycle_v2` and
  `order_group_updates`, plus the client's own feed events (gaps, reconnects, silence). Decoding
  happens here, on this thread; the kernel gets typed events.
- Actions from the kernel (`IoThread.submit`, any thread) run as tasks: order creates (the REST
  client reuses the `client_order_id` on every retry and never places an order twice), cancels,
  amends, cancel-all, market loads, reconciliation reads, flatten reads, balance, the bot order group.
  Each posts one result back to the kernel inbox, plus a `RequestOutcome` for the venue-error breaker.
- Nothing here decides anything: a failure is reported as what it is (rejected: the venue did not
  act; unknown: it may have) and the kernel takes it from there.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable
from fractions import Fraction
from typing import Any

from console.domain.fees import KalshiFees
from console.engine import messages as m
from console.engine.fastlane import DirectLane, FastLane, NotSent, Sent, Unclear
from console.venues.errors import (
    AuthError,
    NotFound,
    OrderRejected,
    OutcomeUnknown,
    RateLimited,
    VenueError,
)
from console.venues.kalshi import codec_rest as r

log = logging.getLogger(__name__)

PRIVATE_CHANNELS = ("fill", "user_orders", "market_positions", "market_lifecycle_v2", "order_group_updates")
BOOKS_PER_REQUEST = 100


class IoThread:
    """Owns the asyncio loop, the REST client and the WebSocket client (see the module docstring).

    `make_rest()` and `make_ws(sink)` build the clients inside the loop (so their sessions belong to it).
    """

    def __init__(self, make_rest: Callable[[], Any], make_ws: Callable[[Callable[[object], None]], Any] | None,
                 post: Callable[[object], None], *, name: str = "edgedesk-io", fast_orders: bool = True,
                 order_timeout_s: float = 5.0) -> None:
        self.make_rest = make_rest
        self.fast_orders = fast_orders
        self.fastlane: FastLane | None = None
        self.direct: DirectLane | None = None  # creates written by the kernel thread itself (plain HTTP)
        self.order_timeout_s = order_timeout_s
        self.make_ws = make_ws
        self.post = post
        self.name = name
        self.rest: Any = None
        self.ws: Any = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._stop: asyncio.Event | None = None
        self.trade_tape = False  # also subscribe the public `trade` channel of watched markets (paper fills)
        self._events: dict[str, r.Event] = {}
        self._series: dict[str, r.Series] = {}

    # --- lifecycle (called from other threads) -----------------------------------------------------
    def start(self, timeout_s: float = 15.0) -> None:
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout_s):
            raise VenueError(f"the venue connection was not up within {timeout_s:g} s")
        if self._error is not None:
            raise self._error

    def stop(self, timeout_s: float = 5.0) -> None:
        loop, stop = self.loop, self._stop
        if loop is not None and stop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(stop.set)
        if self._thread is not None:
            self._thread.join(timeout_s)

    def submit(self, action: object) -> None:
        """Run an action on the io loop (thread-safe, never blocks). An order create is written on the
        spot by the calling thread when the direct lane is ready (fastlane.DirectLane); its answer is
        read on the io loop like any other."""
        loop = self.loop
        if loop is None or loop.is_closed():
            log.warning("io thread not running; dropped %r", action)
            return
        direct = self.direct
        if direct is not None and type(action) is m.SendOrder:
            sent = direct.try_send(action.spec)
            if sent is not None:
                loop.call_soon_threadsafe(self._spawn_sent, action, sent)
                return
        loop.call_soon_threadsafe(self._spawn, action)

    def run_background(self, make_coro: Callable[[], Any]) -> None:
        """Run a long-lived coroutine (`make_coro()`, e.g. the model runner) on the io loop (thread-safe);
        it is cancelled when the io thread stops."""
        loop = self.loop
        if loop is None or loop.is_closed():
            log.warning("io thread not running; background job %r not started", make_coro)
            return
        loop.call_soon_threadsafe(self._track, make_coro)

    def _track(self, make_coro: Callable[[], Any]) -> None:
        task = asyncio.get_running_loop().create_task(make_coro())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def last_feed_mono(self) -> float | None:
        """time.monotonic() of the last WebSocket message (for the watchdog)."""
        return getattr(getattr(self.ws, "stats", None), "last_message_at", None)

    # --- the loop ---------------------------------------------------------------------------------
    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:
            if not self._ready.is_set():
                self._error = exc
                self._ready.set()
            else:
                log.exception("io thread ended with an error")

    async def _main(self) -> None:
        self.loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        try:
            self.rest = self.make_rest()
            with contextlib.suppress(VenueError):
                await self.rest.configure_rate_limits()
            if self.fast_orders:
                self.fastlane = FastLane(self.rest, self.order_timeout_s)
                direct = DirectLane(self.rest, self.loop, self.order_timeout_s)
                if direct.usable:
                    self._keep(direct.run())
                    self.direct = direct
            if self.make_ws is not None:
                self.ws = self.make_ws(self.post)
                await self.ws.start()
                for channel in PRIVATE_CHANNELS:
                    await self.ws.subscribe(channel)
        except BaseException as exc:  # noqa: BLE001 - handed to start(), which raises it in the caller's thread
            self._error = exc
            self._ready.set()
            await self._close()
            return
        self._ready.set()
        await self._stop.wait()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._close()

    async def _close(self) -> None:
        if self.direct is not None:
            self.direct.close()
        if self.fastlane is not None:
            await self.fastlane.close()
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await self.ws.close()
        if self.rest is not None:
            with contextlib.suppress(Exception):
                await self.rest.aclose()

    def _spawn(self, action: object) -> None:
        handler = _HANDLERS.get(type(action))
        if handler is None:
            log.warning("io: no handler for %r", action)
            return
        self._keep(handler(self, action))

    def _keep(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _spawn_sent(self, action: m.SendOrder, written: Sent) -> None:
        # no refill here: while the venue works on this create, the machine's cores are better left to
        # it; `finish` refills once the answer is in (and `DirectLane.run` every 0.2 s)
        self._keep(self._send(action, written))

    # --- orders -----------------------------------------------------------------------------------
    async def _send(self, action: m.SendOrder, written: Sent | None = None) -> None:
        spec = action.spec
        cid = spec.client_order_id
        sent = written.sent_wall_s if written is not None else time.time()
        try:
            result = await self._create(spec, written)
        except OrderRejected as exc:
            self._answer(m.OrderAnswer(cid, None, "rejected", exc.code, str(exc), exc.status, sent), True)
        except (RateLimited, AuthError) as exc:  # the venue did not act on any attempt
            self._answer(m.OrderAnswer(cid, None, "rejected", exc.code or type(exc).__name__, str(exc), exc.status,
                                       sent), False)
        except asyncio.CancelledError:
            self.post(m.OrderAnswer(cid, None, "unknown", "cancelled", "the desk stopped while sending", 0, sent))
            raise
        except Exception as exc:  # noqa: BLE001 - OutcomeUnknown, transport trouble, a bad answer: fail closed
            code = "outcome_unknown" if isinstance(exc, OutcomeUnknown) else type(exc).__name__
            self._answer(m.OrderAnswer(cid, None, "unknown", code, str(exc), getattr(exc, "status", 0), sent), False)
        else:
            self._answer(m.OrderAnswer(cid, result, "accepted", sent_wall_s=sent), True)

    async def _create(self, spec: Any, written: Sent | None = None) -> r.CreateOrderResult:
        """The fast lane first (see fastlane.py); the REST client for everything it does not settle.
        `written`: the direct lane already wrote this create; only its answer is read here."""
        if written is not None and self.direct is not None:
            try:
                return await self.direct.finish(written)
            except NotSent:
                self.direct.fallbacks += 1  # the venue did not act on it: the REST client's way
            except Unclear as exc:
                self.direct.fallbacks += 1
                return await self._after_unclear(spec, written.sent_wall_s, str(exc))
            return await self.rest.create_order(spec)
        lane = self.fastlane
        if lane is not None:
            sent = time.time()
            try:
                return await lane.create(spec)
            except NotSent:
                lane.fallbacks += 1
            except Unclear as exc:
                lane.fallbacks += 1
                return await self._after_unclear(spec, sent, str(exc))
        return await self.rest.create_order(spec)

    async def _after_unclear(self, spec: Any, sent_wall_s: float, reason: str) -> r.CreateOrderResult:
        """A create that may have been applied: look it up; send it again only if it is conclusively absent."""
        cid = spec.client_order_id
        try:
            if not await self._caught_up(sent_wall_s):
                raise OutcomeUnknown(f"order {cid} unclear ({reason}) and the venue's portfolio view did not catch "
                                     "up", client_order_id=cid)
            found = await self.rest.find_orders_by_client_id(spec.ticker, [cid])
        except OutcomeUnknown:
            raise
        except VenueError as exc:
            raise OutcomeUnknown(f"order {cid} unclear ({reason}); looking it up failed: {exc}",
                                 client_order_id=cid) from exc
        order = found.get(cid)
        if order is not None:
            self.rest.stats.recovered_writes += 1
            return r.CreateOrderResult(order_id=order.order_id, fill_count=order.fill_count,
                                       remaining_count=order.remaining_count, client_order_id=cid)
        self.rest.stats.resent_writes += 1
        return await self.rest.create_order(spec)  # conclusively not placed: the same id again is safe

    def _answer(self, answer: object, ok: bool) -> None:
        self.post(answer)
        self.post(m.RequestOutcome(ok, type(answer).__name__))

    async def _cancel(self, action: m.CancelOrderAction) -> None:
        try:
            result = await self.rest.cancel_order(action.order_id)
        except (NotFound, OrderRejected) as exc:
            self._answer(m.CancelAnswer(action.client_order_id, False, None, str(exc), gone=True), True)
        except Exception as exc:  # noqa: BLE001 - the kernel retries or reconciles
            self._answer(m.CancelAnswer(action.client_order_id, False, None, str(exc)), False)
        else:
            self._answer(m.CancelAnswer(action.client_order_id, True, result.reduced_by), True)

    async def _amend(self, action: m.AmendOrderAction) -> None:
        try:
            result = await self.rest.amend_order(action.order_id, ticker=action.ticker, side=action.side,
                                                 price=action.price, count=action.count)
        except (NotFound, OrderRejected) as exc:
            self._answer(m.AmendAnswer(action.client_order_id, False, message=str(exc)), True)
        except Exception as exc:  # noqa: BLE001
            self._answer(m.AmendAnswer(action.client_order_id, False, message=str(exc)), False)
        else:
            self._answer(m.AmendAnswer(action.client_order_id, True, action.price, action.count, result.fill_count,
                                       result.remaining_count), True)

    async def _cancel_all(self, action: m.CancelAllAction) -> None:
        try:
            await self.rest.cancel_all()
        except Exception as exc:  # noqa: BLE001
            self._answer(m.CancelAllAnswer(False, action.reason, str(exc)), False)
        else:
            self._answer(m.CancelAllAnswer(True, action.reason), True)

    # --- reads ------------------------------------------------------------------------------------
    async def _load_markets(self, action: m.LoadMarkets) -> None:
        rest = self.rest
        metas: list[m.MarketMeta] = []
        missing: list[str] = []
        message = ""
        try:
            if action.tickers is None:
                markets = []
                async for market in rest.iter_markets(status="open", limit=min(1000, action.limit)):
                    markets.append(market)
                    if len(markets) >= action.limit:
                        break
            else:
                markets = []
                for ticker in action.tickers:
                    try:
                        markets.append(await rest.get_market(ticker))
                    except NotFound:
                        missing.append(ticker)
            for market in markets:
                metas.append(await self._meta(market))
        except Exception as exc:  # noqa: BLE001 - reported; the kernel trades only markets it knows
            message = str(exc)
            log.warning("io: loading markets failed: %s", exc)
        self.post(m.MarketsLoaded(tuple(metas), tuple(missing), message))
        if action.subscribe and metas and self.ws is not None:
            try:
                await self.ws.subscribe("orderbook_delta", [meta.ticker for meta in metas])
                if self.trade_tape:
                    await self.ws.subscribe("trade", [meta.ticker for meta in metas])
            except Exception as exc:  # noqa: BLE001
                log.warning("io: subscribing books failed: %s", exc)

    async def _meta(self, market: r.Market) -> m.MarketMeta:
        event = self._events.get(market.event_ticker)
        if event is None:
            event = self._events[market.event_ticker] = (await self.rest.get_event(market.event_ticker)).event
        series = self._series.get(event.series_ticker)
        if series is None:
            series = self._series[event.series_ticker] = await self.rest.get_series(event.series_ticker)
        fees = KalshiFees.resolve(series.fee_type, Fraction(series.fee_multiplier), event.fee_type_override,
                                  None if event.fee_multiplier_override is None else Fraction(event.fee_multiplier_override))
        return m.MarketMeta(market.ticker, market.event_ticker, market.title or market.ticker, series.category or "",
                            market.status, market.grid(), fees, bool(event.mutually_exclusive),
                            int(market.close_time.timestamp()))

    async def _caught_up(self, sent_wall_s: float, wait_s: float = 5.0) -> bool:
        rest = self.rest
        target_ms = sent_wall_s * 1000 + (rest.stats.skew_ms or 0) + rest.portfolio_lag_margin_ms
        deadline = time.monotonic() + wait_s
        while True:
            as_of = (await rest.get_user_data_timestamp()).as_of_time.timestamp() * 1000
            if as_of >= target_ms:
                return True
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(0.1)

    async def _reconcile(self, action: m.ReconcileAction) -> None:
        rest = self.rest
        try:
            resting = [o async for o in rest.iter_orders(status="resting")]
            at_venue = {o.order_id for o in resting}
            looked_up: list[tuple[str, r.Order | None]] = []
            for u in action.unknown:
                try:
                    if not await self._caught_up(u.sent_wall_s):
                        continue  # the venue's view is behind: settle it on a later pass
                    found = await rest.find_orders_by_client_id(u.ticker, [u.client_order_id])
                except VenueError as exc:
                    log.info("io: lookup of %s failed: %s", u.client_order_id, exc)
                    continue
                looked_up.append((u.client_order_id, found.get(u.client_order_id)))
            for o in action.open:
                if o.order_id in at_venue:
                    continue
                try:
                    if o.order_id:
                        looked_up.append((o.client_order_id, await rest.get_order(o.order_id)))
                    else:
                        found = await rest.find_orders_by_client_id(o.ticker, [o.client_order_id])
                        if o.client_order_id in found:
                            looked_up.append((o.client_order_id, found[o.client_order_id]))
                except VenueError as exc:
                    log.info("io: reading order %s failed: %s", o.client_order_id, exc)
            fills = [f async for f in rest.iter_fills(min_ts=action.fills_since_s or None)]
            positions = [p async for p in rest.iter_positions()]
            # after the positions: a payout between the two reads shows as a settlement, never as a lost position
            settlements = [] if action.settlements_since_s is None else \
                [s async for s in rest.iter_settlements(min_ts=action.settlements_since_s or None)]
            results: list[tuple[str, str, int | None]] = []
            for start in range(0, len(action.resolve), BOOKS_PER_REQUEST):
                async for market in rest.iter_markets(tickers=action.resolve[start:start + BOOKS_PER_REQUEST]):
                    if market.status in ("finalized", "settled") and market.result in ("yes", "no"):
                        results.append((market.ticker, market.result, market.settlement_value))
        except Exception as exc:  # noqa: BLE001 - the kernel retries the pass
            self.post(m.ReconcileResult(action.pass_id, action.reason, False, message=str(exc)))
            return
        self.post(m.ReconcileResult(action.pass_id, action.reason, True, tuple(resting), tuple(looked_up),
                                    tuple(fills), tuple(positions), settlements=tuple(settlements),
                                    results=tuple(results)))

    async def _flatten_fetch(self, action: m.FlattenFetch) -> None:
        rest = self.rest
        try:
            positions = {p.ticker: p.position async for p in rest.iter_positions() if p.position}
            wanted = [t for t in (action.tickers or tuple(positions)) if positions.get(t)]
            books = {}
            for start in range(0, len(wanted), BOOKS_PER_REQUEST):
                books.update(await rest.get_orderbooks(wanted[start:start + BOOKS_PER_REQUEST]))
        except Exception as exc:  # noqa: BLE001
            self.post(m.FlattenBooks(action.round_no, False, message=str(exc)))
            return
        self.post(m.FlattenBooks(action.round_no, True, positions, books))

    async def _balance(self, _: m.FetchBalance) -> None:
        try:
            balance = await self.rest.get_balance()
        except Exception as exc:  # noqa: BLE001
            log.info("io: balance read failed: %s", exc)
            return
        self.post(m.BalanceLoaded(balance.balance))

    async def _group(self, action: m.EnsureOrderGroup) -> None:
        try:
            created = await self.rest.create_order_group(action.contracts_limit)
        except Exception as exc:  # noqa: BLE001
            self.post(m.OrderGroupReady(None, str(exc)))
            return
        self.post(m.OrderGroupReady(created.order_group_id))


_HANDLERS: dict[type, Callable[[IoThread, Any], Any]] = {
    m.SendOrder: IoThread._send,
    m.CancelOrderAction: IoThread._cancel,
    m.AmendOrderAction: IoThread._amend,
    m.CancelAllAction: IoThread._cancel_all,
    m.LoadMarkets: IoThread._load_markets,
    m.ReconcileAction: IoThread._reconcile,
    m.FlattenFetch: IoThread._flatten_fetch,
    m.FetchBalance: IoThread._balance,
    m.EnsureOrderGroup: IoThread._group,
}
