"""Keeping score: Brier, log loss, reliability, the decomposition and the sizing shrink, against hand-worked numbers."""

from __future__ import annotations

import math

import pytest

from console.models.calibration import (
    Prediction,
    brier,
    brier_decomposition,
    log_loss,
    reliability_table,
    score,
    sizing_shrink,
)

PROBS = [0.9, 0.9, 0.2, 0.2, 0.5]
OUTCOMES = [1, 0, 0, 0, 1]


def test_brier_and_log_loss_by_hand() -> None:
    # (0.01 + 0.81 + 0.04 + 0.04 + 0.25) / 5
    assert brier(PROBS, OUTCOMES) == pytest.approx(0.23, abs=1e-15)
    expected = -(math.log(0.9) + math.log(0.1) + 2 * math.log(0.8) + math.log(0.5)) / 5
    assert log_loss(PROBS, OUTCOMES) == pytest.approx(expected, abs=1e-12)
    # a certain, wrong forecast is clipped rather than infinite
    assert log_loss([1.0], [0]) == pytest.approx(-math.log(1e-6), rel=1e-6)


def test_reliability_table_by_hand() -> None:
    rows = reliability_table(PROBS, OUTCOMES, bins=10)
    assert [(r.lo, r.n, r.mean_prob, r.observed) for r in rows] == [
        (0.2, 2, pytest.approx(0.2), 0.0), (0.5, 1, pytest.approx(0.5), 1.0), (0.9, 2, pytest.approx(0.9), 0.5)]


def test_brier_decomposition_by_hand() -> None:
    d = brier_decomposition(PROBS, OUTCOMES, bins=10)
    # base rate 0.4: uncertainty 0.24; reliability (2x0.4^2 + 2x0.2^2 + 0.5^2)/5;
    # resolution (2x0.1^2 + 2x0.4^2 + 0.6^2)/5
    assert d.uncertainty == pytest.approx(0.24)
    assert d.reliability == pytest.approx(0.13)
    assert d.resolution == pytest.approx(0.14)
    assert d.within_bin == pytest.approx(0.0, abs=1e-15)
    assert d.reliability - d.resolution + d.uncertainty == pytest.approx(d.brier)


def test_decomposition_identity_holds_with_spread_within_bins() -> None:
    probs, outcomes = [0.11, 0.19, 0.55, 0.58, 0.93, 0.97, 0.42], [0, 1, 1, 0, 1, 1, 0]
    d = brier_decomposition(probs, outcomes, bins=5)
    assert d.reliability - d.resolution + d.uncertainty + d.within_bin == pytest.approx(d.brier, abs=1e-15)


def test_model_against_the_market_on_the_same_markets() -> None:
    preds = [Prediction("polls", "Elections", "A", 0, 0.8, 0.6, 1),
             Prediction("polls", "Elections", "B", 0, 0.3, 0.5, 0),
             Prediction("polls", "Elections", "C", 0, 0.3, None, 0),  # no market price: not comparable
             Prediction("polls", "Elections", "D", 0, 0.3, 0.5, None),  # unresolved
             Prediction("weather", "Climate", "E", 0, 0.5, 0.5, 1)]
    rows = {r.key: r for r in score(preds)}
    row = rows[("polls",)]
    assert row.n == 2
    assert row.brier_model == pytest.approx((0.04 + 0.09) / 2)
    assert row.brier_market == pytest.approx((0.16 + 0.25) / 2)
    assert row.brier_diff == pytest.approx(-0.14)
    assert row.brier_diff_se == pytest.approx(0.02)  # paired diffs -0.12, -0.16
    assert row.skill == pytest.approx(1 - 0.065 / 0.205)
    by_category = {r.key for r in score(preds, by=lambda p: (p.model, p.category))}
    assert by_category == {("polls", "Elections"), ("weather", "Climate")}


def _alternating(n: int, model_shift: float) -> list[Prediction]:
    out = []
    for i in range(n):
        o = i % 2
        market = 0.6 if o else 0.4
        out.append(Prediction("m", "c", f"T{i}", i, market - model_shift if o else market + model_shift, market, o))
    return out


def test_sizing_shrinks_when_the_model_trails_the_market() -> None:
    # market Brier 0.16; the model's (0.4 + d)^2 = 0.17 trails it by 0.01: half of max_excess 0.02
    d = math.sqrt(0.17) - 0.4
    shrink = sizing_shrink(_alternating(40, d), max_excess=0.02, reliability_limit=1.0)
    assert shrink.factor == pytest.approx(0.5, abs=1e-9)
    assert "+0.0100" in shrink.reason
    assert sizing_shrink(_alternating(40, -0.05), reliability_limit=1.0).factor == 1.0  # the model is better


def test_sizing_shrinks_on_poor_reliability_and_on_few_predictions() -> None:
    # forecasts of 0.6/0.4 for outcomes that are always 1/0: reliability 0.16, far past 0.02
    assert sizing_shrink(_alternating(40, 0.0), max_excess=0.02).factor == 0.0
    assert sizing_shrink([]).factor == 0.5
    # 10 of the 20 needed, measured factor 1: halfway between the cautious prior 0.5 and 1
    few = sizing_shrink(_alternating(10, -0.05), min_n=20, prior_factor=0.5, reliability_limit=1.0)
    assert few.factor == pytest.approx(0.75) and "only 10 of 20" in few.reason


def test_bad_inputs_say_what_is_wrong() -> None:
    with pytest.raises(ValueError, match="outcomes 0 or 1"):
        brier([0.5], [2])
    with pytest.raises(ValueError, match="equally long"):
        brier([0.5, 0.2], [1])
