"""The crowd's view: what the market makers believe, a lagged and noisy version of the public information.

For each hidden quantity the crowd keeps an estimate = lagged part + noise part:
- the lagged part follows a target with an exponential lag; the target is made from the public data
  (weather: the latest NWS forecast high; CPI: the consensus mean). Races: the crowd reads the same
  public polls as everyone but naively, a recency-weighted raw average of the published margins
  (exponential weights by publication time, no house-effect or population correction, so it carries
  the polls' full shared error and their mix of house effects and lags the drift since fieldwork),
  plus a persistent crowd bias per race (an Ornstein-Uhlenbeck walk in points of margin, slow to
  revert). The House view follows the truth plus 0.8 x the generic ballot's shared error;
- the noise part is an Ornstein-Uhlenbeck process (weather: sd 0.35 x the published spread) plus kicks: when a poll is published the crowd
  over-reacts by 0.3 x (poll margin - its naive average), and that kick decays with the noise.
Probabilities are then computed with the same formulas as the truth (the crowd knows the variance
schedules), except that weather uses the published spread x 0.85 (the crowd is overconfident), and
finally bent by the favourite-longshot bias: logit(p) x 0.88 (longshots overpriced, favourites cheap).

After a day's high is in (16:00 local) and after the CPI print, the crowd knows the result; once a
state's polls close, the crowd's election error fades with the square root of the variance still to
be counted (the count is public), so a called race is priced at its result.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass

from console.sim.world.feed import DataFeed, Release
from console.sim.world.scalars import WeatherTruth
from console.sim.world.simtime import DAY_MS, MINUTE_MS
from console.sim.world.truth import ElectionTruth, ScalarTruth, bucket_prob
from console.sim.world.universe import MarketSpec, weather_day_of, weather_peak_ms


@dataclass(frozen=True)
class CrowdParams:
    poll_error_weight: float = 0.8  # House view: share of the generic ballot's shared error the crowd believes
    poll_memory_days: float = 6.0  # races: time constant of the crowd's recency weights on published polls
    race_bias_sd: float = 1.0  # races: the crowd's own persistent bias, points of margin (stationary sd)
    race_bias_reversion_days: float = 10.0
    election_lag_min: float = 45.0
    election_noise_sd: float = 1.0  # points of margin
    noise_reversion_min: float = 720.0
    poll_reaction: float = 0.3
    weather_lag_min: float = 30.0
    weather_noise_frac: float = 0.35  # noise sd as a share of the published spread
    weather_spread_scale: float = 0.85
    cpi_lag_min: float = 60.0
    cpi_noise_sd: float = 0.3  # tenths of a percent
    flb_slope: float = 0.88


class _Belief:
    """lagged + noise, for one quantity."""

    __slots__ = ("lagged", "noise")

    def __init__(self, lagged: float, noise: float) -> None:
        self.lagged, self.noise = lagged, noise

    @property
    def value(self) -> float:
        return self.lagged + self.noise

    def step(self, rng: random.Random, target: float, dt_ms: int, lag_min: float, sd: float, rev_min: float) -> None:
        self.lagged += (1.0 - math.exp(-dt_ms / (lag_min * MINUTE_MS))) * (target - self.lagged)
        decay = math.exp(-dt_ms / (rev_min * MINUTE_MS))
        self.noise = self.noise * decay + sd * math.sqrt(1.0 - decay * decay) * rng.gauss(0.0, 1.0)


def flb(p: float, slope: float) -> float:
    """Favourite-longshot bias: shrink the log-odds toward 0 (longshots dearer, favourites cheaper)."""
    p = min(1.0 - 1e-9, max(1e-9, p))
    return 1.0 / (1.0 + math.exp(-slope * math.log(p / (1.0 - p))))


class Crowd:
    """The crowd's beliefs about every hidden quantity (see the module docstring)."""

    def __init__(self, election: ElectionTruth, weather: WeatherTruth, cpi: ScalarTruth, feed: DataFeed,
                 rng: random.Random, params: CrowdParams | None = None) -> None:
        self.election, self.weather, self.cpi, self.feed, self.rng = election, weather, cpi, feed, rng
        self.p = p = params or CrowdParams()
        # naive poll averages: decayed sums of weights and weighted margins, seeded with what is already out
        self._poll_w = {key: 0.0 for key in election.race_specs}
        self._poll_wx = {key: 0.0 for key in election.race_specs}
        t0 = election.cal.start_ms
        for poll in feed.published:
            if poll.race in self._poll_w:
                d, r = poll.shares["D"], poll.shares["R"]
                self._add_poll(poll.race, 100.0 * (d - r) / max(1, d + r),
                               math.exp(-max(0, t0 - poll.published_ms) / (p.poll_memory_days * DAY_MS)))
        self.race_bias = {key: rng.gauss(0.0, p.race_bias_sd) for key in election.race_specs}
        self.races = {key: _Belief(self._race_target(key), rng.gauss(0.0, p.election_noise_sd))
                      for key in election.race_specs}
        self.house = _Belief(self._house_target(), rng.gauss(0.0, p.election_noise_sd))
        self.days: dict[tuple[str, dt.date], _Belief] = {}
        self.cpi_belief = _Belief(cpi.latent.value + feed.cpi_error, rng.gauss(0.0, p.cpi_noise_sd))
        self._close_ms = {key: election.cal.election_ms(spec.poll_close_h) for key, spec in election.race_specs.items()}
        self._rem_at_close = {key: election.national.remaining(c) + election.races[key].remaining(c)
                              for key, c in self._close_ms.items()}
        self._house_close = election.cal.election_ms(election.params.first_close_h)
        self._house_rem_at_close = (election.national.remaining(self._house_close)
                                    + election.house_factor.remaining(self._house_close))

    def _race_fade(self, key: str, t_ms: int) -> float:
        if t_ms <= self._close_ms[key]:
            return 1.0
        e = self.election
        rem = e.national.remaining(t_ms) + e.races[key].remaining(t_ms)
        return math.sqrt(rem / self._rem_at_close[key]) if self._rem_at_close[key] > 0 else 0.0

    def _house_fade(self, t_ms: int) -> float:
        if t_ms <= self._house_close:
            return 1.0
        e = self.election
        rem = e.national.remaining(t_ms) + e.house_factor.remaining(t_ms)
        return math.sqrt(rem / self._house_rem_at_close) if self._house_rem_at_close > 0 else 0.0

    def _add_poll(self, key: str, margin: float, weight: float = 1.0) -> None:
        self._poll_w[key] += weight
        self._poll_wx[key] += weight * margin

    def poll_average(self, key: str) -> float | None:
        """The crowd's naive recency-weighted average of the race's published poll margins."""
        w = self._poll_w[key]
        return self._poll_wx[key] / w if w > 1e-9 else None

    def _race_target(self, key: str) -> float:
        avg = self.poll_average(key)
        if avg is None:  # no poll yet: the race's public base margin
            avg = self.election.race_specs[key].base_margin
        return avg + self.race_bias[key]

    def _house_target(self) -> float:
        e = self.election
        return e.national.value + e.house_factor.value + self.p.poll_error_weight * self.feed.b_national

    def update(self, t_ms: int, dt_ms: int) -> None:
        """Move every belief toward its target by one truth tick."""
        p, rng = self.p, self.rng
        forget = math.exp(-dt_ms / (p.poll_memory_days * DAY_MS))
        drift = math.exp(-dt_ms / (p.race_bias_reversion_days * DAY_MS))
        drift_sd = p.race_bias_sd * math.sqrt(1.0 - drift * drift)
        for key in self.race_bias:
            self._poll_w[key] *= forget
            self._poll_wx[key] *= forget
            self.race_bias[key] = self.race_bias[key] * drift + drift_sd * rng.gauss(0.0, 1.0)
        for key, belief in self.races.items():
            belief.step(rng, self._race_target(key), dt_ms, p.election_lag_min, p.election_noise_sd,
                        p.noise_reversion_min)
        self.house.step(rng, self._house_target(), dt_ms, p.election_lag_min, p.election_noise_sd,
                        p.noise_reversion_min)
        for key in self.weather.days:
            published = self.feed.forecast_high(*key)
            if published is None:
                continue
            target, noise_sd = float(published[0]), p.weather_noise_frac * (published[1] or 0.0)
            belief = self.days.get(key)
            if belief is None:
                self.days[key] = _Belief(target, rng.gauss(0.0, noise_sd))
            else:
                belief.step(rng, target, dt_ms, p.weather_lag_min, noise_sd, p.noise_reversion_min)
        snap = self.feed.cpi_snapshots[-1] if self.feed.cpi_snapshots else None
        if snap is not None and "mean" in snap:
            self.cpi_belief.step(rng, snap["mean"] * 10, dt_ms, p.cpi_lag_min, p.cpi_noise_sd, p.noise_reversion_min)

    def react(self, release: Release) -> None:
        """Over-react to a published poll (the kick decays with the noise)."""
        if release.kind != "poll":
            return
        w = self.p.poll_reaction
        if release.key in self.races:
            # over-react to the news relative to the old view, then fold the poll into the average
            avg = self.poll_average(release.key)
            self.races[release.key].noise += w * (release.value - (release.value if avg is None else avg))
            self._add_poll(release.key, release.value)
        elif release.key == "generic":
            self.house.noise += w * (release.value - self._house_target())

    def forget_day(self, code: str, day: dt.date) -> None:
        self.days.pop((code, day), None)

    # --- probabilities ------------------------------------------------------------------------

    def prob(self, spec: MarketSpec, t_ms: int, senate_d: float, house_d: float) -> float:
        """The crowd's (bias-bent) probability of YES; control probabilities are passed in (computed once a tick)."""
        return flb(self.raw_prob(spec, t_ms, senate_d, house_d), self.p.flb_slope)

    def raw_prob(self, spec: MarketSpec, t_ms: int, senate_d: float, house_d: float) -> float:
        e = self.election
        if spec.kind == "race":
            shift = (self.races[spec.key].value - e.margin(spec.key)) * self._race_fade(spec.key, t_ms)
            p_d = e.race_prob_d(spec.key, t_ms, shift)
        elif spec.kind in ("senate", "house"):
            p_d = senate_d if spec.kind == "senate" else house_d
        elif spec.kind == "weather":
            code, day = weather_day_of(spec.key)
            truth = self.weather.days.get((code, day))
            if truth is None:  # already determined and dropped
                return 0.5
            city = self.weather.cities[code]
            belief = self.days.get((code, day))
            published = self.feed.forecast_high(code, day)
            if t_ms >= weather_peak_ms(city, day) or belief is None or published is None:
                return truth.bucket_prob(spec.lo, spec.hi, t_ms)  # the observed high is public by then
            return bucket_prob(spec.lo, spec.hi, belief.value, published[1] * self.p.weather_spread_scale)
        else:  # cpi
            remaining = self.cpi.latent.remaining(t_ms)
            if remaining <= 1e-12:
                return self.cpi.bucket_prob(spec.lo, spec.hi, t_ms)
            sd = math.sqrt(remaining + self.feed.p.cpi_consensus_sd ** 2)
            return bucket_prob(spec.lo, spec.hi, self.cpi_belief.value, sd)
        return p_d if spec.party == "D" else 1.0 - p_d

    def senate_shifts(self, t_ms: int) -> dict[str, float]:
        e = self.election
        return {r.key: (self.races[r.key].value - e.margin(r.key)) * self._race_fade(r.key, t_ms)
                for r in e.senate.races}

    def house_shift(self, t_ms: int) -> float:
        e = self.election
        return (self.house.value - (e.national.value + e.house_factor.value)) * self._house_fade(t_ms)
