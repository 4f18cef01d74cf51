"""Portfolio: hand-worked positions on both sides (netting, flips, settlement), marks at the executable
side, exposure groups, mutually exclusive worst cases, flatten quotes walking real books; property
tests against a unit-by-unit brute-force recomputation."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from console.domain.book import Book
from console.domain.fees import FeeType, KalshiFees
from console.domain.grid import PriceGrid
from console.domain.orders import Fill
from console.domain.portfolio import (
    FlattenQuote,
    MarketInfo,
    Portfolio,
    Position,
    event_outcome_pnls,
    flatten_quote,
)
from console.domain.side import Side
from console.domain.units import dollars

GRID = PriceGrid.for_structure("linear_cent")
TAKER = KalshiFees(FeeType.QUADRATIC, Fraction(1))
_n = iter(range(10**9))


def f(ticker: str, side: Side, yes_price: int, count: int, fee: int = 0) -> Fill:
    return Fill(f"f{next(_n)}", "o", ticker, side, yes_price, count, fee)


def book(bids=(), asks=()) -> Book:
    b = Book(GRID, "T")
    b.apply_snapshot(bids, asks)
    return b


def test_long_yes_cost_mark_and_partial_close() -> None:
    pf = Portfolio([MarketInfo("A", "E")])
    pf.apply_fill(f("A", Side.BID, 4000, 1000, fee=168_000))  # buy 10 YES at $0.40
    pos = pf.positions["A"]
    assert (pos.position, pos.cost_basis, pos.average_price, pos.fees) == (1000, dollars("4"), 4000, 168_000)
    top = book(bids=[(4500, 100)], asks=[(4700, 100)])
    assert pos.mark_value(top) == dollars("4.50")  # marks at the YES bid, not the mid
    assert pf.unrealized({"A": top}) == dollars("0.50")
    pf.apply_fill(f("A", Side.ASK, 5000, 400))  # sell 4 YES at $0.50
    assert (pos.position, pos.realized, pos.cost_basis) == (600, dollars("0.40"), dollars("2.40"))
    assert pf.net_pnl({"A": top}) == dollars("0.40") + (4500 * 600 - dollars("2.40")) - 168_000


def test_long_no_marks_at_one_minus_yes_ask_and_closes_by_buying_yes() -> None:
    pf = Portfolio([MarketInfo("A", "E")])
    pf.apply_fill(f("A", Side.ASK, 7000, 1000))  # buy 10 NO at $0.30 = YES-scale ask fill at 0.70
    pos = pf.positions["A"]
    assert (pos.position, pos.outcome, pos.cost_basis) == (-1000, "no", dollars("3"))
    top = book(bids=[(6600, 50)], asks=[(6800, 50)])
    assert pos.mark_value(top) == dollars("3.20")  # the NO bid is 1 - 0.68 = 0.32
    assert pos.unrealized(top) == dollars("0.20")
    pf.apply_fill(f("A", Side.BID, 6500, 400))  # buy 4 YES at 0.65 = sell 4 NO at 0.35
    assert (pos.position, pos.realized, pos.cost_basis) == (-600, dollars("0.20"), dollars("1.80"))


def test_netting_flip_from_yes_to_no() -> None:
    pos = Position("A")
    pos.apply_fill(Side.BID, 4000, 500)  # long 5 YES at 0.40
    realized = pos.apply_fill(Side.ASK, 3000, 800)  # buy 8 NO at 0.70: sells 5 YES at 0.30, then 3 NO
    assert realized == -dollars("0.50")  # (0.30 - 0.40) x 5: holding YES+NO paid 1.10 for $1
    assert (pos.position, pos.cost_basis, list(map(list, pos.lots))) == (-300, dollars("2.10"), [[7000, 300]])


def test_settlement_pays_winners_and_zeroes_the_position() -> None:
    pos = Position("A")
    pos.apply_fill(Side.ASK, 3000, 300)  # long 3 NO at 0.70
    assert pos.settle(0) == dollars("0.90")  # NO won: $1 each, paid 0.70
    assert (pos.position, pos.cost_basis, pos.settled) == (0, 0, True)
    loser = Position("B")
    loser.apply_fill(Side.BID, 2500, 200)
    assert loser.settle(0) == -dollars("0.50")


def test_empty_executable_side_marks_at_zero() -> None:
    pos = Position("A")
    pos.apply_fill(Side.BID, 4000, 100)
    assert pos.mark_value(book(asks=[(4100, 10)])) == 0  # no bid to sell into
    assert pos.mark_value(None) == 0


def test_duplicate_fill_counted_once() -> None:
    pf = Portfolio()
    fill = f("A", Side.BID, 4000, 100, fee=10)
    assert pf.apply_fill(fill) and not pf.apply_fill(fill)
    assert pf.signed("A") == 100 and pf.fees == 10


def test_restate_keeps_the_venue_cost_exact() -> None:
    pos = Position("A")
    pos.restate(-300, 1_000_001)  # not divisible by 300: two lots, same total
    assert pos.position == -300 and pos.cost_basis == 1_000_001
    with pytest.raises(ValueError, match="cannot be negative"):
        pos.restate(100, -5)


def test_exposure_groups_and_capital_locked_by_close_time() -> None:
    pf = Portfolio([MarketInfo("SEN-A", "SEN", "politics", True, close_ts=300),
                    MarketInfo("SEN-B", "SEN", "politics", True, close_ts=300),
                    MarketInfo("CPI-1", "CPI", "economics", close_ts=100)])
    pf.apply_fill(f("SEN-A", Side.BID, 5000, 1000))
    pf.apply_fill(f("SEN-B", Side.ASK, 7000, 1000))  # NO at 0.30
    pf.apply_fill(f("CPI-1", Side.BID, 2000, 500))
    assert pf.exposure_by_event() == {"SEN": dollars("8"), "CPI": dollars("1")}
    assert pf.exposure_by_category() == {"politics": dollars("8"), "economics": dollars("1")}
    assert pf.total_exposure == dollars("9")
    assert [(r.ticker, r.amount) for r in pf.capital_locked()] == [
        ("CPI-1", dollars("1")), ("SEN-A", dollars("5")), ("SEN-B", dollars("3"))]


def test_mutually_exclusive_worst_case_hand_worked() -> None:
    pf = Portfolio([MarketInfo(t, "E", "x", True) for t in ("A", "B", "C")])
    pf.apply_fill(f("A", Side.BID, 5000, 1000))  # YES A at 0.50: $5
    pf.apply_fill(f("B", Side.BID, 3000, 1000))  # YES B at 0.30: $3
    pf.apply_fill(f("C", Side.ASK, 2000, 1000))  # NO C at 0.80: $8
    pnls = event_outcome_pnls(pf.holdings("ABC"), "ABC")
    # A wins: A $10 + C(NO) $10 - 16 = +4; B wins: +4; C wins: nothing pays, -16
    assert pnls == {"A": dollars("4"), "B": dollars("4"), "C": -dollars("16")}
    assert pf.event_worst_case("E") == -dollars("16")
    independent = Portfolio([MarketInfo("X", "F"), MarketInfo("Y", "F")])
    independent.apply_fill(f("X", Side.BID, 5000, 1000))
    independent.apply_fill(f("Y", Side.BID, 3000, 1000))
    assert independent.event_worst_case("F") == -dollars("8")


def test_hedged_mutually_exclusive_event_has_small_worst_case() -> None:
    pf = Portfolio([MarketInfo(t, "E", "x", True) for t in ("A", "B")])
    pf.apply_fill(f("A", Side.BID, 4500, 1000))
    pf.apply_fill(f("B", Side.BID, 5000, 1000))  # both sides of a two-way race: $9.50 for a sure $10
    assert pf.event_worst_case("E") == dollars("0.50")


def test_flatten_quote_long_yes_walks_bids_with_fees() -> None:
    pos = Position("A")
    pos.apply_fill(Side.BID, 4000, 1000)
    q = flatten_quote(pos, book(bids=[(4500, 600), (4400, 200), (4000, 100)], asks=[(4600, 10)]), TAKER)
    # fees per level, rounded up to $0.0001: 0.10395 -> 0.1040, 0.034496 -> 0.0345, 0.0168
    assert q == FlattenQuote("A", 1000, closable=900, left=100, gross_proceeds=3_980_000, fees=155_300,
                             realized=224_700, cost=225_300, limit_yes_price=4000)


def test_flatten_quote_long_no_walks_asks() -> None:
    pos = Position("A")
    pos.apply_fill(Side.ASK, 7000, 500)  # long 5 NO at 0.30
    q = flatten_quote(pos, book(bids=[(6000, 5)], asks=[(6800, 300), (6900, 500)]), TAKER)
    # sell NO at 0.32 x 3 and 0.31 x 2
    assert (q.closable, q.left, q.gross_proceeds, q.limit_yes_price) == (500, 0, 3200 * 300 + 3100 * 200, 6900)
    assert q.realized == q.gross_proceeds - q.fees - dollars("1.50")


def test_cost_to_flatten_totals_and_reports_what_is_left() -> None:
    pf = Portfolio([MarketInfo("A", "E"), MarketInfo("B", "E")])
    pf.apply_fill(f("A", Side.BID, 4000, 1000))
    pf.apply_fill(f("B", Side.ASK, 7000, 200))
    cost, left = pf.cost_to_flatten({"A": book(bids=[(4000, 400)])})  # B has no book at all
    assert left == 600 + 200
    assert cost == TAKER.trade_fee(4000, 400, maker=False)


# --- properties -----------------------------------------------------------------------------------

fills_st = st.lists(st.tuples(st.sampled_from([Side.BID, Side.ASK]), st.integers(1, 99).map(lambda c: c * 100),
                              st.integers(1, 400), st.integers(0, 5000)), max_size=40)


def brute_force(fills) -> tuple[int, int, int, int]:
    """Unit by unit: a list of held units, each with its own-scale price; closes pop the oldest."""
    held: list[int] = []
    sign = 0
    realized = fees = 0
    for side, yes_price, count, fee in fills:
        direction = 1 if side is Side.BID else -1
        own = yes_price if direction == 1 else 10000 - yes_price
        fees += fee
        for _ in range(count):
            if held and sign != direction:
                realized += (10000 - own) - held.pop(0)
            else:
                held.append(own)
                sign = direction
        if not held:
            sign = 0
    return sign * len(held), sum(held), realized, fees


@settings(max_examples=300, deadline=None)
@given(fills_st)
def test_positions_equal_brute_force(fills) -> None:
    pf = Portfolio()
    for side, price, count, fee in fills:
        pf.apply_fill(f("A", side, price, count, fee))
    pos = pf.position("A")
    assert (pos.position, pos.cost_basis, pos.realized, pos.fees) == brute_force(fills)


@settings(max_examples=200, deadline=None)
@given(fills_st, st.sampled_from([0, 10000]))
def test_settlement_conserves_money(fills, yes_value) -> None:
    """Cash paid in and out through fills, plus the payout, equals realized P&L after settlement."""
    pos = Position("A")
    cash = 0
    for side, price, count, _ in fills:
        pos.apply_fill(side, price, count)
        cash -= (price if side is Side.BID else 10000 - price) * count  # every fill buys an outcome
    # netting: each YES+NO pair is redeemed for $1 at once; the rest pays at settlement
    yes = sum(c for s, _, c, _ in fills if s is Side.BID)
    no = sum(c for s, _, c, _ in fills if s is Side.ASK)
    pairs = min(yes, no)
    held_yes, held_no = yes - pairs, no - pairs
    payout = pairs * 10000 + held_yes * yes_value + held_no * (10000 - yes_value)
    pos.settle(yes_value)
    assert pos.realized == cash + payout


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([Side.BID, Side.ASK]), st.integers(1, 99), st.integers(1, 20)),
                min_size=1, max_size=5), st.data())
def test_event_outcomes_equal_settling_every_market(legs, data) -> None:
    tickers = [f"M{i}" for i in range(len(legs))]
    positions = {}
    for t, (side, cents, n) in zip(tickers, legs, strict=True):
        positions[t] = Position(t)
        positions[t].apply_fill(side, cents * 100, n * 100)
    holdings = {t: (p.position, p.cost_basis) for t, p in positions.items()}
    pnls = event_outcome_pnls(holdings, tickers, include_none=True)
    for winner in tickers + [None]:
        total = 0
        for t, p in positions.items():
            copy = Position(t)
            copy.lots = type(p.lots)(lot[:] for lot in p.lots)
            copy.position = p.position
            total += copy.settle(10000 if t == winner else 0)
        assert pnls[winner] == total


@settings(max_examples=200, deadline=None)
@given(st.integers(-3000, 3000).filter(bool),
       st.lists(st.tuples(st.integers(1, 99), st.integers(1, 500)), max_size=6, unique_by=lambda x: x[0]))
def test_flatten_quote_equals_unit_walk(held, levels) -> None:
    pos = Position("A")
    pos.apply_fill(Side.BID if held > 0 else Side.ASK, 5000, abs(held))
    side_levels = [(c * 100, n) for c, n in levels]
    b = book(bids=side_levels) if held > 0 else book(asks=side_levels)
    q = flatten_quote(pos, b, TAKER)
    units = []  # best first, one entry per unit of size
    ordered = sorted(side_levels, reverse=held > 0)
    for price, n in ordered:
        units += [price] * n
    taken = units[:abs(held)]
    own = [p if held > 0 else 10000 - p for p in taken]
    assert (q.closable, q.left, q.gross_proceeds) == (len(taken), abs(held) - len(taken), sum(own))
    assert q.limit_yes_price == (taken[-1] if taken else None)
    assert q.realized == sum(own) - q.fees - 5000 * len(taken)
