"""The main desk: every pane on one grid (wide terminals) or one tab at a time (80x24 and other small ones).

The screen pulls `control.snapshot()` on a steady timer and redraws inside `App.batch_update()`: the
status line, ladder, edges and risk every tick (10 Hz; each skips work when nothing changed) and the
other tables (keyed `CursorTable`s: only changed rows repaint) at most 4 times a second. The trading
keys live here (approve, reject, ticket, cancel, search, watch/remove, NO view, panes); the global ones
(flatten, auto, theme, help, quit) are the app's.
The layout switches to compact (tabs) below 120 columns or 36 rows, in `on_resize`.
"""

from __future__ import annotations

import time

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container
from textual.screen import Screen
from textual.widgets import Tab, Tabs

from console.domain.side import Side
from console.engine.control import (
    Approve,
    CancelAll,
    CancelOrder,
    DeskSnapshot,
    PlaceOrder,
    Reject,
    Watch,
)
from console.tui import format as fmt
from console.tui import rows
from console.tui.widgets.alertlog import AlertLog
from console.tui.widgets.cursor_table import CursorTable
from console.tui.widgets.footer import DeskFooter
from console.tui.widgets.ladder import OrderBookLadder
from console.tui.widgets.markets import MarketsPane
from console.tui.widgets.risk import RiskPane
from console.tui.widgets.status import StatusLine
from console.tui.widgets.table_pane import TablePane

#: compact-layout tabs: (tab id, label, panes shown, the widget to focus)
TABS = (
    ("markets", "Markets", ("markets-pane",), "#markets"),
    ("book", "Book", ("book-pane",), None),
    ("edges", "Edges", ("edges-pane",), "#edges-pane-table"),
    ("arb", "Arb", ("arb-pane",), "#arb-pane-table"),
    ("positions", "Positions", ("positions-pane",), "#positions-pane"),
    ("risk", "Risk", ("risk-pane",), None),
    ("orders", "Orders", ("proposals-pane", "orders-pane"), "#proposals-pane-table"),
    ("alerts", "Alerts", ("alerts-pane",), "#alerts-pane"),
)
TITLES = {"markets-pane": "Markets", "book-pane": "Book", "risk-pane": "Risk", "edges-pane": "Edges",
          "positions-pane": "Positions", "proposals-pane": "Proposals (y/n)", "arb-pane": "Arbitrage",
          "orders-pane": "Open orders", "alerts-pane": "Alerts"}
COMPACT_WIDTH, COMPACT_HEIGHT = 120, 36
TICK_S = 0.1
TABLE_EVERY_S = 0.25
WATCH_WAIT_S = 15.0  # how long a just-watched market is awaited to put the cursor on it


class DeskScreen(Screen):
    BINDINGS = [
        Binding("y", "approve", "Approve", id="approve"),
        Binding("n", "reject", "Reject", id="reject"),
        Binding("b", "ticket('bid')", "Buy", id="buy"),
        Binding("s", "ticket('ask')", "Sell", id="sell"),
        Binding("c", "cancel_order", "Cancel", id="cancel_order"),
        Binding("C", "cancel_all", "Cancel all", id="cancel_all"),
        Binding("slash", "search", "Search", id="search"),
        Binding("v", "toggle_no_view", "YES/NO", id="toggle_no_view"),
        Binding("w", "watch", "Watch", id="watch"),
        Binding("x", "unwatch", "Remove", id="unwatch"),
        Binding("right_square_bracket", "next_tab(1)", "Next tab", show=False, id="next_tab"),
        Binding("left_square_bracket", "next_tab(-1)", "Previous tab", show=False, id="previous_tab"),
        *(Binding(str(i), f"show_tab('{tab}')", f"Go to {label}", show=False, id=f"tab_{tab}")
          for i, (tab, label, _, _) in enumerate(TABS, 1)),
    ]

    def __init__(self) -> None:
        super().__init__(id="desk")
        self.selected_ticker: str | None = None
        self.strategy_filter: str | None = None
        self.snap = DeskSnapshot(version=-1)
        self._last_table_s = 0.0
        self._tab = "markets"
        self._awaited: tuple[str, float] | None = None  # (ticker just watched, monotonic deadline)

    def compose(self) -> ComposeResult:
        yield StatusLine(id="status")
        yield Tabs(*(Tab(label, id=f"tab-{tab}") for tab, label, _, _ in TABS), id="tabs")
        with Container(id="grid", classes="show-markets"):
            yield MarketsPane(id="markets-pane", classes="pane")
            yield OrderBookLadder(id="book-pane", classes="pane")
            yield RiskPane(id="risk-pane", classes="pane")
            yield TablePane(rows.EDGE_COLS, lambda key: rows.edge_details(self.snap, key), empty="no model edges yet",
                            id="edges-pane", classes="pane")
            yield CursorTable(rows.POSITION_COLS, empty="no positions", id="positions-pane", classes="pane")
            yield TablePane(rows.PROPOSAL_COLS,
                            lambda key: rows.proposal_details(self.snap, key, self.app.clock_ms()),
                            empty="no proposals", gap=2, detail_lines=2, id="proposals-pane", classes="pane")
            yield TablePane(rows.ARB_COLS, lambda key: rows.arb_details(self.snap, key), empty="no arbitrage pairs",
                            detail_lines=3, id="arb-pane", classes="pane")
            yield CursorTable(rows.ORDER_COLS, empty="no open orders", id="orders-pane", classes="pane")
            yield AlertLog(self.app.alert_book, id="alerts-pane", classes="pane")
        yield DeskFooter(compact=True)

    def on_mount(self) -> None:
        for pane_id, title in TITLES.items():
            self.query_one(f"#{pane_id}").border_title = title
        self.refresh_panes(force_tables=True)
        self.query_one("#markets").focus()
        self.set_interval(TICK_S, self.refresh_panes)

    def on_resize(self) -> None:
        self.set_class(self.size.width < COMPACT_WIDTH or self.size.height < COMPACT_HEIGHT, "compact")

    # --- pulling snapshots -------------------------------------------------------------------------

    def refresh_panes(self, force_tables: bool = False) -> None:
        """Pull the newest snapshot and redraw what changed (UI thread, on the timer)."""
        app = self.app
        snap = app.control.snapshot()
        now_ms = app.clock_ms()
        changed = snap is not self.snap
        self.snap = snap
        # throttle on the monotonic clock: `now_ms` is the display clock (fixed in tests, sim time in replays)
        tick_s = time.monotonic()
        tables_due = force_tables or tick_s - self._last_table_s >= TABLE_EVERY_S
        with app.batch_update():
            self.query_one(StatusLine).show(snap, now_ms, flatten_pending=app.flatten_pending(snap))
            self.query_one(AlertLog).sync()
            if changed:
                self.query_one(OrderBookLadder).show(snap.books.get(self.selected_ticker or ""))
                self.query_one("#edges-pane", TablePane).sync(rows.edge_rows(snap))
                self.query_one(RiskPane).show(snap)
            if tables_due:
                self._last_table_s = tick_s
                self._sync_tables(snap, now_ms)

    def _sync_tables(self, snap: DeskSnapshot, now_ms: int) -> None:
        markets = self.query_one(MarketsPane)
        markets.show(snap)
        if self._awaited is not None:
            ticker, deadline_s = self._awaited
            arrived = any(m.ticker == ticker for m in snap.markets)
            if arrived and markets.select(ticker) or time.monotonic() > deadline_s:
                self._awaited = None
        self.query_one("#positions-pane", CursorTable).sync(rows.position_rows(snap, now_ms))
        self.query_one("#proposals-pane", TablePane).sync(rows.proposal_rows(snap, now_ms, self.strategy_filter))
        self.query_one("#arb-pane", TablePane).sync(rows.arb_rows(snap))
        self.query_one("#orders-pane", CursorTable).sync(rows.order_rows(snap))

    def on_markets_pane_selected(self, message: MarketsPane.Selected) -> None:
        self.selected_ticker = message.ticker
        self.query_one(OrderBookLadder).show(self.snap.books.get(message.ticker or ""))

    def select_market(self, ticker: str) -> None:
        if self.query_one(MarketsPane).select(ticker):
            self.show_tab("book")

    # --- actions -----------------------------------------------------------------------------------

    def action_approve(self) -> None:
        proposal = self._selected_proposal()
        if proposal is None:
            self.notify("No proposal to approve", severity="warning")
            return
        if proposal.expires_ms <= self.app.clock_ms():
            # never send a stale intent: the book it was priced against has moved on
            self.notify(f"Proposal {proposal.intent_id} has expired; not sent", severity="warning")
            return
        self.app.control.submit(Approve(proposal.intent_id))
        self.notify(f"Approved {fmt.side_label(proposal.side)} {fmt.count(proposal.count)} {proposal.ticker} "
                    f"@{fmt.price(proposal.price)}")

    def action_reject(self) -> None:
        proposal = self._selected_proposal()
        if proposal is None:
            self.notify("No proposal to reject", severity="warning")
            return
        self.app.control.submit(Reject(proposal.intent_id))
        self.notify(f"Rejected {proposal.ticker} ({proposal.strategy})")

    def _selected_proposal(self):
        key = self.query_one("#proposals-pane-table", CursorTable).selected_key()
        return next((p for p in self.app.control.snapshot().proposals if p.intent_id == key), None)

    def action_ticket(self, side: str) -> None:
        from console.tui.screens.ticket import OrderTicket, ticket_defaults

        if self.selected_ticker is None:
            self.notify("Select a market first (Markets pane, or / to search)", severity="warning")
            return
        defaults = ticket_defaults(self.app.control.snapshot(), self.selected_ticker, Side(side))
        self.app.push_screen(OrderTicket(defaults), self._ticket_done)

    def _ticket_done(self, order: PlaceOrder | None) -> None:
        if order is not None:
            self.app.control.submit(order)
            self.notify(f"Sent {fmt.side_label(order.side)} {fmt.count(order.count)} {order.ticker} "
                        f"@{fmt.price(order.price)}")

    def action_cancel_order(self) -> None:
        key = self.query_one("#orders-pane", CursorTable).selected_key()
        if key is None:
            self.notify("No open order selected", severity="warning")
            return
        self.app.control.submit(CancelOrder(key))
        self.notify(f"Cancel sent for {key}")

    def action_cancel_all(self) -> None:
        self.app.control.submit(CancelAll(include_manual=True))
        self.notify("Cancel all sent (bot and manual orders)")

    def action_search(self) -> None:
        self.show_tab("markets", focus=False)
        self.query_one(MarketsPane).focus_search()

    def action_toggle_no_view(self) -> None:
        ladder = self.query_one(OrderBookLadder)
        ladder.show(ladder.book, no_view=not ladder.no_view)

    def action_watch(self) -> None:
        from console.tui.screens.watch import WatchPrompt

        removed = tuple(sorted(self.query_one(MarketsPane).hidden))
        self.app.push_screen(WatchPrompt(removed), self._watch_done)

    def _watch_done(self, tickers: tuple[str, ...] | None) -> None:
        if not tickers:
            return
        markets = self.query_one(MarketsPane)
        markets.unhide(tickers)
        known = {m.ticker for m in self.app.control.snapshot().markets}
        new = tuple(t for t in tickers if t not in known)
        if new:
            # the engine asks the venue, subscribes the book and adds the market to the snapshot; an
            # unknown ticker comes back as an alert ("not found at the venue")
            self.app.control.submit(Watch(new))
            self.notify(f"Watch {' '.join(new)}: asking the venue")
        else:
            self.notify(f"Already watching {' '.join(tickers)}")
        self._awaited = (tickers[0], time.monotonic() + WATCH_WAIT_S)
        self.show_tab("markets")
        self._sync_tables(self.app.control.snapshot(), self.app.clock_ms())

    def action_unwatch(self) -> None:
        markets = self.query_one(MarketsPane)
        ticker = markets.table.selected_key()
        if ticker is None:
            self.notify("No market selected to remove", severity="warning")
            return
        markets.hide(ticker)
        snap = self.app.control.snapshot()
        held = any(p.ticker == ticker and p.position for p in snap.positions)
        resting = sum(1 for o in snap.orders if o.ticker == ticker)
        note = ""
        if held or resting:
            # removing a market from view must not look like closing it out
            note = " It still has " + " and ".join(
                part for part in ("a position" if held else "", f"{resting} open order(s)" if resting else "") if part
            ) + ": see Positions / Open orders."
        # Control has no Unwatch command yet: the engine keeps the book (and its strategies) until restart
        self.notify(f"{ticker} removed from the watchlist (w {ticker} brings it back).{note}",
                    severity="warning" if note else "information")

    def action_next_tab(self, step: int) -> None:
        ids = [tab for tab, _, _, _ in TABS]
        self.show_tab(ids[(ids.index(self._tab) + step) % len(ids)])

    def action_show_tab(self, tab: str) -> None:
        self.show_tab(tab)

    def show_tab(self, tab: str, *, focus: bool = True) -> None:
        """Compact: show that tab's panes. Wide: everything is visible; just focus the pane."""
        spec = next(t for t in TABS if t[0] == tab)
        self._tab = tab
        grid = self.query_one("#grid")
        grid.set_classes(f"show-{tab}")
        tabs = self.query_one(Tabs)
        if tabs.active != f"tab-{tab}":
            tabs.active = f"tab-{tab}"
        if not focus:
            return
        if spec[3]:
            self.query_one(spec[3]).focus()
        elif self.has_class("compact"):
            # the tab has nothing to select (book, edges, risk): park focus on the tab bar, so the focus
            # does not fall back into a hidden pane's search box and swallow the next key
            tabs.focus()

    def on_tabs_tab_activated(self, event: Tabs.TabActivated) -> None:
        if event.tab is not None and event.tab.id:
            self.show_tab(event.tab.id.removeprefix("tab-"), focus=False)

    def set_strategy_filter(self, strategy: str | None) -> None:
        self.strategy_filter = strategy
        self.query_one("#proposals-pane").border_title = TITLES["proposals-pane"] + (f" - {strategy}" if strategy
                                                                                    else "")
        self.snap = DeskSnapshot(version=-1)
        self.refresh_panes(force_tables=True)
