"""Polymarket public REST: Gamma discovery (keyset pagination) and CLOB market data, on httpx.

    async with PolymarketRest(clob_url, gamma_url) as rest:
        markets = await rest.all_markets(closed=False)
        book = await rest.book(markets[0].token_ids[0])       # codec.ClobBook, exact strings and ints

Everything here is a read, so every request may be retried: 429, 5xx and transport errors back off
exponentially with jitter (`RetryPolicy`) and then raise `RateLimited` / `VenueUnavailable`; a 404 is
`NotFound`; other 4xx a `VenueError` with the venue's message. Bodies are decoded strictly
(`DecodeError`). REST books carry every field of the hash recipe, so each one is checked and a
mismatch is counted in `stats.hash_mismatches` (the book is still returned: the caller compares it
with its own copy anyway).

Gamma's list endpoints are the 2026 keyset ones (`/markets/keyset`, `after_cursor` / `next_cursor`);
the offset lists are deprecated and die past offset 2100 on the real venue.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx

from console.venues.errors import NotFound, RateLimited, VenueError, VenueUnavailable
from console.venues.polymarket import codec as c

T = TypeVar("T")
GAMMA_PAGE_MAX = 100
BOOKS_BATCH = 100


@dataclass(frozen=True)
class RetryPolicy:
    base_s: float = 0.1
    cap_s: float = 2.0
    max_attempts: int = 5


@dataclass
class RestStats:
    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    server_errors: int = 0
    transport_errors: int = 0
    decode_errors: int = 0
    hash_mismatches: int = 0
    last_error: str = ""
    by_status: dict[int, int] = field(default_factory=dict)


def _error_text(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        return body["error"]
    return response.text[:200]


class PolymarketRest:
    """The desk's Polymarket read client (CLOB REST and Gamma)."""

    def __init__(self, clob_url: str, gamma_url: str, *, timeout_s: float = 5.0, policy: RetryPolicy | None = None,
                 client: httpx.AsyncClient | None = None, rng: random.Random | None = None) -> None:
        self.clob_url = clob_url.rstrip("/")
        self.gamma_url = gamma_url.rstrip("/")
        self.policy = policy or RetryPolicy()
        self.stats = RestStats()
        self._client = client or httpx.AsyncClient(timeout=timeout_s)
        self._owns_client = client is None
        self._rng = rng or random.Random()

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()

    async def __aenter__(self) -> PolymarketRest:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # --- transport ----------------------------------------------------------------------------------

    async def _call(self, kind: Any, method: str, url: str, what: str, *, params: Any = None,
                    json_body: Any = None) -> Any:
        attempt = 0
        while True:
            attempt += 1
            self.stats.requests += 1
            try:
                response = await self._client.request(method, url, params=params, json=json_body)
            except httpx.TransportError as exc:
                self.stats.transport_errors += 1
                self.stats.last_error = f"{what}: {type(exc).__name__}: {exc}"
                if attempt >= self.policy.max_attempts:
                    raise VenueUnavailable(f"cannot reach the venue ({exc})", method=method, path=what) from None
                await self._backoff(attempt)
                continue
            status = response.status_code
            self.stats.by_status[status] = self.stats.by_status.get(status, 0) + 1
            if status < 400:
                try:
                    return c.decode_rest(kind, response.content, what)
                except VenueError:
                    self.stats.decode_errors += 1
                    raise
            text = _error_text(response)
            self.stats.last_error = f"{what}: {status} {text}"
            if status == 429 or status >= 500:
                if status == 429:
                    self.stats.rate_limited += 1
                else:
                    self.stats.server_errors += 1
                if attempt >= self.policy.max_attempts:
                    error = RateLimited if status == 429 else VenueUnavailable
                    raise error(f"still failing after {attempt} attempts: {text}", status=status, method=method,
                                path=what)
                await self._backoff(attempt)
                continue
            if status == 404:
                raise NotFound(text, status=status, method=method, path=what)
            raise VenueError(text, status=status, method=method, path=what)

    async def _backoff(self, attempt: int) -> None:
        self.stats.retries += 1
        delay = min(self.policy.cap_s, self.policy.base_s * 2 ** (attempt - 1))
        await asyncio.sleep(delay / 2 + self._rng.uniform(0, delay / 2))

    # --- Gamma --------------------------------------------------------------------------------------

    async def markets_page(self, *, limit: int = GAMMA_PAGE_MAX, after_cursor: str | None = None,
                           closed: bool | None = None, **filters: Any) -> c.GammaMarketsPage:
        """One keyset page of Gamma markets. Filters: id, slug, condition_ids, clob_token_ids (lists ok)."""
        params: dict[str, Any] = {"limit": limit}
        if after_cursor:
            params["after_cursor"] = after_cursor
        if closed is not None:
            params["closed"] = "true" if closed else "false"
        for key, value in filters.items():
            params[key] = [str(v) for v in value] if isinstance(value, (list, tuple, set)) else str(value)
        return await self._call(c.GammaMarketsPage, "GET", f"{self.gamma_url}/markets/keyset", "GET /markets/keyset",
                                params=params)

    async def iter_markets(self, *, closed: bool | None = False, limit: int = GAMMA_PAGE_MAX,
                           **filters: Any) -> AsyncIterator[c.GammaMarket]:
        """Every market matching the filters, page by page (until a page comes without next_cursor)."""
        cursor: str | None = None
        seen: set[str] = set()
        while True:
            page = await self.markets_page(limit=limit, after_cursor=cursor, closed=closed, **filters)
            for market in page.markets:
                yield market
            if not page.next_cursor or page.next_cursor in seen:
                return
            seen.add(page.next_cursor)  # a cursor that repeats would loop forever
            cursor = page.next_cursor

    async def all_markets(self, **kwargs: Any) -> list[c.GammaMarket]:
        return [m async for m in self.iter_markets(**kwargs)]

    async def market(self, market_id: str) -> c.GammaMarket:
        return await self._call(c.GammaMarket, "GET", f"{self.gamma_url}/markets/{market_id}", "GET /markets/{id}")

    async def market_by_slug(self, slug: str) -> c.GammaMarket:
        return await self._call(c.GammaMarket, "GET", f"{self.gamma_url}/markets/slug/{slug}",
                                "GET /markets/slug/{slug}")

    async def events_page(self, *, limit: int = 100, after_cursor: str | None = None,
                          closed: bool | None = None) -> c.GammaEventsPage:
        params: dict[str, Any] = {"limit": limit}
        if after_cursor:
            params["after_cursor"] = after_cursor
        if closed is not None:
            params["closed"] = "true" if closed else "false"
        return await self._call(c.GammaEventsPage, "GET", f"{self.gamma_url}/events/keyset", "GET /events/keyset",
                                params=params)

    # --- CLOB ---------------------------------------------------------------------------------------

    def _checked(self, book: c.ClobBook) -> c.ClobBook:
        if c.rest_book_hash_ok(book) is False:
            self.stats.hash_mismatches += 1
        return book

    async def book(self, token_id: str) -> c.ClobBook:
        book = await self._call(c.ClobBook, "GET", f"{self.clob_url}/book", "GET /book", params={"token_id": token_id})
        return self._checked(book)

    async def books(self, token_ids: Iterable[str]) -> list[c.ClobBook]:
        """Books of many tokens (POST /books in batches); unknown or resolved tokens are left out."""
        ids = list(token_ids)
        out: list[c.ClobBook] = []
        for start in range(0, len(ids), BOOKS_BATCH):
            body = [{"token_id": t} for t in ids[start:start + BOOKS_BATCH]]
            out.extend(self._checked(b) for b in await self._call(list[c.ClobBook], "POST", f"{self.clob_url}/books",
                                                                   "POST /books", json_body=body))
        return out

    async def price(self, token_id: str, side: str) -> int:
        """side="BUY": the best bid; side="SELL": the best ask (pips on the token's scale)."""
        reply = await self._call(c.PriceReply, "GET", f"{self.clob_url}/price", "GET /price",
                                 params={"token_id": token_id, "side": side})
        return int(reply.price)

    async def midpoint(self, token_id: str) -> int:
        reply = await self._call(c.MidpointReply, "GET", f"{self.clob_url}/midpoint", "GET /midpoint",
                                 params={"token_id": token_id})
        return int(reply.mid)

    async def spread(self, token_id: str) -> int:
        reply = await self._call(c.SpreadReply, "GET", f"{self.clob_url}/spread", "GET /spread",
                                 params={"token_id": token_id})
        return int(reply.spread)

    async def tick_size(self, token_id: str) -> int:
        reply = await self._call(c.TickSizeReply, "GET", f"{self.clob_url}/tick-size", "GET /tick-size",
                                 params={"token_id": token_id})
        return int(reply.minimum_tick_size)

    async def fee_rate_bps(self, token_id: str) -> int:
        reply = await self._call(c.FeeRateReply, "GET", f"{self.clob_url}/fee-rate", "GET /fee-rate",
                                 params={"token_id": token_id})
        return reply.bps

    async def server_time_s(self) -> int:
        return int(await self._call(int, "GET", f"{self.clob_url}/time", "GET /time"))

    async def ok(self) -> bool:
        """Is the CLOB up? (Its body is "OK"; only the status is relied on.)"""
        try:
            response = await self._client.get(f"{self.clob_url}/ok")
        except httpx.TransportError:
            return False
        return response.status_code == 200
