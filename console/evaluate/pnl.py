"""Strategy P&L marked at the hidden truth: the equity curve, its maximum drawdown and a 95% interval.

Equity at a time = the account's cash change since the start (trades, fees and settlements, exactly
as the exchange booked them) + every open position valued at the market's true probability (a
determined but unsettled market at its result). The P&L is the final equity.

The 95% interval is the spread of outcomes still to come: the open positions' events are resolved
by drawing each event's winning market from the true probabilities (the events are mutually
exclusive; distinct events are drawn independently, which ignores the national swing shared by the
election markets), 4,000 draws from a generator seeded by the world's seed; realized cash is fixed. Over several
worlds (`--worlds`) the draws of each world are added.
It says how much of the marked P&L is still luck, not how good the strategy is across worlds: run
several seeds for that.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from console.domain.units import PRICE_MAX

DRAWS = 4_000


@dataclass
class Ledger:
    """One strategy account's marks over the run."""

    account_id: str
    start_cash: int
    curve: list[tuple[int, int]] = field(default_factory=list)  # (t_ms, equity change in micro-dollars)

    def mark(self, t_ms: int, exchange, truth: dict[str, float]) -> int:
        equity = equity_change(exchange, self.account_id, self.start_cash, truth)
        self.curve.append((t_ms, equity))
        return equity

    def max_drawdown(self) -> int:
        peak, worst = 0, 0  # equity starts at 0 (nothing traded)
        for _, equity in self.curve:
            peak = max(peak, equity)
            worst = max(worst, peak - equity)
        return worst


def position_value(position: int, q: float) -> int:
    """Micro-dollars a signed position is worth if YES has probability q (> 0 long YES, < 0 long NO)."""
    if position >= 0:
        return round(position * q * PRICE_MAX)
    return round(-position * (1.0 - q) * PRICE_MAX)


def open_positions(exchange, account_id: str) -> dict[str, int]:
    account = exchange.accounts[account_id]
    return {p.ticker: p.position for p in account.positions.values() if p.position and not p.settled}


def true_prob(exchange, ticker: str, truth: dict[str, float]) -> float:
    market = exchange.markets[ticker]
    if market.result in ("yes", "no"):
        if market.settlement_value is not None:
            return market.settlement_value / PRICE_MAX
        return 1.0 if market.result == "yes" else 0.0
    return truth[ticker]


def equity_change(exchange, account_id: str, start_cash: int, truth: dict[str, float]) -> int:
    cash = exchange.accounts[account_id].balance - start_cash
    return cash + sum(position_value(pos, true_prob(exchange, t, truth))
                      for t, pos in open_positions(exchange, account_id).items())


def interval(draws: np.ndarray) -> tuple[int, int]:
    """The central 95% of P&L draws (micro-dollars)."""
    lo, hi = np.percentile(draws, [2.5, 97.5])
    return round(float(lo)), round(float(hi))


def outcome_draws(exchange, account_id: str, start_cash: int, truth: dict[str, float], seed: int) -> np.ndarray:
    """`DRAWS` final P&Ls: realized cash plus the open positions' events resolved from the truth."""
    cash = exchange.accounts[account_id].balance - start_cash
    held = open_positions(exchange, account_id)
    total = np.full(DRAWS, float(cash))
    if not held:
        return total
    rng = np.random.default_rng(seed)
    by_event: dict[str, list[str]] = {}
    for ticker in held:
        by_event.setdefault(exchange.markets[ticker].event_ticker, []).append(ticker)
    for event, tickers in sorted(by_event.items()):
        siblings = [t for t, mk in exchange.markets.items() if mk.event_ticker == event]
        probs = np.array([max(0.0, true_prob(exchange, t, truth if t in truth else {t: 0.0})) for t in siblings])
        if probs.sum() <= 0:
            continue
        winners = rng.choice(len(siblings), size=DRAWS, p=probs / probs.sum())
        for ticker in tickers:
            i = siblings.index(ticker)
            won = winners == i
            yes_pays, no_pays = position_value(held[ticker], 1.0), position_value(held[ticker], 0.0)
            total += np.where(won, yes_pays, no_pays)
    return total
