"""Small helpers for the REST tests: accounts, V2 order bodies, reading balances, orders and positions.

Every call goes over a real loopback socket to the `sim` fixture's server; nothing here touches the
simulator's objects. Test accounts get a high rate-limit tier: the suite shares one server, and
a burst of reads from many tests must not turn into 429s (rate limits have their own tests).
"""

from __future__ import annotations

from typing import Any

import httpx

from console.venues.kalshi.auth import KalshiAuth, Signer

ORDERS = "/portfolio/events/orders"


class AccountClient(httpx.Client):
    """A client signed with one simulator account's key; `account_id` is that account's id."""

    account_id: str


def account(sim: Any, balance_dollars: str = "1000", key_type: str = "ed25519",
            tier: str = "prestige") -> AccountClient:
    """A fresh funded account made through POST /sim/accounts, with a signed client for it."""
    body = admin(sim, "POST", "/accounts", json={"balance_dollars": balance_dollars, "key_type": key_type,
                                                 "tier": tier})
    client = AccountClient(base_url=sim.base_url, timeout=10,
                           auth=KalshiAuth(Signer(body["api_key_id"], body["private_key_pem"].encode())))
    client.account_id = body["account_id"]
    sim._clients.append(client)  # closed with the server
    return client


def reader(sim: Any) -> AccountClient:
    """A signed client for market-data reads (its own rate-limit bucket, not the shared public one)."""
    return account(sim, "0")


def order_body(ticker: str, side: str, price: str, count: str, tif: str = "good_till_canceled",
               stp: str = "taker_at_cross", **extra: Any) -> dict[str, Any]:
    return {"ticker": ticker, "side": side, "price": price, "count": count, "time_in_force": tif,
            "self_trade_prevention_type": stp, **extra}


def place(client: httpx.Client, ticker: str, side: str, price: str, count: str, tif: str = "good_till_canceled",
          stp: str = "taker_at_cross", expect: int = 201, **extra: Any) -> dict[str, Any]:
    """POST a V2 order and return the JSON body, asserting the HTTP status."""
    r = client.post(ORDERS, json=order_body(ticker, side, price, count, tif, stp, **extra))
    assert r.status_code == expect, f"{r.status_code} {r.text}"
    return r.json()


def balance(client: httpx.Client) -> dict[str, Any]:
    r = client.get("/portfolio/balance")
    assert r.status_code == 200, r.text
    return r.json()


def balance_dollars(client: httpx.Client) -> str:
    return balance(client)["balance_dollars"]


def order(client: httpx.Client, order_id: str) -> dict[str, Any]:
    r = client.get(f"/portfolio/orders/{order_id}")
    assert r.status_code == 200, r.text
    return r.json()["order"]


def orders(client: httpx.Client, **params: Any) -> list[dict[str, Any]]:
    r = client.get("/portfolio/orders", params={"limit": 1000, **params})
    assert r.status_code == 200, r.text
    return r.json()["orders"]


def position(client: httpx.Client, ticker: str) -> dict[str, Any] | None:
    r = client.get("/portfolio/positions", params={"ticker": ticker, "settlement_status": "all"})
    assert r.status_code == 200, r.text
    found = [p for p in r.json()["market_positions"] if p["ticker"] == ticker]
    return found[0] if found else None


def fills(client: httpx.Client, **params: Any) -> list[dict[str, Any]]:
    r = client.get("/portfolio/fills", params={"limit": 1000, **params})
    assert r.status_code == 200, r.text
    return r.json()["fills"]


def book(client: httpx.Client, ticker: str, **params: Any) -> dict[str, list[list[str]]]:
    r = client.get(f"/markets/{ticker}/orderbook", params=params)
    assert r.status_code == 200, r.text
    return r.json()["orderbook_fp"]


def market(client: httpx.Client, ticker: str) -> dict[str, Any]:
    r = client.get(f"/markets/{ticker}")
    assert r.status_code == 200, r.text
    return r.json()["market"]


def walk(client: httpx.Client, path: str, key: str, **params: Any) -> list[dict[str, Any]]:
    """Follow `cursor` to the end; fails on a repeated cursor (a loop)."""
    items: list[dict[str, Any]] = []
    seen_cursors: set[str] = set()
    cursor = None
    while True:
        query = dict(params)
        if cursor:
            query["cursor"] = cursor
        r = client.get(path, params=query)
        assert r.status_code == 200, r.text
        body = r.json()
        items.extend(body[key])
        cursor = body["cursor"]
        if not cursor:
            return items
        assert cursor not in seen_cursors, f"cursor {cursor} came back twice"
        seen_cursors.add(cursor)


def admin(sim: Any, method: str, path: str, expect: int | tuple[int, ...] = (200, 201), **kwargs: Any) -> Any:
    r = httpx.request(method, f"{sim.admin_url}{path}", timeout=10, **kwargs)
    allowed = (expect,) if isinstance(expect, int) else expect
    assert r.status_code in allowed, f"{method} /sim{path}: {r.status_code} {r.text}"
    return r.json() if r.content else None
