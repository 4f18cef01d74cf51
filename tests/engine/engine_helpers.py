"""Helpers for the engine tests against the built-in exchange (imported by tests/engine/test_engine_*.py):
accounts on a fast tier, a liquidity provider that rests orders from another account, an engine built
for one test's markets, and the exchange's own view of positions, orders and fills."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import httpx

from console.config import DeskConfig
from console.engine.runtime import Engine, build_engine
from console.engine.strategies import Strategy
from console.venues.kalshi.auth import KalshiAuth, Signer
from console.venues.kalshi.venue import KalshiVenue

FAST_RISK = {"max_orders_per_minute": 1_000_000, "max_contracts_per_market": 100_000,
             "max_notional_per_market_dollars": 1_000_000, "max_total_exposure_dollars": 10_000_000,
             "max_bankroll_share_per_market": 1.0, "max_category_share": 1.0, "max_event_loss_share": 1.0,
             "daily_loss_limit_dollars": 1_000_000, "max_drawdown_dollars": 1_000_000, "fat_finger_cents": 100,
             "venue_error_min_requests": 1_000_000, "fill_rate_min_orders": 1_000_000}


class Account:
    """A funded exchange account with a signed sync client (for the test's own reads and orders)."""

    def __init__(self, sim: Any, *, tier: str = "prestige", balance: str = "1000000") -> None:
        r = httpx.post(f"{sim.admin_url}/accounts", json={"balance_dollars": balance, "tier": tier}, timeout=10)
        assert r.status_code == 201, r.text
        body = r.json()
        self.account_id = body["account_id"]
        self.signer = Signer(body["api_key_id"], body["private_key_pem"].encode())
        self.client = httpx.Client(base_url=sim.base_url, auth=KalshiAuth(self.signer), timeout=10)
        self.sim = sim

    def get(self, path: str, **params: Any) -> dict:
        """A signed GET that rides out the faults a test may have switched on (429, 5xx, dropped answers)."""
        for _ in range(50):
            try:
                r = self.client.get(path, params=params)
            except httpx.TransportError:
                time.sleep(0.05)
                continue
            if r.status_code == 200:
                return r.json()
            assert r.status_code in (429, 500, 502, 503, 504), f"GET {path}: {r.status_code} {r.text}"
            time.sleep(0.05)
        raise AssertionError(f"GET {path} kept failing")

    def venue(self) -> KalshiVenue:
        return KalshiVenue("sim", self.sim.base_url, self.sim.ws_url, self.signer, "test account", 5.0)

    def place(self, ticker: str, side: str, price: str, count: str, tif: str = "good_till_canceled",
              **extra: Any) -> dict:
        body = {"ticker": ticker, "side": side, "price": price, "count": count, "time_in_force": tif,
                "self_trade_prevention_type": "taker_at_cross", **extra}
        r = self.client.post("/portfolio/events/orders", json=body)
        assert r.status_code == 201, r.text
        return r.json()

    def positions(self) -> dict[str, int]:
        """ticker -> signed position in count units (hundredths), nonzero only, every page."""
        out: dict[str, int] = {}
        cursor = ""
        while True:
            params: dict[str, Any] = {"limit": 1000}
            if cursor:
                params["cursor"] = cursor
            body = self.get("/portfolio/positions", **params)
            for p in body["market_positions"]:
                count = round(float(p["position_fp"]) * 100)
                if count:
                    out[p["ticker"]] = count
            cursor = body.get("cursor") or ""
            if not cursor:
                return out

    def orders(self, **params: Any) -> list[dict]:
        out: list[dict] = []
        cursor = ""
        while True:
            query = {"limit": 1000, **params}
            if cursor:
                query["cursor"] = cursor
            body = self.get("/portfolio/orders", **query)
            out.extend(body["orders"])
            cursor = body.get("cursor") or ""
            if not cursor:
                return out

    def fills(self) -> list[dict]:
        out: list[dict] = []
        cursor = ""
        while True:
            query: dict[str, Any] = {"limit": 1000}
            if cursor:
                query["cursor"] = cursor
            body = self.get("/portfolio/fills", **query)
            out.extend(body["fills"])
            cursor = body.get("cursor") or ""
            if not cursor:
                return out

    def close(self) -> None:
        self.client.close()


def new_markets(sim: Any, n: int, prefix: str = "KXENG", **fields: Any) -> list[str]:
    tag = uuid.uuid4().hex[:8].upper()
    return [sim.new_market(ticker=f"{prefix}{tag}-M{i}", **fields) for i in range(n)]


def config(tickers: Iterable[str], *, risk: dict | None = None, **engine: Any) -> DeskConfig:
    return DeskConfig.model_validate({
        "risk": {**FAST_RISK, **(risk or {})},
        "engine": {"watch": list(tickers), "forward_test_log": True, **engine},
    })


def start_engine(account: Account, home: Path, tickers: Iterable[str], *, strategies: Iterable[Strategy] = (),
                 auto: bool = False, risk: dict | None = None, paper: bool | None = None,
                 on_event: Callable[[Any], None] | None = None, **engine: Any) -> Engine:
    eng = build_engine(config(tickers, risk=risk, **engine), home=home, venue=account.venue(),
                       strategies=list(strategies), auto=auto, paper=paper)
    if on_event is not None:
        eng.control.subscribe(on_event)  # before start: nothing the engine says is missed
    eng.start()
    assert eng.wait_ready(30), "the engine did not finish its start-up reconciliation"
    return eng


def wait_until(predicate: Callable[[], Any], timeout: float = 10.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not met within {timeout} s")
        time.sleep(0.02)


def engine_positions(eng: Engine) -> dict[str, int]:
    """The kernel's positions, read on the kernel thread's snapshot (nonzero only)."""
    return {p.ticker: p.position for p in eng.control.snapshot().positions if p.position}
