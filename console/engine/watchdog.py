"""The watchdog: a small thread outside the kernel that cancels every resting order when the kernel
stalls or the market-data feed goes silent beyond the configured limits.

It does not wait for the kernel (which may be the thing that is stuck): it asks the io thread for the
venue's cancel-all directly, then tells the kernel (`WatchdogFired`), which halts with the reason
when it gets to it. It fires once per episode and re-arms when the kernel turns again or the feed
speaks again. It is armed only once the desk is trading (after start-up reconciliation).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from console.engine.messages import CancelAllAction, WatchdogFired

log = logging.getLogger(__name__)


class Watchdog:
    def __init__(self, *, kernel_beat: Callable[[], float], feed_mono: Callable[[], float | None],
                 armed: Callable[[], bool], cancel_all: Callable[[object], None], tell_kernel: Callable[[object], None],
                 kernel_stall_s: float, feed_silence_s: float, period_s: float = 0.1) -> None:
        self.kernel_beat = kernel_beat
        self.feed_mono = feed_mono
        self.armed = armed
        self.cancel_all = cancel_all
        self.tell_kernel = tell_kernel
        self.kernel_stall_s = kernel_stall_s
        self.feed_silence_s = feed_silence_s
        self.period_s = period_s
        self.fired: list[str] = []
        self._kernel_fired = False
        self._feed_fired = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="edgedesk-watchdog", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2)

    def _run(self) -> None:
        while not self._stop.wait(self.period_s):
            self.check(time.monotonic())

    def check(self, now: float) -> None:
        if not self.armed():
            return
        stalled = now - self.kernel_beat()
        if stalled > self.kernel_stall_s:
            if not self._kernel_fired:
                self._kernel_fired = True
                self._fire(f"the kernel has not turned for {stalled:.1f} s (limit {self.kernel_stall_s:g} s)")
        else:
            self._kernel_fired = False
        last = self.feed_mono()
        silent = None if last is None else now - last
        if silent is not None and silent > self.feed_silence_s:
            if not self._feed_fired:
                self._feed_fired = True
                self._fire(f"every market-data feed has been silent for {silent:.1f} s (limit {self.feed_silence_s:g} s)")
        else:
            self._feed_fired = False

    def _fire(self, reason: str) -> None:
        log.error("watchdog: %s; cancelling every resting order", reason)
        self.fired.append(reason)
        self.cancel_all(CancelAllAction(f"watchdog: {reason}"))
        self.tell_kernel(WatchdogFired(reason))
