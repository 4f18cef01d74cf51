"""CPI: the forecasters' consensus plus the history of how far the print missed it, as bucket probabilities.

The print is reported to a tenth of a percent. The model of the unrounded change is

    X = consensus + miss,   miss ~ a smoothed empirical distribution of past misses (actual - consensus),

i.e. a mixture of normals centred on consensus + each past miss with a common kernel width
(Silverman's rule unless given). A consensus taken days before the release adds a drift variance per
day (the consensus still moves as data come in). Without a history the miss is Normal(0, 0.12 pp),
about the size of the historical month-over-month headline surprise.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from console.models.buckets import Bucket, bucket_probabilities
from console.models.normal import norm_cdf

CPI_RESOLUTION_PCT = 0.1


@dataclass(frozen=True)
class CpiParams:
    misses_pct: tuple[float, ...] = ()  # past actual - consensus, percentage points
    default_miss_sd_pct: float = 0.12
    bandwidth_pct: float | None = None  # kernel width; Silverman's rule when None
    drift_var_per_day: float = 0.0009  # pp^2 the consensus still moves per day before the release


@dataclass(frozen=True)
class CpiForecast:
    """Mixture of Normal(center, sd^2) with equal weights: the unrounded month-over-month change (pp)."""

    centers: tuple[float, ...]
    sd: float

    def cdf(self, x: float) -> float:
        return sum(norm_cdf((x - c) / self.sd) for c in self.centers) / len(self.centers)

    @property
    def mean(self) -> float:
        return sum(self.centers) / len(self.centers)


def cpi_forecast(consensus_pct: float, params: CpiParams = CpiParams(), days_to_release: float = 0.0) -> CpiForecast:
    """The distribution of the print given today's consensus (see the module docstring)."""
    drift_var = params.drift_var_per_day * max(0.0, days_to_release)
    misses = params.misses_pct
    if len(misses) < 2:
        return CpiForecast((consensus_pct + (misses[0] if misses else 0.0),),
                           math.sqrt(params.default_miss_sd_pct ** 2 + drift_var))
    mean = sum(misses) / len(misses)
    sd = math.sqrt(sum((m - mean) ** 2 for m in misses) / (len(misses) - 1))
    width = params.bandwidth_pct
    if width is None:
        width = 1.06 * max(sd, 1e-3) * len(misses) ** -0.2
    return CpiForecast(tuple(consensus_pct + m for m in misses), math.sqrt(width ** 2 + drift_var))


def cpi_bucket_probabilities(forecast: CpiForecast, buckets: Sequence[Bucket]) -> dict[str, float]:
    """P(each bucket of a CPI event); the buckets must tile the line, so they sum to one."""
    return bucket_probabilities(buckets, forecast.cdf, CPI_RESOLUTION_PCT)
