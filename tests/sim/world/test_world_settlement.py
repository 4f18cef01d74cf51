"""Markets close, are determined from the realized outcome and settle: $1 per winning contract, to its holder."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from console.domain.units import PAYOUT_PER_COUNT_UNIT
from console.sim.events import BookSide
from console.sim.model import MarketStatus, OrderRequest, SelfTradePrevention, TimeInForce
from console.sim.world.simtime import ET, local_date, local_ms
from console.sim.world.world import WorldParams
from world_helpers import START_MS, new_world

TODAY = local_date(START_MS, ET)
AFTER_CLOSE = local_ms(TODAY + dt.timedelta(days=1), 2.0, ET)  # every city's day-one event has closed
AFTER_SETTLEMENT = local_ms(TODAY + dt.timedelta(days=1), 10.0, ET)


@pytest.fixture(scope="module")
def settled_weather():
    world = new_world(seed=8, step_ms=60_000)
    ex = world.exchange
    ex.create_account("desk", 1_000 * 1_000_000)
    event = f"KXHIGHNY-{TODAY.strftime('%y%b%d').upper()}"
    buckets = [t for t in world.by_key["NY"] if t.startswith(event)]
    for ticker in buckets:  # the desk buys one YES contract of every bucket at the makers' ask
        ask = ex.best_ask(ticker)
        assert ask is not None, f"{ticker} has no ask to buy from"
        ex.create_order("desk", OrderRequest(ticker=ticker, side=BookSide.BID, price=ask[0], count=100,
                                             time_in_force=TimeInForce.IOC,
                                             self_trade_prevention=SelfTradePrevention.TAKER_AT_CROSS))
    world.step_until(AFTER_CLOSE)
    day_one = [t for t, s in world.specs.items() if s.kind == "weather" and s.key.endswith(TODAY.isoformat())]
    positions = {(a.account_id, t): a.positions[t].position
                 for a in ex.accounts.values() for t in day_one if t in a.positions and a.positions[t].position}
    balance_before = ex.accounts["desk"].balance
    world.step_until(AFTER_SETTLEMENT)
    return world, day_one, positions, balance_before, buckets


def test_exactly_one_bucket_of_each_weather_event_settles_yes(settled_weather) -> None:
    world, day_one, _, _, _ = settled_weather
    ex = world.exchange
    events: dict[str, list[str]] = {}
    for ticker in day_one:
        events.setdefault(ex.markets[ticker].event_ticker, []).append(ticker)
    assert len(events) >= 3
    for event, tickers in events.items():
        assert len(tickers) == 6
        assert [ex.markets[t].status for t in tickers] == [MarketStatus.FINALIZED] * 6
        winners = [t for t in tickers if ex.markets[t].result == "yes"]
        assert len(winners) == 1, event
        code = world.specs[winners[0]].key.split(":")[0]
        high = world.realized_highs[(code, TODAY)]
        spec = world.specs[winners[0]]
        assert (spec.lo is None or high >= spec.lo) and (spec.hi is None or high <= spec.hi)


def test_settlement_pays_one_dollar_per_winning_contract_to_its_holders(settled_weather) -> None:
    world, day_one, positions, _, _ = settled_weather
    ex = world.exchange
    paid = {(s.account_id, s.ticker): s for s in ex.settlements if s.ticker in day_one}
    assert positions, "nobody held a position in the day's weather markets"
    for (account_id, ticker), position in positions.items():
        s = paid[(account_id, ticker)]
        yes_won = ex.markets[ticker].result == "yes"
        winning = position if (position > 0) == yes_won else 0
        assert s.revenue == abs(winning) * PAYOUT_PER_COUNT_UNIT, (account_id, ticker, position)
        assert ex.accounts[account_id].positions[ticker].position == 0
    assert set(paid) == set(positions)


def test_the_desk_is_paid_for_its_one_winning_bucket(settled_weather) -> None:
    world, _, _, balance_before, buckets = settled_weather
    ex = world.exchange
    # the desk held one contract of each of six mutually exclusive buckets: exactly $1 comes back
    assert ex.accounts["desk"].balance - balance_before == 1_000_000
    assert sum(ex.markets[t].result == "yes" for t in buckets) == 1


def test_election_night_determines_races_and_control_from_the_count() -> None:
    # coarse steps and truth ticks so three simulated weeks run in seconds
    params = dataclasses.replace(WorldParams(), truth_tick_ms=1_800_000, control_every_ms=3_600_000)
    world = new_world(seed=12, step_ms=1_800_000, params=params)
    ex, e = world.exchange, world.election
    world.step_until(max(e.senate_done_ms(), e.house_done_ms()) + 2 * 3_600_000)
    for key in e.race_specs:
        winner = e.race_winner(key)
        for ticker in world.by_key[key]:
            market = ex.markets[ticker]
            assert market.status is MarketStatus.FINALIZED, ticker
            assert market.result == ("yes" if world.specs[ticker].party == winner else "no")
    senate_d = e.senate_seats_d() >= e.senate.d_needs
    assert ex.markets["CONTROLS-2026-D"].result == ("yes" if senate_d else "no")
    assert ex.markets["CONTROLS-2026-R"].result == ("no" if senate_d else "yes")
    house_d = e.house_seats_d() >= e.house.d_needs
    assert ex.markets["CONTROLH-2026-D"].result == ("yes" if house_d else "no")
    # races were called (closed early) on election night, not at their scheduled close
    called = ex.markets["KXSENATEGA-26-D"]
    assert called.close_time_ms < local_ms(world.cal.election_day + dt.timedelta(days=2), 0.0, ET)
