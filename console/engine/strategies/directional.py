"""`Directional`: take liquidity where a model's probability beats the executable price after fees.

For a market a model prices (`view.fair`), the edge of each side is the model probability minus the
executable price (the YES ask to buy YES, 1 - the YES bid to buy NO) net of the taker fee
(`console.domain.edges.evaluate`). The better side trades when its edge clears the category's minimum
and the guard (`guard.check`: red book, cooling off, wide spread, poor calibration) lets it. Size:
fractional Kelly (`console.domain.sizing.kelly_size`) times the calibration shrink, counted against
what is already held, capped by the visible depth, `max_order` per order and `max_position` per
market; for election markets the correlated bound (the whole election book's worst stressed
scenario may lose at most `election_loss_share` of bankroll) caps the total.

Convergence exit: within `exit_before_close_s` of the market's close, once the price we could sell
the position at is within `exit_within` pips of the model's value for it, the edge is spent; a
reduce-only IOC frees the capital instead of waiting for settlement.

`assess(view)` returns both the intents and the edge row the snapshot shows (with the signal, or the
reason nothing is traded). Units: prices and edges in YES pips in the config, counts in hundredths.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from console.domain.edges import EdgePolicy, NoTrade, OrderType, Quote, evaluate
from console.domain.side import Side
from console.domain.sizing import (
    ElectionMarket as SizingMarket,
)
from console.domain.sizing import (
    Holding,
    JointScenarios,
    SizingLimits,
    election_scenarios,
    kelly_size,
    max_count_within_bound,
)
from console.domain.units import COUNT_PER_CONTRACT, PRICE_MAX
from console.engine.control import EdgeRow
from console.engine.fair import ElectionState, FairValue
from console.engine.strategies import guard
from console.engine.strategies.base import Intent, MarketView

STEP = COUNT_PER_CONTRACT  # whole contracts


@dataclass(frozen=True, slots=True)
class Assessment:
    """What the strategy makes of one market: the snapshot's edge row and the intents to send."""

    row: EdgeRow
    intents: tuple[Intent, ...]
    reason: NoTrade | None  # None when an order is suggested


def _what(side: Side) -> str:
    return "YES" if side is Side.BID else "NO"


@dataclass
class Directional:
    name: str
    tickers: frozenset[str] | None
    min_edge: int = 300  # YES pips after fees, for categories not in min_edge_by_category
    min_edge_by_category: dict[str, int] = field(default_factory=dict)
    kelly_multiplier: float = 0.25
    max_order: int = 1000  # count units per order
    max_position: int = 2000  # count units per market, either side
    max_spread: int = 800  # guard
    min_shrink: float = 0.3  # guard
    cooling_off_s: float = 900.0  # guard
    election_loss_share: float = 0.05  # of bankroll: the election book's worst stressed scenario
    exit_before_close_s: float = 3600.0
    exit_within: int = 100  # pips
    min_interval_ms: int = 1000
    _last_ms: dict[tuple[str, Side], int] = field(default_factory=dict, repr=False)
    _policy: EdgePolicy | None = field(default=None, repr=False)
    _limits: guard.GuardLimits | None = field(default=None, repr=False)
    _scenarios: tuple[ElectionState, JointScenarios | None] | None = field(default=None, repr=False)
    #: ticker -> (now_ms, fair value, book version, position, assessment) of the last evaluation: the
    #: kernel's edge rows reuse it when nothing changed since
    recent: dict[str, tuple[int, FairValue, int, int, Assessment]] = field(default_factory=dict, init=False,
                                                                             repr=False)

    def __post_init__(self) -> None:
        for key in ("max_order", "max_position"):
            if getattr(self, key) < STEP:
                raise ValueError(f"{key} = {getattr(self, key)}: must be at least {STEP} (one contract)")
        if not 0.0 < self.kelly_multiplier <= 1.0:
            raise ValueError(f"kelly_multiplier = {self.kelly_multiplier}: must be in (0, 1]")
        self._policy = EdgePolicy({k: v / PRICE_MAX for k, v in self.min_edge_by_category.items()},
                                  self.min_edge / PRICE_MAX, OrderType.TAKER, reference_count=self.max_order)
        self._limits = guard.GuardLimits(self.max_spread, self.min_shrink, self.cooling_off_s)

    def evaluate(self, view: MarketView) -> Sequence[Intent]:
        found = self.assess(view, pace=True)
        if found is None:
            return ()
        self.recent[view.ticker] = (view.now_ms, view.fair, getattr(view.book, "version", -1),  # type: ignore[assignment]
                                    view.position, found)
        return found.intents

    # --- the decision -----------------------------------------------------------------------------
    def assess(self, view: MarketView, *, pace: bool = False) -> Assessment | None:
        """The edge row and intents for one market (None: no model prices it). `pace=False` leaves the
        per-market pacing alone (the kernel's edge rows use it)."""
        fair, meta = view.fair, view.meta
        if fair is None or meta is None:
            return None
        p = fair.prob_yes
        bid, ask = view.book.best_bid, view.book.best_ask
        verdict = guard.check(view, self._limits, fair.model, fair.category)  # type: ignore[arg-type]

        def row(side: Side | None, edge: float, count: int, signal: str) -> EdgeRow:
            return EdgeRow(view.ticker, fair.model, p, bid[0] if bid else None, ask[0] if ask else None, side,
                           edge, count, signal)

        exit_intent = self._exit(view, p, verdict)
        if exit_intent is not None:
            i = exit_intent
            ok = not pace or self._due(view, i.side)
            return Assessment(row(i.side, i.edge_after_fees, i.count, f"EXIT {'YES' if i.side is Side.ASK else 'NO'} "
                                  f"{i.count / STEP:g}"), (i,) if ok else (), None)

        quote = Quote(view.ticker, fair.category, meta.fees, bid[0] if bid else None, bid[1] if bid else 0,
                      ask[0] if ask else None, ask[1] if ask else 0)
        edge = evaluate(quote, p, self._policy, guard.gates(verdict))  # type: ignore[arg-type]
        best = edge.best
        if edge.reason is not None or best is None:
            return Assessment(row(best.side if best else None, best.edge_after_fees if best else 0.0, 0, edge.message),
                              (), edge.reason)

        side = best.side
        count, why_not = self._size(view, side, best.yes_price, best.cost, best.fee_per_contract, best.available, p,
                                    fair.model, fair.category)
        if count <= 0:
            return Assessment(row(side, best.edge_after_fees, 0, why_not), (), NoTrade.RISK_LIMIT)
        reason = (f"{fair.model} {p:.3f} vs {_what(side)} at {best.cost / 100:g}c: "
                  f"{best.edge_after_fees * 100:.2f}c after fees (min {edge.min_edge * 100:.2f}c); {why_not}")
        intent = Intent(view.ticker, side, best.yes_price, count, self.name, reason=reason, model_probability=p,
                        edge_after_fees=best.edge_after_fees)
        ok = not pace or self._due(view, side)
        return Assessment(row(side, best.edge_after_fees, count, f"BUY {_what(side)} {count / STEP:g}"),
                          (intent,) if ok else (), None)

    def _size(self, view: MarketView, side: Side, yes_price: int, cost_pips: int, fee_per_contract: float,
              available: int, p: float, model: str, category: str) -> tuple[int, str]:
        """Count to buy and a short account of what bound it (or why nothing)."""
        ctx = view.context
        held = max(view.position, 0) if side is Side.BID else max(-view.position, 0)
        pending = sum(o.remaining for o in view.own_orders if o.side is side)
        room = self.max_position - held - pending
        if room < STEP:
            return 0, f"risk limit: at max position ({(held + pending) / STEP:g} of {self.max_position / STEP:g})"
        if ctx is None:
            return 0, "no desk context (bankroll unknown)"
        bankroll = ctx.bankroll
        if bankroll <= 0:
            return 0, "no bankroll yet (the balance has not loaded)"
        shrink = ctx.shrink(model, category)
        unit_cost = cost_pips + fee_per_contract * 1_000_000 / STEP  # micro-dollars per count unit, fee included
        correlated = self._correlated_max(view, side, unit_cost, p)
        limits = SizingLimits(self.kelly_multiplier, self.max_position, max(bankroll, 1), STEP)
        sizing = kelly_size(side, p, yes_price, view.meta.fees, bankroll, limits,  # type: ignore[union-attr]
                            shrink=shrink, held_count=held, held_cost=held * cost_pips, available=available,
                            correlated_max=correlated)
        count = min(sizing.count, room, self.max_order) // STEP * STEP
        bound = {"kelly": "Kelly", "max_count": "max position", "max_cost": "bankroll", "depth": "depth at the price",
                 "correlated": "election worst-case bound", "no_edge": "no edge"}[sizing.limited_by]
        if count <= 0:
            if sizing.limited_by == "correlated":
                return 0, "risk limit: the election book is at its worst-case loss bound"
            if sizing.limited_by == "kelly":
                return 0, f"size below one contract (Kelly x{self.kelly_multiplier:g} x shrink {shrink:.2f})"
            return 0, f"no size ({bound})"
        if count < sizing.count:
            bound = "max order" if count == self.max_order // STEP * STEP else "max position"
        return count, (f"Kelly {sizing.kelly_full:.3f} x{self.kelly_multiplier:g} x shrink {shrink:.2f}, "
                       f"{count / STEP:g} contracts (bound: {bound})")

    # --- the correlated election bound ------------------------------------------------------------
    def _scenarios_for(self, election: ElectionState) -> JointScenarios | None:
        # stress scenarios depend only on the election state: computed once per refresh
        if self._scenarios is None or self._scenarios[0] is not election:
            model = election.model
            markets = {t: SizingMarket(race=None if m.chamber else m.name, chamber=m.name if m.chamber else None,
                                       yes_if_win=m.yes_is_dem)
                       for t, m in election.markets.items()
                       if (m.name in model.chambers if m.chamber else m.name in model.index)}
            self._scenarios = (election, election_scenarios(model, markets) if markets else None)
        return self._scenarios[1]

    def _correlated_max(self, view: MarketView, side: Side, unit_cost: float, p: float) -> int | None:
        ctx = view.context
        election = ctx.election if ctx is not None else None
        if election is None or view.ticker not in election.markets:
            return None
        scen = self._scenarios_for(election)
        if scen is None or view.ticker not in scen.tickers:
            return None
        holdings = {}
        cost_of = getattr(ctx, "cost_basis", None)
        working = getattr(ctx, "working", None)  # open orders count as filled: one turn cannot spend the bound twice
        for ticker in scen.tickers:
            held = ctx.position(ticker)  # type: ignore[union-attr]
            if held and cost_of is not None:
                cost = cost_of(ticker)
            elif held:  # a context without cost basis: value what is held at the model's price
                fv = ctx.fair(ticker)  # type: ignore[union-attr]
                q = fv.prob_yes if fv is not None else 0.5
                cost = int(abs(held) * (q if held > 0 else 1.0 - q) * PRICE_MAX)
            else:
                cost = 0
            if working is not None:
                extra, extra_cost = working(ticker)
                held, cost = held + extra, cost + extra_cost
            if held:
                holdings[ticker] = Holding(held, cost)
        bound = int(self.election_loss_share * ctx.bankroll)  # type: ignore[union-attr]
        return max(0, max_count_within_bound(scen, holdings, view.ticker, side, unit_cost, bound))

    # --- convergence exit -------------------------------------------------------------------------
    def _exit(self, view: MarketView, p: float, verdict: guard.Verdict | None) -> Intent | None:
        """A reduce-only IOC near the close once the held side's edge is spent (None otherwise)."""
        held, meta = view.position, view.meta
        if not held or meta is None or not meta.close_ts:
            return None
        if verdict is not None and verdict.reason is NoTrade.BOOK_RED:
            return None  # a red book's prices cannot be trusted, not even to leave
        left_ms = meta.close_ts * 1000 - view.now_ms
        if not 0 < left_ms <= self.exit_before_close_s * 1000:
            return None
        if held > 0:  # long YES: sell at the YES bid (an order on the NO side)
            top, side, value = view.book.best_bid, Side.ASK, p * PRICE_MAX
            gap = None if top is None else value - top[0]
        else:  # long NO: buy YES at the ask, i.e. sell NO at 1 - ask
            top, side, value = view.book.best_ask, Side.BID, (1.0 - p) * PRICE_MAX
            gap = None if top is None else value - (PRICE_MAX - top[0])
        if top is None or gap is None or gap > self.exit_within:
            return None
        pending = sum(o.remaining for o in view.own_orders if o.side is side)
        count = min(abs(held) - pending, top[1], self.max_order)
        if count <= 0:
            return None
        own_price = top[0] if side is Side.ASK else PRICE_MAX - top[0]  # what one held contract sells for
        fee = meta.fees.trade_fee(PRICE_MAX - own_price, count, maker=False) * STEP / count / 1_000_000  # $ per contract
        held_side = "YES" if held > 0 else "NO"
        reason = (f"convergence exit: {held_side} sells at {own_price / 100:g}c, within {self.exit_within / 100:g}c "
                  f"of the model's {value / 100:.1f}c, {left_ms // 60_000} min before close; frees the capital")
        return Intent(view.ticker, side, top[0], count, self.name, reason=reason, model_probability=p,
                      edge_after_fees=-gap / PRICE_MAX - fee, reduce_only=True)

    def _due(self, view: MarketView, side: Side) -> bool:
        # pacing state is a pure function of the views seen (their times), so replays agree
        key = (view.ticker, side)
        last = self._last_ms.get(key)
        if last is not None and view.now_ms - last < self.min_interval_ms:
            return False
        self._last_ms[key] = view.now_ms
        return True
