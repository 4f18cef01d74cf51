"""The simulator's Kalshi Trade API v2 REST surface: routes under `/trade-api/v2`.

`setup_kalshi_routes(app)` registers everything. This module holds the public market-data
endpoints (exchange, series, events, markets, order books, trades, candlesticks); the private
endpoints live in `kalshi_portfolio` (reads), `kalshi_orders` (V2 order writes, the retired v1
mutations, account limits) and `kalshi_groups` (order groups). Shapes: reference section 6,
serialised by `kalshi_json`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from console.sim import kalshi_groups, kalshi_orders, kalshi_portfolio
from console.sim import kalshi_json as kj
from console.sim.kalshi_index import market_trades
from console.sim.kalshi_params import (
    paginate,
    q_bool,
    q_choice,
    q_int,
    q_list,
    q_str,
    query_error,
)
from console.sim.model import Candle, ExchangeError, Market, MarketStatus
from console.sim.state import API_PREFIX, STATE

if TYPE_CHECKING:
    from console.sim.exchange import Exchange

#: `status` query values for markets and events, and the market statuses each one selects
STATUS_FILTERS: dict[str, frozenset[MarketStatus]] = {
    "unopened": frozenset({MarketStatus.INITIALIZED}),
    # Kalshi counts paused (inactive) markets as open during trading hours (changelog 2025-11)
    "open": frozenset({MarketStatus.ACTIVE, MarketStatus.INACTIVE}),
    "paused": frozenset({MarketStatus.INACTIVE}),
    "closed": frozenset({MarketStatus.CLOSED, MarketStatus.DETERMINED, MarketStatus.DISPUTED,
                         MarketStatus.AMENDED}),
    "settled": frozenset({MarketStatus.FINALIZED}),
}
EVENT_STATUSES = ("unopened", "open", "closed", "settled")
CANDLE_PERIODS = (1, 60, 1440)
MAX_CANDLES_PER_REQUEST = 10_000

#: timestamp filter pairs of GET /markets and the `status` values each may be combined with
_TS_PAIRS: dict[str, tuple[str, ...]] = {
    "created": ("unopened", "open"),
    "close": ("closed",),
    "settled": ("settled",),
    "updated": (),
}


def exchange_of(request: web.Request) -> Exchange:
    return request.app[STATE].exchange


def market_or_404(exchange: Exchange, ticker: str) -> Market:
    market = exchange.markets.get(ticker)
    if market is None:
        raise ExchangeError(404, "market_not_found", "market not found", f"no market with ticker {ticker!r}")
    return market


# --- exchange -----------------------------------------------------------------------------------


async def exchange_status(request: web.Request) -> web.Response:
    ex = exchange_of(request)
    exchange_active = not ex.exchange_paused
    trading_active = exchange_active and not ex.trading_paused
    shards = [
        {"exchange_index": i, "description": name, "exchange_active": exchange_active,
         "trading_active": trading_active, "intra_exchange_transfers_active": exchange_active}
        for i, name in enumerate(("default", "exotics", "crypto", "sports"))
    ]
    return web.json_response({
        "exchange_active": exchange_active,
        "trading_active": trading_active,
        "intra_exchange_transfers_active": exchange_active,
        "exchange_index_statuses": shards,
    })


async def exchange_schedule(request: web.Request) -> web.Response:
    # the simulator trades around the clock: one all-day session every day, no maintenance windows
    day = [{"open_time": "00:00", "close_time": "23:59"}]
    week: dict[str, Any] = {"start_time": "2020-01-01T00:00:00Z", "end_time": "2100-01-01T00:00:00Z"}
    for name in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"):
        week[name] = list(day)
    return web.json_response({"schedule": {"standard_hours": [week], "maintenance_windows": []}})


async def user_data_timestamp(request: web.Request) -> web.Response:
    # the simulator's portfolio reads never lag the engine
    return web.json_response({"as_of_time": kj.rfc3339(request.app[STATE].clock.now_ms())})


# --- series and events --------------------------------------------------------------------------


async def list_series(request: web.Request) -> web.Response:
    ex = exchange_of(request)
    category = q_str(request, "category")
    tags = set(q_list(request, "tags"))
    out = [
        kj.series_json(s) for s in ex.series.values()
        if (category is None or s.category == category) and (not tags or tags & set(s.tags))
    ]
    return web.json_response({"series": out})


async def get_series(request: web.Request) -> web.Response:
    ticker = request.match_info["series_ticker"]
    series = exchange_of(request).series.get(ticker)
    if series is None:
        raise ExchangeError(404, "series_not_found", "series not found", f"no series with ticker {ticker!r}")
    return web.json_response({"series": kj.series_json(series)})


def _event_statuses(ex: Exchange) -> dict[str, set[MarketStatus]]:
    statuses: dict[str, set[MarketStatus]] = {}
    for market in ex.markets.values():
        statuses.setdefault(market.event_ticker, set()).add(market.status)
    return statuses


async def list_events(request: web.Request) -> web.Response:
    ex = exchange_of(request)
    status = q_choice(request, "status", EVENT_STATUSES)
    series_ticker = q_str(request, "series_ticker")
    tickers = set(q_list(request, "tickers"))
    nested = q_bool(request, "with_nested_markets")
    min_close_ts = q_int(request, "min_close_ts")
    by_event = _event_statuses(ex)
    close_by_event: dict[str, int] = {}
    for market in ex.markets.values():
        close_by_event[market.event_ticker] = max(close_by_event.get(market.event_ticker, 0), market.close_time_ms)

    def keep(event: Any) -> bool:
        if series_ticker is not None and event.series_ticker != series_ticker:
            return False
        if tickers and event.event_ticker not in tickers:
            return False
        if status is not None and not (by_event.get(event.event_ticker, set()) & STATUS_FILTERS[status]):
            return False
        if min_close_ts is not None and close_by_event.get(event.event_ticker, 0) // 1000 < min_close_ts:
            return False
        return True

    page, cursor = paginate(enumerate(ex.events.values()), request, default_limit=200, max_limit=200,
                            newest_first=False, keep=keep)
    events = [kj.event_json(e, ex, with_markets=nested) for e in page]
    return web.json_response({"events": events, "cursor": cursor})


async def get_event(request: web.Request) -> web.Response:
    ex = exchange_of(request)
    event_ticker = request.match_info["event_ticker"]
    event = ex.events.get(event_ticker)
    if event is None:
        raise ExchangeError(404, "event_not_found", "event not found", f"no event with ticker {event_ticker!r}")
    nested = q_bool(request, "with_nested_markets")
    markets = [kj.market_json(m, ex) for m in kj.markets_of_event(ex, event_ticker)]
    return web.json_response({"event": kj.event_json(event, ex, with_markets=nested), "markets": markets})


# --- markets ------------------------------------------------------------------------------------


def _timestamp_filters(request: web.Request, status: str | None) -> list[tuple[str, int | None, int | None]]:
    """The one timestamp pair in use (validated against `status`, reference 6.2 table)."""
    used = []
    for name in _TS_PAIRS:
        lo, hi = q_int(request, f"min_{name}_ts"), q_int(request, f"max_{name}_ts")
        if lo is not None or hi is not None:
            used.append((name, lo, hi))
    if len(used) > 1:
        raise query_error("use at most one timestamp filter pair (created, close, settled or updated) per request")
    if used:
        name = used[0][0]
        if status is not None and status not in _TS_PAIRS[name]:
            allowed = " or ".join(_TS_PAIRS[name]) or "no status"
            raise query_error(f"min/max_{name}_ts can only be combined with status {allowed}, not {status!r}")
        if name == "updated":
            if q_str(request, "mve_filter") != "exclude":
                raise query_error("min/max_updated_ts requires mve_filter=exclude")
            if q_str(request, "event_ticker") is not None or q_list(request, "tickers"):
                raise query_error("min/max_updated_ts cannot be combined with event_ticker or tickers")
    return used


def _market_time_s(market: Market, name: str) -> int | None:
    ms = {
        "created": market.created_time_ms,
        "close": market.close_time_ms,
        "settled": market.settlement_time_ms,
        "updated": market.updated_time_ms or market.created_time_ms,
    }[name]
    return None if ms is None else ms // 1000


async def list_markets(request: web.Request) -> web.Response:
    ex = exchange_of(request)
    status = q_choice(request, "status", STATUS_FILTERS)
    series_ticker = q_str(request, "series_ticker")
    event_ticker = q_str(request, "event_ticker")
    tickers = set(q_list(request, "tickers"))
    mve_filter = q_choice(request, "mve_filter", ("only", "exclude"))
    ts_filters = _timestamp_filters(request, status)
    wanted = STATUS_FILTERS[status] if status is not None else None

    def keep(market: Market) -> bool:
        if mve_filter == "only":  # the simulator lists no multivariate (combo) markets
            return False
        if wanted is not None and market.status not in wanted:
            return False
        if series_ticker is not None and market.series_ticker != series_ticker:
            return False
        if event_ticker is not None and market.event_ticker != event_ticker:
            return False
        if tickers and market.ticker not in tickers:
            return False
        for name, lo, hi in ts_filters:
            ts = _market_time_s(market, name)
            if ts is None or (lo is not None and ts < lo) or (hi is not None and ts > hi):
                return False
        return True

    page, cursor = paginate(enumerate(ex.markets.values()), request, default_limit=100, max_limit=1000,
                            newest_first=False, keep=keep)
    return web.json_response({"markets": [kj.market_json(m, ex) for m in page], "cursor": cursor})


async def get_market(request: web.Request) -> web.Response:
    ex = exchange_of(request)
    market = market_or_404(ex, request.match_info["ticker"])
    return web.json_response({"market": kj.market_json(market, ex)})


def _depth(request: web.Request) -> int:
    depth = q_int(request, "depth", 0, hi=100)
    assert depth is not None
    return max(depth, 0)  # 0 or negative: every level


async def get_orderbook(request: web.Request) -> web.Response:
    ex = exchange_of(request)
    market = market_or_404(ex, request.match_info["ticker"])
    return web.json_response({"orderbook_fp": kj.book_side_levels(ex, market.ticker, _depth(request))})


async def get_orderbooks(request: web.Request) -> web.Response:
    ex = exchange_of(request)
    tickers = q_list(request, "tickers")
    if not tickers:
        raise ExchangeError(400, "missing_parameters", "missing parameters", "tickers is required (1..100)")
    if len(tickers) > 100:
        raise query_error(f"tickers: {len(tickers)} given, at most 100 per request")
    depth = _depth(request)
    books = [
        {"ticker": market_or_404(ex, t).ticker, "orderbook_fp": kj.book_side_levels(ex, t, depth)}
        for t in tickers
    ]
    return web.json_response({"orderbooks": books})


async def list_trades(request: web.Request) -> web.Response:
    ex = exchange_of(request)
    ticker = q_str(request, "ticker")
    min_ts, max_ts = q_int(request, "min_ts"), q_int(request, "max_ts")
    block = q_str(request, "is_block_trade")
    want_block = q_bool(request, "is_block_trade") if block is not None else None

    def keep(trade: Any) -> bool:
        ts = trade.created_time_ms // 1000
        return (
            (ticker is None or trade.ticker == ticker)
            and (min_ts is None or ts >= min_ts)
            and (max_ts is None or ts <= max_ts)
            and (want_block is None or trade.is_block_trade == want_block)
        )

    source = market_trades(request, ex, ticker) if ticker is not None else enumerate(ex.trades)
    page, cursor = paginate(source, request, default_limit=100, max_limit=1000, newest_first=True, keep=keep)
    return web.json_response({"trades": [kj.trade_json(t) for t in page], "cursor": cursor})


# --- candlesticks -------------------------------------------------------------------------------


def _candle_window(request: web.Request) -> tuple[int, int, int]:
    missing = [n for n in ("start_ts", "end_ts", "period_interval") if q_str(request, n) is None]
    if missing:
        raise ExchangeError(400, "missing_parameters", "missing parameters", f"{', '.join(missing)} required")
    start_ts, end_ts = q_int(request, "start_ts"), q_int(request, "end_ts")
    period = q_int(request, "period_interval")
    assert start_ts is not None and end_ts is not None and period is not None
    if period not in CANDLE_PERIODS:
        raise query_error(f"period_interval={period}: expected 1, 60 or 1440 (minutes)")
    if end_ts < start_ts:
        raise query_error("end_ts must not be before start_ts")
    if (end_ts - start_ts) // (period * 60) + 1 > MAX_CANDLES_PER_REQUEST:
        raise query_error(f"at most {MAX_CANDLES_PER_REQUEST} candles per request; narrow start_ts..end_ts")
    return start_ts, end_ts, period


def _candles(request: web.Request, ex: Exchange, ticker: str, window: tuple[int, int, int]) -> list[dict[str, Any]]:
    start_ts, end_ts, period = window
    candles = [kj.candle_json(c) for c in ex.candles(ticker, start_ts, end_ts, period)]
    if q_bool(request, "include_latest_before_start"):
        # a synthetic candle before the window: no OHLC, `previous` = the last trade before start_ts
        earlier = (t for _, t in reversed(market_trades(request, ex, ticker)) if t.created_time_ms // 1000 < start_ts)
        previous = next((t.yes_price for t in earlier), None)
        synthetic = kj.candle_json(Candle(
            end_period_ts=start_ts - 1, yes_bid=None, yes_ask=None,
            price={"previous": previous}, volume=0, open_interest=0,
        ))
        candles.insert(0, synthetic)
    return candles


async def market_candlesticks(request: web.Request) -> web.Response:
    ex = exchange_of(request)
    market = market_or_404(ex, request.match_info["ticker"])
    if market.series_ticker != request.match_info["series_ticker"]:
        raise ExchangeError(404, "market_not_found", "market not found",
                            f"{market.ticker} is in series {market.series_ticker!r}")
    candles = _candles(request, ex, market.ticker, _candle_window(request))
    return web.json_response({"ticker": market.ticker, "candlesticks": candles})


async def batch_candlesticks(request: web.Request) -> web.Response:
    ex = exchange_of(request)
    tickers = q_list(request, "market_tickers")
    if not tickers:
        raise ExchangeError(400, "missing_parameters", "missing parameters", "market_tickers is required")
    if len(tickers) > 100:
        raise query_error(f"market_tickers: {len(tickers)} given, at most 100")
    window = _candle_window(request)
    start_ts, end_ts, period = window
    if len(tickers) * ((end_ts - start_ts) // (period * 60) + 1) > MAX_CANDLES_PER_REQUEST:
        raise query_error(f"at most {MAX_CANDLES_PER_REQUEST} candles in total; "
                          "ask for fewer markets or a shorter range")
    markets = [
        {"market_ticker": t, "candlesticks": _candles(request, ex, market_or_404(ex, t).ticker, window)}
        for t in tickers
    ]
    return web.json_response({"markets": markets})


# --- wiring -------------------------------------------------------------------------------------


def setup_kalshi_routes(app: web.Application) -> None:
    """Register every Kalshi REST route under /trade-api/v2."""
    p = API_PREFIX
    app.router.add_get(f"{p}/exchange/status", exchange_status)
    app.router.add_get(f"{p}/exchange/schedule", exchange_schedule)
    app.router.add_get(f"{p}/exchange/user_data_timestamp", user_data_timestamp)
    app.router.add_get(f"{p}/series", list_series)
    app.router.add_get(f"{p}/series/{{series_ticker}}", get_series)
    app.router.add_get(f"{p}/series/{{series_ticker}}/markets/{{ticker}}/candlesticks", market_candlesticks)
    app.router.add_get(f"{p}/events", list_events)
    app.router.add_get(f"{p}/events/{{event_ticker}}", get_event)
    app.router.add_get(f"{p}/markets", list_markets)
    # fixed paths before /markets/{ticker} so they are not read as tickers
    app.router.add_get(f"{p}/markets/trades", list_trades)
    app.router.add_get(f"{p}/markets/orderbooks", get_orderbooks)
    app.router.add_get(f"{p}/markets/candlesticks", batch_candlesticks)
    app.router.add_get(f"{p}/markets/{{ticker}}", get_market)
    app.router.add_get(f"{p}/markets/{{ticker}}/orderbook", get_orderbook)
    kalshi_portfolio.setup_routes(app)
    kalshi_orders.setup_routes(app)
    kalshi_groups.setup_routes(app)
