"""The simulator's aiohttp application: middlewares, the exchange tick task, start-up and shutdown.

Middlewares, outermost first:

1. errors: `ExchangeError` -> its status with Kalshi's `{"error": {"code", "message", "details"}}`;
   unknown routes -> 404 `not_found`, wrong method -> 405 `method_not_allowed`; anything unhandled
   -> 500 `internal_error` (logged with its traceback).
2. auth: private paths (`/portfolio`, `/account`, `/api_keys`, `/communications`, private history and
   the WebSocket handshake) need the three KALSHI-ACCESS-* headers; the caller's account id lands at
   `request[ACCOUNT_ID]`. Public market data needs no signature, but a request that carries one is
   checked all the same (so the desk finds out about a broken signer on its first call). 401 codes:
     authentication_error  a header is missing, or the timestamp is not an integer
     stale_timestamp       the timestamp is more than 30 s away from the simulator's real wall clock
     unknown_api_key       the key id is not registered (or its account is gone)
     invalid_signature     the signature does not verify over timestamp + METHOD + path (no query)
   The window uses real time (time.time), not the simulated clock, because the desk signs with its
   own wall clock whatever speed the world runs at.
3. rate limit (console.sim.ratelimit): per account for signed requests, per remote address for
   unsigned public reads; the admin surface (/sim) is not limited.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import os
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from console.sim.model import ExchangeError
from console.sim.ratelimit import (
    READ,
    TOO_MANY_REQUESTS_BODY,
    RateLimiter,
    bucket_kind,
    request_cost,
)
from console.sim.state import ACCOUNT_ID, API_PREFIX, STATE, WS_PATH, SimState
from console.venues.kalshi.auth import (
    HEADER_KEY,
    HEADER_SIGNATURE,
    HEADER_TIMESTAMP,
    verify_signature,
)

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

TIMESTAMP_WINDOW_MS = 30_000
TICK_INTERVAL_S = 0.05
RATELIMIT_EXTRA = "ratelimit"
PUBLIC_TIER_EXTRA = "public_read_tier"
ADMIN_PREFIX = "/sim"
_PRIVATE_PREFIXES = tuple(
    API_PREFIX + p
    for p in ("/portfolio", "/account", "/api_keys", "/communications",
              "/historical/fills", "/historical/orders", "/historical/positions")
)
#: route modules owned by other parts of the simulator, wired in when present
_ROUTE_MODULES = (
    ("console.sim.kalshi_api", "setup_kalshi_routes"),
    ("console.sim.admin", "setup_admin_routes"),
    ("console.sim.kalshi_ws", "setup_ws"),
    ("console.sim.faults_admin", "setup_faults_routes"),
    ("console.sim.world.data", "setup_data_routes"),  # answers 503 world_not_running without a world
)


def error_response(status: int, code: str, message: str, details: str = "") -> web.Response:
    error: dict[str, str] = {"code": code, "message": message}
    if details:
        error["details"] = details
    return web.json_response({"error": error}, status=status)


def requires_auth(path: str) -> bool:
    return path == WS_PATH or path.startswith(_PRIVATE_PREFIXES)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ExchangeError as exc:
        return error_response(exc.status, exc.code, exc.message, exc.details)
    except web.HTTPException as exc:
        # the router's own 404/405 have a plain-text body; give them Kalshi's error shape
        if request.match_info.http_exception is exc and exc.status in (404, 405):
            if exc.status == 404:
                return error_response(404, "not_found", "not found", f"no endpoint {request.method} {request.path}")
            return error_response(405, "method_not_allowed", "method not allowed",
                                  f"{request.method} is not supported on {request.path}")
        raise
    except (asyncio.CancelledError, ConnectionResetError):
        raise
    except Exception:
        log.exception("unhandled error in %s %s", request.method, request.path)
        return error_response(500, "internal_error", "internal server error",
                              "the simulator hit a bug; see its log")


def _authenticate(state: SimState, request: web.Request, now_ms: int) -> tuple[str | None, web.Response | None]:
    """(account_id, None) when the request is validly signed, else (None, a 401 response)."""
    key_id = request.headers.get(HEADER_KEY)
    timestamp = request.headers.get(HEADER_TIMESTAMP)
    signature = request.headers.get(HEADER_SIGNATURE)
    if not key_id or not timestamp or not signature:
        missing = [h for h, v in ((HEADER_KEY, key_id), (HEADER_TIMESTAMP, timestamp), (HEADER_SIGNATURE, signature)) if not v]
        return None, error_response(401, "authentication_error", "authentication required",
                                    f"missing header(s) {', '.join(missing)}; sign the request with your API key")
    if not timestamp.isdigit():
        return None, error_response(401, "authentication_error", "bad timestamp",
                                    f"{HEADER_TIMESTAMP} must be Unix time in milliseconds")
    skew = int(timestamp) - now_ms
    if abs(skew) > TIMESTAMP_WINDOW_MS:
        return None, error_response(
            401, "stale_timestamp", "request timestamp outside the allowed window",
            f"timestamp is {skew / 1000:+.1f} s from the server clock (allowed +-{TIMESTAMP_WINDOW_MS // 1000} s); "
            "check the machine's clock",
        )
    entry = state.keys.get(key_id)
    if entry is None or entry[0] not in state.exchange.accounts:
        return None, error_response(401, "unknown_api_key", "unknown API key",
                                    "the KALSHI-ACCESS-KEY is not registered with this simulator")
    account_id, public_key = entry
    raw_path = request.raw_path.split("?", 1)[0]
    ok = verify_signature(public_key, timestamp, request.method, raw_path, signature)
    if not ok and request.path != raw_path:
        # a client may sign the decoded path; the SDK signs the percent-encoded one
        ok = verify_signature(public_key, timestamp, request.method, request.path, signature)
    if not ok:
        return None, error_response(401, "invalid_signature", "invalid signature",
                                    "the signature does not verify over timestamp + METHOD + path (without query)")
    return account_id, None


def make_auth_middleware(wall_ms: Callable[[], int]) -> Callable[..., Any]:
    @web.middleware
    async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        needs_auth = requires_auth(request.path)
        if needs_auth or HEADER_KEY in request.headers:
            account_id, refusal = _authenticate(request.app[STATE], request, wall_ms())
            if refusal is not None:
                return refusal
            request[ACCOUNT_ID] = account_id
        return await handler(request)

    return auth_middleware


@web.middleware
async def ratelimit_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    path = request.path
    if not (path.startswith(API_PREFIX) or path == WS_PATH):
        return await handler(request)
    state = request.app[STATE]
    limiter: RateLimiter = state.extras[RATELIMIT_EXTRA]
    api_path = path.removeprefix(API_PREFIX)
    kind = bucket_kind(request.method, api_path)
    body: Any = None
    if request.method in ("POST", "DELETE") and api_path.endswith("/batched") and request.can_read_body:
        with contextlib.suppress(ValueError):  # a bad body is the handler's 400, billed as one unit
            body = await request.json()  # aiohttp caches the body, the handler reads it again
    cost = request_cost(request.method, api_path, body)
    account_id = request.get(ACCOUNT_ID)
    if account_id is not None:
        account = state.exchange.accounts.get(account_id)
        caller, tier = account_id, getattr(account, "tier", "basic")
    else:
        caller, tier, kind = f"ip:{request.remote}", state.extras.get(PUBLIC_TIER_EXTRA, "basic"), READ
    if not limiter.try_acquire(caller, tier, kind, cost):
        return web.json_response(TOO_MANY_REQUESTS_BODY, status=429)
    return await handler(request)


async def _tick_forever(state: SimState) -> None:
    failures = 0
    while True:
        try:
            state.exchange.tick()
            failures = 0
        except Exception:
            failures += 1
            if failures == 1 or failures % 200 == 0:  # once, then every ~10 s while it keeps failing
                log.exception("exchange tick failed (%d in a row); the simulator keeps running", failures)
        await asyncio.sleep(TICK_INTERVAL_S)


async def _tick_ctx(app: web.Application) -> Any:
    task = asyncio.create_task(_tick_forever(app[STATE]), name="exchange-tick")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def _install_routes(app: web.Application) -> None:
    for module_name, setup_name in _ROUTE_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                log.exception("%s failed to import; its routes are not served", module_name)
            else:
                log.warning("%s is not available yet; its routes are not served", module_name)
            continue
        except Exception:
            # one broken route module must not take the whole simulator (and every test) down with it
            log.exception("%s failed to import; its routes are not served", module_name)
            continue
        getattr(module, setup_name)(app)


def build_app(state: SimState, *, wall_ms: Callable[[], int] | None = None,
              install_routes: bool = True) -> web.Application:
    """The simulator's application; routes from kalshi_api / admin / kalshi_ws are added when present.

    `wall_ms` (tests) replaces the real clock used for the signature timestamp window;
    `install_routes=False` (tests) gives the bare middleware stack for probe routes.
    """
    state.extras.setdefault(RATELIMIT_EXTRA, RateLimiter())
    clock = wall_ms or (lambda: int(time.time() * 1000))
    app = web.Application(middlewares=[error_middleware, make_auth_middleware(clock), ratelimit_middleware])
    app[STATE] = state
    app.cleanup_ctx.append(_tick_ctx)
    if install_routes:
        _install_routes(app)
    return app


def default_key_dir() -> Path:
    home = os.environ.get("EDGEDESK_HOME")
    base = Path(home).expanduser() if home else Path.home() / ".local" / "share" / "edgedesk"
    return base / "sim-keys"


def make_state(*, key_dir: str | os.PathLike[str], accounts: int, balance_micros: int,
               seed: int | None, speed: float, demo_markets: bool = True, faults: str = "none") -> SimState:
    """A fresh exchange with the desk's and test accounts provisioned (and the demo markets, if asked).

    `faults` names a fault profile (console.sim.faults_rules.PROFILES); an unknown name raises ValueError.
    """
    from console.sim.clock import SimClock
    from console.sim.exchange import Exchange
    from console.sim.faults import EXTRA_KEY as FAULTS_EXTRA
    from console.sim.faults import Faults
    from console.sim.keys import provision_key_dir

    clock = SimClock(speed=speed)
    state = SimState(exchange=Exchange(clock), clock=clock)
    state.extras["seed"] = seed
    state.extras[FAULTS_EXTRA] = Faults(seed, faults, sim_now_ms=clock.now_ms)
    state.extras["key_dir"] = str(Path(key_dir).expanduser().resolve())
    state.extras["accounts"] = provision_key_dir(state, key_dir, accounts, balance_micros)
    if demo_markets:
        from console.sim.demo_markets import add_demo_markets

        add_demo_markets(state.exchange, clock.now_ms())
    return state


async def start_sim(host: str, port: int, key_dir: str | os.PathLike[str], accounts: int, balance_micros: int,
                    seed: int | None, speed: float, *, demo_markets: bool = True,
                    faults: str = "none", polymarket_port: int | None = None, world: bool = False,
                    reveal_truth: bool = False) -> tuple[web.AppRunner, int]:
    """Build and start the simulator; returns the runner (await runner.cleanup() to stop) and the bound port.

    `polymarket_port` (0 = any free port) also serves the Polymarket mirror on its own port; its URL is
    then at `state.extras["polymarket"].url` (console.sim.polymarket).
    """
    state = make_state(key_dir=key_dir, accounts=accounts, balance_micros=balance_micros, seed=seed,
                       speed=speed, demo_markets=demo_markets, faults=faults)
    app = build_app(state)
    if world:
        from console.sim.world import install_world

        install_world(app, seed=seed, reveal_truth=reveal_truth)
    if polymarket_port is not None:
        from console.sim.polymarket import install_polymarket

        install_polymarket(app, host=host, port=polymarket_port)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    sockets = getattr(site._server, "sockets", None) or []  # aiohttp has no public accessor for the bound port
    actual_port = sockets[0].getsockname()[1] if sockets else port
    return runner, actual_port


def run_sim(host: str, port: int, key_dir: str | os.PathLike[str], accounts: int, balance_micros: int,
            seed: int | None, speed: float, *, demo_markets: bool = True, faults: str = "none",
            polymarket_port: int | None = None, world: bool = False, reveal_truth: bool = False) -> None:
    """Start the simulator, print its "listening" line (and the Polymarket mirror's line when it runs),
    serve until SIGINT/SIGTERM, shut down cleanly."""

    async def main() -> None:
        runner, actual_port = await start_sim(host, port, key_dir, accounts, balance_micros, seed, speed,
                                              demo_markets=demo_markets, faults=faults,
                                              polymarket_port=polymarket_port, world=world,
                                              reveal_truth=reveal_truth)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        shown_host = f"[{host}]" if ":" in host else host
        print(f"edgedesk sim listening on http://{shown_host}:{actual_port} "
              f"(keys in {Path(key_dir).expanduser().resolve()})", flush=True)
        mirror = runner.app[STATE].extras.get("polymarket")
        if mirror is not None and mirror.url:
            print(f"edgedesk sim polymarket on {mirror.url}", flush=True)
        try:
            await stop.wait()
        finally:
            await runner.cleanup()
            log.info("edgedesk sim stopped")

    asyncio.run(main())
    sys.stdout.flush()
