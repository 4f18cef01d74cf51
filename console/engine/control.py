"""`Control`: the one way into the engine (DESIGN.md section 3).

Front ends (the TUI, headless mode, the CLI, tests) submit frozen command objects, read the latest
immutable `DeskSnapshot`, and subscribe to discrete events. The kernel thread is the only consumer of
commands and the only producer of snapshots and events:

- `submit()` is thread-safe and never blocks; `Flatten` and `Halt` jump the queue.
- `snapshot()` returns the newest published snapshot (a plain attribute read: publishing swaps one
  reference, so readers never see a half-built snapshot).
- subscribers are called from the kernel thread for every event, in order, never dropped; they must
  not block (the TUI calls `post_message`, headless puts the event on its own queue).
"""

from __future__ import annotations

import itertools
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from console.domain.side import Side


class Mode(StrEnum):
    MANUAL = "MANUAL"  # intents wait for the operator's keypress
    AUTO = "AUTO"  # intents that pass risk are sent
    HALTED = "HALTED"  # nothing new is sent; cancels and flatten still work


class ExitPolicy(StrEnum):
    LEAVE = "leave"
    CANCEL = "cancel"
    FLATTEN = "flatten"


# --- commands ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlaceOrder:
    """A manual order (risk-checked like any other). Price on the YES scale; `side` BID buys YES."""

    ticker: str
    side: Side
    price: int
    count: int
    time_in_force: str = "good_till_canceled"
    post_only: bool = False
    reduce_only: bool = False
    venue: str = "kalshi"


@dataclass(frozen=True, slots=True)
class CancelOrder:
    client_order_id: str


@dataclass(frozen=True, slots=True)
class CancelAll:
    """Cancel resting orders; by default bot orders only, `include_manual=True` for every order."""

    include_manual: bool = True
    ticker: str | None = None


@dataclass(frozen=True, slots=True)
class Flatten:
    reason: str = "operator"


@dataclass(frozen=True, slots=True)
class SetAuto:
    on: bool


@dataclass(frozen=True, slots=True)
class Approve:
    intent_id: str


@dataclass(frozen=True, slots=True)
class Reject:
    intent_id: str


@dataclass(frozen=True, slots=True)
class Halt:
    reason: str


@dataclass(frozen=True, slots=True)
class Resume:
    pass


@dataclass(frozen=True, slots=True)
class Watch:
    tickers: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Shutdown:
    policy: ExitPolicy = ExitPolicy.CANCEL


@dataclass(frozen=True, slots=True)
class CheckOrder:
    """Run the risk gate on `order` without sending it (the manual ticket shows the verdict before the
    confirming keypress). The kernel answers with one `OrderChecked` event carrying the same `request_id`."""

    request_id: str
    order: PlaceOrder


Command = (
    PlaceOrder | CancelOrder | CancelAll | Flatten | SetAuto | Approve | Reject | Halt | Resume | Watch | Shutdown
    | CheckOrder
)
PRIORITY_COMMANDS = (Flatten, Halt)


# --- events ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IntentProposed:
    intent_id: str
    ticker: str
    side: Side
    price: int
    count: int
    strategy: str
    edge_after_fees: float
    reason: str
    expires_ms: int


@dataclass(frozen=True, slots=True)
class IntentExpired:
    intent_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class OrderUpdated:
    client_order_id: str
    ticker: str
    state: str
    side: Side
    price: int
    filled: int
    remaining: int
    origin: str  # "manual" or the strategy name
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Filled:
    client_order_id: str
    ticker: str
    side: Side
    price: int
    count: int
    fee: int
    is_taker: bool
    origin: str


@dataclass(frozen=True, slots=True)
class RiskBreached:
    rule: str
    message: str
    new_mode: Mode


@dataclass(frozen=True, slots=True)
class VenueHealth:
    venue: str
    status: str  # green | amber | red
    reason: str


@dataclass(frozen=True, slots=True)
class Alert:
    level: str  # info | warn | error
    kind: str  # fill | rejection | reconciliation | venue | flatten | mode | ...
    message: str
    ts_ms: int = 0


@dataclass(frozen=True, slots=True)
class OrderChecked:
    """The answer to `CheckOrder`: `ok` when the risk gate passes; otherwise every rule that fired
    (stable names from console.domain.risk.RULES) and their messages, joined, in `message`."""

    request_id: str
    ok: bool
    rules: tuple[str, ...] = ()
    message: str = ""


EngineEvent = (
    IntentProposed | IntentExpired | OrderUpdated | Filled | RiskBreached | VenueHealth | Alert | OrderChecked
)


# --- the snapshot ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BookTop:
    ticker: str
    venue: str
    bids: tuple[tuple[int, int], ...]  # (yes_price, count), best first
    asks: tuple[tuple[int, int], ...]  # (yes_price, count), best first
    health: str  # green | amber | red
    health_reason: str
    last_price: int | None = None
    own_orders: tuple[tuple[Side, int, int], ...] = ()  # (side, yes_price, remaining) of our resting orders


@dataclass(frozen=True, slots=True)
class MarketRow:
    ticker: str
    venue: str
    title: str
    category: str
    last_price: int | None
    yes_bid: int | None
    yes_ask: int | None
    edge_after_fees: float | None
    health: str
    health_reason: str


@dataclass(frozen=True, slots=True)
class EdgeRow:
    ticker: str
    model: str
    model_prob: float
    yes_bid: int | None
    yes_ask: int | None
    side: Side | None
    edge_after_fees: float
    suggested_count: int
    signal: str  # e.g. "BUY YES" or the reason for no trade


@dataclass(frozen=True, slots=True)
class ArbRow:
    kalshi_ticker: str
    polymarket_token: str
    direction: str
    net_edge: float
    executable_count: int
    annualized_return: float  # percent a year (9.4 = 9.4%), inf when it resolves almost at once
    verified: bool
    notes: str = ""


@dataclass(frozen=True, slots=True)
class OrderRow:
    client_order_id: str
    ticker: str
    side: Side
    price: int
    filled: int
    remaining: int
    state: str
    origin: str
    adopted: bool = False  # found at the venue by reconciliation, not placed by this desk's journal


@dataclass(frozen=True, slots=True)
class ProposalRow:
    intent_id: str
    ticker: str
    side: Side
    price: int
    count: int
    strategy: str
    edge_after_fees: float
    reason: str
    expires_ms: int


@dataclass(frozen=True, slots=True)
class PositionRow:
    ticker: str
    position: int  # signed count: > 0 YES, < 0 NO
    average_price: int  # on the held side's own scale
    mark: int | None
    realized_pnl: int
    unrealized_pnl: int | None
    fees: int
    capital_locked: int
    resolves_ms: int | None


@dataclass(frozen=True, slots=True)
class RiskMeter:
    name: str
    value: int | float
    limit: int | float
    unit: str  # "$", "contracts", "/min", "%"

    @property
    def fraction(self) -> float:
        return 0.0 if not self.limit else min(abs(self.value) / abs(self.limit), 1.0)


@dataclass(frozen=True, slots=True)
class DeskSnapshot:
    version: int = 0
    ts_ms: int = 0
    mode: Mode = Mode.MANUAL
    mode_reason: str = ""
    flattening: bool = False
    flatten_report: str = ""
    venue: str = ""
    venue_health: str = "amber"
    venue_reason: str = "starting"
    books: dict[str, BookTop] = field(default_factory=dict)
    markets: tuple[MarketRow, ...] = ()
    edges: tuple[EdgeRow, ...] = ()
    arbs: tuple[ArbRow, ...] = ()
    orders: tuple[OrderRow, ...] = ()
    proposals: tuple[ProposalRow, ...] = ()
    positions: tuple[PositionRow, ...] = ()
    risk: tuple[RiskMeter, ...] = ()
    blocked_markets: tuple[tuple[str, str], ...] = ()  # (ticker, why) e.g. an order of unknown outcome
    cost_to_flatten: int = 0
    pnl_today: tuple[int, ...] = ()  # marks for the sparkline, oldest first
    alerts: tuple[Alert, ...] = ()  # newest last, bounded


class Control:
    """Thread-safe command queue, snapshot slot and event fan-out between front ends and the kernel."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._commands: deque[Command] = deque()
        self._wakeup = threading.Event()
        self._snapshot = DeskSnapshot()
        self._subscribers: dict[int, Callable[[EngineEvent], None]] = {}
        self._ids = itertools.count(1)

    # front-end side --------------------------------------------------------------------------

    def submit(self, command: Command) -> None:
        with self._lock:
            if isinstance(command, PRIORITY_COMMANDS):
                self._commands.appendleft(command)
            else:
                self._commands.append(command)
        self._wakeup.set()

    def snapshot(self) -> DeskSnapshot:
        return self._snapshot

    def subscribe(self, callback: Callable[[EngineEvent], None]) -> Callable[[], None]:
        """Register an event callback; returns a function that unsubscribes it."""
        with self._lock:
            key = next(self._ids)
            self._subscribers[key] = callback

        def unsubscribe() -> None:
            with self._lock:
                self._subscribers.pop(key, None)

        return unsubscribe

    # kernel side -----------------------------------------------------------------------------

    def drain(self) -> list[Command]:
        """All queued commands, priority ones first (kernel thread only)."""
        with self._lock:
            commands = list(self._commands)
            self._commands.clear()
            self._wakeup.clear()
        return commands

    def wait(self, timeout_s: float) -> bool:
        """Block until a command arrives or the timeout passes (kernel thread only)."""
        return self._wakeup.wait(timeout_s)

    def wake(self) -> None:
        """Wake the kernel without a command (the io thread calls this when events arrive)."""
        self._wakeup.set()

    def publish(self, snapshot: DeskSnapshot) -> None:
        self._snapshot = snapshot

    def emit(self, event: EngineEvent) -> None:
        with self._lock:
            subscribers = list(self._subscribers.values())
        for callback in subscribers:
            callback(event)
