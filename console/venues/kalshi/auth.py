"""Kalshi API-key request signing (client side) and signature checking (simulator side).

Kalshi signs `TIMESTAMP + METHOD + PATH` (no separators, UTF-8) where TIMESTAMP is Unix milliseconds
as sent in `KALSHI-ACCESS-TIMESTAMP`, METHOD is the upper-case verb and PATH is the URL path including
`/trade-api/v2` but without the query string. RSA keys sign with RSA-PSS (SHA-256, MGF1-SHA-256,
salt = digest length); Ed25519 keys sign the message plainly. See kalshi-api.md section 2.

`Signer` loads a private key (PKCS#1 or PKCS#8 PEM, RSA or Ed25519) and produces the three headers;
`KalshiAuth` plugs a signer into httpx so every request is signed over its own URL path;
`verify_signature` is what the simulator checks incoming requests with.
"""

from __future__ import annotations

import base64
import binascii
import os
import time
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Union

import httpx
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

HEADER_KEY = "KALSHI-ACCESS-KEY"
HEADER_TIMESTAMP = "KALSHI-ACCESS-TIMESTAMP"
HEADER_SIGNATURE = "KALSHI-ACCESS-SIGNATURE"

PrivateKey = Union[rsa.RSAPrivateKey, ed25519.Ed25519PrivateKey]
PublicKey = Union[rsa.RSAPublicKey, ed25519.Ed25519PublicKey]


class KeyLoadError(Exception):
    """A private key that could not be loaded. The message names the source, never the key bytes."""


def _pss() -> padding.PSS:
    # salt length = digest length (32 bytes for SHA-256), as Kalshi's SDK signs and verifies
    return padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=hashes.SHA256.digest_size)


def signing_message(timestamp_ms: str, method: str, path: str) -> bytes:
    """The exact bytes Kalshi signs. The query string is stripped at the first '?'."""
    return (timestamp_ms + method.upper() + path.split("?", 1)[0]).encode("utf-8")


def load_private_key(source: bytes | str | os.PathLike[str], *, password: bytes | None = None) -> PrivateKey:
    """Load an RSA or Ed25519 private key from PEM bytes or from a file path.

    Bytes are taken as the PEM itself; a str or path names a file. Raises KeyLoadError naming the file
    (or "<in-memory key>") and the reason; the key contents never appear in the message.
    """
    if isinstance(source, bytes):
        label, pem = "<in-memory key>", source
    else:
        label = os.fspath(source)
        try:
            pem = Path(label).read_bytes()
        except OSError as exc:
            raise KeyLoadError(f"cannot read private key file {label}: {exc.strerror or exc}") from None
    if b"-----BEGIN" not in pem:
        raise KeyLoadError(f"{label}: not a PEM private key (no '-----BEGIN' line); expected a PKCS#1 or PKCS#8 PEM file")
    try:
        key = serialization.load_pem_private_key(pem, password=password)
    except TypeError:
        # `from None` everywhere: the underlying errors may quote parts of the input
        raise KeyLoadError(f"{label}: the private key is encrypted; provide an unencrypted PEM") from None
    except (ValueError, UnsupportedAlgorithm):
        raise KeyLoadError(
            f"{label}: could not parse the private key (corrupt PEM, or not an RSA/Ed25519 key)"
        ) from None
    if not isinstance(key, (rsa.RSAPrivateKey, ed25519.Ed25519PrivateKey)):
        raise KeyLoadError(f"{label}: unsupported key type {type(key).__name__}; Kalshi accepts RSA or Ed25519")
    return key


def load_public_key(pem: bytes) -> PublicKey:
    """Load an SPKI (`BEGIN PUBLIC KEY`) RSA or Ed25519 public key."""
    key = serialization.load_pem_public_key(pem)
    if not isinstance(key, (rsa.RSAPublicKey, ed25519.Ed25519PublicKey)):
        raise ValueError(f"unsupported public key type {type(key).__name__}")
    return key


def sign_message(private_key: PrivateKey, message: bytes) -> bytes:
    if isinstance(private_key, rsa.RSAPrivateKey):
        return private_key.sign(message, _pss(), hashes.SHA256())
    return private_key.sign(message)


def verify_signature(public_key: PublicKey, timestamp: str, method: str, path: str, signature_b64: str) -> bool:
    """True when `signature_b64` is a valid signature of timestamp+METHOD+path (query stripped)."""
    try:
        signature = base64.b64decode(signature_b64, validate=True)
    except (binascii.Error, ValueError):
        return False
    message = signing_message(timestamp, method, path)
    try:
        if isinstance(public_key, rsa.RSAPublicKey):
            public_key.verify(signature, message, _pss(), hashes.SHA256())
        elif isinstance(public_key, ed25519.Ed25519PublicKey):
            public_key.verify(signature, message)
        else:
            return False
    except InvalidSignature:
        return False
    return True


def _wall_clock_ms() -> int:
    return int(time.time() * 1000)


class Signer:
    """Signs Kalshi requests with one API key.

    `private_key` is PEM bytes, a file path, or an already loaded key object. `now_ms` is injectable so
    tests can produce stale or future timestamps.
    """

    def __init__(
        self,
        api_key_id: str,
        private_key: bytes | str | os.PathLike[str] | PrivateKey,
        *,
        now_ms: Callable[[], int] = _wall_clock_ms,
    ) -> None:
        self.api_key_id = api_key_id
        if isinstance(private_key, (rsa.RSAPrivateKey, ed25519.Ed25519PrivateKey)):
            self._key: PrivateKey = private_key
        else:
            self._key = load_private_key(private_key)
        self._now_ms = now_ms

    @property
    def key_type(self) -> str:
        return "rsa" if isinstance(self._key, rsa.RSAPrivateKey) else "ed25519"

    def with_clock(self, now_ms: Callable[[], int]) -> Signer:
        """The same key and key id with another clock (tests: stale or future timestamps)."""
        return Signer(self.api_key_id, self._key, now_ms=now_ms)

    def public_key(self) -> PublicKey:
        return self._key.public_key()

    def sign(self, timestamp_ms: str, method: str, path: str) -> str:
        """Base64 signature of timestamp+METHOD+path (query stripped)."""
        return base64.b64encode(sign_message(self._key, signing_message(timestamp_ms, method, path))).decode("ascii")

    def headers(self, method: str, path: str) -> dict[str, str]:
        """The three KALSHI-ACCESS-* headers for one request to `path` (e.g. `/trade-api/v2/portfolio/balance`)."""
        timestamp = str(self._now_ms())
        return {
            HEADER_KEY: self.api_key_id,
            HEADER_TIMESTAMP: timestamp,
            HEADER_SIGNATURE: self.sign(timestamp, method, path),
        }

    def __repr__(self) -> str:  # never show key material
        return f"Signer(api_key_id={self.api_key_id!r}, key_type={self.key_type!r})"


class KalshiAuth(httpx.Auth):
    """httpx auth that signs every request over its own URL path (so base_url prefixes are included)."""

    def __init__(self, signer: Signer) -> None:
        self.signer = signer

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        # raw_path is the path as sent on the wire (percent-encoded, query included); sign it minus the query
        path = request.url.raw_path.decode("ascii").split("?", 1)[0]
        request.headers.update(self.signer.headers(request.method, path))
        yield request
