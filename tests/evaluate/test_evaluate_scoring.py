"""Scoring by hand: expected Brier against the truth, outcome Brier, the event-clustered standard error,
and the sentence a user reads."""

from __future__ import annotations

import math

import pytest

from console.evaluate.pnl import Ledger, position_value
from console.evaluate.scoring import ScoreRecord, clustered_se, score_all


def _rec(event: str, prob: float, market: float, truth: float, outcome: int | None = None) -> ScoreRecord:
    return ScoreRecord("polls", "elections", f"{event}-D", event, 0, prob, market, "mid", truth, outcome)


def test_clustered_standard_error_by_hand() -> None:
    diffs, clusters = [1.0, 3.0, -1.0, 1.0], ["a", "a", "b", "b"]
    # mean 1; cluster sums of deviations: a = 0 + 2 = 2, b = -2 + 0 = -2; k = 2
    assert clustered_se(diffs, clusters) == pytest.approx(math.sqrt(2 / 1 * (4 + 4)) / 4)
    assert clustered_se([0.5], ["a"]) == math.inf
    assert clustered_se([0.1, 0.2], ["a", "a"]) == math.inf  # one cluster: no standard error


def test_truth_and_outcome_scores_and_the_sentence() -> None:
    records = [_rec("E1", 0.6, 0.5, 0.7, 1), _rec("E2", 0.2, 0.4, 0.1, 0), _rec("E3", 0.5, 0.5, 0.5)]
    (truth,) = score_all(records, "truth")
    model = [(0.6 - 0.7) ** 2 + 0.21, (0.2 - 0.1) ** 2 + 0.09, 0.25]
    market = [(0.5 - 0.7) ** 2 + 0.21, (0.4 - 0.1) ** 2 + 0.09, 0.25]
    assert truth.brier_model == pytest.approx(sum(model) / 3)
    assert truth.brier_market == pytest.approx(sum(market) / 3)
    assert truth.diff == pytest.approx((sum(model) - sum(market)) / 3)
    assert truth.clusters == 3 and truth.n == 3
    assert truth.sentence().startswith(f"polls beats the market by {-truth.diff:.4f} +- {truth.se:.4f} Brier")
    (outcomes,) = score_all(records, "outcomes")
    assert outcomes.n == 2  # the third market did not settle
    assert outcomes.brier_model == pytest.approx(((0.6 - 1) ** 2 + 0.2 ** 2) / 2)
    worse = score_all([_rec("E1", 0.9, 0.7, 0.7), _rec("E2", 0.1, 0.1, 0.1)], "truth")[0]
    assert "trails the market" in worse.sentence() and "not a clear difference" in worse.sentence()


def test_position_values_and_drawdown() -> None:
    assert position_value(1000, 0.25) == 2_500_000  # 10 YES at a 25% chance: $2.50
    assert position_value(-1000, 0.25) == 7_500_000  # 10 NO: $7.50
    ledger = Ledger("a", 0, [(1, 5), (2, 20), (3, 4), (4, 30), (5, 10)])
    assert ledger.max_drawdown() == 20  # from 30 down to 10
    assert Ledger("b", 0, [(1, -7), (2, -3)]).max_drawdown() == 7  # from the start (0) down to -7
