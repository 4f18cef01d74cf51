"""Collateral held by resting orders: which part of each order nets an existing position.

The rule (also in `console.sim.accounts`): an account's position in a market can be netted by its
orders on the opposite side (a bid nets NO contracts, an ask nets YES contracts). That capacity is
handed out greedily: reduce-only orders first, then the other orders oldest first. The netting part
of an order needs no cash (a netted pair pays $1 back at once); the rest is reserved at the order's
limit price (bid: p per count unit, ask: 10000 - p).

A greedy allocation in age order always has the same shape: every order up to a boundary is fully
netting, the last one before the boundary possibly only partly, and everything after it not at all.
`_AllocationQueue` keeps that shape and moves the boundary, so a refresh costs what changed at the
boundary instead of a walk over all of an account's orders (a market maker may rest hundreds).

This allocation is safe when fills happen in another order than the allocation: a fill that nets
pays $1 minus its price back, which is never less than the reservation moved onto another order.
"""

from __future__ import annotations

from console.sim.accounts import unit_cost
from console.sim.events import BookSide
from console.sim.model import Account, Order

_COMPACT_MIN_DEAD = 32


class _AllocationQueue:
    """Orders of one side in allocation order, with how much of each nets the position."""

    __slots__ = ("allocated", "boundary", "closing", "index", "queue")

    def __init__(self) -> None:
        self.queue: list[Order | None] = []  # allocation order; None marks a removed entry
        self.index: dict[str, int] = {}  # order_id -> position in `queue`
        self.closing: dict[str, int] = {}  # order_id -> netting count (> 0 only)
        self.boundary = 0  # entries at or after this position net nothing
        self.allocated = 0  # sum of `closing`

    def __len__(self) -> int:
        return len(self.index)

    def orders(self) -> list[Order]:
        return [o for o in self.queue if o is not None]

    def add(self, order: Order) -> None:
        self.index[order.order_id] = len(self.queue)
        self.queue.append(order)

    def remove(self, order: Order, *, compact: bool = True) -> int:
        """Take an order out; returns the position it had (for `restore`)."""
        i = self.index.pop(order.order_id)
        self.queue[i] = None
        self.allocated -= self.closing.pop(order.order_id, 0)
        dead = len(self.queue) - len(self.index)
        if compact and dead >= _COMPACT_MIN_DEAD and dead * 2 > len(self.queue):
            self._compact()
        return i

    def restore(self, order: Order, position: int) -> None:
        """Undo `remove(order, compact=False)` followed by `add(order)`: back to its old place."""
        assert self.queue[-1] is order and self.queue[position] is None
        self.queue.pop()
        self.allocated -= self.closing.pop(order.order_id, 0)
        self.queue[position] = order
        self.index[order.order_id] = position

    def _compact(self) -> None:
        live_before_boundary = sum(1 for o in self.queue[: self.boundary] if o is not None)
        self.queue = [o for o in self.queue if o is not None]
        self.index = {o.order_id: i for i, o in enumerate(self.queue)}
        self.boundary = live_before_boundary

    def rebalance(self, capacity: int, touched: dict[str, Order]) -> int:
        """Allocate `capacity` greedily; orders whose netting part changed go into `touched`.

        Returns how much was allocated (at most `capacity`).
        """
        queue, closing = self.queue, self.closing
        # an allocated order may have shrunk (fill or decrease): its netting part cannot exceed it
        for oid in [oid for oid in touched if oid in closing]:
            order = touched[oid]
            if closing[oid] > order.remaining_count:
                self.allocated -= closing[oid] - order.remaining_count
                if order.remaining_count:
                    closing[oid] = order.remaining_count
                else:  # pragma: no cover - finished orders are removed before a rebalance
                    del closing[oid]
        # too much allocated: take it back from the end
        while self.allocated > capacity:
            self.boundary -= 1
            order = queue[self.boundary]
            if order is None or order.order_id not in closing:
                continue
            take = min(closing[order.order_id], self.allocated - capacity)
            closing[order.order_id] -= take
            self.allocated -= take
            touched[order.order_id] = order
            if closing[order.order_id]:
                self.boundary += 1  # still partly netting: it stays inside the boundary
                break
            del closing[order.order_id]
        # room left: top up the last allocated order, then move the boundary forward
        if self.allocated < capacity:
            b = self.boundary
            while b > 0 and queue[b - 1] is None:
                b -= 1
            if b > 0:
                last = queue[b - 1]
                assert last is not None
                self._top_up(last, capacity, touched)
            while self.allocated < capacity and self.boundary < len(queue):
                order = queue[self.boundary]
                self.boundary += 1
                if order is not None:
                    self._top_up(order, capacity, touched)
        return self.allocated

    def _top_up(self, order: Order, capacity: int, touched: dict[str, Order]) -> None:
        oid = order.order_id
        have = self.closing.get(oid, 0)
        more = min(order.remaining_count - have, capacity - self.allocated)
        if more > 0:
            self.closing[oid] = have + more
            self.allocated += more
            touched[oid] = order


class MarketOrders:
    """One account's live orders in one market and the collateral each holds (see module doc)."""

    __slots__ = ("_all", "_queues")

    def __init__(self) -> None:
        # per side: (reduce-only queue, regular queue); reduce-only orders are allocated first
        self._queues = {BookSide.BID: (_AllocationQueue(), _AllocationQueue()),
                        BookSide.ASK: (_AllocationQueue(), _AllocationQueue())}
        self._all: dict[str, Order] = {}

    def __len__(self) -> int:
        return len(self._all)

    def __contains__(self, order: Order) -> bool:
        return order.order_id in self._all

    def orders(self) -> list[Order]:
        return list(self._all.values())

    def _queue(self, order: Order) -> _AllocationQueue:
        return self._queues[order.side][0 if order.reduce_only else 1]

    def add(self, order: Order) -> None:
        self._all[order.order_id] = order
        self._queue(order).add(order)

    def discard(self, order: Order) -> None:
        """Forget an order; the caller releases what it had reserved."""
        if self._all.pop(order.order_id, None) is not None:
            self._queue(order).remove(order)

    def requeue(self, order: Order) -> int:
        """Move an order to the back of the allocation order (it lost time priority).

        Returns its old place, for `unrequeue` when the change that caused it is refused.
        """
        queue = self._queue(order)
        old = queue.remove(order, compact=False)
        queue.add(order)
        return old

    def unrequeue(self, order: Order, old_place: int, account: Account, position: int) -> None:
        """Put a requeued order back where it was and recompute every allocation."""
        self._queue(order).restore(order, old_place)
        self.rebuild(account, position)

    def refresh(self, account: Account, position: int, changed: Order | None = None) -> None:
        """Re-allocate after the position or `changed` (size or price) moved; updates reservations."""
        touched: dict[str, Order] = {}
        if changed is not None and changed.order_id in self._all:
            touched[changed.order_id] = changed
        for side, capacity in ((BookSide.BID, max(-position, 0)), (BookSide.ASK, max(position, 0))):
            first, rest = self._queues[side]
            if first.allocated or first.index:
                capacity -= first.rebalance(capacity, touched)
            if rest.allocated or capacity:  # else nothing nets on this side, before or now
                rest.rebalance(capacity, touched)
        self._reserve(account, touched)

    def rebuild(self, account: Account, position: int) -> None:
        """Recompute every allocation from scratch (after an amend that had to be rolled back)."""
        for first, rest in self._queues.values():
            for queue in (first, rest):
                queue.closing.clear()
                queue.allocated = 0
                queue.boundary = 0
        touched = dict(self._all)
        for side, capacity in ((BookSide.BID, max(-position, 0)), (BookSide.ASK, max(position, 0))):
            first, rest = self._queues[side]
            capacity -= first.rebalance(capacity, touched)
            rest.rebalance(capacity, touched)
        self._reserve(account, touched)

    def _reserve(self, account: Account, touched: dict[str, Order]) -> None:
        """Set the reservation of every touched order from its non-netting part, and the account's total."""
        delta = 0
        for oid, order in touched.items():
            opening = order.remaining_count - self._queue(order).closing.get(oid, 0)
            reserved = opening * unit_cost(order.side, order.price)
            delta += reserved - order.reserved
            order.reserved = reserved
        account.reserved += delta
