"""Fair values from published data and public market descriptors (the evaluator's model runner).

The same pure models the desk uses (console.models), fed only what the world publishes
(`published.read_published`) and what a market listing says (series, event, strikes, expected
expiration). Used when the engine's own runner (console.engine.modelrun, in progress) is absent.

Models and what they price:
- polls    (elections): every race market, from `forecast_races` on the race and generic-ballot polls
- control  (elections): Senate control, from the race forecasts through the correlated `ElectionModel`
           (43 Democratic seats not up; control at 51 because the Vice President is a Republican)
- weather  (weather):   every daily-high bucket, from the latest forecast high and its published spread
- cpi      (economics): every CPI bucket, from the consensus mean
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from console.engine.fair import ElectionMarket, ElectionState, FairValue, FairValues
from console.evaluate.published import Published
from console.models.buckets import Bucket, BucketError
from console.models.cpi import cpi_bucket_probabilities, cpi_forecast
from console.models.montecarlo import Chamber, ElectionModel
from console.models.polls import forecast_races
from console.models.weather import high_forecast, weather_bucket_probabilities

ET = ZoneInfo("America/New_York")
SENATE_FIXED_D, SENATE_NEEDED = 43, 51
_RACE_EVENT = re.compile(r"^KX(SENATE|GOV)([A-Z]{2})-\d+$")


@dataclass(frozen=True)
class MarketDesc:
    """What a listing says about a market (REST market + event): no hidden state."""

    ticker: str
    event_ticker: str
    series_ticker: str
    strike_type: str | None
    floor_strike: float | None
    cap_strike: float | None
    expected_expiration_ms: int | None
    close_ms: int


def race_key(event_ticker: str, known: dict[str, str]) -> str | None:
    if event_ticker in known:
        return known[event_ticker]
    match = _RACE_EVENT.match(event_ticker)
    if match is None:
        return None
    return f"{'SEN' if match.group(1) == 'SENATE' else 'GOV'}-{match.group(2)}"


def _party(ticker: str) -> str | None:
    tail = ticker.rsplit("-", 1)[-1]
    return tail if tail in ("D", "R") else None


def _election_day(markets: list[MarketDesc]) -> dt.date | None:
    # election markets expect to expire the morning after election day (ET)
    for m in markets:
        if _RACE_EVENT.match(m.event_ticker) and m.expected_expiration_ms:
            return dt.datetime.fromtimestamp(m.expected_expiration_ms / 1000, ET).date() - dt.timedelta(days=1)
    return None


def _by_event(markets: list[MarketDesc]) -> dict[str, list[MarketDesc]]:
    out: dict[str, list[MarketDesc]] = {}
    for m in markets:
        out.setdefault(m.event_ticker, []).append(m)
    return out


def compute_fairs(data: Published, markets: list[MarketDesc], now_ms: int) -> FairValues:
    """One refresh: a FairValue for every market a model prices, and the Senate election state."""
    values: list[FairValue] = []
    errors: list[str] = []
    election = _elections(data, markets, now_ms, values, errors)
    _weather(data, markets, now_ms, values, errors)
    _cpi(data, markets, now_ms, values, errors)
    return FairValues(tuple(values), now_ms, election, "sim data feed (in process)", tuple(errors))


def _elections(data: Published, markets: list[MarketDesc], now_ms: int, out: list[FairValue],
               errors: list[str]) -> ElectionState | None:
    election_day = _election_day(markets)
    if election_day is None or not data.polls:
        return None
    as_of = dt.datetime.fromtimestamp(now_ms / 1000, ET).date()
    forecasts = forecast_races(data.polls, as_of, election_day)
    mapping: dict[str, ElectionMarket] = {}
    for m in markets:
        key, party = race_key(m.event_ticker, data.race_events), _party(m.ticker)
        if key is None or party is None or key not in forecasts:
            continue
        f = forecasts[key]
        p_d = min(1.0, max(0.0, f.prob_d))
        out.append(FairValue(m.ticker, p_d if party == "D" else 1.0 - p_d, "polls", "elections", now_ms,
                             f"{key} D {f.margin:+.1f} pts, sd {(f.race_sd ** 2 + f.shared_sd ** 2) ** 0.5:.1f}"))
        mapping[m.ticker] = ElectionMarket(key, False, party == "D")
    senate = tuple(sorted(k for k in forecasts if k.startswith("SEN-")))
    if not senate:
        return None
    model = ElectionModel([forecasts[k].race_margin() for k in senate],
                          {"senate": Chamber(senate, SENATE_FIXED_D, SENATE_NEEDED)})
    try:
        p_control = min(1.0, max(0.0, model.control_probability("senate")))
    except ValueError as exc:
        errors.append(f"senate control: {exc}")
        return ElectionState(model, mapping)
    for m in markets:
        party = _party(m.ticker)
        if m.series_ticker == "CONTROLS" and party is not None:
            out.append(FairValue(m.ticker, p_control if party == "D" else 1.0 - p_control, "control", "elections",
                                 now_ms, f"{len(senate)} modelled races, D needs {SENATE_NEEDED - SENATE_FIXED_D}"))
            mapping[m.ticker] = ElectionMarket("senate", True, party == "D")
    return ElectionState(model, mapping)


def _buckets(group: list[MarketDesc]) -> list[Bucket]:
    return [Bucket(m.ticker, m.strike_type or "", m.floor_strike, m.cap_strike) for m in group]


def _weather(data: Published, markets: list[MarketDesc], now_ms: int, out: list[FairValue],
             errors: list[str]) -> None:
    tz_of = {c.series_ticker: c.tz for c in data.cities}
    for event, group in _by_event(markets).items():
        series = group[0].series_ticker
        if series not in data.forecasts:
            continue
        day = _weather_day(event)
        high = next((h for h in data.forecasts[series] if h.day == day), None)
        if high is None:
            continue  # the day left the forecast (its high is in): no model value
        lead = high.lead_hours(tz_of[series])
        forecast = high_forecast(high.high_f, lead, published_spread_f=high.spread_f)
        try:
            probs = weather_bucket_probabilities(forecast, _buckets(group))
        except BucketError as exc:
            errors.append(f"{event}: {exc}")
            continue
        for ticker, p in probs.items():
            out.append(FairValue(ticker, min(1.0, max(0.0, p)), "weather", "weather", now_ms,
                                 f"high {high.high_f:.0f}F sd {forecast.sd_f:.1f}"))


def _weather_day(event_ticker: str) -> dt.date | None:
    try:
        return dt.datetime.strptime(event_ticker.rsplit("-", 1)[-1], "%y%b%d").date()
    except ValueError:
        return None


def _cpi(data: Published, markets: list[MarketDesc], now_ms: int, out: list[FairValue],
         errors: list[str]) -> None:
    cpi = data.cpi
    if cpi is None or cpi.mean is None or cpi.actual is not None or cpi.event_ticker is None:
        return
    group = [m for m in markets if m.event_ticker == cpi.event_ticker]
    if not group:
        return
    days = max(0.0, (cpi.release_time.timestamp() * 1000 - now_ms) / 86_400_000)
    forecast = cpi_forecast(cpi.mean, days_to_release=days)
    try:
        probs = cpi_bucket_probabilities(forecast, _buckets(group))
    except BucketError as exc:
        errors.append(f"{cpi.event_ticker}: {exc}")
        return
    for ticker, p in probs.items():
        out.append(FairValue(ticker, min(1.0, max(0.0, p)), "cpi", "economics", now_ms,
                             f"consensus {cpi.mean:.2f}%"))
