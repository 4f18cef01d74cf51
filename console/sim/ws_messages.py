"""Wire payloads (`msg` bodies) of the simulator's Kalshi WebSocket channels (kalshi-api.md 9.5).

Pure functions from exchange events / state to JSON-ready dicts in Kalshi's current shapes: prices are
4-decimal dollar strings (`*_dollars`), counts 2-decimal strings (`*_fp`), money 6-decimal dollar
strings, times Unix milliseconds (`ts_ms`, `*_ts_ms`) except lifecycle `*_ts` (Unix seconds).

Book conventions match REST `GET /markets/{ticker}/orderbook`: each side lists bids only, ascending by
the price it is reported in; the `no` side is priced in NO terms (10000 - YES price) unless the
subscriber asked for `use_yes_price`, in which case it keeps YES-scale prices (still tagged `no`).

Shared shapes come from the REST serialisers (`kalshi_json`): the default book levels, the Order
fields of `user_order`, and the 6-decimal money format, so WS and REST never disagree.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from console.domain.units import PRICE_MAX, format_count, format_price
from console.sim import kalshi_json as kj
from console.sim.events import (
    BookDelta,
    BookSide,
    EventLifecycle,
    FillHappened,
    MarketLifecycle,
    OrderChanged,
    OrderGroupChanged,
    PositionChanged,
    TradePrinted,
)

if TYPE_CHECKING:
    from console.sim.exchange import Exchange
    from console.sim.model import Market

#: whole-contract count units in one "dollar" of Kalshi's integer `dollar_volume` /
#: `dollar_open_interest`. Recorded live ticker messages always show dollar_volume == volume / 2
#: (13446 contracts -> 6723), i.e. each contract counted at $0.50; we reproduce that, floored.
_COUNT_UNITS_PER_TICKER_DOLLAR = 200


def wire_side(side: BookSide) -> str:
    """Kalshi's book side name: YES bids are `yes`, YES asks are NO bids, `no`."""
    return "yes" if side is BookSide.BID else "no"


def wire_book_price(side: BookSide, yes_price: int, use_yes_price: bool) -> int:
    """Price of a level as reported on the wire: NO levels in NO terms unless `use_yes_price`."""
    if side is BookSide.ASK and not use_yes_price:
        return PRICE_MAX - yes_price
    return yes_price


def orderbook_snapshot(exchange: Exchange, market: Market, use_yes_price: bool) -> dict[str, Any]:
    """`orderbook_snapshot` msg; a side's key is absent when that side is empty (as Kalshi does).

    The default (NO prices) levels come from the REST serialiser, so WS and REST books agree exactly.
    """
    msg: dict[str, Any] = {"market_ticker": market.ticker, "market_id": market.market_id}
    rest_book = kj.book_side_levels(exchange, market.ticker)
    yes_levels = rest_book["yes_dollars"]
    if use_yes_price:
        # NO bids at their YES-leg price: the core's YES asks as they are, ascending
        no_levels = [
            [format_price(price), format_count(count)]
            for price, count in exchange.book_levels(market.ticker, BookSide.ASK)
            if count > 0
        ]
    else:
        no_levels = rest_book["no_dollars"]
    if yes_levels:
        msg["yes_dollars_fp"] = yes_levels
    if no_levels:
        msg["no_dollars_fp"] = no_levels
    return msg


def orderbook_delta(event: BookDelta, market_id: str, use_yes_price: bool) -> dict[str, Any]:
    """`orderbook_delta` msg without the owner-only annotations (see `annotate_owner`)."""
    return {
        "market_ticker": event.ticker,
        "market_id": market_id,
        "price_dollars": format_price(wire_book_price(event.side, event.price, use_yes_price)),
        "delta_fp": format_count(event.delta),
        "side": wire_side(event.side),
        "ts_ms": event.ts_ms,
    }


def annotate_owner(msg: dict[str, Any], client_order_id: str | None, subaccount: int) -> dict[str, Any]:
    """A copy of a delta with the fields only the order's owner sees (when they carry a value)."""
    annotated = dict(msg)
    if client_order_id:
        annotated["client_order_id"] = client_order_id
    if subaccount:
        annotated["subaccount"] = subaccount
    return annotated


def ticker_values(exchange: Exchange, market: Market, last_trade_size: int) -> dict[str, Any]:
    """The `ticker` msg fields that define "a change" (everything except `ts_ms`)."""
    best_bid = exchange.best_bid(market.ticker)
    best_ask = exchange.best_ask(market.ticker)
    # Kalshi reports an empty side as bid $0 / ask $1 with size 0 (seen in recorded ticker messages)
    yes_bid, yes_bid_size = best_bid if best_bid else (0, 0)
    yes_ask, yes_ask_size = best_ask if best_ask else (PRICE_MAX, 0)
    return {
        "market_ticker": market.ticker,
        "market_id": market.market_id,
        "price_dollars": format_price(market.last_price),
        "yes_bid_dollars": format_price(yes_bid),
        "yes_ask_dollars": format_price(yes_ask),
        "yes_bid_size_fp": format_count(yes_bid_size),
        "yes_ask_size_fp": format_count(yes_ask_size),
        "last_trade_size_fp": format_count(last_trade_size),
        "volume_fp": format_count(market.volume),
        "open_interest_fp": format_count(market.open_interest),
        "dollar_volume": market.volume // _COUNT_UNITS_PER_TICKER_DOLLAR,
        "dollar_open_interest": market.open_interest // _COUNT_UNITS_PER_TICKER_DOLLAR,
    }


def trade(event: TradePrinted) -> dict[str, Any]:
    taker = event.taker_side
    return {
        "trade_id": event.trade_id,
        "market_ticker": event.ticker,
        "yes_price_dollars": format_price(event.yes_price),
        "no_price_dollars": format_price(PRICE_MAX - event.yes_price),
        "count_fp": format_count(event.count),
        "taker_outcome_side": taker.outcome,
        "taker_book_side": taker.value,
        "taker_side": taker.outcome,  # deprecated alias Kalshi still sends
        "is_block_trade": False,
        "ts_ms": event.ts_ms,
    }


def fill(event: FillHappened, subaccount: int) -> dict[str, Any]:
    msg: dict[str, Any] = {
        "trade_id": event.fill_id,
        "order_id": event.order_id,
        "market_ticker": event.ticker,
        "exchange_index": event.exchange_index,
        "is_taker": event.is_taker,
        "yes_price_dollars": format_price(event.yes_price),
        "count_fp": format_count(event.count),
        "fee_cost": kj.money(event.fee),
        "outcome_side": event.side.outcome,
        "book_side": event.side.value,
        "post_position_fp": format_count(event.post_position),
        "ts_ms": event.ts_ms,
    }
    if event.client_order_id:
        msg["client_order_id"] = event.client_order_id
    if subaccount:
        msg["subaccount"] = subaccount
    return msg


def market_position(event: PositionChanged, subaccount: int = 0) -> dict[str, Any]:
    msg: dict[str, Any] = {
        "user_id": event.account_id,
        "market_ticker": event.ticker,
        "position_fp": format_count(event.position),
        "position_cost_dollars": kj.money(event.position_cost),
        "realized_pnl_dollars": kj.money(event.realized_pnl),
        "fees_paid_dollars": kj.money(event.fees_paid),
        # the core does not split fees by open position; Kalshi's "position fee cost" is reported as
        # the fees paid in this market (equal while the position has never been reduced)
        "position_fee_cost_dollars": kj.money(event.fees_paid),
        "volume_fp": format_count(event.volume),
    }
    if subaccount:
        msg["subaccount"] = subaccount
    return msg


#: user_order fields that have the same name and format as in the REST Order (taken from kalshi_json)
_USER_ORDER_REST_FIELDS = (
    "order_id", "user_id", "ticker", "exchange_index", "status", "outcome_side", "book_side",
    "yes_price_dollars", "fill_count_fp", "remaining_count_fp", "initial_count_fp",
    "taker_fill_cost_dollars", "maker_fill_cost_dollars", "taker_fees_dollars", "maker_fees_dollars",
    "client_order_id", "order_group_id", "self_trade_prevention_type", "subaccount_number",
)


def user_order(event: OrderChanged) -> dict[str, Any]:
    """`user_order` msg: the REST Order's fields, with WS millisecond times instead of RFC 3339."""
    order = event.order
    rest = kj.order_json(order)
    msg: dict[str, Any] = {key: rest[key] for key in _USER_ORDER_REST_FIELDS if key in rest}
    msg["client_order_id"] = order.client_order_id or ""
    msg["created_ts_ms"] = order.created_time_ms
    msg["last_updated_ts_ms"] = order.last_update_time_ms or event.ts_ms
    if order.expiration_time_s is not None:
        msg["expiration_ts_ms"] = order.expiration_time_s * 1000
    reason = event.reason or order.last_update_reason
    if reason:
        msg["last_update_reason"] = reason
    return msg


def order_group_update(event: OrderGroupChanged) -> dict[str, Any]:
    msg: dict[str, Any] = {
        "event_type": event.event_type,
        "order_group_id": event.order_group_id,
        "ts_ms": event.ts_ms,
    }
    if event.contracts_limit is not None and event.event_type in ("created", "limit_updated"):
        msg["contracts_limit_fp"] = format_count(event.contracts_limit)
    return msg


def market_lifecycle(event: MarketLifecycle) -> dict[str, Any]:
    # the core already shapes `fields` for the wire (kalshi-api.md 9.5); ticker and type lead
    return {"market_ticker": event.ticker, "event_type": event.event_type, **event.fields}


def event_lifecycle(event: EventLifecycle) -> dict[str, Any]:
    return {"event_ticker": event.event_ticker, **event.fields}
