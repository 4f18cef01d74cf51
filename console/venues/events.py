"""Typed market-data and account events the venue clients hand to the engine.

Everything here is already in DESIGN.md units and on the YES scale: a Kalshi NO-side level at NO
price q arrives as a `Side.ASK` level at YES price 10000 - q. Structs are msgspec `Struct`s (frozen,
cheap to build). `recv_ns` is `time.monotonic_ns()` when the message was read off the socket.
"""

from __future__ import annotations

import msgspec

from console.domain.side import Side


class BookSnapshot(msgspec.Struct, frozen=True, gc=False):
    """Full book of one market: bids and asks as (yes_price, count), each ascending by price."""

    venue: str  # "kalshi" | "polymarket"
    ticker: str
    bids: tuple[tuple[int, int], ...]
    asks: tuple[tuple[int, int], ...]
    sid: int = 0
    seq: int = 0
    ts_ms: int = 0
    recv_ns: int = 0


class BookDelta(msgspec.Struct, frozen=True, gc=False):
    """The resting count at one YES-scale level changed by `delta` (signed count units)."""

    venue: str
    ticker: str
    side: Side
    price: int  # YES scale
    delta: int
    sid: int = 0
    seq: int = 0
    ts_ms: int = 0
    recv_ns: int = 0
    client_order_id: str | None = None  # set when our own order caused the change


class BookLevelSet(msgspec.Struct, frozen=True, gc=False):
    """Polymarket-style absolute update: the count at a level is now `count` (0 removes it)."""

    venue: str
    ticker: str
    side: Side
    price: int
    count: int
    ts_ms: int = 0
    recv_ns: int = 0
