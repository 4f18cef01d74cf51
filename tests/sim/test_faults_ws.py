"""WebSocket faults over real sockets: each one shows up on the wire exactly as documented, and the fault
log names the connection, sid and seq it hit. One private simulator per test (faults are global).
"""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from fault_helpers import clear_faults, deltas, fault_log, set_faults, subscribe_book
from kalshi_ws_client import barrier, new_trader, place, rest_client, ws_connect
from websockets.exceptions import ConnectionClosed

PRICES = ("0.11", "0.12", "0.13")


async def _bids(rest: httpx.AsyncClient, ticker: str, prices=PRICES) -> None:
    for price in prices:
        await place(rest, ticker, "bid", price, "1")


async def test_a_dropped_message_is_a_seq_gap_and_its_level_never_arrives(sim_factory) -> None:
    server = sim_factory()
    ticker = server.new_market()
    signer, account_id = new_trader(server)
    async with rest_client(server, signer) as rest, ws_connect(server.ws_url, signer) as ws:
        sid = await subscribe_book(ws, ticker)
        set_faults(server, {"kind": "ws_drop", "count": 1, "account_id": account_id, "channels": ["orderbook_delta"]})
        await _bids(rest, ticker)
        got = deltas(await barrier(ws))
    assert got == [(3, "0.1200"), (4, "0.1300")]  # seq 2 (the 0.11 level) never reached the client
    [entry] = fault_log(server, "ws_drop")
    assert (entry["account_id"], entry["sid"], entry["seq"], entry["channel"], entry["market"]) == (
        account_id, sid, 2, "orderbook_delta", ticker)
    assert "fault injected: ws_drop" in server.stderr_tail()  # the structured log line too


async def test_a_duplicate_is_the_same_message_twice_with_the_same_seq(sim_factory) -> None:
    server = sim_factory()
    ticker = server.new_market()
    signer, account_id = new_trader(server)
    async with rest_client(server, signer) as rest, ws_connect(server.ws_url, signer) as ws:
        await subscribe_book(ws, ticker)
        set_faults(server, {"kind": "ws_duplicate", "count": 1, "account_id": account_id})
        await _bids(rest, ticker)
        messages = [m for m in await barrier(ws) if m["type"] == "orderbook_delta"]
    assert deltas(messages) == [(2, "0.1100"), (2, "0.1100"), (3, "0.1200"), (4, "0.1300")]
    assert messages[0] == messages[1]
    assert [e["seq"] for e in fault_log(server, "ws_duplicate")] == [2]


async def test_reorder_sends_a_message_after_the_next_or_after_the_hold_time(sim_factory) -> None:
    server = sim_factory()
    ticker = server.new_market()
    signer, account_id = new_trader(server)
    async with rest_client(server, signer) as rest, ws_connect(server.ws_url, signer) as ws:
        await subscribe_book(ws, ticker)
        rule = {"kind": "ws_reorder", "count": 1, "hold_s": 0.3, "account_id": account_id}
        set_faults(server, rule)
        await _bids(rest, ticker)
        assert deltas(await barrier(ws)) == [(3, "0.1200"), (2, "0.1100"), (4, "0.1300")]
        # a fresh rule holds seq 5 and nothing follows it: it goes out after hold_s on its own
        set_faults(server, rule)
        started = time.monotonic()
        await place(rest, ticker, "bid", "0.14", "1")
        assert await barrier(ws) == []
        late = await ws.recv_type("orderbook_delta", timeout=3)
        waited = time.monotonic() - started
    assert late["seq"] == 5 and late["msg"]["price_dollars"] == "0.1400"
    assert 0.25 <= waited < 2.0, waited
    assert [e["seq"] for e in fault_log(server, "ws_reorder")] == [2, 5]


async def test_skip_seq_leaves_a_gap_with_nothing_missing(sim_factory) -> None:
    server = sim_factory()
    ticker = server.new_market()
    signer, account_id = new_trader(server)
    async with rest_client(server, signer) as rest, ws_connect(server.ws_url, signer) as ws:
        sid = await subscribe_book(ws, ticker)
        set_faults(server, {"kind": "ws_skip_seq", "count": 1, "skip": 3, "account_id": account_id})
        await _bids(rest, ticker)
        got = deltas(await barrier(ws))
    assert got == [(5, "0.1100"), (6, "0.1200"), (7, "0.1300")]  # every level arrived; seqs 2..4 never existed
    [entry] = fault_log(server, "ws_skip_seq")
    assert (entry["sid"], entry["skipped_from"], entry["skipped_to"], entry["seq"]) == (sid, 2, 4, 5)


async def test_close_after_n_messages_delivers_exactly_n_then_closes(sim_factory) -> None:
    server = sim_factory()
    ticker = server.new_market()
    signer, account_id = new_trader(server)
    async with rest_client(server, signer) as rest, ws_connect(server.ws_url, signer) as ws:
        await subscribe_book(ws, ticker)
        set_faults(server, {"kind": "ws_close", "after_messages": 2, "account_id": account_id})
        await _bids(rest, ticker)
        received = []
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                received.append(await ws.recv(timeout=3))
    assert deltas(received) == [(2, "0.1100"), (3, "0.1200")]
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1001
    [entry] = fault_log(server, "ws_close")
    assert (entry["account_id"], entry["seq"], entry["messages"], entry["close_code"]) == (account_id, 3, 2, 1001)


async def test_silent_feed_answers_pings_but_sends_no_data_while_the_book_changes(sim_factory) -> None:
    server = sim_factory()
    ticker = server.new_market()
    signer, account_id = new_trader(server)
    async with rest_client(server, signer) as rest, ws_connect(server.ws_url, signer) as ws:
        await subscribe_book(ws, ticker)
        set_faults(server, {"kind": "ws_silent", "after_messages": 1, "account_id": account_id})
        await _bids(rest, ticker)
        book = (await rest.get(f"/markets/{ticker}/orderbook")).json()["orderbook_fp"]
        assert len(book["yes_dollars"]) == 3  # the book did change
        first = await ws.recv_type("orderbook_delta")
        assert first["seq"] == 2
        assert await ws.quiet(0.5) == []  # nothing more: the feed went silent
        pong_waiter = await ws.conn.ping(b"still there?")
        await asyncio.wait_for(pong_waiter, 2)  # ...yet the connection answers pings
        [entry] = fault_log(server, "ws_silent")
        assert (entry["seq"], entry["messages"], entry["account_id"]) == (3, 1, account_id)
        clear_faults(server)
        await place(rest, ticker, "bid", "0.14", "1")
        resumed = await ws.recv_type("orderbook_delta")
    assert resumed["seq"] == 5 and resumed["msg"]["price_dollars"] == "0.1400"  # 3 and 4 were swallowed


async def _drop_pattern(server, seed: int) -> list[int]:
    ticker = server.new_market()
    signer, account_id = new_trader(server)
    async with rest_client(server, signer) as rest, ws_connect(server.ws_url, signer) as ws:
        await subscribe_book(ws, ticker)
        set_faults(server, {"kind": "ws_drop", "rate": 0.5, "account_id": account_id}, seed=seed)
        await _bids(rest, ticker, [f"0.{n}" for n in range(20, 44)])
        got = [seq for seq, _ in deltas(await barrier(ws))]
    dropped = sorted(set(range(2, 26)) - set(got))
    assert [e["seq"] for e in fault_log(server, "ws_drop")] == dropped
    return dropped


async def test_a_random_rate_is_reproducible_from_the_seed(sim_factory) -> None:
    first = await _drop_pattern(sim_factory(), seed=11)
    second = await _drop_pattern(sim_factory(), seed=11)
    assert first == second
    assert 0 < len(first) < 24  # a rate, not all or nothing


async def test_a_market_scope_hits_only_that_markets_messages(sim_factory) -> None:
    server = sim_factory()
    hit, spared = server.new_market(), server.new_market()
    signer, _ = new_trader(server)
    async with rest_client(server, signer) as rest, ws_connect(server.ws_url, signer) as ws:
        await ws.send("subscribe", {"channels": ["orderbook_delta"], "market_tickers": [hit, spared]})
        await ws.recv_type("subscribed")
        await barrier(ws)  # both snapshots
        set_faults(server, {"kind": "ws_drop", "market": hit})
        await _bids(rest, hit, ["0.40"])
        await _bids(rest, spared, ["0.41"])
        await _bids(rest, hit, ["0.42"])
        got = [(m["msg"]["market_ticker"], m["seq"]) for m in await barrier(ws) if m["type"] == "orderbook_delta"]
    assert got == [(spared, 4)]  # one sid for both markets: seqs 3 and 5 (the hit market's) are gaps
    assert [(e["market"], e["seq"]) for e in fault_log(server, "ws_drop")] == [(hit, 3), (hit, 5)]
