"""The world's data gives a careful poll model a real but modest edge over the crowd on races.

A few seeds are run fast (10-minute steps and truth ticks, via step_until). At checkpoints the careful
model (console.models.polls.forecast_races on the polls the data endpoints serve, parsed by the desk's
own adapter) and the market (the book's mid, or the crowd's price when a side is empty) are both scored against the world's true probability.
The model must beat the crowd's Brier score by more than 2 standard errors of the paired difference,
clustered by (seed, race) because a race's errors persist across checkpoints, and by no more than
a modest share; and the crowd must stay a decent forecaster, far from an uninformed 0.25.
"""

from __future__ import annotations

import math

from world_helpers import START_MS, new_world

from console.models.polls import forecast_races
from console.models.sources.sim_feed import parse_polls
from console.sim.world.data import _poll_json
from console.sim.world.simtime import DAY_MS, ET, local_date
from console.sim.world.world import WorldParams

SEEDS = (1, 3, 5)
CHECKPOINT_DAYS = (2, 4, 6, 8, 10, 12, 14, 16)
FAST = WorldParams(truth_tick_ms=600_000, control_every_ms=600_000)


def _scores(seed: int) -> dict[str, list[tuple[float, float]]]:
    """Per race: (model squared error, crowd squared error) at each checkpoint, against the truth."""
    world = new_world(seed, step_ms=600_000, params=FAST)
    out: dict[str, list[tuple[float, float]]] = {}
    for day in CHECKPOINT_DAYS:
        t = START_MS + int((day + 0.25) * DAY_MS)
        world.step_until(t)
        served = {"polls": [_poll_json(p, world) for p in world.feed.published if p.kind != "approval"]}
        polls, _ = parse_polls(served)
        forecast = forecast_races(polls, local_date(t, ET), world.cal.election_day)
        for ticker, spec in world.specs.items():
            if spec.kind != "race" or spec.party != "D" or ticker in world.determined:
                continue
            bid, ask = world.exchange.best_bid(ticker), world.exchange.best_ask(ticker)
            # the book's mid; a near-certain market can lack one side: then the crowd's own price
            mid = (bid[0] + ask[0]) / 20_000 if bid and ask else world.crowd_p[ticker]
            truth = world.truth_p[ticker]
            out.setdefault(f"{seed}:{spec.key}", []).append(
                ((forecast[spec.key].prob_d - truth) ** 2, (mid - truth) ** 2))
    return out


def test_careful_poll_model_beats_the_crowd_modestly_on_races() -> None:
    clusters: dict[str, list[tuple[float, float]]] = {}
    for seed in SEEDS:
        clusters.update(_scores(seed))
    pairs = [pair for rows in clusters.values() for pair in rows]
    model = sum(m for m, _ in pairs) / len(pairs)
    crowd = sum(c for _, c in pairs) / len(pairs)
    # paired difference, with a standard error clustered by (seed, race)
    n = len(pairs)
    diff = crowd - model
    sums = [sum(c - m - diff for m, c in rows) for rows in clusters.values()]
    k = len(sums)
    se = math.sqrt(k / (k - 1) * sum(s * s for s in sums)) / n
    detail = f"model {model:.4f}, crowd {crowd:.4f}, difference {diff:.4f} +- {se:.4f} over {n} ({k} clusters)"
    assert diff > 2 * se, f"the careful model does not clearly beat the crowd: {detail}"
    assert diff < 0.4 * crowd, f"the model's edge is not modest: {detail}"
    assert crowd < 0.1, f"the crowd is not a decent forecaster (uninformed is 0.25): {detail}"
