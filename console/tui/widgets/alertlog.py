"""The alerts log: a scrollable Line API view of the `AlertBook`, newest at the bottom.

It follows new lines while the view is at the bottom; scrolled up (arrow keys when focused), it stays
put so a line can be read while fills keep arriving. Levels and kinds are coloured through theme
variables (fills `$bid`, warnings `$risk-warn`, errors `$risk-breach`).
"""

from __future__ import annotations

from rich.segment import Segment
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from console.tui import format as fmt
from console.tui.alerts import AlertBook, AlertLine


class AlertLog(ScrollView, can_focus=True):
    COMPONENT_CLASSES = {"alert--time", "alert--info", "alert--warn", "alert--error", "alert--fill"}
    DEFAULT_CSS = """
    AlertLog { height: 1fr; }
    AlertLog > .alert--time { color: $text-muted; }
    AlertLog > .alert--info { color: $foreground; }
    AlertLog > .alert--warn { color: $risk-warn; }
    AlertLog > .alert--error { color: $risk-breach; text-style: bold; }
    AlertLog > .alert--fill { color: $bid; }
    """

    def __init__(self, book: AlertBook, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.book = book
        self._version = -1
        self._lines: list[AlertLine] = []

    def sync(self) -> None:
        if self.book.version == self._version:
            return
        follow = self.scroll_y >= self.max_scroll_y
        self._version = self.book.version
        self._lines = list(self.book.lines)
        self.virtual_size = Size(self.size.width, len(self._lines))
        if follow:
            self.scroll_to(y=max(0, len(self._lines) - self.size.height), animate=False, immediate=True)
        self.refresh()

    def on_resize(self) -> None:
        self.virtual_size = Size(self.size.width, len(self._lines))
        self.scroll_to(y=max(0, len(self._lines) - self.size.height), animate=False, immediate=True)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        index = y + int(self.scroll_offset.y)
        if not self._lines and y == 0:
            return Strip([Segment(" no alerts yet".ljust(width)[:width], self.get_component_rich_style("alert--time"))])
        if index >= len(self._lines):
            return Strip.blank(width, self.rich_style)
        line = self._lines[index]
        cls = "alert--fill" if line.kind == "fill" and line.level == "info" else f"alert--{line.level}"
        style = self.get_component_rich_style(cls, default=self.rich_style)
        time_style = self.get_component_rich_style("alert--time")
        return Strip([Segment(f"{fmt.clock(line.ts_ms)} ", time_style), Segment(f"{line.kind:<10} {line.text}", style)]
                     ).adjust_cell_length(width, self.rich_style)
