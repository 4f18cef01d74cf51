"""Breakers: each one trips at its threshold (not before), says why with the numbers, stays latched
until reset, and the sliding windows forget old observations."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from console.config import RiskConfig
from console.domain.breakers import Breakers, SlidingCount
from console.domain.units import dollars

CFG = RiskConfig()  # daily loss $250, drawdown $400, 5% errors over 300 s (20+ requests), 30 s silence


def test_daily_loss_limit_trips_at_the_limit() -> None:
    b = Breakers(CFG, 0)
    assert b.observe_pnl(1, -dollars("249.99")) is None
    breach = b.observe_pnl(2, -dollars("250"))
    assert breach.rule == "daily_loss"
    assert breach.message == "day P&L -$250.00 reached the daily loss limit -$250.00"


def test_drawdown_from_the_days_high() -> None:
    b = Breakers(CFG, 0)
    b.observe_pnl(1, dollars("300"))
    assert b.observe_pnl(2, -dollars("99")) is None  # $399 off the high
    breach = b.observe_pnl(3, -dollars("100"))
    assert breach.rule == "drawdown" and "$400.00 below the day's high $300.00" in breach.message
    b.reset(4)
    b.start_day()
    assert b.observe_pnl(5, -dollars("100")) is None  # a new day starts from its own high


def test_venue_error_rate_needs_a_sample_and_forgets_old_errors() -> None:
    b = Breakers(CFG, 0)
    for i in range(5):
        assert b.observe_request(i, ok=False) is None  # 5 of 5 failed, but too few requests to judge
    for i in range(14):
        assert b.observe_request(10 + i, ok=True) is None
    breach = b.observe_request(30, ok=True)  # 20 requests, 5 failed = 25% > 5%
    assert breach.rule == "venue_errors" and breach.message.startswith("5 of 20 venue requests failed")
    fresh = Breakers(CFG, 0)
    for i in range(5):
        fresh.observe_request(i, ok=False)
    later = 301_000  # the failures have left the 300 s window
    for i in range(40):
        assert fresh.observe_request(later + i, ok=i != 0) is None  # 1 of 40 = 2.5%


def test_fill_rate_collapse() -> None:
    b = Breakers(CFG, 0)
    for i in range(9):
        assert b.observe_marketable(i, filled=False) is None
    breach = b.observe_marketable(9, filled=False)
    assert breach.rule == "fill_rate" and "only 0 of 10 marketable orders filled" in breach.message
    ok = Breakers(CFG, 0)
    for i in range(30):
        assert ok.observe_marketable(i, filled=i % 5 == 0) is None  # 20% filled >= 10%


def test_feed_silence_and_kernel_stall() -> None:
    b = Breakers(CFG, 0)
    b.feed_message(10_000)
    b.kernel_beat(39_000)
    assert b.check(39_999) is None
    breach = b.check(40_000)
    assert breach.rule == "feed_silence" and "no market data for 30.0 s" in breach.message
    k = Breakers(CFG, 0)
    k.feed_message(5_000)
    k.kernel_beat(3_000)
    assert k.check(4_999) is None
    assert k.check(5_000).rule == "kernel_stall"


def test_first_breach_is_latched_until_reset() -> None:
    b = Breakers(CFG, 0)
    first = b.observe_pnl(1, -dollars("300"))
    assert b.check(10**9) is first  # silence later does not replace the reason
    assert b.observe_pnl(2, dollars("10")) is first
    b.reset(10**9)
    assert b.tripped is None and b.check(10**9 + 1) is None


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 10_000), st.booleans()), max_size=60), st.integers(0, 12_000))
def test_sliding_count_equals_brute_force(events, now) -> None:
    window = SlidingCount(3_000)
    for ts, flag in events:
        window.add(ts, flag)
    inside = [(ts, flag) for ts, flag in events if now - 3_000 < ts]
    assert window.count(now) == len(inside)
    assert window.flagged(now) == sum(flag for _, flag in inside)
