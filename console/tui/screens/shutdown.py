"""The quitting screen (`q`): sends `Shutdown(policy)` and waits for the engine to finish it.

The exit policy comes from `config.toml [ui] exit_policy`: leave resting orders, cancel them, or
flatten everything. The desk stays open (and ctrl+k still works) until the engine reports it has
stopped; the wait runs in a short-lived worker thread because it blocks. If the engine does not stop
in time, the screen says so and a second `q` leaves anyway.
"""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from console.engine.control import ExitPolicy, Shutdown

WHAT = {ExitPolicy.LEAVE: "leaving resting orders in place",
        ExitPolicy.CANCEL: "cancelling every resting order",
        ExitPolicy.FLATTEN: "flattening every position (cancel, then close out)"}
STOP_TIMEOUT_S = 30.0


class ShutdownScreen(ModalScreen[None]):
    BINDINGS = [Binding("q", "force_quit", "Quit now", id="force_quit")]

    def __init__(self, policy: ExitPolicy) -> None:
        super().__init__()
        self.policy = policy
        self.timed_out = False

    def compose(self) -> ComposeResult:
        with Vertical(id="shutdown-box"):
            yield Static(f"Quitting ({self.policy.value}): {WHAT[self.policy]}...", id="shutdown-text")

    def on_mount(self) -> None:
        self.query_one("#shutdown-box").border_title = "Quitting"
        self.app.control.submit(Shutdown(self.policy))
        self._wait()

    @work(thread=True, exclusive=True, exit_on_error=False)
    def _wait(self) -> None:
        stopped = self.app.wait_engine_stopped(STOP_TIMEOUT_S)
        # back on the UI thread for both outcomes: this is a one-off, not a hot path
        self.app.call_from_thread(self._finished if stopped else self._too_slow)

    def _finished(self) -> None:
        self.app.exit()

    def _too_slow(self) -> None:
        self.timed_out = True
        self.query_one("#shutdown-text", Static).update(
            f"The engine did not stop within {STOP_TIMEOUT_S:.0f} s ({WHAT[self.policy]}). "
            "Check the exchange; press q again to leave anyway.")

    def action_force_quit(self) -> None:
        if self.timed_out:
            self.app.exit()
