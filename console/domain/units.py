"""Exact integer units for prices, counts and money, and their wire strings.

DESIGN.md section 4:

- price: int pips, $0.0001 each, 0..10000 on the YES scale ($0.56 = 5600)
- count: int hundredths of a contract (10 contracts = 1000)
- money: int micro-dollars ($1.25 = 1_250_000); one pip times one count unit is one micro-dollar

Kalshi sends prices as dollar strings ("0.56", "0.5600") and counts as fixed-point strings
("10", "10.00"). Parsing is done on the digits, never through a float, and a malformed string is a
`UnitError`, never a default.
"""

from __future__ import annotations

import re

PIPS_PER_DOLLAR = 10_000
PRICE_MIN = 0
PRICE_MAX = PIPS_PER_DOLLAR
COUNT_PER_CONTRACT = 100
MICROS_PER_DOLLAR = 1_000_000
#: one whole contract settling at $1 is worth this many micro-dollars
PAYOUT_PER_COUNT_UNIT = PIPS_PER_DOLLAR  # micro-dollars paid per 0.01 contract at $1.00

# ASCII digits only and \Z, not $: `$` also matches before a trailing newline ("0.56\n"), and `\d`
# matches every Unicode digit ("0.٥٦"); neither is a number Kalshi sends
_DECIMAL = re.compile(r"^(-)?([0-9]+)(?:\.([0-9]*))?\Z")
_LEADING_DOT = re.compile(r"^(-)?\.([0-9]+)\Z")


class UnitError(ValueError):
    """A wire number that cannot be represented exactly in the desk's units."""


def _parse_fixed(text: str, decimals: int, what: str, *, signed: bool) -> int:
    if not isinstance(text, str):
        raise UnitError(f"{what}: expected a decimal string, got {type(text).__name__} {text!r}")
    match = _DECIMAL.match(text)
    if match is None:
        dot = _LEADING_DOT.match(text)
        if dot is None:
            raise UnitError(f"{what}: {text!r} is not a decimal number")
        sign, whole, frac = dot.group(1), "0", dot.group(2)
    else:
        sign, whole, frac = match.group(1), match.group(2), match.group(3) or ""
    if sign and not signed:
        raise UnitError(f"{what}: {text!r} must not be negative")
    if len(frac) > decimals:
        # extra digits are allowed only if they are zeros ("0.560000" is still exact)
        if frac[decimals:].strip("0"):
            raise UnitError(f"{what}: {text!r} has more than {decimals} decimals")
        frac = frac[:decimals]
    value = int(whole) * 10**decimals + int(frac.ljust(decimals, "0") or "0")
    return -value if sign else value


def _format_fixed(value: int, decimals: int) -> str:
    if not isinstance(value, int) or isinstance(value, bool):
        raise UnitError(f"expected an int, got {type(value).__name__} {value!r}")
    sign = "-" if value < 0 else ""
    whole, frac = divmod(abs(value), 10**decimals)
    return f"{sign}{whole}.{frac:0{decimals}d}" if decimals else f"{sign}{whole}"


# --- prices (pips) ----------------------------------------------------------------------------


def parse_price(text: str) -> int:
    """Parse a dollar price string ("0.56", "0.5600") into pips on its own scale.

    Kalshi accepts 2 to 4 decimals; anything finer than a pip, negative, or above $1 is an error.
    """
    pips = _parse_fixed(text, 4, "price", signed=False)
    if pips > PRICE_MAX:
        raise UnitError(f"price: {text!r} is above $1.0000")
    return pips


def format_price(pips: int) -> str:
    """Format pips as Kalshi's 4-decimal dollar string: 5600 -> "0.5600"."""
    return _format_fixed(pips, 4)


def no_price(yes_pips: int) -> int:
    """The NO-scale price of a YES-scale price: a YES ask at p is a NO bid at 1 - p."""
    return PRICE_MAX - yes_pips


# --- counts (hundredths of a contract) --------------------------------------------------------


def parse_count(text: str, *, signed: bool = False) -> int:
    """Parse a fixed-point count ("10", "10.0", "10.00") into hundredths of a contract."""
    return _parse_fixed(text, 2, "count", signed=signed)


def format_count(count: int) -> str:
    """Format a count as Kalshi's 2-decimal string: 1000 -> "10.00"."""
    return _format_fixed(count, 2)


def contracts(n: int | str) -> int:
    """Whole or fixed-point contracts to count units: contracts(10) == 1000."""
    return parse_count(n) if isinstance(n, str) else n * COUNT_PER_CONTRACT


# --- money (micro-dollars) --------------------------------------------------------------------


def parse_money(text: str) -> int:
    """Parse a dollar amount with up to 6 decimals (signed) into micro-dollars."""
    return _parse_fixed(text, 6, "money", signed=True)


def format_money(micros: int, decimals: int = 6) -> str:
    """Format micro-dollars as a dollar string with `decimals` places (exact or an error)."""
    if decimals > 6:
        raise UnitError("money has at most 6 decimals")
    step = 10 ** (6 - decimals)
    if micros % step:
        raise UnitError(f"money: {micros} micro-dollars is not a whole multiple of 10^-{decimals} dollar")
    return _format_fixed(micros // step, decimals)


def dollars(text: str) -> int:
    """Shorthand for tests and config: dollars("1.25") == 1_250_000."""
    return parse_money(text)


def notional(price_pips: int, count: int) -> int:
    """Money for `count` units at `price_pips`: exact, in micro-dollars."""
    return price_pips * count


def cents_truncated(micros: int) -> int:
    """Whole cents, truncated toward zero (Kalshi's legacy integer `balance`)."""
    return -((-micros) // 10_000) if micros < 0 else micros // 10_000
