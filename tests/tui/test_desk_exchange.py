"""The desk's safety keys pressed for real, checked at the built-in exchange (issue 7).

Each test runs the real engine (console.engine.runtime) against the shared `edgedesk sim` subprocess,
opens the Textual desk on its Control, presses the keys a trader would, and then asks the exchange
itself (the desk account's orders, fills and positions over its REST API) what happened.
"""

from __future__ import annotations

import re
import sys
import time
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from tui_helpers import screen_text, until

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))
from engine_helpers import FAST_RISK, Account, new_markets  # noqa: E402

from console.config import DeskConfig  # noqa: E402
from console.domain.side import Side  # noqa: E402
from console.engine.control import IntentProposed, Mode, PlaceOrder  # noqa: E402
from console.engine.runtime import build_engine  # noqa: E402
from console.engine.strategies import ThresholdTaker  # noqa: E402
from console.tui.app import EdgeDeskApp  # noqa: E402
from console.tui.screens.desk import DeskScreen  # noqa: E402
from console.tui.screens.ticket import OrderTicket  # noqa: E402
from console.tui.screens.watch import WatchPrompt  # noqa: E402
from console.tui.widgets.cursor_table import CursorTable  # noqa: E402
from console.tui.widgets.ladder import OrderBookLadder  # noqa: E402


def desk_config(tickers, *, exit_policy="cancel", risk=None) -> DeskConfig:
    return DeskConfig.model_validate({
        "risk": {**FAST_RISK, **(risk or {})},
        "engine": {"watch": list(tickers), "forward_test_log": False},
        "ui": {"exit_policy": exit_policy},
    })


@asynccontextmanager
async def desk_on_exchange(account: Account, home: Path, tickers, *, strategies=(), exit_policy="cancel",
                           risk=None, size=(160, 50)):
    cfg = desk_config(tickers, exit_policy=exit_policy, risk=risk)
    eng = build_engine(cfg, home=home, venue=account.venue(), strategies=list(strategies), auto=False)
    eng.start()
    try:
        assert eng.wait_ready(30), "the engine did not finish its start-up reconciliation"
        app = EdgeDeskApp(eng.control, cfg, wait_stopped=eng.kernel.finished.wait)
        async with app.run_test(size=size) as pilot:
            assert await until(pilot, lambda: set(tickers) <= {m.ticker for m in eng.control.snapshot().markets},
                               timeout_s=10)
            await pilot.pause(0.3)
            yield app, pilot, eng
    finally:
        eng.stop("leave")


async def poll(pilot, predicate, timeout_s: float = 10.0) -> bool:
    """Wait for the exchange (REST reads are blocking, so poll a few times a second)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        await pilot.pause(0.2)
    return bool(predicate())


def resting(account: Account, ticker: str) -> list[dict]:
    return [o for o in account.orders(status="resting") if o["ticker"] == ticker]


def taker(ticker: str) -> ThresholdTaker:
    return ThresholdTaker("taker", frozenset({ticker}), buy_at_or_below=5000, count=200, max_position=200)


async def test_a_toggles_auto_and_the_strategy_trades_at_the_exchange(sim, tmp_path):
    [ticker] = new_markets(sim, 1, prefix="KXTUIA")
    maker, me = Account(sim), Account(sim)
    maker.place(ticker, "ask", "0.4800", "5.00")
    async with desk_on_exchange(me, tmp_path, [ticker], strategies=[taker(ticker)]) as (app, pilot, eng):
        assert await until(pilot, lambda: eng.control.snapshot().proposals, timeout_s=10)
        assert me.positions() == {}  # MANUAL: a proposal, nothing sent
        await pilot.press("a")
        assert await until(pilot, lambda: eng.control.snapshot().mode is Mode.AUTO)
        assert await until(pilot, lambda: " AUTO " in screen_text(app).splitlines()[0])
        maker.place(ticker, "ask", "0.4900", "1.00")  # the book moves: the taker looks again, in AUTO
        assert await poll(pilot, lambda: me.positions().get(ticker) == 200)
        await pilot.press("a")
        assert await until(pilot, lambda: eng.control.snapshot().mode is Mode.MANUAL)
        maker.place(ticker, "ask", "0.4700", "1.00")
        await pilot.pause(1.0)
        assert me.positions() == {ticker: 200}  # back in MANUAL: no more orders went out


async def test_y_approves_and_n_rejects_at_the_exchange(sim, tmp_path):
    tickers = new_markets(sim, 2, prefix="KXTUIY")
    maker, me = Account(sim), Account(sim)
    for ticker in tickers:
        maker.place(ticker, "ask", "0.4800", "5.00")
    strategy = ThresholdTaker("taker", frozenset(tickers), buy_at_or_below=5000, count=200, max_position=200)
    async with desk_on_exchange(me, tmp_path, tickers, strategies=[strategy]) as (app, pilot, eng):
        table = app.desk.query_one("#proposals-pane-table", CursorTable)
        assert await until(pilot, lambda: table.row_count == 2, timeout_s=10)
        first = table.selected_key()
        first_ticker = next(p.ticker for p in eng.control.snapshot().proposals if p.intent_id == first)
        other_ticker = next(t for t in tickers if t != first_ticker)
        await pilot.press("y")
        assert await poll(pilot, lambda: me.positions().get(first_ticker) == 200)
        assert await until(pilot, lambda: table.row_count == 1)
        await pilot.press("n")
        assert await until(pilot, lambda: table.row_count == 0)
        await pilot.pause(1.0)
        assert me.positions() == {first_ticker: 200}
        assert [f for f in me.fills() if f["ticker"] == other_ticker] == []


async def test_an_expired_proposal_never_reaches_the_exchange(sim, tmp_path):
    [ticker] = new_markets(sim, 1, prefix="KXTUIE")
    maker, me = Account(sim), Account(sim)
    maker.place(ticker, "ask", "0.4800", "5.00")
    async with desk_on_exchange(me, tmp_path, [ticker], strategies=[taker(ticker)],
                                risk={"proposal_ttl_s": 1.0}) as (app, pilot, eng):
        proposed: list[IntentProposed] = []
        eng.control.subscribe(lambda e: proposed.append(e) if isinstance(e, IntentProposed) else None)
        assert await until(pilot, lambda: eng.control.snapshot().proposals, timeout_s=10)
        expires_ms = eng.control.snapshot().proposals[0].expires_ms
        while app.clock_ms() < expires_ms + 50:
            await pilot.pause(0.05)
        await pilot.press("y")  # the row may still be on screen: the desk must not send it
        await pilot.pause(1.0)
        assert me.orders() == [] and me.positions() == {}
        assert not eng.control.snapshot().proposals


async def test_manual_ticket_prefilled_from_the_book_sends_after_the_risk_check(sim, tmp_path):
    [ticker] = new_markets(sim, 1, prefix="KXTUIT")
    maker, me = Account(sim), Account(sim)
    maker.place(ticker, "ask", "0.5300", "10.00")
    maker.place(ticker, "bid", "0.4700", "10.00")
    async with desk_on_exchange(me, tmp_path, [ticker]) as (app, pilot, eng):
        app.desk.select_market(ticker)
        await pilot.press("b")
        assert await until(pilot, lambda: isinstance(app.screen, OrderTicket))
        ticket = app.screen
        assert ticket.query_one("#ticket-price").value == "0.53"  # the best YES ask
        ticket.query_one("#ticket-count").focus()
        await pilot.press("ctrl+u", *"3")
        assert await until(pilot, lambda: ticket.verdict is not None and ticket.order.count == 300, timeout_s=5)
        assert ticket.verdict.ok and "PASS" in screen_text(app)
        assert me.orders() == []  # nothing is sent before the confirming key
        await pilot.press("enter")
        assert await poll(pilot, lambda: me.positions().get(ticker) == 300)
        [fill] = [f for f in me.fills() if f["ticker"] == ticker]
        assert fill["yes_price_dollars"] == "0.5300"
        assert isinstance(app.screen, DeskScreen)


async def test_a_ticket_the_risk_gate_refuses_is_not_sent(sim, tmp_path):
    [ticker] = new_markets(sim, 1, prefix="KXTUIR")
    maker, me = Account(sim), Account(sim)
    maker.place(ticker, "ask", "0.5300", "10.00")
    async with desk_on_exchange(me, tmp_path, [ticker], risk={"max_contracts_per_market": 5}) as (app, pilot, eng):
        app.desk.select_market(ticker)
        await pilot.press("b")
        assert await until(pilot, lambda: isinstance(app.screen, OrderTicket))
        ticket = app.screen
        ticket.query_one("#ticket-count").focus()
        await pilot.press("ctrl+u", *"9")
        assert await until(pilot, lambda: ticket.verdict is not None and ticket.order.count == 900, timeout_s=5)
        assert not ticket.verdict.ok and "max_contracts_per_market" in ticket.verdict.rules
        await pilot.press("enter")
        await pilot.pause(1.0)
        assert me.orders() == [] and isinstance(app.screen, OrderTicket)


async def _hold_position_and_rest_a_bid(pilot, eng, me: Account, ticker: str) -> None:
    eng.control.submit(PlaceOrder(ticker, Side.BID, 5300, 400, time_in_force="immediate_or_cancel"))
    eng.control.submit(PlaceOrder(ticker, Side.BID, 3000, 100))
    assert await poll(pilot, lambda: me.positions().get(ticker) == 400 and len(resting(me, ticker)) == 1)
    assert await until(pilot, lambda: any(p.position for p in eng.control.snapshot().positions), timeout_s=10)


async def test_ctrl_k_flattens_from_under_an_open_modal(sim, tmp_path):
    [ticker] = new_markets(sim, 1, prefix="KXTUIF")
    maker, me = Account(sim), Account(sim)
    maker.place(ticker, "ask", "0.5300", "10.00")
    maker.place(ticker, "bid", "0.4700", "10.00")
    async with desk_on_exchange(me, tmp_path, [ticker]) as (app, pilot, eng):
        await _hold_position_and_rest_a_bid(pilot, eng, me, ticker)
        app.desk.select_market(ticker)
        await pilot.press("s")
        assert await until(pilot, lambda: isinstance(app.screen, OrderTicket))
        await pilot.press("ctrl+k")  # no confirmation, straight through the modal
        assert await poll(pilot, lambda: me.positions() == {} and resting(me, ticker) == [])
        await pilot.press("escape")
        assert await until(pilot, lambda: eng.control.snapshot().flatten_report != "", timeout_s=10)
        assert await until(pilot, lambda: "HALTED" in screen_text(app).splitlines()[0])
        cost = re.search(r"cost \$[0-9.,]+", eng.control.snapshot().flatten_report).group(0)
        assert cost in screen_text(app).splitlines()[0]  # what flattening cost, on the status line


async def test_ctrl_k_flattens_from_inside_the_search_input(sim, tmp_path):
    [ticker] = new_markets(sim, 1, prefix="KXTUII")
    maker, me = Account(sim), Account(sim)
    maker.place(ticker, "ask", "0.5300", "10.00")
    maker.place(ticker, "bid", "0.4700", "10.00")
    async with desk_on_exchange(me, tmp_path, [ticker]) as (app, pilot, eng):
        await _hold_position_and_rest_a_bid(pilot, eng, me, ticker)
        await pilot.press("slash", *"kxtui")
        search = app.desk.query_one("#search")
        assert search.has_focus
        await pilot.press("ctrl+k")
        assert await poll(pilot, lambda: me.positions() == {} and resting(me, ticker) == [])
        assert search.value == "kxtui"


@pytest.mark.parametrize("policy", ["leave", "cancel", "flatten"])
async def test_q_quits_through_the_exit_policy(sim, tmp_path, policy):
    [ticker] = new_markets(sim, 1, prefix="KXTUIQ")
    maker, me = Account(sim), Account(sim)
    maker.place(ticker, "ask", "0.5300", "10.00")
    maker.place(ticker, "bid", "0.4700", "10.00")
    async with desk_on_exchange(me, tmp_path, [ticker], exit_policy=policy) as (app, pilot, eng):
        await _hold_position_and_rest_a_bid(pilot, eng, me, ticker)
        await pilot.press("q")
        assert await until(pilot, lambda: eng.kernel.finished.is_set(), timeout_s=25)
        assert await until(pilot, lambda: app.return_code is not None or not app.is_running, timeout_s=5)
    expected = {"leave": (400, 1), "cancel": (400, 0), "flatten": (0, 0)}[policy]
    assert (me.positions().get(ticker, 0), len(resting(me, ticker))) == expected


def watchlist_line(app, ticker: str) -> str:
    """The watchlist's row for `ticker` as on screen (health badge, ticker, venue, prices), or ""."""
    row = re.compile(rf"[●◐✖]\s+{re.escape(ticker)}\s")
    return next((line for line in screen_text(app).splitlines() if row.search(line)), "")


async def test_w_watches_a_market_whose_book_then_streams_and_x_removes_it(sim, tmp_path):
    first, second = new_markets(sim, 2, prefix="KXTUIW")
    maker, me = Account(sim), Account(sim)
    async with desk_on_exchange(me, tmp_path, [first]) as (app, pilot, eng):
        watchlist = app.desk.query_one("#markets", CursorTable)
        assert watchlist.keys == (first,) and second not in screen_text(app)
        await pilot.press("w")
        assert await until(pilot, lambda: isinstance(app.screen, WatchPrompt))
        await pilot.press(*second.lower(), "enter")  # typed as a trader would; tickers are upper-cased
        assert await until(pilot, lambda: watchlist_line(app, second) != "", timeout_s=10)
        assert await until(pilot, lambda: watchlist.selected_key() == second)
        assert second in {m.ticker for m in eng.control.snapshot().markets}
        # the new market's book streams from the exchange to the watchlist and the ladder
        maker.place(second, "bid", "0.4100", "7.00")
        maker.place(second, "ask", "0.5700", "3.00")
        assert await until(pilot, lambda: "0.41   0.57   0.16" in watchlist_line(app, second), timeout_s=10)
        ladder = app.desk.query_one(OrderBookLadder)
        assert await until(pilot, lambda: "spread 0.16" in screen_text(app) and ladder.book.ticker == second)
        maker.place(second, "bid", "0.4500", "2.00")  # and keeps streaming
        assert await until(pilot, lambda: "spread 0.12" in screen_text(app), timeout_s=10)

        await pilot.press("x")  # remove the selected market from the watchlist
        assert await until(pilot, lambda: watchlist.keys == (first,) and watchlist_line(app, second) == "")
        assert any(f"{second} removed" in n.message for n in app._notifications)
        await pilot.press("w")
        assert await until(pilot, lambda: isinstance(app.screen, WatchPrompt))
        assert second in screen_text(app)  # the prompt lists what was removed this session
        await pilot.press(*second, "enter")
        assert await until(pilot, lambda: watchlist.keys == (first, second) and watchlist.selected_key() == second)


async def test_watching_a_ticker_the_venue_does_not_know_says_so(sim, tmp_path):
    [ticker] = new_markets(sim, 1, prefix="KXTUIN")
    me = Account(sim)
    async with desk_on_exchange(me, tmp_path, [ticker]) as (app, pilot, eng):
        await pilot.press("w")
        assert await until(pilot, lambda: isinstance(app.screen, WatchPrompt))
        await pilot.press(*"bad ticker!", "enter")
        assert await until(pilot, lambda: "not a ticker: TICKER!" in screen_text(app))
        await pilot.press("ctrl+u", *"KXNOSUCH-26-Z", "enter")
        assert await until(pilot, lambda: any("not found at the venue: KXNOSUCH-26-Z" in n.message
                                              for n in app._notifications), timeout_s=10)
        assert [m.ticker for m in eng.control.snapshot().markets] == [ticker]
