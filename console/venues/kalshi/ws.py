"""Kalshi WebSocket client: signed connection, subscriptions, sequence checks, repair and reconnect.

    feed = KalshiWs(ws_url, signer, sink=queue.put_nowait)
    await feed.start()                                        # connect (signed handshake)
    await feed.subscribe("orderbook_delta", ["KX-A", "KX-B"])
    await feed.subscribe("fill")

What it guarantees the desk:

- One subscription per channel (Kalshi merges repeated subscribes per channel anyway); the wanted
  channels and tickers are kept, so a reconnect remakes all of them (fresh snapshots included).
- Every message that carries `seq` (data, and `ok` / `unsubscribed` / sid errors) is checked per sid.
  A gap, a duplicate or an undecodable frame on an `orderbook_delta` sid asks for `get_snapshot` of
  all that subscription's markets (the books are wrong and we cannot tell which); duplicates are
  dropped. A `SeqGap` event tells the book layer which books to distrust until their snapshot.
- Order books arrive as YES-scale `BookSnapshot` / `BookDelta`; subscriptions always set
  `use_yes_price` explicitly (Kalshi's default is changing), and the conversion follows that flag.
- Liveness: websockets pings (a dead link closes), and a silence detector: when nothing arrived for
  `silence_s`, it asks for one order-book snapshot; if that does not arrive within `probe_timeout_s`
  (or there is no order-book subscription to probe), the feed is declared silent and reconnected.
- Reconnects back off exponentially with jitter. Counters in `stats` (`ws_events.WsStats`).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import websockets
from websockets.asyncio.client import ClientConnection

from console.venues.errors import DecodeError, VenueError
from console.venues.kalshi import codec
from console.venues.kalshi import codec_ws as w
from console.venues.kalshi.auth import Signer
from console.venues.kalshi.ws_events import (
    FeedConnected,
    FeedDecodeError,
    FeedDisconnected,
    SeqGap,
    SilenceDetected,
    SubscriptionLost,
    WsCommandError,
    WsStats,
)

log = logging.getLogger(__name__)

VENUE = "kalshi"
ORDERBOOK = "orderbook_delta"
#: channels whose subscription takes a market filter (others cover all markets or only the account)
MARKET_CHANNELS = frozenset({ORDERBOOK, "ticker", "trade", "fill", "market_positions", "user_orders"})
#: error codes after which the venue has dropped the subscription (resubscribe)
TERMINAL_CODES = frozenset({10, 25})

Sink = Callable[[Any], None]


@dataclass
class _Want:
    tickers: dict[str, None] | None  # ordered set; None = all markets (or not a market channel)
    use_yes_price: bool


class KalshiWs:
    """One WebSocket connection to Kalshi (or the built-in exchange) and the desk's subscriptions."""

    def __init__(self, url: str, signer: Signer, sink: Sink, *, use_yes_price: bool = True,
                 silence_s: float | None = 30.0, probe_timeout_s: float = 5.0, resync_timeout_s: float = 3.0,
                 ping_interval_s: float | None = 10.0, ping_timeout_s: float | None = 10.0,
                 reconnect_base_s: float = 0.25, reconnect_cap_s: float = 10.0, command_timeout_s: float = 5.0,
                 rng: random.Random | None = None) -> None:
        self.url = url
        self.signer = signer
        self.sink = sink
        self.use_yes_price = use_yes_price
        self.silence_s = silence_s
        self.probe_timeout_s = probe_timeout_s
        self.resync_timeout_s = resync_timeout_s
        self.ping_interval_s = ping_interval_s
        self.ping_timeout_s = ping_timeout_s
        self.reconnect_base_s = reconnect_base_s
        self.reconnect_cap_s = reconnect_cap_s
        self.command_timeout_s = command_timeout_s
        self.stats = WsStats()
        self._rng = rng or random.Random()
        self._path = urlsplit(url).path or "/trade-api/ws/v2"
        self._wanted: dict[str, _Want] = {}
        self._ids = itertools.count(1)
        self._conn: ClientConnection | None = None
        self._runner: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._closing = False
        self._background: set[asyncio.Task[None]] = set()
        self._reset_connection_state()

    def _reset_connection_state(self) -> None:
        self._sid_of: dict[str, int] = {}
        self._channel_of: dict[int, str] = {}
        self._flags_of: dict[int, bool] = {}  # sid -> use_yes_price of that subscription
        self._last_seq: dict[int, int] = {}
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._resync_sent: dict[int, float] = {}  # sid -> when get_snapshot was last asked
        self._probe_deadline: float | None = None

    # --- public API -----------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self.stats.connected

    def sid_of(self, channel: str) -> int | None:
        return self._sid_of.get(channel)

    async def start(self, timeout_s: float = 10.0) -> None:
        """Connect and make the wanted subscriptions; raises VenueError if not up within `timeout_s`."""
        if self._runner is None:
            self._closing = False
            self._runner = asyncio.create_task(self._run(), name="kalshi-ws")
        try:
            await asyncio.wait_for(self._ready.wait(), timeout_s)
        except TimeoutError:
            raise VenueError(f"no WebSocket connection to {self.url} within {timeout_s:g} s"
                             + (f": {self.stats.last_error}" if self.stats.last_error else "")) from None

    async def close(self) -> None:
        self._closing = True
        if self._conn is not None:
            await self._conn.close()
        if self._runner is not None:
            self._runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._runner
            self._runner = None
        self.stats.connected = False

    async def __aenter__(self) -> KalshiWs:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def subscribe(self, channel: str, tickers: Sequence[str] | None = None) -> int | None:
        """Subscribe to a channel (adding `tickers` if it is already subscribed). Returns the sid when connected.

        A refused subscription (WsCommandError, e.g. an unknown ticker) leaves the wanted set unchanged.
        """
        if channel == ORDERBOOK and not tickers:
            raise ValueError("orderbook_delta needs market tickers")
        previous = self._wanted.get(channel)
        before = None if previous is None else _Want(
            None if previous.tickers is None else dict(previous.tickers), previous.use_yes_price)
        want = previous or _Want(None if tickers is None else {}, self.use_yes_price)
        self._wanted[channel] = want
        if tickers is None:
            want.tickers = None
        added = [t for t in dict.fromkeys(tickers or ()) if want.tickers is not None and t not in want.tickers]
        if want.tickers is not None:
            want.tickers.update(dict.fromkeys(added))
        if not self.connected:
            return None
        try:
            sid = self._sid_of.get(channel)
            if sid is None:
                return await self._send_subscribe(channel, want)
            if added:
                await self._command("update_subscription",
                                    {"sid": sid, "action": "add_markets", "market_tickers": added})
            return sid
        except WsCommandError:
            if before is None:
                self._wanted.pop(channel, None)
            else:
                self._wanted[channel] = before
            raise

    async def remove_markets(self, channel: str, tickers: Sequence[str]) -> None:
        want = self._wanted.get(channel)
        if want is None or want.tickers is None:
            return
        for t in tickers:
            want.tickers.pop(t, None)
        sid = self._sid_of.get(channel)
        if not want.tickers:
            await self.unsubscribe(channel)
        elif sid is not None and self.connected:
            await self._command("update_subscription",
                                {"sid": sid, "action": "delete_markets", "market_tickers": list(tickers)})

    async def unsubscribe(self, channel: str) -> None:
        self._wanted.pop(channel, None)
        sid = self._sid_of.get(channel)
        if sid is not None and self.connected:
            await self._command("unsubscribe", {"sids": [sid]})

    async def request_snapshots(self, tickers: Sequence[str] | None = None) -> None:
        """Ask for fresh order-book snapshots (all subscribed markets by default)."""
        sid = self._sid_of.get(ORDERBOOK)
        if sid is not None:
            await self._ask_snapshot(sid, tickers)

    # --- connection loop ------------------------------------------------------------------------

    async def _run(self) -> None:
        attempt = 0
        while not self._closing:
            reason = "closed"
            started = time.monotonic()
            try:
                headers = self.signer.headers("GET", self._path)
                async with websockets.connect(self.url, additional_headers=headers, max_size=2**24,
                                              ping_interval=self.ping_interval_s, ping_timeout=self.ping_timeout_s,
                                              open_timeout=self.command_timeout_s,
                                              close_timeout=min(2.0, self.command_timeout_s)) as conn:
                    self._conn = conn
                    reason = await self._serve(conn)
            except asyncio.CancelledError:
                raise
            except websockets.InvalidStatus as exc:
                status = exc.response.status_code
                hint = " (check the API key id, key file and clock)" if status in (401, 403) else ""
                reason = f"handshake refused: HTTP {status}{hint}"
            except (OSError, TimeoutError, websockets.WebSocketException, VenueError) as exc:
                reason = f"{type(exc).__name__}: {exc}"
            except Exception as exc:
                log.exception("kalshi ws: unexpected error; reconnecting")
                reason = f"unexpected {type(exc).__name__}: {exc}"
            finally:
                self._conn = None
                self._lost_connection()
            if self._closing:
                return
            if time.monotonic() - started > 10 * self.reconnect_cap_s:
                attempt = 0  # it had been up a while: start the backoff again from the bottom
            self.stats.last_error = reason
            self.stats.reconnects += 1
            self.sink(FeedDisconnected(VENUE, reason))
            log.info("kalshi ws disconnected (%s); reconnecting", reason)
            delay = min(self.reconnect_cap_s, self.reconnect_base_s * 2 ** min(attempt, 16))
            attempt += 1
            await asyncio.sleep(delay / 2 + self._rng.uniform(0, delay / 2))

    async def _serve(self, conn: ClientConnection) -> str:
        """Run one connection until it ends; returns why it ended."""
        self._reset_connection_state()
        self.stats.last_message_at = time.monotonic()
        reader = asyncio.create_task(self._read(conn), name="kalshi-ws-read")
        watchdog: asyncio.Task[str] | None = None
        try:
            for channel, want in list(self._wanted.items()):
                try:
                    await self._send_subscribe(channel, want)
                except WsCommandError as exc:  # refused (e.g. a market that no longer exists): say so, go on
                    self.stats.last_error = f"subscribe {channel}: {exc}"
                    self.sink(SubscriptionLost(VENUE, channel, 0, int(exc.code or 0), str(exc)))
            self.stats.connected = True
            self.stats.connections += 1
            self._ready.set()
            self.sink(FeedConnected(VENUE, self.stats.connections))
            watchdog = asyncio.create_task(self._watch(conn), name="kalshi-ws-watch")
            done, _ = await asyncio.wait({reader, watchdog}, return_when=asyncio.FIRST_COMPLETED)
            finished = done.pop()
            return finished.result() if finished is watchdog else await reader
        finally:
            for task in (reader, watchdog):
                if task is not None and not task.done():
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await task

    def _lost_connection(self) -> None:
        self.stats.connected = False
        self._ready.clear()
        for future in self._pending.values():
            if not future.done():
                future.set_exception(VenueError("the WebSocket connection closed before the venue answered"))
        self._pending.clear()

    async def _read(self, conn: ClientConnection) -> str:
        try:
            async for frame in conn:
                self._on_frame(frame)
        except websockets.ConnectionClosed as exc:
            return f"connection closed ({exc})"
        return "connection closed by the venue"

    async def _watch(self, conn: ClientConnection) -> str:
        """Silence detector and stale-resync retry; returns a reason when it closes the connection."""
        tick = 0.05 if self.silence_s is None else max(0.05, min(0.5, self.silence_s / 4))
        while True:
            await asyncio.sleep(tick)
            now = time.monotonic()
            for sid, asked in list(self._resync_sent.items()):
                if now - asked > self.resync_timeout_s:  # the snapshots we asked for never came
                    await self._ask_snapshot(sid, None)
            if self.silence_s is None or not self._wanted:
                continue
            idle = now - (self.stats.last_message_at or now)
            if idle < self.silence_s:
                self._probe_deadline = None
                continue
            book_sid = self._sid_of.get(ORDERBOOK)
            if self._probe_deadline is None and book_sid is not None:
                self._probe_deadline = now + self.probe_timeout_s
                want = self._wanted.get(ORDERBOOK)
                first = next(iter(want.tickers or ())) if want else None
                if first is not None:
                    await self._send({"id": next(self._ids), "cmd": "update_subscription",
                                      "params": {"sid": book_sid, "action": "get_snapshot", "market_tickers": [first]}})
                continue
            if self._probe_deadline is not None and now < self._probe_deadline:
                continue
            self.stats.silences += 1
            self.sink(SilenceDetected(VENUE, round(idle, 3)))
            log.warning("kalshi ws: nothing received for %.1f s; reconnecting", idle)
            await conn.close(code=1000, reason="silent feed")
            return f"silent for {idle:.1f} s"

    # --- commands -------------------------------------------------------------------------------

    async def _send(self, message: dict[str, Any]) -> None:
        conn = self._conn
        if conn is None:
            raise VenueError("not connected")
        await conn.send(codec.encode_json(message).decode())  # text frames, as Kalshi expects

    async def _command(self, cmd: str, params: dict[str, Any]) -> Any:
        cmd_id = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[cmd_id] = future
        try:
            await self._send({"id": cmd_id, "cmd": cmd, "params": params})
            return await asyncio.wait_for(future, self.command_timeout_s)
        except TimeoutError:
            raise VenueError(f"the venue did not answer {cmd} within {self.command_timeout_s:g} s") from None
        finally:
            self._pending.pop(cmd_id, None)

    async def _send_subscribe(self, channel: str, want: _Want) -> int:
        params: dict[str, Any] = {"channels": [channel]}
        if want.tickers is not None and channel in MARKET_CHANNELS:
            params["market_tickers"] = list(want.tickers)
        if channel == ORDERBOOK:
            params["use_yes_price"] = want.use_yes_price  # always explicit: Kalshi's default is changing
        reply = await self._command("subscribe", params)
        if isinstance(reply, w.Subscribed):
            return reply.msg.sid
        # `ok`: the connection already held this channel and the venue widened it
        self._register(channel, reply.sid, fresh=False)
        return reply.sid

    async def _ask_snapshot(self, sid: int, tickers: Sequence[str] | None) -> None:
        channel = self._channel_of.get(sid)
        want = self._wanted.get(channel) if channel else None
        wanted = list(tickers) if tickers else list(want.tickers or ()) if want else []
        if not wanted or self._conn is None:
            return
        self._resync_sent[sid] = time.monotonic()
        self.stats.snapshot_requests += 1
        with contextlib.suppress(VenueError, websockets.ConnectionClosed):
            await self._send({"id": next(self._ids), "cmd": "update_subscription",
                              "params": {"sid": sid, "action": "get_snapshot", "market_tickers": wanted}})

    # --- incoming -------------------------------------------------------------------------------

    def _on_frame(self, frame: str | bytes) -> None:
        recv_ns = time.monotonic_ns()
        self.stats.messages += 1
        self.stats.last_message_at = time.monotonic()
        try:
            msg = codec.decode_ws(frame)
        except DecodeError as exc:
            self._on_decode_error(frame, exc)
            return
        if isinstance(msg, w.UnknownMessage):
            self.stats.unknown_types += 1
            if msg.sid is not None and msg.seq is not None:
                self._seq_ok(msg.sid, msg.seq)
            return
        sid, seq = getattr(msg, "sid", None), getattr(msg, "seq", None)
        if isinstance(msg, w.Subscribed):
            self._on_subscribed(msg)
        elif sid is not None and seq is not None and not self._seq_ok(sid, seq):
            return  # duplicate: already seen, drop it
        if isinstance(msg, w.OrderbookDelta):
            self.sink(codec.book_delta(msg, use_yes_price=self._flags_of.get(sid, self.use_yes_price), recv_ns=recv_ns))
        elif isinstance(msg, w.OrderbookSnapshot):
            self._on_snapshot(msg, recv_ns)
        elif isinstance(msg, (w.Ok, w.Unsubscribed, w.Error)):
            self._on_reply(msg)
        elif not isinstance(msg, w.Subscribed):
            self.sink(msg)

    def _on_decode_error(self, frame: str | bytes, exc: DecodeError) -> None:
        self.stats.decode_errors += 1
        self.stats.last_error = str(exc)
        sid, seq = codec.peek_sid_seq(frame)
        self.sink(FeedDecodeError(VENUE, str(exc), sid, seq))
        if sid is not None and seq is not None:
            # the message is lost to us: count its seq, and on a book treat it as a gap
            self._seq_ok(sid, seq)
            if self._channel_of.get(sid) == ORDERBOOK:
                self._spawn_resync(sid)

    def _on_subscribed(self, msg: w.Subscribed) -> None:
        self._register(msg.msg.channel, msg.msg.sid, fresh=True)
        self._resolve(msg.id, msg)

    def _register(self, channel: str, sid: int, *, fresh: bool) -> None:
        self._sid_of[channel] = sid
        self._channel_of[sid] = channel
        want = self._wanted.get(channel)
        self._flags_of[sid] = want.use_yes_price if want else self.use_yes_price
        if fresh:
            self._last_seq[sid] = 0  # the first sequenced message of a new sid is seq 1

    def _on_snapshot(self, msg: w.OrderbookSnapshot, recv_ns: int) -> None:
        sid = msg.sid
        if msg.id is not None:
            self._resync_sent.pop(sid, None)
        self._probe_deadline = None
        self.sink(codec.book_snapshot(msg, use_yes_price=self._flags_of.get(sid, self.use_yes_price), recv_ns=recv_ns))

    def _on_reply(self, msg: w.Ok | w.Unsubscribed | w.Error) -> None:
        if isinstance(msg, w.Error):
            error = WsCommandError(f"{msg.msg.msg or 'error'} (code {msg.msg.code})", code=str(msg.msg.code))
            if msg.sid is not None and msg.msg.code in TERMINAL_CODES:
                self._on_subscription_lost(msg.sid, msg.msg.code, msg.msg.msg)
            if not self._resolve(msg.id, error, failed=True):
                self.stats.last_error = str(error)
            return
        if isinstance(msg, w.Unsubscribed):
            self._forget_sid(msg.sid)
        self._resolve(msg.id, msg)

    def _resolve(self, cmd_id: int | None, value: Any, *, failed: bool = False) -> bool:
        future = self._pending.get(cmd_id) if cmd_id else None
        if future is None or future.done():
            return False
        if failed:
            future.set_exception(value)
        else:
            future.set_result(value)
        return True

    def _forget_sid(self, sid: int) -> str | None:
        channel = self._channel_of.pop(sid, None)
        if channel is not None and self._sid_of.get(channel) == sid:
            del self._sid_of[channel]
        self._last_seq.pop(sid, None)
        self._resync_sent.pop(sid, None)
        return channel

    def _on_subscription_lost(self, sid: int, code: int, text: str) -> None:
        channel = self._forget_sid(sid)
        if channel is None:
            return
        self.stats.subscriptions_lost += 1
        self.sink(SubscriptionLost(VENUE, channel, sid, code, text))
        want = self._wanted.get(channel)
        if want is not None:
            task = asyncio.get_running_loop().create_task(self._resubscribe(channel, want))
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    async def _resubscribe(self, channel: str, want: _Want) -> None:
        try:
            await self._send_subscribe(channel, want)
        except (VenueError, websockets.ConnectionClosed) as exc:
            self.stats.last_error = f"resubscribe {channel}: {exc}"

    # --- sequence numbers -----------------------------------------------------------------------

    def _seq_ok(self, sid: int, seq: int) -> bool:
        """Track one sequenced message; False for a duplicate (drop it). Gaps are reported, not dropped."""
        last = self._last_seq.get(sid)
        self._last_seq[sid] = max(seq, last or 0)
        if last is None or seq == last + 1:
            return True
        channel = self._channel_of.get(sid, "?")
        want = self._wanted.get(channel)
        tickers = tuple(want.tickers or ()) if want else ()
        is_book = channel == ORDERBOOK
        kind = "gap" if seq > last + 1 else "duplicate"
        if kind == "gap":
            self.stats.gaps += 1
        else:
            self.stats.duplicates += 1
        self.sink(SeqGap(VENUE, sid, channel, kind, last + 1, seq, tickers, resync=is_book))
        if is_book:
            self._spawn_resync(sid)
        return kind == "gap"

    def _spawn_resync(self, sid: int) -> None:
        asked = self._resync_sent.get(sid)
        if asked is not None and time.monotonic() - asked < self.resync_timeout_s:
            return  # snapshots already on their way; they come after this point in the stream
        task = asyncio.get_running_loop().create_task(self._ask_snapshot(sid, None))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

