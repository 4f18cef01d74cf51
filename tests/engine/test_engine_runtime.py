"""The runtime as an operator meets it: the built-in exchange started as a child that dies with the desk
(even when the desk is SIGKILLed); production in paper mode unless live trading is switched on; keys
from the environment with a clear error when missing; snapshots published at most ~20 times a second
and only when something changed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from kernel_harness import Harness

from console.config import DeskConfig
from console.domain.side import Side
from console.engine.runtime import build_engine
from console.venues.events import BookDelta
from console.venues.kalshi.venue import VenueConfigError


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "State:\tZ" not in status


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux-only")
def test_the_built_in_exchange_dies_with_the_desk_even_on_sigkill(tmp_path) -> None:
    desk = subprocess.Popen([sys.executable, "-m", "console.cli", "run", "--headless", "--for", "60",
                             "--home", str(tmp_path)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1", "EDGEDESK_LOCK_DIR": str(tmp_path / "locks")},
                            cwd=tmp_path)
    try:
        assert desk.stdout is not None
        started = json.loads(desk.stdout.readline())
        assert started["type"] == "started" and started["venue"] == "sim" and "127.0.0.1" in started["url"]
        sims = [c for c in _children(desk.pid) if "sim" in Path(f"/proc/{c}/cmdline").read_text()]
        assert len(sims) == 1 and _alive(sims[0])
        desk.send_signal(signal.SIGKILL)
        desk.wait(10)
        deadline = time.monotonic() + 5
        while _alive(sims[0]) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(sims[0]), "the exchange outlived the desk"
    finally:
        if desk.poll() is None:
            desk.kill()


def _key_file(tmp_path: Path) -> Path:
    pem = ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    path = tmp_path / "kalshi.pem"
    path.write_bytes(pem)
    return path


def test_production_is_paper_unless_live_trading_is_on(tmp_path) -> None:
    env = {"KALSHI_API_KEY_ID": "test-key-id", "KALSHI_PRIVATE_KEY_PATH": str(_key_file(tmp_path)),
           "EDGEDESK_LOCK_DIR": str(tmp_path / "locks")}
    os.environ["EDGEDESK_LOCK_DIR"] = env["EDGEDESK_LOCK_DIR"]
    try:
        paper = build_engine(DeskConfig.model_validate({"venue": {"name": "prod"}}), home=tmp_path / "a", env=env)
        assert paper.paper and paper.venue.rest_url.startswith("https://external-api.kalshi.com")
        paper.close()
        live = build_engine(DeskConfig.model_validate({"venue": {"name": "prod", "live_trading": True}}),
                            home=tmp_path / "b", env=env)
        assert not live.paper
        live.close()
        demo = build_engine(DeskConfig.model_validate({"venue": {"name": "demo"}}), home=tmp_path / "c", env=env)
        assert not demo.paper and "demo" in demo.venue.rest_url
        demo.close()
        with pytest.raises(VenueConfigError, match="KALSHI_API_KEY_ID"):
            build_engine(DeskConfig.model_validate({"venue": {"name": "prod"}}), home=tmp_path / "d", env={})
    finally:
        os.environ.pop("EDGEDESK_LOCK_DIR", None)


def test_snapshots_at_most_twenty_a_second_and_only_on_change() -> None:
    h = Harness()
    h.ready(["KXS-1"])
    h.book("KXS-1", bids=[(4000, 100)], asks=[(6000, 100)])
    h.kernel.publish_if_due(h.clock.now_ms(), force=True)
    start = h.control.snapshot().version
    for i in range(200):  # 200 book changes in one second
        h.kernel.post(BookDelta("kalshi", "KXS-1", Side.BID, 4000, 1 if i % 2 == 0 else -1))
        h.clock.advance(5)
        h.kernel.turn()
    published = h.control.snapshot().version - start
    assert 15 <= published <= 21
    still = h.control.snapshot().version
    h.clock.advance(2_000)
    for _ in range(40):
        h.clock.advance(50)
        h.kernel.turn()
    assert h.control.snapshot().version == still  # nothing changed: nothing published
