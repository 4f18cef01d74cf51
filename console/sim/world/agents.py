"""Synthetic traders: market makers, noise takers and informed traders, each on its own exchange account.

They trade only through `Exchange.create_order` / `amend_order` / `cancel_order` and read only the
public book (best bid / ask) and their own orders and positions, so the desk's orders reach them
exactly as any resting liquidity would.

- Market makers (world-mm-1..3) quote three levels a side around their own lagged copy of the crowd's
  probability (`Crowd.prob`, which carries the favourite-longshot bias), plus a small per-quote jitter;
  each has its own half-spread (0.5c, 1c, 2c) and size factor (1.0, 0.45, 0.3), and each level is half
  the one before, so the wider makers add depth further out and the book thins away from the touch;
  inventory skews the quotes by up to 2c and stops the side that would breach the limit. Quotes never
  lock or cross the public book (a bid stays 1c under the best ask).
- Noise takers (world-noise) hit the touch at random with log-normal sizes, a share of them
  fractional, leaning toward buying longshots (60/40 when the price is under 30c or over 70c).
- Informed traders (world-informed) act on the truth seen through a 10-minute lag when the touch is at
  least 3c away from it, taking up to 60 contracts.

How often each acts is a Poisson rate per unit of market weight (see `World`), so per-step work
stays small: each step only a random handful of markets is touched.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from console.sim.events import BookSide
from console.sim.model import (
    ExchangeError,
    Market,
    OrderRequest,
    OrderStatus,
    SelfTradePrevention,
    TimeInForce,
)

FUNDING_MICROS = 50_000_000 * 1_000_000  # $50M each
CENT = 100  # pips


@dataclass(frozen=True)
class AgentParams:
    mm_half_spreads: tuple[float, ...] = (0.005, 0.01, 0.02)  # probability units
    mm_size_factors: tuple[float, ...] = (1.0, 0.45, 0.3)
    mm_view_lags: tuple[float, ...] = (0.5, 0.3, 0.2)  # share of the gap to the crowd closed per requote
    mm_levels: int = 3
    mm_level_decay: float = 0.5
    mm_jitter_logit: float = 0.03
    mm_skew_max: float = 0.02
    mm_limit_touches: int = 30  # inventory limit = this many touch sizes
    burst_widening: float = 0.005
    noise_longshot_tilt: float = 0.6
    noise_median_contracts: float = 8.0
    noise_fractional_share: float = 0.15
    informed_edge: float = 0.03
    informed_max_contracts: int = 60


@dataclass
class Quote:
    """What the world tells the agents about one tradeable market this step."""

    market: Market
    crowd_p: float  # the crowd's probability, bias included
    informed_p: float  # the truth through the informed traders' lag
    touch_contracts: int
    burst: bool = False


@dataclass
class MarketMaker:
    account_id: str
    half_spread: float
    size_factor: float
    view_lag: float
    views: dict[str, float] = field(default_factory=dict)
    orders: dict[tuple[str, BookSide, int], str] = field(default_factory=dict)


class Agents:
    """All synthetic traders of one world."""

    def __init__(self, exchange, rng: random.Random, params: AgentParams | None = None) -> None:
        self.exchange, self.rng = exchange, rng
        self.p = p = params or AgentParams()
        self.mms = [MarketMaker(f"world-mm-{i + 1}", hs, sf, lag)
                    for i, (hs, sf, lag) in enumerate(zip(p.mm_half_spreads, p.mm_size_factors, p.mm_view_lags,
                                                          strict=True))]
        self.noise_id, self.informed_id = "world-noise", "world-informed"
        for account_id in (*(m.account_id for m in self.mms), self.noise_id, self.informed_id):
            if account_id not in exchange.accounts:
                exchange.create_account(account_id, FUNDING_MICROS)
        self.rejects = 0
        self.actions = 0

    # --- market making ------------------------------------------------------------------------

    def requote(self, mm: MarketMaker, q: Quote) -> None:
        ticker, grid = q.market.ticker, q.market.grid
        view = mm.views.get(ticker)
        view = q.crowd_p if view is None else view + mm.view_lag * (q.crowd_p - view)
        mm.views[ticker] = view
        p = self.p
        jitter = self.rng.gauss(0.0, p.mm_jitter_logit)
        v = min(0.999, max(0.001, view))
        fair = 1.0 / (1.0 + math.exp(-(math.log(v / (1 - v)) + jitter)))
        touch = max(1, round(q.touch_contracts * mm.size_factor * math.exp(self.rng.gauss(0.0, 0.3))))
        limit = q.touch_contracts * p.mm_limit_touches * 100
        account = self.exchange.accounts[mm.account_id]
        pos_rec = account.positions.get(ticker)
        position = pos_rec.position if pos_rec else 0
        fair -= p.mm_skew_max * max(-1.0, min(1.0, position / limit))
        half = mm.half_spread + (p.burst_widening if q.burst else 0.0)
        bid0 = grid.round_down(int((fair - half) * 10000))
        ask0 = grid.round_up(math.ceil((fair + half) * 10000))
        if bid0 is not None and ask0 is not None and ask0 - bid0 < CENT:
            ask0 = grid.round_up(bid0 + CENT)
        plan: dict[BookSide, list[tuple[int, int]]] = {BookSide.BID: [], BookSide.ASK: []}
        for k in range(p.mm_levels):
            count = max(1, round(touch * p.mm_level_decay ** k)) * 100
            if bid0 is not None and position < limit and (price := grid.round_down(bid0 - k * CENT)) is not None:
                plan[BookSide.BID].append((price, count))
            if ask0 is not None and position > -limit and (price := grid.round_up(ask0 + k * CENT)) is not None:
                plan[BookSide.ASK].append((price, count))
        current_bid = self._own_price(mm, ticker, BookSide.BID, 0)
        moving_up = current_bid is not None and bid0 is not None and bid0 > current_bid
        for side in ((BookSide.ASK, BookSide.BID) if moving_up else (BookSide.BID, BookSide.ASK)):
            levels = plan[side]
            for k in range(p.mm_levels):
                self._place(mm, ticker, grid, side, k, levels[k] if k < len(levels) else None)

    def _own_price(self, mm: MarketMaker, ticker: str, side: BookSide, level: int) -> int | None:
        oid = mm.orders.get((ticker, side, level))
        order = self.exchange.orders.get(oid) if oid else None
        return order.price if order is not None and order.status is OrderStatus.RESTING else None

    def _place(self, mm: MarketMaker, ticker: str, grid, side: BookSide, level: int,
               want: tuple[int, int] | None) -> None:
        ex = self.exchange
        key = (ticker, side, level)
        oid = mm.orders.get(key)
        order = ex.orders.get(oid) if oid else None
        live = order is not None and order.status is OrderStatus.RESTING
        if want is not None:
            price, count = want
            # never lock or cross the public book: stay a cent inside the other side's best
            if side is BookSide.BID:
                best = ex.best_ask(ticker)
                if best is not None and price > best[0] - CENT:
                    price = grid.round_down(best[0] - CENT)
            else:
                best = ex.best_bid(ticker)
                if best is not None and price < best[0] + CENT:
                    price = grid.round_up(best[0] + CENT)
            want = None if price is None else (price, count)
        try:
            if want is None:
                if live:
                    ex.cancel_order(mm.account_id, oid)
                    self.actions += 1
                mm.orders.pop(key, None)
                return
            price, count = want
            if live:
                if order.price == price and order.remaining_count * 2 >= count:
                    return  # keep the queue position
                ex.amend_order(mm.account_id, oid, ticker=ticker, side=side, price=price,
                               count=order.fill_count + count)
            else:
                new = ex.create_order(mm.account_id, OrderRequest(
                    ticker=ticker, side=side, price=price, count=count, time_in_force=TimeInForce.GTC,
                    self_trade_prevention=SelfTradePrevention.MAKER, post_only=True))
                mm.orders[key] = new.order_id
            self.actions += 1
        except ExchangeError:
            # a post-only quote that would now cross (another maker moved first): skip it this time
            self.rejects += 1
            if live:
                try:
                    ex.cancel_order(mm.account_id, oid)
                except ExchangeError:
                    pass
            mm.orders.pop(key, None)

    def forget(self, ticker: str) -> None:
        """A market closed: drop the makers' bookkeeping for it (the exchange cancelled the orders)."""
        for mm in self.mms:
            mm.views.pop(ticker, None)
            for side in (BookSide.BID, BookSide.ASK):
                for k in range(self.p.mm_levels):
                    mm.orders.pop((ticker, side, k), None)

    # --- takers -------------------------------------------------------------------------------

    def noise_trade(self, q: Quote) -> None:
        ex, rng, p = self.exchange, self.rng, self.p
        ticker = q.market.ticker
        bid, ask = ex.best_bid(ticker), ex.best_ask(ticker)
        if bid is None or ask is None:
            return
        mid = (bid[0] + ask[0]) / 20000
        buy_yes_p = p.noise_longshot_tilt if mid < 0.3 else (1 - p.noise_longshot_tilt if mid > 0.7 else 0.5)
        contracts = min(300.0, max(1.0, math.exp(rng.gauss(math.log(p.noise_median_contracts), 1.0))))
        count = round(contracts) * 100
        if rng.random() < p.noise_fractional_share:
            count = max(1, int(contracts * 100 * rng.random()))
        if rng.random() < buy_yes_p:
            self._take(self.noise_id, ticker, BookSide.BID, ask[0], min(count, ask[1]))
        else:
            self._take(self.noise_id, ticker, BookSide.ASK, bid[0], min(count, bid[1]))

    def informed_trade(self, q: Quote) -> None:
        ex, p = self.exchange, self.p
        ticker = q.market.ticker
        bid, ask = ex.best_bid(ticker), ex.best_ask(ticker)
        if ask is not None and q.informed_p - ask[0] / 10000 >= p.informed_edge:
            edge = q.informed_p - ask[0] / 10000
            self._take(self.informed_id, ticker, BookSide.BID, ask[0],
                       min(ask[1], round(p.informed_max_contracts * min(1.0, edge / 0.1)) * 100))
        elif bid is not None and bid[0] / 10000 - q.informed_p >= p.informed_edge:
            edge = bid[0] / 10000 - q.informed_p
            self._take(self.informed_id, ticker, BookSide.ASK, bid[0],
                       min(bid[1], round(p.informed_max_contracts * min(1.0, edge / 0.1)) * 100))

    def _take(self, account_id: str, ticker: str, side: BookSide, price: int, count: int) -> None:
        if count <= 0:
            return
        try:
            self.exchange.create_order(account_id, OrderRequest(
                ticker=ticker, side=side, price=price, count=count, time_in_force=TimeInForce.IOC,
                self_trade_prevention=SelfTradePrevention.TAKER_AT_CROSS))
            self.actions += 1
        except ExchangeError:
            self.rejects += 1
