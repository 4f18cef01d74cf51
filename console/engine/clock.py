"""Clocks for the kernel: the only source of time its decisions see.

The kernel never reads wall time itself; it asks its injected clock once per item it handles and
keeps that reading (`Kernel.now_ms`). Live, `WallClock` reads the system clocks; tests and replays
use `ManualClock`, set to the recorded time before each item, so the same items at the same times
give the same decisions.

Two readings: `now_ms()` (Unix milliseconds: order timestamps, TTLs, rate windows, breakers, the
journal) and `mono_ns()` (monotonic nanoseconds, the clock the WebSocket client stamps `recv_ns`
with, so book health compares like with like).
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def now_ms(self) -> int: ...

    def mono_ns(self) -> int: ...


class WallClock:
    """The machine's clocks (live trading)."""

    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000

    def mono_ns(self) -> int:
        return time.monotonic_ns()


class ManualClock:
    """A clock that moves only when told to (tests, replays, backtests)."""

    def __init__(self, now_ms: int = 1_767_225_600_000, mono_ns: int | None = None) -> None:
        self._now_ms = now_ms
        self._mono_ns = now_ms * 1_000_000 if mono_ns is None else mono_ns

    def now_ms(self) -> int:
        return self._now_ms

    def mono_ns(self) -> int:
        return self._mono_ns

    def set(self, now_ms: int, mono_ns: int | None = None) -> None:
        if now_ms < self._now_ms:
            raise ValueError(f"a manual clock never goes back ({now_ms} < {self._now_ms})")
        self._mono_ns += (now_ms - self._now_ms) * 1_000_000 if mono_ns is None else 0
        if mono_ns is not None:
            self._mono_ns = mono_ns
        self._now_ms = now_ms

    def advance(self, ms: int) -> None:
        self.set(self._now_ms + ms)
