"""Model vs market Brier scores on the same markets, with standard errors clustered by event.

At each checkpoint every open market that a model prices and whose market has a price gets one
`ScoreRecord`: the model's P(YES), the market's (the book's mid, or the last trade when a side of the
book is empty; the source is kept), and the hidden true probability q. Two scores:

- against the truth: the expected Brier score of a forecast p is E[(p - Y)^2] = (p - q)^2 + q(1 - q),
  so the model-minus-market difference is the mean of (p - q)^2 - (m - q)^2: no outcome noise, every
  market counts, from the first checkpoint on;
- against outcomes: the plain Brier score on the records of markets that settled within the run.

A market's errors persist from one checkpoint to the next, and markets of one event (the -D and -R
sides of a race, the buckets of a day's high) move together, so the standard error of the mean
difference is clustered by event: se = sqrt(k / (k - 1) x sum_c (sum_{i in c} (d_i - mean))^2) / n.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class ScoreRecord:
    model: str
    category: str
    ticker: str
    event: str
    t_ms: int
    prob: float  # the model's P(YES)
    market_prob: float
    market_source: str  # mid | last
    truth: float  # the hidden true probability at the checkpoint
    outcome: int | None = None  # 1 YES / 0 NO once the market settled within the run


@dataclass(frozen=True)
class Score:
    """Model against market on the same records (lower Brier is better; diff < 0: the model is better)."""

    model: str
    category: str  # "" = every category of the model
    basis: str  # truth | outcomes
    n: int
    clusters: int
    brier_model: float
    brier_market: float
    diff: float  # model - market
    se: float  # clustered by event
    mid_share: float  # share of records priced by the mid (the rest: last trade)
    categories: str = ""  # the categories the records span (comma-separated)

    @property
    def z(self) -> float:
        """The difference in standard errors (negative: the model is better)."""
        if self.se > 0 and math.isfinite(self.se):
            return self.diff / self.se
        return 0.0 if self.diff == 0 else math.copysign(math.inf, self.diff)

    def sentence(self) -> str:
        """E.g. "polls beat the market by 0.0061 +- 0.0020 Brier (3.0 s.e.)"."""
        who = self.model + (f" ({self.category})" if self.category else "")
        if self.n < 2:
            return f"{who}: too few scored predictions ({self.n}) to compare with the market"
        if not math.isfinite(self.se):
            return (f"{who}: {self.brier_model:.4f} vs the market's {self.brier_market:.4f} Brier on a single event "
                    f"({self.n} predictions): no standard error from one event")
        z = abs(self.diff) / self.se if self.se > 0 else math.inf
        verdict = "beats" if self.diff < 0 else "trails"
        sure = "" if z >= 2 else "; not a clear difference (under 2 s.e.)"
        return (f"{who} {verdict} the market by {abs(self.diff):.4f} +- "
                f"{self.se:.4f} Brier ({z:.1f} s.e., {self.clusters} events, {self.n} predictions){sure}")

    def as_dict(self) -> dict[str, object]:
        """JSON-safe: an undefined standard error or z is null, never Infinity."""
        return {**asdict(self), "se": self.se if math.isfinite(self.se) else None,
                "z": self.z if math.isfinite(self.z) else None}


def clustered_se(diffs: list[float], clusters: list[str]) -> float:
    n = len(diffs)
    if n < 2:
        return math.inf
    mean = sum(diffs) / n
    sums: dict[str, float] = defaultdict(float)
    for d, c in zip(diffs, clusters, strict=True):
        sums[c] += d - mean
    k = len(sums)
    if k < 2:
        return math.inf
    return math.sqrt(k / (k - 1) * sum(s * s for s in sums.values())) / n


def _score(model: str, category: str, basis: str, rows: list[ScoreRecord]) -> Score:
    if basis == "truth":
        model_b = [(r.prob - r.truth) ** 2 + r.truth * (1 - r.truth) for r in rows]
        market_b = [(r.market_prob - r.truth) ** 2 + r.truth * (1 - r.truth) for r in rows]
    else:
        model_b = [(r.prob - r.outcome) ** 2 for r in rows]  # type: ignore[operator]
        market_b = [(r.market_prob - r.outcome) ** 2 for r in rows]  # type: ignore[operator]
    diffs = [a - b for a, b in zip(model_b, market_b, strict=True)]
    n = len(rows)
    return Score(model, category, basis, n, len({r.event for r in rows}), sum(model_b) / n, sum(market_b) / n,
                 sum(diffs) / n, clustered_se(diffs, [r.event for r in rows]),
                 sum(1 for r in rows if r.market_source == "mid") / n, ",".join(sorted({r.category for r in rows})))


def score_all(records: Iterable[ScoreRecord], basis: str) -> list[Score]:
    """Per model, then per (model, category) when a model spans several; sorted by model."""
    keep: Callable[[ScoreRecord], bool] = (lambda r: True) if basis == "truth" else (lambda r: r.outcome is not None)
    by_model: dict[str, list[ScoreRecord]] = defaultdict(list)
    for r in records:
        if keep(r):
            by_model[r.model].append(r)
    out: list[Score] = []
    for model in sorted(by_model):
        rows = by_model[model]
        out.append(_score(model, "", basis, rows))
        cats = sorted({r.category for r in rows})
        if len(cats) > 1:
            out.extend(_score(model, c, basis, [r for r in rows if r.category == c]) for c in cats)
    return out
