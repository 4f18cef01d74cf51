"""The market channel's messages (polymarket-api.md 5.1), built from the mirror's state and a step's changes.

- `book`: a token's full book, hashed (wire.ws_book); sent on subscribe, after trades and after a
  tick-size change;
- `price_change`: the batched 2025+ shape, one message per market and step, entries in YES/NO pairs
  (token 0 at p, token 1 at 1 - p, opposite sides, same size); `size` is the level's new total
  ("0" removes it). Each entry's `hash` is the hash of its token's book right after that entry
  (entries applied in order, stamped with the message's timestamp), and `best_bid` / `best_ask` are
  that book's touch ("0" / "1" when a side is empty);
- `last_trade_price` per trade (the taker's token and side, the market's fee rate in basis points);
- `tick_size_change` for both tokens, followed by fresh `book`s;
- with `custom_feature_enabled`: `best_bid_ask` when a token's touch moved, `market_resolved`.
"""

from __future__ import annotations

from typing import Any

from console.sim.polymarket.book import BUY, PIPS, token_levels
from console.sim.polymarket.mirror import (
    MIN_ORDER_SIZE,
    Changes,
    MarketState,
    MirrorTrade,
)
from console.sim.polymarket.wire import (
    book_hash,
    fmt_price,
    fmt_size,
    levels_json,
    rest_book,
    ws_book,
)

_SIDES = ("BUY", "SELL")


def tick_string(tick: int) -> str:
    return fmt_price(tick)


def fee_rate_bps(ms: MarketState) -> str:
    """The fee rate in basis points as Polymarket's `fee_rate_bps` string ("400" for 0.04)."""
    whole, _, frac = ms.spec.fee_rate.partition(".")
    frac = (frac + "0000")[:4]
    return str(int(whole) * 10_000 + int(frac))


def book_message(ms: MarketState, token: int, ts: str) -> dict[str, Any]:
    bids, asks = ms.book.levels(token)
    return ws_book(ms.spec.condition_id, ms.spec.token_ids[token], ts, bids, asks, MIN_ORDER_SIZE,
                   tick_string(ms.book.tick), ms.spec.neg_risk, ms.last_trade[token])


def rest_summary(ms: MarketState, token: int, ts: str) -> dict[str, Any]:
    bids, asks = ms.book.levels(token)
    return rest_book(ms.spec.condition_id, ms.spec.token_ids[token], ts, bids, asks, MIN_ORDER_SIZE,
                     tick_string(ms.book.tick), ms.spec.neg_risk, ms.last_trade[token])


def trade_message(ms: MarketState, trade: MirrorTrade) -> dict[str, Any]:
    return {"asset_id": trade.token_id, "event_type": "last_trade_price", "fee_rate_bps": fee_rate_bps(ms),
            "market": trade.condition_id, "price": fmt_price(trade.price), "side": trade.side,
            "size": fmt_size(trade.size), "timestamp": str(trade.t_ms), "transaction_hash": trade.tx_hash}


def tick_messages(ms: MarketState, old: int, new: int, ts: str) -> list[dict[str, Any]]:
    return [{"asset_id": token, "event_type": "tick_size_change", "market": ms.spec.condition_id,
             "new_tick_size": tick_string(new), "old_tick_size": tick_string(old), "timestamp": ts}
            for token in ms.spec.token_ids]


def _touch(bids: list[tuple[int, int]], asks: list[tuple[int, int]]) -> tuple[str, str]:
    return (fmt_price(bids[-1][0]) if bids else "0"), (fmt_price(asks[-1][0]) if asks else "1")


def price_change_entries(ms: MarketState, levels: list[tuple[int, int, int, int]], ts: str) -> list[dict[str, Any]]:
    """The step's net level changes as paired entries, each hashed over its token's book after it."""
    spec, tick, neg_risk = ms.spec, tick_string(ms.book.tick), ms.spec.neg_risk
    bids0, asks0 = dict(ms.book.bids), dict(ms.book.asks)
    for side, price, before, _ in levels:  # rewind to the state the subscribers last saw
        book = bids0 if side == BUY else asks0
        if before:
            book[price] = before
        else:
            book.pop(price, None)
    entries = []
    for side, price, _, now in levels:
        book = bids0 if side == BUY else asks0
        if now:
            book[price] = now
        else:
            book.pop(price, None)
        for token in (0, 1):
            bids, asks = token_levels(bids0, asks0, token)
            bids_j, asks_j = levels_json(bids), levels_json(asks)
            digest = book_hash(spec.condition_id, spec.token_ids[token], ts, bids_j, asks_j, MIN_ORDER_SIZE, tick,
                               neg_risk, ms.last_trade[token])
            best_bid, best_ask = _touch(bids, asks)
            token_price = price if token == 0 else PIPS - price
            entries.append({"asset_id": spec.token_ids[token], "price": fmt_price(token_price),
                            "size": fmt_size(now), "side": _SIDES[side if token == 0 else 1 - side],
                            "hash": digest, "best_bid": best_bid, "best_ask": best_ask})
    return entries


def price_change_message(ms: MarketState, entries: list[dict[str, Any]], ts: str) -> dict[str, Any]:
    return {"market": ms.spec.condition_id, "price_changes": entries, "timestamp": ts, "event_type": "price_change"}


def best_bid_ask_message(ms: MarketState, token: int, ts: str) -> tuple[dict[str, Any], tuple[int | None, int | None]]:
    bid, ask = ms.book.top(token)
    spread = fmt_price(ask - bid) if bid is not None and ask is not None else "1"
    msg = {"event_type": "best_bid_ask", "market": ms.spec.condition_id, "asset_id": ms.spec.token_ids[token],
           "best_bid": fmt_price(bid) if bid is not None else "0",
           "best_ask": fmt_price(ask) if ask is not None else "1",
           "spread": spread, "timestamp": ts}
    return msg, (bid, ask)


def resolved_message(ms: MarketState, ts: str) -> dict[str, Any]:
    winner = ms.winner if ms.winner is not None else 0
    return {"event_type": "market_resolved", "id": ms.spec.market_id, "market": ms.spec.condition_id,
            "assets_ids": list(ms.spec.token_ids), "winning_asset_id": ms.spec.token_ids[winner],
            "winning_outcome": ms.spec.outcomes[winner], "timestamp": ts, "tags": ["Politics", "Elections"]}


def step_messages(ms: MarketState, changes: Changes, ts: str, custom: bool = False) -> list[dict[str, Any]]:
    """Every message of one market's step, in wire order (no filtering by subscriber; see ws.py)."""
    out: list[dict[str, Any]] = []
    if changes.tick is not None:
        out.extend(tick_messages(ms, *changes.tick, ts))
    out.extend(trade_message(ms, trade) for trade in changes.trades)
    if changes.tick is not None or changes.trades:
        out.extend(book_message(ms, token, ts) for token in (0, 1))
    elif changes.levels:
        out.append(price_change_message(ms, price_change_entries(ms, changes.levels, ts), ts))
    if custom and changes.resolved is not None:
        out.append(resolved_message(ms, ts))
    return out
