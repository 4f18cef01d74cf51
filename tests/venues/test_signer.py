"""Kalshi request signing: the message, both key types and formats, and key-loading errors."""

from __future__ import annotations

import base64

import httpx
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from console.venues.kalshi.auth import (
    HEADER_KEY,
    HEADER_SIGNATURE,
    HEADER_TIMESTAMP,
    KalshiAuth,
    KeyLoadError,
    Signer,
    signing_message,
    verify_signature,
)

FIXED_MS = 1703123456789


def _pem(key, fmt) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption())


@pytest.fixture(scope="module")
def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def keys(rsa_key):
    ed = ed25519.Ed25519PrivateKey.generate()
    return {
        "rsa-pkcs1": (rsa_key, _pem(rsa_key, serialization.PrivateFormat.TraditionalOpenSSL)),
        "rsa-pkcs8": (rsa_key, _pem(rsa_key, serialization.PrivateFormat.PKCS8)),
        "ed25519-pkcs8": (ed, _pem(ed, serialization.PrivateFormat.PKCS8)),
    }


def test_message_is_timestamp_method_path_without_query():
    assert signing_message("1703123456789", "get", "/trade-api/v2/portfolio/orders?limit=5") == (
        b"1703123456789GET/trade-api/v2/portfolio/orders"
    )


@pytest.mark.parametrize("kind", ["rsa-pkcs1", "rsa-pkcs8", "ed25519-pkcs8"])
def test_headers_verify_for_every_key_format(keys, kind, tmp_path):
    key, pem = keys[kind]
    assert pem.startswith(b"-----BEGIN RSA PRIVATE KEY" if kind == "rsa-pkcs1" else b"-----BEGIN PRIVATE KEY")
    path = tmp_path / "k.pem"
    path.write_bytes(pem)
    for source in (pem, str(path), path):
        signer = Signer("key-id-1", source, now_ms=lambda: FIXED_MS)
        h = signer.headers("POST", "/trade-api/v2/portfolio/events/orders")
        assert h[HEADER_KEY] == "key-id-1"
        assert h[HEADER_TIMESTAMP] == str(FIXED_MS)
        pub = key.public_key()
        assert verify_signature(pub, h[HEADER_TIMESTAMP], "POST", "/trade-api/v2/portfolio/events/orders",
                                h[HEADER_SIGNATURE])
        # any change to what was signed breaks it
        assert not verify_signature(pub, h[HEADER_TIMESTAMP], "GET", "/trade-api/v2/portfolio/events/orders",
                                    h[HEADER_SIGNATURE])
        assert not verify_signature(pub, str(FIXED_MS + 1), "POST", "/trade-api/v2/portfolio/events/orders",
                                    h[HEADER_SIGNATURE])
        assert not verify_signature(pub, h[HEADER_TIMESTAMP], "POST", "/trade-api/v2/portfolio/orders",
                                    h[HEADER_SIGNATURE])


def test_rsa_signature_is_pss_sha256_with_digest_length_salt(rsa_key):
    """Checked with cryptography directly, independent of verify_signature."""
    signer = Signer("k", rsa_key, now_ms=lambda: FIXED_MS)
    h = signer.headers("GET", "/trade-api/v2/portfolio/balance")
    rsa_key.public_key().verify(  # raises InvalidSignature on mismatch
        base64.b64decode(h[HEADER_SIGNATURE]),
        f"{FIXED_MS}GET/trade-api/v2/portfolio/balance".encode(),
        padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32),
        hashes.SHA256(),
    )


def test_ed25519_signature_is_plain_over_the_message(keys):
    key, pem = keys["ed25519-pkcs8"]
    sig = Signer("k", pem, now_ms=lambda: FIXED_MS).sign(str(FIXED_MS), "DELETE", "/trade-api/v2/portfolio/events/orders/abc")
    key.public_key().verify(base64.b64decode(sig), f"{FIXED_MS}DELETE/trade-api/v2/portfolio/events/orders/abc".encode())


def test_garbage_signature_is_rejected_not_raised(keys):
    key, _ = keys["ed25519-pkcs8"]
    assert not verify_signature(key.public_key(), "1", "GET", "/x", "not base64 !!")
    assert not verify_signature(key.public_key(), "1", "GET", "/x", base64.b64encode(b"short").decode())


def test_unloadable_key_file_is_named_without_its_contents(tmp_path):
    secret_looking = "-----BEGIN PRIVATE KEY-----\nTUlJRXZRSUJBREFOQmdrcWhraUc5dzBCQVFFRkFBU0NCS2N3Z2dTakFnRUFBb0lCQVFD\n-----END PRIVATE KEY-----\n"
    bad = tmp_path / "broken.pem"
    bad.write_text(secret_looking)
    with pytest.raises(KeyLoadError) as info:
        Signer("k", bad)
    message = str(info.value)
    assert str(bad) in message
    assert "TUlJRXZRSUJB" not in message and "BEGIN PRIVATE KEY" not in message
    assert info.value.__cause__ is None and info.value.__suppress_context__

    not_pem = tmp_path / "notes.txt"
    not_pem.write_text("my api key is hunter2")
    with pytest.raises(KeyLoadError, match="notes.txt.*not a PEM") as info:
        Signer("k", not_pem)
    assert "hunter2" not in str(info.value)

    with pytest.raises(KeyLoadError, match="missing.pem"):
        Signer("k", tmp_path / "missing.pem")


def test_encrypted_key_says_so(tmp_path, rsa_key):
    pem = rsa_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.BestAvailableEncryption(b"pw"))
    path = tmp_path / "enc.pem"
    path.write_bytes(pem)
    with pytest.raises(KeyLoadError, match="enc.pem.*encrypted"):
        Signer("k", path)


def test_unsupported_key_type_is_refused(tmp_path):
    from cryptography.hazmat.primitives.asymmetric import ec

    path = tmp_path / "ec.pem"
    path.write_bytes(_pem(ec.generate_private_key(ec.SECP256R1()), serialization.PrivateFormat.PKCS8))
    with pytest.raises(KeyLoadError, match="ec.pem.*unsupported key type"):
        Signer("k", path)


def test_httpx_auth_signs_the_full_path_without_query(keys):
    key, pem = keys["ed25519-pkcs8"]
    seen = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen.update(request.headers)
        return httpx.Response(200, json={})

    client = httpx.Client(base_url="http://sim.test/trade-api/v2", transport=httpx.MockTransport(handler),
                          auth=KalshiAuth(Signer("kid", pem, now_ms=lambda: FIXED_MS)))
    client.get("/portfolio/orders", params={"limit": 5, "ticker": "A B"})
    assert seen["kalshi-access-key"] == "kid"
    assert verify_signature(key.public_key(), str(FIXED_MS), "GET", "/trade-api/v2/portfolio/orders",
                            seen["kalshi-access-signature"])


def test_repr_never_shows_key_material(keys):
    _, pem = keys["rsa-pkcs1"]
    assert "PRIVATE" not in repr(Signer("kid", pem))
