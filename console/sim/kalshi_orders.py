"""Kalshi order writes (V2, `/portfolio/events/orders`), account limits, and the retired v1 writes.

Reference 6.4 and 6.6 (order groups are in `kalshi_groups`). Bodies are decoded strictly: JSON of
the wrong shape is the flat 400 `bad_request`; a missing `ticker` is `missing_parameters`; any other
missing or invalid order field, and an off-grid price, is `invalid_order`; an unknown ticker is 404
`market_not_found`. All of these are checked before the exchange is touched, so a refused request
changes nothing.

Batches (create and cancel) take at most `MAX_BATCH_ITEMS` = 20 items, Kalshi's long-standing batch
limit; a larger batch is refused whole (400 `invalid_parameters`) before any item runs. Items then
run one by one and fail one by one: each result carries either the order fields or
`error: {code, message, details}` (details always present, possibly "").
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import msgspec
from aiohttp import web

from console.domain.units import UnitError, format_count, parse_count, parse_price
from console.sim import kalshi_json as kj
from console.sim import ratelimit
from console.sim.events import BookSide
from console.sim.kalshi_params import convert, convert_item, read_json_object
from console.sim.kalshi_portfolio import caller, own_order
from console.sim.model import (
    ExchangeError,
    OrderRequest,
    SelfTradePrevention,
    TimeInForce,
)
from console.sim.state import API_PREFIX, STATE

if TYPE_CHECKING:
    from console.sim.exchange import Exchange

MAX_BATCH_ITEMS = 20
MAX_SUBACCOUNT = 63
_CLIENT_ORDER_ID = re.compile(r"^[-\w:+=/]{1,64}$")
_PRICE_TEXT = re.compile(r"^\d+\.\d{2,4}$")
_COUNT_TEXT = re.compile(r"^\d+(\.\d{1,2})?$")
_UNSET = msgspec.UNSET


class CreateOrderBody(msgspec.Struct, forbid_unknown_fields=True):
    """CreateOrderV2. Everything defaults to unset so a missing field gets Kalshi's own error code."""

    ticker: str | msgspec.UnsetType = _UNSET
    side: str | msgspec.UnsetType = _UNSET
    count: str | msgspec.UnsetType = _UNSET
    price: str | msgspec.UnsetType = _UNSET
    time_in_force: str | msgspec.UnsetType = _UNSET
    self_trade_prevention_type: str | msgspec.UnsetType = _UNSET
    client_order_id: str | None | msgspec.UnsetType = _UNSET
    expiration_time: int | None | msgspec.UnsetType = _UNSET
    post_only: bool | None = None
    reduce_only: bool | None = None
    cancel_order_on_pause: bool | None = None
    order_group_id: str | None = None
    subaccount: int | None = None
    exchange_index: int | None = None


class AmendBody(msgspec.Struct, forbid_unknown_fields=True):
    ticker: str | msgspec.UnsetType = _UNSET
    side: str | msgspec.UnsetType = _UNSET
    price: str | msgspec.UnsetType = _UNSET
    count: str | msgspec.UnsetType = _UNSET
    client_order_id: str | None = None
    updated_client_order_id: str | None = None
    expiration_time: int | None | msgspec.UnsetType = _UNSET
    exchange_index: int | None = None
    subaccount: int | None = None


class DecreaseBody(msgspec.Struct, forbid_unknown_fields=True):
    reduce_by: str | None = None
    reduce_to: str | None = None
    exchange_index: int | None = None
    market_ticker: str | None = None
    subaccount: int | None = None


class BatchCreateBody(msgspec.Struct, forbid_unknown_fields=True):
    orders: list[Any] | msgspec.UnsetType = _UNSET


class CancelItem(msgspec.Struct, forbid_unknown_fields=True):
    order_id: str
    subaccount: int | None = None
    exchange_index: int | None = None
    market_ticker: str | None = None


class BatchCancelBody(msgspec.Struct, forbid_unknown_fields=True):
    orders: list[Any] | msgspec.UnsetType = _UNSET
    ids: list[str] | msgspec.UnsetType = _UNSET  # deprecated form, still accepted by Kalshi


def invalid_order(details: str, status: int = 400) -> ExchangeError:
    return ExchangeError(status, "invalid_order", "invalid order", details)


def now_ms(request: web.Request) -> int:
    return request.app[STATE].clock.now_ms()


# --- field parsing ------------------------------------------------------------------------------


def _side(value: str) -> BookSide:
    try:
        return BookSide(value)
    except ValueError:
        raise invalid_order(f"side={value!r}: expected bid (YES exposure) or ask (NO exposure)") from None


def count_field(value: str, name: str = "count") -> int:
    """A request count string: Kalshi accepts 0-2 decimals ("10", "10.0", "10.00")."""
    try:
        if not _COUNT_TEXT.match(value):
            raise UnitError(f"{value!r} is not a count with 0-2 decimals")
        count = parse_count(value)
    except UnitError as exc:
        raise invalid_order(f"{name}: {exc}; send a string with 0-2 decimals like \"10\" or \"2.50\"") from None
    return count


def _price_on_grid(exchange: Exchange, ticker: str, value: str) -> int:
    # Kalshi accepts 2-4 decimals; "0.5" or "0.560000" would pass parse_price but not the venue
    try:
        if not _PRICE_TEXT.match(value):
            raise UnitError(f"price {value!r} does not have 2-4 decimals")
        price = parse_price(value)
    except UnitError as exc:
        raise invalid_order(f"{exc}; send a YES-scale dollar string with 2-4 decimals like \"0.56\"") from None
    market = exchange.markets[ticker]
    if not market.grid.is_valid(price):
        bands = ", ".join(f"{b['start']}-{b['end']} step {b['step']}" for b in market.grid.to_wire())
        raise invalid_order(f"price {value} is not on {ticker}'s price grid ({bands}), or not strictly "
                            "between 0 and 1")
    return price


def _market(exchange: Exchange, ticker: str) -> None:
    if ticker not in exchange.markets:
        raise ExchangeError(404, "market_not_found", "market not found", f"no market with ticker {ticker!r}")


def _shard(exchange: Exchange, ticker: str, exchange_index: int | None) -> None:
    shard = exchange.markets[ticker].exchange_index
    if exchange_index is not None and exchange_index != -1 and exchange_index != shard:
        raise invalid_order(f"{ticker} trades on exchange_index {shard}, not {exchange_index}; "
                            "omit exchange_index to route automatically")


def subaccount_field(value: int | None) -> int:
    if value is None:
        return 0
    if not 0 <= value <= MAX_SUBACCOUNT:
        raise invalid_order(f"subaccount={value}: expected 0 (primary) to {MAX_SUBACCOUNT}")
    return value


def _client_order_id(value: str | None, name: str = "client_order_id") -> str | None:
    if value is not None and not _CLIENT_ORDER_ID.match(value):
        raise invalid_order(f"{name}: 1-64 characters of letters, digits and -_:+=/ expected")
    return value


def order_request(exchange: Exchange, body: CreateOrderBody, now_s: int) -> OrderRequest:
    """Validate a decoded CreateOrderV2 body into the core's OrderRequest (or raise Kalshi's error)."""
    if body.ticker is _UNSET or not body.ticker:
        raise ExchangeError(400, "missing_parameters", "missing parameters", "ticker is required")
    missing = [n for n in ("side", "count", "price", "time_in_force", "self_trade_prevention_type")
               if getattr(body, n) is _UNSET]
    if missing:
        raise invalid_order(f"missing required field(s): {', '.join(missing)}")
    assert isinstance(body.side, str) and isinstance(body.count, str) and isinstance(body.price, str)
    assert isinstance(body.time_in_force, str) and isinstance(body.self_trade_prevention_type, str)
    side = _side(body.side)
    count = count_field(body.count)
    if count <= 0:
        raise invalid_order(f"count={body.count!r}: must be more than 0")
    try:
        tif = TimeInForce(body.time_in_force)
    except ValueError:
        raise invalid_order(f"time_in_force={body.time_in_force!r}: expected good_till_canceled, "
                            "immediate_or_cancel or fill_or_kill") from None
    try:
        stp = SelfTradePrevention(body.self_trade_prevention_type)
    except ValueError:
        raise invalid_order(f"self_trade_prevention_type={body.self_trade_prevention_type!r}: "
                            "expected taker_at_cross or maker") from None
    expiration = body.expiration_time if isinstance(body.expiration_time, int) else None
    if expiration is not None:
        if tif is not TimeInForce.GTC:
            raise invalid_order("expiration_time is only allowed with time_in_force=good_till_canceled")
        if expiration <= now_s:
            raise invalid_order(f"expiration_time={expiration} is not in the future (now {now_s})")
    if body.reduce_only and tif is not TimeInForce.IOC:
        raise invalid_order("reduce_only orders must use time_in_force=immediate_or_cancel")
    if body.post_only and tif is not TimeInForce.GTC:
        raise invalid_order("post_only orders must use time_in_force=good_till_canceled")
    client_order_id = _client_order_id(body.client_order_id if isinstance(body.client_order_id, str) else None)
    subaccount = subaccount_field(body.subaccount)
    _market(exchange, body.ticker)
    _shard(exchange, body.ticker, body.exchange_index)
    price = _price_on_grid(exchange, body.ticker, body.price)
    return OrderRequest(
        ticker=body.ticker, side=side, price=price, count=count, time_in_force=tif,
        self_trade_prevention=stp, client_order_id=client_order_id, expiration_time_s=expiration,
        post_only=bool(body.post_only), reduce_only=bool(body.reduce_only),
        cancel_order_on_pause=bool(body.cancel_order_on_pause), order_group_id=body.order_group_id,
        subaccount=subaccount,
    )


def create_result(order: Any, ts_ms: int) -> dict[str, Any]:
    """The V2 create/amend short body. The averages read "0.000000" while nothing has filled, so a
    client can always parse them (Kalshi's schema marks them optional)."""
    zero = kj.money(0)
    return kj.drop_none({
        "order_id": order.order_id,
        "client_order_id": order.client_order_id or None,
        "fill_count": format_count(order.fill_count),
        "remaining_count": format_count(order.remaining_count),
        "average_fill_price": kj.order_average_fill_price(order) or zero,
        "average_fee_paid": kj.order_average_fee(order) or zero,
        "ts_ms": ts_ms,
    })


def cancel_result(order: Any, reduced_by: int, ts_ms: int) -> dict[str, Any]:
    return kj.drop_none({
        "order_id": order.order_id,
        "client_order_id": order.client_order_id or None,
        "reduced_by": format_count(reduced_by),
        "ts_ms": ts_ms,
    })


def error_item(exc: ExchangeError) -> dict[str, Any]:
    return {"code": exc.code, "message": exc.message, "details": exc.details or ""}


# --- V2 order endpoints -------------------------------------------------------------------------


async def create_order(request: web.Request) -> web.Response:
    exchange, account = caller(request)
    body = convert(await read_json_object(request), CreateOrderBody)
    req = order_request(exchange, body, request.app[STATE].clock.now_s())
    order = exchange.create_order(account.account_id, req)
    return web.json_response(create_result(order, now_ms(request)), status=201)


async def cancel_order(request: web.Request) -> web.Response:
    exchange, account = caller(request)
    order = own_order(exchange, account, request.match_info["order_id"])
    order, reduced_by = exchange.cancel_order(account.account_id, order.order_id)
    return web.json_response(cancel_result(order, reduced_by, now_ms(request)))


async def amend_order(request: web.Request) -> web.Response:
    exchange, account = caller(request)
    body = convert(await read_json_object(request), AmendBody)
    order = own_order(exchange, account, request.match_info["order_id"])
    if body.ticker is _UNSET or not body.ticker:
        raise ExchangeError(400, "missing_parameters", "missing parameters", "ticker is required")
    missing = [n for n in ("side", "price", "count") if getattr(body, n) is _UNSET]
    if missing:
        raise invalid_order(f"missing required field(s): {', '.join(missing)}")
    assert isinstance(body.side, str) and isinstance(body.price, str) and isinstance(body.count, str)
    _market(exchange, body.ticker)
    if body.ticker != order.ticker:
        raise ExchangeError(400, "order_ticker_mismatch", "order ticker mismatch",
                            f"order {order.order_id} is on {order.ticker}, not {body.ticker}")
    side = _side(body.side)
    if side is not order.side:
        raise ExchangeError(400, "order_side_mismatch", "order side mismatch",
                            f"order {order.order_id} is a {order.side} order; amend cannot change its side")
    if body.client_order_id is not None and body.client_order_id != order.client_order_id:
        raise ExchangeError(400, "order_id_and_client_order_id_mismatch", "order id and client order id mismatch",
                            f"order {order.order_id} has client_order_id {order.client_order_id!r}")
    _shard(exchange, body.ticker, body.exchange_index)
    price = _price_on_grid(exchange, body.ticker, body.price)
    count = count_field(body.count)
    if count <= 0:
        raise invalid_order(f"count={body.count!r}: the new total must be more than 0")
    kwargs: dict[str, Any] = {}
    if body.expiration_time is not _UNSET:
        # 0 (or null) removes the expiry; anything else must be in the future
        expiration = body.expiration_time or None
        if expiration is not None and expiration <= request.app[STATE].clock.now_s():
            raise invalid_order(f"expiration_time={expiration} is not in the future")
        kwargs["expiration_time_s"] = expiration
    amended = exchange.amend_order(
        account.account_id, order.order_id, ticker=body.ticker, side=side, price=price, count=count,
        client_order_id=body.client_order_id,
        updated_client_order_id=_client_order_id(body.updated_client_order_id, "updated_client_order_id"),
        **kwargs,
    )
    return web.json_response(create_result(amended, now_ms(request)))


async def decrease_order(request: web.Request) -> web.Response:
    exchange, account = caller(request)
    body = convert(await read_json_object(request), DecreaseBody)
    order = own_order(exchange, account, request.match_info["order_id"])
    if (body.reduce_by is None) == (body.reduce_to is None):
        raise invalid_order("send exactly one of reduce_by and reduce_to")
    reduce_by = count_field(body.reduce_by, "reduce_by") if body.reduce_by is not None else None
    reduce_to = count_field(body.reduce_to, "reduce_to") if body.reduce_to is not None else None
    if reduce_by is not None and reduce_by <= 0:
        raise invalid_order("reduce_by must be more than 0")
    order, _reduced = exchange.decrease_order(account.account_id, order.order_id, reduce_by=reduce_by,
                                              reduce_to=reduce_to)
    return web.json_response(kj.drop_none({
        "order_id": order.order_id,
        "client_order_id": order.client_order_id or None,
        "remaining_count": format_count(order.remaining_count),
        "ts_ms": now_ms(request),
    }))


def _batch_items(items: Any, what: str) -> list[Any]:
    if items is _UNSET or not isinstance(items, list) or not items:
        raise ExchangeError(400, "missing_parameters", "missing parameters", f"{what}: a non-empty list is required")
    if len(items) > MAX_BATCH_ITEMS:
        raise ExchangeError(400, "invalid_parameters", "too many orders in batch",
                            f"{len(items)} items given; a batch takes at most {MAX_BATCH_ITEMS}, split it")
    return items


async def batch_create(request: web.Request) -> web.Response:
    exchange, account = caller(request)
    body = convert(await read_json_object(request), BatchCreateBody)
    items = _batch_items(body.orders, "orders")
    now_s = request.app[STATE].clock.now_s()
    results: list[dict[str, Any]] = []
    for item in items:
        try:
            if not isinstance(item, dict):
                raise ExchangeError(400, "bad_request", "bad request", "each order must be a JSON object")
            req = order_request(exchange, convert_item(item, CreateOrderBody), now_s)
            order = exchange.create_order(account.account_id, req)
            results.append(create_result(order, now_ms(request)))
        except ExchangeError as exc:
            client_order_id = item.get("client_order_id") if isinstance(item, dict) else None
            entry: dict[str, Any] = {"error": error_item(exc)}
            if isinstance(client_order_id, str):
                entry["client_order_id"] = client_order_id
            results.append(entry)
    return web.json_response({"orders": results}, status=201)


async def batch_cancel(request: web.Request) -> web.Response:
    exchange, account = caller(request)
    body = convert(await read_json_object(request), BatchCancelBody)
    if body.orders is _UNSET and body.ids is not _UNSET:
        assert isinstance(body.ids, list)
        raw_items: Any = [{"order_id": i} for i in body.ids]
    else:
        raw_items = body.orders
    items = _batch_items(raw_items, "orders")
    results: list[dict[str, Any]] = []
    for item in items:
        order_id = item.get("order_id") if isinstance(item, dict) else None
        try:
            cancel = convert_item(item, CancelItem)
            order = own_order(exchange, account, cancel.order_id)
            order, reduced_by = exchange.cancel_order(account.account_id, order.order_id)
            results.append(cancel_result(order, reduced_by, now_ms(request)))
        except ExchangeError as exc:
            entry: dict[str, Any] = {"order_id": order_id if isinstance(order_id, str) else "",
                                     "reduced_by": format_count(0), "error": error_item(exc)}
            results.append(entry)
    return web.json_response({"orders": results})


async def cancel_all(request: web.Request) -> web.Response:
    exchange, account = caller(request)
    exchange.cancel_all(account.account_id)
    return web.Response(status=204)


# --- account ------------------------------------------------------------------------------------


async def account_limits(request: web.Request) -> web.Response:
    _exchange, account = caller(request)
    return web.json_response(ratelimit.limits_body(account))


async def endpoint_costs(request: web.Request) -> web.Response:
    return web.json_response(ratelimit.endpoint_costs_body())


# --- retired v1 writes --------------------------------------------------------------------------


async def deprecated_v1(request: web.Request) -> web.Response:
    """Kalshi retired the v1 order mutations in June 2026; they answer 410 and point to V2."""
    return web.json_response({"error": {
        "code": "deprecated_v1_order_endpoint",
        "message": f"{request.method} /portfolio/orders... was retired; use /portfolio/events/orders "
                   "(V2: side bid|ask, YES-scale price) instead",
    }}, status=410)


def setup_routes(app: web.Application) -> None:
    p = f"{API_PREFIX}/portfolio"
    r = app.router
    r.add_post(f"{p}/events/orders", create_order)
    r.add_delete(f"{p}/events/orders", cancel_all)
    r.add_post(f"{p}/events/orders/batched", batch_create)
    r.add_delete(f"{p}/events/orders/batched", batch_cancel)
    r.add_delete(f"{p}/events/orders/{{order_id}}", cancel_order)
    r.add_post(f"{p}/events/orders/{{order_id}}/amend", amend_order)
    r.add_post(f"{p}/events/orders/{{order_id}}/decrease", decrease_order)
    r.add_post(f"{p}/orders", deprecated_v1)
    r.add_post(f"{p}/orders/batched", deprecated_v1)
    r.add_delete(f"{p}/orders/batched", deprecated_v1)
    r.add_delete(f"{p}/orders/{{order_id}}", deprecated_v1)
    r.add_post(f"{p}/orders/{{order_id}}/amend", deprecated_v1)
    r.add_post(f"{p}/orders/{{order_id}}/decrease", deprecated_v1)
    a = f"{API_PREFIX}/account"
    r.add_get(f"{a}/limits", account_limits)
    r.add_get(f"{a}/endpoint_costs", endpoint_costs)
