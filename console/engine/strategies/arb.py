"""`ArbTaker` (kind "arb"): the Kalshi leg of a verified cross-venue arbitrage, and the operator's
instruction for the Polymarket leg.

For each verified pair of the registry (console.engine.arbs.ArbRegistry, bound by the runtime) on the
market in view, both directions are evaluated on the live Kalshi book and the Polymarket token's book
(`view.context.book(token, venue="polymarket")`) with `console.domain.arb.evaluate_pair`: net edge after
both venues' fees, executable size from walking both books. When the best one clears `min_net_edge`
(pips per contract; default `[arb] min_net_edge`), the strategy asks for an IOC on Kalshi at the walk's
worst price, sized to the executable size, its `count` clip and `max_position` (counting its own open
orders), at most once per `min_interval_ms` per side.

Never traded: unverified pairs (shown in the arb table only), a Polymarket book that is not healthy, a
resolved Polymarket market, a token whose fee rate is unknown, a red Kalshi book, or no desk context.

The desk does not trade Polymarket. The intent's reason says what the operator must buy there; each
time the Kalshi leg fills, `fill_instruction` (called by console.engine.arbs on the `Filled` event) gives
the exact order: how many of which outcome token, the limit that keeps the planned profit and the
break-even price, and the leg risk carried until it is done.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING

from console.domain.arb import ArbDirection, ArbOpportunity, Depth, evaluate_pair
from console.domain.fees import polymarket_taker_fee
from console.domain.pairs import Pair
from console.domain.side import Side
from console.domain.units import PRICE_MAX
from console.engine.arbs import ArbRegistry
from console.engine.strategies.base import Intent, MarketView

if TYPE_CHECKING:
    from console.engine.control import Filled

LEVELS = 64  # book levels a side handed to the walk
POLY_TICK = 10  # break-even prices are quoted on Polymarket's 0.001 grid


@dataclass(frozen=True)
class ArbPlan:
    """What the last arb intent on a (ticker, side) was made for: the other leg's order."""

    pair: Pair
    direction: ArbDirection
    token_id: str  # the outcome token to buy on Polymarket ("" when the venue did not say which)
    outcome: str
    poly_limit: int  # pips on that token's own scale
    rate: Fraction
    question: str


def break_even(kalshi_cost: int, kalshi_fee: int, count: int, rate: Fraction) -> int | None:
    """The highest Polymarket price (pips, 0.001 grid) at which `count` pairs, whose Kalshi leg cost
    `kalshi_cost` pips each plus `kalshi_fee` micro-dollars in all, still pay back at least their cost."""
    budget = count * (PRICE_MAX - kalshi_cost) - kalshi_fee
    q = (PRICE_MAX - kalshi_cost) // POLY_TICK * POLY_TICK
    while q > 0:
        if q * count + polymarket_taker_fee(q, count, rate) <= budget:
            return q
        q -= POLY_TICK
    return None


def _books_cross(kalshi, token, pair: Pair, threshold: int) -> bool:
    """Do the two tops cross by more than `threshold` on Kalshi's YES scale (fees only lower that)? If not,
    no unit of the pair can pay, and the full walk (about 1 ms with exact fees) is skipped."""
    t_bid, t_ask = token.best_bid, token.best_ask
    if pair.orientation.value == "inverted":  # the token's ask at q is a YES bid at 1 - q, and so on
        t_bid, t_ask = (None if t_ask is None else (PRICE_MAX - t_ask[0], 0)), \
            (None if t_bid is None else (PRICE_MAX - t_bid[0], 0))
    k_bid, k_ask = kalshi.best_bid, kalshi.best_ask
    yes = k_ask is not None and t_bid is not None and t_bid[0] - k_ask[0] > threshold
    no = k_bid is not None and t_ask is not None and k_bid[0] - t_ask[0] > threshold
    return yes or no


def _dollars(pips: int) -> str:
    text = f"{pips / PRICE_MAX:.4f}".rstrip("0")
    return text + "0" * max(0, 2 - len(text.split(".")[1]))


@dataclass
class ArbTaker:
    name: str
    tickers: frozenset[str] | None
    min_net_edge: int | None = None  # pips per contract after both fees; None = [arb] min_net_edge
    count: int = 1_000  # most per Kalshi order, hundredths of a contract
    max_position: int = 5_000  # per Kalshi market, either way, own open orders included
    min_interval_ms: int = 1_000
    _registry: ArbRegistry | None = field(default=None, repr=False)
    _last_ms: dict[tuple[str, Side], int] = field(default_factory=dict, repr=False)
    _plans: dict[tuple[str, Side], ArbPlan] = field(default_factory=dict, repr=False)

    def bind_arbs(self, registry: ArbRegistry) -> None:
        """The runtime hands over the pair registry (console.engine.arbs.attach_arbs)."""
        self._registry = registry

    def evaluate(self, view: MarketView) -> Sequence[Intent]:
        reg, ctx, meta = self._registry, view.context, view.meta
        if reg is None or ctx is None or meta is None or not view.healthy:
            return ()
        pairs = [p for p in reg.by_ticker.get(view.ticker, ()) if p.verified]
        if not pairs:
            return ()
        threshold = reg.min_net_edge if self.min_net_edge is None else self.min_net_edge
        kalshi = Depth(tuple(view.book.depth(Side.BID, LEVELS)), tuple(view.book.depth(Side.ASK, LEVELS)))
        best: tuple[ArbOpportunity, Fraction] | None = None
        for pair in pairs:
            token = pair.polymarket_token_id
            rate = reg.fee_rate(pair)
            if rate is None or reg.closed(pair) or not ctx.healthy(token, "polymarket"):
                continue
            book = ctx.book(token, "polymarket")
            if book is None or not _books_cross(view.book, book, pair, threshold):
                continue
            poly = Depth(tuple(book.depth(Side.BID, LEVELS)), tuple(book.depth(Side.ASK, LEVELS)))
            resolution = reg.resolution_ms(pair, meta.close_ts * 1000 if meta.close_ts else None) or view.now_ms
            for opp in evaluate_pair(pair, kalshi, poly, meta.fees, rate, now_ms=view.now_ms,
                                     resolution_ms=resolution):
                if opp.auto_tradeable and opp.profit >= threshold * opp.count and \
                        (best is None or opp.profit > best[0].profit):
                    best = (opp, rate)
        return self._intent(view, *best) if best is not None else ()

    def _intent(self, view: MarketView, opp: ArbOpportunity, rate: Fraction) -> Sequence[Intent]:
        assert opp.kalshi is not None and opp.polymarket is not None and self._registry is not None
        side = Side.BID if opp.direction is ArbDirection.KALSHI_YES else Side.ASK
        pending = sum(o.remaining for o in view.own_orders if o.side is side)
        held = view.position if side is Side.BID else -view.position
        clip = min(opp.count, self.count, self.max_position - held - pending) // 100 * 100
        if clip <= 0 or not self._due(view, side):
            return ()
        kalshi_cost = opp.kalshi.limit_price  # on the bought side's own scale
        token, outcome = self._registry.bought_outcome(opp.pair, opp.direction)
        info = self._registry.tokens.get(opp.pair.polymarket_token_id)
        plan = ArbPlan(opp.pair, opp.direction, token, outcome, opp.polymarket.limit_price, rate,
                       info.question if info else opp.pair.polymarket_condition_id)
        self._plans[(view.ticker, side)] = plan
        assert view.meta is not None
        fee = view.meta.fees.trade_fee(kalshi_cost, clip, maker=False)
        edge = opp.profit / opp.count  # pips per contract, after both venues' fees
        what = "YES" if side is Side.BID else "NO"
        reason = (f"arb {opp.direction.value}: +{edge / 100:.2f}c per contract after both venues' fees "
                  f"({clip / 100:g} of {opp.count / 100:g} executable, {opp.annualized_pct:.1f}%/yr until "
                  f"resolution); then {self._instruction(plan, clip, kalshi_cost, fee)}; leg risk: you hold "
                  f"{clip / 100:g} {what} {view.ticker} unhedged until the Polymarket order fills")
        price = kalshi_cost if side is Side.BID else PRICE_MAX - kalshi_cost
        return (Intent(view.ticker, side, price, clip, self.name, reason=reason, edge_after_fees=edge / PRICE_MAX),)

    @staticmethod
    def _instruction(plan: ArbPlan, count: int, kalshi_cost: int, kalshi_fee: int) -> str:
        be = break_even(kalshi_cost, kalshi_fee, count, plan.rate)
        token = f" (token {plan.token_id})" if plan.token_id else ""
        return (f"BUY {count / 100:g} {plan.outcome!r}{token} on Polymarket at <= {_dollars(plan.poly_limit)}"
                + (f" (break-even {_dollars(be)})" if be is not None else " (no price breaks even)")
                + f" [{plan.question}]")

    def fill_instruction(self, fill: Filled) -> str | None:
        """What to do on Polymarket now that the Kalshi leg filled (an Alert, via console.engine.arbs)."""
        what = "YES" if fill.side is Side.BID else "NO"
        cost = fill.price if fill.side is Side.BID else PRICE_MAX - fill.price
        plan = self._plans.get((fill.ticker, fill.side))
        head = (f"arb {self.name}: Kalshi leg filled: bought {fill.count / 100:g} {what} {fill.ticker} at "
                f"{_dollars(cost)} (fee ${fill.fee / 1e6:.4f})")
        if plan is None:
            return (f"{head}; no arb plan is remembered for it (the desk restarted?): read the arb table "
                    "before hedging on Polymarket")
        return (f"{head}. Now {self._instruction(plan, fill.count, cost, fill.fee)}. Until it fills you hold "
                f"{fill.count / 100:g} {what} {fill.ticker} unhedged (leg risk)")

    def _due(self, view: MarketView, side: Side) -> bool:
        key = (view.ticker, side)
        last = self._last_ms.get(key)
        if last is not None and view.now_ms - last < self.min_interval_ms:
            return False
        self._last_ms[key] = view.now_ms
        return True
