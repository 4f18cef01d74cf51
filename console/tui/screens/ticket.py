"""The manual order ticket (`b` / `s`): a modal pre-filled from the book and the model.

A buy (`b`, Side.BID, buys YES) starts at the best YES ask and a sell (`s`, Side.ASK, buys NO) at the
best YES bid, so the default is marketable; the count starts at the model's suggested size, else one
contract. Every change of price or count asks the engine for a risk verdict (`CheckOrder`, answered by
`OrderChecked` through the bridge); the verdict is shown before the confirming keypress, and enter
only sends once a passing verdict for exactly these values is on screen. Escape closes without sending.
If the engine does not answer within `CHECK_TIMEOUT_S`, the ticket says so and lets the operator send:
the kernel's gate checks the order again on submission either way.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from console.domain.side import Side
from console.domain.units import (
    COUNT_PER_CONTRACT,
    PRICE_MAX,
    UnitError,
    format_count,
    format_price,
    parse_count,
    parse_price,
)
from console.engine.control import CheckOrder, DeskSnapshot, OrderChecked, PlaceOrder
from console.tui import format as fmt

CHECK_TIMEOUT_S = 1.5
_request_ids = itertools.count(1)


@dataclass(frozen=True, slots=True)
class TicketDefaults:
    ticker: str
    side: Side
    price: int | None
    count: int
    context: str  # one line: the book and the model as the ticket saw them


def ticket_defaults(snap: DeskSnapshot, ticker: str, side: Side) -> TicketDefaults:
    """Price from the far touch (marketable), count from the model's suggestion, else 1 contract."""
    book = snap.books.get(ticker)
    market = next((m for m in snap.markets if m.ticker == ticker), None)
    best_bid = book.bids[0] if book and book.bids else None
    best_ask = book.asks[0] if book and book.asks else None
    if best_bid is None and market and market.yes_bid is not None:
        best_bid = (market.yes_bid, 0)
    if best_ask is None and market and market.yes_ask is not None:
        best_ask = (market.yes_ask, 0)
    touch = best_ask if side is Side.BID else best_bid
    edge = next((e for e in snap.edges if e.ticker == ticker), None)
    count = edge.suggested_count if edge and edge.side is side and edge.suggested_count > 0 else COUNT_PER_CONTRACT
    bid_text = fmt.price(best_bid[0]) if best_bid else "-"
    ask_text = fmt.price(best_ask[0]) if best_ask else "-"
    parts = [f"YES bid {bid_text} / ask {ask_text}"]
    if edge is not None:
        edge_text = fmt.pct(edge.edge_after_fees, signed=True)
        parts.append(f"model {edge.model} p={edge.model_prob * 100:.1f}% edge {edge_text} ({edge.signal})")
    return TicketDefaults(ticker, side, touch[0] if touch else None, count, "  ".join(parts))


class OrderTicket(ModalScreen[PlaceOrder | None]):
    BINDINGS = [
        Binding("escape", "dismiss_ticket", "Close", id="ticket_close"),
        Binding("enter", "confirm", "Send", id="ticket_send", priority=True),
    ]

    def __init__(self, defaults: TicketDefaults) -> None:
        super().__init__(classes="ticket")
        self.defaults = defaults
        self.order: PlaceOrder | None = None  # the order the inputs describe, if they parse
        self.request_id = ""
        self.verdict: OrderChecked | None = None
        self.timed_out = False
        self._timeout = None

    def compose(self) -> ComposeResult:
        d = self.defaults
        action = "BUY YES" if d.side is Side.BID else "SELL YES (buy NO)"
        with Vertical(id="ticket-box"):
            yield Label(Content.from_markup(f"[b]{action}[/] {d.ticker}"), id="ticket-title")
            yield Static(d.context, id="ticket-context")
            with Grid(id="ticket-fields"):
                yield Label("price (YES, $)")
                yield Input(format_price(d.price).rstrip("0").rstrip(".") if d.price is not None else "",
                            placeholder="0.56", id="ticket-price", compact=True)
                yield Label("contracts")
                yield Input(format_count(d.count), placeholder="10", id="ticket-count", compact=True)
            yield Static("", id="ticket-risk")
            yield Static("enter send  escape close", id="ticket-keys")

    def on_mount(self) -> None:
        self.query_one("#ticket-box").border_title = "Order ticket"
        self.query_one("#ticket-price", Input).focus()
        self._recheck()

    @on(Input.Changed)
    def _changed(self) -> None:
        self._recheck()

    def _parse(self) -> PlaceOrder | str:
        d = self.defaults
        try:
            price = parse_price(self.query_one("#ticket-price", Input).value.strip())
            count = parse_count(self.query_one("#ticket-count", Input).value.strip())
        except UnitError as exc:
            return f"{exc}"
        if not 0 < price < PRICE_MAX:
            return "price must be between 0.0001 and 0.9999"
        if count <= 0:
            return "contracts must be more than 0"
        return PlaceOrder(d.ticker, d.side, price, count)

    def _recheck(self) -> None:
        parsed = self._parse()
        self.verdict, self.timed_out = None, False
        if self._timeout is not None:
            self._timeout.stop()
        if isinstance(parsed, str):
            self.order, self.request_id = None, ""
            self._show(f"[$risk-breach]cannot send: {parsed}[/]")
            return
        self.order = parsed
        self.request_id = f"ticket-{next(_request_ids)}"
        self.app.control.submit(CheckOrder(self.request_id, parsed))
        cost = fmt.money(parsed.price * parsed.count if parsed.side is Side.BID else
                         (PRICE_MAX - parsed.price) * parsed.count)
        self._show(f"cost up to {cost} - risk check: [$text-muted]asking the engine...[/]")
        self._timeout = self.set_timer(CHECK_TIMEOUT_S, self._no_answer)

    def _no_answer(self) -> None:
        if self.verdict is None and self.order is not None:
            self.timed_out = True
            self._show("[$risk-warn]risk check: no answer from the engine; enter sends and the engine checks "
                       "on submit[/]")

    def on_order_checked(self, verdict: OrderChecked) -> None:
        """Called by the app with the engine's answer; stale answers (older values) are ignored."""
        if verdict.request_id != self.request_id:
            return
        self.verdict = verdict
        if self._timeout is not None:
            self._timeout.stop()
        if verdict.ok:
            self._show("[b $risk-ok]risk check: PASS[/] - enter sends")
        else:
            rules = ", ".join(verdict.rules) or "rejected"
            self._show(f"[b $risk-breach]risk check: REJECTED[/] ({rules}): {verdict.message.replace('[', '(')}")

    def _show(self, markup: str) -> None:
        self.query_one("#ticket-risk", Static).update(Content.from_markup(markup))

    def can_send(self) -> bool:
        return self.order is not None and ((self.verdict is not None and self.verdict.ok) or self.timed_out)

    def action_confirm(self) -> None:
        if self.can_send():
            self.dismiss(self.order)
        elif self.order is not None and self.verdict is None:
            self.notify("Waiting for the risk check", severity="warning")
        else:
            self.notify("The risk check did not pass; change the order or press escape", severity="warning")

    def action_dismiss_ticket(self) -> None:
        self.dismiss(None)
