"""Builders for in-process tests of the exchange core (no server): a frozen clock, one market, accounts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from console.domain.fees import FeeType
from console.domain.grid import PriceGrid
from console.domain.units import dollars
from console.sim.clock import SimClock
from console.sim.events import BookSide
from console.sim.exchange import Exchange
from console.sim.model import (
    Event,
    ExchangeError,
    Market,
    OrderRequest,
    SelfTradePrevention,
    Series,
    TimeInForce,
)

START_MS = 1_800_000_000_000  # a whole second, far from any day boundary surprises in tests
BID, ASK = BookSide.BID, BookSide.ASK
GTC, IOC, FOK = TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK
TAKER_AT_CROSS, MAKER = SelfTradePrevention.TAKER_AT_CROSS, SelfTradePrevention.MAKER


class FrozenClock(SimClock):
    """Simulated time that moves only when a test calls `advance`."""

    def __init__(self, start_ms: int = START_MS) -> None:
        super().__init__(speed=1.0, start_ms=start_ms)
        self._now = start_ms

    def now_ms(self) -> int:
        return self._now

    def advance(self, ms: int) -> int:
        if ms < 0:
            raise ValueError("the clock only moves forward")
        self._now += ms
        return self._now


@dataclass
class World:
    ex: Exchange
    clock: FrozenClock
    events: list[Any] = field(default_factory=list)

    def of(self, kind: type) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]


def make_world(*, fee_type: FeeType = FeeType.QUADRATIC, multiplier: str = "1", structure: str = "linear_cent",
               accounts: tuple[str, ...] = ("a", "b", "c"), balance: int = dollars("1000"), seed: int = 0,
               tickers: tuple[str, ...] = ("M",), open_offset_ms: int = -60_000, close_offset_ms: int = 86_400_000,
               settlement_timer_seconds: int = 0) -> World:
    clock = FrozenClock()
    ex = Exchange(clock, seed=seed)
    world = World(ex, clock)
    ex.add_listener(world.events.append)
    ex.add_series(Series("KXS", "series", "Test", fee_type=fee_type, fee_multiplier=multiplier))
    ex.add_event(Event("KXS-E", "KXS", "event"))
    for ticker in tickers:
        ex.add_market(Market(
            ticker=ticker, event_ticker="KXS-E", series_ticker="KXS", title=f"{ticker}?", yes_sub_title="yes",
            no_sub_title="no", open_time_ms=START_MS + open_offset_ms, close_time_ms=START_MS + close_offset_ms,
            price_level_structure=structure, grid=PriceGrid.for_structure(structure),
            settlement_timer_seconds=settlement_timer_seconds,
        ))
    for account_id in accounts:
        ex.create_account(account_id, balance)
    ex.tick()
    return world


def req(side: BookSide, price: int, count: int, tif: TimeInForce = GTC, *, ticker: str = "M",
        stp: SelfTradePrevention = TAKER_AT_CROSS, **kw: Any) -> OrderRequest:
    """An order request: prices in pips (YES scale), counts in hundredths of a contract."""
    return OrderRequest(ticker, side, price, count, tif, stp, **kw)


def refused(fn: Any, *args: Any, **kwargs: Any) -> ExchangeError:
    """Call `fn` and return the ExchangeError it must raise."""
    try:
        fn(*args, **kwargs)
    except ExchangeError as exc:
        return exc
    raise AssertionError(f"{getattr(fn, '__name__', fn)} did not refuse")
