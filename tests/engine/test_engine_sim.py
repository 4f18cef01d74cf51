"""The engine end to end against the built-in exchange over real sockets: a strategy's intents become
orders at the venue, fills come back over the WebSocket into positions that equal the exchange's and
the journal's; manual orders, cancels and the bot/manual split behave as an operator expects."""

from __future__ import annotations

import json

from engine_helpers import (
    Account,
    engine_positions,
    new_markets,
    start_engine,
    wait_until,
)

from console.domain.side import Side
from console.engine.control import CancelAll, Filled, OrderUpdated, PlaceOrder, SetAuto
from console.engine.journal import Journal
from console.engine.strategies import Quoter, ThresholdTaker


def test_taker_strategy_trades_and_positions_agree_everywhere(sim, tmp_path) -> None:
    [ticker] = new_markets(sim, 1)
    maker, desk = Account(sim), Account(sim)
    maker.place(ticker, "ask", "0.4800", "3.00")
    maker.place(ticker, "ask", "0.4900", "2.00")
    maker.place(ticker, "ask", "0.5500", "5.00")  # above the threshold: never taken
    taker = ThresholdTaker("taker", frozenset({ticker}), buy_at_or_below=5000, count=100, max_position=10_000)
    fills: list[Filled] = []
    eng = start_engine(desk, tmp_path, [ticker], strategies=[taker], auto=True,
                       on_event=lambda e: fills.append(e) if isinstance(e, Filled) else None)
    try:
        wait_until(lambda: engine_positions(eng).get(ticker) == 500, what="the taker bought every ask at or below 0.50")
        assert desk.positions() == {ticker: 500}
        assert sum(f.count for f in fills) == 500 and {f.price for f in fills} == {4800, 4900}
        assert all(f.origin == "taker" and f.client_order_id.startswith("ed:") for f in fills)
        book = eng.control.snapshot().books[ticker]
        assert book.asks == ((5500, 500),) and book.health in ("green", "amber")
    finally:
        assert eng.stop("leave")
    lines = [json.loads(line) for line in (tmp_path / "forward_test.jsonl").read_text().splitlines()]
    assert lines and all(line["strategy"] == "taker" and line["ticker"] == ticker for line in lines)
    assert lines[0]["book"]["yes_ask"] == lines[0]["price"] == 4800  # the top of book the intent saw
    with Journal(tmp_path / "journal.sqlite") as journal:
        recovered = journal.load()
        assert {t: p.position for t, p in recovered.portfolio.positions.items() if p.position} == {ticker: 500}
        assert journal.fill_count() == len(fills)


def test_manual_orders_rest_and_pausing_the_bot_leaves_them_alone(sim, tmp_path) -> None:
    [ticker] = new_markets(sim, 1)
    maker, desk = Account(sim), Account(sim)
    maker.place(ticker, "bid", "0.4000", "10.00")
    maker.place(ticker, "ask", "0.6000", "10.00")
    quoter = Quoter("quoter", frozenset({ticker}), half_spread=500, count=100, fair=5000)
    eng = start_engine(desk, tmp_path, [ticker], strategies=[quoter], auto=True)
    updates: list[OrderUpdated] = []
    eng.control.subscribe(lambda e: updates.append(e) if isinstance(e, OrderUpdated) else None)
    try:
        eng.control.submit(PlaceOrder(ticker, Side.BID, 4100, 200))
        wait_until(lambda: len([o for o in desk.orders(status="resting")]) == 3,
                   what="the manual bid and both quotes rest at the venue")
        resting = {o["client_order_id"].split(":")[2]: o for o in desk.orders(status="resting")}
        assert set(resting) == {"manual", "quoter"} and len(desk.orders(status="resting")) == 3
        quotes = sorted(o["yes_price_dollars"] for o in desk.orders(status="resting")
                        if ":quoter:" in o["client_order_id"])
        assert quotes == ["0.4500", "0.5500"]
        pause_flags = {":manual:" in o["client_order_id"]: o["cancel_order_on_pause"] for o in desk.orders(status="resting")}
        assert pause_flags == {True: False, False: True}  # bot orders are cancelled on a venue pause, manual not
        groups = {o.get("order_group_id") is not None for o in desk.orders(status="resting") if ":quoter:" in o["client_order_id"]}
        assert groups == {True}  # bot orders sit in the bot order group
        eng.control.submit(SetAuto(False))  # pause the bot: quotes go, the manual bid stays
        wait_until(lambda: len(desk.orders(status="resting")) == 1, what="bot quotes cancelled")
        [left] = desk.orders(status="resting")
        assert ":manual:" in left["client_order_id"] and left["yes_price_dollars"] == "0.4100"
        eng.control.submit(CancelAll(include_manual=False))  # bot orders only: still nothing to do
        eng.control.submit(CancelAll(include_manual=True))
        wait_until(lambda: not desk.orders(status="resting"), what="manual order cancelled on request")
        assert any(u.origin == "manual" and u.state == "cancelled" for u in updates)
    finally:
        eng.stop("leave")
