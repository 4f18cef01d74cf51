"""The kernel's modes and safety rules, driven by events on a manual clock (no threads, no network):
MANUAL proposals expire and are never sent, approval re-checks risk against the book of that moment,
an order of unknown outcome blocks its market until reconciliation, a position difference is corrected
only when a second pass confirms it, HALTED sends nothing new but
cancels and flattens, pausing the bot leaves manual orders alone, breakers halt AUTO with the reason."""

from __future__ import annotations

from kernel_harness import Harness, meta

from console.domain.orders import Fill
from console.domain.side import Side
from console.engine import messages as m
from console.engine.control import (
    Alert,
    Approve,
    CancelAll,
    CancelOrder,
    CheckOrder,
    Flatten,
    Halt,
    IntentExpired,
    IntentProposed,
    Mode,
    OrderChecked,
    PlaceOrder,
    Reject,
    Resume,
    RiskBreached,
    SetAuto,
)
from console.engine.strategies import Quoter, ThresholdTaker

T = "KXA-1"


def taker(**kw) -> ThresholdTaker:
    return ThresholdTaker("taker", frozenset({T}), buy_at_or_below=5000, count=100, max_position=10_000, **kw)


def test_manual_proposal_that_expires_is_never_sent_even_if_approved_later() -> None:
    h = Harness([taker()], risk={"proposal_ttl_s": 5})
    h.ready([T])
    h.book(T, bids=[(4500, 1000)], asks=[(4900, 1000)])
    [proposal] = h.of(IntentProposed)
    assert (proposal.ticker, proposal.side, proposal.price, proposal.count) == (T, Side.BID, 4900, 100)
    h.kernel.publish_if_due(h.clock.now_ms(), force=True)
    assert [p.intent_id for p in h.control.snapshot().proposals] == [proposal.intent_id]
    h.step(advance_ms=5_001)  # past the time to live
    [expired] = h.of(IntentExpired)
    assert expired.intent_id == proposal.intent_id and "expired" in expired.reason
    h.step(Approve(proposal.intent_id))
    assert h.sent() == []
    assert proposal.intent_id not in h.desk.proposals  # a fresh proposal may follow; the old one is gone


def test_approval_rechecks_risk_against_the_current_book() -> None:
    h = Harness([taker()], risk={"fat_finger_cents": 10})
    h.ready([T])
    h.book(T, bids=[(4500, 1000)], asks=[(4900, 1000)])
    [proposal] = h.of(IntentProposed)
    # the market fell: the best ask is now 0.35, so a bid at 0.49 would pay 14c through the book
    h.delta(T, Side.BID, 4500, -1000)
    h.delta(T, Side.BID, 3000, 1000)
    h.delta(T, Side.ASK, 3500, 1000)
    h.step(Approve(proposal.intent_id))
    assert h.sent() == []
    [expired] = h.of(IntentExpired)
    assert expired.intent_id == proposal.intent_id and "fat_finger" in expired.reason


def test_approved_proposal_is_sent_once_and_rejected_one_never() -> None:
    h = Harness([taker(), ThresholdTaker("seller", frozenset({T}), sell_at_or_above=4500, count=50)])
    h.ready([T])
    h.book(T, bids=[(4500, 1000)], asks=[(4900, 1000)])
    by_strategy = {p.strategy: p for p in h.of(IntentProposed)}
    h.step(Reject(by_strategy["seller"].intent_id), Approve(by_strategy["taker"].intent_id))
    [spec] = h.sent()
    assert (spec.side, spec.price, spec.count, spec.time_in_force) == (Side.BID, 4900, 100, "immediate_or_cancel")
    assert spec.client_order_id.startswith("ed:t1:taker:") and spec.cancel_order_on_pause
    h.step(Approve(by_strategy["taker"].intent_id), Approve(by_strategy["seller"].intent_id))
    assert len(h.sent()) == 1


def test_unknown_outcome_blocks_the_market_until_reconciliation_settles_it() -> None:
    h = Harness([taker(min_interval_ms=0)], auto=True)
    h.ready([T])
    h.venue.unknown_next = 1
    h.deliver = True
    # hold back the reconciliation answer to look at the blocked state first
    answer = h.venue.answer
    held: list = []
    h.venue.answer = lambda a: (held.append(a) or []) if isinstance(a, m.ReconcileAction) else answer(a)
    h.book(T, bids=[(4500, 1000)], asks=[(4900, 1000)])
    [first] = h.sent()
    h.step(advance_ms=300)  # the unknown outcome schedules a reconciliation
    h.kernel.publish_if_due(h.clock.now_ms(), force=True)
    blocked = h.control.snapshot().blocked_markets
    assert [t for t, _ in blocked] == [T] and "unknown outcome" in blocked[0][1]
    h.delta(T, Side.ASK, 4800, 500)  # a better ask: the strategy wants to trade, the gate says no
    assert len(h.sent()) == 1
    [lookup] = [a for a in held if isinstance(a, m.ReconcileAction) and a.unknown]
    assert lookup.unknown[0].client_order_id == first.client_order_id
    h.venue.answer = answer
    h.step(answer(lookup)[0])  # the venue has no such order: it never arrived
    assert h.desk.orders.get(first.client_order_id).state.value == "rejected"
    h.delta(T, Side.ASK, 4700, 100)
    second = h.sent()[1]
    assert second.price == 4700 and second.client_order_id != first.client_order_id


def test_halted_sends_nothing_new_but_cancels_and_flattens() -> None:
    h = Harness([taker()], auto=True)
    h.ready([T])
    h.step(PlaceOrder(T, Side.ASK, 9000, 100))  # no book yet: refused by the gate
    assert h.sent() == []
    h.book(T, bids=[(4500, 1000)], asks=[(5100, 1000)])
    h.step(PlaceOrder(T, Side.ASK, 5200, 100))
    [manual] = h.sent()
    h.step(Halt("operator"))
    assert h.desk.mode is Mode.HALTED
    h.step(PlaceOrder(T, Side.ASK, 5300, 100))
    h.delta(T, Side.ASK, 4900, 100)  # the taker would buy this in AUTO
    assert h.sent() == [manual]
    h.step(CancelOrder(manual.client_order_id))
    assert [a.client_order_id for a in h.actions if isinstance(a, m.CancelOrderAction)] == [manual.client_order_id]
    h.step(Flatten("test"))
    h.run_for(200)
    assert any(isinstance(a, m.CancelAllAction) for a in h.actions)
    assert h.desk.mode is Mode.HALTED and h.desk.flatten_report.startswith("flatten (test) done")
    h.step(Resume(), SetAuto(True))
    assert h.desk.mode is Mode.AUTO


def test_pausing_the_bot_cancels_bot_orders_only() -> None:
    h = Harness([Quoter("q", frozenset({T}), half_spread=300, count=100, fair=5000)], auto=True)
    h.ready([T])
    h.book(T, bids=[(4000, 1000)], asks=[(6000, 1000)])
    h.step(PlaceOrder(T, Side.BID, 4100, 100))
    bots = {s.client_order_id for s in h.sent() if ":q:" in s.client_order_id}
    manual = {s.client_order_id for s in h.sent() if ":manual:" in s.client_order_id}
    assert len(bots) == 2 and len(manual) == 1
    h.step(CancelAll(include_manual=False))
    cancelled = {a.client_order_id for a in h.actions if isinstance(a, m.CancelOrderAction)}
    assert cancelled == bots
    h.step(SetAuto(False))
    assert h.desk.mode is Mode.MANUAL
    assert {a.client_order_id for a in h.actions if isinstance(a, m.CancelOrderAction)} == bots
    assert all(h.desk.orders.get(c).state.value == "resting" for c in manual)


def test_quote_moves_are_amends_of_the_same_order() -> None:
    q = Quoter("q", frozenset({T}), half_spread=300, count=100)
    h = Harness([q], auto=True)
    h.ready([T])
    h.book(T, bids=[(4000, 1000)], asks=[(6000, 1000)])
    assert sorted(s.price for s in h.sent()) == [4700, 5300]
    h.delta(T, Side.BID, 4400, 500)  # the market (without us) moves up 2c: both quotes move
    amends = [a for a in h.actions if isinstance(a, m.AmendOrderAction)]
    assert sorted((a.price, a.count) for a in amends) == [(4900, 100), (5500, 100)]
    assert len(h.sent()) == 2


def test_breaker_moves_auto_to_halted_with_the_reason_and_checkorder_answers() -> None:
    h = Harness([taker()], auto=True, risk={"daily_loss_limit_dollars": 1})
    h.ready([T])
    h.book(T, bids=[(1000, 100_000)], asks=[(4900, 1_000)])
    assert h.sent()  # bought at 0.49; marked at the 0.10 bid: a loss far past $1
    h.step(advance_ms=100)
    [breach] = h.of(RiskBreached)
    assert breach.rule == "daily_loss" and breach.new_mode is Mode.HALTED and h.desk.mode is Mode.HALTED
    assert "daily loss" in h.desk.mode_reason or "daily_loss" in h.desk.mode_reason
    h.step(CheckOrder("r1", PlaceOrder(T, Side.BID, 9900, 100)))
    [checked] = h.of(OrderChecked)
    assert checked.request_id == "r1" and not checked.ok and "fat_finger" in checked.rules


def test_a_position_difference_is_corrected_only_when_a_second_pass_confirms_it() -> None:
    h = Harness([taker()])
    h.venue.positions["KXA-1"] = 500  # the venue holds a position no fill explains (placed elsewhere, or missed)
    h.step(m.MarketsLoaded((meta(T),)))
    assert not h.desk.ready and h.desk.portfolio.signed(T) == 0  # one pass saw it: not believed yet
    h.run_for(400)  # the confirming pass
    assert h.desk.ready and h.desk.portfolio.signed(T) == 500
    alerts = [a.message for a in h.of(Alert)]
    assert any(f"{T}: position 0.00 corrected to the venue's 5.00" in a for a in alerts)
    # a difference that a fill explains in between is never "corrected" away
    h.venue.positions[T] = 600
    h.kernel.reconciler.request("test")
    h.run_for(60)
    assert h.desk.portfolio.signed(T) == 500 and T in h.kernel.reconciler.suspect
    h.kernel.execution.apply_fill(Fill(
        "late-fill", "o-x", T, Side.BID, 5000, 100))
    h.run_for(400)
    assert h.desk.portfolio.signed(T) == 600
    assert sum("corrected to the venue" in a.message for a in h.of(Alert)) == 1


def test_worker_results_come_back_to_the_kernel_thread() -> None:
    import threading
    import time

    h = Harness()
    seen: list = []
    h.kernel.work_handlers["sum"] = lambda done: seen.append((done.result, threading.current_thread().name))
    h.kernel.run_in_worker("sum", lambda xs: (time.sleep(0.01), sum(xs))[1], [1, 2, 3])
    h.kernel.run_in_worker("sum", lambda: 1 / 0)
    deadline = time.monotonic() + 5
    while len(seen) < 2 and time.monotonic() < deadline:
        h.step()
    assert (6, threading.current_thread().name) in seen  # handled on the thread that turns the kernel
    assert any("worker job sum failed" in a.message and "ZeroDivisionError" in a.message for a in h.of(Alert))
    h.kernel.stop()


def test_a_fill_reported_by_the_create_answer_counts_before_its_fill_message_arrives() -> None:
    """The REST answer says "filled 2.00" before the fill channel does: the strategy must not buy again
    and the risk gate must count the position (this race once made the desk buy twice its limit)."""
    h = Harness([ThresholdTaker("taker", frozenset({T}), buy_at_or_below=5000, count=200, max_position=200)],
                auto=True, risk={"max_contracts_per_market": 2})
    h.ready([T])
    h.venue.hold_fills = True
    h.book(T, bids=[(4500, 1000)], asks=[(4900, 1000)])
    [first] = h.sent()
    assert (first.side, first.count) == (Side.BID, 200)
    assert h.desk.portfolio.signed(T) == 0 and h.desk.position(T) == 200  # fills not here yet
    h.delta(T, Side.ASK, 4800, 500)  # the book moves: the taker looks again
    h.run_for(1_000)
    assert len(h.sent()) == 1
    h.step(PlaceOrder(T, Side.BID, 4800, 100))  # manual: 2.00 held + 1.00 > 2 contracts
    assert len(h.sent()) == 1
    assert any(isinstance(e, Alert) and "max_contracts_per_market" in e.message for e in h.events)
    h.step(*h.venue.held)  # the fill messages arrive at last: counted once
    h.venue.held.clear()
    assert h.desk.portfolio.signed(T) == 200 and h.desk.position(T) == 200 and not h.desk.lagging
