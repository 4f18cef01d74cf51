"""The Polymarket mirror over real sockets: Gamma discovery, CLOB REST, the market WebSocket channel.

The `sim` fixture's `edgedesk sim` serves the mirror on the port of its second stdout line. The mirror
needs the market world; while `edgedesk sim` does not run the world yet, the same applications (Kalshi
app, world, mirror, installed as the server installs them) run in process on loopback instead.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import httpx
import pytest
from websockets.sync.client import connect

from polymarket_helpers import ThreadedSim, price_pips, recipe_hash

GAMMA_FIELDS = ("id", "question", "slug", "conditionId", "clobTokenIds", "outcomes", "outcomePrices", "endDate",
                "active", "closed", "negRisk", "orderPriceMinTickSize", "orderMinSize", "feesEnabled",
                "takerBaseFee", "makerBaseFee", "feeSchedule", "description")


@dataclass
class Mirror:
    url: str
    kalshi_url: str
    markets: list[dict]

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://") + "/ws/market"

    def tokens(self, market: dict) -> list[str]:
        return json.loads(market["clobTokenIds"])


@pytest.fixture(scope="module")
def mirror(sim):
    url = sim.polymarket_url
    threaded = None
    r = httpx.get(f"{url}/gamma/markets/keyset", params={"limit": 100}, timeout=10)
    kalshi_url = sim.base_url
    if r.status_code == 503:  # `edgedesk sim` without the world: serve the same apps in process
        threaded = ThreadedSim(seed=4).start()
        url, kalshi_url = threaded.polymarket_url, threaded.kalshi_url
        r = httpx.get(f"{url}/gamma/markets/keyset", params={"limit": 100}, timeout=10)
    assert r.status_code == 200, r.text
    yield Mirror(url, kalshi_url, r.json()["markets"])
    if threaded is not None:
        threaded.stop()


def test_edgedesk_sim_prints_the_mirror_line_and_the_mirror_answers(sim) -> None:
    url = sim.polymarket_url
    assert url.startswith("http://127.0.0.1:") and int(url.rsplit(":", 1)[1]) not in (0, sim.port)
    assert httpx.get(f"{url}/ok", timeout=5).json() == "OK"
    server_s = httpx.get(f"{url}/time", timeout=5).json()
    sim_now_s = httpx.get(f"{sim.admin_url}/clock", timeout=5).json()["now_ms"] // 1000
    assert isinstance(server_s, int) and abs(server_s - sim_now_s) <= 2  # the simulated clock, shared with Kalshi
    missing = httpx.get(f"{url}/no-such-endpoint", timeout=5)
    assert missing.status_code == 404 and "error" in missing.json()


def test_gamma_keyset_pages_through_every_mirrored_market(mirror) -> None:
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 4, **({"after_cursor": cursor} if cursor else {})}
        body = httpx.get(f"{mirror.url}/gamma/markets/keyset", params=params, timeout=10).json()
        pages += 1
        seen += [m["id"] for m in body["markets"]]
        cursor = body.get("next_cursor")
        if cursor is None:
            break
    assert pages == 3 and len(seen) == len(set(seen)) == len(mirror.markets) == 11
    for m in mirror.markets:
        assert all(f in m for f in GAMMA_FIELDS), [f for f in GAMMA_FIELDS if f not in m]
        tokens, outcomes = json.loads(m["clobTokenIds"]), json.loads(m["outcomes"])
        assert len(tokens) == len(outcomes) == 2 and all(t.isdigit() for t in tokens)
        assert m["conditionId"].startswith("0x") and len(m["conditionId"]) == 66
        assert sum(price_pips(p) for p in json.loads(m["outcomePrices"])) == 10_000
        assert m["active"] is True and m["closed"] is False and m["endDate"].endswith("Z")
        assert m["orderPriceMinTickSize"] in (0.01, 0.001) and m["orderMinSize"] == 5
    assert {tuple(json.loads(m["outcomes"])) for m in mirror.markets} > {("Yes", "No")}  # some use party names
    refused = httpx.get(f"{mirror.url}/gamma/markets/keyset", params={"offset": 20}, timeout=10)
    assert refused.status_code == 400 and "after_cursor" in refused.json()["error"]
    assert httpx.get(f"{mirror.url}/gamma/markets/keyset", params={"limit": 101}, timeout=10).status_code == 400
    closed = httpx.get(f"{mirror.url}/gamma/markets/keyset", params={"closed": "true"}, timeout=10).json()
    assert closed == {"markets": []}
    one = mirror.markets[5]
    by_slug = httpx.get(f"{mirror.url}/gamma/markets/slug/{one['slug']}", timeout=10).json()
    by_id = httpx.get(f"{mirror.url}/gamma/markets/{one['id']}", timeout=10).json()
    by_condition = httpx.get(f"{mirror.url}/gamma/markets/keyset", params={"condition_ids": one["conditionId"]},
                             timeout=10).json()["markets"]
    assert by_slug["id"] == by_id["id"] == one["id"] and [m["id"] for m in by_condition] == [one["id"]]


def _books(mirror, tokens: list[str]) -> list[dict]:
    r = httpx.post(f"{mirror.url}/books", json=[{"token_id": t} for t in tokens], timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def test_rest_books_hash_reproduce_and_the_two_tokens_are_complements(mirror) -> None:
    for m in mirror.markets:
        yes, no = _books(mirror, mirror.tokens(m))  # one request: one instant
        for book in (yes, no):
            assert recipe_hash(book, book["min_order_size"], book["neg_risk"]) == book["hash"]
            assert book["min_order_size"] == "5" and book["neg_risk"] is m["negRisk"]
            bids, asks = [price_pips(b["price"]) for b in book["bids"]], [price_pips(a["price"]) for a in book["asks"]]
            assert bids == sorted(bids) and asks == sorted(asks, reverse=True)  # best last, as the real CLOB
            assert bids and asks and bids[-1] < asks[-1]
        assert sorted((10_000 - price_pips(a["price"]), a["size"]) for a in yes["asks"]) == \
            sorted((price_pips(b["price"]), b["size"]) for b in no["bids"])


def test_price_midpoint_spread_and_tick_size_agree_with_the_book(mirror) -> None:
    token = mirror.tokens(mirror.markets[2])[1]
    for _ in range(20):  # the book moves; retry until a /book before and after the reads agree
        before = httpx.get(f"{mirror.url}/book", params={"token_id": token}, timeout=10).json()
        buy = httpx.get(f"{mirror.url}/price", params={"token_id": token, "side": "BUY"}, timeout=10).json()
        sell = httpx.get(f"{mirror.url}/price", params={"token_id": token, "side": "SELL"}, timeout=10).json()
        mid = httpx.get(f"{mirror.url}/midpoint", params={"token_id": token}, timeout=10).json()
        spread = httpx.get(f"{mirror.url}/spread", params={"token_id": token}, timeout=10).json()
        after = httpx.get(f"{mirror.url}/book", params={"token_id": token}, timeout=10).json()
        if (before["bids"], before["asks"]) == (after["bids"], after["asks"]):
            break
    else:
        pytest.fail("the book never held still for five requests")
    best_bid, best_ask = price_pips(after["bids"][-1]["price"]), price_pips(after["asks"][-1]["price"])
    assert price_pips(buy["price"]) == best_bid and price_pips(sell["price"]) == best_ask  # BUY = bid, SELL = ask
    assert price_pips(mid["mid"]) == (best_bid + best_ask) // 2
    assert price_pips(spread["spread"]) == best_ask - best_bid
    tick = httpx.get(f"{mirror.url}/tick-size", params={"token_id": token}, timeout=10).json()
    assert tick == {"minimum_tick_size": float(after["tick_size"])}


def test_fee_rates_and_errors(mirror) -> None:
    pairs = httpx.get(f"{mirror.url}/sim/pairs", timeout=10).json()
    for pair in pairs:
        fee = httpx.get(f"{mirror.url}/fee-rate", params={"token_id": pair["token_ids"][0]}, timeout=10).json()
        assert fee == {"base_fee": 400 if pair["fee_rate"] == "0.04" else 0}
    assert {p["fee_rate"] for p in pairs} == {"0", "0.04"}
    unknown = httpx.get(f"{mirror.url}/book", params={"token_id": "123"}, timeout=10)
    assert unknown.status_code == 404 and unknown.json() == {"error": "No orderbook exists for the requested token id"}
    assert httpx.get(f"{mirror.url}/book", timeout=10).status_code == 400
    bad_side = httpx.get(f"{mirror.url}/price", params={"token_id": pairs[0]["token_ids"][0], "side": "HOLD"},
                         timeout=10)
    assert bad_side.status_code == 400 and "BUY or SELL" in bad_side.json()["error"]
    assert httpx.post(f"{mirror.url}/books", content=b"{}", timeout=10).status_code == 400


def test_pairs_are_a_third_of_the_election_markets_priced_near_their_kalshi_twins(mirror) -> None:
    pairs = httpx.get(f"{mirror.url}/sim/pairs", timeout=10).json()
    assert len(pairs) == 11
    assert {p["variant"] for p in pairs} == {"control", "identity", "named", "inverted", "close_time", "wording"}
    with httpx.Client(base_url=mirror.kalshi_url, timeout=10) as kalshi:
        for pair in pairs:
            assert pair["kalshi_yes_token_id"] in pair["token_ids"]
            assert (pair["relation"] == "identity") == (pair["kalshi_yes_token_id"] == pair["token_ids"][0])
            k = kalshi.get(f"/markets/{pair['kalshi_ticker']}").json()["market"]
            kalshi_yes = (price_pips(k["yes_bid_dollars"]) + price_pips(k["yes_ask_dollars"])) / 2
            twin = httpx.get(f"{mirror.url}/midpoint", params={"token_id": pair["kalshi_yes_token_id"]},
                             timeout=10).json()
            assert abs(price_pips(twin["mid"]) - kalshi_yes) <= 2000, (pair["slug"], twin, kalshi_yes)


def _recv_json(ws, timeout: float):
    while True:
        frame = ws.recv(timeout=timeout)
        if frame != "PONG":
            return json.loads(frame)


def test_websocket_dumps_books_then_streams_paired_changes_whose_hashes_reproduce(mirror) -> None:
    neg_risk = {t: m["negRisk"] for m in mirror.markets for t in mirror.tokens(m)}
    tokens = list(neg_risk)
    books: dict[str, dict] = {}
    kinds: dict[str, int] = {}
    with connect(mirror.ws_url) as ws:
        ws.send(json.dumps({"assets_ids": tokens, "type": "market"}))
        dump = _recv_json(ws, 10)
        assert isinstance(dump, list) and {b["asset_id"] for b in dump} == set(tokens)
        for book in dump:
            assert book["event_type"] == "book" and "min_order_size" not in book
            assert recipe_hash(book, "5", neg_risk[book["asset_id"]]) == book["hash"]
            books[book["asset_id"]] = book
        ws.send("PING")
        deadline, checked = time.monotonic() + 30, 0
        while time.monotonic() < deadline and (checked < 40 or "last_trade_price" not in kinds):
            msg = _recv_json(ws, 10)
            kinds[msg["event_type"]] = kinds.get(msg["event_type"], 0) + 1
            if msg["event_type"] == "book":
                assert recipe_hash(msg, "5", neg_risk[msg["asset_id"]]) == msg["hash"]
                books[msg["asset_id"]] = msg
            elif msg["event_type"] == "price_change":
                entries = msg["price_changes"]
                for yes, no in zip(entries[::2], entries[1::2], strict=True):
                    assert price_pips(yes["price"]) + price_pips(no["price"]) == 10_000
                    assert yes["size"] == no["size"] and {yes["side"], no["side"]} == {"BUY", "SELL"}
                for e in entries:  # absolute sizes: replace the level, "0" removes it; then the hash must match
                    book = books[e["asset_id"]]
                    side = "bids" if e["side"] == "BUY" else "asks"
                    levels = {lv["price"]: lv["size"] for lv in book[side]}
                    levels[e["price"]] = e["size"]
                    ordered = sorted((price_pips(p), p, s) for p, s in levels.items() if s != "0")
                    if side == "asks":
                        ordered.reverse()
                    book[side] = [{"price": p, "size": s} for _, p, s in ordered]
                    book["timestamp"] = msg["timestamp"]
                    assert recipe_hash(book, "5", neg_risk[e["asset_id"]]) == e["hash"]
                    best_bid = book["bids"][-1]["price"] if book["bids"] else "0"
                    best_ask = book["asks"][-1]["price"] if book["asks"] else "1"
                    assert (e["best_bid"], e["best_ask"]) == (best_bid, best_ask)
                    checked += 1
            elif msg["event_type"] == "last_trade_price":
                assert set(msg) == {"asset_id", "event_type", "fee_rate_bps", "market", "price", "side", "size",
                                    "timestamp", "transaction_hash"}
                assert msg["side"] in ("BUY", "SELL") and msg["fee_rate_bps"] in ("0", "400")
                books[msg["asset_id"]]["last_trade_price"] = msg["price"]
    assert checked >= 40 and kinds.get("last_trade_price", 0) >= 1, kinds
    assert "best_bid_ask" not in kinds  # custom features were not asked for


def test_ping_pong_dynamic_subscribe_and_invalid_operations(mirror) -> None:
    a, b = mirror.tokens(mirror.markets[0]), mirror.tokens(mirror.markets[1])
    with connect(mirror.ws_url) as ws:
        ws.send("PING")
        assert ws.recv(timeout=5) == "PONG"
        ws.send(json.dumps({"assets_ids": a[:1], "type": "market", "initial_dump": False}))
        ws.send(json.dumps({"asset_ids": b}))  # the singular key is not the protocol
        assert ws.recv(timeout=5) == "INVALID OPERATION"
        ws.send(json.dumps({"assets_ids": b, "operation": "subscribe"}))
        dump = _recv_json(ws, 5)
        assert isinstance(dump, list) and [x["asset_id"] for x in dump] == b  # only the new assets
        ws.send(json.dumps({"assets_ids": a[:1] + b, "operation": "unsubscribe"}))
        ws.send("PING")
        while (frame := ws.recv(timeout=5)) != "PONG":
            pass  # messages sent before the unsubscribe took effect
        quiet_until = time.monotonic() + 2
        while time.monotonic() < quiet_until:
            try:
                frame = ws.recv(timeout=quiet_until - time.monotonic())
            except TimeoutError:
                break
            pytest.fail(f"data after unsubscribing everything: {frame[:120]}")


def test_tick_size_change_is_followed_by_fresh_books_on_the_new_grid(mirror) -> None:
    market = mirror.markets[7]
    tokens = mirror.tokens(market)
    try:
        with connect(mirror.ws_url) as ws:
            ws.send(json.dumps({"assets_ids": tokens, "type": "market"}))
            assert isinstance(_recv_json(ws, 5), list)
            r = httpx.post(f"{mirror.url}/sim/tick-size", json={"condition_id": market["conditionId"],
                                                                  "tick_size": "0.001"}, timeout=10)
            assert r.status_code == 200, r.text
            seen: list[dict] = []
            while len([m for m in seen if m["event_type"] == "book"]) < 2:
                msg = _recv_json(ws, 5)
                if msg["event_type"] in ("tick_size_change", "book"):
                    seen.append(msg)
            changes = [m for m in seen if m["event_type"] == "tick_size_change"]
            assert seen[:2] == changes and {m["asset_id"] for m in changes} == set(tokens)
            assert all((m["old_tick_size"], m["new_tick_size"]) == ("0.01", "0.001") for m in changes)
            assert all(m["tick_size"] == "0.001" for m in seen[2:])
        tick = httpx.get(f"{mirror.url}/tick-size", params={"token_id": tokens[0]}, timeout=10).json()
        assert tick == {"minimum_tick_size": 0.001}
    finally:
        httpx.post(f"{mirror.url}/sim/tick-size", json={"condition_id": market["conditionId"], "tick_size": "0.01"},
                   timeout=10)
        httpx.post(f"{mirror.url}/sim/tick-size", json={"condition_id": market["conditionId"], "tick_size": "auto"},
                   timeout=10)
