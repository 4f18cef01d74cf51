"""The mirror's market WebSocket channel, `GET /ws/market` (polymarket-api.md 5.1).

Protocol, as the real channel speaks it:

- the first frame subscribes: `{"assets_ids": [...], "type": "market", "initial_dump": true,
  "custom_feature_enabled": false}`; later frames add or remove assets with
  `{"assets_ids": [...], "operation": "subscribe" | "unsubscribe"}` (`custom_feature_enabled` may be
  set on any of them; the latest value wins);
- on subscribe (unless `initial_dump` is false) the new assets' `book` messages arrive as one JSON
  array frame; every other message is a single JSON object per frame (messages.py lists them);
- the text frame `PING` is answered `PONG`; a connection that sends nothing for `idle_timeout_s`
  (default 30 s; clients PING every ~10 s) is closed;
- at most `max_assets` (500) assets per connection; further assets are ignored (no book), as the
  real venue does past ~500. Unknown asset ids are accepted and never produce data;
- a frame that is not PING and not a valid subscribe / operation gets the text reply
  `INVALID OPERATION` (the mirror's choice; the connection stays open).

Fan-out happens synchronously inside the mirror's step (no await), so a subscription's snapshot and
the changes after it are in order. Every data message passes `PolyConnection.send_data` (with an
optional `tap` in `PolyWsSettings`, the hook a fault layer uses); PONG and INVALID OPERATION bypass it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec
from aiohttp import WSMsgType, web

from console.sim.polymarket import messages as pm
from console.sim.polymarket.mirror import Changes, MarketState, Mirror

log = logging.getLogger(__name__)

WS_MARKET_PATH = "/ws/market"
_encode = msgspec.json.Encoder().encode
DataTap = Callable[["PolyConnection", Any, Callable[[Any], None]], None]


@dataclass
class PolyWsSettings:
    idle_timeout_s: float = 30.0
    max_assets: int = 500
    queue_limit: int = 20_000  # queued frames before a slow client is disconnected
    tap: DataTap | None = None


@dataclass(eq=False)
class PolyConnection:
    ws: web.WebSocketResponse
    settings: PolyWsSettings
    assets: dict[str, None] = field(default_factory=dict)  # ordered set
    custom: bool = False
    last_rx: float = field(default_factory=time.monotonic)
    frames_sent: int = 0
    closed: bool = False
    _queue: deque[str] = field(default_factory=deque)
    _wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._writer(), name="polymarket-ws-writer"),
                       asyncio.create_task(self._idle_watch(), name="polymarket-ws-idle")]

    def send_data(self, payload: Any) -> None:
        """The one path of every data message (a dict, or a list for the initial dump)."""
        tap = self.settings.tap
        if tap is None:
            self._enqueue(payload)
        else:
            tap(self, payload, self._enqueue)

    def send_text(self, text: str) -> None:
        """Control text (PONG, INVALID OPERATION): never tapped."""
        self._push(text)

    def _enqueue(self, payload: Any) -> None:
        self._push(payload if isinstance(payload, str) else _encode(payload).decode())

    def _push(self, text: str) -> None:
        if self.closed:
            return
        if len(self._queue) >= self.settings.queue_limit:
            log.warning("polymarket ws: client left %d frames unread; closing", len(self._queue))
            self.closed = True
            closing = asyncio.get_running_loop().create_task(self.ws.close(code=1011, message=b"slow consumer"))
            self._tasks.append(closing)  # keep a reference until close() collects it
            return
        self._queue.append(text)
        self._wakeup.set()

    async def _writer(self) -> None:
        try:
            while True:
                await self._wakeup.wait()
                self._wakeup.clear()
                while self._queue:
                    await self.ws.send_str(self._queue.popleft())
                    self.frames_sent += 1
        except (ConnectionResetError, RuntimeError):
            self.closed = True  # the socket went away under us; the handler cleans up

    async def _idle_watch(self) -> None:
        while not self.closed:
            await asyncio.sleep(min(1.0, self.settings.idle_timeout_s / 4))
            if time.monotonic() - self.last_rx > self.settings.idle_timeout_s:
                self.closed = True
                await self.ws.close(code=1000, message=b"no PING received")
                return

    async def close(self) -> None:
        self.closed = True
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if not self.ws.closed:
            with contextlib.suppress(Exception):
                await self.ws.close()


class PolyHub:
    """Subscriptions by asset id, and the mirror's publisher."""

    def __init__(self, settings: PolyWsSettings | None = None) -> None:
        self.settings = settings or PolyWsSettings()
        self.mirror: Mirror | None = None
        self.connections: set[PolyConnection] = set()
        self.subs: dict[str, set[PolyConnection]] = {}
        self._tops: dict[str, tuple[int | None, int | None]] = {}

    # --- subscriptions ------------------------------------------------------------------------------

    def handle_text(self, conn: PolyConnection, text: str) -> None:
        stripped = text.strip()
        if stripped == "PING":
            conn.send_text("PONG")
            return
        if stripped == "PONG":
            return
        try:
            cmd = msgspec.json.decode(text)
        except msgspec.DecodeError:
            conn.send_text("INVALID OPERATION")
            return
        assets = cmd.get("assets_ids") if isinstance(cmd, dict) else None
        operation = cmd.get("operation", "subscribe") if isinstance(cmd, dict) else None
        if (not isinstance(assets, list) or not all(isinstance(a, str) for a in assets)
                or operation not in ("subscribe", "unsubscribe")):
            conn.send_text("INVALID OPERATION")
            return
        custom = cmd.get("custom_feature_enabled")
        if isinstance(custom, bool):
            conn.custom = custom
        if operation == "unsubscribe":
            for asset in assets:
                conn.assets.pop(asset, None)
                self.subs.get(asset, set()).discard(conn)
            return
        added = []
        for asset in assets:
            if asset in conn.assets or len(conn.assets) >= self.settings.max_assets:
                continue
            conn.assets[asset] = None
            self.subs.setdefault(asset, set()).add(conn)
            added.append(asset)
        if cmd.get("initial_dump", True) is not False and self.mirror is not None:
            ts = str(self.mirror.now_ms())
            books = []
            for asset in added:
                found = self.mirror.token(asset)
                if found is not None and not found[0].closed:
                    books.append(pm.book_message(found[0], found[1], ts))
            if books:
                conn.send_data(books)

    def remove(self, conn: PolyConnection) -> None:
        self.connections.discard(conn)
        for asset in conn.assets:
            self.subs.get(asset, set()).discard(conn)

    # --- fan-out ------------------------------------------------------------------------------------

    def publish(self, ms: MarketState, changes: Changes, t_ms: int) -> None:
        tokens = ms.spec.token_ids
        listeners = self.subs.get(tokens[0], set()) | self.subs.get(tokens[1], set())
        tops = [ms.book.top(0), ms.book.top(1)]
        moved = [tops[i] != self._tops.get(tokens[i]) for i in (0, 1)]
        for i in (0, 1):
            self._tops[tokens[i]] = tops[i]
        if not listeners:
            return
        ts = str(t_ms)
        messages = pm.step_messages(ms, changes, ts)
        extra: list[dict[str, Any]] = []
        if any(c.custom for c in listeners):
            extra = [pm.best_bid_ask_message(ms, i, ts)[0] for i in (0, 1) if moved[i] and not ms.closed]
            if changes.resolved is not None:
                extra.append(pm.resolved_message(ms, ts))
        encoded: dict[Any, str] = {}
        for conn in listeners:
            wanted = frozenset(t for t in tokens if t in conn.assets)
            for index, msg in enumerate(messages):
                if msg["event_type"] == "price_change":
                    key = (index, wanted)
                    if key not in encoded:
                        entries = [e for e in msg["price_changes"] if e["asset_id"] in wanted]
                        encoded[key] = _encode({**msg, "price_changes": entries}).decode() if entries else ""
                    if encoded[key]:
                        conn.send_data(encoded[key])
                elif msg["asset_id"] in wanted:
                    if index not in encoded:
                        encoded[index] = _encode(msg).decode()
                    conn.send_data(encoded[index])
            if conn.custom:
                for msg in extra:
                    if msg.get("asset_id") in wanted or (msg["event_type"] == "market_resolved" and wanted):
                        conn.send_data(msg)

    async def close_all(self) -> None:
        for conn in list(self.connections):
            await conn.close()


HUB = web.AppKey("edgedesk_polymarket_hub", PolyHub)


async def handle_market_ws(request: web.Request) -> web.StreamResponse:
    hub = request.app[HUB]
    ws = web.WebSocketResponse(autoping=True, max_msg_size=1 << 20, timeout=2.0)
    await ws.prepare(request)
    conn = PolyConnection(ws, hub.settings)
    hub.connections.add(conn)
    conn.start()
    try:
        async for frame in ws:
            if frame.type == WSMsgType.TEXT:
                conn.last_rx = time.monotonic()
                hub.handle_text(conn, frame.data)
            elif frame.type == WSMsgType.BINARY:
                conn.last_rx = time.monotonic()
                conn.send_text("INVALID OPERATION")
            elif frame.type == WSMsgType.ERROR:
                break
    finally:
        hub.remove(conn)
        await conn.close()
    return ws
