"""`OrderBook`: one market's resting orders on the YES scale, in price-time priority.

Bids (`BookSide.BID`, want YES) and asks (`BookSide.ASK`, want NO) sit at YES-scale prices on the
market's `PriceGrid`. Each side is a dense array indexed by grid level: the resting total at that
level and a FIFO queue of `(sequence, order)` entries, created on first use so a deci-cent grid of a
thousand levels costs nothing until someone quotes there.

The book only knows where orders rest and how much rests at each level. The exchange owns the
orders' counts, fills, accounts and events; it tells the book what changed (`add`, `reduce`,
`remove`) and every one of those returns the signed change at the level, which the exchange turns
into a `BookDelta`.

Removal is lazy: a removed order stays in its level's queue as a stale entry until it reaches the
front or the level is compacted. An entry is live only while `_on_book[order_id]` equals the
sequence it was queued with, so re-queuing an order (an amend that loses priority) makes its old
entry stale at once. This keeps cancels O(1) and the front of a queue O(1) amortised.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator

from console.domain.grid import PriceGrid
from console.sim.events import BookSide
from console.sim.model import Order

_COMPACT_MIN_STALE = 16  # compact a level once it holds this many stale entries and more stale than live

_Entry = tuple[int, Order]


class OrderBook:
    """Resting orders of one market, both sides on the YES scale, price-time priority."""

    __slots__ = (
        "_ask_queues",
        "_ask_sizes",
        "_ask_stale",
        "_bid_queues",
        "_bid_sizes",
        "_bid_stale",
        "_on_book",
        "_prices",
        "best_ask_idx",
        "best_bid_idx",
        "grid",
    )

    def __init__(self, grid: PriceGrid) -> None:
        n = len(grid)
        self.grid = grid
        self._prices = grid.prices
        self._bid_sizes = [0] * n
        self._ask_sizes = [0] * n
        self._bid_queues: list[deque[_Entry] | None] = [None] * n
        self._ask_queues: list[deque[_Entry] | None] = [None] * n
        self._bid_stale = [0] * n
        self._ask_stale = [0] * n
        self.best_bid_idx = -1  # -1 = no bids
        self.best_ask_idx = n  # n = no asks
        self._on_book: dict[str, int] = {}  # order_id -> sequence of its live entry

    # --- queries -----------------------------------------------------------------------------

    def __contains__(self, order: Order) -> bool:
        return self._on_book.get(order.order_id) == order.sequence

    def __len__(self) -> int:
        """Number of resting orders."""
        return len(self._on_book)

    def best_bid(self) -> tuple[int, int] | None:
        """(YES price, total count) of the best bid, or None."""
        i = self.best_bid_idx
        return None if i < 0 else (self._prices[i], self._bid_sizes[i])

    def best_ask(self) -> tuple[int, int] | None:
        """(YES price, total count) of the best ask, or None."""
        i = self.best_ask_idx
        return None if i >= len(self._prices) else (self._prices[i], self._ask_sizes[i])

    def top(self) -> tuple[int, int, int, int]:
        """(best bid level, its size, best ask level, its size): cheap, for change detection."""
        bid, ask = self.best_bid_idx, self.best_ask_idx
        return (bid, self._bid_sizes[bid] if bid >= 0 else 0, ask,
                self._ask_sizes[ask] if ask < len(self._ask_sizes) else 0)

    def levels(self, side: BookSide) -> list[tuple[int, int]]:
        """Non-empty levels of one side as (YES price, total count), ascending by YES price."""
        sizes = self._bid_sizes if side is BookSide.BID else self._ask_sizes
        prices = self._prices
        if side is BookSide.BID:
            lo, hi = 0, self.best_bid_idx + 1
        else:
            lo, hi = self.best_ask_idx, len(prices)
        return [(prices[i], sizes[i]) for i in range(lo, hi) if sizes[i]]

    def size_at(self, side: BookSide, price: int) -> int:
        sizes = self._bid_sizes if side is BookSide.BID else self._ask_sizes
        return sizes[self.grid.index_of(price)]

    def is_crossed(self) -> bool:
        return self.best_bid_idx >= 0 and self.best_bid_idx >= self.best_ask_idx

    def crosses(self, side: BookSide, price: int) -> bool:
        """Whether an order on `side` at `price` would meet a resting order of the other side."""
        i = self.grid.index_of(price)
        return self.best_ask_idx <= i if side is BookSide.BID else 0 <= i <= self.best_bid_idx

    def orders_at(self, side: BookSide, price: int) -> list[Order]:
        """Live orders at one level in time priority (tests and the admin view)."""
        return [o for _, o in self._live_entries(side, self.grid.index_of(price))]

    def queue_ahead(self, order: Order) -> int:
        """Count units resting ahead of `order` at its level (0 = first in the queue)."""
        if order not in self:
            raise KeyError(f"order {order.order_id} is not on the book")
        ahead = 0
        for seq, o in self._live_entries(order.side, self.grid.index_of(order.price)):
            if seq == order.sequence and o is order:
                return ahead
            ahead += o.remaining_count
        raise AssertionError("an order on the book was missing from its level")  # pragma: no cover

    def crossing_liquidity(self, taker_side: BookSide, limit_price: int, account_id: str, need: int) -> tuple[int, int]:
        """Liquidity an incoming order could reach, excluding its owner's own resting orders.

        Returns (before_own, others): the count resting ahead of the first order of `account_id` in
        matching order, and the count of other accounts' orders across every crossing level. Both
        stop growing once they reach `need` (this is what fill-or-kill asks).
        """
        limit_idx = self.grid.index_of(limit_price)
        before_own = others = 0
        seen_own = False
        for idx in self._crossing_indices(taker_side, limit_idx):
            for _, o in self._live_entries(taker_side.opposite, idx):
                if o.account_id == account_id:
                    seen_own = True
                    continue
                others += o.remaining_count
                if not seen_own:
                    before_own = others
                if others >= need and (seen_own or before_own >= need):
                    return before_own, others
        return before_own, others

    # --- matching ----------------------------------------------------------------------------

    def best_maker(self, taker_side: BookSide, limit_price: int) -> Order | None:
        """The resting order an incoming order at `limit_price` would meet first, or None."""
        limit_idx = self.grid.index_of(limit_price)
        if taker_side is BookSide.BID:
            idx = self.best_ask_idx
            if idx > limit_idx or idx >= len(self._prices):
                return None
            return self._front(self._ask_queues, self._ask_stale, idx)
        idx = self.best_bid_idx
        if idx < limit_idx or idx < 0:
            return None
        return self._front(self._bid_queues, self._bid_stale, idx)

    # --- mutations (each returns the signed change at the order's level) ----------------------

    def add(self, order: Order) -> int:
        """Queue `order.remaining_count` at the back of its level, with `order.sequence` as its time."""
        count = order.remaining_count
        if count <= 0:
            raise ValueError(f"cannot rest order {order.order_id} with count {count}")
        if order.order_id in self._on_book:
            raise ValueError(f"order {order.order_id} is already on the book")
        idx = self.grid.index_of(order.price)
        if order.side is BookSide.BID:
            queues, sizes = self._bid_queues, self._bid_sizes
            self.best_bid_idx = max(self.best_bid_idx, idx)
        else:
            queues, sizes = self._ask_queues, self._ask_sizes
            self.best_ask_idx = min(self.best_ask_idx, idx)
        q = queues[idx]
        if q is None:
            q = queues[idx] = deque()
        q.append((order.sequence, order))
        sizes[idx] += count
        self._on_book[order.order_id] = order.sequence
        return count

    def reduce(self, order: Order, amount: int) -> int:
        """The order keeps its place but rests `amount` fewer units (a fill or a decrease)."""
        idx = self.grid.index_of(order.price)
        self._shrink(order.side, idx, amount)
        return -amount

    def remove(self, order: Order, resting_count: int) -> int:
        """Take the order off the book; `resting_count` is what it still rested (0 after a full fill)."""
        if self._on_book.pop(order.order_id, None) is None:
            raise KeyError(f"order {order.order_id} is not on the book")
        idx = self.grid.index_of(order.price)
        stale = self._bid_stale if order.side is BookSide.BID else self._ask_stale
        stale[idx] += 1
        if resting_count:
            self._shrink(order.side, idx, resting_count)
        queues = self._bid_queues if order.side is BookSide.BID else self._ask_queues
        q = queues[idx]
        if q is not None and stale[idx] >= _COMPACT_MIN_STALE and stale[idx] * 2 > len(q):
            queues[idx] = deque(e for e in q if self._on_book.get(e[1].order_id) == e[0])
            stale[idx] = 0
        return -resting_count

    # --- internals -----------------------------------------------------------------------------

    def _shrink(self, side: BookSide, idx: int, amount: int) -> None:
        sizes = self._bid_sizes if side is BookSide.BID else self._ask_sizes
        left = sizes[idx] - amount
        if left < 0:
            raise AssertionError(f"level {self._prices[idx]} on {side} would go negative")
        sizes[idx] = left
        if left:
            return
        # the level emptied: move the best pointer past empty levels
        if side is BookSide.BID and idx == self.best_bid_idx:
            i = idx - 1
            while i >= 0 and not sizes[i]:
                i -= 1
            self.best_bid_idx = i
        elif side is BookSide.ASK and idx == self.best_ask_idx:
            n = len(sizes)
            i = idx + 1
            while i < n and not sizes[i]:
                i += 1
            self.best_ask_idx = i

    def _front(self, queues: list[deque[_Entry] | None], stale: list[int], idx: int) -> Order:
        q = queues[idx]
        assert q is not None
        on_book = self._on_book
        while True:
            seq, o = q[0]
            if on_book.get(o.order_id) == seq:
                return o
            q.popleft()
            stale[idx] -= 1

    def _live_entries(self, side: BookSide, idx: int) -> Iterator[_Entry]:
        q = (self._bid_queues if side is BookSide.BID else self._ask_queues)[idx]
        if q is None:
            return
        on_book = self._on_book
        for entry in q:
            if on_book.get(entry[1].order_id) == entry[0]:
                yield entry

    def _crossing_indices(self, taker_side: BookSide, limit_idx: int) -> range:
        if taker_side is BookSide.BID:
            return range(self.best_ask_idx, limit_idx + 1)
        return range(self.best_bid_idx, limit_idx - 1, -1) if self.best_bid_idx >= 0 else range(0)
