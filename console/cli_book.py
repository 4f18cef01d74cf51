"""`edgedesk book TICKER` (a market's ladder, once or live) and `edgedesk replay FILE` (a recording's books).

    edgedesk book KXSENATE-26-R                 # the book now, from REST: YES ladder with NO prices alongside
    edgedesk book KXSENATE-26-R --json          # the same as JSON (exact price/count strings)
    edgedesk book KXSENATE-26-R --watch         # live over the WebSocket until Ctrl-C (plain ANSI redraw)
    edgedesk book KXSENATE-26-R --watch --record session.jsonl.gz    # ... and record every frame
    edgedesk replay session.jsonl.gz            # final books and health of a recording

The venue is config.toml's `[venue]` (a running `edgedesk sim` by default; `--url`, `--key-dir`).
`--watch` keeps the book from snapshot + deltas with the desk's own WebSocket client, cross-checks it
against REST every few seconds and shows its health (green / amber / red and why).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from typing import TYPE_CHECKING, Any, TextIO

from console.domain.side import Side
from console.domain.units import PRICE_MAX, format_count, format_price

if TYPE_CHECKING:
    from console.config import DeskConfig
    from console.domain.book import Book
    from console.engine.book_health import MarketHealth

CROSS_CHECK_EVERY_S = 5.0
REDRAW_EVERY_S = 0.1
_COLOURS = {"green": "\x1b[32m", "amber": "\x1b[33m", "red": "\x1b[31m"}


# --- command-line wiring (called from console/cli.py) --------------------------------------------
def add_commands(commands: argparse._SubParsersAction) -> None:
    book = commands.add_parser("book", help="show a market's order book (YES ladder, NO prices alongside)",
                               description="Show a market's order book from the venue in config.toml: once "
                                           "from REST, or live over the WebSocket with --watch.")
    book.add_argument("ticker", metavar="TICKER")
    book.add_argument("--watch", action="store_true", help="stream the book and redraw it live until Ctrl-C")
    book.add_argument("--json", action="store_true", help="print the book as JSON (one shot)")
    book.add_argument("--depth", type=_depth, default=10, help="levels per side (default 10)")
    book.add_argument("--url", default=None, help="REST base URL (sim default http://127.0.0.1:8765/trade-api/v2)")
    book.add_argument("--key-dir", default=None, help="the running simulator's key directory")
    book.add_argument("--record", metavar="FILE", default=None,
                      help="with --watch: record every raw frame to FILE (JSON lines; gzip if it ends in .gz)")
    book.set_defaults(func=_cmd_book)
    replay = commands.add_parser("replay", help="replay a recording and print its final books and health",
                                 description="Feed a recording (book --watch --record, or the desk's recorder) "
                                             "through the desk's decoder and books; print the final books.")
    replay.add_argument("file", metavar="FILE")
    replay.add_argument("--fast", action="store_true", help="use the C fast path instead of the client's decoder")
    replay.add_argument("--json", action="store_true", help="print the books and health as JSON")
    replay.add_argument("--depth", type=_depth, default=5, help="levels per side (default 5)")
    replay.set_defaults(func=_cmd_replay)


def _depth(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"depth {value!r}: not an integer") from None
    if not 1 <= n <= 100:
        raise argparse.ArgumentTypeError(f"depth {value!r}: must be 1..100")
    return n


# --- rendering ---------------------------------------------------------------------------------
def _half_pips(mid_x2: int | None) -> str:
    if mid_x2 is None:
        return "-"
    return format_price(mid_x2 // 2) + ("5" if mid_x2 % 2 else "")


def ladder_lines(book: Book, depth: int) -> list[str]:
    """The ladder: YES asks above (best lowest), YES bids below, each row with its NO price."""
    best_bid, best_ask = book.best_bid, book.best_ask
    micro = book.microprice_probability
    spread = book.spread
    summary = (f"yes bid {_level(best_bid)} | yes ask {_level(best_ask)} | spread "
               f"{'-' if spread is None else format_price(spread)} | mid {_half_pips(book.mid_x2)} | "
               f"micro {'-' if micro is None else f'{micro:.4f}'}")
    lines = [summary, f"{'':4}{'YES ASK':>9} {'SIZE':>12}   {'NO BID':>8}"]
    asks = book.depth(Side.ASK, depth)
    lines += [f"{'':4}{format_price(p):>9} {format_count(c):>12}   {format_price(PRICE_MAX - p):>8}"
              for p, c in reversed(asks)] or [f"{'':4}{'(no asks)':>9}"]
    lines.append("    " + "-" * 36)
    lines.append(f"{'':4}{'YES BID':>9} {'SIZE':>12}   {'NO ASK':>8}")
    bids = book.depth(Side.BID, depth)
    lines += [f"{'':4}{format_price(p):>9} {format_count(c):>12}   {format_price(PRICE_MAX - p):>8}"
              for p, c in bids] or [f"{'':4}{'(no bids)':>9}"]
    return lines


def _level(level: tuple[int, int] | None) -> str:
    return "-" if level is None else f"{format_price(level[0])} x {format_count(level[1])}"


def book_json(book: Book, depth: int | None = None, health: MarketHealth | None = None) -> dict[str, Any]:
    """The book as JSON-ready data: exact price/count strings; YES view and the mirrored NO view."""
    n = depth or len(book.grid)
    no = book.no_view()
    levels = lambda rows: [[format_price(p), format_count(c)] for p, c in rows]
    micro = book.microprice_probability
    out: dict[str, Any] = {
        "venue": book.venue, "ticker": book.ticker,
        "yes": {"bids": levels(book.depth(Side.BID, n)), "asks": levels(book.depth(Side.ASK, n))},
        "no": {"bids": levels(no.depth(Side.BID, n)), "asks": levels(no.depth(Side.ASK, n))},
        "spread": None if book.spread is None else format_price(book.spread),
        "mid": None if book.mid_x2 is None else _half_pips(book.mid_x2),
        "microprice_probability": None if micro is None else round(micro, 6),
    }
    if health is not None:
        out["health"] = {"level": health.level.value, "reason": health.reason}
    return out


# --- edgedesk book -------------------------------------------------------------------------------
def _cmd_book(args: argparse.Namespace, config: DeskConfig) -> int:
    return cmd_book(config, args.ticker, watch=args.watch, as_json=args.json, depth=args.depth, url=args.url,
                    key_dir=args.key_dir, record=args.record)


def cmd_book(config: DeskConfig, ticker: str, *, watch: bool = False, as_json: bool = False, depth: int = 10,
             url: str | None = None, key_dir: str | None = None, record: str | None = None,
             out: TextIO | None = None, err: TextIO | None = None) -> int:
    from console.venues.errors import NotFound, VenueError, VenueUnavailable
    from console.venues.kalshi.commands import _quiet_http_logs
    from console.venues.kalshi.doctor import not_running_hint
    from console.venues.kalshi.venue import VenueConfigError, resolve_venue

    out, err = out or sys.stdout, err or sys.stderr  # looked up per call (tests swap sys.stdout)
    _quiet_http_logs()
    if record and not watch:
        print("edgedesk book: --record needs --watch (it records the live stream)", file=err)
        return 2
    try:
        venue = resolve_venue(config, url=url, key_dir=key_dir, require_key=watch)
        if watch:
            asyncio.run(_watch(venue, ticker, depth, record, out))
        else:
            asyncio.run(_once(venue, ticker, depth, as_json, out))
    except KeyboardInterrupt:
        return 0
    except VenueConfigError as exc:
        print(f"edgedesk book: {exc}", file=err)
        return 2
    except NotFound:
        print(f"edgedesk book: no market {ticker!r} at {venue.rest_url} (list them with `edgedesk markets`)",
              file=err)
        return 1
    except VenueUnavailable:
        print(f"edgedesk book: {not_running_hint(venue)}", file=err)
        return 1
    except VenueError as exc:
        print(f"edgedesk book: {exc}", file=err)
        return 1
    return 0


async def _load(api: Any, ticker: str) -> tuple[Any, Book]:
    from console.domain.book import Book

    market = await api.get_market(ticker)
    book = Book(market.grid(), ticker, "kalshi")
    snapshot = await api.get_orderbook(ticker)
    book.apply_snapshot(snapshot.bids, snapshot.asks)
    return market, book


async def _once(venue: Any, ticker: str, depth: int, as_json: bool, out: TextIO) -> None:
    from console.venues.kalshi.doctor import QUICK

    async with venue.rest(policy=QUICK) as api:
        market, book = await _load(api, ticker)
    if as_json:
        data = book_json(book, depth)
        data["title"] = market.title
        json.dump(data, out, indent=2)
        out.write("\n")
        return
    print(f"{ticker}  {market.title or ''}  ({market.status}, {venue.name} {venue.rest_url})", file=out)
    for line in ladder_lines(book, depth):
        print(line, file=out)


async def _watch(venue: Any, ticker: str, depth: int, record: str | None, out: TextIO) -> None:
    from console.engine.books import BookManager
    from console.venues.kalshi.doctor import QUICK

    manager = BookManager()
    async with venue.rest(policy=QUICK) as api:
        market = await api.get_market(ticker)
        manager.add_market("kalshi", ticker, market.grid())
        recorder = None
        if record:
            from console.engine.recorder import Recorder, RecordingKalshiWs

            recorder = Recorder(record)
            recorder.market(ticker, market.grid().to_wire())
            ws = RecordingKalshiWs(venue.ws_url, venue.signer, manager.apply, recorder=recorder)
        else:
            ws = venue.ws(manager.apply)
        tty = out.isatty()
        try:
            await ws.start()
            await ws.subscribe("orderbook_delta", [ticker])
            await _redraw_loop(manager, ws, api, market, depth, out, tty)
        finally:
            await ws.close()
            if recorder is not None:
                recorder.close()
            if tty:
                out.write("\x1b[?25h")  # cursor back on
                out.flush()


async def _redraw_loop(manager: Any, ws: Any, api: Any, market: Any, depth: int, out: TextIO, tty: bool) -> None:
    from console.venues.errors import VenueError

    book = manager.book("kalshi", market.ticker)
    shown, last_draw, last_check = None, 0.0, time.monotonic()
    rest_problem = ""
    if tty:
        out.write("\x1b[?25l\x1b[2J")  # hide the cursor, clear once; later frames overwrite in place
    while True:
        await asyncio.sleep(REDRAW_EVERY_S)
        now = time.monotonic()
        if now - last_check >= CROSS_CHECK_EVERY_S:
            last_check = now
            try:  # a REST hiccup must not end the watch: the stream may still be fine
                snapshot = await api.get_orderbook(market.ticker)
                manager.compare_with("kalshi", market.ticker, snapshot)
                rest_problem = ""
            except VenueError as exc:
                rest_problem = f"   REST check failed: {exc}"
        health = manager.health("kalshi", market.ticker)
        state = (book.version, health.level, ws.connected, rest_problem)
        if state == shown and now - last_draw < 1.0:
            continue
        shown, last_draw = state, now
        level = health.level.value
        colour, reset = (_COLOURS[level], "\x1b[0m") if tty else ("", "")
        stats = ws.stats
        lines = [f"{market.ticker}  {market.title or ''}   {time.strftime('%H:%M:%S')}",
                 f"health {colour}{level.upper()}{reset}: {health.reason}",
                 f"feed {'connected' if ws.connected else 'DISCONNECTED'}, {stats.messages} messages, "
                 f"{stats.gaps} gaps, {stats.reconnects} reconnects{rest_problem}   (Ctrl-C to quit)",
                 *ladder_lines(book, depth)]
        if tty:
            out.write("\x1b[H" + "".join(line + "\x1b[K\n" for line in lines) + "\x1b[J")
        else:
            out.write("\n".join(lines) + "\n\n")
        out.flush()


# --- edgedesk replay -----------------------------------------------------------------------------
def _cmd_replay(args: argparse.Namespace, config: DeskConfig) -> int:
    return cmd_replay(args.file, fast=args.fast, as_json=args.json, depth=args.depth)


def cmd_replay(path: str, *, fast: bool = False, as_json: bool = False, depth: int = 5,
               out: TextIO | None = None, err: TextIO | None = None) -> int:
    from console.engine.replay import replay

    out, err = out or sys.stdout, err or sys.stderr
    try:
        result = replay(path, fast=fast)
    except FileNotFoundError:
        print(f"edgedesk replay: {path}: no such file", file=err)
        return 1
    except (OSError, ValueError, EOFError) as exc:
        print(f"edgedesk replay: {path}: {exc}", file=err)
        return 1
    manager = result.manager
    span = (result.last_t_ns - result.first_t_ns) / 1e9
    books = [(state.book, manager.health(state.venue, state.ticker)) for state in manager.markets.values()]
    if as_json:
        json.dump({"file": str(path), "frames_in": result.frames_in, "frames_out": result.frames_out,
                   "seconds": round(span, 3), "decoder": "fast" if fast else "codec",
                   "counters": dict(result.counters), "markets_without_grid": result.markets_without_grid,
                   "books": [book_json(book, depth, health) for book, health in books]}, out, indent=2)
        out.write("\n")
        return 0
    counts = ", ".join(f"{k} {v}" for k, v in sorted(result.counters.items())) or "none"
    print(f"{path}: {result.frames_in} frames in, {result.frames_out} out, {span:.1f} s, "
          f"{len(books)} markets ({'C fast path' if fast else 'client decoder'}); counters: {counts}", file=out)
    if result.markets_without_grid:
        print(f"no price grid recorded for {', '.join(result.markets_without_grid)}: shown on a 1-pip grid",
              file=out)
    for book, health in books:
        print(f"\n{book.ticker}  health {health.level.value.upper()}: {health.reason}", file=out)
        for line in ladder_lines(book, depth):
            print(line, file=out)
    return 0
