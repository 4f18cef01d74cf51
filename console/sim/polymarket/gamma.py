"""The mirror's Gamma API (market discovery), served under `/gamma` on the mirror's port.

    GET /gamma/markets/keyset   ?limit (1..100, default 20) &after_cursor &closed &active &id &slug
                                &condition_ids &clob_token_ids   -> {"markets": [...], "next_cursor"?}
    GET /gamma/markets          legacy offset list (?limit &offset; closed=false unless given) -> [...]
    GET /gamma/markets/{id}     GET /gamma/markets/slug/{slug}   -> one market
    GET /gamma/events/keyset    ?limit (1..500) &after_cursor &closed  -> {"events": [...], "next_cursor"?}
    GET /gamma/events/{id}      GET /gamma/events/slug/{slug}     GET /gamma/events?slug=|id=  -> array

Keyset pages follow the 2026 API (polymarket-api.md 3.1): the cursor is opaque, passed back as
`after_cursor`, absent on the last page; `offset` is refused on keyset endpoints. Market objects carry
the fields a matcher needs, in Gamma's types: `outcomes`, `outcomePrices` and `clobTokenIds` are
JSON-encoded strings; prices, tick and minimum size are JSON numbers; dates are ISO strings.
`outcomePrices` are marks refreshed once a simulated minute (take prices from the CLOB).
"""

from __future__ import annotations

import base64
import json
from typing import Any

from aiohttp import web

from console.sim.polymarket.mirror import MIN_ORDER_SIZE, MarketState, Mirror
from console.sim.polymarket.service import mirror_of
from console.sim.polymarket.universe import PolyEvent
from console.sim.polymarket.wire import PIPS, fmt_micros, fmt_price, iso, price_number

GAMMA_PREFIX = "/gamma"


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def market_json(ms: MarketState, mirror: Mirror, *, with_event: bool = True) -> dict[str, Any]:
    spec, book = ms.spec, ms.book
    bid, ask = book.top(0)
    if ms.winner is not None:
        prices = ["1", "0"] if ms.winner == 0 else ["0", "1"]
    else:
        prices = [fmt_price(ms.mark), fmt_price(PIPS - ms.mark)]
    rate = spec.fee_rate
    out: dict[str, Any] = {
        "id": spec.market_id, "question": spec.question, "conditionId": spec.condition_id, "slug": spec.slug,
        "resolutionSource": "", "endDate": iso(spec.end_ms), "startDate": iso(spec.start_ms),
        "description": spec.description, "outcomes": json.dumps(list(spec.outcomes)),
        "outcomePrices": json.dumps(prices), "volume": fmt_micros(ms.volume_micros),
        "active": True, "closed": ms.closed, "archived": False, "restricted": True,
        "groupItemTitle": spec.group_item_title, "questionID": spec.question_id,
        "enableOrderBook": True, "orderPriceMinTickSize": price_number(book.tick),
        "orderMinSize": int(MIN_ORDER_SIZE), "volumeNum": ms.volume_micros / 1e6,
        "endDateIso": iso(spec.end_ms)[:10], "startDateIso": iso(spec.start_ms)[:10],
        "clobTokenIds": json.dumps(list(spec.token_ids)), "acceptingOrders": not ms.closed,
        "negRisk": spec.neg_risk, "negRiskMarketID": spec.event.neg_risk_market_id,
        "umaResolutionStatuses": "[]" if ms.winner is None else '["resolved"]',
        "feesEnabled": rate not in ("0", "0.0"), "feeType": "politics_fees" if rate not in ("0", "0.0") else None,
        "makerBaseFee": 0, "takerBaseFee": _bps(rate), "feeSchedule": {"rate": float(rate), "exponent": 1},
    }
    if bid is not None:
        out["bestBid"] = price_number(bid)
    if ask is not None:
        out["bestAsk"] = price_number(ask)
    if bid is not None and ask is not None:
        out["spread"] = price_number(ask - bid)
    if ms.last_trade[0]:
        out["lastTradePrice"] = float(ms.last_trade[0])
    if with_event:
        out["events"] = [event_json(spec.event, mirror, with_markets=False)]
    return out


def _bps(rate: str) -> int:
    whole, _, frac = rate.partition(".")
    return int(whole) * 10_000 + int((frac + "0000")[:4])


def event_json(event: PolyEvent, mirror: Mirror, *, with_markets: bool = True) -> dict[str, Any]:
    members = [ms for ms in mirror.markets if ms.spec.event.event_id == event.event_id]
    out: dict[str, Any] = {
        "id": event.event_id, "ticker": event.slug, "slug": event.slug, "title": event.title,
        "description": event.description, "resolutionSource": "",
        "startDate": iso(min(m.spec.start_ms for m in members)), "endDate": iso(max(m.spec.end_ms for m in members)),
        "active": True, "closed": all(m.closed for m in members), "archived": False, "restricted": True,
        "enableOrderBook": True, "negRisk": event.neg_risk, "negRiskMarketID": event.neg_risk_market_id,
        "tags": [{"id": "2", "label": "Politics", "slug": "politics"},
                 {"id": "144", "label": "Elections", "slug": "elections"}],
    }
    if with_markets:
        out["markets"] = [market_json(m, mirror, with_event=False) for m in members]
    return out


def _flag(request: web.Request, name: str) -> bool | None:
    raw = request.query.get(name)
    if raw is None:
        return None
    if raw.lower() in ("true", "1"):
        return True
    if raw.lower() in ("false", "0"):
        return False
    raise web.HTTPBadRequest(text=json.dumps({"error": f"{name}={raw!r}: expected true or false"}),
                             content_type="application/json")


def _limit(request: web.Request, default: int, cap: int) -> int:
    raw = request.query.get("limit", str(default))
    if not raw.isdigit() or not 1 <= int(raw) <= cap:
        raise web.HTTPBadRequest(text=json.dumps({"error": f"limit={raw!r}: expected 1..{cap}"}),
                                 content_type="application/json")
    return int(raw)


def _cursor_after(request: web.Request) -> int:
    raw = request.query.get("after_cursor")
    if not raw:
        return 0
    try:
        return int(base64.urlsafe_b64decode(raw.encode()).decode().removeprefix("id:"))
    except (ValueError, UnicodeDecodeError):
        raise web.HTTPBadRequest(text=json.dumps({"error": "after_cursor: not a cursor this API returned"}),
                                 content_type="application/json") from None


def _cursor_for(last_id: str) -> str:
    return base64.urlsafe_b64encode(f"id:{last_id}".encode()).decode()


def _filtered(request: web.Request, mirror: Mirror, closed_default: bool | None) -> list[MarketState]:
    q = request.query
    closed = _flag(request, "closed")
    closed = closed_default if closed is None else closed
    active = _flag(request, "active")
    ids, slugs = set(q.getall("id", [])), set(q.getall("slug", []))
    conditions = {c for v in q.getall("condition_ids", []) for c in v.split(",") if c}
    tokens = {t for v in q.getall("clob_token_ids", []) for t in v.split(",") if t}
    out = []
    for ms in mirror.markets:
        spec = ms.spec
        if closed is not None and ms.closed != closed:
            continue
        if active is False:  # every mirrored market is active (resolved ones are active and closed)
            continue
        if (ids and spec.market_id not in ids) or (slugs and spec.slug not in slugs):
            continue
        if (conditions and spec.condition_id not in conditions) or (tokens and not tokens & set(spec.token_ids)):
            continue
        out.append(ms)
    return out


def _mirror(request: web.Request) -> Mirror:
    return mirror_of(request)


async def markets_keyset(request: web.Request) -> web.Response:
    if "offset" in request.query:
        return _error(400, "offset is not supported on keyset endpoints; pass after_cursor from next_cursor")
    mirror = _mirror(request)
    limit, after = _limit(request, 20, 100), _cursor_after(request)
    rows = [ms for ms in _filtered(request, mirror, None) if int(ms.spec.market_id) > after]
    page = rows[:limit]
    body: dict[str, Any] = {"markets": [market_json(ms, mirror) for ms in page]}
    if len(rows) > limit:
        body["next_cursor"] = _cursor_for(page[-1].spec.market_id)
    return web.json_response(body)


async def markets_legacy(request: web.Request) -> web.Response:
    mirror = _mirror(request)
    limit = _limit(request, 20, 500)
    offset = request.query.get("offset", "0")
    if not offset.isdigit():
        return _error(400, f"offset={offset!r}: expected a non-negative integer")
    rows = _filtered(request, mirror, False)  # the legacy list hides closed markets unless asked
    return web.json_response([market_json(ms, mirror) for ms in rows[int(offset):int(offset) + limit]])


async def market_by_id(request: web.Request) -> web.Response:
    mirror = _mirror(request)
    key = request.match_info["market_id"]
    for ms in mirror.markets:
        if ms.spec.market_id == key:
            return web.json_response(market_json(ms, mirror))
    return _error(404, f"market {key} not found")


async def market_by_slug(request: web.Request) -> web.Response:
    mirror = _mirror(request)
    slug = request.match_info["slug"]
    for ms in mirror.markets:
        if ms.spec.slug == slug:
            return web.json_response(market_json(ms, mirror))
    return _error(404, f"market {slug!r} not found")


def _events(mirror: Mirror) -> list[PolyEvent]:
    seen: dict[str, PolyEvent] = {}
    for ms in mirror.markets:
        seen.setdefault(ms.spec.event.event_id, ms.spec.event)
    return list(seen.values())


async def events_keyset(request: web.Request) -> web.Response:
    if "offset" in request.query:
        return _error(400, "offset is not supported on keyset endpoints; pass after_cursor from next_cursor")
    mirror = _mirror(request)
    limit, after = _limit(request, 20, 500), _cursor_after(request)
    closed = _flag(request, "closed")
    rows = [e for e in _events(mirror) if int(e.event_id) > after]
    if closed is not None:
        rows = [e for e in rows if all(m.closed for m in mirror.markets if m.spec.event is e) == closed]
    page = rows[:limit]
    body: dict[str, Any] = {"events": [event_json(e, mirror) for e in page]}
    if len(rows) > limit:
        body["next_cursor"] = _cursor_for(page[-1].event_id)
    return web.json_response(body)


async def event_by_id(request: web.Request) -> web.Response:
    mirror = _mirror(request)
    for event in _events(mirror):
        if event.event_id == request.match_info["event_id"]:
            return web.json_response(event_json(event, mirror))
    return _error(404, f"event {request.match_info['event_id']} not found")


async def event_by_slug(request: web.Request) -> web.Response:
    mirror = _mirror(request)
    for event in _events(mirror):
        if event.slug == request.match_info["slug"]:
            return web.json_response(event_json(event, mirror))
    return _error(404, f"event {request.match_info['slug']!r} not found")


async def events_query(request: web.Request) -> web.Response:
    """`GET /events?slug=..|id=..` answers an array (unlike /events/{id}), as Gamma does."""
    mirror = _mirror(request)
    ids, slugs = set(request.query.getall("id", [])), set(request.query.getall("slug", []))
    rows = [e for e in _events(mirror) if (not ids or e.event_id in ids) and (not slugs or e.slug in slugs)]
    return web.json_response([event_json(e, mirror) for e in rows])


def setup_gamma_routes(app: web.Application) -> None:
    p = GAMMA_PREFIX
    app.router.add_get(f"{p}/markets/keyset", markets_keyset)
    app.router.add_get(f"{p}/markets/slug/{{slug}}", market_by_slug)
    app.router.add_get(f"{p}/markets/{{market_id}}", market_by_id)
    app.router.add_get(f"{p}/markets", markets_legacy)
    app.router.add_get(f"{p}/events/keyset", events_keyset)
    app.router.add_get(f"{p}/events/slug/{{slug}}", event_by_slug)
    app.router.add_get(f"{p}/events/{{event_id}}", event_by_id)
    app.router.add_get(f"{p}/events", events_query)
