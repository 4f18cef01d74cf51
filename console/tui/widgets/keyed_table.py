"""`KeyedTable`: a DataTable updated from snapshot rows by keyed diff (dolphie's way).

Each sync compares the new rows with what the table shows, by row key: rows that vanished are removed,
new rows are added, and only cells whose text or colour changed get `update_cell`. When the order of
rows matters (`ordered=True`) and the set or order of keys changed, the table is rebuilt instead and
the cursor stays on the same key. Cells are plain strings or `(text, theme_variable)` pairs, so colours
come from the theme (`$bid`, `$edge-neg`, ...): the variable is resolved against the current theme when
the cell is drawn, and a theme change redraws every cell. (Cells are Rich `Text`, not `Content`: the
DataTable renders cells through Rich, and `Text` keeps right-justified numbers aligned.)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rich.style import Style
from rich.text import Text
from textual.color import Color, ColorParseError
from textual.coordinate import Coordinate
from textual.widgets import DataTable

CellSpec = str | tuple[str, str]  # text, or (text, theme variable name without "$")
RowSpec = tuple[CellSpec, ...]


@dataclass(frozen=True, slots=True)
class Col:
    key: str
    title: str
    width: int  # cells; 0 = the rest of the line (CursorTable)
    align: str = "left"
    hide_below: int = 0  # CursorTable: drop this column when the table is narrower than this


class KeyedTable(DataTable):
    """A cursor-row DataTable whose rows are keyed; `sync(rows)` applies the difference."""

    def __init__(self, columns: Sequence[Col], *, ordered: bool = False, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes, cursor_type="row", zebra_stripes=False)
        self.spec = tuple(columns)
        self.ordered = ordered
        self._shown: dict[str, RowSpec] = {}
        self._styles: dict[str, Style] = {}
        self.cell_updates = 0  # counted for tests and the bench: how much work the diffs did

    def on_mount(self) -> None:
        for col in self.spec:
            self.add_column(Text(col.title, justify="right" if col.align == "right" else "left"),
                            key=col.key, width=col.width)
        self.watch(self.app, "theme", self._theme_changed, init=False)

    def _theme_changed(self) -> None:
        self._styles.clear()
        self._rebuild(dict(self._shown))

    def _style(self, var: str) -> Style:
        style = self._styles.get(var)
        if style is None:
            value = self.app.theme_variables.get(var) or self.app.get_theme_variable_defaults().get(var, "")
            try:
                style = Style(color=Color.parse(value).rich_color)
            except ColorParseError:  # a theme value Textual cannot parse: show the text uncoloured, not crash
                style = Style()
            self._styles[var] = style
        return style

    def _render(self, cell: CellSpec, col: Col) -> Text:
        text, var = (cell, None) if isinstance(cell, str) else cell
        return Text(text, style=self._style(var) if var else "", justify="right" if col.align == "right" else "left",
                    no_wrap=True, overflow="ellipsis", end="")

    def selected_key(self) -> str | None:
        """The row key under the cursor, or None for an empty table."""
        if not self.row_count:
            return None
        row = min(max(self.cursor_row, 0), self.row_count - 1)
        return self.coordinate_to_cell_key(Coordinate(row, 0)).row_key.value

    def select_key(self, key: str) -> bool:
        if key not in self._shown:
            return False
        self.move_cursor(row=self.get_row_index(key))
        return True

    def sync(self, rows: Mapping[str, RowSpec]) -> None:
        if self.ordered and list(rows) != list(self._shown):
            self._rebuild(rows)
            return
        for key in [k for k in self._shown if k not in rows]:
            self.remove_row(key)
            del self._shown[key]
        for key, row in rows.items():
            old = self._shown.get(key)
            if old is None:
                self.add_row(*(self._render(c, col) for c, col in zip(row, self.spec, strict=True)), key=key)
                self.cell_updates += 1
            elif old != row:
                for cell, old_cell, col in zip(row, old, self.spec, strict=True):
                    if cell != old_cell:
                        self.update_cell(key, col.key, self._render(cell, col))
                        self.cell_updates += 1
            self._shown[key] = row

    def _rebuild(self, rows: Mapping[str, RowSpec]) -> None:
        keep = self.selected_key()
        self.clear()
        self._shown = {}
        for key, row in rows.items():
            self.add_row(*(self._render(c, col) for c, col in zip(row, self.spec, strict=True)), key=key)
            self._shown[key] = row
        self.cell_updates += len(rows)
        if keep is not None and keep in rows:
            self.move_cursor(row=self.get_row_index(keep), animate=False)
