"""Replay a recording (console/engine/recorder.py) through the desk's decoder and books.

By default frames go through the Kalshi client's own decoder (`console.venues.kalshi.codec`) into
typed book events and the `BookManager`, exactly as live; `fast=True` sends the same frames through
the C fast path (`BookManager.apply_raw`) instead, which must end in the same books. The manager's
clock is the recording's: health at the end is as it was when the recording stopped.

Subscriptions: the `use_yes_price` flag of each order-book subscription comes from the recorded
`subscribe` command and the reply that named its sid. Book frames of a sid whose flag is unknown are
counted (`unknown_sid`) and skipped, never guessed. A market without a recorded price grid gets a
1-pip grid (every price valid) and is listed in `markets_without_grid`.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import msgspec

from console.domain.grid import PriceGrid
from console.engine.book_health import HealthThresholds
from console.engine.books import BookManager
from console.engine.recorder import frame_of, read_records
from console.venues.kalshi import codec
from console.venues.kalshi import codec_ws as w
from console.venues.kalshi.ws_events import FeedDecodeError

ORDERBOOK = "orderbook_delta"
FALLBACK_GRID = PriceGrid(((0, 10000, 1),))


@dataclass
class ReplayResult:
    manager: BookManager
    venue: str
    frames_in: int = 0
    frames_out: int = 0
    first_t_ns: int = 0
    last_t_ns: int = 0
    counters: Counter = field(default_factory=Counter)
    markets_without_grid: list[str] = field(default_factory=list)
    flags: dict[int, bool] = field(default_factory=dict)  # sid -> use_yes_price


class _Replayer:
    def __init__(self, manager: BookManager, result: ReplayResult, fast: bool) -> None:
        self.manager = manager
        self.result = result
        self.fast = fast
        self.venue = result.venue
        self.pending: dict[int, bool] = {}  # subscribe command id -> use_yes_price asked for

    def market(self, record: dict[str, Any]) -> None:
        self.manager.add_market(self.venue, record["ticker"], PriceGrid.from_wire(record["price_ranges"]))

    def outgoing(self, text: str | bytes) -> None:
        try:
            cmd = msgspec.json.decode(text)
        except msgspec.DecodeError:
            return
        params = cmd.get("params") if isinstance(cmd, dict) else None
        if cmd.get("cmd") == "subscribe" and isinstance(params, dict) and ORDERBOOK in params.get("channels", ()):
            # Kalshi's default for an absent flag is false (kalshi-api.md 5.2)
            self.pending[cmd.get("id")] = bool(params.get("use_yes_price", False))

    def subscribed(self, cmd_id: int | None, sid: int, channel: str | None) -> None:
        if cmd_id in self.pending and channel in (ORDERBOOK, None):
            use_yes = self.pending.pop(cmd_id)
            self.result.flags[sid] = use_yes
            if self.fast:
                self.manager.register_sid(self.venue, sid, use_yes)

    def ensure_markets(self, ticker: str) -> None:
        if self.manager.book(self.venue, ticker) is None:
            self.manager.add_market(self.venue, ticker, FALLBACK_GRID)
            self.result.markets_without_grid.append(ticker)

    def incoming_fast(self, frame: str | bytes, t_ns: int) -> None:
        self.manager.apply_raw(self.venue, [frame], recv_ns=t_ns)

    def on_other(self, venue: str, kind: str, raw: bytes | str) -> None:
        if kind not in ("subscribed", "ok"):
            return
        try:
            msg = codec.decode_ws(raw)
        except codec.DecodeError:
            return
        if isinstance(msg, w.Subscribed):
            self.subscribed(msg.id, msg.msg.sid, msg.msg.channel)
        elif isinstance(msg, w.Ok) and msg.sid is not None:
            self.subscribed(msg.id, msg.sid, None)

    def incoming(self, frame: str | bytes, t_ns: int) -> None:
        counters = self.result.counters
        try:
            msg = codec.decode_ws(frame)
        except codec.DecodeError as exc:
            counters["decode_errors"] += 1
            sid, seq = codec.peek_sid_seq(frame)
            if sid is not None and seq is not None:
                self.manager.observe_seq(self.venue, sid, seq)
            self.manager.apply(FeedDecodeError(self.venue, str(exc), sid, seq))
            return
        if isinstance(msg, w.Subscribed):
            self.subscribed(msg.id, msg.msg.sid, msg.msg.channel)
            return
        if isinstance(msg, (w.OrderbookSnapshot, w.OrderbookDelta)):
            use_yes = self.result.flags.get(msg.sid)
            if use_yes is None:
                counters["unknown_sid"] += 1
                return
            ticker = msg.msg.market_ticker
            if self.manager.book(self.venue, ticker) is None:
                self.ensure_markets(ticker)
            if isinstance(msg, w.OrderbookSnapshot):
                self.manager.apply(codec.book_snapshot(msg, use_yes_price=use_yes, recv_ns=t_ns))
            else:
                self.manager.apply(codec.book_delta(msg, use_yes_price=use_yes, recv_ns=t_ns))
            return
        if isinstance(msg, w.Ok) and msg.sid is not None:
            self.subscribed(msg.id, msg.sid, None)
        sid, seq = getattr(msg, "sid", None), getattr(msg, "seq", None)
        if sid in self.result.flags and seq is not None:
            self.manager.observe_seq(self.venue, sid, seq)
        counters["other"] += 1


def replay(path: str | os.PathLike[str], *, fast: bool = False,
           thresholds: HealthThresholds | None = None) -> ReplayResult:
    """Feed a recording through the decoder and books; returns the manager with the final books."""
    now = [0]
    manager = BookManager(thresholds, clock_ns=lambda: now[0], check_seq=not fast)
    result = ReplayResult(manager, "kalshi")
    player = _Replayer(manager, result, fast)
    if fast:
        manager.on_other = player.on_other
    for record in read_records(path):
        t_ns = int(record["t"])
        now[0] = t_ns
        result.first_t_ns = result.first_t_ns or t_ns
        result.last_t_ns = t_ns
        direction = record["dir"]
        if direction == "header":
            result.venue = player.venue = str(record.get("venue", "kalshi"))
        elif direction == "market":
            player.market(record)
        elif direction == "out":
            result.frames_out += 1
            player.outgoing(frame_of(record))
        elif direction == "in":
            result.frames_in += 1
            if fast:
                frame = frame_of(record)
                ticker = _peek_ticker(frame)
                if ticker:
                    player.ensure_markets(ticker)
                player.incoming_fast(frame, t_ns)
            else:
                player.incoming(frame_of(record), t_ns)
    if fast:
        feed = manager.raw_feed(result.venue)
        result.counters.update({k: v for k, v in feed.counters().items() if v})
    else:
        result.counters.update({k: v for k, v in manager.counters.items() if v})
    return result


class _Ticker(msgspec.Struct):
    market_ticker: str | None = None


class _TickerEnvelope(msgspec.Struct):
    type: str = ""
    msg: _Ticker | None = None


def _peek_ticker(frame: str | bytes) -> str | None:
    """The market of an order-book frame, so the fast path has a book for it (grid fallback)."""
    try:
        env = msgspec.json.decode(frame, type=_TickerEnvelope)
    except (msgspec.DecodeError, UnicodeDecodeError):
        return None
    if env.type in ("orderbook_snapshot", "orderbook_delta") and env.msg is not None:
        return env.msg.market_ticker
    return None
