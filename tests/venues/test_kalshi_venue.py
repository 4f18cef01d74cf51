"""Venue selection (hosts and keys from config and environment) and the client-side rate buckets."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from console.config import parse_config
from console.domain.side import Side
from console.venues.kalshi.codec_rest import EndpointCost, EndpointCosts
from console.venues.kalshi.limits import READ, WRITE, CostTable, TokenBucket, bucket_kind
from console.venues.kalshi.orders import OrderSpec
from console.venues.kalshi.venue import SIM_DEFAULT_URL, VenueConfigError, resolve_venue, ws_url_for


def _pem(tmp_path: Path) -> Path:
    key = ed25519.Ed25519PrivateKey.generate()
    path = tmp_path / "kalshi.pem"
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    return path


def test_the_built_in_exchange_is_the_default_and_uses_the_sim_key_dir(sim) -> None:
    venue = resolve_venue(parse_config(""), key_dir=sim.key_dir)
    assert (venue.name, venue.rest_url) == ("sim", SIM_DEFAULT_URL)
    assert venue.ws_url == "ws://127.0.0.1:8765/trade-api/ws/v2"
    assert venue.signer is not None and venue.signer.api_key_id == sim.accounts["desk"]["api_key_id"]
    other = resolve_venue(parse_config(""), url=sim.base_url + "/", key_dir=sim.key_dir)
    assert other.rest_url == sim.base_url and other.ws_url == sim.ws_url


@pytest.mark.parametrize("name, rest, ws", [
    ("demo", "https://external-api.demo.kalshi.co/trade-api/v2", "wss://external-api-ws.demo.kalshi.co/trade-api/ws/v2"),
    ("prod", "https://external-api.kalshi.com/trade-api/v2", "wss://external-api-ws.kalshi.com/trade-api/ws/v2"),
])
def test_kalshi_hosts_and_keys_from_the_environment(tmp_path: Path, name: str, rest: str, ws: str) -> None:
    pem = _pem(tmp_path)
    config = parse_config(f'[venue]\nname = "{name}"\nkey_id_env = "MY_KEY_ID"\nkey_file_env = "MY_KEY_FILE"\n')
    venue = resolve_venue(config, env={"MY_KEY_ID": "abc-123", "MY_KEY_FILE": str(pem)})
    assert (venue.rest_url, venue.ws_url) == (rest, ws)
    assert venue.signer is not None and venue.signer.api_key_id == "abc-123" and venue.signer.key_type == "ed25519"
    assert "$MY_KEY_ID" in venue.key_source and "PRIVATE KEY" not in repr(venue)


def test_a_key_file_path_in_config_works_and_problems_name_what_to_set(tmp_path: Path) -> None:
    pem = _pem(tmp_path)
    config = parse_config(f'[venue]\nname = "prod"\nkey_file = "{pem}"\n')
    assert resolve_venue(config, env={"KALSHI_API_KEY_ID": "k"}).signer is not None
    with pytest.raises(VenueConfigError, match="set KALSHI_API_KEY_ID"):
        resolve_venue(config, env={})
    unsigned = resolve_venue(config, env={}, require_key=False)
    assert unsigned.signer is None and "public" in unsigned.key_source
    (tmp_path / "broken.pem").write_text("-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n")
    broken = parse_config(f'[venue]\nname = "demo"\nkey_file = "{tmp_path / "broken.pem"}"\n')
    with pytest.raises(VenueConfigError) as err:
        resolve_venue(broken, env={"KALSHI_API_KEY_ID": "k"})
    assert "broken.pem" in str(err.value) and "not a key" not in str(err.value)


def test_ws_url_follows_the_rest_host() -> None:
    assert ws_url_for("https://h.example/trade-api/v2") == "wss://h.example/trade-api/ws/v2"
    assert ws_url_for("http://127.0.0.1:9/trade-api/v2") == "ws://127.0.0.1:9/trade-api/ws/v2"


def test_order_spec_wire_body_and_checks() -> None:
    spec = OrderSpec(ticker="KX-A", side=Side.ASK, price=7, count=1, post_only=True)  # $0.0007 for 0.01 contract
    body = spec.to_wire()
    assert (body["side"], body["price"], body["count"], body["post_only"]) == ("ask", "0.0007", "0.01", True)
    assert body["client_order_id"].startswith("ed-") and len(body["client_order_id"]) <= 64
    assert OrderSpec(ticker="KX-A", side=Side.BID, price=1, count=1).client_order_id != spec.client_order_id
    for bad in ({"price": 0}, {"price": 10000}, {"count": 0}):
        with pytest.raises(ValueError):
            OrderSpec(**{"ticker": "KX-A", "side": Side.BID, "price": 5000, "count": 100, **bad})


def test_buckets_and_costs() -> None:
    assert bucket_kind("POST", "/portfolio/events/orders") == WRITE
    assert bucket_kind("PUT", "/portfolio/order_groups/g/trigger") == WRITE
    assert bucket_kind("GET", "/portfolio/events/orders") == READ  # only mutations bill Write
    assert bucket_kind("GET", "/markets") == READ
    costs = CostTable.from_wire(EndpointCosts(default_cost=10, endpoint_costs=[
        EndpointCost(method="DELETE", path="/trade-api/v2/portfolio/events/orders/{order_id}", cost=2),
        EndpointCost(method="DELETE", path="/trade-api/v2/portfolio/events/orders/batched", cost=2)]))
    assert costs.cost("DELETE", "/portfolio/events/orders/o-1") == 2
    assert costs.cost("DELETE", "/portfolio/events/orders/batched", items=20) == 40
    assert costs.cost("POST", "/portfolio/events/orders/batched", items=5) == 50
    assert costs.cost("POST", "/portfolio/events/orders") == 10


async def test_token_bucket_paces_to_its_rate_after_the_burst() -> None:
    bucket = TokenBucket(rate=200.0, capacity=20.0)
    started = time.monotonic()
    for _ in range(2):
        await bucket.acquire(10)  # the burst: immediate
    assert time.monotonic() - started < 0.05
    for _ in range(4):
        await bucket.acquire(10)  # 40 more tokens at 200/s: about 0.2 s
    assert 0.15 <= time.monotonic() - started < 0.6
    bucket.drain()
    assert bucket.tokens < 1
    with pytest.raises(ValueError, match="can never fit"):
        await bucket.acquire(25)
