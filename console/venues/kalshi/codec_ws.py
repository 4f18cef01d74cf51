"""Kalshi WebSocket messages as typed structs in DESIGN.md units (kalshi-api.md section 9, 2026 shapes).

Every server frame is one envelope `{"type", "sid"?, "seq"?, "id"?, "msg"}`; the envelope structs
below form a msgspec tagged union on `type`, so one decode pass picks the right payload struct. The
payloads use the same number annotations as the REST structs (`codec_rest`), so a `delta` is an int
count in hundredths and a `price` an int in pips *on the scale the wire used*: the `no` side of the
order book is in NO pips unless the subscription set `use_yes_price` (conversion to the YES-scale
book events happens in `codec.book_snapshot` / `codec.book_delta`, which know the flag).
"""

from __future__ import annotations

from typing import Any, Literal, Union

from console.domain.side import Side
from console.venues.kalshi.codec_rest import PriceRange, taker_side_of
from console.venues.kalshi.wire import Count, Money, Pips, SignedCount, Wire, field

# --- payloads -----------------------------------------------------------------------------------


class SubscribedBody(Wire):
    channel: str
    sid: int


class ErrorBody(Wire):
    code: int
    msg: str = ""
    market_tickers: list[str] | None = None
    market_ticker: str | None = None


class SnapshotBody(Wire):
    """Bids per side, ascending by the side's own price; a side's key is absent when it is empty."""

    market_ticker: str
    yes: list[tuple[Pips, Count]] | None = field("yes_dollars_fp", None)
    no: list[tuple[Pips, Count]] | None = field("no_dollars_fp", None)
    market_id: str | None = None


class DeltaBody(Wire):
    market_ticker: str
    price: Pips = field("price_dollars")  # scale of `side` unless use_yes_price
    delta: SignedCount = field("delta_fp")
    side: Literal["yes", "no"]
    market_id: str | None = None
    client_order_id: str | None = None
    subaccount: int | None = None
    ts_ms: int | None = None


class TickerBody(Wire):
    market_ticker: str
    price: Pips = field("price_dollars")  # last trade
    yes_bid: Pips = field("yes_bid_dollars")
    yes_ask: Pips = field("yes_ask_dollars")
    volume: Count = field("volume_fp")
    open_interest: Count = field("open_interest_fp")
    yes_bid_size: Count | None = field("yes_bid_size_fp", None)
    yes_ask_size: Count | None = field("yes_ask_size_fp", None)
    last_trade_size: Count | None = field("last_trade_size_fp", None)
    dollar_volume: int | None = None
    dollar_open_interest: int | None = None
    market_id: str | None = None
    ts_ms: int | None = None
    ts: int | None = None  # deprecated, Unix seconds (what early-2026 captures carry)

    @property
    def time_ms(self) -> int | None:
        return self.ts_ms if self.ts_ms is not None else (self.ts * 1000 if self.ts is not None else None)


class TradeBody(Wire):
    trade_id: str
    market_ticker: str
    yes_price: Pips = field("yes_price_dollars")
    count: Count = field("count_fp")
    taker_outcome_side: str | None = None
    taker_book_side: Side | None = None
    taker_side: str | None = None  # deprecated yes|no
    is_block_trade: bool | None = None
    ts_ms: int | None = None
    ts: int | None = None  # deprecated, Unix seconds

    @property
    def taker(self) -> Side:
        return taker_side_of(self.taker_outcome_side, self.taker_book_side, self.taker_side)

    @property
    def time_ms(self) -> int | None:
        return self.ts_ms if self.ts_ms is not None else (self.ts * 1000 if self.ts is not None else None)


class FillBody(Wire):
    trade_id: str
    order_id: str
    market_ticker: str
    side: Side = field("book_side")
    is_taker: bool
    yes_price: Pips = field("yes_price_dollars")
    count: Count = field("count_fp")
    fee_cost: Money
    post_position: SignedCount = field("post_position_fp")
    ts_ms: int
    client_order_id: str | None = None
    exchange_index: int | None = None
    subaccount: int | None = None


class MarketPositionBody(Wire):
    market_ticker: str
    position: SignedCount = field("position_fp")
    position_cost: Money = field("position_cost_dollars")
    realized_pnl: Money = field("realized_pnl_dollars")
    fees_paid: Money = field("fees_paid_dollars")
    position_fee_cost: Money | None = field("position_fee_cost_dollars", None)
    volume: Count | None = field("volume_fp", None)
    user_id: str | None = None
    subaccount: int | None = None


class UserOrderBody(Wire):
    order_id: str
    ticker: str
    status: str  # resting | canceled | executed | unknown
    side: Side = field("book_side")
    yes_price: Pips = field("yes_price_dollars")
    fill_count: Count = field("fill_count_fp")
    remaining_count: Count = field("remaining_count_fp")
    initial_count: Count = field("initial_count_fp")
    taker_fill_cost: Money = field("taker_fill_cost_dollars")
    maker_fill_cost: Money = field("maker_fill_cost_dollars")
    taker_fees: Money = field("taker_fees_dollars")
    maker_fees: Money = field("maker_fees_dollars")
    created_ts_ms: int
    client_order_id: str | None = None
    order_group_id: str | None = None
    last_updated_ts_ms: int | None = None
    expiration_ts_ms: int | None = None
    last_update_reason: str | None = None
    self_trade_prevention_type: str | None = None
    exchange_index: int | None = None
    subaccount_number: int | None = None


class OrderGroupUpdateBody(Wire):
    event_type: str  # created | triggered | reset | deleted | limit_updated
    order_group_id: str
    contracts_limit: Count | None = field("contracts_limit_fp", None)
    ts_ms: int | None = None


class MarketLifecycleBody(Wire):
    market_ticker: str
    event_type: str
    open_ts: int | None = None
    close_ts: int | None = None
    determination_ts: int | None = None
    settled_ts: int | None = None
    result: str | None = None
    settlement_value: Pips | None = None
    is_deactivated: bool | None = None
    price_level_structure: str | None = None
    price_ranges: list[PriceRange] | None = None
    additional_metadata: dict[str, Any] | None = None
    exchange_index: int | None = None


class EventLifecycleBody(Wire):
    event_ticker: str
    title: str | None = None
    subtitle: str | None = None
    collateral_return_type: str | None = None
    series_ticker: str | None = None
    strike_date: int | None = None
    strike_period: str | None = None
    exchange_index: int | None = None


# --- envelopes ----------------------------------------------------------------------------------


class _Envelope(Wire, tag_field="type"):
    pass


class Subscribed(_Envelope, tag="subscribed"):
    msg: SubscribedBody
    id: int | None = None


class Ok(_Envelope, tag="ok"):
    """`update_subscription` / repeated `subscribe` ack (sid, seq, ticker list) or `list_subscriptions`."""

    id: int | None = None
    sid: int | None = None
    seq: int | None = None
    msg: Any = None


class Unsubscribed(_Envelope, tag="unsubscribed"):
    sid: int
    id: int | None = None
    seq: int | None = None


class Error(_Envelope, tag="error"):
    msg: ErrorBody
    id: int | None = None
    sid: int | None = None
    seq: int | None = None


class OrderbookSnapshot(_Envelope, tag="orderbook_snapshot"):
    sid: int
    seq: int
    msg: SnapshotBody
    id: int | None = None  # set when answering get_snapshot


class OrderbookDelta(_Envelope, tag="orderbook_delta"):
    sid: int
    seq: int
    msg: DeltaBody


class Ticker(_Envelope, tag="ticker"):
    sid: int
    msg: TickerBody


class TradeMsg(_Envelope, tag="trade"):
    sid: int
    msg: TradeBody
    seq: int | None = None


class FillMsg(_Envelope, tag="fill"):
    sid: int
    msg: FillBody


class MarketPositionMsg(_Envelope, tag="market_position"):
    sid: int
    msg: MarketPositionBody


class UserOrderMsg(_Envelope, tag="user_order"):
    sid: int
    msg: UserOrderBody


class OrderGroupUpdate(_Envelope, tag="order_group_updates"):
    sid: int
    msg: OrderGroupUpdateBody
    seq: int | None = None


class MarketLifecycle(_Envelope, tag="market_lifecycle_v2"):
    sid: int
    msg: MarketLifecycleBody
    seq: int | None = None


class EventLifecycle(_Envelope, tag="event_lifecycle"):
    sid: int
    msg: EventLifecycleBody
    seq: int | None = None


class UnknownMessage(Wire):
    """A well-formed frame of a type this client does not know (new channels appear often)."""

    type: str
    sid: int | None = None
    seq: int | None = None


WsMessage = Union[
    Subscribed, Ok, Unsubscribed, Error, OrderbookSnapshot, OrderbookDelta, Ticker, TradeMsg, FillMsg,
    MarketPositionMsg, UserOrderMsg, OrderGroupUpdate, MarketLifecycle, EventLifecycle,
]

#: message types this client decodes (the tags of WsMessage)
KNOWN_TYPES = frozenset({
    "subscribed", "ok", "unsubscribed", "error", "orderbook_snapshot", "orderbook_delta", "ticker", "trade",
    "fill", "market_position", "user_order", "order_group_updates", "market_lifecycle_v2", "event_lifecycle",
})
