"""The exchange core's money and time: fees, balances, netting, collateral, order groups, expiry,
lifecycle and settlement, pauses, candles, determinism, and a property test that money is conserved."""

from __future__ import annotations

import random
from fractions import Fraction

from exchange_helpers import ASK, BID, FOK, GTC, IOC, MAKER, START_MS, TAKER_AT_CROSS, make_world, refused, req
from hypothesis import given, settings
from hypothesis import strategies as st

from console.domain.fees import FeeType
from console.domain.units import PAYOUT_PER_COUNT_UNIT, contracts, dollars, parse_price
from console.sim.events import BookSide, EventLifecycle, MarketLifecycle, OrderGroupChanged
from console.sim.model import ExchangeError, MarketStatus, OrderStatus

THOUSAND = dollars("1000")


# --- fees and balances ----------------------------------------------------------------------------


def test_taker_and_maker_fees_to_the_micro_dollar_with_maker_fees() -> None:
    w = make_world(fee_type=FeeType.QUADRATIC_WITH_MAKER_FEES)
    ex = w.ex
    maker = ex.create_order("a", req(BID, parse_price("0.50"), contracts(10)))
    taker = ex.create_order("b", req(ASK, parse_price("0.50"), contracts(10), IOC))
    # taker 0.07 x 10 x 0.25 = $0.175; maker 0.0175 x 10 x 0.25 = $0.04375 -> rounded up to $0.0438
    assert taker.taker_fees == dollars("0.175") and maker.maker_fees == dollars("0.0438")
    assert ex.accounts["b"].balance == THOUSAND - dollars("5") - dollars("0.175")
    assert ex.accounts["a"].balance == THOUSAND - dollars("5") - dollars("0.0438")
    assert ex.accounts["a"].positions["M"].fees_paid == dollars("0.0438")
    assert [f.fee for f in ex.fills] == [dollars("0.175"), dollars("0.0438")]


def test_quadratic_series_charges_no_maker_fee_and_event_override_changes_the_multiplier() -> None:
    w = make_world(fee_type=FeeType.QUADRATIC)
    ex = w.ex
    ex.events["KXS-E"].fee_multiplier_override = "0.5"
    maker = ex.create_order("a", req(BID, 5000, 1000))
    taker = ex.create_order("b", req(ASK, 5000, 1000))
    assert maker.maker_fees == 0
    assert taker.taker_fees == dollars("0.0875")  # 0.07 x 0.5 x 10 x 0.25


def test_sub_pip_cash_is_floored_to_the_member_precision_and_counted_as_fee() -> None:
    w = make_world(structure="center_deci_edge_centi_cent")
    ex = w.ex
    ex.create_order("a", req(BID, 57, 37))  # $0.0057 x 0.37
    taker = ex.create_order("b", req(ASK, 57, 37, IOC))
    # b pays NO $0.9943 x 0.37 = $0.367891 plus a $0.0002 trade fee; -0.368091 floors to -0.3681
    assert ex.accounts["b"].balance == THOUSAND - dollars("0.3681")
    assert taker.taker_fees == dollars("0.000209")  # trade fee 0.0002 + rounding 0.000009
    # a pays $0.002109 with no maker fee; -0.002109 floors to -0.0022
    assert ex.accounts["a"].balance == THOUSAND - dollars("0.0022")
    assert ex.accounts["a"].positions["M"].fees_paid == dollars("0.000091")


def test_no_side_position_and_cost() -> None:
    w = make_world()
    ex = w.ex
    ex.create_order("a", req(BID, 3000, 500))
    ex.create_order("b", req(ASK, 3000, 500, IOC))  # b buys 5 NO at $0.70
    pos = ex.accounts["b"].positions["M"]
    assert (pos.position, pos.position_cost, pos.volume) == (-500, dollars("3.50"), 500)
    assert ex.markets["M"].open_interest == 500 and ex.markets["M"].last_price == 3000


def test_netting_pays_a_dollar_per_pair_and_realizes_pnl() -> None:
    w = make_world()
    ex = w.ex
    ex.create_order("a", req(BID, 4000, contracts(10)))
    ex.create_order("b", req(ASK, 4000, contracts(10), IOC))  # a long 10 YES at $0.40
    ex.create_order("c", req(BID, 5500, contracts(4)))
    sell = ex.create_order("a", req(ASK, 5500, contracts(4), IOC))  # a buys 4 NO at $0.45: nets 4 pairs
    pos = ex.accounts["a"].positions["M"]
    assert pos.position == contracts(6) and pos.position_cost == dollars("2.40")
    assert pos.realized_pnl == dollars("0.60")  # $4 payout - 4 x $0.40 - 4 x $0.45
    assert sell.taker_fees == dollars("0.0693")
    assert ex.accounts["a"].balance == THOUSAND - dollars("4") - dollars("1.80") - dollars("0.0693") + dollars("4")
    assert ex.markets["M"].open_interest == contracts(10)  # b 10 NO = a 6 YES + c 4 YES


# --- collateral ------------------------------------------------------------------------------------


def test_collateral_is_reserved_released_and_refused_when_short() -> None:
    w = make_world(accounts=("poor", "b", "c"))
    ex = w.ex
    ex.fund("poor", -dollars("995"))  # $5 left
    ex.create_order("poor", req(BID, 5000, contracts(10)))
    assert ex.accounts["poor"].reserved == dollars("5") and ex.accounts["poor"].available == 0
    err = refused(ex.create_order, "poor", req(BID, 100, 1))
    assert (err.status, err.code) == (400, "insufficient_balance")
    ex.create_order("b", req(ASK, 5000, contracts(4), IOC))
    assert ex.accounts["poor"].reserved == dollars("3") and ex.accounts["poor"].balance == dollars("3")
    ex.create_order("b", req(ASK, 5000, contracts(6), IOC))
    assert ex.accounts["poor"].reserved == 0 and ex.accounts["poor"].balance == 0
    # closing the 10 YES needs no cash; opening even 1 NO beyond it does
    assert refused(ex.create_order, "poor", req(ASK, 6000, contracts(11))).code == "insufficient_balance"
    closing = ex.create_order("poor", req(ASK, 6000, contracts(10)))
    assert ex.accounts["poor"].reserved == 0
    assert refused(ex.create_order, "poor", req(ASK, 6000, contracts(1))).code == "insufficient_balance"
    ex.create_order("c", req(BID, 6000, contracts(10), IOC))
    assert closing.status is OrderStatus.EXECUTED
    assert ex.accounts["poor"].balance == dollars("6")  # $10 payout - 10 x $0.40 for the NO legs
    assert ex.accounts["poor"].positions["M"].realized_pnl == dollars("1")


# --- order groups --------------------------------------------------------------------------------


def test_order_group_triggers_within_15_seconds_and_refuses_until_reset() -> None:
    w = make_world()
    ex = w.ex
    group = ex.create_order_group("a", contracts(10))
    gid = group.order_group_id
    ex.create_order("a", req(BID, 5000, contracts(6), order_group_id=gid))
    ex.create_order("b", req(ASK, 5000, contracts(6), IOC))
    w.clock.advance(5_000)
    parked = ex.create_order("a", req(BID, 4000, contracts(2), order_group_id=gid))
    ex.create_order("a", req(BID, 5000, contracts(4), order_group_id=gid))
    ex.create_order("b", req(ASK, 5000, contracts(4), IOC))
    assert group.triggered
    assert parked.status is OrderStatus.CANCELED and parked.last_update_reason == "OrderGroupCancel"
    assert [e.event_type for e in w.of(OrderGroupChanged)] == ["created", "triggered"]
    err = refused(ex.create_order, "a", req(BID, 4000, 100, order_group_id=gid))
    assert (err.status, err.code) == (400, "order_group_triggered")
    ex.reset_order_group("a", gid)
    assert ex.create_order("a", req(BID, 4000, 100, order_group_id=gid)).status is OrderStatus.RESTING
    assert refused(ex.trigger_order_group, "b", gid).code == "order_group_not_found"


def test_order_group_window_rolls_after_15_seconds() -> None:
    w = make_world()
    ex = w.ex
    group = ex.create_order_group("a", contracts(10))
    for _ in range(3):
        ex.create_order("a", req(BID, 5000, contracts(6), order_group_id=group.order_group_id))
        ex.create_order("b", req(ASK, 5000, contracts(6), IOC))
        assert not group.triggered
        w.clock.advance(15_001)
    assert ex.group_matched_in_window(group.order_group_id) == 0


def test_order_group_lower_limit_triggers_and_delete_cancels() -> None:
    w = make_world()
    ex = w.ex
    group = ex.create_order_group("a", contracts(10))
    gid = group.order_group_id
    ex.create_order("a", req(BID, 5000, contracts(3), order_group_id=gid))
    ex.create_order("b", req(ASK, 5000, contracts(3), IOC))
    resting = ex.create_order("a", req(BID, 4000, contracts(1), order_group_id=gid))
    ex.update_order_group_limit("a", gid, contracts(3))
    assert group.triggered and resting.status is OrderStatus.CANCELED
    ex.reset_order_group("a", gid)
    other = ex.create_order("a", req(BID, 4000, contracts(1), order_group_id=gid))
    ex.delete_order_group("a", gid)
    assert other.status is OrderStatus.CANCELED and gid not in ex.order_groups
    assert refused(ex.create_order, "a", req(BID, 4000, 100, order_group_id=gid)).status == 404


# --- expiry, pauses, lifecycle, settlement ------------------------------------------------------------


def test_gtc_order_expires_at_its_expiration_time() -> None:
    w = make_world()
    ex = w.ex
    now_s = w.clock.now_ms() // 1000
    o = ex.create_order("a", req(BID, 5000, 100, GTC, expiration_time_s=now_s + 10))
    w.clock.advance(9_999)
    ex.tick()
    assert o.status is OrderStatus.RESTING
    w.clock.advance(1)
    ex.tick()
    assert o.status is OrderStatus.CANCELED and o.last_update_reason == "ExpiryCancel"
    assert ex.book_levels("M", BID) == [] and ex.accounts["a"].reserved == 0


def test_pauses_block_the_right_actions_and_cancel_on_pause_orders() -> None:
    w = make_world()
    ex = w.ex
    keep = ex.create_order("a", req(BID, 4000, 100))
    fragile = ex.create_order("a", req(BID, 4100, 100, cancel_order_on_pause=True))
    ex.set_trading_paused(True)
    assert fragile.status is OrderStatus.CANCELED and fragile.last_update_reason == "HaltCancel"
    assert keep.status is OrderStatus.RESTING
    assert refused(ex.create_order, "a", req(BID, 4000, 100)).code == "trading_paused"
    assert refused(ex.amend_order, "a", keep.order_id, ticker="M", side=BID, price=4200, count=100).code == \
        "trading_paused"
    ex.set_trading_paused(False)
    again = ex.create_order("a", req(BID, 4100, 100))
    ex.cancel_order("a", again.order_id)  # allowed while trading is paused too
    ex.set_exchange_paused(True)
    err = refused(ex.cancel_order, "a", keep.order_id)
    assert (err.status, err.code) == (503, "exchange_paused")
    ex.set_exchange_paused(False)
    assert ex.cancel_order("a", keep.order_id)[1] == 100


def test_market_opens_closes_and_refuses_orders_by_status() -> None:
    w = make_world(open_offset_ms=10_000, close_offset_ms=60_000)
    ex = w.ex
    assert ex.markets["M"].status is MarketStatus.INITIALIZED
    assert refused(ex.create_order, "a", req(BID, 5000, 100)).code == "market_not_open"
    w.clock.advance(10_000)
    o = ex.create_order("a", req(BID, 5000, 100))
    assert ex.markets["M"].status is MarketStatus.ACTIVE
    w.clock.advance(50_000)
    ex.tick()
    assert ex.markets["M"].status is MarketStatus.CLOSED
    assert o.status is OrderStatus.CANCELED and o.last_update_reason == "CloseCancel"
    assert refused(ex.create_order, "a", req(BID, 5000, 100)).code == "market_closed"


def test_deactivate_keeps_orders_and_reactivation_cancels_them() -> None:
    w = make_world()
    ex = w.ex
    o = ex.create_order("a", req(BID, 5000, 100))
    ex.deactivate_market("M")
    assert refused(ex.create_order, "a", req(BID, 5000, 100)).code == "market_inactive"
    assert o.status is OrderStatus.RESTING
    ex.activate_market("M")
    assert o.status is OrderStatus.CANCELED and o.last_update_reason == "HaltCancel"
    changes = [(e.event_type, e.fields) for e in w.of(MarketLifecycle)][1:]
    assert changes == [("deactivated", {"is_deactivated": True}), ("activated", {"is_deactivated": False})]


def test_settlement_pays_winners_a_dollar_per_contract_and_losers_nothing() -> None:
    w = make_world(settlement_timer_seconds=30)
    ex = w.ex
    ex.create_order("a", req(BID, 3000, contracts(10)))
    ex.create_order("b", req(ASK, 3000, contracts(10), IOC))  # a 10 YES at $0.30, b 10 NO at $0.70
    ex.create_order("c", req(BID, 2000, 100))  # resting when the market closes
    ex.determine_market("M", "yes")
    assert ex.markets["M"].status is MarketStatus.DETERMINED
    determined = w.of(MarketLifecycle)[-1]
    assert determined.event_type == "determined"
    assert determined.fields == {"determination_ts": START_MS // 1000, "result": "yes", "settlement_value": "1.0000"}
    w.clock.advance(29_999)
    ex.tick()
    assert ex.markets["M"].status is MarketStatus.DETERMINED
    w.clock.advance(1)
    ex.tick()
    assert ex.markets["M"].status is MarketStatus.FINALIZED
    assert ex.accounts["a"].balance == THOUSAND - dollars("3") + dollars("10")
    assert ex.accounts["b"].balance == THOUSAND - dollars("7") - dollars("0.147")
    assert ex.accounts["c"].balance == THOUSAND and ex.accounts["c"].reserved == 0
    by_account = {s.account_id: s for s in ex.settlements}
    assert set(by_account) == {"a", "b"}
    assert (by_account["a"].revenue, by_account["a"].yes_count, by_account["a"].yes_total_cost) == \
        (dollars("10"), contracts(10), dollars("3"))
    assert (by_account["b"].revenue, by_account["b"].no_count, by_account["b"].fee_cost) == \
        (0, contracts(10), dollars("0.147"))
    assert ex.accounts["a"].positions["M"].realized_pnl == dollars("7")
    assert ex.markets["M"].open_interest == 0
    assert w.of(MarketLifecycle)[-1].event_type == "settled"
    assert refused(ex.settle_market, "M").code == "market_not_determined"


def test_scalar_settlement_value_splits_the_dollar() -> None:
    w = make_world()
    ex = w.ex
    ex.create_order("a", req(BID, 5000, 100))
    ex.create_order("b", req(ASK, 5000, 100, IOC))
    ex.determine_market("M", "scalar", settlement_value=2500)
    ex.settle_market("M")
    assert ex.accounts["a"].balance == THOUSAND - 500_000 + 250_000
    assert ex.accounts["b"].balance == THOUSAND - 500_000 - dollars("0.0175") + 750_000


def test_created_lifecycle_events_carry_kalshi_fields() -> None:
    w = make_world()
    event = w.of(EventLifecycle)[0]
    assert event.event_ticker == "KXS-E" and event.fields["series_ticker"] == "KXS"
    created = w.of(MarketLifecycle)[0]
    assert created.event_type == "created" and created.ticker == "M"
    assert created.fields["open_ts"] == (START_MS - 60_000) // 1000
    assert created.fields["price_ranges"] == [{"start": "0.0000", "end": "1.0000", "step": "0.0100"}]
    assert created.fields["additional_metadata"]["event_ticker"] == "KXS-E"


# --- candles, determinism ------------------------------------------------------------------------


def test_candles_from_the_trade_tape() -> None:
    w = make_world()
    ex = w.ex
    start_s = START_MS // 1000  # a whole minute
    w.clock.advance(10_000)
    ex.create_order("a", req(BID, 5000, 100))
    ex.create_order("b", req(ASK, 5000, 100, IOC))
    w.clock.advance(10_000)
    ex.create_order("a", req(BID, 5500, 200))
    ex.create_order("c", req(ASK, 5500, 200, IOC))
    ex.create_order("a", req(BID, 5200, 100))  # the bid at the period's end
    w.clock.advance(50_000)
    ex.create_order("c", req(ASK, 4500, 100, IOC))  # meets a's resting bid at 0.52
    empty, first, second = ex.candles("M", start_s, start_s + 120, 1)
    assert empty.end_period_ts == start_s and empty.volume == 0 and empty.price["close"] is None
    assert first.end_period_ts == start_s + 60
    assert {k: first.price[k] for k in ("open", "low", "high", "close", "previous")} == \
        {"open": 5000, "low": 5000, "high": 5500, "close": 5500, "previous": None}
    assert first.price["mean"] == Fraction(5000 * 100 + 5500 * 200, 300)
    assert (first.volume, first.open_interest) == (300, 300)
    assert first.yes_bid is not None and first.yes_bid[3] == 5200
    assert (second.price["open"], second.price["previous"], second.volume, second.open_interest) == \
        (5200, 5500, 100, 400)


def _run_script(seed: int) -> list[str]:
    w = make_world(seed=seed)
    ex = w.ex
    ids = []
    for i in range(5):
        ids.append(ex.create_order("a", req(BID, 4000 + 100 * i, 100)).order_id)
        ids.append(ex.create_order("b", req(ASK, 4000 + 100 * i, 50, IOC)).order_id)
    return ids + [t.trade_id for t in ex.trades]


def test_same_seed_same_ids() -> None:
    assert _run_script(0) == _run_script(0)
    assert _run_script(0) != _run_script(1)


# --- property: money is never created and the book is never crossed --------------------------------

_PRICES = list(range(3000, 7001, 500))
_ACCOUNTS = ("a", "b", "c")
_START_BALANCE = dollars("25")

def _random_ops(seed: int, n: int) -> list[tuple]:
    """A random order flow: mostly creates near the middle of the book (some reduce-only, some in an
    order group), amends, decreases, cancels, group resets and clock jumps. Drawn from a seeded
    Random so every example trades a lot (hypothesis's own draws lean towards minimal values, which
    rarely cross)."""
    rng = random.Random(seed)
    ops: list[tuple] = []
    for _ in range(n):
        kind = rng.choices(["create", "amend", "decrease", "cancel", "advance", "reset"], [10, 3, 1, 2, 1, 1])[0]
        if kind == "create":
            tif = rng.choice([GTC, GTC, IOC, FOK])
            ops.append(("create", rng.choice(_ACCOUNTS), rng.choice([BID, ASK]), rng.choice(_PRICES),
                        rng.randint(1, 1500), tif, rng.choice([TAKER_AT_CROSS, MAKER]),
                        tif is GTC and rng.random() < 0.1, tif is IOC and rng.random() < 0.3,
                        rng.random() < 0.2))
        elif kind == "amend":
            ops.append(("amend", rng.randrange(1000), rng.choice(_PRICES), rng.randint(1, 2500)))
        elif kind == "decrease":
            ops.append(("decrease", rng.randrange(1000), rng.randint(1, 800)))
        elif kind == "cancel":
            ops.append(("cancel", rng.randrange(1000)))
        elif kind == "reset":
            ops.append(("reset",))
        else:
            ops.append(("advance", rng.randint(0, 20_000)))
    return ops


def _expected_reserved(acc, orders) -> int:  # noqa: ANN001
    """The collateral rule written out plainly: opposite position nets oldest orders first, the rest
    is reserved at the limit price."""
    held = acc.positions["M"].position if "M" in acc.positions else 0
    closable = {BookSide.BID: max(-held, 0), BookSide.ASK: max(held, 0)}
    total = 0
    for o in sorted(orders, key=lambda o: (not o.reduce_only, o.sequence)):
        closing = min(o.remaining_count, closable[o.side])
        closable[o.side] -= closing
        unit = o.price if o.side is BookSide.BID else 10_000 - o.price
        total += (o.remaining_count - closing) * unit
    return total


def _check_invariants(ex, fees_type_total_initial: int) -> None:  # noqa: ANN001
    book = ex.book("M")
    assert not book.is_crossed()
    positions = [acc.positions["M"].position for acc in ex.accounts.values() if "M" in acc.positions]
    assert sum(positions) == 0  # every YES contract has a NO contract on the other side
    open_pairs = sum(p for p in positions if p > 0)
    assert ex.markets["M"].open_interest == open_pairs
    fees = sum(acc.positions["M"].fees_paid for acc in ex.accounts.values() if "M" in acc.positions)
    cash = sum(acc.balance for acc in ex.accounts.values())
    assert cash + PAYOUT_PER_COUNT_UNIT * open_pairs == fees_type_total_initial - fees
    live = ex.live_orders(ticker="M")
    for side in (BookSide.BID, BookSide.ASK):
        expected: dict[int, int] = {}
        for o in live:
            if o.side is side:
                expected[o.price] = expected.get(o.price, 0) + o.remaining_count
        assert ex.book_levels("M", side) == sorted(expected.items())
    for acc in ex.accounts.values():
        mine = [o for o in live if o.account_id == acc.account_id]
        assert acc.reserved == sum(o.reserved for o in mine) == _expected_reserved(acc, mine)
        pos = acc.positions.get("M")
        fees_paid = pos.fees_paid if pos else 0
        assert acc.balance >= -fees_paid  # collateral kept every purchase paid for; only fees can overdraw
        # the account's books add up: cash = start + realized P&L - cost of what it holds - fees
        if pos is not None:
            assert acc.balance == _START_BALANCE + pos.realized_pnl - pos.position_cost - pos.fees_paid


@settings(max_examples=150, deadline=None)
@given(seed=st.integers(0, 2**32), n=st.integers(1, 120), result=st.sampled_from(["yes", "no"]))
def test_random_order_flow_conserves_money_and_never_crosses_the_book(seed: int, n: int, result: str) -> None:
    w = make_world(fee_type=FeeType.QUADRATIC_WITH_MAKER_FEES, accounts=_ACCOUNTS, balance=_START_BALANCE)
    ex = w.ex
    initial = _START_BALANCE * len(_ACCOUNTS)
    groups = {acct: ex.create_order_group(acct, contracts(8)).order_group_id for acct in _ACCOUNTS}
    for op in _random_ops(seed, n):
        live = ex.live_orders(ticker="M")
        target = live[op[1] % len(live)] if op[0] in ("amend", "decrease", "cancel") and live else None
        try:
            if op[0] == "create":
                _, acct, side, price, count, tif, stp, post_only, reduce_only, grouped = op
                ex.create_order(acct, req(side, price, count, tif, stp=stp, post_only=post_only,
                                          reduce_only=reduce_only, order_group_id=groups[acct] if grouped else None))
            elif op[0] == "amend" and target is not None:
                ex.amend_order(target.account_id, target.order_id, ticker="M", side=target.side, price=op[2],
                               count=target.fill_count + op[3])
            elif op[0] == "decrease" and target is not None:
                ex.decrease_order(target.account_id, target.order_id, reduce_by=op[2])
            elif op[0] == "cancel" and target is not None:
                ex.cancel_order(target.account_id, target.order_id)
            elif op[0] == "reset":
                for acct, gid in groups.items():
                    ex.reset_order_group(acct, gid)
            elif op[0] == "advance":
                w.clock.advance(op[1])
                ex.tick()
        except ExchangeError as exc:
            assert exc.code in {"insufficient_balance", "invalid_order", "order_group_triggered"}, exc
        _check_invariants(ex, initial)
    ex.determine_market("M", result)
    ex.settle_market("M")
    fees = sum(acc.positions["M"].fees_paid for acc in ex.accounts.values() if "M" in acc.positions)
    assert sum(acc.balance for acc in ex.accounts.values()) == initial - fees
    assert all(acc.reserved == 0 for acc in ex.accounts.values())
    assert all(p.position == 0 for acc in ex.accounts.values() for p in acc.positions.values())
    for acc in ex.accounts.values():
        if "M" in acc.positions:
            pos = acc.positions["M"]
            assert acc.balance == _START_BALANCE + pos.realized_pnl - pos.fees_paid
