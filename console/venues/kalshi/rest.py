"""Async Kalshi REST client: every endpoint the desk uses, decoded into desk units.

    async with KalshiRest(base_url, signer) as api:
        await api.configure_rate_limits()              # size the buckets from the account's own limits
        async for market in api.iter_markets(status="open"):
            ...
        book = await api.get_orderbook("KX-A")           # YES-scale BookSnapshot
        result = await api.create_order(OrderSpec(ticker="KX-A", side=Side.BID, price=5600, count=1000))

Reads are retried on 429, 5xx and transport errors (see `http.KalshiHttp`). Order writes are made safe
to retry in `rest_writes.OrderWrites`: a create always carries a `client_order_id`, and after a 5xx or
a lost response the client looks that id up before it sends again, so an order the venue accepted is
never placed twice. List endpoints have `get_*` (one page, with its cursor) and `iter_*` (every page).
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Sequence
from typing import Any, TypeVar

import httpx

from console.venues.errors import DecodeError
from console.venues.events import BookSnapshot
from console.venues.kalshi import codec
from console.venues.kalshi import codec_rest as r
from console.venues.kalshi.auth import Signer
from console.venues.kalshi.http import KalshiHttp, RetryPolicy
from console.venues.kalshi.limits import RateBudget
from console.venues.kalshi.rest_writes import OrderWrites

T = TypeVar("T")


def _csv(values: Sequence[str] | str | None) -> str | None:
    if values is None:
        return None
    return values if isinstance(values, str) else ",".join(values)


class KalshiRest(OrderWrites):
    """REST client for one Kalshi host and (optionally) one API key."""

    def __init__(self, base_url: str, signer: Signer | None = None, *, timeout_s: float = 5.0,
                 budget: RateBudget | None = None, policy: RetryPolicy | None = None,
                 rng: random.Random | None = None, transport: httpx.AsyncBaseTransport | None = None,
                 portfolio_lag_margin_ms: int = 1000, freshness_wait_s: float = 5.0,
                 write_attempts: int = 4) -> None:
        self.http = KalshiHttp(base_url, signer, timeout_s=timeout_s, budget=budget, policy=policy, rng=rng,
                               transport=transport)
        self.stats = self.http.stats
        #: how far past the send time the venue's portfolio view must be before "not found" is believed
        self.portfolio_lag_margin_ms = portfolio_lag_margin_ms
        self.freshness_wait_s = freshness_wait_s
        self.write_attempts = write_attempts

    @property
    def base_url(self) -> str:
        return self.http.base_url

    async def aclose(self) -> None:
        await self.http.aclose()

    async def __aenter__(self) -> KalshiRest:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # --- plumbing -------------------------------------------------------------------------------

    def _decode(self, kind: type[T], response: httpx.Response, what: str) -> T:
        try:
            return codec.decode_rest(kind, response.content, what)
        except DecodeError as exc:
            self.stats.decode_errors += 1
            self.stats.last_error = str(exc)
            exc.status = response.status_code
            raise

    async def _get(self, path: str, kind: type[T], params: dict[str, Any] | None = None) -> T:
        response = await self.http.call("GET", path, params=params)
        return self._decode(kind, response, f"GET {path}")

    async def _pages(self, path: str, kind: type[T], params: dict[str, Any]) -> AsyncIterator[T]:
        """Every page of a cursor-paginated list; an empty or absent cursor ends it."""
        params = dict(params)
        while True:
            page = await self._get(path, kind, params)
            yield page
            cursor = getattr(page, "cursor", None)
            if not cursor:
                return
            params["cursor"] = cursor

    # --- account --------------------------------------------------------------------------------

    async def get_account_limits(self) -> r.AccountLimits:
        return await self._get("/account/limits", r.AccountLimits)

    async def get_endpoint_costs(self) -> r.EndpointCosts:
        return await self._get("/account/endpoint_costs", r.EndpointCosts)

    async def configure_rate_limits(self) -> r.AccountLimits:
        """Size the client's Read/Write buckets and costs from this account's own limits."""
        limits = await self.get_account_limits()
        costs = await self.get_endpoint_costs()
        self.http.budget.configure(limits, costs)
        return limits

    # --- exchange, series, events, markets ------------------------------------------------------

    async def get_exchange_status(self) -> r.ExchangeStatus:
        return await self._get("/exchange/status", r.ExchangeStatus)

    async def get_user_data_timestamp(self) -> r.UserDataTimestamp:
        return await self._get("/exchange/user_data_timestamp", r.UserDataTimestamp)

    async def get_series_list(self, *, category: str | None = None, tags: Sequence[str] | None = None) -> list[r.Series]:
        return (await self._get("/series", r.SeriesList, {"category": category, "tags": _csv(tags)})).series

    async def get_series(self, series_ticker: str) -> r.Series:
        return (await self._get(f"/series/{series_ticker}", r.SeriesResponse)).series

    def _event_params(self, status: str | None, series_ticker: str | None, with_nested_markets: bool,
                      limit: int | None, cursor: str | None) -> dict[str, Any]:
        return {"status": status, "series_ticker": series_ticker, "limit": limit, "cursor": cursor,
                "with_nested_markets": with_nested_markets or None}

    async def get_events(self, *, status: str | None = None, series_ticker: str | None = None,
                         with_nested_markets: bool = False, limit: int | None = None,
                         cursor: str | None = None) -> r.EventsPage:
        return await self._get("/events", r.EventsPage,
                               self._event_params(status, series_ticker, with_nested_markets, limit, cursor))

    async def iter_events(self, *, status: str | None = None, series_ticker: str | None = None,
                          with_nested_markets: bool = False, limit: int | None = 200) -> AsyncIterator[r.Event]:
        params = self._event_params(status, series_ticker, with_nested_markets, limit, None)
        async for page in self._pages("/events", r.EventsPage, params):
            for event in page.events:
                yield event

    async def get_event(self, event_ticker: str, *, with_nested_markets: bool = False) -> r.EventResponse:
        return await self._get(f"/events/{event_ticker}", r.EventResponse,
                               {"with_nested_markets": with_nested_markets or None})

    @staticmethod
    def _market_params(status: str | None, event_ticker: str | None, series_ticker: str | None,
                       tickers: Sequence[str] | None, limit: int | None, cursor: str | None,
                       filters: dict[str, int | str | None]) -> dict[str, Any]:
        return {"status": status, "event_ticker": event_ticker, "series_ticker": series_ticker,
                "tickers": _csv(tickers), "limit": limit, "cursor": cursor, **filters}

    async def get_markets(self, *, status: str | None = None, event_ticker: str | None = None,
                          series_ticker: str | None = None, tickers: Sequence[str] | None = None,
                          limit: int | None = None, cursor: str | None = None,
                          **filters: int | str | None) -> r.MarketsPage:
        """One page of `GET /markets`. `filters`: min/max_{created,close,settled,updated}_ts, mve_filter."""
        return await self._get("/markets", r.MarketsPage, self._market_params(
            status, event_ticker, series_ticker, tickers, limit, cursor, filters))

    async def iter_markets(self, *, status: str | None = None, event_ticker: str | None = None,
                           series_ticker: str | None = None, tickers: Sequence[str] | None = None,
                           limit: int | None = 1000, **filters: int | str | None) -> AsyncIterator[r.Market]:
        params = self._market_params(status, event_ticker, series_ticker, tickers, limit, None, filters)
        async for page in self._pages("/markets", r.MarketsPage, params):
            for market in page.markets:
                yield market

    async def get_market(self, ticker: str) -> r.Market:
        return (await self._get(f"/markets/{ticker}", r.MarketResponse)).market

    async def get_orderbook_levels(self, ticker: str, *, depth: int = 0) -> r.OrderbookLevels:
        """The raw `orderbook_fp` (NO side in NO prices), for checks that want the wire view."""
        return (await self._get(f"/markets/{ticker}/orderbook", r.OrderbookResponse,
                                {"depth": depth or None})).orderbook

    async def get_orderbook(self, ticker: str, *, depth: int = 0) -> BookSnapshot:
        """The market's book on the YES scale (bids = YES bids, asks = NO bids at 1 - price)."""
        return codec.rest_book(ticker, await self.get_orderbook_levels(ticker, depth=depth))

    async def get_orderbooks(self, tickers: Sequence[str], *, depth: int = 0) -> dict[str, BookSnapshot]:
        """Several books in one request (up to 100 tickers)."""
        params: dict[str, Any] = {"tickers": list(tickers), "depth": depth or None}
        page = await self._get("/markets/orderbooks", r.OrderbooksResponse, params)
        return {b.ticker: codec.rest_book(b.ticker, b.orderbook) for b in page.orderbooks}

    async def get_trades(self, *, ticker: str | None = None, min_ts: int | None = None, max_ts: int | None = None,
                         limit: int | None = None, cursor: str | None = None) -> r.TradesPage:
        return await self._get("/markets/trades", r.TradesPage,
                               {"ticker": ticker, "min_ts": min_ts, "max_ts": max_ts, "limit": limit, "cursor": cursor})

    async def iter_trades(self, *, ticker: str | None = None, min_ts: int | None = None, max_ts: int | None = None,
                          limit: int | None = 1000) -> AsyncIterator[r.Trade]:
        params = {"ticker": ticker, "min_ts": min_ts, "max_ts": max_ts, "limit": limit}
        async for page in self._pages("/markets/trades", r.TradesPage, params):
            for trade in page.trades:
                yield trade

    async def get_candlesticks(self, series_ticker: str, ticker: str, *, start_ts: int, end_ts: int,
                               period_interval: int = 60) -> list[r.Candle]:
        path = f"/series/{series_ticker}/markets/{ticker}/candlesticks"
        params = {"start_ts": start_ts, "end_ts": end_ts, "period_interval": period_interval}
        return (await self._get(path, r.CandlesResponse, params)).candlesticks

    async def get_batch_candlesticks(self, tickers: Sequence[str], *, start_ts: int, end_ts: int,
                                     period_interval: int = 60) -> dict[str, list[r.Candle]]:
        params = {"market_tickers": _csv(tickers), "start_ts": start_ts, "end_ts": end_ts,
                  "period_interval": period_interval}
        page = await self._get("/markets/candlesticks", r.BatchCandlesResponse, params)
        return {m.market_ticker: m.candlesticks for m in page.markets}

    # --- portfolio ------------------------------------------------------------------------------

    async def get_balance(self) -> r.Balance:
        return await self._get("/portfolio/balance", r.Balance)

    async def get_positions(self, *, ticker: str | None = None, event_ticker: str | None = None,
                            settlement_status: str | None = None, count_filter: str | None = None,
                            limit: int | None = None, cursor: str | None = None) -> r.PositionsPage:
        return await self._get("/portfolio/positions", r.PositionsPage, {
            "ticker": ticker, "event_ticker": event_ticker, "settlement_status": settlement_status,
            "count_filter": count_filter, "limit": limit, "cursor": cursor})

    async def iter_positions(self, *, settlement_status: str | None = None, count_filter: str | None = None,
                             limit: int | None = 1000) -> AsyncIterator[r.MarketPosition]:
        params = {"settlement_status": settlement_status, "count_filter": count_filter, "limit": limit}
        async for page in self._pages("/portfolio/positions", r.PositionsPage, params):
            for position in page.market_positions:
                yield position

    @staticmethod
    def _order_params(ticker: str | None, event_ticker: str | None, status: str | None, min_ts: int | None,
                      max_ts: int | None, limit: int | None, cursor: str | None) -> dict[str, Any]:
        return {"ticker": ticker, "event_ticker": event_ticker, "status": status, "min_ts": min_ts,
                "max_ts": max_ts, "limit": limit, "cursor": cursor}

    async def get_orders(self, *, ticker: str | None = None, event_ticker: str | None = None,
                         status: str | None = None, min_ts: int | None = None, max_ts: int | None = None,
                         limit: int | None = None, cursor: str | None = None) -> r.OrdersPage:
        return await self._get("/portfolio/orders", r.OrdersPage,
                               self._order_params(ticker, event_ticker, status, min_ts, max_ts, limit, cursor))

    async def iter_orders(self, *, ticker: str | None = None, event_ticker: str | None = None,
                          status: str | None = None, min_ts: int | None = None, max_ts: int | None = None,
                          limit: int | None = 1000) -> AsyncIterator[r.Order]:
        params = self._order_params(ticker, event_ticker, status, min_ts, max_ts, limit, None)
        async for page in self._pages("/portfolio/orders", r.OrdersPage, params):
            for order in page.orders:
                yield order

    async def get_order(self, order_id: str) -> r.Order:
        return (await self._get(f"/portfolio/orders/{order_id}", r.OrderResponse)).order

    async def get_queue_position(self, order_id: str) -> int:
        """Count units ahead of the order at its level (0 = first in the queue)."""
        return (await self._get(f"/portfolio/orders/{order_id}/queue_position", r.QueuePosition)).queue_position

    async def get_fills(self, *, ticker: str | None = None, order_id: str | None = None, min_ts: int | None = None,
                        max_ts: int | None = None, limit: int | None = None, cursor: str | None = None) -> r.FillsPage:
        return await self._get("/portfolio/fills", r.FillsPage, {
            "ticker": ticker, "order_id": order_id, "min_ts": min_ts, "max_ts": max_ts, "limit": limit,
            "cursor": cursor})

    async def iter_fills(self, *, ticker: str | None = None, order_id: str | None = None,
                         min_ts: int | None = None, limit: int | None = 1000) -> AsyncIterator[r.Fill]:
        params = {"ticker": ticker, "order_id": order_id, "min_ts": min_ts, "limit": limit}
        async for page in self._pages("/portfolio/fills", r.FillsPage, params):
            for fill in page.fills:
                yield fill

    async def get_settlements(self, *, ticker: str | None = None, event_ticker: str | None = None,
                              limit: int | None = None, cursor: str | None = None) -> r.SettlementsPage:
        return await self._get("/portfolio/settlements", r.SettlementsPage, {
            "ticker": ticker, "event_ticker": event_ticker, "limit": limit, "cursor": cursor})

    async def iter_settlements(self, *, ticker: str | None = None, min_ts: int | None = None,
                               limit: int | None = 1000) -> AsyncIterator[r.Settlement]:
        """Every settlement (newest first), `min_ts`: settled at or after this Unix second only."""
        async for page in self._pages("/portfolio/settlements", r.SettlementsPage,
                                      {"ticker": ticker, "min_ts": min_ts, "limit": limit}):
            for settlement in page.settlements:
                yield settlement

    # --- order groups ---------------------------------------------------------------------------

    async def list_order_groups(self) -> list[r.OrderGroupSummary]:
        return (await self._get("/portfolio/order_groups", r.OrderGroupsList)).order_groups

    async def get_order_group(self, order_group_id: str) -> r.OrderGroupDetail:
        return await self._get(f"/portfolio/order_groups/{order_group_id}", r.OrderGroupDetail)
