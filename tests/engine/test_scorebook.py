"""The scorebook: per (model, category) calibration from the journal's resolved predictions, the sizing
shrink strategies apply (full size for a model that beats the market, none for one that is worse,
a cautious prior while there is little evidence), kept current as markets settle, and the
`edgedesk calibration` report."""

from __future__ import annotations

import random

from kernel_harness import Harness

from console.cli import main
from console.engine.journal import Journal
from console.engine.scorebook import ScoreBook
from console.venues.kalshi import codec_ws as w


def _history(j: Journal, model: str, category: str, *, markets: int, model_noise: float, market_noise: float,
             per_market: int = 3, seed: int = 7, start: int = 0) -> None:
    """Resolved markets whose truth is known: the model and the market see it through some noise."""
    rng = random.Random(seed)
    for i in range(start, start + markets):
        truth = rng.uniform(0.05, 0.95)
        ticker = f"KX{category.upper()}-{i}"
        for k in range(per_market):
            p = min(0.99, max(0.01, truth + rng.gauss(0, model_noise)))
            m = min(0.99, max(0.01, truth + rng.gauss(0, market_noise)))
            j.record_prediction(model, ticker, p, 1_000 * i + k, category=category, market_prob=m)
        j.record_outcome(ticker, rng.random() < truth, 1_000 * i + 999)


def test_shrink_is_full_for_a_model_that_beats_the_market_and_zero_for_a_worse_one(tmp_path) -> None:
    with Journal(tmp_path / "j.sqlite") as j:
        _history(j, "polls", "politics", markets=150, model_noise=0.01, market_noise=0.25)
        _history(j, "noise", "politics", markets=150, model_noise=0.35, market_noise=0.01)
        _history(j, "polls", "weather", markets=2, model_noise=0.01, market_noise=0.25, start=500)
        book = ScoreBook.from_journal(j)
    assert book.resolved == 3 * 302
    assert book.shrink("polls", "politics") == 1.0
    assert book.shrink("noise", "politics") == 0.0
    # two markets of evidence: never more than the cautious prior, however good they look
    assert book.shrink("polls", "weather") <= 0.5
    assert "only 6 of 20" in book.shrink_detail("polls", "weather").reason
    assert book.shrink("unknown-model", "politics") == 0.5  # nothing scored: the prior
    assert "no scored predictions" in book.shrink_detail("unknown-model", "politics").reason
    # one market predicted many times counts as a few predictions, not as a large sample
    assert len(book.recent("polls", "weather")) == 2 * 3
    with Journal(tmp_path / "j.sqlite") as j:
        for k in range(200):
            j.record_prediction("polls", "KXONE", 0.9, k, category="elections", market_prob=0.5)
        j.record_outcome("KXONE", True, 1_000)
        book = ScoreBook.from_journal(j)
    assert len(book.recent("polls", "elections")) == 4
    # 4 of the 20 needed for full weight: 0.2 x 1.0 + 0.8 x the 0.5 prior (all 200 rows would have said 1.0)
    assert abs(book.shrink("polls", "elections") - 0.6) < 1e-9


def test_an_outcome_updates_the_scorebook_at_once(tmp_path) -> None:
    with Journal(tmp_path / "j.sqlite") as j:
        _history(j, "polls", "test", markets=40, model_noise=0.35, market_noise=0.01)  # a poor record
        h = Harness(journal=j)
        h.desk.scorebook = book = ScoreBook.from_journal(j)
        h.ready(["KXA"])
        assert book.shrink("polls", "test") == 0.0
        for k in range(5):
            j.record_prediction("polls", "KXA", 0.6, 10 + k, category="test", market_prob=0.55)
        determined = w.MarketLifecycleBody(market_ticker="KXA", event_type="determined", result="yes",
                                           settlement_value=10_000)
        h.step(w.MarketLifecycle(sid=1, msg=determined))
        h.step(w.MarketLifecycle(sid=1, msg=w.MarketLifecycleBody(market_ticker="KXA", event_type="settled")))
        assert book.resolved == 40 * 3 + 5
        assert [p.ticker for p in book.recent("polls", "test")][-4:] == ["KXA"] * 4  # the newest market
        assert [r.outcome for r in j.resolved_predictions(ticker="KXA")] == [1] * 5


def test_calibration_command_prints_model_and_market_scores_per_category(tmp_path, capsys) -> None:
    with Journal(tmp_path / "journal.sqlite") as j:
        _history(j, "polls", "politics", markets=150, model_noise=0.02, market_noise=0.3)
        _history(j, "weather", "climate", markets=30, model_noise=0.05, market_noise=0.05, seed=3)
        j.record_prediction("weather", "KXOPEN", 0.5, 1, category="climate", market_prob=0.5)  # unresolved
    assert main(["calibration", "--home", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "== polls / politics: 450 prediction(s) on 150 market(s)" in out
    assert "== weather / climate: 90 prediction(s) on 30 market(s)" in out
    for label in ("model   Brier", "market  Brier", "model - market Brier", "decomposition: reliability",
                  "sizing shrink", "reliability    bin"):
        assert out.count(label) == 2, label
    polls, weather = out.split("== weather")
    assert "(better than the market;" in polls  # a much noisier market, by more than two standard errors
    assert "not distinguishable from the market yet" in weather  # as noisy as the market: no claim
    assert main(["calibration", "--home", str(tmp_path), "--model", "weather"]) == 0
    only = capsys.readouterr().out
    assert "== weather / climate" in only and "polls" not in only
    assert main(["calibration", "--home", str(tmp_path / "nowhere")]) == 1
    assert "no journal here" in capsys.readouterr().err
