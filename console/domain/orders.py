"""Orders: the desk's record of one order, its state machine, and `client_order_id`s.

An `Order` is created locally (PENDING) when the engine decides to send it, then driven by what
the venue says about it: the REST create answer (`Accepted`, `Rejected`), a transport failure after
the request may have left (`SendFailed` -> UNKNOWN), WebSocket `user_order` updates and REST reads
(`VenueOrderUpdate`), `fill` messages (`Fill`), cancel answers (`CancelAcked`) and, during
reconciliation, the venue saying it has no such order (`NotFoundAtVenue`).

Why the state is *derived*: messages for one order arrive on three independent paths (the REST
answer, the `user_orders` channel and the `fill` channel), so any interleaving is possible: a fill
before the create answer, a `canceled` before a late fill, a stale `resting` after `executed`. The
order therefore keeps only facts that can be merged in any order (fill ids applied once, the highest
fill count the venue reported, "the venue said canceled", ...) and computes its state from them.
The same facts in any order give the same state. A terminal state (FILLED, CANCELLED, REJECTED) is
latched: later evidence that contradicts it is still counted (a fill is money and never dropped)
and recorded in `anomalies` for the engine to alert on and reconcile, but the state does not move.
UNKNOWN is not terminal: venue evidence or reconciliation moves it to RESTING/PARTIALLY_FILLED,
FILLED, CANCELLED or REJECTED.

Prices are YES-scale pips and counts hundredths of a contract (DESIGN.md section 4).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from enum import StrEnum

from console.domain.side import Side
from console.domain.units import PRICE_MAX, format_count, format_price

MANUAL = "manual"  # the origin of the operator's own orders; any other origin is a strategy (a bot)


class OrderState(StrEnum):
    PENDING = "pending"  # created locally; no answer from the venue yet
    RESTING = "resting"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    UNKNOWN = "unknown"  # the request may or may not have reached the venue (timeout, 5xx after send)

    @property
    def terminal(self) -> bool:
        return self in TERMINAL_STATES

    @property
    def open(self) -> bool:
        """May still rest on the book or fill (pending and unknown included: fail closed)."""
        return self not in TERMINAL_STATES


TERMINAL_STATES = frozenset({OrderState.FILLED, OrderState.CANCELLED, OrderState.REJECTED})


# --- events -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Accepted:
    """The REST create answer (201): the venue's order id and the counts at that moment."""

    order_id: str
    fill_count: int
    remaining_count: int
    ts_ms: int = 0


@dataclass(frozen=True, slots=True)
class Rejected:
    """The venue refused the order (4xx with an error code). Not for a 409 duplicate on retry:
    that means the order exists and must be reconciled, not rejected."""

    code: str
    message: str = ""
    status: int = 0
    ts_ms: int = 0


@dataclass(frozen=True, slots=True)
class SendFailed:
    """Timeout, lost connection or 5xx after the request may have left: the outcome is unknown."""

    reason: str
    ts_ms: int = 0


@dataclass(frozen=True, slots=True)
class VenueOrderUpdate:
    """A WebSocket `user_order`, or the order as a REST read shows it during reconciliation.

    `status` is the venue's: resting | canceled | executed | unknown.
    """

    order_id: str
    status: str
    fill_count: int
    remaining_count: int
    ts_ms: int = 0
    reason: str | None = None  # last_update_reason (ExpiryCancel, SelfTradeCancel, ...)


@dataclass(frozen=True, slots=True)
class Fill:
    """One fill of one of our orders: `price` is the YES-scale trade price, `fee` micro-dollars."""

    fill_id: str
    order_id: str
    ticker: str
    side: Side
    price: int
    count: int
    fee: int = 0
    is_taker: bool = True
    ts_ms: int = 0
    client_order_id: str | None = None

    def __post_init__(self) -> None:
        if self.count <= 0 or not 0 <= self.price <= PRICE_MAX or self.fee < 0:
            raise ValueError(f"fill {self.fill_id}: count {self.count}, price {self.price}, fee {self.fee} "
                             "are not a possible fill (count > 0, price 0..10000 pips, fee >= 0)")


@dataclass(frozen=True, slots=True)
class CancelAcked:
    """The venue answered a cancel: the unfilled remainder is gone (`reduced_by` units)."""

    reduced_by: int = 0
    ts_ms: int = 0
    order_id: str | None = None


@dataclass(frozen=True, slots=True)
class Amended:
    """The venue accepted an amend: new YES price and new *total* count (filled + wanted remaining)."""

    price: int
    count: int
    ts_ms: int = 0


@dataclass(frozen=True, slots=True)
class NotFoundAtVenue:
    """Reconciliation: the venue has no order with this client_order_id (it never arrived).

    Only meaningful for PENDING/UNKNOWN orders; the engine sends it after an authoritative lookup.
    """

    ts_ms: int = 0


OrderEvent = Accepted | Rejected | SendFailed | VenueOrderUpdate | Fill | CancelAcked | Amended | NotFoundAtVenue


@dataclass(frozen=True, slots=True)
class Applied:
    """What applying one event did: the state before and after, and whether anything changed."""

    before: OrderState
    after: OrderState
    changed: bool
    duplicate: bool = False  # a fill id already applied: ignored
    anomaly: str | None = None  # evidence contradicting a latched terminal state


# --- the order --------------------------------------------------------------------------------


@dataclass(eq=False)
class Order:
    """One order as the desk knows it. Create with `Order.new(...)`; feed events to `apply`."""

    client_order_id: str
    ticker: str
    side: Side
    price: int  # YES-scale limit price
    count: int  # total ordered (after amends), hundredths of a contract
    origin: str = MANUAL
    reduce_only: bool = False
    time_in_force: str = "good_till_canceled"
    created_ms: int = 0
    order_id: str | None = None
    updated_ms: int = 0
    # merged facts (see the module docstring): each can only grow, so arrival order cannot matter
    fill_ids: set[str] = field(default_factory=set)
    fill_total: int = 0  # sum of applied fills
    fill_notional: int = 0  # sum of YES price x count over applied fills (micro-dollars)
    fees: int = 0
    venue_fill_count: int = 0  # the highest fill count any venue answer reported
    exists_at_venue: bool = False
    closed_by_venue: bool = False  # create answer with nothing remaining (IOC rest cancelled, or all filled)
    canceled_seen: bool = False
    executed_seen: bool = False
    send_failed: bool = False
    not_found: bool = False
    rejection: Rejected | None = None
    cancel_requested: bool = False
    latched: OrderState | None = None
    anomalies: list[str] = field(default_factory=list)
    _state: OrderState = OrderState.PENDING  # cached by apply()/refresh(): read on every risk check

    @classmethod
    def new(cls, client_order_id: str, ticker: str, side: Side, price: int, count: int, *,
            origin: str = MANUAL, reduce_only: bool = False, time_in_force: str = "good_till_canceled",
            created_ms: int = 0) -> Order:
        if not 0 < price < PRICE_MAX:
            raise ValueError(f"order price {price} pips must be strictly between 0 and {PRICE_MAX}")
        if count <= 0:
            raise ValueError(f"order count {count} must be more than 0 (hundredths of a contract)")
        return cls(client_order_id, ticker, side, price, count, origin, reduce_only, time_in_force,
                   created_ms, updated_ms=created_ms)

    # --- reads --------------------------------------------------------------------------------
    @property
    def is_bot(self) -> bool:
        return self.origin != MANUAL

    @property
    def filled(self) -> int:
        """Count filled as far as anyone has told us (fills may lag the venue's own count)."""
        return max(self.fill_total, self.venue_fill_count)

    @property
    def unapplied(self) -> int:
        """Count the venue says filled whose fills have not reached us yet (a create answer or an order
        update outruns the fill channel): position the portfolio does not show yet but that exists."""
        return max(0, self.venue_fill_count - self.fill_total)

    @property
    def remaining(self) -> int:
        """Count that may still fill: 0 once terminal."""
        return 0 if self.state.terminal else max(0, self.count - self.filled)

    @property
    def state(self) -> OrderState:
        return self._state

    def refresh(self) -> OrderState:
        """Recompute the cached state after facts were set directly (restoring from the journal)."""
        self._state = self.latched if self.latched is not None else self._derive()
        return self._state

    def _derive(self) -> OrderState:
        exists = self.exists_at_venue or self.fill_total > 0
        if not exists:
            if self.rejection is not None or self.not_found:
                return OrderState.REJECTED
            return OrderState.UNKNOWN if self.send_failed else OrderState.PENDING
        filled = self.filled
        if self.executed_seen:
            return OrderState.FILLED
        if self.canceled_seen:
            return OrderState.CANCELLED
        if self.closed_by_venue or filled >= self.count:
            return OrderState.FILLED if filled >= self.count else OrderState.CANCELLED
        return OrderState.PARTIALLY_FILLED if filled > 0 else OrderState.RESTING

    # --- changes ------------------------------------------------------------------------------
    def request_cancel(self) -> None:
        """Note that a cancel was sent (the state moves only when the venue confirms)."""
        self.cancel_requested = True

    def apply(self, event: OrderEvent) -> Applied:
        """Merge one event; returns the state before/after. Duplicate fills are ignored."""
        before = self.state
        snapshot = self._facts()
        duplicate = False
        match event:
            case Fill():
                if event.fill_id in self.fill_ids:
                    duplicate = True
                else:
                    self.fill_ids.add(event.fill_id)
                    self.fill_total += event.count
                    self.fill_notional += event.price * event.count
                    self.fees += event.fee
                    self._learn_order_id(event.order_id)
            case Accepted():
                self._learn_order_id(event.order_id)
                self.venue_fill_count = max(self.venue_fill_count, event.fill_count)
                if event.remaining_count == 0:
                    self.closed_by_venue = True
            case VenueOrderUpdate():
                self._learn_order_id(event.order_id)
                self.venue_fill_count = max(self.venue_fill_count, event.fill_count)
                if event.status == "canceled":
                    self.canceled_seen = True
                elif event.status == "executed":
                    self.executed_seen = True
            case CancelAcked():
                self.canceled_seen = True
                self.exists_at_venue = True  # only an order the venue holds can be cancelled
                if event.order_id:
                    self._learn_order_id(event.order_id)
            case Amended():
                if not self.state.terminal:
                    self.price, self.count = event.price, event.count
            case Rejected():
                if self.rejection is None:
                    self.rejection = event
            case SendFailed():
                self.send_failed = True
            case NotFoundAtVenue():
                self.not_found = True
            case _:
                raise TypeError(f"not an order event: {event!r}")
        ts = getattr(event, "ts_ms", 0)
        if ts:
            self.updated_ms = max(self.updated_ms, ts)
        anomaly = None
        if before.terminal:
            derived = self._derive()
            if derived != before and not duplicate:
                anomaly = (f"{self.client_order_id}: {type(event).__name__} says {derived.value} "
                           f"after the order was {before.value}; kept {before.value}, reconcile")
                self.anomalies.append(anomaly)
        elif self._derive().terminal:
            self.latched = self._derive()
        after = self.refresh()
        return Applied(before, after, changed=self._facts() != snapshot or before != after,
                       duplicate=duplicate, anomaly=anomaly)

    def _learn_order_id(self, order_id: str) -> None:
        self.exists_at_venue = True
        if self.order_id is None:
            self.order_id = order_id
        elif order_id and order_id != self.order_id:
            self.anomalies.append(f"{self.client_order_id}: venue order id {order_id} differs from "
                                  f"{self.order_id} seen before")

    def _facts(self) -> tuple:
        return (self.fill_total, self.venue_fill_count, self.exists_at_venue, self.closed_by_venue,
                self.canceled_seen, self.executed_seen, self.send_failed, self.not_found,
                self.rejection, self.price, self.count)

    def describe(self) -> str:
        return (f"{self.client_order_id} {self.ticker} {self.side.value} {format_count(self.count)} @ "
                f"{format_price(self.price)} {self.state.value} filled {format_count(self.filled)}")


# --- client order ids -------------------------------------------------------------------------

_ORIGIN = re.compile(r"[-A-Za-z0-9_+=/]{1,24}\Z")
_SESSION = re.compile(r"[A-Za-z0-9]{1,12}\Z")
_CLIENT_ID = re.compile(r"ed:([A-Za-z0-9]{1,12}):([-A-Za-z0-9_+=/]{1,24}):([0-9a-z]{1,13})\Z")
_COUNTER_LIMIT = 36**13


@dataclass(frozen=True, slots=True)
class ParsedClientOrderId:
    session: str
    origin: str
    counter: int

    @property
    def is_bot(self) -> bool:
        return self.origin != MANUAL


def _base36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = digits[r] + out
        if not n:
            return out


class ClientOrderIds:
    """Unique `client_order_id`s: `ed:<session>:<origin>:<counter>` (<= 64 chars of `[-\\w:+=/]`).

    `origin` is "manual" or the strategy's name, so the venue's own records say who sent an order and a
    restart can tell bot orders from the operator's. The session prefix must differ between runs (use
    `random_session()`, or check it against the journal's past sessions); within a session the counter
    never repeats. An id is generated once per order and reused for every retry of that order.
    """

    def __init__(self, session: str, start: int = 0) -> None:
        if not _SESSION.match(session):
            raise ValueError(f"client order id session {session!r}: use 1-12 ASCII letters or digits")
        self.session = session
        self.counter = start

    @staticmethod
    def random_session() -> str:
        return secrets.token_hex(5)  # 10 hex chars; 2^40 sessions

    def next(self, origin: str) -> str:
        if not _ORIGIN.match(origin):
            raise ValueError(f"order origin {origin!r}: use 1-24 characters of A-Z a-z 0-9 - _ + = / "
                             "(strategy names go into the venue's client_order_id)")
        if self.counter >= _COUNTER_LIMIT:
            raise OverflowError("client order id counter exhausted; start a new session")
        cid = f"ed:{self.session}:{origin}:{_base36(self.counter)}"
        self.counter += 1
        return cid

    @staticmethod
    def parse(client_order_id: str | None) -> ParsedClientOrderId | None:
        """Split an id made by this class; None for anything else (orders placed outside the desk)."""
        match = _CLIENT_ID.match(client_order_id or "")
        if match is None:
            return None
        return ParsedClientOrderId(match.group(1), match.group(2), int(match.group(3), 36))

    @classmethod
    def origin_of(cls, client_order_id: str | None) -> str | None:
        parsed = cls.parse(client_order_id)
        return None if parsed is None else parsed.origin
