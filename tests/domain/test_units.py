"""Exact parsing and formatting of Kalshi's dollar and fixed-point strings."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from console.domain.units import (
    UnitError, format_count, format_money, format_price, no_price, parse_count, parse_money, parse_price,
)


@pytest.mark.parametrize("text,pips", [("0.56", 5600), ("0.5600", 5600), ("0.5", 5000), ("0.0001", 1),
                                       ("1", 10000), ("0", 0), ("0.999", 9990), (".48", 4800), ("0.560000", 5600)])
def test_parse_price(text, pips):
    assert parse_price(text) == pips


@pytest.mark.parametrize("text", ["", "abc", "0.56001", "-0.5", "1.0001", "0,56", "0.5.6", " 0.5", "1e-2", "NaN"])
def test_malformed_price_is_an_error(text):
    with pytest.raises(UnitError):
        parse_price(text)


def test_non_string_is_an_error_not_a_default():
    with pytest.raises(UnitError):
        parse_price(0.56)  # type: ignore[arg-type]
    with pytest.raises(UnitError):
        parse_count(None)  # type: ignore[arg-type]


@pytest.mark.parametrize("text,count", [("10", 1000), ("10.0", 1000), ("10.00", 1000), ("0.37", 37), ("0.01", 1)])
def test_parse_count(text, count):
    assert parse_count(text) == count


def test_count_finer_than_a_hundredth_is_rejected():
    with pytest.raises(UnitError):
        parse_count("0.001")
    with pytest.raises(UnitError):
        parse_count("-1")
    assert parse_count("-1.50", signed=True) == -150


def test_formats_have_fixed_decimals():
    assert format_price(5600) == "0.5600"
    assert format_price(10) == "0.0010"
    assert format_count(1000) == "10.00"
    assert format_count(-37) == "-0.37"
    assert format_money(1_250_000) == "1.250000"
    assert format_money(-17_500) == "-0.017500"
    assert format_money(517_500, 4) == "0.5175"
    with pytest.raises(UnitError):
        format_money(517_501, 4)  # not representable with 4 decimals: never silently rounded


def test_no_price_is_the_complement():
    assert no_price(5600) == 4400
    assert no_price(1) == 9999


@given(st.integers(min_value=0, max_value=10_000))
def test_price_round_trip(pips):
    assert parse_price(format_price(pips)) == pips


@given(st.integers(min_value=0, max_value=10**9))
def test_count_round_trip(count):
    assert parse_count(format_count(count)) == count


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_money_round_trip(micros):
    assert parse_money(format_money(micros)) == micros
