"""Client-side token buckets that keep the desk inside Kalshi's rate limits (kalshi-api.md section 11).

Kalshi bills every request from one of two buckets per account: Write (order create / amend /
decrease / cancel and order groups) and Read (everything else). A request costs `default_cost`
tokens (10) unless `GET /account/endpoint_costs` lists another cost for its method and path; a batch
costs the per-item cost times its items and must fit in the bucket at once. Buckets refill
continuously. `RateBudget.from_account(limits, costs)` sizes the desk's buckets from the account's
own answers, a little under the venue's numbers so that network jitter rarely produces a 429 (the
REST client still absorbs the ones that happen, and empties the bucket when it sees one).
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from console.venues.kalshi.codec_rest import AccountLimits, EndpointCosts

READ = "read"
WRITE = "write"
DEFAULT_COST = 10
#: Basic tier before the account's own limits are known: Read 200/s holding 2 s, Write 100/s holding 1 s
BASIC_READ = (200.0, 400.0)
BASIC_WRITE = (100.0, 100.0)
#: fraction of the venue's rate and capacity the desk allows itself
SAFETY = 0.9

_WRITE_PREFIXES = ("/portfolio/events/orders", "/portfolio/order_groups")
_WRITE_METHODS = frozenset({"POST", "PUT", "DELETE"})
_BATCH_PATHS = frozenset({"/portfolio/events/orders/batched"})


def bucket_kind(method: str, path: str) -> str:
    """WRITE for order and order-group mutations, READ for everything else (`path` under /trade-api/v2)."""
    if method.upper() in _WRITE_METHODS and path.startswith(_WRITE_PREFIXES):
        return WRITE
    return READ


class TokenBucket:
    """An asyncio token bucket: `acquire(cost)` waits (FIFO) until `cost` tokens are there and takes them."""

    def __init__(self, rate: float, capacity: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        if rate <= 0 or capacity <= 0:
            raise ValueError(f"a token bucket needs rate > 0 and capacity > 0 (got {rate}, {capacity})")
        self.rate = rate
        self.capacity = capacity
        self._clock = clock
        self._tokens = capacity
        self._updated = clock()
        self._lock = asyncio.Lock()

    @property
    def tokens(self) -> float:
        self._refill()
        return self._tokens

    def _refill(self) -> None:
        now = self._clock()
        if now > self._updated:
            self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate)
        self._updated = now

    async def acquire(self, cost: float) -> float:
        """Take `cost` tokens, waiting as long as needed (FIFO); returns the seconds this caller waited."""
        if cost > self.capacity:
            raise ValueError(f"a request costing {cost:g} tokens can never fit a bucket of {self.capacity:g}")
        started = self._clock()
        async with self._lock:  # one waiter at a time keeps the order of requests
            while True:
                self._refill()
                if self._tokens >= cost:
                    self._tokens -= cost
                    return self._clock() - started
                await asyncio.sleep((cost - self._tokens) / self.rate)

    def take_now(self, cost: float) -> bool:
        """Take `cost` tokens at once if they are there and nobody is waiting; never waits."""
        if self._lock.locked():
            return False
        self._refill()
        if self._tokens >= cost:
            self._tokens -= cost
            return True
        return False

    def drain(self) -> None:
        """The venue said 429: its bucket is empty, so ours should be too."""
        self._refill()
        self._tokens = 0.0

    def resize(self, rate: float, capacity: float) -> None:
        self._refill()
        self.rate, self.capacity = rate, capacity
        self._tokens = min(self._tokens, capacity)


def _template_regex(template: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)) + "$")


@dataclass
class CostTable:
    """Tokens per request by method and path template (`/portfolio/events/orders/{order_id}`)."""

    default_cost: int = DEFAULT_COST
    _rules: list[tuple[str, re.Pattern[str], bool, int]] = field(default_factory=list)

    @classmethod
    def from_wire(cls, costs: EndpointCosts) -> CostTable:
        table = cls(costs.default_cost)
        for item in costs.endpoint_costs:
            path = item.path.removeprefix("/trade-api/v2")
            table._rules.append((item.method.upper(), _template_regex(path), "{" in path, item.cost))
        table._rules.sort(key=lambda r: r[2])  # exact paths first: ".../batched" is not an order id
        return table

    def cost(self, method: str, path: str, items: int = 1) -> int:
        """Tokens for one request; a batch (`items` > 1 on a batched path) costs per item."""
        method = method.upper()
        unit = next((c for m, rx, _t, c in self._rules if m == method and rx.match(path)), self.default_cost)
        return unit * max(items, 1) if path in _BATCH_PATHS else unit


class RateBudget:
    """The desk's Read and Write buckets plus the cost table; shared by every request of one account."""

    def __init__(self, read: tuple[float, float] = BASIC_READ, write: tuple[float, float] = BASIC_WRITE,
                 costs: CostTable | None = None, *, safety: float = SAFETY,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.safety = safety
        self.buckets = {
            READ: TokenBucket(read[0] * safety, read[1] * safety, clock=clock),
            WRITE: TokenBucket(write[0] * safety, write[1] * safety, clock=clock),
        }
        self.costs = costs or CostTable()
        self.tier = "basic (assumed)"

    def configure(self, limits: AccountLimits, costs: EndpointCosts | None = None) -> None:
        """Resize from `GET /account/limits` (and `/account/endpoint_costs` when given)."""
        for kind, spec in ((READ, limits.read), (WRITE, limits.write)):
            self.buckets[kind].resize(spec.refill_rate * self.safety, spec.bucket_capacity * self.safety)
        if costs is not None:
            self.costs = CostTable.from_wire(costs)
        self.tier = limits.usage_tier

    def bucket(self, method: str, path: str) -> TokenBucket:
        return self.buckets[bucket_kind(method, path)]

    def capacity_items(self, method: str, path: str) -> int:
        """How many items of a batch fit the bucket at once (at least 1)."""
        unit = self.costs.cost(method, path, 1)
        return max(1, int(self.bucket(method, path).capacity // unit))

    async def acquire(self, method: str, path: str, items: int = 1) -> float:
        return await self.bucket(method, path).acquire(self.costs.cost(method, path, items))

    def take_now(self, method: str, path: str, items: int = 1) -> bool:
        """Take one request's tokens now if they are there (`TokenBucket.take_now`); never waits."""
        return self.bucket(method, path).take_now(self.costs.cost(method, path, items))
