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
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from console.engine.fair import ElectionState, FairValue
from console.engine.fair_elections import (
    ElectionSettings,
    MarketDesc,
    PartyMarket,
    clamp_prob,
    party_of,
    price_elections,
    race_of,
)
from console.models.buckets import Bucket, BucketError, bucket_probabilities
from console.models.cpi import CPI_RESOLUTION_PCT, CpiForecast, CpiParams, cpi_forecast
from console.models.polls import ApprovalPoll, Poll
from console.models.sources.nws import DailyHigh
from console.models.weather import high_forecast

__all__ = [
    "CityForecast", "CpiInput", "ElectionSettings", "MarketDesc", "ModelInputs", "ModelOutput", "compute_fair_values",
    "event_day", "party_of", "race_of",
]

_CONTROL = re.compile(r"^(?:KX)?CONTROL([SH])$")
_CPI = re.compile(r"^(?:KX)?CPI$")
_DAY = re.compile(r"-(\d{2})([A-Z]{3})(\d{2})$")
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")


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
class ModelInputs:
    markets: tuple[MarketDesc, ...]
    polls: tuple[Poll, ...] = ()  # race polls and generic ballot polls (race "generic")
    approval: tuple[ApprovalPoll, ...] = ()
    cities: tuple[CityForecast, ...] = ()
    cpi: CpiInput | None = None
    election: ElectionSettings = field(default_factory=ElectionSettings)
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
            election = price_elections(inputs.election, [*inputs.polls, *inputs.approval], inputs.decided, races,
                                       controls, now_ms, values, errors)
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

def _classify(markets: tuple[MarketDesc, ...]):
    races: list[PartyMarket] = []
    controls: list[PartyMarket] = []
    weather: dict[str, list[MarketDesc]] = {}
    cpi: dict[str, list[MarketDesc]] = {}
    for m in markets:
        series = m.series_ticker.upper()
        if (c := _CONTROL.match(series)) is not None:
            if (p := party_of(m)) is not None:
                controls.append(PartyMarket(m, "senate" if c.group(1) == "S" else "house", p))
        elif (race := race_of(series)) is not None:
            if (p := party_of(m)) is not None:
                races.append(PartyMarket(m, race, p))
        elif _CPI.match(series):
            cpi.setdefault(m.event_ticker, []).append(m)
        elif m.strike_type is not None:
            weather.setdefault(m.event_ticker, []).append(m)  # priced only if a city has this series
    return races, controls, weather, cpi


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
        values.append(FairValue(m.ticker, clamp_prob(probs[m.ticker]), "weather", "weather", now_ms, why + note))


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
        values.append(FairValue(m.ticker, clamp_prob(probs[m.ticker]), "cpi", "economics", now_ms, why + note))
