"""`Laggards`: trade race markets that have not caught up with a move in the control market (kind "laggards").

The correlated election model (`view.context.election`) ties every race to the chamber's control
through one national error. When a control market (a chamber ticker in `election.markets`) moves, the
model says what each race of that chamber should now be worth: the common margin shift that makes
P(control) equal the control market's mid, applied to the race
(`ElectionModel.conditional_race_probabilities`).

To trade the lag rather than a standing disagreement with the model:

- the control move must be recent and material: the control mid now differs by at least
  `min_control_move` pips from its mid `move_window_ms` ago (as this strategy saw it; with no history
  yet there is no move);
- the race is only traded in the direction the control move implies, and its target is the more
  conservative of the model's conditional value and the race's own mid before the move carried forward
  by the move the model implies for it (the same change of the probit, i.e. the same margin shift);
- the race's executable price must be beyond that target by more than the taker fee plus `min_edge` pips;
- the shared guard (`guard.check` on the race market: red book, cooling off, wide or one-sided book,
  poor calibration of the race's model) must let it, and the control book must be healthy.

It takes liquidity (IOC) up to the worst price that still clears the edge, sized by the visible depth
there, `count`, its own `max_position` (open orders included) and the correlated exposure bound: the
whole election book's worst stressed scenario (`console.domain.sizing`) must not lose more than
`election_loss_share` of the bankroll, held positions at their cost basis (valued at their current mid
when the context cannot say). At most one order per market and side every `min_interval_ms`. The model's party of interest is taken to be the one a YES with
`yes_is_dem = True` pays on (the Democrats in the built-in world).

Pure and deterministic: no I/O, no wall clock; the only memory is the recent mids of control and race
markets, keyed by `view.now_ms`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from console.domain.side import Side
from console.domain.sizing import ElectionMarket as ExposureMarket
from console.domain.sizing import (
    Holding,
    JointScenarios,
    election_scenarios,
    max_count_within_bound,
)
from console.domain.units import PRICE_MAX
from console.engine.fair import ElectionState
from console.engine.strategies import guard
from console.engine.strategies.base import Intent, MarketView, StrategyConfigError
from console.engine.strategies.market_maker import (
    MidTrail,
    edge_after_fee,
    fee_per_contract,
)
from console.models.normal import norm_cdf, norm_ppf


def _mid_x2(book) -> int | None:
    if book is None:
        return None
    bid, ask = book.best_bid, book.best_ask
    return None if bid is None or ask is None else bid[0] + ask[0]


def _clamp(prob: float) -> float:
    return min(max(prob, 1e-6), 1.0 - 1e-6)


def _cents(prob: float) -> str:
    return f"{prob * 100:.2f}c"


@dataclass
class Laggards:
    name: str
    tickers: frozenset[str] | None
    min_control_move: int = 200  # pips the control mid must move ...
    move_window_ms: int = 1_800_000  # ... within this window (control markets move slowly: 30 min)
    min_edge: int = 100  # YES pips per contract after the taker fee ($0.01)
    count: int = 1_000  # at most per order (hundredths of a contract)
    max_position: int = 5_000  # per race market, either way, open orders included
    election_loss_share: float = 0.05  # of bankroll: what the election book may lose in its worst scenario
    stress_sd: float = 2.5  # the stressed national-error range of the scenarios (standard deviations)
    count_step: int = 100
    min_interval_ms: int = 1_000  # at most one order per market and side this often
    max_spread: int = 800  # guard (on the race market)
    min_shrink: float = 0.3  # guard
    cooling_off_s: float = 900.0  # guard
    _limits: guard.GuardLimits = field(default=guard.GuardLimits(), init=False, repr=False)
    _mids: dict[str, MidTrail] = field(default_factory=dict, init=False, repr=False)
    _last_ms: dict[tuple[str, Side], int] = field(default_factory=dict, init=False, repr=False)
    _scenarios: tuple[ElectionState, JointScenarios] | None = field(default=None, init=False, repr=False)
    #: (election, {(chamber, P(control) in pips): race probabilities}): one root solve (~5 ms) per control price
    _conditional: tuple[ElectionState | None, dict[tuple[str, int], dict[str, float]]] = field(
        default=(None, {}), init=False, repr=False)

    def __post_init__(self) -> None:
        if self.min_control_move <= 0 or self.move_window_ms <= 0 or self.count <= 0 or self.max_position <= 0 \
                or not 0.0 <= self.election_loss_share <= 1.0 or self.count_step <= 0:
            raise StrategyConfigError(f"[engine.strategies.{self.name}] min_control_move, move_window_ms, count, "
                                      "max_position and count_step must be > 0, election_loss_share in 0..1")
        self._limits = guard.GuardLimits(self.max_spread, self.min_shrink, self.cooling_off_s)

    # --- memory -----------------------------------------------------------------------------------
    def _remember(self, ticker: str, now_ms: int, mid_x2: int) -> int:
        """Record a mid; return the mid (x2) `move_window_ms` ago (the first one seen, when that is later)."""
        trail = self._mids.setdefault(ticker, MidTrail())
        trail.add(now_ms, mid_x2, self.move_window_ms)
        return trail.at_start()

    def _given_control(self, election: ElectionState, chamber: str, dem_control_x2: int) -> dict[str, float]:
        """Every race's P(D wins) if P(D controls `chamber`) is the mid `dem_control_x2` / 2 (cached per refresh)."""
        if self._conditional[0] is not election:
            self._conditional = (election, {})
        cache = self._conditional[1]
        key = (chamber, dem_control_x2)
        if key not in cache:
            if len(cache) >= 512:
                cache.clear()
            p = min(max(dem_control_x2 / (2 * PRICE_MAX), 1e-6), 1.0 - 1e-6)
            cache[key] = election.model.conditional_race_probabilities(chamber, p)
        return cache[key]

    def _exposure(self, election: ElectionState) -> JointScenarios:
        if self._scenarios is None or self._scenarios[0] is not election:
            model = election.model
            markets = {t: ExposureMarket(race=None if m.chamber else m.name, chamber=m.name if m.chamber else None,
                                         yes_if_win=m.yes_is_dem) for t, m in election.markets.items()
                       if (m.name in model.chambers if m.chamber else m.name in model.index)}
            self._scenarios = (election, election_scenarios(election.model, markets, k_sd=self.stress_sd))
        return self._scenarios[1]

    # --- decisions --------------------------------------------------------------------------------
    def evaluate(self, view: MarketView) -> Sequence[Intent]:
        ctx = view.context
        election = ctx.election if ctx is not None else None
        race_mid = _mid_x2(view.book)
        race_before = self._remember(view.ticker, view.now_ms, race_mid) if race_mid is not None else None
        if ctx is None or election is None:
            return ()
        # every control mid is recorded on every evaluation, whichever market it is for
        controls: dict[str, tuple[int, int]] = {}
        for ticker, market in election.markets.items():
            if market.chamber and ticker != view.ticker:
                mid = _mid_x2(ctx.book(ticker))
                if mid is not None and ctx.healthy(ticker):
                    controls[ticker] = (self._remember(ticker, view.now_ms, mid), mid)
        race = election.markets.get(view.ticker)
        if race is None or race.chamber or view.meta is None:
            return ()
        fair = view.fair
        if guard.check(view, self._limits, fair.model if fair else "", "elections") is not None:
            return ()
        model = election.model
        for control_ticker, (control_before, control_mid) in controls.items():
            control = election.markets[control_ticker]
            if control.name not in model.chambers or race.name not in model.chambers[control.name].races:
                continue
            if abs(control_mid - control_before) < 2 * self.min_control_move:  # mids are x2
                continue
            intent = self._trade(view, election, control_ticker, control.yes_is_dem, control_before, control_mid,
                                 race.yes_is_dem, race.name, race_before)
            if intent is not None:
                last = self._last_ms.get((view.ticker, intent.side))
                if last is not None and last <= view.now_ms < last + self.min_interval_ms:
                    return ()
                self._last_ms[(view.ticker, intent.side)] = view.now_ms
                return (intent,)
        return ()

    def _trade(self, view: MarketView, election: ElectionState, control_ticker: str, control_yes_is_dem: bool,
               control_before_x2: int, control_now_x2: int, race_yes_is_dem: bool, race_name: str,
               race_before_x2: int | None) -> Intent | None:
        assert view.meta is not None and view.context is not None
        chamber = election.markets[control_ticker].name

        def race_value(control_x2: int) -> float:
            races = self._given_control(election, chamber, control_x2 if control_yes_is_dem
                                        else 2 * PRICE_MAX - control_x2)
            return races[race_name] if race_yes_is_dem else 1.0 - races[race_name]

        value_now, value_before = race_value(control_now_x2), race_value(control_before_x2)
        if value_now == value_before:
            return None
        side = Side.BID if value_now > value_before else Side.ASK
        target = value_now
        if race_before_x2 is not None:
            # the race's own pre-move level moved as the model moves it: the same shift of the margin, i.e.
            # the same change of the probit (a move from 88c is smaller in price than the same shift from 74c)
            shift_z = norm_ppf(_clamp(value_now)) - norm_ppf(_clamp(value_before))
            carried = norm_cdf(norm_ppf(_clamp(race_before_x2 / (2 * PRICE_MAX))) + shift_z)
            target = min(target, carried) if side is Side.BID else max(target, carried)
        target = min(max(target, 0.0), 1.0)
        fees, grid = view.meta.fees, view.meta.grid
        levels = view.book.depth(Side.ASK if side is Side.BID else Side.BID, 50)  # what we would take
        limit, available = None, 0
        for price, size in levels:
            if edge_after_fee(target, side, price, fees, self.count, maker=False) < self.min_edge / PRICE_MAX:
                break
            limit, available = price, available + size
        if limit is None or not grid.is_valid(limit):
            return None
        direction = 1 if side is Side.BID else -1
        pending = sum(o.remaining for o in view.own_orders if o.side is side)
        room = self.max_position - direction * view.position - pending
        cost_pips = limit if side is Side.BID else PRICE_MAX - limit
        unit_cost = cost_pips + fee_per_contract(fees, cost_pips, self.count, maker=False) * 1_000_000 / 100
        bound = self._bound(view, election, side, unit_cost)
        count = min(available, self.count, room, bound)
        limited_by = min((("depth", available), ("count", self.count), ("max_position", room),
                          ("correlated bound", bound)), key=lambda kv: kv[1])[0]
        count = max(0, count) // self.count_step * self.count_step
        if count <= 0:
            return None
        edge = edge_after_fee(target, side, limit, fees, self.count, maker=False)
        moved = (control_now_x2 - control_before_x2) / 2
        what = "YES" if side is Side.BID else "NO"
        bid, ask = view.book.best_bid, view.book.best_ask
        touch = f"{bid[0] / 100 if bid else 0:.2f}/{ask[0] / 100 if ask else 100:.2f}c"
        reason = (f"{control_ticker} moved {moved / 100:+.2f}c to {control_now_x2 / 200:.2f}c within "
                  f"{self.move_window_ms // 1000} s: {race_name} should be worth {_cents(target)} YES "
                  f"(model given control {_cents(value_now)}) but trades {touch}; buy {what} up to "
                  f"{(limit if side is Side.BID else PRICE_MAX - limit) / 100:.2f}c {what}, {edge * 100:.2f}c "
                  f"after fees at that price, size limited by {limited_by}")
        return Intent(view.ticker, side, limit, count, self.name, reason=reason, model_probability=target,
                      edge_after_fees=edge)

    def _bound(self, view: MarketView, election: ElectionState, side: Side, unit_cost: float) -> int:
        """The most count units of `side` the correlated bound allows (held positions at their cost basis)."""
        assert view.context is not None
        scen = self._exposure(election)
        holdings = {}
        cost_of = getattr(view.context, "cost_basis", None)  # the kernel's desk has it; a bare context may not
        for ticker in election.markets:
            held = view.position if ticker == view.ticker else view.context.position(ticker)
            if not held:
                continue
            if cost_of is not None:
                holdings[ticker] = Holding(held, cost_of(ticker))
                continue
            mid = _mid_x2(view.book if ticker == view.ticker else view.context.book(ticker))
            mark = (mid // 2) if mid is not None else (PRICE_MAX if held > 0 else 0)  # no book: assume paid in full
            own_price = mark if held > 0 else PRICE_MAX - mark
            holdings[ticker] = Holding(held, abs(held) * own_price)
        bound = int(self.election_loss_share * max(view.context.bankroll, 0))
        return max_count_within_bound(scen, holdings, view.ticker, side, unit_cost, bound)
