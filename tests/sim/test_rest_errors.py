"""Bad requests get Kalshi's error shapes and change nothing; the retired v1 order writes answer 410."""

from __future__ import annotations

from typing import Any

import pytest
from rest_helpers import ORDERS, account, book, order_body, orders, place


def snapshot(client, ticker: str) -> dict[str, Any]:
    """Everything a refused request must leave alone: cash, orders, position, the book."""
    bal = client.get("/portfolio/balance").json()
    return {
        "balance": (bal["balance"], bal["balance_dollars"], bal["portfolio_value"]),
        "orders": [(o["order_id"], o["status"], o["remaining_count_fp"], o["yes_price_dollars"])
                   for o in orders(client)],
        "positions": client.get("/portfolio/positions").json()["market_positions"],
        "book": book(client, ticker),
    }


@pytest.fixture
def setup(sim):
    ticker = sim.new_market(fee_type="quadratic")
    trader = account(sim)
    resting = place(trader, ticker, "bid", "0.40", "5")["order_id"]
    return trader, ticker, resting


def test_malformed_json_is_a_flat_bad_request(sim, setup):
    trader, ticker, _ = setup
    before = snapshot(trader, ticker)
    for raw in (b'{"ticker": ', b"not json", b"", b"[1, 2]", b'"a string"'):
        r = trader.post(ORDERS, content=raw, headers={"content-type": "application/json"})
        assert r.status_code == 400, raw
        body = r.json()
        assert (body["code"], body["message"]) == ("bad_request", "bad request"), raw
        assert isinstance(body["details"], str) and body["details"]
        assert "error" not in body
    assert snapshot(trader, ticker) == before


@pytest.mark.parametrize("field,value", [
    ("count", 10),  # counts are strings
    ("price", 0.56),  # prices are strings
    ("side", ["bid"]),
    ("post_only", "yes"),
    ("expiration_time", "soon"),
    ("post_onyl", True),  # unknown field: refused, never silently ignored
])
def test_wrong_json_types_and_unknown_fields_are_bad_requests(sim, setup, field, value):
    trader, ticker, _ = setup
    before = snapshot(trader, ticker)
    body = order_body(ticker, "bid", "0.45", "1")
    body[field] = value
    r = trader.post(ORDERS, json=body)
    assert r.status_code == 400
    assert r.json()["code"] == "bad_request"
    assert field in r.json()["details"]
    assert snapshot(trader, ticker) == before


@pytest.mark.parametrize("missing,code", [
    ("ticker", "missing_parameters"),
    ("side", "invalid_order"),
    ("count", "invalid_order"),
    ("price", "invalid_order"),
    ("time_in_force", "invalid_order"),
    ("self_trade_prevention_type", "invalid_order"),
])
def test_missing_fields(sim, setup, missing, code):
    trader, ticker, _ = setup
    before = snapshot(trader, ticker)
    body = order_body(ticker, "bid", "0.45", "1")
    del body[missing]
    r = trader.post(ORDERS, json=body)
    assert r.status_code == 400
    error = r.json()["error"]
    assert error["code"] == code
    assert missing in error["details"]
    assert snapshot(trader, ticker) == before


@pytest.mark.parametrize("field,value,what", [
    ("price", "0.555", "price grid"),  # off the whole-cent grid
    ("price", "0.56789", "decimals"),  # finer than a pip
    ("price", "1.00", "between 0 and 1"),
    ("price", "0.00", "between 0 and 1"),
    ("price", "abc", "2-4 decimals"),
    ("price", "0.5", "2-4 decimals"),  # Kalshi wants 2-4 decimals
    ("price", "0.560000", "2-4 decimals"),
    ("count", "0", "more than 0"),
    ("count", "1.005", "0-2 decimals"),
    ("count", "-1", "0-2 decimals"),
    ("count", "1e3", "0-2 decimals"),
    ("side", "yes", "bid"),
    ("time_in_force", "good_till_time", "good_till_canceled"),
    ("self_trade_prevention_type", "none", "taker_at_cross"),
    ("client_order_id", "has spaces in it", "client_order_id"),
])
def test_invalid_values_are_invalid_orders(sim, setup, field, value, what):
    trader, ticker, _ = setup
    before = snapshot(trader, ticker)
    body = order_body(ticker, "bid", "0.45", "1")
    body[field] = value
    r = trader.post(ORDERS, json=body)
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert error["code"] == "invalid_order"
    assert what in error["details"]
    assert snapshot(trader, ticker) == before


def test_unknown_ticker_is_market_not_found(sim, setup):
    trader, ticker, _ = setup
    before = snapshot(trader, ticker)
    r = trader.post(ORDERS, json=order_body("KXNOPE-NOSUCHMARKET", "bid", "0.45", "1"))
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "market_not_found"
    assert snapshot(trader, ticker) == before


def test_insufficient_balance_changes_nothing(sim):
    ticker = sim.new_market(fee_type="quadratic")
    poor = account(sim, balance_dollars="1.00")
    before = snapshot(poor, ticker)
    r = poor.post(ORDERS, json=order_body(ticker, "bid", "0.50", "3"))  # needs $1.50
    assert r.status_code == 400 and r.json()["error"]["code"] == "insufficient_balance"
    assert snapshot(poor, ticker) == before


def test_oversize_batch_is_refused_whole(sim, setup):
    trader, ticker, resting = setup
    before = snapshot(trader, ticker)
    too_many = [order_body(ticker, "bid", "0.30", "1") for _ in range(21)]
    r = trader.post(f"{ORDERS}/batched", json={"orders": too_many})
    assert r.status_code == 400
    assert "at most 20" in r.json()["error"]["details"]
    r = trader.request("DELETE", f"{ORDERS}/batched", json={"orders": [{"order_id": resting}] * 21})
    assert r.status_code == 400
    assert snapshot(trader, ticker) == before
    # exactly 20 is fine
    r = trader.post(f"{ORDERS}/batched", json={"orders": too_many[:20]})
    assert r.status_code == 201 and len(r.json()["orders"]) == 20


def test_batch_body_shape_errors(sim, setup):
    trader, ticker, _ = setup
    before = snapshot(trader, ticker)
    assert trader.post(f"{ORDERS}/batched", json={"orders": []}).json()["error"]["code"] == "missing_parameters"
    assert trader.post(f"{ORDERS}/batched", json={"orders": "x"}).json()["code"] == "bad_request"
    r = trader.post(f"{ORDERS}/batched", json={"orders": [{**order_body(ticker, "bid", "0.45", "1"), "count": 1}]})
    assert r.status_code == 201
    item, = r.json()["orders"]
    assert item["error"]["code"] == "bad_request" and "count" in item["error"]["details"]
    assert snapshot(trader, ticker) == before


def test_someone_elses_order_cannot_be_touched(sim, setup):
    trader, ticker, resting = setup
    stranger = account(sim)
    before = snapshot(trader, ticker)
    assert stranger.delete(f"{ORDERS}/{resting}").status_code == 404
    r = stranger.post(f"{ORDERS}/{resting}/amend", json={"ticker": ticker, "side": "bid", "price": "0.41",
                                                         "count": "5"})
    assert r.status_code == 404 and r.json()["error"]["code"] == "order_not_found"
    assert stranger.post(f"{ORDERS}/{resting}/decrease", json={"reduce_by": "1"}).status_code == 404
    assert snapshot(trader, ticker) == before


def test_amend_and_decrease_validate_their_bodies(sim, setup):
    trader, ticker, resting = setup
    before = snapshot(trader, ticker)
    url = f"{ORDERS}/{resting}/amend"
    assert trader.post(url, content=b"{").json()["code"] == "bad_request"
    assert trader.post(url, json={"side": "bid", "price": "0.41", "count": "5"}).json()["error"]["code"] == \
        "missing_parameters"
    r = trader.post(url, json={"ticker": ticker, "side": "bid", "price": "0.415", "count": "5"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_order"
    r = trader.post(url, json={"ticker": ticker, "side": "bid", "price": "0.41", "count": 5})
    assert r.status_code == 400 and r.json()["code"] == "bad_request"
    r = trader.post(f"{ORDERS}/{resting}/decrease", json={})
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_order"
    r = trader.post(f"{ORDERS}/{resting}/decrease", json={"reduce_by": 2})
    assert r.status_code == 400 and r.json()["code"] == "bad_request"
    assert snapshot(trader, ticker) == before


@pytest.mark.parametrize("method,path", [
    ("POST", "/portfolio/orders"),
    ("DELETE", "/portfolio/orders/some-order-id"),
    ("POST", "/portfolio/orders/some-order-id/amend"),
    ("POST", "/portfolio/orders/some-order-id/decrease"),
    ("POST", "/portfolio/orders/batched"),
    ("DELETE", "/portfolio/orders/batched"),
])
def test_retired_v1_order_writes_answer_410(sim, setup, method, path):
    trader, ticker, resting = setup
    before = snapshot(trader, ticker)
    legacy_body = {"ticker": ticker, "side": "yes", "action": "buy", "count": 1, "yes_price": 45, "type": "limit"}
    r = trader.request(method, path.replace("some-order-id", resting), json=legacy_body)
    assert r.status_code == 410
    error = r.json()["error"]
    assert error["code"] == "deprecated_v1_order_endpoint"
    assert "/portfolio/events/orders" in error["message"]
    assert snapshot(trader, ticker) == before


def test_v1_reads_still_work(sim, setup):
    trader, _, resting = setup
    assert trader.get(f"/portfolio/orders/{resting}").json()["order"]["status"] == "resting"


def test_private_endpoints_need_a_signature(sim):
    public = sim.public_client()
    for path in ("/portfolio/balance", "/portfolio/orders", "/account/limits"):
        assert public.get(path).status_code == 401
    assert public.post(ORDERS, json={}).status_code == 401
