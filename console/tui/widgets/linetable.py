"""A read-only table drawn with the Line API, for panes that change many times a second (edges).

`DataTable` keeps a row object per row and re-measures on updates; this widget keeps plain tuples and
builds one `Strip` per visible line on demand, so replacing all rows costs one repaint. Cells carry an
optional component-class name (`cell--pos`, `cell--neg`, `cell--bid`, `cell--ask`, `cell--muted`) so
colours stay theme variables. Rows past the bottom are counted in the border subtitle, not scrolled.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.segment import Segment
from textual.strip import Strip
from textual.widget import Widget

Cell = tuple[str, str | None]  # (text, component class or None)


@dataclass(frozen=True, slots=True)
class Column:
    title: str
    width: int  # 0 = take what is left
    align: str = "left"  # left | right


class LineTable(Widget, can_focus=False):
    """Header plus as many rows as fit; `set_rows` replaces them all."""

    COMPONENT_CLASSES = {"cell--header", "cell--pos", "cell--neg", "cell--bid", "cell--ask", "cell--muted"}
    DEFAULT_CSS = """
    LineTable { height: 1fr; }
    LineTable > .cell--header { color: $text-muted; text-style: bold; }
    LineTable > .cell--pos { color: $edge-pos; }
    LineTable > .cell--neg { color: $edge-neg; }
    LineTable > .cell--bid { color: $bid; }
    LineTable > .cell--ask { color: $ask; }
    LineTable > .cell--muted { color: $text-muted; }
    """

    def __init__(self, columns: Sequence[Column], *, empty: str = "nothing yet", id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.columns = tuple(columns)
        self.rows: tuple[tuple[Cell, ...], ...] = ()
        self.empty = empty

    def set_rows(self, rows: Sequence[Sequence[Cell]]) -> None:
        new = tuple(tuple(row) for row in rows)
        if new == self.rows:
            return
        self.rows = new
        self._update_subtitle()
        self.refresh()

    def on_resize(self) -> None:
        self._update_subtitle()

    def _update_subtitle(self) -> None:
        shown = max(0, self.size.height - 1)
        hidden = len(self.rows) - shown
        self.border_subtitle = f"+{hidden} more" if hidden > 0 and shown else ""

    def _widths(self, width: int) -> list[int]:
        fixed = sum(c.width for c in self.columns) + len(self.columns) - 1
        flex = max(1, width - fixed)
        return [c.width or flex for c in self.columns]

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base = self.rich_style
        if y == 0:
            style = self.get_component_rich_style("cell--header")
            cells: Sequence[Cell] = [(c.title, None) for c in self.columns]
            return self._strip(cells, width, style)
        if not self.rows and y == 1:
            muted = self.get_component_rich_style("cell--muted")
            return Strip([Segment(f" {self.empty}".ljust(width)[:width], muted)], width)
        index = y - 1
        if index >= len(self.rows):
            return Strip.blank(width, base)
        return self._strip(self.rows[index], width, base)

    def _strip(self, cells: Sequence[Cell], width: int, default) -> Strip:
        segments = []
        for column, col_width, (text, cls) in zip(self.columns, self._widths(width), cells, strict=False):
            style = self.get_component_rich_style(cls) if cls else default
            text = text[:col_width]
            text = text.rjust(col_width) if column.align == "right" else text.ljust(col_width)
            segments.append(Segment(text, style))
            segments.append(Segment(" ", default))
        return Strip(segments).adjust_cell_length(width, self.rich_style)
