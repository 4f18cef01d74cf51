"""Polling averages with house effects, and race win probabilities with a shared national error.

Aggregation (`aggregate_polls`). Every poll is an observation of one quantity (a race's D-R margin,
the generic ballot, presidential approval) in points, with

    variance_i = sampling (200^2 q(1-q) / n_decided for a margin) + nonsampling^2 + drift x age_i,

where age_i is the days since the middle of its field period: opinion moves, so an old poll is a
noisier reading of today (that is the recency weight, derived rather than a made-up half-life).
The weight is quality_i / variance_i, so sample size, recency and pollster quality (0..1, default 1)
all enter. House effects are pollster random effects (per pollster and population, so "likely
voters" and "adults" from one firm differ), estimated from the residuals by backfitting:

    average_r = sum w_i (y_i - h_p(i)) / sum w_i ;  h_p = sum w_i (y_i - average_r(i)) / (sum w_i + 1/house_sd^2)

and centred to mean zero over pollsters: an error common to every pollster cannot be told apart from
the truth by polls alone; it is the shared polling error below.

Win probability (`race_forecast`). The final margin is the polling average plus
- a shared national part: the polling error common to every race (`shared_error_sd`) and the national
  drift until election day (`national_drift_sd` per sqrt(day));
- a race part: the average's own uncertainty, the race's polling error and the race's drift.
P(D wins) = Phi(margin / sqrt(shared^2 + race^2)). The split is kept (`RaceForecast.shared_sd`,
`.race_sd`) so `console.models.montecarlo` can correlate the races.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from console.models.montecarlo import RaceMargin
from console.models.normal import norm_cdf

GENERIC = "generic"  # the race key of generic congressional ballot polls
APPROVAL = "approval"


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


@dataclass(frozen=True)
class Observation:
    """A poll reduced to what the average needs: value and sampling variance in points, when, whose."""

    race: str
    house: str
    value: float
    sampling_var: float
    mid_date: dt.date
    quality: float = 1.0


@dataclass(frozen=True)
class AggregateParams:
    drift_var_per_day: float = 0.66  # points^2 a race margin moves per day (race 0.6^2 + national 0.55^2)
    nonsampling_sd: float = 1.0  # poll error beyond sampling and house effects
    house_sd: float = 1.5  # prior sd of a house effect
    iterations: int = 30


@dataclass(frozen=True)
class RaceAverage:
    """The house-adjusted average of one race today, and its standard error (points)."""

    race: str
    value: float
    sd: float
    n_polls: int
    latest: dt.date


@dataclass(frozen=True)
class PollAggregate:
    races: dict[str, RaceAverage]
    house_effects: dict[str, float]  # "pollster|population" -> points added to the truth by that house


def aggregate_polls(observations: Iterable[Observation], as_of: dt.date,
                    params: AggregateParams = AggregateParams()) -> PollAggregate:
    """House-adjusted, recency- and quality-weighted averages of every race (module docstring)."""
    obs = [o for o in observations if o.mid_date <= as_of and o.quality > 0]
    if not obs:
        return PollAggregate({}, {})
    races = sorted({o.race for o in obs})
    houses = sorted({o.house for o in obs})
    r_of = {r: i for i, r in enumerate(races)}
    h_of = {h: i for i, h in enumerate(houses)}
    r_idx = np.array([r_of[o.race] for o in obs])
    h_idx = np.array([h_of[o.house] for o in obs])
    y = np.array([o.value for o in obs])
    age = np.array([(as_of - o.mid_date).days for o in obs], dtype=float)
    var = np.array([o.sampling_var for o in obs]) + params.nonsampling_sd ** 2 + params.drift_var_per_day * age
    w = np.array([o.quality for o in obs]) / var
    n_r, n_h = len(races), len(houses)
    w_r = np.bincount(r_idx, w, n_r)
    w_h = np.bincount(h_idx, w, n_h)
    prior_prec = 1.0 / params.house_sd ** 2
    h = np.zeros(n_h)
    avg = np.bincount(r_idx, w * y, n_r) / w_r
    for _ in range(params.iterations):
        avg = np.bincount(r_idx, w * (y - h[h_idx]), n_r) / w_r
        new_h = np.bincount(h_idx, w * (y - avg[r_idx]), n_h) / (w_h + prior_prec)
        new_h -= new_h.mean()
        if np.max(np.abs(new_h - h)) < 1e-9:
            h = new_h
            break
        h = new_h
    avg = np.bincount(r_idx, w * (y - h[h_idx]), n_r) / w_r
    # the average's variance: its polls' own noise plus what the house estimates it leaned on may be off by
    h_var = 1.0 / (w_h + prior_prec)
    share = np.zeros((n_r, n_h))
    np.add.at(share, (r_idx, h_idx), w)
    share /= w_r[:, None]
    avg_var = 1.0 / w_r + (share ** 2 * h_var[None, :]).sum(axis=1)
    counts = np.bincount(r_idx, minlength=n_r)
    latest: dict[str, dt.date] = {}
    for o in obs:
        if o.race not in latest or o.mid_date > latest[o.race]:
            latest[o.race] = o.mid_date
    out = {r: RaceAverage(r, float(avg[i]), math.sqrt(avg_var[i]), int(counts[i]), latest[r])
           for i, r in enumerate(races)}
    return PollAggregate(out, {hk: float(h[i]) for i, hk in enumerate(houses)})


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
    shared = math.sqrt(params.shared_error_sd ** 2 + params.national_drift_sd ** 2 * days)
    race = math.sqrt(avg.sd ** 2 + params.race_error_sd ** 2 + params.race_drift_sd ** 2 * days)
    return RaceForecast(avg.race, avg.value, race, shared, norm_cdf(avg.value / math.hypot(shared, race)))


def forecast_races(polls: Sequence[Poll], as_of: dt.date, election_day: dt.date, *,
                   quality: Mapping[str, float] | None = None, aggregate: AggregateParams = AggregateParams(),
                   errors: ElectionErrorParams = ElectionErrorParams()) -> dict[str, RaceForecast]:
    """Every race's forecast from its polls (generic ballot polls help estimate the house effects)."""
    agg = aggregate_polls(observations(polls, quality), as_of, aggregate)
    days = (election_day - as_of).days
    return {r: race_forecast(a, days, errors) for r, a in agg.races.items() if r not in (GENERIC, APPROVAL)}


def _mid(start: dt.date, end: dt.date) -> dt.date:
    return start + (end - start) // 2
