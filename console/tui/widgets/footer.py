"""The desk's footer: Textual's Footer with the keys in safety order, the essential ones always shown.

Textual lists keys from the focused widget outwards, which would put the app's global keys, flatten
among them, last and off the edge of an 80-column terminal. This footer shows the active bindings in
`ORDER` (binding ids; the rest after them) and, when they do not all fit on the line, keeps the
`ESSENTIAL` ones (flatten, auto, approve/reject, cancel all, help) and fills what room is left with the
others in `ORDER`, the palette key last. It is rebuilt when the bindings or the width change, so a
remapped key (`[ui.keys]`) shows as remapped and nothing essential is cut at 80x24.
"""

from __future__ import annotations

from rich.cells import cell_len
from textual.app import ComposeResult
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

ORDER = ("flatten", "help", "toggle_auto", "approve", "reject", "buy", "sell", "cancel_order", "cancel_all",
         "search", "watch", "unwatch", "toggle_no_view", "cycle_theme", "quit")
#: always on screen, whatever the width (each is a safety or a decision key)
ESSENTIAL = frozenset({"flatten", "toggle_auto", "approve", "reject", "cancel_all", "help"})
PALETTE = "command_palette"


def fit_keys(items: list[tuple[str, int]], width: int) -> set[str]:
    """The ids to show: every essential one, then the others (in the order given) while they fit.

    `items` are (binding id, cells the key takes, margin included), in priority order."""
    used = sum(cells for key, cells in items if key in ESSENTIAL)
    shown = {key for key, _ in items if key in ESSENTIAL}
    for key, cells in items:
        if key not in shown and used + cells <= width:
            shown.add(key)
            used += cells
    return shown


class DeskFooter(Footer):
    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._width = 0

    def _key_cells(self, key_display: str, description: str) -> int:
        # compact FooterKey: "<key> <description>" and a margin of one cell
        return cell_len(key_display) + (1 + cell_len(description) if description else 0) + 1

    def compose(self) -> ComposeResult:
        if not self._bindings_ready:
            return
        active = self.screen.active_bindings
        seen: set[str] = set()
        items = []
        for _, binding, enabled, tooltip in active.values():
            if binding.show and binding.action not in seen:
                seen.add(binding.action)
                items.append((binding, enabled, tooltip))
        items.sort(key=lambda item: ORDER.index(item[0].id) if item[0].id in ORDER else len(ORDER))
        palette = active.get(self.app.COMMAND_PALETTE_BINDING)
        if not (self.show_command_palette and self.app.ENABLE_COMMAND_PALETTE):
            palette = None
        sizes = [(b.id or b.action, self._key_cells(self.app.get_key_display(b), b.description))
                 for b, _, _ in items]
        if palette is not None:
            _, binding, _, _ = palette
            sizes.append((PALETTE, self._key_cells(self.app.get_key_display(binding), binding.description) + 1))
        self._width = self.app.size.width
        shown = fit_keys(sizes, self._width)
        items = [item for item in items if (item[0].id or item[0].action) in shown]
        self.styles.grid_size_columns = len(items)
        for binding, enabled, tooltip in items:
            yield FooterKey(binding.key, self.app.get_key_display(binding), binding.description, binding.action,
                            disabled=not enabled, tooltip=tooltip).data_bind(compact=Footer.compact)
        if palette is not None and PALETTE in shown:
            _, binding, enabled, tooltip = palette
            yield FooterKey(binding.key, self.app.get_key_display(binding), binding.description, binding.action,
                            classes="-command-palette", disabled=not enabled,
                            tooltip=binding.tooltip or binding.description)

    def on_resize(self) -> None:
        if self._bindings_ready and self.app.size.width != self._width:
            self.call_after_refresh(self.recompose)
