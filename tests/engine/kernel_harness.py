"""A kernel without threads or network for unit tests: a ManualClock, actions captured in a list, and a
small deterministic venue that answers them (IOC orders fill against its own book, GTC orders rest,
cancels and amends succeed, reconciliation reports its positions and resting orders).

    h = Harness(strategies=[...], auto=True)
    h.ready(["KXA"])                          # markets loaded, first reconciliation answered
    h.book("KXA", bids=[(4800, 500)], asks=[(5200, 500)])
    h.step()                                   # one kernel turn (answers to actions are delivered)
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from fractions import Fraction
from typing import Any

from console.config import DeskConfig
from console.domain.fees import FeeType, KalshiFees
from console.domain.grid import PriceGrid
from console.domain.side import Side
from console.engine import messages as m
from console.engine.clock import ManualClock
from console.engine.control import Control
from console.engine.journal import Journal
from console.engine.kernel import Kernel
from console.venues.events import BookDelta, BookSnapshot
from console.venues.kalshi import codec_rest as r
from console.venues.kalshi import codec_ws as w

GRID = PriceGrid.for_structure("linear_cent")
FEES = KalshiFees(FeeType.QUADRATIC, Fraction(1))
LOOSE = {"max_orders_per_minute": 100_000, "max_contracts_per_market": 100_000,
         "max_notional_per_market_dollars": 1_000_000, "max_total_exposure_dollars": 10_000_000,
         "max_bankroll_share_per_market": 1.0, "max_category_share": 1.0, "max_event_loss_share": 1.0,
         "daily_loss_limit_dollars": 1_000_000, "max_drawdown_dollars": 1_000_000,
         "venue_error_min_requests": 1_000_000, "fill_rate_min_orders": 1_000_000}


def meta(ticker: str, event: str = "KXEV", category: str = "test") -> m.MarketMeta:
    return m.MarketMeta(ticker, event, f"market {ticker}", category, "active", GRID, FEES, False, 2_000_000_000)


def make_config(risk: dict | None = None, **engine: Any) -> DeskConfig:
    return DeskConfig.model_validate({"risk": {**LOOSE, **(risk or {})}, "engine": engine})


class FakeVenue:
    """Answers the kernel's actions deterministically (see the module docstring)."""

    def __init__(self) -> None:
        self.books: dict[str, dict[Side, dict[int, int]]] = {}
        self.positions: dict[str, int] = {}
        self.resting: dict[str, tuple[Any, int, int]] = {}  # order_id -> (spec, remaining, filled)
        self.ids = itertools.count(1)
        self.trades = itertools.count(1)
        self.answer_creates = True
        self.unknown_next = 0
        self.created: list[Any] = []
        self.hold_fills = False  # keep fill messages back (the create answer outruns the fill channel)
        self.held: list[Any] = []

    def answer(self, action: Any) -> list[Any]:
        if isinstance(action, m.SendOrder):
            return self._create(action.spec)
        if isinstance(action, m.CancelOrderAction):
            self.resting.pop(action.order_id, None)
            return [m.CancelAnswer(action.client_order_id, True, 0)]
        if isinstance(action, m.AmendOrderAction):
            entry = self.resting.get(action.order_id)
            if entry is None:
                return [m.AmendAnswer(action.client_order_id, False, message="not found")]
            spec, _, filled = entry
            self.resting[action.order_id] = (spec, action.count - filled, filled)
            return [m.AmendAnswer(action.client_order_id, True, action.price, action.count, filled, action.count - filled)]
        if isinstance(action, m.CancelAllAction):
            self.resting.clear()
            return [m.CancelAllAnswer(True, action.reason)]
        if isinstance(action, m.ReconcileAction):
            looked = tuple((u.client_order_id, None) for u in action.unknown)
            positions = tuple(r.MarketPosition(ticker=t, position=p, market_exposure=0, realized_pnl=0, fees_paid=0)
                              for t, p in sorted(self.positions.items()))
            return [m.ReconcileResult(action.pass_id, action.reason, True, (), looked, (), positions)]
        if isinstance(action, m.FlattenFetch):
            books = {t: BookSnapshot("kalshi", t, tuple(sorted(b[Side.BID].items())), tuple(sorted(b[Side.ASK].items())))
                     for t, b in self.books.items()}
            return [m.FlattenBooks(action.round_no, True, {t: p for t, p in self.positions.items() if p}, books)]
        return []

    def _create(self, spec: Any) -> list[Any]:
        self.created.append(spec)
        if self.unknown_next:
            self.unknown_next -= 1
            return [m.OrderAnswer(spec.client_order_id, None, "unknown", "outcome_unknown", "lost response")]
        order_id = f"o{next(self.ids)}"
        book = self.books.setdefault(spec.ticker, {Side.BID: {}, Side.ASK: {}})
        against = book[Side.ASK] if spec.side is Side.BID else book[Side.BID]
        prices = sorted(against) if spec.side is Side.BID else sorted(against, reverse=True)
        need, out = spec.count, []
        for price in prices:
            if not need or (price > spec.price if spec.side is Side.BID else price < spec.price):
                break
            take = min(need, against[price])
            need -= take
            against[price] -= take
            if not against[price]:
                del against[price]
            sign = 1 if spec.side is Side.BID else -1
            self.positions[spec.ticker] = self.positions.get(spec.ticker, 0) + sign * take
            out.append(w.FillMsg(sid=1, msg=w.FillBody(
                trade_id=f"t{next(self.trades)}", order_id=order_id, market_ticker=spec.ticker, side=spec.side,
                is_taker=True, yes_price=price, count=take, fee_cost=0, post_position=self.positions[spec.ticker],
                ts_ms=0, client_order_id=spec.client_order_id)))
        filled = spec.count - need
        remaining = need if spec.time_in_force == "good_till_canceled" else 0
        if remaining:
            self.resting[order_id] = (spec, remaining, filled)
        result = r.CreateOrderResult(order_id=order_id, fill_count=filled, remaining_count=remaining,
                                     client_order_id=spec.client_order_id)
        if self.hold_fills:
            self.held.extend(out)
            out = []
        return [m.OrderAnswer(spec.client_order_id, result, "accepted")] + out


class Harness:
    def __init__(self, strategies: Iterable[Any] = (), *, auto: bool = False, risk: dict | None = None,
                 journal: Journal | None = None, session: str = "t1", venue: FakeVenue | None = None,
                 **engine: Any) -> None:
        self.clock = ManualClock()
        self.control = Control()
        self.actions: list[Any] = []
        self.venue = venue or FakeVenue()
        self.deliver = True
        self.events: list[Any] = []
        self.control.subscribe(self.events.append)
        self.kernel = Kernel(self.control, make_config(risk, **engine), session=session, act=self.actions.append,
                             clock=self.clock, journal=journal, strategies=strategies, auto=auto)
        self.kernel.desk.cash = 100_000_000_000
        self._answered = 0

    @property
    def desk(self):
        return self.kernel.desk

    def step(self, *items: Any, advance_ms: int = 1) -> None:
        """Advance the clock, post items, and turn the kernel until the fake venue has nothing to say."""
        for item in items:
            self.kernel.post(item)
        for _ in range(50):
            self.clock.advance(advance_ms)
            self.kernel.turn()
            if not self.deliver or self._answered == len(self.actions):
                if not self.kernel.inbox:
                    return
                continue
            while self._answered < len(self.actions):
                action = self.actions[self._answered]
                self._answered += 1
                for answer in self.venue.answer(action):
                    self.kernel.post(answer)

    def run_for(self, ms: int, every_ms: int = 10) -> None:
        """Let time pass in small steps (timers fire, answers are delivered)."""
        for _ in range(ms // every_ms):
            self.step(advance_ms=every_ms)

    def ready(self, tickers: Iterable[str]) -> None:
        self.step(m.MarketsLoaded(tuple(meta(t) for t in tickers)))
        assert self.desk.ready, "the first reconciliation should have made the desk ready"

    def book(self, ticker: str, bids: Iterable[tuple[int, int]] = (), asks: Iterable[tuple[int, int]] = ()) -> None:
        bids, asks = tuple(sorted(bids)), tuple(sorted(asks))
        self.venue.books[ticker] = {Side.BID: dict(bids), Side.ASK: dict(asks)}
        self.step(BookSnapshot("kalshi", ticker, bids, asks, sid=1))

    def delta(self, ticker: str, side: Side, price: int, delta: int) -> None:
        levels = self.venue.books.setdefault(ticker, {Side.BID: {}, Side.ASK: {}})[side]
        levels[price] = levels.get(price, 0) + delta
        if not levels[price]:
            del levels[price]
        self.step(BookDelta("kalshi", ticker, side, price, delta, sid=1))

    def sent(self) -> list[Any]:
        return [a.spec for a in self.actions if isinstance(a, m.SendOrder)]

    def of(self, kind: type) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]
