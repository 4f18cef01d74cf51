"""Orders: the state machine on hand-worked lives (fills before answers, late fills, stale updates,
lost responses), client_order_ids, the order table's routing, and a property test that any arrival
order of the same order life ends in the same state with every fill counted once."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from console.domain.order_table import OrderTable
from console.domain.orders import (
    MANUAL,
    Accepted,
    Amended,
    CancelAcked,
    ClientOrderIds,
    Fill,
    NotFoundAtVenue,
    Order,
    OrderState,
    Rejected,
    SendFailed,
    VenueOrderUpdate,
)
from console.domain.side import Side

S = OrderState


def order(count: int = 1000, side: Side = Side.BID, price: int = 5600, origin: str = MANUAL, cid: str = "c1") -> Order:
    return Order.new(cid, "KXT-1", side, price, count, origin=origin, created_ms=1)


def fill(fid: str, count: int, price: int = 5600, fee: int = 0, side: Side = Side.BID,
         cid: str | None = None, oid: str = "o1") -> Fill:
    return Fill(fid, oid, "KXT-1", side, price, count, fee, True, 10, cid)


def update(status: str, fill_count: int, remaining: int, oid: str = "o1") -> VenueOrderUpdate:
    return VenueOrderUpdate(oid, status, fill_count, remaining)


def test_gtc_life_pending_resting_partial_filled() -> None:
    o = order()
    assert o.state is S.PENDING and o.remaining == 1000
    assert o.apply(Accepted("o1", 0, 1000)).after is S.RESTING
    assert o.order_id == "o1"
    assert o.apply(fill("f1", 400, fee=1700)).after is S.PARTIALLY_FILLED
    assert o.remaining == 600
    applied = o.apply(fill("f2", 600, fee=2500))
    assert (applied.before, applied.after) == (S.PARTIALLY_FILLED, S.FILLED)
    assert o.apply(update("executed", 1000, 0)).after is S.FILLED
    assert (o.filled, o.remaining, o.fees, o.fill_notional) == (1000, 0, 4200, 5600 * 1000)


def test_fill_before_the_create_answer() -> None:
    o = order()
    assert o.apply(fill("f1", 1000)).after is S.FILLED  # the WS fill beat the REST answer
    applied = o.apply(Accepted("o1", 1000, 0))
    assert applied.after is S.FILLED and applied.anomaly is None
    assert o.filled == 1000


def test_cancel_before_a_late_fill_keeps_the_fill() -> None:
    o = order()
    o.apply(Accepted("o1", 0, 1000))
    assert o.apply(update("canceled", 300, 0)).after is S.CANCELLED
    late = o.apply(fill("f1", 300))
    assert late.after is S.CANCELLED and late.anomaly is None
    assert (o.fill_total, o.filled, o.remaining) == (300, 300, 0)


def test_stale_update_after_terminal_is_ignored() -> None:
    o = order()
    o.apply(Accepted("o1", 0, 1000))
    o.apply(update("executed", 1000, 0))
    stale = o.apply(update("resting", 500, 500))
    assert stale.after is S.FILLED and not stale.changed
    assert o.filled == 1000


def test_duplicate_fill_applied_once() -> None:
    o = order()
    o.apply(fill("f1", 250, fee=100))
    again = o.apply(fill("f1", 250, fee=100))
    assert again.duplicate and not again.changed
    assert (o.fill_total, o.fees) == (250, 100)


def test_ioc_partial_then_remainder_cancelled() -> None:
    o = Order.new("c1", "KXT-1", Side.ASK, 4000, 1000, time_in_force="immediate_or_cancel")
    assert o.apply(Accepted("o1", 600, 0)).after is S.CANCELLED
    assert o.filled == 600 and o.remaining == 0
    o.apply(fill("f1", 600, price=4000, side=Side.ASK))
    assert o.state is S.CANCELLED and o.fill_total == 600 and not o.anomalies


def test_rejected_with_code() -> None:
    o = order()
    applied = o.apply(Rejected("invalid_order", "post only cross", 400))
    assert applied.after is S.REJECTED and o.rejection.code == "invalid_order"
    assert o.remaining == 0


@pytest.mark.parametrize(("evidence", "final"), [
    ([update("resting", 0, 1000)], S.RESTING),
    ([update("resting", 200, 800)], S.PARTIALLY_FILLED),
    ([fill("f1", 1000)], S.FILLED),
    ([update("canceled", 0, 0)], S.CANCELLED),
    ([NotFoundAtVenue()], S.REJECTED),
])
def test_unknown_is_settled_by_venue_evidence_or_reconciliation(evidence, final) -> None:
    o = order()
    assert o.apply(SendFailed("timeout after 5.0 s")).after is S.UNKNOWN
    assert o.remaining == 1000  # fail closed: it may be resting
    for event in evidence:
        o.apply(event)
    assert o.state is final


def test_terminal_state_is_latched_and_contradictions_are_reported() -> None:
    o = order()
    o.apply(fill("f1", 1000))
    applied = o.apply(CancelAcked(0))
    assert applied.after is S.FILLED
    assert applied.anomaly and "reconcile" in applied.anomaly
    rejected = order(cid="c2")
    rejected.apply(Rejected("market_closed"))
    late = rejected.apply(fill("f9", 100, cid="c2"))
    assert late.after is S.REJECTED and late.anomaly
    assert rejected.fill_total == 100  # money is never dropped: the fill still counts


def test_cancel_answer_before_the_create_answer() -> None:
    o = order()
    assert o.apply(CancelAcked(1000, order_id="o1")).after is S.CANCELLED
    assert o.order_id == "o1"
    assert o.apply(Accepted("o1", 0, 1000)).after is S.CANCELLED  # the late create answer changes nothing


def test_amend_changes_price_and_total_count() -> None:
    o = order()
    o.apply(Accepted("o1", 0, 1000))
    o.apply(fill("f1", 500))
    o.apply(Amended(5700, 500))  # new total = what already filled: nothing left to fill
    assert o.price == 5700 and o.state is S.FILLED


def test_bot_and_manual_tags() -> None:
    assert not order(origin=MANUAL).is_bot
    assert order(origin="mm-senate").is_bot


def test_order_refuses_impossible_values() -> None:
    with pytest.raises(ValueError, match="strictly between"):
        Order.new("c", "T", Side.BID, 10000, 100)
    with pytest.raises(ValueError, match="more than 0"):
        Order.new("c", "T", Side.BID, 5000, 0)


# --- client order ids -------------------------------------------------------------------------

KALSHI_ID = re.compile(r"[-\w:+=/]{1,64}\Z", re.ASCII)


def test_client_order_ids_unique_valid_and_carry_their_origin() -> None:
    ids = ClientOrderIds("a1b2c3d4e5")
    made = [ids.next("manual") for _ in range(500)] + [ids.next("mm-senate_v2") for _ in range(500)]
    assert len(set(made)) == 1000
    assert all(KALSHI_ID.match(cid) for cid in made)
    assert ClientOrderIds.origin_of(made[0]) == "manual"
    assert ClientOrderIds.parse(made[-1]).is_bot
    assert ClientOrderIds.parse(made[-1]).counter == 999


def test_longest_client_order_id_fits_kalshi_limit() -> None:
    ids = ClientOrderIds("Z" * 12, start=36**13 - 1)
    cid = ids.next("s" * 24)
    assert len(cid) <= 64 and KALSHI_ID.match(cid)
    with pytest.raises(OverflowError):
        ids.next("s")


def test_client_order_id_rejects_bad_origin_and_parses_foreign_ids_as_none() -> None:
    ids = ClientOrderIds("abc")
    with pytest.raises(ValueError, match="origin 'my strategy'"):
        ids.next("my strategy")
    with pytest.raises(ValueError, match="origin"):
        ids.next("a:b")  # the separator cannot appear in an origin
    with pytest.raises(ValueError, match="session"):
        ClientOrderIds("has-dash")
    assert ClientOrderIds.parse("ed-0123456789abcdef") is None
    assert ClientOrderIds.origin_of(None) is None
    assert ClientOrderIds.random_session() != ClientOrderIds.random_session()


# --- the order table ----------------------------------------------------------------------------


def test_table_parks_fills_for_an_unknown_order_id_until_the_answer_names_it() -> None:
    table = OrderTable()
    table.add(order())
    assert table.apply_fill(fill("f1", 300)) == []  # no cid on the fill, order id not known yet
    assert "o1" in table.orphans()
    results = table.apply("c1", Accepted("o1", 300, 700))
    assert [a.after for _, a in results] == [S.PARTIALLY_FILLED, S.PARTIALLY_FILLED]
    o = table.get("c1")
    assert o.fill_total == 300 and table.by_order_id("o1") is o and table.orphans() == {}


def test_table_deduplicates_fills_across_paths() -> None:
    table = OrderTable()
    table.add(order())
    table.apply("c1", Accepted("o1", 0, 1000))
    assert table.apply_fill(fill("f1", 100))
    assert table.apply_fill(fill("f1", 100, cid="c1")) == []
    assert table.apply("c1", fill("f1", 100)) == []
    assert table.get("c1").fill_total == 100


def test_table_unknown_orders_per_market_and_duplicate_ids() -> None:
    table = OrderTable()
    table.add(order(cid="a"))
    table.add(Order.new("b", "OTHER", Side.ASK, 3000, 100))
    table.apply("a", SendFailed("503 after send"))
    assert table.has_unknown("KXT-1") and not table.has_unknown("OTHER")
    assert [o.client_order_id for o in table.open_orders("KXT-1")] == ["a"]
    with pytest.raises(ValueError, match="already used"):
        table.add(order(cid="a"))
    table.apply_update(update("canceled", 0, 0, oid="oa"), client_order_id="a")
    assert not table.has_unknown("KXT-1") and table.by_order_id("oa").client_order_id == "a"


# --- property: arrival order does not matter ----------------------------------------------------


@st.composite
def order_life(draw):
    """The events of one consistent order life, some delivered twice, in canonical order."""
    count = draw(st.integers(1, 50)) * 100
    kind = draw(st.sampled_from(["filled", "cancelled", "ioc", "rejected", "unknown"]))
    sizes: list[int] = []
    if kind != "rejected":
        total = count if kind == "filled" else draw(st.integers(0, count - 1))
        if kind == "unknown" and draw(st.booleans()):
            total = count
        left = total
        while left:
            part = draw(st.integers(1, left))
            sizes.append(part)
            left -= part
    fills = [fill(f"f{i}", n, fee=i) for i, n in enumerate(sizes)]
    prefix = [sum(sizes[:i]) for i in range(len(sizes) + 1)]
    events: list = []
    total = prefix[-1]
    if kind == "rejected":
        events.append(Rejected("invalid_order"))
    elif kind == "unknown":
        events.append(SendFailed("timeout"))
        if not fills and draw(st.booleans()):
            events.append(NotFoundAtVenue())
        else:
            status = "executed" if total == count else "canceled"
            events.append(update(status, total, 0))
    else:
        at_answer = draw(st.sampled_from(prefix)) if kind != "ioc" else total
        remaining = 0 if kind == "ioc" else count - at_answer
        events.append(Accepted("o1", at_answer, remaining))
        for filled_so_far in draw(st.lists(st.sampled_from(prefix), max_size=4)):
            if filled_so_far < count:
                events.append(update("resting", filled_so_far, count - filled_so_far))
        final = "executed" if total == count else "canceled"
        events.append(update(final, total, 0))
        if kind == "cancelled" and draw(st.booleans()):
            events.append(CancelAcked(count - total, order_id="o1"))  # our own cancel's answer
    events += fills
    events += draw(st.lists(st.sampled_from(fills), max_size=3)) if fills else []  # redelivered fills
    return count, events


@settings(max_examples=400, deadline=None)
@given(order_life(), st.randoms(use_true_random=False))
def test_any_arrival_order_ends_in_the_same_state(life, rnd) -> None:
    count, events = life
    reference = order(count)
    for event in events:
        reference.apply(event)
    shuffled = list(events)
    rnd.shuffle(shuffled)
    o = order(count)
    seen_terminal = None
    for event in shuffled:
        applied = o.apply(event)
        if seen_terminal is not None:
            assert applied.after is seen_terminal  # never leaves a terminal state
        if applied.after.terminal:
            seen_terminal = applied.after
    assert o.state is reference.state
    assert (o.filled, o.fill_total, o.fees, o.remaining) == (reference.filled, reference.fill_total,
                                                             reference.fees, reference.remaining)
    assert o.fill_total == sum(e.count for e in {e.fill_id: e for e in events if isinstance(e, Fill)}.values())
    assert o.anomalies == [] and reference.anomalies == []
    assert o.state.terminal  # every generated life ends settled


@settings(max_examples=200, deadline=None)
@given(order_life(), st.randoms(use_true_random=False))
def test_any_arrival_order_through_the_table(life, rnd) -> None:
    """Fills without a client id are parked until an answer names the order id, then replayed."""
    count, events = life
    reference = order(count)
    for event in events:
        reference.apply(event)
    table = OrderTable()
    table.add(order(count))
    shuffled = list(events)
    rnd.shuffle(shuffled)
    for event in shuffled:
        if isinstance(event, Fill):
            table.apply_fill(event)
        elif isinstance(event, VenueOrderUpdate):
            table.apply_update(event, client_order_id="c1")
        else:
            table.apply("c1", event)
    o = table.get("c1")
    assert o.state is reference.state
    assert o.fill_total == reference.fill_total
    assert table.orphans() == {}
