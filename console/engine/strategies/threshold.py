"""`ThresholdTaker`: a test strategy that takes liquidity when the touch crosses a fixed price.

Buys YES with an IOC at the best ask when the ask is at or below `buy_at_or_below`, and buys NO (sells
YES) at the best bid when the bid is at or above `sell_at_or_above`, in clips of `count`, never past
`max_position` either way (counting its own open orders). `min_interval_ms` spaces its orders per
market and side so a standing cross is traded at a steady pace rather than on every book change.
No model: it is here to exercise the engine (and to measure tick-to-order latency).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from console.domain.side import Side
from console.engine.strategies.base import Intent, MarketView


@dataclass
class ThresholdTaker:
    name: str
    tickers: frozenset[str] | None
    buy_at_or_below: int | None = None  # YES pips
    sell_at_or_above: int | None = None  # YES pips
    count: int = 100
    max_position: int = 1_000
    min_interval_ms: int = 0
    _last_ms: dict[tuple[str, Side], int] = field(default_factory=dict, repr=False)

    def evaluate(self, view: MarketView) -> Sequence[Intent]:
        if not view.healthy:
            return ()
        out: list[Intent] = []
        pending = {side: sum(o.remaining for o in view.own_orders if o.side is side) for side in Side}
        ask, bid = view.book.best_ask, view.book.best_bid
        if self.buy_at_or_below is not None and ask is not None and ask[0] <= self.buy_at_or_below:
            room = self.max_position - view.position - pending[Side.BID]
            clip = min(self.count, ask[1], room)
            if clip > 0 and self._due(view, Side.BID):
                out.append(Intent(view.ticker, Side.BID, ask[0], clip, self.name,
                                  reason=f"ask {ask[0]} <= {self.buy_at_or_below}"))
        if self.sell_at_or_above is not None and bid is not None and bid[0] >= self.sell_at_or_above:
            room = self.max_position + view.position - pending[Side.ASK]
            clip = min(self.count, bid[1], room)
            if clip > 0 and self._due(view, Side.ASK):
                out.append(Intent(view.ticker, Side.ASK, bid[0], clip, self.name,
                                  reason=f"bid {bid[0]} >= {self.sell_at_or_above}"))
        return out

    def _due(self, view: MarketView, side: Side) -> bool:
        # the pacing state is a pure function of the views seen (their times), so replays agree
        key = (view.ticker, side)
        last = self._last_ms.get(key)
        if last is not None and view.now_ms - last < self.min_interval_ms:
            return False
        self._last_ms[key] = view.now_ms
        return True
