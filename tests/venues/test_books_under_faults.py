"""Issue 4's book test: >= 10,000 deltas with drops, duplicates, reorders, skipped seqs and disconnects
injected by the exchange; afterwards the desk's own books (BookManager, fed by KalshiWs) equal the
exchange's REST books exactly, and the damage was repaired by snapshots, not by luck."""

from __future__ import annotations

import asyncio

from kalshi_helpers import UNLIMITED
from test_kalshi_ws import FAST, _churn, _faults, _markets, _trader

from console.domain.grid import PriceGrid
from console.engine.books import BookManager
from console.venues.events import BookDelta, BookSnapshot
from console.venues.kalshi.rest import KalshiRest
from console.venues.kalshi.ws import KalshiWs
from console.venues.kalshi.ws_events import FeedConnected, SeqGap

MIN_DELTAS = 10_000


class DeskBooks:
    """The sink the engine would use: every event into a BookManager, with counts for the test."""

    def __init__(self, tickers: list[str]) -> None:
        self.manager = BookManager()
        for ticker in tickers:
            grid = PriceGrid.for_structure("deci_cent" if ticker.endswith("-B") else "linear_cent")
            self.manager.add_market("kalshi", ticker, grid)
        self.deltas = self.snapshots = self.gaps = self.connects = 0

    def __call__(self, event: object) -> None:
        self.deltas += isinstance(event, BookDelta)
        self.snapshots += isinstance(event, BookSnapshot)
        self.gaps += isinstance(event, SeqGap)
        self.connects += isinstance(event, FeedConnected)
        self.manager.apply(event)


async def _all_equal(api: KalshiRest, books: DeskBooks, tickers: list[str], timeout: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        checks = {t: books.manager.compare_with("kalshi", t, await api.get_orderbook(t)) for t in tickers}
        if all(c.ok for c in checks.values()):
            return
        if loop.time() > deadline:
            raise AssertionError({t: c.mismatches[:5] for t, c in checks.items() if not c.ok})
        await asyncio.sleep(0.2)


async def test_ten_thousand_deltas_with_faults_leave_every_local_book_equal_to_rest(sim_factory) -> None:
    server = sim_factory(accounts=0)
    tickers = _markets(server)
    _, signer = _trader(server)
    _faults(server, {"kind": "ws_drop", "rate": 0.01, "channels": ["orderbook_delta"]},
            {"kind": "ws_duplicate", "rate": 0.01, "channels": ["orderbook_delta"]},
            {"kind": "ws_reorder", "rate": 0.005, "channels": ["orderbook_delta"], "hold_s": 0.05},
            {"kind": "ws_skip_seq", "rate": 0.005, "channels": ["orderbook_delta"], "skip": 2},
            {"kind": "ws_close", "after_messages": 2500, "count": 3})
    books = DeskBooks(tickers)
    async with KalshiRest(server.base_url, signer, budget=UNLIMITED, policy=FAST) as api:
        feed = KalshiWs(server.ws_url, signer, books, silence_s=2.0, probe_timeout_s=1.0, resync_timeout_s=1.0,
                        reconnect_base_s=0.05, reconnect_cap_s=0.5)
        await feed.start()
        try:
            await feed.subscribe("orderbook_delta", tickers)
            seed = 0
            while books.deltas < MIN_DELTAS:  # four concurrent traders churn until enough deltas arrived
                await asyncio.gather(*(_churn(api, tickers, 500, seed=seed + i) for i in range(4)))
                seed += 4
            await _all_equal(api, books, tickers)
        finally:
            await feed.close()
    assert books.deltas >= MIN_DELTAS
    assert books.gaps >= 20 and books.connects >= 3  # faults really hit the feed: gaps seen, reconnects made
    assert books.snapshots > 2 * len(tickers) + 10  # repaired by snapshots
    for ticker in tickers:
        book = books.manager.book("kalshi", ticker)
        assert book is not None and (book.best_bid is not None or book.best_ask is not None)
