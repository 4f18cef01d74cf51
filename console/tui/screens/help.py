"""The help screen (`?`): every key the desk answers to, with the keys in force after `[ui.keys]`.

Bindings are read from the app and the desk screen classes, so the list cannot drift from the code;
the binding id is shown too, because that is what `config.toml [ui.keys]` remaps.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static


def binding_rows(app) -> list[tuple[str, str, str]]:
    """(keys, description, id) for every desk binding that has an id, app first."""
    from console.tui.screens.desk import DeskScreen

    keymap = app._keymap  # the normalised `set_keymap` overrides: id -> "key1,key2"
    rows = []
    for owner in (type(app), DeskScreen):
        for binding in owner.BINDINGS:
            if not isinstance(binding, Binding) or not binding.id:
                continue
            keys = keymap.get(binding.id, binding.key)
            shown = ", ".join(app.get_key_display(Binding(k.strip(), binding.action)) for k in keys.split(","))
            rows.append((shown, binding.description or binding.action, binding.id))
    rows.append(("ctrl+p", "Command palette: markets, strategies, themes, every action", "command_palette"))
    return rows


def help_markup(app) -> str:
    lines = ["[b]Keys[/b]  (remap with config.toml [ui.keys], e.g. toggle_auto = \"A\")", ""]
    for keys, description, binding_id in binding_rows(app):
        lines.append(f"[b $accent]{keys:>12}[/]  {description:<34} [$text-muted]{binding_id}[/]")
    lines += ["", "tab / shift+tab move between panes; arrows move in a table; escape closes this screen"]
    return "\n".join(lines)


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "close", "Close", id="help_close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box"):
            yield Static(Content.from_markup(help_markup(self.app)), id="help-text")

    def on_mount(self) -> None:
        self.query_one("#help-box").border_title = "Help"

    def action_close(self) -> None:
        self.dismiss(None)
