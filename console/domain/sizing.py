"""Position sizing: fractional Kelly for binary contracts, per-market caps, and the correlated election bound.

(Split out of console/domain/edges.py to keep both modules short.)

Kelly for a contract that costs c dollars all-in (price plus fee per contract) and pays $1 with
probability q: the bankroll fraction to stake is f* = (q - c) / (1 - c) when q > c, else 0. The same
formula serves both sides: buying YES at the YES ask (q = p), buying NO at 1 - YES bid (q = 1 - p).
The desk stakes `kelly_multiplier` x f* (fractional Kelly), times the calibration shrink factor, then
applies per-market caps, the visible depth, and the election book's correlated bound.

Correlated bound: election markets are one exposure. Given joint scenarios (the probability of YES of
every election market conditional on the national error at stressed values, from
`console.models.montecarlo.ElectionModel.stress_scenarios`), the expected P&L of the whole election
book in each scenario is linear in every position; the worst scenario must not lose more than the
bound. `max_count_within_bound` solves that linear constraint for a new order exactly.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from console.domain.fees import KalshiFees
from console.domain.side import Side
from console.domain.units import PRICE_MAX
from console.models.montecarlo import ElectionModel


def kelly_fraction(prob_win: float, cost: float) -> float:
    """Full-Kelly bankroll fraction for a $1-payout contract costing `cost` dollars all-in (0 if no edge)."""
    if not 0.0 <= prob_win <= 1.0:
        raise ValueError(f"probability {prob_win!r} outside [0, 1]")
    if cost >= 1.0 or prob_win <= cost:
        return 0.0
    if cost <= 0.0:
        return 1.0
    return (prob_win - cost) / (1.0 - cost)


@dataclass(frozen=True)
class SizingLimits:
    kelly_multiplier: float = 0.25  # quarter Kelly
    max_count: int = 100_000  # count units per market (1,000 contracts)
    max_cost: int = 500_000_000  # micro-dollars at risk per market ($500)
    count_step: int = 100  # whole contracts


@dataclass(frozen=True)
class Sizing:
    side: Side
    count: int  # count units to add (a multiple of count_step)
    cost: int  # micro-dollars paid for them before fees
    fee: int  # micro-dollars of fees, exact for this count
    kelly_full: float  # f* before any multiplier
    fraction: float  # the fraction of bankroll actually targeted
    limited_by: str  # "kelly", "max_count", "max_cost", "depth", "correlated", "no_edge"


def kelly_size(side: Side, prob_yes: float, yes_price: int, fees: KalshiFees, bankroll: int,
               limits: SizingLimits = SizingLimits(), *, maker: bool = False, shrink: float = 1.0,
               held_count: int = 0, held_cost: int = 0, available: int | None = None,
               correlated_max: int | None = None) -> Sizing:
    """How many count units of `side` to buy at `yes_price` (YES scale), given what is already held.

    `held_count` / `held_cost`: the position already on this side (count units, micro-dollars paid),
    counted against the Kelly target and the caps. `available`: resting size at the price.
    `correlated_max`: the most the election bound allows (`max_count_within_bound`).
    """
    q = prob_yes if side is Side.BID else 1.0 - prob_yes
    cost_pips = yes_price if side is Side.BID else PRICE_MAX - yes_price
    if not 0 < cost_pips < PRICE_MAX:
        raise ValueError(f"price {yes_price} leaves nothing to buy on side {side}")
    ref = max(limits.count_step, 1000)
    fee_per_unit = fees.trade_fee(cost_pips, ref, maker=maker) / ref  # micro-dollars per count unit
    full = kelly_fraction(q, (cost_pips + fee_per_unit) / PRICE_MAX)
    fraction = full * limits.kelly_multiplier * max(0.0, min(1.0, shrink))
    if fraction <= 0:
        return Sizing(side, 0, 0, 0, full, 0.0, "no_edge")
    stake = fraction * bankroll - held_cost
    step = limits.count_step
    candidates = {"kelly": int(stake // (cost_pips + fee_per_unit)) if stake > 0 else 0,
                  "max_count": limits.max_count - held_count,
                  "max_cost": int((limits.max_cost - held_cost) // (cost_pips + fee_per_unit))}
    if available is not None:
        candidates["depth"] = available
    if correlated_max is not None:
        candidates["correlated"] = correlated_max
    limited_by = min(candidates, key=lambda k: candidates[k])
    count = max(0, candidates[limited_by]) // step * step
    # the fee is rounded up per fill: trim until the all-in cost fits the stake and the money cap
    budget = min(stake, limits.max_cost - held_cost)
    while count > 0 and count * cost_pips + fees.trade_fee(cost_pips, count, maker=maker) > budget:
        count -= step
    fee = fees.trade_fee(cost_pips, count, maker=maker) if count else 0
    return Sizing(side, count, count * cost_pips, fee, full, fraction, limited_by)


# --- the correlated election bound ---------------------------------------------------------------


@dataclass(frozen=True)
class Holding:
    """A position: signed YES count (negative = NO contracts) and the cash paid for it, fees included."""

    yes_count: int
    cost: int  # micro-dollars

    def pnl_if_yes(self) -> int:
        return max(self.yes_count, 0) * PRICE_MAX - self.cost

    def pnl_if_no(self) -> int:
        return max(-self.yes_count, 0) * PRICE_MAX - self.cost


@dataclass(frozen=True)
class JointScenarios:
    """yes_prob[s, j]: P(market j resolves YES | scenario s); scenarios are joint states of the world."""

    tickers: tuple[str, ...]
    yes_prob: np.ndarray  # (S, M)
    labels: tuple[str, ...]

    def column(self, ticker: str) -> int:
        try:
            return self.tickers.index(ticker)
        except ValueError:
            raise KeyError(f"{ticker} is not in the election scenarios") from None


@dataclass(frozen=True)
class ElectionMarket:
    """What an election market pays on: a race or a chamber's control, for or against the model's party."""

    race: str | None = None
    chamber: str | None = None
    yes_if_win: bool = True  # False for the other party's market (KXSENATEGA-26-R when the model is D)


def election_scenarios(model: ElectionModel, markets: Mapping[str, ElectionMarket], *, k_sd: float = 2.5,
                       points: int = 21) -> JointScenarios:
    """Stress scenarios of the election book: the national error at `points` values in [-k_sd, k_sd] sd."""
    stress = model.stress_scenarios(k_sd, points)
    cols = []
    for ticker, m in markets.items():
        if (m.race is None) == (m.chamber is None):
            raise ValueError(f"{ticker}: an election market pays on a race or a chamber, exactly one")
        p = stress.race_probs[:, model.index[m.race]] if m.race is not None else stress.control_probs[m.chamber]
        cols.append(p if m.yes_if_win else 1.0 - p)
    labels = tuple(f"national error {x:+.2f} sd" for x in stress.x)
    return JointScenarios(tuple(markets), np.column_stack(cols), labels)


def scenario_pnl(scen: JointScenarios, holdings: Mapping[str, Holding]) -> np.ndarray:
    """Expected P&L (micro-dollars, float) of the holdings in each scenario; tickers outside are ignored."""
    pnl = np.zeros(len(scen.labels))
    for ticker, h in holdings.items():
        if ticker in scen.tickers:
            p = scen.yes_prob[:, scen.column(ticker)]
            pnl += p * h.pnl_if_yes() + (1.0 - p) * h.pnl_if_no()
    return pnl


def worst_joint_pnl(scen: JointScenarios, holdings: Mapping[str, Holding]) -> tuple[int, str]:
    """The worst scenario's expected P&L in whole micro-dollars (floored: a worst case rounds down) and its label."""
    pnl = scenario_pnl(scen, holdings)
    i = int(np.argmin(pnl))
    return math.floor(pnl[i]), scen.labels[i]


def max_count_within_bound(scen: JointScenarios, holdings: Mapping[str, Holding], ticker: str, side: Side,
                           unit_cost: float, bound: int) -> int:
    """The largest count (units) of `side` in `ticker` whose addition keeps every scenario's P&L >= -bound.

    `unit_cost`: micro-dollars paid per count unit, fee included (e.g. price pips + fee per unit).
    Each scenario's P&L is linear in the count, so the answer is the minimum over the scenarios where
    the new contracts lose money of (room in that scenario) / (loss per unit).
    """
    base = scenario_pnl(scen, holdings) + bound
    if (base < 0).any():
        return 0
    p = scen.yes_prob[:, scen.column(ticker)]
    win = p if side is Side.BID else 1.0 - p
    per_unit = win * PRICE_MAX - unit_cost
    losing = per_unit < 0
    if not losing.any():
        return 2 ** 62  # no scenario loses: the bound does not bind
    return int(np.floor(np.min(base[losing] / -per_unit[losing])))
