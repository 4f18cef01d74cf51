"""Display strings for the desk: prices, counts, money, edges and times, exact from the integer units.

Prices are shown in dollars with 2 decimals when they fall on a whole cent (most Kalshi markets) and
4 when they do not, so a sub-penny level is never rounded into a neighbour. Counts are contracts
(2 decimals only when fractional), money is dollars rounded to the cent for display only (half away
from zero, on integers), and probabilities/edges are percentages. No floats touch prices or money.
"""

from __future__ import annotations

from console.domain.side import Side
from console.domain.units import COUNT_PER_CONTRACT, MICROS_PER_DOLLAR, PIPS_PER_DOLLAR

_PIPS_PER_CENT = PIPS_PER_DOLLAR // 100
_MICROS_PER_CENT = MICROS_PER_DOLLAR // 100


def price(pips: int | None) -> str:
    """5600 -> "0.56"; 5612 -> "0.5612"; None -> "-"."""
    if pips is None:
        return "-"
    whole, frac = divmod(pips, PIPS_PER_DOLLAR)
    if frac % _PIPS_PER_CENT == 0:
        return f"{whole}.{frac // _PIPS_PER_CENT:02d}"
    return f"{whole}.{frac:04d}"


def count(units: int | None) -> str:
    """1000 -> "10"; 1050 -> "10.50"; 123400 -> "1,234" (hundredths of a contract)."""
    if units is None:
        return "-"
    sign = "-" if units < 0 else ""
    whole, frac = divmod(abs(units), COUNT_PER_CONTRACT)
    return f"{sign}{whole:,}" if frac == 0 else f"{sign}{whole:,}.{frac:02d}"


def money(micros: int | None, *, signed: bool = False) -> str:
    """Micro-dollars to "$1,234.57" (display rounding to the cent, half away from zero)."""
    if micros is None:
        return "-"
    cents = (abs(micros) + _MICROS_PER_CENT // 2) // _MICROS_PER_CENT
    sign = "-" if micros < 0 and cents else ("+" if signed and micros > 0 else "")
    whole, frac = divmod(cents, 100)
    return f"{sign}${whole:,}.{frac:02d}"


def money_short(micros: int | None, *, signed: bool = False) -> str:
    """Like `money`, but at most 8 characters: $1,000 and up become "$1.23k" / "$12.3k" / "$1.23M"."""
    if micros is None:
        return "-"
    if abs(micros) < 1_000 * MICROS_PER_DOLLAR:
        return money(micros, signed=signed)
    sign = "-" if micros < 0 else ("+" if signed else "")
    dollars = abs(micros) / MICROS_PER_DOLLAR  # display only: a rounded figure, never used for money
    for scale, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if dollars >= scale:
            value = dollars / scale
            digits = 2 if value < 10 else (1 if value < 100 else 0)
            return f"{sign}${value:.{digits}f}{suffix}"
    return money(micros, signed=signed)


def pct(fraction: float | None, *, signed: bool = False) -> str:
    """0.0312 -> "3.1%" (signed adds "+" to positive values)."""
    if fraction is None:
        return "-"
    return f"{fraction * 100:+.1f}%" if signed else f"{fraction * 100:.1f}%"


def spread(yes_bid: int | None, yes_ask: int | None) -> str:
    if yes_bid is None or yes_ask is None:
        return "-"
    return price(yes_ask - yes_bid)


def side_label(side: Side | None) -> str:
    """Side.BID buys YES, Side.ASK buys NO (sells YES): say it the way a trader reads it."""
    if side is None:
        return "-"
    return "BUY YES" if side is Side.BID else "BUY NO"


def seconds_left(expires_ms: int, now_ms: int) -> str:
    """Whole seconds left (rounded up), "expired" once past."""
    left_ms = expires_ms - now_ms
    if left_ms <= 0:
        return "expired"
    secs = -(-left_ms // 1000)
    return f"{secs}s" if secs < 100 else f"{secs // 60}m"


def clock(ts_ms: int) -> str:
    """UTC wall-clock HH:MM:SS of a millisecond timestamp (deterministic: no local time zone)."""
    secs = (ts_ms // 1000) % 86_400
    return f"{secs // 3600:02d}:{secs // 60 % 60:02d}:{secs % 60:02d}"


def position(units: int) -> str:
    """Signed count to "12 YES" / "3.50 NO" / "flat"."""
    if units == 0:
        return "flat"
    return f"{count(abs(units))} {'YES' if units > 0 else 'NO'}"


HEALTH_BADGE = {"green": "●", "amber": "◐", "red": "✖"}
HEALTH_VAR = {"green": "risk-ok", "amber": "risk-warn", "red": "risk-breach"}


def health_badge(health: str) -> str:
    """A shape per health state, so it reads without colour (colour-blind, monochrome ssh)."""
    return HEALTH_BADGE.get(health, "?")
