"""`KalshiBookFeed`: raw Kalshi order-book WebSocket messages decoded and applied to `Book`s, fast.

The hot path joins decode and apply (DESIGN.md keeps them apart) because at a million messages a second
building a typed event per delta costs more than the whole apply; so this module, and its C half
`_fastbook.c`, know the `orderbook_delta` / `orderbook_snapshot` wire shapes (kalshi-api.md 9.5).

There are two paths with one set of rules, message for message:

- C (`_fastbook.DeltaFeed`, the default): deltas are parsed and applied in C to the Books' own arrays.
  Snapshots, replies, other channels and a few rare shapes come back to Python unprocessed.
- Python reference (`pure=True`): msgspec decode, `units.parse_price/parse_count`, `Book.apply_delta`.

The rules, in order, for a delta: a message that is not valid JSON, lacks a field, has a field of the
wrong type, or has a bad decimal string is *malformed* (counted, skipped; nothing is ever defaulted).
Then its `sid` must be registered (`register_sid`, which also says whether the NO side is in YES prices
or NO prices: the wire does not say), else *unknown_sid*. Then `seq`: at or below the last one seen on
that sid the message is *stale* and skipped (a duplicate must not be applied twice); above last + 1 it is
a *gap* (counted, the message still applied, `on_gap` called). Then the ticker must have a Book, else
*unknown_market*; then `Book.apply_delta` (off_grid / inconsistent refusals mark the book damaged).
"""

from __future__ import annotations

import logging
from array import array
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Annotated, Literal

import msgspec

from console.domain.book import MAX_LEVEL_COUNT, Book, BookInconsistent
from console.domain.grid import OffGridPrice, PriceGrid
from console.domain.side import Side
from console.domain.units import PRICE_MAX, UnitError, parse_count, parse_price

try:
    from console.domain import _fastbook
except ImportError:  # pragma: no cover - the package build compiles it; pure mode still works
    _fastbook = None

log = logging.getLogger(__name__)

#: sid, seq and ts_ms outside 0..this are malformed (no venue counter gets near; keeps both paths in int64)
MAX_WIRE_INT = 2**53

HAS_C = _fastbook is not None
OUTCOMES = ("applied", "malformed", "unknown_sid", "unknown_market", "off_grid", "inconsistent")
_WireInt = Annotated[int, msgspec.Meta(ge=0, le=MAX_WIRE_INT)]


class _Head(msgspec.Struct, gc=False):
    type: str
    sid: _WireInt | None = None
    seq: _WireInt | None = None
    msg: msgspec.Raw = msgspec.Raw()


class _DeltaMsg(msgspec.Struct, gc=False):
    market_ticker: str
    market_id: str
    price_dollars: str
    delta_fp: str
    side: Literal["yes", "no"]
    ts_ms: _WireInt = 0
    client_order_id: str | None = None
    subaccount: int | None = None


class _SnapshotMsg(msgspec.Struct, gc=False):
    market_ticker: str
    market_id: str
    yes_dollars_fp: list[tuple[str, str]] = []
    no_dollars_fp: list[tuple[str, str]] = []


_decode_head = msgspec.json.Decoder(_Head).decode
_decode_delta = msgspec.json.Decoder(_DeltaMsg).decode
_decode_snapshot = msgspec.json.Decoder(_SnapshotMsg).decode
_INDEX_MAPS: dict[tuple, array] = {}


def index_map(grid: PriceGrid) -> array:
    """YES price (0..10000) -> level index (-1 off the grid), as the C path reads it."""
    key = grid.bands
    if key not in _INDEX_MAPS:
        index = array("i", [-1]) * (PRICE_MAX + 1)
        for i, price in enumerate(grid.prices):
            index[price] = i
        _INDEX_MAPS[key] = index
    return _INDEX_MAPS[key]


class _SidTable:
    """Per-sid price convention and seq state for the pure path (the C path keeps its own)."""

    def __init__(self) -> None:
        self.sids: dict[int, list] = {}  # sid -> [use_yes, last_seq | None, gaps, missed, stale]
        self.gap = (0, 0, 0)

    def set_sid(self, sid: int, use_yes: bool) -> None:
        self.sids[sid] = [use_yes, None, 0, 0, 0]

    def drop_sid(self, sid: int) -> None:
        self.sids.pop(sid, None)

    def use_yes_price(self, sid: int) -> bool | None:
        state = self.sids.get(sid)
        return None if state is None else state[0]

    def seq(self, sid: int, seq: int) -> int:
        state = self.sids[sid]
        last = state[1]
        if last is not None and seq <= last:
            state[4] += 1
            return 2
        code = 0
        if last is not None and seq > last + 1:
            state[2] += 1
            state[3] += seq - last - 1
            self.gap = (sid, last + 1, seq)
            code = 1
        state[1] = seq
        return code

    def sid_state(self, sid: int) -> tuple | None:
        state = self.sids.get(sid)
        return None if state is None else tuple(state[1:])

    def last_gap(self) -> tuple[int, int, int]:
        return self.gap


class KalshiBookFeed:
    """Applies raw Kalshi order-book messages to registered Books (see the module docstring).

    on_gap(sid, expected_seq, got_seq) runs after the message that revealed the gap was processed;
    on_snapshot(ticker) after a snapshot replaced a book; on_other(type, raw) for every message that is
    not order-book data (subscription replies, other channels, errors).
    """

    def __init__(self, *, pure: bool = False,
                 on_gap: Callable[[int, int, int], None] | None = None,
                 on_snapshot: Callable[[str], None] | None = None,
                 on_other: Callable[[str, bytes | str], None] | None = None) -> None:
        self.books: dict[str, Book] = {}
        self.on_gap = on_gap
        self.on_snapshot = on_snapshot
        self.on_other = on_other
        self._c = None if pure or _fastbook is None else _fastbook.DeltaFeed()
        self._seqs = self._c if self._c is not None else _SidTable()
        self._sids: dict[int, bool] = {}
        self._counts: Counter[str] = Counter()  # outcomes of messages handled in Python

    @property
    def uses_c(self) -> bool:
        return self._c is not None

    # --- set-up -----------------------------------------------------------------------------------
    def add_book(self, book: Book) -> None:
        """Route deltas for `book.ticker` to this Book (a new Book for a ticker replaces the old one)."""
        self.books[book.ticker] = book
        if self._c is not None:
            self._c.add_market(book.ticker, book.bids, book.asks, book.meta, index_map(book.grid))

    def register_sid(self, sid: int, use_yes_price: bool) -> None:
        """A subscription the client opened, and whether it asked for `use_yes_price`; seq starts afresh."""
        self._seqs.set_sid(sid, use_yes_price)
        self._sids[sid] = use_yes_price

    def drop_sid(self, sid: int) -> None:
        self._seqs.drop_sid(sid)
        self._sids.pop(sid, None)

    def sid_state(self, sid: int) -> tuple[int | None, int, int, int] | None:
        """(last seq or None, gaps, missed messages, stale messages) of a registered sid."""
        return self._seqs.sid_state(sid)

    def counters(self) -> dict[str, int]:
        """Message outcomes plus seq totals over the registered sids."""
        out = dict.fromkeys(OUTCOMES, 0)
        if self._c is not None:
            for key, value in self._c.counters().items():
                if key in out:
                    out[key] += value
        for key, value in self._counts.items():
            out[key] = out.get(key, 0) + value
        for key in ("gaps", "missed", "stale"):
            out[key] = 0
        for sid in self._sids:
            _, gaps, missed, stale = self._seqs.sid_state(sid)
            out["gaps"] += gaps
            out["missed"] += missed
            out["stale"] += stale
        out.setdefault("snapshots", 0)
        out.setdefault("other", 0)
        return out

    # --- feeding ----------------------------------------------------------------------------------
    def feed(self, messages: list[bytes | str], recv_ns: int = 0) -> None:
        """Process a batch of raw messages (each one WebSocket text frame) in order.

        `recv_ns` (the caller's monotonic clock) is stamped on every book the batch changes.
        """
        c = self._c
        if c is None:
            for raw in messages:
                self._handle(raw, recv_ns)
            return
        if type(messages) is not list:
            messages = list(messages)
        run, i = c.run, 0
        while True:
            i, code = run(messages, i, recv_ns)
            if code == 0:
                return
            if code == 1:
                self._handle(messages[i], recv_ns)
                i += 1
            elif self.on_gap is not None:
                self.on_gap(*c.last_gap())

    def feed_one(self, raw: bytes | str, recv_ns: int = 0) -> None:
        self.feed([raw], recv_ns)

    def feed_lines(self, buffer: bytes, recv_ns: int = 0) -> None:
        """Process one buffer of newline-separated messages (empty lines are skipped)."""
        c = self._c
        if c is None:
            for line in buffer.split(b"\n"):
                if line:
                    self._handle(line, recv_ns)
            return
        pos, end = 0, len(buffer)
        while pos < end:
            code, pos, start, stop = c.run_lines(buffer, pos, recv_ns)
            if code == 1:
                self._handle(buffer[start:stop], recv_ns)
            elif code == 2 and self.on_gap is not None:
                self.on_gap(*c.last_gap())

    # --- the Python path (all of pure mode; deferred messages in C mode) ------------------------------
    def _handle(self, raw: bytes | str, recv_ns: int = 0) -> None:
        try:
            head = _decode_head(raw)
        except (msgspec.DecodeError, UnicodeDecodeError):  # msgspec raises the latter for bad UTF-8 in a str
            self._counts["malformed"] += 1
            return
        if head.type == "orderbook_delta":
            self._delta(head, recv_ns)
        elif head.type == "orderbook_snapshot":
            self._snapshot(head, recv_ns)
        else:
            # replies about a live sid (ok, unsubscribed, errors) use up seq numbers on that sid too
            if head.sid is not None and head.seq is not None and self._seqs.use_yes_price(head.sid) is not None:
                if self._seqs.seq(head.sid, head.seq) == 1 and self.on_gap is not None:
                    self.on_gap(*self._seqs.last_gap())
            self._counts["other"] += 1
            if self.on_other is not None:
                self.on_other(head.type, raw)

    def _sequenced(self, head: _Head) -> tuple[bool, bool] | None:
        """(use_yes_price, gap) for a message that may be applied, None when it must be skipped."""
        use_yes = self._seqs.use_yes_price(head.sid)
        if use_yes is None:
            self._counts["unknown_sid"] += 1
            return None
        code = self._seqs.seq(head.sid, head.seq)
        if code == 2:
            return None  # stale: counted in the sid's state
        return use_yes, code == 1

    def _delta(self, head: _Head, recv_ns: int) -> None:
        counts = self._counts
        if head.sid is None or head.seq is None or not head.msg:
            counts["malformed"] += 1
            return
        try:
            m = _decode_delta(head.msg)
            price = parse_price(m.price_dollars)
            delta = parse_count(m.delta_fp, signed=True)
        except (msgspec.DecodeError, UnicodeDecodeError, UnitError):
            counts["malformed"] += 1
            return
        if abs(delta) > MAX_LEVEL_COUNT:
            counts["malformed"] += 1
            return
        sequenced = self._sequenced(head)
        if sequenced is None:
            return
        use_yes, gap = sequenced
        book = self.books.get(m.market_ticker)
        if book is None:
            counts["unknown_market"] += 1
        else:
            if m.side == "yes":
                side, yes_price = Side.BID, price
            else:
                side, yes_price = Side.ASK, price if use_yes else PRICE_MAX - price
            try:
                book.apply_delta(side, yes_price, delta, m.ts_ms, recv_ns)
                counts["applied"] += 1
            except OffGridPrice:
                counts["off_grid"] += 1
            except BookInconsistent:
                counts["inconsistent"] += 1
        if gap and self.on_gap is not None:
            self.on_gap(*self._seqs.last_gap())

    def _snapshot(self, head: _Head, recv_ns: int) -> None:
        counts = self._counts
        if head.sid is None or head.seq is None or not head.msg:
            counts["malformed"] += 1
            return
        try:
            m = _decode_snapshot(head.msg)
            yes_side = _levels(m.yes_dollars_fp)
            no_side = _levels(m.no_dollars_fp)
        except (msgspec.DecodeError, UnicodeDecodeError, UnitError):
            counts["malformed"] += 1
            return
        sequenced = self._sequenced(head)
        if sequenced is None:
            return
        use_yes, gap = sequenced
        book = self.books.get(m.market_ticker)
        if book is None:
            counts["unknown_market"] += 1
        else:
            asks = no_side if use_yes else [(PRICE_MAX - p, c) for p, c in no_side]
            try:
                book.apply_snapshot(yes_side, asks, recv_ns=recv_ns)
                counts["snapshots"] += 1
                if self.on_snapshot is not None:
                    self.on_snapshot(book.ticker)
            except OffGridPrice:
                counts["off_grid"] += 1
                book.mark_damaged()
            except BookInconsistent:
                counts["inconsistent"] += 1
                book.mark_damaged()
        if gap and self.on_gap is not None:
            self.on_gap(*self._seqs.last_gap())


def _levels(levels: Iterable[tuple[str, str]]) -> list[tuple[int, int]]:
    return [(parse_price(p), parse_count(c)) for p, c in levels]
