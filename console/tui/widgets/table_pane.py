"""`TablePane`: a `CursorTable` with a details line under it that describes the selected row.

Used by the Edges pane (the selected market's model, prices, edge and the reason it is not traded, in
words) and the Arbitrage pane (the engine's instruction for both venues, or why the pair cannot be
traded, with unverified pairs flagged). The details come from a function of the row key, so they
follow the cursor and the snapshot; the line has a fixed height, so updating it never re-lays out the
screen. The border subtitle says where the cursor is when the rows do not all fit.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Static

from console.tui.widgets.cursor_table import Col, CursorTable, RowSpec


class TablePane(Vertical):
    DEFAULT_CSS = """
    TablePane > CursorTable { height: 1fr; }
    TablePane > .table-pane--details { height: 1; color: $foreground; text-wrap: nowrap; text-overflow: ellipsis; }
    TablePane > .table-pane--details.-wrap { text-wrap: wrap; }
    """

    def __init__(self, columns: Sequence[Col], details: Callable[[str | None], str], *, empty: str = "",
                 gap: int = 1, detail_lines: int = 1, id: str, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._columns, self._empty, self._gap = columns, empty, gap
        self._details = details
        self._detail_lines = detail_lines
        self._markup: str | None = None

    def compose(self) -> ComposeResult:
        yield CursorTable(self._columns, empty=self._empty, gap=self._gap, id=f"{self.id}-table")
        details = Static("", classes="table-pane--details" + (" -wrap" if self._detail_lines > 1 else ""))
        details.styles.height = self._detail_lines
        yield details

    @property
    def table(self) -> CursorTable:
        return self.query_one(CursorTable)

    def sync(self, rows: Mapping[str, RowSpec]) -> None:
        self.table.sync(rows)
        self.show_details()

    def show_details(self) -> None:
        table = self.table
        markup = self._details(table.selected_key())
        if markup != self._markup:
            self._markup = markup
            self.query_one(".table-pane--details", Static).update(Content.from_markup(markup), layout=False)
        hidden = table.row_count > table.size.height - 1 > 0
        subtitle = f"{table.cursor_row + 1} of {table.row_count}" if hidden else ""
        if subtitle != self.border_subtitle:
            self.border_subtitle = subtitle

    @on(CursorTable.Highlighted)
    def _highlighted(self) -> None:
        self.show_details()
