"""The simulator's admin surface under `/sim`: accounts, markets, the clock, pauses, health.

Outside Kalshi's namespace and unauthenticated: the server only binds loopback, and this is how the
desk's launcher, the tests and an operator set the world up (docs/sim-admin.md). Bodies are decoded
strictly (unknown fields and wrong JSON types are a flat 400 `bad_request`, like the Kalshi routes);
refusals use Kalshi's `{"error": {...}}` shape. Money is in dollar strings, times in Unix seconds.
"""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from aiohttp import web

from console.domain.fees import FeeType, KalshiFees
from console.domain.grid import STRUCTURES, PriceGrid
from console.domain.units import UnitError, format_money, parse_money, parse_price
from console.sim import kalshi_json as kj
from console.sim.kalshi_params import convert, read_json_object
from console.sim.keys import KEY_TYPES, new_api_key
from console.sim.model import Event, ExchangeError, Market, MarketStatus, Series
from console.sim.ratelimit import TIER_RATES
from console.sim.state import STATE, SimState

ADMIN = "/sim"
DEFAULT_MARKET_LIFETIME_S = 30 * 86_400


class NewAccount(msgspec.Struct, forbid_unknown_fields=True):
    balance_dollars: str = "0"
    key_type: str = "rsa"
    tier: str = "basic"


class Fund(msgspec.Struct, forbid_unknown_fields=True):
    amount_dollars: str


class NewMarket(msgspec.Struct, forbid_unknown_fields=True):
    ticker: str
    event_ticker: str | None = None
    series_ticker: str | None = None
    title: str | None = None
    yes_sub_title: str | None = None
    no_sub_title: str | None = None
    rules_primary: str = ""
    price_level_structure: str = "linear_cent"
    fee_type: str | None = None
    fee_multiplier: str | int | float | None = None
    open_ts: int | None = None
    close_ts: int | None = None
    category: str = "Simulated"
    mutually_exclusive: bool = False
    can_close_early: bool = True
    settlement_timer_seconds: int = 0


class Determine(msgspec.Struct, forbid_unknown_fields=True):
    result: str
    settlement_value_dollars: str | None = None


class CloseTime(msgspec.Struct, forbid_unknown_fields=True):
    close_ts: int


class ClockBody(msgspec.Struct, forbid_unknown_fields=True):
    advance_seconds: int | float


class PauseBody(msgspec.Struct, forbid_unknown_fields=True):
    trading: bool | None = None
    exchange: bool | None = None


def invalid(details: str) -> ExchangeError:
    return ExchangeError(400, "invalid_parameters", "invalid parameters", details)


def _state(request: web.Request) -> SimState:
    return request.app[STATE]


def _money(text: str, name: str) -> int:
    try:
        return parse_money(text)
    except UnitError as exc:
        raise invalid(f"{name}: {exc}") from None


# --- accounts -----------------------------------------------------------------------------------


async def create_account(request: web.Request) -> web.Response:
    state = _state(request)
    body = convert(await read_json_object(request), NewAccount)
    balance = _money(body.balance_dollars, "balance_dollars")
    if balance < 0:
        raise invalid("balance_dollars must not be negative")
    if body.key_type not in KEY_TYPES:
        raise invalid(f"key_type={body.key_type!r}: expected one of {', '.join(KEY_TYPES)}")
    if body.tier not in TIER_RATES:
        raise invalid(f"tier={body.tier!r}: expected one of {', '.join(TIER_RATES)}")
    account_id = str(uuid.uuid4())
    account = state.exchange.create_account(account_id, balance)
    account.tier = body.tier
    api_key_id, pem = new_api_key(state, account_id, body.key_type)
    return web.json_response({"account_id": account_id, "api_key_id": api_key_id,
                              "private_key_pem": pem.decode(), "key_type": body.key_type}, status=201)


async def fund_account(request: web.Request) -> web.Response:
    state = _state(request)
    account_id = request.match_info["account_id"]
    body = convert(await read_json_object(request), Fund)
    if account_id not in state.exchange.accounts:
        raise ExchangeError(404, "user_not_found", "account not found", f"no account {account_id!r}")
    state.exchange.fund(account_id, _money(body.amount_dollars, "amount_dollars"))
    account = state.exchange.accounts[account_id]
    return web.json_response({"account_id": account_id, "balance_dollars": format_money(account.balance),
                              "available_dollars": format_money(account.available)})


# --- markets ------------------------------------------------------------------------------------


def _default_event(ticker: str) -> str:
    # Kalshi tickers read SERIES-EVENT-MARKET; a two-part ticker is a one-market event
    parts = ticker.split("-")
    return "-".join(parts[:-1]) if len(parts) >= 3 else ticker


def _fees(body: NewMarket) -> tuple[FeeType | None, str | None]:
    fee_type = None
    if body.fee_type is not None:
        try:
            fee_type = FeeType(body.fee_type)
        except ValueError:
            allowed = ", ".join(t.value for t in FeeType)
            raise invalid(f"fee_type={body.fee_type!r}: expected one of {allowed}") from None
    multiplier = None if body.fee_multiplier is None else str(body.fee_multiplier)
    if multiplier is not None:
        try:
            KalshiFees.resolve("quadratic", multiplier)
        except (ValueError, ZeroDivisionError):
            raise invalid(f"fee_multiplier={body.fee_multiplier!r} is not a number") from None
    return fee_type, multiplier


def _ensure_series_and_event(state: SimState, body: NewMarket, event_ticker: str, series_ticker: str,
                             now_ms: int) -> None:
    """Create the series and event when missing; a fee setting that differs from an existing series
    becomes the new event's override, so every test market can pick its own fees."""
    ex = state.exchange
    fee_type, multiplier = _fees(body)
    series = ex.series.get(series_ticker)
    if series is None:
        series = Series(ticker=series_ticker, title=body.title or series_ticker, category=body.category,
                        fee_type=fee_type or FeeType.QUADRATIC, fee_multiplier=multiplier or "1",
                        last_updated_ms=now_ms)
        ex.add_series(series)
        fee_type = multiplier = None  # already the series' own values
    type_override = fee_type if fee_type is not None and fee_type != series.fee_type else None
    mult_override = multiplier if multiplier is not None and multiplier != series.fee_multiplier else None
    event = ex.events.get(event_ticker)
    if event is None:
        ex.add_event(Event(event_ticker=event_ticker, series_ticker=series_ticker, title=body.title or event_ticker,
                           mutually_exclusive=body.mutually_exclusive, fee_type_override=type_override,
                           fee_multiplier_override=mult_override, last_updated_ms=now_ms))
        return
    if event.series_ticker != series_ticker:
        raise ExchangeError(409, "conflict", "event belongs to another series",
                            f"event {event_ticker} is in series {event.series_ticker}, not {series_ticker}")
    if (type_override or mult_override) and (event.fee_type_override, event.fee_multiplier_override) != (
            type_override, mult_override):
        raise ExchangeError(409, "conflict", "fees differ from the existing event",
                            f"event {event_ticker} already exists with other fees; use a new event_ticker")


async def create_market(request: web.Request) -> web.Response:
    state = _state(request)
    ex = state.exchange
    body = convert(await read_json_object(request), NewMarket)
    ticker = body.ticker.strip()
    if not ticker:
        raise invalid("ticker must not be empty")
    if ticker in ex.markets:
        raise ExchangeError(409, "conflict", "market exists", f"market {ticker} already exists")
    if body.price_level_structure not in STRUCTURES:
        raise invalid(f"price_level_structure={body.price_level_structure!r}: expected one of "
                      f"{', '.join(sorted(STRUCTURES))}")
    now_ms = state.clock.now_ms()
    open_ms = body.open_ts * 1000 if body.open_ts is not None else now_ms
    close_ms = body.close_ts * 1000 if body.close_ts is not None else open_ms + DEFAULT_MARKET_LIFETIME_S * 1000
    if close_ms <= open_ms:
        raise invalid("close_ts must be after open_ts")
    event_ticker = body.event_ticker or _default_event(ticker)
    existing_event = ex.events.get(event_ticker)
    series_ticker = body.series_ticker or (
        existing_event.series_ticker if existing_event is not None else ticker.split("-")[0])
    _ensure_series_and_event(state, body, event_ticker, series_ticker, now_ms)
    yes_sub_title = body.yes_sub_title or body.title or ticker
    status = MarketStatus.ACTIVE if open_ms <= now_ms < close_ms else (
        MarketStatus.INITIALIZED if open_ms > now_ms else MarketStatus.CLOSED)
    market = Market(
        ticker=ticker, event_ticker=event_ticker, series_ticker=series_ticker,
        title=body.title or ticker, yes_sub_title=yes_sub_title, no_sub_title=body.no_sub_title or yes_sub_title,
        open_time_ms=open_ms, close_time_ms=close_ms, price_level_structure=body.price_level_structure,
        grid=PriceGrid.for_structure(body.price_level_structure), rules_primary=body.rules_primary,
        status=status, can_close_early=body.can_close_early, settlement_timer_seconds=body.settlement_timer_seconds,
        created_time_ms=now_ms, updated_time_ms=now_ms, latest_expiration_time_ms=close_ms,
        expected_expiration_time_ms=close_ms, market_id=str(uuid.uuid4()),
    )
    ex.add_market(market)
    return web.json_response({"market": kj.market_json(market, ex)}, status=201)


def _market(request: web.Request) -> Market:
    ticker = request.match_info["ticker"]
    market = _state(request).exchange.markets.get(ticker)
    if market is None:
        raise ExchangeError(404, "market_not_found", "market not found", f"no market with ticker {ticker!r}")
    return market


def _market_response(request: web.Request, market: Market) -> web.Response:
    return web.json_response({"market": kj.market_json(market, _state(request).exchange)})


async def determine_market(request: web.Request) -> web.Response:
    market = _market(request)
    body = convert(await read_json_object(request), Determine)
    if body.result not in ("yes", "no"):
        raise invalid(f"result={body.result!r}: expected yes or no")
    value = None
    if body.settlement_value_dollars is not None:
        try:
            value = parse_price(body.settlement_value_dollars)
        except UnitError as exc:
            raise invalid(f"settlement_value_dollars: {exc}") from None
    _state(request).exchange.determine_market(market.ticker, body.result, value)
    return _market_response(request, market)


async def settle_market(request: web.Request) -> web.Response:
    market = _market(request)
    _state(request).exchange.settle_market(market.ticker)
    return _market_response(request, market)


async def deactivate_market(request: web.Request) -> web.Response:
    market = _market(request)
    _state(request).exchange.deactivate_market(market.ticker)
    return _market_response(request, market)


async def activate_market(request: web.Request) -> web.Response:
    market = _market(request)
    _state(request).exchange.activate_market(market.ticker)
    return _market_response(request, market)


async def set_close_time(request: web.Request) -> web.Response:
    market = _market(request)
    body = convert(await read_json_object(request), CloseTime)
    ex = _state(request).exchange
    if body.close_ts <= 0:
        raise invalid("close_ts must be a Unix time in seconds")
    ex.set_close_time(market.ticker, body.close_ts * 1000)
    ex.tick()
    return _market_response(request, market)


# --- clock, pauses, health ----------------------------------------------------------------------


def _clock_body(state: SimState) -> dict[str, Any]:
    now = state.clock.now_ms()
    return {"now_ms": now, "now_ts": now // 1000, "now": kj.rfc3339(now), "speed": state.clock.speed}


async def get_clock(request: web.Request) -> web.Response:
    return web.json_response(_clock_body(_state(request)))


async def advance_clock(request: web.Request) -> web.Response:
    state = _state(request)
    body = convert(await read_json_object(request), ClockBody)
    if body.advance_seconds < 0:
        raise invalid("advance_seconds must not be negative: the clock only moves forward")
    state.clock.advance(round(body.advance_seconds * 1000))
    state.exchange.tick()  # apply opens, closes, expiries and settlement timers at once
    return web.json_response(_clock_body(state))


async def pause(request: web.Request) -> web.Response:
    state = _state(request)
    body = convert(await read_json_object(request), PauseBody)
    if body.trading is not None:
        state.exchange.set_trading_paused(body.trading)
    if body.exchange is not None:
        state.exchange.set_exchange_paused(body.exchange)
    return web.json_response({"trading_paused": state.exchange.trading_paused,
                              "exchange_paused": state.exchange.exchange_paused})


async def health(request: web.Request) -> web.Response:
    state = _state(request)
    ex = state.exchange
    return web.json_response({"ok": True, **_clock_body(state), "markets": len(ex.markets),
                              "accounts": len(ex.accounts), "orders": len(ex.orders)})


def setup_admin_routes(app: web.Application) -> None:
    r = app.router
    r.add_post(f"{ADMIN}/accounts", create_account)
    r.add_post(f"{ADMIN}/accounts/{{account_id}}/fund", fund_account)
    r.add_post(f"{ADMIN}/markets", create_market)
    r.add_post(f"{ADMIN}/markets/{{ticker}}/determine", determine_market)
    r.add_post(f"{ADMIN}/markets/{{ticker}}/settle", settle_market)
    r.add_post(f"{ADMIN}/markets/{{ticker}}/deactivate", deactivate_market)
    r.add_post(f"{ADMIN}/markets/{{ticker}}/activate", activate_market)
    r.add_post(f"{ADMIN}/markets/{{ticker}}/close_time", set_close_time)
    r.add_get(f"{ADMIN}/clock", get_clock)
    r.add_post(f"{ADMIN}/clock", advance_clock)
    r.add_post(f"{ADMIN}/pause", pause)
    r.add_get(f"{ADMIN}/health", health)
