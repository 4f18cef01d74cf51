"""Poll averages: a Kalman filter over a national swing and each race, with pollster house effects.

Opinion drifts, so a poll is a reading of the margin on the day it was fielded, not today. The
model is a random walk per day,

    race r margin  = N + u_r      N: the national swing, u_r: the race's own level
    generic ballot = N            (polls with race "generic")
    N(t+1) = N(t) + eta,  u_r(t+1) = u_r(t) + eps_r      var(eta), var(eps_r) per day from AggregateParams

and a poll of race r on day t observes N(t) + u_r(t) + h_p + noise, with noise variance
(sampling + nonsampling^2) / quality. The filter's gain is the poll's weight: larger samples, recent
polls and better pollsters count more, and old polls count less because the drift since they were
fielded is the same for all of them (averaging many old polls does not remove it; a plain
inverse-variance average that treats it as independent trusts stale polls far too much). Generic
ballot polls track N, which moves every race at once.

Quantities that are not race margins (presidential approval, race "approval") are filtered on their
own, with their own drift (`standalone_drift_var_per_day`).

House effects h_p (per pollster and population) are random effects in the same state: static, with
prior Normal(0, house_sd^2), observed through every poll of that house. One filter pass therefore
estimates levels and house effects jointly and exactly (a linear Gaussian model); a house that polls
many races is learned from all of them, and its effect is removed from a race it polls alone. An
error common to every pollster cannot be told from the truth by polls: the prior keeps the mean house
effect near zero, and that common error is the shared polling error of console.models.polls.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

GENERIC = "generic"  # the race key of generic congressional ballot polls
APPROVAL = "approval"
_DIFFUSE_VAR = 1e6  # prior variance of a level before any poll: flat, in effect


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
    national_drift_var_per_day: float = 0.30  # points^2 the national swing moves per day (0.55^2)
    race_drift_var_per_day: float = 0.36  # points^2 a race's own level moves per day (0.6^2)
    standalone_drift_var_per_day: float = 0.10  # approval (points of two-way share)^2 per day
    nonsampling_sd: float = 1.0  # poll error beyond sampling and house effects
    house_sd: float = 1.5  # prior sd of a house effect
    standalone: tuple[str, ...] = (APPROVAL,)


@dataclass(frozen=True)
class RaceAverage:
    """The house-adjusted estimate of one quantity today, and its standard error (points).

    `shared_sd` is the part of `sd` common to every race (the races' mean pairwise error covariance:
    mostly the national swing's estimate).
    """

    race: str
    value: float
    sd: float
    n_polls: int
    latest: dt.date
    shared_sd: float = 0.0


@dataclass(frozen=True)
class PollAggregate:
    races: dict[str, RaceAverage]
    house_effects: dict[str, float]  # "pollster|population" -> points that house adds to the truth


class _Filter:
    """A Kalman filter over random-walk levels and static house effects (observations sorted by day)."""

    def __init__(self, drift: np.ndarray, houses: int, house_var: float) -> None:
        n = len(drift)
        self.m = np.zeros(n + houses)
        self.P = np.diag(np.concatenate([np.full(n, _DIFFUSE_VAR), np.full(houses, house_var)]))
        self.drift = np.concatenate([drift, np.zeros(houses)])
        self.day: int | None = None

    def advance(self, day: int) -> None:
        if self.day is not None and day > self.day:
            self.P[np.diag_indices_from(self.P)] += self.drift * (day - self.day)
        self.day = day if self.day is None else max(self.day, day)

    def update(self, cols: list[int], y: float, r: float) -> None:
        """Observe the sum of the states in `cols` with noise variance r."""
        ph = self.P[:, cols].sum(axis=1)
        s = float(ph[cols].sum()) + r
        k = ph / s
        self.m += k * (y - float(self.m[cols].sum()))
        self.P -= np.outer(k, ph)


def aggregate_polls(observations: Iterable[Observation], as_of: dt.date,
                    params: AggregateParams = AggregateParams()) -> PollAggregate:
    """House-adjusted, drift-aware averages of every race as of `as_of` (module docstring)."""
    obs = sorted((o for o in observations if o.mid_date <= as_of and o.quality > 0), key=lambda o: o.mid_date)
    if not obs:
        return PollAggregate({}, {})
    alone = {o.race for o in obs if o.race in params.standalone}
    groups: dict[str, list[Observation]] = {"": [o for o in obs if o.race not in alone]}
    for race in sorted(alone):
        groups[race] = [o for o in obs if o.race == race]
    out: dict[str, RaceAverage] = {}
    house_effects: dict[str, float] = {}
    for key, group in groups.items():
        if group:
            _filter_group(group, key == "", as_of, params, out, house_effects)
    return PollAggregate(dict(sorted(out.items())), dict(sorted(house_effects.items())))


def _filter_group(obs: list[Observation], joint: bool, as_of: dt.date, params: AggregateParams,
                  out: dict[str, RaceAverage], house_effects: dict[str, float]) -> None:
    """Filter one group: the vote races with their national swing (joint), or one standalone quantity."""
    houses = sorted({o.house for o in obs})
    if joint:
        races = sorted({o.race for o in obs if o.race != GENERIC})
        col = {race: i + 1 for i, race in enumerate(races)}  # column 0 is the national swing
        drift = np.full(len(races) + 1, params.race_drift_var_per_day)
        drift[0] = params.national_drift_var_per_day
    else:
        col = {}
        drift = np.array([params.standalone_drift_var_per_day])
    first_house = len(drift)
    h_col = {h: first_house + i for i, h in enumerate(houses)}
    f = _Filter(drift, len(houses), params.house_sd ** 2)
    counts: dict[str, int] = {}
    latest: dict[str, dt.date] = {}
    for o in obs:
        f.advance(o.mid_date.toordinal())
        cols = [0, h_col[o.house]] if o.race not in col else [0, col[o.race], h_col[o.house]]
        f.update(cols, o.value, (o.sampling_var + params.nonsampling_sd ** 2) / o.quality)
        counts[o.race] = counts.get(o.race, 0) + 1
        latest[o.race] = o.mid_date
    f.advance(as_of.toordinal())
    for h, c in h_col.items():
        house_effects[h] = float(f.m[c])
    if not joint:
        race = obs[0].race
        out[race] = RaceAverage(race, float(f.m[0]), math.sqrt(f.P[0, 0]), counts[race], latest[race])
        return
    if GENERIC in counts:
        national_sd = math.sqrt(f.P[0, 0])
        out[GENERIC] = RaceAverage(GENERIC, float(f.m[0]), national_sd, counts[GENERIC], latest[GENERIC], national_sd)
    if not col:
        return
    # each race's estimate is N + u_r; the error common to all races is their mean pairwise covariance
    rows = np.zeros((len(col), len(f.m)))
    rows[:, 0] = 1.0
    for c in col.values():
        rows[c - 1, c] = 1.0
    cov = rows @ f.P @ rows.T
    var = np.clip(np.diag(cov), 0.0, None)
    n = len(col)
    shared_var = float((cov.sum() - np.trace(cov)) / (n * (n - 1))) if n > 1 else 0.0
    shared_var = max(0.0, min(shared_var, float(var.min())))
    for race, c in col.items():
        out[race] = RaceAverage(race, float(f.m[0] + f.m[c]), math.sqrt(var[c - 1]), counts[race], latest[race],
                                math.sqrt(shared_var))
