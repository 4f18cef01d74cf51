"""Execution: intents and manual orders -> risk gate -> orders, and the life of every order after that.

- Every order passes the risk gate, manual ones included, when it is submitted and again when a
  MANUAL proposal is approved (against the book of that moment). An order that fails is never sent;
  the journal keeps the decision with the rule and its numbers.
- MANUAL: a strategy's intent becomes a proposal with a time to live (`IntentProposed`). An expired
  proposal, or one that fails the gate on approval, is never sent (`IntentExpired` says why).
  AUTO: intents that pass are sent. HALTED: nothing new is sent; cancels (and flatten) still work.
- Orders of unknown outcome block new orders in their market (the gate's `unknown_orders` rule)
  until reconciliation settles them; the snapshot lists those markets.
- Each order is journaled *before* its request leaves, with a `client_order_id` that names its
  origin ("manual" or the strategy), made once and reused by the REST client on every retry.
- Quotes: one resting order per (strategy, ticker, side) slot, amended in place when the quote
  moves; a failed amend cancels the order and the next quote recreates it (cancel-replace).
- Bot orders join the bot order group (a venue-side cap on matched contracts) and carry
  `cancel_order_on_pause`; manual orders do neither.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence

from console.domain.orders import (
    MANUAL,
    Accepted,
    Amended,
    CancelAcked,
    Fill,
    Order,
    OrderState,
    Rejected,
    SendFailed,
    VenueOrderUpdate,
)
from console.domain.risk import OrderProposal, RiskRejection
from console.domain.side import Side
from console.engine.control import (
    Approve,
    CancelAll,
    CheckOrder,
    Filled,
    IntentExpired,
    IntentProposed,
    Mode,
    OrderChecked,
    PlaceOrder,
    Reject,
)
from console.engine.journal import IntentRecord, TopOfBook
from console.engine.messages import (
    AmendAnswer,
    AmendOrderAction,
    CancelAllAction,
    CancelAnswer,
    CancelOrderAction,
    OrderAnswer,
    SendOrder,
)
from console.engine.state import Desk, Proposal
from console.engine.strategies.base import Intent
from console.venues.kalshi import codec_ws as w
from console.venues.kalshi.orders import OrderSpec

Slot = tuple[str, str, Side]  # (strategy, ticker, side)
IOC = "immediate_or_cancel"
REPEAT_MS = 60_000


class Execution:
    """Turns intents and manual orders into orders and follows them (see the module docstring)."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        self._intent_ids = itertools.count(1)
        self.slots: dict[Slot, str] = {}  # slot -> client_order_id of its latest order
        self.amending: set[str] = set()
        self.sent_wall_s: dict[str, float] = {}
        self._last_rejection: dict[Slot, tuple[str, int]] = {}
        #: slot -> (price, count) of a proposal the operator declined or let expire: the same intent is not
        #: offered again (strategies re-run every 250 ms) until it changes, so "n" means no, not "ask again"
        self._declined: dict[Slot, tuple[int, int]] = {}
        self._last_alert: dict[tuple[str, str], int] = {}
        self.on_order_done: list = []  # callbacks(order) when an order reaches a terminal state
        self.on_new_fill: list = []  # callbacks(fill, client_order_id) for every fill applied for the first time

    # --- intents ----------------------------------------------------------------------------------
    def submit_intents(self, intents: Sequence[Intent]) -> None:
        desk = self.desk
        for intent in intents:
            slot = (intent.strategy, intent.ticker, intent.side)
            if desk.mode is Mode.HALTED or not desk.ready:
                continue
            if intent.quote:
                self._quote(slot, intent)
                continue
            if self._busy(slot) or intent.count <= 0:
                continue
            if desk.mode is Mode.MANUAL:
                self._propose(slot, intent)
                continue
            self._send_checked(intent, slot)

    def _busy(self, slot: Slot) -> bool:
        cid = self.slots.get(slot)
        order = self.desk.orders.get(cid) if cid else None
        return order is not None and order.state in (OrderState.PENDING, OrderState.UNKNOWN)

    def _new_intent_id(self) -> str:
        return f"i{self.desk.session}-{next(self._intent_ids)}"

    def _record_intent(self, intent: Intent, intent_id: str | None = None) -> str:
        desk = self.desk
        intent_id = intent_id or self._new_intent_id()
        record = IntentRecord(intent_id, desk.now_ms, intent.ticker, intent.side, intent.price, intent.count,
                              intent.strategy, intent.reason, intent.model_probability,
                              round(intent.edge_after_fees * 1_000_000), intent.ttl_ms)
        top = TopOfBook.of(desk.book(intent.ticker), desk.now_ms)
        if desk.journal is not None:
            desk.journal.record_intent(record, top)
        if desk.forward_log is not None:
            desk.forward_log.write(record, top)
        return intent_id

    def _decision(self, intent_id: str, decision: str, rejection: RiskRejection | None = None,
                  client_order_id: str | None = None, message: str = "") -> None:
        if self.desk.journal is not None:
            self.desk.journal.record_decision(intent_id, decision, self.desk.now_ms,
                                              rule=rejection.rule if rejection else None,
                                              message=rejection.message if rejection else message,
                                              client_order_id=client_order_id)

    def _send_checked(self, intent: Intent, slot: Slot) -> Order | None:
        """AUTO: gate, send, then journal the intent and the decision (only the order itself must be in
        the journal before its request leaves; the rest waits so the order leaves sooner)."""
        intent_id = self._new_intent_id()
        rejection = self.check(intent.ticker, intent.side, intent.price, intent.count, intent.strategy,
                               intent.reduce_only)
        if rejection is not None:
            # a standing intent is refused on every evaluation: journal it when the reason changes (or once
            # a minute), and alert once a minute per strategy and rule, so the reason is visible, not a flood
            now = self.desk.now_ms
            last = self._last_rejection.get(slot)
            if last is None or last[0] != rejection.rule or now - last[1] >= REPEAT_MS:
                self._last_rejection[slot] = (rejection.rule, now)
                self._record_intent(intent, intent_id)
                self._decision(intent_id, "risk_rejected", rejection)
            key = (intent.strategy, rejection.rule)
            if now - self._last_alert.get(key, -REPEAT_MS) >= REPEAT_MS:
                self._last_alert[key] = now
                self.desk.alert("info", "rejection", f"{intent.strategy}: {rejection}")
            return None
        self._last_rejection.pop(slot, None)
        order = self.send(intent.ticker, intent.side, intent.price, intent.count, origin=intent.strategy,
                          time_in_force=intent.time_in_force, post_only=intent.post_only,
                          reduce_only=intent.reduce_only)
        self.slots[slot] = order.client_order_id
        self._record_intent(intent, intent_id)
        self._decision(intent_id, "sent", client_order_id=order.client_order_id)
        return order

    # --- proposals (MANUAL) -----------------------------------------------------------------------
    def _propose(self, slot: Slot, intent: Intent) -> None:
        desk = self.desk
        if any((p.intent.strategy, p.intent.ticker, p.intent.side) == slot for p in desk.proposals.values()):
            return  # one live proposal per slot: the operator is already looking at it
        if self._declined.get(slot) == (intent.price, intent.count):
            return
        self._declined.pop(slot, None)
        intent_id = self._record_intent(intent)
        ttl = intent.ttl_ms or int(desk.config.risk.proposal_ttl_s * 1000)
        proposal = Proposal(intent_id, intent, desk.now_ms, desk.now_ms + ttl)
        desk.proposals[intent_id] = proposal
        self._decision(intent_id, "proposed")
        desk.emit(IntentProposed(intent_id, intent.ticker, intent.side, intent.price, intent.count, intent.strategy,
                                 intent.edge_after_fees, intent.reason, proposal.expires_ms))

    def expire_proposals(self) -> None:
        desk = self.desk
        for intent_id, proposal in list(desk.proposals.items()):
            if desk.now_ms >= proposal.expires_ms:
                self._drop(intent_id, "expired", "expired before approval")

    def _drop(self, intent_id: str, decision: str, reason: str, rejection: RiskRejection | None = None) -> None:
        proposal = self.desk.proposals.pop(intent_id, None)
        if proposal is not None:
            intent = proposal.intent
            self._declined[(intent.strategy, intent.ticker, intent.side)] = (intent.price, intent.count)
        self._decision(intent_id, decision, rejection, message=reason)
        self.desk.emit(IntentExpired(intent_id, reason))

    def approve(self, cmd: Approve) -> None:
        desk = self.desk
        proposal = desk.proposals.get(cmd.intent_id)
        if proposal is None:
            desk.alert("warn", "proposal", f"{cmd.intent_id}: no such proposal (expired or already handled)")
            return
        intent: Intent = proposal.intent  # type: ignore[assignment]
        if desk.now_ms >= proposal.expires_ms:
            self._drop(cmd.intent_id, "expired", "expired before approval")
            return
        if desk.mode is Mode.HALTED:
            self._drop(cmd.intent_id, "halted", f"not sent: the desk is halted ({desk.mode_reason})")
            return
        rejection = self.check(intent.ticker, intent.side, intent.price, intent.count, intent.strategy,
                               intent.reduce_only)
        if rejection is not None:
            self._drop(cmd.intent_id, "risk_rejected_on_approval", f"not sent: {rejection}", rejection)
            return
        desk.proposals.pop(cmd.intent_id)
        order = self.send(intent.ticker, intent.side, intent.price, intent.count, origin=intent.strategy,
                          time_in_force=intent.time_in_force, post_only=intent.post_only,
                          reduce_only=intent.reduce_only)
        self.slots[(intent.strategy, intent.ticker, intent.side)] = order.client_order_id
        self._decision(cmd.intent_id, "approved", client_order_id=order.client_order_id)

    def reject(self, cmd: Reject) -> None:
        if cmd.intent_id in self.desk.proposals:
            self._drop(cmd.intent_id, "declined", "rejected by the operator")

    # --- manual orders ----------------------------------------------------------------------------
    def check(self, ticker: str, side: Side, price: int, count: int, origin: str, reduce_only: bool = False,
              exclude: str | None = None) -> RiskRejection | None:
        proposal = OrderProposal(ticker, side, price, count, origin, reduce_only)
        return self.desk.gate.check(proposal, self.desk.risk_state(ticker, exclude))

    def check_order(self, cmd: CheckOrder) -> None:
        o = cmd.order
        proposal = OrderProposal(o.ticker, o.side, o.price, o.count, MANUAL, o.reduce_only)
        rejections = self.desk.gate.check_all(proposal, self.desk.risk_state(o.ticker))
        self.desk.emit(OrderChecked(cmd.request_id, not rejections, tuple(r.rule for r in rejections),
                                    "; ".join(str(r) for r in rejections)))

    def place_manual(self, cmd: PlaceOrder) -> Order | None:
        desk = self.desk
        if desk.mode is Mode.HALTED:
            desk.alert("warn", "rejection", f"manual order on {cmd.ticker} not sent: the desk is halted "
                       f"({desk.mode_reason}); resume first")
            return None
        if not desk.ready:
            desk.alert("warn", "rejection", f"manual order on {cmd.ticker} not sent: still reconciling with the "
                       "venue; try again in a moment")
            return None
        rejection = self.check(cmd.ticker, cmd.side, cmd.price, cmd.count, MANUAL, cmd.reduce_only)
        if rejection is not None:
            desk.alert("warn", "rejection", f"manual order not sent: {rejection}")
            return None
        return self.send(cmd.ticker, cmd.side, cmd.price, cmd.count, origin=MANUAL,
                         time_in_force=cmd.time_in_force, post_only=cmd.post_only, reduce_only=cmd.reduce_only)

    # --- sending ----------------------------------------------------------------------------------
    def send(self, ticker: str, side: Side, price: int, count: int, *, origin: str, time_in_force: str,
             post_only: bool = False, reduce_only: bool = False, group: bool = True) -> Order:
        """Journal, then send (callers have run the gate)."""
        desk = self.desk
        cid = desk.ids.next(origin)
        order = Order.new(cid, ticker, side, price, count, origin=origin, reduce_only=reduce_only,
                          time_in_force=time_in_force, created_ms=desk.now_ms)
        desk.orders.add(order)
        desk.track(order)
        if desk.journal is not None:
            desk.journal.record_order(order, desk.now_ms)
        bot = order.is_bot
        spec = OrderSpec(ticker=ticker, side=side, price=price, count=count, time_in_force=time_in_force,  # type: ignore[arg-type]
                         client_order_id=cid, post_only=post_only, reduce_only=reduce_only,
                         cancel_order_on_pause=bot and group,
                         order_group_id=desk.order_group_id if (bot and group) else None)
        desk.gate.note_sent(desk.now_ms)
        self.sent_wall_s[cid] = desk.now_ms / 1000
        desk.act(SendOrder(spec))
        desk.announce(order)
        return order

    def on_answer(self, answer: OrderAnswer) -> None:
        desk = self.desk
        cid = answer.client_order_id
        order = desk.orders.get(cid)
        if order is None:
            return
        if answer.outcome == "accepted" and answer.result is not None:
            res = answer.result
            desk.apply_order(cid, Accepted(res.order_id, res.fill_count, res.remaining_count, res.ts_ms or 0))
            if order.time_in_force == IOC:
                desk.breakers.observe_marketable(desk.now_ms, res.fill_count > 0)
            if order.cancel_requested and order.state.open:
                self._send_cancel(order)
        elif answer.outcome == "rejected":
            desk.apply_order(cid, Rejected(answer.code, answer.message, answer.status))
            desk.alert("warn", "rejection", f"{order.ticker}: venue refused {cid}: {answer.message} "
                       f"[{answer.status} {answer.code}]")
        else:
            desk.apply_order(cid, SendFailed(answer.message))
            desk.alert("error", "order", f"{order.ticker}: outcome of {cid} unknown ({answer.message}); "
                       "new orders in this market are blocked until reconciliation settles it")
        self._done_if_terminal(order)

    def _done_if_terminal(self, order: Order) -> None:
        if order.state.terminal:
            self.amending.discard(order.client_order_id)
            for callback in self.on_order_done:
                callback(order)

    # --- cancels ----------------------------------------------------------------------------------
    def cancel(self, order: Order) -> None:
        if order.state.terminal:
            return
        if order.order_id is None:
            order.request_cancel()  # sent once the create answer names the order
            return
        if order.cancel_requested:
            return
        self._send_cancel(order)

    def _send_cancel(self, order: Order) -> None:
        order.request_cancel()
        if self.desk.journal is not None:
            self.desk.journal.record_order_event(order, "cancel_requested", None, self.desk.now_ms)
        assert order.order_id is not None
        self.desk.act(CancelOrderAction(order.client_order_id, order.order_id))

    def cancel_where(self, predicate) -> int:
        orders = [o for o in list(self.desk.open.values()) if predicate(o)]
        for order in orders:
            self.cancel(order)
        return len(orders)

    def cancel_all(self, cmd: CancelAll) -> None:
        n = self.cancel_where(lambda o: (cmd.include_manual or o.is_bot) and (cmd.ticker is None or o.ticker == cmd.ticker))
        if cmd.include_manual and cmd.ticker is None:
            self.desk.act(CancelAllAction("operator cancel-all"))  # also catches orders we do not know
        self.desk.alert("info", "cancel", f"cancelling {n} order(s)"
                        f"{'' if cmd.include_manual else ' (bot orders only; manual orders left alone)'}"
                        f"{' on ' + cmd.ticker if cmd.ticker else ''}")

    def on_cancel_answer(self, answer: CancelAnswer) -> None:
        desk = self.desk
        order = desk.orders.get(answer.client_order_id)
        if order is None:
            return
        if answer.ok:
            desk.apply_order(order.client_order_id, CancelAcked(answer.reduced_by or 0, desk.now_ms, order.order_id))
        else:
            order.cancel_requested = False  # let a later cancel try again once we know more
            if not answer.gone:
                desk.alert("warn", "cancel", f"cancel of {order.client_order_id} failed: {answer.message}")
        self._done_if_terminal(order)

    # --- quotes -----------------------------------------------------------------------------------
    def _quote(self, slot: Slot, intent: Intent) -> None:
        desk = self.desk
        cid = self.slots.get(slot)
        order = desk.orders.get(cid) if cid else None
        live = order is not None and order.state.open
        if intent.count <= 0:
            if live:
                self.cancel(order)  # type: ignore[arg-type]
            return
        if not live:
            if desk.mode is Mode.MANUAL:
                self._propose(slot, intent)
                return
            self._send_checked(intent, slot)
            return
        assert order is not None
        if order.state in (OrderState.PENDING, OrderState.UNKNOWN) or cid in self.amending or order.cancel_requested:
            return
        if order.price == intent.price and order.remaining == intent.count:
            return
        if desk.mode is Mode.MANUAL:
            return  # the operator approved a price; moving it needs a new approval
        rejection = self.check(intent.ticker, intent.side, intent.price, intent.count, intent.strategy, exclude=cid)
        if rejection is not None:
            self.cancel(order)
            return
        desk.gate.note_sent(desk.now_ms)
        self.amending.add(order.client_order_id)
        assert order.order_id is not None
        desk.act(AmendOrderAction(order.client_order_id, order.order_id, order.ticker, order.side, intent.price,
                                  order.filled + intent.count))

    def on_amend_answer(self, answer: AmendAnswer) -> None:
        desk = self.desk
        self.amending.discard(answer.client_order_id)
        order = desk.orders.get(answer.client_order_id)
        if order is None:
            return
        if answer.ok:
            desk.apply_order(order.client_order_id, Amended(answer.price, answer.count, desk.now_ms))
        elif order.state.open:
            self.cancel(order)  # cancel-replace: the next quote makes a fresh order
        self._done_if_terminal(order)

    # --- venue news -------------------------------------------------------------------------------
    def on_fill(self, msg: w.FillMsg) -> None:
        b = msg.msg
        self.apply_fill(Fill(b.trade_id, b.order_id, b.market_ticker, b.side, b.yes_price, b.count, b.fee_cost,
                             b.is_taker, b.ts_ms, b.client_order_id))

    def apply_fill(self, fill: Fill) -> bool:
        """Apply a fill once (WS or REST backfill); returns True when it was new."""
        desk = self.desk
        new = desk.portfolio.apply_fill(fill)
        results = desk.orders.apply_fill(fill)
        order = results[0][0] if results else desk.orders.by_order_id(fill.order_id)
        cid = order.client_order_id if order else fill.client_order_id
        if new:
            if desk.journal is not None:
                desk.journal.record_fill(fill, desk.now_ms, cid)
            desk.emit(Filled(cid or "", fill.ticker, fill.side, fill.price, fill.count, fill.fee, fill.is_taker,
                             order.origin if order else "unknown"))
            for callback in self.on_new_fill:
                callback(fill, cid)
        desk.after_apply(results, fill)
        for o, _ in results:
            self._done_if_terminal(o)
        return new

    def on_user_order(self, msg: w.UserOrderMsg) -> None:
        b = msg.msg
        desk = self.desk
        update = VenueOrderUpdate(b.order_id, b.status, b.fill_count, b.remaining_count,
                                  b.last_updated_ts_ms or 0, b.last_update_reason)
        known = (b.client_order_id and b.client_order_id in desk.orders) or desk.orders.by_order_id(b.order_id)
        if not known and b.status == "resting":
            self.adopt(b.order_id, b.client_order_id, b.ticker, b.side, b.yes_price, b.initial_count,
                       "a user_order message")
        results = desk.orders.apply_update(update, b.client_order_id)
        desk.after_apply(results, update)
        for o, _ in results:
            self._done_if_terminal(o)

    def adopt(self, order_id: str, client_order_id: str | None, ticker: str, side: Side, price: int,
              count: int, source: str) -> Order:
        """A venue order the desk did not know: track it (as manual unless its id names a strategy)."""
        from console.domain.orders import ClientOrderIds

        desk = self.desk
        origin = ClientOrderIds.origin_of(client_order_id) or MANUAL
        cid = client_order_id if client_order_id and client_order_id not in desk.orders else f"adopted:{order_id}"
        order = Order.new(cid, ticker, side, price, max(count, 1), origin=origin, created_ms=desk.now_ms)
        order.order_id = order_id
        desk.orders.add(order)
        desk.adopted.add(cid)
        desk.track(order)
        if desk.journal is not None:
            desk.journal.record_order(order, desk.now_ms)
            desk.journal.record_correction(desk.now_ms, "order_adopted", f"venue order {order_id} seen in {source}",
                                           ticker=ticker, client_order_id=cid, venue_value=order_id)
        desk.alert("warn", "reconciliation", f"adopted venue order {order_id} ({cid}) on {ticker} that the "
                   f"journal did not know (seen in {source}); tracked as {origin}")
        return order

    def bot_orders(self) -> Iterable[Order]:
        return [o for o in self.desk.open.values() if o.is_bot]
