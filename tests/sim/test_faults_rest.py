"""REST faults over real sockets: 429 bursts with Kalshi's exact body, 5xx that change nothing, slow answers
that are measurably slow while the exchange has already acted, lost answers whose order exists exactly
once, and trading / exchange pauses with Kalshi's codes. One private simulator per test.
"""

from __future__ import annotations

import threading
import time
import uuid

import httpx
import pytest
from fault_helpers import clear_faults, fault_log, set_faults
from kalshi_ws_client import order_body

ORDERS = "/portfolio/events/orders"


def _orders(client: httpx.Client, ticker: str) -> list[dict]:
    r = client.get("/portfolio/orders", params={"ticker": ticker})
    assert r.status_code == 200, r.text
    return r.json()["orders"]


def _create(client: httpx.Client, ticker: str, price: str = "0.30", **kwargs) -> httpx.Response:
    return client.post(ORDERS, json=order_body(ticker, "bid", price, "1", **kwargs))


def test_a_429_burst_refuses_the_next_n_creates_with_kalshis_body_and_places_nothing(sim_factory) -> None:
    server = sim_factory()
    ticker = server.new_market()
    trader = server.new_account()
    set_faults(server, {"kind": "rate_limit", "count": 2, "ops": ["order_create"], "account_id": trader.account_id})
    refused = [_create(trader, ticker), _create(trader, ticker)]
    for r in refused:
        assert r.status_code == 429
        assert r.json() == {"error": "too many requests"}
        assert "retry-after" not in r.headers
    assert trader.get(f"/markets/{ticker}").status_code == 200  # reads were not in the rule's scope
    assert _orders(trader, ticker) == []
    assert _create(trader, ticker).status_code == 201  # the burst is over
    entries = fault_log(server, "rate_limit")
    assert [(e["status"], e["method"], e["path"], e["op"], e["account_id"]) for e in entries] == [
        (429, "POST", "/trade-api/v2" + ORDERS, "order_create", trader.account_id)] * 2


def test_a_timed_429_burst_refuses_everything_until_it_ends(sim_factory) -> None:
    server = sim_factory()
    trader = server.new_account()
    set_faults(server, {"kind": "rate_limit", "for_s": 0.5, "account_id": trader.account_id})
    assert trader.get("/portfolio/balance").status_code == 429
    assert trader.get("/exchange/status").status_code == 429
    time.sleep(0.6)
    assert trader.get("/portfolio/balance").status_code == 200
    assert len(fault_log(server, "rate_limit")) == 2


@pytest.mark.parametrize(("status", "code"), [(500, "internal_server_error"), (502, "bad_gateway"),
                                              (503, "service_unavailable")])
def test_a_server_error_answers_its_status_with_an_error_body_and_changes_nothing(sim_factory, status, code) -> None:
    server = sim_factory()
    ticker = server.new_market()
    trader = server.new_account()
    set_faults(server, {"kind": "server_error", "status": status, "count": 1, "market": ticker})
    r = _create(trader, ticker)
    assert r.status_code == status
    assert r.json()["error"]["code"] == code and r.json()["error"]["message"]
    assert _orders(trader, ticker) == []
    assert _create(trader, ticker).status_code == 201
    [entry] = fault_log(server, "server_error")
    assert (entry["status"], entry["op"], entry["account_id"]) == (status, "order_create", trader.account_id)


def test_a_slow_answer_is_late_but_the_exchange_acted_at_once(sim_factory) -> None:
    server = sim_factory()
    ticker = server.new_market()
    trader = server.new_account()
    observer = server.new_account()  # another account's reads are not in the rule's scope
    set_faults(server, {"kind": "slow", "delay_s": 0.8, "count": 1, "ops": ["order_create"]})
    answer: list[httpx.Response] = []
    started = time.monotonic()
    worker = threading.Thread(target=lambda: answer.append(_create(trader, ticker, client_order_id="slow-1")))
    worker.start()
    time.sleep(0.3)
    book = observer.get(f"/markets/{ticker}/orderbook").json()["orderbook_fp"]
    assert book["yes_dollars"] == [["0.3000", "1.00"]]  # resting while its create is still unanswered
    worker.join(5)
    elapsed = time.monotonic() - started
    assert answer and answer[0].status_code == 201 and answer[0].json()["client_order_id"] == "slow-1"
    assert elapsed >= 0.8, elapsed
    started = time.monotonic()
    assert _create(trader, ticker, price="0.31").status_code == 201
    assert time.monotonic() - started < 0.5  # the rule was spent
    [entry] = fault_log(server, "slow")
    assert (entry["delay_s"], entry["op"]) == (0.8, "order_create")


def test_a_lost_answer_is_a_transport_error_but_the_order_exists_exactly_once(sim_factory) -> None:
    server = sim_factory()
    ticker = server.new_market()
    trader = server.new_account()
    set_faults(server, {"kind": "lost_response", "count": 1})  # default scope: order creates
    client_order_id = f"lost-{uuid.uuid4().hex[:8]}"
    with pytest.raises(httpx.TransportError):
        _create(trader, ticker, client_order_id=client_order_id)
    [order] = _orders(trader, ticker)
    assert order["client_order_id"] == client_order_id and order["status"] == "resting"
    # a retry with the same client_order_id is refused as a duplicate: still exactly one order
    retry = _create(trader, ticker, client_order_id=client_order_id)
    assert retry.status_code == 409 and retry.json()["error"]["code"] == "order_already_exists"
    assert [o["order_id"] for o in _orders(trader, ticker)] == [order["order_id"]]
    [entry] = fault_log(server, "lost_response")
    assert (entry["order_id"], entry["client_order_id"], entry["op"], entry["account_id"]) == (
        order["order_id"], client_order_id, "order_create", trader.account_id)
    assert "status" not in entry  # no answer at all, not a 5xx


def test_a_lost_answer_can_come_back_as_a_502_after_the_exchange_acted(sim_factory) -> None:
    server = sim_factory()
    ticker = server.new_market()
    trader = server.new_account()
    set_faults(server, {"kind": "lost_response", "status": 502, "count": 1, "ops": ["batch_create"]})
    r = trader.post(f"{ORDERS}/batched", json={"orders": [
        order_body(ticker, "bid", "0.20", "1", client_order_id="b-1"),
        order_body(ticker, "bid", "0.21", "1", client_order_id="b-2")]})
    assert r.status_code == 502 and r.json()["error"]["code"] == "bad_gateway"
    orders = _orders(trader, ticker)
    assert sorted(o["client_order_id"] for o in orders) == ["b-1", "b-2"]
    [entry] = fault_log(server, "lost_response")
    assert sorted(entry["order_ids"]) == sorted(o["order_id"] for o in orders)
    assert sorted(entry["client_order_ids"]) == ["b-1", "b-2"] and entry["status"] == 502


def test_pauses_refuse_creates_with_kalshis_codes_and_cancels_only_during_an_exchange_pause(sim_factory) -> None:
    server = sim_factory()
    ticker = server.new_market()
    trader = server.new_account()
    first, second = (_create(trader, ticker, price=p).json()["order_id"] for p in ("0.30", "0.31"))

    set_faults(server, {"kind": "trading_pause"})
    r = _create(trader, ticker)
    assert r.status_code == 400 and r.json()["error"]["code"] == "trading_paused"
    assert server.client("desk").get("/exchange/status").json()["trading_active"] is False
    assert trader.delete(f"{ORDERS}/{first}").status_code == 200  # cancels still work

    set_faults(server, {"kind": "exchange_pause"})  # replaces the trading pause
    r = _create(trader, ticker)
    assert r.status_code == 503 and r.json()["error"]["code"] == "exchange_paused"
    r = trader.delete(f"{ORDERS}/{second}")
    assert r.status_code == 503 and r.json()["error"]["code"] == "exchange_paused"

    clear_faults(server)
    assert _create(trader, ticker).status_code == 201
    assert trader.delete(f"{ORDERS}/{second}").status_code == 200
    assert [(e["kind"], e["phase"]) for e in fault_log(server) if e["kind"].endswith("_pause")] == [
        ("trading_pause", "begin"), ("trading_pause", "end"), ("exchange_pause", "begin"), ("exchange_pause", "end")]


def test_a_timed_trading_pause_resumes_on_its_own(sim_factory) -> None:
    server = sim_factory()
    ticker = server.new_market()
    trader = server.new_account()
    set_faults(server, {"kind": "trading_pause", "for_s": 0.4})
    assert _create(trader, ticker).json()["error"]["code"] == "trading_paused"
    time.sleep(0.6)
    assert _create(trader, ticker).status_code == 201
    assert [e["phase"] for e in fault_log(server, "trading_pause")] == ["begin", "end"]


def test_a_path_prefix_scope_hits_only_the_paths_under_it(sim_factory) -> None:
    server = sim_factory()
    ticker = server.new_market()
    trader = server.new_account()
    set_faults(server, {"kind": "server_error", "status": 500, "path_prefix": "/markets", "method": "get"})
    assert trader.get(f"/markets/{ticker}").status_code == 500
    assert trader.get(f"/markets/{ticker}/orderbook").status_code == 500
    assert trader.get("/portfolio/balance").status_code == 200
    assert _create(trader, ticker).status_code == 201  # a POST, and not under /markets
    assert [e["path"] for e in fault_log(server, "server_error")] == [
        f"/trade-api/v2/markets/{ticker}", f"/trade-api/v2/markets/{ticker}/orderbook"]
