"""Settlements against the built-in exchange over real sockets: a market the venue pays out closes the
desk's position at the venue's value exactly once (journaled; never again after a restart), the
market's model predictions get their outcome, and an alert says so. Also when the desk was stopped
while the market settled, and when it had even missed the fill that made the position: the venue's
settlement record is applied instead of reconciliation "correcting" the position to zero at no cost."""

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
from console.engine.control import Alert, PlaceOrder
from console.engine.journal import Journal


def _determine(sim, ticker: str, result: str) -> None:
    r = httpx.post(f"{sim.admin_url}/markets/{ticker}/determine", json={"result": result}, timeout=10)
    assert r.status_code == 200, r.text


def _journal(home, sql: str) -> list[tuple]:
    with sqlite3.connect(home / "journal.sqlite") as db:
        return db.execute(sql).fetchall()


def _realized(eng, ticker: str) -> int:
    rows = [p for p in eng.control.snapshot().positions if p.ticker == ticker]
    return rows[0].realized_pnl if rows else 0


def _alerts() -> tuple[list[Alert], object]:
    seen: list[Alert] = []
    return seen, (lambda e: seen.append(e) if isinstance(e, Alert) else None)


def test_a_market_settling_while_the_desk_runs_pays_once_and_resolves_predictions(sim, tmp_path) -> None:
    [ticker] = new_markets(sim, 1, prefix="KXSETA")
    maker, desk = Account(sim), Account(sim)
    maker.place(ticker, "ask", "0.4000", "5.00")
    with Journal(tmp_path / "journal.sqlite") as j:
        j.record_prediction("polls", ticker, 0.7, 1, category="politics", market_prob=0.4)
    alerts, on_event = _alerts()
    eng = start_engine(desk, tmp_path, [ticker], reconcile_interval_s=0.3, on_event=on_event)
    try:
        eng.control.submit(PlaceOrder(ticker, Side.BID, 4000, 500, time_in_force="immediate_or_cancel"))
        wait_until(lambda: engine_positions(eng) == {ticker: 500}, 5, "bought 5 YES at 0.40")
        _determine(sim, ticker, "yes")  # no settlement timer: the exchange pays out on its next tick
        wait_until(lambda: engine_positions(eng) == {} and desk.positions() == {}, 5, "settled everywhere")
        wait_until(lambda: _realized(eng, ticker) == 500 * (10_000 - 4_000), 2, "realized $3.00")
        time.sleep(1.0)  # several reconciliation passes, each reading the venue's settlement again
        assert _realized(eng, ticker) == 3_000_000  # not paid twice
        book = eng.kernel.desk.scorebook  # set at engine start, told of the outcome
        assert book.resolved == 1 and [p.outcome for p in book.recent("polls", "politics")] == [1]
    finally:
        eng.stop("leave")
    settled = [a.message for a in alerts if a.kind == "settlement"]
    assert len(settled) == 1 and f"{ticker} settled yes at 1.0000" in settled[0] and "+3.00 $" in settled[0]
    assert _journal(tmp_path, "SELECT ticker, position, yes_value FROM position_events WHERE kind='settle'") == \
        [(ticker, 500, 10_000)]
    assert _journal(tmp_path, "SELECT kind FROM corrections") == []
    assert _journal(tmp_path, "SELECT model, outcome FROM predictions") == [("polls", 1)]


def test_a_desk_stopped_while_its_market_settled_takes_the_venues_settlement_once(sim, tmp_path) -> None:
    held, bystander = new_markets(sim, 2, prefix="KXSETB")
    maker, desk = Account(sim), Account(sim)
    maker.place(held, "bid", "0.3000", "4.00")
    home = tmp_path / "home"
    eng = start_engine(desk, home, [held, bystander])
    try:  # sell 4 YES at 0.30 = hold 4 NO at 0.70
        eng.control.submit(PlaceOrder(held, Side.ASK, 3000, 400, time_in_force="immediate_or_cancel"))
        wait_until(lambda: engine_positions(eng) == {held: -400}, 5, "holding 4 NO")
    finally:
        eng.stop("leave")
    with Journal(home / "journal.sqlite") as j:
        j.record_prediction("weather", bystander, 0.2, 2, category="climate", market_prob=0.25)
        j.record_prediction("weather", held, 0.35, 2, category="climate", market_prob=0.3)
    # while the desk is down: both markets resolve NO, the exchange pays the NO holder $1 a contract
    _determine(sim, held, "no")
    _determine(sim, bystander, "no")
    wait_until(lambda: desk.positions() == {}, 5, "the exchange settled the position")

    alerts, on_event = _alerts()
    eng = start_engine(desk, home, [held], reconcile_interval_s=0.3, on_event=on_event)
    try:
        wait_until(lambda: _realized(eng, held) == 400 * (10_000 - 7_000), 5, "the settlement applied ($1.20)")
        assert engine_positions(eng) == {}
        wait_until(lambda: _journal(home, "SELECT count(*) FROM predictions WHERE outcome IS NULL") == [(0,)], 5,
                   "both markets' predictions resolved")
        time.sleep(1.0)  # more passes read the same settlement: nothing more happens
    finally:
        eng.stop("leave")
    ready = next(i for i, a in enumerate(alerts) if "trading enabled" in a.message)
    settled = [i for i, a in enumerate(alerts) if a.kind == "settlement"]
    assert len(settled) == 1 and settled[0] < ready, "settled once, before trading was enabled"
    assert "the venue's settlements" in alerts[settled[0]].message and "4.00 NO held" in alerts[settled[0]].message
    assert _journal(home, "SELECT kind FROM corrections") == [], "no position 'correction' to zero"
    assert _journal(home, "SELECT ticker, outcome FROM predictions ORDER BY id") == [(bystander, 0), (held, 0)]

    # a third start: the journal already has it; replayed, never applied again
    alerts, on_event = _alerts()
    eng = start_engine(desk, home, [held], on_event=on_event)
    try:
        time.sleep(0.5)
        assert _realized(eng, held) == 1_200_000
    finally:
        eng.stop("leave")
    assert not [a for a in alerts if a.kind == "settlement"]
    assert _journal(home, "SELECT count(*) FROM position_events WHERE kind='settle'") == [(1,)]


def test_a_fill_the_desk_never_saw_is_recovered_and_then_paid_out(sim, tmp_path) -> None:
    [ticker] = new_markets(sim, 1, prefix="KXSETC")
    maker, desk = Account(sim), Account(sim)
    eng = start_engine(desk, tmp_path, [ticker])  # the journal begins; the desk then stops
    eng.stop("leave")
    maker.place(ticker, "ask", "0.2500", "2.00")
    desk.place(ticker, "bid", "0.2500", "2.00", tif="immediate_or_cancel")  # bought from another app
    _determine(sim, ticker, "yes")
    wait_until(lambda: desk.positions() == {}, 5, "the exchange settled the position")
    alerts, on_event = _alerts()
    eng = start_engine(desk, tmp_path, [ticker], on_event=on_event)
    try:
        wait_until(lambda: _realized(eng, ticker) == 200 * (10_000 - 2_500), 5, "paid $1.50 on 2 YES at 0.25")
        assert engine_positions(eng) == {}
    finally:
        eng.stop("leave")
    kinds = [k for (k,) in _journal(tmp_path, "SELECT kind FROM corrections")]
    assert "fill_missing" in kinds and "position" not in kinds  # the fill recovered, then paid out
    assert any(a.kind == "settlement" and "+1.50 $" in a.message for a in alerts)


def _venue_settlement(ticker: str, result: str, yes: int, no: int, cost: int):
    from datetime import UTC, datetime

    from console.venues.kalshi import codec_rest as r
    return r.Settlement(ticker=ticker, market_result=result, yes_count=yes, no_count=no,
                        yes_total_cost=cost if yes else 0, no_total_cost=cost if no else 0,
                        revenue_cents=0, settled_time=datetime.now(UTC), fee_cost=0,
                        value_cents=100 if result == "yes" else 0)


def test_the_venues_record_wins_when_the_desk_held_another_count_and_is_applied_once(tmp_path) -> None:
    from kernel_harness import Harness

    from console.venues.kalshi import codec_ws as w
    with Journal(tmp_path / "j.sqlite") as j:
        h = Harness(journal=j)
        h.ready(["KXA", "KXB"])
        settler = h.kernel.reconciler.settler
        # KXA: the desk holds nothing; the venue paid 3 YES bought for $0.90 in all
        settler.on_pass((_venue_settlement("KXA", "yes", 300, 0, 900_000),), (), ())
        assert h.desk.portfolio.positions["KXA"].realized == 300 * 10_000 - 900_000
        settler.on_pass((_venue_settlement("KXA", "yes", 300, 0, 900_000),), (), ())  # read again: nothing
        assert h.desk.portfolio.positions["KXA"].realized == 2_100_000
        # KXB: settled from the lifecycle channel holding 2 NO; the venue's record says 5 NO
        h.desk.portfolio.position("KXB").restate(-200, 1_000_000)
        body = {"market_ticker": "KXB", "event_type": "determined", "result": "no", "settlement_value": 0}
        h.step(w.MarketLifecycle(sid=1, msg=w.MarketLifecycleBody(**body)))
        h.step(w.MarketLifecycle(sid=1,
                                 msg=w.MarketLifecycleBody(market_ticker="KXB", event_type="settled")))
        assert h.desk.portfolio.positions["KXB"].realized == 200 * 10_000 - 1_000_000
        settler.on_pass((_venue_settlement("KXB", "no", 0, 500, 2_500_000),), (), ())
        assert h.desk.portfolio.positions["KXB"].realized == 1_000_000  # reported, not applied twice
        kinds = [(k, t) for k, t, *_ in j.corrections()]
        assert kinds == [("settlement", "KXA"), ("settlement", "KXB")]
        assert "settled -2.00 here, the venue settled -5.00" in j.corrections()[1][3]
        assert j.settlements() == {"KXA": (10_000, 300), "KXB": (0, -200)}
