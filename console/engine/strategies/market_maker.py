"""`MarketMaker`: quotes both sides of a market around the model's fair value (kind "market_maker").

One post-only bid (buys YES) and one post-only ask (buys NO) rest in the engine's quote slots:

- centre: the model's P(YES) (`view.fair`) in pips, moved by an inventory skew: when long YES both quotes
  go down (`skew_at_max` pips at `max_position`), so the next fill more likely sells; short, both go up;
- half-spread: `half_spread`, plus `vol_multiplier` x the range of the book's mid over the last
  `vol_window_ms` (as seen in the views this strategy was handed, keyed by `view.now_ms`), plus
  `thin_widen` when either touch (without our own orders) holds less than `thin_touch_count`; at most
  `max_half_spread`;
- fees: a quote never rests where the edge after the maker fee is below `min_edge` pips per contract
  (it moves further from fair; a side with no such price is pulled), and never crosses the book;
- size: `count` (times the model's calibration shrink), the side that adds to the inventory shrinking
  linearly to zero at `max_position`;
- hysteresis: a resting quote stays where it is while the new price is within `requote_threshold` pips
  of it and still clears the fee, so the engine does not amend on every tick;
- pulls (count 0 on both sides): whatever the shared guard sits out (`guard.check`: red book, cooling
  off after a large loss, a one-sided book or a spread wider than `max_spread`, the model's calibration
  shrink below `min_shrink`), no model value or a stale one (`max_fair_age_ms`), the last
  `pull_before_close_s` before the market closes, inside a `blackouts` window (scheduled releases), and
  when fair is more than `max_fair_gap` pips from the book's mid (a disagreement that big is the
  directional strategy's business: quoting around it would only sit passively on one side), or when
  the fair value's category is not in `categories` (when that is set: quote where the model is good).

Pure and deterministic: no I/O, no wall clock; the only memory is the recent mids per market.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from console.domain.edges import fee_table
from console.domain.fees import KalshiFees
from console.domain.grid import PriceGrid
from console.domain.side import Side
from console.domain.units import PRICE_MAX
from console.engine.strategies import guard
from console.engine.strategies.base import Intent, MarketView, StrategyConfigError

_MAX_POINTS = 4_096  # mid changes kept per market at most, whatever the window


class MidTrail:
    """One market's mid (x2, YES pips) as the views showed it, kept as change points over a time window.

    Only changes are stored (a market is evaluated on every book change and every 250 ms: storing every
    view would make memory, and any cap on it, depend on how busy the book is), plus the last change at
    or before the window's start, which is the mid the window started with. Times are the kernel's.
    """

    __slots__ = ("points",)

    def __init__(self) -> None:
        self.points: deque[tuple[int, int]] = deque()

    def add(self, now_ms: int, mid_x2: int, window_ms: int) -> None:
        points = self.points
        if points and now_ms < points[-1][0]:
            points.clear()  # time went back (a replay restarted): these mids belong to another run
        if not points or points[-1][1] != mid_x2:
            points.append((now_ms, mid_x2))
        start = now_ms - window_ms
        while len(points) > 1 and (points[1][0] <= start or len(points) > _MAX_POINTS):
            points.popleft()

    def at_start(self) -> int:
        """The mid when the window started (or the first one seen, when the trail is younger)."""
        return self.points[0][1]

    def range_x2(self) -> int:
        values = [m for _, m in self.points]
        return max(values) - min(values)


def fee_per_contract(fees: KalshiFees, cost_pips: int, ref_count: int, *, maker: bool) -> float:
    """The fee in dollars per contract for an order of `ref_count` units at `cost_pips` (own side's scale)."""
    ref = max(ref_count, 1)
    return fee_table(fees, ref, maker)[cost_pips] * 100.0 / (ref * 1_000_000.0)


def edge_after_fee(prob_yes: float, side: Side, yes_price: int, fees: KalshiFees, ref_count: int,
                   *, maker: bool) -> float:
    """Dollars per contract this side earns in expectation at `yes_price`, after the venue fee."""
    if side is Side.BID:
        return prob_yes - yes_price / PRICE_MAX - fee_per_contract(fees, yes_price, ref_count, maker=maker)
    cost = PRICE_MAX - yes_price
    return (1.0 - prob_yes) - cost / PRICE_MAX - fee_per_contract(fees, cost, ref_count, maker=maker)


def touch_without_own(view: MarketView, side: Side) -> tuple[int, int] | None:
    """Best (YES price, count) of a side once our own resting orders are taken out (None: empty)."""
    for price, size in view.book.depth(side, 50):
        rest = size - view.own_at(side, price)
        if rest > 0:
            return price, rest
    return None


def parse_windows(text: str, where: str) -> tuple[tuple[int, int], ...]:
    """`"START/END, ..."` (Unix seconds or ISO-8601 UTC) as (start_ms, end_ms) pairs."""
    out = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        try:
            start, end = (_instant_ms(x.strip()) for x in part.split("/"))
        except ValueError:
            raise StrategyConfigError(f"{where} blackouts: {part!r} is not START/END (Unix seconds or ISO-8601 "
                                      "UTC, e.g. 2026-12-10T13:25Z/2026-12-10T13:45Z)") from None
        if end <= start:
            raise StrategyConfigError(f"{where} blackouts: {part!r} ends before it starts")
        out.append((start, end))
    return tuple(out)


def _instant_ms(text: str) -> int:
    if text.isdigit():
        return int(text) * 1000
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp()) * 1000


def _cents(pips: float) -> str:
    return f"{pips / 100:.2f}c"


@dataclass
class MarketMaker:
    name: str
    tickers: frozenset[str] | None
    count: int = 1_000  # per side, hundredths of a contract (10 contracts)
    max_position: int = 5_000  # signed position cap per market (50 contracts)
    half_spread: int = 200  # pips either side of fair before any widening
    min_edge: int = 0  # YES pips per contract after the maker fee a quote must keep (0 = break-even)
    vol_window_ms: int = 60_000
    vol_multiplier: float = 0.5  # extra half-spread per pip of mid range in the window
    thin_touch_count: int = 500  # a touch below this (without our orders) is thin
    thin_widen: int = 100  # pips added to the half-spread on a thin book
    max_half_spread: int = 1_500
    skew_at_max: int = 300  # pips both quotes move against the inventory at max_position
    requote_threshold: int = 100  # pips a quote must move before its resting order is amended
    max_fair_age_ms: int = 0  # 0 = any age
    pull_before_close_s: int = 0
    blackouts: str = ""  # "START/END,..." scheduled releases (Unix seconds or ISO-8601 UTC)
    categories: tuple[str, ...] = ()  # only markets of these FairValue categories (empty: every one)
    max_fair_gap: int = 1_500  # pips between fair and the book's mid past which the market is not quoted (0: any)
    count_step: int = 100  # whole contracts
    max_spread: int = 2_000  # guard: a wider book (pips) is not quoted
    min_shrink: float = 0.3  # guard
    cooling_off_s: float = 900.0  # guard
    _limits: guard.GuardLimits = field(default=guard.GuardLimits(), init=False, repr=False)
    _mids: dict[str, MidTrail] = field(default_factory=dict, init=False, repr=False)
    _windows: tuple[tuple[int, int], ...] = field(default=(), init=False, repr=False)

    def __post_init__(self) -> None:
        where = f"[engine.strategies.{self.name}]"
        if self.max_position <= 0 or self.count <= 0 or self.count_step <= 0:
            raise StrategyConfigError(f"{where} count, max_position and count_step must be > 0")
        if self.half_spread < 0 or self.requote_threshold < 0 or self.max_half_spread < self.half_spread:
            raise StrategyConfigError(f"{where} half_spread and requote_threshold must be >= 0 and "
                                      "max_half_spread >= half_spread (pips)")
        self._windows = parse_windows(self.blackouts, where)
        self.categories = tuple(self.categories)
        self._limits = guard.GuardLimits(self.max_spread, self.min_shrink, self.cooling_off_s)

    # --- memory: recent mids ----------------------------------------------------------------------
    def _remember_mid(self, ticker: str, now_ms: int, mid_x2: int) -> int:
        """Record the mid and return the range of mids (pips) over the window, this one included."""
        trail = self._mids.setdefault(ticker, MidTrail())
        trail.add(now_ms, mid_x2, self.vol_window_ms)
        return trail.range_x2() // 2

    # --- decisions --------------------------------------------------------------------------------
    def _pull_reason(self, view: MarketView, mid_x2: int | None) -> str | None:
        fair, meta = view.fair, view.meta
        verdict = guard.check(view, self._limits, fair.model if fair else "", fair.category if fair else "")
        if verdict is not None:
            return f"{verdict.reason.value.replace('_', ' ')}: {verdict.message}"
        if fair is None:
            return "no model value for this market"
        if self.categories and fair.category not in self.categories:
            return f"category {fair.category!r} is not among {', '.join(self.categories)}"
        if meta is None:
            return "no market details (grid, fees) yet"
        if self.max_fair_age_ms and view.now_ms - fair.as_of_ms > self.max_fair_age_ms:
            return f"model value is {(view.now_ms - fair.as_of_ms) // 1000} s old"
        if self.pull_before_close_s and meta.close_ts and \
                view.now_ms >= (meta.close_ts - self.pull_before_close_s) * 1000:
            return f"within {self.pull_before_close_s} s of the close"
        for start, end in self._windows:
            if start <= view.now_ms < end:
                return f"blackout {start // 1000}-{end // 1000} (scheduled release)"
        if self.max_fair_gap and mid_x2 is not None and \
                abs(fair.prob_yes * PRICE_MAX - mid_x2 / 2) > self.max_fair_gap:
            return (f"fair {_cents(fair.prob_yes * PRICE_MAX)} is more than {_cents(self.max_fair_gap)} from the mid "
                    f"{_cents(mid_x2 / 2)}: a disagreement to trade directionally, not to make a market in")
        return None

    def _pull(self, view: MarketView, why: str) -> list[Intent]:
        out = []
        for side in Side:
            resting = next((o.price for o in view.own_orders if o.side is side), 1)
            out.append(Intent(view.ticker, side, resting, 0, self.name, reason=f"quotes pulled: {why}",
                              model_probability=view.fair.prob_yes if view.fair else None,
                              time_in_force="good_till_canceled", post_only=True, quote=True))
        return out

    def evaluate(self, view: MarketView) -> Sequence[Intent]:
        best_bid, best_ask = touch_without_own(view, Side.BID), touch_without_own(view, Side.ASK)
        mid_range, mid_x2 = 0, None
        if best_bid is not None and best_ask is not None:
            mid_x2 = best_bid[0] + best_ask[0]
            mid_range = self._remember_mid(view.ticker, view.now_ms, mid_x2)
        why = self._pull_reason(view, mid_x2)
        if why is not None:
            return self._pull(view, why)
        assert view.fair is not None and view.meta is not None
        prob, grid, fees = view.fair.prob_yes, view.meta.grid, view.meta.fees
        thin = min(best_bid[1] if best_bid else 0, best_ask[1] if best_ask else 0) < self.thin_touch_count
        half = min(self.half_spread + self.vol_multiplier * mid_range + (self.thin_widen if thin else 0),
                   float(self.max_half_spread))
        position = view.position
        skew = self.skew_at_max * max(-1.0, min(1.0, position / self.max_position))
        fair_pips = prob * PRICE_MAX
        shrink = 1.0
        if view.context is not None:
            shrink = max(0.0, min(1.0, view.context.shrink(view.fair.model, view.fair.category)))
        base = self.count * shrink
        how = f"fair {_cents(fair_pips)} ({view.fair.model}), half-spread {_cents(half)}"
        if thin:
            how += " (thin book)"
        if mid_range:
            how += f", mid range {_cents(mid_range)} in {self.vol_window_ms // 1000} s"
        if position:
            how += f", skew {_cents(-skew)} for position {position / 100:+.2f} contracts"
        out = []
        for side in Side:
            adds = max(position, 0) if side is Side.BID else max(-position, 0)
            room = self.max_position - position if side is Side.BID else self.max_position + position
            size = min(base * (1.0 - adds / self.max_position), room)
            count = max(0, int(size) // self.count_step * self.count_step)
            target = fair_pips - skew + (-half if side is Side.BID else half)
            opposite = best_ask if side is Side.BID else best_bid
            price = self._price(view, side, target, prob, grid, fees, None if opposite is None else opposite[0])
            what = "YES bid" if side is Side.BID else "NO bid (YES ask)"
            if price is None:
                out.append(Intent(view.ticker, side, next((o.price for o in view.own_orders if o.side is side), 1),
                                  0, self.name, reason=f"{what} pulled: no price clears the maker fee without crossing the book; {how}",
                                  model_probability=prob, time_in_force="good_till_canceled", post_only=True,
                                  quote=True))
                continue
            edge = edge_after_fee(prob, side, price, fees, self.count, maker=True)
            out.append(Intent(view.ticker, side, price, count, self.name,
                              reason=f"quote {what} {_cents(price)}: {how}", model_probability=prob,
                              edge_after_fees=edge, time_in_force="good_till_canceled", post_only=True, quote=True))
        return out

    def _price(self, view: MarketView, side: Side, target: float, prob: float, grid: PriceGrid, fees: KalshiFees,
               opposite: int | None) -> int | None:
        """The quote's grid price: away from fair, clear of the maker fee, not crossing; sticky near the resting one."""
        def ok(p: int | None) -> bool:
            return p is not None and 0 < p < PRICE_MAX and \
                edge_after_fee(prob, side, p, fees, self.count, maker=True) >= self.min_edge / PRICE_MAX and \
                (opposite is None or (p < opposite if side is Side.BID else p > opposite))

        if side is Side.BID:
            price = grid.round_down(min(max(math.floor(target), 0), PRICE_MAX))
            step = grid.round_down
        else:
            price = grid.round_up(min(max(math.ceil(target), 0), PRICE_MAX))
            step = grid.round_up
        rounded = price
        # walk away from fair until the fee is covered and the quote would rest (not cross)
        while price is not None and not ok(price):
            price = step(price - 1 if side is Side.BID else price + 1)
        if price is None:
            return None
        # hysteresis against the unrounded target, so a small move across a grid boundary is not an amend
        desired = target if price == rounded else float(price)
        resting = [o.price for o in view.own_orders if o.side is side]
        if resting and abs(desired - resting[0]) < self.requote_threshold and ok(resting[0]):
            return resting[0]
        return price
