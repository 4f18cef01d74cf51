"""Gamma (discovery) structs of the Polymarket codec: markets, events and keyset pages (polymarket-api.md 3).

Gamma writes `outcomes`, `outcomePrices` and `clobTokenIds` as JSON-encoded strings (decoded by the
`JsonList` type), tick and minimum size as JSON numbers (read exactly, never through a float), dates as
ISO strings. `outcomePrices` are Gamma's marks and stay strings: take prices from the CLOB.
"""

from __future__ import annotations

import datetime as dt
import decimal

from console.venues.polymarket.wire import JsonList, Price, Size, Wire, field


class FeeSchedule(Wire):
    rate: decimal.Decimal
    exponent: decimal.Decimal = decimal.Decimal(1)


class GammaEventRef(Wire):
    id: str
    slug: str | None = None
    title: str | None = None
    ticker: str | None = None


class GammaMarket(Wire):
    """A Gamma market: the fields a matcher and the books need (polymarket-api.md 3.3)."""

    id: str
    question: str
    condition_id: str = field("conditionId")
    slug: str
    outcomes: JsonList
    clob_token_ids: JsonList | None = field("clobTokenIds", None)
    position_ids: JsonList | None = field("positionIds", None)  # Protocol V2 markets
    outcome_prices: JsonList | None = field("outcomePrices", None)  # Gamma's marks, kept as strings
    description: str = ""
    resolution_source: str | None = field("resolutionSource", None)
    end_date: str | None = field("endDate", None)
    start_date: str | None = field("startDate", None)
    active: bool | None = None
    closed: bool | None = None
    accepting_orders: bool | None = field("acceptingOrders", None)
    enable_order_book: bool | None = field("enableOrderBook", None)
    neg_risk: bool = field("negRisk", False)
    neg_risk_market_id: str | None = field("negRiskMarketID", None)
    tick_size: Price | None = field("orderPriceMinTickSize", None)
    min_order_size: Size | None = field("orderMinSize", None)
    best_bid: Price | None = field("bestBid", None)
    best_ask: Price | None = field("bestAsk", None)
    fees_enabled: bool | None = field("feesEnabled", None)
    fee_type: str | None = field("feeType", None)
    maker_base_fee: int | None = field("makerBaseFee", None)
    taker_base_fee: int | None = field("takerBaseFee", None)
    fee_schedule: FeeSchedule | None = field("feeSchedule", None)
    group_item_title: str | None = field("groupItemTitle", None)
    question_id: str | None = field("questionID", None)
    version: str | None = None
    events: list[GammaEventRef] | None = None

    def __post_init__(self) -> None:
        tokens = self.token_ids
        if tokens is not None and len(tokens) != len(self.outcomes):
            raise ValueError(f"{len(self.outcomes)} outcomes but {len(tokens)} token ids")
        if self.end_date is not None:
            _iso_ms(self.end_date)

    @property
    def token_ids(self) -> tuple[str, ...] | None:
        """Outcome token ids, index-aligned with `outcomes` (clobTokenIds, or positionIds on v2 markets)."""
        return self.clob_token_ids if self.clob_token_ids is not None else self.position_ids

    @property
    def end_ms(self) -> int | None:
        return None if self.end_date is None else _iso_ms(self.end_date)

    def token_for(self, outcome: str) -> str:
        """The token id of an outcome by name ("Yes", "Democratic"); never assume index 0 is Yes."""
        tokens = self.token_ids
        if tokens is None:
            raise KeyError(f"market {self.slug} lists no token ids")
        for name, token in zip(self.outcomes, tokens, strict=True):
            if name.lower() == outcome.lower():
                return token
        raise KeyError(f"market {self.slug} has no outcome {outcome!r} (outcomes {list(self.outcomes)})")


def _iso_ms(text: str) -> int:
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"date {text!r} is not ISO 8601") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return int(when.timestamp() * 1000)


class GammaMarketsPage(Wire):
    """`GET /markets/keyset`: `next_cursor` is absent on the last page."""

    markets: list[GammaMarket]
    next_cursor: str | None = None


class GammaEvent(Wire):
    id: str
    slug: str
    title: str
    description: str = ""
    neg_risk: bool = field("negRisk", False)
    closed: bool | None = None
    markets: list[GammaMarket] | None = None


class GammaEventsPage(Wire):
    events: list[GammaEvent]
    next_cursor: str | None = None
