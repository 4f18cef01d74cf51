"""Hidden truth: the latent stochastic processes behind every market, and their true probabilities.

Every hidden quantity is a `Latent`: a Gaussian martingale whose future variance is released on a
schedule of `Segment`s (each releases its variance uniformly over [start, end)). A market's true
probability is the probability that the latent's final value lands in the market's region given
what has been released so far, so it is a martingale too, and exactly 0 or 1 once the schedule has
run out. That is what settles the market.

Elections (`ElectionTruth`), margins in points of D-R two-party vote:
- national swing S: shared by every race (random walk until the first polls close, then a counting
  release on election night);
- race noise e_i per Senate / governor race (random walk, an optional debate-night release, and a
  counting release after the state's polls close); race margin = base_i + S + e_i;
- House: a House factor H (random walk) and district noise d_j (released while the House is counted);
  district margin = base_j + S + H + d_j.
Control resolves from the simulated seat count, and its probability is computed from the same state by
Gauss-Hermite quadrature over the final national swing and an exact Poisson-binomial over the races,
so control is consistent with the races by construction.

Scalars (`ScalarTruth`: a day's high temperature, the CPI print) are latents reported rounded to a
grid; buckets are ranges of the rounded value.

All randomness comes from the `random.Random` passed in; nothing reads the wall clock.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.polynomial.hermite_e import hermegauss

from console.sim.world.simtime import DAY_MS, HOUR_MS, MINUTE_MS, WorldCalendar
from console.sim.world.universe_data import HouseSpec, RaceSpec, SenateSpec

_SQRT2 = math.sqrt(2.0)
_EPS_VAR = 1e-12
_x, _w = hermegauss(32)  # nodes for E[f(Z)], Z ~ N(0, 1), after normalising the weights
GH_NODES: tuple[tuple[float, float], ...] = tuple(
    (float(x), float(w) / math.sqrt(2.0 * math.pi)) for x, w in zip(_x, _w, strict=True)
)


def norm_cdf(x: float) -> float:
    return 0.5 * math.erfc(-x / _SQRT2)


def prob_positive(mean: float, var: float) -> float:
    """P(X > 0) for X ~ N(mean, var); a step function once var is 0."""
    if var <= _EPS_VAR:
        return 1.0 if mean > 0 else (0.5 if mean == 0 else 0.0)
    return norm_cdf(mean / math.sqrt(var))


def tail_at_least(probs: Sequence[float], k: int) -> float:
    """P(at least k successes) among independent Bernoulli(p) trials (exact Poisson-binomial)."""
    if k <= 0:
        return 1.0
    if k > len(probs):
        return 0.0
    dist = [1.0]
    for p in probs:
        q = 1.0 - p
        new = [0.0] * (len(dist) + 1)
        for i, v in enumerate(dist):
            if v:
                new[i] += v * q
                new[i + 1] += v * p
        dist = new
    return min(1.0, max(0.0, sum(dist[k:])))


def control_prob(parts: Sequence[tuple[float, float]], need: int, center: float, sd: float) -> float:
    """P(at least `need` of the contests are won) when contest k is won iff m_k + Z + its own future noise > 0.

    `parts` holds (m_k, remaining variance of contest k); Z ~ N(center, sd^2) is shared. Gauss-Hermite
    over Z, then the exact Poisson-binomial of the conditionally independent contests (vectorised over
    the nodes with numpy).
    """
    if need <= 0:
        return 1.0
    if need > len(parts):
        return 0.0
    nodes = GH_NODES if sd > 1e-9 else ((0.0, 1.0),)
    zs = [center + sd * x for x, _ in nodes]
    dist = np.zeros((len(zs), len(parts) + 1))
    dist[:, 0] = 1.0
    for k, (m, var) in enumerate(parts):
        p = np.fromiter((prob_positive(m + z, var) for z in zs), float, len(zs))[:, None]
        head = dist[:, : k + 2]
        shifted = np.zeros_like(head)
        shifted[:, 1:] = head[:, :-1] * p
        dist[:, : k + 2] = head * (1.0 - p) + shifted
    tails = dist[:, need:].sum(axis=1)
    weights = np.fromiter((w for _, w in nodes), float, len(nodes))
    return float(min(1.0, max(0.0, (tails * weights).sum())))


@dataclass(frozen=True)
class Segment:
    """`var` units of variance released uniformly over [start_ms, end_ms)."""

    start_ms: int
    end_ms: int
    var: float


class Latent:
    """A Gaussian martingale with a variance-release schedule (see the module docstring)."""

    __slots__ = ("segments", "t_ms", "value")

    def __init__(self, value: float, t_ms: int, segments: Sequence[Segment] = ()) -> None:
        self.value = value
        self.t_ms = t_ms
        self.segments = tuple(s for s in segments if s.var > 0 and s.end_ms > s.start_ms)

    def remaining(self, t_ms: int | None = None) -> float:
        """Variance still to be released after `t_ms` (default: the latent's own time)."""
        t = self.t_ms if t_ms is None else t_ms
        total = 0.0
        for s in self.segments:
            if t <= s.start_ms:
                total += s.var
            elif t < s.end_ms:
                total += s.var * (s.end_ms - t) / (s.end_ms - s.start_ms)
        return total

    def done_ms(self) -> int:
        """When the last variance is released (the value is final from then on)."""
        return max((s.end_ms for s in self.segments), default=self.t_ms)

    def advance(self, rng: random.Random, t_ms: int) -> None:
        """Move to `t_ms`, adding one Gaussian increment with the variance released meanwhile."""
        if t_ms <= self.t_ms:
            return
        var = self.remaining(self.t_ms) - self.remaining(t_ms)
        self.t_ms = t_ms
        if var > _EPS_VAR:
            self.value += rng.gauss(0.0, math.sqrt(var))


@dataclass(frozen=True)
class ElectionParams:
    """Election process parameters (points of D-R margin; docs/world.md explains each)."""

    national_vol: float = 0.55  # per sqrt(day) until the first polls close
    race_vol: float = 0.6  # per sqrt(day), each race independently
    house_vol: float = 0.3  # per sqrt(day), the House-only factor
    national_count_sd: float = 2.0  # released 19:00-21:30 ET on election night
    race_count_sd: float = 2.5  # released while each state counts
    house_count_sd: float = 1.0  # House factor, released while the House counts
    district_sd: float = 4.0  # each House district, released while the House counts
    debate_sd: float = 3.0  # the debate-night race, released over 90 minutes
    initial_national_mean: float = 1.5
    initial_national_sd: float = 1.5
    initial_race_sd: float = 1.0
    initial_house_sd: float = 0.5
    first_close_h: float = 19.0  # ET, election day
    national_count_end_h: float = 21.5
    house_count_end_h: float = 27.0  # 03:00 ET the next morning
    history_days: int = 30  # pre-start path kept for backfilled polls


@dataclass
class ElectionTruth:
    """The election state of one world (see the module docstring)."""

    senate: SenateSpec
    governors: tuple[RaceSpec, ...]
    house: HouseSpec
    cal: WorldCalendar
    rng: random.Random
    params: ElectionParams = field(default_factory=ElectionParams)

    def __post_init__(self) -> None:
        p, cal, rng = self.params, self.cal, self.rng
        t0 = cal.start_ms
        first_close = cal.election_ms(p.first_close_h)
        drift_days = max(0.0, (first_close - t0) / DAY_MS)
        self.national = Latent(rng.gauss(p.initial_national_mean, p.initial_national_sd), t0, [
            Segment(t0, first_close, p.national_vol ** 2 * drift_days),
            Segment(first_close, cal.election_ms(p.national_count_end_h), p.national_count_sd ** 2),
        ])
        house_end = cal.election_ms(p.house_count_end_h)
        self.house_factor = Latent(rng.gauss(0.0, p.initial_house_sd), t0, [
            Segment(t0, first_close, p.house_vol ** 2 * drift_days),
            Segment(first_close, house_end, p.house_count_sd ** 2),
        ])
        self.race_specs: dict[str, RaceSpec] = {r.key: r for r in (*self.senate.races, *self.governors)}
        self.races: dict[str, Latent] = {}
        for key, race in self.race_specs.items():
            close = cal.election_ms(race.poll_close_h)
            segments = [
                Segment(t0, close, p.race_vol ** 2 * max(0.0, (close - t0) / DAY_MS)),
                Segment(close, close + int(race.count_hours * HOUR_MS), p.race_count_sd ** 2),
            ]
            if race.debate:
                segments.append(Segment(cal.debate_ms, cal.debate_ms + 90 * MINUTE_MS, p.debate_sd ** 2))
            self.races[key] = Latent(rng.gauss(0.0, p.initial_race_sd), t0, segments)
        self.districts = [Latent(0.0, t0, [Segment(first_close, house_end, p.district_sd ** 2)])
                          for _ in self.house.district_margins]
        self._history = self._prehistory()

    # --- time ---------------------------------------------------------------------------------

    def advance(self, t_ms: int) -> None:
        """Release the variance due up to `t_ms` (in a fixed order, so a seed gives one path)."""
        rng = self.rng
        self.national.advance(rng, t_ms)
        self.house_factor.advance(rng, t_ms)
        for latent in self.races.values():
            latent.advance(rng, t_ms)
        for latent in self.districts:
            latent.advance(rng, t_ms)

    def _prehistory(self) -> dict[str, list[float]]:
        """Daily values for the `history_days` before the start (a backward random walk), for backfilled polls."""
        p, rng = self.params, self.rng
        out: dict[str, list[float]] = {}
        for key, latent, vol in (("national", self.national, p.national_vol),
                                 ("house", self.house_factor, p.house_vol),
                                 *((k, v, p.race_vol) for k, v in self.races.items())):
            path = [latent.value]
            for _ in range(p.history_days):
                path.append(path[-1] - rng.gauss(0.0, vol))
            out[key] = path  # path[d] = value d days before the start
        return out

    def past_value(self, key: str, t_ms: int) -> float:
        """A latent's value at a time before the start ("national", "house" or a race key)."""
        path = self._history[key]
        days = (self.cal.start_ms - t_ms) / DAY_MS
        if days <= 0:
            raise ValueError("past_value is for times before the world's start")
        i = min(int(days), len(path) - 2)
        frac = min(1.0, days - i)
        return path[i] + (path[i + 1] - path[i]) * frac

    # --- races --------------------------------------------------------------------------------

    def margin(self, key: str) -> float:
        """The race's current D-R margin (points): base + national swing + race noise."""
        return self.race_specs[key].base_margin + self.national.value + self.races[key].value

    def race_prob_d(self, key: str, t_ms: int, shift: float = 0.0) -> float:
        """P(the Democrat wins race `key`), with an optional margin shift (the crowd's view)."""
        var = self.national.remaining(t_ms) + self.races[key].remaining(t_ms)
        return prob_positive(self.margin(key) + shift, var)

    def race_done_ms(self, key: str) -> int:
        """When the race's margin is final (it can be called)."""
        return max(self.races[key].done_ms(), self.national.done_ms())

    def race_winner(self, key: str) -> str:
        return "D" if self.margin(key) > 0 else "R"

    # --- control ------------------------------------------------------------------------------

    def senate_prob_d(self, t_ms: int, shifts: Mapping[str, float] | None = None) -> float:
        """P(Democrats control the Senate): >= `d_needs` seats after the modelled races."""
        parts = []
        for race in self.senate.races:
            shift = shifts.get(race.key, 0.0) if shifts else 0.0
            parts.append((race.base_margin + self.races[race.key].value + shift,
                          self.races[race.key].remaining(t_ms)))
        return control_prob(parts, self.senate.d_needs - self.senate.d_fixed, self.national.value,
                            math.sqrt(self.national.remaining(t_ms)))

    def house_prob_d(self, t_ms: int, shift: float = 0.0) -> float:
        """P(Democrats control the House): >= `d_needs` seats after the modelled districts."""
        parts = [(base + d.value, d.remaining(t_ms))
                 for base, d in zip(self.house.district_margins, self.districts, strict=True)]
        center = self.national.value + self.house_factor.value + shift
        sd = math.sqrt(self.national.remaining(t_ms) + self.house_factor.remaining(t_ms))
        return control_prob(parts, self.house.d_needs - self.house.d_safe, center, sd)

    def senate_done_ms(self) -> int:
        return max(self.race_done_ms(r.key) for r in self.senate.races)

    def house_done_ms(self) -> int:
        return max(self.national.done_ms(), self.house_factor.done_ms(), *(d.done_ms() for d in self.districts))

    def senate_seats_d(self) -> int:
        return self.senate.d_fixed + sum(1 for r in self.senate.races if self.margin(r.key) > 0)

    def house_seats_d(self) -> int:
        z = self.national.value + self.house_factor.value
        return self.house.d_safe + sum(
            1 for base, d in zip(self.house.district_margins, self.districts, strict=True) if base + z + d.value > 0)


class ScalarTruth:
    """A quantity reported rounded to a whole number of its unit (degrees F, tenths of a percent).

    Buckets are inclusive ranges [lo, hi] of the reported value (None = open-ended).
    """

    __slots__ = ("latent",)

    def __init__(self, latent: Latent) -> None:
        self.latent = latent

    def reported(self) -> int:
        return math.floor(self.latent.value + 0.5)

    def bucket_prob(self, lo: int | None, hi: int | None, t_ms: int) -> float:
        return bucket_prob(lo, hi, self.latent.value, math.sqrt(self.latent.remaining(t_ms)))


def bucket_prob(lo: int | None, hi: int | None, mean: float, sd: float) -> float:
    """P(round(X) in [lo, hi]) for X ~ N(mean, sd^2); a step function once sd is 0."""
    if sd <= 1e-9:
        v = math.floor(mean + 0.5)
        return 1.0 if (lo is None or v >= lo) and (hi is None or v <= hi) else 0.0
    upper = 1.0 if hi is None else norm_cdf((hi + 0.5 - mean) / sd)
    lower = 0.0 if lo is None else norm_cdf((lo - 0.5 - mean) / sd)
    return max(0.0, upper - lower)
