"""API-key provisioning for the simulator: generate key pairs, register them, write a key directory.

The simulator keeps `state.keys` (api key id -> (account_id, public key)) in memory; the private halves go
to the caller (admin API) or into a key directory that the desk reads:

    <key_dir>/desk.pem, acct1.pem, ...      private keys, mode 0600, directory mode 0700
    <key_dir>/accounts.json                 [{name, account_id, api_key_id, key_type, private_key_path}]

Key formats are mixed on purpose so every loader path is exercised: the desk key is RSA in PKCS#1
(`BEGIN RSA PRIVATE KEY`, as Kalshi's key generator issues it), odd-numbered accounts get Ed25519
(PKCS#8), even-numbered accounts RSA in PKCS#8 (`BEGIN PRIVATE KEY`, as self-made keys usually are).

A second start with the same key directory reuses the keys and key ids, so the desk's configured key
file stays valid across simulator restarts.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from console.sim.state import SimState
from console.venues.kalshi.auth import KeyLoadError, PrivateKey, load_private_key

log = logging.getLogger(__name__)

DESK_ACCOUNT = "desk"
ACCOUNTS_FILE = "accounts.json"
KEY_TYPES = ("rsa", "ed25519")


def generate_private_key(key_type: str) -> PrivateKey:
    if key_type == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if key_type == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    raise ValueError(f"unknown key_type {key_type!r}: use 'rsa' or 'ed25519'")


def private_pem(key: PrivateKey, *, pkcs1: bool = False) -> bytes:
    """PEM bytes of a private key: PKCS#1 for RSA when `pkcs1`, else PKCS#8 (Ed25519 is PKCS#8 only)."""
    fmt = (
        serialization.PrivateFormat.TraditionalOpenSSL
        if pkcs1 and isinstance(key, rsa.RSAPrivateKey)
        else serialization.PrivateFormat.PKCS8
    )
    return key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption())


def register_key(state: SimState, api_key_id: str, account_id: str, key: PrivateKey) -> None:
    state.keys[api_key_id] = (account_id, key.public_key())


def new_api_key(state: SimState, account_id: str, key_type: str = "rsa", *, pkcs1: bool = True) -> tuple[str, bytes]:
    """Generate a key pair for `account_id`, register its public half, return (api_key_id, private PEM).

    RSA keys come back as PKCS#1 by default, like Kalshi's `POST /api_keys/generate`; Ed25519 as PKCS#8.
    """
    key = generate_private_key(key_type)
    api_key_id = str(uuid.uuid4())
    register_key(state, api_key_id, account_id, key)
    return api_key_id, private_pem(key, pkcs1=pkcs1)


def account_names(n_accounts: int) -> list[str]:
    return [DESK_ACCOUNT] + [f"acct{i}" for i in range(1, n_accounts + 1)]


def _key_plan(name: str) -> tuple[str, bool]:
    """(key_type, pkcs1) for a named account; see the module docstring for why formats are mixed."""
    if name == DESK_ACCOUNT:
        return "rsa", True
    number = int(name.removeprefix("acct"))
    return ("ed25519", False) if number % 2 == 1 else ("rsa", False)


def _write_private(path: Path, data: bytes) -> None:
    """Write a file readable by its owner only, atomically (no window with wider permissions)."""
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, data)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def _load_previous(key_dir: Path) -> dict[str, dict[str, Any]]:
    path = key_dir / ACCOUNTS_FILE
    if not path.exists():
        return {}
    try:
        entries = json.loads(path.read_text())
        return {e["name"]: e for e in entries if isinstance(e, dict) and "name" in e}
    except (OSError, ValueError, TypeError) as exc:
        log.warning("ignoring unreadable %s (%s); generating new keys", path, exc)
        return {}


def _reuse(entry: dict[str, Any] | None, key_dir: Path, name: str) -> PrivateKey | None:
    """The previous run's key for `name` if it still loads, else None (and say why)."""
    if not entry or not entry.get("api_key_id") or not entry.get("account_id"):
        return None
    pem_path = key_dir / f"{name}.pem"
    if not pem_path.exists():
        return None
    try:
        return load_private_key(pem_path)
    except KeyLoadError as exc:
        log.warning("cannot reuse the key for %s (%s); generating a new one with a new key id", name, exc)
        return None


def provision_key_dir(
    state: SimState, key_dir: str | os.PathLike[str], n_accounts: int, balance_micros: int
) -> list[dict[str, Any]]:
    """Ensure the desk and acct1..acctN exist, funded, with keys registered and written to `key_dir`.

    Returns the accounts.json entries. Account ids equal the names ("desk", "acct1", ...), which keeps
    logs and admin calls readable; accounts made later through the admin API get UUIDs instead.
    """
    if n_accounts < 0:
        raise ValueError("n_accounts must be >= 0")
    key_dir = Path(key_dir).expanduser()
    key_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(key_dir, 0o700)  # mkdir's mode is masked by umask and ignored for an existing directory
    previous = _load_previous(key_dir)
    entries: list[dict[str, Any]] = []
    for name in account_names(n_accounts):
        key_type, pkcs1 = _key_plan(name)
        prev = previous.get(name)
        key = _reuse(prev, key_dir, name)
        pem_path = key_dir / f"{name}.pem"
        if key is not None and prev is not None:
            api_key_id, account_id = prev["api_key_id"], prev["account_id"]
            key_type = "rsa" if isinstance(key, rsa.RSAPrivateKey) else "ed25519"
            os.chmod(pem_path, 0o600)
        else:
            key = generate_private_key(key_type)
            api_key_id, account_id = str(uuid.uuid4()), name
            _write_private(pem_path, private_pem(key, pkcs1=pkcs1))
        register_key(state, api_key_id, account_id, key)
        if account_id not in state.exchange.accounts:
            state.exchange.create_account(account_id, balance_micros)
        entries.append(
            {
                "name": name,
                "account_id": account_id,
                "api_key_id": api_key_id,
                "key_type": key_type,
                "private_key_path": str(pem_path.resolve()),
            }
        )
    _write_private(key_dir / ACCOUNTS_FILE, (json.dumps(entries, indent=2) + "\n").encode())
    return entries
