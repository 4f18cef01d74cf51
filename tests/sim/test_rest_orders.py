"""Order management over REST: amend, decrease, cancel, cancel-all, batches, queue positions, groups."""

from __future__ import annotations

from rest_helpers import account, ORDERS, balance_dollars, book, order, order_body, orders, place


def test_amend_changes_price_and_total_and_can_cross(sim):
    ticker = sim.new_market(fee_type="quadratic")
    trader, other = account(sim), account(sim)
    placed = place(trader, ticker, "bid", "0.50", "10", client_order_id="amend-me-1")
    r = trader.post(f"{ORDERS}/{placed['order_id']}/amend",
                    json={"ticker": ticker, "side": "bid", "price": "0.52", "count": "12"})
    assert r.status_code == 200, r.text
    assert r.json()["remaining_count"] == "12.00"
    amended = order(trader, placed["order_id"])
    assert (amended["yes_price_dollars"], amended["remaining_count_fp"]) == ("0.5200", "12.00")
    assert book(trader, ticker)["yes_dollars"] == [["0.5200", "12.00"]]
    assert balance_dollars(trader) == "993.7600"  # 12 x 0.52 held

    place(other, ticker, "ask", "0.55", "5")
    r = trader.post(f"{ORDERS}/{placed['order_id']}/amend",
                    json={"ticker": ticker, "side": "bid", "price": "0.55", "count": "12",
                          "updated_client_order_id": "amend-me-2"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["fill_count"], body["remaining_count"], body["average_fill_price"]) == ("5.00", "7.00", "0.550000")
    assert body["client_order_id"] == "amend-me-2"

    # the amend body must describe the same order
    r = trader.post(f"{ORDERS}/{placed['order_id']}/amend",
                    json={"ticker": ticker, "side": "ask", "price": "0.55", "count": "12"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "order_side_mismatch"


def test_decrease_by_and_to_then_cancel(sim):
    ticker = sim.new_market(fee_type="quadratic")
    trader = account(sim)
    placed = place(trader, ticker, "ask", "0.70", "10")
    oid = placed["order_id"]
    r = trader.post(f"{ORDERS}/{oid}/decrease", json={"reduce_by": "3"})
    assert r.status_code == 200 and r.json()["remaining_count"] == "7.00"
    r = trader.post(f"{ORDERS}/{oid}/decrease", json={"reduce_to": "2.5"})
    assert r.status_code == 200 and r.json()["remaining_count"] == "2.50"
    assert book(trader, ticker)["no_dollars"] == [["0.3000", "2.50"]]

    r = trader.post(f"{ORDERS}/{oid}/decrease", json={"reduce_by": "1", "reduce_to": "1"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_order"

    r = trader.delete(f"{ORDERS}/{oid}")
    assert r.status_code == 200, r.text
    assert (r.json()["order_id"], r.json()["reduced_by"]) == (oid, "2.50")
    assert order(trader, oid)["status"] == "canceled"
    assert balance_dollars(trader) == "1000.0000"
    assert trader.delete(f"{ORDERS}/{oid}").status_code == 400  # already cancelled


def test_cancel_all_cancels_every_resting_order_of_the_caller_only(sim):
    ticker_a, ticker_b = sim.new_market(fee_type="quadratic"), sim.new_market(fee_type="quadratic")
    trader, bystander = account(sim), account(sim)
    ids = [place(trader, ticker_a, "bid", "0.30", "5")["order_id"],
           place(trader, ticker_a, "ask", "0.80", "5")["order_id"],
           place(trader, ticker_b, "bid", "0.10", "1")["order_id"]]
    kept = place(bystander, ticker_a, "bid", "0.20", "1")["order_id"]
    r = trader.delete(ORDERS)
    assert r.status_code == 204 and r.content == b""
    assert [order(trader, i)["status"] for i in ids] == ["canceled"] * 3
    assert order(bystander, kept)["status"] == "resting"
    assert orders(trader, status="resting") == []
    assert balance_dollars(trader) == "1000.0000"


def test_batch_create_reports_each_item_and_batch_cancel(sim):
    ticker = sim.new_market(fee_type="quadratic")
    trader = account(sim)
    r = trader.post(f"{ORDERS}/batched", json={"orders": [
        order_body(ticker, "bid", "0.40", "1", client_order_id="batch-ok-1"),
        order_body(ticker, "bid", "0.405", "1", client_order_id="batch-offgrid"),  # off the cent grid
        order_body("KXNOPE-NOTAMARKET", "bid", "0.40", "1"),
        order_body(ticker, "ask", "0.90", "2"),
    ]})
    assert r.status_code == 201, r.text
    items = r.json()["orders"]
    assert len(items) == 4
    assert items[0]["client_order_id"] == "batch-ok-1" and "error" not in items[0]
    assert items[1]["error"]["code"] == "invalid_order" and items[1]["client_order_id"] == "batch-offgrid"
    assert items[2]["error"]["code"] == "market_not_found"
    for item in items[1:3]:
        assert set(item["error"]) == {"code", "message", "details"}
        assert isinstance(item["error"]["details"], str)
    assert "error" not in items[3]
    assert book(trader, ticker) == {"yes_dollars": [["0.4000", "1.00"]], "no_dollars": [["0.1000", "2.00"]]}

    r = trader.request("DELETE", f"{ORDERS}/batched", json={"orders": [
        {"order_id": items[0]["order_id"]}, {"order_id": "no-such-order"}, {"order_id": items[3]["order_id"]}]})
    assert r.status_code == 200, r.text
    results = r.json()["orders"]
    assert results[0]["reduced_by"] == "1.00" and "error" not in results[0]
    assert results[1]["error"]["code"] == "order_not_found"
    assert results[2]["reduced_by"] == "2.00"
    assert book(trader, ticker) == {"yes_dollars": [], "no_dollars": []}


def test_queue_positions_count_contracts_ahead(sim):
    ticker = sim.new_market(fee_type="quadratic")
    first, second = account(sim), account(sim)
    a = place(first, ticker, "bid", "0.50", "5")["order_id"]
    b = place(second, ticker, "bid", "0.50", "3")["order_id"]
    assert first.get(f"/portfolio/orders/{a}/queue_position").json() == {"queue_position_fp": "0.00"}
    assert second.get(f"/portfolio/orders/{b}/queue_position").json() == {"queue_position_fp": "5.00"}
    r = second.get("/portfolio/orders/queue_positions", params={"market_tickers": ticker})
    assert r.json() == {"queue_positions": [{"order_id": b, "market_ticker": ticker, "queue_position_fp": "5.00"}]}
    r = second.get("/portfolio/orders/queue_positions")
    assert r.status_code == 400 and r.json()["error"]["code"] == "missing_parameters"
    # another account's order is not yours to look at
    assert first.get(f"/portfolio/orders/{b}/queue_position").status_code == 404


def test_order_group_triggers_at_its_limit_and_blocks_until_reset(sim):
    ticker = sim.new_market(fee_type="quadratic")
    trader, taker = account(sim), account(sim)
    r = trader.post("/portfolio/order_groups/create", json={"contracts_limit": 5})
    assert r.status_code == 201, r.text
    group_id = r.json()["order_group_id"]
    big = place(trader, ticker, "bid", "0.50", "10", order_group_id=group_id)["order_id"]
    small = place(trader, ticker, "bid", "0.40", "3", order_group_id=group_id)["order_id"]
    got = trader.get(f"/portfolio/order_groups/{group_id}").json()
    assert set(got["orders"]) == {big, small} and got["contracts_limit_fp"] == "5.00"
    assert got["is_auto_cancel_enabled"] is True

    place(taker, ticker, "ask", "0.50", "5", tif="immediate_or_cancel")  # 5 matched: the limit
    assert order(trader, big)["status"] == "canceled" and order(trader, big)["fill_count_fp"] == "5.00"
    assert order(trader, small)["status"] == "canceled"
    assert book(trader, ticker)["yes_dollars"] == []

    r = trader.post(ORDERS, json=order_body(ticker, "bid", "0.30", "1", order_group_id=group_id))
    assert r.status_code == 400 and r.json()["error"]["code"] == "order_group_triggered"
    assert trader.put(f"/portfolio/order_groups/{group_id}/reset").status_code == 200
    place(trader, ticker, "bid", "0.30", "1", order_group_id=group_id)

    r = trader.put(f"/portfolio/order_groups/{group_id}/limit", json={"contracts_limit_fp": "20.00"})
    assert r.status_code == 200 and r.json() == {}
    listed = trader.get("/portfolio/order_groups").json()["order_groups"]
    assert [(g["id"], g["contracts_limit_fp"]) for g in listed] == [(group_id, "20.00")]

    assert trader.put(f"/portfolio/order_groups/{group_id}/trigger").status_code == 200
    assert orders(trader, status="resting") == []
    assert trader.delete(f"/portfolio/order_groups/{group_id}").status_code == 200
    assert trader.get(f"/portfolio/order_groups/{group_id}").status_code == 404
    assert taker.get(f"/portfolio/order_groups/{group_id}").status_code == 404


def test_order_reads_filter_by_status_ticker_and_id(sim):
    ticker_a, ticker_b = sim.new_market(fee_type="quadratic"), sim.new_market(fee_type="quadratic")
    trader = account(sim)
    resting = place(trader, ticker_a, "bid", "0.20", "1")["order_id"]
    cancelled = place(trader, ticker_b, "bid", "0.20", "1")["order_id"]
    trader.delete(f"{ORDERS}/{cancelled}")
    assert [o["order_id"] for o in orders(trader, status="resting")] == [resting]
    assert [o["order_id"] for o in orders(trader, status="canceled")] == [cancelled]
    assert [o["order_id"] for o in orders(trader, ticker=ticker_b)] == [cancelled]
    assert [o["order_id"] for o in orders(trader)] == [cancelled, resting]  # newest first
    got = order(trader, resting)
    assert (got["ticker"], got["outcome_side"], got["book_side"], got["type"]) == (ticker_a, "yes", "bid", "limit")
    assert account(sim).get(f"/portfolio/orders/{resting}").status_code == 404


def test_account_limits_and_endpoint_costs(sim):
    trader = account(sim, tier="advanced")
    limits = trader.get("/account/limits").json()
    assert limits["usage_tier"] == "advanced"
    assert limits["read"]["refill_rate"] == 300 and limits["write"]["refill_rate"] == 300
    costs = trader.get("/account/endpoint_costs").json()
    assert costs["default_cost"] == 10
    assert all(set(c) == {"method", "path", "cost"} for c in costs["endpoint_costs"])
    assert all(c["cost"] != 10 for c in costs["endpoint_costs"])  # only non-default costs are listed
