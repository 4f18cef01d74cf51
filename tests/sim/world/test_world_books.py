"""The books look alive: two-sided, 1-5 cent spreads, several updates a second, thinning depth, longshot bias."""

from __future__ import annotations

import collections
import statistics

import pytest

from console.sim.events import BookDelta, BookSide
from world_helpers import START_MS, new_world

WARM_UP_MS = 5 * 60_000


@pytest.fixture(scope="module")
def world():
    w = new_world(seed=4)
    w.step_until(START_MS + WARM_UP_MS)
    return w


def _contested(world) -> list[str]:
    """Markets the crowd does not consider settled (between 5% and 95%)."""
    return [t for t in world._tradeable if 0.05 < world.crowd_p[t] < 0.95]


def test_books_are_two_sided_with_spreads_of_one_to_five_cents(world) -> None:
    ex = world.exchange
    contested = _contested(world)
    assert len(contested) >= 30
    samples = []
    for k in range(6):
        world.step_until(START_MS + WARM_UP_MS + (k + 1) * 10_000)
        for ticker in contested:
            bid, ask = ex.best_bid(ticker), ex.best_ask(ticker)
            assert bid is not None and ask is not None, f"{ticker} is one-sided"
            samples.append(ask[0] - bid[0])
    inside = sum(100 <= s <= 500 for s in samples) / len(samples)
    assert inside >= 0.97, collections.Counter(samples)
    assert min(samples) >= 100  # the makers never lock the book


def test_books_update_several_times_a_second(world) -> None:
    deltas: collections.Counter[str] = collections.Counter()

    def count(event) -> None:
        if isinstance(event, BookDelta):
            deltas[event.ticker] += 1

    world.exchange.add_listener(count)
    start = world._next_step_ms
    world.step_until(start + 60_000)
    world.exchange.remove_listener(count)
    contested = _contested(world)
    rates = sorted((deltas[t] / 60 for t in contested), reverse=True)
    assert rates[0] >= 5, rates[:5]
    assert statistics.median(rates) >= 2, rates


def test_depth_thins_away_from_the_touch(world) -> None:
    ex = world.exchange
    by_level: dict[int, list[int]] = collections.defaultdict(list)
    for ticker in _contested(world):
        for side in (BookSide.BID, BookSide.ASK):
            levels = ex.book_levels(ticker, side)
            nearest_first = levels[::-1] if side is BookSide.BID else levels
            for i, (_, size) in enumerate(nearest_first[:5]):
                by_level[i].append(size)
    means = [statistics.mean(by_level[i]) for i in range(5)]
    assert means[0] > means[2] > means[4], means


def test_longshots_are_overpriced(world) -> None:
    ex = world.exchange
    gaps = []
    for ticker in world._tradeable:
        crowd_raw = world.crowd.raw_prob(world.specs[ticker], world._truth_t, *world._control[2:])
        bid, ask = ex.best_bid(ticker), ex.best_ask(ticker)
        if crowd_raw < 0.15 and bid and ask:
            gaps.append((bid[0] + ask[0]) / 20000 - crowd_raw)
    assert len(gaps) >= 5
    # the crowd's own longshot probability is bid up in the book (favourite-longshot bias)
    assert statistics.mean(gaps) > 0.005, gaps


def test_agents_trade_only_on_their_own_accounts(world) -> None:
    ex = world.exchange
    world_accounts = {mm.account_id for mm in world.agents.mms} | {world.agents.noise_id, world.agents.informed_id}
    assert {o.account_id for o in ex.orders.values()} <= world_accounts
    assert len(ex.trades) > 0 and world.agents.rejects <= world.agents.actions // 100
