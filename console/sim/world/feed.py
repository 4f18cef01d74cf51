"""The data feed: polls, approval, generic ballot, NWS-style forecasts and a CPI consensus, made from the truth.

Everything here is what a trader could read; none of it is the truth itself.

Polls (race, generic ballot): the two-party Democratic share a poll reports is
    q_true + (b_national + b_state + house_effect + population_effect) / 200 + sampling noise,
where q_true = 0.5 + margin/200 at the field-period midpoint, b_national ~ N(0, 2.0) and b_state ~ N(0, 1.5)
are the world's shared polling errors (points of margin, drawn once, never published), house effects
~ N(0, 1.5) per pollster, population effects lv 0 / rv +0.5 / a +1.0, and the sampling noise has
sd sqrt(q(1-q)/n). Shares are printed as whole percents with an undecided remainder.
Approval polls measure 0.45 - 0.004 x S + an approval random walk, with house effects only.

Weather: four forecast issuances a day per city (04, 10, 16, 22 local). The forecast high is the
truth's current mean plus an NWS error (sd 0.6 + 0.012 x lead hours, AR(1) 0.7 between issuances),
rounded; the published spread is sqrt(remaining truth variance + NWS error variance).

CPI: a consensus at 09:00 ET every day until the release: the nowcast mean plus a consensus error
(AR(1) 0.8, sd 0.4 tenths), and twelve forecasters who each add their own sd-0.5-tenth noise.

All draws use the feed's own seeded generator and happen inside world steps (never in a request).
"""

from __future__ import annotations

import datetime as dt
import math
import random
from bisect import insort
from dataclasses import dataclass, field
from typing import Any

from console.sim.world.scalars import WeatherTruth
from console.sim.world.simtime import (
    DAY_MS,
    ET,
    HOUR_MS,
    WorldCalendar,
    local_date,
    local_ms,
)
from console.sim.world.truth import ElectionTruth, ScalarTruth
from console.sim.world.universe import CitySpec, weather_peak_ms

POLLSTERS: tuple[tuple[str, str, int, int], ...] = (  # name, population, min n, max n
    ("Keystone Research", "lv", 600, 1000),
    ("Meridian Polling", "lv", 500, 900),
    ("Harbor Insights", "rv", 800, 1400),
    ("Quill & Ledger", "lv", 400, 800),
    ("Civic Pulse", "rv", 1000, 2000),
    ("Northstar Analytics", "lv", 700, 1200),
    ("Redwood Strategies", "lv", 500, 900),
    ("Bluewater Survey", "a", 1000, 1600),
)
POPULATION_EFFECT = {"lv": 0.0, "rv": 0.5, "a": 1.0}  # points of D-R margin
FORECASTERS = ("Atlas Economics", "Bellwether Capital", "Cobalt Macro", "Dunmore Bank", "Eastgate Research",
               "Fairhaven Partners", "Granite Securities", "Halyard Advisors", "Ironwood Bank",
               "Juniper Analytics", "Kestrel Markets", "Lakeshore Financial")
NWS_HOURS = (4, 10, 16, 22)


@dataclass(frozen=True)
class DataParams:
    national_poll_error_sd: float = 2.0
    state_poll_error_sd: float = 1.5
    house_effect_sd: float = 1.5
    senate_polls_per_day: tuple[float, float] = (0.5, 2.0)  # 30 days out, on the eve
    governor_polls_per_day: tuple[float, float] = (0.3, 1.2)
    generic_polls_per_day: float = 2.0
    approval_polls_per_day: float = 3.0
    approval_base: float = 0.45
    approval_per_swing: float = 0.004
    approval_vol: float = 0.003  # share per sqrt(day)
    backfill_days: int = 28
    nws_error_base: float = 0.6
    nws_error_per_hour: float = 0.012
    nws_error_corr: float = 0.7
    cpi_consensus_sd: float = 0.4  # tenths
    cpi_consensus_corr: float = 0.8
    cpi_forecaster_sd: float = 0.5


@dataclass
class Poll:
    poll_id: str
    kind: str  # senate | governor | generic_ballot | approval
    race: str | None
    state: str | None
    pollster: str
    population: str
    sample_size: int
    field_start: dt.date
    field_end: dt.date
    published_ms: int
    shares: dict[str, int]  # D / R / undecided, or approve / disapprove / unsure (whole percents)
    # hidden: never served, kept so tests can check the polls against the truth
    true_share: float = field(repr=False, default=0.0)
    stated_bias: float = field(repr=False, default=0.0)  # share units


@dataclass(frozen=True)
class Release:
    """Something the crowd reads: a poll, a forecast issuance, a consensus update."""

    kind: str  # poll | forecast | cpi
    key: str  # race key, "generic", "approval", city code or "cpi"
    t_ms: int
    value: float = 0.0  # poll: D-R margin in points (two-party); cpi: consensus mean in tenths


@dataclass
class Forecast:
    issued_ms: int
    periods: list[dict[str, Any]]


class DataFeed:
    """Generates and keeps the published data (see the module docstring)."""

    def __init__(self, cal: WorldCalendar, election: ElectionTruth, weather: WeatherTruth, cpi: ScalarTruth,
                 rng: random.Random, params: DataParams | None = None) -> None:
        self.cal, self.election, self.weather, self.cpi, self.rng = cal, election, weather, cpi, rng
        self.p = p = params or DataParams()
        self.b_national = rng.gauss(0.0, p.national_poll_error_sd)
        self.b_state = {key: rng.gauss(0.0, p.state_poll_error_sd) for key in election.race_specs}
        self.house_effects = {name: rng.gauss(0.0, p.house_effect_sd) for name, *_ in POLLSTERS}
        self.approval_house = {name: rng.gauss(0.0, p.house_effect_sd) for name, *_ in POLLSTERS}
        self.approval_walk = 0.0
        self.published: list[Poll] = []
        self._pending: list[tuple[int, int, Poll]] = []
        self._count = 0
        self.forecasts: dict[str, Forecast] = {}
        self._nws_error: dict[tuple[str, dt.date], float] = {}
        self.cpi_error = rng.gauss(0.0, p.cpi_consensus_sd)
        self.cpi_snapshots: list[dict[str, Any]] = []
        self._first_close = cal.election_ms(election.params.first_close_h)
        self._backfill()

    # --- polls --------------------------------------------------------------------------------

    def poll_bias(self, poll: Poll) -> float:
        """The stated systematic error of a poll in points of margin (shared + house + population)."""
        return poll.stated_bias * 200

    def _rate(self, kind: str, t_ms: int) -> float:
        p = self.p
        if kind == "generic_ballot":
            return p.generic_polls_per_day
        if kind == "approval":
            return p.approval_polls_per_day
        lo, hi = p.senate_polls_per_day if kind == "senate" else p.governor_polls_per_day
        progress = min(1.0, max(0.0, 1.0 - (self._first_close - t_ms) / (30 * DAY_MS)))
        return lo + (hi - lo) * progress

    def _subjects(self) -> list[tuple[str, str | None]]:
        out: list[tuple[str, str | None]] = [(spec.chamber, key) for key, spec in self.election.race_specs.items()]
        return out + [("generic_ballot", None), ("approval", None)]

    def _backfill(self) -> None:
        """Polls fielded in the weeks before the start, from the truth's pre-start path."""
        t0 = self.cal.start_ms
        for days_back in range(self.p.backfill_days, 0, -1):
            day_start = t0 - days_back * DAY_MS
            for kind, race in self._subjects():
                n = _poisson(self.rng, self._rate(kind, day_start))
                for _ in range(n):
                    mid = day_start + int(self.rng.random() * DAY_MS)
                    self._field(kind, race, mid, past=True)
        self.tick(t0, 0)

    def tick(self, t_ms: int, dt_ms: int) -> list[Release]:
        """Field new polls (Poisson in time), drift approval, publish what is due; returns the releases."""
        if dt_ms > 0 and t_ms < self._first_close:
            days = dt_ms / DAY_MS
            self.approval_walk += self.rng.gauss(0.0, self.p.approval_vol * math.sqrt(days))
            for kind, race in self._subjects():
                if self.rng.random() < self._rate(kind, t_ms) * days:
                    self._field(kind, race, t_ms, past=False)
        releases = []
        while self._pending and self._pending[0][0] <= t_ms:
            _, _, poll = self._pending.pop(0)
            self.published.append(poll)
            if poll.kind == "approval":
                releases.append(Release("poll", "approval", t_ms, poll.shares["approve"] - poll.shares["disapprove"]))
            else:
                d, r = poll.shares["D"], poll.shares["R"]
                releases.append(Release("poll", poll.race or "generic", t_ms, 100.0 * (d - r) / max(1, d + r)))
        return releases

    def _truth_margin(self, kind: str, race: str | None, mid_ms: int, past: bool) -> float:
        e = self.election
        national = e.past_value("national", mid_ms) if past else e.national.value
        if kind == "generic_ballot":
            return national
        assert race is not None
        noise = e.past_value(race, mid_ms) if past else e.races[race].value
        return e.race_specs[race].base_margin + national + noise

    def _field(self, kind: str, race: str | None, mid_ms: int, past: bool) -> None:
        rng, p = self.rng, self.p
        name, population, n_lo, n_hi = POLLSTERS[rng.randrange(len(POLLSTERS))]
        if kind in ("senate", "governor") and population == "a":
            population = "rv"  # nobody polls adults for a state race
        n = rng.randrange(n_lo, n_hi + 1)
        start = local_date(mid_ms, ET) - dt.timedelta(days=rng.randrange(1, 3))
        end = local_date(mid_ms, ET) + dt.timedelta(days=rng.randrange(1, 3))
        published = local_ms(end + dt.timedelta(days=rng.randrange(1, 3)), 6.0 + 14.0 * rng.random(), ET)
        if kind == "approval":
            national = self.election.past_value("national", mid_ms) if past else self.election.national.value
            q = p.approval_base - p.approval_per_swing * national + self.approval_walk
            bias = self.approval_house[name] / 100
            labels = ("approve", "disapprove", "unsure")
        else:
            q = 0.5 + self._truth_margin(kind, race, mid_ms, past) / 200
            bias_pts = self.b_national + self.house_effects[name] + POPULATION_EFFECT[population]
            if race is not None:
                bias_pts += self.b_state[race]
            bias = bias_pts / 200
            labels = ("D", "R", "undecided")
        mean = min(0.99, max(0.01, q + bias))
        q_hat = mean + rng.gauss(0.0, math.sqrt(mean * (1 - mean) / n))
        undecided = 0.02 + 0.07 * rng.random()
        first = round(100 * (1 - undecided) * q_hat)
        second = round(100 * (1 - undecided) * (1 - q_hat))
        self._count += 1
        spec = self.election.race_specs.get(race) if race else None
        poll = Poll(f"P{self._count:05d}", kind, race, spec.state if spec else None, name, population, n, start,
                    end, published, {labels[0]: first, labels[1]: second, labels[2]: 100 - first - second},
                    true_share=q, stated_bias=bias)
        insort(self._pending, (published, self._count, poll))  # (time, serial) never ties

    # --- weather ------------------------------------------------------------------------------

    def nws_sd(self, lead_hours: float) -> float:
        return self.p.nws_error_base + self.p.nws_error_per_hour * max(0.0, lead_hours)

    def issue_forecast(self, city: CitySpec, t_ms: int) -> Release:
        """A new gridpoint forecast for `city`: 12-hour periods from now over the horizon."""
        periods: list[dict[str, Any]] = []
        today = local_date(t_ms, city.tz)
        for offset in range(self.weather.params.horizon_days + 1):
            day = today + dt.timedelta(days=offset)
            truth = self.weather.days.get((city.code, day))
            if truth is None:
                continue
            peak = weather_peak_ms(city, day)
            lead_h = max(0.0, (peak - t_ms) / HOUR_MS)
            sd = self.nws_sd(lead_h)
            prev = self._nws_error.get((city.code, day))
            corr = self.p.nws_error_corr
            err = sd * self.rng.gauss(0.0, 1.0) if prev is None else \
                corr * prev + math.sqrt(1 - corr ** 2) * sd * self.rng.gauss(0.0, 1.0)
            self._nws_error[(city.code, day)] = err
            high = round(truth.latent.value + err) if lead_h > 0 else truth.reported()
            spread = math.sqrt(truth.latent.remaining(t_ms) + sd ** 2) if lead_h > 0 else 0.0
            low = round(high - city.diurnal_range + self.rng.gauss(0.0, 1.5))
            day_start, day_end = local_ms(day, 6.0, city.tz), local_ms(day, 18.0, city.tz)
            if t_ms < day_end:
                periods.append({"day": day, "start_ms": max(day_start, t_ms), "end_ms": day_end, "is_day": True,
                                "temperature": high, "spread": round(spread, 1), "lead_hours": round(lead_h, 1)})
            periods.append({"day": day, "start_ms": max(day_end, t_ms), "end_ms": local_ms(day, 30.0, city.tz),
                            "is_day": False, "temperature": low, "spread": None, "lead_hours": None})
        self.forecasts[city.code] = Forecast(t_ms, periods)
        return Release("forecast", city.code, t_ms)

    def forget_day(self, code: str, day: dt.date) -> None:
        """A day was reported: its forecast error is no longer needed."""
        self._nws_error.pop((code, day), None)

    def forecast_high(self, code: str, day: dt.date) -> tuple[int, float] | None:
        """The latest published (high, spread) for a city's day, if the forecast still covers it."""
        forecast = self.forecasts.get(code)
        if forecast is None:
            return None
        for period in forecast.periods:
            if period["is_day"] and period["day"] == day:
                return period["temperature"], period["spread"]
        return None

    # --- CPI ----------------------------------------------------------------------------------

    def update_cpi(self, t_ms: int) -> Release:
        """A consensus snapshot (before the release) or the actual print (after)."""
        p = self.p
        if t_ms >= self.cpi.latent.done_ms():
            snap = {"as_of_ms": t_ms, "actual": self.cpi.reported() / 10}
            self.cpi_snapshots.append(snap)
            return Release("cpi", "cpi", t_ms, float(self.cpi.reported()))
        corr = p.cpi_consensus_corr
        self.cpi_error = corr * self.cpi_error + math.sqrt(1 - corr ** 2) * self.rng.gauss(0.0, p.cpi_consensus_sd)
        center = self.cpi.latent.value + self.cpi_error
        forecasts = [{"source": name, "value": round((center + self.rng.gauss(0.0, p.cpi_forecaster_sd)) / 10, 1)}
                     for name in FORECASTERS]
        values = sorted(f["value"] for f in forecasts)
        mid = len(values) // 2
        median = round((values[mid - 1] + values[mid]) / 2, 2)
        mean = round(sum(values) / len(values), 3)
        self.cpi_snapshots.append({"as_of_ms": t_ms, "median": median, "mean": mean, "low": values[0],
                                   "high": values[-1], "forecasts": forecasts})
        return Release("cpi", "cpi", t_ms, mean * 10)


def _poisson(rng: random.Random, lam: float) -> int:
    """A Poisson draw (Knuth; fine for the small rates used here)."""
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, prod = math.exp(-lam), 0, rng.random()
    while prod > limit:
        k += 1
        prod *= rng.random()
    return k


poisson = _poisson
