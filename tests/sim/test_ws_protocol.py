"""The simulator's Kalshi WebSocket protocol over a real socket: handshake auth, commands, replies, errors.

Shapes and codes follow kalshi-api.md 9.2-9.4. Every test uses its own market(s) on the shared
`sim` server.
"""

from __future__ import annotations

import json

import pytest
import websockets
from kalshi_ws_client import WS_PATH, ws_connect

from console.venues.kalshi.auth import HEADER_KEY, HEADER_SIGNATURE, HEADER_TIMESTAMP


async def _refused_status(url: str, headers: dict[str, str]) -> int:
    with pytest.raises(websockets.exceptions.InvalidStatus) as info:
        async with websockets.connect(url, additional_headers=headers):
            pass
    return info.value.response.status_code


async def test_handshake_without_signature_is_refused(sim) -> None:
    assert await _refused_status(sim.ws_url, {}) == 401


async def test_handshake_with_a_bad_signature_is_refused(sim) -> None:
    signer = sim.signer("acct1")
    # signed for a REST path: a valid signature, but not over GET /trade-api/ws/v2
    wrong_path = signer.headers("GET", "/trade-api/v2/portfolio/balance")
    assert await _refused_status(sim.ws_url, wrong_path) == 401
    good = signer.headers("GET", WS_PATH)
    tampered = {**good, HEADER_SIGNATURE: good[HEADER_SIGNATURE][:-8] + "AAAAAAA="}
    assert await _refused_status(sim.ws_url, tampered) == 401
    stale = {**good, HEADER_TIMESTAMP: str(int(good[HEADER_TIMESTAMP]) - 120_000)}
    assert await _refused_status(sim.ws_url, stale) == 401
    unknown_key = {**good, HEADER_KEY: "00000000-0000-0000-0000-000000000000"}
    assert await _refused_status(sim.ws_url, unknown_key) == 401


async def test_subscribe_list_and_unsubscribe(sim) -> None:
    ticker = sim.new_market()
    async with ws_connect(sim.ws_url, sim.signer("acct1")) as ws:
        await ws.send("subscribe", {"channels": ["ticker", "trade"], "market_ticker": ticker})
        first, second = await ws.recv(), await ws.recv()
        assert first == {"id": 1, "type": "subscribed", "msg": {"channel": "ticker", "sid": 1}}
        assert second == {"id": 1, "type": "subscribed", "msg": {"channel": "trade", "sid": 2}}

        listing = await ws.command("list_subscriptions")
        assert listing == {"id": 2, "type": "ok",
                           "msg": [{"channel": "ticker", "sid": 1}, {"channel": "trade", "sid": 2}]}

        gone = await ws.command("unsubscribe", {"sids": [1]})
        assert gone == {"id": 3, "sid": 1, "seq": 1, "type": "unsubscribed"}
        listing = await ws.command("list_subscriptions")
        assert listing["msg"] == [{"channel": "trade", "sid": 2}]
        assert await ws.quiet(0.2) == []


ERROR_CASES = [
    ("not json", "{nope", None, 1),
    ("not an object", "[1, 2]", None, 1),
    ("subscribe without params", {"id": 7, "cmd": "subscribe"}, 7, 2),
    ("subscribe without channels", {"id": 7, "cmd": "subscribe", "params": {"market_ticker": "{t}"}}, 7, 3),
    ("unsubscribe without sids", {"id": 7, "cmd": "unsubscribe", "params": {}}, 7, 4),
    ("unknown command", {"id": 7, "cmd": "subscribe_all"}, 7, 5),
    ("unknown sid", {"id": 7, "cmd": "unsubscribe", "params": {"sids": [99]}}, 7, 7),
    ("unknown channel", {"id": 7, "cmd": "subscribe", "params": {"channels": ["ticker_v2"]}}, 7, 8),
    ("bad flag type", {"id": 7, "cmd": "subscribe",
                       "params": {"channels": ["orderbook_delta"], "market_ticker": "{t}", "use_yes_price": "yes"}}, 7, 11),
    ("unknown market", {"id": 7, "cmd": "subscribe",
                        "params": {"channels": ["trade"], "market_ticker": "NO-SUCH-MARKET"}}, 7, 11),
    ("two sids", {"id": 7, "cmd": "update_subscription",
                  "params": {"sids": [1, 2], "action": "add_markets", "market_ticker": "{t}"}}, 7, 12),
    ("sid and sids", {"id": 7, "cmd": "update_subscription",
                      "params": {"sid": 1, "sids": [1], "action": "add_markets", "market_ticker": "{t}"}}, 7, 12),
    ("bad action", {"id": 7, "cmd": "update_subscription",
                    "params": {"sid": 1, "action": "replace_markets", "market_ticker": "{t}"}}, 7, 13),
    ("orderbook without market", {"id": 7, "cmd": "subscribe", "params": {"channels": ["orderbook_delta"]}}, 7, 14),
    ("update without market", {"id": 7, "cmd": "update_subscription", "params": {"sid": 1, "action": "add_markets"}}, 7, 14),
    ("update without action", {"id": 7, "cmd": "update_subscription", "params": {"sid": 1, "market_ticker": "{t}"}}, 7, 15),
]


@pytest.mark.parametrize(("frame", "cmd_id", "code"), [c[1:] for c in ERROR_CASES], ids=[c[0] for c in ERROR_CASES])
async def test_command_errors_carry_kalshi_codes(sim, frame, cmd_id, code) -> None:
    ticker = sim.new_market()
    async with ws_connect(sim.ws_url, sim.signer("acct1")) as ws:
        # sid 1 exists (a ticker subscription) so the update cases reach their own check
        await ws.send("subscribe", {"channels": ["ticker"], "market_ticker": ticker}, cmd_id=1)
        assert (await ws.recv())["type"] == "subscribed"
        text = frame if isinstance(frame, str) else json.dumps(frame).replace("{t}", ticker)
        await ws.send_raw(text)
        reply = await ws.recv()
        assert reply["type"] == "error", reply
        assert reply["msg"]["code"] == code, reply
        assert reply.get("id") == cmd_id
        assert isinstance(reply["msg"]["msg"], str) and reply["msg"]["msg"]
        # nothing was created by a refused command
        listing = await ws.command("list_subscriptions")
        assert listing["msg"] == [{"channel": "ticker", "sid": 1}]


async def test_update_subscription_adds_deletes_and_acks_with_the_full_list(sim) -> None:
    a, b, c = sim.new_market(), sim.new_market(), sim.new_market()
    async with ws_connect(sim.ws_url, sim.signer("acct1")) as ws:
        await ws.send("subscribe", {"channels": ["orderbook_delta"], "market_ticker": a})
        assert (await ws.recv())["type"] == "subscribed"
        snap = await ws.recv()
        assert snap["type"] == "orderbook_snapshot" and snap["seq"] == 1 and snap["msg"]["market_ticker"] == a

        ok = await ws.command("update_subscription", {"sid": 1, "market_tickers": [b, c], "action": "add_markets"})
        assert ok == {"id": 2, "sid": 1, "seq": 2, "type": "ok", "msg": {"market_tickers": [a, b, c]}}
        snaps = [await ws.recv(), await ws.recv()]  # new markets get their snapshot after the ok
        assert [(s["type"], s["seq"], s["msg"]["market_ticker"]) for s in snaps] == [
            ("orderbook_snapshot", 3, b), ("orderbook_snapshot", 4, c)]

        ok = await ws.command("update_subscription", {"sids": [1], "market_ticker": a, "action": "delete_markets"})
        assert ok == {"id": 3, "sid": 1, "seq": 5, "type": "ok", "msg": {"market_tickers": [b, c]}}

        # subscribing again to a held channel adds to the same sid (no second subscription)
        again = await ws.command("subscribe", {"channels": ["orderbook_delta"], "market_tickers": [c, a]})
        assert again == {"id": 4, "sid": 1, "seq": 6, "type": "ok", "msg": {"market_tickers": [b, c, a]}}
        snap = await ws.recv()
        assert (snap["type"], snap["seq"], snap["msg"]["market_ticker"]) == ("orderbook_snapshot", 7, a)
        listing = await ws.command("list_subscriptions")
        assert listing["msg"] == [{"channel": "orderbook_delta", "sid": 1}]
        gone = await ws.command("unsubscribe", {"sids": [1]})
        assert gone == {"id": 6, "sid": 1, "seq": 8, "type": "unsubscribed"}


async def test_skip_ticker_ack_omits_the_ticker_list(sim) -> None:
    a, b = sim.new_market(), sim.new_market()
    async with ws_connect(sim.ws_url, sim.signer("acct1")) as ws:
        await ws.send("subscribe", {"channels": ["trade"], "market_ticker": a, "skip_ticker_ack": True})
        assert (await ws.recv())["type"] == "subscribed"
        ok = await ws.command("update_subscription", {"sid": 1, "market_ticker": b, "action": "add_markets"})
        assert ok == {"id": 2, "sid": 1, "seq": 1, "type": "ok"}


async def test_get_snapshot_is_only_for_orderbook_and_its_own_markets(sim) -> None:
    a, b = sim.new_market(), sim.new_market()
    async with ws_connect(sim.ws_url, sim.signer("acct1")) as ws:
        await ws.send("subscribe", {"channels": ["orderbook_delta", "trade"], "market_ticker": a})
        await ws.recv_until(lambda m: m["type"] == "subscribed" and m["msg"]["channel"] == "trade")
        wrong_channel = await ws.command("update_subscription", {"sid": 2, "market_ticker": a, "action": "get_snapshot"})
        assert wrong_channel["msg"]["code"] == 13 and wrong_channel["sid"] == 2
        not_held = await ws.command("update_subscription", {"sid": 1, "market_ticker": b, "action": "get_snapshot"})
        assert not_held["msg"]["code"] == 11 and not_held["msg"]["market_tickers"] == [b]
        snap = await ws.command("update_subscription", {"sid": 1, "market_ticker": a, "action": "get_snapshot"})
        assert snap["type"] == "orderbook_snapshot" and snap["msg"]["market_ticker"] == a
        # seq on sid 1: 1 initial snapshot, 2 the error above, 3 this snapshot
        assert snap["seq"] == 3
