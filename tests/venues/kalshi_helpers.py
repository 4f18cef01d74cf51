"""Helpers for the Kalshi client tests (imported by tests/venues/test_kalshi_*.py; pytest puts this
directory on sys.path): client construction against a simulator, and a plain YES-scale book that
applies the client's BookSnapshot / BookDelta events, to compare with the exchange's REST book."""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx

from console.domain.side import Side
from console.venues.events import BookDelta, BookSnapshot
from console.venues.kalshi.limits import RateBudget
from console.venues.kalshi.rest import KalshiRest

UNLIMITED = RateBudget(read=(1e6, 1e6), write=(1e6, 1e6))


def rest_for(sim: Any, account: Any, **kwargs: Any) -> KalshiRest:
    """A client for an account made by `sim.new_account()` (the simulator's portfolio never lags)."""
    kwargs.setdefault("portfolio_lag_margin_ms", 0)
    return KalshiRest(sim.base_url, account.signer, **kwargs)


def orders_by_client_id(account: httpx.Client, ticker: str) -> Counter[str]:
    """How many orders the exchange holds per client_order_id on one market (all pages)."""
    seen: Counter[str] = Counter()
    cursor = ""
    while True:
        params: dict[str, Any] = {"ticker": ticker, "limit": 1000}
        if cursor:
            params["cursor"] = cursor
        r = account.get("/portfolio/orders", params=params)
        assert r.status_code == 200, r.text
        body = r.json()
        seen.update(o.get("client_order_id") or "" for o in body["orders"])
        cursor = body.get("cursor") or ""
        if not cursor:
            return seen


def place(account: httpx.Client, ticker: str, side: str, price: str, count: str = "1", **extra: Any) -> dict:
    body = {"ticker": ticker, "side": side, "price": price, "count": count, "time_in_force": "good_till_canceled",
            "self_trade_prevention_type": "taker_at_cross", **extra}
    r = account.post("/portfolio/events/orders", json=body)
    assert r.status_code == 201, r.text
    return r.json()


class LocalBooks:
    """YES-scale books rebuilt from the feed: {ticker: {Side: {price: count}}}."""

    def __init__(self) -> None:
        self.books: dict[str, dict[Side, dict[int, int]]] = {}
        self.snapshots = 0
        self.deltas = 0

    def apply(self, event: Any) -> None:
        if isinstance(event, BookSnapshot):
            self.snapshots += 1
            self.books[event.ticker] = {Side.BID: dict(event.bids), Side.ASK: dict(event.asks)}
        elif isinstance(event, BookDelta):
            self.deltas += 1
            side = self.books.setdefault(event.ticker, {Side.BID: {}, Side.ASK: {}})[event.side]
            count = side.get(event.price, 0) + event.delta
            if count:
                side[event.price] = count
            else:
                side.pop(event.price, None)

    def view(self, ticker: str) -> tuple[tuple[tuple[int, int], ...], tuple[tuple[int, int], ...]]:
        book = self.books.get(ticker, {Side.BID: {}, Side.ASK: {}})
        return tuple(sorted(book[Side.BID].items())), tuple(sorted(book[Side.ASK].items()))
