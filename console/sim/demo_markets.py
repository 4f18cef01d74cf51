"""A tiny fixed market universe so a fresh `edgedesk sim` answers GET /markets with something.

Two events in two series: a daily high-temperature ladder (quadratic fees, whole-cent ticks plus one
deci-cent market) and a CPI event (maker fees, one tapered deci-cent market). Until the world generator
lands these markets have empty books; they open at start-up and close 30 simulated days later.
Tickers start with KXDEMO so they never collide with generated ones.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from console.domain.fees import FeeType
from console.domain.grid import PriceGrid
from console.sim.model import Event, Market, MarketStatus, Series

if TYPE_CHECKING:
    from console.sim.exchange import Exchange

_DAY_MS = 86_400_000

#: (series, title, category, fee type, event ticker, event title, markets as (suffix, yes_sub_title, structure))
DEMO_UNIVERSE = (
    ("KXDEMOHIGH", "Highest temperature in Demo City", "Climate and Weather", FeeType.QUADRATIC,
     "KXDEMOHIGH-DAY1", "Highest temperature in Demo City on day 1",
     (("B60", "59 to 60 F", "linear_cent"), ("B62", "61 to 62 F", "linear_cent"),
      ("B64", "63 to 64 F", "linear_cent"), ("T64", "65 F or above", "deci_cent"))),
    ("KXDEMOCPI", "Monthly CPI change", "Economics", FeeType.QUADRATIC_WITH_MAKER_FEES,
     "KXDEMOCPI-M1", "CPI month-over-month change, month 1",
     (("T0.2", "Above 0.2%", "linear_cent"), ("T0.4", "Above 0.4%", "tapered_deci_cent"))),
)


def add_demo_markets(exchange: Exchange, now_ms: int) -> list[str]:
    """Add the demo series, events and markets (skipping any already there); returns the market tickers.

    `now_ms` is the simulated time (the exchange's clock) the markets open at.
    """
    tickers: list[str] = []
    for series_ticker, series_title, category, fee_type, event_ticker, event_title, markets in DEMO_UNIVERSE:
        if series_ticker not in exchange.series:
            exchange.add_series(Series(ticker=series_ticker, title=series_title, category=category,
                                       frequency="daily", fee_type=fee_type, last_updated_ms=now_ms))
        if event_ticker not in exchange.events:
            exchange.add_event(Event(event_ticker=event_ticker, series_ticker=series_ticker, title=event_title,
                                     mutually_exclusive=series_ticker == "KXDEMOHIGH",
                                     strike_date_ms=now_ms + 30 * _DAY_MS, last_updated_ms=now_ms))
        for suffix, yes_sub_title, structure in markets:
            ticker = f"{event_ticker}-{suffix}"
            tickers.append(ticker)
            if ticker in exchange.markets:
                continue
            exchange.add_market(Market(
                ticker=ticker, event_ticker=event_ticker, series_ticker=series_ticker,
                title=f"{event_title}: {yes_sub_title}?", yes_sub_title=yes_sub_title,
                no_sub_title=yes_sub_title, open_time_ms=now_ms - 60_000, close_time_ms=now_ms + 30 * _DAY_MS,
                price_level_structure=structure, grid=PriceGrid.for_structure(structure),
                status=MarketStatus.ACTIVE, created_time_ms=now_ms, updated_time_ms=now_ms,
                expected_expiration_time_ms=now_ms + 30 * _DAY_MS,
                latest_expiration_time_ms=now_ms + 37 * _DAY_MS,
                market_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"edgedesk-demo/{ticker}")),
            ))
    return tickers

