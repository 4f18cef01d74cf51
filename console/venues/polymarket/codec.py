"""Polymarket wire decoding (Gamma, CLOB REST, market WebSocket) into typed structs in exact units.

Number types are in `wire` (prices in pips, sizes in hundredths of a share); Gamma's structs in
`codec_gamma` (re-exported here). Book levels keep their exact strings as well (`RawPrice` /
`RawSize`), because the book `hash` is computed over them.

Entry points:
- `decode_rest(kind, body, what)`: a REST body into `kind` (e.g. `ClobBook`, `list[ClobBook]`,
  `GammaMarketsPage`); `DecodeError` on anything inexact or missing;
- `decode_ws(frame)`: one text frame (a JSON object, or an array of them: the initial dump) into a
  list of messages; an unknown `event_type` becomes `UnknownMessage`, the legacy (pre-2025)
  `price_change` without `price_changes` is a `DecodeError`;
- `book_snapshot` / `level_sets`: into the desk's `BookSnapshot` / `BookLevelSet` for one token
  (`ticker` = the token id; prices on the token's own scale, which is its YES scale; BUY = `Side.BID`);
- `book_hash`: the hash recipe of polymarket-api.md 4.1, verified on the 2026 captures.
"""

from __future__ import annotations

import hashlib
import json
from typing import Literal, Union

import msgspec

from console.domain.side import Side
from console.domain.units import parse_count, parse_price
from console.venues.errors import DecodeError
from console.venues.events import BookLevelSet, BookSnapshot
from console.venues.polymarket.codec_gamma import (
    FeeSchedule,
    GammaEvent,
    GammaEventRef,
    GammaEventsPage,
    GammaMarket,
    GammaMarketsPage,
)
from console.venues.polymarket.wire import (
    Price,
    RawPrice,
    RawSize,
    TradeSize,
    Wire,
    decode,
    decoder,
)

VENUE = "polymarket"

__all__ = [
    "VENUE", "BestBidAsk", "ClobBook", "FeeRateReply", "FeeSchedule", "GammaEvent", "GammaEventRef", "GammaEventsPage",
    "GammaMarket", "GammaMarketsPage", "LastTradePrice", "Level", "MarketResolved", "MidpointReply", "NewMarket",
    "PriceChange", "PriceChangeEntry", "PriceReply", "SpreadReply", "TickSizeChange", "TickSizeReply",
    "UnknownMessage", "WsBook", "WsMessage", "book_hash", "book_snapshot", "decode_rest", "decode_ws", "level_set",
    "level_sets", "rest_book_hash_ok",
]

# --- shared ---------------------------------------------------------------------------------------


class Level(Wire):
    price: RawPrice
    size: RawSize


def _millis(text: str) -> int:
    if not (text.isascii() and text.isdigit()):
        raise ValueError(f"timestamp {text!r} is not epoch milliseconds")
    return int(text)


def _check(name: str, parse, value: str | None) -> None:
    """Validate an exact-string field in __post_init__, naming it in the error."""
    if value:
        try:
            parse(value)
        except ValueError as exc:
            raise ValueError(f"{name}: {exc}") from None


# --- CLOB REST ------------------------------------------------------------------------------------


class ClobBook(Wire):
    """`GET /book` / `POST /books`: bids and asks in the order sent (best last), exact strings kept."""

    market: str
    asset_id: str
    timestamp: str
    hash: str
    bids: list[Level]
    asks: list[Level]
    min_order_size: str | None = None
    tick_size: str | None = None
    neg_risk: bool | None = None
    last_trade_price: str | None = None

    def __post_init__(self) -> None:
        _millis(self.timestamp)
        _check("tick_size", parse_price, self.tick_size)
        _check("min_order_size", parse_count, self.min_order_size)
        _check("last_trade_price", parse_price, self.last_trade_price)  # "" before the first trade

    @property
    def ts_ms(self) -> int:
        return int(self.timestamp)


class PriceReply(Wire):
    price: Price


class MidpointReply(Wire):
    mid: Price


class SpreadReply(Wire):
    spread: Price


class TickSizeReply(Wire):
    minimum_tick_size: Price


class FeeRateReply(Wire):
    base_fee: int | str

    @property
    def bps(self) -> int:
        if isinstance(self.base_fee, int):
            return self.base_fee
        if not (self.base_fee.isascii() and self.base_fee.isdigit()):
            raise DecodeError("GET /fee-rate", f"base_fee {self.base_fee!r} is not an integer")
        return int(self.base_fee)


# --- market WebSocket -----------------------------------------------------------------------------


class WsBook(Wire, tag="book", tag_field="event_type"):
    market: str
    asset_id: str
    timestamp: str
    hash: str
    bids: list[Level]
    asks: list[Level]
    tick_size: str | None = None  # absent in pre-2026 messages
    last_trade_price: str | None = None

    def __post_init__(self) -> None:
        _millis(self.timestamp)
        _check("tick_size", parse_price, self.tick_size)
        _check("last_trade_price", parse_price, self.last_trade_price)

    @property
    def ts_ms(self) -> int:
        return int(self.timestamp)


class PriceChangeEntry(Wire):
    asset_id: str
    price: RawPrice
    size: RawSize  # the level's new total; "0" removes it
    side: Literal["BUY", "SELL"]
    hash: str | None = None
    best_bid: Price | None = None
    best_ask: Price | None = None


class PriceChange(Wire, tag="price_change", tag_field="event_type"):
    market: str
    price_changes: list[PriceChangeEntry]
    timestamp: str

    def __post_init__(self) -> None:
        _millis(self.timestamp)

    @property
    def ts_ms(self) -> int:
        return int(self.timestamp)


class LastTradePrice(Wire, tag="last_trade_price", tag_field="event_type"):
    asset_id: str
    market: str
    price: Price
    side: Literal["BUY", "SELL"]  # the taker's side on this token
    size: TradeSize
    timestamp: str
    fee_rate_bps: str | None = None
    transaction_hash: str | None = None

    def __post_init__(self) -> None:
        _millis(self.timestamp)


class TickSizeChange(Wire, tag="tick_size_change", tag_field="event_type"):
    asset_id: str
    market: str
    old_tick_size: Price
    new_tick_size: Price
    timestamp: str


class BestBidAsk(Wire, tag="best_bid_ask", tag_field="event_type"):
    market: str
    asset_id: str
    best_bid: Price
    best_ask: Price
    spread: Price
    timestamp: str


class MarketResolved(Wire, tag="market_resolved", tag_field="event_type"):
    id: str
    market: str
    assets_ids: list[str]
    winning_asset_id: str
    winning_outcome: str
    timestamp: str


class NewMarket(Wire, tag="new_market", tag_field="event_type"):
    id: str
    market: str
    question: str
    slug: str
    assets_ids: list[str]
    outcomes: list[str]
    timestamp: str


WsMessage = Union[WsBook, PriceChange, LastTradePrice, TickSizeChange, BestBidAsk, MarketResolved, NewMarket]
KNOWN_TYPES = frozenset({"book", "price_change", "last_trade_price", "tick_size_change", "best_bid_ask",
                         "market_resolved", "new_market"})


class UnknownMessage(msgspec.Struct, frozen=True):
    event_type: str


class _Head(msgspec.Struct):
    event_type: str | None = None


def decode_rest(kind: type | object, body: bytes | str, what: str) -> object:
    """Decode a REST body into `kind`; DecodeError names `what` (e.g. "GET /book")."""
    return decode(kind, body, what)


def decode_ws(frame: bytes | str) -> list[WsMessage | UnknownMessage]:
    """One text frame (object or array) into messages. Unknown event types: UnknownMessage."""
    raw = frame.encode() if isinstance(frame, str) else frame
    items: list[msgspec.Raw]
    try:
        head = raw.lstrip()[:1]
        items = msgspec.json.decode(raw, type=list[msgspec.Raw]) if head == b"[" else [msgspec.Raw(raw)]
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise DecodeError("ws frame", str(exc)) from None
    out: list[WsMessage | UnknownMessage] = []
    for item in items:
        try:
            out.append(decoder(WsMessage).decode(item))
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            try:
                kind = msgspec.json.decode(item, type=_Head).event_type
            except (msgspec.ValidationError, msgspec.DecodeError):
                raise DecodeError("ws frame", str(exc)) from None
            if kind is not None and kind not in KNOWN_TYPES:
                out.append(UnknownMessage(kind))
                continue
            raise DecodeError(f"ws {kind}", str(exc)) from None
    return out


# --- into the desk's book events ------------------------------------------------------------------


def _levels(levels: list[Level]) -> tuple[tuple[int, int], ...]:
    return tuple(sorted((lv.price.pips, lv.size.count) for lv in levels))


def book_snapshot(book: ClobBook | WsBook, *, recv_ns: int = 0) -> BookSnapshot:
    """A token's full book (its own price scale), bids and asks ascending by price."""
    return BookSnapshot(venue=VENUE, ticker=book.asset_id, bids=_levels(book.bids), asks=_levels(book.asks),
                        ts_ms=book.ts_ms, recv_ns=recv_ns)


def level_set(entry: PriceChangeEntry, ts_ms: int, *, recv_ns: int = 0) -> BookLevelSet:
    return BookLevelSet(venue=VENUE, ticker=entry.asset_id, side=Side.BID if entry.side == "BUY" else Side.ASK,
                        price=entry.price.pips, count=entry.size.count, ts_ms=ts_ms, recv_ns=recv_ns)


def level_sets(msg: PriceChange, *, recv_ns: int = 0) -> list[BookLevelSet]:
    """Every entry of a batched `price_change` as an absolute level update."""
    ts = msg.ts_ms
    return [level_set(e, ts, recv_ns=recv_ns) for e in msg.price_changes]


def book_hash(market: str, asset_id: str, timestamp: str, bids: list[tuple[str, str]], asks: list[tuple[str, str]],
              min_order_size: str, tick_size: str, neg_risk: bool, last_trade_price: str) -> str:
    """SHA-1 of the compact JSON summary, keys in the venue's order, over the exact strings (4.1)."""
    summary = {"market": market, "asset_id": asset_id, "timestamp": timestamp, "hash": "",
               "bids": [{"price": p, "size": s} for p, s in bids], "asks": [{"price": p, "size": s} for p, s in asks],
               "min_order_size": min_order_size, "tick_size": tick_size, "neg_risk": neg_risk,
               "last_trade_price": last_trade_price}
    return hashlib.sha1(json.dumps(summary, separators=(",", ":")).encode()).hexdigest()


def rest_book_hash_ok(book: ClobBook) -> bool | None:
    """Does a REST book's hash match its content? None when the body lacks a field of the recipe."""
    if book.min_order_size is None or book.tick_size is None or book.neg_risk is None or book.last_trade_price is None:
        return None
    digest = book_hash(book.market, book.asset_id, book.timestamp, [(lv.price, lv.size) for lv in book.bids],
                       [(lv.price, lv.size) for lv in book.asks], book.min_order_size, book.tick_size, book.neg_risk,
                       book.last_trade_price)
    return digest == book.hash
