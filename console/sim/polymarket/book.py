"""The mirror's order book of one market, kept on token 0's price scale, with both tokens' views.

Polymarket's two outcome tokens trade against each other: a BUY of token 0 at p is a SELL of token 1
at 1 - p. The mirror keeps one book on token 0's scale (pips, 0..10000) and derives token 1's book
from it, so the two are complementary by construction (a token 0 bid at p is a token 1 ask at 1 - p,
same size).

Resting liquidity belongs to the mirror's market makers: each order is keyed (maker, side, level)
and the book's level sizes are the sums. Takers consume the best level, makers in key order (a
deterministic stand-in for time priority). Every level whose size changed since the last `flush`
is remembered with its size before, so the WebSocket layer can send net `price_change` entries.
"""

from __future__ import annotations

BUY, SELL = 0, 1  # token 0's side: BUY = bids, SELL = asks
PIPS = 10_000

OrderKey = tuple[int, int, int]  # (maker index, side, level)


def token_levels(bids0: dict[int, int], asks0: dict[int, int],
                 token: int) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Token 0's levels as `token`'s (bids ascending, asks descending); token 1 is the complement."""
    if token == 0:
        bids, asks = bids0.items(), asks0.items()
    else:
        bids = ((PIPS - p, c) for p, c in asks0.items())
        asks = ((PIPS - p, c) for p, c in bids0.items())
    return sorted(bids), sorted(asks, reverse=True)


class MirrorBook:
    __slots__ = ("_before", "asks", "bids", "orders", "tick")

    def __init__(self, tick: int) -> None:
        self.bids: dict[int, int] = {}  # token 0 price (pips) -> size (hundredths of a share)
        self.asks: dict[int, int] = {}
        self.orders: dict[OrderKey, tuple[int, int]] = {}  # -> (price, size)
        self.tick = tick
        self._before: dict[tuple[int, int], int] = {}  # (side, price) -> size at the last flush

    # --- reading ----------------------------------------------------------------------------------

    def best_bid(self) -> int | None:
        return max(self.bids) if self.bids else None

    def best_ask(self) -> int | None:
        return min(self.asks) if self.asks else None

    def levels(self, token: int) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """(bids ascending, asks descending) on `token`'s own scale, best last as Polymarket sends them."""
        return token_levels(self.bids, self.asks, token)

    def top(self, token: int) -> tuple[int | None, int | None]:
        """(best bid, best ask) on `token`'s scale."""
        bid, ask = self.best_bid(), self.best_ask()
        if token == 0:
            return bid, ask
        return (None if ask is None else PIPS - ask), (None if bid is None else PIPS - bid)

    # --- writing ----------------------------------------------------------------------------------

    def _side(self, side: int) -> dict[int, int]:
        return self.bids if side == BUY else self.asks

    def _adjust(self, side: int, price: int, delta: int) -> None:
        levels = self._side(side)
        old = levels.get(price, 0)
        self._before.setdefault((side, price), old)
        new = old + delta
        if new:
            levels[price] = new
        else:
            levels.pop(price, None)

    def place(self, key: OrderKey, price: int | None, size: int) -> None:
        """Set a maker's order at `key` to (price, size); None or size 0 removes it."""
        old = self.orders.pop(key, None)
        side = key[1]
        if old is not None:
            self._adjust(side, old[0], -old[1])
        if price is not None and size > 0:
            self.orders[key] = (price, size)
            self._adjust(side, price, size)

    def own(self, key: OrderKey) -> tuple[int, int] | None:
        return self.orders.get(key)

    def take(self, side: int, max_size: int) -> tuple[int, int] | None:
        """A taker hits the best level of `side` (BUY = the bids): returns (price, size filled)."""
        price = self.best_bid() if side == BUY else self.best_ask()
        if price is None or max_size <= 0:
            return None
        left = filled = min(max_size, self._side(side)[price])
        for key in sorted(k for k, (p, _) in self.orders.items() if k[1] == side and p == price):
            if not left:
                break
            p, size = self.orders[key]
            used = min(size, left)
            left -= used
            if used == size:
                del self.orders[key]
            else:
                self.orders[key] = (p, size - used)
            self._adjust(side, price, -used)
        return price, filled

    def clear(self) -> None:
        for key in list(self.orders):
            self.place(key, None, 0)

    # --- changes ----------------------------------------------------------------------------------

    def flush(self) -> list[tuple[int, int, int, int]]:
        """Levels changed since the last flush: (side, token 0 price, size before, size now); forgets them."""
        out = []
        for (side, price), before in self._before.items():
            now = self._side(side).get(price, 0)
            if now != before:
                out.append((side, price, before, now))
        self._before.clear()
        return out
