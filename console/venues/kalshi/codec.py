"""Kalshi wire decoding: REST and WebSocket payloads into typed structs, order books onto the YES scale.

The structs live in `codec_rest` (REST responses) and `codec_ws` (WebSocket envelopes and payloads);
both use the exact number types of `wire` (prices in pips, counts in hundredths, money in
micro-dollars). This module is the entry point the clients use:

- `decode_rest(kind, body, what)` and `decode_ws(frame)`: strict decoding; a missing required field or
  a malformed number raises `DecodeError` (the caller counts and surfaces it); unknown fields are
  ignored; a WS frame of an unknown `type` decodes to `UnknownMessage`.
- `book_snapshot` / `book_delta` / `rest_book`: Kalshi's two bid ladders turned into the desk's one
  YES-scale book (`console.venues.events`). A `yes` level is a `Side.BID` at its price; a `no` level
  is a `Side.ASK` at YES price 10000 - no_price, or at the given price when the subscription used
  `use_yes_price=true` (Kalshi then reports NO bids at their YES-leg price, still tagged `no`).
"""

from __future__ import annotations

from typing import Any

import msgspec

from console.domain.side import Side
from console.domain.units import PRICE_MAX
from console.venues.errors import DecodeError
from console.venues.events import BookDelta, BookSnapshot
from console.venues.kalshi import codec_rest as rest
from console.venues.kalshi import codec_ws as ws
from console.venues.kalshi.wire import decode, decoder, missing_fields, required_fields

__all__ = [
    "VENUE",
    "DecodeError",
    "book_delta",
    "book_snapshot",
    "decode_rest",
    "decode_ws",
    "encode_json",
    "missing_fields",
    "peek_sid_seq",
    "required_fields",
    "rest",
    "rest_book",
    "ws",
]

VENUE = "kalshi"


class _TypeOnly(msgspec.Struct):
    type: str
    sid: int | None = None
    seq: int | None = None


_type_decoder = msgspec.json.Decoder(_TypeOnly)
_sid_seq_decoder = msgspec.json.Decoder(dict[str, Any])

#: JSON encoder for outgoing commands and request bodies
encode_json = msgspec.json.Encoder().encode


def peek_sid_seq(frame: bytes | str) -> tuple[int | None, int | None]:
    """Best-effort (sid, seq) of a frame that failed to decode, so its seq can still be accounted."""
    try:
        raw = _sid_seq_decoder.decode(frame)
    except (msgspec.ValidationError, msgspec.DecodeError):
        return None, None
    sid, seq = raw.get("sid"), raw.get("seq")
    ok = lambda v: isinstance(v, int) and not isinstance(v, bool)
    return (sid if ok(sid) else None), (seq if ok(seq) else None)


def decode_rest(kind: type[Any], body: bytes | str, what: str) -> Any:
    """Decode a REST response body into `kind`; DecodeError names `what` (e.g. "GET /markets")."""
    return decode(kind, body, what)


def decode_ws(frame: bytes | str) -> ws.WsMessage | ws.UnknownMessage:
    """Decode one WebSocket text frame. Unknown `type`: UnknownMessage; anything malformed: DecodeError."""
    try:
        return decoder(ws.WsMessage).decode(frame)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        try:
            head = _type_decoder.decode(frame)
        except (msgspec.ValidationError, msgspec.DecodeError):
            raise DecodeError("ws frame", str(exc)) from None
        if head.type not in ws.KNOWN_TYPES:
            return ws.UnknownMessage(type=head.type, sid=head.sid, seq=head.seq)
        raise DecodeError(f"ws {head.type}", str(exc)) from None


def _yes_scale_asks(no_levels: list[tuple[int, int]] | None, use_yes_price: bool) -> tuple[tuple[int, int], ...]:
    if not no_levels:
        return ()
    if use_yes_price:
        return tuple(sorted(no_levels))
    # a NO bid at q is a YES ask at 1 - q; ascending NO prices become descending YES prices
    return tuple(sorted((PRICE_MAX - price, count) for price, count in no_levels))


def book_snapshot(env: ws.OrderbookSnapshot, *, use_yes_price: bool, recv_ns: int = 0,
                  ts_ms: int = 0) -> BookSnapshot:
    """A WS `orderbook_snapshot` as the market's full YES-scale book."""
    body = env.msg
    return BookSnapshot(
        venue=VENUE, ticker=body.market_ticker,
        bids=tuple(sorted(body.yes)) if body.yes else (),
        asks=_yes_scale_asks(body.no, use_yes_price),
        sid=env.sid, seq=env.seq, ts_ms=ts_ms, recv_ns=recv_ns,
    )


def book_delta(env: ws.OrderbookDelta, *, use_yes_price: bool, recv_ns: int = 0) -> BookDelta:
    """A WS `orderbook_delta` as a signed change at one YES-scale level."""
    body = env.msg
    if body.side == "yes":
        side, price = Side.BID, body.price
    else:
        side, price = Side.ASK, (body.price if use_yes_price else PRICE_MAX - body.price)
    return BookDelta(
        venue=VENUE, ticker=body.market_ticker, side=side, price=price, delta=body.delta,
        sid=env.sid, seq=env.seq, ts_ms=body.ts_ms or 0, recv_ns=recv_ns,
        client_order_id=body.client_order_id,
    )


def rest_book(ticker: str, levels: rest.OrderbookLevels, *, recv_ns: int = 0) -> BookSnapshot:
    """A REST `orderbook_fp` (NO side always in NO prices) as the market's YES-scale book."""
    return BookSnapshot(
        venue=VENUE, ticker=ticker,
        bids=tuple(sorted(levels.yes)) if levels.yes else (),
        asks=_yes_scale_asks(levels.no, False),
        recv_ns=recv_ns,
    )
