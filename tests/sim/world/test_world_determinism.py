"""Same seed and no client activity: the same trade tape, the same polls; another seed: another world."""

from __future__ import annotations

from console.sim.world.data import _forecast_json
from world_helpers import START_MS, new_world, tape

RUN_MS = 4 * 60_000


def _run(seed: int, read_data: bool = False):
    world = new_world(seed=seed)
    for k in range(1, 11):
        world.step_until(START_MS + k * RUN_MS // 10)
        if read_data:  # reading the published data draws nothing, so it cannot change the world
            for city in world.weather.cities.values():
                _forecast_json(world, city)
            world.truth_snapshot()
    return world


def test_same_seed_gives_an_identical_trade_tape() -> None:
    first, second = _run(21), _run(21, read_data=True)
    assert len(first.exchange.trades) > 50
    assert tape(first) == tape(second)
    assert [p.poll_id for p in first.feed.published] == [p.poll_id for p in second.feed.published]
    assert [(o.ticker, o.price, o.remaining_count) for o in first.exchange.orders.values()] == \
        [(o.ticker, o.price, o.remaining_count) for o in second.exchange.orders.values()]


def test_another_seed_gives_another_world() -> None:
    first, other = _run(21), _run(22)
    assert tape(first) != tape(other)
    assert first.truth_p != other.truth_p
