"""The simulator's clock: real time scaled by a speed factor, movable by the admin surface.

Everything in the exchange reads time from one `SimClock`, so tests can run the world faster than
real time (`--speed N`) and jump it forward (`POST /sim/clock`) without sleeping.
"""

from __future__ import annotations

import time


class SimClock:
    """Simulated wall-clock time in Unix milliseconds.

    sim_now = start_sim + (monotonic_now - start_real) * speed + jumped
    """

    def __init__(self, speed: float = 1.0, start_ms: int | None = None) -> None:
        if speed <= 0:
            raise ValueError("clock speed must be > 0")
        self._speed = speed
        self._start_real = time.monotonic()
        self._start_sim_ms = int(time.time() * 1000) if start_ms is None else start_ms
        self._jumped_ms = 0

    @property
    def speed(self) -> float:
        return self._speed

    def now_ms(self) -> int:
        elapsed = (time.monotonic() - self._start_real) * 1000.0 * self._speed
        return self._start_sim_ms + int(elapsed) + self._jumped_ms

    def now_s(self) -> int:
        return self.now_ms() // 1000

    def advance(self, ms: int) -> int:
        """Jump forward by `ms` simulated milliseconds (never backwards); returns the new time."""
        if ms < 0:
            raise ValueError("the clock only moves forward")
        self._jumped_ms += ms
        return self.now_ms()

    def set_speed(self, speed: float) -> None:
        if speed <= 0:
            raise ValueError("clock speed must be > 0")
        now = self.now_ms()
        self._speed = speed
        self._start_real = time.monotonic()
        self._start_sim_ms = now
        self._jumped_ms = 0

    def real_seconds(self, sim_ms: int) -> float:
        """How many real seconds `sim_ms` of simulated time take at the current speed."""
        return sim_ms / 1000.0 / self._speed
