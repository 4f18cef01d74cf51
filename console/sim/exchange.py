"""`Exchange`: the simulator's exchange core (synchronous, single-threaded, no I/O).

This is the object the REST and WebSocket layers drive (the API is listed in /work/notes/common.md
and is the contract other modules code against). It is assembled from:

- `console.sim.core.ExchangeCore`: registries, live-order indices, ids, events, read views;
- `console.sim.order_groups.OrderGroups`: order groups and their 15 s matched-contracts limit;
- `console.sim.order_entry.OrderEntry`: create / amend / decrease / cancel / cancel-all and matching
  (its docstring lists every refusal code);
- `console.sim.lifecycle.Lifecycle`: tick(), pauses, activation, close, determination, settlement;
- this module: adding series, events, markets and accounts, funding, candles.

The books live in `console.sim.matching.OrderBook`, the money rules (fees, netting, collateral) in
`console.sim.accounts`, the trade tape and candles in `console.sim.tape`.

Everything is deterministic for a given seed and sequence of calls: ids come from
`random.Random(seed)` and time from the `SimClock`.
"""

from __future__ import annotations

from console.domain.grid import STRUCTURES, PriceGrid
from console.sim.clock import SimClock
from console.sim.lifecycle import Lifecycle
from console.sim.matching import OrderBook
from console.sim.model import (
    Account,
    Candle,
    Event,
    ExchangeError,
    Market,
    MarketStatus,
    Series,
)
from console.sim.order_entry import UNSET
from console.sim.tape import MAX_CANDLES, MarketTape

_LINEAR_CENT_BANDS = STRUCTURES["linear_cent"]


class Exchange(Lifecycle):
    """A Kalshi-like exchange: markets, books, accounts, orders, fills, settlement (see module doc)."""

    def __init__(self, clock: SimClock, seed: int = 0) -> None:
        super().__init__(clock, seed)

    # --- universe -----------------------------------------------------------------------------

    def add_series(self, series: Series) -> Series:
        if series.ticker in self.series:
            raise ValueError(f"series {series.ticker} already exists")
        self.series[series.ticker] = series
        return series

    def add_event(self, event: Event) -> Event:
        if event.event_ticker in self.events:
            raise ValueError(f"event {event.event_ticker} already exists")
        if event.series_ticker not in self.series:
            raise ValueError(f"event {event.event_ticker}: add series {event.series_ticker} first")
        self.events[event.event_ticker] = event
        return event

    def add_market(self, market: Market) -> Market:
        """Register a market and its empty book; emits `event_lifecycle` (first market of an event) and `created`.

        A market whose `grid` was left at the default but whose `price_level_structure` names another
        structure gets that structure's grid. The market opens and closes by its times on `tick()`.
        """
        ticker = market.ticker
        if ticker in self.markets:
            raise ValueError(f"market {ticker} already exists")
        if market.event_ticker not in self.events:
            raise ValueError(f"market {ticker}: add event {market.event_ticker} first")
        if market.series_ticker not in self.series:
            raise ValueError(f"market {ticker}: add series {market.series_ticker} first")
        if (market.grid.bands == _LINEAR_CENT_BANDS and market.price_level_structure != "linear_cent"
                and market.price_level_structure in STRUCTURES):
            market.grid = PriceGrid.for_structure(market.price_level_structure)
        now = self.clock.now_ms()
        if not market.market_id:
            market.market_id = self.new_id()
        if not market.created_time_ms:
            market.created_time_ms = now
        if not market.updated_time_ms:
            market.updated_time_ms = now
        self.markets[ticker] = market
        self._books[ticker] = OrderBook(market.grid)
        self._tapes[ticker] = MarketTape()
        self._live_by_market[ticker] = {}
        self._announce_created(market)
        self._reschedule(market)
        return market

    # --- accounts -----------------------------------------------------------------------------

    def create_account(self, account_id: str, balance_micros: int = 0) -> Account:
        if account_id in self.accounts:
            raise ExchangeError(409, "account_exists", "account already exists", f"account {account_id!r} exists")
        if balance_micros < 0:
            raise ValueError("an account cannot start with a negative balance")
        account = Account(account_id=account_id, balance=balance_micros)
        self.accounts[account_id] = account
        self._live_by_account[account_id] = {}
        return account

    def fund(self, account_id: str, micros: int) -> Account:
        """Deposit (or, when negative, withdraw up to the available balance)."""
        account = self._account(account_id)
        if micros < 0 and account.available + micros < 0:
            raise ExchangeError(400, "insufficient_balance", "insufficient balance",
                                f"cannot withdraw {-micros} micro-dollars; {account.available} available")
        account.balance += micros
        return account

    # --- history ------------------------------------------------------------------------------

    def candles(self, ticker: str, start_s: int, end_s: int, period_minutes: int) -> list[Candle]:
        """Candles of one market whose (inclusive) period end lies in [start_s, end_s].

        Periods before the market opened and after the current period are left out.
        """
        market = self._market(ticker)
        if period_minutes <= 0:
            raise ExchangeError(400, "invalid_parameters", "invalid parameters", "period_interval must be positive")
        if end_s < start_s:
            raise ExchangeError(400, "invalid_parameters", "invalid parameters", "end_ts is before start_ts")
        period_s = period_minutes * 60
        open_s = min(market.open_time_ms, market.created_time_ms or market.open_time_ms) // 1000
        now_s = self.clock.now_ms() // 1000
        first = max(start_s, -(-open_s // period_s) * period_s)
        last = min(end_s, -(-now_s // period_s) * period_s)
        if last < first:
            return []
        if (last - first) // period_s + 1 > MAX_CANDLES:
            raise ExchangeError(400, "invalid_parameters", "invalid parameters",
                                f"at most {MAX_CANDLES} candles per request; narrow start_ts/end_ts")
        return self._tapes[ticker].candles(first, last, period_s)

    def market_is_open(self, ticker: str) -> bool:
        return self._market(ticker).status is MarketStatus.ACTIVE and not self.trading_paused


__all__ = ["UNSET", "Exchange"]
