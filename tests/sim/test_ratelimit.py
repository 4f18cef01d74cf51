"""Token-bucket rate limits: tier sizes, costs, batches, refill, and the 429 the desk sees on the wire."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from aiohttp import web

from console.sim.clock import SimClock
from console.sim.keys import new_api_key
from console.sim.model import Account
from console.sim.ratelimit import (
    READ,
    WRITE,
    RateLimiter,
    bucket_kind,
    endpoint_costs_body,
    limits_body,
    request_cost,
)
from console.sim.server import RATELIMIT_EXTRA, build_app
from console.sim.state import SimState
from console.venues.kalshi.auth import KalshiAuth, Signer

ORDERS = "/trade-api/v2/portfolio/events/orders"


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_limits_body_basic_tier_matches_kalshi():
    assert limits_body(Account(account_id="a", balance=0)) == {
        "usage_tier": "basic",
        "read": {"refill_rate": 200, "bucket_capacity": 400},
        "write": {"refill_rate": 100, "bucket_capacity": 100},
        "grants": [],
    }
    advanced = limits_body("advanced")
    assert advanced["write"] == {"refill_rate": 300, "bucket_capacity": 600}
    assert limits_body("expert")["read"] == {"refill_rate": 600, "bucket_capacity": 600}


def test_endpoint_costs_list_only_non_default_costs():
    body = endpoint_costs_body()
    assert body["default_cost"] == 10
    costs = {(e["method"], e["path"]): e["cost"] for e in body["endpoint_costs"]}
    assert costs[("DELETE", "/portfolio/events/orders/{order_id}")] == 2
    assert all(c != 10 for c in costs.values())


@pytest.mark.parametrize(
    "method,path,kind",
    [
        ("POST", "/portfolio/events/orders", WRITE),
        ("DELETE", "/portfolio/events/orders/abc", WRITE),
        ("POST", "/portfolio/events/orders/abc/amend", WRITE),
        ("PUT", "/portfolio/order_groups/g1/trigger", WRITE),
        ("POST", "/portfolio/order_groups/create", WRITE),
        ("GET", "/portfolio/orders", READ),
        ("GET", "/portfolio/order_groups", READ),
        ("GET", "/markets", READ),
    ],
)
def test_bucket_kind(method, path, kind):
    assert bucket_kind(method, path) == kind


def test_costs_cancel_two_batches_sum_their_items():
    assert request_cost("POST", "/portfolio/events/orders") == 10
    assert request_cost("DELETE", "/portfolio/events/orders/some-id") == 2
    assert request_cost("POST", "/portfolio/events/orders/batched", {"orders": [{}] * 25}) == 250
    assert request_cost("DELETE", "/portfolio/events/orders/batched", {"orders": [{}] * 25}) == 50
    assert request_cost("POST", "/portfolio/events/orders/batched", "garbage") == 10


def test_bucket_refills_continuously_and_refusal_takes_nothing():
    clock = FakeTime()
    limiter = RateLimiter(monotonic=clock)
    assert all(limiter.try_acquire("a", "basic", WRITE, 10) for _ in range(10))
    assert not limiter.try_acquire("a", "basic", WRITE, 10)
    assert limiter.tokens("a", WRITE) == pytest.approx(0.0)
    clock.now += 0.05  # 5 tokens back: not enough for a create, enough for two cancels
    assert not limiter.try_acquire("a", "basic", WRITE, 10)
    assert limiter.try_acquire("a", "basic", WRITE, 2) and limiter.try_acquire("a", "basic", WRITE, 2)
    clock.now += 10  # never above capacity
    assert limiter.tokens("a", WRITE) == pytest.approx(100.0)
    # other accounts and the read bucket are separate
    assert limiter.try_acquire("b", "basic", WRITE, 100)
    assert limiter.try_acquire("a", "basic", READ, 400)


def test_batch_must_fit_at_once():
    limiter = RateLimiter(monotonic=FakeTime())
    assert not limiter.try_acquire("a", "basic", WRITE, 110)  # 11 creates never fit a basic bucket
    assert limiter.tokens("a", WRITE) == pytest.approx(100.0)  # and took nothing
    assert limiter.try_acquire("b", "advanced", WRITE, 600)  # advanced holds 2 s of 300/s
    # an upgrade resizes the bucket but keeps only the tokens already there
    assert not limiter.try_acquire("a", "advanced", WRITE, 101)


@pytest.fixture
async def orders_probe():
    """In-process server with probe order routes; returns (base_url, signed client factory, created list)."""
    state = SimState(exchange=_Accounts(), clock=SimClock())  # type: ignore[arg-type]
    state.exchange.accounts["alice"] = Account(account_id="alice", balance=0)
    app = build_app(state, install_routes=False)
    created: list[int] = []

    async def create(request: web.Request) -> web.Response:
        created.append(1)
        return web.json_response({"order_id": str(len(created))}, status=201)

    async def read(request: web.Request) -> web.Response:
        return web.json_response({"orders": []})

    app.router.add_post(ORDERS, create)
    app.router.add_post(ORDERS + "/batched", create)
    app.router.add_get("/trade-api/v2/portfolio/orders", read)
    app.router.add_get("/trade-api/v2/markets", read)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    base = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"
    key_id, pem = new_api_key(state, "alice", "ed25519")
    client = httpx.AsyncClient(base_url=base, auth=KalshiAuth(Signer(key_id, pem)), timeout=5)
    yield client, state, created
    await client.aclose()
    await runner.cleanup()


class _Accounts:
    def __init__(self) -> None:
        self.accounts: dict[str, Account] = {}

    def tick(self) -> None:
        pass


async def test_429_when_write_bucket_is_empty_then_ok_after_refill(orders_probe):
    client, state, created = orders_probe
    statuses = [(await client.post(ORDERS, json={})).status_code for _ in range(12)]
    assert statuses[:10] == [201] * 10, statuses
    assert statuses[10:] == [429, 429]
    refused = await client.post(ORDERS, json={})
    assert refused.status_code == 429
    assert refused.content == b'{"error": "too many requests"}'
    assert refused.json() == {"error": "too many requests"}
    assert "Retry-After" not in refused.headers
    assert len(created) == 10  # refused requests never reached the handler
    # reads use their own bucket and still work while writes are throttled
    assert (await client.get("/trade-api/v2/portfolio/orders")).status_code == 200
    await asyncio.sleep(0.15)  # 100 tokens/s: one create's worth (10) after 0.1 s
    assert (await client.post(ORDERS, json={})).status_code == 201
    assert len(created) == 11


async def test_batch_larger_than_bucket_is_refused_whole(orders_probe):
    client, _state, created = orders_probe
    too_big = await client.post(ORDERS + "/batched", json={"orders": [{}] * 11})
    assert too_big.status_code == 429 and created == []
    fits = await client.post(ORDERS + "/batched", json={"orders": [{}] * 10})
    assert fits.status_code == 201 and created == [1]  # the handler still reads the body
    assert (await client.post(ORDERS, json={})).status_code == 429  # that batch emptied the bucket


async def test_unsigned_public_reads_are_limited_per_address(orders_probe):
    client, state, _created = orders_probe
    state.extras[RATELIMIT_EXTRA] = RateLimiter(monotonic=FakeTime())  # frozen time: no refill
    async with httpx.AsyncClient(base_url=str(client.base_url), timeout=5) as public:
        statuses = [(await public.get("/trade-api/v2/markets")).status_code for _ in range(41)]
    assert statuses[:40] == [200] * 40 and statuses[40] == 429  # basic read: 400 tokens, 10 each
    # a signed caller has its own bucket
    assert (await client.get("/trade-api/v2/markets")).status_code == 200
