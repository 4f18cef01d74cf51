"""The sim data adapter against the built-in world's real /sim/data routes over loopback HTTP."""

from __future__ import annotations

import datetime as dt

import httpx
from aiohttp import web
from aiohttp.test_utils import TestServer

from console.models.buckets import Bucket
from console.models.polls import GENERIC, aggregate_polls, observations
from console.models.sources.sim_feed import SimDataClient
from console.models.weather import high_forecast, weather_bucket_probabilities
from console.sim.clock import SimClock
from console.sim.exchange import Exchange
from console.sim.state import STATE, SimState
from console.sim.world import setup_data_routes
from console.sim.world.world import World

START_MS = 1_795_359_600_000  # 2026-11-22 10:00 ET


async def test_sim_data_client_parses_the_world_feed() -> None:
    clock = SimClock(speed=1e-6, start_ms=START_MS)
    world = World(Exchange(clock, seed=8), clock, 8, False)
    world.step_until(START_MS + 120_000)
    app = web.Application()
    app[STATE] = SimState(exchange=world.exchange, clock=world.clock)
    app[STATE].extras["world"] = world
    setup_data_routes(app)
    async with TestServer(app, host="127.0.0.1", port=0) as server, httpx.AsyncClient() as http:
        feed = SimDataClient(str(server.make_url("/")), http)
        polls = await feed.polls()
        generic = await feed.generic_ballot()
        approval = await feed.approval()
        cities = await feed.cities()
        highs = await feed.forecast(cities[0].city)
        cpi = await feed.cpi()
    assert {p.race for p in polls} >= {"SEN-GA", "GOV-AZ"} and all(p.race != GENERIC for p in polls)
    assert generic and all(p.race == GENERIC for p in generic) and approval
    agg = aggregate_polls(observations([*polls, *generic]), dt.date(2026, 11, 22))
    assert "SEN-GA" in agg.races and all(abs(a.value) < 40 for a in agg.races.values())
    assert cities[0].series_ticker.startswith("KXHIGH") and highs and highs[0].spread_f is not None
    assert cpi.median is not None and cpi.event_ticker and cpi.event_ticker.startswith("KXCPI-")
    # the world's listed weather buckets tile the line: the model prices a whole event summing to one
    tomorrow = highs[1] if len(highs) > 1 else highs[0]
    event = [m for m in world.exchange.markets.values() if m.series_ticker == cities[0].series_ticker]
    assert event
    first_event = event[0].event_ticker
    buckets = [Bucket(m.ticker, m.strike_type, m.floor_strike, m.cap_strike) for m in event
               if m.event_ticker == first_event]
    probs = weather_bucket_probabilities(high_forecast(tomorrow.high_f, 24, published_spread_f=tomorrow.spread_f),
                                         buckets)
    assert abs(sum(probs.values()) - 1.0) < 1e-12
