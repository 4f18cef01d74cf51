"""Per-account and per-market views of the exchange's append-only histories, for paged REST reads.

`/portfolio/orders`, `/portfolio/fills` and `/markets/trades?ticker=` would otherwise scan every
order, fill or trade ever made on each request; with synthetic traders running that grows without
bound. Each `AppendIndex` remembers how far it has read and files only the new items under their
key, so a request costs the size of the caller's own history.

The core only ever appends to `orders`, `fills`, `trades` and `settlements`; should one shrink (a
history trim), the index notices the shorter length and rebuilds from scratch. Keys are each item's
position in the full history, which is also what the cursors name.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Sized
from typing import TYPE_CHECKING, Any

from aiohttp import web

from console.sim.state import STATE

if TYPE_CHECKING:
    from console.sim.exchange import Exchange

INDEX_EXTRA = "kalshi_rest_index"


class AppendIndex:
    """Items of one append-only collection grouped by `key_of(item)`, as (position, item) pairs."""

    def __init__(self, key_of: Callable[[Any], str]) -> None:
        self._key_of = key_of
        self._seen = 0
        self._by_key: dict[str, list[tuple[int, Any]]] = {}

    def get(self, source: Sized, values: Callable[[], Iterable[Any]], key: str) -> list[tuple[int, Any]]:
        if len(source) < self._seen:  # the history was trimmed: start over
            self._seen, self._by_key = 0, {}
        if len(source) > self._seen:
            new = itertools.islice(values(), self._seen, None)
            for position, item in enumerate(new, start=self._seen):
                self._by_key.setdefault(self._key_of(item), []).append((position, item))
            self._seen = len(source)
        return self._by_key.get(key, [])


class RestIndex:
    """The indices the REST handlers use, one set per exchange."""

    def __init__(self) -> None:
        self.orders_by_account = AppendIndex(lambda o: o.account_id)
        self.fills_by_account = AppendIndex(lambda f: f.account_id)
        self.settlements_by_account = AppendIndex(lambda s: s.account_id)
        self.trades_by_ticker = AppendIndex(lambda t: t.ticker)


def rest_index(request: web.Request) -> RestIndex:
    extras = request.app[STATE].extras
    index = extras.get(INDEX_EXTRA)
    if index is None:
        index = extras[INDEX_EXTRA] = RestIndex()
    return index


def account_orders(request: web.Request, exchange: Exchange, account_id: str) -> list[tuple[int, Any]]:
    return rest_index(request).orders_by_account.get(exchange.orders, exchange.orders.values, account_id)


def account_fills(request: web.Request, exchange: Exchange, account_id: str) -> list[tuple[int, Any]]:
    return rest_index(request).fills_by_account.get(exchange.fills, lambda: exchange.fills, account_id)


def account_settlements(request: web.Request, exchange: Exchange, account_id: str) -> list[tuple[int, Any]]:
    return rest_index(request).settlements_by_account.get(exchange.settlements, lambda: exchange.settlements,
                                                          account_id)


def market_trades(request: web.Request, exchange: Exchange, ticker: str) -> list[tuple[int, Any]]:
    return rest_index(request).trades_by_ticker.get(exchange.trades, lambda: exchange.trades, ticker)
