"""Portfolio reads over REST: balance, positions (YES and NO), fills, orders, settlements, with cursors."""

from __future__ import annotations

import uuid

from rest_helpers import account, admin, balance, balance_dollars, place, position, walk


def _event_markets(sim, n: int, **fields) -> tuple[str, list[str]]:
    event = f"KXPF{uuid.uuid4().hex[:8].upper()}-EV"
    return event, [sim.new_market(ticker=f"{event}-M{i}", fee_type="quadratic", settlement_timer_seconds=3600,
                                  **fields) for i in range(n)]


def test_settlement_pays_one_dollar_per_winning_contract_yes_and_no(sim):
    event, (yes_wins, no_wins) = _event_markets(sim, 2)
    yes_holder, no_holder = account(sim), account(sim)
    for ticker in (yes_wins, no_wins):
        place(yes_holder, ticker, "bid", "0.56", "10")
        place(no_holder, ticker, "ask", "0.56", "10")  # 10 NO at 0.44
    # fees: 0.07 x 10 x 0.56 x 0.44 = 0.1725 per taker fill, twice
    assert balance_dollars(yes_holder) == "988.8000"  # 1000 - 2 x 5.60 (maker, no fee)
    assert balance_dollars(no_holder) == "990.8550"  # 1000 - 2 x 4.40 - 2 x 0.1725

    admin(sim, "POST", f"/markets/{yes_wins}/determine", json={"result": "yes"})
    admin(sim, "POST", f"/markets/{yes_wins}/settle")
    admin(sim, "POST", f"/markets/{no_wins}/determine", json={"result": "no"})
    admin(sim, "POST", f"/markets/{no_wins}/settle")

    assert balance_dollars(yes_holder) == "998.8000"  # + $10 from the YES win, 0 from the NO loss
    assert balance_dollars(no_holder) == "1000.8550"  # + $10 from the NO win

    settlements = {s["ticker"]: s for s in walk(yes_holder, "/portfolio/settlements", "settlements")}
    won = settlements[yes_wins]
    assert (won["market_result"], won["yes_count_fp"], won["no_count_fp"]) == ("yes", "10.00", "0.00")
    assert (won["revenue"], won["yes_total_cost_dollars"], won["value"]) == (1000, "5.600000", 100)
    assert won["event_ticker"] == event and won["settled_time"].endswith("Z")
    lost = settlements[no_wins]
    assert (lost["market_result"], lost["revenue"], lost["value"]) == ("no", 0, 0)
    no_side = {s["ticker"]: s for s in walk(no_holder, "/portfolio/settlements", "settlements")}
    assert (no_side[no_wins]["no_count_fp"], no_side[no_wins]["revenue"]) == ("10.00", 1000)
    assert no_side[no_wins]["no_total_cost_dollars"] == "4.400000"
    assert no_side[no_wins]["fee_cost"] == "0.172500"

    market = yes_holder.get(f"/markets/{yes_wins}").json()["market"]
    assert (market["status"], market["result"], market["settlement_value_dollars"]) == ("finalized", "yes", "1.0000")
    # settled positions leave the default (unsettled) view and appear under settled
    assert yes_holder.get("/portfolio/positions", params={"ticker": yes_wins}).json()["market_positions"] == []
    settled = yes_holder.get("/portfolio/positions", params={"ticker": yes_wins, "settlement_status": "settled"})
    pos, = settled.json()["market_positions"]
    assert (pos["position_fp"], pos["realized_pnl_dollars"]) == ("0.00", "4.400000")  # paid 5.60, got 10


def test_positions_yes_and_no_with_event_aggregates_and_filters(sim):
    event, tickers = _event_markets(sim, 3)
    trader, counterparty = account(sim), account(sim)
    place(counterparty, tickers[0], "ask", "0.30", "4")
    place(trader, tickers[0], "bid", "0.30", "4")  # long 4 YES: 1.20
    place(counterparty, tickers[1], "bid", "0.70", "2")
    place(trader, tickers[1], "ask", "0.70", "2")  # long 2 NO at 0.30: 0.60
    place(trader, tickers[2], "bid", "0.10", "1")  # resting only: no position

    body = trader.get("/portfolio/positions", params={"event_ticker": event}).json()
    positions = {p["ticker"]: p for p in body["market_positions"]}
    assert set(positions) == {tickers[0], tickers[1]}
    yes_pos, no_pos = positions[tickers[0]], positions[tickers[1]]
    assert (yes_pos["position_fp"], yes_pos["market_exposure_dollars"]) == ("4.00", "1.200000")
    assert (no_pos["position_fp"], no_pos["market_exposure_dollars"]) == ("-2.00", "0.600000")
    ev, = body["event_positions"]
    assert ev["event_ticker"] == event
    assert ev["event_exposure_dollars"] == "1.800000"
    assert ev["total_cost_shares_fp"] == "6.00"
    # fees: 0.07 x 4 x 0.21 = 0.0588 ; 0.07 x 2 x 0.21 = 0.0294
    assert ev["fees_paid_dollars"] == "0.088200"

    only = trader.get("/portfolio/positions", params={"ticker": tickers[1]}).json()["market_positions"]
    assert [p["ticker"] for p in only] == [tickers[1]]
    assert trader.get("/portfolio/positions", params={"count_filter": "bogus"}).status_code == 400

    # the position is marked at what it would fetch now: 4 YES at the best YES bid
    place(counterparty, tickers[0], "bid", "0.25", "10")
    assert balance(trader)["portfolio_value"] == 100 + 60  # 4 x $0.25 + 2 NO marked at last trade (0.30)


def test_positions_cursor_walk(sim):
    _, tickers = _event_markets(sim, 5)
    trader, counterparty = account(sim), account(sim)
    for ticker in tickers:
        place(counterparty, ticker, "ask", "0.50", "1")
        place(trader, ticker, "bid", "0.50", "1")
    got = walk(trader, "/portfolio/positions", "market_positions", limit=2)
    assert [p["ticker"] for p in got] == tickers
    assert all(p["position_fp"] == "1.00" for p in got)


def test_fills_and_orders_cursor_walks_and_filters(sim):
    _, (ticker_a, ticker_b) = _event_markets(sim, 2)
    trader, counterparty = account(sim), account(sim)
    order_ids = []
    for i, ticker in enumerate([ticker_a, ticker_a, ticker_b, ticker_a, ticker_b]):
        place(counterparty, ticker, "ask", f"0.{40 + i}", "1")
        order_ids.append(place(trader, ticker, "bid", f"0.{40 + i}", "1")["order_id"])

    fills = walk(trader, "/portfolio/fills", "fills", limit=2)
    assert [f["order_id"] for f in fills] == order_ids[::-1]  # newest first, each exactly once
    assert len({f["fill_id"] for f in fills}) == 5
    only_b = walk(trader, "/portfolio/fills", "fills", ticker=ticker_b, limit=1)
    assert [f["order_id"] for f in only_b] == [order_ids[4], order_ids[2]]
    by_order = walk(trader, "/portfolio/fills", "fills", order_id=order_ids[1])
    assert [f["yes_price_dollars"] for f in by_order] == ["0.4100"]
    assert walk(counterparty, "/portfolio/fills", "fills", order_id=order_ids[1]) == []  # not the owner's fills

    placed = walk(trader, "/portfolio/orders", "orders", limit=2)
    assert [o["order_id"] for o in placed] == order_ids[::-1]
    executed = walk(trader, "/portfolio/orders", "orders", ticker=ticker_a, status="executed", limit=1)
    assert [o["order_id"] for o in executed] == [order_ids[3], order_ids[1], order_ids[0]]
    assert walk(trader, "/portfolio/orders", "orders", status="resting") == []
    assert trader.get("/portfolio/orders", params={"status": "pending"}).status_code == 400


def test_settlements_cursor_walk(sim):
    event, tickers = _event_markets(sim, 4)
    trader, counterparty = account(sim), account(sim)
    for ticker in tickers:
        place(counterparty, ticker, "ask", "0.50", "1")
        place(trader, ticker, "bid", "0.50", "1")
        admin(sim, "POST", f"/markets/{ticker}/determine", json={"result": "yes"})
        admin(sim, "POST", f"/markets/{ticker}/settle")
    got = walk(trader, "/portfolio/settlements", "settlements", limit=3)
    assert [s["ticker"] for s in got] == tickers[::-1]
    assert all(s["revenue"] == 100 for s in got)
    one = walk(trader, "/portfolio/settlements", "settlements", ticker=tickers[2])
    assert [s["ticker"] for s in one] == [tickers[2]]
    assert len(walk(trader, "/portfolio/settlements", "settlements", event_ticker=event)) == 4
    assert balance_dollars(trader) == "1001.9300"  # 4 x (1.00 - 0.50 - 0.0175 fee)
    assert position(trader, tickers[0])["position_fp"] == "0.00"


def test_balance_shape(sim):
    trader = account(sim, balance_dollars="123.456789")
    body = balance(trader)
    assert body["balance"] == 12345  # cents, truncated
    assert body["balance_dollars"] == "123.4567"  # $0.0001 precision, floored
    assert body["portfolio_value"] == 0
    now_ts = admin(sim, "GET", "/clock")["now_ts"]
    assert abs(body["updated_ts"] - now_ts) <= 5
