"""`Book`: one market's order book on its `PriceGrid`, YES scale, dense per-level count arrays.

Bids (`Side.BID`, wanting YES) and asks (`Side.ASK`, wanting NO) are each an `array('q')` indexed by
grid level, holding the resting count (hundredths of a contract) at that level. The best bid (highest
non-empty bid level) and best ask (lowest non-empty ask level) are kept incrementally: a change at a
better price moves the best in O(1); emptying the best level scans to the next non-empty one.

The arrays (and a small `meta` array holding the best indices, a version and health counters) never
change identity or length, so the C fast path (`console/domain/_fastbook.c`) can write the very same
memory with the same rules as `apply_delta`. Nothing here does I/O; prices, counts and money are ints.
The only float is `microprice_probability`, a probability for display and models.

The NO view (`no_view()`) mirrors the book for display: a NO bid at NO price q is a YES ask at
10000 - q, and a NO ask is a YES bid mirrored the same way.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable

from console.domain.grid import OffGridPrice, PriceGrid
from console.domain.side import Side
from console.domain.units import PRICE_MAX, format_count, format_price

#: the largest count one level may hold (10^13 contracts); larger deltas or levels are refused,
#: which also keeps every sum inside a signed 64-bit integer in the C fast path
MAX_LEVEL_COUNT = 10**15

# layout of `Book.meta` (shared with _fastbook.c: keep the two in step)
META_BEST_BID = 0  # level index of the best bid, -1 when there is none
META_BEST_ASK = 1  # level index of the best ask, len(grid) when there is none
META_VERSION = 2  # +1 for every applied change (delta, level set, snapshot)
META_LAST_TS_MS = 3  # exchange timestamp of the last applied change (0 when unknown)
META_REFUSED = 4  # deltas refused since creation (off-grid price or a count that would go negative)
META_DAMAGED = 5  # 1 after a refused delta: the copy may differ from the venue until the next snapshot
META_RECV_NS = 6  # receive time (the caller's monotonic ns) of the last applied change (0 when not given)
META_SIZE = 8

_ZEROS: dict[int, array] = {}


class BookInconsistent(ValueError):
    """A change that cannot be true of the venue's book (a level would go below zero or past the limit).

    The book is left unchanged and marked damaged; only a fresh snapshot makes it trustworthy again.
    """


def _zeros(n: int) -> array:
    if n not in _ZEROS:
        _ZEROS[n] = array("q", bytes(8 * n))
    return _ZEROS[n]


class Book:
    """A YES-scale order book for one market (see the module docstring)."""

    __slots__ = ("_n", "_prices", "asks", "bids", "grid", "meta", "ticker", "venue")

    def __init__(self, grid: PriceGrid, ticker: str = "", venue: str = "") -> None:
        self.grid = grid
        self.venue = venue
        self.ticker = ticker
        self._n = n = len(grid)
        self._prices = grid.prices
        self.bids = array("q", _zeros(n))
        self.asks = array("q", _zeros(n))
        self.meta = array("q", bytes(8 * META_SIZE))
        self.meta[META_BEST_BID] = -1
        self.meta[META_BEST_ASK] = n

    # --- changes ----------------------------------------------------------------------------------
    def apply_delta(self, side: Side, price: int, delta: int, ts_ms: int = 0, recv_ns: int = 0) -> int:
        """Add `delta` (signed count units) to the level at YES `price`; returns the new count there.

        Raises `OffGridPrice` for a price not on the grid and `BookInconsistent` when the level would
        go below zero or above MAX_LEVEL_COUNT; either way nothing changes and the book is marked damaged.
        """
        try:
            i = self.grid.index_of(price)
        except OffGridPrice:
            self._refuse()
            raise
        levels = self.bids if side is Side.BID else self.asks
        new = levels[i] + delta
        if new < 0 or new > MAX_LEVEL_COUNT:
            self._refuse()
            what = "below zero" if new < 0 else "past the count limit"
            raise BookInconsistent(
                f"{self.ticker or 'book'}: {side.value} {format_price(price)} {format_count(levels[i])} "
                f"{'+' if delta >= 0 else ''}{format_count(delta)} goes {what}; the book needs a fresh snapshot"
            )
        self._write(side, levels, i, new, ts_ms, recv_ns)
        return new

    def set_level(self, side: Side, price: int, count: int, ts_ms: int = 0, recv_ns: int = 0) -> None:
        """Set the count at a YES price absolutely (Polymarket `price_change`); 0 removes the level."""
        if not 0 <= count <= MAX_LEVEL_COUNT:
            raise BookInconsistent(f"{self.ticker or 'book'}: level count {count} outside 0..{MAX_LEVEL_COUNT}")
        i = self.grid.index_of(price)
        self._write(side, self.bids if side is Side.BID else self.asks, i, count, ts_ms, recv_ns)

    def apply_snapshot(self, bids: Iterable[tuple[int, int]], asks: Iterable[tuple[int, int]],
                       ts_ms: int = 0, recv_ns: int = 0) -> None:
        """Replace the whole book with YES-scale (price, count) levels; clears the damaged mark.

        Checked before anything changes: every price on the grid, counts 1..MAX_LEVEL_COUNT, no price
        listed twice on a side. A bad snapshot raises and leaves the old book in place.
        """
        checked = [self._checked_levels(Side.BID, bids), self._checked_levels(Side.ASK, asks)]
        zeros = _zeros(self._n)
        self.bids[:] = zeros  # same length: the arrays keep their identity (the C path holds them)
        self.asks[:] = zeros
        for i, count in checked[0]:
            self.bids[i] = count
        for i, count in checked[1]:
            self.asks[i] = count
        meta = self.meta
        meta[META_BEST_BID] = max((i for i, _ in checked[0]), default=-1)
        meta[META_BEST_ASK] = min((i for i, _ in checked[1]), default=self._n)
        meta[META_VERSION] += 1
        meta[META_DAMAGED] = 0
        if ts_ms:
            meta[META_LAST_TS_MS] = ts_ms
        if recv_ns:
            meta[META_RECV_NS] = recv_ns

    def clear(self) -> None:
        self.apply_snapshot((), ())

    def _checked_levels(self, side: Side, levels: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
        out: list[tuple[int, int]] = []
        seen: set[int] = set()
        for price, count in levels:
            i = self.grid.index_of(price)
            if not 0 < count <= MAX_LEVEL_COUNT:
                raise BookInconsistent(f"{self.ticker or 'book'} snapshot: {side.value} {format_price(price)} "
                                       f"has count {count}; levels must hold 1..{MAX_LEVEL_COUNT} units")
            if i in seen:
                raise BookInconsistent(f"{self.ticker or 'book'} snapshot: {side.value} {format_price(price)} "
                                       "is listed twice")
            seen.add(i)
            out.append((i, count))
        return out

    def _write(self, side: Side, levels: array, i: int, new: int, ts_ms: int, recv_ns: int) -> None:
        levels[i] = new
        meta = self.meta
        if side is Side.BID:
            best = meta[META_BEST_BID]
            if new and i > best:
                meta[META_BEST_BID] = i
            elif not new and i == best:
                j = i - 1
                while j >= 0 and not levels[j]:
                    j -= 1
                meta[META_BEST_BID] = j
        else:
            best = meta[META_BEST_ASK]
            if new and i < best:
                meta[META_BEST_ASK] = i
            elif not new and i == best:
                j, n = i + 1, self._n
                while j < n and not levels[j]:
                    j += 1
                meta[META_BEST_ASK] = j
        meta[META_VERSION] += 1
        if ts_ms:
            meta[META_LAST_TS_MS] = ts_ms
        if recv_ns:
            meta[META_RECV_NS] = recv_ns

    def mark_damaged(self) -> None:
        """Mark the copy untrustworthy until the next snapshot (an update was lost or refused upstream)."""
        self._refuse()

    def _refuse(self) -> None:
        self.meta[META_REFUSED] += 1
        self.meta[META_DAMAGED] = 1

    # --- reads ------------------------------------------------------------------------------------
    @property
    def version(self) -> int:
        return self.meta[META_VERSION]

    @property
    def damaged(self) -> bool:
        """True after a refused delta, until the next snapshot."""
        return bool(self.meta[META_DAMAGED])

    @property
    def last_ts_ms(self) -> int:
        return self.meta[META_LAST_TS_MS]

    @property
    def last_recv_ns(self) -> int:
        """When the last applied change was received (the caller's monotonic clock; 0 if never given)."""
        return self.meta[META_RECV_NS]

    def count_at(self, side: Side, price: int) -> int:
        i = self.grid.index_of(price)
        return (self.bids if side is Side.BID else self.asks)[i]

    @property
    def best_bid(self) -> tuple[int, int] | None:
        """(YES price, count) of the best bid, or None."""
        i = self.meta[META_BEST_BID]
        return None if i < 0 else (self._prices[i], self.bids[i])

    @property
    def best_ask(self) -> tuple[int, int] | None:
        """(YES price, count) of the best ask, or None."""
        i = self.meta[META_BEST_ASK]
        return None if i >= self._n else (self._prices[i], self.asks[i])

    def best(self, side: Side) -> tuple[int, int] | None:
        return self.best_bid if side is Side.BID else self.best_ask

    def size_at_touch(self, side: Side) -> int:
        """Count at the best level of a side (0 when the side is empty)."""
        top = self.best(side)
        return top[1] if top else 0

    @property
    def spread(self) -> int | None:
        """Best ask minus best bid in pips (None unless both sides have a level)."""
        bid, ask = self.best_bid, self.best_ask
        return None if bid is None or ask is None else ask[0] - bid[0]

    @property
    def mid_x2(self) -> int | None:
        """Twice the mid price in YES pips (exact: the mid itself can fall on a half pip)."""
        bid, ask = self.best_bid, self.best_ask
        return None if bid is None or ask is None else ask[0] + bid[0]

    @property
    def microprice_probability(self) -> float | None:
        """Size-weighted mid as a YES probability: leans toward the side with less size at the touch."""
        bid, ask = self.best_bid, self.best_ask
        if bid is None or ask is None:
            return None
        (bid_price, bid_size), (ask_price, ask_size) = bid, ask
        return (bid_price * ask_size + ask_price * bid_size) / ((bid_size + ask_size) * PRICE_MAX)

    def depth(self, side: Side, n: int) -> list[tuple[int, int]]:
        """Up to n (YES price, count) levels of one side, best first."""
        out: list[tuple[int, int]] = []
        prices = self._prices
        if side is Side.BID:
            levels, i = self.bids, self.meta[META_BEST_BID]
            while i >= 0 and len(out) < n:
                if levels[i]:
                    out.append((prices[i], levels[i]))
                i -= 1
        else:
            levels, i, end = self.asks, self.meta[META_BEST_ASK], self._n
            while i < end and len(out) < n:
                if levels[i]:
                    out.append((prices[i], levels[i]))
                i += 1
        return out

    def levels(self, side: Side) -> list[tuple[int, int]]:
        """Every non-empty level of a side as (YES price, count), ascending by price."""
        prices = self._prices
        levels = self.bids if side is Side.BID else self.asks
        return [(prices[i], c) for i, c in enumerate(levels) if c]

    def same_levels(self, other: Book) -> bool:
        return self.bids == other.bids and self.asks == other.asks

    def no_view(self) -> NoView:
        return NoView(self)

    def __repr__(self) -> str:
        return f"Book({self.venue}:{self.ticker} bid={self.best_bid} ask={self.best_ask} v{self.version})"


class NoView:
    """The book as seen by a NO trader, for display: every price is a NO price (10000 - YES price).

    NO bids are the YES asks mirrored, NO asks the YES bids mirrored; sizes are the same.
    """

    __slots__ = ("book",)

    def __init__(self, book: Book) -> None:
        self.book = book

    @staticmethod
    def _mirror(level: tuple[int, int] | None) -> tuple[int, int] | None:
        return None if level is None else (PRICE_MAX - level[0], level[1])

    @property
    def best_bid(self) -> tuple[int, int] | None:
        """(NO price, count) of the best NO bid."""
        return self._mirror(self.book.best_ask)

    @property
    def best_ask(self) -> tuple[int, int] | None:
        """(NO price, count) of the best NO ask."""
        return self._mirror(self.book.best_bid)

    @property
    def spread(self) -> int | None:
        return self.book.spread

    @property
    def mid_x2(self) -> int | None:
        """Twice the NO mid in NO pips."""
        yes = self.book.mid_x2
        return None if yes is None else 2 * PRICE_MAX - yes

    @property
    def microprice_probability(self) -> float | None:
        yes = self.book.microprice_probability
        return None if yes is None else 1.0 - yes

    def depth(self, side: Side, n: int) -> list[tuple[int, int]]:
        """Up to n (NO price, count) levels, best first: side BID = NO bids, side ASK = NO asks."""
        return [(PRICE_MAX - p, c) for p, c in self.book.depth(side.opposite, n)]

    def levels(self, side: Side) -> list[tuple[int, int]]:
        """Every level as (NO price, count), ascending by NO price."""
        return [(PRICE_MAX - p, c) for p, c in reversed(self.book.levels(side.opposite))]
