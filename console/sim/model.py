"""The simulator's records: series, events, markets, accounts, orders, fills, trades, groups.

Plain mutable dataclasses owned by `console.sim.exchange.Exchange` (single-threaded). Units are
DESIGN.md's: prices in pips on the YES scale, counts in hundredths of a contract, money in
micro-dollars, times in Unix milliseconds. The API layer turns them into Kalshi's wire shapes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from console.domain.fees import FeeType
from console.domain.grid import PriceGrid
from console.sim.events import BookSide


class ExchangeError(Exception):
    """A request the exchange refuses, with Kalshi's HTTP status and error code."""

    def __init__(self, status: int, code: str, message: str, details: str = "") -> None:
        super().__init__(f"{code}: {message}" + (f" ({details})" if details else ""))
        self.status = status
        self.code = code
        self.message = message
        self.details = details


class MarketStatus(StrEnum):
    INITIALIZED = "initialized"
    INACTIVE = "inactive"
    ACTIVE = "active"
    CLOSED = "closed"
    DETERMINED = "determined"
    DISPUTED = "disputed"
    AMENDED = "amended"
    FINALIZED = "finalized"


class TimeInForce(StrEnum):
    GTC = "good_till_canceled"
    IOC = "immediate_or_cancel"
    FOK = "fill_or_kill"


class SelfTradePrevention(StrEnum):
    TAKER_AT_CROSS = "taker_at_cross"
    MAKER = "maker"


class OrderStatus(StrEnum):
    RESTING = "resting"
    CANCELED = "canceled"
    EXECUTED = "executed"


@dataclass
class Series:
    ticker: str
    title: str
    category: str
    frequency: str = "custom"
    tags: list[str] = field(default_factory=list)
    fee_type: FeeType = FeeType.QUADRATIC
    fee_multiplier: str = "1"  # decimal string, exact
    settlement_sources: list[dict[str, str]] = field(default_factory=list)
    contract_url: str = ""
    contract_terms_url: str = ""
    last_updated_ms: int = 0


@dataclass
class Event:
    event_ticker: str
    series_ticker: str
    title: str
    sub_title: str = ""
    mutually_exclusive: bool = False
    strike_date_ms: int | None = None
    fee_type_override: FeeType | None = None
    fee_multiplier_override: str | None = None
    last_updated_ms: int = 0

    @property
    def collateral_return_type(self) -> str:
        return "MECNET" if self.mutually_exclusive else ""


@dataclass
class Market:
    """One binary market. Everything derived from the book (best bid/ask) is computed, not stored."""

    ticker: str
    event_ticker: str
    series_ticker: str
    title: str
    yes_sub_title: str
    no_sub_title: str
    open_time_ms: int
    close_time_ms: int
    price_level_structure: str = "linear_cent"
    grid: PriceGrid = field(default_factory=lambda: PriceGrid.for_structure("linear_cent"))
    rules_primary: str = ""
    rules_secondary: str = ""
    subtitle: str = ""
    status: MarketStatus = MarketStatus.INITIALIZED
    can_close_early: bool = False
    settlement_timer_seconds: int = 0
    strike_type: str | None = None  # greater | less | between | ...
    floor_strike: float | None = None
    cap_strike: float | None = None
    expected_expiration_time_ms: int | None = None
    latest_expiration_time_ms: int | None = None
    created_time_ms: int = 0
    updated_time_ms: int = 0
    result: str = ""  # yes | no | "" until determined
    settlement_value: int | None = None  # pips per YES contract once determined
    determined_time_ms: int | None = None
    settlement_time_ms: int | None = None
    last_price: int = 0  # pips, 0 = no trade yet
    previous_price: int = 0
    previous_yes_bid: int = 0
    previous_yes_ask: int = 0
    volume: int = 0  # count units
    volume_24h: int = 0
    open_interest: int = 0  # count units
    exchange_index: int = 0
    market_id: str = ""  # UUID, used by WS payloads


@dataclass
class Position:
    """An account's signed position in one market, with Kalshi's netting."""

    ticker: str
    position: int = 0  # > 0 long YES, < 0 long NO (count units)
    position_cost: int = 0  # micro-dollars paid for the contracts still held
    realized_pnl: int = 0
    fees_paid: int = 0
    total_traded: int = 0  # micro-dollars of notional traded
    volume: int = 0  # count units traded
    last_updated_ms: int = 0
    settled: bool = False


@dataclass
class Account:
    account_id: str  # Kalshi `user_id`
    balance: int  # micro-dollars of cash, before subtracting resting-order collateral
    positions: dict[str, Position] = field(default_factory=dict)
    reserved: int = 0  # micro-dollars held for resting orders
    rounding_accumulator: int = 0
    tier: str = "basic"

    @property
    def available(self) -> int:
        return self.balance - self.reserved


@dataclass
class OrderRequest:
    """A parsed V2 create-order body (the API layer validates wire types before building this)."""

    ticker: str
    side: BookSide
    price: int  # YES scale
    count: int
    time_in_force: TimeInForce
    self_trade_prevention: SelfTradePrevention
    client_order_id: str | None = None
    expiration_time_s: int | None = None
    post_only: bool = False
    reduce_only: bool = False
    cancel_order_on_pause: bool = False
    order_group_id: str | None = None
    subaccount: int = 0


@dataclass
class Order:
    order_id: str
    account_id: str
    client_order_id: str
    ticker: str
    side: BookSide
    price: int  # YES scale
    initial_count: int
    fill_count: int = 0
    remaining_count: int = 0
    status: OrderStatus = OrderStatus.RESTING
    time_in_force: TimeInForce = TimeInForce.GTC
    self_trade_prevention: SelfTradePrevention = SelfTradePrevention.TAKER_AT_CROSS
    post_only: bool = False
    reduce_only: bool = False
    cancel_order_on_pause: bool = False
    order_group_id: str | None = None
    expiration_time_s: int | None = None
    created_time_ms: int = 0
    last_update_time_ms: int = 0
    last_update_reason: str | None = None
    taker_fill_cost: int = 0  # micro-dollars paid as taker (on this order's side's price)
    maker_fill_cost: int = 0
    taker_fees: int = 0
    maker_fees: int = 0
    subaccount: int = 0
    exchange_index: int = 0
    reserved: int = 0  # collateral currently held for the resting remainder
    rounding_accumulator: int = 0
    sequence: int = 0  # time priority within a level (lower = earlier)

    @property
    def outcome_side(self) -> str:
        return self.side.outcome


@dataclass
class Fill:
    fill_id: str  # == trade_id
    order_id: str
    account_id: str
    ticker: str
    side: BookSide
    yes_price: int
    count: int
    is_taker: bool
    fee: int
    created_time_ms: int
    client_order_id: str | None = None
    post_position: int = 0
    exchange_index: int = 0
    subaccount: int = 0


@dataclass
class Trade:
    trade_id: str
    ticker: str
    yes_price: int
    count: int
    taker_side: BookSide
    created_time_ms: int
    is_block_trade: bool = False


@dataclass
class Settlement:
    account_id: str
    ticker: str
    event_ticker: str
    market_result: str
    yes_count: int
    yes_total_cost: int
    no_count: int
    no_total_cost: int
    revenue: int  # micro-dollars paid out
    fee_cost: int
    settled_time_ms: int
    value: int | None  # pips per YES contract
    exchange_index: int = 0


@dataclass
class OrderGroup:
    order_group_id: str
    account_id: str
    contracts_limit: int  # count units matched per rolling 15 s window
    matched: list[tuple[int, int]] = field(default_factory=list)  # (ts_ms, count) inside the window
    triggered: bool = False
    order_ids: list[str] = field(default_factory=list)
    subaccount: int = 0
    exchange_index: int = 0


@dataclass
class Candle:
    """One period of a market's history (prices in pips, None when nothing traded)."""

    end_period_ts: int  # Unix seconds, inclusive end
    yes_bid: tuple[int, int, int, int] | None  # open, low, high, close
    yes_ask: tuple[int, int, int, int] | None
    price: dict[str, Any]
    volume: int
    open_interest: int
