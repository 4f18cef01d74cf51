"""Hidden truth of the scalar markets: each city's daily high and the CPI print.

Weather: for every city and day inside the forecast horizon there is a `ScalarTruth` in degrees F.
Its mean starts at the climatological normal plus an anomaly (AR(1) across days), then moves as a
Brownian martingale whose variance is released at a constant rate until 16:00 local on the day,
when the high is in; the reported high is the final value rounded to a whole degree. The spread of
the remaining uncertainty therefore shrinks as the day approaches (sd = sqrt(rate x hours left)).

CPI: one `ScalarTruth` in tenths of a percent (month over month). A seeded prior mean, a gradual
nowcast drift until the release, then most of the uncertainty released in the minute after the
08:30 ET release (the market has closed by then).
"""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass

from console.sim.world.simtime import HOUR_MS, MINUTE_MS, WorldCalendar, local_date
from console.sim.world.truth import Latent, ScalarTruth, Segment
from console.sim.world.universe import CitySpec, weather_peak_ms


@dataclass(frozen=True)
class WeatherParams:
    horizon_days: int = 6  # days after today that have a truth (and a forecast)
    released_fraction: float = 0.8  # share of the anomaly variance released over the horizon
    persistence: float = 0.5  # AR(1) of the daily anomaly
    min_initial_fraction: float = 0.2  # floor on the anomaly variance already fixed at creation


class WeatherTruth:
    """The daily highs of every city (see the module docstring)."""

    def __init__(self, cities: tuple[CitySpec, ...], rng: random.Random, params: WeatherParams | None = None) -> None:
        self.cities = {c.code: c for c in cities}
        self.rng = rng
        self.params = params or WeatherParams()
        self.days: dict[tuple[str, dt.date], ScalarTruth] = {}
        self._last_anomaly: dict[str, float] = {}

    def var_per_hour(self, city: CitySpec) -> float:
        """Variance (degrees F squared) released per hour of lead time for this city."""
        p = self.params
        return p.released_fraction * city.anomaly_sd ** 2 / (p.horizon_days * 24)

    def ensure_days(self, t_ms: int) -> list[tuple[str, dt.date]]:
        """Create the truth of every (city, day) now inside the horizon, in a fixed order; returns the new keys."""
        new = []
        for code, city in self.cities.items():
            today = local_date(t_ms, city.tz)
            for offset in range(self.params.horizon_days + 1):
                day = today + dt.timedelta(days=offset)
                if (code, day) not in self.days:
                    self.days[(code, day)] = self._create(city, day, t_ms)
                    new.append((code, day))
        return new

    def _create(self, city: CitySpec, day: dt.date, t_ms: int) -> ScalarTruth:
        p = self.params
        peak = weather_peak_ms(city, day)
        hours = max(0.0, (peak - t_ms) / HOUR_MS)
        future_var = self.var_per_hour(city) * hours
        initial_var = max(city.anomaly_sd ** 2 - future_var, p.min_initial_fraction * city.anomaly_sd ** 2)
        prev = self._last_anomaly.get(city.code, 0.0)
        anomaly = p.persistence * prev + math.sqrt(1 - p.persistence ** 2) * self.rng.gauss(0.0, math.sqrt(initial_var))
        self._last_anomaly[city.code] = anomaly
        segments = [Segment(t_ms, peak, future_var)] if peak > t_ms else []
        return ScalarTruth(Latent(city.normal_high(day) + anomaly, t_ms, segments))

    def advance(self, t_ms: int) -> None:
        for truth in self.days.values():
            truth.latent.advance(self.rng, t_ms)

    def drop(self, code: str, day: dt.date) -> None:
        self.days.pop((code, day), None)


@dataclass(frozen=True)
class CpiParams:
    prior_mean_tenths: float = 2.5  # 0.25% month over month
    prior_sd_tenths: float = 0.8  # how the starting nowcast varies between worlds
    drift_sd_tenths: float = 0.6  # released gradually until the release
    release_sd_tenths: float = 1.0  # released in the minute after the release


def make_cpi_truth(cal: WorldCalendar, rng: random.Random, params: CpiParams | None = None) -> ScalarTruth:
    p = params or CpiParams()
    t0, release = cal.start_ms, cal.cpi_release_ms
    return ScalarTruth(Latent(rng.gauss(p.prior_mean_tenths, p.prior_sd_tenths), t0, [
        Segment(t0, release, p.drift_sd_tenths ** 2),
        Segment(release, release + MINUTE_MS, p.release_sd_tenths ** 2),
    ]))
