"""The risk pane: mode badge, live cost to flatten, one meter per limit, and the day's P&L sparkline.

Meters come from the snapshot (`RiskMeter(name, value, limit, unit)`): exposure against each limit,
daily loss against the kill level, drawdown, order rate, venue error rate. Each is a bar that turns
`$risk-warn` from 80% of its limit and `$risk-breach` at the limit, with the numbers beside it (the
numbers, not only the colour, carry the meaning). Units as the engine publishes them: "$" values are
dollars, "contracts" whole contracts, "%" fractions, "/min" and anything else plain numbers. A negative
limit is a floor (day P&L against the daily loss kill level): only the loss counts toward it.
"""

from __future__ import annotations

import time

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Sparkline, Static

from console.engine.control import DeskSnapshot, Mode, RiskMeter
from console.tui import format as fmt
from console.tui.widgets.status import MODE_VAR, _esc

BAR_WIDTH = 10
SPARK_EVERY_S = 1.0
WARN_FRACTION = 0.8


def meter_value(value: float, unit: str) -> str:
    """One number in its unit's form; plain units (contracts, /min, orders) come without the unit."""
    if unit == "$":
        sign = "-" if value < 0 else ""
        return f"{sign}${abs(value):,.2f}"  # display only; the engine's money stays exact
    if unit == "%":
        return fmt.pct(float(value))
    return f"{value:,.2f}".rstrip("0").rstrip(".") if isinstance(value, float) else f"{value:,}"


def meter_numbers(meter: RiskMeter) -> str:
    """"$212.00 / $250.00", "1.0% / 5.0%", "14 / 120/min", "50 / 500 contracts": the unit once."""
    pair = f"{meter_value(meter.value, meter.unit)} / {meter_value(meter.limit, meter.unit)}"
    if meter.unit in ("$", "%") or not meter.unit:
        return pair
    return pair + (meter.unit if meter.unit.startswith("/") else f" {meter.unit}")


def used_fraction(meter: RiskMeter) -> float:
    """How much of the limit is used, 0..1: a negative limit is a floor (only going below it counts)."""
    if not meter.limit:
        return 0.0
    if meter.limit < 0:
        return min(max(0.0, -meter.value) / -meter.limit, 1.0)
    return min(abs(meter.value) / meter.limit, 1.0)


def meter_level(meter: RiskMeter) -> str:
    """ok / warn / breach, from the value against the limit."""
    fraction = used_fraction(meter)
    if meter.limit and fraction >= 1.0:
        return "breach"
    return "warn" if fraction >= WARN_FRACTION else "ok"


def meter_markup(meter: RiskMeter, name_width: int) -> str:
    level = meter_level(meter)
    var = {"ok": "risk-ok", "warn": "risk-warn", "breach": "risk-breach"}[level]
    filled = round(used_fraction(meter) * BAR_WIDTH)
    bar = "█" * filled + "░" * (BAR_WIDTH - filled)
    flag = " BREACH" if level == "breach" else ""
    return (f"{_esc(meter.name).ljust(name_width)} [${var}]{bar}[/] "
            f"{meter_numbers(meter)}[b ${var}]{flag}[/]")


def risk_markup(snap: DeskSnapshot) -> str:
    var = "risk-breach" if snap.flattening else MODE_VAR.get(snap.mode, "primary")
    label = "FLATTENING" if snap.flattening else snap.mode.value
    lines = [f"[b reverse ${var}] {label} [/] {_esc(snap.mode_reason)}"]
    if snap.flatten_report and not snap.flattening:
        lines.append(f"[$risk-warn]last flatten: {_esc(snap.flatten_report)}[/]")
    lines.append(f"cost to flatten now [b]{fmt.money(snap.cost_to_flatten)}[/]")
    width = max([len(m.name) for m in snap.risk] + [8])
    lines.extend(meter_markup(m, width) for m in snap.risk)
    if not snap.risk:
        lines.append("[$text-muted]no risk meters yet[/]")
    pnl = snap.pnl_today[-1] if snap.pnl_today else 0
    pnl_var = "edge-pos" if pnl >= 0 else "edge-neg"
    lines.append(f"P&L today [b ${pnl_var}]{fmt.money(pnl, signed=True)}[/]")
    if snap.mode is Mode.HALTED and not snap.flattening:
        lines.append("[$text-muted]HALTED: nothing new is sent; cancels and flatten still work[/]")
    return "\n".join(lines)


class RiskPane(Vertical):
    """Meters text plus the P&L sparkline."""

    DEFAULT_CSS = """
    RiskPane > #risk-text { height: auto; text-wrap: nowrap; text-overflow: ellipsis; }
    RiskPane > Sparkline { height: 1fr; min-height: 1; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._markup = ""
        self._pnl: tuple[int, ...] = ()
        self._pnl_drawn_s = float("-inf")

    def compose(self) -> ComposeResult:
        yield Static("", id="risk-text")
        yield Sparkline([], id="pnl-spark")

    def show(self, snap: DeskSnapshot) -> None:
        markup = risk_markup(snap)
        if markup != self._markup:
            # a layout pass only when the number of lines changes (meters come or go), not on every value
            layout = markup.count("\n") != self._markup.count("\n")
            self._markup = markup
            self.query_one("#risk-text", Static).update(Content.from_markup(markup), layout=layout)
        now_s = time.monotonic()
        if snap.pnl_today != self._pnl and now_s - self._pnl_drawn_s >= SPARK_EVERY_S:
            # the engine appends a mark to every snapshot (up to 20 a second); a day's P&L shape needs one
            # redraw a second, not ten (each redraw of the sparkline cost 2-7 ms at 160x50, bench/ui.py)
            self._pnl, self._pnl_drawn_s = snap.pnl_today, now_s
            # the sparkline draws shapes only: a float view of exact marks is fine here
            self.query_one(Sparkline).data = [float(v) for v in snap.pnl_today]
