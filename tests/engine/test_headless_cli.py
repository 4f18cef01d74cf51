"""`edgedesk run --headless` as an operator runs it against the built-in exchange: JSON-line events and
a status line every interval on stdout; SIGUSR1 flattens (the exchange shows the positions closed) and
the desk keeps running HALTED; SIGTERM stops it with the configured exit policy (flatten closes
everything, leave keeps resting orders at the exchange)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from engine_helpers import Account, new_markets, wait_until


class Desk:
    """A headless desk subprocess whose stdout lines are collected as they come."""

    def __init__(self, sim, tmp_path: Path, tickers: list[str], policy: str, strategy: str) -> None:
        cfg = tmp_path / "config.toml"
        cfg.write_text("\n".join([
            "[risk]", "max_orders_per_minute = 100000", "fat_finger_cents = 100", "max_bankroll_share_per_market = 1.0",
            "max_category_share = 1.0", "max_event_loss_share = 1.0",
            "[ui]", f'exit_policy = "{policy}"',
            "[engine]", f"watch = {json.dumps(tickers)}", "status_interval_s = 0.5", "bot_group_contracts = 100000",
            "[engine.strategies.bot]", strategy, f"tickers = {json.dumps(tickers)}", ""]))
        cmd = [sys.executable, "-m", "console.cli", "--config", str(cfg), "run", "--headless", "--auto",
               "--url", sim.base_url, "--key-dir", str(sim.key_dir), "--home", str(tmp_path / "home")]
        self.process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                        env={**os.environ, "PYTHONUNBUFFERED": "1"})
        self.lines: list[dict] = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(json.loads(line))

    def of(self, kind: str) -> list[dict]:
        return [line for line in list(self.lines) if line["type"] == kind]

    def stop(self, sig: int = signal.SIGTERM) -> int:
        self.process.send_signal(sig)
        return self.process.wait(30)


def test_sigusr1_flattens_and_sigterm_stops_with_the_flatten_policy(sim_factory, tmp_path) -> None:
    sim = sim_factory(key_dir=tmp_path / "keys")
    tickers = new_markets(sim, 2, prefix="KXHL")
    maker = Account(sim)
    for t in tickers:
        maker.place(t, "ask", "0.4900", "4.00")
        maker.place(t, "bid", "0.4500", "20.00")
    desk = Account.__new__(Account)
    desk.client = sim.client("desk")
    proc = Desk(sim, tmp_path, tickers, "flatten", 'kind = "threshold_taker"\nbuy_at_or_below = 5000\ncount = 100\n'
                'max_position = 400')
    try:
        wait_until(lambda: desk.positions() == {t: 400 for t in tickers}, 30, "the bot bought")
        wait_until(lambda: len(proc.of("status")) >= 3, 10, "status lines")
        status = proc.of("status")[-1]
        assert status["mode"] == "AUTO" and set(status) >= {"positions", "open_orders", "day_pnl", "venue"}
        fills = proc.of("Filled")
        assert sum(f["count"] for f in fills) == 800 and {f["side"] for f in fills} == {"bid"}
        proc.process.send_signal(signal.SIGUSR1)
        wait_until(lambda: desk.positions() == {}, 10, "flattened at the exchange")
        report = wait_until(lambda: [a for a in proc.of("Alert") if a["kind"] == "flatten" and "done" in a["message"]],
                            10, "flatten report")
        assert "no positions left" in report[0]["message"]
        wait_until(lambda: proc.of("status")[-1]["mode"] == "HALTED", 5, "halted after flatten")
        assert proc.process.poll() is None  # still running
        maker.place(tickers[0], "ask", "0.4900", "2.00")  # the bot would buy this, but the desk is halted
        assert proc.stop() == 0
    finally:
        if proc.process.poll() is None:
            proc.process.kill()
    stopped = proc.of("stopped")[-1]
    assert stopped == {"type": "stopped", "reason": "SIGTERM", "exit_policy": "flatten", "completed": True}
    assert desk.positions() == {}


def test_sigterm_with_the_leave_policy_leaves_resting_orders(sim_factory, tmp_path) -> None:
    sim = sim_factory(key_dir=tmp_path / "keys")
    [ticker] = new_markets(sim, 1, prefix="KXHLV")
    maker = Account(sim)
    maker.place(ticker, "ask", "0.6000", "4.00")
    maker.place(ticker, "bid", "0.4000", "4.00")
    desk = Account.__new__(Account)
    desk.client = sim.client("desk")
    proc = Desk(sim, tmp_path, [ticker], "leave", 'kind = "quoter"\nhalf_spread = 500\ncount = 100\nfair = 5000')
    try:
        wait_until(lambda: len(desk.orders(status="resting")) == 2, 30, "quotes resting")
        assert proc.stop() == 0
    finally:
        if proc.process.poll() is None:
            proc.process.kill()
    assert proc.of("stopped")[-1]["exit_policy"] == "leave"
    assert sorted(o["yes_price_dollars"] for o in desk.orders(status="resting")) == ["0.4500", "0.5500"]
