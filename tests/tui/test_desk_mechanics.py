"""Desk mechanics with real key presses, against the fake kernel thread (screens, panes, keymap, themes).

What reaches the exchange is checked against the real engine in test_desk_exchange.py; here the fake
records the commands the desk sent and the tests check what the operator sees.
"""

from __future__ import annotations

from desk_fixture import FIXED_NOW_MS
from fake_engine import fill_event
from tui_helpers import config_with, fake_desk, screen_text, settle, until

from console.domain.side import Side
from console.engine.control import Approve, CheckOrder, Flatten, Mode, PlaceOrder, Reject, SetAuto, Watch
from console.tui.screens.desk import DeskScreen
from console.tui.screens.help import HelpScreen
from console.tui.screens.ticket import OrderTicket
from console.tui.screens.watch import WatchPrompt
from console.tui.widgets.cursor_table import CursorTable
from console.tui.widgets.ladder import OrderBookLadder


async def test_a_toggles_auto_and_the_badge_follows():
    async with fake_desk() as (app, pilot, engine):
        assert "MANUAL" in screen_text(app).splitlines()[0]
        await pilot.press("a")
        assert await until(pilot, lambda: engine.mode is Mode.AUTO)
        assert await until(pilot, lambda: " AUTO " in screen_text(app).splitlines()[0])
        await pilot.press("a")
        assert await until(pilot, lambda: engine.mode is Mode.MANUAL)
        assert engine.seen(SetAuto) == [SetAuto(True), SetAuto(False)]


async def test_y_approves_the_selected_proposal_and_n_rejects():
    async with fake_desk() as (app, pilot, engine):
        await pilot.press("y")  # cursor on the first (oldest) proposal: int-17
        assert await until(pilot, lambda: engine.sent)
        assert engine.seen(Approve) == [Approve("int-17")]
        assert engine.sent[0] == PlaceOrder("KXSENATEPA-26", Side.BID, 5900, 2500)
        table = app.desk.query_one("#proposals-pane-table", CursorTable)
        assert await until(pilot, lambda: table.row_count == 1 and table.selected_key() == "int-18")
        await pilot.press("n")
        assert await until(pilot, lambda: engine.seen(Reject) == [Reject("int-18")])
        assert await until(pilot, lambda: table.row_count == 0)
        assert len(engine.sent) == 1


async def test_an_expired_proposal_is_not_sent():
    async with fake_desk() as (app, pilot, engine):
        engine.clock.advance(25_000)  # both proposals are past their time to live now
        await settle(pilot)
        lines = [line for line in screen_text(app).splitlines() if "KXHIGHNY-26OCT29-B62  BUY YES" in line]
        assert any(" exp " in line for line in lines)
        assert "EXPIRED, y will not send it" in screen_text(app)  # the selected proposal, in words
        await pilot.press("y")
        await settle(pilot)
        assert engine.seen(Approve) == [] and engine.sent == []


async def test_ticket_prefills_from_the_book_shows_the_check_and_sends_on_enter():
    async with fake_desk() as (app, pilot, engine):
        await pilot.press("b")  # first market KXSENATE-26-D: best YES ask 0.46
        assert await until(pilot, lambda: isinstance(app.screen, OrderTicket))
        ticket = app.screen
        assert ticket.query_one("#ticket-price").value == "0.46"
        assert ticket.query_one("#ticket-count").value == "15.00"  # the model's suggested size
        assert await until(pilot, lambda: ticket.verdict is not None and ticket.verdict.ok)
        assert "PASS" in screen_text(app)
        await pilot.press("enter")
        assert await until(pilot, lambda: engine.sent)
        assert engine.sent == [PlaceOrder("KXSENATE-26-D", Side.BID, 4600, 1500)]
        assert isinstance(engine.seen(CheckOrder)[0], CheckOrder)
        assert isinstance(app.screen, DeskScreen)


async def test_ticket_with_a_failing_check_does_not_send():
    async with fake_desk(max_check_count=1000) as (app, pilot, engine):
        await pilot.press("s")
        assert await until(pilot, lambda: isinstance(app.screen, OrderTicket))
        ticket = app.screen
        assert ticket.query_one("#ticket-price").value == "0.44"  # sell at the best YES bid
        ticket.query_one("#ticket-count").focus()
        await pilot.press("ctrl+u", *"25")
        assert await until(pilot, lambda: ticket.verdict is not None)
        assert not ticket.verdict.ok and "REJECTED" in screen_text(app)
        assert "max_contracts_per_market" in screen_text(app)
        await pilot.press("enter")
        await settle(pilot)
        assert engine.sent == [] and isinstance(app.screen, OrderTicket)
        await pilot.press("escape")
        assert await until(pilot, lambda: isinstance(app.screen, DeskScreen))
        assert engine.sent == []


async def test_ctrl_k_flattens_from_under_the_ticket_modal_without_confirmation():
    async with fake_desk() as (app, pilot, engine):
        await pilot.press("b")
        assert await until(pilot, lambda: isinstance(app.screen, OrderTicket))
        await pilot.press("ctrl+k")
        assert await until(pilot, lambda: engine.seen(Flatten))
        assert await until(pilot, lambda: engine.flattening or engine.flatten_report)
        assert await until(pilot, lambda: not engine.flattening and engine.flatten_report)
        await pilot.press("escape")
        assert await until(pilot, lambda: "flattened: cost $2.34" in screen_text(app).splitlines()[0])
        assert "flat in 5 turns; cost $2.34" in screen_text(app)  # the whole report, in the risk pane
        assert "HALTED" in screen_text(app).splitlines()[0]


async def test_ctrl_k_flattens_from_inside_the_search_input_and_keeps_the_text():
    async with fake_desk() as (app, pilot, engine):
        await pilot.press("slash", *"sen")
        search = app.desk.query_one("#search")
        assert search.has_focus and search.value == "sen"
        await pilot.press("ctrl+k")
        assert await until(pilot, lambda: engine.seen(Flatten))
        assert search.value == "sen"  # the Input's own ctrl+k (delete to end) did not run
        assert await until(pilot, lambda: "FLATTENING" in screen_text(app).splitlines()[0]
                           or "flat in" in screen_text(app))


async def test_status_shows_flattening_until_flat_then_the_cost():
    async with fake_desk(flatten_turns=60) as (app, pilot, engine):
        await pilot.press("ctrl+k")
        assert await until(pilot, lambda: "FLATTENING" in screen_text(app).splitlines()[0])
        assert await until(pilot, lambda: "cost $2.34" in screen_text(app).splitlines()[0])
        assert "FLATTENING" not in screen_text(app).splitlines()[0]


async def test_search_filters_across_venues_and_categories():
    async with fake_desk() as (app, pilot, engine):
        table = app.desk.query_one("#markets", CursorTable)
        assert table.row_count == 8
        await pilot.press("slash", *"polymarket senate")
        assert await until(pilot, lambda: table.row_count == 1)
        assert table.selected_key() == "PM-SENATE-26-D"
        await pilot.press("escape")
        assert await until(pilot, lambda: table.row_count == 8)
        await pilot.press("slash", *"weather", "enter")
        assert await until(pilot, lambda: table.selected_key() == "KXHIGHNY-26OCT29-B62")
        assert table.has_focus
        assert await until(pilot, lambda: app.desk.query_one(OrderBookLadder).book.ticker == "KXHIGHNY-26OCT29-B62")


async def test_book_ladder_no_view_and_own_orders():
    async with fake_desk() as (app, pilot, engine):
        ladder = app.desk.query_one(OrderBookLadder)
        text = screen_text(app)
        assert "YES view" in text and "◆25" in text and "◆10" in text  # own bid 25 @0.43, own ask 10 @0.47
        await pilot.press("v")
        await settle(pilot, 0.1)
        text = screen_text(app)
        assert ladder.no_view and "NO view" in text
        # the best NO bid is 1 - best YES ask = 0.54, and our YES ask at 0.47 is a NO bid at 0.53
        assert ladder._bids[0].price == 5400 and any(lv.price == 5300 and lv.own == 1000 for lv in ladder._bids)


async def test_keymap_from_config_remaps_and_help_lists_it():
    async with fake_desk(config=config_with(keys={"toggle_auto": "A"})) as (app, pilot, engine):
        await pilot.press("a")
        await settle(pilot)
        assert engine.seen(SetAuto) == []
        await pilot.press("A")
        assert await until(pilot, lambda: engine.seen(SetAuto) == [SetAuto(True)])
        await pilot.press("question_mark")
        assert await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        assert await until(pilot, lambda: "toggle_auto" in screen_text(app))
        text = screen_text(app)
        assert "FLATTEN" in text and "^k" in text
        line = next(line for line in text.splitlines() if "toggle_auto" in line and "Auto" in line)
        assert " A  Auto " in line


async def test_t_cycles_the_desk_themes():
    async with fake_desk() as (app, pilot, engine):
        seen = [app.theme]
        for _ in range(4):
            await pilot.press("t")
            seen.append(app.theme)
        assert seen == ["dark", "light", "ansi", "colorblind", "dark"]


async def test_engine_events_reach_the_alerts_log_through_the_bridge():
    async with fake_desk() as (app, pilot, engine):
        engine.emit_later(fill_event())
        assert await until(pilot, lambda: "fill BUY YES 5 KXSENATE-26-D @0.43" in screen_text(app))
        assert app.bridge is not None and app.bridge.posted >= 1


async def test_cancel_selected_and_cancel_all():
    async with fake_desk() as (app, pilot, engine):
        orders = app.desk.query_one("#orders-pane", CursorTable)
        orders.focus()
        await pilot.press("down", "c")
        assert await until(pilot, lambda: len(engine.orders) == 2)
        assert "ed-b-0002" not in {o.client_order_id for o in engine.orders}
        await pilot.press("C")
        assert await until(pilot, lambda: engine.orders == [])
        assert await until(pilot, lambda: orders.row_count == 0)


async def test_compact_layout_at_80x24_uses_tabs():
    async with fake_desk(size=(80, 24)) as (app, pilot, engine):
        assert app.desk.has_class("compact")
        assert not app.desk.query_one("#book-pane").display or "Book KX" not in screen_text(app)
        await pilot.press("2")
        await settle(pilot, 0.1)
        assert "Book KXSENATE-26-D" in screen_text(app)
        await pilot.press("7")
        await settle(pilot, 0.1)
        text = screen_text(app)
        assert "Proposals" in text and "Open orders" in text
        await pilot.press("y")
        assert await until(pilot, lambda: engine.sent)


async def test_palette_selects_a_market():
    async with fake_desk() as (app, pilot, engine):
        await pilot.press("ctrl+p")
        await settle(pilot, 0.2)
        await pilot.press(*"market KXGOVCA")
        await settle(pilot, 0.4)
        await pilot.press("enter")
        assert await until(pilot, lambda: app.desk.selected_ticker == "KXGOVCA-26")


async def test_fixed_clock_keeps_time_left_deterministic():
    async with fake_desk() as (app, pilot, engine):
        assert engine.clock() == FIXED_NOW_MS
        text = screen_text(app)
        assert "24s" in text and "9s" in text


async def test_palette_offers_themes_and_actions():
    async with fake_desk() as (app, pilot, engine):
        await pilot.press("ctrl+p")
        await settle(pilot, 0.2)
        await pilot.press(*"theme: light")
        await settle(pilot, 0.4)
        await pilot.press("enter")
        assert await until(pilot, lambda: app.theme == "light")
        await pilot.press("ctrl+p")
        await settle(pilot, 0.2)
        await pilot.press(*"flatten everything")
        await settle(pilot, 0.4)
        await pilot.press("enter")
        assert await until(pilot, lambda: engine.seen(Flatten))


async def test_ctrl_c_does_not_quit_and_says_what_does():
    async with fake_desk() as (app, pilot, engine):
        await pilot.press("ctrl+c")
        await settle(pilot, 0.2)
        assert app.is_running and engine.shutdown_policy is None
        assert any("q quits" in n.message for n in app._notifications)


ESSENTIAL_LABELS = ("^k FLATTEN", "? Help", "y Approve", "n Reject", "C Cancel all")


async def test_essential_keys_stay_in_the_footer_at_80x24_even_remapped():
    async with fake_desk(size=(80, 24), config=config_with(keys={"toggle_auto": "A"})) as (app, pilot, engine):
        for keys in ((), ("7",), ("3",), ("4",)):  # markets, orders, edges and arb tabs
            await pilot.press(*keys)
            await settle(pilot, 0.2)
            footer = screen_text(app).splitlines()[-1]
            for label in (*ESSENTIAL_LABELS, "A Auto"):
                assert label in footer, f"{label!r} missing from the footer after {keys}: {footer!r}"
        await pilot.press("slash")  # inside the search box letters type: only ctrl+k works, and says so
        await settle(pilot, 0.2)
        footer = screen_text(app).splitlines()[-1]
        assert "^k FLATTEN" in footer and "A Auto" not in footer and "y Approve" not in footer


async def test_wide_footer_lists_every_key_and_the_palette():
    async with fake_desk(size=(160, 50)) as (app, pilot, engine):
        footer = screen_text(app).splitlines()[-1]
        for label in (*ESSENTIAL_LABELS, "a Auto", "w Watch", "x Remove", "q Quit", "^p palette"):
            assert label in footer, label


async def test_palette_opens_the_watch_prompt_and_sends_watch():
    async with fake_desk() as (app, pilot, engine):
        await pilot.press("ctrl+p")
        await settle(pilot, 0.2)
        await pilot.press(*"watch markets")
        await settle(pilot, 0.4)
        await pilot.press("enter")
        assert await until(pilot, lambda: isinstance(app.screen, WatchPrompt))
        await pilot.press(*"kxnew-1, KXSENATE-26-D", "enter")
        assert await until(pilot, lambda: engine.seen(Watch))
        assert engine.seen(Watch) == [Watch(("KXNEW-1",))]  # only what the desk does not watch yet
        assert isinstance(app.screen, DeskScreen)
