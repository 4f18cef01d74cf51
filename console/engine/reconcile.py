"""Reconciliation: the venue's orders, fills and positions against the desk's, at start-up, after every
reconnect, periodically, and soon after anything looks off (an order of unknown outcome, a gap on a
private channel, a position message that disagrees).

One pass (`ReconcileAction` -> the io thread reads -> `ReconcileResult` back here):

1. fills: every fill the venue reports since the window start that the desk has not applied is
   applied now (deduplicated by trade id), journaled and raised as a correction;
2. orders: each order of unknown outcome is looked up by its client_order_id (absent after the venue's
   portfolio view caught up = it never arrived: REJECTED); each local open order the venue no longer
   lists as resting is read and takes the venue's state; venue resting orders the journal does not
   know are adopted and flagged;
3. settlements: the account's settlements since the previous pass (since the journal began on the
   first) are applied once each, before positions are compared (`settlements.py`), and markets with
   predictions waiting for an outcome are looked up;
4. positions: the venue's position per market against the desk's. Fills racing the reads can make
   the two differ for a moment, so a difference is corrected only when the next pass (run at once)
   sees the same two numbers with no fill in that market in between; then the desk takes the venue's
   position and cost, journals the correction and raises an alert.

The first pass after start-up makes the desk ready to trade.
"""

from __future__ import annotations

from console.domain.orders import (
    Amended,
    Fill,
    NotFoundAtVenue,
    OrderState,
    VenueOrderUpdate,
)
from console.domain.units import format_count
from console.engine.messages import (
    LoadMarkets,
    OpenLookup,
    ReconcileAction,
    ReconcileResult,
    UnknownLookup,
)
from console.engine.settlements import Settler
from console.engine.state import Desk
from console.venues.kalshi import codec_rest as r

#: a confirming pass follows this soon after a position difference (ms)
CONFIRM_AFTER_MS = 300
#: fills are re-read from this far before the previous pass (ms): covers clock skew and slow fills
FILL_WINDOW_MARGIN_MS = 120_000


class Reconciler:
    def __init__(self, desk: Desk, execution) -> None:
        self.desk = desk
        self.execution = execution
        self._pass_ids = 0
        self.in_flight: int | None = None
        self.again: str | None = None
        self.due_ms: int | None = None
        self.due_reason = ""
        self.last_pass_ms = 0
        self.passes = 0
        self.suspect: dict[str, tuple[int, int, int]] = {}  # ticker -> (local, venue, fills seen at the time)
        self.fill_marks: dict[str, int] = {}  # ticker -> fills applied (to see whether fills came in between)
        self.fills_since_ms: int | None = None
        self.corrections = 0
        self.settler = Settler(desk, self.request)
        self.asked: tuple[str, ...] = ()  # markets whose result the pass in flight reads
        execution.on_new_fill.append(lambda fill, _cid: self.note_fill(fill.ticker))

    # --- scheduling -------------------------------------------------------------------------------
    def request(self, reason: str, delay_ms: int = 0) -> None:
        due = self.desk.now_ms + delay_ms
        if self.due_ms is None or due < self.due_ms:
            self.due_ms, self.due_reason = due, reason

    def on_tick(self) -> None:
        desk = self.desk
        interval = int(desk.config.engine.reconcile_interval_s * 1000)
        if self.due_ms is None and self.passes and desk.now_ms - self.last_pass_ms >= interval:
            self.request("periodic")
        if self.due_ms is not None and desk.now_ms >= self.due_ms:
            reason, self.due_ms = self.due_reason, None
            self.start(reason)

    def start(self, reason: str) -> None:
        desk = self.desk
        if self.in_flight is not None:
            self.again = self.again or reason
            return
        self._pass_ids += 1
        self.in_flight = self._pass_ids
        unknown = tuple(UnknownLookup(o.client_order_id, o.ticker, self.execution.sent_wall_s.get(
            o.client_order_id, o.created_ms / 1000)) for o in desk.open.values() if o.state is OrderState.UNKNOWN)
        open_ = tuple(OpenLookup(o.client_order_id, o.order_id, o.ticker) for o in desk.open.values()
                      if o.state in (OrderState.RESTING, OrderState.PARTIALLY_FILLED))
        since_ms = self.fills_since_ms if self.fills_since_ms is not None else desk.now_ms - 86_400_000
        settled_since_s, self.asked = self.settler.pass_args(self.fills_since_ms)
        desk.act(ReconcileAction(self.in_flight, reason, unknown, open_, max(0, since_ms // 1000),
                                 settled_since_s, self.asked))

    # --- results ----------------------------------------------------------------------------------
    def on_result(self, result: ReconcileResult) -> None:
        desk = self.desk
        if result.pass_id != self.in_flight:
            return
        self.in_flight = None
        if not result.ok:
            desk.alert("warn", "reconciliation", f"reconciliation ({result.reason}) failed: {result.message}; "
                       "retrying in 2 s")
            self.request(result.reason, 2_000)
            return
        self.passes += 1
        started_ms = self.last_pass_ms
        self.last_pass_ms = desk.now_ms
        self._fills(result.fills)
        self.settler.on_pass(result.settlements, result.results, self.asked)
        self._orders(result)
        confirm = self._positions(result.positions)
        unknown = sorted({p.ticker for p in result.positions if p.position} | {o.ticker for o in result.resting}
                         - set(desk.markets))
        if unknown:
            desk.act(LoadMarkets(tuple(unknown)))
        self.fills_since_ms = (started_ms or desk.now_ms) - FILL_WINDOW_MARGIN_MS
        if confirm:
            self.request("confirm position difference", CONFIRM_AFTER_MS)
        elif not desk.ready:
            desk.ready = True
            desk.changed = True
            desk.alert("info", "reconciliation", f"reconciled with the venue ({result.reason}): "
                       f"{len(desk.open)} open order(s), {sum(1 for p in desk.portfolio.positions.values() if p.position)} "
                       f"position(s), {self.corrections} correction(s); trading enabled")
        if self.again:
            reason, self.again = self.again, None
            self.request(reason)

    def _correct(self, kind: str, message: str, level: str = "warn", **fields) -> None:
        self.corrections += 1
        if self.desk.journal is not None:
            self.desk.journal.record_correction(self.desk.now_ms, kind, message, **fields)
        self.desk.alert(level, "reconciliation", message)

    def _fills(self, fills: tuple[r.Fill, ...]) -> None:
        for f in fills:
            fill = Fill(f.trade_id or f.fill_id, f.order_id, f.ticker, f.side, f.yes_price, f.count, f.fee_cost,
                        f.is_taker, (f.ts or 0) * 1000, f.client_order_id)
            if self.execution.apply_fill(fill):
                self._correct("fill_missing", f"{fill.ticker}: fill {fill.fill_id} of order {fill.order_id} "
                              f"({format_count(fill.count)} at {fill.price}) was missing; applied from the venue",
                              ticker=fill.ticker, venue_value=fill.fill_id)

    def note_fill(self, ticker: str) -> None:
        self.fill_marks[ticker] = self.fill_marks.get(ticker, 0) + 1

    def _orders(self, result: ReconcileResult) -> None:
        desk = self.desk
        for cid, venue_order in result.looked_up:
            order = desk.orders.get(cid)
            if order is None:
                continue
            before = order.state
            if venue_order is None:
                if before in (OrderState.UNKNOWN, OrderState.PENDING):
                    desk.apply_order(cid, NotFoundAtVenue(desk.now_ms))
                    self._correct("order_state", f"{order.ticker}: order {cid} never reached the venue; now "
                                  f"{order.state.value}", ticker=order.ticker, client_order_id=cid,
                                  field_name="state", local_value=before.value, venue_value="absent")
            else:
                self._take_venue_order(venue_order, cid)
            self.execution._done_if_terminal(order)
        for venue_order in result.resting:
            cid = venue_order.client_order_id
            known = (cid and cid in desk.orders) or desk.orders.by_order_id(venue_order.order_id)
            if not known:
                self.execution.adopt(venue_order.order_id, cid, venue_order.ticker, venue_order.side,
                                     venue_order.yes_price, venue_order.initial_count, "reconciliation")
            self._take_venue_order(venue_order, cid)

    def _take_venue_order(self, v: r.Order, cid: str | None) -> None:
        desk = self.desk
        order = desk.orders.get(cid) if cid and cid in desk.orders else desk.orders.by_order_id(v.order_id)
        if order is None:
            return
        before = order.state
        update = VenueOrderUpdate(v.order_id, v.status, v.fill_count, v.remaining_count)
        results = desk.orders.apply_update(update, order.client_order_id)
        desk.after_apply(results, update)
        total = v.fill_count + v.remaining_count
        if v.status == "resting" and order.state.open and (order.price, order.count) != (v.yes_price, total):
            desk.apply_order(order.client_order_id, Amended(v.yes_price, total, desk.now_ms))
        if order.state is not before:
            self._correct("order_state", f"{order.ticker}: order {order.client_order_id} was {before.value}, the "
                          f"venue says {v.status}; now {order.state.value}", level="info", ticker=order.ticker,
                          client_order_id=order.client_order_id, field_name="state", local_value=before.value,
                          venue_value=v.status)
        if order.cancel_requested and order.state.open and order.order_id:
            order.cancel_requested = False
            self.execution.cancel(order)

    def _positions(self, positions: tuple[r.MarketPosition, ...]) -> bool:
        """Compare positions; returns True when a difference needs a confirming pass."""
        desk = self.desk
        venue = {p.ticker: p for p in positions}
        tickers = set(venue) | {t for t, p in desk.portfolio.positions.items() if p.position}
        tickers |= {o.ticker for o in desk.lagging.values()}
        pending = False
        for ticker in sorted(tickers):
            local = desk.position(ticker)  # fills the venue reported but not yet applied count as held
            v = venue.get(ticker)
            theirs = v.position if v is not None else 0
            if local == theirs:
                self.suspect.pop(ticker, None)
                continue
            marks = self.fill_marks.get(ticker, 0)
            seen = self.suspect.get(ticker)
            if seen is None or seen != (local, theirs, marks):
                self.suspect[ticker] = (local, theirs, marks)
                pending = True
                continue
            self.suspect.pop(ticker, None)
            cost = v.market_exposure if v is not None else 0
            # the fills still on their way will be applied when they arrive: restate the rest
            restated = theirs - (local - desk.portfolio.signed(ticker))
            desk.portfolio.position(ticker).restate(restated, cost if restated else 0)
            if desk.journal is not None:
                desk.journal.record_restatement(ticker, restated, cost if restated else 0, desk.now_ms)
            self._correct("position", f"{ticker}: position {format_count(local)} corrected to the venue's "
                          f"{format_count(theirs)}", level="error", ticker=ticker, field_name="position",
                          local_value=local, venue_value=theirs)
        return pending
