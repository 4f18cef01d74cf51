"""CPU used by the built-in exchange with its living world, the Polymarket mirror and a subscribed desk.

    .venv/bin/python bench/sim_cpu.py                # 30 s at --speed 1
    .venv/bin/python bench/sim_cpu.py --seconds 60 --speed 10

Starts `edgedesk sim` (world on, mirror on) as a child process, connects one signed WebSocket client
subscribed to orderbook_delta, ticker and trade for every open market (the load a desk puts on it),
and one Polymarket market-channel client for every mirrored token, then reads the child's CPU time
from /proc over the measuring window. Target (issue 3): under 30% of one core at --speed 1 with ~50
active markets and the mirror.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import websockets

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from console.venues.kalshi.auth import Signer  # noqa: E402

LISTENING = "edgedesk sim listening on "
MIRROR = "edgedesk sim polymarket on "


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks  # utime + stime


async def kalshi_client(root: str, key_dir: Path, tickers: list[str], counter: list[int], stop: asyncio.Event) -> None:
    entry = next(e for e in json.loads((key_dir / "accounts.json").read_text()) if e["name"] == "desk")
    signer = Signer(entry["api_key_id"], Path(entry["private_key_path"]))
    ws_url = root.replace("http://", "ws://") + "/trade-api/ws/v2"
    async with websockets.connect(ws_url, additional_headers=signer.headers("GET", "/trade-api/ws/v2"),
                                  max_size=None) as ws:
        await ws.send(json.dumps({"id": 1, "cmd": "subscribe", "params": {
            "channels": ["orderbook_delta", "ticker", "trade"], "market_tickers": tickers, "use_yes_price": True}}))
        while not stop.is_set():
            try:
                await asyncio.wait_for(ws.recv(), 0.5)
                counter[0] += 1
            except TimeoutError:
                pass


async def mirror_client(mirror: str, counter: list[int], stop: asyncio.Event) -> None:
    async with httpx.AsyncClient(timeout=10) as http:
        markets = (await http.get(f"{mirror}/gamma/markets/keyset", params={"limit": 100})).json()
    rows = markets.get("markets", markets.get("data", [])) if isinstance(markets, dict) else markets
    tokens: list[str] = []
    for row in rows:
        ids = row.get("clobTokenIds", "[]")
        tokens += json.loads(ids) if isinstance(ids, str) else ids
    ws_url = mirror.replace("http://", "ws://") + "/ws/market"
    async with websockets.connect(ws_url, max_size=None) as ws:
        await ws.send(json.dumps({"assets_ids": tokens, "type": "market"}))
        while not stop.is_set():
            try:
                await asyncio.wait_for(ws.recv(), 0.5)
                counter[0] += 1
            except TimeoutError:
                pass


async def measure(root: str, mirror: str | None, key_dir: Path, pid: int, seconds: float) -> None:
    async with httpx.AsyncClient(timeout=10) as http:
        open_markets = (await http.get(f"{root}/trade-api/v2/markets",
                                       params={"status": "open", "limit": 1000})).json()["markets"]
    tickers = [m["ticker"] for m in open_markets]
    kalshi_msgs, mirror_msgs = [0], [0]
    stop = asyncio.Event()
    tasks = [asyncio.create_task(kalshi_client(root, key_dir, tickers, kalshi_msgs, stop))]
    if mirror:
        tasks.append(asyncio.create_task(mirror_client(mirror, mirror_msgs, stop)))
    await asyncio.sleep(3)  # let subscriptions and snapshots settle before measuring
    k0, m0, cpu0, t0 = kalshi_msgs[0], mirror_msgs[0], cpu_seconds(pid), time.monotonic()
    await asyncio.sleep(seconds)
    cpu1, t1 = cpu_seconds(pid), time.monotonic()
    k1, m1 = kalshi_msgs[0], mirror_msgs[0]
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    share = (cpu1 - cpu0) / (t1 - t0)
    verdict = "ok" if share < 0.30 else "ABOVE TARGET 30%"
    print(f"{len(tickers)} open Kalshi markets, mirror {'on' if mirror else 'off'}: exchange process used "
          f"{share:.1%} of one core over {t1 - t0:.0f} s "
          f"({(k1 - k0) / (t1 - t0):,.0f} Kalshi WS msgs/s, {(m1 - m0) / (t1 - t0):,.0f} mirror WS msgs/s) [{verdict}]",
          flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--speed", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        key_dir = Path(tmp) / "keys"
        proc = subprocess.Popen(
            [sys.executable, "-m", "console.cli", "sim", "--port", "0", "--key-dir", str(key_dir), "--world",
             "--speed", str(args.speed), "--seed", str(args.seed)],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            assert proc.stdout is not None
            first = proc.stdout.readline()
            if LISTENING not in first:
                raise SystemExit(f"edgedesk sim did not start: {first!r}")
            root = first.split(LISTENING, 1)[1].split()[0]
            second = proc.stdout.readline()
            mirror = second.split(MIRROR, 1)[1].split()[0] if MIRROR in second else None
            asyncio.run(measure(root, mirror, key_dir, proc.pid, args.seconds))
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
