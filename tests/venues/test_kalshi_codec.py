"""Kalshi wire decoding on fixtures written from the documented 2026 shapes (tests/venues/fixtures/).

What a user would notice if these broke: a price off by a pip, a NO bid shown at the wrong YES
price, a sub-cent level rounded, a malformed number silently read as zero, a new Kalshi field
breaking the desk.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from console.domain.side import Side
from console.venues.errors import DecodeError
from console.venues.events import BookDelta, BookSnapshot
from console.venues.kalshi import codec
from console.venues.kalshi import codec_rest as r
from console.venues.kalshi import codec_ws as w

FIXTURES = Path(__file__).parent / "fixtures"
WS = [line for line in (FIXTURES / "kalshi_ws_messages.jsonl").read_text().splitlines() if line.strip()]
REST = json.loads((FIXTURES / "kalshi_rest_responses.json").read_text())


def _rest(key: str, kind: type) -> object:
    return codec.decode_rest(kind, json.dumps(REST[key]), key)


def _ws(index: int) -> object:
    return codec.decode_ws(WS[index])


# --- markets and the price grid -----------------------------------------------------------------


def test_markets_page_parses_prices_counts_and_grids_exactly_and_ignores_unknown_fields() -> None:
    page = codec.decode_rest(r.MarketsPage, (FIXTURES / "kalshi_markets.json").read_bytes(), "GET /markets")
    senate, weather = page.markets
    assert page.cursor == "c2VlIHBhZ2UgMg=="
    assert (senate.yes_bid, senate.yes_ask, senate.last_price) == (4100, 4300, 4200)
    assert (senate.yes_bid_size, senate.yes_ask_size) == (125_000, 80_050)  # "800.50" contracts
    assert senate.volume == 250_041_000 and senate.volume_24h == 1_032_025
    assert senate.no_bid == 5700  # NO scale, as named
    assert senate.grid().prices[:3] == (100, 200, 300) and len(senate.grid().prices) == 99
    # sub-cent market: $0.003 bid, $0.007 ask, tapered grid (0.1 c at the edges, 1 c in the middle)
    assert (weather.yes_bid, weather.yes_ask, weather.last_price) == (30, 70, 50)
    assert weather.open_interest == 40_001
    grid = weather.grid()
    assert grid.index_of(70) == 6 and grid.prices[:3] == (10, 20, 30)
    assert 1050 not in grid.prices and 9950 in grid.prices
    assert str(weather.floor_strike) == "45"


def test_market_missing_a_required_field_is_a_decode_error_naming_it() -> None:
    raw = json.loads((FIXTURES / "kalshi_markets.json").read_text())
    del raw["markets"][1]["price_ranges"]
    with pytest.raises(DecodeError) as err:
        codec.decode_rest(r.MarketsPage, json.dumps(raw), "GET /markets")
    assert "price_ranges" in str(err.value) and "$.markets[1]" in str(err.value)
    assert codec.missing_fields(raw["markets"][1], r.Market) == ["price_ranges"]


@pytest.mark.parametrize("bad, why", [
    ("0.41", None),  # 2 decimals are exact: accepted
    ("0.41005", "more than 4 decimals"),  # finer than a pip
    ("1.0100", "above $1"),
    ("-0.4100", "negative"),
    ("", "not a decimal"),
    ("0,41", "not a decimal"),
    (41, "expected a decimal string"),  # the retired integer-cent field shape
    (0.41, "expected a decimal string"),  # a float is never guessed at
    (None, "expected"),
])
def test_price_strings_are_exact_or_a_decode_error_never_a_default(bad: object, why: str | None) -> None:
    raw = json.loads((FIXTURES / "kalshi_markets.json").read_text())
    raw["markets"][0]["yes_bid_dollars"] = bad
    if why is None:
        assert codec.decode_rest(r.MarketsPage, json.dumps(raw), "GET /markets").markets[0].yes_bid == 4100
        return
    with pytest.raises(DecodeError) as err:
        codec.decode_rest(r.MarketsPage, json.dumps(raw), "GET /markets")
    assert why in str(err.value) and "yes_bid_dollars" in str(err.value)


def test_count_strings_reject_sub_hundredth_and_negative_counts() -> None:
    raw = json.loads((FIXTURES / "kalshi_markets.json").read_text())
    for bad in ("10.001", "-5.00", "1e3"):
        raw["markets"][0]["volume_fp"] = bad
        with pytest.raises(DecodeError, match="volume_fp"):
            codec.decode_rest(r.MarketsPage, json.dumps(raw), "GET /markets")
    raw["markets"][0]["volume_fp"] = "10.0"
    assert codec.decode_rest(r.MarketsPage, json.dumps(raw), "GET /markets").markets[0].volume == 1000


# --- REST order books onto the YES scale --------------------------------------------------------


def test_rest_orderbook_no_bids_become_yes_asks_at_one_minus_price_sub_cent() -> None:
    levels = codec.decode_rest(r.OrderbookResponse, (FIXTURES / "kalshi_orderbook_subcent.json").read_bytes(), "ob")
    book = codec.rest_book("KXHIGHNY-26NOV22-T45", levels.orderbook)
    assert book.bids == ((10, 50_000), (20, 25), (30, 4_200))
    # NO bids at $0.993 (0.50) and $0.98 (100) are YES asks at $0.007 and $0.02, ascending
    assert book.asks == ((70, 50), (200, 10_000))
    assert book.bids[-1][0] < book.asks[0][0]  # not crossed: best YES bid 0.3 c < best YES ask 0.7 c


def test_rest_orderbook_with_an_empty_side() -> None:
    levels = codec.decode_rest(r.OrderbookResponse, (FIXTURES / "kalshi_orderbook_empty_no.json").read_bytes(), "ob")
    book = codec.rest_book("KXSENATE-26-D", levels.orderbook)
    assert book.bids == ((4000, 1000), (4100, 125_000)) and book.asks == ()


# --- portfolio and writes -----------------------------------------------------------------------


def test_balance_positions_orders_fills_settlements_in_desk_units() -> None:
    balance = _rest("GET /portfolio/balance", r.Balance)
    assert balance.balance == 1_234_567_800 and balance.balance_cents == 123456
    positions = _rest("GET /portfolio/positions", r.PositionsPage)
    (pos,) = positions.market_positions
    assert pos.position == -2550 and pos.market_exposure == 14_535_000 and pos.realized_pnl == -1_250_000
    orders = _rest("GET /portfolio/orders", r.OrdersPage)
    (order,) = orders.orders
    assert orders.cursor == "next-page"
    assert order.side is Side.ASK and order.yes_price == 70  # a NO buy at $0.993 is a YES-scale ask at $0.007
    assert (order.fill_count, order.remaining_count, order.initial_count) == (25, 975, 1000)
    assert order.taker_fill_cost == 248_250 and order.taker_fees == 200
    (fill,) = _rest("GET /portfolio/fills", r.FillsPage).fills
    assert (fill.side, fill.count, fill.yes_price, fill.fee_cost, fill.is_taker) == (Side.ASK, 25, 70, 200, True)
    (settlement,) = _rest("GET /portfolio/settlements", r.SettlementsPage).settlements
    assert settlement.no_count == 1200 and settlement.no_total_cost == 6_960_000 and settlement.revenue_cents == 1200


def test_v2_write_answers_and_batch_items_with_per_item_errors() -> None:
    created = _rest("POST /portfolio/events/orders", r.CreateOrderResult)
    assert (created.fill_count, created.remaining_count) == (25, 975)
    assert created.average_fill_price == 7_000 and created.average_fee_paid == 800  # micro-dollars per contract
    assert _rest("DELETE /portfolio/events/orders/{order_id}", r.CancelResult).reduced_by == 975
    assert _rest("POST /portfolio/events/orders/{order_id}/amend", r.AmendResult).remaining_count == 475
    assert _rest("POST /portfolio/events/orders/{order_id}/decrease", r.DecreaseResult).remaining_count == 200
    ok, refused = _rest("POST /portfolio/events/orders/batched", r.BatchCreateResponse).orders
    assert ok.order_id == "o-1" and ok.error is None and ok.remaining_count == 500
    assert refused.order_id is None and refused.error is not None
    assert (refused.error.code, refused.error.details) == ("invalid_order", "post only cross")
    cancelled, missing = _rest("DELETE /portfolio/events/orders/batched", r.BatchCancelResponse).orders
    assert cancelled.reduced_by == 500 and missing.error is not None and missing.error.code == "order_not_found"


def test_groups_limits_costs_candles_trades_events_series() -> None:
    assert _rest("POST /portfolio/order_groups/create", r.OrderGroupCreated).order_group_id == "g-1"
    (group,) = _rest("GET /portfolio/order_groups", r.OrderGroupsList).order_groups
    assert group.contracts_limit == 2500 and group.is_auto_cancel_enabled
    assert _rest("GET /portfolio/order_groups/{id}", r.OrderGroupDetail).orders == ["o-1", "o-2"]
    limits = _rest("GET /account/limits", r.AccountLimits)
    assert (limits.usage_tier, limits.write.refill_rate, limits.write.bucket_capacity) == ("advanced", 300, 600)
    costs = _rest("GET /account/endpoint_costs", r.EndpointCosts)
    assert costs.default_cost == 10 and costs.endpoint_costs[0].cost == 2
    candles = _rest("GET /series/{series_ticker}/markets/{ticker}/candlesticks", r.CandlesResponse).candlesticks
    assert candles[0].price.close == 4200 and candles[0].yes_bid.low == 3900 and candles[0].volume == 125_000
    assert candles[1].price.close is None and candles[1].price.previous == 4200  # no trade: None, not 0
    (trade,) = _rest("GET /markets/trades", r.TradesPage).trades
    assert (trade.taker, trade.yes_price, trade.count) == (Side.ASK, 70, 25)
    (event,) = _rest("GET /events", r.EventsPage).events
    assert str(event.fee_multiplier_override) == "0.5" and event.mutually_exclusive
    (series,) = _rest("GET /series", r.SeriesList).series
    assert series.fee_type == "quadratic" and series.fee_multiplier == 1


def test_error_body_shapes() -> None:
    assert r.error_body({"error": {"code": "invalid_order", "message": "invalid order", "details": "post only cross"}}) \
        == ("invalid_order", "invalid order", "post only cross")
    assert r.error_body({"code": "bad_request", "message": "bad request"}) == ("bad_request", "bad request", "")
    assert r.error_body({"error": "too many requests"}) == ("", "too many requests", "")


# --- WebSocket ----------------------------------------------------------------------------------


def test_ws_snapshot_and_deltas_in_no_prices_become_yes_scale_books() -> None:
    snap = _ws(1)
    assert isinstance(snap, w.OrderbookSnapshot)
    book = codec.book_snapshot(snap, use_yes_price=False)
    assert isinstance(book, BookSnapshot)
    assert book.bids == ((10, 50_000), (30, 4_200)) and book.asks == ((70, 50), (200, 10_000))
    assert (book.sid, book.seq) == (1, 1)
    no_delta = codec.book_delta(_ws(2), use_yes_price=False)
    assert isinstance(no_delta, BookDelta)
    assert (no_delta.side, no_delta.price, no_delta.delta, no_delta.ts_ms) == (Side.ASK, 70, -25, 1795300000100)
    yes_delta = codec.book_delta(_ws(3), use_yes_price=False)
    assert (yes_delta.side, yes_delta.price, yes_delta.delta) == (Side.BID, 40, 300)
    assert yes_delta.client_order_id == "ed-abc" and no_delta.client_order_id is None


def test_ws_no_side_with_use_yes_price_is_taken_at_the_given_price() -> None:
    book = codec.book_snapshot(_ws(5), use_yes_price=True)
    assert book.bids == ((4100, 125_000),) and book.asks == ((4300, 80_050), (4400, 1000))
    delta = codec.book_delta(_ws(6), use_yes_price=True)
    assert (delta.side, delta.price, delta.delta) == (Side.ASK, 4300, -80_050)
    # the same frame read without the flag would put that ask at 0.57: the flag matters
    assert codec.book_delta(_ws(6), use_yes_price=False).price == 5700


def test_ws_snapshot_of_an_empty_book_has_no_side_keys() -> None:
    book = codec.book_snapshot(_ws(7), use_yes_price=True)
    assert book.bids == () and book.asks == () and book.ticker == "KXEMPTY-26"


def test_ws_channel_messages() -> None:
    ticker = _ws(8)
    assert isinstance(ticker, w.Ticker)
    assert (ticker.msg.yes_bid, ticker.msg.yes_ask, ticker.msg.yes_ask_size, ticker.msg.time_ms) == \
        (4100, 4300, 80_050, 1795300000400)
    trade = _ws(9)
    assert isinstance(trade, w.TradeMsg) and trade.seq == 7
    assert (trade.msg.taker, trade.msg.yes_price, trade.msg.count) == (Side.ASK, 70, 25)
    fill = _ws(10)
    assert isinstance(fill, w.FillMsg)
    assert (fill.msg.side, fill.msg.post_position, fill.msg.fee_cost) == (Side.ASK, -25, 200)
    position = _ws(11)
    assert isinstance(position, w.MarketPositionMsg) and position.msg.position == -25
    order = _ws(12)
    assert isinstance(order, w.UserOrderMsg)
    assert (order.msg.side, order.msg.yes_price, order.msg.remaining_count, order.msg.last_update_reason) == \
        (Side.ASK, 70, 975, "Trade")
    group = _ws(13)
    assert isinstance(group, w.OrderGroupUpdate) and group.msg.contracts_limit == 2500
    created = _ws(14)
    assert isinstance(created, w.MarketLifecycle) and created.msg.event_type == "created"
    assert created.msg.price_ranges is not None and created.msg.price_ranges[0].step == 10
    determined = _ws(15)
    assert isinstance(determined, w.MarketLifecycle)
    assert (determined.msg.result, determined.msg.settlement_value) == ("no", 0)
    event = _ws(16)
    assert isinstance(event, w.EventLifecycle) and event.msg.series_ticker == "KXHIGHNY"


def test_ws_replies() -> None:
    assert isinstance(_ws(0), w.Subscribed) and _ws(0).msg.sid == 1  # type: ignore[union-attr]
    ok = _ws(17)
    assert isinstance(ok, w.Ok) and (ok.sid, ok.seq) == (1, 4)
    unsub = _ws(18)
    assert isinstance(unsub, w.Unsubscribed) and (unsub.sid, unsub.seq) == (4, 3)
    error = _ws(19)
    assert isinstance(error, w.Error) and error.msg.code == 11 and error.msg.market_tickers == ["KXNOPE"]
    listing = _ws(20)
    assert isinstance(listing, w.Ok) and listing.sid is None and len(listing.msg) == 2


def test_ws_unknown_type_is_reported_as_such_not_as_a_decode_error() -> None:
    unknown = _ws(21)
    assert isinstance(unknown, w.UnknownMessage)
    assert (unknown.type, unknown.sid, unknown.seq) == ("multivariate_market_lifecycle", 11, 1)


@pytest.mark.parametrize("mutate, where", [
    (lambda m: m["msg"].pop("delta_fp"), "delta_fp"),
    (lambda m: m["msg"].__setitem__("delta_fp", "1.005"), "delta_fp"),
    (lambda m: m["msg"].__setitem__("price_dollars", 99), "price_dollars"),  # integer cents: retired
    (lambda m: m["msg"].__setitem__("side", "bid"), "side"),
    (lambda m: m.pop("seq"), "seq"),
])
def test_ws_malformed_delta_is_a_decode_error(mutate: object, where: str) -> None:
    frame = json.loads(WS[2])
    mutate(frame)  # type: ignore[operator]
    with pytest.raises(DecodeError) as err:
        codec.decode_ws(json.dumps(frame))
    assert where in str(err.value) and "orderbook_delta" in str(err.value)
    assert codec.peek_sid_seq(json.dumps(frame))[0] == 1  # the client can still account the seq


def test_ws_garbage_frame_is_a_decode_error() -> None:
    with pytest.raises(DecodeError):
        codec.decode_ws("{not json")
    with pytest.raises(DecodeError):
        codec.decode_ws('{"sid": 1}')  # no type at all
