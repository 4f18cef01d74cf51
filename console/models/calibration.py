"""Keeping score: Brier score, log loss, reliability tables and the Brier decomposition, model vs market.

A `Prediction` is one probability a model gave for a market at a time, with the market's own implied
probability at that moment and, once known, the outcome. Scores are computed per model and per
category on the markets both the model and the market priced, so the comparison is like for like.

Murphy's decomposition over K probability bins (n_k forecasts, mean forecast f_k, observed frequency
o_k, overall frequency o):

    reliability = sum n_k (f_k - o_k)^2 / N      (lower is better: forecasts mean what they say)
    resolution  = sum n_k (o_k - o)^2 / N        (higher is better: forecasts separate outcomes)
    uncertainty = o (1 - o)
    Brier = reliability - resolution + uncertainty + within-bin variance term

The last term is zero when the forecasts within each bin are equal; it is reported so the identity
is exact. `sizing_shrink` turns recent scores into a factor for Kelly sizing.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

_LOG_CLIP = 1e-6


@dataclass(frozen=True)
class Prediction:
    model: str
    category: str
    ticker: str
    t_ms: int
    prob: float  # the model's P(YES)
    market_prob: float | None  # the market's implied P(YES) at the same time (mid), if it had a book
    outcome: int | None = None  # 1 YES, 0 NO, None while unresolved


def brier(probs: Sequence[float], outcomes: Sequence[int]) -> float:
    p, o = _arrays(probs, outcomes)
    return float(np.mean((p - o) ** 2))


def log_loss(probs: Sequence[float], outcomes: Sequence[int], clip: float = _LOG_CLIP) -> float:
    """Mean negative log-likelihood (natural log); probabilities clipped to [clip, 1 - clip]."""
    p, o = _arrays(probs, outcomes)
    p = np.clip(p, clip, 1 - clip)
    return float(-np.mean(o * np.log(p) + (1 - o) * np.log(1 - p)))


@dataclass(frozen=True)
class ReliabilityRow:
    lo: float
    hi: float
    n: int
    mean_prob: float
    observed: float


def reliability_table(probs: Sequence[float], outcomes: Sequence[int], bins: int = 10) -> list[ReliabilityRow]:
    """Forecasts grouped in `bins` equal-width bins of [0, 1] (1.0 falls in the last); empty bins omitted."""
    p, o = _arrays(probs, outcomes)
    idx = np.minimum((p * bins).astype(int), bins - 1)
    rows = []
    for k in range(bins):
        mask = idx == k
        n = int(mask.sum())
        if n:
            rows.append(ReliabilityRow(k / bins, (k + 1) / bins, n, float(p[mask].mean()), float(o[mask].mean())))
    return rows


@dataclass(frozen=True)
class BrierDecomposition:
    brier: float
    reliability: float
    resolution: float
    uncertainty: float
    within_bin: float  # brier = reliability - resolution + uncertainty + within_bin


def brier_decomposition(probs: Sequence[float], outcomes: Sequence[int], bins: int = 10) -> BrierDecomposition:
    p, o = _arrays(probs, outcomes)
    n = len(p)
    base = float(o.mean())
    rel = res = within = 0.0
    idx = np.minimum((p * bins).astype(int), bins - 1)
    for k in range(bins):
        mask = idx == k
        nk = int(mask.sum())
        if not nk:
            continue
        fk, ok = float(p[mask].mean()), float(o[mask].mean())
        rel += nk * (fk - ok) ** 2
        res += nk * (ok - base) ** 2
        # exact remainder: sum (p - o)^2 within the bin minus its n_k (f_k - o_k)^2 + n_k o_k (1 - o_k) parts
        within += float(((p[mask] - fk) ** 2).sum()) + 2 * float(((p[mask] - fk) * (fk - o[mask])).sum())
    return BrierDecomposition(brier(p, o), rel / n, res / n, base * (1 - base), within / n)


@dataclass(frozen=True)
class ScoreRow:
    """A model against the market on the same resolved predictions."""

    key: tuple[str, ...]
    n: int
    brier_model: float
    brier_market: float
    log_loss_model: float
    log_loss_market: float
    brier_diff: float  # model - market (negative: the model is better)
    brier_diff_se: float  # standard error of the paired difference
    skill: float  # 1 - brier_model / brier_market
    decomposition: BrierDecomposition


def score(predictions: Iterable[Prediction], by: Callable[[Prediction], tuple[str, ...]] = lambda p: (p.model,),
          bins: int = 10) -> list[ScoreRow]:
    """Scores per group (default per model; e.g. `lambda p: (p.model, p.category)`), resolved and
    market-priced predictions only, sorted by key."""
    groups: dict[tuple[str, ...], list[Prediction]] = defaultdict(list)
    for pred in predictions:
        if pred.outcome is not None and pred.market_prob is not None:
            groups[by(pred)].append(pred)
    rows = []
    for key in sorted(groups):
        preds = groups[key]
        p = np.array([x.prob for x in preds], dtype=float)
        m = np.array([x.market_prob for x in preds], dtype=float)
        o = np.array([x.outcome for x in preds], dtype=float)
        diff = (p - o) ** 2 - (m - o) ** 2
        n = len(preds)
        se = float(diff.std(ddof=1) / math.sqrt(n)) if n > 1 else math.inf
        bm, bk = float(((p - o) ** 2).mean()), float(((m - o) ** 2).mean())
        rows.append(ScoreRow(key, n, bm, bk, log_loss(p, o), log_loss(m, o), float(diff.mean()), se,
                             1.0 - bm / bk if bk > 0 else 0.0, brier_decomposition(p, o, bins)))
    return rows


@dataclass(frozen=True)
class Shrink:
    factor: float  # multiply the Kelly fraction by this (0..1)
    reason: str


def sizing_shrink(recent: Sequence[Prediction], *, min_n: int = 20, prior_factor: float = 0.5,
                  max_excess: float = 0.02, reliability_limit: float = 0.02, bins: int = 10) -> Shrink:
    """How much to shrink sizing given a model's recent resolved predictions.

    - fewer than `min_n` scored: `prior_factor`, blended toward the measured factor as n grows;
    - the factor falls linearly from 1 to 0 as the model's Brier exceeds the market's by 0..`max_excess`
      on the same markets, and again as its reliability term exceeds `reliability_limit` (up to 2x it).
    """
    scored = [p for p in recent if p.outcome is not None and p.market_prob is not None]
    n = len(scored)
    if n == 0:
        return Shrink(prior_factor, "no scored predictions yet")
    p = np.array([x.prob for x in scored])
    m = np.array([x.market_prob for x in scored])
    o = np.array([x.outcome for x in scored], dtype=float)
    excess = float(((p - o) ** 2).mean() - ((m - o) ** 2).mean())
    rel = brier_decomposition(p, o, bins).reliability
    f_excess = 1.0 if excess <= 0 else max(0.0, 1.0 - excess / max_excess)
    f_rel = 1.0 if rel <= reliability_limit else max(0.0, 2.0 - rel / reliability_limit)
    measured = min(f_excess, f_rel)
    weight = min(1.0, n / min_n)
    factor = weight * measured + (1 - weight) * min(prior_factor, measured)
    reason = (f"Brier {excess:+.4f} vs the market over {n} predictions, reliability {rel:.4f}"
              + ("" if n >= min_n else f" (only {n} of {min_n} needed for full weight)"))
    return Shrink(float(factor), reason)


def _arrays(probs: Sequence[float], outcomes: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(probs, dtype=float)
    o = np.asarray(outcomes, dtype=float)
    if p.shape != o.shape or p.ndim != 1 or len(p) == 0:
        raise ValueError("need equally long, non-empty sequences of probabilities and outcomes")
    if ((p < 0) | (p > 1)).any() or not np.isin(o, (0.0, 1.0)).all():
        raise ValueError("probabilities must be in [0, 1] and outcomes 0 or 1")
    return p, o
