"""The strategy interface: pure objects that read market state and return intents.

A strategy never sends, cancels or remembers orders itself; it is handed a `MarketView` (the market's
live book, its health, our position and this strategy's own open orders there, and the kernel's
time) and returns `Intent`s. The engine owns everything after that: the risk gate, proposals in
MANUAL mode, sending in AUTO, retries, cancels, reconciliation. Strategies must be deterministic:
the same view gives the same intents (no wall clock, no unseeded randomness), which is what lets a
recorded session replay to the same decisions.

Two kinds of intent:
- an order (`quote=False`): "send this once" (typically IOC). The engine sends at most one order per
  (strategy, ticker, side) at a time: while one is pending or of unknown outcome, new ones wait.
- a quote (`quote=True`): "keep one resting order at this price and size in this slot" (slot =
  strategy, ticker, side). The engine amends the slot's order when the quote moves, creates it when
  there is none, and cancels it when a quote of count 0 arrives.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from console.domain.portfolio import BookView
from console.domain.side import Side
from console.engine.fair import ElectionState, FairValue
from console.engine.messages import MarketMeta


@dataclass(frozen=True, slots=True)
class Intent:
    """What a strategy wants. YES-scale price; count in hundredths of a contract."""

    ticker: str
    side: Side
    price: int
    count: int
    strategy: str
    reason: str = ""
    model_probability: float | None = None
    edge_after_fees: float = 0.0  # dollars per contract after fees (0 when the strategy has no model)
    ttl_ms: int = 0  # how long a MANUAL proposal lives; 0 = [risk] proposal_ttl_s
    time_in_force: str = "immediate_or_cancel"
    post_only: bool = False
    reduce_only: bool = False
    quote: bool = False


@dataclass(frozen=True, slots=True)
class OwnOrder:
    """One of the strategy's own open orders in the market (as the engine tracks it)."""

    client_order_id: str
    side: Side
    price: int
    remaining: int
    state: str


class DeskContext(Protocol):
    """What a strategy may read beyond its own market (implemented by the kernel's desk state).

    Every answer comes from kernel state built from the event sequence, so strategies stay
    deterministic. Prices YES-scale pips, counts hundredths, money micro-dollars.
    """

    @property
    def bankroll(self) -> int: ...  # account equity for sizing (micro-dollars)

    @property
    def election(self) -> ElectionState | None: ...  # the latest correlated election model, if any

    def book(self, ticker: str, venue: str = "kalshi") -> BookView | None: ...  # any watched book, any venue

    def healthy(self, ticker: str, venue: str = "kalshi") -> bool: ...

    def fair(self, ticker: str) -> FairValue | None: ...

    def meta(self, ticker: str) -> MarketMeta | None: ...

    def position(self, ticker: str) -> int: ...  # signed, including fills still on their way

    def shrink(self, model: str, category: str) -> float: ...  # calibration's sizing factor, 0..1 (1 = full)

    def last_loss_ms(self) -> int | None: ...  # when the desk last booked a large loss (cooling-off), if ever


@dataclass(frozen=True, slots=True)
class MarketView:
    """A strategy's read-only view of one market at one moment."""

    ticker: str
    book: BookView
    healthy: bool
    position: int  # signed count: > 0 long YES, < 0 long NO (fills reported but not yet received included)
    own_orders: tuple[OwnOrder, ...]
    now_ms: int
    meta: MarketMeta | None = None  # fees, grid, category, close time
    fair: FairValue | None = None  # the latest model value for this market, if a model prices it
    context: DeskContext | None = None  # the rest of the desk (other books, election model, bankroll)

    def own_at(self, side: Side, price: int) -> int:
        """Our own resting count at a level (so a strategy can see the book without itself)."""
        return sum(o.remaining for o in self.own_orders if o.side is side and o.price == price)


class Strategy(Protocol):
    name: str
    #: the markets this strategy trades; None = every watched market
    tickers: frozenset[str] | None

    def evaluate(self, view: MarketView) -> Sequence[Intent]: ...


class StrategyConfigError(ValueError):
    """A strategy table in config.toml [engine.strategies] is wrong; the message names the key."""
