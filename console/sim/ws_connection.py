"""One Kalshi WebSocket client connection: its subscriptions, outgoing queue, writer and heartbeat.

The exchange core calls the fan-out synchronously, so nothing here may block or await on the
exchange's behalf: messages are appended to a per-connection queue and a writer task sends them.

- Data messages (channel traffic) all pass through `Connection.send_data`, the single point where a
  fault-injection layer can drop, duplicate, delay/reorder or re-number them (`WsSettings.tap`).
- Control replies (subscribed, ok, unsubscribed, list, errors) use `send_reply` and bypass the tap.
- The queue is bounded for data: when a slow client lets it reach `WsSettings.queue_limit` messages,
  the subscription whose message did not fit is dropped, its queued messages are discarded, and the
  client gets error 25 "subscription buffer overflow" (terminal; resubscribe), like Kalshi.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import msgspec
from aiohttp import web

if TYPE_CHECKING:
    from console.sim.ws_hub import WsHub

log = logging.getLogger(__name__)

#: channels whose messages carry a per-subscription `seq` (kalshi-api.md 9.4)
SEQUENCED_CHANNELS = frozenset({"orderbook_delta", "trade", "market_lifecycle_v2", "order_group_updates"})

#: error codes and Kalshi's messages for them (kalshi-api.md 9.3)
ERROR_TEXT = {
    1: "Unable to process message",
    2: "Params required",
    3: "Channels required",
    4: "Subscription IDs required",
    5: "Unknown command",
    7: "Unknown subscription ID",
    8: "Unknown channel name",
    10: "Channel error",
    11: "Invalid parameter",
    12: "Exactly one subscription ID is required",
    13: "Unsupported action",
    14: "Market Ticker required",
    15: "Action required",
    25: "Subscription buffer overflow",
}


class DataTap(Protocol):
    """A fault layer's hook: decide what happens to one data message.

    Called with the connection, the subscription and the complete envelope (`seq` already assigned);
    call `deliver(envelope)` zero, one or more times, now or later, to put messages on the wire queue.
    """

    def __call__(
        self, conn: Connection, sub: Subscription, envelope: dict[str, Any], deliver: Callable[[dict[str, Any]], None]
    ) -> None: ...


@dataclass
class WsSettings:
    """Tunables, kept in `state.extras["kalshi_ws"]` so tests and the fault layer can change them."""

    heartbeat_s: float = 10.0  # Kalshi pings every 10 s with payload "heartbeat"
    queue_limit: int = 20_000  # queued data messages per connection before error 25
    tap: DataTap | None = None  # fault injection (next issue); None = deliver as is
    max_control_backlog: int = 10_000  # replies a client may leave unread before we close it


@dataclass(eq=False)
class Subscription:
    """One `sid`: a channel, its market filter and its sequence counter."""

    sid: int
    channel: str
    conn: Connection
    #: ordered set of market tickers; None = all markets (channels where the filter is optional)
    tickers: dict[str, None] | None
    use_yes_price: bool = False
    skip_ticker_ack: bool = False
    seq: int = 0
    alive: bool = True

    @property
    def sequenced(self) -> bool:
        return self.channel in SEQUENCED_CHANNELS

    def wants(self, ticker: str) -> bool:
        return self.tickers is None or ticker in self.tickers

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq


@dataclass(eq=False, slots=True)
class _Queued:
    sid: int | None  # None for control replies (never purged)
    envelope: dict[str, Any]
    data: bool


@dataclass(eq=False)
class Connection:
    """State of one client socket; created by the handler after an authenticated handshake."""

    ws: web.WebSocketResponse
    account_id: str
    hub: WsHub
    settings: WsSettings
    subs: dict[int, Subscription] = field(default_factory=dict)
    _next_sid: int = 1
    _queue: deque[_Queued] = field(default_factory=deque)
    _data_queued: int = 0
    _wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    closed: bool = False
    _closing: asyncio.Task[bool] | None = None

    # --- subscriptions ----------------------------------------------------------------------

    def new_subscription(self, channel: str, tickers: dict[str, None] | None, **flags: bool) -> Subscription:
        sub = Subscription(self._next_sid, channel, self, tickers, **flags)
        self._next_sid += 1
        self.subs[sub.sid] = sub
        self.hub.attach(sub)
        return sub

    def drop_subscription(self, sub: Subscription) -> None:
        sub.alive = False
        self.subs.pop(sub.sid, None)
        self.hub.detach(sub)

    def channel_subscription(self, channel: str) -> Subscription | None:
        for sub in self.subs.values():
            if sub.channel == channel:
                return sub
        return None

    # --- outgoing ---------------------------------------------------------------------------

    def publish(self, sub: Subscription, msg_type: str, msg: dict[str, Any], **extra: Any) -> None:
        """Build the envelope for one channel message (assigning `seq` if sequenced) and send it."""
        if not sub.alive or self.closed:
            return
        envelope: dict[str, Any] = {"type": msg_type, "sid": sub.sid}
        if sub.sequenced:
            envelope["seq"] = sub.next_seq()
        envelope.update(extra)
        envelope["msg"] = msg
        self.send_data(sub, envelope)

    def send_data(self, sub: Subscription, envelope: dict[str, Any]) -> None:
        """The one path every outgoing data message takes (fault-injection hook)."""
        tap = self.settings.tap
        if tap is None:
            self._enqueue_data(sub, envelope)
        else:
            tap(self, sub, envelope, lambda env: self._enqueue_data(sub, env))

    def send_reply(self, envelope: dict[str, Any]) -> None:
        """Queue a control reply; never subject to the data limit or the tap."""
        if self.closed:
            return
        if len(self._queue) - self._data_queued >= self.settings.max_control_backlog:
            log.warning("ws client %s left %d replies unread; closing", self.account_id, len(self._queue))
            self._abort()
            return
        self._queue.append(_Queued(None, envelope, data=False))
        self._wakeup.set()

    def send_error(self, cmd_id: int | None, code: int, detail: str = "", **extra: Any) -> None:
        text = ERROR_TEXT[code] + (f": {detail}" if detail else "")
        envelope: dict[str, Any] = {}
        if cmd_id:
            envelope["id"] = cmd_id
        envelope["type"] = "error"
        sid = extra.pop("sid", None)
        if sid is not None:
            envelope["sid"] = sid
        seq = extra.pop("seq", None)
        if seq is not None:
            envelope["seq"] = seq
        envelope["msg"] = {"code": code, "msg": text, **extra}
        self.send_reply(envelope)

    def _enqueue_data(self, sub: Subscription, envelope: dict[str, Any]) -> None:
        if not sub.alive or self.closed:
            return
        if self._data_queued >= self.settings.queue_limit:
            self._overflow(sub)
            return
        self._queue.append(_Queued(sub.sid, envelope, data=True))
        self._data_queued += 1
        self._wakeup.set()

    def _overflow(self, sub: Subscription) -> None:
        # Drop the subscription that did not fit and free the room its backlog held, so the client's
        # other subscriptions keep flowing; the client must resubscribe (Kalshi error 25 is terminal).
        self.drop_subscription(sub)
        kept = deque(q for q in self._queue if q.sid != sub.sid)
        self._data_queued -= len(self._queue) - len(kept)
        self._queue = kept
        log.info("ws client %s: sid %d (%s) overflowed its buffer; dropped", self.account_id, sub.sid, sub.channel)
        self.send_error(
            None, 25, f"{sub.channel} subscription dropped; subscribe to less or read faster",
            sid=sub.sid, seq=sub.next_seq(),
        )

    # --- tasks ------------------------------------------------------------------------------

    def start(self) -> None:
        self._tasks.append(asyncio.create_task(self._writer(), name=f"ws-writer-{self.account_id}"))
        if self.settings.heartbeat_s > 0:
            self._tasks.append(asyncio.create_task(self._heartbeat(), name=f"ws-heartbeat-{self.account_id}"))

    async def _writer(self) -> None:
        encode = msgspec.json.encode
        try:
            while not self.closed:
                if not self._queue:
                    self._wakeup.clear()
                    await self._wakeup.wait()
                    continue
                item = self._queue.popleft()
                if item.data:
                    self._data_queued -= 1
                await self.ws.send_str(encode(item.envelope).decode())
        except (ConnectionError, RuntimeError) as exc:
            # the peer went away mid-send (aiohttp raises ConnectionResetError / RuntimeError on closing)
            log.debug("ws writer for %s stopped: %s", self.account_id, exc)
            self._abort()
        except asyncio.CancelledError:
            raise
        except Exception:
            # e.g. a payload that cannot be encoded: a bug. Close the socket rather than go silent, so
            # the client notices and resubscribes instead of trusting a feed that stopped.
            log.exception("ws writer for %s failed; closing the connection", self.account_id)
            self._abort()

    async def _heartbeat(self) -> None:
        try:
            while not self.closed:
                await asyncio.sleep(self.settings.heartbeat_s)
                await self.ws.ping(b"heartbeat")
        except (ConnectionError, RuntimeError) as exc:
            log.debug("ws heartbeat for %s stopped: %s", self.account_id, exc)

    def _abort(self) -> None:
        """Stop routing to this connection and make the handler's read loop end."""
        if self.closed:
            return
        self.closed = True
        for sub in list(self.subs.values()):
            self.drop_subscription(sub)
        self._queue.clear()
        self._data_queued = 0
        self._wakeup.set()
        self._closing = asyncio.get_running_loop().create_task(self.ws.close())  # keep a reference

    async def close(self) -> None:
        """Tear down after the socket ended (idempotent)."""
        self.closed = True
        for sub in list(self.subs.values()):
            self.drop_subscription(sub)
        self._wakeup.set()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        self.hub.connections.discard(self)
