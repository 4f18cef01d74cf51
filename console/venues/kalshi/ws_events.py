"""Feed state of the Kalshi WebSocket client: its counters (`WsStats`), its command error, and the
events it emits beside the market data (for health and books).

The market data itself reaches the sink as `console.venues.events.BookSnapshot` / `BookDelta` (order
books, YES scale) and as the decoded envelopes of `codec_ws` (ticker, trade, fill, market_position,
user_order, order_group_updates, market_lifecycle_v2, event_lifecycle). These events tell the desk
when that stream cannot be trusted and when it was repaired.
"""

from __future__ import annotations

from dataclasses import dataclass

import msgspec

from console.venues.errors import VenueError


class FeedConnected(msgspec.Struct, frozen=True):
    """A connection is up and every wanted subscription was (re)made. `connection` counts from 1."""

    venue: str
    connection: int


class FeedDisconnected(msgspec.Struct, frozen=True):
    venue: str
    reason: str


class SeqGap(msgspec.Struct, frozen=True):
    """A sequence gap (`kind="gap"`) or duplicate/late message (`kind="duplicate"`) on one sid.

    On `orderbook_delta` every market of the subscription may be wrong until its next snapshot
    (`resync=True`: the client has asked for them). On other sequenced channels events may be missing:
    reconcile through REST.
    """

    venue: str
    sid: int
    channel: str
    kind: str
    expected: int
    got: int
    tickers: tuple[str, ...] = ()
    resync: bool = False


class SilenceDetected(msgspec.Struct, frozen=True):
    """Nothing arrived for `seconds` (and a probe went unanswered): the client reconnects."""

    venue: str
    seconds: float


class SubscriptionLost(msgspec.Struct, frozen=True):
    """The venue dropped a subscription (error 10 channel error, 25 buffer overflow); it is remade."""

    venue: str
    channel: str
    sid: int
    code: int
    reason: str


class FeedDecodeError(msgspec.Struct, frozen=True):
    """A frame that could not be decoded exactly; counted, never replaced by defaults."""

    venue: str
    detail: str
    sid: int | None = None
    seq: int | None = None


class WsCommandError(VenueError):
    """The venue refused a WebSocket command (Kalshi's numeric code is in `code`)."""


@dataclass
class WsStats:
    """Counters for the health view (all since the client was made)."""

    connected: bool = False
    connections: int = 0
    reconnects: int = 0
    messages: int = 0
    decode_errors: int = 0
    unknown_types: int = 0
    gaps: int = 0
    duplicates: int = 0
    snapshot_requests: int = 0
    silences: int = 0
    subscriptions_lost: int = 0
    last_error: str = ""
    last_message_at: float | None = None  # time.monotonic()
