"""`CursorTable`: a keyed table with a row cursor, drawn with the Line API, for panes that change often.

The watchlist's bid/ask/last and the edges move with every book update. A `DataTable` re-renders every
visible cell through Rich after any `update_cell` (its render caches are keyed by a table-wide update
counter), which cost 12-30 ms a frame at 160x50 with 50 markets streaming (bench/ui.py). This table
keeps each row as plain cells, caches one rendered `Strip` per row, and on `sync(rows)` repaints only
the lines whose row changed (`refresh(Region)` of that line), so a tick that moves three prices
repaints three lines.

Rows are keyed (ticker, pair, ...) and shown in the order given; the cursor stays on its key when rows
are re-sorted, come or go (no jump, no flicker). Cells are plain strings or `(text, theme_variable)`
pairs, so colours stay theme variables (`$bid`, `$edge-neg`, `MUTED`, ...); a theme change repaints. Keys: up,
down, page up/down, home, end; a click selects a row. `Highlighted(key)` is posted when the row under
the cursor changes, by key or by a sync.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.color import Color, ColorParseError
from textual.geometry import Region
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

CellSpec = str | tuple[str, str]  # text, or (text, theme variable name without "$")
RowSpec = tuple[CellSpec, ...]


@dataclass(frozen=True, slots=True)
class Col:
    key: str
    title: str
    width: int  # cells; 0 = the rest of the line
    align: str = "left"
    hide_below: int = 0  # drop this column when the table is narrower than this

#: the cell colour for secondary text (a reason, a model name): the theme's `$text-muted`
MUTED = "text-muted"


class CursorTable(Widget, can_focus=True):
    """Header line plus keyed rows; `sync(rows)` repaints the rows that changed."""

    BINDINGS = [
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "edge(0)", "First", show=False),
        Binding("end", "edge(1)", "Last", show=False),
    ]
    COMPONENT_CLASSES = {"cursor-table--header", "cursor-table--cursor", "cursor-table--empty", "cursor-table--muted"}
    DEFAULT_CSS = """
    CursorTable { height: 1fr; background: $surface; color: $foreground; }
    CursorTable > .cursor-table--header { text-style: bold; background: $panel; color: $foreground; }
    CursorTable:ansi > .cursor-table--header { background: ansi_bright_blue; color: ansi_default; }
    CursorTable > .cursor-table--cursor {
        background: $block-cursor-blurred-background; color: $block-cursor-blurred-foreground;
        text-style: $block-cursor-blurred-text-style;
    }
    CursorTable:focus > .cursor-table--cursor {
        background: $block-cursor-background; color: $block-cursor-foreground; text-style: $block-cursor-text-style;
    }
    CursorTable > .cursor-table--empty { color: $text-muted; }
    CursorTable > .cursor-table--muted { color: $text-muted; }
    """

    @dataclass
    class Highlighted(Message):
        """The row under the cursor changed (None: the table is empty)."""

        table: CursorTable
        key: str | None

        @property
        def control(self) -> CursorTable:
            return self.table

    def __init__(self, columns: Sequence[Col], *, empty: str = "", gap: int = 2, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.spec = tuple(columns)
        self.empty = empty
        self.gap = gap  # spaces between columns (2 looks like a DataTable; 1 fits more at 80 columns)
        self._keys: list[str] = []
        self._index: dict[str, int] = {}
        self._rows: dict[str, RowSpec] = {}
        self._strips: dict[str, Strip] = {}  # rendered rows without the cursor, at `_strip_width`
        self._strip_width = -1
        self._var_styles: dict[str, Style] = {}
        self.cursor_row = 0
        self._top = 0  # index of the first row on screen
        self._highlighted: str | None = None
        self.cell_updates = 0  # rows (re)drawn because their content changed: for tests and the bench

    def on_mount(self) -> None:
        # the signal comes after the app re-applied its CSS (a `theme` watcher would run before, with the
        # old theme's component styles)
        self.app.theme_changed_signal.subscribe(self, self._theme_changed)

    def _theme_changed(self, _theme=None) -> None:
        self._var_styles.clear()
        self._strips.clear()
        self.refresh()

    # --- the keyed-table API ----------------------------------------------------------------------

    @property
    def row_count(self) -> int:
        return len(self._keys)

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(self._keys)

    def row(self, key: str) -> RowSpec | None:
        return self._rows.get(key)

    def selected_key(self) -> str | None:
        """The key under the cursor, or None for an empty table."""
        return self._keys[self.cursor_row] if self._keys else None

    def select_key(self, key: str) -> bool:
        index = self._index.get(key)
        if index is None:
            return False
        self.move_cursor(row=index)
        return True

    def move_cursor(self, *, row: int, animate: bool = False) -> None:
        """Put the cursor on row `row` (clamped); `animate` is accepted for DataTable's signature."""
        if not self._keys:
            return
        row = min(max(row, 0), len(self._keys) - 1)
        if row != self.cursor_row:
            old = self.cursor_row
            self.cursor_row = row
            if not self._scroll_to_cursor():
                self._refresh_rows(old, row)
        self._post_highlight()

    def sync(self, rows: Mapping[str, RowSpec]) -> None:
        """Show `rows` (in their order); repaint only rows whose content changed, keep the cursor's key."""
        keys = list(rows)
        if keys != self._keys:
            keep = self.selected_key()
            self._keys = keys
            self._index = {key: i for i, key in enumerate(keys)}
            for key in [k for k in self._strips if rows.get(k) != self._rows.get(k)]:
                del self._strips[key]
            self.cell_updates += sum(1 for k, row in rows.items() if self._rows.get(k) != row)
            self._rows = dict(rows)
            if keep is not None and keep in self._index:
                self.cursor_row = self._index[keep]
            else:
                self.cursor_row = min(self.cursor_row, max(0, len(keys) - 1))
            self._scroll_to_cursor()
            self.refresh()
        else:
            changed = []
            for key, row in rows.items():
                if self._rows[key] != row:
                    self._rows[key] = row
                    self._strips.pop(key, None)
                    changed.append(self._index[key])
            self.cell_updates += len(changed)
            self._refresh_rows(*changed)
        self._post_highlight()

    # --- keys and mouse ---------------------------------------------------------------------------

    def _visible_rows(self) -> int:
        return max(1, self.size.height - 1)

    def action_cursor(self, step: int) -> None:
        self.move_cursor(row=self.cursor_row + step)

    def action_page(self, step: int) -> None:
        self.move_cursor(row=self.cursor_row + step * self._visible_rows())

    def action_edge(self, end: int) -> None:
        self.move_cursor(row=len(self._keys) - 1 if end else 0)

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)  # inside the border (the panes draw one), None on it
        if offset is None or offset.y < 1:
            return
        index = self._top + offset.y - 1
        if index < len(self._keys):
            self.move_cursor(row=index)

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        event.stop()
        self.action_cursor(1)

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        event.stop()
        self.action_cursor(-1)

    def on_focus(self) -> None:
        self._refresh_rows(self.cursor_row)

    def on_blur(self) -> None:
        self._refresh_rows(self.cursor_row)

    def on_resize(self) -> None:
        self._scroll_to_cursor()
        self.refresh()

    def _scroll_to_cursor(self) -> bool:
        """Bring the cursor on screen; True (and a full repaint) when the view moved."""
        visible = self._visible_rows()
        top = self._top
        if self.cursor_row < top:
            top = self.cursor_row
        elif self.cursor_row >= top + visible:
            top = self.cursor_row - visible + 1
        top = max(0, min(top, len(self._keys) - visible))
        if top == self._top:
            return False
        self._top = top
        self.refresh()
        return True

    def _refresh_rows(self, *indexes: int) -> None:
        width = self.size.width
        visible = self._visible_rows()
        regions = [Region(0, 1 + i - self._top, width, 1) for i in indexes if 0 <= i - self._top < visible]
        if regions:
            self.refresh(*regions)

    def _post_highlight(self) -> None:
        key = self.selected_key()
        if key != self._highlighted:
            self._highlighted = key
            self.post_message(self.Highlighted(self, key))

    # --- drawing ----------------------------------------------------------------------------------

    def _widths(self, width: int) -> list[int]:
        """Cells per column at this width; a column with `hide_below` above the width gets 0 (not drawn)."""
        shown = [not col.hide_below or width >= col.hide_below for col in self.spec]
        count = sum(shown)
        fixed = sum(col.width for col, on in zip(self.spec, shown, strict=True) if on) + self.gap * (count - 1) + 2
        flex = max(1, width - fixed)
        return [(col.width or flex) if on else 0 for col, on in zip(self.spec, shown, strict=True)]

    def _var_style(self, var: str) -> Style:
        style = self._var_styles.get(var)
        if style is None and var == MUTED:
            # `$text-muted` is a blend ("auto 60%"), not a colour: the CSS resolves it per theme
            style = self._var_styles[var] = self.get_component_rich_style("cursor-table--muted")
        elif style is None:
            value = self.app.theme_variables.get(var) or self.app.get_theme_variable_defaults().get(var, "")
            try:
                style = Style(color=Color.parse(value).rich_color)
            except ColorParseError:  # a theme value Textual cannot parse: uncoloured, not a crash
                style = Style()
            self._var_styles[var] = style
        return style

    def _line(self, cells: Sequence[CellSpec], width: int, base: Style, over: Style | None) -> Strip:
        segments = [Segment(" ", base + over if over is not None else base)]
        pad = " " * self.gap
        for cell, col, col_width in zip(cells, self.spec, self._widths(width), strict=False):
            if not col_width:
                continue
            text, var = (cell, None) if isinstance(cell, str) else cell
            if len(text) > col_width:
                text = text[:col_width - 1] + "…" if col_width > 1 else text[:col_width]
            text = text.rjust(col_width) if col.align == "right" else text.ljust(col_width)
            style = base + self._var_style(var) if var else base
            if over is not None:
                style = style + over
            segments.append(Segment(text + pad, style))
        return Strip(segments).adjust_cell_length(width, base + over if over is not None else base)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base = self.rich_style
        if width != self._strip_width:
            self._strips.clear()
            self._strip_width = width
        if y == 0:
            header = self.get_component_rich_style("cursor-table--header")
            return self._line([col.title for col in self.spec], width, base, header)
        index = self._top + y - 1
        if not self._keys:
            if y == 1 and self.empty:
                muted = self.get_component_rich_style("cursor-table--empty")
                return Strip([Segment(f" {self.empty}"[:width].ljust(width), base + muted)], width)
            return Strip.blank(width, base)
        if index >= len(self._keys):
            return Strip.blank(width, base)
        key = self._keys[index]
        if index == self.cursor_row:
            return self._line(self._rows[key], width, base, self.get_component_rich_style("cursor-table--cursor"))
        strip = self._strips.get(key)
        if strip is None:
            strip = self._strips[key] = self._line(self._rows[key], width, base, None)
        return strip
