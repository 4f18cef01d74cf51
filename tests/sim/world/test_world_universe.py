"""The default universe: enough open markets across elections, weather and CPI, shaped like Kalshi's."""

from __future__ import annotations

import datetime as dt

from console.domain.fees import FeeType
from console.sim.events import MarketLifecycle
from console.sim.model import MarketStatus
from console.sim.world.simtime import ET, local_date
from console.sim.world.universe import CITIES
from world_helpers import HOUR_MS, START_MS, new_world


def test_at_least_forty_open_markets_across_the_categories() -> None:
    world = new_world(seed=1)
    ex = world.exchange
    open_tickers = [t for t in world.specs if ex.markets[t].status is MarketStatus.ACTIVE]
    assert len(open_tickers) >= 40
    kinds = [world.specs[t].kind for t in open_tickers]
    assert kinds.count("senate") == 2 and kinds.count("house") == 2
    senate_races = {world.specs[t].key for t in open_tickers if world.specs[t].key.startswith("SEN")}
    governor_races = {world.specs[t].key for t in open_tickers if world.specs[t].key.startswith("GOV")}
    assert len(senate_races) >= 8 and len(governor_races) == 4
    cities = {world.specs[t].key.split(":")[0] for t in open_tickers if world.specs[t].kind == "weather"}
    assert len(cities) >= 3
    assert kinds.count("cpi") >= 5
    categories = {ex.series[ex.markets[t].series_ticker].category for t in open_tickers}
    assert categories == {"Elections", "Climate and Weather", "Economics"}


def test_race_events_list_one_market_per_party() -> None:
    world = new_world(seed=1)
    ex = world.exchange
    event = ex.events["KXSENATENC-26"]
    assert event.mutually_exclusive and event.series_ticker == "KXSENATENC"
    markets = [m for m in ex.markets.values() if m.event_ticker == "KXSENATENC-26"]
    assert sorted(m.ticker for m in markets) == ["KXSENATENC-26-D", "KXSENATENC-26-R"]
    d = ex.markets["KXSENATENC-26-D"]
    assert d.rules_primary.startswith("If the Democratic party wins the Senate race in North Carolina")
    assert d.can_close_early and d.close_time_ms > world.start_ms
    assert ex.markets["CONTROLS-2026-R"].yes_sub_title == "Republican party"
    assert ex.events["CONTROLH-2026"].mutually_exclusive


def test_weather_events_are_exhaustive_buckets_with_kalshi_strikes() -> None:
    world = new_world(seed=2)
    ex = world.exchange
    day = local_date(START_MS, ET)
    event = f"KXHIGHNY-{day.strftime('%y%b%d').upper()}"
    markets = [m for m in ex.markets.values() if m.event_ticker == event]
    assert len(markets) == 6 and ex.events[event].mutually_exclusive
    by_type = {m.strike_type: [] for m in markets}
    for m in markets:
        by_type[m.strike_type].append(m)
    assert len(by_type["less"]) == 1 and len(by_type["greater"]) == 1 and len(by_type["between"]) == 4
    less, greater = by_type["less"][0], by_type["greater"][0]
    assert less.floor_strike is None and less.ticker.endswith(f"-T{less.cap_strike:.0f}")
    assert greater.cap_strike is None and greater.ticker.endswith(f"-T{greater.floor_strike:.0f}")
    for m in by_type["between"]:
        assert m.cap_strike == m.floor_strike + 1 and m.ticker.endswith(f"-B{m.floor_strike + 0.5}")
    # every whole-degree high lands in exactly one bucket, as the strikes say
    for high in range(0, 110):
        hits = sum(
            (m.strike_type == "less" and high < m.cap_strike)
            or (m.strike_type == "greater" and high > m.floor_strike)
            or (m.strike_type == "between" and m.floor_strike <= high <= m.cap_strike)
            for m in markets)
        assert hits == 1, high
    assert "National Weather Service" in markets[0].rules_primary


def test_fee_types_and_sub_penny_price_structures() -> None:
    world = new_world(seed=1)
    ex = world.exchange
    mine = [ex.markets[t] for t in world.specs]
    structures = {m.price_level_structure for m in mine}
    assert {"linear_cent", "tapered_deci_cent", "deci_cent"} <= structures
    fee_types = {(ex.series[m.series_ticker].fee_type, ex.series[m.series_ticker].fee_multiplier) for m in mine}
    assert (FeeType.QUADRATIC, "1") in fee_types
    assert any(ft is FeeType.QUADRATIC_WITH_MAKER_FEES for ft, _ in fee_types)
    assert any(mult != "1" for _, mult in fee_types)
    assert {ex.markets[t].price_level_structure for t in world.by_key["cpi"]} == {"deci_cent"}


def test_election_is_three_weeks_after_the_world_starts() -> None:
    world = new_world(seed=1)
    assert world.cal.election_day - local_date(START_MS, ET) == dt.timedelta(days=21)
    assert world.cal.cpi_release_ms > START_MS


def test_a_new_weather_day_is_listed_and_announced() -> None:
    world = new_world(seed=3, step_ms=60_000)
    created = []
    world.exchange.add_listener(lambda e: created.append(e.ticker)
                                if isinstance(e, MarketLifecycle) and e.event_type == "created" else None)
    world.step_until(START_MS + 26 * HOUR_MS)  # past 10:00 local the next day in every city
    day_after = local_date(START_MS, ET) + dt.timedelta(days=2)
    code = day_after.strftime("%y%b%d").upper()
    for city in CITIES:
        new = [t for t in created if t.startswith(f"{city.series}-{code}-")]
        assert len(new) == 6, f"{city.series}: {new}"
        assert all(world.exchange.markets[t].status is MarketStatus.ACTIVE for t in new)
