"""Every field Kalshi's OpenAPI marks required is in the simulator's responses, with the right wire kind.

Reads `shared/reference/spec/openapi.yaml` beside the checkout (see openapi_schemas.py); a missing
spec fails the test. The 3.13.0 required lists are adjusted to the 2026 wire: fields removed since are
dropped, fields the 3.34.0 SDK models require are added. A response with a missing or mistyped
field would make the official SDK (strict pydantic models) refuse it.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from openapi_schemas import conformance_errors, load_schemas
from rest_helpers import ORDERS, account, admin, place


@pytest.fixture(scope="module")
def schemas():
    return load_schemas()


@pytest.fixture(scope="module")
def responses(sim) -> dict[str, Any]:
    """One of every response, from a small scenario: a trade on each side, a group, a settlement."""
    series = f"KXCF{uuid.uuid4().hex[:8].upper()}"
    event = f"{series}-EV"
    live = sim.new_market(ticker=f"{event}-LIVE", fee_type="quadratic_with_maker_fees")
    settled = sim.new_market(ticker=f"{event}-DONE", fee_type="quadratic_with_maker_fees",
                             settlement_timer_seconds=3600)
    trader, counterparty = account(sim), account(sim)
    for ticker in (live, settled):
        place(counterparty, ticker, "ask", "0.45", "3")
        place(trader, ticker, "bid", "0.45", "2")
        place(counterparty, ticker, "bid", "0.30", "2")
        place(trader, ticker, "ask", "0.30", "1")
    resting = place(trader, live, "bid", "0.20", "1")["order_id"]
    group = trader.post("/portfolio/order_groups/create", json={"contracts_limit": 10}).json()["order_group_id"]
    admin(sim, "POST", f"/markets/{settled}/determine", json={"result": "yes"})
    admin(sim, "POST", f"/markets/{settled}/settle")
    now_ts = admin(sim, "GET", "/clock")["now_ts"]

    def get(client, path, **params):
        r = client.get(path, params=params)
        assert r.status_code == 200, f"{path}: {r.status_code} {r.text}"
        return r.json()

    candle_params = {"start_ts": now_ts - 300, "end_ts": now_ts + 60, "period_interval": 1}
    return {
        "markets": get(trader, "/markets", series_ticker=series),
        "market": get(trader, f"/markets/{live}"),
        "event": get(trader, f"/events/{event}", with_nested_markets="true"),
        "events": get(trader, "/events", series_ticker=series),
        "series": get(trader, f"/series/{series}"),
        "series_list": get(trader, "/series"),
        "orderbook": get(trader, f"/markets/{live}/orderbook"),
        "orderbooks": get(trader, "/markets/orderbooks", tickers=live),
        "trades": get(trader, "/markets/trades", ticker=live),
        "candles": get(trader, f"/series/{series}/markets/{live}/candlesticks", **candle_params),
        "batch_candles": get(trader, "/markets/candlesticks", market_tickers=live, **candle_params),
        "status": get(trader, "/exchange/status"),
        "schedule": get(trader, "/exchange/schedule"),
        "user_data_timestamp": get(trader, "/exchange/user_data_timestamp"),
        "balance": get(trader, "/portfolio/balance"),
        "positions": get(trader, "/portfolio/positions", settlement_status="all"),
        "orders": get(trader, "/portfolio/orders"),
        "order": get(trader, f"/portfolio/orders/{resting}"),
        "fills": get(trader, "/portfolio/fills"),
        "settlements": get(trader, "/portfolio/settlements"),
        "queue_position": get(trader, f"/portfolio/orders/{resting}/queue_position"),
        "queue_positions": get(trader, "/portfolio/orders/queue_positions", market_tickers=live),
        "order_groups": get(trader, "/portfolio/order_groups"),
        "order_group": get(trader, f"/portfolio/order_groups/{group}"),
        "limits": get(trader, "/account/limits"),
        "create_group": {"order_group_id": group},
        "cancel": trader.delete(f"{ORDERS}/{resting}").json(),
    }


def _check(schemas, checks: list[tuple[str, Any, str]]) -> None:
    errors: list[str] = []
    for name, obj, where in checks:
        errors.extend(conformance_errors(schemas, name, obj, where))
    assert not errors, "responses break Kalshi's schema:\n" + "\n".join(errors)


def test_market_data_objects(schemas, responses):
    r = responses
    markets = r["markets"]["markets"] + [r["market"]["market"]] + r["event"]["event"]["markets"]
    assert len(markets) == 5  # 2 listed + 1 single + 2 nested
    checks = [("Market", m, f"market {m.get('ticker')}") for m in markets]
    checks += [("PriceRange", pr, "price_ranges[]") for m in markets for pr in m["price_ranges"]]
    checks += [
        ("GetMarketsResponse", r["markets"], "GET /markets"),
        ("GetMarketResponse", r["market"], "GET /markets/{t}"),
        ("GetEventResponse", r["event"], "GET /events/{e}"),
        ("EventData", r["event"]["event"], "event"),
        ("GetEventsResponse", r["events"], "GET /events"),
        ("GetSeriesResponse", r["series"], "GET /series/{s}"),
        ("Series", r["series"]["series"], "series"),
        ("GetSeriesListResponse", r["series_list"], "GET /series"),
        ("GetMarketOrderbookResponse", r["orderbook"], "orderbook"),
        ("OrderbookCountFp", r["orderbook"]["orderbook_fp"], "orderbook_fp"),
        ("GetMarketOrderbooksResponse", r["orderbooks"], "orderbooks"),
        ("MarketOrderbookFp", r["orderbooks"]["orderbooks"][0], "orderbooks[0]"),
        ("GetTradesResponse", r["trades"], "GET /markets/trades"),
        ("ExchangeStatus", r["status"], "exchange status"),
        ("GetExchangeScheduleResponse", r["schedule"], "schedule"),
        ("Schedule", r["schedule"]["schedule"], "schedule"),
        ("GetUserDataTimestampResponse", r["user_data_timestamp"], "user data timestamp"),
        ("GetMarketCandlesticksResponse", r["candles"], "candlesticks"),
        ("BatchGetMarketCandlesticksResponse", r["batch_candles"], "batch candlesticks"),
        ("MarketCandlesticksResponse", r["batch_candles"]["markets"][0], "batch candlesticks[0]"),
    ]
    checks += [("WeeklySchedule", w, "standard_hours[]") for w in r["schedule"]["schedule"]["standard_hours"]]
    weeks = r["schedule"]["schedule"]["standard_hours"]
    checks += [("DailySchedule", d, "monday[]") for w in weeks for d in w["monday"]]
    checks += [("Series", s, f"series {s['ticker']}") for s in r["series_list"]["series"]]
    checks += [("EventData", e, f"event {e['event_ticker']}") for e in r["events"]["events"]]
    trades = r["trades"]["trades"]
    assert len(trades) == 2
    checks += [("Trade", t, f"trade {t['trade_id']}") for t in trades]
    candles = r["candles"]["candlesticks"]
    assert candles
    for c in candles:
        checks += [("MarketCandlestick", c, f"candle {c['end_period_ts']}"),
                   ("BidAskDistribution", c["yes_bid"], "candle.yes_bid"),
                   ("BidAskDistribution", c["yes_ask"], "candle.yes_ask")]
    _check(schemas, checks)


def test_portfolio_objects(schemas, responses):
    r = responses
    orders, fills = r["orders"]["orders"], r["fills"]["fills"]
    positions, settlements = r["positions"], r["settlements"]["settlements"]
    assert len(orders) == 5 and len(fills) == 4 and len(settlements) == 1
    assert positions["market_positions"] and positions["event_positions"]
    checks: list[tuple[str, Any, str]] = [
        ("GetBalanceResponse", r["balance"], "balance"),
        ("GetOrdersResponse", r["orders"], "GET /portfolio/orders"),
        ("GetOrderResponse", r["order"], "GET /portfolio/orders/{id}"),
        ("GetFillsResponse", r["fills"], "fills"),
        ("GetSettlementsResponse", r["settlements"], "settlements"),
        ("GetPositionsResponse", positions, "positions"),
        ("GetOrderQueuePositionResponse", r["queue_position"], "queue_position"),
        ("GetOrderQueuePositionsResponse", r["queue_positions"], "queue_positions"),
        ("GetOrderGroupsResponse", r["order_groups"], "order groups"),
        ("GetOrderGroupResponse", r["order_group"], "order group"),
        ("CreateOrderGroupResponse", r["create_group"], "create order group"),
        ("GetAccountApiLimitsResponse", r["limits"], "account limits"),
    ]
    checks += [("Order", o, f"order {o['order_id']}") for o in orders + [r["order"]["order"]]]
    checks += [("Fill", f, f"fill {f['fill_id']}") for f in fills]
    checks += [("Settlement", s, f"settlement {s['ticker']}") for s in settlements]
    checks += [("MarketPosition", p, f"position {p['ticker']}") for p in positions["market_positions"]]
    checks += [("EventPosition", p, f"event position {p['event_ticker']}") for p in positions["event_positions"]]
    checks += [("OrderQueuePosition", q, "queue_positions[]") for q in r["queue_positions"]["queue_positions"]]
    checks += [("OrderGroup", g, "order_groups[]") for g in r["order_groups"]["order_groups"]]
    _check(schemas, checks)


def test_v2_write_responses_have_their_fields(responses):
    cancel = responses["cancel"]
    assert set(cancel) >= {"order_id", "reduced_by", "ts_ms"}
    assert cancel["reduced_by"] == "1.00"


def test_the_check_itself_catches_a_missing_or_mistyped_field(schemas, responses):
    market = dict(responses["market"]["market"])
    del market["yes_bid_dollars"]
    market["volume_fp"] = 12
    errors = conformance_errors(schemas, "Market", market, "doctored market")
    assert any("yes_bid_dollars is missing" in e for e in errors)
    assert any("volume_fp" in e for e in errors)
