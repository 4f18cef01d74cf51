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

`DirectLane` goes one step further on plain HTTP: the kernel thread writes the create itself right
after journaling it, and the io loop only reads the answer (see its docstring).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import threading
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


# --- the direct lane: creates written by the deciding thread ---------------------------------------
#: a pre-signed request is used once and only while younger than this (s); refreshed well before
PRESIGN_MAX_AGE_S = 1.0
PRESIGN_REFRESH_S = 0.4
#: creates the lane has paid for in advance from the Write bucket, and sockets it keeps ready
TOKENS_HELD = 2
SOCKETS_HELD = 2


class Sent:
    """A create the deciding thread wrote itself; the io loop reads its answer (`DirectLane.finish`)."""

    __slots__ = ("rest", "sent_wall_s", "sock")

    def __init__(self, sock: socket.socket, rest: bytes, sent_wall_s: float) -> None:
        self.sock, self.rest, self.sent_wall_s = sock, rest, sent_wall_s


class DirectLane:
    """Order creates written by the thread that decided them (the kernel's), with no hand-over on the way out.

    Handing a create to the io loop costs a cross-thread wake-up and a turn of the loop before the bytes
    leave (about 0.2 ms at the median on a loaded machine, milliseconds at the tail). Here the kernel,
    right after journaling the order, writes the request itself on an idle kept-alive socket and
    returns; the io loop reads the answer (`finish`) with the same rules as `FastLane`: 201 decoded,
    NotSent (nothing was written, or the venue refused without acting: send it the normal way),
    Unclear (5xx, dropped, timed out after the request may have left: look it up before anything else).

    What the io loop prepares so the kernel's part is a few microseconds and never waits: connected
    non-blocking sockets (TCP_NODELAY), Write-bucket tokens taken in advance (`TOKENS_HELD` creates),
    and one pre-signed header set (Kalshi signs timestamp + method + path, not the body), each used
    once and only while younger than `PRESIGN_MAX_AGE_S`. When any of them is missing, `try_send`
    returns None having written nothing, and the create takes the normal path. Plain HTTP only (the
    simulator, loopback); over TLS the lane stays off.
    """

    def __init__(self, rest, loop: asyncio.AbstractEventLoop, timeout_s: float = 5.0) -> None:
        self.rest = rest
        self.signer = rest.http.signer
        self.loop = loop
        parts = urlsplit(rest.base_url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.usable = parts.scheme == "http" and self.signer is not None
        self.path = parts.path.rstrip("/") + ORDERS
        self.timeout_s = timeout_s
        self._head = (f"POST {self.path} HTTP/1.1\r\nHost: {parts.netloc}\r\nAccept: application/json\r\n"
                      "Content-Type: application/json\r\n").encode()
        self._lock = threading.Lock()
        self._idle: list[tuple[socket.socket, float]] = []
        self._tokens = 0
        self._signed: tuple[float, bytes] | None = None
        self._opening = 0
        self._addr: tuple | None = None
        self._family = socket.AF_INET
        self.sent = 0
        self.fallbacks = 0
        self.missed = 0  # creates that found no socket, token or usable connection here

    # --- the deciding thread ----------------------------------------------------------------------
    def try_send(self, spec: OrderSpec) -> Sent | None:
        """Write the create now from this thread; None (nothing written) when it cannot leave this way."""
        now = time.monotonic()
        while True:
            with self._lock:
                if self._tokens <= 0 or not self._idle:
                    self.missed += 1
                    return None
                sock, used = self._idle.pop()
                self._tokens -= 1
                signed = self._signed
                self._signed = None
            if now - used < MAX_IDLE_S and _open(sock):
                break
            sock.close()  # the server closed it (or it sat too long): try the next one
            with self._lock:
                self._tokens += 1
                if signed is not None and self._signed is None:
                    self._signed = signed
        if signed is None or now - signed[0] >= PRESIGN_MAX_AGE_S:
            headers = "".join(f"{k}: {v}\r\n" for k, v in self.signer.headers("POST", self.path).items()).encode()
        else:
            headers = signed[1]
        body = msgspec.json.encode(spec.to_wire())
        request = b"%s%sContent-Length: %d\r\n\r\n%s" % (self._head, headers, len(body), body)
        sent_wall_s = time.time()
        try:
            n = sock.send(request)
        except (BlockingIOError, InterruptedError):
            n = 0
        except OSError:
            n = -1
        if n <= 0:  # nothing left this process: the normal path sends it
            sock.close()
            with self._lock:
                self._tokens += 1
                self.missed += 1
            return None
        self.sent += 1
        return Sent(sock, request[n:], sent_wall_s)

    # --- the io loop ------------------------------------------------------------------------------
    async def finish(self, sent: Sent) -> r.CreateOrderResult:
        """The answer to a create `try_send` wrote (see the class docstring for what each outcome means)."""
        sock = sent.sock
        try:
            if sent.rest:
                await asyncio.wait_for(self.loop.sock_sendall(sock, sent.rest), self.timeout_s)
            status, keep, payload = await asyncio.wait_for(self._response(sock), self.timeout_s)
        except (OSError, ConnectionError, TimeoutError, ValueError) as exc:
            sock.close()
            raise Unclear(f"no answer: {type(exc).__name__}: {exc}") from None
        except asyncio.CancelledError:  # the desk is stopping: the io thread answers "unknown" for it
            sock.close()
            raise
        finally:
            self.refill()
        if keep:
            with self._lock:
                self._idle.append((sock, time.monotonic()))
        else:
            sock.close()
        if status == 201:
            return codec.decode_rest(r.CreateOrderResult, payload, f"POST {ORDERS}")
        if status >= 500:
            raise Unclear(f"HTTP {status}")
        raise NotSent(f"HTTP {status}")

    def refill(self) -> None:
        """Top up what the next create needs: tokens, a fresh signature, connected sockets (io loop only)."""
        budget = self.rest.http.budget
        with self._lock:
            want_tokens = TOKENS_HELD - self._tokens
            stale = self._signed is None or time.monotonic() - self._signed[0] >= PRESIGN_REFRESH_S
            want_sockets = SOCKETS_HELD - len(self._idle) - self._opening
        for _ in range(max(0, want_tokens)):
            if not budget.take_now("POST", ORDERS):
                break
            with self._lock:
                self._tokens += 1
        if stale:
            signed_at = time.monotonic()
            headers = "".join(f"{k}: {v}\r\n" for k, v in self.signer.headers("POST", self.path).items()).encode()
            with self._lock:
                self._signed = (signed_at, headers)
        for _ in range(max(0, want_sockets)):
            self._opening += 1
            self.loop.create_task(self._connect())

    async def _connect(self) -> None:
        try:
            if self._addr is None:
                infos = await self.loop.getaddrinfo(self.host, self.port, type=socket.SOCK_STREAM)
                self._family, _, _, _, self._addr = infos[0]
            sock = socket.socket(self._family, socket.SOCK_STREAM)
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            try:
                await asyncio.wait_for(self.loop.sock_connect(sock, self._addr), self.timeout_s)
            except BaseException:
                sock.close()
                raise
        except (OSError, TimeoutError):
            return  # the next refill tries again; meanwhile creates take the normal path
        finally:
            self._opening -= 1
        with self._lock:
            self._idle.append((sock, time.monotonic()))

    async def run(self, every_s: float = 0.2) -> None:
        """Keep the lane ready (tokens refill with time, signatures age, idle sockets expire)."""
        while True:
            self.refill()
            await asyncio.sleep(every_s)

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for sock, _ in idle:
            sock.close()

    async def _response(self, sock: socket.socket) -> tuple[int, bool, bytes]:
        loop = self.loop
        buf = bytearray()
        while (end := buf.find(b"\r\n\r\n")) < 0:
            chunk = await loop.sock_recv(sock, 65536)
            if not chunk:
                raise ConnectionError("the connection closed before an answer")
            buf += chunk
        lines = bytes(buf[:end]).split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        length, chunked, keep = 0, False, not lines[0].startswith(b"HTTP/1.0")
        for header in lines[1:]:
            name, _, value = header.partition(b":")
            name, value = name.strip().lower(), value.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value:
                chunked = True
            elif name == b"connection":
                keep = value != b"close"
        body = buf[end + 4:]
        while True:
            if chunked:
                done = _dechunk(body)
                if done is not None:
                    return status, keep, done
            elif len(body) >= length:
                return status, keep, bytes(body[:length])
            chunk = await loop.sock_recv(sock, 65536)
            if not chunk:
                raise ConnectionError("the connection closed in the middle of an answer")
            body += chunk


def _open(sock: socket.socket) -> bool:
    """True when an idle keep-alive socket is still usable (no EOF, nothing unexpected waiting on it)."""
    try:
        return not sock.recv(1, socket.MSG_PEEK)  # b"" = closed by the server; data = out of step
    except (BlockingIOError, InterruptedError):
        return True
    except OSError:
        return False


def _dechunk(data: bytes | bytearray) -> bytes | None:
    """A complete chunked body decoded, or None while more is needed."""
    out = bytearray()
    pos = 0
    while True:
        eol = data.find(b"\r\n", pos)
        if eol < 0:
            return None
        size = int(bytes(data[pos:eol]).split(b";")[0].strip(), 16)
        start = eol + 2
        if size == 0:
            return bytes(out) if data.find(b"\r\n", start) >= 0 else None
        if len(data) < start + size + 2:
            return None
        out += data[start:start + size]
        pos = start + size + 2
