"""What the kernel and the io thread say to each other.

Actions go from the kernel to the io thread (`IoThread.submit`); every action that talks to the
venue answers with one result put on the kernel's inbox. Both are plain frozen dataclasses so a
recorded session (the items the kernel handled, in order) can be replayed through a fresh kernel.

Units as everywhere: YES-scale pips, count in hundredths of a contract, money in micro-dollars.
Timestamps are the kernel clock's Unix milliseconds unless a name says otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from console.domain.fees import KalshiFees
from console.domain.grid import PriceGrid
from console.domain.portfolio import MarketInfo
from console.venues.events import BookSnapshot
from console.venues.kalshi import codec_rest as r
from console.venues.kalshi.orders import OrderSpec

# --- market metadata ------------------------------------------------------------------------------


@dataclass(frozen=True)
class MarketMeta:
    """What the engine keeps about a market besides its book (from REST market, event and series)."""

    ticker: str
    event_ticker: str
    title: str
    category: str
    status: str
    grid: PriceGrid
    fees: KalshiFees
    mutually_exclusive: bool = False
    close_ts: int = 0

    def info(self) -> MarketInfo:
        return MarketInfo(self.ticker, self.event_ticker, self.category, self.mutually_exclusive,
                          self.close_ts, self.fees)


# --- actions: kernel -> io ---------------------------------------------------------------------


@dataclass(frozen=True)
class SendOrder:
    spec: OrderSpec


@dataclass(frozen=True)
class CancelOrderAction:
    client_order_id: str
    order_id: str


@dataclass(frozen=True)
class AmendOrderAction:
    client_order_id: str
    order_id: str
    ticker: str
    side: object  # Side
    price: int
    count: int  # new total (filled + wanted remaining)


@dataclass(frozen=True)
class CancelAllAction:
    reason: str


@dataclass(frozen=True)
class LoadMarkets:
    """Fetch metadata (and subscribe books) for these tickers; None = the venue's open markets."""

    tickers: tuple[str, ...] | None
    limit: int = 50
    subscribe: bool = True


@dataclass(frozen=True)
class UnknownLookup:
    client_order_id: str
    ticker: str
    sent_wall_s: float


@dataclass(frozen=True)
class OpenLookup:
    client_order_id: str
    order_id: str | None
    ticker: str


@dataclass(frozen=True)
class ReconcileAction:
    """Read the venue's view: resting orders, the named local orders, fills since `fills_since_s`, positions."""

    pass_id: int
    reason: str
    unknown: tuple[UnknownLookup, ...] = ()
    open: tuple[OpenLookup, ...] = ()
    fills_since_s: int = 0
    settlements_since_s: int | None = None  # also read the account's settlements since then (None: do not)
    resolve: tuple[str, ...] = ()  # markets whose result to read (predictions waiting for an outcome)


@dataclass(frozen=True)
class FlattenFetch:
    """One flatten round: read positions and fresh books for these tickers (all positions if empty)."""

    round_no: int
    tickers: tuple[str, ...] = ()


@dataclass(frozen=True)
class FetchBalance:
    pass


@dataclass(frozen=True)
class EnsureOrderGroup:
    contracts_limit: int  # hundredths of a contract


# --- results: io -> kernel ---------------------------------------------------------------------


@dataclass(frozen=True)
class OrderAnswer:
    """The create's outcome: `result` when accepted; else `outcome` rejected | unknown, with the reason."""

    client_order_id: str
    result: r.CreateOrderResult | None = None
    outcome: str = "accepted"  # accepted | rejected | unknown
    code: str = ""
    message: str = ""
    status: int = 0
    sent_wall_s: float = 0.0


@dataclass(frozen=True)
class CancelAnswer:
    client_order_id: str
    ok: bool
    reduced_by: int | None = None
    message: str = ""
    gone: bool = False  # the venue says the order no longer rests (already filled or cancelled)


@dataclass(frozen=True)
class AmendAnswer:
    client_order_id: str
    ok: bool
    price: int = 0
    count: int = 0
    fill_count: int | None = None
    remaining_count: int | None = None
    message: str = ""


@dataclass(frozen=True)
class CancelAllAnswer:
    ok: bool
    reason: str
    message: str = ""


@dataclass(frozen=True)
class MarketsLoaded:
    markets: tuple[MarketMeta, ...]
    missing: tuple[str, ...] = ()
    message: str = ""


@dataclass(frozen=True)
class ReconcileResult:
    pass_id: int
    reason: str
    ok: bool
    resting: tuple[r.Order, ...] = ()
    looked_up: tuple[tuple[str, r.Order | None], ...] = ()  # (client_order_id, order or None = not at venue)
    fills: tuple[r.Fill, ...] = ()
    positions: tuple[r.MarketPosition, ...] = ()
    message: str = ""
    settlements: tuple[r.Settlement, ...] = ()
    results: tuple[tuple[str, str, int | None], ...] = ()  # (ticker, "yes" | "no", YES value pips) of finalized markets


@dataclass(frozen=True)
class FlattenBooks:
    round_no: int
    ok: bool
    positions: dict[str, int] = field(default_factory=dict)  # ticker -> signed count at the venue
    books: dict[str, BookSnapshot] = field(default_factory=dict)
    message: str = ""


@dataclass(frozen=True)
class BalanceLoaded:
    balance: int  # available cash, micro-dollars


@dataclass(frozen=True)
class OrderGroupReady:
    order_group_id: str | None
    message: str = ""


@dataclass(frozen=True)
class RequestOutcome:
    """One venue request finished (for the venue-error breaker): ok or an error."""

    ok: bool
    what: str = ""


# --- the kernel's own items ----------------------------------------------------------------------


@dataclass(frozen=True)
class Tick:
    """Time passed (timers: proposal TTLs, breakers, reconciliation, flatten deadlines)."""


@dataclass(frozen=True)
class Evaluate:
    """Run the strategies on the markets whose books changed since the last evaluation."""


@dataclass(frozen=True)
class WorkDone:
    """A worker-pool job finished: its result, or the error it raised (`Kernel.run_in_worker`)."""

    tag: str
    result: object = None
    error: str = ""


@dataclass(frozen=True)
class Note:
    """An alert to raise once the kernel runs (e.g. what start-up recovered, before anyone subscribed)."""

    level: str
    kind: str
    message: str


@dataclass(frozen=True)
class WatchdogFired:
    reason: str
