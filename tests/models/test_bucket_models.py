"""Scalar events: Kalshi strike semantics, bucket probabilities that sum to one, weather and CPI models."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from console.models.buckets import Bucket, BucketError, bucket_probabilities, bucket_steps
from console.models.cpi import CpiParams, cpi_bucket_probabilities, cpi_forecast
from console.models.normal import norm_cdf
from console.models.weather import (
    HighForecast,
    WeatherParams,
    fit_weather_params,
    forecast_sd,
    high_forecast,
    weather_bucket_probabilities,
)


def weather_event(center: int) -> list[Bucket]:
    """The built-in world's daily-high event: a less tail, four 2-degree ranges, a greater tail."""
    out = [Bucket(f"T{center - 4}", "less", None, center - 4)]
    out += [Bucket(f"B{lo + 0.5}", "between", lo, lo + 1) for lo in (center - 4, center - 2, center, center + 2)]
    out.append(Bucket(f"T{center + 3}", "greater", center + 3, None))
    return out


def cpi_event() -> list[Bucket]:
    out = [Bucket("T0.0", "less", None, 0.0)]
    out += [Bucket(f"B{v / 10:.1f}", "between", v / 10, v / 10) for v in range(5)]
    out.append(Bucket("T0.4", "greater", 0.4, None))
    return out


def test_strike_semantics_on_whole_degrees() -> None:
    b = weather_event(60)
    assert [bucket_steps(x, 1.0) for x in b] == [(None, 55), (56, 57), (58, 59), (60, 61), (62, 63), (64, None)]
    assert bucket_steps(Bucket("x", "less_or_equal", None, 55), 1.0) == (None, 55)
    assert bucket_steps(Bucket("x", "greater_or_equal", 64, None), 1.0) == (64, None)
    # a strike between reported values: "greater than 80.5" pays from 81
    assert bucket_steps(Bucket("x", "greater", 80.5, None), 1.0) == (81, None)


def test_strike_semantics_on_tenths_of_a_percent() -> None:
    # 0.3 / 0.1 is 2.9999999999999996 in floats: the bucket must still be exactly 0.3%
    assert [bucket_steps(x, 0.1) for x in cpi_event()] == [(None, -1), (0, 0), (1, 1), (2, 2), (3, 3), (4, 4),
                                                           (5, None)]


def test_a_rounded_report_decides_the_bucket() -> None:
    # the high is reported rounded: with the forecast at 61.0 +- 1, 60.5..61.5 rounds to 61 (bucket 60-61)
    f = HighForecast(61.0, 1.0)
    p = weather_bucket_probabilities(f, weather_event(60))
    expected = norm_cdf(0.5) - norm_cdf(-1.5)  # X in [59.5, 61.5) rounds to 60 or 61
    assert p["B60.5"] == pytest.approx(expected, abs=1e-12)
    assert p["T56"] == pytest.approx(norm_cdf((55.5 - 61.0) / 1.0), abs=1e-15)


@settings(max_examples=200, deadline=None)
@given(center=st.integers(-20, 110), mean=st.floats(-40, 130), sd=st.floats(0.01, 15))
def test_weather_bucket_probabilities_sum_to_one(center: int, mean: float, sd: float) -> None:
    p = weather_bucket_probabilities(HighForecast(mean, sd), weather_event(center))
    assert all(v >= 0 for v in p.values())
    assert math.fsum(p.values()) == pytest.approx(1.0, abs=1e-12)


@settings(max_examples=100, deadline=None)
@given(consensus=st.floats(-0.5, 1.0), misses=st.lists(st.floats(-0.4, 0.4), min_size=0, max_size=30),
       days=st.floats(0, 30))
def test_cpi_bucket_probabilities_sum_to_one(consensus: float, misses: list[float], days: float) -> None:
    forecast = cpi_forecast(consensus, CpiParams(misses_pct=tuple(misses)), days)
    p = cpi_bucket_probabilities(forecast, cpi_event())
    assert all(v >= 0 for v in p.values())
    assert math.fsum(p.values()) == pytest.approx(1.0, abs=1e-12)


def test_buckets_that_do_not_tile_are_refused_with_where() -> None:
    event = weather_event(60)
    f = HighForecast(60, 2)
    with pytest.raises(BucketError, match="gap between B58.5 and B62.5: nothing pays on 60..61"):
        bucket_probabilities(event[:3] + event[4:], f.cdf, 1.0)
    with pytest.raises(BucketError, match="overlap"):
        bucket_probabilities(event + [Bucket("X", "between", 61, 62)], f.cdf, 1.0)
    with pytest.raises(BucketError, match="nothing pays above"):
        bucket_probabilities(event[:-1], f.cdf, 1.0)
    with pytest.raises(BucketError, match="needs cap_strike"):
        bucket_steps(Bucket("Y", "less", 3, None), 1.0)
    # priced one by one, a partial set is fine
    assert set(bucket_probabilities(event[:2], f.cdf, 1.0, require_tiling=False)) == {"T56", "B56.5"}


def test_weather_spread_grows_with_lead_time() -> None:
    sds = [forecast_sd(h) for h in (0, 6, 24, 48, 96)]
    assert sds == sorted(sds) and sds[0] == pytest.approx(1.0) and sds[-1] > 3
    near, far = high_forecast(70, 6), high_forecast(70, 72)
    p_near = weather_bucket_probabilities(near, weather_event(70))
    p_far = weather_bucket_probabilities(far, weather_event(70))
    # the central bucket is likelier the closer the high is
    assert p_near["B70.5"] > p_far["B70.5"]


def test_published_spread_replaces_the_lead_rule_and_zero_means_observed() -> None:
    f = high_forecast(70, 30, WeatherParams(spread_scale=1.1), published_spread_f=2.0)
    assert f.sd_f == pytest.approx(math.sqrt(2.2 ** 2 + 1 / 12))
    observed = weather_bucket_probabilities(high_forecast(71, 0, published_spread_f=0.0), weather_event(70))
    assert observed["B70.5"] > 0.999


def test_fit_weather_params_recovers_bias_and_growth() -> None:
    import numpy as np

    rng = np.random.default_rng(5)
    lead = rng.uniform(0, 72, 4000)
    err = 0.7 + rng.normal(0, np.sqrt(1.2 ** 2 + 0.1 * lead))
    fitted = fit_weather_params(lead, err)
    assert fitted.bias_f == pytest.approx(0.7, abs=0.1)
    assert fitted.var_per_hour == pytest.approx(0.1, abs=0.02)
    assert fitted.base_sd_f == pytest.approx(1.2, abs=0.25)
    assert high_forecast(70.0, 10, fitted).mean_f == pytest.approx(70.0 - fitted.bias_f)


def test_cpi_miss_history_shapes_the_distribution() -> None:
    # misses that are always +0.1 pp move the print up a tenth
    f = cpi_forecast(0.2, CpiParams(misses_pct=(0.1, 0.1, 0.1, 0.1), bandwidth_pct=0.02))
    p = cpi_bucket_probabilities(f, cpi_event())
    assert max(p, key=p.get) == "B0.3" and p["B0.3"] > 0.95
    wide = cpi_bucket_probabilities(cpi_forecast(0.2, CpiParams(), days_to_release=20), cpi_event())
    narrow = cpi_bucket_probabilities(cpi_forecast(0.2, CpiParams()), cpi_event())
    assert wide["B0.2"] < narrow["B0.2"]
