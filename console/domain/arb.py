"""Cross-venue arbitrage between a Kalshi market and a Polymarket outcome token.

A pair (console.domain.pairs) says whether the token pays when Kalshi's YES does (`same`) or when
Kalshi's NO does (`inverted`). The token's book is first put on Kalshi's YES scale: with `inverted`
a token ask at q is a YES bid at 1 - q and a token bid at q a YES ask at 1 - q. Then, per direction:

- KALSHI_YES: buy YES on Kalshi (walk its YES asks up) and buy what pays on Kalshi-NO on Polymarket
  (walk the mapped YES bids down; each costs 1 - bid);
- KALSHI_NO: buy NO on Kalshi (walk its YES bids down; each costs 1 - bid) and buy what pays on
  Kalshi-YES on Polymarket (walk the mapped YES asks up).

Each unit of the pair pays exactly $1 at resolution whatever happens (if both venues resolve the same
way: that is what `verified` vouches for). Profit(N) = N x $1 - both legs' cost - Kalshi taker fees
(per level filled, rounded up to $0.0001) - Polymarket taker fees (rate x p(1-p) per level, floored to
$0.00001). The executable size is the N, among the points where either book's level runs out (rounded
down to the count step), with the largest profit; between those points the gross profit is linear, so
only the fee rounding (at most ~$0.0001 a level) can sit between the chosen N and the true optimum.
Capital is locked until resolution, so the return is also given annualized.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction

from console.domain.fees import KalshiFees, polymarket_taker_fee
from console.domain.pairs import Orientation, Pair
from console.domain.units import PRICE_MAX

DAY_MS = 86_400_000
POLYMARKET_MIN_MARKETABLE_MICROS = 1_000_000  # Polymarket refuses marketable orders under $1 notional


class ArbDirection(StrEnum):
    KALSHI_YES = "kalshi_yes"
    KALSHI_NO = "kalshi_no"


@dataclass(frozen=True)
class Depth:
    """One book as (price, count) levels on its own YES scale (any order; empty levels ignored)."""

    bids: tuple[tuple[int, int], ...]
    asks: tuple[tuple[int, int], ...]
    age_ms: int = 0  # how old the book is (for leg-risk notes)

    @classmethod
    def of(cls, bids: Sequence[tuple[int, int]], asks: Sequence[tuple[int, int]], age_ms: int = 0) -> Depth:
        return cls(tuple(bids), tuple(asks), age_ms)


def on_kalshi_scale(token_book: Depth, orientation: Orientation) -> Depth:
    """The Polymarket token's book seen on the Kalshi market's YES scale (module docstring)."""
    if orientation is Orientation.SAME:
        return token_book
    return Depth(tuple((PRICE_MAX - q, c) for q, c in token_book.asks),
                 tuple((PRICE_MAX - q, c) for q, c in token_book.bids), token_book.age_ms)


@dataclass(frozen=True)
class ArbLeg:
    venue: str  # "kalshi" | "polymarket"
    instruction: str  # what to buy, in the venue's own terms
    limit_price: int  # worst price paid, pips on the bought instrument's own scale
    count: int
    cost: int  # micro-dollars before fees
    fee: int  # micro-dollars


@dataclass(frozen=True)
class ArbOpportunity:
    pair: Pair
    direction: ArbDirection
    top_edge: float  # dollars per contract for the first whole contract, after both fees (may be < 0)
    count: int  # executable count units (0: nothing profitable)
    kalshi: ArbLeg | None
    polymarket: ArbLeg | None
    profit: int  # micro-dollars at resolution, after fees
    capital: int  # micro-dollars locked until resolution (both legs and fees)
    days_to_resolution: float
    return_pct: float  # profit / capital x 100
    annualized_pct: float  # compounded over a year
    risks: tuple[str, ...]

    @property
    def auto_tradeable(self) -> bool:
        """Only verified pairs with a positive executable profit may ever be traded automatically."""
        return self.pair.verified and self.count > 0 and self.profit > 0


def _levels_by_cost(levels: Sequence[tuple[int, int]], *, from_bids: bool) -> list[tuple[int, int]]:
    """Levels as (cost pips per unit, count), cheapest first: asks cost their price, bids 1 - price."""
    out = [((PRICE_MAX - p) if from_bids else p, c) for p, c in levels if c > 0 and 0 < p < PRICE_MAX]
    return sorted(out)


def _take(levels: list[tuple[int, int]], n: int) -> list[tuple[int, int]]:
    """The fills (cost, count) of buying n units from cheapest-first levels (n must not exceed the depth)."""
    fills, left = [], n
    for cost, count in levels:
        if left <= 0:
            break
        take = min(count, left)
        fills.append((cost, take))
        left -= take
    return fills


def leg_totals_kalshi(fills: list[tuple[int, int]], fees: KalshiFees) -> tuple[int, int]:
    return sum(c * n for c, n in fills), sum(fees.trade_fee(c, n, maker=False) for c, n in fills)


def leg_totals_polymarket(fills: list[tuple[int, int]], rate: Fraction) -> tuple[int, int]:
    return sum(c * n for c, n in fills), sum(polymarket_taker_fee(c, n, rate) for c, n in fills)


def pair_profit(kalshi_levels: list[tuple[int, int]], poly_levels: list[tuple[int, int]], n: int,
                kalshi_fees: KalshiFees, poly_rate: Fraction) -> int:
    """Exact profit in micro-dollars of n units of the pair (fills from cheapest-first cost levels)."""
    k_cost, k_fee = leg_totals_kalshi(_take(kalshi_levels, n), kalshi_fees)
    p_cost, p_fee = leg_totals_polymarket(_take(poly_levels, n), poly_rate)
    return n * PRICE_MAX - k_cost - k_fee - p_cost - p_fee


def evaluate_pair(pair: Pair, kalshi: Depth, token: Depth, kalshi_fees: KalshiFees, poly_rate: Fraction | str,
                  *, now_ms: int, resolution_ms: int, count_step: int = 100,
                  stale_ms: int = 5_000) -> list[ArbOpportunity]:
    """Both directions of one pair (module docstring), best first."""
    rate = Fraction(poly_rate) if not isinstance(poly_rate, Fraction) else poly_rate
    poly = on_kalshi_scale(token, pair.orientation)
    days = max(1.0, (resolution_ms - now_ms) / DAY_MS)
    out = []
    for direction in ArbDirection:
        if direction is ArbDirection.KALSHI_YES:
            k_levels = _levels_by_cost(kalshi.asks, from_bids=False)
            p_levels = _levels_by_cost(poly.bids, from_bids=True)
        else:
            k_levels = _levels_by_cost(kalshi.bids, from_bids=True)
            p_levels = _levels_by_cost(poly.asks, from_bids=False)
        out.append(_evaluate_direction(pair, direction, k_levels, p_levels, kalshi_fees, rate, days, count_step,
                                       kalshi.age_ms, poly.age_ms, stale_ms))
    return sorted(out, key=lambda o: (o.profit, o.top_edge), reverse=True)


def _evaluate_direction(pair: Pair, direction: ArbDirection, k_levels: list[tuple[int, int]],
                        p_levels: list[tuple[int, int]], fees: KalshiFees, rate: Fraction, days: float,
                        step: int, k_age: int, p_age: int, stale_ms: int) -> ArbOpportunity:
    depth = min(sum(c for _, c in k_levels), sum(c for _, c in p_levels))
    max_n = depth // step * step
    top_edge = (pair_profit(k_levels, p_levels, step, fees, rate) / (step / 100) / 1e6) if max_n >= step else 0.0
    best_n, best_profit = 0, 0
    if max_n:
        cuts, acc = set(), 0
        for levels in (k_levels, p_levels):
            acc = 0
            for _, count in levels:
                acc += count
                cuts.add(min(acc, max_n) // step * step)
        cuts.add(max_n)
        for n in sorted(c for c in cuts if c > 0):
            # costs only rise: once a unit loses money before fees, no larger n can gain
            k_cost = _take(k_levels, n)[-1][0]
            p_cost = _take(p_levels, n)[-1][0]
            profit = pair_profit(k_levels, p_levels, n, fees, rate)
            if profit > best_profit:
                best_n, best_profit = n, profit
            if k_cost + p_cost >= PRICE_MAX:
                break
    risks = _risks(pair, direction, best_n, k_levels, p_levels, k_age, p_age, stale_ms)
    if best_n == 0:
        return ArbOpportunity(pair, direction, top_edge, 0, None, None, 0, 0, days, 0.0, 0.0, risks)
    k_fills, p_fills = _take(k_levels, best_n), _take(p_levels, best_n)
    k_cost, k_fee = leg_totals_kalshi(k_fills, fees)
    p_cost, p_fee = leg_totals_polymarket(p_fills, rate)
    capital = k_cost + k_fee + p_cost + p_fee
    r = best_profit / capital
    k_what = "buy YES" if direction is ArbDirection.KALSHI_YES else "buy NO"
    kalshi_leg = ArbLeg("kalshi", f"{k_what} {pair.kalshi_ticker}", k_fills[-1][0], best_n, k_cost, k_fee)
    poly_leg = ArbLeg("polymarket", _poly_instruction(pair, direction), p_fills[-1][0], best_n, p_cost, p_fee)
    if p_cost < POLYMARKET_MIN_MARKETABLE_MICROS:
        risks = (*risks, "Polymarket refuses marketable orders under $1.00 notional: this leg is too small")
    return ArbOpportunity(pair, direction, top_edge, best_n, kalshi_leg, poly_leg, best_profit, capital, days,
                          100.0 * r, _annualized_pct(r, days), risks)


def _annualized_pct(r: float, days: float) -> float:
    """Compounded over a year; a large return close to resolution overflows a float: infinite, not an error."""
    try:
        return 100.0 * ((1.0 + r) ** (365.0 / days) - 1.0)
    except OverflowError:
        return math.inf


def _poly_instruction(pair: Pair, direction: ArbDirection) -> str:
    wants_kalshi_no = direction is ArbDirection.KALSHI_YES
    token_pays_on_kalshi_no = pair.orientation is Orientation.INVERTED
    if wants_kalshi_no == token_pays_on_kalshi_no:
        return f"buy token {pair.polymarket_token_id}"
    return f"buy the other outcome of condition {pair.polymarket_condition_id} (not token {pair.polymarket_token_id})"


def _risks(pair: Pair, direction: ArbDirection, n: int, k_levels: list[tuple[int, int]],
           p_levels: list[tuple[int, int]], k_age: int, p_age: int, stale_ms: int) -> tuple[str, ...]:
    out = []
    if not pair.verified:
        out.append("unverified pair: shown only, never auto-traded; read both venues' resolution rules and set "
                   "verified = true in the pair registry")
    if n:
        out.append("leg risk: the two legs fill separately; if the second fails you hold the first unhedged "
                   f"({n / 100:g} contracts)")
        out.append("the Polymarket leg is placed by hand: the desk trades only the Kalshi leg")
        k_depth, p_depth = sum(c for _, c in k_levels), sum(c for _, c in p_levels)
        if n >= k_depth:
            out.append("size limited by the whole visible Kalshi book")
        if n >= p_depth:
            out.append("size limited by the whole visible Polymarket book")
    for venue, age in (("Kalshi", k_age), ("Polymarket", p_age)):
        if age > stale_ms:
            out.append(f"{venue} book is {age / 1000:.1f} s old: prices may have moved")
    if pair.notes:
        out.append(f"resolution notes: {pair.notes}")
    return tuple(out)
