"""The Kalshi REST transport: signed httpx calls with rate budgets, retries and typed errors.

`KalshiHttp.call(method, path, ...)` is the one path every REST request takes:

1. take tokens from the desk's Read or Write bucket (`limits.RateBudget`);
2. send the request, signed over its own path (`auth.KalshiAuth`);
3. 429: empty the bucket, back off exponentially with jitter and send again (a 429 is never
   processed by the venue, so this is safe for writes too) until `RetryPolicy.rate_limit_budget_s`
   is spent, then `RateLimited`;
4. 5xx, or a transport error after the request may have left: reads are retried the same way up to
   `max_attempts`; writes are not (the caller decides, see `rest.py`) and raise `_Unclear`;
   a connection that was never made (`ConnectError`) is safe to retry for both;
5. any other 4xx becomes a typed `VenueError` carrying Kalshi's code.

It also keeps the clock skew seen in `Date` headers (for `edgedesk doctor` and order reconciliation)
and counters that the desk's health view reads. Keys never appear in logs or errors.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import msgspec

from console.venues.errors import (
    AuthError,
    NotFound,
    OrderRejected,
    RateLimited,
    VenueError,
    VenueUnavailable,
)
from console.venues.kalshi.auth import KalshiAuth, Signer
from console.venues.kalshi.codec_rest import error_body
from console.venues.kalshi.limits import WRITE, RateBudget, bucket_kind

log = logging.getLogger(__name__)

_ORDER_PATHS = ("/portfolio/events/orders", "/portfolio/order_groups")


@dataclass(frozen=True)
class RetryPolicy:
    """Backoff: attempt n waits between half and all of min(cap_s, base_s * 2**n)."""

    base_s: float = 0.1
    cap_s: float = 2.0
    max_attempts: int = 5  # for 5xx and transport errors on reads
    rate_limit_budget_s: float = 30.0  # how long 429s are absorbed before RateLimited


@dataclass
class HttpStats:
    """Counters for the health view."""

    requests: int = 0
    rate_limited: int = 0  # 429 answers seen (absorbed or not)
    server_errors: int = 0  # 5xx answers seen
    transport_errors: int = 0
    retries: int = 0
    decode_errors: int = 0
    unclear_writes: int = 0  # order writes answered 5xx or not at all
    recovered_writes: int = 0  # ... that the lookup found placed (not sent again)
    resent_writes: int = 0  # ... that the lookup proved absent (sent again, same client_order_id)
    throttled_s: float = 0.0  # time spent waiting for our own buckets
    last_error: str = ""
    skew_ms: int | None = None  # venue Date header minus local clock (1 s resolution)
    by_status: dict[int, int] = field(default_factory=dict)


class _Unclear(Exception):
    """A write may or may not have been applied (5xx or the response was lost)."""

    def __init__(self, reason: str, status: int = 0) -> None:
        super().__init__(reason)
        self.status = status


def backoff_delay(policy: RetryPolicy, attempt: int, rng: random.Random) -> float:
    ceiling = min(policy.cap_s, policy.base_s * (2 ** attempt))
    return ceiling / 2 + rng.uniform(0, ceiling / 2)  # "equal jitter": never 0, never in lockstep


class KalshiHttp:
    """Signed, rate-limited, retrying httpx client for one Kalshi account (or public reads)."""

    def __init__(self, base_url: str, signer: Signer | None = None, *, timeout_s: float = 5.0,
                 budget: RateBudget | None = None, policy: RetryPolicy | None = None,
                 rng: random.Random | None = None, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.signer = signer
        self.budget = budget if budget is not None else RateBudget()
        self.policy = policy or RetryPolicy()
        self.stats = HttpStats()
        self._rng = rng or random.Random()
        self._client = httpx.AsyncClient(base_url=self.base_url, auth=KalshiAuth(signer) if signer else None,
                                         timeout=timeout_s, transport=transport,
                                         headers={"Accept": "application/json"})

    async def aclose(self) -> None:
        await self._client.aclose()

    def _note_date(self, response: httpx.Response, sent_wall: float, received_wall: float) -> None:
        date = response.headers.get("date")
        if not date:
            return
        try:
            venue_s = parsedate_to_datetime(date).timestamp()
        except (TypeError, ValueError):
            return
        # the header has 1 s resolution and was stamped somewhere between send and receipt
        midpoint = (sent_wall + received_wall) / 2
        self.stats.skew_ms = int((venue_s + 0.5 - midpoint) * 1000)

    async def call(self, method: str, path: str, *, params: dict[str, Any] | None = None,
                   json: Any = None, items: int = 1, write_unclear: bool = False) -> httpx.Response:
        """Send one request (with the retries above) and return the 2xx response.

        `items`: batch size for billing. `write_unclear`: raise `_Unclear` on a 5xx or lost response
        instead of retrying (order writes, whose caller must reconcile before sending again).
        """
        method = method.upper()
        policy = self.policy
        attempt = 0  # backoff exponent: every retry
        failures = 0  # 5xx and transport errors only; 429s are limited by time instead
        rate_limited_since: float | None = None
        body = msgspec.json.encode(json) if json is not None else None
        headers = {"Content-Type": "application/json"} if body is not None else None
        while True:
            self.stats.throttled_s += await self.budget.acquire(method, path, items)
            self.stats.requests += 1
            sent_wall = time.time()
            try:
                response = await self._client.request(method, path, params=_clean(params), content=body,
                                                      headers=headers)
            except httpx.TransportError as exc:
                self.stats.transport_errors += 1
                self.stats.last_error = f"{method} {path}: {type(exc).__name__}: {exc}"
                never_sent = isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout))
                if write_unclear and not never_sent:
                    raise _Unclear(f"{type(exc).__name__}: {exc}") from None
                attempt += 1
                failures += 1
                if failures >= policy.max_attempts:
                    raise VenueUnavailable(f"no answer after {failures} attempts ({type(exc).__name__}: {exc}); "
                                           f"is the venue at {self.base_url} reachable?",
                                           method=method, path=path) from None
                await self._sleep(attempt)
                continue
            self._note_date(response, sent_wall, time.time())
            status = response.status_code
            self.stats.by_status[status] = self.stats.by_status.get(status, 0) + 1
            if status < 400:
                return response
            if status == 429:
                self.stats.rate_limited += 1
                self.budget.bucket(method, path).drain()
                now = time.monotonic()
                rate_limited_since = rate_limited_since or now
                if now - rate_limited_since >= policy.rate_limit_budget_s:
                    raise _error(RateLimited, response, method, path,
                                 f"still rate limited after {policy.rate_limit_budget_s:g} s of backoff")
                attempt += 1
                await self._sleep(attempt)
                continue
            if status >= 500:
                self.stats.server_errors += 1
                self.stats.last_error = f"{method} {path}: HTTP {status}"
                if write_unclear:
                    raise _Unclear(f"HTTP {status}", status)
                attempt += 1
                failures += 1
                if failures >= policy.max_attempts:
                    raise _error(VenueUnavailable, response, method, path,
                                 f"the venue kept failing (HTTP {status}) after {failures} attempts")
                await self._sleep(attempt)
                continue
            raise _error(_error_class(method, path, status), response, method, path)

    async def _sleep(self, attempt: int) -> None:
        self.stats.retries += 1
        await asyncio.sleep(backoff_delay(self.policy, min(attempt, 16), self._rng))


def _clean(params: dict[str, Any] | None) -> dict[str, Any] | None:
    """Drop unset query parameters and spell booleans the way Kalshi expects."""
    if not params:
        return None
    out: dict[str, Any] = {}
    for key, value in params.items():
        if value is None:
            continue
        out[key] = ("true" if value else "false") if isinstance(value, bool) else value
    return out or None


def _error_class(method: str, path: str, status: int) -> type[VenueError]:
    if status in (401, 403):
        return AuthError
    if bucket_kind(method, path) == WRITE and path.startswith(_ORDER_PATHS) and status in (400, 404, 409, 422):
        return OrderRejected
    if status == 404:
        return NotFound
    return VenueError


_HINTS = {
    "stale_timestamp": "the request timestamp is too far from the venue's clock; sync this machine's clock (NTP)",
    "unknown_api_key": "the venue does not know this API key id; check the key id and that it belongs to this host",
    "invalid_signature": "the signature did not verify; the key file does not match the key id",
    "authentication_error": "the request was not signed; configure an API key",
}


def _error(cls: type[VenueError], response: httpx.Response, method: str, path: str,
           message: str | None = None) -> VenueError:
    try:
        raw = response.json()
    except ValueError:
        raw = None
    code, venue_message, details = error_body(raw)
    text = message or venue_message or response.reason_phrase or f"HTTP {response.status_code}"
    hint = _HINTS.get(code)
    if hint and cls is AuthError:
        text = f"{text}: {hint}"
    return cls(text, status=response.status_code, code=code, details=details, method=method, path=path)
