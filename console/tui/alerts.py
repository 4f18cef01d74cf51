"""The alerts log's model: engine events turned into short dated lines (no Textual, easy to test).

Fills, rejections with the rule that fired, proposals and their expiry, risk breaches, venue health and
the engine's own alerts (reconciliation corrections, flatten progress) each become one `AlertLine`.
Routine order states (resting, partial) are left out: the orders table shows them.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from console.engine.control import (
    Alert,
    EngineEvent,
    Filled,
    IntentExpired,
    IntentProposed,
    OrderUpdated,
    RiskBreached,
    VenueHealth,
)
from console.tui import format as fmt

_QUIET_STATES = {"pending", "resting", "partially_filled", "partial", "open", "filled", "executed"}


@dataclass(frozen=True, slots=True)
class AlertLine:
    ts_ms: int
    level: str  # info | warn | error
    kind: str
    text: str


def describe(event: EngineEvent, now_ms: int) -> AlertLine | None:
    """The log line for an event, or None when the event is not worth a line."""
    match event:
        case Alert(level=level, kind=kind, message=message, ts_ms=ts):
            return AlertLine(ts or now_ms, level, kind, message)
        case Filled():
            role = "taker" if event.is_taker else "maker"
            return AlertLine(now_ms, "info", "fill",
                             f"fill {fmt.side_label(event.side)} {fmt.count(event.count)} {event.ticker} "
                             f"@{fmt.price(event.price)} fee {fmt.money(event.fee)} ({role}, {event.origin})")
        case OrderUpdated(state=state) if state == "rejected":
            why = f": {event.reason}" if event.reason else ""
            return AlertLine(now_ms, "error", "rejection",
                             f"rejected {fmt.side_label(event.side)} {event.ticker} @{fmt.price(event.price)}{why}")
        case OrderUpdated(state=state) if state not in _QUIET_STATES:
            why = f" ({event.reason})" if event.reason else ""
            return AlertLine(now_ms, "info", "order", f"{state} {event.ticker} {event.client_order_id}{why}")
        case IntentProposed():
            return AlertLine(now_ms, "info", "proposal",
                             f"proposal {fmt.side_label(event.side)} {fmt.count(event.count)} {event.ticker} "
                             f"@{fmt.price(event.price)} edge {fmt.pct(event.edge_after_fees, signed=True)} "
                             f"({event.strategy})")
        case IntentExpired():
            # IntentExpired covers every way a proposal leaves the table: expired, rejected, superseded, halted
            level = "info" if "operator" in event.reason or "auto trading" in event.reason else "warn"
            return AlertLine(now_ms, level, "proposal", f"proposal {event.intent_id} dropped: {event.reason}")
        case RiskBreached():
            return AlertLine(now_ms, "error", "risk", f"{event.rule}: {event.message} -> {event.new_mode}")
        case VenueHealth():
            level = {"green": "info", "amber": "warn"}.get(event.status, "error")
            return AlertLine(now_ms, level, "venue", f"{event.venue} {event.status}: {event.reason}")
    return None


class AlertBook:
    """The newest `limit` alert lines, oldest first; `version` bumps on every append."""

    def __init__(self, limit: int = 500) -> None:
        self.lines: deque[AlertLine] = deque(maxlen=limit)
        self.version = 0

    def add(self, line: AlertLine) -> None:
        self.lines.append(line)
        self.version += 1
