"""Which Kalshi the desk talks to, and with which key: the built-in exchange, Kalshi demo or production.

`config.toml [venue] name` picks the host (kalshi-api.md section 1):

| name | REST | WebSocket | key |
|------|------|-----------|-----|
| sim  | `--url` (default http://127.0.0.1:8765/trade-api/v2) | same host, `/trade-api/ws/v2` | the sim key dir: `accounts.json` entry "desk" (`desk.pem`) |
| demo | https://external-api.demo.kalshi.co/trade-api/v2 | wss://external-api-ws.demo.kalshi.co/trade-api/ws/v2 | env vars / key file |
| prod | https://external-api.kalshi.com/trade-api/v2 | wss://external-api-ws.kalshi.com/trade-api/ws/v2 | env vars / key file |

For demo and prod the key id comes from the environment variable named by `[venue] key_id_env` and the
private key file from `[venue] key_file_env` or `[venue] key_file` (a path, never the key itself).
Errors name the variables and files involved; key contents never appear anywhere.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from console.config import DeskConfig
from console.venues.kalshi.auth import KeyLoadError, Signer
from console.venues.kalshi.http import RetryPolicy
from console.venues.kalshi.rest import KalshiRest
from console.venues.kalshi.ws import KalshiWs, Sink

SIM_DEFAULT_URL = "http://127.0.0.1:8765/trade-api/v2"
HOSTS: dict[str, tuple[str, str]] = {
    "demo": ("https://external-api.demo.kalshi.co/trade-api/v2", "wss://external-api-ws.demo.kalshi.co/trade-api/ws/v2"),
    "prod": ("https://external-api.kalshi.com/trade-api/v2", "wss://external-api-ws.kalshi.com/trade-api/ws/v2"),
}
DESK_ACCOUNT = "desk"


class VenueConfigError(ValueError):
    """The venue or its key could not be set up; the message says what to fix."""


def default_sim_key_dir() -> Path:
    """Where `edgedesk sim` keeps its keys by default (the desk must not import the simulator)."""
    home = os.environ.get("EDGEDESK_HOME")
    base = Path(home).expanduser() if home else Path.home() / ".local" / "share" / "edgedesk"
    return base / "sim-keys"


def ws_url_for(rest_url: str) -> str:
    """The WebSocket URL on the same host: http(s)://h/trade-api/v2 -> ws(s)://h/trade-api/ws/v2."""
    parts = urlsplit(rest_url)
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    return urlunsplit((scheme, parts.netloc, "/trade-api/ws/v2", "", ""))


def sim_signer(key_dir: str | os.PathLike[str], account: str = DESK_ACCOUNT) -> Signer:
    """The signer of a simulator account from its key directory (`accounts.json` + the PEM it names)."""
    directory = Path(key_dir).expanduser()
    accounts_file = directory / "accounts.json"
    try:
        entries: Any = json.loads(accounts_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise VenueConfigError(f"{accounts_file} does not exist: start the built-in exchange with "
                               f"`edgedesk sim --key-dir {directory}` (it writes the keys), or pass --key-dir") from None
    except (OSError, ValueError) as exc:
        raise VenueConfigError(f"{accounts_file} cannot be read ({exc}); delete the key directory and restart "
                               "`edgedesk sim` to provision new keys") from None
    entry = next((e for e in entries if isinstance(e, dict) and e.get("name") == account), None) \
        if isinstance(entries, list) else None
    if entry is None or not entry.get("api_key_id"):
        raise VenueConfigError(f"{accounts_file} has no account named {account!r}")
    key_path = entry.get("private_key_path") or str(directory / f"{account}.pem")
    try:
        return Signer(str(entry["api_key_id"]), key_path)
    except KeyLoadError as exc:
        raise VenueConfigError(str(exc)) from None


def env_signer(config: DeskConfig, env: Mapping[str, str]) -> Signer:
    """The signer for demo/prod from the environment variables (or key file path) named in config."""
    venue = config.venue
    key_id = env.get(venue.key_id_env, "").strip()
    key_file = env.get(venue.key_file_env, "").strip() or (venue.key_file or "")
    if not key_id or not key_file:
        missing = [name for name, value in ((venue.key_id_env, key_id), (venue.key_file_env, key_file)) if not value]
        raise VenueConfigError(
            f"no Kalshi API key for [venue] name = {venue.name!r}: set {' and '.join(missing)} "
            f"(the key id, and the path of the private key file; or set [venue] key_file in config.toml)")
    try:
        return Signer(key_id, Path(key_file).expanduser())
    except KeyLoadError as exc:
        raise VenueConfigError(str(exc)) from None


@dataclass(frozen=True)
class KalshiVenue:
    """A resolved Kalshi host and key; makes REST and WebSocket clients for it."""

    name: str  # sim | demo | prod
    rest_url: str
    ws_url: str
    signer: Signer | None
    key_source: str  # where the key came from (never the key)
    timeout_s: float = 5.0

    def rest(self, *, policy: RetryPolicy | None = None, **kwargs: Any) -> KalshiRest:
        if self.name == "sim":
            # the simulator's portfolio reads never lag its engine (GET /exchange/user_data_timestamp is "now")
            kwargs.setdefault("portfolio_lag_margin_ms", 0)
        return KalshiRest(self.rest_url, self.signer, timeout_s=self.timeout_s, policy=policy, **kwargs)

    def ws(self, sink: Sink, **kwargs: Any) -> KalshiWs:
        if self.signer is None:
            raise VenueConfigError("the Kalshi WebSocket needs an API key (every connection is signed)")
        return KalshiWs(self.ws_url, self.signer, sink, **kwargs)


def resolve_venue(config: DeskConfig, *, url: str | None = None, key_dir: str | os.PathLike[str] | None = None,
                  env: Mapping[str, str] | None = None, require_key: bool = True) -> KalshiVenue:
    """The venue `config.toml` asks for. `url` overrides the REST base URL (sim: where it listens).

    `require_key=False` returns a venue without a signer when no key is configured (public reads).
    """
    env = os.environ if env is None else env
    name = config.venue.name
    timeout = config.venue.request_timeout_s
    if name == "sim":
        rest_url = (url or SIM_DEFAULT_URL).rstrip("/")
        directory = Path(key_dir).expanduser() if key_dir else default_sim_key_dir()
        try:
            signer: Signer | None = sim_signer(directory)
        except VenueConfigError:
            if require_key:
                raise
            signer = None
        return KalshiVenue("sim", rest_url, ws_url_for(rest_url), signer, f"sim key dir {directory} (desk)", timeout)
    rest_default, ws_default = HOSTS[name]
    rest_url = (url or rest_default).rstrip("/")
    ws_url = ws_url_for(rest_url) if url else ws_default
    try:
        signer = env_signer(config, env)
        source = f"${config.venue.key_id_env} with key file from " + (
            f"${config.venue.key_file_env}" if env.get(config.venue.key_file_env) else "[venue] key_file")
    except VenueConfigError:
        if require_key:
            raise
        signer, source = None, "none (public market data only)"
    return KalshiVenue(name, rest_url, ws_url, signer, source, timeout)
