"""Golden screenshots of the main desk: every theme at 80x24 (compact, tabs) and 160x50 (full grid).

The desk draws a fixed snapshot at a fixed clock, so the SVG is byte-for-byte stable. After an
intended change to the look, regenerate with:

    EDGEDESK_UPDATE_GOLDEN=1 .venv/bin/pytest tests/tui/test_desk_golden.py

and look at the new files in tests/tui/golden/ before committing them.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from desk_fixture import FIXED_NOW_MS, desk_snapshot

from console.engine.control import Control
from console.tui.app import EdgeDeskApp
from console.tui.themes import THEME_NAMES

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("EDGEDESK_UPDATE_GOLDEN") == "1"
SIZES = ((80, 24), (160, 50))


async def render_desk(theme: str, size: tuple[int, int]) -> str:
    control = Control()
    control.publish(desk_snapshot())
    app = EdgeDeskApp(control, clock_ms=lambda: FIXED_NOW_MS)
    app.theme = theme
    app.animation_level = "none"  # the tab underline slides otherwise: a screenshot could catch it mid-way
    async with app.run_test(size=size) as pilot:
        await pilot.wait_for_scheduled_animations()
        title = f"edgedesk {theme} {size[0]}x{size[1]}"
        # under load the first frames may still be settling (footer recompose, table sync): take the
        # screenshot once two in a row agree
        previous = None
        for _ in range(20):
            await pilot.pause(0.1)
            svg = app.export_screenshot(title=title)
            if svg == previous:
                return svg
            previous = svg
        return svg


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("theme", THEME_NAMES)
async def test_desk_matches_golden_screenshot(theme, size):
    svg = await render_desk(theme, size)
    path = GOLDEN / f"desk-{theme}-{size[0]}x{size[1]}.svg"
    if UPDATE:
        path.write_text(svg, encoding="utf-8")
    assert path.exists(), f"{path} missing: run with EDGEDESK_UPDATE_GOLDEN=1 to create it"
    expected = path.read_text(encoding="utf-8")
    assert svg == expected, (f"the {theme} desk at {size[0]}x{size[1]} no longer matches {path.name}; if the change "
                             "is intended, regenerate with EDGEDESK_UPDATE_GOLDEN=1 and review the SVGs")


async def test_screenshots_differ_between_themes_and_show_the_desk():
    dark = await render_desk("dark", (160, 50))
    ansi = await render_desk("ansi", (160, 50))
    assert dark != ansi
    for text in ("KXSENATE-26-D", "MANUAL", "cost&#160;to&#160;flatten", "Proposals"):
        assert text in dark, text
