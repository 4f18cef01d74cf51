"""`Quoter`: a test strategy that keeps one bid and one ask resting around a reference price.

The reference is `fair` (YES pips) when given, else the middle of the book *without our own orders*
(so our quotes do not chase themselves). The bid rests at reference - `half_spread` and the ask at
reference + `half_spread`, rounded away from the reference onto the market's grid, each for `count`;
a side whose position is at `max_position` is pulled (a quote of count 0). The engine turns moves
into amends of the resting orders. No model: it exercises quoting, amend and cancel.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from console.domain.side import Side
from console.domain.units import PRICE_MAX
from console.engine.strategies.base import Intent, MarketView


@dataclass
class Quoter:
    name: str
    tickers: frozenset[str] | None
    half_spread: int = 200  # pips
    count: int = 100
    max_position: int = 1_000
    fair: int | None = None

    def _reference(self, view: MarketView) -> int | None:
        if self.fair is not None:
            return self.fair
        bid = self._best_without_own(view, Side.BID)
        ask = self._best_without_own(view, Side.ASK)
        if bid is None or ask is None:
            return None
        return (bid + ask) // 2

    @staticmethod
    def _best_without_own(view: MarketView, side: Side) -> int | None:
        depth = getattr(view.book, "depth", None)
        if depth is None:
            return None
        for price, size in depth(side, 50):
            if size - view.own_at(side, price) > 0:
                return price
        return None

    def evaluate(self, view: MarketView) -> Sequence[Intent]:
        if not view.healthy:
            return ()
        ref = self._reference(view)
        if ref is None:
            return ()
        grid = getattr(view.book, "grid", None)
        bid_price = ref - self.half_spread
        ask_price = ref + self.half_spread
        if grid is not None:
            bid_price = grid.round_down(bid_price) or 0
            ask_price = grid.round_up(ask_price) or PRICE_MAX
        out = []
        for side, price, room in ((Side.BID, bid_price, self.max_position - view.position),
                                  (Side.ASK, ask_price, self.max_position + view.position)):
            count = min(self.count, room) if 0 < price < PRICE_MAX else 0
            out.append(Intent(view.ticker, side, price if count > 0 else max(1, min(price, PRICE_MAX - 1)),
                              max(count, 0), self.name, reason=f"quote around {ref}",
                              time_in_force="good_till_canceled", post_only=True, quote=True))
        return out
