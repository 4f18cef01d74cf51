"""The desk's footer: Textual's Footer with the keys in safety order (FLATTEN and help first).

Textual lists keys from the focused widget outwards, which would put the app's global keys, flatten
among them, last and off the edge of an 80-column terminal. This footer shows the same active
bindings, ordered by `ORDER` (binding ids), the rest after them in their usual order.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

ORDER = ("flatten", "help", "toggle_auto", "approve", "reject", "buy", "sell", "cancel_order", "cancel_all",
         "search", "toggle_no_view", "cycle_theme", "quit")


class DeskFooter(Footer):
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
        self.styles.grid_size_columns = len(items)
        for binding, enabled, tooltip in items:
            yield FooterKey(binding.key, self.app.get_key_display(binding), binding.description, binding.action,
                            disabled=not enabled, tooltip=tooltip).data_bind(compact=Footer.compact)
        palette = active.get(self.app.COMMAND_PALETTE_BINDING)
        if self.show_command_palette and self.app.ENABLE_COMMAND_PALETTE and palette is not None:
            _, binding, enabled, tooltip = palette
            yield FooterKey(binding.key, self.app.get_key_display(binding), binding.description, binding.action,
                            classes="-command-palette", disabled=not enabled,
                            tooltip=binding.tooltip or binding.description)
