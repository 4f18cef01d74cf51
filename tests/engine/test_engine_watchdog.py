"""The layered kill switches: the watchdog cancels every resting order at the exchange while the kernel
is stalled (and the kernel halts with the reason once it runs again); the watchdog fires once per
episode, re-arms, and stays quiet until the desk trades; the Kalshi order group caps what bot orders
may match, and when the venue triggers it the desk halts and says why."""

from __future__ import annotations

import time

from engine_helpers import Account, new_markets, start_engine, wait_until

from console.engine import messages as m
from console.engine.control import Mode, RiskBreached
from console.engine.strategies import Quoter, ThresholdTaker
from console.engine.watchdog import Watchdog


class Stall:
    """An inbox item whose handling blocks the kernel thread (a stand-in for a stuck kernel)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds


def test_watchdog_fires_once_per_episode_and_only_when_armed() -> None:
    beat, feed, armed = [100.0], [100.0], [False]
    cancels: list = []
    told: list = []
    dog = Watchdog(kernel_beat=lambda: beat[0], feed_mono=lambda: feed[0], armed=lambda: armed[0],
                   cancel_all=cancels.append, tell_kernel=told.append, kernel_stall_s=2.0, feed_silence_s=30.0)
    dog.check(110.0)
    assert cancels == []  # not trading yet: nothing to protect
    armed[0] = True
    dog.check(101.0)
    assert cancels == []
    dog.check(102.5)
    dog.check(103.0)
    assert len(cancels) == 1 and isinstance(cancels[0], m.CancelAllAction) and "kernel" in told[0].reason
    beat[0] = 103.0
    dog.check(103.5)  # the kernel turned again: re-armed
    dog.check(106.0)
    assert len(cancels) == 2
    beat[0] = feed[0] = 200.0
    dog.check(229.0)
    assert len(cancels) == 2
    beat[0] = 231.0
    dog.check(231.0)
    assert len(cancels) == 3 and "silent" in told[-1].reason


def test_a_stalled_kernel_gets_its_orders_cancelled_and_halts_with_the_reason(sim, tmp_path) -> None:
    [ticker] = new_markets(sim, 1, prefix="KXDOG")
    maker, desk = Account(sim), Account(sim)
    maker.place(ticker, "bid", "0.4000", "5.00")
    maker.place(ticker, "ask", "0.6000", "5.00")
    quoter = Quoter("quoter", frozenset({ticker}), half_spread=500, count=100, fair=5000)
    breaches: list[RiskBreached] = []
    eng = start_engine(desk, tmp_path, [ticker], strategies=[quoter], auto=True, risk={"kernel_stall_ms": 500},
                       on_event=lambda e: breaches.append(e) if isinstance(e, RiskBreached) else None)
    try:
        wait_until(lambda: len(desk.orders(status="resting")) == 2, 10, "quotes resting")
        eng.kernel._handlers[Stall] = lambda item: time.sleep(item.seconds)
        eng.kernel.post(Stall(3.0))
        stalled_at = time.monotonic()
        wait_until(lambda: not desk.orders(status="resting"), 3, "the watchdog cancelled the resting quotes")
        assert time.monotonic() - stalled_at < 2.5  # while the kernel was still stuck
        wait_until(lambda: breaches, 10, "the kernel halted once it ran again")
        assert breaches[0].rule == "kernel_stall" and breaches[0].new_mode is Mode.HALTED
        assert eng.control.snapshot().mode is Mode.HALTED
        time.sleep(0.5)
        assert not desk.orders(status="resting")  # halted: the quoter does not come back
    finally:
        eng.stop("leave")


def test_the_venue_order_group_caps_bot_fills_and_the_desk_halts(sim, tmp_path) -> None:
    [ticker] = new_markets(sim, 1, prefix="KXGRP")
    maker, desk = Account(sim), Account(sim)
    maker.place(ticker, "ask", "0.4800", "50.00")
    taker = ThresholdTaker("taker", frozenset({ticker}), buy_at_or_below=5000, count=100, max_position=100_000,
                           min_interval_ms=50)
    breaches: list[RiskBreached] = []
    eng = start_engine(desk, tmp_path, [ticker], strategies=[taker], auto=True, bot_group_contracts=3,
                       on_event=lambda e: breaches.append(e) if isinstance(e, RiskBreached) else None)
    try:
        wait_until(lambda: breaches, 15, "the order group triggered")
        assert breaches[0].rule == "order_group"
        wait_until(lambda: eng.control.snapshot().mode is Mode.HALTED, 2, "halted")
        time.sleep(0.5)
        bought = desk.positions().get(ticker, 0)
        assert 300 <= bought <= 500  # the cap (3 contracts) stopped the bot, give or take orders in flight
        time.sleep(0.5)
        assert desk.positions().get(ticker, 0) == bought
    finally:
        eng.stop("leave")
