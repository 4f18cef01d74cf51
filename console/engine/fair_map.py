"""From model inputs to fair values: which model prices which market, as one pure function.

`compute_fair_values(inputs, now_ms) -> ModelOutput` takes what the data sources said (polls,
approval, forecast highs per city, the CPI consensus) and the markets the venue lists (event and
series tickers, strikes, titles: `MarketDesc`, built from the REST market) and returns a `FairValue`
for every market a model can price, the correlated `ElectionState`, and the problems it met as text.
No I/O, no clock, no randomness: the same inputs give the same output (the runner in
`console.engine.modelrun` runs it on a worker thread).

How markets are recognised (from the venue's tickers, never from the simulator's code):

| series | market | model |
|---|---|---|
| `CONTROLS` / `CONTROLH` (optionally `KX`-prefixed) | `-D` / `-R` | `control`: P(chamber) from `ElectionModel.control_probability` |
| `KXSENATE{ST}` / `KXGOV{ST}` | `-D` / `-R` (or the party in the title) | `polls` (house-adjusted average); `fundamentals` (lean + national environment) for an unpolled race with a lean; `ensemble` (both, by precision) for races with at most `prior_max_polls` polls |
| a weather city's series (`CityForecast.series_ticker`) | strike buckets | `weather`: the day's forecast high, every bucket of the event (they sum to one) |
| `KXCPI` | strike buckets | `cpi`: consensus plus a miss distribution |

The Senate chamber is the modelled Senate races plus `seats_fixed` Democratic seats, control at
`seats_needed` (docs/world.md). The House has no district markets and no district polls: the data
supports only the national vote, so House control is one pseudo-race `HOUSE` = the generic-ballot
average minus the tipping-point margin, with the races' shared polling error and national drift (so it
moves with the Senate races) and a House-specific error. Its detail says so. (The fundamentals'
structural reading is not used for the House: on the built-in world it scored worse than the generic
ballot alone, and the prior is blended into races only while they have few polls, because blending it
into well-polled races scored worse than the polls alone; docs/models.md has the measurements.)
The party of interest of the election model is the Democrats (`ElectionMarket.yes_is_dem`).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from console.engine.fair import ElectionMarket, ElectionState, FairValue
from console.models.buckets import Bucket, BucketError, bucket_probabilities
from console.models.cpi import CPI_RESOLUTION_PCT, CpiForecast, CpiParams, cpi_forecast
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
from console.models.sources.nws import DailyHigh
from console.models.weather import high_forecast

ET = ZoneInfo("America/New_York")
HOUSE_RACE = "HOUSE"
_CONTROL = re.compile(r"^(?:KX)?CONTROL([SH])$")
_RACE = re.compile(r"^(?:KX)?(SENATE|GOV)([A-Z]{2})$")
_CPI = re.compile(r"^(?:KX)?CPI$")
_DAY = re.compile(r"-(\d{2})([A-Z]{3})(\d{2})$")
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")


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
class CityForecast:
    """One weather city: its series, its time zone, the latest forecast high per day, observed highs."""

    series_ticker: str
    name: str
    tz: ZoneInfo
    highs: tuple[DailyHigh, ...] = ()
    observed: Mapping[dt.date, int] = field(default_factory=dict)


@dataclass(frozen=True)
class CpiInput:
    """The CPI consensus (percent, month over month) for the release of `event_ticker`."""

    release_ms: int
    consensus_pct: float | None
    actual_pct: float | None = None
    event_ticker: str | None = None  # None: any CPI event
    params: CpiParams = field(default_factory=CpiParams)


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
class ModelInputs:
    markets: tuple[MarketDesc, ...]
    polls: tuple[Poll, ...] = ()  # race polls and generic ballot polls (race "generic")
    approval: tuple[ApprovalPoll, ...] = ()
    cities: tuple[CityForecast, ...] = ()
    cpi: CpiInput | None = None
    election: ElectionSettings = ElectionSettings()
    decided: Mapping[str, bool] = field(default_factory=dict)  # race -> the Democrat won (its markets settled)


@dataclass(frozen=True)
class ModelOutput:
    values: tuple[FairValue, ...]
    election: ElectionState | None
    errors: tuple[str, ...]


def compute_fair_values(inputs: ModelInputs, now_ms: int) -> ModelOutput:
    """Fair values for every market a model can price (module docstring). Never raises on bad data:
    a section that cannot be computed is left out and said in `errors`."""
    values: list[FairValue] = []
    errors: list[str] = []
    races, controls, weather, cpi = _classify(inputs.markets)
    election = None
    # a kind of data no source provides (demo with weather only) is not an error on every refresh: the
    # runner reports sources that failed; missing data for a market a source does cover is reported below
    if (races or controls) and (inputs.polls or inputs.approval or inputs.decided):
        try:
            election = _elections(inputs, races, controls, now_ms, values, errors)
        except Exception as exc:  # noqa: BLE001 - reported to the operator; other sections still priced
            errors.append(f"elections: not priced: {exc}")
    for event, markets in weather.items():
        try:
            _weather(inputs.cities, event, markets, now_ms, values)
        except Exception as exc:  # noqa: BLE001
            errors.append(f"weather {event}: not priced: {exc}")
    for event, markets in cpi.items() if inputs.cpi is not None else ():
        try:
            _cpi(inputs.cpi, event, markets, now_ms, values)
        except Exception as exc:  # noqa: BLE001
            errors.append(f"cpi {event}: not priced: {exc}")
    return ModelOutput(tuple(values), election, tuple(errors))


# --- market recognition ---------------------------------------------------------------------------

@dataclass(frozen=True)
class _Party:
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


def _classify(markets: tuple[MarketDesc, ...]):
    races: list[_Party] = []
    controls: list[_Party] = []
    weather: dict[str, list[MarketDesc]] = {}
    cpi: dict[str, list[MarketDesc]] = {}
    for m in markets:
        series = m.series_ticker.upper()
        if (c := _CONTROL.match(series)) is not None:
            if (p := party_of(m)) is not None:
                controls.append(_Party(m, "senate" if c.group(1) == "S" else "house", p))
        elif (race := race_of(series)) is not None:
            if (p := party_of(m)) is not None:
                races.append(_Party(m, race, p))
        elif _CPI.match(series):
            cpi.setdefault(m.event_ticker, []).append(m)
        elif m.strike_type is not None:
            weather.setdefault(m.event_ticker, []).append(m)  # priced only if a city has this series
    return races, controls, weather, cpi


def _prob(p: float) -> float:
    return min(1.0, max(0.0, float(p)))


# --- elections ------------------------------------------------------------------------------------

def _election_day(settings: ElectionSettings, markets: list[_Party]) -> dt.date:
    if settings.election_day is not None:
        return settings.election_day
    days = [dt.datetime.fromtimestamp(p.market.expected_expiration_ms / 1000, ET).date() - dt.timedelta(days=1)
            for p in markets if p.market.expected_expiration_ms]
    if not days:
        raise ValueError("no election day: set [models] election_day (the markets give no expected expiration)")
    return min(days)


def _elections(inputs: ModelInputs, races: list[_Party], controls: list[_Party], now_ms: int,
               values: list[FairValue], errors: list[str]) -> ElectionState | None:
    s = inputs.election
    as_of = dt.datetime.fromtimestamp(now_ms / 1000, ET).date()
    eday = _election_day(s, races + controls)
    days = max(0, (eday - as_of).days)
    agg = aggregate_polls(observations([*inputs.polls, *inputs.approval]), as_of)
    generic, approval = agg.races.get(GENERIC), agg.races.get(APPROVAL)
    env = national_environment(approval, generic, days, s.fundamentals) if (generic or approval) else None
    # the prior forecasts the final margin too: the race's drift until then is as unknown to it as to the polls
    lean_sd = math.hypot(s.lean_sd, s.errors.race_drift_sd * math.sqrt(days))
    polled = {r for r in agg.races if r not in (GENERIC, APPROVAL)}
    wanted = sorted(polled | {p.name for p in races})
    margins: dict[str, RaceMargin] = {}
    for race, dem_won in sorted(inputs.decided.items()):
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
                values.append(FairValue(p.market.ticker, _prob(prob), model, "elections", now_ms,
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
            called = sum(1 for r in senate if r in inputs.decided)
            detail = (f"Senate: {len(senate)} races ({called} called) + {s.senate_seats_fixed} D seats, "
                      f"{s.senate_seats_needed} for control")
        else:
            house = margins[HOUSE_RACE]
            detail = (f"House from the generic ballot only (no district data): D {generic.value:+.1f}, "
                      f"sd {math.hypot(house.sd, house.load):.1f}, tipping point {s.house_tipping_margin:+.1f}")
        values.append(FairValue(p.market.ticker, _prob(prob if p.yes_is_dem else 1.0 - prob), "control",
                                "elections", now_ms, detail))
        mapping[p.market.ticker] = ElectionMarket(p.name, True, p.yes_is_dem)
    return ElectionState(model, mapping)


# --- scalar events (weather, CPI) -----------------------------------------------------------------

def _buckets(markets: list[MarketDesc]) -> list[Bucket]:
    return [Bucket(m.ticker, m.strike_type or "", m.floor_strike, m.cap_strike) for m in markets]


def _priced(buckets: list[Bucket], cdf, resolution: float) -> tuple[dict[str, float], str]:
    """Every bucket of the event (they tile the line and sum to one); each on its own if they do not."""
    try:
        return bucket_probabilities(buckets, cdf, resolution), ""
    except BucketError as exc:
        return bucket_probabilities(buckets, cdf, resolution, require_tiling=False), f"; priced alone ({exc})"


def event_day(event_ticker: str) -> dt.date:
    """The date of a daily event from its ticker suffix (`KXHIGHNY-26NOV23` -> 2026-11-23)."""
    m = _DAY.search(event_ticker.upper())
    if m is None or m.group(2) not in _MONTHS:
        raise ValueError(f"{event_ticker}: no YYMONDD date at the end of the event ticker")
    return dt.date(2000 + int(m.group(1)), _MONTHS.index(m.group(2)) + 1, int(m.group(3)))


def _weather(cities: tuple[CityForecast, ...], event: str, markets: list[MarketDesc], now_ms: int,
             values: list[FairValue]) -> None:
    city = next((c for c in cities if c.series_ticker.upper() == markets[0].series_ticker.upper()), None)
    if city is None:
        return  # not a weather series we have data for: some other strike market
    day = event_day(event)
    observed = city.observed.get(day)
    if observed is not None:
        forecast = high_forecast(float(observed), 0.0, published_spread_f=0.0, point_is_rounded=False)
        why = f"{city.name} reported high {observed}F"
    else:
        high = next((h for h in city.highs if h.day == day), None)
        if high is None:
            raise ValueError(f"no forecast high for {city.name} on {day}")
        lead = high.lead_hours(city.tz)
        forecast = high_forecast(high.high_f, lead, published_spread_f=high.spread_f)
        issued = high.issued.astimezone(city.tz).strftime("%a %H:%M")
        why = f"{city.name} high {high.high_f:.0f}F sd {forecast.sd_f:.1f} (issued {issued}, lead {lead:.0f} h)"
    probs, note = _priced(_buckets(markets), forecast.cdf, 1.0)
    for m in markets:
        values.append(FairValue(m.ticker, _prob(probs[m.ticker]), "weather", "weather", now_ms, why + note))


def _cpi(data: CpiInput | None, event: str, markets: list[MarketDesc], now_ms: int,
         values: list[FairValue]) -> None:
    if data is None:
        raise ValueError("no CPI data")
    if data.event_ticker is not None and data.event_ticker != event:
        raise ValueError(f"the CPI data is for {data.event_ticker}")
    if data.actual_pct is not None:
        forecast = CpiForecast((data.actual_pct,), 0.001)
        why = f"printed {data.actual_pct:.1f}%"
    elif data.consensus_pct is not None:
        days = max(0.0, (data.release_ms - now_ms) / 86_400_000)
        forecast = cpi_forecast(data.consensus_pct, data.params, days)
        why = f"consensus {data.consensus_pct:.2f}%, sd {forecast.sd:.2f}, {days:.1f} days to release"
    else:
        raise ValueError("no consensus yet")
    probs, note = _priced(_buckets(markets), forecast.cdf, CPI_RESOLUTION_PCT)
    for m in markets:
        values.append(FairValue(m.ticker, _prob(probs[m.ticker]), "cpi", "economics", now_ms, why + note))
