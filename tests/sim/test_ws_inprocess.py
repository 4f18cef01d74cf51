"""Kalshi WebSocket behaviour that needs the simulator in-process: heartbeat timing and buffer overflow.

These build the real app (`build_app`) on a private `SimState` so a test can shorten the heartbeat
interval and the outgoing queue limit through `state.extras["kalshi_ws"]`, and drive the exchange core
directly to produce a burst the client cannot possibly drain in between.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import aiohttp
from aiohttp import web

from console.domain.units import contracts, parse_price
from console.sim.events import BookSide
from console.sim.model import OrderRequest, SelfTradePrevention, TimeInForce
from console.sim.server import build_app, make_state
from console.sim.state import WS_PATH
from console.sim.ws_connection import WsSettings
from console.venues.kalshi.auth import Signer

YES_MARKET = "KXDEMOHIGH-DAY1-B60"
OTHER_MARKET = "KXDEMOHIGH-DAY1-B62"


async def _start(tmp_path: Path, settings: WsSettings):
    state = make_state(key_dir=tmp_path / "keys", accounts=2, balance_micros=10**12, seed=1, speed=1.0)
    state.extras["kalshi_ws"] = settings
    runner = web.AppRunner(build_app(state), handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # aiohttp has no public accessor for the bound port
    entry = next(e for e in state.extras["accounts"] if e["name"] == "acct1")
    signer = Signer(entry["api_key_id"], entry["private_key_path"])
    return state, runner, f"ws://127.0.0.1:{port}{WS_PATH}", signer, entry["account_id"]


def _bid(ticker: str, price: str, count: int = 1) -> OrderRequest:
    return OrderRequest(ticker=ticker, side=BookSide.BID, price=parse_price(price), count=contracts(count),
                        time_in_force=TimeInForce.GTC, self_trade_prevention=SelfTradePrevention.TAKER_AT_CROSS)


async def test_server_pings_with_heartbeat_payload_at_the_configured_interval(tmp_path: Path) -> None:
    assert WsSettings().heartbeat_s == 10.0  # Kalshi's documented interval is the default
    state, runner, url, signer, _ = await _start(tmp_path, WsSettings(heartbeat_s=0.2))
    try:
        async with aiohttp.ClientSession() as session:
            async with session.ws_connect(url, headers=signer.headers("GET", WS_PATH), autoping=False) as ws:
                started = time.monotonic()
                pings = []
                while len(pings) < 3:
                    frame = await asyncio.wait_for(ws.receive(), 3)
                    if frame.type == aiohttp.WSMsgType.PING:
                        pings.append((time.monotonic() - started, frame.data))
                        await ws.pong(frame.data)
                assert [data for _, data in pings] == [b"heartbeat"] * 3
                # three pings at ~0.2 s spacing: not instantly, and not at the 10 s default
                assert 0.45 <= pings[-1][0] <= 2.0, pings
    finally:
        await runner.cleanup()


async def test_slow_client_overflow_drops_only_that_subscription_with_error_25(tmp_path: Path) -> None:
    state, runner, url, signer, account_id = await _start(tmp_path, WsSettings(queue_limit=30, heartbeat_s=0))
    exchange = state.exchange
    try:
        async with aiohttp.ClientSession() as session:
            async with session.ws_connect(url, headers=signer.headers("GET", WS_PATH)) as ws:
                await ws.send_json({"id": 1, "cmd": "subscribe",
                                    "params": {"channels": ["orderbook_delta"], "market_ticker": YES_MARKET}})
                await ws.send_json({"id": 2, "cmd": "subscribe",
                                    "params": {"channels": ["trade"], "market_ticker": OTHER_MARKET}})
                replies = [json.loads((await asyncio.wait_for(ws.receive(), 3)).data) for _ in range(3)]
                assert [r["type"] for r in replies] == ["subscribed", "orderbook_snapshot", "subscribed"]
                book_sid = replies[0]["msg"]["sid"]

                # 60 book changes in one synchronous burst: the writer cannot run in between
                for cents in range(1, 61):
                    exchange.create_order(account_id, _bid(YES_MARKET, f"0.{cents:02d}"))

                messages = []
                while True:
                    msg = json.loads((await asyncio.wait_for(ws.receive(), 3)).data)
                    messages.append(msg)
                    if msg["type"] == "error":
                        break
                error = messages[-1]
                assert error["sid"] == book_sid and error["msg"]["code"] == 25, error
                # the dropped subscription's backlog was discarded, not delivered after the error
                assert all(m["type"] != "orderbook_delta" for m in messages)

                await ws.send_json({"id": 3, "cmd": "list_subscriptions"})
                listing = json.loads((await asyncio.wait_for(ws.receive(), 3)).data)
                assert listing == {"id": 3, "type": "ok", "msg": [{"channel": "trade", "sid": book_sid + 1}]}

                # the surviving subscription still delivers, and the book channel stays silent
                exchange.create_order(account_id, _bid(YES_MARKET, "0.70"))
                exchange.create_order(account_id, _bid(OTHER_MARKET, "0.50"))
                ask = OrderRequest(ticker=OTHER_MARKET, side=BookSide.ASK, price=parse_price("0.50"),
                                   count=contracts(1), time_in_force=TimeInForce.IOC,
                                   self_trade_prevention=SelfTradePrevention.TAKER_AT_CROSS)
                exchange.create_order("acct2", ask)  # another account, so it trades rather than self-cancels
                trade = json.loads((await asyncio.wait_for(ws.receive(), 3)).data)
                assert trade["type"] == "trade" and trade["msg"]["market_ticker"] == OTHER_MARKET, trade
                assert trade["seq"] == 1
    finally:
        await runner.cleanup()


async def test_every_data_message_passes_the_fault_tap_and_replies_do_not(tmp_path: Path) -> None:
    """The hook the fault layer will use: it sees each data envelope (seq already set) and decides
    what reaches the wire. Here it drops the first delta and duplicates the second."""
    seen: list[dict] = []

    def tap(conn, sub, envelope, deliver):
        seen.append(envelope)
        if envelope["type"] == "orderbook_delta" and envelope["seq"] == 2:
            return  # dropped: the client must see a gap
        deliver(envelope)
        if envelope["type"] == "orderbook_delta" and envelope["seq"] == 3:
            deliver(envelope)  # duplicated

    state, runner, url, signer, account_id = await _start(tmp_path, WsSettings(heartbeat_s=0, tap=tap))
    try:
        async with aiohttp.ClientSession() as session:
            async with session.ws_connect(url, headers=signer.headers("GET", WS_PATH)) as ws:
                await ws.send_json({"id": 1, "cmd": "subscribe",
                                    "params": {"channels": ["orderbook_delta"], "market_ticker": YES_MARKET}})
                received = [json.loads((await asyncio.wait_for(ws.receive(), 3)).data) for _ in range(2)]
                for price in ("0.11", "0.12", "0.13"):
                    state.exchange.create_order(account_id, _bid(YES_MARKET, price))
                await ws.send_json({"id": 2, "cmd": "list_subscriptions"})
                while received[-1].get("id") != 2:
                    received.append(json.loads((await asyncio.wait_for(ws.receive(), 3)).data))
                assert [(m["type"], m.get("seq")) for m in received] == [
                    ("subscribed", None), ("orderbook_snapshot", 1), ("orderbook_delta", 3),
                    ("orderbook_delta", 3), ("orderbook_delta", 4), ("ok", None)]
                assert [(e["type"], e["seq"]) for e in seen] == [
                    ("orderbook_snapshot", 1), ("orderbook_delta", 2), ("orderbook_delta", 3), ("orderbook_delta", 4)]
    finally:
        await runner.cleanup()


async def test_a_fan_out_bug_fails_the_channel_loudly_but_never_the_order(tmp_path: Path, monkeypatch) -> None:
    from console.sim import ws_messages

    def broken(event):
        raise ValueError("simulated serialiser bug")

    monkeypatch.setattr(ws_messages, "trade", broken)
    state, runner, url, signer, account_id = await _start(tmp_path, WsSettings(heartbeat_s=0))
    try:
        async with aiohttp.ClientSession() as session:
            async with session.ws_connect(url, headers=signer.headers("GET", WS_PATH)) as ws:
                await ws.send_json({"id": 1, "cmd": "subscribe", "params": {"channels": ["trade", "ticker"]}})
                for _ in range(2):
                    await asyncio.wait_for(ws.receive(), 3)
                state.exchange.create_order(account_id, _bid(YES_MARKET, "0.50"))
                taker = OrderRequest(ticker=YES_MARKET, side=BookSide.ASK, price=parse_price("0.50"), count=contracts(1),
                                     time_in_force=TimeInForce.IOC,
                                     self_trade_prevention=SelfTradePrevention.TAKER_AT_CROSS)
                order = state.exchange.create_order("acct2", taker)
                assert order.fill_count == contracts(1)  # the trade happened despite the broken fan-out
                messages = []
                while len(messages) < 3:
                    messages.append(json.loads((await asyncio.wait_for(ws.receive(), 3)).data))
                errors = [m for m in messages if m["type"] == "error"]
                assert [(e["sid"], e["msg"]["code"]) for e in errors] == [(1, 10)]
                # the ticker channel kept working: one update for the resting bid, one for the trade
                assert [m["type"] for m in messages if m["type"] != "error"] == ["ticker", "ticker"]
                await ws.send_json({"id": 2, "cmd": "list_subscriptions"})
                listing = json.loads((await asyncio.wait_for(ws.receive(), 3)).data)
                assert listing["msg"] == [{"channel": "ticker", "sid": 2}]
    finally:
        await runner.cleanup()
