"""Kalshi REST responses as typed structs in DESIGN.md units (kalshi-api.md section 6, 2026 shapes).

Attributes carry domain names (`yes_bid`, `count`, `fee_cost`) and hold ints: prices in pips on the
scale their name says (YES unless named `no_*`), counts in hundredths, money in micro-dollars; each
is read from its wire name (`yes_bid_dollars`, `count_fp`, ...). Required here means "the desk cannot
work without it"; other documented fields are optional (`None` when absent). Direction is the V2
`book_side` decoded to `Side` (bid = YES exposure, ask = NO exposure).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from console.domain.grid import PriceGrid
from console.domain.side import Side
from console.venues.kalshi.wire import Count, Money, Pips, SignedCount, Wire, field

# --- exchange, series, events, markets ----------------------------------------------------------


class ExchangeStatus(Wire):
    exchange_active: bool
    trading_active: bool
    exchange_estimated_resume_time: datetime | None = None


class UserDataTimestamp(Wire):
    as_of_time: datetime


class Series(Wire):
    ticker: str
    title: str
    fee_type: str
    fee_multiplier: Decimal  # a JSON number; Decimal keeps it exact
    frequency: str | None = None
    category: str | None = None
    tags: list[str] | None = None
    exchange_index: int | None = None


class SeriesList(Wire):
    series: list[Series]


class SeriesResponse(Wire):
    series: Series


class PriceRange(Wire):
    """One band of valid prices: YES pips start..end on a `step` grid."""

    start: Pips
    end: Pips
    step: Pips


class Market(Wire):
    ticker: str
    event_ticker: str
    status: str  # initialized | inactive | active | closed | determined | disputed | amended | finalized
    open_time: datetime
    close_time: datetime
    yes_bid: Pips = field("yes_bid_dollars")
    yes_ask: Pips = field("yes_ask_dollars")
    last_price: Pips = field("last_price_dollars")
    volume: Count = field("volume_fp")
    open_interest: Count = field("open_interest_fp")
    price_ranges: list[PriceRange]
    price_level_structure: str | None = None
    market_type: str | None = None
    title: str | None = None
    subtitle: str | None = None
    yes_sub_title: str | None = None
    no_sub_title: str | None = None
    yes_bid_size: Count | None = field("yes_bid_size_fp", None)
    yes_ask_size: Count | None = field("yes_ask_size_fp", None)
    no_bid: Pips | None = field("no_bid_dollars", None)  # NO scale
    no_ask: Pips | None = field("no_ask_dollars", None)  # NO scale
    volume_24h: Count | None = field("volume_24h_fp", None)
    previous_yes_bid: Pips | None = field("previous_yes_bid_dollars", None)
    previous_yes_ask: Pips | None = field("previous_yes_ask_dollars", None)
    previous_price: Pips | None = field("previous_price_dollars", None)
    notional_value: Pips | None = field("notional_value_dollars", None)
    settlement_value: Pips | None = field("settlement_value_dollars", None)
    result: str | None = None
    can_close_early: bool | None = None
    expected_expiration_time: datetime | None = None
    latest_expiration_time: datetime | None = None
    settlement_timer_seconds: int | None = None
    strike_type: str | None = None
    floor_strike: Decimal | None = None
    cap_strike: Decimal | None = None
    rules_primary: str | None = None
    rules_secondary: str | None = None
    exchange_index: int | None = None

    def grid(self) -> PriceGrid:
        """The market's valid YES prices, from its `price_ranges` (never from the structure name)."""
        return PriceGrid(tuple((r.start, r.end, r.step) for r in self.price_ranges))


class MarketsPage(Wire):
    markets: list[Market]
    cursor: str | None = None  # "" or absent: last page


class MarketResponse(Wire):
    market: Market


class Event(Wire):
    event_ticker: str
    series_ticker: str
    title: str
    sub_title: str | None = None
    mutually_exclusive: bool | None = None
    collateral_return_type: str | None = None
    markets: list[Market] | None = None
    fee_type_override: str | None = None
    fee_multiplier_override: Decimal | None = None
    exchange_index: int | None = None


class EventsPage(Wire):
    events: list[Event]
    cursor: str | None = None


class EventResponse(Wire):
    event: Event
    markets: list[Market] | None = None  # deprecated top-level copy of event.markets


# --- order books, trades, candles ---------------------------------------------------------------


class OrderbookLevels(Wire):
    """REST `orderbook_fp`: bids only per side, ascending, YES bids in YES pips, NO bids in NO pips."""

    yes: list[tuple[Pips, Count]] | None = field("yes_dollars", None)
    no: list[tuple[Pips, Count]] | None = field("no_dollars", None)


class OrderbookResponse(Wire):
    orderbook: OrderbookLevels = field("orderbook_fp")


class TickerOrderbook(Wire):
    ticker: str
    orderbook: OrderbookLevels = field("orderbook_fp")


class OrderbooksResponse(Wire):
    orderbooks: list[TickerOrderbook]


def taker_side_of(outcome: str | None, book: Side | None, legacy: str | None) -> Side:
    """The taker's book side from the V2 fields, else the deprecated `taker_side` (yes|no)."""
    if book is not None:
        return book
    for value in (outcome, legacy):
        if value in ("yes", "no"):
            return Side.from_outcome(value)
    raise ValueError("trade has none of taker_book_side, taker_outcome_side, taker_side")


class Trade(Wire):
    trade_id: str
    ticker: str
    count: Count = field("count_fp")
    yes_price: Pips = field("yes_price_dollars")
    created_time: datetime
    taker_outcome_side: str | None = None
    taker_book_side: Side | None = None
    taker_side: str | None = None  # deprecated (yes|no); still the only one in older captures
    is_block_trade: bool | None = None

    @property
    def taker(self) -> Side:
        return taker_side_of(self.taker_outcome_side, self.taker_book_side, self.taker_side)


class TradesPage(Wire):
    trades: list[Trade]
    cursor: str | None = None


class BidAskOHLC(Wire):
    open: Pips = field("open_dollars")
    low: Pips = field("low_dollars")
    high: Pips = field("high_dollars")
    close: Pips = field("close_dollars")


class PriceOHLC(Wire):
    """Trade prices in a period; every value is None when nothing traded."""

    open: Pips | None = field("open_dollars", None)
    low: Pips | None = field("low_dollars", None)
    high: Pips | None = field("high_dollars", None)
    close: Pips | None = field("close_dollars", None)
    previous: Pips | None = field("previous_dollars", None)


class Candle(Wire):
    end_period_ts: int
    yes_bid: BidAskOHLC
    yes_ask: BidAskOHLC
    price: PriceOHLC
    volume: Count = field("volume_fp")
    open_interest: Count = field("open_interest_fp")


class CandlesResponse(Wire):
    candlesticks: list[Candle]
    ticker: str | None = None


class MarketCandles(Wire):
    market_ticker: str
    candlesticks: list[Candle]


class BatchCandlesResponse(Wire):
    markets: list[MarketCandles]


# --- portfolio ----------------------------------------------------------------------------------


class Balance(Wire):
    balance: Money = field("balance_dollars")  # available cash, $0.0001 precision
    balance_cents: int | None = field("balance", None)  # legacy, truncated to cents
    portfolio_value_cents: int | None = field("portfolio_value", None)
    updated_ts: int | None = None


class MarketPosition(Wire):
    ticker: str
    position: SignedCount = field("position_fp")  # >0 long YES, <0 long NO
    market_exposure: Money = field("market_exposure_dollars")
    realized_pnl: Money = field("realized_pnl_dollars")
    fees_paid: Money = field("fees_paid_dollars")
    total_traded: Money | None = field("total_traded_dollars", None)
    exchange_index: int | None = None


class EventPosition(Wire):
    event_ticker: str
    event_exposure: Money = field("event_exposure_dollars")
    realized_pnl: Money = field("realized_pnl_dollars")
    fees_paid: Money = field("fees_paid_dollars")
    total_cost: Money | None = field("total_cost_dollars", None)


class PositionsPage(Wire):
    market_positions: list[MarketPosition]
    event_positions: list[EventPosition] | None = None
    cursor: str | None = None


class Order(Wire):
    order_id: str
    ticker: str
    side: Side = field("book_side")
    status: str  # resting | canceled | executed
    yes_price: Pips = field("yes_price_dollars")
    fill_count: Count = field("fill_count_fp")
    remaining_count: Count = field("remaining_count_fp")
    initial_count: Count = field("initial_count_fp")
    taker_fill_cost: Money = field("taker_fill_cost_dollars")
    maker_fill_cost: Money = field("maker_fill_cost_dollars")
    taker_fees: Money = field("taker_fees_dollars")
    maker_fees: Money = field("maker_fees_dollars")
    client_order_id: str | None = None
    created_time: datetime | None = None
    last_update_time: datetime | None = None
    expiration_time: datetime | None = None
    last_update_reason: str | None = None
    order_group_id: str | None = None
    self_trade_prevention_type: str | None = None
    time_in_force: str | None = None
    exchange_index: int | None = None
    subaccount_number: int | None = None


class OrdersPage(Wire):
    orders: list[Order]
    cursor: str | None = None


class OrderResponse(Wire):
    order: Order


class QueuePosition(Wire):
    queue_position: Count = field("queue_position_fp")


class Fill(Wire):
    fill_id: str
    order_id: str
    ticker: str
    side: Side = field("book_side")
    count: Count = field("count_fp")
    yes_price: Pips = field("yes_price_dollars")
    is_taker: bool
    fee_cost: Money
    created_time: datetime | None = None
    ts: int | None = None
    exchange_index: int | None = None
    trade_id: str | None = None  # the id WS `fill` messages carry; the engine dedups fills on it
    client_order_id: str | None = None


class FillsPage(Wire):
    fills: list[Fill]
    cursor: str | None = None


class Settlement(Wire):
    ticker: str
    market_result: str
    yes_count: Count = field("yes_count_fp")
    no_count: Count = field("no_count_fp")
    yes_total_cost: Money = field("yes_total_cost_dollars")
    no_total_cost: Money = field("no_total_cost_dollars")
    revenue_cents: int = field("revenue")
    settled_time: datetime
    fee_cost: Money
    event_ticker: str | None = None
    value_cents: int | None = field("value", None)


class SettlementsPage(Wire):
    settlements: list[Settlement]
    cursor: str | None = None


# --- V2 order writes ----------------------------------------------------------------------------


class ErrorBody(Wire):
    code: str
    message: str | None = None
    details: str | None = None


class CreateOrderResult(Wire):
    """`POST /portfolio/events/orders` (201). Averages are micro-dollars per contract, YES scale."""

    order_id: str
    fill_count: Count
    remaining_count: Count
    client_order_id: str | None = None
    average_fill_price: Money | None = None
    average_fee_paid: Money | None = None
    ts_ms: int | None = None


class CancelResult(Wire):
    order_id: str
    reduced_by: Count | None  # None only when synthesised after a lost response (see rest.py)
    client_order_id: str | None = None
    ts_ms: int | None = None


class AmendResult(Wire):
    order_id: str
    client_order_id: str | None = None
    fill_count: Count | None = None
    remaining_count: Count | None = None
    average_fill_price: Money | None = None
    average_fee_paid: Money | None = None
    ts_ms: int | None = None


class DecreaseResult(Wire):
    order_id: str
    remaining_count: Count
    client_order_id: str | None = None
    ts_ms: int | None = None


class BatchCreateItem(Wire):
    """One item of a batch create: either the order fields or `error` (HTTP 201 says nothing per item)."""

    order_id: str | None = None
    client_order_id: str | None = None
    fill_count: Count | None = None
    remaining_count: Count | None = None
    average_fill_price: Money | None = None
    average_fee_paid: Money | None = None
    ts_ms: int | None = None
    error: ErrorBody | None = None


class BatchCreateResponse(Wire):
    orders: list[BatchCreateItem]


class BatchCancelItem(Wire):
    order_id: str
    reduced_by: Count | None = None
    client_order_id: str | None = None
    ts_ms: int | None = None
    error: ErrorBody | None = None


class BatchCancelResponse(Wire):
    orders: list[BatchCancelItem]


# --- order groups and account -------------------------------------------------------------------


class OrderGroupCreated(Wire):
    order_group_id: str
    subaccount: int | None = None
    exchange_index: int | None = None


class OrderGroupSummary(Wire):
    id: str
    is_auto_cancel_enabled: bool
    contracts_limit: Count | None = field("contracts_limit_fp", None)
    exchange_index: int | None = None


class OrderGroupsList(Wire):
    order_groups: list[OrderGroupSummary]


class OrderGroupDetail(Wire):
    is_auto_cancel_enabled: bool
    orders: list[str]
    contracts_limit: Count | None = field("contracts_limit_fp", None)
    exchange_index: int | None = None


class BucketLimit(Wire):
    refill_rate: float  # tokens per second (rate budget, not money)
    bucket_capacity: float


class AccountLimits(Wire):
    usage_tier: str
    read: BucketLimit
    write: BucketLimit


class EndpointCost(Wire):
    method: str
    path: str
    cost: int


class EndpointCosts(Wire):
    default_cost: int
    endpoint_costs: list[EndpointCost]


def error_body(raw: Any) -> tuple[str, str, str]:
    """(code, message, details) from any of Kalshi's error shapes (nested, flat, or a bare string)."""
    if isinstance(raw, dict):
        inner = raw.get("error", raw)
        if isinstance(inner, dict):
            return (str(inner.get("code") or ""), str(inner.get("message") or ""), str(inner.get("details") or ""))
        if isinstance(inner, str):
            return ("", inner, "")
    return ("", "", "")
