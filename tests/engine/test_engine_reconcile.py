"""Reconciliation against the built-in exchange: orders and positions the journal does not know (placed
from elsewhere on the same account) are adopted and flagged, the desk's positions are corrected to the
venue's (here: the fill that made the position is read back from the venue), every correction is
journaled and raised as an alert, and trading waits until it is done."""

from __future__ import annotations

import sqlite3
import time

import httpx
from engine_helpers import (
    Account,
    engine_positions,
    new_markets,
    start_engine,
    wait_until,
)

from console.domain.side import Side
from console.engine.control import Alert, CancelAll, PlaceOrder


def test_unknown_orders_and_positions_are_adopted_corrected_and_reported(sim, tmp_path) -> None:
    a, b = new_markets(sim, 2, prefix="KXREC")
    maker, desk = Account(sim), Account(sim)
    maker.place(a, "ask", "0.5000", "10.00")
    taken = desk.place(a, "bid", "0.5000", "3.00", tif="immediate_or_cancel")  # a fill the journal never saw
    outside = desk.place(b, "bid", "0.3000", "2.00", client_order_id="web-order-1")  # an order placed elsewhere
    alerts: list[Alert] = []
    eng = start_engine(desk, tmp_path, [a, b], on_event=lambda e: alerts.append(e) if isinstance(e, Alert) else None)
    try:
        wait_until(lambda: engine_positions(eng) == {a: 300}, 2, "the fill recovered from the venue")
        wait_until(lambda: eng.control.snapshot().orders, 5, "the snapshot lists the adopted order")
        [row] = eng.control.snapshot().orders
        assert (row.ticker, row.price, row.remaining, row.adopted, row.origin) == (b, 3000, 200, True, "manual")
        messages = [x.message for x in alerts if x.kind == "reconciliation"]
        assert any("adopted venue order" in msg and outside["order_id"] in msg for msg in messages)
        fill_msgs = [i for i, msg in enumerate(messages) if f"{a}: fill" in msg and taken["order_id"] in msg]
        ready = next(i for i, msg in enumerate(messages) if "trading enabled" in msg)
        assert fill_msgs and fill_msgs[0] < ready, "the fill was recovered before trading was enabled"
        assert "1 position(s)" in messages[ready] and "2 correction(s)" in messages[ready]
        # an order placed elsewhere while the desk runs is adopted from the user_orders stream
        later = desk.place(b, "bid", "0.2500", "1.00", client_order_id="web-order-2")
        wait_until(lambda: any(r.client_order_id == "web-order-2" and r.adopted
                               for r in eng.control.snapshot().orders), 5, "adopted while running")
        eng.control.submit(CancelAll(include_manual=True))  # adopted orders are the operator's: cancellable
        wait_until(lambda: not desk.orders(status="resting"), 5, "adopted orders cancelled")
        assert later["order_id"]
    finally:
        eng.stop("leave")
    with sqlite3.connect(tmp_path / "journal.sqlite") as db:
        kinds = [r[0] for r in db.execute("SELECT kind FROM corrections")]
        alerts_journaled = db.execute("SELECT count(*) FROM alerts WHERE source='reconciliation'").fetchone()[0]
    assert kinds.count("order_adopted") == 2 and kinds.count("fill_missing") == 1 and "position" not in kinds
    assert alerts_journaled >= 3


def test_settlement_closes_the_position_with_its_pnl_and_needs_no_correction(sim, tmp_path) -> None:
    [ticker] = new_markets(sim, 1, prefix="KXSETL")
    maker, desk = Account(sim), Account(sim)
    maker.place(ticker, "ask", "0.4000", "5.00")
    alerts: list[Alert] = []
    eng = start_engine(desk, tmp_path, [ticker], reconcile_interval_s=0.5,
                       on_event=lambda e: alerts.append(e) if isinstance(e, Alert) else None)
    try:
        eng.control.submit(PlaceOrder(ticker, Side.BID, 4000, 500, time_in_force="immediate_or_cancel"))
        wait_until(lambda: engine_positions(eng) == {ticker: 500}, 5, "bought 5 YES at 0.40")
        # determined YES; with no settlement timer the exchange pays out on its next tick
        assert httpx.post(f"{sim.admin_url}/markets/{ticker}/determine", json={"result": "yes"}).status_code == 200
        wait_until(lambda: engine_positions(eng) == {} and desk.positions() == {}, 5, "settled everywhere")
        [row] = [p for p in eng.control.snapshot().positions if p.ticker == ticker]
        assert row.realized_pnl == 500 * (10_000 - 4_000)  # $3.00: five contracts paid $1 each, cost $0.40
        time.sleep(1.2)  # two reconciliation passes: nothing to correct
        assert not [a for a in alerts if "corrected" in a.message]
        assert any(f"{ticker} settled" in a.message for a in alerts)
    finally:
        eng.stop("leave")
