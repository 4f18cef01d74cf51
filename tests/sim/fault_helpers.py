"""Helpers for the fault-injection tests (tests/sim/test_faults_*.py): the /sim/faults admin calls and a
book subscription that returns its sid once the snapshot is in.

Faults are global to a server, so each test starts its own (`sim_factory`) and scopes rules to the
account it created, which also keeps other connections (none here) out of the picture.
"""

from __future__ import annotations

from typing import Any

import httpx
from kalshi_ws_client import WsClient


def set_faults(server: Any, *rules: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """POST /sim/faults with these rules (replacing the active ones unless append=True)."""
    r = httpx.post(f"{server.admin_url}/faults", json={"rules": list(rules), **fields}, timeout=10)
    assert r.status_code == 200, f"POST /sim/faults: {r.status_code} {r.text}"
    return r.json()


def clear_faults(server: Any) -> dict[str, Any]:
    r = httpx.delete(f"{server.admin_url}/faults", timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def fault_log(server: Any, kind: str | None = None, since: int = 0) -> list[dict[str, Any]]:
    params: dict[str, Any] = {"since": since}
    if kind:
        params["kind"] = kind
    r = httpx.get(f"{server.admin_url}/faults/log", params=params, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()["entries"]


async def subscribe_book(ws: WsClient, ticker: str) -> int:
    """Subscribe to `orderbook_delta` for one market; returns the sid after its snapshot (seq 1) arrived."""
    await ws.send("subscribe", {"channels": ["orderbook_delta"], "market_ticker": ticker})
    subscribed = await ws.recv()
    assert subscribed["type"] == "subscribed", subscribed
    snapshot = await ws.recv()
    assert snapshot["type"] == "orderbook_snapshot" and snapshot["seq"] == 1, snapshot
    return subscribed["msg"]["sid"]


def deltas(messages: list[dict[str, Any]]) -> list[tuple[int, str]]:
    """(seq, price) of each orderbook_delta, in arrival order."""
    return [(m["seq"], m["msg"]["price_dollars"]) for m in messages if m.get("type") == "orderbook_delta"]
