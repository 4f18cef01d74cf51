"""`BookManager`: every market's `Book`, kept current from venue events or raw frames, with its health.

The kernel owns one manager (single writer; no threads, no locks here). Two ways in, same Books:

- `apply(event)`: typed events from the venue clients. `BookSnapshot` / `BookDelta` / `BookLevelSet`
  change books; the Kalshi client's `SeqGap`, `FeedDecodeError`, `FeedDisconnected` and
  `SubscriptionLost`, and Polymarket's `BookHashMismatch` and `StaleBook`, mark the affected books
  untrustworthy until their next snapshot. The Kalshi client
  checks `seq` itself; for a source that does not, pass `check_seq=True` and the manager checks per sid.
- `apply_raw(venue, frames)`: raw Kalshi order-book frames through the C fast path
  (`console.domain.fastbook.KalshiBookFeed`), for replays, benches and the high-rate feed. Register each
  order-book subscription first (`register_sid`), since the wire does not say how NO prices are quoted.

`compare_with(venue, ticker, rest)` checks a book against the venue's REST book and records the result;
`health(...)` classifies each market green / amber / red with the reason (`book_health`).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence

from console.domain.book import Book, BookInconsistent
from console.domain.fastbook import KalshiBookFeed
from console.domain.grid import OffGridPrice, PriceGrid
from console.domain.side import Side
from console.engine.book_health import (
    CrossCheck,
    HealthThresholds,
    LevelMismatch,
    MarketHealth,
    MarketState,
    classify,
)
from console.venues.events import BookDelta, BookLevelSet, BookSnapshot
from console.venues.kalshi.ws_events import (
    FeedDecodeError,
    FeedDisconnected,
    SeqGap,
    SubscriptionLost,
)
from console.venues.polymarket.events import BookHashMismatch, StaleBook

Levels = Sequence[tuple[int, int]]


class BookManager:
    """Books per (venue, ticker) and their health (see the module docstring)."""

    def __init__(self, thresholds: HealthThresholds | None = None, *, clock_ns: Callable[[], int] = time.monotonic_ns,
                 check_seq: bool = False) -> None:
        self.thresholds = thresholds or HealthThresholds()
        self.clock_ns = clock_ns
        self.check_seq = check_seq
        self.markets: dict[tuple[str, str], MarketState] = {}
        self.counters: Counter[str] = Counter()
        self._sid_tickers: dict[tuple[str, int], list[str]] = {}
        self._last_seq: dict[tuple[str, int], int] = {}
        self._feeds: dict[str, KalshiBookFeed] = {}
        self.on_other: Callable[[str, str, bytes | str], None] | None = None  # (venue, type, raw)

    # --- markets ----------------------------------------------------------------------------------
    def add_market(self, venue: str, ticker: str, grid: PriceGrid) -> Book:
        """Start tracking a market (a new grid replaces the book; health starts over at "no snapshot")."""
        key = (venue, ticker)
        state = self.markets.get(key)
        if state is not None and state.book.grid == grid:
            return state.book
        book = Book(grid, ticker, venue)
        self.markets[key] = MarketState(venue, ticker, book)
        if venue in self._feeds:
            self._feeds[venue].add_book(book)
        return book

    def book(self, venue: str, ticker: str) -> Book | None:
        state = self.markets.get((venue, ticker))
        return None if state is None else state.book

    def _state(self, venue: str, ticker: str) -> MarketState | None:
        state = self.markets.get((venue, ticker))
        if state is None:
            self.counters["unknown_market"] += 1
        return state

    # --- typed events -----------------------------------------------------------------------------
    def apply(self, event: object) -> None:
        """Apply one venue event (other event types are ignored)."""
        if type(event) is BookDelta:
            self._delta(event)
        elif isinstance(event, BookSnapshot):
            self._snapshot(event)
        elif isinstance(event, BookLevelSet):
            self._level_set(event)
        elif isinstance(event, SeqGap):
            if event.kind == "gap" and event.resync:
                self._gap_on(event.venue, event.sid, event.tickers,
                             f"seq gap on sid {event.sid} (expected {event.expected}, got {event.got})")
            else:
                self.counters[f"seq_{event.kind}"] += 1
        elif isinstance(event, FeedDecodeError):
            if event.sid is not None:
                self._gap_on(event.venue, event.sid, (), f"undecodable message on sid {event.sid}")
        elif isinstance(event, FeedDisconnected):
            self._gap_on_venue(event.venue, f"feed disconnected ({event.reason})")
        elif isinstance(event, SubscriptionLost):
            self._gap_on(event.venue, event.sid, (), f"subscription {event.sid} dropped by the venue "
                                                      f"(code {event.code})")
        elif isinstance(event, BookHashMismatch):  # Polymarket: no seq; the book hash is the check
            self._gap_on_market(event.venue, event.asset_id, f"book hash mismatch after {event.where}")
        elif isinstance(event, StaleBook):
            self._gap_on_market(event.venue, event.asset_id, event.reason)

    def _sequenced(self, venue: str, sid: int, seq: int, ticker: str) -> bool:
        """The manager's own seq check (check_seq=True); False for a stale message (not applied)."""
        if not (self.check_seq and sid and seq):
            return True
        key = (venue, sid)
        last = self._last_seq.get(key)
        if last is not None and seq <= last:
            self.counters["stale"] += 1
            return False
        self._last_seq[key] = seq
        if last is not None and seq > last + 1:
            self._gap_on(venue, sid, (), f"seq gap on sid {sid} (expected {last + 1}, got {seq})")
        return True

    def observe_seq(self, venue: str, sid: int, seq: int) -> None:
        """A sequenced reply on a book sid (ok, unsubscribed, error) uses up a seq too (check_seq only)."""
        self._sequenced(venue, sid, seq, "")

    def _delta(self, ev: BookDelta) -> None:
        # the hot path of the typed feed: no helper calls unless needed
        state = self.markets.get((ev.venue, ev.ticker))
        if state is None:
            self.counters["unknown_market"] += 1
            return
        if self.check_seq and not self._sequenced(ev.venue, ev.sid, ev.seq, ev.ticker):
            return
        try:
            state.book.apply_delta(ev.side, ev.price, ev.delta, ev.ts_ms, ev.recv_ns or self.clock_ns())
            self.counters["applied"] += 1
        except (OffGridPrice, BookInconsistent):
            self.counters["refused"] += 1

    def _level_set(self, ev: BookLevelSet) -> None:
        state = self._state(ev.venue, ev.ticker)
        if state is None:
            return
        try:
            state.book.set_level(ev.side, ev.price, ev.count, ev.ts_ms, ev.recv_ns or self.clock_ns())
            self.counters["applied"] += 1
        except (OffGridPrice, BookInconsistent):
            state.book.mark_damaged()
            self.counters["refused"] += 1

    def _snapshot(self, ev: BookSnapshot) -> None:
        state = self._state(ev.venue, ev.ticker)
        if state is None:
            return
        if ev.sid:
            self._remember_sid(ev.venue, ev.sid, ev.ticker)
            state.sid = ev.sid
            if not self._sequenced(ev.venue, ev.sid, ev.seq, ev.ticker):
                return
        now = ev.recv_ns or self.clock_ns()
        try:
            state.book.apply_snapshot(ev.bids, ev.asks, ev.ts_ms, now)
        except (OffGridPrice, BookInconsistent):
            state.book.mark_damaged()
            self.counters["refused"] += 1
            return
        self.counters["snapshots"] += 1
        state.note_snapshot(now)

    def _remember_sid(self, venue: str, sid: int, ticker: str) -> None:
        tickers = self._sid_tickers.setdefault((venue, sid), [])
        if ticker not in tickers:
            tickers.append(ticker)

    def _gap_on(self, venue: str, sid: int, tickers: Iterable[str], description: str) -> None:
        """Mark the markets of a subscription (or the given ones) untrustworthy until their next snapshot."""
        names = list(tickers) or self._sid_tickers.get((venue, sid)) or \
            [t for (v, t) in self.markets if v == venue]
        now = self.clock_ns()
        self.counters["gaps"] += 1
        for ticker in names:
            state = self.markets.get((venue, ticker))
            if state is not None:
                state.note_gap(description, now)

    def _gap_on_market(self, venue: str, ticker: str, description: str) -> None:
        state = self.markets.get((venue, ticker))
        if state is not None:
            state.note_gap(description, self.clock_ns())

    def _gap_on_venue(self, venue: str, description: str) -> None:
        now = self.clock_ns()
        for (v, _), state in self.markets.items():
            if v == venue:
                state.note_gap(description, now)

    # --- raw Kalshi frames (C fast path) -----------------------------------------------------------
    def raw_feed(self, venue: str = "kalshi") -> KalshiBookFeed:
        """The fast-path feed for a venue's raw order-book frames, sharing this manager's Books."""
        feed = self._feeds.get(venue)
        if feed is None:
            feed = KalshiBookFeed(
                on_gap=lambda sid, expected, got: self._gap_on(
                    venue, sid, (), f"seq gap on sid {sid} (expected {expected}, got {got})"),
                on_snapshot=lambda ticker: self._raw_snapshot(venue, ticker),
                on_other=lambda kind, raw: self.on_other(venue, kind, raw) if self.on_other else None,
            )
            for (v, _), state in self.markets.items():
                if v == venue:
                    feed.add_book(state.book)
            self._feeds[venue] = feed
        return feed

    def register_sid(self, venue: str, sid: int, use_yes_price: bool, tickers: Iterable[str] = ()) -> None:
        """An order-book subscription whose raw frames will arrive through `apply_raw`."""
        self.raw_feed(venue).register_sid(sid, use_yes_price)
        for ticker in tickers:
            self._remember_sid(venue, sid, ticker)

    def apply_raw(self, venue: str, frames: list[bytes | str], recv_ns: int | None = None) -> None:
        """Apply a batch of raw order-book frames (other frames go to `on_other`)."""
        self.raw_feed(venue).feed(frames, self.clock_ns() if recv_ns is None else recv_ns)

    def _raw_snapshot(self, venue: str, ticker: str) -> None:
        state = self.markets.get((venue, ticker))
        if state is not None:
            state.note_snapshot(state.book.last_recv_ns or self.clock_ns())

    # --- cross-check and health ---------------------------------------------------------------------
    def compare_with(self, venue: str, ticker: str, rest: BookSnapshot | tuple[Levels, Levels],
                     depth: int | None = None) -> CrossCheck:
        """Compare a book with the venue's REST book (YES scale; `depth`: only that many levels a side).

        The result is recorded for health: a match is fresh evidence; a mismatch is amber until it is
        seen `cross_check_strikes` times in a row (REST and the stream can race by a message or two).
        """
        state = self.markets.get((venue, ticker))
        if state is None:
            raise KeyError(f"{venue}:{ticker} is not tracked; add_market first")
        rest_bids, rest_asks = (rest.bids, rest.asks) if isinstance(rest, BookSnapshot) else rest
        mismatches: list[LevelMismatch] = []
        compared = 0
        for side, rest_levels in ((Side.BID, rest_bids), (Side.ASK, rest_asks)):
            if depth:
                local = dict(state.book.depth(side, depth))
                ordered = sorted(rest_levels, reverse=side is Side.BID)
                remote = dict(ordered[:depth])
            else:
                local = dict(state.book.levels(side))
                remote = dict(rest_levels)
            for price in sorted(local.keys() | remote.keys()):
                compared += 1
                if local.get(price, 0) != remote.get(price, 0):
                    mismatches.append(LevelMismatch(side, price, local.get(price, 0), remote.get(price, 0)))
        now = self.clock_ns()
        result = CrossCheck(not mismatches, tuple(mismatches), compared, now)
        state.check = result
        if result.ok:
            state.strikes = 0
            state.check_ok_ns = now
        else:
            state.strikes += 1
        return result

    def health(self, venue: str, ticker: str) -> MarketHealth:
        state = self.markets.get((venue, ticker))
        if state is None:
            raise KeyError(f"{venue}:{ticker} is not tracked")
        return classify(state, self.clock_ns(), self.thresholds)

    def health_all(self) -> list[MarketHealth]:
        now = self.clock_ns()
        return [classify(state, now, self.thresholds) for state in self.markets.values()]
