"""The hidden truth alone, over many seeds: races correlate as designed and control agrees with the races.

Each seed draws a world's starting state, prices it at the start, then runs the truth to the end of
the election count in one go. The designed probabilities (Gauss-Hermite over the shared national swing,
exact Poisson-binomial over the races) must match what happens, within a tolerance computed from the
binomial variance of the quantities involved (4 standard errors).
"""

from __future__ import annotations

import math
import random

import pytest

from console.sim.world.simtime import DAY_MS, WorldCalendar
from console.sim.world.truth import GH_NODES, ElectionTruth, Latent, Segment, bucket_prob, prob_positive, tail_at_least
from console.sim.world.universe import GOVERNOR_RACES, HOUSE, SENATE, weather_buckets
from world_helpers import START_MS

SEEDS = 1000
CAL = WorldCalendar.starting_at(START_MS)
END_MS = CAL.start_ms + 40 * DAY_MS  # well after every count


def _conditional(truth: ElectionTruth, key: str, t: int, s: float) -> float:
    """P(D wins `key` | final national swing s)."""
    spec = truth.race_specs[key]
    return prob_positive(spec.base_margin + truth.races[key].value + s, truth.races[key].remaining(t))


def _design(truth: ElectionTruth, t: int, i: str, j: str) -> dict[str, float]:
    """Designed P(i), P(i and j), P(i and D control), by quadrature over the final national swing."""
    sd = math.sqrt(truth.national.remaining(t))
    need = SENATE.d_needs - SENATE.d_fixed
    others = [r.key for r in SENATE.races if r.key != i]
    joint = with_control = 0.0
    for x, w in GH_NODES:
        s = truth.national.value + sd * x
        p_i = _conditional(truth, i, t, s)
        joint += w * p_i * _conditional(truth, j, t, s)
        with_control += w * p_i * tail_at_least([_conditional(truth, k, t, s) for k in others], need - 1)
    return {"i": truth.race_prob_d(i, t), "j": truth.race_prob_d(j, t), "ij": joint, "ic": with_control,
            "control": truth.senate_prob_d(t), "house": truth.house_prob_d(t)}


def _within(observed: float, expected: float, variance: float, label: str) -> None:
    se = math.sqrt(variance)
    assert abs(observed - expected) <= 4 * se, f"{label}: observed {observed:.1f}, designed {expected:.1f} (SE {se:.1f})"


@pytest.fixture(scope="module")
def runs() -> list[tuple[dict[str, float], dict[str, bool]]]:
    out = []
    for seed in range(SEEDS):
        truth = ElectionTruth(SENATE, GOVERNOR_RACES, HOUSE, CAL, random.Random(seed))
        design = _design(truth, CAL.start_ms, "SEN-GA", "SEN-NC")
        independent = tail_at_least([truth.race_prob_d(r.key, CAL.start_ms) for r in SENATE.races],
                                    SENATE.d_needs - SENATE.d_fixed)
        design["independent_control"] = independent
        truth.advance(END_MS)
        control = truth.senate_seats_d() >= SENATE.d_needs
        outcome = {"i": truth.margin("SEN-GA") > 0, "j": truth.margin("SEN-NC") > 0, "control": control,
                   "house": truth.house_seats_d() >= HOUSE.d_needs,
                   "resolved_control": truth.senate_prob_d(END_MS), "resolved_i": truth.race_prob_d("SEN-GA", END_MS)}
        out.append((design, outcome))
    return out


def test_races_are_correlated_as_designed(runs) -> None:
    # the shared national swing must make the races clearly correlated ...
    covariance = sum(d["ij"] - d["i"] * d["j"] for d, _ in runs) / len(runs)
    assert covariance > 0.03, f"designed race covariance {covariance:.3f} is too small to matter"
    # ... and the joint outcome must happen as often as designed
    both = sum(o["i"] and o["j"] for _, o in runs)
    _within(both, sum(d["ij"] for d, _ in runs), sum(d["ij"] * (1 - d["ij"]) for d, _ in runs), "both races won")
    # empirical covariance of the outcomes around their probabilities matches the designed covariance
    products = [(o["i"] - d["i"]) * (o["j"] - d["j"]) - (d["ij"] - d["i"] * d["j"]) for d, o in runs]
    mean = sum(products) / len(products)
    var = sum((x - mean) ** 2 for x in products) / (len(products) - 1)
    _within(sum(products), 0.0, var * len(products), "outcome covariance minus designed covariance")


def test_control_is_consistent_with_the_races(runs) -> None:
    # control is calibrated: it happens as often as the quadrature over the races says
    _within(sum(o["control"] for _, o in runs), sum(d["control"] for d, _ in runs),
            sum(d["control"] * (1 - d["control"]) for d, _ in runs), "Senate control")
    _within(sum(o["house"] for _, o in runs), sum(d["house"] for d, _ in runs),
            sum(d["house"] * (1 - d["house"]) for d, _ in runs), "House control")
    # winning Georgia and controlling the Senate go together as designed
    _within(sum(o["i"] and o["control"] for _, o in runs), sum(d["ic"] for d, _ in runs),
            sum(d["ic"] * (1 - d["ic"]) for d, _ in runs), "Georgia and control")
    assert sum(d["ic"] - d["i"] * d["control"] for d, _ in runs) / len(runs) > 0.02
    # treating the races as independent would be visibly wrong, so the calibration check has teeth
    expected_independent = sum(d["independent_control"] for d, _ in runs)
    variance = sum(d["independent_control"] * (1 - d["independent_control"]) for d, _ in runs)
    assert abs(sum(o["control"] for _, o in runs) - expected_independent) > 4 * math.sqrt(variance)


def test_control_resolves_from_the_seat_count(runs) -> None:
    for _, o in runs:
        assert o["resolved_control"] == (1.0 if o["control"] else 0.0)
        assert o["resolved_i"] == (1.0 if o["i"] else 0.0)


def test_latent_variance_is_released_on_schedule() -> None:
    latent = Latent(0.0, 0, [Segment(0, 1000, 4.0), Segment(2000, 2001, 9.0)])
    assert latent.remaining(0) == 13.0
    assert latent.remaining(500) == pytest.approx(11.0)
    assert latent.remaining(1500) == pytest.approx(9.0)
    assert latent.remaining(2001) == 0.0
    # the increments have the scheduled variance
    rng = random.Random(3)
    draws = []
    for _ in range(4000):
        x = Latent(0.0, 0, [Segment(0, 1000, 4.0)])
        x.advance(rng, 500)
        draws.append(x.value)
    var = sum(v * v for v in draws) / len(draws)
    assert var == pytest.approx(2.0, rel=4 * math.sqrt(2 / len(draws)))


@pytest.mark.parametrize(("mean", "sd"), [(50.2, 3.0), (47.0, 0.8), (61.7, 0.0), (39.5, 6.0)])
def test_weather_buckets_sum_to_one(mean: float, sd: float) -> None:
    buckets = weather_buckets(50)
    total = sum(bucket_prob(lo, hi, mean, sd) for _, lo, hi, *_ in buckets)
    assert total == pytest.approx(1.0, abs=1e-12)
    # every whole-degree high falls in exactly one bucket
    for high in range(20, 90):
        assert sum((lo is None or high >= lo) and (hi is None or high <= hi) for _, lo, hi, *_ in buckets) == 1
