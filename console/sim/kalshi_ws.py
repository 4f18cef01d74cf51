"""The simulator's Kalshi WebSocket API: `GET /trade-api/ws/v2` (kalshi-api.md section 9).

`setup_ws(app)` registers the route and, once the app has its `SimState`, one `WsHub` listener on the
exchange core. The server's auth middleware checks the handshake signature (path `WS_PATH`) and puts
the account at `request[ACCOUNT_ID]`; a request without it is refused with 401 here too, so the
socket is never opened unauthenticated.

Module map:
- ws_connection: a client connection (bounded queue + writer task, heartbeat pings, the data tap)
- ws_hub: the exchange listener that fans events out to subscriptions
- ws_commands: subscribe / unsubscribe / update_subscription / list_subscriptions
- ws_messages: the channel payloads in Kalshi's wire shapes

Tunables live in `state.extras["kalshi_ws"]` (a `WsSettings`): heartbeat interval, queue limit and
the fault-injection tap, read when each connection opens (the tap on every message).
"""

from __future__ import annotations

import logging

from aiohttp import WSMsgType, web

from console.sim.state import ACCOUNT_ID, STATE, WS_PATH
from console.sim.ws_commands import handle_text
from console.sim.ws_connection import Connection, WsSettings
from console.sim.ws_hub import WsHub

log = logging.getLogger(__name__)

HUB = web.AppKey("edgedesk_kalshi_ws_hub", WsHub)
SETTINGS_KEY = "kalshi_ws"
#: commands are small; a client sending megabytes is broken
_MAX_COMMAND_BYTES = 1 << 20
_CLOSE_TIMEOUT_S = 2.0


def ws_settings(app: web.Application) -> WsSettings:
    """The app's WebSocket settings, created with defaults on first use."""
    extras = app[STATE].extras
    settings = extras.get(SETTINGS_KEY)
    if settings is None:
        settings = extras[SETTINGS_KEY] = WsSettings()
    return settings


def _install_hub(app: web.Application) -> WsHub:
    if HUB in app:
        return app[HUB]
    exchange = app[STATE].exchange
    hub = WsHub(exchange)
    exchange.add_listener(hub.on_event)
    app[HUB] = hub
    ws_settings(app)
    return hub


async def _on_startup(app: web.Application) -> None:
    _install_hub(app)


async def _on_shutdown(app: web.Application) -> None:
    if HUB in app:
        await app[HUB].close_all()


async def handle_ws(request: web.Request) -> web.StreamResponse:
    account_id = request.get(ACCOUNT_ID)
    if not account_id:
        # the auth middleware should have refused already; never open an unauthenticated socket
        raise web.HTTPUnauthorized(
            text='{"error": {"code": "unauthorized", "message": "sign the WebSocket handshake (KALSHI-ACCESS-* headers)"}}',
            content_type="application/json",
        )
    app = request.app
    hub = _install_hub(app)
    # timeout: how long close() waits for the client's close frame; short, so a dead client cannot
    # hold up the simulator's shutdown
    ws = web.WebSocketResponse(autoping=True, max_msg_size=_MAX_COMMAND_BYTES, timeout=_CLOSE_TIMEOUT_S)
    await ws.prepare(request)
    conn = Connection(ws=ws, account_id=account_id, hub=hub, settings=ws_settings(app))
    hub.connections.add(conn)
    conn.start()
    try:
        async for frame in ws:
            if frame.type == WSMsgType.TEXT:
                handle_text(conn, frame.data)
            elif frame.type == WSMsgType.BINARY:
                conn.send_error(None, 1, "commands are JSON text frames, not binary")
            elif frame.type == WSMsgType.ERROR:
                log.debug("ws connection of %s failed: %s", account_id, ws.exception())
                break
    finally:
        await conn.close()
    return ws


def setup_ws(app: web.Application) -> None:
    """Register `GET /trade-api/ws/v2` and the exchange listener on `app`."""
    app.router.add_get(WS_PATH, handle_ws)
    if STATE in app:
        _install_hub(app)
    else:
        app.on_startup.append(_on_startup)
    app.on_shutdown.append(_on_shutdown)
