"""`edgedesk markets` and `edgedesk doctor` as a user runs them (subprocesses against the shared sim)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest


def _run(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "console.cli", *args], capture_output=True, text=True, timeout=60,
                          cwd=cwd, env={**os.environ, **(env or {})})


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_doctor_passes_against_the_built_in_exchange(sim) -> None:
    done = _run("doctor", "--url", sim.base_url, "--key-dir", str(sim.key_dir))
    assert done.returncode == 0, done.stdout + done.stderr
    for check in ("reach", "clock", "key", "fields", "limits", "websocket"):
        assert any(line.split()[:2] == ["ok", check] for line in done.stdout.splitlines()), (check, done.stdout)
    assert "all checks passed" in done.stdout
    pem = (sim.key_dir / "desk.pem").read_text()
    body = pem.strip().splitlines()[1]
    assert body not in done.stdout and body not in done.stderr  # never a byte of the key


def test_doctor_refuses_a_wrong_key_with_a_clear_list(sim, tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    shutil.copytree(sim.key_dir, keys)
    accounts = json.loads((keys / "accounts.json").read_text())
    desk = next(a for a in accounts if a["name"] == "desk")
    desk["private_key_path"] = str(keys / "acct2.pem")  # the desk's key id, someone else's key file
    (keys / "accounts.json").write_text(json.dumps(accounts))
    done = _run("doctor", "--url", sim.base_url, "--key-dir", str(keys))
    assert done.returncode == 1
    assert "ok    reach" in done.stdout  # the venue is there; only the key is wrong
    problems = done.stderr.split("problem(s):", 1)[1]
    assert "- key:" in problems and "invalid_signature" in problems
    assert "the key file does not match the key id" in problems
    assert "websocket" not in done.stdout  # nothing further was attempted with a refused key


def test_doctor_and_markets_say_how_to_start_the_exchange_when_nothing_answers(sim) -> None:
    port = _free_port()
    url = f"http://127.0.0.1:{port}/trade-api/v2"
    for command in ("doctor", "markets"):
        done = _run(command, "--url", url, "--key-dir", str(sim.key_dir))
        assert done.returncode == 1, (command, done.stdout, done.stderr)
        assert f"nothing answers at {url}" in done.stderr and f"edgedesk sim --port {port}" in done.stderr


def test_a_key_dir_without_the_desk_account_is_explained(tmp_path: Path) -> None:
    (tmp_path / "accounts.json").write_text("[]")
    done = _run("doctor", "--key-dir", str(tmp_path))
    assert done.returncode == 1 and "has no account named 'desk'" in done.stderr
    missing = _run("doctor", "--key-dir", str(tmp_path / "nowhere"))
    assert missing.returncode == 1 and "edgedesk sim --key-dir" in missing.stderr


def test_doctor_names_the_missing_key_for_a_real_kalshi_host(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text('[venue]\nname = "demo"\n')
    env = {k: "" for k in ("KALSHI_API_KEY_ID", "KALSHI_PRIVATE_KEY_PATH")}
    done = _run("doctor", cwd=tmp_path, env=env)
    assert done.returncode == 1
    assert "set KALSHI_API_KEY_ID and KALSHI_PRIVATE_KEY_PATH" in done.stderr


def test_markets_lists_the_open_markets_with_prices(sim) -> None:
    ticker = sim.new_market(ticker="KXCLI-LIST1", price_level_structure="deci_cent")
    maker = sim.new_account()
    r = maker.post("/portfolio/events/orders", json={"ticker": ticker, "side": "bid", "price": "0.412", "count": "3",
                                                     "time_in_force": "good_till_canceled",
                                                     "self_trade_prevention_type": "taker_at_cross"})
    assert r.status_code == 201, r.text
    table = _run("markets", "--status", "open", "--limit", "0", "--url", sim.base_url, "--key-dir", str(sim.key_dir))
    assert table.returncode == 0, table.stderr
    (row,) = [line for line in table.stdout.splitlines() if line.startswith(ticker)]
    assert row.split()[1:4] == ["active", "0.4120", "-"]  # bid $0.412, no ask
    listed = _run("markets", "--json", "--limit", "0", "--url", sim.base_url, "--key-dir", str(sim.key_dir))
    assert listed.returncode == 0, listed.stderr
    (entry,) = [m for m in json.loads(listed.stdout) if m["ticker"] == ticker]
    assert (entry["yes_bid"], entry["price_level_structure"]) == ("0.4120", "deci_cent")
    assert entry["price_ranges"] == [{"start": "0.0000", "end": "1.0000", "step": "0.0010"}]


@pytest.mark.parametrize("args", [["markets", "--help"], ["doctor", "--help"]])
def test_help_mentions_the_sim_url_and_key_dir(args: list[str]) -> None:
    done = _run(*args)
    assert done.returncode == 0 and "--url" in done.stdout and "--key-dir" in done.stdout
