"""HTTP mode of bench/exchange.py: the same order-action mix through a real `edgedesk sim` on loopback.

Starts the simulator as a child process on a free port, makes `--accounts` prestige-tier accounts
with Ed25519 keys through the admin API (Ed25519 signs in microseconds; RSA-PSS would make the bench
measure the client's signing), and runs one signed httpx client per account concurrently. Every
request is a real, signed HTTP request answered by the server; the figure is end-to-end actions/s
with the client and the server sharing this machine's cores, plus per-request latency percentiles.
"""

from __future__ import annotations

import asyncio
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from console.venues.kalshi.auth import KalshiAuth, Signer

LISTENING = "edgedesk sim listening on "


@dataclass
class HttpResult:
    actions: int
    seconds: float
    refused: int
    latencies_ms: list[float]

    def line(self) -> str:
        lat = sorted(self.latencies_ms)
        p50 = lat[len(lat) // 2] if lat else float("nan")
        p99 = lat[int(len(lat) * 0.99)] if lat else float("nan")
        rate = self.actions / self.seconds if self.seconds else float("inf")
        return (f"HTTP loopback: {self.actions:,} actions in {self.seconds:.2f} s = {rate:,.0f}/s "
                f"(latency p50 {p50:.2f} ms, p99 {p99:.2f} ms, {self.refused:,} refused, mostly cancels of orders another account had already filled)")


def _start_sim(key_dir: Path) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "console.cli", "sim", "--port", "0", "--key-dir", str(key_dir),
         "--accounts", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if LISTENING not in line:
        proc.kill()
        raise RuntimeError(f"edgedesk sim did not start: {line!r}")
    return proc, line.split(LISTENING, 1)[1].split()[0]


async def _worker(client: httpx.AsyncClient, ticker: str, n: int, seed: int, result: HttpResult) -> None:
    rng = random.Random(seed)
    live: list[str] = []
    for _ in range(n):
        roll = rng.random()
        started = time.perf_counter()
        if roll < 0.60 or not live:
            crossing = roll < 0.20
            side = rng.choice(("bid", "ask"))
            offset = rng.randint(1, 5) * 100
            if crossing:  # marketable: through the middle by a few ticks, IOC
                price = 5000 + offset if side == "bid" else 5000 - offset
                tif = "immediate_or_cancel"
            else:
                price = 5000 - offset if side == "bid" else 5000 + offset
                tif = "good_till_canceled"
            body = {"ticker": ticker, "side": side, "price": f"{price / 10000:.4f}",
                    "count": str(rng.randint(1, 10)), "time_in_force": tif,
                    "self_trade_prevention_type": "taker_at_cross"}
            r = await client.post("/portfolio/events/orders", json=body)
            if r.status_code == 201:
                if not crossing and r.json()["remaining_count"] != "0.00":
                    live.append(r.json()["order_id"])
            else:
                result.refused += 1
        elif roll < 0.85:
            order_id = live.pop(rng.randrange(len(live)))
            r = await client.delete(f"/portfolio/events/orders/{order_id}")
            result.refused += r.status_code != 200
        else:
            order_id = live.pop(rng.randrange(len(live)))
            r = await client.post(f"/portfolio/events/orders/{order_id}/decrease", json={"reduce_by": "1"})
            if r.status_code == 200:
                if r.json()["remaining_count"] != "0.00":
                    live.append(order_id)
            else:
                result.refused += 1
        result.latencies_ms.append((time.perf_counter() - started) * 1000)
        result.actions += 1


async def _run(root_url: str, n: int, accounts: int, seed: int) -> HttpResult:
    admin = httpx.AsyncClient(base_url=f"{root_url}/sim", timeout=10)
    ticker = f"KXBENCH-{seed}"
    (await admin.post("/markets", json={"ticker": ticker})).raise_for_status()
    clients = []
    for _ in range(accounts):
        r = await admin.post("/accounts", json={"balance_dollars": "10000000", "key_type": "ed25519",
                                                "tier": "prestige"})
        r.raise_for_status()
        acct = r.json()
        signer = Signer(acct["api_key_id"], acct["private_key_pem"].encode())
        clients.append(httpx.AsyncClient(base_url=f"{root_url}/trade-api/v2", auth=KalshiAuth(signer), timeout=10))
    await admin.aclose()
    result = HttpResult(0, 0.0, 0, [])
    started = time.perf_counter()
    await asyncio.gather(*(_worker(c, ticker, n // accounts, seed + i, result) for i, c in enumerate(clients)))
    result.seconds = time.perf_counter() - started
    for c in clients:
        await c.aclose()
    return result


def bench_http(n: int, accounts: int = 8, seed: int = 0) -> HttpResult:
    with tempfile.TemporaryDirectory() as tmp:
        proc, root_url = _start_sim(Path(tmp) / "keys")
        try:
            return asyncio.run(_run(root_url, n, accounts, seed))
        finally:
            proc.terminate()
            proc.wait(timeout=10)
