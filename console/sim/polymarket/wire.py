"""Polymarket's number strings and order-book summaries, as the mirror puts them on the wire.

Polymarket writes prices and sizes as decimal strings without trailing zeros ("0.5", "0.52",
"0.523", "192.3", "1000"). The mirror keeps prices in pips (1/10000) on each token's own scale
and sizes in hundredths of a share, and formats them here, exactly.

The book `hash` follows the recipe verified against real 2026 captures (polymarket-api.md 4.1):
SHA-1 hex of the compact JSON of the summary with the keys in the order market, asset_id, timestamp,
hash ("" while hashing), bids, asks, min_order_size, tick_size, neg_risk, last_trade_price, every
value exactly the string that is sent. The WebSocket `book` and every `price_change` entry are hashed
with the same struct (min_order_size and neg_risk included even though the WS messages omit them).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

PIPS = 10_000  # pips per dollar (and per whole share of payout)


def fmt_decimal(value: int, decimals: int) -> str:
    """An exact non-negative fixed-point int as Polymarket's shortest decimal string."""
    whole, frac = divmod(value, 10**decimals)
    if not frac:
        return str(whole)
    return f"{whole}.{frac:0{decimals}d}".rstrip("0")


def fmt_price(pips: int) -> str:
    """5000 -> "0.5", 5230 -> "0.523", 10 -> "0.001", 10000 -> "1"."""
    return fmt_decimal(pips, 4)


def fmt_size(count: int) -> str:
    """Hundredths of a share: 100000 -> "1000", 19230 -> "192.3"."""
    return fmt_decimal(count, 2)


def fmt_micros(micros: int) -> str:
    """Micro-dollars as a dollar string (Gamma's volume strings)."""
    return fmt_decimal(micros, 6)


def price_number(pips: int) -> float | int:
    """A price as the JSON number Gamma uses (bestBid, orderPriceMinTickSize); only for the wire."""
    return float(fmt_price(pips)) if pips % PIPS else pips // PIPS


def iso(ms: int) -> str:
    """Unix ms as Gamma's ISO 8601 UTC string ("2026-11-03T12:00:00Z")."""
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def levels_json(levels: list[tuple[int, int]]) -> list[dict[str, str]]:
    return [{"price": fmt_price(p), "size": fmt_size(c)} for p, c in levels]


def book_hash(market: str, asset_id: str, timestamp: str, bids: list[dict[str, str]], asks: list[dict[str, str]],
              min_order_size: str, tick_size: str, neg_risk: bool, last_trade_price: str) -> str:
    """The book hash of polymarket-api.md 4.1 over exactly these wire strings."""
    summary = {"market": market, "asset_id": asset_id, "timestamp": timestamp, "hash": "", "bids": bids,
               "asks": asks, "min_order_size": min_order_size, "tick_size": tick_size, "neg_risk": neg_risk,
               "last_trade_price": last_trade_price}
    return hashlib.sha1(json.dumps(summary, separators=(",", ":")).encode()).hexdigest()


def rest_book(market: str, asset_id: str, timestamp: str, bids: list[tuple[int, int]], asks: list[tuple[int, int]],
              min_order_size: str, tick_size: str, neg_risk: bool, last_trade_price: str) -> dict[str, Any]:
    """`GET /book`: bids ascending (best last), asks descending (best last), as the real CLOB orders them."""
    bids_j, asks_j = levels_json(bids), levels_json(asks)
    digest = book_hash(market, asset_id, timestamp, bids_j, asks_j, min_order_size, tick_size, neg_risk,
                       last_trade_price)
    return {"market": market, "asset_id": asset_id, "timestamp": timestamp, "hash": digest, "bids": bids_j,
            "asks": asks_j, "min_order_size": min_order_size, "tick_size": tick_size, "neg_risk": neg_risk,
            "last_trade_price": last_trade_price}


def ws_book(market: str, asset_id: str, timestamp: str, bids: list[tuple[int, int]], asks: list[tuple[int, int]],
            min_order_size: str, tick_size: str, neg_risk: bool, last_trade_price: str) -> dict[str, Any]:
    """A WebSocket `book` message in the 2026 key order (no min_order_size / neg_risk, but hashed with them)."""
    bids_j, asks_j = levels_json(bids), levels_json(asks)
    digest = book_hash(market, asset_id, timestamp, bids_j, asks_j, min_order_size, tick_size, neg_risk,
                       last_trade_price)
    return {"market": market, "asset_id": asset_id, "timestamp": timestamp, "hash": digest, "bids": bids_j,
            "asks": asks_j, "tick_size": tick_size, "event_type": "book", "last_trade_price": last_trade_price}
