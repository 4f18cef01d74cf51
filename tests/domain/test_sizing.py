"""Fractional Kelly for binary contracts (YES and NO) against hand-worked cases, caps, and the correlated bound."""

from __future__ import annotations

import numpy as np
import pytest

from console.domain.fees import KalshiFees
from console.domain.side import Side
from console.domain.sizing import (
    ElectionMarket,
    Holding,
    SizingLimits,
    election_scenarios,
    kelly_fraction,
    kelly_size,
    max_count_within_bound,
    scenario_pnl,
    worst_joint_pnl,
)
from console.models.montecarlo import Chamber, ElectionModel

NO_FEES = KalshiFees.resolve("quadratic", "1")  # makers pay nothing on plain "quadratic"
TAKER = KalshiFees.resolve("quadratic", "1")
BANKROLL = 1_000_000_000  # $1,000
QUARTER = SizingLimits(kelly_multiplier=0.25)


def test_kelly_fraction_by_hand() -> None:
    assert kelly_fraction(0.6, 0.4) == pytest.approx(1 / 3)  # (0.6 - 0.4) / 0.6
    assert kelly_fraction(0.7, 0.45) == pytest.approx(0.25 / 0.55)
    assert kelly_fraction(0.4, 0.45) == 0.0 and kelly_fraction(0.45, 0.45) == 0.0
    assert kelly_fraction(0.5, 0.0) == 1.0


def test_quarter_kelly_buying_yes_without_fees() -> None:
    # f* = 1/3; a quarter of it is $83.33 of $1,000; at $0.40 that is 208.3 -> 208 contracts
    s = kelly_size(Side.BID, 0.60, 4000, NO_FEES, BANKROLL, QUARTER, maker=True)
    assert s.kelly_full == pytest.approx(1 / 3) and s.fraction == pytest.approx(1 / 12)
    assert (s.count, s.cost, s.fee, s.limited_by) == (20_800, 83_200_000, 0, "kelly")


def test_quarter_kelly_buying_no_without_fees() -> None:
    # P(NO) = 0.7 at NO price 1 - 0.55 = 0.45: f* = 0.25 / 0.55; a quarter x $1,000 = $113.64 -> 252 contracts
    s = kelly_size(Side.ASK, 0.30, 5500, NO_FEES, BANKROLL, QUARTER, maker=True)
    assert s.kelly_full == pytest.approx(0.25 / 0.55)
    assert (s.count, s.cost) == (25_200, 25_200 * 4500)


def test_quarter_kelly_with_the_taker_fee_in_the_cost() -> None:
    # fee for 10 contracts at $0.40: 0.07 x 10 x 0.24 = $0.168 -> $0.0168 a contract, all-in $0.4168
    # f* = (0.6 - 0.4168) / 0.5832; a quarter x $1,000 = $78.53 -> 188 contracts; their fee 0.07 x 188 x 0.24
    s = kelly_size(Side.BID, 0.60, 4000, TAKER, BANKROLL, QUARTER)
    assert s.kelly_full == pytest.approx(0.1832 / 0.5832)
    assert (s.count, s.fee) == (18_800, 3_158_400)
    assert s.cost + s.fee <= s.fraction * BANKROLL


def test_no_edge_means_no_size_and_shrink_scales_it() -> None:
    assert kelly_size(Side.BID, 0.40, 4500, TAKER, BANKROLL).limited_by == "no_edge"
    full = kelly_size(Side.BID, 0.60, 4000, NO_FEES, BANKROLL, QUARTER, maker=True)
    half = kelly_size(Side.BID, 0.60, 4000, NO_FEES, BANKROLL, QUARTER, maker=True, shrink=0.5)
    assert half.count == 10_400 and half.count < full.count


def test_caps_depth_and_holdings_bind_with_the_reason() -> None:
    args = (Side.BID, 0.60, 4000, NO_FEES, BANKROLL)
    assert kelly_size(*args, SizingLimits(max_count=5_000), maker=True).count == 5_000
    assert kelly_size(*args, SizingLimits(max_count=5_000), maker=True).limited_by == "max_count"
    capped = kelly_size(*args, SizingLimits(max_cost=10_000_000), maker=True)  # $10 at $0.40: 25 contracts
    assert (capped.count, capped.limited_by) == (2_500, "max_cost")
    assert kelly_size(*args, QUARTER, maker=True, available=1_234).count == 1_200
    assert kelly_size(*args, QUARTER, maker=True, correlated_max=3_000).limited_by == "correlated"
    # already holding $80 of it: only $3.33 more of the Kelly stake is left -> 8 contracts
    held = kelly_size(*args, QUARTER, maker=True, held_count=20_000, held_cost=80_000_000)
    assert held.count == 800


def _election() -> tuple[ElectionModel, dict[str, ElectionMarket]]:
    model = ElectionModel.from_margins(["GA", "MI", "NC"], [1.0, 2.0, -0.5], [2.0, 2.0, 2.0], 3.0,
                                       {"senate": Chamber(("GA", "MI", "NC"), 49, 51)})
    markets = {"GA-D": ElectionMarket(race="GA"), "GA-R": ElectionMarket(race="GA", yes_if_win=False),
               "MI-D": ElectionMarket(race="MI"), "NC-D": ElectionMarket(race="NC"),
               "CONTROL-D": ElectionMarket(chamber="senate")}
    return model, markets


def test_correlated_races_lose_together_in_the_worst_scenario() -> None:
    model, markets = _election()
    scen = election_scenarios(model, markets, k_sd=2.5, points=11)
    holdings = {t: Holding(10_000, 5_000_000) for t in ("GA-D", "MI-D", "NC-D")}  # 100 YES each at $0.50
    worst, label = worst_joint_pnl(scen, holdings)
    assert label == "national error -2.50 sd"
    # at -2.5 sd every D race is a likely loss at once: far worse than any one race's expected loss
    assert worst < -10_000_000
    # a hedge (GA-R) shrinks the worst case
    hedged = dict(holdings, **{"GA-R": Holding(10_000, 5_000_000)})
    assert worst_joint_pnl(scen, hedged)[0] > worst


def test_max_count_within_bound_is_exact() -> None:
    model, markets = _election()
    scen = election_scenarios(model, markets)
    holdings = {"GA-D": Holding(10_000, 5_000_000)}
    bound = 20_000_000  # the election book may lose at most $20 in its worst scenario
    n = max_count_within_bound(scen, holdings, "MI-D", Side.BID, 5_200, bound)
    assert n > 0

    def worst_with(count: int) -> float:
        extra = {"MI-D": Holding(count, count * 5_200)}
        return float(np.min(scenario_pnl(scen, {**holdings, **extra})))

    assert worst_with(n) >= -bound - 1e-6 and worst_with(n + 1) < -bound
    # buying NO on control hedges the D-race longs: the bound allows more than the same money on YES
    n_no = max_count_within_bound(scen, holdings, "CONTROL-D", Side.ASK, 5_000, bound)
    n_yes = max_count_within_bound(scen, holdings, "CONTROL-D", Side.BID, 5_000, bound)
    assert n_no > n_yes
    assert max_count_within_bound(scen, holdings, "MI-D", Side.BID, 5_200, 1_000_000) == 0  # already past $1
