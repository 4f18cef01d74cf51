"""Trading fees of Kalshi and Polymarket, exact, in micro-dollars.

Kalshi (reference section 10), per fill of C contracts at price P (dollars):

- taker: 0.07 x M x C x P x (1 - P)
- maker, only on `quadratic_with_maker_fees`: 0.0175 x M x C x P x (1 - P)
- maker on `quadratic_with_combo_maker_fees`: 0.035 x M x C x P x (1 - P)
- `quadratic`: no maker fee
- `flat`: Kalshi publishes per-series values in a PDF we cannot read; edgedesk models it as
  $0.01 x M per contract for takers and none for makers, and says so here.

M is the series `fee_multiplier`, replaced by the event's override when one is set. Each fill's fee
is rounded up to $0.0001. The balance change is then floored to the member's balance precision
($0.0001 for direct members, $0.01 otherwise); the difference is a rounding fee
(`balance_change`).

Polymarket (polymarket reference section 6.4): takers only,
fee = shares x rate x P x (1 - P), floored to 5 decimals with a minimum of $0.00001.

P x (1 - P) is the same for the YES price and the NO price, so the side never changes the fee.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction

from console.domain.units import PRICE_MAX

FEE_ROUNDING_MICROS = 100  # Kalshi rounds each fill's fee up to $0.0001
DIRECT_MEMBER_PRECISION = 100  # balances kept to $0.0001
CENT_PRECISION = 10_000
POLYMARKET_FEE_STEP = 10  # $0.00001


class FeeType(StrEnum):
    QUADRATIC = "quadratic"
    QUADRATIC_WITH_MAKER_FEES = "quadratic_with_maker_fees"
    QUADRATIC_WITH_COMBO_MAKER_FEES = "quadratic_with_combo_maker_fees"
    FLAT = "flat"


_TAKER_RATE = Fraction(7, 100)
_MAKER_RATE = {
    FeeType.QUADRATIC: Fraction(0),
    FeeType.QUADRATIC_WITH_MAKER_FEES: Fraction(7, 400),
    FeeType.QUADRATIC_WITH_COMBO_MAKER_FEES: Fraction(7, 200),
    FeeType.FLAT: Fraction(0),
}
_FLAT_PER_CONTRACT_MICROS = 10_000  # $0.01 x M per contract (edgedesk's model of "flat")


def _ceil_to(value: Fraction, step: int) -> int:
    return -((-value) // step) * step


def _as_fraction(multiplier: Fraction | float | str) -> Fraction:
    # floats arrive from JSON (`fee_multiplier: 1.0`); go through their shortest repr, never binary.
    return Fraction(repr(multiplier)) if isinstance(multiplier, float) else Fraction(multiplier)


@dataclass(frozen=True)
class KalshiFees:
    """The fee schedule in force for one market: the series' values with any event override applied."""

    fee_type: FeeType = FeeType.QUADRATIC
    multiplier: Fraction = Fraction(1)

    @classmethod
    def resolve(
        cls,
        series_fee_type: str,
        series_multiplier: Fraction | float | str,
        event_fee_type_override: str | None = None,
        event_multiplier_override: Fraction | float | str | None = None,
    ) -> KalshiFees:
        fee_type = FeeType(event_fee_type_override or series_fee_type)
        multiplier = series_multiplier if event_multiplier_override is None else event_multiplier_override
        return cls(fee_type, _as_fraction(multiplier))

    def trade_fee(self, price_pips: int, count: int, *, maker: bool) -> int:
        """Fee in micro-dollars for one fill of `count` units at `price_pips` (either scale)."""
        if not 0 <= price_pips <= PRICE_MAX or count < 0:
            raise ValueError(f"fee of {count} units at {price_pips} pips is undefined")
        if self.fee_type is FeeType.FLAT:
            if maker:
                return 0
            exact = Fraction(_FLAT_PER_CONTRACT_MICROS * count, 100) * self.multiplier
            return _ceil_to(exact, FEE_ROUNDING_MICROS)
        rate = _MAKER_RATE[self.fee_type] if maker else _TAKER_RATE
        # C x P x (1-P) dollars = (count/100) x (p/1e4) x ((1e4-p)/1e4) dollars = count*p*(1e4-p)/1e4 micros
        exact = rate * self.multiplier * Fraction(count * price_pips * (PRICE_MAX - price_pips), 10_000)
        return _ceil_to(exact, FEE_ROUNDING_MICROS)


def balance_change(gross_micros: int, trade_fee_micros: int, precision_micros: int = DIRECT_MEMBER_PRECISION) -> tuple[int, int]:
    """Cash change of one fill and the rounding fee it carries.

    `gross_micros` is the signed cash from the trade before fees (negative when paying). The change
    `gross - fee` is floored to the member's precision; returns (change, rounding_fee >= 0).
    """
    exact = gross_micros - trade_fee_micros
    floored = (exact // precision_micros) * precision_micros
    return floored, exact - floored


def polymarket_taker_fee(price_pips: int, count: int, rate: Fraction | str | float) -> int:
    """Polymarket taker fee in micro-dollars: shares x rate x p(1-p), floored to $0.00001, min $0.00001."""
    rate_f = _as_fraction(rate)
    exact = rate_f * Fraction(count * price_pips * (PRICE_MAX - price_pips), 10_000)
    if exact <= 0:
        return 0
    floored = (exact // POLYMARKET_FEE_STEP) * POLYMARKET_FEE_STEP
    return max(int(floored), POLYMARKET_FEE_STEP)
