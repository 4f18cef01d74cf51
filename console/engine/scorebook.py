"""The scorebook: each model's calibration per category, from the journal's resolved predictions, and
the sizing shrink the strategies apply to Kelly (`Desk.shrink` -> `ScoreBook.shrink`).

Loaded from the journal at engine start and brought up to date on every outcome (the settlement code
calls `on_outcome` after `Journal.record_outcome`). The scores are those of
`console.models.calibration`: Brier score, log loss, reliability table and Murphy decomposition, each
next to the market's own implied probability on the same predictions (predictions journaled without
a market probability are scored for the model alone and left out of the comparison and the shrink).

Why the window counts markets, not predictions: the kernel journals a market's prediction whenever
it moves by a point or every quarter hour, so one market can leave hundreds of rows that share one
outcome. Scoring all of them would let a few markets look like a large sample. The shrink therefore
looks at the last `window_markets` (200) resolved markets of a (model, category) and at most
`per_market` (4) predictions of each, spread evenly over the time the market was predicted; the report
(`report`) scores every prediction and says how many markets they came from.
"""

from __future__ import annotations

from collections import OrderedDict, defaultdict
from collections.abc import Iterable

from console.models.calibration import (
    Prediction,
    ScoreRow,
    Shrink,
    brier,
    brier_decomposition,
    log_loss,
    reliability_table,
    score,
    sizing_shrink,
)

Key = tuple[str, str]  # (model, category)


def _prediction(row) -> Prediction:
    """A journal `ResolvedPrediction` as a calibration `Prediction`."""
    return Prediction(row.model, row.category or "", row.ticker, row.ts_ms, float(row.probability),
                      None if row.market_prob is None else float(row.market_prob), int(row.outcome))


def _spread(preds: list[Prediction], k: int) -> list[Prediction]:
    """At most k predictions, evenly spaced over the list (first and last kept)."""
    if len(preds) <= k:
        return preds
    if k == 1:
        return [preds[-1]]
    step = (len(preds) - 1) / (k - 1)
    return [preds[round(i * step)] for i in range(k)]


class ScoreBook:
    """Resolved predictions per (model, category) and the sizing shrink (see the module docstring)."""

    def __init__(self, *, window_markets: int = 200, per_market: int = 4, min_n: int = 20,
                 prior_factor: float = 0.5, bins: int = 10, shrink_bins: int = 5) -> None:
        self.window_markets = window_markets
        self.per_market = per_market
        self.min_n = min_n
        self.prior_factor = prior_factor
        self.bins = bins  # the report's reliability table
        # the shrink's reliability term uses coarser bins: with ten bins, a perfect model scored on a hundred
        # markets already shows ~0.02 of reliability from sampling noise alone (the shrink's limit)
        self.shrink_bins = shrink_bins
        # (model, category) -> ticker -> its predictions, markets in the order they resolved
        self._markets: dict[Key, OrderedDict[str, list[Prediction]]] = defaultdict(OrderedDict)
        self._shrinks: dict[Key, Shrink] = {}
        self.resolved = 0

    @classmethod
    def from_journal(cls, journal, **kwargs) -> ScoreBook:
        book = cls(**kwargs)
        book.add(journal.resolved_predictions())
        return book

    # --- keeping it current -----------------------------------------------------------------------
    def add(self, rows: Iterable) -> int:
        """Add resolved predictions (journal rows, oldest first); returns how many."""
        n = 0
        for row in rows:
            pred = _prediction(row)
            key = (pred.model, pred.category)
            markets = self._markets[key]
            markets.setdefault(pred.ticker, []).append(pred)
            markets.move_to_end(pred.ticker)
            self._shrinks.pop(key, None)
            n += 1
        self.resolved += n
        return n

    def on_outcome(self, journal, ticker: str) -> int:
        """A market resolved: take its now-resolved predictions from the journal."""
        return self.add(journal.resolved_predictions(ticker=ticker))

    # --- what the strategies ask ----------------------------------------------------------------
    def shrink(self, model: str, category: str) -> float:
        """Multiply the Kelly fraction by this (0..1): `calibration.sizing_shrink` on the recent window."""
        return self.shrink_detail(model, category).factor

    def shrink_detail(self, model: str, category: str) -> Shrink:
        key = (model, category)
        cached = self._shrinks.get(key)
        if cached is None:
            cached = self._shrinks[key] = sizing_shrink(self.recent(model, category), min_n=self.min_n,
                                                        prior_factor=self.prior_factor, bins=self.shrink_bins)
        return cached

    def recent(self, model: str, category: str) -> list[Prediction]:
        """The window the shrink looks at: the last markets, a few predictions each."""
        markets = self._markets.get((model, category))
        if not markets:
            return []
        tickers = list(markets)[-self.window_markets:]
        return [p for t in tickers for p in _spread(markets[t], self.per_market)]

    # --- reporting --------------------------------------------------------------------------------
    def keys(self) -> list[Key]:
        return sorted(k for k, v in self._markets.items() if v)

    def predictions(self, model: str | None = None) -> list[Prediction]:
        return [p for (m, _), markets in sorted(self._markets.items()) if model is None or m == model
                for preds in markets.values() for p in preds]

    def scores(self, model: str | None = None) -> list[ScoreRow]:
        """Model vs market per (model, category) on the market-priced predictions (calibration.score)."""
        return score(self.predictions(model), by=lambda p: (p.model, p.category), bins=self.bins)

    def report(self, model: str | None = None) -> str:
        """The calibration report as text (`edgedesk calibration`)."""
        keys = [k for k in self.keys() if model is None or k[0] == model]
        if not keys:
            return ("no resolved predictions" + (f" for model {model!r}" if model else "") +
                    " in the journal yet: outcomes arrive when markets settle")
        compared = {row.key: row for row in self.scores(model)}
        out: list[str] = []
        for key in keys:
            out.extend(self._section(key, compared.get(key)))
        return "\n".join(out)

    def _section(self, key: Key, row: ScoreRow | None) -> list[str]:
        model, category = key
        preds = [p for preds in self._markets[key].values() for p in preds]
        probs, outcomes = [p.prob for p in preds], [p.outcome for p in preds]
        yes = sum(outcomes)
        lines = [(f"== {model} / {category or '(no category)'}: {len(preds)} prediction(s) on "
                  f"{len(self._markets[key])} market(s), {yes} resolved YES"),
                 f"  model   Brier {brier(probs, outcomes):.4f}  log loss {log_loss(probs, outcomes):.4f}"]
        if row is not None:
            lines.append(f"  market  Brier {row.brier_market:.4f}  log loss {row.log_loss_market:.4f}  "
                         f"(same {row.n} prediction(s))")
            se = "" if row.brier_diff_se == float("inf") else f" +- {row.brier_diff_se:.4f}"
            if abs(row.brier_diff) < 2 * row.brier_diff_se:  # within two standard errors: not shown either way
                verdict = "not distinguishable from the market yet"
            else:
                verdict = "better than the market" if row.brier_diff < 0 else "worse than the market"
            lines.append(f"  model - market Brier {row.brier_diff:+.4f}{se} ({verdict}; skill {row.skill:+.3f})")
        else:
            lines.append("  market  no market probability journaled with these predictions")
        d = brier_decomposition(probs, outcomes, self.bins)
        lines.append(f"  decomposition: reliability {d.reliability:.4f}  resolution {d.resolution:.4f}  "
                     f"uncertainty {d.uncertainty:.4f}  within-bin {d.within_bin:+.4f}")
        shrink = self.shrink_detail(model, category)
        lines.append(f"  sizing shrink {shrink.factor:.2f}: {shrink.reason}")
        lines.append("  reliability    bin        n   model   observed" +
                     ("   market" if row is not None else ""))
        market = _market_by_bin(preds, self.bins) if row is not None else {}
        for r in reliability_table(probs, outcomes, self.bins):
            m = market.get(r.lo)
            lines.append(f"             {r.lo:.1f}-{r.hi:.1f} {r.n:6d}   {r.mean_prob:.3f}   {r.observed:.3f}"
                         + (f"    {m:.3f}" if m is not None else ""))
        return lines


def _market_by_bin(preds: list[Prediction], bins: int) -> dict[float, float]:
    """Mean market probability of the predictions in each model-probability bin (priced ones only)."""
    sums: dict[float, list[float]] = defaultdict(list)
    for p in preds:
        if p.market_prob is not None:
            k = min(int(p.prob * bins), bins - 1)
            sums[k / bins].append(p.market_prob)
    return {lo: sum(v) / len(v) for lo, v in sums.items()}



def calibration_report(journal_path, model: str | None = None) -> str:
    """The report for `edgedesk calibration`, from the journal file at `journal_path`."""
    from pathlib import Path

    from console.engine.journal import Journal, JournalError

    path = Path(journal_path)
    if not path.exists():
        raise JournalError(f"{path}: no journal here; run the desk first, or pass --home / [engine] journal_path")
    with Journal(path, writer=False, checkpoint_every_s=None) as journal:  # the desk may be running
        return ScoreBook.from_journal(journal).report(model)
