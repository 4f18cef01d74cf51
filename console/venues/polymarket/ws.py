"""Polymarket market-channel client: subscriptions by token, text PING, book hashes, resubscribe, reconnect.

    feed = PolymarketWs("ws://127.0.0.1:8766/ws/market", sink=queue.put_nowait)
    await feed.start()
    await feed.subscribe(token_ids, meta={token_id: TokenMeta("5", False), ...})

What it guarantees the desk (polymarket-api.md 5.1):

- Books arrive as `BookSnapshot` (a `book` message) and `BookLevelSet` (each `price_change` entry,
  absolute sizes), one book per token on that token's own price scale (BUY levels are `Side.BID`).
  Other messages (`last_trade_price`, `tick_size_change`, `best_bid_ask`, `market_resolved`,
  `new_market`) reach the sink as decoded structs (codec.py).
- The book hash is checked where the venue provides one: every `book` message (when its tick size is
  present and the token's `TokenMeta` is known: the hash covers min_order_size and neg_risk, which the
  WS message omits) and, with `check_change_hashes` (on for the built-in mirror, whose change hashes
  follow the same recipe), the local book after each `price_change` entry. A mismatch is counted
  (`stats.hash_mismatches`), reported as `BookHashMismatch`, and the token is resubscribed for a
  fresh `book`; its changes are ignored until that arrives.
- `tick_size_change` drops the token's book (`StaleBook`) until the fresh `book` that follows it; a
  book that does not come within `resync_timeout_s` is asked for by resubscribing.
- Liveness: the text frame `PING` every `ping_interval_s` (the venue closes quiet sockets); no `PONG`
  within `pong_timeout_s` means a dead link: reconnect with jittered exponential backoff, and every
  wanted token is subscribed again (fresh books). `FeedConnected` / `FeedDisconnected` tell the book
  layer when to distrust the books.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import msgspec
import websockets
from websockets.asyncio.client import ClientConnection

from console.venues.errors import DecodeError, VenueError
from console.venues.polymarket import codec as c
from console.venues.polymarket.events import (
    BookHashMismatch,
    FeedConnected,
    FeedDecodeError,
    FeedDisconnected,
    StaleBook,
    TokenMeta,
)

log = logging.getLogger(__name__)

VENUE = c.VENUE
Sink = Callable[[Any], None]
_encode = msgspec.json.Encoder().encode


@dataclass
class PolyWsStats:
    connected: bool = False
    connections: int = 0
    reconnects: int = 0
    frames: int = 0
    messages: int = 0
    decode_errors: int = 0
    unknown_types: int = 0
    text_replies: int = 0  # non-JSON text other than PONG (e.g. INVALID OPERATION)
    pings: int = 0
    pongs: int = 0
    hashes_checked: int = 0
    hashes_unchecked: int = 0  # a hash we could not check (no TokenMeta, pre-2026 book without tick_size)
    hash_mismatches: int = 0
    resubscribes: int = 0
    changes_without_book: int = 0
    last_error: str = ""
    last_message_at: float | None = None


@dataclass
class _LocalBook:
    """A token's book as the venue's strings (the hash covers them exactly)."""

    market: str
    bids: dict[int, tuple[str, str]] = field(default_factory=dict)  # pips -> (price, size)
    asks: dict[int, tuple[str, str]] = field(default_factory=dict)
    tick_size: str | None = None
    last_trade_price: str = ""

    def digest(self, asset_id: str, timestamp: str, meta: TokenMeta) -> str:
        bids = [self.bids[p] for p in sorted(self.bids)]
        asks = [self.asks[p] for p in sorted(self.asks, reverse=True)]
        return c.book_hash(self.market, asset_id, timestamp, bids, asks, meta.min_order_size, self.tick_size or "",
                           meta.neg_risk, self.last_trade_price)


def _shortest_price(pips: int) -> str:
    whole, frac = divmod(pips, 10_000)
    return str(whole) if not frac else f"{whole}.{frac:04d}".rstrip("0")


class PolymarketWs:
    """One connection to the market channel and the desk's token subscriptions."""

    def __init__(self, url: str, sink: Sink, *, check_change_hashes: bool = True, custom_features: bool = False,
                 ping_interval_s: float = 10.0, pong_timeout_s: float = 10.0, resync_timeout_s: float = 5.0,
                 reconnect_base_s: float = 0.25, reconnect_cap_s: float = 10.0, open_timeout_s: float = 5.0,
                 rng: random.Random | None = None) -> None:
        self.url = url
        self.sink = sink
        self.check_change_hashes = check_change_hashes
        self.custom_features = custom_features
        self.ping_interval_s = ping_interval_s
        self.pong_timeout_s = pong_timeout_s
        self.resync_timeout_s = resync_timeout_s
        self.reconnect_base_s = reconnect_base_s
        self.reconnect_cap_s = reconnect_cap_s
        self.open_timeout_s = open_timeout_s
        self.stats = PolyWsStats()
        self._rng = rng or random.Random()
        self._wanted: dict[str, None] = {}
        self._meta: dict[str, TokenMeta] = {}
        self._books: dict[str, _LocalBook] = {}
        self._awaiting: dict[str, float] = {}  # token -> monotonic deadline for its fresh book
        self._resub: set[str] = set()
        self._conn: ClientConnection | None = None
        self._runner: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._closing = False
        self._subscribed_once = False
        self._last_pong = 0.0
        self._background: set[asyncio.Task[None]] = set()

    # --- public API ---------------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self.stats.connected

    def set_meta(self, meta: Mapping[str, TokenMeta]) -> None:
        self._meta.update(meta)

    def has_book(self, asset_id: str) -> bool:
        return asset_id in self._books

    async def start(self, timeout_s: float = 10.0) -> None:
        if self._runner is None:
            self._closing = False
            self._runner = asyncio.create_task(self._run(), name="polymarket-ws")
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

    async def __aenter__(self) -> PolymarketWs:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def subscribe(self, asset_ids: Iterable[str], meta: Mapping[str, TokenMeta] | None = None) -> None:
        """Add tokens (their `book` snapshots follow); `meta` enables their hash checks."""
        if meta:
            self._meta.update(meta)
        added = [a for a in asset_ids if a not in self._wanted]
        self._wanted.update(dict.fromkeys(added))
        if added and self.connected:
            await self._send_subscribe(added)

    async def unsubscribe(self, asset_ids: Iterable[str]) -> None:
        gone = [a for a in asset_ids if a in self._wanted]
        for asset in gone:
            del self._wanted[asset]
            self._books.pop(asset, None)
            self._awaiting.pop(asset, None)
        if gone and self.connected:
            await self._send({"assets_ids": gone, "operation": "unsubscribe"})

    # --- connection ---------------------------------------------------------------------------------

    async def _run(self) -> None:
        attempt = 0
        while not self._closing:
            reason = "closed"
            try:
                async with websockets.connect(self.url, ping_interval=None, open_timeout=self.open_timeout_s,
                                              max_size=2**24) as conn:
                    self._conn = conn
                    reason = await self._serve(conn)
                    attempt = 0
            except asyncio.CancelledError:
                raise
            except websockets.InvalidStatus as exc:
                reason = f"handshake refused: HTTP {exc.response.status_code}"
            except (OSError, TimeoutError, websockets.WebSocketException) as exc:
                reason = f"{type(exc).__name__}: {exc}"
            finally:
                self._conn = None
                self.stats.connected = False
                self._ready.clear()
                self._books.clear()
            if self._closing:
                return
            self.stats.last_error = reason
            self.stats.reconnects += 1
            self.sink(FeedDisconnected(VENUE, reason))
            log.info("polymarket ws disconnected (%s); reconnecting", reason)
            delay = min(self.reconnect_cap_s, self.reconnect_base_s * 2 ** min(attempt, 16))
            attempt += 1
            await asyncio.sleep(delay / 2 + self._rng.uniform(0, delay / 2))

    async def _serve(self, conn: ClientConnection) -> str:
        self._books.clear()
        self._awaiting.clear()
        self._subscribed_once = False
        self._last_pong = time.monotonic()
        self.stats.last_message_at = time.monotonic()
        reader = asyncio.create_task(self._read(conn), name="polymarket-ws-read")
        watch = asyncio.create_task(self._watch(conn), name="polymarket-ws-watch")
        try:
            if self._wanted:
                await self._send_subscribe(list(self._wanted))
            self.stats.connected = True
            self.stats.connections += 1
            self._ready.set()
            self.sink(FeedConnected(VENUE, self.stats.connections))
            done, _ = await asyncio.wait({reader, watch}, return_when=asyncio.FIRST_COMPLETED)
            return done.pop().result()
        finally:
            for task in (reader, watch):
                if not task.done():
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await task

    async def _read(self, conn: ClientConnection) -> str:
        try:
            async for frame in conn:
                self._on_frame(frame)
        except websockets.ConnectionClosed as exc:
            return f"connection closed ({exc})"
        return "connection closed by the venue"

    async def _watch(self, conn: ClientConnection) -> str:
        """PING on schedule, notice a missing PONG, and chase books that did not come."""
        next_ping = time.monotonic()
        while True:
            now = time.monotonic()
            if now >= next_ping:
                if now - self._last_pong > self.ping_interval_s + self.pong_timeout_s:
                    await conn.close(code=1000, reason="no PONG")
                    return f"no PONG for {now - self._last_pong:.1f} s"
                await conn.send("PING")
                self.stats.pings += 1
                next_ping = now + self.ping_interval_s
            late = [a for a, deadline in self._awaiting.items() if now > deadline]
            if late:
                self._resubscribe(late)
            await asyncio.sleep(min(0.2, self.ping_interval_s))

    async def _send(self, message: dict[str, Any]) -> None:
        conn = self._conn
        if conn is None:
            raise VenueError("not connected")
        await conn.send(_encode(message).decode())

    async def _send_subscribe(self, assets: list[str]) -> None:
        deadline = time.monotonic() + self.resync_timeout_s
        for asset in assets:
            self._awaiting[asset] = deadline
        if not self._subscribed_once:
            self._subscribed_once = True
            await self._send({"assets_ids": assets, "type": "market", "initial_dump": True,
                              "custom_feature_enabled": self.custom_features})
        else:
            await self._send({"assets_ids": assets, "operation": "subscribe",
                              "custom_feature_enabled": self.custom_features})

    def _resubscribe(self, assets: Iterable[str]) -> None:
        """Ask for fresh books: unsubscribe and subscribe again (coalesced into one task)."""
        fresh = [a for a in assets if a in self._wanted and a not in self._resub]
        if not fresh:
            return
        self._resub.update(fresh)
        self.stats.resubscribes += len(fresh)
        for asset in fresh:
            self._books.pop(asset, None)
            self._awaiting[asset] = time.monotonic() + self.resync_timeout_s

        async def run() -> None:
            batch = sorted(self._resub)
            self._resub.clear()
            if not batch:
                return  # an earlier task of this burst already sent them
            with contextlib.suppress(VenueError, websockets.ConnectionClosed):
                await self._send({"assets_ids": batch, "operation": "unsubscribe"})
                await self._send({"assets_ids": batch, "operation": "subscribe",
                                  "custom_feature_enabled": self.custom_features})

        task = asyncio.get_running_loop().create_task(run())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # --- incoming -----------------------------------------------------------------------------------

    def _on_frame(self, frame: str | bytes) -> None:
        recv_ns = time.monotonic_ns()
        self.stats.frames += 1
        self.stats.last_message_at = time.monotonic()
        text = frame if isinstance(frame, str) else frame.decode(errors="replace")
        head = text.lstrip()[:1]
        if head not in ("{", "["):
            if text.strip() == "PONG":
                self.stats.pongs += 1
                self._last_pong = time.monotonic()
            else:
                self.stats.text_replies += 1
                self.stats.last_error = f"venue said {text.strip()[:80]!r}"
            return
        try:
            messages = c.decode_ws(frame)
        except DecodeError as exc:
            self.stats.decode_errors += 1
            self.stats.last_error = str(exc)
            self.sink(FeedDecodeError(VENUE, str(exc)))
            return
        for msg in messages:
            self.stats.messages += 1
            if isinstance(msg, c.WsBook):
                self._on_book(msg, recv_ns)
            elif isinstance(msg, c.PriceChange):
                self._on_changes(msg, recv_ns)
            elif isinstance(msg, c.UnknownMessage):
                self.stats.unknown_types += 1
            else:
                if isinstance(msg, c.LastTradePrice) and (book := self._books.get(msg.asset_id)) is not None:
                    book.last_trade_price = _shortest_price(msg.price)
                elif isinstance(msg, c.TickSizeChange) and msg.asset_id in self._wanted:
                    self._books.pop(msg.asset_id, None)
                    self._awaiting[msg.asset_id] = time.monotonic() + self.resync_timeout_s
                    self.sink(StaleBook(VENUE, msg.asset_id, "tick_size_change: waiting for the fresh book"))
                self.sink(msg)

    def _on_book(self, msg: c.WsBook, recv_ns: int) -> None:
        asset = msg.asset_id
        if asset not in self._wanted:
            return
        book = _LocalBook(msg.market, {lv.price.pips: (lv.price, lv.size) for lv in msg.bids},
                          {lv.price.pips: (lv.price, lv.size) for lv in msg.asks}, msg.tick_size,
                          msg.last_trade_price or "")
        meta = self._meta.get(asset)
        if msg.tick_size is None or meta is None:
            self.stats.hashes_unchecked += 1
        else:
            self.stats.hashes_checked += 1
            got = book.digest(asset, msg.timestamp, meta)
            if got != msg.hash:
                self._mismatch(asset, "book", msg.hash, got)
                return
        self._books[asset] = book
        self._awaiting.pop(asset, None)
        self.sink(c.book_snapshot(msg, recv_ns=recv_ns))

    def _on_changes(self, msg: c.PriceChange, recv_ns: int) -> None:
        ts_ms = msg.ts_ms
        for entry in msg.price_changes:
            asset = entry.asset_id
            book = self._books.get(asset)
            if book is None:
                if asset in self._wanted:
                    self.stats.changes_without_book += 1
                continue
            levels = book.bids if entry.side == "BUY" else book.asks
            if entry.size.count:
                levels[entry.price.pips] = (entry.price, entry.size)
            else:
                levels.pop(entry.price.pips, None)
            self.sink(c.level_set(entry, ts_ms, recv_ns=recv_ns))
            meta = self._meta.get(asset)
            if not (self.check_change_hashes and entry.hash):
                continue
            if meta is None or book.tick_size is None:
                self.stats.hashes_unchecked += 1
                continue
            self.stats.hashes_checked += 1
            got = book.digest(asset, msg.timestamp, meta)
            if got != entry.hash:
                self._mismatch(asset, "price_change", entry.hash, got)

    def _mismatch(self, asset: str, where: str, expected: str, got: str) -> None:
        self.stats.hash_mismatches += 1
        self._books.pop(asset, None)
        log.warning("polymarket ws: %s hash mismatch on token %s…; resubscribing", where, asset[:12])
        self.sink(BookHashMismatch(VENUE, asset, where, expected, got))
        self._resubscribe([asset])
