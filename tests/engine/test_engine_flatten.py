"""Flatten against the built-in exchange: with positions in ten markets (YES and NO) and resting manual
and bot orders, one Flatten leaves the exchange with no position and no resting order within 2 s and
reports the cost; where the books cannot absorb a position, it reports exactly what is left and why."""

from __future__ import annotations

import time

from engine_helpers import (
    Account,
    engine_positions,
    new_markets,
    start_engine,
    wait_until,
)

from console.domain.side import Side
from console.engine.control import Alert, Flatten, Mode, PlaceOrder, SetAuto
from console.engine.strategies import Quoter


def _take_positions(eng, maker: Account, tickers: list[str], desk: Account, want: dict[str, int]) -> None:
    for ticker, count in want.items():
        side, price = (Side.BID, 5200) if count > 0 else (Side.ASK, 4800)
        eng.control.submit(PlaceOrder(ticker, side, price, abs(count), time_in_force="immediate_or_cancel"))
    wait_until(lambda: desk.positions() == want, 10, "positions taken")
    wait_until(lambda: engine_positions(eng) == want, 10, "engine saw the fills")


def test_flatten_ten_markets_leaves_nothing_within_two_seconds(sim, tmp_path) -> None:
    tickers = new_markets(sim, 10, prefix="KXFLAT")
    maker, desk = Account(sim), Account(sim)
    for t in tickers:
        maker.place(t, "bid", "0.4800", "20.00")
        maker.place(t, "bid", "0.4700", "20.00")
        maker.place(t, "ask", "0.5200", "20.00")
        maker.place(t, "ask", "0.5300", "20.00")
    quoter = Quoter("quoter", frozenset(tickers[:3]), half_spread=100, count=100, fair=5000,
                     max_position=100_000)
    eng = start_engine(desk, tmp_path, tickers, strategies=[quoter])
    alerts: list[Alert] = []
    eng.control.subscribe(lambda e: alerts.append(e) if isinstance(e, Alert) and e.kind == "flatten" else None)
    try:
        want = {t: (700 if i < 7 else -500) * (1 + i % 2) for i, t in enumerate(tickers)}
        _take_positions(eng, maker, tickers, desk, want)
        eng.control.submit(PlaceOrder(tickers[0], Side.BID, 4000, 300))  # a manual order resting far away
        eng.control.submit(SetAuto(True))  # the quoter rests bot orders in three markets
        wait_until(lambda: len(desk.orders(status="resting")) == 7, 10, "manual and bot orders resting")
        started = time.monotonic()
        eng.control.submit(Flatten("test"))
        wait_until(lambda: not desk.positions() and not desk.orders(status="resting"), 2.0,
                   "no positions and no resting orders at the exchange")
        elapsed = time.monotonic() - started
        assert elapsed < 2.0
        report = wait_until(lambda: eng.control.snapshot().flatten_report.startswith("flatten (test) done")
                            and eng.control.snapshot().flatten_report, 5, "flatten report")
        assert "no positions left" in report and "cost $" in report
        snapshot = eng.control.snapshot()
        assert snapshot.mode is Mode.HALTED and not snapshot.flattening
        assert engine_positions(eng) == {}
        assert any("done" in a.message for a in alerts)
        fees = sum(p.fees for p in snapshot.positions)
        assert fees > 0 and f"fees ${0}" not in report
    finally:
        eng.stop("leave")


def test_flatten_reports_what_the_books_cannot_absorb(sim, tmp_path) -> None:
    thin, empty = new_markets(sim, 2, prefix="KXTHIN")
    maker, desk = Account(sim), Account(sim)
    maker.place(thin, "ask", "0.5200", "20.00")
    maker.place(empty, "ask", "0.5200", "20.00")
    eng = start_engine(desk, tmp_path, [thin, empty])
    try:
        _take_positions(eng, maker, [thin, empty], desk, {thin: 500, empty: 300})
        maker.place(thin, "bid", "0.4500", "2.00")  # only 2 of the 5 YES can be sold
        wait_until(lambda: eng.control.snapshot().books[thin].bids == ((4500, 200),), 5, "the bid reached the desk")
        eng.control.submit(Flatten("thin books"))
        report = wait_until(lambda: "incomplete" in eng.control.snapshot().flatten_report
                            and eng.control.snapshot().flatten_report, 10, "flatten report")
        assert desk.positions() == {thin: 300, empty: 300}
        assert f"{thin} 3.00 YES (no bids to sell YES into)" in report
        assert f"{empty} 3.00 YES (no bids to sell YES into)" in report
        assert eng.control.snapshot().mode is Mode.HALTED
    finally:
        eng.stop("leave")
