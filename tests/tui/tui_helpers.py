"""Shared helpers for the desk's pilot tests: start the app on a fake engine, wait for conditions."""

from __future__ import annotations

import asyncio
import time
from contextlib import asynccontextmanager

from desk_fixture import FIXED_NOW_MS, desk_snapshot
from fake_engine import FakeClock, FakeEngine

from console.config import DeskConfig, UiConfig
from console.tui.app import EdgeDeskApp


def config_with(**ui) -> DeskConfig:
    return DeskConfig(ui=UiConfig(**ui))


@asynccontextmanager
async def fake_desk(size=(160, 50), config: DeskConfig | None = None, **engine_kw):
    clock = FakeClock(FIXED_NOW_MS)
    engine = FakeEngine(desk_snapshot(), clock, **engine_kw).start()
    app = EdgeDeskApp(engine.control, config, clock_ms=clock, wait_stopped=engine.wait_stopped)
    try:
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            yield app, pilot, engine
    finally:
        engine.stop()


async def until(pilot, predicate, timeout_s: float = 3.0) -> bool:
    """Let the app run until `predicate()` holds (the kernel thread works meanwhile)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        await pilot.pause(0.02)
    return bool(predicate())


async def settle(pilot, seconds: float = 0.3) -> None:
    """Give the kernel thread and the UI timers time to turn (for asserting that nothing happened)."""
    await pilot.pause(seconds)
    await asyncio.sleep(0)


def screen_text(app) -> str:
    """The screen as plain text (what a user reads), via the compositor."""
    import io

    from rich.console import Console

    buffer = io.StringIO()
    console = Console(file=buffer, width=app.size.width, height=app.size.height, color_system=None,
                      force_terminal=False, legacy_windows=False)
    console.print(app.screen._compositor.render_update(full=True, screen_stack=app._background_screens))
    return buffer.getvalue()
