"""Cross-venue arbitrage: hand-worked fees and returns, and every result checked against a brute-force walk."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from console.domain.arb import DAY_MS, ArbDirection, Depth, evaluate_pair
from console.domain.fees import KalshiFees, polymarket_taker_fee
from console.domain.pairs import Orientation, Pair

FEES = KalshiFees.resolve("quadratic", "1")
RATE = Fraction("0.04")
SAME = Pair("KXSENATEGA-26-D", "tok-dem", "0xcond", Orientation.SAME, verified=True)
INVERTED = Pair("KXSENATEGA-26-D", "tok-rep", "0xcond", Orientation.INVERTED, verified=True)


def by_direction(opps) -> dict:
    return {o.direction: o for o in opps}


def test_hand_worked_pair_after_both_fees() -> None:
    kalshi = Depth.of([(4000, 1000)], [(4200, 1000)])
    token = Depth.of([(4800, 600)], [(5100, 800)])
    opp = by_direction(evaluate_pair(SAME, kalshi, token, FEES, RATE, now_ms=0, resolution_ms=30 * DAY_MS))
    yes = opp[ArbDirection.KALSHI_YES]
    # buy 6 YES at 0.42 on Kalshi, 6 of the other outcome at 1 - 0.48 = 0.52 on Polymarket: $0.06 a pair gross
    assert yes.count == 600
    assert yes.kalshi.fee == 102_400  # 0.07 x 6 x 0.42 x 0.58 = 0.102312 -> up to $0.1024
    assert yes.polymarket.fee == 59_900  # 0.04 x 6 x 0.52 x 0.48 = 0.059904 -> down to $0.05990
    assert yes.profit == 360_000 - 102_400 - 59_900
    assert yes.capital == 2_520_000 + 3_120_000 + 102_400 + 59_900
    assert yes.return_pct == pytest.approx(100 * 197_700 / 5_802_300)
    assert yes.annualized_pct == pytest.approx(100 * ((1 + 197_700 / 5_802_300) ** (365 / 30) - 1))
    assert yes.kalshi.instruction == "buy YES KXSENATEGA-26-D" and yes.kalshi.limit_price == 4200
    assert "other outcome" in yes.polymarket.instruction and yes.polymarket.limit_price == 5200
    # the other direction: NO at 1 - 0.40 = 0.60 plus the token at 0.51 costs more than $1
    no = opp[ArbDirection.KALSHI_NO]
    assert no.count == 0 and no.profit == 0 and no.top_edge < 0


def test_inverted_orientation_is_the_mirrored_token_book() -> None:
    kalshi = Depth.of([(4000, 1000), (3900, 500)], [(4200, 1000), (4400, 2000)])
    token = Depth.of([(4800, 600), (4700, 900)], [(5100, 800)])
    # the NO token of the same condition: bids at 1 - ask, asks at 1 - bid
    mirrored = Depth.of([(10000 - p, c) for p, c in token.asks], [(10000 - p, c) for p, c in token.bids])
    a = by_direction(evaluate_pair(SAME, kalshi, token, FEES, RATE, now_ms=0, resolution_ms=DAY_MS * 60))
    b = by_direction(evaluate_pair(INVERTED, kalshi, mirrored, FEES, RATE, now_ms=0, resolution_ms=DAY_MS * 60))
    for d in ArbDirection:
        assert (a[d].count, a[d].profit, a[d].capital) == (b[d].count, b[d].profit, b[d].capital)
    # with the inverted token, buying Kalshi YES pairs with buying that token itself
    assert b[ArbDirection.KALSHI_YES].polymarket.instruction == "buy token tok-rep"


def _brute_profit(kalshi_costs: list[tuple[int, int]], poly_costs: list[tuple[int, int]], n: int) -> int:
    """Independent re-walk: fill n units from each cheapest-first list, fee per level filled."""
    total = n * 10_000
    for levels, fee in ((kalshi_costs, lambda c, k: FEES.trade_fee(c, k, maker=False)),
                        (poly_costs, lambda c, k: polymarket_taker_fee(c, k, RATE))):
        left = n
        for cost, count in sorted(levels):
            k = min(left, count)
            if k:
                total -= cost * k + fee(cost, k)
            left -= k
        assert left == 0
    return total


levels = st.lists(st.tuples(st.integers(1, 9999), st.integers(1, 30).map(lambda c: c * 100)), min_size=1, max_size=6,
                  unique_by=lambda x: x[0])


@settings(max_examples=150, deadline=None)
@given(k_bids=levels, k_asks=levels, t_bids=levels, t_asks=levels, inverted=st.booleans())
def test_arb_edges_match_a_brute_force_walk_of_both_books(k_bids, k_asks, t_bids, t_asks, inverted) -> None:
    pair = INVERTED if inverted else SAME
    kalshi, token = Depth.of(k_bids, k_asks), Depth.of(t_bids, t_asks)
    # the token's book on Kalshi's YES scale
    if inverted:
        p_bids, p_asks = [(10000 - q, c) for q, c in t_asks], [(10000 - q, c) for q, c in t_bids]
    else:
        p_bids, p_asks = t_bids, t_asks
    walks = {ArbDirection.KALSHI_YES: (list(k_asks), [(10000 - p, c) for p, c in p_bids]),
             ArbDirection.KALSHI_NO: ([(10000 - p, c) for p, c in k_bids], list(p_asks))}
    for opp in evaluate_pair(pair, kalshi, token, FEES, RATE, now_ms=0, resolution_ms=10 * DAY_MS):
        k_costs, p_costs = walks[opp.direction]
        depth = min(sum(c for _, c in k_costs), sum(c for _, c in p_costs))
        brute = {n: _brute_profit(k_costs, p_costs, n) for n in range(100, depth + 1, 100)}
        best_brute = max([0, *brute.values()])
        assert opp.count % 100 == 0 and opp.count <= depth
        if opp.count:
            assert opp.profit == brute[opp.count] > 0  # the reported profit is exactly the walk's
            assert opp.capital == opp.count * 10_000 - opp.profit
        # optimal up to fee rounding: at most $0.0001 (Kalshi) + $0.00001 (Polymarket) per level touched
        slack = 110 * (len(k_costs) + len(p_costs))
        assert best_brute - opp.profit <= slack
        assert (opp.count == 0) == (opp.profit == 0)
        first = brute.get(100)
        if first is not None:
            assert opp.top_edge == pytest.approx(first / 1_000_000)


def test_leg_risk_notes_and_unverified_pairs() -> None:
    kalshi = Depth.of([(4000, 1000)], [(4200, 300)], age_ms=12_000)
    token = Depth.of([(4800, 5000)], [(5100, 800)])
    unverified = Pair("KX", "t", "0xc", Orientation.SAME, verified=False, notes="Polymarket resolves on certification")
    opp = by_direction(evaluate_pair(unverified, kalshi, token, FEES, RATE, now_ms=0, resolution_ms=DAY_MS * 90))
    yes = opp[ArbDirection.KALSHI_YES]
    assert yes.count == 300 and yes.profit > 0 and not yes.auto_tradeable
    risks = " | ".join(yes.risks)
    assert "unverified pair: shown only, never auto-traded" in risks
    assert "size limited by the whole visible Kalshi book" in risks
    assert "Kalshi book is 12.0 s old" in risks
    assert "resolution notes: Polymarket resolves on certification" in risks
    assert "Polymarket refuses" not in risks  # 3 x $0.52 = $1.56 is above Polymarket's $1 minimum
    tiny = by_direction(evaluate_pair(SAME, Depth.of([], [(4200, 100)]), token, FEES, RATE, now_ms=0,
                                      resolution_ms=DAY_MS))[ArbDirection.KALSHI_YES]
    assert tiny.count == 100 and tiny.auto_tradeable
    assert any("Polymarket refuses marketable orders under $1.00" in r for r in tiny.risks)
