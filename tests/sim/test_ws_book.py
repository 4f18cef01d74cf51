"""The `orderbook_delta` channel: snapshot then deltas, side and price conventions, own-order annotations,
`get_snapshot`, and the key property: a client that applies snapshot + deltas holds exactly the book
that REST `GET /markets/{ticker}/orderbook` reports, with a gap-free `seq`, after a long random session.
"""

from __future__ import annotations

import asyncio
import random

from kalshi_ws_client import BookMirror, SeqChecker, barrier, new_trader, place, rest_client, ws_connect

from console.domain.grid import PriceGrid
from console.domain.units import PRICE_MAX, format_count, format_price, parse_price


async def _rest_book(sim, ticker: str) -> dict[str, list[list[str]]]:
    async with rest_client(sim, sim.signer("acct1")) as client:
        r = await client.get(f"/markets/{ticker}/orderbook")
        assert r.status_code == 200, r.text
        return r.json()["orderbook_fp"]


def _yes_priced_to_no_priced(mirror: BookMirror) -> dict[str, list[list[str]]]:
    """A use_yes_price mirror re-expressed in REST terms (NO bids at NO prices, ascending)."""
    wire = mirror.as_wire()
    no_levels = sorted((PRICE_MAX - parse_price(p), c) for p, c in wire["no_dollars"])
    return {"yes_dollars": wire["yes_dollars"], "no_dollars": [[format_price(p), c] for p, c in no_levels]}


async def test_snapshot_first_then_deltas_in_rest_conventions(sim) -> None:
    ticker = sim.new_market()
    signer, _ = new_trader(sim)
    async with rest_client(sim, signer) as rest:
        await place(rest, ticker, "bid", "0.40", "5")
        await place(rest, ticker, "bid", "0.38", "2.5")
        await place(rest, ticker, "ask", "0.60", "3")  # a NO bid at $0.40
        await place(rest, ticker, "ask", "0.65", "1")  # a NO bid at $0.35
        async with ws_connect(sim.ws_url, sim.signer("acct1")) as ws:
            await ws.send("subscribe", {"channels": ["orderbook_delta"], "market_ticker": ticker})
            assert (await ws.recv())["type"] == "subscribed"
            snap = await ws.recv()
            assert snap["type"] == "orderbook_snapshot" and snap["sid"] == 1 and snap["seq"] == 1
            body = snap["msg"]
            assert body["market_ticker"] == ticker and body["market_id"]
            assert body["yes_dollars_fp"] == [["0.3800", "2.50"], ["0.4000", "5.00"]]
            assert body["no_dollars_fp"] == [["0.3500", "1.00"], ["0.4000", "3.00"]]

            await place(rest, ticker, "ask", "0.62", "4")
            delta = await ws.recv()
            assert delta["type"] == "orderbook_delta" and delta["seq"] == 2
            assert {k: v for k, v in delta["msg"].items() if k != "ts_ms"} == {
                "market_ticker": ticker, "market_id": body["market_id"], "price_dollars": "0.3800",
                "delta_fp": "4.00", "side": "no"}
            assert isinstance(delta["msg"]["ts_ms"], int)

            # another account sells YES into the 0.40 bid, taking 2 of its 5: a negative YES-side delta
            # (the same account would self-trade-cancel instead)
            async with rest_client(sim, new_trader(sim)[0]) as taker:
                await place(taker, ticker, "ask", "0.40", "2", tif="immediate_or_cancel")
            delta = await ws.recv()
            assert (delta["seq"], delta["msg"]["side"], delta["msg"]["price_dollars"], delta["msg"]["delta_fp"]) == (
                3, "yes", "0.4000", "-2.00")
            assert await ws.quiet(0.2) == []


async def test_empty_sides_are_absent_and_use_yes_price_keeps_yes_prices(sim) -> None:
    ticker = sim.new_market()
    signer, _ = new_trader(sim)
    async with rest_client(sim, signer) as rest, ws_connect(sim.ws_url, sim.signer("acct1")) as ws:
        await ws.send("subscribe", {"channels": ["orderbook_delta"], "market_ticker": ticker, "use_yes_price": True})
        await ws.recv()
        empty = await ws.recv()
        assert empty["msg"].keys() == {"market_ticker", "market_id"}  # no [] for empty sides

        await place(rest, ticker, "ask", "0.70", "3")  # NO bid at $0.30, reported at YES price $0.70
        delta = await ws.recv()
        assert (delta["msg"]["side"], delta["msg"]["price_dollars"], delta["msg"]["delta_fp"]) == ("no", "0.7000", "3.00")
        await place(rest, ticker, "ask", "0.75", "1")
        await ws.recv()
        snap = await ws.command("update_subscription", {"sid": 1, "market_ticker": ticker, "action": "get_snapshot"})
        assert "yes_dollars_fp" not in snap["msg"]
        assert snap["msg"]["no_dollars_fp"] == [["0.7000", "3.00"], ["0.7500", "1.00"]]


async def test_client_order_id_only_annotates_the_owners_deltas(sim) -> None:
    ticker = sim.new_market()
    owner_signer, _ = new_trader(sim)
    async with (rest_client(sim, owner_signer) as rest,
                ws_connect(sim.ws_url, owner_signer) as owner_ws,
                ws_connect(sim.ws_url, sim.signer("acct1")) as other_ws):
        for ws in (owner_ws, other_ws):
            await ws.send("subscribe", {"channels": ["orderbook_delta"], "market_ticker": ticker})
            await ws.recv()
            await ws.recv()
        await place(rest, ticker, "bid", "0.45", "7", client_order_id="mine-1")
        mine, theirs = (await owner_ws.recv())["msg"], (await other_ws.recv())["msg"]
        assert mine["client_order_id"] == "mine-1"
        assert "client_order_id" not in theirs and "subaccount" not in theirs
        assert {k: v for k, v in mine.items() if k != "client_order_id"} == theirs


async def test_get_snapshot_resends_the_current_book_with_the_command_id(sim) -> None:
    ticker = sim.new_market()
    signer, _ = new_trader(sim)
    async with rest_client(sim, signer) as rest, ws_connect(sim.ws_url, sim.signer("acct1")) as ws:
        await ws.send("subscribe", {"channels": ["orderbook_delta"], "market_ticker": ticker})
        await ws.recv()
        assert (await ws.recv())["seq"] == 1
        await place(rest, ticker, "bid", "0.20", "1")
        await place(rest, ticker, "bid", "0.21", "2")
        assert [(await ws.recv())["seq"] for _ in range(2)] == [2, 3]
        cmd_id = await ws.send("update_subscription", {"sids": [1], "market_tickers": [ticker], "action": "get_snapshot"})
        snap = await ws.recv()
        assert snap["type"] == "orderbook_snapshot" and snap["id"] == cmd_id and snap["seq"] == 4
        assert snap["msg"]["yes_dollars_fp"] == [["0.2000", "1.00"], ["0.2100", "2.00"]]
        assert snap["msg"]["yes_dollars_fp"] == (await _rest_book(sim, ticker))["yes_dollars"]


# --- the key property ----------------------------------------------------------------------------------


async def _random_session(sim, ticker: str, rest, rng: random.Random, n_orders: int, grid: PriceGrid) -> dict[str, int]:
    """`n_orders` random orders from one account (resting and crossing, both sides), with cancels and
    decreases of its own resting orders along the way. Returns counts of what was done."""
    mid_prices = [p for p in grid.prices if 3500 <= p <= 6500]  # dense crossing near the middle
    stats = {"orders": 0, "cancels": 0, "decreases": 0, "filled": 0}
    resting: list[str] = []
    for i in range(n_orders):
        price = rng.choice(mid_prices if rng.random() < 0.8 else grid.prices)
        count = format_count(rng.choice([rng.randint(1, 20) * 100, rng.randint(1, 2500)]))
        tif = "immediate_or_cancel" if rng.random() < 0.1 else "good_till_canceled"
        body = await place(rest, ticker, rng.choice(["bid", "ask"]), format_price(price), count, tif=tif,
                           client_order_id=f"r{rng.getrandbits(48):x}-{i}")
        stats["orders"] += 1
        if body["fill_count"] != "0.00":
            stats["filled"] += 1
        if body["remaining_count"] != "0.00" and tif == "good_till_canceled":
            resting.append(body["order_id"])
        if resting and rng.random() < 0.12:
            order_id = resting.pop(rng.randrange(len(resting)))
            r = await rest.delete(f"/portfolio/events/orders/{order_id}")
            # the other account may have filled it meanwhile; anything else is a bug
            assert r.status_code == 200 or r.json()["error"]["code"] in ("order_not_found", "order_not_resting"), r.text
            stats["cancels"] += r.status_code == 200
        if resting and rng.random() < 0.05:
            order_id = rng.choice(resting)
            r = await rest.post(f"/portfolio/events/orders/{order_id}/decrease", json={"reduce_by": "0.50"})
            assert r.status_code == 200 or r.json()["error"]["code"] in ("order_not_found", "order_not_resting",
                                                                          "invalid_order"), r.text
            stats["decreases"] += r.status_code == 200
    return stats


async def test_random_orders_rebuilt_from_deltas_equal_the_rest_book_with_gap_free_seq(sim) -> None:
    ticker = sim.new_market(price_level_structure="tapered_deci_cent")  # cent middle, deci-cent edges
    traders = [new_trader(sim), new_trader(sim)]
    async with rest_client(sim, traders[0][0]) as probe:
        market = (await probe.get(f"/markets/{ticker}")).json()["market"]
    grid = PriceGrid.from_wire(market["price_ranges"])

    async with (ws_connect(sim.ws_url, sim.signer("acct1")) as ws_no,
                ws_connect(sim.ws_url, sim.signer("acct2")) as ws_yes):
        mirrors = {"no": BookMirror(ticker), "yes": BookMirror(ticker)}
        seqs = {"no": SeqChecker(), "yes": SeqChecker()}
        for key, ws, flag in (("no", ws_no, False), ("yes", ws_yes, True)):
            await ws.send("subscribe", {"channels": ["orderbook_delta"], "market_ticker": ticker, "use_yes_price": flag})
            assert (await ws.recv())["type"] == "subscribed"

        def consumer(key: str):
            def on_message(msg):
                seqs[key].check(msg)
                mirrors[key].apply(msg)
            return on_message

        async def pump(key, ws, done: asyncio.Event):
            # read continuously while orders fly, as a desk would (the server queue never backs up)
            while not done.is_set():
                try:
                    consumer(key)(await ws.recv(0.2))
                except TimeoutError:
                    continue

        done = asyncio.Event()
        pumps = [asyncio.create_task(pump("no", ws_no, done)), asyncio.create_task(pump("yes", ws_yes, done))]
        rng = random.Random(20261122)
        async with rest_client(sim, traders[0][0]) as rest_a, rest_client(sim, traders[1][0]) as rest_b:
            stats = await asyncio.gather(
                _random_session(sim, ticker, rest_a, random.Random(rng.random()), 500, grid),
                _random_session(sim, ticker, rest_b, random.Random(rng.random()), 500, grid),
            )
        done.set()
        await asyncio.gather(*pumps)
        await barrier(ws_no, consumer("no"))
        await barrier(ws_yes, consumer("yes"))

        assert sum(s["orders"] for s in stats) == 1000
        # the session really crossed and cancelled, or the comparison below proves little
        assert sum(s["filled"] for s in stats) > 100 and sum(s["cancels"] for s in stats) > 20, stats

        rest_book = await _rest_book(sim, ticker)
        assert rest_book["yes_dollars"] and rest_book["no_dollars"]
        assert mirrors["no"].as_wire() == rest_book
        assert _yes_priced_to_no_priced(mirrors["yes"]) == rest_book
        for key in ("no", "yes"):
            mirror = mirrors[key]
            assert mirror.snapshots == 1 and mirror.deltas > 500, (stats, mirror.deltas)
            # seq ran 1..N with no gap: one snapshot plus every delta
            assert seqs[key].last == {1: 1 + mirror.deltas}

        # a fresh snapshot agrees with the rebuilt book too
        snap = await ws_no.command("update_subscription", {"sid": 1, "market_ticker": ticker, "action": "get_snapshot"})
        assert snap["seq"] == seqs["no"].last[1] + 1
        assert [snap["msg"].get("yes_dollars_fp", []), snap["msg"].get("no_dollars_fp", [])] == [
            rest_book["yes_dollars"], rest_book["no_dollars"]]
