"""Test helpers for the simulator's Kalshi WebSocket: a small signed client and an order-book mirror.

Imported by tests/sim/test_ws_*.py (pytest puts this directory on sys.path). The mirror applies
snapshots and deltas exactly as a desk client must, and checks per-sid `seq` continuity as it goes.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import websockets
from websockets.asyncio.client import ClientConnection

from console.domain.units import parse_count, parse_price
from console.venues.kalshi.auth import KalshiAuth, Signer

WS_PATH = "/trade-api/ws/v2"


class WsClient:
    """A JSON command/reply wrapper over one websockets connection."""

    def __init__(self, conn: ClientConnection) -> None:
        self.conn = conn
        self._next_id = 1
        self.received: list[dict[str, Any]] = []

    async def send(self, cmd: str, params: dict[str, Any] | None = None, *, cmd_id: int | None = None) -> int:
        if cmd_id is None:
            cmd_id = self._next_id
            self._next_id += 1
        body: dict[str, Any] = {"id": cmd_id, "cmd": cmd}
        if params is not None:
            body["params"] = params
        await self.conn.send(json.dumps(body))
        return cmd_id

    async def send_raw(self, text: str) -> None:
        await self.conn.send(text)

    async def recv(self, timeout: float = 5.0) -> dict[str, Any]:
        raw = await asyncio.wait_for(self.conn.recv(), timeout)
        msg = json.loads(raw)
        self.received.append(msg)
        return msg

    async def recv_until(self, pred: Callable[[dict[str, Any]], bool], timeout: float = 5.0) -> list[dict[str, Any]]:
        """Messages up to and including the first one matching `pred`."""
        out: list[dict[str, Any]] = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(f"no matching message within {timeout} s; got {out[-5:]}")
            msg = await self.recv(remaining)
            out.append(msg)
            if pred(msg):
                return out

    async def recv_type(self, msg_type: str, timeout: float = 5.0) -> dict[str, Any]:
        return (await self.recv_until(lambda m: m.get("type") == msg_type, timeout))[-1]

    async def quiet(self, seconds: float = 0.3) -> list[dict[str, Any]]:
        """Everything that arrives within `seconds` (often asserted empty)."""
        out: list[dict[str, Any]] = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while (remaining := deadline - loop.time()) > 0:
            try:
                out.append(await self.recv(remaining))
            except TimeoutError:
                break
        return out

    async def command(self, cmd: str, params: dict[str, Any] | None = None, timeout: float = 5.0) -> dict[str, Any]:
        """Send a command and return the first reply carrying its id."""
        cmd_id = await self.send(cmd, params)
        return (await self.recv_until(lambda m: m.get("id") == cmd_id, timeout))[-1]


@asynccontextmanager
async def ws_connect(url: str, signer: Signer | None, **kwargs: Any):
    headers = signer.headers("GET", WS_PATH) if signer is not None else {}
    async with websockets.connect(url, additional_headers=headers, max_size=None, **kwargs) as conn:
        yield WsClient(conn)


class BookMirror:
    """One market's book rebuilt from `orderbook_snapshot` + `orderbook_delta` messages.

    Levels are kept in wire terms: side -> {price pips as reported: count units}.
    """

    def __init__(self, ticker: str) -> None:
        self.ticker = ticker
        self.levels: dict[str, dict[int, int]] = {"yes": {}, "no": {}}
        self.snapshots = 0
        self.deltas = 0

    def apply(self, msg: dict[str, Any]) -> None:
        body = msg["msg"]
        if body.get("market_ticker") != self.ticker:
            return
        if msg["type"] == "orderbook_snapshot":
            self.snapshots += 1
            for side, key in (("yes", "yes_dollars_fp"), ("no", "no_dollars_fp")):
                levels = body.get(key)
                assert levels != [], f"an empty side must be absent, not []: {body}"
                self.levels[side] = {parse_price(p): parse_count(c) for p, c in levels or []}
        elif msg["type"] == "orderbook_delta":
            self.deltas += 1
            side = self.levels[body["side"]]
            price = parse_price(body["price_dollars"])
            count = side.get(price, 0) + parse_count(body["delta_fp"], signed=True)
            assert count >= 0, f"delta took level {body['side']} {body['price_dollars']} below zero: {body}"
            if count:
                side[price] = count
            else:
                side.pop(price, None)

    def as_wire(self) -> dict[str, list[list[str]]]:
        """Same shape as REST `orderbook_fp` (ascending by reported price)."""
        from console.domain.units import format_count, format_price

        return {
            f"{side}_dollars": [[format_price(p), format_count(c)] for p, c in sorted(self.levels[side].items())]
            for side in ("yes", "no")
        }


class SeqChecker:
    """Asserts that each sid's `seq` runs 1, 2, 3, ... with no gap or repeat."""

    def __init__(self) -> None:
        self.last: dict[int, int] = {}

    def check(self, msg: dict[str, Any]) -> None:
        if "seq" not in msg:
            return
        sid, seq = msg["sid"], msg["seq"]
        expected = self.last.get(sid, 0) + 1
        assert seq == expected, f"sid {sid}: seq {seq} after {expected - 1} ({msg})"
        self.last[sid] = seq


# --- REST helpers for WebSocket tests ---------------------------------------------------------------


def new_trader(sim: Any, *, balance_dollars: str = "100000", tier: str = "prestige") -> tuple[Signer, str]:
    """A fresh funded account (admin API) on a high rate-limit tier, so tests can fire orders quickly."""
    r = httpx.post(f"{sim.admin_url}/accounts", json={"balance_dollars": balance_dollars, "tier": tier}, timeout=10)
    assert r.status_code == 201, f"POST /sim/accounts: {r.status_code} {r.text}"
    body = r.json()
    return Signer(body["api_key_id"], body["private_key_pem"].encode()), body["account_id"]


def rest_client(sim: Any, signer: Signer) -> httpx.AsyncClient:
    """A signed async REST client (close it with `async with`)."""
    return httpx.AsyncClient(base_url=sim.base_url, auth=KalshiAuth(signer), timeout=10)


def order_body(ticker: str, side: str, price: str, count: str, *, tif: str = "good_till_canceled",
               client_order_id: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"ticker": ticker, "side": side, "price": price, "count": count,
                            "time_in_force": tif, "self_trade_prevention_type": "taker_at_cross"}
    if client_order_id is not None:
        body["client_order_id"] = client_order_id
    return body


async def place(client: httpx.AsyncClient, ticker: str, side: str, price: str, count: str, **kwargs: Any) -> dict[str, Any]:
    r = await client.post("/portfolio/events/orders", json=order_body(ticker, side, price, count, **kwargs))
    assert r.status_code == 201, f"create order: {r.status_code} {r.text}"
    return r.json()


async def barrier(ws: WsClient, on_message: Callable[[dict[str, Any]], None] | None = None) -> list[dict[str, Any]]:
    """Round-trip a list_subscriptions: replies share the data queue, so every message the server queued
    before it has arrived when its answer does. Returns (and feeds to `on_message`) what came before."""
    cmd_id = await ws.send("list_subscriptions")
    messages = await ws.recv_until(lambda m: m.get("id") == cmd_id, timeout=15)
    before = messages[:-1]
    if on_message is not None:
        for msg in before:
            on_message(msg)
    return before
