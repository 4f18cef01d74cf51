"""Kalshi V2 order writes and order groups, made safe to retry (mixed into `rest.KalshiRest`).

The hard case is a create whose outcome is unclear: a 5xx, a timeout or a dropped connection after
the request left. The venue may have accepted the order. Sending it again could place it twice, and
`client_order_id` does not protect us (Kalshi refuses a duplicate id only while the first order is
still resting; an IOC that filled leaves the id free). So after an unclear create the client:

1. waits until the venue's portfolio view has caught up with the moment the order was sent
   (`GET /exchange/user_data_timestamp`; Kalshi's portfolio reads lag its engine);
2. lists the market's orders and looks for the `client_order_id`;
3. found: returns it as the create's result (never sent again); conclusively absent: sends again
   with the same `client_order_id`; anything else: `OutcomeUnknown` (the engine blocks the market
   until reconciliation, DESIGN.md section 5).

A 409 on create (the id belongs to a live order) is answered the same way: if that order is ours with
the same ticker, side and price, it is the result. Cancels, amends, `reduce_to` decreases, cancel-all
and group limit/trigger/reset/delete are idempotent and simply retried; a `reduce_by` decrease and a
group create are not, and raise `OutcomeUnknown` when their outcome is unclear.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from console.domain.side import Side
from console.domain.units import format_count, format_price
from console.venues.errors import OrderRejected, OutcomeUnknown, VenueError
from console.venues.kalshi import codec_rest as r
from console.venues.kalshi.http import _Unclear
from console.venues.kalshi.orders import OrderSpec

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from console.venues.kalshi.http import HttpStats, KalshiHttp

T = TypeVar("T")

ORDERS = "/portfolio/events/orders"
BATCH = f"{ORDERS}/batched"
GROUPS = "/portfolio/order_groups"
#: Kalshi's batch limit (the simulator enforces it; the live venue bounds batches by the write bucket)
MAX_BATCH = 20
#: pages of a market's orders scanned when looking for a client_order_id
LOOKUP_PAGES = 10


class OrderWrites:
    """Order and order-group writes. Needs `http`, `stats`, `_decode`, `get_order`, `iter_orders`, ..."""

    http: KalshiHttp
    stats: HttpStats
    portfolio_lag_margin_ms: int
    freshness_wait_s: float
    write_attempts: int

    if TYPE_CHECKING:
        def _decode(self, kind: type[T], response: httpx.Response, what: str) -> T: ...
        async def get_order(self, order_id: str) -> r.Order: ...
        async def get_orders(self, **kwargs: Any) -> r.OrdersPage: ...
        async def get_user_data_timestamp(self) -> r.UserDataTimestamp: ...
        def iter_orders(self, **kwargs: Any) -> AsyncIterator[r.Order]: ...

    # --- reconciliation -------------------------------------------------------------------------

    async def _portfolio_caught_up(self, sent_wall_s: float) -> bool:
        """True once the venue says its portfolio data covers the instant the write was sent."""
        target_ms = sent_wall_s * 1000 + (self.stats.skew_ms or 0) + self.portfolio_lag_margin_ms
        deadline = time.monotonic() + self.freshness_wait_s
        while True:
            as_of = (await self.get_user_data_timestamp()).as_of_time.timestamp() * 1000
            if as_of >= target_ms:
                return True
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(0.1)

    async def find_orders_by_client_id(self, ticker: str, client_order_ids: Sequence[str]) -> dict[str, r.Order]:
        """The market's orders carrying these client ids. Raises OutcomeUnknown if the scan is incomplete."""
        wanted = set(client_order_ids)
        found: dict[str, r.Order] = {}
        cursor: str | None = None
        for _ in range(LOOKUP_PAGES):
            page = await self.get_orders(ticker=ticker, limit=1000, cursor=cursor)
            for order in page.orders:
                if order.client_order_id in wanted:
                    found[order.client_order_id] = order
            if len(found) == len(wanted) or not page.cursor:
                return found
            cursor = page.cursor
        raise OutcomeUnknown(f"{ticker} has more than {LOOKUP_PAGES} pages of orders; could not finish looking "
                             "for the unanswered order(s)", client_order_id=client_order_ids[0])

    async def _reconcile(self, ticker: str, client_order_ids: Sequence[str], sent_wall_s: float,
                         reason: str) -> dict[str, r.Order]:
        """After an unclear write: the orders that exist. Absent ids are conclusively absent."""
        try:
            if not await self._portfolio_caught_up(sent_wall_s):
                raise OutcomeUnknown(f"order write unclear ({reason}) and the venue's portfolio view did not "
                                     f"catch up within {self.freshness_wait_s:g} s", client_order_id=client_order_ids[0])
            return await self.find_orders_by_client_id(ticker, client_order_ids)
        except OutcomeUnknown:
            raise
        except VenueError as exc:
            raise OutcomeUnknown(f"order write unclear ({reason}); looking it up failed too: {exc}",
                                 client_order_id=client_order_ids[0]) from exc

    @staticmethod
    def _as_create_result(order: r.Order) -> r.CreateOrderResult:
        return r.CreateOrderResult(order_id=order.order_id, client_order_id=order.client_order_id,
                                   fill_count=order.fill_count, remaining_count=order.remaining_count)

    @staticmethod
    def _same_order(order: r.Order, spec: OrderSpec) -> bool:
        return (order.ticker, order.side, order.yes_price) == (spec.ticker, spec.side, spec.price)

    # --- create ---------------------------------------------------------------------------------

    async def create_order(self, spec: OrderSpec) -> r.CreateOrderResult:
        """Place one order; never twice, whatever happens to the responses (see the module docstring)."""
        body = spec.to_wire()
        reason = ""
        for _attempt in range(self.write_attempts):
            sent_wall = time.time()
            try:
                response = await self.http.call("POST", ORDERS, json=body, write_unclear=True)
                return self._decode(r.CreateOrderResult, response, f"POST {ORDERS}")
            except _Unclear as exc:
                self.stats.unclear_writes += 1
                reason = str(exc)
            except OrderRejected as exc:
                if exc.status != 409:
                    raise
                reason = f"409 {exc.code}"
                existing = (await self.find_orders_by_client_id(spec.ticker, [spec.client_order_id])).get(
                    spec.client_order_id)
                if existing is not None and self._same_order(existing, spec):
                    return self._as_create_result(existing)
                raise
            existing = (await self._reconcile(spec.ticker, [spec.client_order_id], sent_wall, reason)).get(
                spec.client_order_id)
            if existing is not None:
                self.stats.recovered_writes += 1
                return self._as_create_result(existing)
            self.stats.resent_writes += 1  # conclusively not placed: the same body again is safe
        raise OutcomeUnknown(f"order {spec.client_order_id} on {spec.ticker}: no clear answer after "
                             f"{self.write_attempts} attempts (last: {reason})", client_order_id=spec.client_order_id,
                             method="POST", path=ORDERS)

    async def batch_create(self, specs: Sequence[OrderSpec]) -> list[r.BatchCreateItem]:
        """Place several orders; one result per spec, in order. Items fail one by one (`item.error`).

        Split into chunks that fit both the batch limit and the write bucket; each chunk gets the same
        never-twice treatment as `create_order`.
        """
        if len({s.client_order_id for s in specs}) != len(specs):
            raise ValueError("every order of a batch needs its own client_order_id")
        chunk = max(1, min(MAX_BATCH, self.http.budget.capacity_items("POST", BATCH)))
        results: list[r.BatchCreateItem] = []
        for start in range(0, len(specs), chunk):
            results.extend(await self._batch_chunk(list(specs[start:start + chunk])))
        return results

    async def _batch_chunk(self, specs: list[OrderSpec]) -> list[r.BatchCreateItem]:
        done: dict[str, r.BatchCreateItem] = {}
        pending = list(specs)
        reason = ""
        for _attempt in range(self.write_attempts):
            sent_wall = time.time()
            try:
                response = await self.http.call("POST", BATCH, json={"orders": [s.to_wire() for s in pending]},
                                                items=len(pending), write_unclear=True)
                items = self._decode(r.BatchCreateResponse, response, f"POST {BATCH}").orders
                if len(items) != len(pending):
                    raise OutcomeUnknown(f"batch of {len(pending)} answered with {len(items)} results",
                                         client_order_id=pending[0].client_order_id)
                done.update((s.client_order_id, item) for s, item in zip(pending, items))
                return [done[s.client_order_id] for s in specs]
            except _Unclear as exc:
                self.stats.unclear_writes += 1
                reason = str(exc)
            still: list[OrderSpec] = []
            for ticker in dict.fromkeys(s.ticker for s in pending):
                ids = [s.client_order_id for s in pending if s.ticker == ticker]
                found = await self._reconcile(ticker, ids, sent_wall, reason)
                for spec in (s for s in pending if s.ticker == ticker):
                    order = found.get(spec.client_order_id)
                    if order is None:
                        still.append(spec)
                    else:
                        self.stats.recovered_writes += 1
                        created = self._as_create_result(order)
                        done[spec.client_order_id] = r.BatchCreateItem(
                            order_id=created.order_id, client_order_id=created.client_order_id,
                            fill_count=created.fill_count, remaining_count=created.remaining_count)
            if not still:
                return [done[s.client_order_id] for s in specs]
            self.stats.resent_writes += len(still)
            pending = still
        raise OutcomeUnknown(f"batch: {len(pending)} order(s) without a clear answer after {self.write_attempts} "
                             f"attempts (last: {reason})", client_order_id=pending[0].client_order_id,
                             method="POST", path=BATCH)

    # --- cancel, amend, decrease ----------------------------------------------------------------

    async def _idempotent(self, method: str, path: str, kind: type[T], body: Any = None) -> tuple[T | None, str]:
        """Send an idempotent write; retries unclear outcomes. Returns (result or None, unclear reason)."""
        reason = ""
        for attempt in range(self.write_attempts):
            try:
                response = await self.http.call(method, path, json=body, write_unclear=True)
                return self._decode(kind, response, f"{method} {path}"), ""
            except _Unclear as exc:
                self.stats.unclear_writes += 1
                reason = str(exc)
                await asyncio.sleep(0.05 * (attempt + 1))
            except VenueError:
                if not reason:
                    raise
                return None, reason  # refused after an unclear attempt: maybe the first one worked
        raise OutcomeUnknown(f"{method} {path}: no clear answer after {self.write_attempts} attempts ({reason})",
                             method=method, path=path)

    async def cancel_order(self, order_id: str) -> r.CancelResult:
        """Cancel a resting order. After a lost response, a canceled order counts as done (reduced_by None)."""
        path = f"{ORDERS}/{order_id}"
        result, reason = await self._idempotent("DELETE", path, r.CancelResult)
        if result is not None:
            return result
        order = await self.get_order(order_id)
        if order.status == "resting":
            raise OutcomeUnknown(f"cancel of {order_id} unclear ({reason}) and the order still rests",
                                 method="DELETE", path=path)
        return r.CancelResult(order_id=order_id, reduced_by=None, client_order_id=order.client_order_id)

    async def amend_order(self, order_id: str, *, ticker: str, side: Side, price: int, count: int,
                          client_order_id: str | None = None, updated_client_order_id: str | None = None,
                          expiration_time_s: int | None = None) -> r.AmendResult:
        """Change price and/or total count (`count` = filled + wanted remaining, hundredths)."""
        body: dict[str, Any] = {"ticker": ticker, "side": side.value, "price": format_price(price),
                                "count": format_count(count)}
        if client_order_id is not None:
            body["client_order_id"] = client_order_id
        if updated_client_order_id is not None:
            body["updated_client_order_id"] = updated_client_order_id
        if expiration_time_s is not None:
            body["expiration_time"] = expiration_time_s
        path = f"{ORDERS}/{order_id}/amend"
        result, reason = await self._idempotent("POST", path, r.AmendResult, body)
        if result is not None:
            return result
        order = await self.get_order(order_id)
        if order.yes_price == price and order.fill_count + order.remaining_count == count:
            return r.AmendResult(order_id=order.order_id, client_order_id=order.client_order_id,
                                 fill_count=order.fill_count, remaining_count=order.remaining_count)
        raise OutcomeUnknown(f"amend of {order_id} unclear ({reason}); the order does not show the new terms",
                             method="POST", path=path)

    async def decrease_order(self, order_id: str, *, reduce_by: int | None = None,
                             reduce_to: int | None = None) -> r.DecreaseResult:
        """Reduce the remaining count (hundredths). Prefer `reduce_to`: it is safe to retry."""
        if (reduce_by is None) == (reduce_to is None):
            raise ValueError("give exactly one of reduce_by and reduce_to")
        path = f"{ORDERS}/{order_id}/decrease"
        if reduce_to is not None:
            result, reason = await self._idempotent("POST", path, r.DecreaseResult,
                                                    {"reduce_to": format_count(reduce_to)})
            if result is not None:
                return result
            order = await self.get_order(order_id)
            if order.remaining_count <= reduce_to:
                return r.DecreaseResult(order_id=order_id, remaining_count=order.remaining_count,
                                        client_order_id=order.client_order_id)
            raise OutcomeUnknown(f"decrease of {order_id} unclear ({reason})", method="POST", path=path)
        assert reduce_by is not None
        try:
            response = await self.http.call("POST", path, json={"reduce_by": format_count(reduce_by)},
                                            write_unclear=True)
        except _Unclear as exc:
            self.stats.unclear_writes += 1
            raise OutcomeUnknown(f"decrease of {order_id} by {format_count(reduce_by)} unclear ({exc}); "
                                 "reduce_by is not safe to repeat: read the order and use reduce_to",
                                 method="POST", path=path) from None
        return self._decode(r.DecreaseResult, response, f"POST {path}")

    async def batch_cancel(self, order_ids: Sequence[str]) -> list[r.BatchCancelItem]:
        """Cancel several orders (cancels are idempotent, so unclear chunks are simply sent again)."""
        chunk = max(1, min(MAX_BATCH, self.http.budget.capacity_items("DELETE", BATCH)))
        out: list[r.BatchCancelItem] = []
        for start in range(0, len(order_ids), chunk):
            ids = list(order_ids[start:start + chunk])
            body = {"orders": [{"order_id": i} for i in ids]}
            response = await self.http.call("DELETE", BATCH, json=body, items=len(ids))
            out.extend(self._decode(r.BatchCancelResponse, response, f"DELETE {BATCH}").orders)
        return out

    async def cancel_all(self) -> None:
        """Cancel every resting order of the account (204; retried like a read: it is idempotent)."""
        await self.http.call("DELETE", ORDERS)

    # --- order groups ---------------------------------------------------------------------------

    async def create_order_group(self, contracts_limit: int) -> r.OrderGroupCreated:
        """A group that cancels its orders once they match `contracts_limit` (hundredths) in 15 s."""
        try:
            response = await self.http.call("POST", f"{GROUPS}/create",
                                            json={"contracts_limit_fp": format_count(contracts_limit)},
                                            write_unclear=True)
        except _Unclear as exc:
            raise OutcomeUnknown(f"order group create unclear ({exc}); list the groups before creating another",
                                 method="POST", path=f"{GROUPS}/create") from None
        return self._decode(r.OrderGroupCreated, response, f"POST {GROUPS}/create")

    async def set_order_group_limit(self, order_group_id: str, contracts_limit: int) -> None:
        await self.http.call("PUT", f"{GROUPS}/{order_group_id}/limit",
                             json={"contracts_limit_fp": format_count(contracts_limit)})

    async def trigger_order_group(self, order_group_id: str) -> None:
        await self.http.call("PUT", f"{GROUPS}/{order_group_id}/trigger")

    async def reset_order_group(self, order_group_id: str) -> None:
        await self.http.call("PUT", f"{GROUPS}/{order_group_id}/reset")

    async def delete_order_group(self, order_group_id: str) -> None:
        await self.http.call("DELETE", f"{GROUPS}/{order_group_id}")
