"""Polling model: the average recovers a known truth on generated polls; house effects, weights, win probabilities."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest

from console.models.ensemble import blend
from console.models.fundamentals import (
    Estimate,
    FundamentalsParams,
    national_environment,
    race_prior,
    structural_environment,
)
from console.models.polls import (
    GENERIC,
    AggregateParams,
    ApprovalPoll,
    Poll,
    RaceAverage,
    RaceForecast,
    aggregate_polls,
    forecast_races,
    observations,
    race_forecast,
)

AS_OF = dt.date(2026, 10, 20)


def _poll(race: str, margin: float, n: int = 1000, pollster: str = "P", days_ago: int = 1,
          population: str = "lv") -> Poll:
    end = AS_OF - dt.timedelta(days=days_ago)
    q = 0.5 + margin / 200
    return Poll(race, pollster, population, n, end - dt.timedelta(days=2), end, 96 * q, 96 * (1 - q))


def _generated(seed: int) -> tuple[list[Poll], dict[str, float], dict[str, float]]:
    """Polls of 14 races + the generic ballot from 8 pollsters with known house effects and sampling noise."""
    rng = np.random.default_rng(seed)
    races = [f"R{i}" for i in range(14)] + [GENERIC]
    truth = {r: float(rng.normal(0, 5)) for r in races}
    house = {f"H{i}": float(rng.normal(0, 1.5)) for i in range(8)}
    polls = []
    for r in races:
        for _ in range(120 if r == GENERIC else int(rng.integers(8, 24))):
            p = f"H{rng.integers(8)}"
            n = int(rng.integers(500, 1500))
            q = 0.5 + (truth[r] + house[p] + rng.normal(0, 1.0)) / 200
            q_hat = q + rng.normal(0, math.sqrt(q * (1 - q) / n))
            end = AS_OF - dt.timedelta(days=int(rng.integers(0, 15)))
            polls.append(Poll(r, p, "lv", n, end - dt.timedelta(days=2), end, 95 * q_hat, 95 * (1 - q_hat)))
    return polls, truth, house


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_average_recovers_the_truth_of_generated_polls(seed: int) -> None:
    polls, truth, house = _generated(seed)
    static = AggregateParams(national_drift_var_per_day=0.0, race_drift_var_per_day=0.0)
    agg = aggregate_polls(observations(polls), AS_OF, static)
    est = np.array([agg.house_effects[f"{h}|lv"] for h in house])
    truth_house = np.array(list(house.values()))
    # polls alone cannot see an error common to every pollster: what they can see is truth + that common part
    common = float(truth_house.mean() - est.mean())
    z = [(agg.races[r].value - truth[r] - common) / agg.races[r].sd for r in truth]
    assert max(abs(x) for x in z) < 3.5, z
    assert 0.3 < float(np.std(z)) < 1.5  # the stated standard errors are the right size
    assert np.corrcoef(est, truth_house)[0, 1] > 0.8
    assert np.max(np.abs((est - est.mean()) - (truth_house - truth_house.mean()))) < 1.0


def test_house_effects_are_removed_from_a_race_polled_by_one_firm() -> None:
    # firm A leans +3 and polls everywhere; firm B is neutral; race X is only polled by A
    margins = [1, -2, 4, 0, 6, -5] * 5
    polls = [_poll(f"R{i}", m + 3, pollster="A", n=4000) for i, m in enumerate(margins)]
    polls += [_poll(f"R{i}", m, pollster="B", n=4000) for i, m in enumerate(margins)]
    polls += [_poll("X", 5.0, pollster="A", n=2000)]
    agg = aggregate_polls(observations(polls), AS_OF, AggregateParams(nonsampling_sd=0.1))
    # near-noiseless polls: only the random-effect prior (sd 1.5) shrinks the 3-point gap a little
    assert agg.house_effects["A|lv"] - agg.house_effects["B|lv"] == pytest.approx(3.0, abs=0.5)
    assert agg.races["X"].value == pytest.approx(5.0 - agg.house_effects["A|lv"], abs=1e-4)
    assert agg.races["X"].value < 4.0


def test_recency_sample_size_and_quality_weigh_polls() -> None:
    def avg(polls: list[Poll], quality: dict[str, float] | None = None) -> float:
        return aggregate_polls(observations(polls, quality), AS_OF, AggregateParams(house_sd=1e-6)).races["R"].value

    # an old +10 and a fresh 0: the fresh one counts more (drift adds 0.66 x 26 days to the old one's variance)
    assert avg([_poll("R", 10.0, days_ago=25, pollster="A"), _poll("R", 0.0, days_ago=1, pollster="B")]) < 3.5
    assert avg([_poll("R", 0.0, days_ago=25, pollster="A"), _poll("R", 10.0, days_ago=1, pollster="B")]) > 6.5
    # a 3000-person poll outweighs a 300-person one
    assert avg([_poll("R", 10.0, n=300, pollster="A"), _poll("R", 0.0, n=3000, pollster="B")]) < 4.0
    # a low-quality pollster counts less than an equal-size good one
    assert avg([_poll("R", 10.0, pollster="Junk"), _poll("R", 0.0, pollster="Good")], {"Junk": 0.2}) < 3.0
    # future polls (after as_of) are ignored
    assert avg([_poll("R", 10.0, days_ago=-3, pollster="A"), _poll("R", 0.0, pollster="B")]) == pytest.approx(0.0)


def test_win_probability_uncertainty_grows_with_time_and_is_split() -> None:
    avg = RaceAverage("R", 3.0, 1.0, 12, AS_OF)
    near, far = race_forecast(avg, 1), race_forecast(avg, 60)
    assert 0.5 < far.prob_d < near.prob_d < 1.0
    assert far.shared_sd > near.shared_sd and far.race_sd > near.race_sd
    assert near.prob_d == pytest.approx(0.5 * math.erfc(-3.0 / math.hypot(near.shared_sd, near.race_sd) / math.sqrt(2)))
    assert race_forecast(RaceAverage("R", -3.0, 1.0, 12, AS_OF), 1).prob_d == pytest.approx(1 - near.prob_d)


def test_forecast_races_end_to_end_from_polls() -> None:
    polls, truth, _ = _generated(4)
    fc = forecast_races(polls, AS_OF, AS_OF + dt.timedelta(days=14))
    assert GENERIC not in fc and len(fc) == 14
    for race, f in fc.items():
        if abs(truth[race]) > 8:  # clear races are called the right way
            assert (f.prob_d > 0.8) == (truth[race] > 0)


def test_approval_polls_are_their_own_quantity() -> None:
    ap = [ApprovalPoll("A", "a", 1500, AS_OF - dt.timedelta(days=3), AS_OF - dt.timedelta(days=1), 42, 53)]
    agg = aggregate_polls(observations(ap), AS_OF)
    assert agg.races["approval"].value == pytest.approx(100 * 42 / 95, abs=0.01)
    assert set(agg.house_effects) == {"approval:A|a"}


def test_fundamentals_midterm_prior() -> None:
    # R president at 40% two-way approval: -2.5 - 0.5 x (50 - 40) = R -7.5, i.e. D +7.5
    assert structural_environment(40.0).mean == pytest.approx(7.5)
    assert structural_environment(40.0, FundamentalsParams(president_party="D")).mean == pytest.approx(-7.5)
    generic = RaceAverage(GENERIC, 2.0, 0.5, 40, AS_OF)
    env = national_environment(RaceAverage("approval", 50.0, 1.0, 30, AS_OF), generic, 0)
    # structural D+2.5 (sd ~4.03) and the generic ballot D+2.0 (sd ~2.55): between, nearer the ballot
    assert 2.0 < env.mean < 2.25 and env.sd < 2.55


def test_ensemble_hands_over_from_fundamentals_to_polls() -> None:
    prior = race_prior("R", lean_pts=-1.0, lean_sd=4.0, environment=Estimate(0.0, 2.0))
    polls = RaceForecast("R", 2.0, 3.0, 3.0, 0.7)
    b = blend(polls, prior)
    w = (1 / 18) / (1 / 18 + 1 / 20)
    assert b.poll_weight == pytest.approx(w)
    assert b.margin == pytest.approx(w * 2.0 + (1 - w) * -1.0)
    assert b.shared_sd == pytest.approx(math.hypot(w * 3.0, (1 - w) * 2.0))
    # far from the election, or with few polls, the polls' error is larger and their weight smaller
    early = race_forecast(RaceAverage("R", 2.0, 2.5, 3, AS_OF), 120)
    late = race_forecast(RaceAverage("R", 2.0, 0.8, 40, AS_OF), 2)
    assert blend(early, prior).poll_weight < 0.5 < blend(late, prior).poll_weight
    assert blend(None, prior).poll_weight == 0.0 and blend(polls, None).poll_weight == 1.0


def test_a_pile_of_stale_polls_does_not_outvote_fresh_ones() -> None:
    # twenty polls at +10 from 25 days ago pin down where the race WAS; drift since then is common to all of
    # them, so two fresh polls at 0 still carry most of the weight (a naive average would say about +8)
    old = [_poll("R", 10.0, days_ago=25, pollster=f"O{i % 4}") for i in range(20)]
    fresh = [_poll("R", 0.0, days_ago=1, pollster=f"O{i}") for i in range(2)]
    avg = aggregate_polls(observations(old + fresh), AS_OF, AggregateParams(house_sd=1e-3)).races["R"]
    assert avg.value < 4.0 and avg.sd > 1.5


def test_generic_ballot_moves_every_race_through_the_national_swing() -> None:
    races = [_poll(r, m, days_ago=20, pollster="A") for r, m in (("R1", 2.0), ("R2", -4.0)) for _ in range(3)]
    early = [_poll(GENERIC, 0.0, days_ago=20, pollster="B") for _ in range(5)]
    late = [_poll(GENERIC, 6.0, days_ago=2, pollster="B") for _ in range(8)]
    before = aggregate_polls(observations(races + early), AS_OF).races
    after = aggregate_polls(observations(races + early + late), AS_OF).races
    for race in ("R1", "R2"):
        assert after[race].value - before[race].value > 3.0
    assert after["R1"].shared_sd > 0 and after["R1"].shared_sd <= after["R1"].sd
