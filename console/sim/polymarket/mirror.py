"""`Mirror`: the Polymarket twin of about a third of the world's election markets, stepped with the world.

Each step (the world calls `step(t_ms)` after its own step, so both run on one simulated timeline,
in real time under the server and without sleeping under `World.step_until`):

1. the mirror crowd's belief in every open market moves toward a target in log-odds: 70% the Kalshi
   crowd's view of the paired market (the same public polls, with their shared error, un-bent from
   Kalshi's longshot bias) and 30% the world's truth, on token 0's side; with an exponential lag of
   `lag_min`, its own Ornstein-Uhlenbeck noise, and a milder favourite-longshot bias than Kalshi's.
   So the venues agree on average, drift apart and come back, and neither is a window onto the truth;
2. a market whose Kalshi twin was determined resolves: its book empties and it closes;
3. the tick size switches to 0.001 when the belief nears 0 or 1 (and back, with hysteresis), and all
   makers requote on the new grid;
4. makers requote and the noise taker trades, Poisson-many times per market;
5. the step's changes go to `publish(market, changes, t_ms)` (the WebSocket layer), market by market.

Everything is drawn from generators seeded by (seed, component) and iterated in listing order, so a
seed gives one mirror tape whatever the clients do (they cannot trade here).
"""

from __future__ import annotations

import hashlib
import logging
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from console.sim.polymarket.agents import (
    Fill,
    MakerParams,
    TakerParams,
    logit,
    noise_trade,
    requote,
    sigmoid,
)
from console.sim.polymarket.book import PIPS, MirrorBook
from console.sim.polymarket.universe import PolyMarket, build_universe
from console.sim.polymarket.wire import fmt_price

log = logging.getLogger(__name__)

COARSE_TICK, FINE_TICK = 100, 10  # 0.01 and 0.001 in pips
MIN_ORDER_SIZE = "5"
MAX_ACTIVE_MS = 60_000


@dataclass(frozen=True)
class MirrorParams:
    public_weight: float = 0.85  # share of the Kalshi crowd's view (same polls) in the mirror crowd's target
    lag_min: float = 20.0  # how far behind its target the mirror crowd runs
    noise_sd: float = 0.15  # log-odds
    noise_reversion_min: float = 180.0
    flb_slope: float = 0.94
    requote_rate: float = 1.5  # maker requotes per market per second
    taker_rate: float = 0.08  # noise trades per contested market per second
    fine_below: float = 0.04  # tick 0.001 under this (or over 1 - this) ...
    coarse_above: float = 0.06  # ... and back to 0.01 once inside [this, 1 - this]
    mark_every_ms: int = 60_000  # Gamma's outcomePrices are refreshed this often (stale-ish, like Gamma's)
    makers: MakerParams = MakerParams()
    taker: TakerParams = TakerParams()


@dataclass(frozen=True)
class MirrorTrade:
    t_ms: int
    condition_id: str
    token_id: str
    side: str
    price: int
    size: int
    tx_hash: str


@dataclass
class Changes:
    """What one step did to one market, in order of what the WebSocket layer must send."""

    tick: tuple[int, int] | None = None  # (old, new) in pips
    trades: list[MirrorTrade] = field(default_factory=list)
    levels: list[tuple[int, int, int, int]] = field(default_factory=list)  # (side, price0, before, now)
    resolved: int | None = None  # winning token index


@dataclass(eq=False)
class MarketState:
    spec: PolyMarket
    book: MirrorBook
    lagged: float
    noise: float
    belief: float
    views: list[float]
    last_trade: list[str] = field(default_factory=lambda: ["", ""])  # per token, wire string
    last_side: list[str] = field(default_factory=lambda: ["", ""])
    volume_micros: int = 0
    mark: int = 5000  # token 0, pips
    mark_t: int = 0
    winner: int | None = None  # resolved: the winning token
    pinned_tick: int | None = None  # set through POST /sim/tick-size (tests); the automatic rule is off

    @property
    def closed(self) -> bool:
        return self.winner is not None

    def truth_token0(self, truth_yes: float) -> float:
        return truth_yes if self.spec.kalshi_yes_index == 0 else 1.0 - truth_yes


Publisher = Callable[[MarketState, Changes, int], None]


def _poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    k, threshold, prod = 0, math.exp(-lam), rng.random()
    while prod > threshold:
        k += 1
        prod *= rng.random()
    return k


class Mirror:
    """The mirrored markets of one world (see the module docstring)."""

    def __init__(self, world: Any, seed: int | None = None, params: MirrorParams | None = None) -> None:
        self.world = world
        self.seed = world.seed if seed is None else seed
        self.p = p = params or MirrorParams()
        self._rng = {name: random.Random(f"edgedesk-polymarket:{self.seed}:{name}")
                     for name in ("crowd", "makers", "takers", "flow")}
        self.markets: list[MarketState] = []
        self.by_token: dict[str, tuple[MarketState, int]] = {}
        self.by_condition: dict[str, MarketState] = {}
        self.trades: list[MirrorTrade] = []
        self.publish: Publisher | None = None
        self.steps = 0
        # on the world's step grid, never the wall clock, so a seed gives one path: from the world's start
        # when attached before its first step (the server does that), else from the first step seen
        self._t: int | None = world.start_ms if world.steps == 0 else None
        crowd = self._rng["crowd"]
        for spec in build_universe(world, self.seed):
            lagged = self._target0(spec)
            noise = crowd.gauss(0.0, p.noise_sd)
            belief = sigmoid(p.flb_slope * (lagged + noise))
            tick = FINE_TICK if min(belief, 1 - belief) < p.fine_below else COARSE_TICK
            ms = MarketState(spec, MirrorBook(tick), lagged, noise, belief, [belief] * len(p.makers.half_spreads),
                             mark=round(belief * 100) * 100, mark_t=self._t)
            self.markets.append(ms)
            self.by_condition[spec.condition_id] = ms
            for i, token in enumerate(spec.token_ids):
                self.by_token[token] = (ms, i)
        makers = self._rng["makers"]
        for ms in self.markets:  # every maker quotes at once, so books start two-sided
            for m in range(len(p.makers.half_spreads)):
                requote(ms.book, m, ms.views, ms.belief, ms.spec.touch_shares, makers, p.makers)
            ms.book.flush()

    # --- what the mirror crowd follows ---------------------------------------------------------------

    def _truth0(self, spec: PolyMarket) -> float:
        truth_yes = self.world.truth_p.get(spec.kalshi_ticker, 0.5)
        return truth_yes if spec.kalshi_yes_index == 0 else 1.0 - truth_yes

    def _target0(self, spec: PolyMarket) -> float:
        """Token 0's target log-odds: the public information (Kalshi's crowd, unbent) blended with the truth.

        Both venues read the same polls, so the mirror shares most of the Kalshi crowd's error (without
        this it would be a window onto the hidden truth); `public_weight` says how much.
        """
        truth = logit(min(0.997, max(0.003, self._truth0(spec))))
        crowd_yes = self.world.crowd_p.get(spec.kalshi_ticker)
        if crowd_yes is None:
            return truth
        slope = getattr(getattr(self.world.crowd, "p", None), "flb_slope", 1.0) or 1.0
        public = logit(min(0.997, max(0.003, crowd_yes))) / slope
        if spec.kalshi_yes_index == 1:
            public = -public
        w = self.p.public_weight
        return w * public + (1.0 - w) * truth

    # --- stepping -----------------------------------------------------------------------------------

    def step(self, t_ms: int) -> None:
        """Advance to `t_ms` (the world calls this after each of its steps)."""
        dt_ms = 0 if self._t is None else max(0, t_ms - self._t)
        self._t = t_ms
        p = self.p
        # agents act for at most a minute per step: after a clock jump the crowd catches up, the tape does not
        seconds = min(dt_ms, MAX_ACTIVE_MS) / 1000 * getattr(self.world, "activity", 1.0)
        lag_alpha = 1.0 - math.exp(-dt_ms / (p.lag_min * 60_000))
        decay = math.exp(-dt_ms / (p.noise_reversion_min * 60_000))
        crowd, makers, takers, flow = (self._rng[k] for k in ("crowd", "makers", "takers", "flow"))
        n_makers = len(p.makers.half_spreads)
        for ms in self.markets:
            if ms.closed:
                continue
            changes = Changes()
            result = self.world.determined.get(ms.spec.kalshi_ticker)
            if result is not None:
                ms.winner = ms.spec.kalshi_yes_index if result == "yes" else 1 - ms.spec.kalshi_yes_index
                ms.book.clear()
                changes.levels = ms.book.flush()
                changes.resolved = ms.winner
                self._emit(ms, changes, t_ms)
                continue
            target = self._target0(ms.spec)
            ms.lagged += lag_alpha * (target - ms.lagged)
            ms.noise = ms.noise * decay + p.noise_sd * math.sqrt(max(0.0, 1.0 - decay * decay)) * crowd.gauss(0.0, 1.0)
            ms.belief = sigmoid(p.flb_slope * (ms.lagged + ms.noise))
            edge = min(ms.belief, 1.0 - ms.belief)
            book = ms.book
            new_tick = FINE_TICK if edge < p.fine_below else (COARSE_TICK if edge >= p.coarse_above else book.tick)
            if ms.pinned_tick is None and new_tick != book.tick:
                changes.tick = (book.tick, new_tick)
                self._retick(ms, new_tick)
            for _ in range(_poisson(flow, p.requote_rate * seconds)):
                requote(book, flow.randrange(n_makers), ms.views, ms.belief, ms.spec.touch_shares, makers, p.makers)
            weight = max(0.2, min(1.0, 4.0 * ms.belief * (1.0 - ms.belief)))
            for _ in range(_poisson(flow, p.taker_rate * weight * seconds)):
                fill = noise_trade(book, takers, p.taker)
                if fill is not None:
                    changes.trades.append(self._record(ms, fill, t_ms))
            if t_ms - ms.mark_t >= p.mark_every_ms:
                bid, ask = book.top(0)
                ms.mark = (bid + ask) // 2 if bid is not None and ask is not None else round(ms.belief * PIPS)
                ms.mark_t = t_ms
            changes.levels = book.flush()
            if changes.tick or changes.trades or changes.levels:
                self._emit(ms, changes, t_ms)
        self.steps += 1

    def _retick(self, ms: MarketState, tick: int) -> None:
        """Quotes on the old grid go; every maker requotes on the new one."""
        ms.book.tick = tick
        ms.book.clear()
        for m in range(len(self.p.makers.half_spreads)):
            requote(ms.book, m, ms.views, ms.belief, ms.spec.touch_shares, self._rng["makers"], self.p.makers)

    def pin_tick(self, ms: MarketState, tick: int, t_ms: int) -> None:
        """Set a market's tick now and keep it (admin, for tests); emits tick_size_change and fresh books."""
        ms.pinned_tick = tick
        if tick == ms.book.tick:
            return
        changes = Changes(tick=(ms.book.tick, tick))
        self._retick(ms, tick)
        ms.book.flush()  # the books that follow the tick change carry the new state
        self._emit(ms, changes, t_ms)

    def _record(self, ms: MarketState, fill: Fill, t_ms: int) -> MirrorTrade:
        token_id = ms.spec.token_ids[fill.token]
        tx = "0x" + hashlib.sha256(f"edgedesk-polymarket:{self.seed}:tx:{len(self.trades)}".encode()).hexdigest()
        trade = MirrorTrade(t_ms, ms.spec.condition_id, token_id, fill.side, fill.price, fill.size, tx)
        self.trades.append(trade)
        ms.last_trade[fill.token] = fmt_price(fill.price)
        ms.last_side[fill.token] = fill.side
        ms.volume_micros += fill.price * fill.size
        return trade

    def _emit(self, ms: MarketState, changes: Changes, t_ms: int) -> None:
        if self.publish is None:
            return
        try:
            self.publish(ms, changes, t_ms)
        except Exception:  # a broken subscriber must not stop the market
            log.exception("polymarket mirror: publishing %s failed", ms.spec.slug)

    # --- views --------------------------------------------------------------------------------------

    def token(self, token_id: str) -> tuple[MarketState, int] | None:
        return self.by_token.get(token_id)

    def now_ms(self) -> int:
        return self.world.clock.now_ms()
