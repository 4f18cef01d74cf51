"""The Polymarket read client against the simulator's mirror over real loopback sockets.

The simulator's apps (Kalshi, world, Polymarket mirror) run in the test's event loop, installed as the
server installs them, so a test can reach into the mirror's WebSocket settings to alter, drop or cut
what goes on the wire, and watch the client notice and repair it.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time

import httpx
import pytest
import websockets
from aiohttp import web

from console.sim.polymarket import install_polymarket
from console.sim.server import build_app, make_state
from console.sim.world import install_world
from console.venues.errors import NotFound
from console.venues.events import BookLevelSet, BookSnapshot
from console.venues.polymarket import codec as c
from console.venues.polymarket.events import BookHashMismatch, FeedConnected, FeedDisconnected, StaleBook
from console.venues.polymarket.venue import PolymarketConfigError, resolve_polymarket, token_meta


@pytest.fixture
async def mirror():
    state = make_state(key_dir=tempfile.mkdtemp(prefix="pm-client-"), accounts=0, balance_micros=10**9, seed=21,
                       speed=2.0, demo_markets=False)
    app = build_app(state)
    service = install_polymarket(app, port=0)
    install_world(app, seed=21)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield service
    await runner.cleanup()


class Books:
    """The sink: every event, and the books they build (token -> side -> {price: count})."""

    def __init__(self) -> None:
        self.events: list[object] = []
        self.books: dict[str, dict[str, dict[int, int]]] = {}

    def __call__(self, event: object) -> None:
        self.events.append(event)
        if isinstance(event, BookSnapshot):
            self.books[event.ticker] = {"bid": dict(event.bids), "ask": dict(event.asks)}
        elif isinstance(event, BookLevelSet):
            side = self.books[event.ticker][str(event.side)]
            if event.count:
                side[event.price] = event.count
            else:
                side.pop(event.price, None)

    def of(self, kind: type) -> list:
        return [e for e in self.events if isinstance(e, kind)]


async def wait_for(predicate, timeout: float = 10.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


async def books_match_rest(venue, sink: Books, tokens: list[str], attempts: int = 40) -> bool:
    """Local books equal the REST books (retried: the mirror keeps moving between the two reads)."""
    async with venue.rest() as rest:
        for _ in range(attempts):
            remote = {b.asset_id: c.book_snapshot(b) for b in await rest.books(tokens)}
            await asyncio.sleep(0.05)  # let frames sent before the REST answer arrive
            if all(sink.books.get(t) == {"bid": dict(remote[t].bids), "ask": dict(remote[t].asks)} for t in tokens):
                return True
    return False


async def subscribed_feed(venue, sink: Books, **kwargs):
    async with venue.rest() as rest:
        markets = await rest.all_markets()
    meta = {k: v for m in markets for k, v in token_meta(m).items()}
    feed = venue.ws(sink, **kwargs)
    await feed.start()
    await feed.subscribe(list(meta), meta)
    await wait_for(lambda: all(feed.has_book(t) for t in meta), what="every book")
    return feed, markets, list(meta)


async def test_discovery_walks_the_keyset_pages_into_typed_markets(mirror) -> None:
    venue = resolve_polymarket("sim", url=mirror.url)
    async with venue.rest() as rest:
        markets = await rest.all_markets(limit=4)
        assert len(markets) == 11 and rest.stats.requests == 3  # 4 + 4 + 3, the last page has no cursor
        assert all(len(m.token_ids) == 2 and m.tick_size in (100, 10) and m.min_order_size == 500 for m in markets)
        named = [m for m in markets if "Yes" not in m.outcomes]
        assert named and named[0].token_for("Democratic") in named[0].token_ids
        assert (await rest.markets_page(closed=True)).markets == []
        one = await rest.market_by_slug(markets[3].slug)
        assert one.condition_id == markets[3].condition_id
        with pytest.raises(NotFound):
            await rest.market("999999")


async def test_rest_books_and_prices_decode_exactly_and_their_hashes_check(mirror) -> None:
    venue = resolve_polymarket("sim", url=mirror.url)
    async with venue.rest() as rest:
        markets = await rest.all_markets()
        tokens = [t for m in markets for t in m.token_ids]
        books = await rest.books(tokens)
        assert [b.asset_id for b in books] == tokens
        assert all(c.rest_book_hash_ok(b) for b in books) and rest.stats.hash_mismatches == 0
        token = tokens[4]
        for _ in range(20):
            before = c.book_snapshot(await rest.book(token))
            bid, ask = await rest.price(token, "BUY"), await rest.price(token, "SELL")
            mid, spread = await rest.midpoint(token), await rest.spread(token)
            after = c.book_snapshot(await rest.book(token))
            if (before.bids, before.asks) == (after.bids, after.asks):
                break
        assert (bid, ask) == (after.bids[-1][0], after.asks[0][0])
        assert mid == (bid + ask) // 2 and spread == ask - bid
        assert await rest.tick_size(token) in (100, 10)
        assert await rest.fee_rate_bps(token) in (0, 400)
        assert await rest.ok() and abs(await rest.server_time_s() - time.time()) < 600
        with pytest.raises(NotFound):
            await rest.book("42")


async def test_websocket_books_stay_equal_to_rest_with_every_hash_checked(mirror) -> None:
    venue = resolve_polymarket("sim", url=mirror.url)
    sink = Books()
    feed, _, tokens = await subscribed_feed(venue, sink, ping_interval_s=0.3)
    try:
        await asyncio.sleep(3)
        stats = feed.stats
        assert stats.hash_mismatches == 0 and stats.decode_errors == 0
        assert stats.hashes_checked > 50 and stats.hashes_unchecked == 0
        assert stats.pings >= 5 and stats.pongs >= 4  # text PING every 0.3 s, answered PONG
        assert len(sink.of(BookLevelSet)) > 50
        assert await books_match_rest(venue, sink, tokens)
    finally:
        await feed.close()


def _tamper_once(service, token: str, mode: str) -> list[str]:
    """Alter ("size") or drop ("drop") the first price_change frame that touches `token`."""
    done: list[str] = []

    def tap(conn, payload, deliver):
        if not done and isinstance(payload, str) and '"price_change"' in payload and token in payload:
            msg = json.loads(payload)
            if mode == "drop":
                done.append(payload)
                return
            for entry in msg["price_changes"]:
                if entry["asset_id"] == token:
                    entry["size"] = "1" if entry["size"] != "1" else "2"
                    break
            done.append(payload)
            payload = json.dumps(msg)
        deliver(payload)

    service.hub.settings.tap = tap
    return done


async def test_an_altered_change_is_a_counted_hash_mismatch_and_the_token_is_resubscribed(mirror) -> None:
    venue = resolve_polymarket("sim", url=mirror.url)
    sink = Books()
    feed, _, tokens = await subscribed_feed(venue, sink)
    try:
        token = tokens[2]
        tampered = _tamper_once(mirror, token, "size")
        await wait_for(lambda: tampered, what="a price_change for the token")
        await wait_for(lambda: sink.of(BookHashMismatch), what="the mismatch")
        (mismatch,) = sink.of(BookHashMismatch)
        assert (mismatch.asset_id, mismatch.where) == (token, "price_change")
        assert feed.stats.hash_mismatches == 1 and feed.stats.resubscribes == 1
        at = sink.events.index(mismatch)
        await wait_for(lambda: any(isinstance(e, BookSnapshot) and e.ticker == token for e in sink.events[at:]),
                       what="the fresh book")
        assert await books_match_rest(venue, sink, tokens)
    finally:
        await feed.close()


async def test_a_dropped_change_is_noticed_by_the_next_hash_and_repaired(mirror) -> None:
    venue = resolve_polymarket("sim", url=mirror.url)
    sink = Books()
    feed, _, tokens = await subscribed_feed(venue, sink)
    try:
        token = tokens[0]
        dropped = _tamper_once(mirror, token, "drop")
        await wait_for(lambda: dropped, what="a price_change to drop")
        mark = len(sink.events)

        def settled() -> bool:  # the next thing about this token: a mismatch, or a full book that replaces it
            return any((isinstance(e, BookHashMismatch) and e.asset_id == token)
                       or (isinstance(e, BookSnapshot) and e.ticker == token) for e in sink.events[mark:])

        await wait_for(settled, timeout=20, what="the token's next hash or book")
        first = next(e for e in sink.events[mark:] if isinstance(e, (BookHashMismatch, BookSnapshot))
                     and getattr(e, "asset_id", getattr(e, "ticker", None)) == token)
        if isinstance(first, BookHashMismatch):
            assert feed.stats.hash_mismatches >= 1
        assert await books_match_rest(venue, sink, tokens)
    finally:
        await feed.close()


async def test_tick_size_change_drops_the_book_until_the_fresh_one(mirror) -> None:
    venue = resolve_polymarket("sim", url=mirror.url)
    sink = Books()
    feed, markets, _ = await subscribed_feed(venue, sink)
    try:
        market = markets[6]
        mark = len(sink.events)
        async with httpx.AsyncClient() as http:
            r = await http.post(f"{mirror.url}/sim/tick-size", json={"condition_id": market.condition_id,
                                                                      "tick_size": "0.001"})
            assert r.status_code == 200
        await wait_for(lambda: sum(isinstance(e, BookSnapshot) for e in sink.events[mark:]) >= 2, what="fresh books")
        after = sink.events[mark:]
        kinds = [type(e) for e in after if isinstance(e, (c.TickSizeChange, StaleBook, BookSnapshot))]
        assert kinds[:4] == [StaleBook, c.TickSizeChange, StaleBook, c.TickSizeChange]
        assert {e.new_tick_size for e in after if isinstance(e, c.TickSizeChange)} == {10}
        assert all(feed.has_book(t) for t in market.token_ids)
    finally:
        await feed.close()


async def test_the_mirror_closes_quiet_sockets_and_the_client_pings_keep_it_alive(mirror) -> None:
    mirror.hub.settings.idle_timeout_s = 1.0
    venue = resolve_polymarket("sim", url=mirror.url)
    started = time.monotonic()
    async with websockets.connect(venue.ws_url) as quiet:
        with pytest.raises(websockets.ConnectionClosed):
            while True:
                await asyncio.wait_for(quiet.recv(), 5)
    assert time.monotonic() - started < 4
    sink = Books()
    feed = venue.ws(sink, ping_interval_s=0.3)
    await feed.start()
    try:
        await asyncio.sleep(2.5)
        assert feed.connected and feed.stats.connections == 1 and feed.stats.reconnects == 0
    finally:
        await feed.close()


async def test_client_reconnects_and_gets_fresh_books_for_every_token(mirror) -> None:
    venue = resolve_polymarket("sim", url=mirror.url)
    sink = Books()
    feed, _, tokens = await subscribed_feed(venue, sink, reconnect_base_s=0.05)
    try:
        mark = len(sink.events)
        await mirror.hub.close_all()
        await wait_for(lambda: feed.stats.connections == 2 and all(feed.has_book(t) for t in tokens),
                       what="the reconnect")
        after = sink.events[mark:]
        assert isinstance(after[0], FeedDisconnected) and any(isinstance(e, FeedConnected) for e in after)
        assert {e.ticker for e in after if isinstance(e, BookSnapshot)} == set(tokens)
        assert await books_match_rest(venue, sink, tokens)
    finally:
        await feed.close()


def test_venue_resolution_defaults_to_the_built_in_mirror() -> None:
    sim = resolve_polymarket()
    assert (sim.clob_url, sim.gamma_url, sim.ws_url) == ("http://127.0.0.1:8766", "http://127.0.0.1:8766/gamma",
                                                         "ws://127.0.0.1:8766/ws/market")
    assert sim.check_change_hashes is True
    prod = resolve_polymarket("prod")
    assert prod.gamma_url == "https://gamma-api.polymarket.com" and prod.ws_url.startswith("wss://")
    assert prod.check_change_hashes is False  # only book hashes are known to follow the recipe there
    with pytest.raises(PolymarketConfigError, match="sim"):
        resolve_polymarket("kalshi")
