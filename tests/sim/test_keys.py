"""Key provisioning: the key directory the desk reads, its permissions, formats and reuse on restart."""

from __future__ import annotations

import json
import stat

from console.sim.clock import SimClock
from console.sim.keys import new_api_key, provision_key_dir
from console.sim.model import Account
from console.sim.state import SimState
from console.venues.kalshi.auth import Signer, verify_signature


class _Accounts:
    def __init__(self) -> None:
        self.accounts: dict[str, Account] = {}

    def create_account(self, account_id: str, balance_micros: int) -> Account:
        assert account_id not in self.accounts
        self.accounts[account_id] = Account(account_id=account_id, balance=balance_micros)
        return self.accounts[account_id]


def _state() -> SimState:
    return SimState(exchange=_Accounts(), clock=SimClock())  # type: ignore[arg-type]


def _signs_for(state: SimState, entry: dict) -> bool:
    signer = Signer(entry["api_key_id"], entry["private_key_path"])
    h = signer.headers("GET", "/trade-api/v2/portfolio/balance")
    account_id, public_key = state.keys[entry["api_key_id"]]
    return account_id == entry["account_id"] and verify_signature(
        public_key, h["KALSHI-ACCESS-TIMESTAMP"], "GET", "/trade-api/v2/portfolio/balance", h["KALSHI-ACCESS-SIGNATURE"]
    )


def test_provision_writes_private_keys_in_every_format(tmp_path):
    state = _state()
    key_dir = tmp_path / "keys"
    entries = provision_key_dir(state, key_dir, 2, 10_000_000_000)
    assert [e["name"] for e in entries] == ["desk", "acct1", "acct2"]
    assert json.loads((key_dir / "accounts.json").read_text()) == entries
    assert stat.S_IMODE(key_dir.stat().st_mode) == 0o700
    for path in [key_dir / "accounts.json", *key_dir.glob("*.pem")]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    heads = {e["name"]: (key_dir / f"{e['name']}.pem").read_bytes().splitlines()[0] for e in entries}
    assert heads["desk"] == b"-----BEGIN RSA PRIVATE KEY-----"  # PKCS#1, as Kalshi issues
    assert heads["acct1"] == b"-----BEGIN PRIVATE KEY-----" and entries[1]["key_type"] == "ed25519"
    assert heads["acct2"] == b"-----BEGIN PRIVATE KEY-----" and entries[2]["key_type"] == "rsa"  # PKCS#8 RSA
    for e in entries:
        assert state.exchange.accounts[e["account_id"]].balance == 10_000_000_000
        assert _signs_for(state, e)


def test_restart_reuses_keys_and_ids(tmp_path):
    key_dir = tmp_path / "keys"
    first = provision_key_dir(_state(), key_dir, 1, 1)
    desk_pem = (key_dir / "desk.pem").read_bytes()
    state = _state()  # a fresh exchange, as after a restart
    second = provision_key_dir(state, key_dir, 2, 5)
    assert second[:2] == first  # same key ids, same files
    assert (key_dir / "desk.pem").read_bytes() == desk_pem
    assert len(second) == 3 and second[2]["name"] == "acct2"  # more accounts asked for: added
    assert all(_signs_for(state, e) for e in second)
    assert state.exchange.accounts["desk"].balance == 5


def test_unloadable_key_is_replaced_with_a_new_id(tmp_path, caplog):
    key_dir = tmp_path / "keys"
    first = provision_key_dir(_state(), key_dir, 1, 1)
    (key_dir / "acct1.pem").write_text("-----BEGIN PRIVATE KEY-----\ngarbage\n-----END PRIVATE KEY-----\n")
    state = _state()
    second = provision_key_dir(state, key_dir, 1, 1)
    assert second[0] == first[0]
    assert second[1]["api_key_id"] != first[1]["api_key_id"]
    assert _signs_for(state, second[1])
    assert "acct1.pem" in caplog.text and "garbage" not in caplog.text


def test_new_api_key_registers_public_half(tmp_path):
    state = _state()
    key_id, pem = new_api_key(state, "someone", "ed25519")
    assert pem.startswith(b"-----BEGIN PRIVATE KEY")
    assert state.keys[key_id][0] == "someone"
    rsa_id, rsa_pem = new_api_key(state, "someone", "rsa")
    assert rsa_pem.startswith(b"-----BEGIN RSA PRIVATE KEY") and rsa_id != key_id
