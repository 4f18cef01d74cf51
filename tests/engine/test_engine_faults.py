"""End to end under faults: the desk trades thousands of orders against the built-in exchange with the
`flaky` profile on (lost responses, 5xx, 429s, slow answers, dropped/duplicated/reordered WebSocket
messages, sequence gaps, closed and silent connections). Afterwards the exchange, the engine and the
journal agree exactly on every position; no client_order_id was used for two orders; every fill the
exchange made for the desk is in the journal once."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections import Counter

import pytest
from engine_helpers import (
    Account,
    engine_positions,
    new_markets,
    start_engine,
    wait_until,
)

from console.engine.control import SetAuto
from console.engine.journal import Journal
from console.engine.strategies import Quoter, ThresholdTaker

TARGET_ORDERS = 2_000


class Maker(threading.Thread):
    """Another account keeps two-sided liquidity in every market (ignoring the faults it also suffers)."""

    def __init__(self, account: Account, tickers: list[str]) -> None:
        super().__init__(daemon=True, name="maker")
        self.account, self.tickers = account, tickers
        self.halt = threading.Event()

    def run(self) -> None:
        rounds = 0
        while not self.halt.is_set():
            # every second the maker pulls its orders and re-quotes a cent higher or lower, so books move
            shift = (0, 100, 0, -100)[(rounds // 4) % 4]
            if rounds % 4 == 0:
                try:
                    self.account.client.delete("/portfolio/events/orders")
                except Exception:  # noqa: BLE001, S110 - the maker suffers the faults too; it just tries again
                    pass
            for ticker in self.tickers:
                for side, price in (("bid", 4800), ("bid", 4700), ("ask", 5200), ("ask", 5300)):
                    try:
                        self.account.client.post("/portfolio/events/orders", json={
                            "ticker": ticker, "side": side, "price": f"{(price + shift) / 10000:.4f}",
                            "count": "10.00", "time_in_force": "good_till_canceled",
                            "self_trade_prevention_type": "taker_at_cross"})
                    except Exception:  # noqa: BLE001, S110 - as above
                        pass
            rounds += 1
            self.halt.wait(0.25)


@pytest.mark.timeout(300)
def test_positions_journal_and_exchange_agree_after_thousands_of_orders_under_faults(sim_factory, tmp_path) -> None:
    sim = sim_factory("--faults", "flaky", "--seed", "3")
    tickers = new_markets(sim, 6)
    maker, desk = Account(sim), Account(sim)
    maker_thread = Maker(maker, tickers)
    maker_thread.start()
    strategies = [ThresholdTaker("taker", frozenset(tickers), buy_at_or_below=5300, sell_at_or_above=4700, count=100,
                                 max_position=2_000, min_interval_ms=15),
                  Quoter("quoter", frozenset(tickers[:1]), half_spread=100, count=100, max_position=1_000)]
    wait_until(lambda: all(maker.get(f"/markets/{t}/orderbook") for t in tickers), 10)
    eng = start_engine(desk, tmp_path, tickers, strategies=strategies, auto=True,
                       risk={"feed_silence_s": 15}, reconcile_interval_s=2.0,
                       bot_group_contracts=10_000_000)
    journal_path = tmp_path / "journal.sqlite"
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            with sqlite3.connect(journal_path) as db:
                sent = db.execute("SELECT count(*) FROM orders").fetchone()[0]
            if sent >= TARGET_ORDERS:
                break
            time.sleep(0.5)
        assert sent >= TARGET_ORDERS, f"only {sent} orders in 180 s"
        eng.control.submit(SetAuto(False))
        maker_thread.halt.set()
        maker_thread.join(5)
        wait_until(lambda: not eng.control.snapshot().orders, 30, "every bot order cancelled or finished")
        wait_until(lambda: not desk.orders(status="resting"), 30, "nothing resting at the exchange")
        # positions settle once the last fills and a reconciliation pass are in
        wait_until(lambda: engine_positions(eng) == desk.positions(), 30, "engine positions equal the exchange's")
        time.sleep(2.5)  # one more reconciliation pass: still equal, nothing left to correct
        exchange = desk.positions()
        assert engine_positions(eng) == exchange and exchange, "the run should end with positions to compare"
        snapshot = eng.control.snapshot()
        assert snapshot.blocked_markets == ()
    finally:
        eng.stop("leave")
        maker_thread.halt.set()
    with Journal(journal_path) as journal:
        recovered = journal.load()
        assert {t: p.position for t, p in recovered.portfolio.positions.items() if p.position} == exchange
        assert recovered.open_orders == []
    venue_orders = [o for t in tickers for o in desk.orders(ticker=t)]
    ids = Counter(o["client_order_id"] for o in venue_orders)
    assert ids and max(ids.values()) == 1, f"client_order_ids used twice: {[k for k, v in ids.items() if v > 1][:5]}"
    with sqlite3.connect(journal_path) as db:
        journal_fills = [r[0] for r in db.execute("SELECT fill_id FROM fills")]
        journal_ids = {r[0] for r in db.execute("SELECT client_order_id FROM orders")}
        states = dict(db.execute("SELECT state, count(*) FROM orders GROUP BY state"))
        amends = db.execute("SELECT count(*) FROM order_events WHERE kind='Amended'").fetchone()[0]
        corrections = dict(db.execute("SELECT kind, count(*) FROM corrections GROUP BY kind"))
    venue_fills = [f["trade_id"] for f in desk.fills()]
    assert len(journal_fills) == len(set(journal_fills)) == len(venue_fills)
    assert set(journal_fills) == set(venue_fills)
    assert set(ids) <= journal_ids, "every order at the exchange was journaled before it was sent"
    assert states.get("unknown", 0) == 0 and states.get("pending", 0) == 0
    assert amends > 0, "the quoter's moves were amends of resting orders"
    assert corrections.get("position", 0) == 0, "positions were kept right by fills, not by overwriting them"
    faults = sim.client("desk").get(f"{sim.admin_url}/faults").json()
    injected = {r["kind"]: r["injected"] for r in faults["rules"] if r["injected"]}
    assert injected.get("lost_response") and injected.get("server_error"), f"faults did not fire: {injected}"
