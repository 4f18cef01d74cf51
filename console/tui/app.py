"""`EdgeDeskApp`: wires the desk's screens, global keys, themes, keymap and the engine bridge.

It does not draw panes (console/tui/screens/desk.py does). What it owns:
- the `Control` it was given (the only way into the engine) and the `EngineBridge` that turns engine
  events into `EngineMessage`s on the UI thread;
- the global keys, as `BINDINGS` with ids so `config.toml [ui.keys]` can remap them through
  `App.set_keymap`: flatten (`ctrl+k`, a priority binding: it fires under any modal and inside any input,
  with no confirmation), auto on/off, theme cycling, help and quitting through the exit policy;
- the desk's themes (themes/*.toml) and its colour variables.
"""

from __future__ import annotations

import gc
import sys
import time
from collections.abc import Callable, Iterable

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from console.config import DeskConfig
from console.engine.control import (
    Control,
    DeskSnapshot,
    ExitPolicy,
    Flatten,
    Mode,
    OrderChecked,
    SetAuto,
)
from console.tui.alerts import AlertBook, describe
from console.tui.bridge import EngineBridge, EngineMessage
from console.tui.commands import DeskThemesProvider, MarketsProvider, StrategiesProvider
from console.tui.screens.desk import DeskScreen
from console.tui.screens.help import HelpScreen
from console.tui.screens.shutdown import ShutdownScreen
from console.tui.screens.ticket import OrderTicket
from console.tui.themes import VARIABLE_DEFAULTS, load_themes, next_theme


def _wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


class EdgeDeskApp(App):
    """The desk. `control` is the engine's; `wait_stopped(timeout_s) -> bool` blocks until it stopped."""

    CSS_PATH = "console.tcss"
    TITLE = "edgedesk"
    COMMANDS = App.COMMANDS | {MarketsProvider, StrategiesProvider, DeskThemesProvider}
    BINDINGS = [
        Binding("ctrl+k", "flatten", "FLATTEN", priority=True, id="flatten"),
        Binding("a", "toggle_auto", "Auto", id="toggle_auto"),
        Binding("t", "cycle_theme", "Theme", id="cycle_theme"),
        Binding("question_mark", "help", "Help", id="help"),
        Binding("q", "quit_desk", "Quit", id="quit"),
        Binding("ctrl+q", "quit_desk", "Quit", show=False, priority=True, id="quit_now"),
    ]

    def __init__(self, control: Control, config: DeskConfig | None = None, *,
                 clock_ms: Callable[[], int] = _wall_clock_ms,
                 wait_stopped: Callable[[float], bool] | None = None, tune_gc: bool = False) -> None:
        super().__init__()
        self._tune_gc = tune_gc
        self.control = control
        self.config = config or DeskConfig()
        self.clock_ms = clock_ms
        self._wait_stopped = wait_stopped
        self.alert_book = AlertBook()
        self.bridge: EngineBridge | None = None
        self._flatten_version: int | None = None
        self.desk = DeskScreen()
        for theme in load_themes():
            self.register_theme(theme)
        self.theme = self.config.ui.theme

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return dict(VARIABLE_DEFAULTS)

    def get_default_screen(self) -> Screen:
        return self.desk

    def on_mount(self) -> None:
        self._apply_keymap(self.config.ui.keys)
        self.bridge = EngineBridge(self.control, self)
        if self._tune_gc:
            self.call_after_refresh(self._freeze_startup_objects)

    def _freeze_startup_objects(self) -> None:
        """Move everything alive after start-up (modules, widgets, styles) out of the collector's reach.

        A full (generation 2) collection walks every tracked object; with the desk's thousands of
        widget and style objects that took 50-100 ms, long enough to stall the UI loop and key presses
        while books stream (bench/ui.py). Frozen objects are never collected, so only the desk's own
        process does this (run_desk), not every app a test creates.
        """
        gc.collect()
        gc.freeze()
        # the kernel and io threads run Python too: hand the GIL back to the UI thread every 1 ms
        # (default 5 ms), so a key press or a frame does not queue behind several 5 ms slices
        sys.setswitchinterval(0.001)

    def on_unmount(self) -> None:
        if self.bridge is not None:
            self.bridge.close()

    def _apply_keymap(self, keys: dict[str, str]) -> None:
        known = {b.id for owner in (type(self), DeskScreen) for b in owner.BINDINGS
                 if isinstance(b, Binding) and b.id}
        unknown = sorted(set(keys) - known)
        if unknown:
            self.notify(f"config.toml [ui.keys] {', '.join(unknown)}: no such binding id; "
                        f"known ids: {', '.join(sorted(known))}", severity="error", timeout=15)
        self.set_keymap({k: v for k, v in keys.items() if k in known})

    # --- engine events (UI thread) -----------------------------------------------------------------

    def on_engine_message(self, message: EngineMessage) -> None:
        event = message.event
        if isinstance(event, OrderChecked):
            for screen in self.screen_stack:
                if isinstance(screen, OrderTicket):
                    screen.on_order_checked(event)
            return
        line = describe(event, self.clock_ms())
        if line is None:
            return
        self.alert_book.add(line)
        if line.kind == "arb" and line.level != "info":
            # an arb strategy's Kalshi leg filled: the operator must place the Polymarket leg by hand, so
            # the instruction stays on screen until dismissed or a minute has passed (and in Alerts)
            self.notify(line.text, title="Place the Polymarket leg", severity="warning", timeout=60)
            return
        # a market the operator asked to watch that the venue does not know comes back as a "market" alert
        if line.level == "error" or line.kind in ("flatten", "proposal", "market") and line.level != "info":
            self.notify(line.text, severity="error" if line.level == "error" else "warning")

    # --- global actions ----------------------------------------------------------------------------

    def flatten_pending(self, snap: DeskSnapshot) -> bool:
        """True between ctrl+k and the first snapshot published after it."""
        return self._flatten_version is not None and snap.version <= self._flatten_version

    def action_flatten(self) -> None:
        self._flatten_version = self.control.snapshot().version
        self.control.submit(Flatten("operator"))
        self.notify("FLATTEN sent: halt, cancel everything, close every position", severity="warning")

    def action_toggle_auto(self) -> None:
        mode = self.control.snapshot().mode
        on = mode is not Mode.AUTO
        self.control.submit(SetAuto(on))
        self.notify("Auto-trading: ON requested" if on else "Auto-trading: OFF (manual) requested")

    def action_cycle_theme(self) -> None:
        self.theme = next_theme(self.theme)

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_help_quit(self) -> None:
        # ctrl+c does not quit a trading desk by accident; say what does
        self.notify(f"q quits (exit policy: {self.config.ui.exit_policy}); ctrl+k flattens everything",
                    title="Quit?")

    async def action_quit(self) -> None:
        # every way out (palette "Quit" included) goes through the exit policy
        self.action_quit_desk()

    def action_quit_desk(self) -> None:
        if not any(isinstance(s, ShutdownScreen) for s in self.screen_stack):
            self.push_screen(ShutdownScreen(ExitPolicy(self.config.ui.exit_policy)))

    def wait_engine_stopped(self, timeout_s: float) -> bool:
        """Blocking (worker thread): has the engine finished its shutdown within `timeout_s`?"""
        return True if self._wait_stopped is None else self._wait_stopped(timeout_s)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        for command in super().get_system_commands(screen):
            if command.title != "Theme":  # the desk's own four themes are offered instead
                yield command
        desk = self.desk
        yield SystemCommand("Flatten everything", "HALT, cancel all, close every position (ctrl+k)",
                            self.action_flatten)
        yield SystemCommand("Toggle auto-trading", "MANUAL <-> AUTO (a)", self.action_toggle_auto)
        yield SystemCommand("Approve proposal", "send the selected proposal (y)", desk.action_approve)
        yield SystemCommand("Reject proposal", "drop the selected proposal (n)", desk.action_reject)
        yield SystemCommand("Buy YES", "order ticket for the selected market (b)", lambda: desk.action_ticket("bid"))
        yield SystemCommand("Sell YES / buy NO", "order ticket for the selected market (s)",
                            lambda: desk.action_ticket("ask"))
        yield SystemCommand("Cancel selected order", "cancel the order under the cursor (c)", desk.action_cancel_order)
        yield SystemCommand("Cancel all orders", "bot and manual (C)", desk.action_cancel_all)
        yield SystemCommand("Search markets", "filter the watchlist (/)", desk.action_search)
        yield SystemCommand("Watch markets", "add markets to the watchlist by ticker (w)", desk.action_watch)
        yield SystemCommand("Remove market", "take the selected market off the watchlist (x)", desk.action_unwatch)
        yield SystemCommand("Toggle YES/NO book view", "the ladder's scale (v)", desk.action_toggle_no_view)
        yield SystemCommand("Cycle theme", "dark, light, ansi, colorblind (t)", self.action_cycle_theme)
        yield SystemCommand("Help", "every key (?)", self.action_help)
