"""One real `Kernel` per strategy, each on its own exchange account, driven without threads.

Like tests/engine/kernel_harness.py: a `ManualClock` kept equal to the simulator's clock, actions
captured by the `act=` callback and executed on the exchange by an `InProcessVenue`, whose answers
go back on the kernel's inbox; the kernel is turned until it has nothing left to say. Every strategy
trades in AUTO in its own account, so their P&L, trades and fees stay separate; their orders are real
liquidity in the world (other desks and the synthetic traders trade against them).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from console.config import DeskConfig
from console.engine import messages as m
from console.engine.clock import ManualClock
from console.engine.control import Control, Mode
from console.engine.kernel import Kernel
from console.engine.strategies import KINDS, StrategyConfigError, build_strategies
from console.evaluate.venue import InProcessVenue
from console.venues.kalshi.ws_events import FeedConnected

MODEL_KINDS = ("directional", "market_maker", "laggards")  # evaluated with defaults when no table names them
MAX_TURNS = 200  # a kernel that keeps acting this long in one step is reported, not looped forever


@dataclass
class StrategyDesk:
    """A strategy's kernel, its clock, its venue adapter and its account."""

    name: str
    kind: str
    account_id: str
    start_cash: int
    kernel: Kernel
    clock: ManualClock
    venue: InProcessVenue
    actions: list[object] = field(default_factory=list)
    runaway_steps: int = 0

    @property
    def mode(self) -> Mode:
        return self.kernel.desk.mode

    def sync(self, now_ms: int, fairs: object | None = None) -> None:
        """Bring the kernel to `now_ms`: news, books, fair values; turn until it is quiet."""
        self.clock.set(max(now_ms, self.clock.now_ms()))
        self.venue.deliver(now_ms)
        if fairs is not None:
            self.kernel.post(fairs)
        for _ in range(MAX_TURNS):
            self.kernel.turn()
            if not self.actions and not self.kernel.inbox:
                return
            actions, self.actions[:] = list(self.actions), []
            for action in actions:
                self.venue.act(action)
        self.runaway_steps += 1


def strategy_tables(config: DeskConfig, only: tuple[str, ...] = ()) -> dict[str, dict[str, Any]]:
    """The config's strategy tables, plus every model-driven kind the engine has that no table uses
    (with the kind's default parameters), so each kind is evaluated; `only` picks tables by name."""
    tables = {name: dict(t) for name, t in config.engine.strategies.items()}
    used = {str(t.get("kind")) for t in tables.values()}
    for kind in MODEL_KINDS:
        if kind in KINDS and kind not in used and kind not in tables:
            tables[kind] = {"kind": kind}
    if only:
        missing = [n for n in only if n not in tables]
        if missing:
            raise StrategyConfigError(f"no [engine.strategies.{missing[0]}] table; the config has: "
                                      f"{', '.join(tables) or 'none'}")
        tables = {n: tables[n] for n in only}
    return tables


def build_desks(exchange: Any, config: DeskConfig, tables: Mapping[str, Mapping[str, Any]], now_ms: int,
                balance_micros: int) -> tuple[list[StrategyDesk], dict[str, str]]:
    """A desk per enabled strategy table; tables that cannot be built are returned with the reason."""
    desks: list[StrategyDesk] = []
    skipped: dict[str, str] = {}
    for name, table in tables.items():
        if table.get("enabled", True) is False:
            skipped[name] = "enabled = false"
            continue
        try:
            strategies = build_strategies({name: dict(table)})
        except (StrategyConfigError, TypeError, ValueError) as exc:
            skipped[name] = str(exc)
            continue
        desks.append(_desk(exchange, config, name, str(table.get("kind")), strategies, now_ms, balance_micros,
                           len(desks) + 1))
    return desks, skipped


def _desk(exchange: Any, config: DeskConfig, name: str, kind: str, strategies: list[Any], now_ms: int,
          balance_micros: int, number: int) -> StrategyDesk:
    account_id = f"eval-{name}"
    exchange.create_account(account_id, balance_micros)
    clock = ManualClock(now_ms)
    actions: list[object] = []
    kernel = Kernel(Control(), config, session=f"eval{number}", act=actions.append, clock=clock,
                    strategies=strategies, auto=True)
    kernel.publish_every_ms = 3_600_000  # no front end reads snapshots here: build one an hour, not every turn
    venue = InProcessVenue(exchange, account_id, kernel.post)
    desk = StrategyDesk(name, kind, account_id, balance_micros, kernel, clock, venue, actions)
    # what runtime.build_engine does at start-up, then the feed is "connected"
    kernel.post(FeedConnected("kalshi", 1))
    for action in (m.EnsureOrderGroup(config.engine.bot_group_contracts * 100), m.FetchBalance(),
                   m.LoadMarkets(None, limit=10_000)):
        venue.act(action)
    desk.sync(now_ms)
    return desk
