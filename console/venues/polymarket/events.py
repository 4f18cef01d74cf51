"""Feed-state events of the Polymarket market-channel client (beside the book events and decoded messages).

Connection events are the venue-generic ones the Kalshi client also emits (`FeedConnected`,
`FeedDisconnected`, `FeedDecodeError` with `venue="polymarket"`), so the book layer treats both feeds
alike. Polymarket has no sequence numbers; the book hash is its only consistency check, reported here.
"""

from __future__ import annotations

import msgspec

from console.venues.kalshi.ws_events import (
    FeedConnected,
    FeedDecodeError,
    FeedDisconnected,
)

__all__ = ["BookHashMismatch", "FeedConnected", "FeedDecodeError", "FeedDisconnected", "StaleBook", "TokenMeta"]


class TokenMeta(msgspec.Struct, frozen=True):
    """What the book hash covers but the WebSocket `book` message omits (from Gamma or the REST book)."""

    min_order_size: str  # exactly as the venue writes it in /book ("5")
    neg_risk: bool


class BookHashMismatch(msgspec.Struct, frozen=True):
    """A token's local book does not hash to what the venue sent: the copy is wrong (a lost or altered
    message). The client resubscribes the token; its book is untrustworthy until the next `BookSnapshot`.

    `where` is "book" (a snapshot that does not match its own hash) or "price_change" (the local book
    after applying an entry).
    """

    venue: str
    asset_id: str
    where: str
    expected: str
    got: str


class StaleBook(msgspec.Struct, frozen=True):
    """A token's book cannot be trusted until its next snapshot: after `tick_size_change` (the venue
    sends a fresh book), or a change for a token whose snapshot has not arrived yet."""

    venue: str
    asset_id: str
    reason: str
