"""The living market world of the simulator (issue 3): universe, hidden truth, data feed, synthetic traders.

Plugging it into the server is one call, made after `build_app(state)` and before the app starts:

    from console.sim.world import install_world
    install_world(app, seed=seed, reveal_truth=reveal_truth)

It builds a `World` on `app[STATE].exchange` / `.clock` (listing the default universe at once), stores
it at `state.extras["world"]`, adds the /sim/data and /sim/truth routes, and runs `World.run()` as a
task for the app's lifetime. docs/world.md describes every process and parameter.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from aiohttp import web

from console.sim.state import STATE
from console.sim.world.data import WORLD_EXTRA, setup_data_routes
from console.sim.world.world import World, WorldParams

__all__ = ["World", "WorldParams", "install_world", "setup_data_routes"]


def install_world(app: web.Application, *, seed: int | None = 0, reveal_truth: bool = False,
                  step_ms: int | None = None) -> World:
    """Create the world on the app's exchange, serve its data routes and run it while the app runs."""
    state = app[STATE]
    world = World(state.exchange, state.clock, 0 if seed is None else seed, reveal_truth, step_ms=step_ms)
    state.extras[WORLD_EXTRA] = world
    setup_data_routes(app)

    async def run_world(_app: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(world.run(), name="sim-world")
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    app.cleanup_ctx.append(run_world)
    return world
