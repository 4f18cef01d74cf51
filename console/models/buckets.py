"""Range buckets of a scalar event (a day's high, a CPI print) and their probabilities.

Kalshi describes each market of such an event by `strike_type` with `floor_strike` / `cap_strike`,
and the event settles on a reported value rounded to a fixed resolution (whole degrees F, tenths of
a percent). The strike semantics, on the reported value R:

    between            floor <= R <= cap   (both inclusive)
    less               R <  cap            greater             R >  floor
    less_or_equal      R <= cap            greater_or_equal    R >= floor

Each bucket becomes an inclusive range of integer "steps" (R / resolution). A continuous forecast
distribution F of the underlying quantity X, reported as R = round-half-up(X / res) * res, gives

    P(lo <= R/res <= hi) = F((hi + 1/2) res) - F((lo - 1/2) res).

When the buckets tile the whole line (the usual Kalshi event: a `less` tail, `between` ranges, a
`greater` tail, no gaps, no overlaps) the probabilities are differences of one increasing list of CDF
values, so they are all >= 0 and sum to one up to float rounding; `bucket_probabilities` checks the
tiling and says exactly where a gap or an overlap is.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum


class StrikeType(StrEnum):
    BETWEEN = "between"
    LESS = "less"
    LESS_OR_EQUAL = "less_or_equal"
    GREATER = "greater"
    GREATER_OR_EQUAL = "greater_or_equal"


class BucketError(ValueError):
    """Buckets that do not describe a range of the reported value, or do not tile the line."""


@dataclass(frozen=True)
class Bucket:
    """One market of a scalar event, as Kalshi lists it (strikes in the reported unit)."""

    ticker: str
    strike_type: str
    floor_strike: float | None = None
    cap_strike: float | None = None


def _steps(value: float, resolution: float) -> float:
    """value / resolution, snapped to the integer when it is one up to float noise (0.3 / 0.1)."""
    v = value / resolution
    r = round(v)
    return float(r) if abs(v - r) < 1e-9 else v


def bucket_steps(bucket: Bucket, resolution: float) -> tuple[int | None, int | None]:
    """The inclusive range (lo, hi) of R / resolution the bucket pays on; None is unbounded."""
    kind, floor, cap = bucket.strike_type, bucket.floor_strike, bucket.cap_strike

    def need(value: float | None, name: str) -> float:
        if value is None:
            raise BucketError(f"{bucket.ticker}: strike_type {kind!r} needs {name}")
        return _steps(value, resolution)

    if kind == StrikeType.BETWEEN:
        lo, hi = math.ceil(need(floor, "floor_strike")), math.floor(need(cap, "cap_strike"))
        if lo > hi:
            raise BucketError(f"{bucket.ticker}: between {floor} and {cap} holds no reported value")
        return lo, hi
    if kind == StrikeType.LESS:
        return None, math.ceil(need(cap, "cap_strike")) - 1
    if kind == StrikeType.LESS_OR_EQUAL:
        return None, math.floor(need(cap, "cap_strike"))
    if kind == StrikeType.GREATER:
        return math.floor(need(floor, "floor_strike")) + 1, None
    if kind == StrikeType.GREATER_OR_EQUAL:
        return math.ceil(need(floor, "floor_strike")), None
    raise BucketError(f"{bucket.ticker}: strike_type {kind!r} is not a range "
                      f"(expected one of {', '.join(t.value for t in StrikeType)})")


def bucket_probabilities(buckets: Sequence[Bucket], cdf: Callable[[float], float], resolution: float,
                         *, require_tiling: bool = True) -> dict[str, float]:
    """P(each bucket) under a continuous forecast CDF of the unrounded quantity (module docstring).

    With `require_tiling` (the default) the buckets must cover every reported value exactly once;
    the result then sums to one. Without it, each bucket is priced on its own.
    """
    if resolution <= 0:
        raise BucketError("resolution must be > 0")
    ranges = [(bucket_steps(b, resolution), b.ticker) for b in buckets]
    if require_tiling:
        _check_tiling(ranges, resolution)

    def cut(step: int | None, upper: bool) -> float:
        if step is None:
            return 1.0 if upper else 0.0
        return min(1.0, max(0.0, cdf((step + (0.5 if upper else -0.5)) * resolution)))

    if not require_tiling:
        return {t: max(0.0, cut(hi, True) - cut(lo, False)) for (lo, hi), t in ranges}
    ordered = sorted(ranges, key=lambda r: -math.inf if r[0][0] is None else r[0][0])
    out: dict[str, float] = {}
    below = 0.0
    for (_, hi), ticker in ordered:
        upper = max(below, cut(hi, True))  # CDF values are non-decreasing, so differences stay >= 0
        out[ticker] = upper - below
        below = upper
    return {b.ticker: out[b.ticker] for b in buckets}


def _check_tiling(ranges: list[tuple[tuple[int | None, int | None], str]], resolution: float) -> None:
    if not ranges:
        raise BucketError("no buckets")
    ordered = sorted(ranges, key=lambda r: -math.inf if r[0][0] is None else r[0][0])
    (first_lo, _), first = ordered[0]
    if first_lo is not None:
        raise BucketError(f"nothing pays below {first_lo * resolution:g} ({first} is the lowest bucket): "
                          "the buckets do not cover the whole line")
    for ((_, prev_hi), prev), ((lo, _), cur) in zip(ordered, ordered[1:], strict=False):
        if prev_hi is None:
            raise BucketError(f"{prev} is open-ended above but {cur} starts above it: overlap")
        if lo is None or lo <= prev_hi:
            raise BucketError(f"{prev} and {cur} overlap at {max(prev_hi, lo or prev_hi) * resolution:g}")
        if lo > prev_hi + 1:
            raise BucketError(f"gap between {prev} and {cur}: nothing pays on "
                              f"{(prev_hi + 1) * resolution:g}..{(lo - 1) * resolution:g}")
    (_, last_hi), last = ordered[-1]
    if last_hi is not None:
        raise BucketError(f"nothing pays above {last_hi * resolution:g} ({last} is the highest bucket): "
                          "the buckets do not cover the whole line")
