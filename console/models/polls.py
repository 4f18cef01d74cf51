"""Polls, and race win probabilities with a polling error shared across races.

Polls become `Observation`s (a two-party margin in points and its sampling variance
200^2 q(1-q) / n_decided, or a two-way approval share), and `console.models.poll_average` turns them
into house-adjusted averages with a Kalman filter (sample size, recency and pollster quality set
each poll's weight; see that module).

Win probability (`race_forecast`). The final margin is the polling average plus
- a shared national part: the polling error common to every race (`shared_error_sd`), the national
  drift until election day (`national_drift_sd` per sqrt(day)) and the part of the average's own
  error common to all races;
- a race part: the rest of the average's error, the race's polling error and the race's drift.
P(D wins) = Phi(margin / sqrt(shared^2 + race^2)). The split is kept (`RaceForecast.shared_sd`,
`.race_sd`) so `console.models.montecarlo` can correlate the races.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from console.models.montecarlo import RaceMargin
from console.models.normal import norm_cdf
from console.models.poll_average import (
    APPROVAL,
    GENERIC,
    AggregateParams,
    Observation,
    PollAggregate,
    RaceAverage,
    aggregate_polls,
)

__all__ = [
    "APPROVAL", "GENERIC", "AggregateParams", "ApprovalPoll", "ElectionErrorParams", "Observation", "Poll",
    "PollAggregate", "RaceAverage", "RaceForecast", "aggregate_polls", "forecast_races", "observations",
    "race_forecast",
]


@dataclass(frozen=True)
class Poll:
    """One published poll of a two-party contest (a race, or the generic ballot with race "generic")."""

    race: str
    pollster: str
    population: str  # lv | rv | a
    sample_size: int
    start_date: dt.date
    end_date: dt.date
    dem_pct: float
    rep_pct: float
    poll_id: str = ""
    kind: str = ""  # senate | governor | generic_ballot (informational)

    def __post_init__(self) -> None:
        if self.sample_size <= 0 or self.dem_pct < 0 or self.rep_pct < 0 or self.dem_pct + self.rep_pct <= 0:
            raise ValueError(f"poll {self.poll_id or self.pollster}: needs sample_size > 0 and D + R > 0")
        if self.end_date < self.start_date:
            raise ValueError(f"poll {self.poll_id or self.pollster}: ends before it starts")

    @property
    def margin(self) -> float:
        """Two-party D-R margin in points."""
        return 100.0 * (self.dem_pct - self.rep_pct) / (self.dem_pct + self.rep_pct)

    def observation(self, quality: float = 1.0) -> Observation:
        q = self.dem_pct / (self.dem_pct + self.rep_pct)
        decided = max(1.0, self.sample_size * min(1.0, (self.dem_pct + self.rep_pct) / 100.0))
        return Observation(self.race, f"{self.pollster}|{self.population}", self.margin,
                           40_000.0 * max(q * (1 - q), 1e-4) / decided, _mid(self.start_date, self.end_date), quality)


@dataclass(frozen=True)
class ApprovalPoll:
    """A presidential approval poll; the observation is the two-way approval share in points."""

    pollster: str
    population: str
    sample_size: int
    start_date: dt.date
    end_date: dt.date
    approve_pct: float
    disapprove_pct: float
    poll_id: str = ""

    @property
    def share(self) -> float:
        return 100.0 * self.approve_pct / (self.approve_pct + self.disapprove_pct)

    def observation(self, quality: float = 1.0) -> Observation:
        q = self.approve_pct / (self.approve_pct + self.disapprove_pct)
        decided = max(1.0, self.sample_size * min(1.0, (self.approve_pct + self.disapprove_pct) / 100.0))
        return Observation(APPROVAL, f"approval:{self.pollster}|{self.population}", self.share,
                           10_000.0 * max(q * (1 - q), 1e-4) / decided, _mid(self.start_date, self.end_date), quality)


def observations(polls: Iterable[Poll | ApprovalPoll], quality: Mapping[str, float] | None = None) -> list[Observation]:
    """Observations of polls, with pollster quality looked up by pollster name (default 1)."""
    quality = quality or {}
    return [p.observation(quality.get(p.pollster, 1.0)) for p in polls]


@dataclass(frozen=True)
class ElectionErrorParams:
    """How far a polling average can be from the result (points of margin)."""

    shared_error_sd: float = 2.8  # polling error common to every race, at the election
    race_error_sd: float = 2.9  # a race's own polling error
    national_drift_sd: float = 0.55  # per sqrt(day) until the election, shared
    race_drift_sd: float = 0.6  # per sqrt(day), each race


@dataclass(frozen=True)
class RaceForecast:
    """P(the Democrat wins) from the polls, with the error split into a shared and a race part."""

    race: str
    margin: float
    race_sd: float
    shared_sd: float
    prob_d: float

    def race_margin(self) -> RaceMargin:
        return RaceMargin(self.race, self.margin, self.race_sd, self.shared_sd)


def race_forecast(avg: RaceAverage, days_to_election: float,
                  params: ElectionErrorParams = ElectionErrorParams()) -> RaceForecast:
    """The final-margin distribution and win probability of one race (module docstring)."""
    days = max(0.0, days_to_election)
    own_var = max(0.0, avg.sd ** 2 - avg.shared_sd ** 2)
    shared = math.sqrt(params.shared_error_sd ** 2 + params.national_drift_sd ** 2 * days + avg.shared_sd ** 2)
    race = math.sqrt(own_var + params.race_error_sd ** 2 + params.race_drift_sd ** 2 * days)
    return RaceForecast(avg.race, avg.value, race, shared, norm_cdf(avg.value / math.hypot(shared, race)))


def forecast_races(polls: Sequence[Poll], as_of: dt.date, election_day: dt.date, *,
                   quality: Mapping[str, float] | None = None, aggregate: AggregateParams | None = None,
                   errors: ElectionErrorParams = ElectionErrorParams()) -> dict[str, RaceForecast]:
    """Every race's forecast from its polls (generic ballot polls help estimate the house effects)."""
    agg = aggregate_polls(observations(polls, quality), as_of, aggregate or AggregateParams())
    days = (election_day - as_of).days
    return {r: race_forecast(a, days, errors) for r, a in agg.races.items() if r not in (GENERIC, APPROVAL)}


def _mid(start: dt.date, end: dt.date) -> dt.date:
    return start + (end - start) // 2
