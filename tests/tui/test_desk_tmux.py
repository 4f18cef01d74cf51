"""The desk in a real terminal: `edgedesk` run inside tmux at 80x24, driven with send-keys, read with
capture-pane, as a user over ssh would see it. The desk starts its own built-in exchange and `q` must
leave nothing running. With the default config (the living world) books must be on screen within a few
seconds; on a quiet exchange (world off, demo markets) another account's quotes must stream onto the
screen exactly.

tmux must be installed (`make test` installs it when missing; this test installs nothing).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx

from console.venues.kalshi.auth import KalshiAuth, Signer

EDGEDESK = Path(sys.executable).with_name("edgedesk")


class Tmux:
    def __init__(self, width: int, height: int, command: str) -> None:
        tmux = shutil.which("tmux")
        assert tmux, "tmux is not installed: run `make test` (it installs tmux) or apt-get install tmux"
        self.base = [tmux, "-L", f"edgedesk-test-{uuid.uuid4().hex[:8]}"]
        subprocess.run([*self.base, "new-session", "-d", "-x", str(width), "-y", str(height), "-s", "desk", command],
                       check=True)

    def screen(self) -> str:
        out = subprocess.run([*self.base, "capture-pane", "-p", "-t", "desk"], capture_output=True, text=True)
        return out.stdout

    def keys(self, *keys: str) -> None:
        subprocess.run([*self.base, "send-keys", "-t", "desk", *keys], check=True)

    def alive(self) -> bool:
        return subprocess.run([*self.base, "has-session", "-t", "desk"], capture_output=True).returncode == 0

    def wait_for(self, predicate, timeout_s: float = 15.0, what: str = "") -> str:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            screen = self.screen()
            if predicate(screen):
                return screen
            time.sleep(0.1)
        raise AssertionError(f"{what} not on screen within {timeout_s} s; the screen was:\n{self.screen()}")

    def kill(self) -> None:
        subprocess.run([*self.base, "kill-server"], capture_output=True)


def processes_mentioning(text: str) -> list[str]:
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmdline and "pytest" not in cmdline:
            found.append(f"{proc.name}: {cmdline}")
    return found


def maker_client(home: Path) -> httpx.Client:
    """Account acct1 of the desk's own exchange (its URL from the desk's log, its key from the key dir)."""
    log = (home / "desk.log").read_text(encoding="utf-8")
    base_url = re.search(r"(http://127\.0\.0\.1:\d+/trade-api/v2)", log).group(1)
    accounts = json.loads((home / "sim-keys" / "accounts.json").read_text(encoding="utf-8"))
    acct = next(a for a in accounts if a["name"] == "acct1")
    signer = Signer(acct["api_key_id"], Path(acct["private_key_path"]).read_bytes())
    return httpx.Client(base_url=base_url, auth=KalshiAuth(signer), timeout=10)


def quit_and_check_nothing_left(term: Tmux, home: Path) -> None:
    term.keys("q")
    deadline = time.monotonic() + 20
    while term.alive() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not term.alive(), f"the desk did not quit on q; screen:\n{term.screen()}"
    time.sleep(0.5)
    assert processes_mentioning(str(home)) == [], "something the desk started is still running"


QUOTES = re.compile(r"\b(\S+-\S+)\s+K\s+\S+\s+(\d\.\d\d)\s+(\d\.\d\d)\s+\d\.\d\d")


def test_make_run_shows_live_books_within_seconds_and_quits_cleanly(tmp_path):
    home = tmp_path / "home"
    term = Tmux(80, 24, f"env EDGEDESK_HOME={home} TERM=xterm-256color {EDGEDESK}")  # the default config
    try:
        started = time.monotonic()
        screen = term.wait_for(lambda s: "MANUAL" in s and QUOTES.search(s), timeout_s=20,
                               what="markets with a bid and an ask")
        elapsed = time.monotonic() - started
        print(f"live books on screen {elapsed:.1f} s after start (exchange child, engine, desk)")
        assert elapsed < 10, f"books took {elapsed:.1f} s to appear"
        ticker = QUOTES.search(screen).group(1)
        term.keys("2")
        term.wait_for(lambda s: f"Book {ticker}" in s and re.search(r"spread \d\.\d\d", s), what="the ladder")
        quit_and_check_nothing_left(term, home)
    finally:
        term.kill()


def test_desk_in_tmux_streams_quotes_takes_keys_and_quits_cleanly(tmp_path):
    home = tmp_path / "home"
    config = tmp_path / "config.toml"
    config.write_text('[sim]\nworld = false\ndemo_markets = true\n\n[ui]\nexit_policy = "cancel"\ntheme = "ansi"\n',
                      encoding="utf-8")
    term = Tmux(80, 24, f"env EDGEDESK_HOME={home} TERM=xterm-256color {EDGEDESK} --config {config}")
    try:
        started = time.monotonic()
        screen = term.wait_for(lambda s: "MANUAL" in s and "KXDEMO" in s, what="the desk with its markets")
        print(f"desk on screen with markets after {time.monotonic() - started:.1f} s")
        ticker = re.search(r"(KXDEMO\S+)", screen.split("market", 1)[1]).group(1)  # the first row
        footer = next((line for line in screen.splitlines() if "^k FLATTEN" in line), "")
        for label in ("? Help", "a Auto", "y Approve", "n Reject", "C Cancel all"):  # cut after "Cancel" once
            assert label in footer, f"{label!r} is not in the 80-column footer: {footer!r}"
        with maker_client(home) as maker:
            for side, price in (("bid", "0.4000"), ("ask", "0.4500")):
                r = maker.post("/portfolio/events/orders", json={
                    "ticker": ticker, "side": side, "price": price, "count": "10.00",
                    "time_in_force": "good_till_canceled", "self_trade_prevention_type": "taker_at_cross"})
                assert r.status_code == 201, r.text
        row = term.wait_for(lambda s: re.search(rf"{re.escape(ticker)}.*0\.40\s+0\.45\s+0\.05", s),
                            what="the maker's quotes streamed into the watchlist")
        assert ticker in row
        term.keys("2")  # the Book tab
        term.wait_for(lambda s: f"Book {ticker}" in s and "spread 0.05" in s, what="the ladder")
        term.keys("b")
        term.wait_for(lambda s: "Order ticket" in s and "PASS" in s, what="the ticket with the engine's risk check")
        assert "0.45" in term.screen()  # pre-filled at the best ask
        term.keys("Escape")
        term.wait_for(lambda s: "Order ticket" not in s, what="the ticket closing")
        term.keys("?")
        term.wait_for(lambda s: "Keys" in s and "flatten" in s, what="the help screen")
        term.keys("Escape")  # a lone ESC: wait before the next key, or the terminal reads ESC q as alt+q
        term.wait_for(lambda s: "Keys" not in s, what="the help screen closing")
        quit_and_check_nothing_left(term, home)
    finally:
        term.kill()
    assert os.path.exists(home / "journal.sqlite")
