"""Public market data over REST: exchange, series, events, markets, books, trades, candlesticks.

Cursor walks check that every page boundary gives each item exactly once.
"""

from __future__ import annotations

import uuid

from rest_helpers import account, reader, admin, place, walk


def _series(sim, n_markets: int, **fields) -> tuple[str, list[str]]:
    """A fresh series with one event of `n_markets` markets; returns (series ticker, market tickers)."""
    series = f"KXPG{uuid.uuid4().hex[:8].upper()}"
    tickers = [sim.new_market(ticker=f"{series}-E1-M{i}", fee_type="quadratic", **fields) for i in range(n_markets)]
    return series, tickers


def test_exchange_status_schedule_and_user_data_timestamp(sim):
    public = sim.public_client()  # unsigned: market data is public
    status = public.get("/exchange/status").json()
    assert status["exchange_active"] is True and status["trading_active"] is True
    assert [s["exchange_index"] for s in status["exchange_index_statuses"]] == [0, 1, 2, 3]
    schedule = public.get("/exchange/schedule").json()["schedule"]
    assert schedule["standard_hours"][0]["monday"] == [{"open_time": "00:00", "close_time": "23:59"}]
    assert schedule["maintenance_windows"] == []
    stamp = public.get("/exchange/user_data_timestamp").json()["as_of_time"]
    assert stamp.endswith("Z") and stamp[:2] == "20"


def test_series_and_events_with_nested_markets(sim):
    series, tickers = _series(sim, 2, category="Weather")
    public = reader(sim)
    one = public.get(f"/series/{series}").json()["series"]
    assert (one["ticker"], one["category"], one["fee_type"], one["fee_multiplier"]) == (
        series, "Weather", "quadratic", 1.0)
    listed = public.get("/series", params={"category": "Weather"}).json()["series"]
    assert series in [s["ticker"] for s in listed]
    assert all(s["category"] == "Weather" for s in listed)
    assert public.get("/series/KXNOSUCHSERIES").status_code == 404

    event_ticker = f"{series}-E1"
    event = public.get(f"/events/{event_ticker}").json()
    assert [m["ticker"] for m in event["markets"]] == tickers
    assert "markets" not in event["event"]
    nested = public.get(f"/events/{event_ticker}", params={"with_nested_markets": "true"}).json()
    assert [m["ticker"] for m in nested["event"]["markets"]] == tickers
    events = public.get("/events", params={"series_ticker": series, "with_nested_markets": "true"}).json()
    assert [e["event_ticker"] for e in events["events"]] == [event_ticker]
    assert len(events["events"][0]["markets"]) == 2 and events["cursor"] == ""
    assert public.get("/events", params={"series_ticker": series, "status": "settled"}).json()["events"] == []
    assert public.get("/events/KXNOSUCH-EVENT").status_code == 404


def test_events_cursor_walk(sim):
    series = f"KXEV{uuid.uuid4().hex[:8].upper()}"
    for i in range(5):
        sim.new_market(ticker=f"{series}-E{i}-M", fee_type="quadratic")
    public = reader(sim)
    got = walk(public, "/events", "events", series_ticker=series, limit=2)
    assert [e["event_ticker"] for e in got] == [f"{series}-E{i}" for i in range(5)]


def test_markets_cursor_walk_has_no_duplicates_or_gaps(sim):
    series, tickers = _series(sim, 7)
    public = reader(sim)
    for limit in (1, 2, 3, 7, 100):
        got = [m["ticker"] for m in walk(public, "/markets", "markets", series_ticker=series, limit=limit)]
        assert got == tickers, f"limit={limit}"
    first = public.get("/markets", params={"series_ticker": series, "limit": 3}).json()
    assert len(first["markets"]) == 3 and first["cursor"]
    # a market created while paging still shows up, after the ones already seen
    late = sim.new_market(ticker=f"{series}-E1-LATE", fee_type="quadratic")
    rest = walk(public, "/markets", "markets", series_ticker=series, limit=3, cursor=first["cursor"])
    assert [m["ticker"] for m in rest] == tickers[3:] + [late]

    for bad in ({"limit": 0}, {"limit": 1001}, {"limit": "ten"}, {"cursor": "not-a-cursor!"}):
        r = public.get("/markets", params=bad)
        assert r.status_code == 400, bad
        assert r.json()["error"]["code"] == "bad_request"


def test_markets_filters_by_status_event_and_tickers(sim):
    series, tickers = _series(sim, 4)
    now_ts = admin(sim, "GET", "/clock")["now_ts"]
    unopened = sim.new_market(ticker=f"{series}-E2-LATER", open_ts=now_ts + 3600, close_ts=now_ts + 7200,
                              fee_type="quadratic")
    admin(sim, "POST", f"/markets/{tickers[1]}/close_time", json={"close_ts": now_ts})
    admin(sim, "POST", f"/markets/{tickers[2]}/deactivate")
    admin(sim, "POST", f"/markets/{tickers[3]}/determine", json={"result": "no"})
    admin(sim, "POST", f"/markets/{tickers[3]}/settle", expect=(200, 400))  # may already have settled (timer 0)
    public = reader(sim)

    def listed(**params) -> list[str]:
        return [m["ticker"] for m in walk(public, "/markets", "markets", series_ticker=series, **params)]

    assert listed(status="unopened") == [unopened]
    assert listed(status="open") == [tickers[0], tickers[2]]  # paused markets count as open
    assert listed(status="paused") == [tickers[2]]
    assert listed(status="closed") == [tickers[1]]
    assert listed(status="settled") == [tickers[3]]
    statuses = {m["ticker"]: m["status"] for m in walk(public, "/markets", "markets", series_ticker=series)}
    assert statuses == {tickers[0]: "active", tickers[1]: "closed", tickers[2]: "inactive",
                        tickers[3]: "finalized", unopened: "initialized"}
    assert listed(event_ticker=f"{series}-E2") == [unopened]
    assert listed(tickers=f"{tickers[0]},{unopened}") == [tickers[0], unopened]
    assert public.get("/markets", params={"status": "bogus"}).status_code == 400


def test_markets_timestamp_filters_and_their_allowed_combinations(sim):
    series, tickers = _series(sim, 2)
    now_ts = admin(sim, "GET", "/clock")["now_ts"]
    admin(sim, "POST", f"/markets/{tickers[0]}/close_time", json={"close_ts": now_ts + 100})
    public = reader(sim)
    got = walk(public, "/markets", "markets", series_ticker=series, max_close_ts=now_ts + 1000)
    assert [m["ticker"] for m in got] == [tickers[0]]
    got = walk(public, "/markets", "markets", series_ticker=series, min_created_ts=now_ts - 60, status="open")
    assert [m["ticker"] for m in got] == tickers

    refused = [
        {"min_close_ts": now_ts, "status": "open"},
        {"min_created_ts": now_ts, "status": "settled"},
        {"min_settled_ts": now_ts, "status": "closed"},
        {"min_created_ts": now_ts, "max_close_ts": now_ts},
        {"min_updated_ts": now_ts},
        {"min_updated_ts": now_ts, "mve_filter": "exclude", "event_ticker": f"{series}-E1"},
    ]
    for params in refused:
        r = public.get("/markets", params=params)
        assert r.status_code == 400, params
        assert r.json()["error"]["code"] == "bad_request"
    r = public.get("/markets", params={"min_updated_ts": now_ts - 60, "mve_filter": "exclude",
                                       "series_ticker": series})
    assert r.status_code == 200 and {m["ticker"] for m in r.json()["markets"]} == set(tickers)


def test_orderbook_shape_depth_and_many_books(sim):
    ticker = sim.new_market(fee_type="quadratic")
    other = sim.new_market(fee_type="quadratic")
    trader = account(sim)
    for price in ("0.30", "0.35", "0.41"):
        place(trader, ticker, "bid", price, "2")
    for price in ("0.60", "0.70"):
        place(trader, ticker, "ask", price, "3")  # NO bids at 0.40 and 0.30
    public = reader(sim)
    full = public.get(f"/markets/{ticker}/orderbook").json()
    assert full == {"orderbook_fp": {
        "yes_dollars": [["0.3000", "2.00"], ["0.3500", "2.00"], ["0.4100", "2.00"]],
        "no_dollars": [["0.3000", "3.00"], ["0.4000", "3.00"]],
    }}
    top = public.get(f"/markets/{ticker}/orderbook", params={"depth": 1}).json()["orderbook_fp"]
    assert top == {"yes_dollars": [["0.4100", "2.00"]], "no_dollars": [["0.4000", "3.00"]]}
    assert public.get(f"/markets/{ticker}/orderbook", params={"depth": 0}).json() == full
    assert public.get(f"/markets/{ticker}/orderbook", params={"depth": 101}).status_code == 400

    r = public.get("/markets/orderbooks", params=[("tickers", ticker), ("tickers", other)])
    books = r.json()["orderbooks"]
    assert [b["ticker"] for b in books] == [ticker, other]
    assert books[0]["orderbook_fp"] == full["orderbook_fp"]
    assert books[1]["orderbook_fp"] == {"yes_dollars": [], "no_dollars": []}

    missing = public.get("/markets/KXNOPE-NOTHERE/orderbook")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "market_not_found"
    assert public.get("/markets/KXNOPE-NOTHERE").status_code == 404

    shown = public.get(f"/markets/{ticker}").json()["market"]
    assert (shown["yes_bid_dollars"], shown["yes_bid_size_fp"]) == ("0.4100", "2.00")
    assert (shown["yes_ask_dollars"], shown["yes_ask_size_fp"]) == ("0.6000", "3.00")
    assert (shown["no_bid_dollars"], shown["no_ask_dollars"]) == ("0.4000", "0.5900")


def test_trades_cursor_walk_and_filters(sim):
    ticker = sim.new_market(fee_type="quadratic")
    maker, taker = account(sim), account(sim)
    prices = ["0.41", "0.42", "0.43", "0.44", "0.45"]
    for price in prices:
        place(maker, ticker, "ask", price, "1")
        place(taker, ticker, "bid", price, "1")
    public = reader(sim)
    got = walk(public, "/markets/trades", "trades", ticker=ticker, limit=2)
    assert [t["yes_price_dollars"] for t in got] == ["0.4500", "0.4400", "0.4300", "0.4200", "0.4100"]  # newest first
    assert len({t["trade_id"] for t in got}) == 5
    assert all(t["taker_book_side"] == "bid" and t["taker_outcome_side"] == "yes" for t in got)
    assert all(t["no_price_dollars"] == f"0.{100 - int(t['yes_price_dollars'][2:4])}00" for t in got)
    now_ts = admin(sim, "GET", "/clock")["now_ts"]
    assert walk(public, "/markets/trades", "trades", ticker=ticker, min_ts=now_ts + 60) == []
    assert len(walk(public, "/markets/trades", "trades", ticker=ticker, max_ts=now_ts + 60)) == 5
    assert public.get("/markets/trades", params={"limit": 0}).status_code == 400


def test_candlesticks_single_and_batch(sim):
    series = f"KXCS{uuid.uuid4().hex[:8].upper()}"
    ticker = sim.new_market(ticker=f"{series}-E-M", fee_type="quadratic")
    maker, taker = account(sim), account(sim)
    place(maker, ticker, "ask", "0.40", "2")
    place(taker, ticker, "bid", "0.40", "2")
    place(maker, ticker, "ask", "0.46", "1")
    place(taker, ticker, "bid", "0.46", "1")
    now_ts = admin(sim, "GET", "/clock")["now_ts"]
    public = reader(sim)
    params = {"start_ts": now_ts - 120, "end_ts": now_ts + 60, "period_interval": 1}
    body = public.get(f"/series/{series}/markets/{ticker}/candlesticks", params=params).json()
    assert body["ticker"] == ticker
    traded = [c for c in body["candlesticks"] if c["volume_fp"] != "0.00"]
    assert sum(float(c["volume_fp"]) for c in traded) == 3.0
    last = traded[-1]["price"]
    assert last["close_dollars"] == "0.4600"
    assert all(c["end_period_ts"] % 60 == 0 for c in body["candlesticks"])
    if len(traded) == 1:  # both trades inside one minute
        assert (last["open_dollars"], last["low_dollars"], last["high_dollars"]) == ("0.4000", "0.4000", "0.4600")

    later = {"start_ts": now_ts + 1, "end_ts": now_ts + 60, "period_interval": 1, "include_latest_before_start": "true"}
    first = public.get(f"/series/{series}/markets/{ticker}/candlesticks", params=later).json()["candlesticks"][0]
    assert first["end_period_ts"] == now_ts and first["price"]["previous_dollars"] == "0.4600"
    assert first["price"]["open_dollars"] is None and first["volume_fp"] == "0.00"

    batch = public.get("/markets/candlesticks", params={**params, "market_tickers": ticker}).json()
    assert batch["markets"][0]["market_ticker"] == ticker
    assert batch["markets"][0]["candlesticks"] == body["candlesticks"]

    assert public.get(f"/series/{series}/markets/{ticker}/candlesticks",
                      params={**params, "period_interval": 5}).status_code == 400
    r = public.get(f"/series/{series}/markets/{ticker}/candlesticks", params={"period_interval": 1})
    assert r.status_code == 400 and r.json()["error"]["code"] == "missing_parameters"
    assert public.get(f"/series/KXWRONG/markets/{ticker}/candlesticks", params=params).status_code == 404
