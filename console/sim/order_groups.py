"""Order groups: a venue-side limit on contracts matched per rolling 15 seconds (reference 6.5).

Every fill of an order in a group (as taker or maker) adds its count to the group's window. When the
contracts matched in the last 15 simulated seconds reach `contracts_limit`, the group triggers: all
its live orders are cancelled ("OrderGroupCancel") and it refuses new orders with
400 `order_group_triggered` until it is reset. Lowering the limit below what the window already holds
triggers it too. Deleting a group cancels its orders. Groups belong to one account; another
account's group id is `order_group_not_found`.
"""

from __future__ import annotations

from console.sim.core import REASON_ORDER_GROUP, ExchangeCore
from console.sim.events import OrderGroupChanged
from console.sim.model import ExchangeError, Order, OrderGroup

WINDOW_MS = 15_000


class OrderGroups(ExchangeCore):
    """The order-group half of `Exchange`."""

    def create_order_group(self, account_id: str, contracts_limit: int) -> OrderGroup:
        """A new group allowing `contracts_limit` count units matched per rolling 15 s."""
        self._account(account_id)
        self._check_limit(contracts_limit)
        group = OrderGroup(order_group_id=self.new_id(), account_id=account_id, contracts_limit=contracts_limit)
        self.order_groups[group.order_group_id] = group
        self._emit(OrderGroupChanged(account_id, group.order_group_id, "created", contracts_limit, self.clock.now_ms()))
        return group

    def update_order_group_limit(self, account_id: str, order_group_id: str, contracts_limit: int) -> OrderGroup:
        group = self._own_group(account_id, order_group_id)
        self._check_limit(contracts_limit)
        now = self.clock.now_ms()
        group.contracts_limit = contracts_limit
        self._emit(OrderGroupChanged(account_id, order_group_id, "limit_updated", contracts_limit, now))
        if not group.triggered and self._window_total(group, now) >= contracts_limit:
            self._trigger_group(group, now)
        return group

    def trigger_order_group(self, account_id: str, order_group_id: str) -> OrderGroup:
        """Cancel every order of the group and refuse new ones until `reset_order_group`."""
        group = self._own_group(account_id, order_group_id)
        self._trigger_group(group, self.clock.now_ms())
        return group

    def reset_order_group(self, account_id: str, order_group_id: str) -> OrderGroup:
        """Zero the matched-contracts window and accept orders again."""
        group = self._own_group(account_id, order_group_id)
        group.matched.clear()
        group.triggered = False
        self._emit(OrderGroupChanged(account_id, order_group_id, "reset", None, self.clock.now_ms()))
        return group

    def delete_order_group(self, account_id: str, order_group_id: str) -> list[Order]:
        """Cancel the group's orders and forget the group; returns the cancelled orders."""
        group = self._own_group(account_id, order_group_id)
        now = self.clock.now_ms()
        cancelled = self._cancel_group_orders(group, now)
        del self.order_groups[order_group_id]
        self._emit(OrderGroupChanged(account_id, order_group_id, "deleted", None, now))
        return cancelled

    def group_matched_in_window(self, order_group_id: str) -> int:
        """Count units matched by the group in the current 15 s window."""
        group = self.order_groups[order_group_id]
        return self._window_total(group, self.clock.now_ms())

    # --- used by order entry -------------------------------------------------------------------

    def _group_for_new_order(self, account_id: str, order_group_id: str | None) -> OrderGroup | None:
        if order_group_id is None:
            return None
        group = self._own_group(account_id, order_group_id)
        if group.triggered:
            raise ExchangeError(400, "order_group_triggered", "order group triggered",
                                f"order group {order_group_id} hit its limit; reset it before placing orders")
        return group

    def _group_matched(self, order: Order, count: int, now_ms: int) -> None:
        if order.order_group_id is None:
            return
        group = self.order_groups.get(order.order_group_id)
        if group is None or group.triggered:
            return
        group.matched.append((now_ms, count))
        if self._window_total(group, now_ms) >= group.contracts_limit:
            self._trigger_group(group, now_ms)

    # --- internals -----------------------------------------------------------------------------

    def _own_group(self, account_id: str, order_group_id: str) -> OrderGroup:
        group = self.order_groups.get(order_group_id)
        if group is None or group.account_id != account_id:
            raise ExchangeError(404, "order_group_not_found", "order group not found",
                                f"no order group {order_group_id!r} for this user")
        return group

    @staticmethod
    def _check_limit(contracts_limit: int) -> None:
        if not isinstance(contracts_limit, int) or contracts_limit <= 0:
            raise ExchangeError(400, "invalid_parameters", "invalid parameters",
                                f"contracts_limit must be a positive count, got {contracts_limit!r}")

    @staticmethod
    def _window_total(group: OrderGroup, now_ms: int) -> int:
        cutoff = now_ms - WINDOW_MS
        matched = group.matched
        drop = 0
        while drop < len(matched) and matched[drop][0] <= cutoff:
            drop += 1
        if drop:
            del matched[:drop]
        return sum(c for _, c in matched)

    def _trigger_group(self, group: OrderGroup, now_ms: int) -> None:
        group.triggered = True
        self._emit(OrderGroupChanged(group.account_id, group.order_group_id, "triggered", None, now_ms))
        self._cancel_group_orders(group, now_ms)

    def _cancel_group_orders(self, group: OrderGroup, now_ms: int) -> list[Order]:
        cancelled = []
        for oid in list(group.order_ids):
            order = self.orders[oid]
            before = self._ticker_state(order.ticker)
            if self._cancel(order, REASON_ORDER_GROUP, now_ms):
                cancelled.append(order)
            self._after_action(order.ticker, before, now_ms)
        return cancelled
