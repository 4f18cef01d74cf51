"""The status line at the top of the desk: venue health, the mode badge, flatten progress and the clock.

The mode badge is the first thing an operator looks for: MANUAL, AUTO or HALTED (with the reason), and
while a flatten runs it turns into FLATTENING; afterwards the engine's report says what flattening cost.
"""

from __future__ import annotations

import re

from textual.content import Content
from textual.widgets import Static

from console.engine.control import DeskSnapshot, Mode
from console.tui import format as fmt

MODE_VAR = {Mode.MANUAL: "primary", Mode.AUTO: "edge-pos", Mode.HALTED: "risk-breach"}


def _esc(text: str) -> str:
    return text.replace("[", r"\[")


_COST = re.compile(r"cost \$-?[0-9][0-9,]*(?:\.[0-9]+)?")


def short_flatten_report(report: str) -> str:
    """The status line has room for the result only: "flattened: cost $X" (the full report is in the risk
    pane and the alerts log); a report without a cost is shown whole."""
    match = _COST.search(report)
    return f"flattened: {match.group(0)}" if match else report


def status_markup(snap: DeskSnapshot, now_ms: int, *, flatten_pending: bool = False) -> str:
    """Content markup for the status line (pure, so tests can read it)."""
    health_var = fmt.HEALTH_VAR.get(snap.venue_health, "risk-breach")
    parts = [f" [b]edgedesk[/b] {_esc(snap.venue or 'no venue')} "
             f"[${health_var}]{fmt.health_badge(snap.venue_health)} {_esc(snap.venue_health)}[/]"]
    if snap.venue_health != "green" and snap.venue_reason:
        parts.append(f"[$text-muted]{_esc(snap.venue_reason)}[/]")
    if snap.flattening or flatten_pending:
        parts.append("[b reverse $risk-breach] FLATTENING [/]")
    else:
        var = MODE_VAR.get(snap.mode, "primary")
        parts.append(f"[b reverse ${var}] {snap.mode.value} [/]")
    if snap.mode_reason:
        parts.append(f"[$risk-warn]{_esc(snap.mode_reason)}[/]" if snap.mode is Mode.HALTED
                     else f"[$text-muted]{_esc(snap.mode_reason)}[/]")
    if snap.flatten_report and not snap.flattening:
        parts.append(f"[b $risk-warn]{_esc(short_flatten_report(snap.flatten_report))}[/]")
    if snap.proposals:
        parts.append(f"[b $accent]{len(snap.proposals)} proposal{'s' if len(snap.proposals) != 1 else ''}[/]")
    parts.append(f"[$text-muted]{fmt.clock(now_ms)}[/]")
    return "  ".join(parts)


class StatusLine(Static):
    """One line, docked at the top of the desk."""

    DEFAULT_CSS = "StatusLine { height: 1; dock: top; background: $panel; }"

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self._markup = ""

    def show(self, snap: DeskSnapshot, now_ms: int, *, flatten_pending: bool = False) -> None:
        markup = status_markup(snap, now_ms, flatten_pending=flatten_pending)
        if markup != self._markup:
            self._markup = markup
            self.update(Content.from_markup(markup), layout=False)  # one line, fixed: no layout pass
