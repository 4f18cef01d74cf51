"""The mirror's own crowd: three market makers and a noise taker per mirrored market.

They are not the Kalshi world's agents and never trade on Kalshi. Each maker keeps a lagged copy of
the mirror crowd's belief (token 0's probability), adds a little jitter, and quotes three levels a
side around it with its own half-spread (1, 2 and 3 cents); sizes grow away from the touch (a
Polymarket-looking ladder, unlike Kalshi's thinning one). Quotes never cross the other makers'
quotes. The noise taker hits the touch with log-normal sizes, sometimes fractional, through either
token (buying token 0 at p is the same trade as selling token 1 at 1 - p).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from console.sim.polymarket.book import BUY, PIPS, SELL, MirrorBook


@dataclass(frozen=True)
class MakerParams:
    half_spreads: tuple[float, ...] = (0.01, 0.02, 0.03)  # probability units
    size_factors: tuple[float, ...] = (1.0, 0.6, 0.4)
    view_lags: tuple[float, ...] = (0.6, 0.4, 0.25)  # share of the gap to the crowd closed per requote
    levels: int = 3
    level_growth: float = 1.3
    jitter_logit: float = 0.04
    fractional_share: float = 0.1


@dataclass(frozen=True)
class TakerParams:
    median_shares: float = 40.0
    max_shares: float = 2000.0
    fractional_share: float = 0.2


@dataclass(frozen=True)
class Fill:
    token: int  # the token the taker traded through
    side: str  # "BUY" | "SELL" on that token (the taker's side)
    price: int  # on that token's scale (pips)
    size: int  # hundredths of a share


def logit(p: float) -> float:
    p = min(1 - 1e-9, max(1e-9, p))
    return math.log(p / (1 - p))


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _shares(rng: random.Random, shares: float, fractional_share: float) -> int:
    """Whole shares, or (sometimes) two decimals, in hundredths."""
    if rng.random() < fractional_share:
        return max(1, int(shares * 100))
    return max(1, round(shares)) * 100


def requote(book: MirrorBook, maker: int, views: list[float], belief: float, touch_shares: int,
            rng: random.Random, p: MakerParams) -> None:
    """Move one maker's three levels a side to its current view."""
    view = views[maker] = views[maker] + p.view_lags[maker] * (belief - views[maker])
    fair = sigmoid(logit(min(0.999, max(0.001, view))) + rng.gauss(0.0, p.jitter_logit))
    tick = book.tick
    gap = 100 if tick >= 100 else 50
    half = p.half_spreads[maker]
    bid0 = int((fair - half) * PIPS) // tick * tick
    ask0 = -(-math.ceil((fair + half) * PIPS) // tick) * tick
    if ask0 - bid0 < tick:
        ask0 = bid0 + tick
    touch = touch_shares * p.size_factors[maker] * math.exp(rng.gauss(0.0, 0.35))
    others_ask = min((pr for (m, s, _), (pr, _) in book.orders.items() if s == SELL and m != maker), default=None)
    others_bid = max((pr for (m, s, _), (pr, _) in book.orders.items() if s == BUY and m != maker), default=None)
    for k in range(p.levels):
        size = _shares(rng, max(5.0, touch * p.level_growth ** k), p.fractional_share)
        bid = bid0 - k * gap
        if others_ask is not None:  # strictly below the others' best ask, on the grid
            bid = min(bid, (others_ask - 1) // tick * tick)
        ask = ask0 + k * gap
        if others_bid is not None:
            ask = max(ask, (others_bid // tick + 1) * tick)
        book.place((maker, BUY, k), bid if tick <= bid <= PIPS - tick else None, size)
        book.place((maker, SELL, k), ask if tick <= ask <= PIPS - tick else None, size)


def noise_trade(book: MirrorBook, rng: random.Random, p: TakerParams) -> Fill | None:
    """Hit the touch once; None when that side of the book is empty."""
    shares = min(p.max_shares, max(5.0, math.exp(rng.gauss(math.log(p.median_shares), 1.0))))
    size = _shares(rng, shares, p.fractional_share)
    buys_token0 = rng.random() < 0.5
    via_token1 = rng.random() < 0.5
    done = book.take(SELL if buys_token0 else BUY, size)
    if done is None:
        return None
    price0, filled = done
    if not via_token1:
        return Fill(0, "BUY" if buys_token0 else "SELL", price0, filled)
    return Fill(1, "SELL" if buys_token0 else "BUY", PIPS - price0, filled)
