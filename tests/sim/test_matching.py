"""The order book and matching rules: crossings from both sides, fill prices, priority, IOC / FOK /
post-only / self-trade prevention / reduce-only, validation, amend and decrease."""

from __future__ import annotations

import pytest
from exchange_helpers import ASK, BID, FOK, IOC, MAKER, TAKER_AT_CROSS, make_world, refused, req

from console.domain.grid import PriceGrid
from console.domain.units import contracts, dollars, parse_price
from console.sim.events import BookDelta, BookSide, FillHappened, OrderChanged, TradePrinted
from console.sim.matching import OrderBook
from console.sim.model import Order, OrderStatus


def _order(oid: str, side: BookSide, price: int, count: int, seq: int, account: str = "a") -> Order:
    return Order(order_id=oid, account_id=account, client_order_id=oid, ticker="M", side=side, price=price,
                 initial_count=count, remaining_count=count, sequence=seq)


# --- OrderBook on its own ---------------------------------------------------------------------


def test_book_levels_ascending_and_best_prices_track_adds_and_removes() -> None:
    book = OrderBook(PriceGrid.for_structure("linear_cent"))
    orders = [_order("b1", BID, 4000, 100, 1), _order("b2", BID, 4200, 50, 2), _order("b3", BID, 4200, 25, 3),
              _order("a1", ASK, 4500, 70, 4), _order("a2", ASK, 4400, 10, 5)]
    for o in orders:
        assert book.add(o) == o.remaining_count
    assert book.levels(BID) == [(4000, 100), (4200, 75)]
    assert book.levels(ASK) == [(4400, 10), (4500, 70)]
    assert book.best_bid() == (4200, 75) and book.best_ask() == (4400, 10)
    assert book.queue_ahead(orders[2]) == 50  # b3 waits behind b2's 50 units
    assert book.remove(orders[1], 50) == -50
    assert book.queue_ahead(orders[2]) == 0
    assert book.remove(orders[2], 25) == -25
    assert book.best_bid() == (4000, 100)  # the best pointer skipped the emptied level
    assert book.remove(orders[4], 10) == -10
    assert book.best_ask() == (4500, 70)
    assert not book.is_crossed()


def test_book_compacts_a_level_full_of_cancelled_orders_without_losing_live_ones() -> None:
    book = OrderBook(PriceGrid.for_structure("linear_cent"))
    orders = [_order(f"o{i}", BID, 5000, 1, i) for i in range(100)]
    for o in orders:
        book.add(o)
    for o in orders[1:90]:
        book.remove(o, 1)
    assert book.size_at(BID, 5000) == 11
    assert [o.order_id for o in book.orders_at(BID, 5000)] == ["o0"] + [f"o{i}" for i in range(90, 100)]
    assert book.queue_ahead(orders[95]) == 6
    assert book.best_maker(ASK, 4900) is orders[0]


# --- crossings and fill prices -----------------------------------------------------------------


def test_yes_bid_meets_no_bid_expressed_as_ask_at_the_resting_yes_price() -> None:
    w = make_world()
    ex = w.ex
    yes_bid = ex.create_order("a", req(BID, parse_price("0.60"), contracts(10)))
    # b buys NO at $0.45, i.e. a YES ask at $0.55: it crosses the $0.60 YES bid and trades at $0.60
    no_bid = ex.create_order("b", req(ASK, parse_price("0.55"), contracts(4)))
    assert no_bid.status is OrderStatus.EXECUTED and no_bid.fill_count == contracts(4)
    trade = ex.trades[-1]
    assert (trade.yes_price, trade.count, trade.taker_side) == (6000, 400, ASK)
    assert no_bid.taker_fill_cost == 4000 * 400  # b paid the NO price $0.40 per contract
    assert yes_bid.maker_fill_cost == 6000 * 400
    assert ex.accounts["b"].positions["M"].position == -400  # long 4 NO
    assert ex.accounts["a"].positions["M"].position == 400
    assert ex.book_levels("M", BID) == [(6000, 600)]
    assert ex.book_levels("M", ASK) == []


def test_bid_crossing_resting_asks_walks_levels_best_first_at_each_makers_price() -> None:
    w = make_world()
    ex = w.ex
    ex.create_order("a", req(ASK, 5200, 300))
    ex.create_order("a", req(ASK, 5000, 100))
    ex.create_order("b", req(ASK, 5100, 200))
    taker = ex.create_order("c", req(BID, 5100, 500))
    assert [(t.yes_price, t.count) for t in ex.trades] == [(5000, 100), (5100, 200)]
    assert taker.fill_count == 300 and taker.remaining_count == 200 and taker.status is OrderStatus.RESTING
    assert taker.taker_fill_cost == 5000 * 100 + 5100 * 200
    assert ex.best_bid("M") == (5100, 200) and ex.best_ask("M") == (5200, 300)


def test_time_priority_within_a_level_and_queue_position() -> None:
    w = make_world()
    ex = w.ex
    first = ex.create_order("a", req(BID, 4000, 100))
    second = ex.create_order("b", req(BID, 4000, 100))
    assert ex.queue_position("b", second.order_id) == 100
    ex.create_order("c", req(ASK, 4000, 150))
    assert first.status is OrderStatus.EXECUTED
    assert second.fill_count == 50 and second.remaining_count == 50
    assert ex.queue_position("b", second.order_id) == 0


def test_book_deltas_rebuild_exactly_the_book() -> None:
    w = make_world()
    ex = w.ex
    low = ex.create_order("a", req(BID, 4000, 100))
    ex.create_order("a", req(BID, 4100, 100))
    ex.create_order("b", req(ASK, 4300, 250))
    ex.create_order("c", req(ASK, 4000, 130))  # takes all of 41 and 30 of 40
    ex.decrease_order("a", low.order_id, reduce_by=20)
    ex.create_order("c", req(BID, 4300, 50))
    rebuilt: dict[tuple[BookSide, int], int] = {}
    for d in w.of(BookDelta):
        rebuilt[(d.side, d.price)] = rebuilt.get((d.side, d.price), 0) + d.delta
    for side in (BID, ASK):
        assert [(p, c) for (s, p), c in sorted(rebuilt.items()) if s is side and c] == ex.book_levels("M", side)


def test_event_order_for_a_crossing_order() -> None:
    w = make_world()
    ex = w.ex
    maker = ex.create_order("a", req(BID, 5000, 100))
    w.events.clear()
    taker = ex.create_order("b", req(ASK, 5000, 100, IOC))
    kinds = [type(e).__name__ for e in w.events]
    assert kinds == ["OrderChanged", "BookDelta", "TradePrinted", "FillHappened", "FillHappened", "OrderChanged",
                     "OrderChanged", "PositionChanged", "PositionChanged", "TickerChanged"]
    created = w.events[0]
    assert isinstance(created, OrderChanged) and created.order is taker and created.reason is None
    delta = w.events[1]
    assert delta.account_id == "a" and delta.client_order_id == maker.client_order_id and delta.delta == -100
    fills = w.of(FillHappened)
    assert {(f.account_id, f.is_taker, f.post_position) for f in fills} == {("b", True, -100), ("a", False, 100)}
    assert fills[0].fill_id == w.of(TradePrinted)[0].trade_id


# --- time in force -----------------------------------------------------------------------------


def test_ioc_fills_what_it_can_and_cancels_the_rest() -> None:
    w = make_world()
    ex = w.ex
    ex.create_order("a", req(ASK, 6000, 100))
    o = ex.create_order("b", req(BID, 6100, 300, IOC))
    assert (o.fill_count, o.remaining_count, o.status) == (100, 0, OrderStatus.CANCELED)
    assert o.last_update_reason == "TimeInForceCancel"
    assert ex.book_levels("M", BID) == []


def test_fok_without_enough_liquidity_does_nothing() -> None:
    w = make_world()
    ex = w.ex
    ex.create_order("a", req(ASK, 6000, 100))
    ex.create_order("a", req(ASK, 6200, 100))
    o = ex.create_order("b", req(BID, 6100, 150, FOK))  # only 100 within the limit
    assert (o.fill_count, o.status, o.last_update_reason) == (0, OrderStatus.CANCELED, "TimeInForceCancel")
    assert ex.trades == [] and ex.book_levels("M", ASK) == [(6000, 100), (6200, 100)]
    full = ex.create_order("b", req(BID, 6200, 200, FOK))
    assert full.status is OrderStatus.EXECUTED and full.taker_fill_cost == 6000 * 100 + 6200 * 100


def test_fok_does_not_count_its_owners_resting_orders_as_liquidity() -> None:
    w = make_world()
    ex = w.ex
    ex.create_order("a", req(ASK, 6000, 100))
    ex.create_order("b", req(ASK, 6000, 100))
    o = ex.create_order("b", req(BID, 6000, 150, FOK, stp=MAKER))
    assert o.fill_count == 0 and o.status is OrderStatus.CANCELED
    assert ex.book_levels("M", ASK) == [(6000, 200)]  # nothing traded, nobody's order touched


def test_fok_with_maker_stp_cancels_own_orders_on_the_way_and_fills_in_full() -> None:
    w = make_world()
    ex = w.ex
    own = ex.create_order("b", req(ASK, 5900, 100))
    ex.create_order("a", req(ASK, 6000, 200))
    o = ex.create_order("b", req(BID, 6000, 200, FOK, stp=MAKER))
    assert o.status is OrderStatus.EXECUTED and o.taker_fill_cost == 6000 * 200
    assert own.status is OrderStatus.CANCELED and own.last_update_reason == "SelfTradeCancel"


# --- post-only, self-trade prevention, reduce-only ----------------------------------------------


def test_post_only_that_would_take_is_refused_and_one_that_rests_is_accepted() -> None:
    w = make_world()
    ex = w.ex
    ex.create_order("a", req(ASK, 5500, 100))
    err = refused(ex.create_order, "b", req(BID, 5500, 100, post_only=True))
    assert (err.status, err.code, err.message, err.details) == \
        (400, "invalid_order", "invalid order", "post only cross")
    assert ex.book_levels("M", ASK) == [(5500, 100)] and len(ex.orders) == 1
    resting = ex.create_order("b", req(BID, 5400, 100, post_only=True))
    assert resting.status is OrderStatus.RESTING and ex.best_bid("M") == (5400, 100)


def test_stp_taker_at_cross_cancels_the_incoming_order_at_its_own_order_keeping_earlier_fills() -> None:
    w = make_world()
    ex = w.ex
    ex.create_order("b", req(ASK, 5400, 100))
    own = ex.create_order("a", req(ASK, 5500, 100))
    ex.create_order("c", req(ASK, 5600, 100))
    incoming = ex.create_order("a", req(BID, 5600, 300, stp=TAKER_AT_CROSS))
    assert incoming.fill_count == 100 and incoming.status is OrderStatus.CANCELED
    assert incoming.last_update_reason == "SelfTradeCancel"
    assert own.status is OrderStatus.RESTING
    assert ex.book_levels("M", ASK) == [(5500, 100), (5600, 100)]
    assert ex.book_levels("M", BID) == []


def test_stp_maker_cancels_own_resting_orders_and_keeps_matching() -> None:
    w = make_world()
    ex = w.ex
    ex.create_order("b", req(ASK, 5400, 100))
    own = ex.create_order("a", req(ASK, 5500, 100))
    ex.create_order("c", req(ASK, 5600, 100))
    incoming = ex.create_order("a", req(BID, 5600, 300, stp=MAKER))
    assert own.status is OrderStatus.CANCELED and own.last_update_reason == "SelfTradeCancel"
    assert incoming.fill_count == 200 and incoming.remaining_count == 100
    assert [(t.yes_price, t.count) for t in ex.trades] == [(5400, 100), (5600, 100)]
    assert ex.book_levels("M", BID) == [(5600, 100)] and ex.book_levels("M", ASK) == []


def test_reduce_only_needs_ioc_caps_to_the_position_and_never_flips() -> None:
    w = make_world()
    ex = w.ex
    err = refused(ex.create_order, "a", req(BID, 5000, 100, reduce_only=True))
    assert err.code == "invalid_order" and "immediate_or_cancel" in err.details
    nothing = ex.create_order("a", req(BID, 5000, 100, IOC, reduce_only=True))
    assert nothing.status is OrderStatus.CANCELED and nothing.last_update_reason == "ReduceOnlyCancel"
    # a gets long 5 NO, then reduce-only buys YES for 8 while 10 are offered: only 5 trade
    ex.create_order("b", req(BID, 4000, 500))
    ex.create_order("a", req(ASK, 4000, 500, IOC))
    assert ex.accounts["a"].positions["M"].position == -500
    ex.create_order("c", req(ASK, 4200, 1000))
    reducing = ex.create_order("a", req(BID, 4500, 800, IOC, reduce_only=True))
    assert (reducing.fill_count, reducing.initial_count, reducing.status) == (500, 500, OrderStatus.EXECUTED)
    assert ex.accounts["a"].positions["M"].position == 0
    again = ex.create_order("a", req(BID, 4500, 100, IOC, reduce_only=True))
    assert again.fill_count == 0 and again.last_update_reason == "ReduceOnlyCancel"


# --- validation ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("price", "count", "details"), [
    (5550, 100, "price not on grid"),
    (0, 100, "price must be strictly between 0 and 1"),
    (10000, 100, "price must be strictly between 0 and 1"),
    (5000, 0, "count must be greater than 0, got 0"),
])
def test_bad_price_or_count_is_an_invalid_order(price: int, count: int, details: str) -> None:
    ex = make_world().ex
    err = refused(ex.create_order, "a", req(BID, price, count))
    assert (err.status, err.code, err.details) == (400, "invalid_order", details)


def test_deci_cent_grid_accepts_tenth_of_a_cent_prices() -> None:
    ex = make_world(structure="deci_cent").ex
    o = ex.create_order("a", req(BID, parse_price("0.555"), 100))
    assert ex.best_bid("M") == (5550, 100) and o.status is OrderStatus.RESTING
    assert refused(ex.create_order, "a", req(BID, 5555, 100)).details == "price not on grid"


def test_unknown_market_expiration_rules_and_duplicate_client_order_id() -> None:
    w = make_world()
    ex = w.ex
    err = refused(ex.create_order, "a", req(BID, 5000, 100, ticker="NOPE"))
    assert (err.status, err.code) == (404, "market_not_found")
    now_s = w.clock.now_ms() // 1000
    assert refused(ex.create_order, "a", req(BID, 5000, 100, IOC, expiration_time_s=now_s + 60)).code == "invalid_order"
    assert "future" in refused(ex.create_order, "a", req(BID, 5000, 100, expiration_time_s=now_s)).details
    live = ex.create_order("a", req(BID, 5000, 100, client_order_id="mine-1"))
    dup = refused(ex.create_order, "a", req(BID, 4900, 100, client_order_id="mine-1"))
    assert (dup.status, dup.code) == (409, "order_already_exists")
    other_account = ex.create_order("b", req(BID, 4900, 100, client_order_id="mine-1"))
    assert other_account.client_order_id == "mine-1"
    ex.cancel_order("a", live.order_id)
    reused = ex.create_order("a", req(BID, 4800, 100, client_order_id="mine-1"))
    assert ex.order_by_client_id("a", "mine-1") is reused
    generated = ex.create_order("a", req(BID, 4700, 100))
    assert len(generated.client_order_id) == 36


# --- amend, decrease, cancel --------------------------------------------------------------------


def test_decrease_keeps_priority_and_cancel_keeps_the_record() -> None:
    w = make_world()
    ex = w.ex
    first = ex.create_order("a", req(BID, 5000, 300))
    ex.create_order("b", req(BID, 5000, 100))
    order, reduced = ex.decrease_order("a", first.order_id, reduce_to=100)
    assert reduced == 200 and order.remaining_count == 100 and ex.queue_position("a", first.order_id) == 0
    order, reduced = ex.decrease_order("a", first.order_id, reduce_by=40)
    assert reduced == 40 and ex.best_bid("M") == (5000, 160)
    order, reduced = ex.cancel_order("a", first.order_id)
    assert reduced == 60 and order.status is OrderStatus.CANCELED and ex.orders[first.order_id] is order
    assert refused(ex.cancel_order, "a", first.order_id).code == "order_not_resting"
    assert refused(ex.cancel_order, "b", first.order_id).status == 404


def test_amend_price_loses_priority_and_can_cross() -> None:
    w = make_world()
    ex = w.ex
    a1 = ex.create_order("a", req(BID, 5000, 100))
    ex.create_order("b", req(BID, 5000, 100))
    ex.create_order("c", req(ASK, 5300, 100))
    same = ex.amend_order("a", a1.order_id, ticker="M", side=BID, price=5000, count=80)
    assert ex.queue_position("a", a1.order_id) == 0 and same.remaining_count == 80  # smaller keeps priority
    ex.amend_order("a", a1.order_id, ticker="M", side=BID, price=5000, count=150)
    assert ex.queue_position("a", a1.order_id) == 100  # larger goes to the back
    amended = ex.amend_order("a", a1.order_id, ticker="M", side=BID, price=5300, count=150)
    assert amended.fill_count == 100 and amended.remaining_count == 50 and ex.trades[-1].yes_price == 5300
    assert ex.best_bid("M") == (5300, 50)
    # count is the new total including what already filled
    total = ex.amend_order("a", a1.order_id, ticker="M", side=BID, price=5300, count=120)
    assert (total.fill_count, total.remaining_count, total.initial_count) == (100, 20, 120)
    too_small = refused(ex.amend_order, "a", a1.order_id, ticker="M", side=BID, price=5300, count=100)
    assert too_small.code == "invalid_order"
    assert refused(ex.amend_order, "a", a1.order_id, ticker="M", side=ASK, price=5300, count=130).code == \
        "order_side_mismatch"


def test_cancel_all_cancels_only_the_callers_orders() -> None:
    w = make_world()
    ex = w.ex
    mine = [ex.create_order("a", req(BID, 4000 + i * 100, 100)) for i in range(3)]
    theirs = ex.create_order("b", req(ASK, 6000, 100))
    cancelled = ex.cancel_all("a")
    assert {o.order_id for o in cancelled} == {o.order_id for o in mine}
    assert all(o.status is OrderStatus.CANCELED for o in mine) and theirs.status is OrderStatus.RESTING
    assert ex.book_levels("M", BID) == [] and ex.accounts["a"].reserved == 0


def test_fractional_count_trades_exactly() -> None:
    w = make_world()
    ex = w.ex
    ex.create_order("a", req(BID, parse_price("0.56"), contracts("0.37")))
    o = ex.create_order("b", req(ASK, parse_price("0.56"), contracts("1.00")))
    assert o.fill_count == 37 and ex.best_ask("M") == (5600, 63)
    # taker fee 0.07 x 0.37 x 0.56 x 0.44 = $0.00638176 -> rounded up to $0.0064
    assert o.taker_fees == dollars("0.0064")
    assert ex.accounts["b"].balance == dollars("1000") - 4400 * 37 - dollars("0.0064")
