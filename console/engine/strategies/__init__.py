"""Strategies: pure objects from market state to intents (see `base`), and the test strategies.

`build_strategies(config.engine.strategies)` makes them from config.toml tables:

    [engine.strategies.taker]
    kind = "threshold_taker"          # or "quoter"
    tickers = ["KXDEMOHIGH-DAY1-B60"]  # omit for every watched market
    buy_at_or_below = 4000            # parameters of the kind, in desk units (pips, count hundredths)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from typing import Any

from console.engine.strategies.base import (
    Intent,
    MarketView,
    OwnOrder,
    Strategy,
    StrategyConfigError,
)
from console.engine.strategies.quoter import Quoter
from console.engine.strategies.threshold import ThresholdTaker

KINDS: dict[str, type] = {"threshold_taker": ThresholdTaker, "quoter": Quoter}

__all__ = ["KINDS", "Intent", "MarketView", "OwnOrder", "Quoter", "Strategy", "StrategyConfigError",
           "ThresholdTaker", "build_strategies"]


def build_strategies(tables: Mapping[str, Mapping[str, Any]]) -> list[Strategy]:
    """Strategies from `[engine.strategies.NAME]` tables; unknown kinds or keys are errors."""
    out: list[Strategy] = []
    for name, table in tables.items():
        params = dict(table)
        kind = params.pop("kind", None)
        cls = KINDS.get(str(kind))
        if cls is None:
            raise StrategyConfigError(f"[engine.strategies.{name}] kind = {kind!r}: expected one of "
                                      f"{', '.join(KINDS)}")
        tickers = params.pop("tickers", None)
        allowed = {f.name for f in fields(cls) if not f.name.startswith("_")} - {"name", "tickers"}
        unknown = sorted(set(params) - allowed)
        if unknown:
            raise StrategyConfigError(f"[engine.strategies.{name}] unknown key(s) {', '.join(unknown)} for "
                                      f"kind {kind!r}; allowed: {', '.join(sorted(allowed))}")
        for key, value in params.items():
            if value is not None and not isinstance(value, int):
                raise StrategyConfigError(f"[engine.strategies.{name}] {key} = {value!r}: must be an integer "
                                          "(prices in YES pips, counts in hundredths of a contract)")
        out.append(cls(name=name, tickers=None if tickers is None else frozenset(tickers), **params))
    return out
