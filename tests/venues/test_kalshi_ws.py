"""The Kalshi WebSocket client against the built-in exchange over real sockets.

Plain feed on the shared simulator (books mirrored exactly, both NO-price conventions, private
channels); faults on private simulators (gaps, duplicates, reorders, skipped seqs -> snapshots and
the local view recovers; a closed socket -> reconnect with every subscription remade; a feed that
goes silent while answering pings -> detected and reconnected); and an in-process exchange whose
wire tap corrupts a frame (decode errors are counted and repaired, never read as zeros).
"""

from __future__ import annotations

import asyncio
import random
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web
from kalshi_helpers import UNLIMITED, LocalBooks

from console.domain.side import Side
from console.sim.server import build_app, make_state
from console.sim.ws_connection import WsSettings
from console.venues.events import BookDelta, BookSnapshot
from console.venues.kalshi import codec_ws as w
from console.venues.kalshi.auth import Signer
from console.venues.kalshi.http import RetryPolicy
from console.venues.kalshi.orders import OrderSpec
from console.venues.kalshi.rest import KalshiRest
from console.venues.kalshi.ws import KalshiWs
from console.venues.kalshi.ws_events import FeedConnected, FeedDecodeError, SeqGap, SilenceDetected, WsCommandError

FAST = RetryPolicy(base_s=0.02, cap_s=0.3, max_attempts=8)


def _trader(sim: Any) -> tuple[str, Signer]:
    """A well-funded account on a tier fast enough to make thousands of book changes quickly."""
    r = httpx.post(f"{sim.admin_url}/accounts", json={"balance_dollars": "1000000", "tier": "prestige"}, timeout=10)
    assert r.status_code == 201, r.text
    body = r.json()
    return body["account_id"], Signer(body["api_key_id"], body["private_key_pem"].encode())


def _markets(sim: Any) -> list[str]:
    tag = uuid.uuid4().hex[:8].upper()
    return [sim.new_market(ticker=f"KXWS{tag}-A"), sim.new_market(ticker=f"KXWS{tag}-B", price_level_structure="deci_cent")]


async def _churn(api: KalshiRest, tickers: list[str], actions: int, seed: int) -> None:
    """Random book activity: resting orders on both sides near the middle, crosses, cancels."""
    rng = random.Random(seed)
    resting: list[str] = []
    for _ in range(actions):
        if resting and rng.random() < 0.35:
            order_id = resting.pop(rng.randrange(len(resting)))
            try:
                await api.cancel_order(order_id)
            except Exception:  # noqa: BLE001 - it may have been filled meanwhile; the book test is elsewhere
                pass
            continue
        ticker = rng.choice(tickers)
        step = 100 if ticker.endswith("-A") else 10
        price = rng.randrange(4000, 6000, step)
        side = rng.choice((Side.BID, Side.ASK))
        created = await api.create_order(OrderSpec(ticker=ticker, side=side, price=price, count=rng.choice((1, 50, 100, 250))))
        if created.remaining_count:
            resting.append(created.order_id)


async def _converged(api: KalshiRest, books: LocalBooks, tickers: list[str], timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        rest = {t: await api.get_orderbook(t) for t in tickers}
        if all(books.view(t) == (rest[t].bids, rest[t].asks) for t in tickers):
            return
        if loop.time() > deadline:
            diffs = {t: (books.view(t), (rest[t].bids, rest[t].asks)) for t in tickers if books.view(t) != (rest[t].bids, rest[t].asks)}
            raise AssertionError(f"local books never matched the exchange: {diffs}")
        await asyncio.sleep(0.2)


class Recorder:
    def __init__(self) -> None:
        self.events: list[Any] = []
        self.books = LocalBooks()

    def __call__(self, event: Any) -> None:
        self.events.append(event)
        self.books.apply(event)

    def of(self, kind: type) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]


async def _until(pred: Any, timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not pred():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


# --- plain feed ---------------------------------------------------------------------------------


@pytest.mark.parametrize("use_yes_price", [True, False])
async def test_feed_mirrors_the_exchange_books_exactly(sim, use_yes_price: bool) -> None:
    tickers = _markets(sim)
    _, signer = _trader(sim)
    rec = Recorder()
    async with KalshiRest(sim.base_url, signer, budget=UNLIMITED, portfolio_lag_margin_ms=0) as api:
        feed = KalshiWs(sim.ws_url, signer, rec, use_yes_price=use_yes_price)
        await feed.start()
        try:
            await feed.subscribe("orderbook_delta", tickers)
            await _churn(api, tickers, 400, seed=1 if use_yes_price else 2)
            await _converged(api, rec.books, tickers)
        finally:
            await feed.close()
    assert rec.books.deltas > 250 and feed.stats.gaps == 0 and feed.stats.decode_errors == 0
    asks = [e for e in rec.of(BookDelta) if e.side is Side.ASK]
    assert asks and all(4000 <= e.price < 6000 for e in asks)  # NO bids landed at their YES prices


async def test_private_channels_and_trades_reach_the_sink_decoded(sim) -> None:
    (ticker, _) = _markets(sim)
    _, maker = _trader(sim)
    _, taker = _trader(sim)
    rec = Recorder()
    feed = KalshiWs(sim.ws_url, taker, rec)
    await feed.start()
    try:
        for channel in ("fill", "user_orders", "market_positions"):
            await feed.subscribe(channel)
        await feed.subscribe("trade", [ticker])
        async with KalshiRest(sim.base_url, maker) as m, KalshiRest(sim.base_url, taker) as t:
            await m.create_order(OrderSpec(ticker=ticker, side=Side.ASK, price=5500, count=300))
            await t.create_order(OrderSpec(ticker=ticker, side=Side.BID, price=5500, count=150,
                                           time_in_force="immediate_or_cancel"))
        await _until(lambda: rec.of(w.FillMsg) and rec.of(w.MarketPositionMsg) and rec.of(w.TradeMsg)
                     and any(o.msg.status == "executed" for o in rec.of(w.UserOrderMsg)))
    finally:
        await feed.close()
    (fill,) = rec.of(w.FillMsg)
    assert (fill.msg.side, fill.msg.yes_price, fill.msg.count, fill.msg.post_position) == (Side.BID, 5500, 150, 150)
    assert rec.of(w.MarketPositionMsg)[-1].msg.position == 150
    assert (rec.of(w.TradeMsg)[0].msg.taker, rec.of(w.TradeMsg)[0].msg.count) == (Side.BID, 150)
    assert feed.stats.decode_errors == 0 and feed.stats.gaps == 0


async def test_subscription_commands_and_replies(sim) -> None:
    tickers = _markets(sim)
    _, signer = _trader(sim)
    rec = Recorder()
    feed = KalshiWs(sim.ws_url, signer, rec)
    await feed.start()
    try:
        sid = await feed.subscribe("orderbook_delta", tickers[:1])
        with pytest.raises(WsCommandError) as refused:
            await feed.subscribe("orderbook_delta", ["KXNO-SUCH-MARKET"])
        assert refused.value.code == "11"  # Kalshi's "invalid parameter"; the wanted set is left as it was
        assert await feed.subscribe("orderbook_delta", tickers[1:]) == sid  # widened, same sid
        await _until(lambda: len(rec.of(BookSnapshot)) == 2)
        await feed.remove_markets("orderbook_delta", tickers[:1])
        await feed.request_snapshots()
        await _until(lambda: len(rec.of(BookSnapshot)) == 3)
        assert rec.of(BookSnapshot)[-1].ticker == tickers[1]
        await feed.unsubscribe("orderbook_delta")
        assert feed.sid_of("orderbook_delta") is None
    finally:
        await feed.close()
    assert feed.stats.gaps == 0 and feed.stats.duplicates == 0  # ok/unsubscribed seqs were accounted


# --- faults -------------------------------------------------------------------------------------


def _faults(sim: Any, *rules: dict[str, Any], seed: int = 5) -> None:
    r = httpx.post(f"{sim.admin_url}/faults", json={"rules": list(rules), "seed": seed}, timeout=10)
    assert r.status_code == 200, r.text


async def test_gaps_duplicates_and_reorders_trigger_snapshots_and_the_books_recover(sim_factory) -> None:
    server = sim_factory(accounts=0)
    tickers = _markets(server)
    _, signer = _trader(server)
    _faults(server, {"kind": "ws_drop", "rate": 0.03, "channels": ["orderbook_delta"]},
            {"kind": "ws_duplicate", "rate": 0.02, "channels": ["orderbook_delta"]},
            {"kind": "ws_reorder", "rate": 0.02, "channels": ["orderbook_delta"], "hold_s": 0.05},
            {"kind": "ws_skip_seq", "rate": 0.02, "channels": ["orderbook_delta"], "skip": 2})
    rec = Recorder()
    async with KalshiRest(server.base_url, signer, budget=UNLIMITED, policy=FAST) as api:
        feed = KalshiWs(server.ws_url, signer, rec, silence_s=1.0, probe_timeout_s=1.0, resync_timeout_s=1.0)
        await feed.start()
        try:
            await feed.subscribe("orderbook_delta", tickers)
            await _churn(api, tickers, 800, seed=3)
            await _converged(api, rec.books, tickers, timeout=15)
        finally:
            await feed.close()
    stats = feed.stats
    assert stats.gaps >= 5 and stats.duplicates >= 3 and stats.snapshot_requests >= 5
    gaps = rec.of(SeqGap)
    assert {g.kind for g in gaps} == {"gap", "duplicate"} and all(g.resync and g.channel == "orderbook_delta" for g in gaps)
    assert len(rec.of(BookSnapshot)) > 2  # repaired by snapshots, not by luck


async def test_a_closed_socket_reconnects_and_every_subscription_is_remade(sim_factory) -> None:
    server = sim_factory(accounts=0)
    tickers = _markets(server)
    _, signer = _trader(server)
    _faults(server, {"kind": "ws_close", "after_messages": 30, "count": 2})
    rec = Recorder()
    async with KalshiRest(server.base_url, signer, budget=UNLIMITED, policy=FAST) as api:
        feed = KalshiWs(server.ws_url, signer, rec, reconnect_base_s=0.05)
        await feed.start()
        try:
            await feed.subscribe("orderbook_delta", tickers)
            await feed.subscribe("user_orders")
            await _churn(api, tickers, 150, seed=4)
            await _until(lambda: feed.stats.connections >= 3, timeout=10)
            await _churn(api, tickers, 50, seed=5)
            await _converged(api, rec.books, tickers)
        finally:
            await feed.close()
    assert feed.stats.reconnects >= 2 and len(rec.of(FeedConnected)) >= 3
    # each connection re-subscribed both channels: a snapshot per market per connection
    assert len(rec.of(BookSnapshot)) >= 2 * 3
    # ...and the private channel too: user_order updates keep coming on the last connection
    last_connect = max(i for i, e in enumerate(rec.events) if isinstance(e, FeedConnected))
    assert any(isinstance(e, w.UserOrderMsg) for e in rec.events[last_connect:])


async def test_a_feed_that_answers_pings_but_sends_nothing_is_detected_and_replaced(sim_factory) -> None:
    server = sim_factory(accounts=0)
    tickers = _markets(server)
    _, signer = _trader(server)
    _faults(server, {"kind": "ws_silent", "after_messages": 10, "count": 1})  # first connection only
    rec = Recorder()
    async with KalshiRest(server.base_url, signer, budget=UNLIMITED, policy=FAST) as api:
        feed = KalshiWs(server.ws_url, signer, rec, silence_s=0.6, probe_timeout_s=0.4, reconnect_base_s=0.05)
        await feed.start()
        try:
            await feed.subscribe("orderbook_delta", tickers)
            await _churn(api, tickers, 40, seed=6)
            await _until(lambda: rec.of(SilenceDetected), timeout=10)
            await _until(lambda: feed.stats.connections >= 2, timeout=5)
            await _churn(api, tickers, 40, seed=7)
            await _converged(api, rec.books, tickers)
        finally:
            await feed.close()
    assert feed.stats.silences == 1 and rec.of(SilenceDetected)[0].seconds >= 0.6


async def test_a_quiet_but_healthy_feed_is_probed_not_reconnected(sim) -> None:
    tickers = _markets(sim)
    _, signer = _trader(sim)
    rec = Recorder()
    feed = KalshiWs(sim.ws_url, signer, rec, silence_s=0.3, probe_timeout_s=1.0)
    await feed.start()
    try:
        await feed.subscribe("orderbook_delta", tickers)
        await asyncio.sleep(1.5)
    finally:
        await feed.close()
    assert feed.stats.silences == 0 and feed.stats.connections == 1
    assert len(rec.of(BookSnapshot)) >= 4  # 2 at subscribe, then probe snapshots answered


# --- decode errors on the wire (in-process exchange with a corrupting tap) ----------------------


async def test_an_undecodable_book_frame_is_counted_and_repaired_never_defaulted(tmp_path: Path) -> None:
    corrupted: list[int] = []

    def tap(conn: Any, sub: Any, envelope: dict[str, Any], deliver: Any) -> None:
        if envelope["type"] == "orderbook_delta" and not corrupted:
            corrupted.append(envelope["seq"])
            envelope = {**envelope, "msg": {**envelope["msg"], "delta_fp": "12.345"}}  # not a count
        deliver(envelope)

    state = make_state(key_dir=tmp_path / "keys", accounts=1, balance_micros=10**12, seed=1, speed=1.0,
                       demo_markets=False)
    state.extras["kalshi_ws"] = WsSettings(tap=tap)
    runner = web.AppRunner(build_app(state), handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # aiohttp has no public accessor
    try:
        base = f"http://127.0.0.1:{port}"
        entry = next(e for e in state.extras["accounts"] if e["name"] == "acct1")
        signer = Signer(entry["api_key_id"], entry["private_key_path"])
        ticker = f"KXTAP-{uuid.uuid4().hex[:6].upper()}"
        async with httpx.AsyncClient() as admin:
            assert (await admin.post(f"{base}/sim/markets", json={"ticker": ticker})).status_code == 201
        rec = Recorder()
        async with KalshiRest(f"{base}/trade-api/v2", signer, portfolio_lag_margin_ms=0) as api:
            feed = KalshiWs(f"ws://127.0.0.1:{port}/trade-api/ws/v2", signer, rec)
            await feed.start()
            try:
                await feed.subscribe("orderbook_delta", [ticker])
                await api.create_order(OrderSpec(ticker=ticker, side=Side.BID, price=4200, count=1000))
                await api.create_order(OrderSpec(ticker=ticker, side=Side.ASK, price=4800, count=500))
                await _converged(api, rec.books, [ticker])
            finally:
                await feed.close()
    finally:
        await runner.cleanup()
    (error,) = rec.of(FeedDecodeError)
    assert "delta_fp" in error.detail and error.seq == corrupted[0]
    assert feed.stats.decode_errors == 1 and feed.stats.snapshot_requests >= 1
    assert rec.books.view(ticker) == (((4200, 1000),), ((4800, 500),))  # repaired from a snapshot, not 0


# --- ping/pong liveness -------------------------------------------------------------------------


async def test_a_peer_that_stops_answering_pings_is_dropped_and_redialled(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives.asymmetric import ed25519

    dials: list[float] = []

    async def mute(request: web.Request) -> web.WebSocketResponse:
        # accepts the handshake, then never answers a ping, like a hung venue or proxy
        dials.append(asyncio.get_running_loop().time())
        ws = web.WebSocketResponse(autoping=False)
        await ws.prepare(request)
        async for _frame in ws:  # pings arrive here and are ignored
            pass
        return ws

    app = web.Application()
    app.router.add_get("/trade-api/ws/v2", mute)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    rec = Recorder()
    feed = KalshiWs(f"ws://127.0.0.1:{port}/trade-api/ws/v2", Signer("k", ed25519.Ed25519PrivateKey.generate()), rec,
                    ping_interval_s=0.2, ping_timeout_s=0.3, reconnect_base_s=0.05, silence_s=None)
    try:
        await feed.start()
        await _until(lambda: len(dials) >= 2, timeout=5)
    finally:
        await feed.close()
        await runner.cleanup()
    (first, *_) = [e for e in rec.events if type(e).__name__ == "FeedDisconnected"]
    assert "ping" in first.reason.lower() or "keepalive" in first.reason.lower(), first.reason
    assert feed.stats.reconnects >= 1
