"""Events the exchange core emits, consumed by the WebSocket fan-out (and the fault layer).

The core (`console.sim.exchange.Exchange`) is synchronous and single-threaded; it runs on the
server's asyncio loop and calls every registered listener synchronously, in order, for each event.
All values are in DESIGN.md units: prices in pips on the YES scale, counts in hundredths of a
contract, money in micro-dollars, times in Unix milliseconds.

Book sides: the core keeps one YES-scale book. `BookSide.BID` levels are YES bids at YES prices;
`BookSide.ASK` levels are YES asks at YES prices, which Kalshi's wire shows as NO bids at the NO price
(10000 - price) unless a subscriber asked for `use_yes_price`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class BookSide(StrEnum):
    BID = "bid"  # wants YES
    ASK = "ask"  # wants NO

    @property
    def outcome(self) -> str:
        return "yes" if self is BookSide.BID else "no"

    @property
    def opposite(self) -> BookSide:
        return BookSide.ASK if self is BookSide.BID else BookSide.BID


@dataclass(frozen=True, slots=True)
class BookDelta:
    """The resting count at one level changed by `delta` (signed)."""

    ticker: str
    side: BookSide
    price: int  # YES scale
    delta: int
    ts_ms: int
    account_id: str | None = None  # owner of the order that caused the change
    client_order_id: str | None = None


@dataclass(frozen=True, slots=True)
class TradePrinted:
    trade_id: str
    ticker: str
    yes_price: int
    count: int
    taker_side: BookSide
    ts_ms: int


@dataclass(frozen=True, slots=True)
class FillHappened:
    """One side of one match, for the account that owns the order."""

    account_id: str
    fill_id: str  # equals the trade id
    order_id: str
    client_order_id: str | None
    ticker: str
    side: BookSide
    yes_price: int
    count: int
    fee: int  # micro-dollars charged on this fill (trade fee + rounding fee)
    is_taker: bool
    post_position: int  # signed count: > 0 long YES, < 0 long NO
    ts_ms: int
    exchange_index: int = 0


@dataclass(frozen=True, slots=True)
class OrderChanged:
    """An order was created, filled, amended, decreased or cancelled.

    `order` is the core's order object at that moment; the API layer serialises it (it exposes the
    same attributes as the REST Order). `reason` is Kalshi's `last_update_reason` or None on creation.
    """

    account_id: str
    order: Any
    reason: str | None
    ts_ms: int


@dataclass(frozen=True, slots=True)
class PositionChanged:
    account_id: str
    ticker: str
    position: int  # signed count
    position_cost: int  # micro-dollars paid for the open position
    realized_pnl: int
    fees_paid: int
    volume: int  # count units traded in this market
    ts_ms: int


@dataclass(frozen=True, slots=True)
class MarketLifecycle:
    """`market_lifecycle_v2` payload: event_type plus the fields for that type, already wire-shaped."""

    ticker: str
    event_type: str  # created | activated | deactivated | close_date_updated | determined | settled | ...
    fields: dict[str, Any] = field(default_factory=dict)
    ts_ms: int = 0


@dataclass(frozen=True, slots=True)
class EventLifecycle:
    event_ticker: str
    fields: dict[str, Any] = field(default_factory=dict)
    ts_ms: int = 0


@dataclass(frozen=True, slots=True)
class OrderGroupChanged:
    account_id: str
    order_group_id: str
    event_type: str  # created | triggered | reset | deleted | limit_updated
    contracts_limit: int | None  # count units, only on created / limit_updated
    ts_ms: int


@dataclass(frozen=True, slots=True)
class TickerChanged:
    """Top of book, last trade, volume or open interest of a market changed."""

    ticker: str
    ts_ms: int


ExchangeEvent = (
    BookDelta
    | TradePrinted
    | FillHappened
    | OrderChanged
    | PositionChanged
    | MarketLifecycle
    | EventLifecycle
    | OrderGroupChanged
    | TickerChanged
)
