"""Breakers: observations in, the reason to move AUTO -> HALTED out.

The kernel feeds `Breakers` what it sees (the day's P&L, each venue request's outcome, whether a
marketable order got filled, market data arriving, its own loop turning) with timestamps from its
injected clock, and calls `check(now_ms)` for the time-based ones. The first breach is latched and
returned until `reset()` (the operator resumes); the kernel halts and shows `Breach.message`.

- daily_loss: the day's P&L (realized + unrealized - fees) at or below -daily_loss_limit
- drawdown: the day's high P&L minus now at or above max_drawdown
- venue_errors: error share of venue requests above max_venue_error_rate over venue_error_window_s,
  once at least venue_error_min_requests were made (one failed request of one is not a trend)
- fill_rate: share of marketable orders that got any fill below min_fill_rate over fill_rate_window_s,
  once at least fill_rate_min_orders were sent (books that show liquidity that is not there)
- feed_silence: no market data message for feed_silence_s
- kernel_stall: the kernel loop did not beat for kernel_stall_ms (checked by the watchdog)
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from fractions import Fraction

from console.config import RiskConfig
from console.domain.units import MICROS_PER_DOLLAR


@dataclass(frozen=True, slots=True)
class Breach:
    rule: str
    message: str
    at_ms: int

    def __str__(self) -> str:
        return f"{self.rule}: {self.message}"


class SlidingCount:
    """Timestamps (ms) in a sliding window (now - window, now], each with an optional flag.

    Kept sorted, so a timestamp that arrives late (an answer timed on another path) still leaves the
    window at the right moment.
    """

    def __init__(self, window_ms: int) -> None:
        self.window_ms = window_ms
        self._events: list[tuple[int, bool]] = []
        self._flagged = 0

    def add(self, ts_ms: int, flag: bool = False) -> None:
        bisect.insort(self._events, (ts_ms, flag))
        self._flagged += flag

    def _prune(self, now_ms: int) -> None:
        cut = bisect.bisect_right(self._events, (now_ms - self.window_ms, True))
        if cut:
            self._flagged -= sum(flag for _, flag in self._events[:cut])
            del self._events[:cut]

    def count(self, now_ms: int) -> int:
        self._prune(now_ms)
        return len(self._events)

    def flagged(self, now_ms: int) -> int:
        self._prune(now_ms)
        return self._flagged


def _usd(micros: int) -> str:
    sign = "-" if micros < 0 else ""
    whole, frac = divmod(abs(micros), MICROS_PER_DOLLAR)
    return f"{sign}${whole:,}.{frac // 10_000:02d}"


class Breakers:
    """All breakers of one trading day (see the module docstring)."""

    def __init__(self, config: RiskConfig, now_ms: int) -> None:
        self.config = config
        self.daily_loss_limit = config.daily_loss_limit_dollars * MICROS_PER_DOLLAR
        self.max_drawdown = config.max_drawdown_dollars * MICROS_PER_DOLLAR
        self._requests = SlidingCount(config.venue_error_window_s * 1000)  # flag = failed
        self._marketable = SlidingCount(config.fill_rate_window_s * 1000)  # flag = got a fill
        self.tripped: Breach | None = None
        self.day_high = 0
        self.last_feed_ms = self.last_beat_ms = now_ms

    def start_day(self, day_pnl: int = 0) -> None:
        """A new trading day: the P&L high restarts from the current P&L (0 for a fresh day)."""
        self.day_high = day_pnl

    def reset(self, now_ms: int) -> None:
        """The operator resumed: clear the latch and the windows, restart the silence clocks."""
        self.tripped = None
        self._requests = SlidingCount(self.config.venue_error_window_s * 1000)
        self._marketable = SlidingCount(self.config.fill_rate_window_s * 1000)
        self.last_feed_ms = self.last_beat_ms = now_ms

    def _trip(self, rule: str, message: str, now_ms: int) -> Breach:
        if self.tripped is None:
            self.tripped = Breach(rule, message, now_ms)
        return self.tripped

    # --- observations -------------------------------------------------------------------------
    def observe_pnl(self, now_ms: int, day_pnl: int) -> Breach | None:
        self.day_high = max(self.day_high, day_pnl)
        if day_pnl <= -self.daily_loss_limit:
            return self._trip("daily_loss", f"day P&L {_usd(day_pnl)} reached the daily loss limit "
                              f"{_usd(-self.daily_loss_limit)}", now_ms)
        drawdown = self.day_high - day_pnl
        if drawdown >= self.max_drawdown:
            return self._trip("drawdown", f"P&L {_usd(day_pnl)} is {_usd(drawdown)} below the day's high "
                              f"{_usd(self.day_high)}; limit {_usd(self.max_drawdown)}", now_ms)
        return self.tripped

    def observe_request(self, now_ms: int, ok: bool) -> Breach | None:
        """One venue request finished: ok, or an error (5xx, timeout, unexpected 4xx)."""
        self._requests.add(now_ms, not ok)
        total, failed = self._requests.count(now_ms), self._requests.flagged(now_ms)
        rate = Fraction(repr(self.config.max_venue_error_rate))
        if total >= self.config.venue_error_min_requests and Fraction(failed, total) > rate:
            return self._trip("venue_errors", f"{failed} of {total} venue requests failed in the last "
                              f"{self.config.venue_error_window_s} s (limit {self.config.max_venue_error_rate:.1%})", now_ms)
        return self.tripped

    def observe_marketable(self, now_ms: int, filled: bool) -> Breach | None:
        """A marketable order (priced through the book) finished: did it get any fill?"""
        self._marketable.add(now_ms, filled)
        total, hits = self._marketable.count(now_ms), self._marketable.flagged(now_ms)
        floor = Fraction(repr(self.config.min_fill_rate))
        if total >= self.config.fill_rate_min_orders and Fraction(hits, total) < floor:
            return self._trip("fill_rate", f"only {hits} of {total} marketable orders filled in the last "
                              f"{self.config.fill_rate_window_s} s (minimum {self.config.min_fill_rate:.1%}); the books may "
                              "show liquidity that is not there", now_ms)
        return self.tripped

    def feed_message(self, now_ms: int) -> None:
        self.last_feed_ms = max(self.last_feed_ms, now_ms)

    def kernel_beat(self, now_ms: int) -> None:
        self.last_beat_ms = max(self.last_beat_ms, now_ms)

    def check(self, now_ms: int) -> Breach | None:
        """The time-based breakers (feed silence, kernel stall); returns the latched breach if any."""
        if self.tripped is not None:
            return self.tripped
        silent = now_ms - self.last_feed_ms
        if silent >= self.config.feed_silence_s * 1000:
            return self._trip("feed_silence", f"no market data for {silent / 1000:.1f} s "
                              f"(limit {self.config.feed_silence_s} s)", now_ms)
        stalled = now_ms - self.last_beat_ms
        if stalled >= self.config.kernel_stall_ms:
            return self._trip("kernel_stall", f"the kernel loop has not turned for {stalled} ms "
                              f"(limit {self.config.kernel_stall_ms} ms)", now_ms)
        return None
