"""The issue's claim, in the evaluator's own numbers: on the default world the polling and weather
models beat the market's Brier score, by more than two clustered standard errors.

Seeds 1-3 (the worlds tests/sim/world/test_model_edge.py uses), ten simulated days each, hourly steps,
models only: the polls' edge is small next to each world's shared polling error, so one world over two
days does not show it clearly (docs/evaluate.md, "Measured"); three worlds over ten days do.
"""

from __future__ import annotations

import pytest

from console.config import load_config
from console.evaluate.report import text_report
from console.evaluate.run import EvalParams, evaluate

POOLED = EvalParams(seed=1, worlds=3, days=10, step_s=3600, refresh_min=120, checkpoint_min=360, trade=False)


@pytest.mark.timeout(300)
def test_polls_and_weather_beat_the_market_brier() -> None:
    result = evaluate(POOLED, load_config("config.toml"))
    overall = {s.model: s for s in result.truth_scores if not s.category}
    report = text_report(result)
    for model in ("polls", "weather"):
        score = overall[model]
        assert score.clusters >= 30, f"{model}: too few events scored ({score.clusters})\n{report}"
        assert score.brier_model < score.brier_market, f"{model} does not beat the market\n{report}"
        assert score.z < -2, f"{model} beats the market by less than 2 s.e. ({score.sentence()})\n{report}"
        assert f"{model} beats the market by" in report
    weather_outcomes = next(s for s in result.outcome_scores if s.model == "weather" and not s.category)
    assert weather_outcomes.z < -2, f"weather is not better on the outcomes too\n{report}"
    # the market is a decent forecaster: the edge is real, not a broken market
    assert overall["polls"].brier_market < 0.25 and overall["weather"].brier_market < 0.2, report
