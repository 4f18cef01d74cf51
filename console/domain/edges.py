"""Edges after fees, and an explicit reason for every market that is not traded.

For a model probability p of YES and a market's top of book on the YES scale:

- buying YES (Side.BID) costs the YES ask a: edge = p - a;
- buying NO (Side.ASK) costs the NO price 1 - b, b the YES bid: edge = (1 - p) - (1 - b);
- the venue's fee for that order type (taker: the opposite touch; maker: joining one's own touch)
  is subtracted per contract, computed exactly for a reference order size and rounded as Kalshi
  rounds it (console.domain.fees), so every edge the desk shows is after fees.

A market is tradeable when the better side's edge after fees clears the category's minimum and no
gate is closed. Otherwise `EdgeRow.reason` says why, first match wins: no model probability, book red,
cooling off after a loss, low-quality conditions, no executable price, no edge even before fees, edge
eaten by fees, edge below the category minimum, risk limit.

Probabilities are floats; prices are int pips. The step from one to the other is explicit and
rounded onto the market's PriceGrid (`probability_to_price`, `best_limit_price`).

Fees come from a per-schedule table of all 10,001 prices (built once per fee schedule, order size and
role), so evaluating 500 markets takes about a millisecond.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache

from console.domain.fees import FeeType, KalshiFees
from console.domain.grid import PriceGrid
from console.domain.side import Side
from console.domain.units import PRICE_MAX


class OrderType(StrEnum):
    TAKER = "taker"  # cross the spread now: YES ask to buy YES, YES bid (1 - bid as NO) to buy NO
    MAKER = "maker"  # join one's own touch and wait: YES bid to buy YES, YES ask to buy NO


class NoTrade(StrEnum):
    NO_MODEL = "no_model"
    BOOK_RED = "book_red"
    COOLING_OFF = "cooling_off"
    LOW_QUALITY = "low_quality"
    NO_BOOK = "no_book"
    NO_EDGE = "no_edge"
    BELOW_FEES = "below_fees"
    BELOW_MIN_EDGE = "below_min_edge"
    RISK_LIMIT = "risk_limit"


@dataclass(frozen=True, slots=True)
class Gates:
    """Conditions outside the price that keep a market out of trading; a string says why it is closed."""

    book_red: str | None = None  # e.g. "sequence gap 40 s ago, resyncing"
    cooling_off: str | None = None  # e.g. "after a $120.00 loss, until 14:05"
    low_quality: str | None = None  # e.g. "spread 9c wider than 6c"
    risk_limit: str | None = None  # e.g. "election book at its worst-case loss bound"


OPEN = Gates()


@dataclass(frozen=True, slots=True)
class Quote:
    """The top of one market's book on the YES scale (None: that side is empty)."""

    ticker: str
    category: str
    fees: KalshiFees
    yes_bid: int | None
    yes_bid_count: int
    yes_ask: int | None
    yes_ask_count: int


@dataclass(frozen=True)
class EdgePolicy:
    min_edge_by_category: Mapping[str, float] = field(default_factory=dict)
    default_min_edge: float = 0.02  # dollars per contract after fees
    order_type: OrderType = OrderType.TAKER
    reference_count: int = 1000  # count units (10 contracts) the fee per contract is computed for

    def min_edge(self, category: str) -> float:
        return self.min_edge_by_category.get(category, self.default_min_edge)


@dataclass(frozen=True, slots=True)
class SideEdge:
    """One way of trading a market: buy YES (Side.BID) or buy NO (Side.ASK)."""

    side: Side
    yes_price: int  # the YES-scale limit price the order would carry
    cost: int  # pips per contract on the side's own scale (the YES price, or the NO price)
    prob: float  # the model's probability that this side pays
    edge_before_fees: float  # prob - cost, dollars per contract
    fee_per_contract: float  # dollars per contract at the policy's reference count
    edge_after_fees: float
    available: int  # count at that price (taker: the resting size to hit; maker: the queue joined)


@dataclass(frozen=True, slots=True)
class EdgeRow:
    ticker: str
    category: str
    model_prob: float | None
    yes: SideEdge | None
    no: SideEdge | None
    best: SideEdge | None  # the side with the larger edge after fees
    min_edge: float
    reason: NoTrade | None  # None: tradeable
    message: str

    @property
    def tradeable(self) -> bool:
        return self.reason is None


@lru_cache(maxsize=256)
def fee_table(fees: KalshiFees, count: int, maker: bool) -> tuple[int, ...]:
    """fees.trade_fee(price, count, maker=maker) for every price 0..10000 (built once, ~40 ms, then cached)."""
    if fees.fee_type is FeeType.FLAT:
        return (fees.trade_fee(5000, count, maker=maker),) * (PRICE_MAX + 1)
    return tuple(fees.trade_fee(p, count, maker=maker) for p in range(PRICE_MAX + 1))


def evaluate(quote: Quote, model_prob: float | None, policy: EdgePolicy = EdgePolicy(),
             gates: Gates = OPEN) -> EdgeRow:
    """The edge of both sides of one market after fees, and whether (or why not) to trade it."""
    min_edge = policy.min_edge(quote.category)
    if model_prob is None:
        return EdgeRow(quote.ticker, quote.category, None, None, None, None, min_edge, NoTrade.NO_MODEL,
                       "no model probability for this market")
    maker = policy.order_type is OrderType.MAKER
    count = policy.reference_count
    table = fee_table(quote.fees, count, maker)
    per_contract = 100.0 / (count * 1_000_000.0)  # fee micros for `count` units -> dollars per contract
    # YES side: taker pays the YES ask, maker joins the YES bid
    yes_price, yes_size = (quote.yes_bid, quote.yes_bid_count) if maker else (quote.yes_ask, quote.yes_ask_count)
    yes = None
    if yes_price is not None:
        before = model_prob - yes_price / PRICE_MAX
        fee = table[yes_price] * per_contract
        yes = SideEdge(Side.BID, yes_price, yes_price, model_prob, before, fee, before - fee, yes_size)
    # NO side: taker sells YES into the YES bid (NO price 1 - bid), maker joins the YES ask as a NO bid
    no_yes_price, no_size = (quote.yes_ask, quote.yes_ask_count) if maker else (quote.yes_bid, quote.yes_bid_count)
    no = None
    if no_yes_price is not None:
        cost = PRICE_MAX - no_yes_price
        before = (1.0 - model_prob) - cost / PRICE_MAX
        fee = table[cost] * per_contract
        no = SideEdge(Side.ASK, no_yes_price, cost, 1.0 - model_prob, before, fee, before - fee, no_size)
    best = yes if no is None or (yes is not None and yes.edge_after_fees >= no.edge_after_fees) else no
    reason, message = _reason(best, min_edge, quote.category, gates)
    return EdgeRow(quote.ticker, quote.category, model_prob, yes, no, best, min_edge, reason, message)


def _cents(dollars: float) -> str:
    return f"{dollars * 100:.2f}c"


def _reason(best: SideEdge | None, min_edge: float, category: str, gates: Gates) -> tuple[NoTrade | None, str]:
    if gates.book_red:
        return NoTrade.BOOK_RED, f"book red: {gates.book_red}"
    if gates.cooling_off:
        return NoTrade.COOLING_OFF, f"cooling off: {gates.cooling_off}"
    if gates.low_quality:
        return NoTrade.LOW_QUALITY, f"low-quality conditions: {gates.low_quality}"
    if best is None:
        return NoTrade.NO_BOOK, "no price to trade against on either side"
    what = "YES" if best.side is Side.BID else "NO"
    if best.edge_before_fees <= 0:
        return NoTrade.NO_EDGE, f"no edge: best is {what} at {_cents(best.edge_before_fees)} before fees"
    if best.edge_after_fees <= 0:
        return NoTrade.BELOW_FEES, (f"edge below fees: {what} {_cents(best.edge_before_fees)} before, "
                                    f"{_cents(best.fee_per_contract)} fee per contract")
    if best.edge_after_fees < min_edge:
        return NoTrade.BELOW_MIN_EDGE, (f"{what} edge {_cents(best.edge_after_fees)} after fees is below the "
                                        f"{_cents(min_edge)} minimum for {category}")
    if gates.risk_limit:
        return NoTrade.RISK_LIMIT, f"risk limit: {gates.risk_limit}"
    return None, f"buy {what}: {_cents(best.edge_after_fees)} after fees"


# --- probability -> price, explicitly rounded onto the grid ---------------------------------------


def probability_to_price(prob: float, grid: PriceGrid, rounding: str) -> int | None:
    """A probability as a YES-scale grid price: rounding "down", "up" or "nearest" (ties down)."""
    if not 0.0 <= prob <= 1.0:
        raise ValueError(f"probability {prob!r} outside [0, 1]")
    exact = prob * PRICE_MAX
    if rounding == "down":
        return grid.round_down(int(exact // 1))
    if rounding == "up":
        return grid.round_up(int(-(-exact // 1)))
    if rounding == "nearest":
        lo, hi = grid.round_down(int(exact // 1)), grid.round_up(int(-(-exact // 1)))
        if lo is None or hi is None:
            return lo if hi is None else hi
        return lo if exact - lo <= hi - exact else hi
    raise ValueError(f"rounding must be 'down', 'up' or 'nearest', got {rounding!r}")


def best_limit_price(prob_yes: float, side: Side, grid: PriceGrid, fees: KalshiFees, *, min_edge: float = 0.0,
                     count: int = 1000, maker: bool = False) -> int | None:
    """The most aggressive YES-scale grid price at which `side` still clears `min_edge` after fees.

    Buying YES: the highest YES price a with prob - a - fee(a) >= min_edge. Buying NO: the lowest YES
    price b with (1 - prob) - (1 - b) - fee(1 - b) >= min_edge. None when no grid price qualifies.
    """
    table = fee_table(fees, count, maker)
    per_contract = 100.0 / (count * 1_000_000.0)
    prices = grid.prices
    if side is Side.BID:
        ok = [a for a in prices if prob_yes - a / PRICE_MAX - table[a] * per_contract >= min_edge]
        return max(ok) if ok else None
    ok = [b for b in prices if (1 - prob_yes) - (PRICE_MAX - b) / PRICE_MAX - table[PRICE_MAX - b] * per_contract
          >= min_edge]
    return min(ok) if ok else None
