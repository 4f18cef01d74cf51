"""Correlated elections: exact control probability vs brute force and Monte Carlo, control-implied race prices."""

from __future__ import annotations

import itertools
import math
import time

import numpy as np
import pytest

from console.models.montecarlo import Chamber, ElectionModel, RaceMargin
from console.models.normal import norm_cdf, norm_ppf


def _model(n: int = 35, seed: int = 7, race_sd: float = 3.0, shared_sd: float = 2.8, fixed: int = 33,
           needed: int = 51) -> ElectionModel:
    rng = np.random.default_rng(seed)
    names = [f"R{i:02d}" for i in range(n)]
    return ElectionModel.from_margins(names, rng.normal(0.5, 4.0, n), np.full(n, race_sd), shared_sd,
                                      {"senate": Chamber(tuple(names), fixed, needed)})


def test_normal_helpers_match_known_values() -> None:
    assert norm_cdf(1.959963984540054) == pytest.approx(0.975, abs=1e-15)
    assert norm_ppf(0.975) == pytest.approx(1.959963984540054, abs=1e-13)
    assert norm_ppf(1e-12) == pytest.approx(-7.034483825301131, abs=1e-9)
    for p in (1e-9, 0.01, 0.3, 0.5, 0.77, 0.999999):
        assert norm_cdf(norm_ppf(p)) == pytest.approx(p, rel=1e-12)


def test_exact_control_matches_brute_force_enumeration() -> None:
    # 6 races: enumerate every joint outcome, integrating the shared error on a very fine grid
    names = ["A", "B", "C", "D", "E", "F"]
    mean, sd, shared = [2.0, -1.0, 0.5, 4.0, -3.0, 0.0], [2.5, 1.5, 3.0, 2.0, 1.0, 2.2], 2.0
    model = ElectionModel.from_margins(names, mean, sd, shared, {"c": Chamber(tuple(names), 10, 14)})
    x = np.linspace(-10, 10, 40001)
    w = np.exp(-x * x / 2)
    w /= w.sum()
    p = np.array([[norm_cdf((m + shared * xi) / s) for m, s in zip(mean, sd, strict=True)] for xi in x[::4]])
    w4 = w[::4] / w[::4].sum()
    brute = 0.0
    for outcome in itertools.product((0, 1), repeat=6):
        if 10 + sum(outcome) >= 14:
            o = np.array(outcome)
            brute += float((w4 * np.prod(np.where(o == 1, p, 1 - p), axis=1)).sum())
    assert model.control_probability("c") == pytest.approx(brute, abs=1e-9)
    assert model.seat_distribution("c").sum() == pytest.approx(1.0, abs=1e-12)


def test_without_a_shared_error_control_is_the_poisson_binomial() -> None:
    probs = [0.9, 0.2, 0.55, 0.7]
    model = ElectionModel([RaceMargin(str(i), norm_ppf(p), 1.0, 0.0) for i, p in enumerate(probs)],
                          {"c": Chamber(("0", "1", "2", "3"), 0, 3)})
    at_least_3 = sum(math.prod(p if o else 1 - p for p, o in zip(probs, out, strict=True))
                     for out in itertools.product((0, 1), repeat=4) if sum(out) >= 3)
    assert model.control_probability("c") == pytest.approx(at_least_3, abs=1e-12)


@pytest.mark.parametrize("race_sd", [3.0, 1.0])
def test_exact_control_agrees_with_monte_carlo_within_sampling_error(race_sd: float) -> None:
    model = _model(race_sd=race_sd)
    exact = model.control_probability("senate")
    n = 200_000
    estimate, se = model.control_probability_mc("senate", n, np.random.default_rng(11))
    # the binomial standard error of n draws at the exact p; 4.5 sigma: a false alarm about once in 150,000 runs
    tolerance = 4.5 * math.sqrt(exact * (1 - exact) / n)
    assert 0.05 < exact < 0.95
    assert abs(estimate - exact) < tolerance, (estimate, exact, tolerance)


def test_monte_carlo_marginals_and_correlation_follow_the_model() -> None:
    model = _model(n=10, race_sd=2.0, shared_sd=3.0)
    sample = model.sample(100_000, np.random.default_rng(3))
    marg = sample.wins.mean(axis=0)
    exact = model.race_probabilities()
    assert np.all(np.abs(marg - exact) < 4.5 * np.sqrt(exact * (1 - exact) / 100_000))
    # races move together: the shared error makes outcomes positively correlated
    corr = np.corrcoef(sample.wins[:, 0].astype(float), sample.wins[:, 1].astype(float))[0, 1]
    assert corr > 0.2


def test_control_implied_shift_reprices_every_race() -> None:
    model = _model()
    base_control = model.control_probability("senate")
    base = model.race_probabilities()
    up = model.conditional_race_probabilities("senate", min(0.97, base_control + 0.15))
    shift = model.shift_for_control("senate", min(0.97, base_control + 0.15))
    assert model.control_probability("senate", shift) == pytest.approx(min(0.97, base_control + 0.15), abs=1e-9)
    assert shift > 0
    assert all(up[name] > base[i] for i, name in enumerate(model.names))
    # the market agreeing with the model leaves every race where it was
    same = model.conditional_race_probabilities("senate", base_control)
    assert all(same[name] == pytest.approx(base[i], abs=1e-7) for i, name in enumerate(model.names))
    with pytest.raises(ValueError, match="strictly between"):
        model.shift_for_control("senate", 1.0)


def test_from_probabilities_keeps_each_race_probability() -> None:
    probs = {"GA": 0.62, "MI": 0.71, "NC": 0.45, "ME": 0.40, "OH": 0.22}
    model = ElectionModel.from_probabilities(probs, 0.5, {"c": Chamber(tuple(probs), 48, 51)})
    assert np.allclose(model.race_probabilities(), list(probs.values()), atol=1e-12)
    independent = ElectionModel.from_probabilities(probs, 0.0, {"c": Chamber(tuple(probs), 48, 51)})
    # the shared error spreads the seat count: sweeps either way get likelier, the mean stays
    seats = np.arange(len(probs) + 1)

    def mean_var(m: ElectionModel) -> tuple[float, float]:
        dist = m.seat_distribution("c")
        mu = float(dist @ seats)
        return mu, float(dist @ (seats - mu) ** 2)

    (mu_c, var_c), (mu_i, var_i) = mean_var(model), mean_var(independent)
    assert mu_c == pytest.approx(sum(probs.values()), abs=1e-9) and mu_i == pytest.approx(mu_c, abs=1e-9)
    assert var_c > 1.5 * var_i
    assert model.seat_distribution("c")[5] > independent.seat_distribution("c")[5]


def test_decided_races_ignore_the_national_error() -> None:
    model = ElectionModel([RaceMargin("called", 1.0, 0.0, 3.0), RaceMargin("open", 0.0, 2.0, 3.0)],
                          {"c": Chamber(("called", "open"), 0, 2)})
    assert model.race_probability("called") == 1.0
    assert model.control_probability("c") == pytest.approx(0.5, abs=1e-12)
    assert model.sample(1000, np.random.default_rng(1)).wins[:, 0].all()


def test_stress_scenarios_move_with_the_national_error() -> None:
    stress = _model().stress_scenarios(2.5, 11)
    control = stress.control_probs["senate"]
    assert np.all(np.diff(control) >= 0) and control[0] < 0.1 and control[-1] > 0.9
    assert np.all(np.diff(stress.race_probs, axis=0) >= 0)


def test_exact_control_for_35_races_is_fast() -> None:
    model = _model()
    model.control_probability("senate")
    start = time.perf_counter()
    for _ in range(20):
        model.control_probability("senate")
    # the target is 2 ms (bench/models.py); a loaded test machine gets 5x headroom
    assert (time.perf_counter() - start) / 20 < 0.010
