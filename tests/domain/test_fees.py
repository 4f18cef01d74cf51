"""Kalshi and Polymarket fees: worked examples from the references, both sides, exact rounding."""

from fractions import Fraction

import pytest

from console.domain.fees import CENT_PRECISION, FeeType, KalshiFees, balance_change, polymarket_taker_fee
from console.domain.units import dollars, no_price


def test_one_contract_at_50c_taker_is_0_0175():
    fees = KalshiFees(FeeType.QUADRATIC, Fraction(1))
    assert fees.trade_fee(5000, 100, maker=False) == dollars("0.0175")


def test_reference_rounding_worked_check():
    # buy 1 at $0.50: balance change -0.5175 stays for a direct member, floors to -0.52 at cent precision
    fee = KalshiFees().trade_fee(5000, 100, maker=False)
    assert balance_change(-dollars("0.50"), fee) == (-dollars("0.5175"), 0)
    change, rounding = balance_change(-dollars("0.50"), fee, CENT_PRECISION)
    assert change == -dollars("0.52") and rounding == dollars("0.0025")


def test_fee_is_the_same_for_yes_and_no_price():
    fees = KalshiFees()
    for yes in (100, 2300, 5600, 9900):
        assert fees.trade_fee(yes, 1000, maker=False) == fees.trade_fee(no_price(yes), 1000, maker=False)


def test_hundred_contracts_at_56c():
    # 0.07 * 100 * 0.56 * 0.44 = 1.7248
    assert KalshiFees().trade_fee(5600, 10_000, maker=False) == dollars("1.7248")


def test_fee_rounds_up_to_a_hundredth_of_a_cent():
    # 1 contract at $0.03: 0.07 * 0.03 * 0.97 = 0.002037 -> 0.0021
    assert KalshiFees().trade_fee(300, 100, maker=False) == dollars("0.0021")
    # 0.01 contract at $0.50: 0.000175 -> 0.0002
    assert KalshiFees().trade_fee(5000, 1, maker=False) == dollars("0.0002")


def test_maker_fees_by_fee_type():
    assert KalshiFees(FeeType.QUADRATIC).trade_fee(5000, 100, maker=True) == 0
    # 0.0175 * 0.25 = 0.004375 -> 0.0044
    assert KalshiFees(FeeType.QUADRATIC_WITH_MAKER_FEES).trade_fee(5000, 100, maker=True) == dollars("0.0044")
    # combo makers pay half the taker rate: 0.035 * 0.25 = 0.00875 -> 0.0088
    assert KalshiFees(FeeType.QUADRATIC_WITH_COMBO_MAKER_FEES).trade_fee(5000, 100, maker=True) == dollars("0.0088")


def test_multiplier_and_event_override():
    series = KalshiFees.resolve("quadratic", 1.0)
    half = KalshiFees.resolve("quadratic", 1.0, None, 0.5)
    assert half.multiplier == Fraction(1, 2)
    assert half.trade_fee(5000, 10_000, maker=False) == series.trade_fee(5000, 10_000, maker=False) // 2
    overridden = KalshiFees.resolve("quadratic", "1", "quadratic_with_maker_fees", None)
    assert overridden.fee_type is FeeType.QUADRATIC_WITH_MAKER_FEES
    with pytest.raises(ValueError):
        KalshiFees.resolve("nonsense", 1)


def test_polymarket_taker_fee():
    # 100 shares at 0.50, politics rate 0.04: 100 * 0.04 * 0.25 = $1.00
    assert polymarket_taker_fee(5000, 10_000, "0.04") == dollars("1.00")
    # tiny trade floors to 5 dp with a minimum of $0.00001
    assert polymarket_taker_fee(100, 1, "0.04") == dollars("0.00001")
    assert polymarket_taker_fee(5000, 10_000, "0") == 0
    # 7 shares at 0.33, rate 0.05: 7*0.05*0.33*0.67 = 0.0773850 -> 0.07738
    assert polymarket_taker_fee(3300, 700, "0.05") == dollars("0.07738")
