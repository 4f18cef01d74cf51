"""Benchmark: decode + apply of Kalshi `orderbook_delta` messages, messages per second on one core.

    .venv/bin/python bench/book.py                  # 1,000,000 messages, 50 markets
    .venv/bin/python bench/book.py -n 200000 --markets 10 --repeat 5

The stream (bench/deltastream.py) is generated before any clock starts: raw JSON bytes exactly as the
WebSocket delivers them, half the markets on a `use_yes_price` subscription and half without. Each path
starts from the same snapshots and applies the same deltas:

- C fast path: `KalshiBookFeed` (console/domain/_fastbook.c) on a list of bytes (one object per
  WebSocket frame), on the same list as str (what `websockets` returns for text frames), and on one
  newline-separated buffer. Target: >= 1,500,000 msgs/s.
- Reference path: the same feed with `pure=True` (msgspec decode, exact units parsing, Book.apply_delta).
- Baseline: a plain dict book with `json.loads` (string price keys, float sizes, no checks at all).

The process is pinned to one CPU. Wall time and process CPU time are both reported; the best of
`--repeat` runs counts (fresh books each run). At the end every path's books are compared level by level.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # runnable from a checkout without install
sys.path.insert(0, str(Path(__file__).resolve().parent))

from deltastream import DeltaStream, generate  # noqa: E402

from console.domain.book import Book  # noqa: E402
from console.domain.fastbook import KalshiBookFeed  # noqa: E402
from console.domain.side import Side  # noqa: E402
from console.domain.units import PRICE_MAX, parse_count, parse_price  # noqa: E402

TARGET_MSGS_PER_S = 1_500_000


def fresh_feed(stream: DeltaStream, *, pure: bool) -> KalshiBookFeed:
    feed = KalshiBookFeed(pure=pure)
    for m in stream.markets:
        feed.add_book(Book(m.grid, m.ticker, "kalshi"))
    for sid, use_yes in stream.sids.items():
        feed.register_sid(sid, use_yes)
    feed.feed(stream.snapshots)
    return feed


def timed(fn) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def run_feed(stream: DeltaStream, messages, *, pure: bool, lines: bool, repeat: int):
    best = None
    for _ in range(repeat):
        feed = fresh_feed(stream, pure=pure)
        wall, cpu = timed(lambda: feed.feed_lines(messages) if lines else feed.feed(messages))
        if best is None or wall < best[0]:
            best = (wall, cpu, feed)
    return best


def baseline_books(stream: DeltaStream) -> dict:
    books: dict[str, dict[str, dict[str, float]]] = {}
    for raw in stream.snapshots:
        m = json.loads(raw)["msg"]
        books[m["market_ticker"]] = {
            "yes": {p: float(c) for p, c in m.get("yes_dollars_fp", [])},
            "no": {p: float(c) for p, c in m.get("no_dollars_fp", [])},
        }
    return books


def run_baseline(stream: DeltaStream, repeat: int):
    best = None
    for _ in range(repeat):
        books = baseline_books(stream)
        deltas = stream.deltas

        def go() -> None:
            loads = json.loads
            for raw in deltas:
                m = loads(raw)
                if m["type"] != "orderbook_delta":
                    continue
                body = m["msg"]
                side = books[body["market_ticker"]][body["side"]]
                price = body["price_dollars"]
                size = side.get(price, 0.0) + float(body["delta_fp"])
                if size > 1e-9:
                    side[price] = size
                else:
                    side.pop(price, None)

        wall, cpu = timed(go)
        if best is None or wall < best[0]:
            best = (wall, cpu, books)
    return best


def same_as_baseline(feed: KalshiBookFeed, books: dict, stream: DeltaStream) -> bool:
    for m in stream.markets:
        book = feed.books[m.ticker]
        side = books[m.ticker]
        yes = sorted((parse_price(p), round(c * 100)) for p, c in side["yes"].items())
        no = sorted((parse_price(p) if m.use_yes_price else PRICE_MAX - parse_price(p), round(c * 100))
                    for p, c in side["no"].items())
        if yes != book.levels(Side.BID) or no != book.levels(Side.ASK):
            return False
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--messages", type=int, default=1_000_000)
    parser.add_argument("--markets", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3, help="runs per path; the best counts (default 3)")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)

    if hasattr(os, "sched_setaffinity"):
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        print(f"pinned to CPU {cpu}")
    t0 = time.perf_counter()
    stream = generate(args.messages, args.markets, args.seed)
    n = len(stream.deltas)
    size = sum(map(len, stream.deltas))
    print(f"generated {n:,} orderbook_delta messages for {args.markets} markets in "
          f"{time.perf_counter() - t0:.1f} s ({size / n:.0f} bytes each on average, "
          f"{sum(1 for m in stream.markets if m.use_yes_price)} markets with use_yes_price)")
    as_str = [m.decode() for m in stream.deltas]
    buffer = b"\n".join(stream.deltas)

    results = []
    c_list = run_feed(stream, stream.deltas, pure=False, lines=False, repeat=args.repeat)
    results.append(("C fast path, list of bytes", c_list))
    results.append(("C fast path, list of str", run_feed(stream, as_str, pure=False, lines=False, repeat=args.repeat)))
    results.append(("C fast path, one newline buffer", run_feed(stream, buffer, pure=False, lines=True,
                                                                 repeat=args.repeat)))
    reference = run_feed(stream, stream.deltas, pure=True, lines=False, repeat=1)
    results.append(("reference: msgspec + Book.apply_delta", reference))
    base = run_baseline(stream, repeat=1)

    print()
    print(f"{'path':<40} {'msgs/s (wall)':>15} {'msgs/s (cpu)':>15} {'ns/msg':>8}")
    for name, (wall, cpu, _) in results + [("baseline: dict book + json.loads", base)]:
        print(f"{name:<40} {n / wall:>15,.0f} {n / cpu:>15,.0f} {wall / n * 1e9:>8.0f}")

    c_rate = n / c_list[0]
    ratio = base[0] / c_list[0]
    print()
    print(f"C fast path vs baseline (same stream, same run): {ratio:.1f}x")
    print(f"C fast path vs reference path: {reference[0] / c_list[0]:.1f}x")

    feeds = [r[1][2] for r in results]
    identical = all(all(f.books[t].same_levels(feeds[0].books[t]) and f.books[t].meta == feeds[0].books[t].meta
                        for t in f.books) for f in feeds[1:])
    counters = feeds[0].counters()
    print(f"books identical across the four feed runs: {identical}; matches the baseline's books: "
          f"{same_as_baseline(feeds[0], base[2], stream)}")
    print(f"counters: applied {counters['applied']:,}, malformed {counters['malformed']}, gaps {counters['gaps']}, "
          f"inconsistent {counters['inconsistent']}")
    ok = c_rate >= TARGET_MSGS_PER_S and identical and counters["applied"] == n
    print(f"target >= {TARGET_MSGS_PER_S:,} msgs/s per core: {'PASS' if ok else 'FAIL'} ({c_rate:,.0f})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
