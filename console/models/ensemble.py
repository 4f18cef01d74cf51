"""Hand-over from fundamentals to polls: one forecast per race whose weights depend on time and data.

Both inputs forecast the final margin with an error split into a shared (national) and a race part:
the polls (`console.models.polls.RaceForecast`) and the fundamentals prior
(`console.models.fundamentals.RacePrior`). They are combined by precision,

    w_polls = (1 / var_polls) / (1 / var_polls + 1 / var_prior),

so early in the cycle, or with few polls, the polls' variance (drift until election day plus the
average's own uncertainty) is large and the prior carries the forecast; as polls accumulate and the
election nears, w_polls goes to one. The two sources' errors are treated as independent, so the
blend's shared error is sqrt(w^2 shared_polls^2 + (1-w)^2 shared_prior^2), its race error likewise;
that keeps one national factor for `console.models.montecarlo`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from console.models.fundamentals import RacePrior
from console.models.montecarlo import RaceMargin
from console.models.normal import norm_cdf
from console.models.polls import RaceForecast


@dataclass(frozen=True)
class BlendedForecast:
    race: str
    margin: float
    race_sd: float
    shared_sd: float
    prob_d: float
    poll_weight: float  # 0 = fundamentals only, 1 = polls only

    def race_margin(self) -> RaceMargin:
        return RaceMargin(self.race, self.margin, self.race_sd, self.shared_sd)


def blend(polls: RaceForecast | None, prior: RacePrior | None) -> BlendedForecast:
    """The ensemble forecast of one race (module docstring); either input may be missing."""
    if polls is None and prior is None:
        raise ValueError("blend needs polls, a prior, or both")
    if prior is None:
        assert polls is not None
        return BlendedForecast(polls.race, polls.margin, polls.race_sd, polls.shared_sd, polls.prob_d, 1.0)
    if polls is None:
        return _result(prior.race, prior.margin, prior.race_sd, prior.shared_sd, 0.0)
    if polls.race != prior.race:
        raise ValueError(f"blend: polls for {polls.race!r} but a prior for {prior.race!r}")
    var_p = polls.race_sd ** 2 + polls.shared_sd ** 2
    var_f = prior.race_sd ** 2 + prior.shared_sd ** 2
    w = (1.0 / var_p) / (1.0 / var_p + 1.0 / var_f)
    margin = w * polls.margin + (1 - w) * prior.margin
    race_sd = math.hypot(w * polls.race_sd, (1 - w) * prior.race_sd)
    shared_sd = math.hypot(w * polls.shared_sd, (1 - w) * prior.shared_sd)
    return _result(polls.race, margin, race_sd, shared_sd, w)


def _result(race: str, margin: float, race_sd: float, shared_sd: float, w: float) -> BlendedForecast:
    total = math.hypot(race_sd, shared_sd)
    prob = norm_cdf(margin / total) if total > 0 else (1.0 if margin > 0 else 0.0 if margin < 0 else 0.5)
    return BlendedForecast(race, margin, race_sd, shared_sd, prob, w)
