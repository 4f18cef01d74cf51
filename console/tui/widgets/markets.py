"""The markets pane: search box, watchlist table and a details line for the selected market.

`/` (a desk binding) focuses the search box; every word typed must appear in the ticker, title, venue or
category, so "poly senate" finds Polymarket's Senate markets. Enter or down goes back to the table;
escape clears the search. The watchlist is a `CursorTable` (Line API: only rows whose prices
changed are repainted, bench/ui.py). Moving the cursor posts `MarketsPane.Selected`, which the desk uses for the
ladder, the order ticket and the palette. The details line names the book-health reason.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, Static

from console.engine.control import DeskSnapshot
from console.tui.rows import MARKET_COLS, market_details, market_rows
from console.tui.widgets.cursor_table import CursorTable


class MarketsPane(Vertical):
    BINDINGS = [Binding("escape", "clear_search", "Clear search", show=False)]
    DEFAULT_CSS = """
    MarketsPane > #search { height: 1; border: none; }
    MarketsPane > #markets { height: 1fr; }
    MarketsPane > #market-details { height: 1; color: $text-muted; }
    """

    @dataclass
    class Selected(Message):
        ticker: str | None

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.query_text = ""
        self._snap = DeskSnapshot()
        self._selected: str | None = None
        self._details = ""
        self.hidden: set[str] = set()  # removed from the watchlist by the operator (`x`) this session

    def compose(self) -> ComposeResult:
        yield Input(placeholder="/ search: ticker, title, venue, category", id="search", compact=True)
        yield CursorTable(MARKET_COLS, empty="no markets (w adds one)", id="markets")
        yield Static("", id="market-details")

    @property
    def table(self) -> CursorTable:
        return self.query_one("#markets", CursorTable)

    def show(self, snap: DeskSnapshot) -> None:
        self._snap = snap
        self.table.sync(market_rows(snap, self.query_text, self.hidden))
        self._refresh_selection()

    def _refresh_selection(self) -> None:
        ticker = self.table.selected_key()
        if ticker != self._selected:
            self._selected = ticker
            self.post_message(self.Selected(ticker))
        details = market_details(self._snap, ticker)
        if details != self._details:
            # one fixed line: skip the layout pass (a full-screen layout costs milliseconds under load)
            self._details = details
            self.query_one("#market-details", Static).update(details, layout=False)
        shown, total = self.table.row_count, len(self._snap.markets)
        total -= sum(1 for m in self._snap.markets if m.ticker in self.hidden)
        subtitle = f"{shown} of {total} match" if self.query_text else f"{total} markets"
        if self.hidden:
            subtitle += f" ({len(self.hidden)} removed)"
        if subtitle != self.border_subtitle:
            self.border_subtitle = subtitle

    def hide(self, ticker: str) -> None:
        """Take `ticker` off the watchlist (the cursor moves to its neighbour)."""
        self.hidden.add(ticker)
        self.table.sync(market_rows(self._snap, self.query_text, self.hidden))
        self._refresh_selection()

    def unhide(self, tickers) -> None:
        if self.hidden & set(tickers):
            self.hidden -= set(tickers)
            self.table.sync(market_rows(self._snap, self.query_text, self.hidden))
            self._refresh_selection()

    def select(self, ticker: str) -> bool:
        """Put the cursor on `ticker` (clearing a search that hides it, and bringing it back if removed)."""
        self.unhide((ticker,))
        if not self.table.select_key(ticker):
            self.query_one("#search", Input).value = ""
            self.query_text = ""
            self.table.sync(market_rows(self._snap, "", self.hidden))
            if not self.table.select_key(ticker):
                return False
        self._refresh_selection()
        return True

    def focus_search(self) -> None:
        self.query_one("#search", Input).focus()

    @on(Input.Changed, "#search")
    def _search_changed(self, event: Input.Changed) -> None:
        self.query_text = event.value.strip()
        self.table.sync(market_rows(self._snap, self.query_text, self.hidden))
        if self.table.row_count:
            self.table.move_cursor(row=0, animate=False)
        self._refresh_selection()

    @on(Input.Submitted, "#search")
    def _search_done(self) -> None:
        self.table.focus()

    def action_clear_search(self) -> None:
        search = self.query_one("#search", Input)
        if search.value:
            search.value = ""
        self.table.focus()

    @on(CursorTable.Highlighted, "#markets")
    def _row_highlighted(self) -> None:
        self._refresh_selection()
