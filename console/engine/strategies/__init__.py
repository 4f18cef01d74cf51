"""Strategies: pure objects from market state to intents (see `base`), the model strategies and the
test strategies.

`build_strategies(config.engine.strategies)` makes them from config.toml tables (docs/strategies.md):

    [engine.strategies.directional]
    kind = "directional"              # see KINDS
    enabled = true                    # false: the table is kept but no strategy is built
    tickers = ["KXDEMOHIGH-DAY1-B60"]  # omit for every watched market
    min_edge = 300                    # parameters of the kind, in desk units (pips, count hundredths)

Each parameter is checked against the type of the strategy's dataclass field (int, float, bool, str,
optional, tables of them); a wrong one is an error naming the table and the key.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from dataclasses import fields
from typing import Any

from console.engine.strategies.arb import ArbTaker
from console.engine.strategies.base import (
    Intent,
    MarketView,
    OwnOrder,
    Strategy,
    StrategyConfigError,
)
from console.engine.strategies.directional import Directional
from console.engine.strategies.laggards import Laggards
from console.engine.strategies.market_maker import MarketMaker
from console.engine.strategies.quoter import Quoter
from console.engine.strategies.threshold import ThresholdTaker

KINDS: dict[str, type] = {"threshold_taker": ThresholdTaker, "quoter": Quoter, "directional": Directional}
KINDS["arb"] = ArbTaker  # cross-venue arbitrage: the Kalshi leg, the Polymarket leg by hand (strategies/arb.py)
KINDS["market_maker"] = MarketMaker  # quotes both sides around the model's fair value (strategies/market_maker.py)
KINDS["laggards"] = Laggards  # race markets behind a control-market move (strategies/laggards.py)

__all__ = ["KINDS", "Directional", "Intent", "MarketView", "OwnOrder", "Quoter", "Strategy", "StrategyConfigError",
           "ThresholdTaker", "build_strategies"]

_UNITS = "prices and edges in YES pips, counts in hundredths of a contract"


def _type_name(tp: Any) -> str:
    if tp is type(None):
        return "nothing"
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in typing.get_args(tp) if a is not type(None))
    if origin in (dict, Mapping):
        return f"a table of {_PLURAL.get(typing.get_args(tp)[1], 'values')}"
    if origin in (list, tuple, frozenset, set):
        return f"a list of {_PLURAL.get(typing.get_args(tp)[0], 'values')}"
    return {int: "an integer", float: "a number", bool: "true or false", str: "a string"}.get(tp, str(tp))


_PLURAL = {int: "integers", float: "numbers", bool: "booleans", str: "strings"}


def _conforms(value: Any, tp: Any) -> bool:
    """Whether a TOML value fits a dataclass field type (an int is a fine float; a bool is not an int)."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        return any(_conforms(value, a) for a in typing.get_args(tp))
    if tp is type(None):
        return value is None
    if tp is Any:
        return True
    if origin in (dict, Mapping):
        key_t, val_t = typing.get_args(tp)
        return isinstance(value, dict) and all(_conforms(k, key_t) and _conforms(v, val_t) for k, v in value.items())
    if origin in (list, tuple, frozenset, set):
        (item_t, *_) = typing.get_args(tp)
        return isinstance(value, list | tuple) and all(_conforms(v, item_t) for v in value)
    if tp is bool:
        return isinstance(value, bool)
    if tp is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if tp is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if tp is str:
        return isinstance(value, str)
    return isinstance(value, tp) if isinstance(tp, type) else False


def _coerce(value: Any, tp: Any) -> Any:
    if tp is float and isinstance(value, int):
        return float(value)
    return dict(value) if isinstance(value, dict) else value


def build_strategies(tables: Mapping[str, Mapping[str, Any]]) -> list[Strategy]:
    """Strategies from `[engine.strategies.NAME]` tables (enabled ones); unknown kinds, keys or wrongly
    typed values are `StrategyConfigError`s naming the table and the key."""
    out: list[Strategy] = []
    for name, table in tables.items():
        where = f"[engine.strategies.{name}]"
        params = dict(table)
        kind = params.pop("kind", None)
        cls = KINDS.get(str(kind))
        if cls is None:
            raise StrategyConfigError(f"{where} kind = {kind!r}: expected one of {', '.join(KINDS)}")
        enabled = params.pop("enabled", True)
        if not isinstance(enabled, bool):
            raise StrategyConfigError(f"{where} enabled = {enabled!r}: must be true or false")
        tickers = params.pop("tickers", None)
        if tickers is not None and not (isinstance(tickers, list) and all(isinstance(t, str) for t in tickers)):
            raise StrategyConfigError(f"{where} tickers = {tickers!r}: must be a list of market tickers")
        hints = typing.get_type_hints(cls)
        allowed = {f.name: hints[f.name] for f in fields(cls) if f.init and not f.name.startswith("_")}
        allowed.pop("name", None)
        allowed.pop("tickers", None)
        unknown = sorted(set(params) - set(allowed))
        if unknown:
            raise StrategyConfigError(f"{where} unknown key(s) {', '.join(unknown)} for kind {kind!r}; "
                                      f"allowed: {', '.join(sorted(allowed))}")
        for key, value in params.items():
            if not _conforms(value, allowed[key]):
                raise StrategyConfigError(f"{where} {key} = {value!r}: must be {_type_name(allowed[key])} "
                                          f"({_UNITS})")
        if not enabled:
            continue
        kwargs = {k: _coerce(v, allowed[k]) for k, v in params.items()}
        try:
            strategy = cls(name=name, tickers=None if tickers is None else frozenset(tickers), **kwargs)
        except ValueError as exc:
            raise StrategyConfigError(f"{where} {exc}") from None
        out.append(strategy)
    return out
