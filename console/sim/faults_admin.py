"""Fault injection wiring: the `/sim/faults` admin routes, the REST fault middleware, the pause task.

`setup_faults_routes(app)` (called by `server.build_app`) makes sure `state.extras["faults"]` holds a
`Faults` controller (the server puts one there from `--faults PROFILE`), hooks it to the WebSocket
settings' tap, appends the REST middleware (innermost: after auth and the real rate limiter, so a
rule can be scoped to an account) and starts a task that applies pause windows.

| Method and path | Body / query | Answer |
|---|---|---|
| `GET /sim/faults` | | `{profile, seed, rules: [rule + id, injected, remaining, active], ...}` |
| `POST /sim/faults` | `{profile?, rules?: [rule], seed?, append?: false}` | same as GET |
| `DELETE /sim/faults` | | same as GET (no rules; pauses the fault layer began are resumed) |
| `GET /sim/faults/profiles` | | `{name: description}` |
| `GET /sim/faults/log` | `?since=ID&kind=KIND` | `{entries: [...], last_id, dropped}` |
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import msgspec
from aiohttp import web

from console.sim.faults import EXTRA_KEY, Faults, RestCall
from console.sim.faults_rules import PROFILES, FaultRule, RuleError, profile_rules
from console.sim.kalshi_params import convert, read_json_object
from console.sim.model import ExchangeError
from console.sim.ratelimit import TOO_MANY_REQUESTS_BODY
from console.sim.state import ACCOUNT_ID, API_PREFIX, STATE, WS_PATH

log = logging.getLogger(__name__)

ADMIN = "/sim/faults"
PAUSE_POLL_S = 0.05

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

#: (method, path under /trade-api/v2) -> operation name a rule can be scoped to (`ops`)
_OPS: tuple[tuple[str, re.Pattern[str], str], ...] = (
    ("POST", re.compile(r"^/portfolio/events/orders$"), "order_create"),
    ("POST", re.compile(r"^/portfolio/events/orders/batched$"), "batch_create"),
    ("DELETE", re.compile(r"^/portfolio/events/orders/batched$"), "batch_cancel"),
    ("DELETE", re.compile(r"^/portfolio/events/orders$"), "cancel_all"),
    ("DELETE", re.compile(r"^/portfolio/events/orders/[^/]+$"), "order_cancel"),
    ("POST", re.compile(r"^/portfolio/events/orders/[^/]+/amend$"), "order_amend"),
    ("POST", re.compile(r"^/portfolio/events/orders/[^/]+/decrease$"), "order_decrease"),
)

#: 5xx bodies in Kalshi's error shape; the code names the status so a client can log it
_SERVER_ERRORS = {
    500: ("internal_server_error", "internal server error"),
    502: ("bad_gateway", "bad gateway"),
    503: ("service_unavailable", "service unavailable"),
    504: ("gateway_timeout", "gateway timeout"),
}


class FaultsBody(msgspec.Struct, forbid_unknown_fields=True):
    profile: str | None = None
    rules: list[FaultRule] = []
    seed: int | None = None
    append: bool = False


def faults_of(app: web.Application) -> Faults:
    return app[STATE].extras[EXTRA_KEY]


def server_error_body(status: int) -> dict[str, Any]:
    code, message = _SERVER_ERRORS[status]
    return {"error": {"code": code, "message": message,
                      "details": "injected by the simulator's fault layer; the request was not acted on"}}


def _op(method: str, api_path: str | None) -> str | None:
    if api_path is None:
        return None
    for op_method, pattern, name in _OPS:
        if method == op_method and pattern.match(api_path):
            return name
    return None


async def _markets(request: web.Request) -> frozenset[str]:
    """Market tickers a request is about: from the path, the query, or an order body (batch items too)."""
    found = {t for t in (request.match_info.get("ticker"), request.query.get("ticker")) if t}
    if request.method in ("POST", "PUT", "DELETE") and request.can_read_body:
        with contextlib.suppress(ValueError, msgspec.DecodeError):
            body = msgspec.json.decode(await request.read())  # aiohttp caches it for the handler
            items = body.get("orders", [body]) if isinstance(body, dict) else []
            found.update(i["ticker"] for i in items if isinstance(i, dict) and isinstance(i.get("ticker"), str))
    return frozenset(found)


@web.middleware
async def faults_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    faults = request.app[STATE].extras.get(EXTRA_KEY)
    path = request.path
    if faults is None or not faults.has_rest or not (path.startswith(API_PREFIX) or path == WS_PATH):
        return await handler(request)
    api_path = path[len(API_PREFIX):] if path.startswith(API_PREFIX + "/") else None
    call = RestCall(method=request.method, path=path, api_path=api_path, op=_op(request.method, api_path),
                    account_id=request.get(ACCOUNT_ID),
                    markets=await _markets(request) if faults.needs_markets else frozenset())
    refusal = faults.before_request(call)
    if refusal is not None:
        if refusal.rule.kind == "rate_limit":
            return web.json_response(TOO_MANY_REQUESTS_BODY, status=429)
        status = refusal.rule.status or 503
        return web.json_response(server_error_body(status), status=status)
    response = await handler(request)
    if response.status >= 400 or isinstance(response, web.WebSocketResponse):
        return response  # only answers to requests the exchange accepted are lost or slowed
    body = response.body if isinstance(response, web.Response) and isinstance(response.body, bytes) else None
    after = faults.after_response(call, body)
    if after is None:
        return response
    if after.rule.kind == "slow":
        await asyncio.sleep(after.rule.delay_s or 0)
        return response
    if after.rule.status is not None:
        return web.json_response(server_error_body(after.rule.status), status=after.rule.status)
    # The exchange has acted; the client never hears about it. Aborting the transport makes aiohttp's
    # write of this response fail as a client disconnect, and the client sees the connection drop.
    if request.transport is not None:
        request.transport.abort()
    return response


# --- admin routes ---------------------------------------------------------------------------------


def _invalid(details: str) -> ExchangeError:
    return ExchangeError(400, "invalid_parameters", "invalid parameters", details)


def _answer(request: web.Request) -> web.Response:
    return web.json_response({**faults_of(request.app).describe(),
                              "profiles": {name: text for name, (text, _) in PROFILES.items()}})


async def get_faults(request: web.Request) -> web.Response:
    return _answer(request)


async def set_faults(request: web.Request) -> web.Response:
    body = convert(await read_json_object(request), FaultsBody)
    faults = faults_of(request.app)
    try:
        rules = (profile_rules(body.profile) if body.profile is not None else []) + list(body.rules)
        faults.configure(rules, profile=body.profile, seed=body.seed, append=body.append)
    except RuleError as exc:
        raise _invalid(str(exc)) from None
    faults.apply_pauses(request.app[STATE].exchange)  # a pause rule takes effect before we answer
    return _answer(request)


async def clear_faults(request: web.Request) -> web.Response:
    faults = faults_of(request.app)
    faults.clear()
    faults.apply_pauses(request.app[STATE].exchange)
    return _answer(request)


async def get_profiles(request: web.Request) -> web.Response:
    return web.json_response({name: text for name, (text, _) in PROFILES.items()})


async def get_log(request: web.Request) -> web.Response:
    faults = faults_of(request.app)
    since_text = request.query.get("since", "0")
    if not since_text.isdigit():
        raise _invalid(f"since={since_text!r}: expected a log entry id (a non-negative integer)")
    kind = request.query.get("kind") or None
    return web.json_response({"entries": faults.log.entries(int(since_text), kind),
                              "last_id": faults.log.last_id, "dropped": faults.log.dropped})


# --- wiring ---------------------------------------------------------------------------------------


async def _pause_forever(app: web.Application) -> None:
    state = app[STATE]
    while True:
        faults = state.extras.get(EXTRA_KEY)
        if faults is not None and faults.pauses_pending:
            try:
                faults.apply_pauses(state.exchange)
            except Exception:
                log.exception("applying fault-layer pauses failed; retrying")
        await asyncio.sleep(PAUSE_POLL_S)


async def _pause_ctx(app: web.Application) -> AsyncIterator[None]:
    task = asyncio.create_task(_pause_forever(app), name="faults-pauses")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def setup_faults_routes(app: web.Application) -> None:
    """Register /sim/faults*, the REST fault middleware and the pause task; hook the WebSocket tap."""
    state = app[STATE]
    faults = state.extras.get(EXTRA_KEY)
    if faults is None:
        faults = state.extras[EXTRA_KEY] = Faults(state.extras.get("seed"), sim_now_ms=state.clock.now_ms)
    from console.sim.kalshi_ws import (
        ws_settings,  # the WebSocket module owns its settings
    )

    faults.attach_ws(ws_settings(app))
    app.middlewares.append(faults_middleware)
    app.cleanup_ctx.append(_pause_ctx)
    r = app.router
    r.add_get(ADMIN, get_faults)
    r.add_post(ADMIN, set_faults)
    r.add_delete(ADMIN, clear_faults)
    r.add_get(f"{ADMIN}/profiles", get_profiles)
    r.add_get(f"{ADMIN}/log", get_log)
