"""The simulator's request authentication, over real loopback sockets.

The first group runs the auth middleware in-process (aiohttp on 127.0.0.1:0) with a probe route, so
each refusal can be checked against a side effect that must not happen. The second group signs real
requests to a running `edgedesk sim` with the key files it provisioned.
"""

from __future__ import annotations

import json
import time

import httpx
import pytest
from aiohttp import web

from console.sim.clock import SimClock
from console.sim.keys import new_api_key
from console.sim.model import Account
from console.sim.server import build_app
from console.sim.state import ACCOUNT_ID, SimState
from console.venues.kalshi.auth import HEADER_SIGNATURE, HEADER_TIMESTAMP, KalshiAuth, Signer

PROBE = "/trade-api/v2/portfolio/probe"


class _AccountsOnly:
    """Just enough exchange for the middleware: accounts and a tick."""

    def __init__(self) -> None:
        self.accounts: dict[str, Account] = {}

    def create_account(self, account_id: str, balance: int) -> Account:
        self.accounts[account_id] = Account(account_id=account_id, balance=balance)
        return self.accounts[account_id]

    def tick(self) -> None:
        pass


@pytest.fixture
async def probe_server():
    """In-process server whose POST probe records who called it (the side effect refusals must not cause)."""
    clock = SimClock()
    state = SimState(exchange=_AccountsOnly(), clock=clock)  # type: ignore[arg-type]
    state.exchange.create_account("alice", 0)
    calls: list[str] = []
    app = build_app(state, install_routes=False)

    async def probe(request: web.Request) -> web.Response:
        calls.append(request[ACCOUNT_ID])
        return web.json_response({"account_id": request[ACCOUNT_ID]})

    app.router.add_post(PROBE, probe)
    app.router.add_get(PROBE + "/{name}", probe)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    keys = {kind: new_api_key(state, "alice", kind) for kind in ("rsa", "ed25519")}
    yield f"http://127.0.0.1:{port}", state, keys, calls
    await runner.cleanup()


def _client(base: str, signer: Signer) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=base, auth=KalshiAuth(signer), timeout=5)


async def _assert_refused(response: httpx.Response, code: str, calls: list[str]) -> None:
    assert response.status_code == 401, response.text
    assert response.json()["error"]["code"] == code
    assert response.json()["error"]["message"]
    assert calls == [], "a refused request reached the handler"


@pytest.mark.parametrize("kind", ["rsa", "ed25519"])
async def test_signed_request_reaches_handler_as_its_account(probe_server, kind):
    base, _state, keys, calls = probe_server
    key_id, pem = keys[kind]
    async with _client(base, Signer(key_id, pem)) as c:
        r = await c.post(PROBE, json={})
        r2 = await c.get(PROBE + "/x", params={"q": "with query"})  # query is not signed
        r3 = await c.get(PROBE + "/a%20b")  # percent-encoded path is signed as sent
    assert r.status_code == 200 and r.json() == {"account_id": "alice"}
    assert r2.status_code == 200 and r3.status_code == 200
    assert calls == ["alice"] * 3


async def test_rsa_pkcs8_key_also_signs(probe_server):
    base, state, _keys, calls = probe_server
    key_id, pem = new_api_key(state, "alice", "rsa", pkcs1=False)
    assert pem.startswith(b"-----BEGIN PRIVATE KEY")
    async with _client(base, Signer(key_id, pem)) as c:
        assert (await c.post(PROBE, json={})).status_code == 200
    assert calls == ["alice"]


async def test_unsigned_private_request_is_401(probe_server):
    base, _state, _keys, calls = probe_server
    async with httpx.AsyncClient(base_url=base) as c:
        r = await c.post(PROBE, json={})
    await _assert_refused(r, "authentication_error", calls)
    assert "KALSHI-ACCESS-KEY" in r.json()["error"]["details"]


async def test_tampered_signature_is_401(probe_server):
    base, _state, keys, calls = probe_server
    key_id, pem = keys["rsa"]
    signer = Signer(key_id, pem)
    headers = signer.headers("POST", PROBE)
    sig = headers[HEADER_SIGNATURE]
    headers[HEADER_SIGNATURE] = ("A" if sig[0] != "A" else "B") + sig[1:]
    async with httpx.AsyncClient(base_url=base) as c:
        r = await c.post(PROBE, json={}, headers=headers)
    await _assert_refused(r, "invalid_signature", calls)


async def test_signature_for_another_path_is_401(probe_server):
    base, _state, keys, calls = probe_server
    key_id, pem = keys["ed25519"]
    headers = Signer(key_id, pem).headers("POST", "/trade-api/v2/portfolio/balance")
    async with httpx.AsyncClient(base_url=base) as c:
        r = await c.post(PROBE, json={}, headers=headers)
    await _assert_refused(r, "invalid_signature", calls)


async def test_signature_for_another_method_is_401(probe_server):
    base, _state, keys, calls = probe_server
    key_id, pem = keys["ed25519"]
    headers = Signer(key_id, pem).headers("GET", PROBE)
    async with httpx.AsyncClient(base_url=base) as c:
        r = await c.post(PROBE, json={}, headers=headers)
    await _assert_refused(r, "invalid_signature", calls)


@pytest.mark.parametrize("skew_s", [-31, 31, -3600])
async def test_timestamp_outside_30s_is_401(probe_server, skew_s):
    base, _state, keys, calls = probe_server
    key_id, pem = keys["rsa"]
    signer = Signer(key_id, pem, now_ms=lambda: int(time.time() * 1000) + skew_s * 1000)
    async with _client(base, signer) as c:
        r = await c.post(PROBE, json={})
    await _assert_refused(r, "stale_timestamp", calls)


async def test_timestamp_inside_window_is_accepted(probe_server):
    base, _state, keys, calls = probe_server
    key_id, pem = keys["rsa"]
    signer = Signer(key_id, pem, now_ms=lambda: int(time.time() * 1000) - 20_000)
    async with _client(base, signer) as c:
        assert (await c.post(PROBE, json={})).status_code == 200
    assert calls == ["alice"]


async def test_non_numeric_timestamp_is_401(probe_server):
    base, _state, keys, calls = probe_server
    key_id, pem = keys["rsa"]
    headers = Signer(key_id, pem).headers("POST", PROBE)
    headers[HEADER_TIMESTAMP] = "2026-11-22T00:00:00Z"
    async with httpx.AsyncClient(base_url=base) as c:
        r = await c.post(PROBE, json={}, headers=headers)
    await _assert_refused(r, "authentication_error", calls)


async def test_unknown_key_is_401(probe_server):
    base, _state, keys, calls = probe_server
    _key_id, pem = keys["rsa"]
    async with _client(base, Signer("00000000-0000-0000-0000-000000000000", pem)) as c:
        r = await c.post(PROBE, json={})
    await _assert_refused(r, "unknown_api_key", calls)


async def test_public_market_data_needs_no_signature_but_a_bad_one_is_refused(probe_server):
    base, _state, keys, _calls = probe_server
    async with httpx.AsyncClient(base_url=base) as c:
        unsigned = await c.get("/trade-api/v2/markets")
        bad = await c.get("/trade-api/v2/markets", headers={"KALSHI-ACCESS-KEY": "nope",
                                                             "KALSHI-ACCESS-TIMESTAMP": str(int(time.time() * 1000)),
                                                             "KALSHI-ACCESS-SIGNATURE": "AAAA"})
    # no markets route in this probe app: a 404 (not a 401) proves auth let it through
    assert unsigned.status_code == 404 and unsigned.json()["error"]["code"] == "not_found"
    assert bad.status_code == 401 and bad.json()["error"]["code"] == "unknown_api_key"


# --- against the running simulator (real routes, key files it provisioned) -------------------------

BALANCE = "/portfolio/balance"


@pytest.mark.parametrize("name,head", [("desk", b"-----BEGIN RSA PRIVATE KEY"),
                                       ("acct1", b"-----BEGIN PRIVATE KEY"),
                                       ("acct2", b"-----BEGIN PRIVATE KEY")])
def test_provisioned_keys_of_every_format_sign_real_requests(sim, name, head):
    from pathlib import Path

    entry = sim.accounts[name]
    assert Path(entry["private_key_path"]).read_bytes().startswith(head)
    r = sim.client(name).get(BALANCE)
    assert r.status_code == 200, r.text
    assert "balance_dollars" in r.json()


def test_unsigned_private_request_to_sim_is_401(sim):
    r = sim.public_client().get(BALANCE)
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "authentication_error"


def _order(ticker: str) -> dict:
    return {"ticker": ticker, "side": "bid", "count": "1.00", "price": "0.0100",
            "time_in_force": "good_till_canceled", "self_trade_prevention_type": "taker_at_cross"}


def _resting_orders(client) -> list:
    r = client.get("/portfolio/orders")
    assert r.status_code == 200, r.text
    return r.json()["orders"]


def test_refused_order_writes_change_nothing(sim):
    trader = sim.new_account(balance_dollars="100")
    ticker = sim.new_market()
    balance_before = trader.get(BALANCE).json()
    path = "/trade-api/v2/portfolio/events/orders"
    good = trader.signer.headers("POST", path)
    tampered = dict(good, **{HEADER_SIGNATURE: good[HEADER_SIGNATURE][::-1]})
    wrong_path = trader.signer.headers("POST", "/trade-api/v2/portfolio/orders")
    stale = trader.signer.with_clock(lambda: int(time.time() * 1000) - 60_000).headers("POST", path)
    unknown = dict(good, **{"KALSHI-ACCESS-KEY": "11111111-2222-3333-4444-555555555555"})
    with httpx.Client(base_url=sim.root_url, timeout=5) as raw:
        for headers, code in ((tampered, "invalid_signature"), (wrong_path, "invalid_signature"),
                              (stale, "stale_timestamp"), (unknown, "unknown_api_key"), ({}, "authentication_error")):
            r = raw.post(path, json=_order(ticker), headers=headers)
            assert r.status_code == 401, (code, r.text)
            assert r.json()["error"]["code"] == code
    assert _resting_orders(trader) == []
    assert trader.get(BALANCE).json()["balance_dollars"] == balance_before["balance_dollars"]
    # and the same order, properly signed, goes through
    assert trader.post("/portfolio/events/orders", json=_order(ticker)).status_code == 201
    assert len(_resting_orders(trader)) == 1


def test_rate_limited_writes_answer_429_then_recover(sim):
    trader = sim.new_account(balance_dollars="100", key_type="ed25519")
    ticker = sim.new_market()
    statuses = [trader.post("/portfolio/events/orders", json=_order(ticker)).status_code for _ in range(12)]
    assert statuses.count(201) >= 10 and statuses[-1] == 429, statuses  # basic write bucket: 10 creates
    refused = trader.post("/portfolio/events/orders", json=_order(ticker))
    assert refused.status_code == 429 and refused.json() == {"error": "too many requests"}
    placed = statuses.count(201)
    assert len(_resting_orders(trader)) == placed  # 429s placed nothing
    time.sleep(0.25)
    assert trader.post("/portfolio/events/orders", json=_order(ticker)).status_code == 201
    assert len(_resting_orders(trader)) == placed + 1


def test_websocket_handshake_needs_a_signature(sim):
    import websockets.sync.client as ws_client
    from websockets.exceptions import InvalidStatus

    with pytest.raises(InvalidStatus) as info:
        ws_client.connect(sim.ws_url, open_timeout=5)
    assert info.value.response.status_code == 401
    with ws_client.connect(sim.ws_url, additional_headers=sim.ws_headers("acct1"), open_timeout=5) as conn:
        conn.send(json.dumps({"id": 1, "cmd": "list_subscriptions"}))
        reply = json.loads(conn.recv(timeout=5))
    assert reply["id"] == 1 and reply["type"] == "ok"
