"""Benchmark: Kalshi order-book deltas through a real WebSocket on loopback into the desk's books.

    .venv/bin/python bench/feed.py                      # both clients, throughput and latency
    .venv/bin/python bench/feed.py --client desk -n 300000 --rate 5000 --seconds 5

A small websockets server runs in its own process (`--pin` pins it and the client to separate CPUs;
unpinned is the default, since on a shared machine the scheduler finds the idle core better) and speaks
enough of Kalshi's WebSocket API for the clients: it answers `subscribe` with `subscribed`, then sends one
`orderbook_snapshot` per market and a pre-generated stream of `orderbook_delta` messages
(bench/deltastream.py: 50 markets, activity near the touch, use_yes_price as the client asked).

Clients (the book manager owns the books in both):

- desk: the desk's own WebSocket client `console.venues.kalshi.ws.KalshiWs` (signed handshake, seq
  checks, the client's msgspec decoder into BookSnapshot/BookDelta events), its sink feeding
  `BookManager.apply`. This is the receive path the desk runs.
- fast: a plain `websockets` client handing each raw frame to `BookManager.apply_raw` (the C fast path).

Runs:

- throughput: the server writes the whole stream as fast as the socket takes it (frames pre-built, so
  the client is what is measured). Target: >= 100,000 msgs/s into the books.
- latency: the server paces the stream at `--rate` msgs/s (5,000) with ordinary `send` calls and stamps
  each send with CLOCK_MONOTONIC; the client stamps each delta when its book change is applied; the
  stamps are joined by `seq`. Target: p99 send-to-applied under 1 ms.

Both runs check at the end that every book equals the generator's model of it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import struct
import subprocess
import sys
import tempfile
import time
from array import array
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # runnable from a checkout without install
sys.path.insert(0, str(Path(__file__).resolve().parent))

import websockets  # noqa: E402
from deltastream import DeltaStream, generate  # noqa: E402

TARGET_MSGS_PER_S = 100_000
TARGET_P99_MS = 1.0
SEED = 2026
WS_PATH = "/trade-api/ws/v2"


# --- server (its own process) ---------------------------------------------------------------------
def _frame(payload: bytes) -> bytes:
    """An unmasked server-to-client text frame (RFC 6455 5.2)."""
    n = len(payload)
    if n < 126:
        return bytes((0x81, n)) + payload
    if n < 65536:
        return bytes((0x81, 126)) + struct.pack("!H", n) + payload
    return bytes((0x81, 127)) + struct.pack("!Q", n) + payload


async def _serve(n_max: int, markets: int) -> None:
    stream = generate(n_max, markets, SEED, use_yes_price=True)
    framed = [_frame(m) for m in stream.deltas]

    async def handler(ws) -> None:
        query = parse_qs(urlsplit(ws.request.path).query)
        mode, n = query["mode"][0], int(query["n"][0])
        cmd = json.loads(await ws.recv())
        await ws.send(json.dumps({"id": cmd["id"], "type": "subscribed",
                                  "msg": {"channel": "orderbook_delta", "sid": 1}}))
        for snapshot in stream.snapshots:
            await ws.send(snapshot, text=True)
        if mode == "burst":
            transport = ws.transport
            chunk: list[bytes] = []
            for i in range(n):
                chunk.append(framed[i])
                if len(chunk) == 2000 or i == n - 1:
                    transport.write(b"".join(chunk))  # whole frames only, so control frames interleave safely
                    chunk.clear()
                    while transport.get_write_buffer_size() > 4 << 20:
                        await asyncio.sleep(0.0005)
        else:
            rate = float(query["rate"][0])
            sent = array("q", bytes(8 * n))
            start = time.monotonic_ns() + 10_000_000
            step = 1e9 / rate
            deltas = stream.deltas
            for i in range(n):
                target = start + int(i * step)
                wait = target - time.monotonic_ns()
                if wait > 0:
                    # no spinning (it would take a CPU from the client); the loop wakes with ~1 ms
                    # granularity, so messages leave in small bursts, as a venue's do
                    await asyncio.sleep(wait / 1e9)
                sent[i] = time.monotonic_ns()
                await ws.send(deltas[i], text=True)
            Path(query["out"][0]).write_bytes(sent.tobytes())
        await ws.wait_closed()

    async with websockets.serve(handler, "127.0.0.1", 0, max_size=None, ping_interval=None) as server:
        port = server.sockets[0].getsockname()[1]
        print(f"PORT {port}", flush=True)
        await asyncio.Future()


# --- clients --------------------------------------------------------------------------------------
def _manager(stream: DeltaStream):
    from console.engine.books import BookManager

    manager = BookManager()
    for m in stream.markets:
        manager.add_market("kalshi", m.ticker, m.grid)
    return manager


def _books_match(manager, stream: DeltaStream, n: int) -> bool:
    """Every book equals the generator's model after the first n deltas (re-generated here)."""
    from console.domain.side import Side

    expected = generate(n, len(stream.markets), SEED, use_yes_price=True)
    for m in expected.markets:
        book = manager.book("kalshi", m.ticker)
        if book.levels(Side.BID) != sorted((m.grid.prices[i], c) for i, c in m.bids.items()):
            return False
        if book.levels(Side.ASK) != sorted((m.grid.prices[i], c) for i, c in m.asks.items()):
            return False
    return True


def _signer():
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    from console.venues.kalshi.auth import Signer

    pem = ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return Signer("bench-key", pem)  # the bench server does not check signatures; the client still signs


async def run_desk_client(url: str, stream: DeltaStream, n: int) -> tuple[float, array, object]:
    """KalshiWs -> BookManager.apply; returns (seconds from subscribe to last delta applied, applied_ns by seq)."""
    from console.venues.events import BookDelta
    from console.venues.kalshi.ws import KalshiWs

    manager = _manager(stream)
    first_delta_seq = len(stream.markets) + 1
    applied = array("q", bytes(8 * (n + first_delta_seq + 1)))
    done = asyncio.Event()
    apply = manager.apply
    clock = time.monotonic_ns
    last = first_delta_seq + n - 1

    def sink(event: object) -> None:
        apply(event)
        if type(event) is BookDelta:
            applied[event.seq] = clock()
            if event.seq == last:
                done.set()

    ws = KalshiWs(url, _signer(), sink, use_yes_price=True, silence_s=None, ping_interval_s=None)
    await ws.start()
    t0 = time.perf_counter()
    await ws.subscribe("orderbook_delta", [m.ticker for m in stream.markets])
    await asyncio.wait_for(done.wait(), 600)
    elapsed = time.perf_counter() - t0
    await ws.close()
    assert ws.stats.gaps == 0 and ws.stats.decode_errors == 0, ws.stats
    return elapsed, applied, manager


async def run_fast_client(url: str, stream: DeltaStream, n: int) -> tuple[float, array, object]:
    """Plain websockets -> BookManager.apply_raw (C fast path), one frame at a time."""
    manager = _manager(stream)
    manager.register_sid("kalshi", 1, use_yes_price=True, tickers=[m.ticker for m in stream.markets])
    feed = manager.raw_feed("kalshi")
    first_delta_seq = len(stream.markets) + 1
    applied = array("q", bytes(8 * (n + first_delta_seq + 1)))
    last = first_delta_seq + n - 1
    clock = time.monotonic_ns
    apply_frame = feed.feed_one
    sid_state = feed.sid_state
    async with websockets.connect(url, max_size=None, ping_interval=None) as conn:
        t0 = time.perf_counter()
        await conn.send(json.dumps({"id": 1, "cmd": "subscribe", "params": {
            "channels": ["orderbook_delta"], "market_tickers": [m.ticker for m in stream.markets],
            "use_yes_price": True}}))
        async for frame in conn:
            now = clock()
            apply_frame(frame, now)
            seq = sid_state(1)[0]
            if seq is not None:
                applied[seq] = clock()
                if seq == last:
                    break
        elapsed = time.perf_counter() - t0
    counters = feed.counters()
    assert counters["gaps"] == 0 and counters["malformed"] == 0, counters
    return elapsed, applied, manager


CLIENTS = {"desk": run_desk_client, "fast": run_fast_client}


def _pin(cpu_index: int) -> str:
    if not hasattr(os, "sched_setaffinity"):
        return "not pinned"
    cpus = sorted(os.sched_getaffinity(0))
    cpu = cpus[cpu_index % len(cpus)]
    os.sched_setaffinity(0, {cpu})
    return f"CPU {cpu}"


def _percentile(sorted_values: list[int], q: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))] / 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--messages", type=int, default=300_000, help="throughput run size (300,000)")
    parser.add_argument("--rate", type=float, default=5000.0, help="latency run: msgs/s (5,000)")
    parser.add_argument("--seconds", type=float, default=4.0, help="latency run length (4 s)")
    parser.add_argument("--markets", type=int, default=50)
    parser.add_argument("--client", choices=["desk", "fast", "both"], default="both")
    parser.add_argument("--pin", action="store_true", help="pin the client to the first CPU, the server to the next")
    parser.add_argument("--nice", type=int, default=0, metavar="N",
                        help="run client and server at nice -N (needs privileges; for a machine shared with other "
                             "busy processes, whose scheduling otherwise shows up as latency)")
    parser.add_argument("--serve", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.nice:
        os.nice(-args.nice)
    if args.serve:
        if args.pin:
            _pin(1)
        asyncio.run(_serve(args.serve, args.markets))
        return 0

    n_latency = int(args.rate * args.seconds)
    n_max = max(args.messages, n_latency)
    server = subprocess.Popen([sys.executable, __file__, "--serve", str(n_max), "--markets", str(args.markets),
                               *(["--pin"] if args.pin else [])],  # the server inherits the niceness
                              stdout=subprocess.PIPE, text=True)
    try:
        line = server.stdout.readline()
        if not line.startswith("PORT "):
            raise SystemExit(f"bench server did not start: {line!r}")
        port = int(line.split()[1])
        where = f"client on {_pin(0)}" if args.pin else "client and server not pinned"
        if args.nice:
            where += f", both at nice -{args.nice}"
        stream = generate(0, args.markets, SEED, use_yes_price=True)
        load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
        print(f"server pid {server.pid} on 127.0.0.1:{port}; {where}; {args.markets} markets; "
              f"{os.cpu_count()} CPUs, load average {load} before the run (other processes add latency)")
        ok = True
        names = ["desk", "fast"] if args.client == "both" else [args.client]
        for name in names:
            run = CLIENTS[name]
            label = {"desk": "desk client (KalshiWs + codec + BookManager.apply)",
                     "fast": "plain websockets + C fast path (BookManager.apply_raw)"}[name]
            print(f"\n== {label}")
            url = f"ws://127.0.0.1:{port}{WS_PATH}?mode=burst&n={args.messages}"
            cpu0 = time.process_time()
            elapsed, _, manager = asyncio.run(run(url, stream, args.messages))
            cpu = time.process_time() - cpu0
            rate = args.messages / elapsed
            match = _books_match(manager, stream, args.messages)
            print(f"throughput: {args.messages:,} deltas in {elapsed:.2f} s = {rate:,.0f} msgs/s "
                  f"(target >= {TARGET_MSGS_PER_S:,}); client CPU {cpu:.2f} s = {args.messages / cpu:,.0f} msgs per "
                  f"CPU-second; books match the model: {match}")
            with tempfile.NamedTemporaryFile(suffix=".sent", delete=False) as tmp:
                out = tmp.name
            url = f"ws://127.0.0.1:{port}{WS_PATH}?mode=paced&n={n_latency}&rate={args.rate}&out={out}"
            _, applied, manager = asyncio.run(run(url, stream, n_latency))
            deadline = time.monotonic() + 10
            while os.path.getsize(out) < 8 * n_latency and time.monotonic() < deadline:
                time.sleep(0.05)
            sent = array("q")
            sent.frombytes(Path(out).read_bytes())
            os.unlink(out)
            first = len(stream.markets) + 1
            raw_lat = [applied[first + i] - sent[i] for i in range(n_latency)]
            if os.environ.get("FEED_DEBUG"):
                for k in range(0, n_latency, n_latency // 20):
                    part = sorted(raw_lat[k:k + n_latency // 20])
                    print(f"  [{k:>6}] p50 {part[len(part) // 2] / 1e6:.3f} max {part[-1] / 1e6:.3f}")
            lat = sorted(raw_lat)
            p50, p99, p999 = (_percentile(lat, q) for q in (0.5, 0.99, 0.999))
            match_paced = _books_match(manager, stream, n_latency)
            print(f"latency at {args.rate:,.0f} msgs/s over {n_latency:,} deltas: p50 {p50:.3f} ms, p99 {p99:.3f} ms, "
                  f"p99.9 {p999:.3f} ms, max {lat[-1] / 1e6:.3f} ms (target p99 < {TARGET_P99_MS} ms); "
                  f"books match: {match_paced}")
            passed = rate >= TARGET_MSGS_PER_S and p99 < TARGET_P99_MS and match and match_paced
            print(f"{name}: {'PASS' if passed else 'FAIL'}")
            ok = ok and passed
        return 0 if ok else 1
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    sys.exit(main())
