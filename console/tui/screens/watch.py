"""The watch prompt (`w`): add markets to the watchlist by ticker.

The operator types one or more tickers (spaces or commas between them); enter hands them to the desk,
which sends `Watch(tickers)` through `Control`. The engine asks the venue for each market, subscribes
its book and adds it to the snapshot; a ticker the venue does not know comes back as an alert ("not
found at the venue"), shown in the Alerts pane and as a notification. Markets removed from the
watchlist this session (`x`) are listed so they are easy to bring back. Escape closes without sending.
"""

from __future__ import annotations

import re

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

#: Kalshi tickers: capitals, digits, dots, dashes and underscores (KXHIGHNY-26OCT29-B62, KXCPI-26NOV-T0.3)
TICKER = re.compile(r"[A-Z0-9][A-Z0-9._-]{0,79}")
MAX_TICKERS = 20


def parse_tickers(text: str) -> tuple[str, ...] | str:
    """The tickers typed (upper-cased, in order, each once), or a message saying what is wrong."""
    words = [w for w in re.split(r"[\s,;]+", text.strip().upper()) if w]
    if not words:
        return "type a ticker, e.g. KXSENATE-26-D"
    bad = [w for w in words if not TICKER.fullmatch(w)]
    if bad:
        return f"not a ticker: {bad[0]} (letters, digits, '.', '-', '_')"
    if len(words) > MAX_TICKERS:
        return f"{len(words)} tickers: at most {MAX_TICKERS} at a time"
    return tuple(dict.fromkeys(words))


class WatchPrompt(ModalScreen[tuple[str, ...] | None]):
    BINDINGS = [Binding("escape", "cancel", "Close", id="watch_close")]

    def __init__(self, removed: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.removed = removed

    def compose(self) -> ComposeResult:
        with Vertical(id="watch-box"):
            yield Static("Tickers at the venue, separated by spaces; enter adds them, escape closes.",
                         id="watch-help")
            yield Input(placeholder="e.g. KXSENATE-26-D KXHOUSE-26-R", id="watch-input")
            yield Static("", id="watch-error")
            if self.removed:
                yield Static("removed this session: " + " ".join(self.removed), id="watch-removed")

    def on_mount(self) -> None:
        self.query_one("#watch-box").border_title = "Watch markets"
        self.query_one("#watch-input", Input).focus()

    @on(Input.Submitted, "#watch-input")
    def _submitted(self, event: Input.Submitted) -> None:
        parsed = parse_tickers(event.value)
        if isinstance(parsed, str):
            self.query_one("#watch-error", Static).update(parsed)
            return
        self.dismiss(parsed)

    @on(Input.Changed, "#watch-input")
    def _changed(self) -> None:
        self.query_one("#watch-error", Static).update("")

    def action_cancel(self) -> None:
        self.dismiss(None)
