"""Election markets for `console.engine.fair_map`: races by polls (and the fundamentals prior while a race
has few polls), chamber control from the correlated `ElectionModel`, House control from the generic ballot.

See `console.engine.fair_map` for which markets are priced by what; this module holds the election half
of that pure function (no I/O, deterministic).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from console.engine.fair import ElectionMarket, ElectionState, FairValue
from console.models.ensemble import blend
from console.models.fundamentals import (
    FundamentalsParams,
    national_environment,
    race_prior,
)
from console.models.montecarlo import Chamber, ElectionModel, RaceMargin
from console.models.polls import (
    APPROVAL,
    GENERIC,
    ApprovalPoll,
    ElectionErrorParams,
    Poll,
    aggregate_polls,
    observations,
    race_forecast,
)

ET = ZoneInfo("America/New_York")
HOUSE_RACE = "HOUSE"
_RACE = re.compile(r"^(?:KX)?(SENATE|GOV)([A-Z]{2})$")


@dataclass(frozen=True)
class MarketDesc:
    """What the pure function needs of a venue market (from the REST market and its event)."""

    ticker: str
    event_ticker: str
    series_ticker: str
    title: str = ""
    yes_sub_title: str = ""
    strike_type: str | None = None
    floor_strike: float | None = None
    cap_strike: float | None = None
    expected_expiration_ms: int | None = None


@dataclass(frozen=True)
class ElectionSettings:
    """The chamber arithmetic and the fundamentals prior (config `[models]`; defaults fit docs/world.md)."""

    election_day: dt.date | None = None  # None: the day before the race markets' expected expiration (ET)
    senate_seats_fixed: int = 43
    senate_seats_needed: int = 51
    house_tipping_margin: float = 0.0  # national D-R margin at which House control is a coin flip
    house_sd: float = 1.5  # House-specific error on top of the national vote (points)
    house_drift_sd: float = 0.3  # per sqrt(day)
    leans: Mapping[str, float] = field(default_factory=dict)  # race -> partisan lean (points), for the prior
    lean_sd: float = 3.0  # the lean's own miss; the race's drift until election day is added to it
    prior_max_polls: int = 0  # the prior is blended into races with at most this many polls (0: unpolled only)
    fundamentals: FundamentalsParams = field(default_factory=FundamentalsParams)
    errors: ElectionErrorParams = field(default_factory=ElectionErrorParams)


@dataclass(frozen=True)
class PartyMarket:
    """An election market: what it pays on and for which party."""

    market: MarketDesc
    name: str  # race ("SEN-GA") or chamber ("senate" | "house")
    yes_is_dem: bool


def party_of(m: MarketDesc) -> bool | None:
    """True when YES pays on a Democratic win, False on a Republican one, None when it cannot be told."""
    suffix = m.ticker.rsplit("-", 1)[-1].upper()
    if suffix in ("D", "DEM"):
        return True
    if suffix in ("R", "REP", "GOP"):
        return False
    text = f"{m.yes_sub_title} {m.title}".lower()
    dem, rep = "democrat" in text, "republican" in text
    return dem if dem != rep else None


def race_of(series_ticker: str) -> str | None:
    """The race a Senate or governor series decides (`KXSENATEGA` -> `SEN-GA`), else None."""
    r = _RACE.match(series_ticker.upper())
    return None if r is None else f"{'SEN' if r.group(1) == 'SENATE' else 'GOV'}-{r.group(2)}"


def clamp_prob(p: float) -> float:
    return min(1.0, max(0.0, float(p)))


def election_day(settings: ElectionSettings, markets: list[PartyMarket]) -> dt.date:
    if settings.election_day is not None:
        return settings.election_day
    days = [dt.datetime.fromtimestamp(p.market.expected_expiration_ms / 1000, ET).date() - dt.timedelta(days=1)
            for p in markets if p.market.expected_expiration_ms]
    if not days:
        raise ValueError("no election day: set [models] election_day (the markets give no expected expiration)")
    return min(days)


def price_elections(s: ElectionSettings, polls: Sequence[Poll | ApprovalPoll], decided: Mapping[str, bool],
                    races: list[PartyMarket], controls: list[PartyMarket], now_ms: int, values: list[FairValue],
                    errors: list[str]) -> ElectionState | None:
    """Race and control fair values (appended to `values`) and the correlated model (fair_map's docstring)."""
    as_of = dt.datetime.fromtimestamp(now_ms / 1000, ET).date()
    eday = election_day(s, races + controls)
    days = max(0, (eday - as_of).days)
    agg = aggregate_polls(observations(polls), as_of)
    generic, approval = agg.races.get(GENERIC), agg.races.get(APPROVAL)
    env = national_environment(approval, generic, days, s.fundamentals) if (generic or approval) else None
    # the prior forecasts the final margin too: the race's drift until then is as unknown to it as to the polls
    lean_sd = math.hypot(s.lean_sd, s.errors.race_drift_sd * math.sqrt(days))
    polled = {r for r in agg.races if r not in (GENERIC, APPROVAL)}
    wanted = sorted(polled | {p.name for p in races})
    margins: dict[str, RaceMargin] = {}
    for race, dem_won in sorted(decided.items()):
        margins[race] = RaceMargin(race, 1.0 if dem_won else -1.0, 0.0, 0.0)  # called: no error left
    for race in wanted:
        if race in margins:
            continue
        fc = race_forecast(agg.races[race], days, s.errors) if race in polled else None
        early = fc is None or agg.races[race].n_polls <= s.prior_max_polls
        prior = race_prior(race, s.leans[race], lean_sd, env) \
            if early and env is not None and race in s.leans else None
        if fc is None and prior is None:
            errors.append(f"elections {race}: no polls and no lean (or no national polls): not priced")
            continue
        b = blend(fc, prior)
        model = "polls" if prior is None else "fundamentals" if fc is None else "ensemble"
        margins[race] = b.race_margin()
        extra = f", {agg.races[race].n_polls} polls" if fc is not None else ", no polls"
        if prior is not None:
            extra += f", poll weight {b.poll_weight:.2f}"
        for p in races:
            if p.name == race:
                prob = b.prob_d if p.yes_is_dem else 1.0 - b.prob_d
                values.append(FairValue(p.market.ticker, clamp_prob(prob), model, "elections", now_ms,
                                        f"{race} D {b.margin:+.1f} pts, sd {math.hypot(b.race_sd, b.shared_sd):.1f}"
                                        f"{extra}"))
    chambers: dict[str, Chamber] = {}
    senate = tuple(r for r in margins if r.startswith("SEN-"))
    senate_markets = {p.name for p in races if p.name.startswith("SEN-")}
    if senate and senate_markets <= set(senate):
        chambers["senate"] = Chamber(senate, s.senate_seats_fixed, s.senate_seats_needed)
    elif any(p.name == "senate" for p in controls):
        errors.append("elections: Senate control not priced: "
                      f"{', '.join(sorted(senate_markets - set(senate))) or 'no Senate race'} cannot be modelled")
    if generic is not None:
        # the generic ballot carries the same shared polling error and national drift as the races
        national_sd = math.sqrt(generic.sd ** 2 + s.errors.shared_error_sd ** 2
                                + s.errors.national_drift_sd ** 2 * days)
        margins[HOUSE_RACE] = RaceMargin(HOUSE_RACE, generic.value - s.house_tipping_margin,
                                         math.sqrt(s.house_sd ** 2 + s.house_drift_sd ** 2 * days), national_sd)
        chambers["house"] = Chamber((HOUSE_RACE,), 0, 1)
    elif any(p.name == "house" for p in controls):
        errors.append("elections: House control not priced: no generic ballot polls")
    if not margins:
        return None
    model = ElectionModel(list(margins.values()), chambers)
    mapping: dict[str, ElectionMarket] = {}
    for p in races:
        if p.name in margins:
            mapping[p.market.ticker] = ElectionMarket(p.name, False, p.yes_is_dem)
    for p in controls:
        if p.name not in chambers:
            continue
        prob = model.control_probability(p.name)
        if p.name == "senate":
            called = sum(1 for r in senate if r in decided)
            detail = (f"Senate: {len(senate)} races ({called} called) + {s.senate_seats_fixed} D seats, "
                      f"{s.senate_seats_needed} for control")
        else:
            house = margins[HOUSE_RACE]
            detail = (f"House from the generic ballot only (no district data): D {generic.value:+.1f}, "
                      f"sd {math.hypot(house.sd, house.load):.1f}, tipping point {s.house_tipping_margin:+.1f}")
        values.append(FairValue(p.market.ticker, clamp_prob(prob if p.yes_is_dem else 1.0 - prob), "control",
                                "elections", now_ms, detail))
        mapping[p.market.ticker] = ElectionMarket(p.name, True, p.yes_is_dem)
    return ElectionState(model, mapping)
