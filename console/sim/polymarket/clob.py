"""The mirror's CLOB REST market data (public, no auth), at the root of the mirror's port.

    GET  /book?token_id=             the token's book: bids ascending, asks descending, hash (wire.py)
    POST /books   [{"token_id"}...]  an array of books (unknown or resolved tokens are left out)
    GET  /price?token_id=&side=BUY|SELL   {"price"}: BUY = best bid, SELL = best ask (as the real CLOB)
    GET  /midpoint?token_id=         {"mid"}        GET /spread?token_id=  {"spread"}
    GET  /tick-size?token_id=        {"minimum_tick_size": 0.01} (a number; also /tick-size/{token_id})
    GET  /neg-risk?token_id=         {"neg_risk": false}
    GET  /fee-rate?token_id=         {"base_fee": 400}: the taker fee rate in basis points (0.04 = 400)
    GET  /last-trade-price?token_id= {"price", "side"}
    GET  /markets/{condition_id}     the CLOB market object (tokens with outcome, price, winner)
    GET  /markets?next_cursor=       {limit, count, next_cursor, data}: cursor "MA==" ... "LTE=" at the end
    GET  /ok   "OK"                  GET /time   the server's Unix time in seconds (simulated clock)

Errors are `{"error": "..."}`: 400 for a missing or malformed parameter, 404 for an unknown token or
a resolved market (no order book exists any more), 404 for /price, /midpoint and /spread when the
side they need is empty. No rate limits.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from aiohttp import web

from console.sim.polymarket import messages as pm
from console.sim.polymarket.mirror import MIN_ORDER_SIZE, MarketState
from console.sim.polymarket.service import SERVICE, mirror_of
from console.sim.polymarket.wire import PIPS, fmt_price, iso, price_number

NO_BOOK = "No orderbook exists for the requested token id"
END_CURSOR = "LTE="
_PAGE = 500


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def _token(request: web.Request, token_id: str | None = None) -> tuple[MarketState, int] | web.Response:
    token_id = token_id or request.query.get("token_id")
    if not token_id:
        return _error(400, "token_id is required")
    found = mirror_of(request).token(token_id)
    if found is None or found[0].closed:
        return _error(404, NO_BOOK)
    return found


async def book(request: web.Request) -> web.Response:
    found = _token(request)
    if isinstance(found, web.Response):
        return found
    return web.json_response(pm.rest_summary(found[0], found[1], str(mirror_of(request).now_ms())))


async def books(request: web.Request) -> web.Response:
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return _error(400, 'body must be a JSON array of {"token_id": "..."}')
    if not isinstance(body, list) or not all(isinstance(x, dict) and isinstance(x.get("token_id"), str) for x in body):
        return _error(400, 'body must be a JSON array of {"token_id": "..."}')
    mirror = mirror_of(request)
    ts = str(mirror.now_ms())
    out = []
    for item in body:
        found = mirror.token(item["token_id"])
        if found is not None and not found[0].closed:
            out.append(pm.rest_summary(found[0], found[1], ts))
    return web.json_response(out)


async def price(request: web.Request) -> web.Response:
    found = _token(request)
    if isinstance(found, web.Response):
        return found
    side = request.query.get("side", "").upper()
    if side not in ("BUY", "SELL"):
        return _error(400, "side must be BUY or SELL")
    bid, ask = found[0].book.top(found[1])
    value = bid if side == "BUY" else ask
    if value is None:
        return _error(404, f"no {'bids' if side == 'BUY' else 'asks'} on this book")
    return web.json_response({"price": fmt_price(value)})


async def midpoint(request: web.Request) -> web.Response:
    found = _token(request)
    if isinstance(found, web.Response):
        return found
    bid, ask = found[0].book.top(found[1])
    if bid is None or ask is None:
        return _error(404, "the book is one-sided; no midpoint")
    return web.json_response({"mid": fmt_price((bid + ask) // 2)})  # ticks are even pips, so exact


async def spread(request: web.Request) -> web.Response:
    found = _token(request)
    if isinstance(found, web.Response):
        return found
    bid, ask = found[0].book.top(found[1])
    if bid is None or ask is None:
        return _error(404, "the book is one-sided; no spread")
    return web.json_response({"spread": fmt_price(ask - bid)})


async def tick_size(request: web.Request) -> web.Response:
    found = _token(request, request.match_info.get("token_id"))
    if isinstance(found, web.Response):
        return found
    return web.json_response({"minimum_tick_size": price_number(found[0].book.tick)})


async def neg_risk(request: web.Request) -> web.Response:
    found = _token(request)
    if isinstance(found, web.Response):
        return found
    return web.json_response({"neg_risk": found[0].spec.neg_risk})


async def fee_rate(request: web.Request) -> web.Response:
    found = _token(request)
    if isinstance(found, web.Response):
        return found
    return web.json_response({"base_fee": int(pm.fee_rate_bps(found[0]))})


async def last_trade_price(request: web.Request) -> web.Response:
    found = _token(request)
    if isinstance(found, web.Response):
        return found
    ms, token = found
    return web.json_response({"price": ms.last_trade[token] or "0", "side": ms.last_side[token]})


def clob_market(ms: MarketState) -> dict[str, Any]:
    spec = ms.spec
    mark = [ms.mark, PIPS - ms.mark]
    tokens = []
    for i in (0, 1):
        value = (1 if ms.winner == i else 0) if ms.closed else price_number(mark[i])
        tokens.append({"token_id": spec.token_ids[i], "outcome": spec.outcomes[i], "price": value,
                       "winner": ms.winner == i})
    bps = int(pm.fee_rate_bps(ms))
    return {
        "accepting_orders": not ms.closed, "active": True, "archived": False, "closed": ms.closed,
        "condition_id": spec.condition_id, "question_id": spec.question_id, "question": spec.question,
        "description": spec.description, "market_slug": spec.slug,
        "end_date_iso": iso(spec.end_ms), "enable_order_book": not ms.closed,
        "minimum_order_size": int(MIN_ORDER_SIZE), "minimum_tick_size": price_number(ms.book.tick),
        "neg_risk": spec.neg_risk, "neg_risk_market_id": spec.event.neg_risk_market_id,
        "maker_base_fee": 0, "taker_base_fee": bps, "seconds_delay": 0, "tags": ["Politics", "Elections"],
        "is_50_50_outcome": False, "tokens": tokens,
    }


async def market_by_condition(request: web.Request) -> web.Response:
    ms = mirror_of(request).by_condition.get(request.match_info["condition_id"])
    if ms is None:
        return _error(404, "market not found")
    return web.json_response(clob_market(ms))


async def markets(request: web.Request) -> web.Response:
    raw = request.query.get("next_cursor") or "MA=="
    if raw == END_CURSOR:
        return web.json_response({"limit": _PAGE, "count": 0, "next_cursor": END_CURSOR, "data": []})
    try:
        start = int(base64.b64decode(raw).decode())
    except (ValueError, UnicodeDecodeError):
        return _error(400, "next_cursor: not a cursor this API returned")
    rows = mirror_of(request).markets
    page = rows[start:start + _PAGE]
    end = start + len(page)
    cursor = END_CURSOR if end >= len(rows) else base64.b64encode(str(end).encode()).decode()
    return web.json_response({"limit": _PAGE, "count": len(page), "next_cursor": cursor,
                              "data": [clob_market(ms) for ms in page]})


async def ok(request: web.Request) -> web.Response:
    return web.json_response("OK")


async def server_time(request: web.Request) -> web.Response:
    return web.json_response(request.app[SERVICE].state.clock.now_ms() // 1000)


def setup_clob_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/book", book)
    r.add_post("/books", books)
    r.add_get("/price", price)
    r.add_get("/midpoint", midpoint)
    r.add_get("/spread", spread)
    r.add_get("/tick-size", tick_size)
    r.add_get("/tick-size/{token_id}", tick_size)
    r.add_get("/neg-risk", neg_risk)
    r.add_get("/fee-rate", fee_rate)
    r.add_get("/last-trade-price", last_trade_price)
    r.add_get("/markets/{condition_id}", market_by_condition)
    r.add_get("/markets", markets)
    r.add_get("/ok", ok)
    r.add_get("/time", server_time)
