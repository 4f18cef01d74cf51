"""Kalshi's token-bucket rate limits (kalshi-api.md section 11), per account, Read and Write buckets.

Each request costs tokens (default 10; order cancels 2; ...). Buckets refill continuously at the tier's
rate and hold 1 or 2 seconds of budget: Basic and Advanced Read buckets and every Write bucket above
Basic hold 2 s; the others (Basic Write, Read above Advanced) hold 1 s. A batch costs the sum of its
items and must fit in the bucket at once, else the whole batch is refused. A refused request takes no
tokens and answers 429 `{"error": "too many requests"}` with no Retry-After header, like the venue.

Simplifications (say so rather than pretend): one Write bucket per account (no per-shard buckets,
the simulator has one shard); unsigned public reads share one Read bucket per remote address.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

READ = "read"
WRITE = "write"
DEFAULT_COST = 10
TOO_MANY_REQUESTS_BODY = {"error": "too many requests"}

#: tier -> (read tokens/s, write tokens/s); Premier and above carry the +20% of September 2026
TIER_RATES: dict[str, tuple[int, int]] = {
    "basic": (200, 100),
    "advanced": (300, 300),
    "expert": (600, 600),
    "premier": (1200, 1200),
    "paragon": (2400, 2400),
    "prime": (4800, 4800),
    "prestige": (12000, 9600),
}

#: non-default costs as (method, path template under /trade-api/v2, cost per request or per batch item).
#: Cancel-all's cost was "lowered" on 2026-09-03 to an unpublished value; 2 (a cancel) is edgedesk's guess.
ENDPOINT_COSTS: tuple[tuple[str, str, int], ...] = (
    ("DELETE", "/portfolio/events/orders/{order_id}", 2),
    ("DELETE", "/portfolio/events/orders/batched", 2),
    ("DELETE", "/portfolio/events/orders", 2),
    ("POST", "/account/api_usage_level/upgrade", 30),
)
#: batch endpoints billed per item in `{"orders": [...]}`
BATCH_ENDPOINTS = {("POST", "/portfolio/events/orders/batched"), ("DELETE", "/portfolio/events/orders/batched")}
_WRITE_PREFIXES = ("/portfolio/events/orders", "/portfolio/order_groups")
_WRITE_METHODS = {"POST", "PUT", "DELETE"}


def _template_regex(template: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\\{[a-z_]+\\\}", "[^/]+", re.escape(template)) + "$")


# exact paths first, so ".../batched" is not taken for an order id
_COST_MATCHERS = sorted(
    ((method, _template_regex(path), "{" in path, cost) for method, path, cost in ENDPOINT_COSTS),
    key=lambda m: m[2],
)


def bucket_capacity_seconds(tier: str, kind: str) -> int:
    if kind == READ:
        return 2 if tier in ("basic", "advanced") else 1
    return 1 if tier == "basic" else 2


def tier_budget(tier: str, kind: str) -> tuple[int, int]:
    """(refill_rate tokens/s, bucket_capacity tokens) of one bucket kind for a tier."""
    read_rate, write_rate = TIER_RATES.get(tier, TIER_RATES["basic"])
    rate = read_rate if kind == READ else write_rate
    return rate, rate * bucket_capacity_seconds(tier, kind)


def bucket_kind(method: str, api_path: str) -> str:
    """WRITE for order and order-group mutations, READ for everything else. `api_path` excludes /trade-api/v2."""
    if method.upper() in _WRITE_METHODS and api_path.startswith(_WRITE_PREFIXES):
        return WRITE
    return READ


def unit_cost(method: str, api_path: str) -> int:
    """Tokens for one request (or one item of a batch) to `api_path` (under /trade-api/v2)."""
    method = method.upper()
    for m, pattern, _templated, cost in _COST_MATCHERS:
        if m == method and pattern.match(api_path):
            return cost
    return DEFAULT_COST


def request_cost(method: str, api_path: str, body: Any = None) -> int:
    """Tokens a request costs; batches cost the sum of their items (an empty or bad batch costs one unit)."""
    cost = unit_cost(method, api_path)
    if (method.upper(), api_path) in BATCH_ENDPOINTS:
        items = body.get("orders") if isinstance(body, dict) else None
        if isinstance(items, list) and items:
            return cost * len(items)
    return cost


def limits_body(account: Any) -> dict[str, Any]:
    """GET /account/limits for an account (an object with `.tier`, or a tier name)."""
    tier = account if isinstance(account, str) else getattr(account, "tier", "basic")
    tier = tier if tier in TIER_RATES else "basic"
    body: dict[str, Any] = {"usage_tier": tier}
    for kind in (READ, WRITE):
        rate, capacity = tier_budget(tier, kind)
        body[kind] = {"refill_rate": rate, "bucket_capacity": capacity}
    body["grants"] = []
    return body


def endpoint_costs_body() -> dict[str, Any]:
    """GET /account/endpoint_costs: the default and every non-default cost."""
    return {
        "default_cost": DEFAULT_COST,
        "endpoint_costs": [{"method": m, "path": p, "cost": c} for m, p, c in ENDPOINT_COSTS],
    }


@dataclass
class TokenBucket:
    """Continuously refilling bucket. Tokens are a float: they are rate budget, not money."""

    rate: float
    capacity: float
    tokens: float
    updated: float

    def refill(self, now: float) -> None:
        if now > self.updated:
            self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def try_take(self, cost: int, now: float) -> bool:
        self.refill(now)
        if cost > self.tokens:
            return False
        self.tokens -= cost
        return True


class RateLimiter:
    """Buckets by (caller key, kind). A caller key is an account id or `ip:<address>` for public reads."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._now = monotonic
        self._buckets: dict[tuple[str, str], tuple[str, TokenBucket]] = {}

    def try_acquire(self, caller: str, tier: str, kind: str, cost: int) -> bool:
        """Take `cost` tokens if they are all there; False (and take nothing) otherwise."""
        now = self._now()
        key = (caller, kind)
        found = self._buckets.get(key)
        if found is None or found[0] != tier:
            rate, capacity = tier_budget(tier, kind)
            # a new bucket starts full; a tier change keeps the tokens already there (capped)
            tokens = float(capacity) if found is None else min(float(capacity), found[1].tokens)
            bucket = TokenBucket(rate, capacity, tokens, now)
            self._buckets[key] = (tier, bucket)
        else:
            bucket = found[1]
        return bucket.try_take(cost, now)

    def tokens(self, caller: str, kind: str) -> float | None:
        found = self._buckets.get((caller, kind))
        if found is None:
            return None
        found[1].refill(self._now())
        return found[1].tokens

    def reset(self) -> None:
        """Forget every bucket (they come back full)."""
        self._buckets.clear()
