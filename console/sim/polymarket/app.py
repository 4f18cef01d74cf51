"""The mirror's own aiohttp application and port, started and stopped with the simulator's app.

One port serves all of the mirror (the real venue uses three hosts):

    CLOB REST      http://127.0.0.1:<port>/...            (clob.py)
    Gamma          http://127.0.0.1:<port>/gamma/...      (gamma.py)
    market WS      ws://127.0.0.1:<port>/ws/market        (ws.py)
    simulator      GET /sim/pairs                          the mirrored pairs and how each differs
                   POST /sim/tick-size {"condition_id", "tick_size": "0.001" | "0.01" | "auto"}
                                                           pin a market's tick (tests), "auto" to release

`install_polymarket(app, host=..., port=...)` (called by `start_sim` before the simulator starts)
adds a cleanup context to the simulator's app that binds the mirror's port on start-up, attaches the
mirror to the world (at once when `state.extras["world"]` exists, else as soon as it appears) and
closes everything on shutdown. The bound port and URL are in `state.extras["polymarket"]`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web

from console.sim.polymarket.clob import setup_clob_routes
from console.sim.polymarket.gamma import setup_gamma_routes
from console.sim.polymarket.mirror import COARSE_TICK, FINE_TICK, MirrorParams
from console.sim.polymarket.service import EXTRA_KEY, SERVICE, PolyService, mirror_of
from console.sim.polymarket.ws import HUB, WS_MARKET_PATH, handle_market_ws
from console.sim.state import STATE

log = logging.getLogger(__name__)

WORLD_EXTRA = "world"
_TICKS = {"0.01": COARSE_TICK, "0.001": FINE_TICK}


@web.middleware
async def _errors(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]):
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.content_type == "application/json" or exc.status < 400:
            raise
        return web.json_response({"error": exc.reason or "error"}, status=exc.status)
    except (asyncio.CancelledError, ConnectionResetError):
        raise
    except Exception:
        log.exception("polymarket mirror: unhandled error in %s %s", request.method, request.path)
        return web.json_response({"error": "internal error in the simulator's Polymarket mirror"}, status=500)


async def pairs(request: web.Request) -> web.Response:
    mirror = mirror_of(request)
    return web.json_response([{
        "market_id": ms.spec.market_id, "slug": ms.spec.slug, "question": ms.spec.question,
        "condition_id": ms.spec.condition_id, "token_ids": list(ms.spec.token_ids), "outcomes": list(ms.spec.outcomes),
        "kalshi_ticker": ms.spec.kalshi_ticker, "kalshi_yes_token_id": ms.spec.token_ids[ms.spec.kalshi_yes_index],
        "relation": ms.spec.relation, "variant": ms.spec.variant, "differences": list(ms.spec.differences),
        "fee_rate": ms.spec.fee_rate, "closed": ms.closed,
    } for ms in mirror.markets])


async def pin_tick(request: web.Request) -> web.Response:
    mirror = mirror_of(request)
    try:
        body = await request.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return web.json_response({"error": 'body must be {"condition_id", "tick_size"}'}, status=400)
    ms = mirror.by_condition.get(str(body.get("condition_id")))
    if ms is None or ms.closed:
        return web.json_response({"error": "no open mirrored market with that condition_id"}, status=404)
    raw = body.get("tick_size")
    if raw == "auto":
        ms.pinned_tick = None
        return web.json_response({"condition_id": ms.spec.condition_id, "tick_size": "auto"})
    if raw not in _TICKS:
        return web.json_response({"error": 'tick_size must be "0.01", "0.001" or "auto"'}, status=400)
    mirror.pin_tick(ms, _TICKS[raw], mirror.now_ms())
    return web.json_response({"condition_id": ms.spec.condition_id, "tick_size": raw})


async def _not_found(request: web.Request) -> web.Response:
    return web.json_response({"error": f"no endpoint {request.method} {request.path} on the Polymarket mirror"},
                             status=404)


def build_polymarket_app(service: PolyService) -> web.Application:
    app = web.Application(middlewares=[_errors])
    app[SERVICE] = service
    app[HUB] = service.hub
    setup_clob_routes(app)
    setup_gamma_routes(app)
    app.router.add_get(WS_MARKET_PATH, handle_market_ws)
    app.router.add_get("/sim/pairs", pairs)
    app.router.add_post("/sim/tick-size", pin_tick)
    app.router.add_route("*", "/{tail:.*}", _not_found)
    return app


async def _attach_when_ready(service: PolyService) -> None:
    while service.mirror is None:
        world = service.state.extras.get(WORLD_EXTRA)
        if world is not None:
            service.attach(world)
            return
        await asyncio.sleep(0.1)


def install_polymarket(app: web.Application, *, host: str = "127.0.0.1", port: int = 0,
                       params: MirrorParams | None = None) -> PolyService:
    """Serve the mirror on its own port for the life of the simulator's `app` (see the module docstring)."""
    state = app[STATE]
    service = PolyService(state, params=params)
    state.extras[EXTRA_KEY] = service

    async def run_mirror(_app: web.Application) -> AsyncIterator[None]:
        runner = web.AppRunner(build_polymarket_app(service), access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        sockets = getattr(site._server, "sockets", None) or []  # aiohttp has no public accessor for the port
        service.port = sockets[0].getsockname()[1] if sockets else port
        shown = f"[{host}]" if ":" in host else host
        service.url = f"http://{shown}:{service.port}"
        world = state.extras.get(WORLD_EXTRA)
        if world is not None:
            service.attach(world)  # before the world's first step: the mirror starts from the seed's state
        watcher = asyncio.create_task(_attach_when_ready(service), name="polymarket-attach")
        yield
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
        await service.hub.close_all()
        await runner.cleanup()

    app.cleanup_ctx.append(run_mirror)
    return service
