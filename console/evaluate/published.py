"""What the world publishes, read in process through its own HTTP handlers (never its hidden state).

The evaluator runs the world without a server, but the models must see exactly what a desk would
fetch from `/sim/data/...`. So each read calls the data route's real aiohttp handler with a minimal
stand-in request and decodes the JSON it answers; the desk's own parsers
(`console.models.sources.sim_feed`, `console.models.sources.nws`) then read that JSON. The handlers
draw nothing and never await, so a read is a pure function of what was already published.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from console.models.polls import ApprovalPoll, Poll
from console.models.sources.nws import DailyHigh, parse_forecast
from console.models.sources.sim_feed import (
    City,
    CpiConsensus,
    parse_cities,
    parse_cpi,
    parse_observations,
    parse_polls,
)
from console.sim.state import STATE
from console.sim.world import data as routes


class _State:
    def __init__(self, world: Any) -> None:
        self.extras = {routes.WORLD_EXTRA: world}


class _Request:
    """Just what the data handlers read: app[STATE].extras, query and match_info."""

    def __init__(self, world: Any, query: dict[str, str] | None = None, match: dict[str, str] | None = None) -> None:
        self.app = {STATE: _State(world)}
        self.query = query or {}
        self.match_info = match or {}


def serve(world: Any, handler: Callable[[Any], Any], query: dict[str, str] | None = None,
          match: dict[str, str] | None = None) -> Any:
    """Call one data route's handler and return the JSON it answers (raises on an error status)."""
    coro = handler(_Request(world, query, match))
    try:
        coro.send(None)
    except StopIteration as done:
        response = done.value
    else:  # a handler that awaited something would need a loop; none of them does
        coro.close()
        raise RuntimeError(f"data handler {handler.__name__} did not answer synchronously")
    body = json.loads(response.text)
    if response.status != 200:
        raise RuntimeError(f"data route answered {response.status}: {body}")
    return body


@dataclass
class Published:
    """One read of everything the data feed serves, parsed by the desk's adapters."""

    polls: list[Poll] = field(default_factory=list)  # race and generic-ballot polls
    approval: list[ApprovalPoll] = field(default_factory=list)
    cities: list[City] = field(default_factory=list)
    forecasts: dict[str, list[DailyHigh]] = field(default_factory=dict)  # series ticker -> daily highs
    observed: dict[str, dict[dt.date, int]] = field(default_factory=dict)  # series ticker -> reported highs
    cpi: CpiConsensus | None = None


def read_published(world: Any, with_weather: bool = True) -> Published:
    """Read the polls, generic ballot, approval, forecasts and CPI consensus as a desk would."""
    out = Published()
    out.polls, _ = parse_polls(serve(world, routes.polls))
    generic, _ = parse_polls(serve(world, routes._national("generic_ballot")))
    out.polls.extend(generic)
    _, out.approval = parse_polls(serve(world, routes._national("approval")))
    if with_weather:
        out.cities = parse_cities(serve(world, routes.cities))
        for city in out.cities:
            out.forecasts[city.series_ticker] = parse_forecast(
                serve(world, routes.weather, match={"city": city.city}))
            out.observed[city.series_ticker] = parse_observations(
                serve(world, routes.observations, match={"city": city.city}))
    out.cpi = parse_cpi(serve(world, routes.cpi))
    return out
