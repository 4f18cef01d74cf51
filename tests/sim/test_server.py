"""The simulator process and its application shell: start-up, errors, the tick task, shutdown."""

from __future__ import annotations

import asyncio
import json
import logging

import httpx
import pytest
from aiohttp import web

from console.sim.clock import SimClock
from console.sim.model import ExchangeError
from console.sim.server import build_app
from console.sim.state import SimState


class _TickCounter:
    """An exchange stand-in whose tick fails on its second call."""

    def __init__(self) -> None:
        self.accounts: dict = {}
        self.ticks = 0

    def tick(self) -> None:
        self.ticks += 1
        if self.ticks == 2:
            raise RuntimeError("tick bug")


@pytest.fixture
async def shell():
    """In-process app with routes that raise, over a real loopback socket."""
    exchange = _TickCounter()
    state = SimState(exchange=exchange, clock=SimClock())  # type: ignore[arg-type]
    app = build_app(state, install_routes=False)

    async def refuse(request: web.Request) -> web.Response:
        raise ExchangeError(404, "market_not_found", "market not found", "no market NOPE")

    async def crash(request: web.Request) -> web.Response:
        raise KeyError("bug")

    app.router.add_get("/trade-api/v2/markets/NOPE", refuse)
    app.router.add_get("/trade-api/v2/crash", crash)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}") as c:
        yield c, exchange
    await runner.cleanup()


async def test_exchange_error_becomes_kalshi_error_body(shell):
    client, _ = shell
    r = await client.get("/trade-api/v2/markets/NOPE")
    assert r.status_code == 404
    assert r.json() == {"error": {"code": "market_not_found", "message": "market not found", "details": "no market NOPE"}}


async def test_unknown_route_and_wrong_method_have_error_bodies(shell):
    client, _ = shell
    r = await client.get("/trade-api/v2/no/such/thing")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    r = await client.delete("/trade-api/v2/crash")
    assert r.status_code == 405 and r.json()["error"]["code"] == "method_not_allowed"


async def test_unhandled_exception_is_500_with_body_and_logged(shell, caplog):
    client, _ = shell
    with caplog.at_level(logging.ERROR, logger="console.sim.server"):
        r = await client.get("/trade-api/v2/crash")
    assert r.status_code == 500 and r.json()["error"]["code"] == "internal_error"
    assert "KeyError" in caplog.text


async def test_tick_task_runs_and_survives_a_failing_tick(shell, caplog):
    _client, exchange = shell
    with caplog.at_level(logging.ERROR, logger="console.sim.server"):
        await asyncio.sleep(0.3)
    assert exchange.ticks >= 4  # every ~50 ms, still going after the failure on tick 2
    assert "exchange tick failed" in caplog.text


# --- the real process ------------------------------------------------------------------------------

def test_sim_starts_fast_and_serves_markets(sim_factory):
    server = sim_factory()
    print(f"\nedgedesk sim startup: {server.startup_seconds:.3f} s")
    assert server.startup_seconds < 2.0
    r = httpx.get(f"{server.base_url}/markets", timeout=5)
    assert r.status_code == 200, r.text
    tickers = [m["ticker"] for m in r.json()["markets"]]
    assert any(t.startswith("KXDEMO") for t in tickers), tickers
    assert server.stop() == 0  # SIGTERM: clean shutdown


def test_restart_with_same_key_dir_keeps_the_desk_key_valid(sim_factory, tmp_path):
    key_dir = tmp_path / "keys"
    first = sim_factory(key_dir=key_dir)
    desk_entry = first.accounts["desk"]
    assert first.stop() == 0
    second = sim_factory(key_dir=key_dir)
    assert second.accounts["desk"] == desk_entry
    with second.client("desk") as desk:
        r = desk.get("/portfolio/balance")
    assert r.status_code == 200, r.text
    assert json.loads((key_dir / "accounts.json").read_text())[0]["api_key_id"] == desk_entry["api_key_id"]


def test_no_demo_markets_flag_starts_empty(sim_factory):
    server = sim_factory("--no-demo-markets", accounts=0)
    assert list(server.accounts) == ["desk"]
    r = httpx.get(f"{server.base_url}/markets", timeout=5)
    assert r.status_code == 200 and r.json()["markets"] == []


def test_non_loopback_host_is_refused(tmp_path):
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "console.cli", "sim", "--host", "0.0.0.0", "--key-dir", str(tmp_path)],
                          capture_output=True, text=True, timeout=20)
    assert done.returncode == 2
    assert "not a loopback address" in done.stderr


def test_unknown_command_prints_help_and_exits_2():
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "console.cli", "frobnicate"], capture_output=True, text=True, timeout=20)
    assert done.returncode == 2
    assert "unknown command 'frobnicate'" in done.stderr and "sim" in done.stderr
