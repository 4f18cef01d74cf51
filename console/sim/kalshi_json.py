"""Serialisers from the exchange core's records to Kalshi's 2026 REST wire shapes (reference section 6).

Formats, as Kalshi emits them since the 2026-03-12 fixed-point migration:

- prices: 4-decimal dollar strings (`yes_price_dollars: "0.5600"`), YES and NO views both given;
- money: 6-decimal dollar strings (`fee_cost: "0.017500"`), except `balance_dollars` (4 decimals);
- counts: 2-decimal strings (`count_fp: "10.00"`);
- times: RFC 3339 UTC strings in objects, Unix seconds or milliseconds where the schema says so.

Every field that Kalshi's OpenAPI marks required is emitted (the official SDK's models are strict), plus
the deprecated legacy pairs (`side`/`action`, `taker_side`) the 3.13 spec still requires, derived
from the V2 direction. Fields removed in 2026 (cent integers, `liquidity_dollars`, `tick_size`,
`fractional_trading_enabled`, `resting_orders_count`, `available_on_brokers`) are not emitted.

Top of book on a Market: a side with no resting orders reports its prices as "0.0000" and its size
as "0.00", and so does every price implied from it (`no_ask` is implied by the best YES bid).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from console.domain.units import (
    PRICE_MAX,
    cents_truncated,
    format_count,
    format_money,
    format_price,
)
from console.sim.events import BookSide
from console.sim.model import (
    Account,
    Candle,
    Event,
    Fill,
    Market,
    Order,
    Position,
    Series,
    Settlement,
    Trade,
)

if TYPE_CHECKING:
    from console.sim.exchange import Exchange

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


# --- scalar helpers -----------------------------------------------------------------------------


def rfc3339(ms: int) -> str:
    """Unix milliseconds as an RFC 3339 UTC string; whole seconds print without a fraction."""
    moment = _EPOCH + timedelta(milliseconds=ms)
    if ms % 1000 == 0:
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def _opt_time(ms: int | None) -> str | None:
    return None if ms is None else rfc3339(ms)


def money(micros: int) -> str:
    """Micro-dollars as Kalshi's 6-decimal money string."""
    return format_money(micros, 6)


def money_4dp(micros: int) -> str:
    """Micro-dollars floored to $0.0001 (direct-member balance precision), 4 decimals."""
    return format_money((micros // 100) * 100, 4)


def average_price_dollars(total_micros: int | Fraction, count: int) -> str:
    """Average price per contract of `count` units costing `total_micros`, rounded to $0.000001."""
    per_contract_micros = Fraction(total_micros) * 100 / count
    return format_money(round(per_contract_micros), 6)


def _legacy_side(side: BookSide) -> str:
    # V2 direction to the deprecated (side, action) pair: a bid buys YES, an ask buys NO.
    return side.outcome


def drop_none(body: dict[str, Any]) -> dict[str, Any]:
    """Optional fields are omitted rather than sent as null (Kalshi omits unset optionals)."""
    return {k: v for k, v in body.items() if v is not None}


# --- market data --------------------------------------------------------------------------------


def series_json(series: Series) -> dict[str, Any]:
    return {
        "ticker": series.ticker,
        "frequency": series.frequency,
        "title": series.title,
        "category": series.category,
        "categories": [series.category] if series.category else [],
        "tags": list(series.tags),
        "settlement_sources": [dict(s) for s in series.settlement_sources],
        "contract_url": series.contract_url,
        "contract_terms_url": series.contract_terms_url,
        "fee_type": str(series.fee_type),
        # a JSON number in Kalshi's schema; exact decimal strings like "1" or "0.5" convert losslessly
        "fee_multiplier": float(Fraction(series.fee_multiplier)),
        "additional_prohibitions": [],
        "last_updated_ts": rfc3339(series.last_updated_ms),
        "exchange_index": 0,
    }


def event_json(event: Event, exchange: Exchange | None = None, *, with_markets: bool = False) -> dict[str, Any]:
    series = exchange.series.get(event.series_ticker) if exchange is not None else None
    body: dict[str, Any] = {
        "event_ticker": event.event_ticker,
        "series_ticker": event.series_ticker,
        "title": event.title,
        "sub_title": event.sub_title,
        "collateral_return_type": event.collateral_return_type,
        "mutually_exclusive": event.mutually_exclusive,
        "category": series.category if series is not None else "",
        "strike_date": _opt_time(event.strike_date_ms),
        "product_metadata": {},
        "settlement_sources": [dict(s) for s in series.settlement_sources] if series is not None else [],
        "last_updated_ts": rfc3339(event.last_updated_ms),
        "fee_type_override": str(event.fee_type_override) if event.fee_type_override else None,
        "fee_multiplier_override": (
            float(Fraction(event.fee_multiplier_override)) if event.fee_multiplier_override is not None else None
        ),
        "exchange_index": 0,
    }
    if with_markets and exchange is not None:
        body["markets"] = [market_json(m, exchange) for m in markets_of_event(exchange, event.event_ticker)]
    return drop_none(body)


def markets_of_event(exchange: Exchange, event_ticker: str) -> list[Market]:
    return [m for m in exchange.markets.values() if m.event_ticker == event_ticker]


def top_of_book(exchange: Exchange, ticker: str) -> dict[str, str]:
    """yes/no bid/ask prices and YES sizes from the live book (empty side: zeros)."""
    best_bid = exchange.best_bid(ticker)
    best_ask = exchange.best_ask(ticker)
    zero_price, zero_count = format_price(0), format_count(0)
    out = {
        "yes_bid_dollars": zero_price,
        "yes_bid_size_fp": zero_count,
        "no_ask_dollars": zero_price,
        "yes_ask_dollars": zero_price,
        "yes_ask_size_fp": zero_count,
        "no_bid_dollars": zero_price,
    }
    if best_bid is not None:
        price, count = best_bid
        out["yes_bid_dollars"] = format_price(price)
        out["yes_bid_size_fp"] = format_count(count)
        out["no_ask_dollars"] = format_price(PRICE_MAX - price)
    if best_ask is not None:
        price, count = best_ask
        out["yes_ask_dollars"] = format_price(price)
        out["yes_ask_size_fp"] = format_count(count)
        out["no_bid_dollars"] = format_price(PRICE_MAX - price)
    return out


def market_json(market: Market, exchange: Exchange) -> dict[str, Any]:
    top = top_of_book(exchange, market.ticker)
    latest_expiration = market.latest_expiration_time_ms or market.close_time_ms
    body: dict[str, Any] = {
        "ticker": market.ticker,
        "event_ticker": market.event_ticker,
        "market_type": "binary",
        "title": market.title,
        "subtitle": market.subtitle,
        "yes_sub_title": market.yes_sub_title,
        "no_sub_title": market.no_sub_title,
        "created_time": rfc3339(market.created_time_ms),
        "updated_time": rfc3339(market.updated_time_ms or market.created_time_ms),
        "open_time": rfc3339(market.open_time_ms),
        "close_time": rfc3339(market.close_time_ms),
        "expected_expiration_time": _opt_time(market.expected_expiration_time_ms),
        "expiration_time": rfc3339(latest_expiration),
        "latest_expiration_time": rfc3339(latest_expiration),
        "settlement_timer_seconds": market.settlement_timer_seconds,
        "status": str(market.status),
        **top,
        "last_price_dollars": format_price(market.last_price),
        "previous_yes_bid_dollars": format_price(market.previous_yes_bid),
        "previous_yes_ask_dollars": format_price(market.previous_yes_ask),
        "previous_price_dollars": format_price(market.previous_price),
        "volume_fp": format_count(market.volume),
        "volume_24h_fp": format_count(market.volume_24h),
        "open_interest_fp": format_count(market.open_interest),
        "notional_value_dollars": format_price(PRICE_MAX),
        "result": market.result,
        "can_close_early": market.can_close_early,
        "settlement_value_dollars": (
            format_price(market.settlement_value) if market.settlement_value is not None else None
        ),
        "settlement_ts": _opt_time(market.settlement_time_ms),
        "settlement_bounds_type": "default",
        "expiration_value": "",
        "strike_type": market.strike_type,
        "floor_strike": market.floor_strike,
        "cap_strike": market.cap_strike,
        "rules_primary": market.rules_primary,
        "rules_secondary": market.rules_secondary,
        "price_level_structure": market.price_level_structure,
        "price_ranges": market.grid.to_wire(),
        "exchange_index": market.exchange_index,
    }
    return drop_none(body)


def book_side_levels(exchange: Exchange, ticker: str, depth: int = 0) -> dict[str, list[list[str]]]:
    """Kalshi's `orderbook_fp`: bids only per side, each in its own price terms, ascending (best last).

    YES bids are the core's BID levels. NO bids are the core's YES asks re-priced as 1 - p, which
    reverses their order. `depth` > 0 keeps the best `depth` levels of each side.
    """
    yes_levels = [(price, count) for price, count in exchange.book_levels(ticker, BookSide.BID) if count > 0]
    no_levels = [
        (PRICE_MAX - price, count) for price, count in reversed(exchange.book_levels(ticker, BookSide.ASK)) if count > 0
    ]
    if depth > 0:
        yes_levels, no_levels = yes_levels[-depth:], no_levels[-depth:]
    return {
        "yes_dollars": [[format_price(p), format_count(c)] for p, c in yes_levels],
        "no_dollars": [[format_price(p), format_count(c)] for p, c in no_levels],
    }


def trade_json(trade: Trade) -> dict[str, Any]:
    return {
        "trade_id": trade.trade_id,
        "ticker": trade.ticker,
        "count_fp": format_count(trade.count),
        "yes_price_dollars": format_price(trade.yes_price),
        "no_price_dollars": format_price(PRICE_MAX - trade.yes_price),
        "taker_outcome_side": trade.taker_side.outcome,
        "taker_book_side": str(trade.taker_side),
        "taker_side": _legacy_side(trade.taker_side),
        "created_time": rfc3339(trade.created_time_ms),
        "is_block_trade": trade.is_block_trade,
    }


def _bid_ask_distribution(ohlc: tuple[int, int, int, int] | None) -> dict[str, str]:
    # required and not nullable in the schema: a period with no quote on that side reads as zeros
    open_, low, high, close = ohlc if ohlc is not None else (0, 0, 0, 0)
    return {
        "open_dollars": format_price(open_),
        "low_dollars": format_price(low),
        "high_dollars": format_price(high),
        "close_dollars": format_price(close),
    }


_PRICE_KEYS = ("open", "low", "high", "close", "mean", "previous", "min", "max")


def _price_distribution(price: dict[str, Any]) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for key in _PRICE_KEYS:
        value = price.get(key)
        if value is None:
            value = price.get(f"{key}_dollars")
        out[f"{key}_dollars"] = _price_value(value)
    return out


def _price_value(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):  # already a dollar string
        return value
    if isinstance(value, Fraction):  # a mean over trades may not be a whole pip
        return average_price_dollars(value, 100)
    return format_price(value)


def candle_json(candle: Candle) -> dict[str, Any]:
    return {
        "end_period_ts": candle.end_period_ts,
        "yes_bid": _bid_ask_distribution(candle.yes_bid),
        "yes_ask": _bid_ask_distribution(candle.yes_ask),
        "price": _price_distribution(candle.price),
        "volume_fp": format_count(candle.volume),
        "open_interest_fp": format_count(candle.open_interest),
    }


# --- portfolio ----------------------------------------------------------------------------------


def order_json(order: Order) -> dict[str, Any]:
    body: dict[str, Any] = {
        "order_id": order.order_id,
        "user_id": order.account_id,
        "client_order_id": order.client_order_id,
        "ticker": order.ticker,
        "outcome_side": order.side.outcome,
        "book_side": str(order.side),
        "side": _legacy_side(order.side),
        "action": "buy",
        "type": "limit",
        "status": str(order.status),
        "yes_price_dollars": format_price(order.price),
        "no_price_dollars": format_price(PRICE_MAX - order.price),
        "fill_count_fp": format_count(order.fill_count),
        "remaining_count_fp": format_count(order.remaining_count),
        "initial_count_fp": format_count(order.initial_count),
        "taker_fill_cost_dollars": money(order.taker_fill_cost),
        "maker_fill_cost_dollars": money(order.maker_fill_cost),
        "taker_fees_dollars": money(order.taker_fees),
        "maker_fees_dollars": money(order.maker_fees),
        "expiration_time": rfc3339(order.expiration_time_s * 1000) if order.expiration_time_s else None,
        "created_time": rfc3339(order.created_time_ms),
        "last_update_time": rfc3339(order.last_update_time_ms or order.created_time_ms),
        # not in the SDK's Order model, but Kalshi's REST reads report it (changelog 2026-06-04)
        "last_update_reason": order.last_update_reason,
        "self_trade_prevention_type": str(order.self_trade_prevention),
        "order_group_id": order.order_group_id,
        "cancel_order_on_pause": order.cancel_order_on_pause,
        "post_only": order.post_only,
        "reduce_only": order.reduce_only,
        "time_in_force": str(order.time_in_force),
        "subaccount_number": order.subaccount,
        "exchange_index": order.exchange_index,
    }
    return drop_none(body)


def order_average_fill_price(order: Order) -> str | None:
    """Average YES-scale fill price in dollars (6 decimals), or None before the first fill.

    The core records fill cost at the order's own side's price (a NO buyer pays the NO price), so
    an ask's average is turned back into YES terms.
    """
    if order.fill_count <= 0:
        return None
    own_cost = order.taker_fill_cost + order.maker_fill_cost
    own_avg_pips = Fraction(own_cost, order.fill_count)
    yes_avg_pips = own_avg_pips if order.side is BookSide.BID else PRICE_MAX - own_avg_pips
    return average_price_dollars(yes_avg_pips * 100, 100)


def order_average_fee(order: Order) -> str | None:
    """Average fee per contract in dollars (6 decimals), or None before the first fill."""
    if order.fill_count <= 0:
        return None
    return average_price_dollars(order.taker_fees + order.maker_fees, order.fill_count)


def fill_json(fill: Fill) -> dict[str, Any]:
    return {
        "fill_id": fill.fill_id,
        "trade_id": fill.fill_id,
        "order_id": fill.order_id,
        "ticker": fill.ticker,
        "market_ticker": fill.ticker,
        "exchange_index": fill.exchange_index,
        "outcome_side": fill.side.outcome,
        "book_side": str(fill.side),
        "side": _legacy_side(fill.side),
        "action": "buy",
        "count_fp": format_count(fill.count),
        "yes_price_dollars": format_price(fill.yes_price),
        "no_price_dollars": format_price(PRICE_MAX - fill.yes_price),
        "is_taker": fill.is_taker,
        "created_time": rfc3339(fill.created_time_ms),
        "fee_cost": money(fill.fee),
        "subaccount_number": fill.subaccount,
        "ts": fill.created_time_ms // 1000,
    }


def settlement_json(settlement: Settlement) -> dict[str, Any]:
    body: dict[str, Any] = {
        "ticker": settlement.ticker,
        "exchange_index": settlement.exchange_index,
        "event_ticker": settlement.event_ticker,
        "market_result": settlement.market_result,
        "yes_count_fp": format_count(settlement.yes_count),
        "yes_total_cost_dollars": money(settlement.yes_total_cost),
        "no_count_fp": format_count(settlement.no_count),
        "no_total_cost_dollars": money(settlement.no_total_cost),
        "revenue": cents_truncated(settlement.revenue),
        "revenue_dollars": money(settlement.revenue),
        "settled_time": rfc3339(settlement.settled_time_ms),
        "fee_cost": money(settlement.fee_cost),
        # cents per YES contract (pips / 100)
        "value": settlement.value // 100 if settlement.value is not None else None,
    }
    return drop_none(body)


def market_position_json(position: Position, exchange_index: int = 0) -> dict[str, Any]:
    return {
        "ticker": position.ticker,
        "exchange_index": exchange_index,
        "total_traded_dollars": money(position.total_traded),
        "position_fp": format_count(position.position),
        "market_exposure_dollars": money(position.position_cost),
        "realized_pnl_dollars": money(position.realized_pnl),
        "fees_paid_dollars": money(position.fees_paid),
        "last_updated_ts": rfc3339(position.last_updated_ms),
    }


def event_position_json(event_ticker: str, positions: Iterable[Position]) -> dict[str, Any]:
    positions = list(positions)
    return {
        "event_ticker": event_ticker,
        "total_cost_dollars": money(sum(p.total_traded for p in positions)),
        "total_cost_shares_fp": format_count(sum(p.volume for p in positions)),
        "event_exposure_dollars": money(sum(p.position_cost for p in positions)),
        "realized_pnl_dollars": money(sum(p.realized_pnl for p in positions)),
        "fees_paid_dollars": money(sum(p.fees_paid for p in positions)),
        "exchange_index": 0,
    }


def position_mark_micros(position: Position, exchange: Exchange) -> int:
    """What the open position would fetch now: the best bid on the held side, else the last trade."""
    if position.position == 0:
        return 0
    ticker, held = position.ticker, abs(position.position)
    if position.position > 0:
        best = exchange.best_bid(ticker)
        price = best[0] if best is not None else exchange.markets[ticker].last_price
    else:
        best = exchange.best_ask(ticker)  # a YES ask at p is a NO bid at 1 - p
        last = exchange.markets[ticker].last_price
        price = PRICE_MAX - best[0] if best is not None else (PRICE_MAX - last if last else 0)
    return price * held


def balance_json(account: Account, exchange: Exchange, now_ms: int) -> dict[str, Any]:
    """`GET /portfolio/balance`: available cash (cents truncated and 4-decimal dollars) and positions' value."""
    positions_value = sum(
        position_mark_micros(p, exchange)
        for p in account.positions.values()
        if not p.settled and p.ticker in exchange.markets
    )
    return {
        "balance": cents_truncated(account.available),
        "balance_dollars": money_4dp(account.available),
        "portfolio_value": cents_truncated(positions_value),
        "updated_ts": now_ms // 1000,
    }
