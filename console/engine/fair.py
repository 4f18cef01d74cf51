"""Fair values: what the models say each market is worth, as the kernel receives and keeps them.

A model runner (console.engine.modelrun) reads data (the built-in exchange's data feed, the NWS, a polls
CSV), runs the pure models of console.models off the kernel thread and posts one `FairValues` message
to the kernel inbox per refresh. The kernel keeps the latest `FairValue` per market and the latest
`ElectionState`; strategies read them through their `MarketView` (`view.fair`, `view.context`), the
snapshot turns them into edge rows, and the journal keeps them as predictions for calibration.

Probabilities are floats in [0, 1] (DESIGN.md section 4): turning one into a price is the strategy's
explicit, rounded step (console.domain.edges).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from console.models.montecarlo import ElectionModel


@dataclass(frozen=True, slots=True)
class FairValue:
    """One model's P(YES) for one market at one time."""

    ticker: str
    prob_yes: float
    model: str  # polls | fundamentals | ensemble | weather | cpi | control
    category: str  # elections | weather | economics (the calibration and min-edge category)
    as_of_ms: int  # when the model's inputs were current (kernel/venue clock, ms)
    detail: str = ""  # a short human reason, e.g. "GA D +1.2 pts, sd 3.4"

    def __post_init__(self) -> None:
        if not 0.0 <= self.prob_yes <= 1.0:
            raise ValueError(f"{self.model} {self.ticker}: probability {self.prob_yes} is outside [0, 1]")


@dataclass(frozen=True, slots=True)
class ElectionMarket:
    """How an election market maps onto the correlated model: a race or a chamber, and which party YES is."""

    name: str  # race name as in the model ("SEN-GA") or a chamber ("senate", "house")
    chamber: bool  # True for a control market
    yes_is_dem: bool


@dataclass(frozen=True, slots=True)
class ElectionState:
    """The correlated election model of one refresh and the markets it prices."""

    model: ElectionModel
    markets: Mapping[str, ElectionMarket] = field(default_factory=dict)  # ticker -> mapping

    def tickers_for(self, name: str) -> list[str]:
        return [t for t, m in self.markets.items() if m.name == name]


@dataclass(frozen=True, slots=True)
class FairValues:
    """Kernel inbox message: a refresh of fair values (markets not named keep their last value)."""

    values: tuple[FairValue, ...]
    ts_ms: int
    election: ElectionState | None = None
    source: str = ""  # e.g. "sim data feed"
    errors: tuple[str, ...] = ()  # data problems of this refresh, shown as alerts (never secrets)
