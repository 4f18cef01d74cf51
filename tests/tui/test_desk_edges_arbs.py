"""The Edges and Arbitrage panes fed through the desk's real `Control`: hand-built snapshots published as
the kernel publishes them, real key presses to move around, and what the operator reads and sees.

Edges: best edge after fees first, the side spelled out, the reason for a market not traded, colours
by sign from the theme (the colour-blind one too), and a selection that survives re-sorting. Arbitrage:
best net edge first, unverified pairs flagged, the engine's instruction for both venues under the table,
and an arb fill's Polymarket instruction popping up.
"""

from __future__ import annotations

import dataclasses
from contextlib import asynccontextmanager

from desk_fixture import FIXED_NOW_MS, desk_snapshot
from rich.color import Color as RichColor
from textual.color import Color
from tui_helpers import screen_text, settle, until

from console.domain.side import Side
from console.engine.control import Alert, ArbRow, Control, EdgeRow
from console.tui.app import EdgeDeskApp
from console.tui.widgets.cursor_table import CursorTable

EDGES = (
    EdgeRow("KXHOUSE-26-R", "ensemble", 0.388, 3900, 4100, None, -0.012, 0, "no_edge: model inside the spread"),
    EdgeRow("KXSENATE-26-D", "ensemble", 0.497, 4400, 4600, Side.BID, 0.031, 1500, "BUY YES"),
    EdgeRow("KXGOVCA-26", "fundament", 0.884, 8600, 8800, Side.BID, 0.004, 0, "below_min_edge (0.4% < 1.0%)"),
    EdgeRow("KXSENATEPA-26", "polls", 0.352, 5700, 5900, Side.ASK, 0.054, 2500, "BUY NO"),
)


def with_(snap, version: int, **changes):
    return dataclasses.replace(snap, version=version, **changes)


@asynccontextmanager
async def desk(size=(160, 50), theme: str = "dark", **changes):
    control = Control()
    control.publish(with_(desk_snapshot(), 1, **changes))
    app = EdgeDeskApp(control, clock_ms=lambda: FIXED_NOW_MS)
    app.theme = theme
    async with app.run_test(size=size) as pilot:
        await settle(pilot, 0.3)
        yield app, pilot, control


def rows_on_screen(app, tickers) -> list[str]:
    """The screen's lines that show one of `tickers` in the Edges pane (left column), top to bottom."""
    return [line for line in screen_text(app).splitlines() if any(f"│ {t} " in line for t in tickers)]


def cell_colour(table: CursorTable, y: int, text: str) -> RichColor | None:
    strip = table.render_line(y)
    return next(seg.style.color for seg in strip if text in seg.text)


async def test_edges_sorted_by_edge_after_fees_with_the_side_and_why_not():
    async with desk(size=(80, 24), edges=EDGES) as (app, pilot, _control):
        await pilot.press("3")
        await settle(pilot, 0.2)
        text = screen_text(app)
        lines = [line for line in text.splitlines() if "ensemble" in line or "%" in line and "│ KX" in line]
        order = [next(t for t in ("KXSENATEPA-26", "KXSENATE-26-D", "KXGOVCA-26", "KXHOUSE-26-R")
                      if f" {t} " in line) for line in lines]
        assert order == ["KXSENATEPA-26", "KXSENATE-26-D", "KXGOVCA-26", "KXHOUSE-26-R"]  # +5.4, +3.1, +0.4, -1.2
        pa = next(line for line in lines if " KXSENATEPA-26 " in line)
        assert "BUY NO" in pa and "+5.4%" in pa and " 25 " in pa  # the side a trader reads, not Side.ASK
        gov = next(line for line in lines if " KXGOVCA-26 " in line)
        assert "BUY YES" in gov and "+0.4%" in gov and "below_min_edge" in gov  # why it is not traded
        house = next(line for line in lines if " KXHOUSE-26-R " in line)
        assert "-1.2%" in house and "no_edge" in house


async def test_edge_colours_follow_the_sign_and_the_colour_blind_theme():
    async with desk(theme="colorblind", edges=EDGES) as (app, _pilot, _control):
        table = app.desk.query_one("#edges-pane-table", CursorTable)
        pos = Color.parse(app.theme_variables["edge-pos"]).rich_color
        neg = Color.parse(app.theme_variables["edge-neg"]).rich_color
        assert pos.triplet.hex == "#56b4e9" and neg.triplet.hex == "#e69f00"  # blue / orange, not green / red
        keys = table.keys
        # row 1 is under the cursor (cursor colours); rows 2.. carry the theme's edge colours
        assert cell_colour(table, 1 + keys.index("KXSENATE-26-D|ensemble"), "+3.1%") == pos
        assert cell_colour(table, 1 + keys.index("KXHOUSE-26-R|ensemble"), "-1.2%") == neg


async def test_edges_selection_is_kept_when_rows_resort_and_only_changed_rows_repaint():
    async with desk(edges=EDGES) as (app, pilot, control):
        await pilot.press("3", "down", "down")  # focus the edges table, move to the third row
        table = app.desk.query_one("#edges-pane-table", CursorTable)
        assert await until(pilot, lambda: table.has_focus and table.selected_key() == "KXGOVCA-26|fundament")
        assert await until(pilot, lambda: "below_min_edge (0.4% < 1.0%)" in screen_text(app))  # the details line

        # one edge moves, the order stays: one row is redrawn, the cursor does not move
        before = table.cell_updates
        moved = (EDGES[0], EDGES[1], dataclasses.replace(EDGES[2], edge_after_fees=0.006), EDGES[3])
        control.publish(with_(control.snapshot(), 2, edges=moved))
        assert await until(pilot, lambda: "+0.6%" in screen_text(app))
        assert table.cell_updates - before == 1 and table.selected_key() == "KXGOVCA-26|fundament"

        # the selected market's edge jumps to the top: the rows re-sort and the cursor goes with it
        top = (EDGES[0], EDGES[1], dataclasses.replace(EDGES[2], edge_after_fees=0.09, suggested_count=700,
                                                       signal="BUY YES"), EDGES[3])
        control.publish(with_(control.snapshot(), 3, edges=top))
        assert await until(pilot, lambda: table.keys[0] == "KXGOVCA-26|fundament")
        assert table.selected_key() == "KXGOVCA-26|fundament" and table.cursor_row == 0
        assert "BUY YES 7" in screen_text(app)  # the details line follows the row: now a trade of 7
        await pilot.press("down")
        assert table.selected_key() == "KXSENATEPA-26|polls"


async def test_arbs_best_first_unverified_flagged_and_the_instruction_shown():
    arbs = desk_snapshot().arbs
    async with desk(size=(80, 24)) as (app, pilot, control):
        await pilot.press("4")
        table = app.desk.query_one("#arb-pane-table", CursorTable)
        assert await until(pilot, lambda: table.has_focus)
        assert table.keys == ("KXSENATE-26-D|PM-SENATE-26-D|kalshi_yes", "KXHOUSE-26-R|PM-HOUSE-26-R|kalshi_no",
                              "KXSENATE-26-D|PM-SENATE-26-D|kalshi_no")  # +2.1%, +0.8%, -3.4%
        text = screen_text(app)
        first = next(line for line in text.splitlines() if "BUY YES" in line and "+2.1%" in line)
        assert "120" in first and "9.4%" in first and " yes " in first
        assert "Polymarket: buy 120 'No' at <= 0.51" in text.replace("\n", " ").replace("│", "")
        await pilot.press("down")
        assert await until(pilot, lambda: "UNVERIFIED pair" in screen_text(app))
        unverified = next(line for line in screen_text(app).splitlines() if "+0.8%" in line)
        assert "BUY NO" in unverified and " NO " in unverified
        assert "wording differs" in screen_text(app).replace("\n", " ")

        # new rows arrive (a better pair): sorted in, the cursor stays on the unverified pair
        better = ArbRow("KXGOVCA-26", "PM-GOVCA-26", "kalshi_yes", 0.05, 3000, 40.0, True, "Kalshi: buy 30 YES")
        control.publish(with_(control.snapshot(), 2, arbs=(*arbs, better)))
        assert await until(pilot, lambda: table.keys[0] == "KXGOVCA-26|PM-GOVCA-26|kalshi_yes")
        assert table.selected_key() == "KXHOUSE-26-R|PM-HOUSE-26-R|kalshi_no"
        assert "UNVERIFIED pair" in screen_text(app)


async def test_an_arb_fill_pops_up_the_polymarket_instruction():
    async with desk() as (app, pilot, control):
        instruction = "arb-kx: Kalshi filled 20 YES KXSENATE-26-D; now buy 20 'No' on Polymarket at <= 0.51"
        control.emit(Alert("warn", "arb", instruction, FIXED_NOW_MS))
        assert await until(pilot, lambda: any(n.message == instruction for n in app._notifications))
        [note] = [n for n in app._notifications if n.message == instruction]
        assert note.severity == "warning" and note.timeout >= 60  # stays up while the operator acts
        assert await until(pilot, lambda: "arb-kx: Kalshi filled 20 YES" in screen_text(app))  # and in Alerts


async def test_a_click_selects_an_arb_row():
    async with desk() as (app, pilot, _control):
        table = app.desk.query_one("#arb-pane-table", CursorTable)
        await pilot.click(table, offset=(5, 3))  # the header, then the third row
        assert await until(pilot, lambda: table.selected_key() == "KXSENATE-26-D|PM-SENATE-26-D|kalshi_no")
        assert "no edge after fees" in screen_text(app)
