"""Shared fixtures: a real `edgedesk sim` subprocess on a loopback port, and signed clients for it.

    def test_something(sim):
        desk = sim.client("desk")                      # httpx.Client, base_url = sim.base_url, signed
        r = desk.get("/portfolio/balance")
        trader = sim.new_account(balance_dollars="500", key_type="ed25519")   # fresh account (admin API)
        ticker = sim.new_market(price_level_structure="deci_cent")           # fresh market (admin API)
        trader.post("/portfolio/events/orders", json={...})

`sim` is session-scoped: every test shares one server, so a test makes its own markets and accounts
(`new_market`, `new_account`) and never relies on global state (the demo markets, other tests' orders).
`sim_factory(*extra_args, key_dir=None)` starts a private server for a test that needs one (restart,
start-up time, flags); it is stopped when the test ends.

SimServer attributes: base_url (http://127.0.0.1:PORT/trade-api/v2), ws_url (ws://.../trade-api/ws/v2),
admin_url (http://127.0.0.1:PORT/sim), root_url, port, key_dir, accounts (name -> accounts.json entry),
startup_seconds, polymarket_url (the Polymarket mirror's root, from the second stdout line).
Methods: signer(name), client(name), async_client(name), public_client(), ws_headers(name),
new_account(...), new_market(**fields), stop().
Clients made by the helpers are closed when the server stops (async clients: close them yourself).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from console.venues.kalshi.auth import KalshiAuth, Signer

STARTUP_TIMEOUT_S = 10.0
LISTENING = "edgedesk sim listening on "
POLYMARKET = "edgedesk sim polymarket on "


class SignedClient(httpx.Client):
    """An httpx.Client that signs every request with one account's key."""

    def __init__(self, *, signer: Signer, account_id: str, **kwargs: Any) -> None:
        super().__init__(auth=KalshiAuth(signer), **kwargs)
        self.signer = signer
        self.account_id = account_id
        self.api_key_id = signer.api_key_id


def _quiet_world(extra_args: tuple[str, ...]) -> tuple[str, ...]:
    """Test servers run without the living world and with the demo markets unless a test asks otherwise:
    tests make their own markets, and synthetic traders would only add load and noise."""
    wanted = tuple(extra_args)
    if not any(a in ("--world", "--no-world") for a in wanted):
        wanted = ("--no-world", *wanted)
    if not any(a in ("--demo-markets", "--no-demo-markets") for a in wanted):
        wanted = ("--demo-markets", *wanted)
    return wanted


class SimServer:
    """One running `edgedesk sim` child process and helpers to talk to it."""

    def __init__(self, key_dir: Path, extra_args: tuple[str, ...] = (), accounts: int = 2) -> None:
        self.key_dir = key_dir
        self._clients: list[httpx.Client] = []
        self._stdout_lines: list[str] = []
        self._polymarket_line: list[str] = []
        self._polymarket_seen = threading.Event()
        self._stderr_path = key_dir.parent / f"{key_dir.name}-stderr.log"
        cmd = [sys.executable, "-m", "console.cli", "sim", "--port", "0", "--key-dir", str(key_dir),
               "--accounts", str(accounts), *_quiet_world(extra_args)]
        started = time.monotonic()
        self._stderr = open(self._stderr_path, "wb")  # a file, so a chatty server never blocks on a full pipe
        self.process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self._stderr, text=True,
                                        env={**os.environ, "PYTHONUNBUFFERED": "1"})
        line = self._wait_for_listening()
        self.startup_seconds = time.monotonic() - started
        self.root_url = line.split(LISTENING, 1)[1].split()[0]
        self.port = int(self.root_url.rsplit(":", 1)[1])
        self.base_url = f"{self.root_url}/trade-api/v2"
        self.ws_url = f"ws://127.0.0.1:{self.port}/trade-api/ws/v2"
        self.admin_url = f"{self.root_url}/sim"
        self.accounts: dict[str, dict[str, Any]] = {
            e["name"]: e for e in json.loads((key_dir / "accounts.json").read_text())
        }

    def _wait_for_listening(self) -> str:
        found: list[str] = []
        ready = threading.Event()

        def pump() -> None:  # keeps draining stdout for the life of the process
            assert self.process.stdout is not None
            for text in self.process.stdout:
                self._stdout_lines.append(text)
                if LISTENING in text and not found:
                    found.append(text.strip())
                    ready.set()
                elif POLYMARKET in text and not self._polymarket_line:
                    self._polymarket_line.append(text.strip())
                    self._polymarket_seen.set()
            ready.set()
            self._polymarket_seen.set()  # stdout closed: no mirror line will come

        threading.Thread(target=pump, daemon=True, name="sim-stdout").start()
        if not ready.wait(STARTUP_TIMEOUT_S) or not found:
            self.process.kill()
            self.process.wait(5)
            self._stderr.close()
            raise RuntimeError(f"edgedesk sim did not report listening within {STARTUP_TIMEOUT_S} s; "
                               f"stderr:\n{self.stderr_tail()}")
        return found[0]

    @property
    def polymarket_url(self) -> str:
        """Root URL of the Polymarket mirror (its second stdout line); Gamma is under /gamma."""
        self._polymarket_seen.wait(STARTUP_TIMEOUT_S)
        if not self._polymarket_line:
            raise RuntimeError(f"edgedesk sim printed no {POLYMARKET!r} line; stderr:\n{self.stderr_tail()}")
        return self._polymarket_line[0].split(POLYMARKET, 1)[1].split()[0]

    def stderr_tail(self, n: int = 40) -> str:
        return "\n".join(self._stderr_path.read_text(errors="replace").splitlines()[-n:])

    # --- signed clients -------------------------------------------------------------------------
    def signer(self, name: str = "desk") -> Signer:
        entry = self.accounts[name]
        return Signer(entry["api_key_id"], entry["private_key_path"])

    def client(self, name: str = "desk", **kwargs: Any) -> SignedClient:
        """A signed client for a provisioned account: "desk", "acct1", "acct2"."""
        return self._track(SignedClient(signer=self.signer(name), account_id=self.accounts[name]["account_id"],
                                        base_url=self.base_url, timeout=10, **kwargs))

    def async_client(self, name: str = "desk", **kwargs: Any) -> httpx.AsyncClient:
        """A signed AsyncClient (use `async with`; it is not closed for you)."""
        return httpx.AsyncClient(base_url=self.base_url, auth=KalshiAuth(self.signer(name)), timeout=10, **kwargs)

    def public_client(self, **kwargs: Any) -> httpx.Client:
        """An unsigned client for public market data (rate limited per address, basic read tier)."""
        return self._track(httpx.Client(base_url=self.base_url, timeout=10, **kwargs))

    def ws_headers(self, name: str = "desk") -> dict[str, str]:
        """Signed headers for the WebSocket handshake (GET /trade-api/ws/v2)."""
        return self.signer(name).headers("GET", "/trade-api/ws/v2")

    # --- per-test isolation through the admin API -----------------------------------------------
    def new_account(self, balance_dollars: str = "1000", key_type: str = "rsa") -> SignedClient:
        """Create a funded account via POST /sim/accounts; returns a client signed with its new key."""
        r = httpx.post(f"{self.admin_url}/accounts", json={"balance_dollars": balance_dollars, "key_type": key_type},
                       timeout=10)
        assert r.status_code in (200, 201), f"POST /sim/accounts: {r.status_code} {r.text}"
        body = r.json()
        signer = Signer(body["api_key_id"], body["private_key_pem"].encode())
        return self._track(SignedClient(signer=signer, account_id=body["account_id"], base_url=self.base_url,
                                        timeout=10))

    def new_market(self, **fields: Any) -> str:
        """Create a market via POST /sim/markets (unique ticker unless given); returns its ticker."""
        fields.setdefault("ticker", f"KXTEST-{uuid.uuid4().hex[:10].upper()}")
        r = httpx.post(f"{self.admin_url}/markets", json=fields, timeout=10)
        assert r.status_code in (200, 201), f"POST /sim/markets: {r.status_code} {r.text}"
        body = r.json()
        return body.get("ticker") or body.get("market", {}).get("ticker") or fields["ticker"]

    def _track(self, client: httpx.Client) -> Any:
        self._clients.append(client)
        return client

    def stop(self) -> int:
        """SIGTERM the server, wait for it, close helper clients; returns the exit status."""
        for c in self._clients:
            c.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self._stderr.close()
        return self.process.returncode


@pytest.fixture(scope="session")
def sim(tmp_path_factory: pytest.TempPathFactory):
    """The shared simulator (2 test accounts besides the desk). Asserts it shuts down cleanly."""
    server = SimServer(tmp_path_factory.mktemp("sim") / "keys")
    yield server
    code = server.stop()
    assert code == 0, f"edgedesk sim exited with {code}; stderr:\n{server.stderr_tail()}"


@pytest.fixture
def sim_factory(tmp_path: Path):
    """Start private simulators: `sim_factory("--speed", "10", key_dir=..., accounts=1)`; stopped after the test."""
    servers: list[SimServer] = []

    def start(*extra_args: str, key_dir: Path | None = None, accounts: int = 2) -> SimServer:
        server = SimServer(key_dir or tmp_path / f"keys{len(servers)}", tuple(extra_args), accounts)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
