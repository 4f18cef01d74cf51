"""The order fast lane: order creates over a few kept-alive HTTP/1.1 connections, without httpx.

httpx costs about a millisecond per request on a loaded machine; a create is the one request on the
tick-to-order path, so the io thread sends it here first: the same body (`OrderSpec.to_wire()`), the
same signature (`Signer.headers`), the same Write bucket (`rest.http.budget`), written straight on an
asyncio stream. Only the plain outcome is handled here:

- 201: decoded with the venue codec into `CreateOrderResult` and returned.
- Not sent (no connection could be opened), or an answer that says the venue did not act (429, other
  4xx): `NotSent`; the caller sends through `KalshiRest.create_order`, whose retries, 409 handling and
  error types apply (a 4xx comes back as the same typed error from there).
- Anything unclear (5xx, the connection dropped or timed out after the request may have left):
  `Unclear`; the caller must look the `client_order_id` up before sending again (never twice).

Responses are parsed minimally (status line, headers, Content-Length or chunked body). A connection
is reused only while the server keeps it alive and closed after any trouble.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from urllib.parse import urlsplit

import msgspec

from console.venues.kalshi import codec
from console.venues.kalshi import codec_rest as r
from console.venues.kalshi.orders import OrderSpec

ORDERS = "/portfolio/events/orders"
MAX_IDLE_S = 20.0
POOL = 4


class NotSent(Exception):
    """The venue did not act on this create (or it never left): send it the normal way."""


class Unclear(Exception):
    """The create may have been applied: look the client_order_id up before anything else."""


class _Conn:
    __slots__ = ("reader", "used", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer, self.used = reader, writer, time.monotonic()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.writer.close()


class FastLane:
    def __init__(self, rest, timeout_s: float = 5.0) -> None:
        self.rest = rest
        self.signer = rest.http.signer
        parts = urlsplit(rest.base_url)
        self.host = parts.hostname or "127.0.0.1"
        self.tls = parts.scheme == "https"
        self.port = parts.port or (443 if self.tls else 80)
        self.path = parts.path.rstrip("/") + ORDERS
        self.timeout_s = timeout_s
        self._idle: list[_Conn] = []
        self._open = 0
        self._head = (f"POST {self.path} HTTP/1.1\r\nHost: {parts.netloc}\r\nAccept: application/json\r\n"
                      "Content-Type: application/json\r\n")
        self.sent = 0
        self.fallbacks = 0

    async def close(self) -> None:
        for conn in self._idle:
            conn.close()
        self._idle.clear()

    async def _take(self) -> _Conn:
        now = time.monotonic()
        while self._idle:
            conn = self._idle.pop()
            if now - conn.used < MAX_IDLE_S and not conn.reader.at_eof():
                return conn
            conn.close()
            self._open -= 1
        if self._open >= POOL:
            raise NotSent("every fast-lane connection is busy")
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(
                self.host, self.port, ssl=ssl.create_default_context() if self.tls else None), self.timeout_s)
        except (OSError, TimeoutError) as exc:
            raise NotSent(f"cannot connect: {exc}") from None
        self._open += 1
        return _Conn(reader, writer)

    def _drop(self, conn: _Conn) -> None:
        conn.close()
        self._open -= 1

    async def create(self, spec: OrderSpec) -> r.CreateOrderResult:
        if self.signer is None:
            raise NotSent("no signer")
        await self.rest.http.budget.acquire("POST", ORDERS)
        conn = await self._take()
        body = msgspec.json.encode(spec.to_wire())
        headers = "".join(f"{k}: {v}\r\n" for k, v in self.signer.headers("POST", self.path).items())
        request = f"{self._head}{headers}Content-Length: {len(body)}\r\n\r\n".encode() + body
        self.rest.stats.requests += 1
        try:
            conn.writer.write(request)
            await conn.writer.drain()
        except (OSError, ConnectionError) as exc:
            self._drop(conn)
            raise Unclear(f"write failed: {exc}") from None
        self.sent += 1
        try:
            status, keep, payload = await asyncio.wait_for(self._response(conn), self.timeout_s)
        except (OSError, ConnectionError, TimeoutError, asyncio.IncompleteReadError, ValueError) as exc:
            self._drop(conn)
            raise Unclear(f"no answer: {type(exc).__name__}: {exc}") from None
        if keep:
            conn.used = time.monotonic()
            self._idle.append(conn)
        else:
            self._drop(conn)
        if status == 201:
            return codec.decode_rest(r.CreateOrderResult, payload, f"POST {ORDERS}")
        if status >= 500:
            raise Unclear(f"HTTP {status}")
        raise NotSent(f"HTTP {status}")

    @staticmethod
    async def _response(conn: _Conn) -> tuple[int, bool, bytes]:
        reader = conn.reader
        line = await reader.readline()
        if not line:
            raise ConnectionError("the connection closed before an answer")
        parts = line.split(b" ", 2)
        status = int(parts[1])
        length, chunked, keep = 0, False, not line.startswith(b"HTTP/1.0")
        while True:
            header = await reader.readline()
            if header in (b"\r\n", b"\n", b""):
                break
            name, _, value = header.partition(b":")
            name, value = name.strip().lower(), value.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value:
                chunked = True
            elif name == b"connection":
                keep = value != b"close"
        if not chunked:
            return status, keep, await reader.readexactly(length) if length else b""
        body = bytearray()
        while True:
            size = int((await reader.readline()).split(b";")[0].strip(), 16)
            if size == 0:
                while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                    pass
                return status, keep, bytes(body)
            body += await reader.readexactly(size)
            await reader.readexactly(2)
