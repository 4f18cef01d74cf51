"""`edgedesk book` against the simulator as a user runs it: the one-shot ladder (YES prices with NO prices
alongside), --json with exact strings, and --watch in a real terminal (pty) redrawing as orders change."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import signal
import subprocess
import sys
import time

import httpx

from console.cli import main as cli_main

ORDERS = "/portfolio/events/orders"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def place(client: httpx.Client, ticker: str, side: str, price: str, count: str) -> None:
    r = client.post(ORDERS, json={"ticker": ticker, "side": side, "price": price, "count": count,
                                  "time_in_force": "good_till_canceled",
                                  "self_trade_prevention_type": "taker_at_cross"})
    assert r.status_code == 201, r.text


def book_args(sim, ticker: str, *extra: str) -> list[str]:
    return ["book", ticker, "--url", sim.base_url, "--key-dir", str(sim.key_dir), *extra]


def test_one_shot_ladder_shows_yes_prices_with_no_prices_alongside(sim, capsys) -> None:
    ticker = sim.new_market()
    trader = sim.new_account()
    place(trader, ticker, "bid", "0.40", "5")
    place(trader, ticker, "bid", "0.38", "2.5")
    place(trader, ticker, "ask", "0.45", "3")  # = a NO bid at 0.55
    assert cli_main(book_args(sim, ticker, "--depth", "5")) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(ticker)
    # more size on the bid leans the microprice toward the ask: (0.40 x 3 + 0.45 x 5) / 8 = 0.43125
    assert lines[1] == "yes bid 0.4000 x 5.00 | yes ask 0.4500 x 3.00 | spread 0.0500 | mid 0.4250 | micro 0.4313"
    rows = [line.split() for line in lines[2:]]
    assert ["0.4500", "3.00", "0.5500"] in rows  # YES ask, size, NO bid
    assert rows.index(["0.4000", "5.00", "0.6000"]) < rows.index(["0.3800", "2.50", "0.6200"])  # best bid first


def test_json_is_exact_and_carries_the_no_view(sim, capsys) -> None:
    ticker = sim.new_market(price_level_structure="deci_cent")
    trader = sim.new_account()
    place(trader, ticker, "bid", "0.412", "1.25")
    place(trader, ticker, "ask", "0.419", "10")
    assert cli_main(book_args(sim, ticker, "--json")) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["ticker"] == ticker
    assert data["yes"] == {"bids": [["0.4120", "1.25"]], "asks": [["0.4190", "10.00"]]}
    assert data["no"] == {"bids": [["0.5810", "10.00"]], "asks": [["0.5880", "1.25"]]}
    assert data["spread"] == "0.0070" and data["mid"] == "0.4155"


def test_unknown_ticker_and_no_server_say_what_to_do(sim, capsys) -> None:
    assert cli_main(book_args(sim, "KXNOSUCH-1")) == 1
    assert "no market 'KXNOSUCH-1'" in capsys.readouterr().err
    assert cli_main(["book", "KXA", "--url", "http://127.0.0.1:9/trade-api/v2"]) == 1
    assert "nothing answers at http://127.0.0.1:9/trade-api/v2" in capsys.readouterr().err


def read_until(fd: int, buffer: bytearray, needle: str, timeout: float) -> str:
    """Read the pty until a complete frame contains `needle`; returns that frame without ANSI codes.

    Each redraw starts at the home position (ESC[H) and ends by clearing the rest of the screen (ESC[J).
    """
    deadline = time.monotonic() + timeout
    while True:
        frames = [ANSI.sub("", f) for f in buffer.decode("utf-8", "replace").split("\x1b[H") if "\x1b[J" in f]
        for frame in reversed(frames):
            if needle in frame:
                return frame
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"{needle!r} never appeared; last frame:\n{frames[-1] if frames else buffer!r}")
        ready, _, _ = select.select([fd], [], [], min(remaining, 0.2))
        if ready:
            try:
                buffer += os.read(fd, 65536)
            except OSError:
                pass


def test_watch_redraws_a_live_ladder_as_orders_change_the_book(sim) -> None:
    ticker = sim.new_market()
    trader = sim.new_account()
    place(trader, ticker, "bid", "0.40", "5")
    place(trader, ticker, "ask", "0.45", "3")
    master, slave = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "console.cli", *book_args(sim, ticker, "--watch")],
                               stdin=subprocess.DEVNULL, stdout=slave, stderr=subprocess.PIPE,
                               env={**os.environ, "COLUMNS": "100"})
    os.close(slave)
    output = bytearray()
    try:
        first = read_until(master, output, "0.4500", timeout=10)
        assert "health GREEN" in first and "0.4000         5.00     0.6000" in first
        place(trader, ticker, "bid", "0.43", "7")  # a better bid
        place(trader, ticker, "ask", "0.44", "1.5")  # a better ask, i.e. a NO bid at 0.56
        frame = read_until(master, output, "0.4400         1.50     0.5600", timeout=5)
        assert "0.4300         7.00     0.5700" in frame
        assert "yes bid 0.4300 x 7.00 | yes ask 0.4400 x 1.50 | spread 0.0100" in frame
        assert "feed connected" in frame
    finally:
        process.send_signal(signal.SIGINT)
        code = process.wait(10)
        stderr = process.stderr.read().decode()
        os.close(master)
    assert code == 0, stderr
    assert "Traceback" not in stderr
    assert output.count(b"\x1b[H") >= 2  # redrawn in place, not scrolled
