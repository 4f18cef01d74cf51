"""Daily-high temperature: a point forecast with a lead-time-dependent spread, turned into bucket probabilities.

The forecast error of a daily high grows with lead time roughly like a diffusion, so the model's
variance is `base_sd^2 + var_per_hour x lead_hours` (degrees F). A source that publishes its own
spread (the built-in world's forecast carries one) can be used instead, scaled by `spread_scale`.
A point forecast printed in whole degrees adds the rounding variance 1/12. The station reports the
high in whole degrees, so bucket probabilities come from `console.models.buckets` with resolution 1.

`fit_weather_params` estimates bias, base sd and growth from a history of (lead, forecast - observed)
pairs, so the spread follows what the forecasts actually missed by.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from console.models.buckets import Bucket, bucket_probabilities
from console.models.normal import norm_cdf

_ROUNDING_VAR = 1.0 / 12.0  # a value rounded to a whole degree is off by U(-1/2, 1/2)


@dataclass(frozen=True)
class WeatherParams:
    base_sd_f: float = 1.0  # error of a forecast made as the high happens (station vs grid, timing)
    var_per_hour: float = 0.15  # F^2 of error added per hour of lead time
    bias_f: float = 0.0  # forecast minus observed, on average; subtracted from the forecast
    spread_scale: float = 1.0  # multiplies a forecast's own published spread
    min_sd_f: float = 0.05  # floor once the high is (nearly) known


@dataclass(frozen=True)
class HighForecast:
    """Distribution of the unrounded daily high: Normal(mean_f, sd_f^2)."""

    mean_f: float
    sd_f: float

    def cdf(self, x: float) -> float:
        if self.sd_f <= 0:
            return 1.0 if x >= self.mean_f else 0.0
        return norm_cdf((x - self.mean_f) / self.sd_f)


def forecast_sd(lead_hours: float, params: WeatherParams = WeatherParams()) -> float:
    """Spread of the forecast error at `lead_hours` before the high (degrees F)."""
    return math.sqrt(params.base_sd_f ** 2 + params.var_per_hour * max(0.0, lead_hours))


def high_forecast(point_f: float, lead_hours: float, params: WeatherParams = WeatherParams(), *,
                  published_spread_f: float | None = None, point_is_rounded: bool = True) -> HighForecast:
    """The model's distribution of the high from a point forecast issued `lead_hours` before it.

    With `published_spread_f` the source's own spread (x `spread_scale`) replaces the lead-time
    rule; a spread of 0 means the high is already observed (no rounding variance is added then).
    """
    if published_spread_f is not None:
        sd = published_spread_f * params.spread_scale
    else:
        sd = forecast_sd(lead_hours, params)
    if sd > 0 and point_is_rounded:
        sd = math.sqrt(sd * sd + _ROUNDING_VAR)
    return HighForecast(point_f - params.bias_f, max(sd, params.min_sd_f))


def weather_bucket_probabilities(forecast: HighForecast, buckets: Sequence[Bucket]) -> dict[str, float]:
    """P(each bucket of a daily-high event); the buckets must tile the line, so they sum to one."""
    return bucket_probabilities(buckets, forecast.cdf, 1.0)


def fit_weather_params(lead_hours: Sequence[float], errors_f: Sequence[float],
                       base: WeatherParams = WeatherParams()) -> WeatherParams:
    """Bias and spread from past forecasts: errors are forecast minus observed high (degrees F).

    The bias is the mean error; the squared de-biased errors are regressed on (1, lead) by least
    squares, with the intercept kept >= min_sd^2 and the slope >= 0. Needs at least 3 pairs.
    """
    lead = np.asarray(lead_hours, dtype=float)
    err = np.asarray(errors_f, dtype=float)
    if lead.shape != err.shape or len(err) < 3:
        raise ValueError("fit_weather_params needs at least 3 (lead, error) pairs of equal length")
    bias = float(err.mean())
    sq = (err - bias) ** 2
    design = np.column_stack([np.ones_like(lead), np.maximum(lead, 0.0)])
    (a, b), *_ = np.linalg.lstsq(design, sq, rcond=None)
    if b < 0:
        a, b = float(sq.mean()), 0.0
    a = max(float(a), base.min_sd_f ** 2)
    return WeatherParams(base_sd_f=math.sqrt(a), var_per_hour=float(b), bias_f=bias,
                         spread_scale=base.spread_scale, min_sd_f=base.min_sd_f)
