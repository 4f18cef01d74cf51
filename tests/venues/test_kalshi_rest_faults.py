"""The Kalshi REST client against a built-in exchange with faults on (private simulators, real sockets).

The exchange's own records are the judge: after lost answers, 5xx (some after the exchange acted),
429 bursts and slow answers, every order the desk meant to place exists exactly once per
client_order_id, and every read eventually answers.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from kalshi_helpers import orders_by_client_id, place, rest_for

from console.domain.side import Side
from console.venues.errors import OutcomeUnknown
from console.venues.kalshi.http import RetryPolicy
from console.venues.kalshi.orders import OrderSpec

FAST = RetryPolicy(base_s=0.02, cap_s=0.3, max_attempts=8, rate_limit_budget_s=30)


def _faults(sim: Any, *rules: dict[str, Any], seed: int = 11) -> dict[str, Any]:
    r = httpx.post(f"{sim.admin_url}/faults", json={"rules": list(rules), "seed": seed}, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def _clear_faults(sim: Any) -> None:
    """Stop injecting before the test reads the exchange back with the same account (the rules target it)."""
    assert httpx.delete(f"{sim.admin_url}/faults", timeout=10).status_code == 200


def _injected(sim: Any, kind: str) -> int:
    r = httpx.get(f"{sim.admin_url}/faults/log", params={"kind": kind}, timeout=10)
    assert r.status_code == 200, r.text
    return len(r.json()["entries"])


@pytest.fixture
def faulty(sim_factory):
    return sim_factory(accounts=1)


def _market(sim: Any) -> str:
    return sim.new_market(ticker=f"KXFAULT-{uuid.uuid4().hex[:8].upper()}")


async def test_lost_create_answers_never_place_an_order_twice(faulty) -> None:
    ticker = _market(faulty)
    maker, taker = faulty.new_account("100000"), faulty.new_account("100000")
    place(maker, ticker, "ask", "0.50", "1000")  # IOC buys fill at once: a duplicate id would be free again
    _faults(faulty, {"kind": "lost_response", "rate": 0.5, "account_id": taker.account_id})
    gtc = [OrderSpec(ticker=ticker, side=Side.BID, price=100 + i * 100, count=100) for i in range(15)]
    ioc = [OrderSpec(ticker=ticker, side=Side.BID, price=5000, count=100, time_in_force="immediate_or_cancel")
           for _ in range(15)]
    async with rest_for(faulty, taker, policy=FAST) as api:
        results = await asyncio.gather(*(api.create_order(s) for s in gtc + ioc))
        stats = api.stats
    assert _injected(faulty, "lost_response") >= 5
    assert stats.recovered_writes >= 5 and stats.unclear_writes >= stats.recovered_writes
    held = orders_by_client_id(taker, ticker)
    assert held == {s.client_order_id: 1 for s in gtc + ioc}
    assert all(r.fill_count == 100 for r in results[15:])  # each IOC filled once, as the exchange did it
    fills = taker.get("/portfolio/fills", params={"ticker": ticker, "limit": 1000}).json()["fills"]
    assert len(fills) == 15  # no IOC was sent twice


async def test_5xx_before_and_after_the_exchange_acted_are_retried_safely(faulty) -> None:
    ticker = _market(faulty)
    account = faulty.new_account("100000")
    _faults(faulty,
            {"kind": "server_error", "rate": 0.3, "status": 503, "account_id": account.account_id},  # did not act
            {"kind": "lost_response", "rate": 0.3, "status": 502, "account_id": account.account_id})  # acted, 502
    specs = [OrderSpec(ticker=ticker, side=Side.ASK, price=9000 - i * 10 * 10, count=100) for i in range(30)]
    async with rest_for(faulty, account, policy=FAST) as api:
        await asyncio.gather(*(api.create_order(s) for s in specs))
        stats = api.stats
    assert stats.resent_writes >= 1 and stats.recovered_writes >= 1  # both kinds met and handled differently
    _clear_faults(faulty)
    assert orders_by_client_id(account, ticker) == {s.client_order_id: 1 for s in specs}


async def test_reads_are_retried_through_5xx_and_429_bursts(faulty) -> None:
    tickers = [_market(faulty) for _ in range(3)]
    account = faulty.new_account()
    _faults(faulty, {"kind": "server_error", "rate": 0.3, "method": "GET", "account_id": account.account_id},
            {"kind": "rate_limit", "rate": 0.3, "account_id": account.account_id})
    async with rest_for(faulty, account, policy=FAST) as api:
        for _ in range(10):
            assert len([m async for m in api.iter_markets(tickers=tickers, limit=1)]) == 3
            assert (await api.get_balance()).balance > 0
        stats = api.stats
    assert stats.server_errors >= 3 and stats.rate_limited >= 3


async def test_batch_create_and_cancels_under_lost_answers_and_429s(faulty) -> None:
    ticker = _market(faulty)
    account = faulty.new_account("100000")
    _faults(faulty, {"kind": "lost_response", "rate": 0.4, "account_id": account.account_id,
                     "ops": ["batch_create", "order_cancel", "order_create"]},
            {"kind": "rate_limit", "rate": 0.2, "account_id": account.account_id})
    specs = [OrderSpec(ticker=ticker, side=Side.BID, price=100 * (1 + i % 40), count=100) for i in range(40)]
    async with rest_for(faulty, account, policy=FAST) as api:  # basic-tier buckets: batches of 9 fit
        items = await api.batch_create(specs)
        assert [i.client_order_id for i in items] == [s.client_order_id for s in specs]
        assert all(i.error is None and i.order_id for i in items)
        cancels = await asyncio.gather(*(api.cancel_order(i.order_id) for i in items if i.order_id))
        stats = api.stats
    assert stats.unclear_writes >= 3
    _clear_faults(faulty)
    assert orders_by_client_id(account, ticker) == {s.client_order_id: 1 for s in specs}
    assert {c.order_id for c in cancels} == {i.order_id for i in items}
    orders = account.get("/portfolio/orders", params={"ticker": ticker, "limit": 1000}).json()["orders"]
    assert {o["status"] for o in orders} == {"canceled"}


async def test_a_create_that_never_gets_a_clear_answer_is_outcome_unknown(faulty) -> None:
    ticker = _market(faulty)
    account = faulty.new_account()
    _faults(faulty, {"kind": "server_error", "status": 500, "ops": ["order_create"], "account_id": account.account_id})
    spec = OrderSpec(ticker=ticker, side=Side.BID, price=2000, count=100)
    async with rest_for(faulty, account, policy=FAST, write_attempts=3) as api:
        with pytest.raises(OutcomeUnknown) as err:
            await api.create_order(spec)
    assert err.value.client_order_id == spec.client_order_id
    assert orders_by_client_id(account, ticker) == {}  # every attempt was refused, nothing placed
