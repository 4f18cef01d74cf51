"""The data feed over HTTP (/sim/data/...) and the truth endpoint that is off unless asked for."""

from __future__ import annotations

import asyncio

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from console.sim.clock import SimClock
from console.sim.exchange import Exchange
from console.sim.state import STATE, SimState
from console.sim.world import World, install_world, setup_data_routes
from world_helpers import START_MS, new_world


def _app(reveal_truth: bool) -> tuple[web.Application, object]:
    world = new_world(seed=31, reveal_truth=reveal_truth)
    world.step_until(START_MS + 120_000)
    app = web.Application()
    app[STATE] = SimState(exchange=world.exchange, clock=world.clock)
    app[STATE].extras["world"] = world
    setup_data_routes(app)
    return app, world


async def test_data_endpoints_publish_polls_forecasts_and_consensus() -> None:
    app, world = _app(reveal_truth=False)
    async with TestClient(TestServer(app)) as client:
        polls = await (await client.get("/sim/data/polls", params={"race": "SEN-GA"})).json()
        assert polls["polls"] and {p["race"] for p in polls["polls"]} == {"SEN-GA"}
        first = polls["polls"][0]
        assert first["event_ticker"] == "KXSENATEGA-26" and first["sample_size"] > 0
        assert {a.get("party") for a in first["answers"]} >= {"D", "R"}
        assert "true_share" not in first and "stated_bias" not in first
        for path in ("/sim/data/approval", "/sim/data/generic_ballot"):
            body = await (await client.get(path)).json()
            assert len(body["polls"]) > 10, path
        cities = (await (await client.get("/sim/data/weather")).json())["cities"]
        assert {c["series_ticker"] for c in cities} >= {"KXHIGHNY", "KXHIGHCHI", "KXHIGHMIA"}
        forecast = await (await client.get("/sim/data/weather/ny")).json()
        periods = forecast["properties"]["periods"]
        assert forecast["type"] == "Feature" and len(periods) >= 10
        day = next(p for p in periods if p["isDaytime"])
        assert isinstance(day["temperature"], int) and day["temperatureUnit"] == "F"
        assert day["edgedesk"]["temperatureSpreadF"] > 0
        cpi = await (await client.get("/sim/data/cpi")).json()
        assert cpi["event_ticker"].startswith("KXCPI-") and cpi["consensus"]["median"] is not None
        assert cpi["actual"] is None
        missing = await client.get("/sim/data/weather/atlantis")
        assert missing.status == 404 and "known cities" in (await missing.json())["error"]["details"]
        truth = await client.get("/sim/truth")
        assert truth.status == 404 and "--reveal-truth" in (await truth.json())["error"]["details"]


async def test_truth_endpoint_with_reveal_truth() -> None:
    app, world = _app(reveal_truth=True)
    async with TestClient(TestServer(app)) as client:
        body = await (await client.get("/sim/truth")).json()
    markets = body["markets"]
    assert set(markets) == {t for t in world.specs if t not in world.determined}
    # the buckets of one weather event are a distribution: they sum to one
    event = world.specs[world.by_key["NY"][0]].event_ticker
    total = sum(float(p) for t, p in markets.items() if world.specs[t].event_ticker == event)
    assert abs(total - 1.0) < 1e-5
    assert abs(float(markets["CONTROLS-2026-D"]) + float(markets["CONTROLS-2026-R"]) - 1.0) < 1e-5


async def test_install_world_runs_the_world_with_the_app() -> None:
    clock = SimClock(speed=4.0, start_ms=START_MS)
    app = web.Application()
    app[STATE] = SimState(exchange=Exchange(clock), clock=clock)
    world = install_world(app, seed=5)
    quoted = world.agents.actions  # the makers' opening quotes
    async with TestClient(TestServer(app)) as client:
        await asyncio.sleep(1.0)  # 4 simulated seconds: 16 steps of 250 ms
        polls = await client.get("/sim/data/polls")
        assert polls.status == 200
        assert world.steps >= 8 and world.agents.actions > quoted
    assert app[STATE].extras["world"] is world
    steps = world.steps  # the app has shut down
    await asyncio.sleep(0.3)
    assert world.steps == steps  # the world task stopped with the app


async def test_data_routes_without_a_world_say_so() -> None:
    clock = SimClock(start_ms=START_MS)
    app = web.Application()
    app[STATE] = SimState(exchange=Exchange(clock), clock=clock)
    setup_data_routes(app)
    async with TestClient(TestServer(app)) as client:
        r = await client.get("/sim/data/polls")
        assert r.status == 503 and (await r.json())["error"]["code"] == "world_not_running"


async def test_the_running_world_follows_a_clock_jump() -> None:
    clock = SimClock(speed=1.0, start_ms=START_MS)
    world = World(Exchange(clock), clock, seed=6)
    task = asyncio.create_task(world.run())
    try:
        await asyncio.sleep(0.3)
        clock.advance(3 * 3_600_000)  # an operator moves the clock three hours on (POST /sim/clock)
        await asyncio.sleep(0.5)
        assert world._truth_t >= START_MS + 3 * 3_600_000 - 60_000  # the truth caught up
        actions = world.agents.actions
        await asyncio.sleep(0.5)
        assert world.agents.actions > actions  # and the traders carry on from there
        assert not task.done()
    finally:
        task.cancel()
