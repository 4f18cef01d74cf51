"""The simulator's admin surface (/sim): accounts, funding, markets, lifecycle, clock, pauses, health."""

from __future__ import annotations

import uuid

import httpx
from rest_helpers import ORDERS, account, admin, balance_dollars, order, order_body, place, reader

from console.venues.kalshi.auth import KalshiAuth, Signer


def test_create_account_with_each_key_type_and_fund_it(sim):
    pem_headers = {"rsa": "-----BEGIN RSA PRIVATE KEY-----", "ed25519": "-----BEGIN PRIVATE KEY-----"}
    for key_type, pem_header in pem_headers.items():
        body = admin(sim, "POST", "/accounts", json={"balance_dollars": "250.5", "key_type": key_type}, expect=201)
        assert set(body) == {"account_id", "api_key_id", "private_key_pem", "key_type"}
        assert body["key_type"] == key_type and body["private_key_pem"].startswith(pem_header)
        client = httpx.Client(base_url=sim.base_url, timeout=10,
                              auth=KalshiAuth(Signer(body["api_key_id"], body["private_key_pem"].encode())))
        with client:
            assert balance_dollars(client) == "250.5000"
            funded = admin(sim, "POST", f"/accounts/{body['account_id']}/fund", json={"amount_dollars": "9.4999"})
            assert funded["balance_dollars"] == "259.999900"
            assert balance_dollars(client) == "259.9999"
            assert client.get("/account/limits").json()["usage_tier"] == "basic"


def test_account_refusals(sim):
    r = httpx.post(f"{sim.admin_url}/accounts", json={"key_type": "dsa"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_parameters"
    r = httpx.post(f"{sim.admin_url}/accounts", json={"balance_dollars": 100})
    assert r.status_code == 400 and r.json()["code"] == "bad_request"
    r = httpx.post(f"{sim.admin_url}/accounts", json={"tier": "platinum"})
    assert r.status_code == 400
    r = httpx.post(f"{sim.admin_url}/accounts/no-such-account/fund", json={"amount_dollars": "1"})
    assert r.status_code == 404
    premier = account(sim, tier="premier")
    assert premier.get("/account/limits").json()["usage_tier"] == "premier"


def test_create_market_with_defaults_and_explicit_fees(sim):
    ticker = f"KXADM{uuid.uuid4().hex[:6].upper()}-26JAN01-T50"
    body = admin(sim, "POST", "/markets", json={"ticker": ticker, "title": "Will it?", "category": "Science",
                                                "price_level_structure": "tapered_deci_cent",
                                                "fee_type": "quadratic_with_maker_fees", "fee_multiplier": "0.5"},
                 expect=201)
    market = body["market"]
    series, event = ticker.split("-")[0], ticker.rsplit("-", 1)[0]
    assert (market["ticker"], market["event_ticker"], market["status"]) == (ticker, event, "active")
    assert market["price_level_structure"] == "tapered_deci_cent"
    assert market["price_ranges"][0] == {"start": "0.0000", "end": "0.1000", "step": "0.0010"}
    client = reader(sim)
    got_series = client.get(f"/series/{series}").json()["series"]
    assert (got_series["fee_type"], got_series["fee_multiplier"], got_series["category"]) == (
        "quadratic_with_maker_fees", 0.5, "Science")
    assert client.get(f"/events/{event}").json()["event"]["series_ticker"] == series

    # a second market in the same series with other fees gets them as an event override
    other = f"{series}-26JAN02-T50"
    admin(sim, "POST", "/markets", json={"ticker": other, "fee_type": "quadratic"}, expect=201)
    override = client.get(f"/events/{series}-26JAN02").json()["event"]
    assert override["fee_type_override"] == "quadratic"

    r = httpx.post(f"{sim.admin_url}/markets", json={"ticker": ticker})
    assert r.status_code == 409
    r = httpx.post(f"{sim.admin_url}/markets", json={"ticker": "KXX-Y", "price_level_structure": "hexa_cent"})
    assert r.status_code == 400
    r = httpx.post(f"{sim.admin_url}/markets", json={"ticker": "KXX-Z", "fee_type": "free"})
    assert r.status_code == 400
    r = httpx.post(f"{sim.admin_url}/markets", json={"tickr": "KXX-Z"})
    assert r.status_code == 400 and r.json()["code"] == "bad_request"


def test_fee_multiplier_and_maker_fees_apply(sim):
    ticker = sim.new_market(fee_type="quadratic_with_maker_fees", fee_multiplier="0.5")
    maker, taker = account(sim), account(sim)
    place(maker, ticker, "ask", "0.50", "10")
    place(taker, ticker, "bid", "0.50", "10")
    # taker: 0.07 x 0.5 x 10 x 0.25 = 0.0875 ; maker: 0.0175 x 0.5 x 10 x 0.25 = 0.021875 -> 0.0219
    assert balance_dollars(taker) == "994.9125"
    assert balance_dollars(maker) == "994.9781"


def test_determine_settle_deactivate_activate_and_close_time(sim):
    ticker = sim.new_market(fee_type="quadratic", settlement_timer_seconds=600)
    trader = account(sim)
    resting = place(trader, ticker, "bid", "0.30", "1")["order_id"]

    assert admin(sim, "POST", f"/markets/{ticker}/deactivate")["market"]["status"] == "inactive"
    r = trader.post(ORDERS, json=order_body(ticker, "bid", "0.31", "1"))
    assert r.status_code == 400 and r.json()["error"]["code"] == "market_inactive"
    assert order(trader, resting)["status"] == "resting"  # a pause keeps resting orders
    assert admin(sim, "POST", f"/markets/{ticker}/activate")["market"]["status"] == "active"
    assert order(trader, resting)["status"] == "canceled"  # reactivation cancels them, as on Kalshi

    now_ts = admin(sim, "GET", "/clock")["now_ts"]
    moved = admin(sim, "POST", f"/markets/{ticker}/close_time", json={"close_ts": now_ts + 7200})["market"]
    assert moved["close_time"] == reader(sim).get(f"/markets/{ticker}").json()["market"]["close_time"]
    assert moved["status"] == "active"

    determined = admin(sim, "POST", f"/markets/{ticker}/determine",
                       json={"result": "yes", "settlement_value_dollars": "1.00"})["market"]
    assert (determined["status"], determined["result"]) == ("determined", "yes")
    r = httpx.post(f"{sim.admin_url}/markets/{ticker}/determine", json={"result": "no"})
    assert r.status_code == 400
    assert admin(sim, "POST", f"/markets/{ticker}/settle")["market"]["status"] == "finalized"
    r = httpx.post(f"{sim.admin_url}/markets/{ticker}/determine", json={"result": "maybe"})
    assert r.status_code == 400
    r = httpx.post(f"{sim.admin_url}/markets/KXNOPE-NONE/settle")
    assert r.status_code == 404


def test_clock_advance_closes_markets_and_expires_orders(sim):
    before = admin(sim, "GET", "/clock")
    ticker = sim.new_market(fee_type="quadratic", close_ts=before["now_ts"] + 1800)
    trader = account(sim)
    expiring = place(trader, ticker, "bid", "0.30", "1", expiration_time=before["now_ts"] + 600)["order_id"]
    lasting = place(trader, ticker, "bid", "0.20", "1")["order_id"]

    after = admin(sim, "POST", "/clock", json={"advance_seconds": 900})
    assert after["now_ts"] >= before["now_ts"] + 900
    assert order(trader, expiring)["status"] == "canceled"
    assert order(trader, lasting)["status"] == "resting"
    admin(sim, "POST", "/clock", json={"advance_seconds": 1000})
    assert reader(sim).get(f"/markets/{ticker}").json()["market"]["status"] == "closed"
    assert order(trader, lasting)["status"] == "canceled"
    assert balance_dollars(trader) == "1000.0000"

    r = httpx.post(f"{sim.admin_url}/clock", json={"advance_seconds": -5})
    assert r.status_code == 400


def test_pauses_block_trading_and_exchange(sim):
    ticker = sim.new_market(fee_type="quadratic")
    trader = account(sim)
    resting = place(trader, ticker, "bid", "0.30", "2")["order_id"]
    try:
        assert admin(sim, "POST", "/pause", json={"trading": True}) == {"trading_paused": True,
                                                                       "exchange_paused": False}
        status = trader.get("/exchange/status").json()
        assert (status["exchange_active"], status["trading_active"]) == (True, False)
        r = trader.post(ORDERS, json=order_body(ticker, "bid", "0.31", "1"))
        assert r.status_code == 400 and r.json()["error"]["code"] == "trading_paused"
        assert trader.post(f"{ORDERS}/{resting}/decrease", json={"reduce_by": "1"}).status_code == 200

        admin(sim, "POST", "/pause", json={"exchange": True})
        assert trader.get("/exchange/status").json()["exchange_active"] is False
        assert trader.delete(f"{ORDERS}/{resting}").status_code == 503
    finally:
        admin(sim, "POST", "/pause", json={"trading": False, "exchange": False})
    assert trader.delete(f"{ORDERS}/{resting}").status_code == 200
    assert trader.get("/exchange/status").json()["trading_active"] is True


def test_health(sim):
    body = admin(sim, "GET", "/health")
    assert body["ok"] is True and body["markets"] >= 1 and body["accounts"] >= 1
    assert isinstance(body["now_ms"], int)
