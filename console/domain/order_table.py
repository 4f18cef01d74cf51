"""`OrderTable`: every order of the session, routed by client_order_id and venue order id.

Fills and `user_order` updates name the venue's `order_id` (and sometimes the `client_order_id`).
A fill can arrive before the create answer told us which order id the venue gave our order; such
events are parked under that order id and replayed when the id becomes known (`Accepted`, a
reconciliation read). Fill ids are deduplicated table-wide as well as per order, so a fill delivered
twice (WS replay, REST backfill) is applied once. Events for order ids that never become known stay
in `orphans()`: the engine adopts those orders through reconciliation.
"""

from __future__ import annotations

from collections.abc import Iterator

from console.domain.orders import (
    Applied,
    Fill,
    Order,
    OrderEvent,
    OrderState,
    VenueOrderUpdate,
)


class OrderTable:
    """All orders of the session (open and finished), with the routing indexes."""

    def __init__(self) -> None:
        self._by_client_id: dict[str, Order] = {}
        self._by_order_id: dict[str, Order] = {}
        self._parked: dict[str, list[Fill | VenueOrderUpdate]] = {}
        self._seen_fill_ids: set[str] = set()

    # --- membership ---------------------------------------------------------------------------
    def add(self, order: Order) -> None:
        if order.client_order_id in self._by_client_id:
            raise ValueError(f"client_order_id {order.client_order_id} is already used by another order")
        self._by_client_id[order.client_order_id] = order
        self._seen_fill_ids |= order.fill_ids
        if order.order_id:
            self._by_order_id[order.order_id] = order

    def __contains__(self, client_order_id: str) -> bool:
        return client_order_id in self._by_client_id

    def __iter__(self) -> Iterator[Order]:
        return iter(self._by_client_id.values())

    def __len__(self) -> int:
        return len(self._by_client_id)

    def get(self, client_order_id: str) -> Order | None:
        return self._by_client_id.get(client_order_id)

    def by_order_id(self, order_id: str) -> Order | None:
        return self._by_order_id.get(order_id)

    # --- routing ------------------------------------------------------------------------------
    def apply(self, client_order_id: str, event: OrderEvent) -> list[tuple[Order, Applied]]:
        """Apply an event to the order with this client id (REST answers and local events).

        Returns every (order, applied) pair that changed, including parked events replayed once
        the event revealed the venue order id.
        """
        order = self._by_client_id.get(client_order_id)
        if order is None:
            raise KeyError(f"no order with client_order_id {client_order_id}")
        if isinstance(event, Fill):
            if event.fill_id in self._seen_fill_ids:
                return []
            self._seen_fill_ids.add(event.fill_id)
        results = [(order, order.apply(event))]
        self._index(order)
        return results + self._replay(order)

    def apply_fill(self, fill: Fill) -> list[tuple[Order, Applied]]:
        """Route a fill by client id, else by order id, else park it. Duplicates return []."""
        if fill.fill_id in self._seen_fill_ids:
            return []
        order = self._find(fill.client_order_id, fill.order_id)
        if order is None:
            parked = self._parked.setdefault(fill.order_id, [])
            if all(not (isinstance(e, Fill) and e.fill_id == fill.fill_id) for e in parked):
                parked.append(fill)
            return []
        self._seen_fill_ids.add(fill.fill_id)
        results = [(order, order.apply(fill))]
        self._index(order)
        return results + self._replay(order)

    def apply_update(self, update: VenueOrderUpdate, client_order_id: str | None = None) -> list[tuple[Order, Applied]]:
        """Route a `user_order` update (or a REST read) by client id, else order id, else park it."""
        order = self._find(client_order_id, update.order_id)
        if order is None:
            self._parked.setdefault(update.order_id, []).append(update)
            return []
        results = [(order, order.apply(update))]
        self._index(order)
        return results + self._replay(order)

    def _find(self, client_order_id: str | None, order_id: str) -> Order | None:
        if client_order_id and client_order_id in self._by_client_id:
            return self._by_client_id[client_order_id]
        return self._by_order_id.get(order_id)

    def _index(self, order: Order) -> None:
        if order.order_id and order.order_id not in self._by_order_id:
            self._by_order_id[order.order_id] = order

    def _replay(self, order: Order) -> list[tuple[Order, Applied]]:
        if not order.order_id or order.order_id not in self._parked:
            return []
        results = []
        for event in self._parked.pop(order.order_id):
            if isinstance(event, Fill):
                if event.fill_id in self._seen_fill_ids:
                    continue
                self._seen_fill_ids.add(event.fill_id)
            results.append((order, order.apply(event)))
        return results

    # --- queries ------------------------------------------------------------------------------
    def open_orders(self, ticker: str | None = None) -> list[Order]:
        """Orders that may still rest or fill (pending and unknown included), oldest first."""
        return [o for o in self._by_client_id.values() if o.state.open and (ticker is None or o.ticker == ticker)]

    def unknown_orders(self, ticker: str | None = None) -> list[Order]:
        return [o for o in self._by_client_id.values()
                if o.state is OrderState.UNKNOWN and (ticker is None or o.ticker == ticker)]

    def has_unknown(self, ticker: str) -> bool:
        return any(o.ticker == ticker and o.state is OrderState.UNKNOWN for o in self._by_client_id.values())

    def orphans(self) -> dict[str, list[Fill | VenueOrderUpdate]]:
        """Parked events whose order id no local order has claimed (orders placed elsewhere, or lost)."""
        return {k: list(v) for k, v in self._parked.items()}

    def fill_seen(self, fill_id: str) -> bool:
        return fill_id in self._seen_fill_ids

