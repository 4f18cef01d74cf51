"""Helpers for the world tests: a World on an in-process Exchange with a clock that only step_until moves."""

from __future__ import annotations

from console.sim.clock import SimClock
from console.sim.exchange import Exchange
from console.sim.world.world import World, WorldParams

START_MS = 1_795_359_600_000  # 2026-11-22 10:00 ET (15:00 UTC)
HOUR_MS = 3_600_000


def new_world(seed: int = 1, *, start_ms: int = START_MS, step_ms: int | None = None,
              reveal_truth: bool = False, params: WorldParams | None = None) -> World:
    # speed 1e-6: the clock stands still unless step_until jumps it, so runs are fast and exact
    clock = SimClock(speed=1e-6, start_ms=start_ms)
    return World(Exchange(clock, seed=seed), clock, seed, reveal_truth, step_ms=step_ms, params=params)


def tape(world: World) -> list[tuple[str, str, int, int, str]]:
    return [(t.trade_id, t.ticker, t.yes_price, t.count, str(t.taker_side)) for t in world.exchange.trades]
