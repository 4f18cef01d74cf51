"""Helpers for the Polymarket mirror tests: a simulator with the world and the mirror, and wire checks.

`start_in_loop(...)` runs the simulator's app (world and mirror installed exactly as a server would)
on loopback ports in the caller's event loop; `ThreadedSim` does the same on a thread of its own, for
synchronous tests. `recipe_hash` is an independent copy of the hash recipe (polymarket-api.md 4.1).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import tempfile
import threading
from typing import Any

from aiohttp import web

from console.sim.polymarket import PolyService, install_polymarket
from console.sim.server import build_app, make_state
from console.sim.world import install_world


async def start_in_loop(seed: int = 4, speed: float = 1.0) -> tuple[web.AppRunner, PolyService, str]:
    """The simulator (Kalshi app, world, Polymarket mirror) on loopback: (runner, mirror service, Kalshi
    REST base URL); `await runner.cleanup()` stops it."""
    state = make_state(key_dir=tempfile.mkdtemp(prefix="pm-sim-"), accounts=0, balance_micros=10**9, seed=seed,
                       speed=speed, demo_markets=False)
    app = build_app(state)
    service = install_polymarket(app, host="127.0.0.1", port=0)
    install_world(app, seed=seed)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]  # aiohttp has no accessor
    return runner, service, f"http://127.0.0.1:{port}/trade-api/v2"


class ThreadedSim:
    """`start_in_loop` on its own thread and event loop (for tests that are not async)."""

    def __init__(self, seed: int = 4, speed: float = 1.0) -> None:
        self.seed, self.speed = seed, speed
        self.service: PolyService | None = None
        self.kalshi_url = ""
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="pm-sim", daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._main())

    async def _main(self) -> None:
        try:
            runner, self.service, self.kalshi_url = await start_in_loop(self.seed, self.speed)
        except BaseException as exc:  # surfaced by start()
            self._error = exc
            self._ready.set()
            return
        self._stop = asyncio.Event()
        self._ready.set()
        await self._stop.wait()
        await runner.cleanup()

    def start(self) -> ThreadedSim:
        self._thread.start()
        self._ready.wait(20)
        if self._error is not None or self.service is None:
            raise RuntimeError(f"in-process simulator did not start: {self._error!r}")
        return self

    @property
    def polymarket_url(self) -> str:
        assert self.service is not None and self.service.url
        return self.service.url

    def stop(self) -> None:
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)


def recipe_hash(book: dict[str, Any], min_order_size: str, neg_risk: bool) -> str:
    """The hash of a /book body or WS `book` message, over its exact strings (bids/asks in sent order)."""
    summary = {"market": book["market"], "asset_id": book["asset_id"], "timestamp": book["timestamp"], "hash": "",
               "bids": [{"price": b["price"], "size": b["size"]} for b in book["bids"]],
               "asks": [{"price": a["price"], "size": a["size"]} for a in book["asks"]],
               "min_order_size": min_order_size, "tick_size": book["tick_size"], "neg_risk": neg_risk,
               "last_trade_price": book["last_trade_price"]}
    return hashlib.sha1(json.dumps(summary, separators=(",", ":")).encode()).hexdigest()


def price_pips(text: str) -> int:
    """A Polymarket price string in pips, for test arithmetic (the product code uses exact parsing)."""
    whole, _, frac = text.partition(".")
    return int(whole or "0") * 10_000 + int((frac + "0000")[:4])
