"""Midterm fundamentals: the national environment before (and beside) the race polls.

Two readings of the national D-R margin, combined by precision:

- structural: at a midterm the president's party loses ground (`midterm_penalty_pts`, the historical
  average), more so the less popular the president is:
      president's party margin = -penalty - pts_per_approval_pt x (approval_neutral - approval),
  with approval the two-way share (approve / (approve + disapprove)) in points;
- the generic congressional ballot average (from `console.models.polls`), whose error grows with the
  days left (the environment still moves) on top of its own polling error.

A race's prior is then its partisan lean (points, relative to the nation, from a table the operator
supplies) plus the environment. The environment's error is shared by every race; the lean's is not.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from console.models.polls import RaceAverage


@dataclass(frozen=True)
class FundamentalsParams:
    president_party: str = "R"
    midterm_penalty_pts: float = 2.5
    approval_neutral_pct: float = 50.0
    pts_per_approval_pt: float = 0.5
    structural_sd_pts: float = 4.0  # how far the structural reading misses the national vote
    generic_error_sd_pts: float = 2.5  # generic ballot polls vs the national vote, at the election
    national_drift_sd: float = 0.55  # per sqrt(day) until the election


@dataclass(frozen=True)
class Estimate:
    """A normal estimate of a margin in points (D-R)."""

    mean: float
    sd: float


def structural_environment(approval_pct: float, params: FundamentalsParams = FundamentalsParams()) -> Estimate:
    """The national D-R margin implied by the president's approval and the midterm penalty."""
    if params.president_party not in ("D", "R"):
        raise ValueError(f"president_party must be 'D' or 'R', got {params.president_party!r}")
    president_margin = -params.midterm_penalty_pts - params.pts_per_approval_pt * (
        params.approval_neutral_pct - approval_pct)
    d_margin = president_margin if params.president_party == "D" else -president_margin
    return Estimate(d_margin, params.structural_sd_pts)


def national_environment(approval: RaceAverage | None, generic: RaceAverage | None, days_to_election: float,
                         params: FundamentalsParams = FundamentalsParams()) -> Estimate:
    """The national D-R margin at the election: structural and generic-ballot readings by precision.

    Either input may be missing; with neither, the structural prior at neutral approval is returned.
    """
    days = max(0.0, days_to_election)
    readings: list[Estimate] = []
    structural = structural_environment(approval.value if approval else params.approval_neutral_pct, params)
    if approval is not None:
        # the approval average's own error moves the structural reading too
        structural = Estimate(structural.mean, math.hypot(structural.sd, params.pts_per_approval_pt * approval.sd))
    readings.append(structural)
    if generic is not None:
        readings.append(Estimate(generic.value, math.sqrt(generic.sd ** 2 + params.generic_error_sd_pts ** 2
                                                          + params.national_drift_sd ** 2 * days)))
    return combine(readings)


def combine(estimates: list[Estimate]) -> Estimate:
    """Precision-weighted combination of independent normal estimates."""
    if not estimates:
        raise ValueError("nothing to combine")
    precision = sum(1.0 / e.sd ** 2 for e in estimates)
    mean = sum(e.mean / e.sd ** 2 for e in estimates) / precision
    return Estimate(mean, math.sqrt(1.0 / precision))


@dataclass(frozen=True)
class RacePrior:
    """A race's fundamentals prior: lean + environment, the environment's error shared by all races."""

    race: str
    margin: float
    race_sd: float
    shared_sd: float


def race_prior(race: str, lean_pts: float, lean_sd: float, environment: Estimate) -> RacePrior:
    return RacePrior(race, lean_pts + environment.mean, lean_sd, environment.sd)
