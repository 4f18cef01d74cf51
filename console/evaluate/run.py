"""`evaluate`: run the built-in world fast, score the models against the market, and trade the strategies.

Everything happens in this process and is deterministic for a seed: a `SimClock` that only moves
when stepped, the simulator's `Exchange`, the market `World` (created without revealing its truth
to any client), stepped with `World.step_until` in `step_s` steps. Every `refresh_min` the models
read what the world published (`published`) and price the open markets (`fairs`); the fair values go
to each strategy's kernel (`desks`), which then trades on the exchange. Every `checkpoint_min`
each model's and the market's probabilities are recorded next to the hidden truth (`scoring`), and
every step each strategy's equity is marked at the truth (`pnl`). Only the evaluator reads the truth.

With `worlds` > 1 the seeds seed, seed + 1, ... run one after the other: model scores are pooled
(clusters are (seed, event)), strategies are reported per world and in total.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any

from console.config import DeskConfig
from console.engine.fair import FairValues
from console.evaluate.desks import StrategyDesk, build_desks, strategy_tables
from console.evaluate.fairs import InProcessModels
from console.evaluate.pnl import Ledger, interval, outcome_draws
from console.evaluate.scoring import Score, ScoreRecord, score_all
from console.sim.clock import SimClock
from console.sim.exchange import Exchange
from console.sim.model import MarketStatus
from console.sim.world.world import World

START_MS = 1_795_359_600_000  # 2026-11-22 10:00 ET: three weeks before the simulated election
DAY_MS = 86_400_000


@dataclass(frozen=True)
class EvalParams:
    seed: int = 7
    days: float = 2.0
    step_s: int = 120  # simulated seconds per world step (and per kernel turn)
    worlds: int = 1  # worlds run one after the other (seeds seed .. seed + worlds - 1), scores pooled
    refresh_min: int = 15  # model refresh cadence
    checkpoint_min: int = 60  # scoring cadence (a multiple of refresh_min)
    start_ms: int = START_MS
    strategies: tuple[str, ...] = ()  # strategy table names; empty = every enabled one
    balance_micros: int | None = None  # per strategy account; None = [sim] balance_dollars
    trade: bool = True  # False: score the models only (no kernels)

    def check(self) -> None:
        """Raise ValueError naming the bad argument and what it must be."""
        if not self.days > 0:
            raise ValueError(f"--days {self.days:g}: must be > 0 (simulated days to run)")
        if self.days > 60:
            raise ValueError(f"--days {self.days:g}: at most 60")
        if not 1 <= self.worlds <= 20:
            raise ValueError(f"--worlds {self.worlds}: must be 1..20")
        if not 1 <= self.step_s <= 3600:
            raise ValueError(f"--step {self.step_s}: must be 1..3600 simulated seconds")
        if self.refresh_min < 1 or self.refresh_min * 60 < self.step_s:
            raise ValueError(f"--refresh {self.refresh_min}: must be >= 1 minute and >= the step")
        if self.checkpoint_min < self.refresh_min or self.checkpoint_min % self.refresh_min:
            raise ValueError(f"--checkpoint {self.checkpoint_min}: must be a multiple of --refresh "
                             f"({self.refresh_min} min)")


@dataclass
class StrategyResult:
    """One strategy in one world (seed), or its total over the worlds (seed None)."""

    name: str
    kind: str
    seed: int | None
    pnl: int  # micro-dollars: cash change + open positions at the truth
    interval: tuple[int, int]
    cash_change: int
    open_value: int
    trades: int  # fills on the exchange for the account
    contracts: int  # count units traded
    fees: int
    max_drawdown: int
    orders: int
    refusals: int
    mode: str
    mode_reason: str
    curve: list[tuple[int, int]] = field(default_factory=list)
    draws: Any = None  # numpy array of P&L draws (not reported)


@dataclass
class Evaluation:
    params: EvalParams
    wall_s: float
    truth_scores: list[Score]
    outcome_scores: list[Score]
    strategies: list[StrategyResult]  # per world, then totals when there are several worlds
    skipped: dict[str, str]
    records: list[ScoreRecord]
    settled_markets: int
    open_markets: int
    fair_errors: list[str]
    exchanges: list[Any] = field(default_factory=list)  # the worlds' exchanges (tests check the books)
    truth_at_end: list[dict[str, float]] = field(default_factory=list)  # each world's true probabilities at the end
    desks: list[StrategyDesk] = field(default_factory=list)


def market_prob(exchange: Any, ticker: str) -> tuple[float, str] | None:
    """The market's P(YES): the mid, or the last trade when a side of the book is empty."""
    bid, ask = exchange.best_bid(ticker), exchange.best_ask(ticker)
    if bid and ask:
        return (bid[0] + ask[0]) / 20_000, "mid"
    last = exchange.markets[ticker].last_price
    return (last / 10_000, "last") if last else None


def evaluate(params: EvalParams, config: DeskConfig) -> Evaluation:
    """Run `params.worlds` worlds (seeds seed, seed + 1, ...) and pool their scores (module docstring)."""
    params.check()
    began = time.perf_counter()
    tables = strategy_tables(config, params.strategies) if params.trade else {}
    records: list[ScoreRecord] = []
    results: list[StrategyResult] = []
    errors: list[str] = []
    ev = Evaluation(params, 0.0, [], [], results, {}, records, 0, 0, errors)
    for seed in range(params.seed, params.seed + params.worlds):
        _run_world(params, config, tables, seed, ev)
    if params.worlds > 1:
        results.extend(_totals([r for r in results if r.seed is not None]))
    ev.truth_scores, ev.outcome_scores = score_all(records, "truth"), score_all(records, "outcomes")
    ev.wall_s = time.perf_counter() - began
    return ev


def _run_world(params: EvalParams, config: DeskConfig, tables: dict[str, dict[str, Any]], seed: int,
               ev: Evaluation) -> None:
    clock = SimClock(speed=1e-6, start_ms=params.start_ms)  # moves only when the world steps it
    exchange = Exchange(clock, seed=seed)
    step_ms = params.step_s * 1000
    world = World(exchange, clock, seed, reveal_truth=False, step_ms=step_ms)
    balance = params.balance_micros if params.balance_micros is not None else config.sim.balance_dollars * 1_000_000
    desks, skipped = build_desks(exchange, config, tables, clock.now_ms(), balance)
    ev.skipped.update(skipped)
    ledgers = {d.name: Ledger(d.account_id, d.start_cash) for d in desks}
    models = InProcessModels(config)
    records: list[ScoreRecord] = []
    t, end = params.start_ms, params.start_ms + int(params.days * DAY_MS)
    refresh_ms, checkpoint_ms = params.refresh_min * 60_000, params.checkpoint_min * 60_000
    cluster = f"{seed}:" if params.worlds > 1 else ""
    next_refresh = t
    while t < end:
        t = min(t + step_ms, end)
        world.step_until(t)
        fairs = None
        if t >= next_refresh:
            next_refresh += refresh_ms
            fairs = models.refresh(world, t)
            ev.fair_errors.extend(e for e in fairs.errors if e not in ev.fair_errors)
            if (t - params.start_ms) % checkpoint_ms < refresh_ms:
                records.extend(_checkpoint(world, fairs, t, cluster))
        for desk in desks:
            desk.sync(t, fairs)
        for desk in desks:
            ledgers[desk.name].mark(t, exchange, world.truth_p)
    ev.records.extend(_with_outcomes(exchange, records))
    ev.strategies.extend(_result(d, ledgers[d.name], exchange, world, seed) for d in desks)
    ev.settled_markets += sum(1 for mk in exchange.markets.values() if mk.result in ("yes", "no"))
    ev.open_markets += world.open_market_count()
    ev.exchanges.append(exchange)
    ev.truth_at_end.append(dict(world.truth_p))
    ev.desks.extend(desks)


def _checkpoint(world: World, fairs: FairValues, t_ms: int, cluster: str) -> list[ScoreRecord]:
    exchange = world.exchange
    out = []
    for fv in fairs.values:
        mk = exchange.markets[fv.ticker]
        if mk.status is not MarketStatus.ACTIVE or fv.ticker not in world.truth_p:
            continue
        priced = market_prob(exchange, fv.ticker)
        if priced is None:
            continue
        out.append(ScoreRecord(fv.model, fv.category, fv.ticker, cluster + mk.event_ticker, t_ms, fv.prob_yes, priced[0],
                               priced[1], world.truth_p[fv.ticker]))
    return out


def _with_outcomes(exchange: Any, records: list[ScoreRecord]) -> list[ScoreRecord]:
    out = []
    for r in records:
        result = exchange.markets[r.ticker].result
        outcome = 1 if result == "yes" else 0 if result == "no" else None
        out.append(r if outcome is None else replace(r, outcome=outcome))
    return out


def _result(desk: StrategyDesk, ledger: Ledger, exchange: Any, world: World, seed: int) -> StrategyResult:
    fills = [f for f in exchange.fills if f.account_id == desk.account_id]
    cash = exchange.accounts[desk.account_id].balance - desk.start_cash
    pnl = ledger.curve[-1][1] if ledger.curve else 0
    draws = outcome_draws(exchange, desk.account_id, desk.start_cash, world.truth_p, seed)
    kd = desk.kernel.desk
    return StrategyResult(
        desk.name, desk.kind, seed, pnl, interval(draws), cash, pnl - cash, len(fills), sum(f.count for f in fills),
        sum(f.fee for f in fills), ledger.max_drawdown(),
        sum(1 for o in exchange.orders.values() if o.account_id == desk.account_id), desk.venue.refusals,
        kd.mode.value, kd.mode_reason, ledger.curve, draws)


def _totals(per_world: list[StrategyResult]) -> list[StrategyResult]:
    """Each strategy summed over the worlds; its drawdown is the worst world's; modes listed if they differ."""
    out = []
    for name in dict.fromkeys(r.name for r in per_world):
        rows = [r for r in per_world if r.name == name]
        draws = sum(r.draws for r in rows)
        modes = sorted({r.mode for r in rows})
        out.append(StrategyResult(
            name, rows[0].kind, None, sum(r.pnl for r in rows), interval(draws), sum(r.cash_change for r in rows),
            sum(r.open_value for r in rows), sum(r.trades for r in rows), sum(r.contracts for r in rows),
            sum(r.fees for r in rows), max(r.max_drawdown for r in rows), sum(r.orders for r in rows),
            sum(r.refusals for r in rows), "/".join(modes), "; ".join(sorted({r.mode_reason for r in rows
                                                                               if r.mode != "AUTO"}))))
    return out
