"""Recorder and replay: a live session against the simulator, recorded through the desk's own WebSocket
client, replays (client decoder and C fast path alike) into exactly the books REST shows at the end;
recordings are exact (gzip or plain, even non-UTF-8 frames), and a damaged recording shows red health."""

from __future__ import annotations

import asyncio
import io
import json
import random

import httpx

from console.cli import main as cli_main
from console.domain.grid import PriceGrid
from console.domain.units import format_count, format_price
from console.engine.book_health import Health
from console.engine.books import BookManager
from console.engine.recorder import Recorder, RecordingKalshiWs, frame_of, read_records
from console.engine.replay import replay
from console.venues.kalshi.auth import KalshiAuth, Signer
from console.venues.kalshi.rest import KalshiRest

ORDERS = "/portfolio/events/orders"


def trader(sim) -> httpx.AsyncClient:
    """A fresh funded account on a fast rate-limit tier (admin API), as a signed async client."""
    r = httpx.post(f"{sim.admin_url}/accounts", json={"balance_dollars": "100000", "tier": "prestige"}, timeout=10)
    assert r.status_code == 201, r.text
    body = r.json()
    signer = Signer(body["api_key_id"], body["private_key_pem"].encode())
    return httpx.AsyncClient(base_url=sim.base_url, auth=KalshiAuth(signer), timeout=10)


async def random_activity(clients: list[httpx.AsyncClient], tickers: dict[str, PriceGrid], n: int,
                          rng: random.Random) -> None:
    """Resting orders near the middle, crossing orders, cancels: the book moves on both sides."""
    resting: list[tuple[httpx.AsyncClient, str]] = []
    for _ in range(n):
        client = rng.choice(clients)
        ticker = rng.choice(list(tickers))
        grid = tickers[ticker]
        if resting and rng.random() < 0.25:
            owner, order_id = resting.pop(rng.randrange(len(resting)))
            await owner.delete(f"{ORDERS}/{order_id}")
            continue
        side = rng.choice(["bid", "ask"])
        centre = grid.index_of(grid.round_down(5000))
        offset = rng.randint(-12, 12)
        price = grid.prices[centre + offset]
        body = {"ticker": ticker, "side": side, "price": format_price(price),
                "count": format_count(rng.randint(1, 40) * 50), "self_trade_prevention_type": "taker_at_cross",
                "time_in_force": "good_till_canceled" if rng.random() < 0.85 else "immediate_or_cancel"}
        r = await client.post(ORDERS, json=body)
        assert r.status_code == 201, r.text
        order_id = r.json().get("order_id") or r.json().get("order", {}).get("order_id")
        if order_id:
            resting.append((client, order_id))


async def wait_until_books_match(manager: BookManager, rest: KalshiRest, tickers, timeout: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        results = [manager.compare_with("kalshi", t, await rest.get_orderbook(t)) for t in tickers]
        if all(r.ok for r in results):
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"live books never matched REST: {[r.describe() for r in results]}")
        await asyncio.sleep(0.1)


async def test_recorded_live_session_replays_into_the_rest_books(sim, tmp_path, capsys) -> None:
    tickers = {sim.new_market(): PriceGrid.for_structure("linear_cent"),
               sim.new_market(price_level_structure="deci_cent"): PriceGrid.for_structure("deci_cent")}
    clients = [trader(sim) for _ in range(3)]
    rng = random.Random(4)
    path = tmp_path / "session.jsonl.gz"
    manager = BookManager()
    async with KalshiRest(sim.base_url, sim.signer("desk")) as rest:
        await random_activity(clients, tickers, 20, rng)  # a book exists before the subscription
        recorder = Recorder(path)
        for ticker in tickers:
            grid = (await rest.get_market(ticker)).grid()
            assert grid == tickers[ticker]
            manager.add_market("kalshi", ticker, grid)
            recorder.market(ticker, grid.to_wire())
        # Kalshi's default wire (NO side in NO prices), so replay must convert exactly as live did
        ws = RecordingKalshiWs(sim.ws_url, sim.signer("desk"), manager.apply, recorder=recorder,
                               use_yes_price=False, silence_s=None)
        await ws.start()
        await ws.subscribe("orderbook_delta", list(tickers))
        await random_activity(clients, tickers, 150, rng)
        await wait_until_books_match(manager, rest, tickers)
        await ws.close()
        recorder.close()
        rest_books = {t: await rest.get_orderbook(t) for t in tickers}
    for client in clients:
        await client.aclose()
    assert ws.stats.gaps == 0 and ws.stats.messages > 100

    for fast in (False, True):
        result = replay(path, fast=fast)
        assert result.flags == {1: False}
        for ticker, snapshot in rest_books.items():
            assert snapshot.bids and snapshot.asks, "the session should leave both sides populated"
            check = result.manager.compare_with("kalshi", ticker, snapshot)
            assert check.ok, f"fast={fast}: {check.describe()}"
            assert result.manager.health("kalshi", ticker).level is not Health.RED
        assert result.frames_in == ws.stats.messages

    ticker = next(iter(rest_books))
    best_bid = max(rest_books[ticker].bids)
    assert cli_main(["replay", str(path), "--depth", "3"]) == 0
    out = capsys.readouterr().out
    assert f"{ticker}  health" in out and "RED" not in out
    assert f"{format_price(best_bid[0])} {format_count(best_bid[1]):>12}" in out
    assert cli_main(["replay", str(path), "--json", "--fast"]) == 0
    data = json.loads(capsys.readouterr().out)
    book = next(b for b in data["books"] if b["ticker"] == ticker)
    assert book["yes"]["bids"][0] == [format_price(best_bid[0]), format_count(best_bid[1])]


def test_recordings_are_exact_plain_or_gzip(tmp_path) -> None:
    frames = ['{"type":"ok","id":1}', b'{"type":"x","bad":"\xff\xfe"}', "caf\u00e9 \u2603", b"plain bytes"]
    for name in ("r.jsonl", "r.jsonl.gz"):
        ticks = iter(range(100, 200))
        with Recorder(tmp_path / name, clock_ns=lambda: next(ticks)) as recorder:
            recorder.market("KXA", PriceGrid.for_structure("tapered_deci_cent").to_wire())
            for frame in frames:
                recorder.incoming(frame)
            recorder.outgoing('{"id":2,"cmd":"list_subscriptions"}')
        records = list(read_records(tmp_path / name))
        assert [r["dir"] for r in records] == ["header", "market", "in", "in", "in", "in", "out"]
        assert [r["t"] for r in records] == list(range(100, 107))
        back = [frame_of(r) for r in records[2:6]]
        assert back == ['{"type":"ok","id":1}', b'{"type":"x","bad":"\xff\xfe"}', "caf\u00e9 \u2603", "plain bytes"]
        assert PriceGrid.from_wire(records[1]["price_ranges"]) == PriceGrid.for_structure("tapered_deci_cent")
    assert (tmp_path / "r.jsonl.gz").read_bytes()[:2] == b"\x1f\x8b"


def write_session(path, frames: list[dict], *, use_yes_price: bool = True) -> None:
    ticks = iter(range(10**18, 10**18 + 10**12, 10**9))  # one second per record
    with Recorder(path, clock_ns=lambda: next(ticks)) as recorder:
        recorder.market("KXA", PriceGrid.for_structure("linear_cent").to_wire())
        recorder.outgoing(json.dumps({"id": 1, "cmd": "subscribe", "params": {
            "channels": ["orderbook_delta"], "market_tickers": ["KXA"], "use_yes_price": use_yes_price}}))
        recorder.incoming(json.dumps({"id": 1, "type": "subscribed", "msg": {"channel": "orderbook_delta", "sid": 1}}))
        for frame in frames:
            recorder.incoming(json.dumps(frame))


def delta(seq: int, price: str, count: str, side: str = "yes") -> dict:
    return {"type": "orderbook_delta", "sid": 1, "seq": seq, "msg": {
        "market_ticker": "KXA", "market_id": "m", "price_dollars": price, "delta_fp": count, "side": side}}


def test_a_gap_in_the_recording_shows_red_until_a_snapshot(tmp_path) -> None:
    snapshot = {"type": "orderbook_snapshot", "sid": 1, "seq": 1, "msg": {
        "market_ticker": "KXA", "market_id": "m", "yes_dollars_fp": [["0.4000", "5.00"]],
        "no_dollars_fp": [["0.4500", "2.00"]]}}
    path = tmp_path / "gap.jsonl"
    write_session(path, [snapshot, delta(2, "0.4100", "1.00"), delta(4, "0.4100", "1.00")])
    for fast in (False, True):
        result = replay(path, fast=fast)
        book = result.manager.book("kalshi", "KXA")
        assert book.best_bid == (4100, 200) and book.best_ask == (4500, 200)  # use_yes_price: YES prices
        health = result.manager.health("kalshi", "KXA")
        assert health.level is Health.RED and "expected 3, got 4" in health.reason, (fast, health)

    out = io.StringIO()
    from console.cli_book import cmd_replay

    assert cmd_replay(str(path), out=out) == 0
    assert "health RED: seq gap on sid 1 (expected 3, got 4)" in out.getvalue()
