"""Edges after fees (YES and NO, taker and maker), every no-trade reason, and the explicit price step."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from console.domain.edges import (
    EdgePolicy,
    Gates,
    NoTrade,
    OrderType,
    Quote,
    best_limit_price,
    evaluate,
    fee_table,
    probability_to_price,
)
from console.domain.fees import KalshiFees
from console.domain.grid import PriceGrid
from console.domain.side import Side

TAKER_FEES = KalshiFees.resolve("quadratic", "1")
MAKER_FEES = KalshiFees.resolve("quadratic_with_maker_fees", "1")


def quote(bid: int | None, ask: int | None, fees: KalshiFees = TAKER_FEES, category: str = "Elections") -> Quote:
    return Quote("KXSENATEGA-26-D", category, fees, bid, 500 if bid else 0, ask, 700 if ask else 0)


def test_buying_yes_pays_the_ask_and_the_taker_fee() -> None:
    row = evaluate(quote(4800, 5000), 0.55)
    assert row.tradeable and row.best is row.yes and row.best.side is Side.BID
    # 0.55 - 0.50 before fees; 10 contracts at $0.50 pay 0.07 x 10 x 0.25 = $0.175 -> $0.0175 a contract
    assert row.yes.edge_before_fees == pytest.approx(0.05)
    assert row.yes.fee_per_contract == pytest.approx(0.0175)
    assert row.yes.edge_after_fees == pytest.approx(0.0325)
    assert row.yes.yes_price == 5000 and row.yes.available == 700
    assert row.message == "buy YES: 3.25c after fees"


def test_buying_no_pays_one_minus_the_yes_bid() -> None:
    row = evaluate(quote(4000, 4200), 0.30)
    assert row.best is row.no and row.no.side is Side.ASK
    assert (row.no.yes_price, row.no.cost) == (4000, 6000)
    # 0.70 - 0.60 before fees; fee 0.07 x 10 x 0.6 x 0.4 = $0.168 -> $0.0168 a contract
    assert row.no.edge_before_fees == pytest.approx(0.10)
    assert row.no.fee_per_contract == pytest.approx(0.0168)
    assert row.no.edge_after_fees == pytest.approx(0.0832)
    assert row.message == "buy NO: 8.32c after fees"


def test_maker_joins_its_own_touch_and_pays_the_maker_fee() -> None:
    row = evaluate(quote(4800, 5000, MAKER_FEES), 0.55, EdgePolicy(order_type=OrderType.MAKER))
    # joining the YES bid at 0.48: 0.07 done as maker = 0.0175 x 10 x 0.48 x 0.52 = $0.04368 -> $0.0437
    assert row.yes.yes_price == 4800 and row.yes.edge_before_fees == pytest.approx(0.07)
    assert row.yes.fee_per_contract == pytest.approx(0.00437)
    # the NO side joins the YES ask as a NO bid at 0.50
    assert row.no.yes_price == 5000 and row.no.cost == 5000


@settings(max_examples=300, deadline=None)
@given(bid=st.integers(1, 9998), width=st.integers(1, 500), prob=st.floats(0, 1),
       maker=st.booleans(), mult=st.sampled_from(["1", "0.5", "2"]),
       fee_type=st.sampled_from(["quadratic", "quadratic_with_maker_fees", "flat"]))
def test_fees_are_in_every_edge(bid: int, width: int, prob: float, maker: bool, mult: str, fee_type: str) -> None:
    ask = min(9999, bid + width)
    fees = KalshiFees.resolve(fee_type, mult)
    policy = EdgePolicy(order_type=OrderType.MAKER if maker else OrderType.TAKER, reference_count=1000)
    row = evaluate(quote(bid, ask, fees), prob, policy)
    for side in (row.yes, row.no):
        expected_fee = fees.trade_fee(side.cost, 1000, maker=maker) / 10 / 1_000_000  # 10 contracts -> per contract
        assert side.fee_per_contract == pytest.approx(expected_fee, abs=1e-15)
        assert side.edge_after_fees == pytest.approx(side.edge_before_fees - expected_fee, abs=1e-12)
        if not maker or fee_type == "quadratic_with_maker_fees":
            assert side.fee_per_contract > 0  # every order type that pays a fee shows it
    assert row.best.edge_after_fees == max(row.yes.edge_after_fees, row.no.edge_after_fees)


def test_fee_table_is_the_fee_schedule_at_every_price() -> None:
    for fees in (TAKER_FEES, MAKER_FEES, KalshiFees.resolve("quadratic", "0.5"), KalshiFees.resolve("flat", "1")):
        for maker in (False, True):
            table = fee_table(fees, 1000, maker)
            assert all(table[p] == fees.trade_fee(p, 1000, maker=maker) for p in range(0, 10001, 7))


@pytest.mark.parametrize(("prob", "gates", "reason", "text"), [
    (None, Gates(), NoTrade.NO_MODEL, "no model probability"),
    (0.9, Gates(book_red="sequence gap"), NoTrade.BOOK_RED, "book red: sequence gap"),
    (0.9, Gates(cooling_off="after a $120.00 loss"), NoTrade.COOLING_OFF, "cooling off: after a $120.00 loss"),
    (0.9, Gates(low_quality="spread 9c"), NoTrade.LOW_QUALITY, "low-quality conditions: spread 9c"),
    (0.49, Gates(), NoTrade.NO_EDGE, "no edge"),
    (0.51, Gates(), NoTrade.BELOW_FEES, "edge below fees: YES 1.00c before, 1.75c fee per contract"),
    (0.535, Gates(), NoTrade.BELOW_MIN_EDGE, "YES edge 1.75c after fees is below the 2.00c minimum for Elections"),
    (0.9, Gates(risk_limit="election book at its bound"), NoTrade.RISK_LIMIT, "risk limit: election book at its bound"),
])
def test_every_untraded_market_says_why(prob, gates, reason, text) -> None:
    row = evaluate(quote(4800, 5000), prob, EdgePolicy(), gates)
    assert row.reason is reason and not row.tradeable
    assert text in row.message


def test_empty_book_and_category_minimums() -> None:
    assert evaluate(quote(None, None), 0.7).reason is NoTrade.NO_BOOK
    one_sided = evaluate(quote(None, 5000), 0.7)
    assert one_sided.no is None and one_sided.best is one_sided.yes and one_sided.tradeable
    policy = EdgePolicy(min_edge_by_category={"Climate and Weather": 0.05}, default_min_edge=0.02)
    assert evaluate(quote(4800, 5000, category="Climate and Weather"), 0.56, policy).reason is NoTrade.BELOW_MIN_EDGE
    assert evaluate(quote(4800, 5000), 0.56, policy).tradeable


def test_probability_to_price_is_an_explicit_rounded_step() -> None:
    grid = PriceGrid.for_structure("tapered_deci_cent")  # 0.1c steps below 10c, whole cents in the middle
    assert probability_to_price(0.6049, grid, "down") == 6000
    assert probability_to_price(0.6049, grid, "up") == 6100
    assert probability_to_price(0.6049, grid, "nearest") == 6000
    assert probability_to_price(0.0537, grid, "nearest") == 540
    assert probability_to_price(0.0, grid, "down") is None
    with pytest.raises(ValueError, match="rounding"):
        probability_to_price(0.5, grid, "banker")


def test_best_limit_price_clears_the_minimum_after_fees() -> None:
    grid = PriceGrid.for_structure("linear_cent")
    # buy YES at p = 0.60: 0.56 leaves 0.04 - 0.0173 = 2.3c; 0.57 leaves 0.03 - 0.0172 = 1.3c
    assert best_limit_price(0.60, Side.BID, grid, TAKER_FEES, min_edge=0.02) == 5600
    # buy NO (P(NO) = 0.40): the lowest YES bid to sell into is 0.64 (NO at 0.36: 0.04 - 0.0161)
    assert best_limit_price(0.60, Side.ASK, grid, TAKER_FEES, min_edge=0.02) == 6400
    assert best_limit_price(0.01, Side.BID, grid, TAKER_FEES, min_edge=0.02) is None


def test_edges_for_500_markets_are_fast() -> None:
    quotes = [Quote(f"T{i}", "Elections", TAKER_FEES, 4000 + i, 500, 4200 + i, 700) for i in range(500)]
    evaluate(quotes[0], 0.5)  # builds the fee table once
    start = time.perf_counter()
    rows = [evaluate(q, 0.47) for q in quotes]
    elapsed = time.perf_counter() - start
    assert len(rows) == 500 and elapsed < 0.025  # target 5 ms (bench/models.py); 5x headroom for CI
