"""Crash and restart: `edgedesk run --headless --auto` trades against the built-in exchange, is killed
with SIGKILL mid-trading, and started again on the same journal. The restarted desk recovers its open
orders and positions from the journal, reconciles them with the exchange before trading (visible in
its alerts), sends nothing twice (every client_order_id at the exchange is used once, and the first
run's ids are never sent again), and ends with positions equal to the exchange's. While the first run
is alive a second desk on the same account refuses to start."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from engine_helpers import Account, new_markets, wait_until
from test_engine_faults import Maker


def _config(path: Path, tickers: list[str]) -> Path:
    strategies = "\n".join([
        "[engine.strategies.taker]", 'kind = "threshold_taker"', f"tickers = {json.dumps(tickers)}",
        "buy_at_or_below = 5200", "sell_at_or_above = 4800", "count = 100", "max_position = 1500",
        "min_interval_ms = 100",
        "[engine.strategies.quoter]", 'kind = "quoter"', f"tickers = {json.dumps(tickers[:1])}",
        "half_spread = 100", "count = 100", "max_position = 1000",
    ])
    path.write_text("\n".join([
        "[risk]", "max_orders_per_minute = 100000", "max_contracts_per_market = 100000",
        "max_notional_per_market_dollars = 100000", "max_total_exposure_dollars = 100000",
        "max_bankroll_share_per_market = 1.0", "max_category_share = 1.0", "max_event_loss_share = 1.0",
        "fat_finger_cents = 100",
        "[ui]", 'exit_policy = "cancel"',
        "[engine]", f"watch = {json.dumps(tickers)}", "bot_group_contracts = 1000000", "reconcile_interval_s = 2.0",
        "status_interval_s = 1.0",
        strategies, ""]))
    return path


def _desk(cfg: Path, sim, home: Path, *extra: str) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "console.cli", "--config", str(cfg), "run", "--headless", "--auto",
           "--url", sim.base_url, "--key-dir", str(sim.key_dir), "--home", str(home), *extra]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})


def _journal_count(path: Path, sql: str) -> int:
    try:
        with sqlite3.connect(path) as db:
            return db.execute(sql).fetchone()[0]
    except sqlite3.Error:
        return 0


def test_sigkill_mid_trading_then_restart_recovers_and_sends_nothing_twice(sim_factory, tmp_path) -> None:
    sim = sim_factory(key_dir=tmp_path / "keys")
    tickers = new_markets(sim, 2, prefix="KXCRASH")
    maker = Account(sim)
    maker_thread = Maker(maker, tickers)
    maker_thread.start()
    cfg = _config(tmp_path / "config.toml", tickers)
    home = tmp_path / "home"
    journal = home / "journal.sqlite"
    first = _desk(cfg, sim, home)
    try:
        wait_until(lambda: _journal_count(journal, "SELECT count(*) FROM orders") >= 40
                   and _journal_count(journal, "SELECT count(*) FROM orders WHERE state='resting'") >= 1, 60,
                   "the first desk trading with orders resting")
        second = _desk(cfg, sim, tmp_path / "other-home", "--for", "5")
        _, err = second.communicate(timeout=30)
        assert second.returncode == 3 and "already trading" in err, err
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
    with sqlite3.connect(journal) as db:
        first_session = db.execute("SELECT session FROM sessions").fetchone()[0]
        first_ids = {r[0] for r in db.execute("SELECT client_order_id FROM orders")}
    restarted = _desk(cfg, sim, home, "--for", "8")
    out, err = restarted.communicate(timeout=60)
    maker_thread.halt.set()
    assert restarted.returncode == 0, err
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    alerts = [line for line in lines if line["type"] == "Alert"]
    recovery = [a for a in alerts if a["kind"] == "recovery"]
    assert recovery and "recovered from the journal" in recovery[0]["message"], alerts[:5]
    reconciled = [a for a in alerts if a["kind"] == "reconciliation" and "trading enabled" in a["message"]]
    assert reconciled, "the restarted desk reconciled before trading"
    first_order = next(i for i, line in enumerate(lines) if line["type"] == "OrderUpdated"
                       and line["client_order_id"] not in first_ids)
    assert lines.index(reconciled[0]) < first_order, "no new order before the start-up reconciliation"
    desk = Account.__new__(Account)
    desk.client = sim.client("desk")
    venue_orders = [o for t in tickers for o in desk.orders(ticker=t)]
    counts = Counter(o["client_order_id"] for o in venue_orders)
    assert max(counts.values()) == 1, [k for k, v in counts.items() if v > 1]
    sessions = Counter(cid.split(":")[1] for cid in counts)
    assert len(sessions) == 2 and sessions[first_session] > 0
    with sqlite3.connect(journal) as db:
        later = {r[0] for r in db.execute("SELECT client_order_id FROM orders WHERE client_order_id NOT IN "
                                          "(SELECT client_order_id FROM orders WHERE client_order_id LIKE ?)",
                                          (f"ed:{first_session}:%",))}
    assert not (later & first_ids), "the restarted desk reused a client_order_id of the first run"
    assert all(cid.split(":")[1] != first_session for cid in later if cid.startswith("ed:"))
    final = [line for line in lines if line["type"] == "status"][-1]
    assert final["open_orders"] == 0 and not desk.orders(status="resting"), "exit policy cancel left orders"
    assert final["positions"] == desk.positions()
    time.sleep(0.1)
