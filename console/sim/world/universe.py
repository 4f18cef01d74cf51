"""The default market universe of a US midterm year, listed through the Exchange API.

- Elections: Senate control (CONTROLS-2026) and House control (CONTROLH-2026), ten competitive Senate
  races (KXSENATEGA-26 ...) and four governor races (KXGOVAZ-26 ...), each a mutually exclusive event
  with a -D and a -R market;
- weather: a daily high-temperature event per city (KXHIGHNY-26NOV23 ...): four 2-degree `between`
  buckets centred on the public forecast at listing, plus a `less` and a `greater` tail;
- economics: one CPI release (KXCPI-26OCT): month-over-month change in tenths of a percent, a bucket
  per tenth from 0.0% to 0.4% and two tails.

Each listed market gets a `MarketSpec` telling the world which hidden quantity settles it. The static
tables (races, cities) live in `console.sim.world.universe_data`; the titles and rules are written
here, in Kalshi's style.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

from console.domain.fees import FeeType
from console.sim.model import Event, Market, Series
from console.sim.world.simtime import (
    DAY_MS,
    ET,
    WorldCalendar,
    local_ms,
    month_code,
    month_name,
    ticker_date,
    title_date,
)
from console.sim.world.universe_data import (
    CITIES,
    GOVERNOR_RACES,
    HOUSE,
    PARTY_NAMES,
    SENATE,
    CitySpec,
    HouseSpec,
    RaceSpec,
    SenateSpec,
)

__all__ = [
    "CITIES", "GOVERNOR_RACES", "HOUSE", "SENATE", "CitySpec", "HouseSpec", "MarketSpec", "RaceSpec",
    "SenateSpec", "list_cpi", "list_elections", "list_weather_day", "weather_buckets", "weather_day_of", "weather_listing_ms",
    "weather_peak_ms", "weather_report_ms",
]

ELECTION_SETTLEMENT_TIMER_S = 1800
WEATHER_SETTLEMENT_TIMER_S = 600
CPI_SETTLEMENT_TIMER_S = 600
CPI_TENTHS = (0, 1, 2, 3, 4)  # between buckets, in tenths of a percent; tails below and above


@dataclass(frozen=True)
class MarketSpec:
    """How one listed market maps onto the hidden truth.

    kind: "race" (key = race key, party D/R), "senate" / "house" (party), "weather" (key = city code
    and date, lo/hi = inclusive range of the reported high in degrees F), "cpi" (lo/hi in tenths of a percent).
    """

    ticker: str
    event_ticker: str
    kind: str
    key: str
    party: str | None = None
    lo: int | None = None
    hi: int | None = None
    close_ms: int = 0


def _add_series(exchange, ticker: str, title: str, category: str, frequency: str, fee_type: FeeType,
                multiplier: str, sources: list[dict[str, str]], tags: list[str], now_ms: int) -> None:
    if ticker in exchange.series:
        return
    exchange.add_series(Series(
        ticker=ticker, title=title, category=category, frequency=frequency, tags=tags, fee_type=fee_type,
        fee_multiplier=multiplier, settlement_sources=sources,
        contract_url=f"https://edgedesk.invalid/contracts/{ticker.lower()}.pdf",
        contract_terms_url=f"https://edgedesk.invalid/contract-terms/{ticker.lower()}.pdf",
        last_updated_ms=now_ms,
    ))


def _add_event(exchange, ticker: str, series: str, title: str, sub_title: str, strike_ms: int, now_ms: int) -> None:
    exchange.add_event(Event(event_ticker=ticker, series_ticker=series, title=title, sub_title=sub_title,
                             mutually_exclusive=True, strike_date_ms=strike_ms, last_updated_ms=now_ms))


_ELECTION_SOURCES = [{"name": "Associated Press", "url": "https://apnews.com/"}]


def list_elections(exchange, cal: WorldCalendar, now_ms: int) -> list[MarketSpec]:
    """List the control, Senate and governor events (open since before the start, closing after the election)."""
    open_ms = now_ms - 120 * DAY_MS
    close_ms = local_ms(cal.election_day + dt.timedelta(days=14), 10.0, ET)
    expected_ms = local_ms(cal.election_day + dt.timedelta(days=1), 10.0, ET)
    specs: list[MarketSpec] = []

    def market(ticker: str, event: str, series: str, title: str, sub: str, rules: str, secondary: str,
               structure: str) -> None:
        exchange.add_market(Market(
            ticker=ticker, event_ticker=event, series_ticker=series, title=title, yes_sub_title=sub,
            no_sub_title=sub, open_time_ms=open_ms, close_time_ms=close_ms, price_level_structure=structure,
            rules_primary=rules, rules_secondary=secondary, can_close_early=True,
            settlement_timer_seconds=ELECTION_SETTLEMENT_TIMER_S, expected_expiration_time_ms=expected_ms,
            latest_expiration_time_ms=close_ms + 30 * DAY_MS, created_time_ms=open_ms,
        ))

    control_secondary = {
        "CONTROLS": ("Control goes to the party holding 51 or more seats, or 50 plus the Vice President's "
                     "tie-breaking vote (the Vice President is a Republican); independents count with the party "
                     "they caucus with. The simulator settles on its simulated seat count once every modelled "
                     "race has been called; this market may close early."),
        "CONTROLH": ("Control goes to the party holding 218 or more of the 435 seats. The simulator settles on its "
                     "simulated seat count once the House count ends; this market may close early."),
    }
    for series, chamber, kind in (("CONTROLS", "Senate", "senate"), ("CONTROLH", "House", "house")):
        _add_series(exchange, series, f"Control of the U.S. {chamber}", "Elections", "custom", FeeType.QUADRATIC,
                    "1", _ELECTION_SOURCES, ["Politics", "Congress"], now_ms)
        event = f"{series}-2026"
        _add_event(exchange, event, series, f"Which party will win the U.S. {chamber}?", "2026 midterms",
                   expected_ms, now_ms)
        for party in ("D", "R"):
            who = "Democrats" if party == "D" else "Republicans"
            full = PARTY_NAMES[party]
            market(f"{event}-{party}", event, series, f"Will {who} win the U.S. {chamber} in 2026?", full,
                   f"If the {full} has won control of the U.S. {chamber} in 2026, then the market resolves to Yes.",
                   control_secondary[series], "tapered_deci_cent")
            specs.append(MarketSpec(f"{event}-{party}", event, kind, kind, party, close_ms=close_ms))

    for race in (*SENATE.races, *GOVERNOR_RACES):
        office = "Senate" if race.chamber == "senate" else "Governor"
        prefix = "KXSENATE" if race.chamber == "senate" else "KXGOV"
        series = f"{prefix}{race.state}"
        fee_type, multiplier = ((FeeType.QUADRATIC_WITH_MAKER_FEES, "1") if race.chamber == "senate"
                                else (FeeType.QUADRATIC, "0.5"))
        what = f"the {office} race in {race.state_name}" if office == "Senate" else \
            f"the governor's race in {race.state_name}"
        _add_series(exchange, series, f"{race.state_name} {office} winner", "Elections", "custom", fee_type,
                    multiplier, _ELECTION_SOURCES, ["Politics", office], now_ms)
        event = f"{series}-26"
        _add_event(exchange, event, series, f"Which party will win {what}?", f"2026 {race.state_name} {office}",
                   expected_ms, now_ms)
        for party in ("D", "R"):
            full = PARTY_NAMES[party]
            market(f"{event}-{party}", event, series, f"Will the {full} win {what}?", full,
                   f"If the {full} wins {what} in the 2026 general election, then the market resolves to Yes.",
                   ("Winning means being projected the winner by a consensus of media decision desks; the "
                    "simulator calls the race when its simulated count ends, and this market may close early."),
                   race.structure)
            specs.append(MarketSpec(f"{event}-{party}", event, "race", race.key, party, close_ms=close_ms))
    return specs


def weather_buckets(center: int) -> list[tuple[str, int | None, int | None, str | None, float | None, float | None]]:
    """Six mutually exclusive buckets around `center`: (suffix, lo, hi, strike_type, floor, cap)."""
    out: list[tuple[str, int | None, int | None, str | None, float | None, float | None]] = [
        (f"T{center - 4}", None, center - 5, "less", None, float(center - 4)),
    ]
    for lo in (center - 4, center - 2, center, center + 2):
        out.append((f"B{lo + 0.5}", lo, lo + 1, "between", float(lo), float(lo + 1)))
    out.append((f"T{center + 3}", center + 4, None, "greater", float(center + 3), None))
    return out


def list_weather_day(exchange, city: CitySpec, day: dt.date, center: int, open_ms: int,
                     now_ms: int) -> list[MarketSpec]:
    """List one city's high-temperature event for `day` (buckets around `center`, degrees F)."""
    _add_series(exchange, city.series, f"Highest temperature in {city.short}", "Climate and Weather", "daily",
                FeeType.QUADRATIC_WITH_MAKER_FEES, "1",
                [{"name": "National Weather Service", "url": "https://www.weather.gov/"}],
                ["Weather", "Daily temperature"], now_ms)
    event = f"{city.series}-{ticker_date(day)}"
    when = title_date(day)
    close_ms = local_ms(day, 23 + 59 / 60, city.tz)
    expected_ms = local_ms(day + dt.timedelta(days=1), 8.0, city.tz)
    _add_event(exchange, event, city.series, f"Highest temperature in {city.short} on {when}", when,
               expected_ms, now_ms)
    long_day = f"{day.strftime('%B')} {day.day}, {day.year}"
    specs = []
    for suffix, lo, hi, strike, floor, cap in weather_buckets(center):
        if strike == "less":
            sub, cond, title_range = f"{hi}° or below", f"less than {cap:.0f}°", f"<{cap:.0f}°"
        elif strike == "greater":
            sub, cond, title_range = f"{lo}° or above", f"greater than {floor:.0f}°", f">{floor:.0f}°"
        else:
            sub, cond, title_range = f"{lo}° to {hi}°", f"between {lo}-{hi}°", f"{lo}-{hi}°"
        ticker = f"{event}-{suffix}"
        exchange.add_market(Market(
            ticker=ticker, event_ticker=event, series_ticker=city.series,
            title=f"Will the high temp in {city.short} be {title_range} on {when}?", yes_sub_title=sub,
            no_sub_title=sub, open_time_ms=open_ms, close_time_ms=close_ms, price_level_structure="linear_cent",
            rules_primary=(f"If the highest temperature recorded at {city.station} for {long_day} as reported by "
                           f"the National Weather Service's Climatological Report (Daily), is {cond}, then the "
                           f"market resolves to Yes."),
            rules_secondary=("Temperatures are whole degrees Fahrenheit as printed in the report. The simulator "
                             "publishes its report at 08:00 local time the next day."),
            strike_type=strike, floor_strike=floor, cap_strike=cap,
            settlement_timer_seconds=WEATHER_SETTLEMENT_TIMER_S, expected_expiration_time_ms=expected_ms,
            latest_expiration_time_ms=expected_ms + 7 * DAY_MS, created_time_ms=now_ms,
        ))
        specs.append(MarketSpec(ticker, event, "weather", f"{city.code}:{day.isoformat()}", None, lo, hi,
                                close_ms=close_ms))
    return specs


def list_cpi(exchange, cal: WorldCalendar, now_ms: int) -> list[MarketSpec]:
    """List the CPI release event (open since before the start, closing at the release)."""
    _add_series(exchange, "KXCPI", "CPI month over month", "Economics", "monthly",
                FeeType.QUADRATIC_WITH_MAKER_FEES, "0.5",
                [{"name": "Bureau of Labor Statistics", "url": "https://www.bls.gov/cpi/"}], ["Inflation"], now_ms)
    event = f"KXCPI-{month_code(cal.cpi_year, cal.cpi_month)}"
    month = month_name(cal.cpi_year, cal.cpi_month)
    close_ms = cal.cpi_release_ms
    expected_ms = close_ms + 5 * 60_000
    _add_event(exchange, event, "KXCPI", f"CPI in {month}", f"Released {title_date(local_date_et(close_ms))}",
               close_ms, now_ms)
    buckets: list[tuple[str, int | None, int | None, str, float | None, float | None, str, str]] = [
        ("T0.0", None, -1, "less", None, 0.0, "below 0.0%", "rises by less than 0.0%"),
    ]
    for v in CPI_TENTHS:
        buckets.append((f"B{v / 10:.1f}", v, v, "between", v / 10, v / 10, f"{v / 10:.1f}%",
                        f"rises by exactly {v / 10:.1f}%"))
    buckets.append(("T0.4", CPI_TENTHS[-1] + 1, None, "greater", CPI_TENTHS[-1] / 10, None, "0.5% or above",
                    f"rises by more than {CPI_TENTHS[-1] / 10:.1f}%"))
    specs = []
    for suffix, lo, hi, strike, floor, cap, sub, cond in buckets:
        ticker = f"{event}-{suffix}"
        exchange.add_market(Market(
            ticker=ticker, event_ticker=event, series_ticker="KXCPI", title=f"CPI in {month}: {sub}?",
            yes_sub_title=sub, no_sub_title=sub, open_time_ms=now_ms - 20 * DAY_MS, close_time_ms=close_ms,
            price_level_structure="deci_cent",
            rules_primary=(f"If CPI (all items, seasonally adjusted) {cond} month over month in {month}, as first "
                           f"released by the Bureau of Labor Statistics, then the market resolves to Yes."),
            rules_secondary="The change is the one-decimal percentage printed in the release.",
            strike_type=strike, floor_strike=floor, cap_strike=cap, settlement_timer_seconds=CPI_SETTLEMENT_TIMER_S,
            expected_expiration_time_ms=expected_ms, latest_expiration_time_ms=expected_ms + 7 * DAY_MS,
            created_time_ms=now_ms - 20 * DAY_MS,
        ))
        specs.append(MarketSpec(ticker, event, "cpi", "cpi", None, lo, hi, close_ms=close_ms))
    return specs


def local_date_et(ms: int) -> dt.date:
    return dt.datetime.fromtimestamp(ms / 1000, ET).date()


@lru_cache(maxsize=4096)
def weather_day_of(key: str) -> tuple[str, dt.date]:
    """A weather MarketSpec key ("NY:2026-11-23") as (city code, date)."""
    code, iso_day = key.split(":")
    return code, dt.date.fromisoformat(iso_day)


def weather_listing_ms(city: CitySpec, day: dt.date) -> int:
    """Kalshi lists a day's temperature event at 10:00 local the day before."""
    return local_ms(day - dt.timedelta(days=1), 10.0, city.tz)


@lru_cache(maxsize=4096)
def weather_peak_ms(city: CitySpec, day: dt.date) -> int:
    """When the day's high is in (16:00 local): the truth is final from then on."""
    return local_ms(day, 16.0, city.tz)


def weather_report_ms(city: CitySpec, day: dt.date) -> int:
    """The daily climate report (determination) at 08:00 local the next day."""
    return local_ms(day + dt.timedelta(days=1), 8.0, city.tz)

