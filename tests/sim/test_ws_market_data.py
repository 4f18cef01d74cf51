"""Public WebSocket channels other than the book: ticker, trade, market_lifecycle_v2 (+ event_lifecycle)."""

from __future__ import annotations

import httpx
from kalshi_ws_client import new_trader, place, rest_client, ws_connect


async def test_ticker_initial_snapshot_and_updates_on_change(sim) -> None:
    ticker = sim.new_market()
    (maker, _), (taker, _) = new_trader(sim), new_trader(sim)
    async with rest_client(sim, maker) as maker_rest, rest_client(sim, taker) as taker_rest:
        await place(maker_rest, ticker, "bid", "0.42", "10")
        await place(maker_rest, ticker, "ask", "0.47", "3")
        async with ws_connect(sim.ws_url, sim.signer("acct1")) as ws:
            await ws.send("subscribe", {"channels": ["ticker"], "market_tickers": [ticker],
                                        "send_initial_snapshot": True})
            assert (await ws.recv())["type"] == "subscribed"
            first = await ws.recv()
            assert first["type"] == "ticker" and "seq" not in first
            body = first["msg"]
            assert {k: body[k] for k in ("market_ticker", "price_dollars", "yes_bid_dollars", "yes_ask_dollars",
                                         "yes_bid_size_fp", "yes_ask_size_fp", "volume_fp", "open_interest_fp",
                                         "last_trade_size_fp", "dollar_volume", "dollar_open_interest")} == {
                "market_ticker": ticker, "price_dollars": "0.0000", "yes_bid_dollars": "0.4200",
                "yes_ask_dollars": "0.4700", "yes_bid_size_fp": "10.00", "yes_ask_size_fp": "3.00",
                "volume_fp": "0.00", "open_interest_fp": "0.00", "last_trade_size_fp": "0.00",
                "dollar_volume": 0, "dollar_open_interest": 0}
            assert body["market_id"] and isinstance(body["ts_ms"], int)

            # a 4-contract sale into the bid: last price, sizes, volume and open interest all move
            await place(taker_rest, ticker, "ask", "0.42", "4", tif="immediate_or_cancel")
            update = (await ws.recv())["msg"]
            assert (update["price_dollars"], update["yes_bid_size_fp"], update["volume_fp"],
                    update["open_interest_fp"], update["last_trade_size_fp"]) == ("0.4200", "6.00", "4.00", "4.00", "4.00")
            market = (await taker_rest.get(f"/markets/{ticker}")).json()["market"]
            assert (update["yes_bid_dollars"], update["yes_ask_dollars"]) == (market["yes_bid_dollars"],
                                                                              market["yes_ask_dollars"])

            # a change elsewhere in the book (below the best bid) is not a ticker change
            await place(maker_rest, ticker, "bid", "0.30", "1")
            assert await ws.quiet(0.3) == []


async def test_trade_channel_is_sequenced_and_filters_by_market(sim) -> None:
    watched, other = sim.new_market(), sim.new_market()
    (maker, _), (taker, _) = new_trader(sim), new_trader(sim)
    async with (rest_client(sim, maker) as maker_rest, rest_client(sim, taker) as taker_rest,
                ws_connect(sim.ws_url, sim.signer("acct1")) as ws):
        await ws.send("subscribe", {"channels": ["trade"], "market_ticker": watched})
        await ws.recv()
        for ticker in (other, watched, watched):
            await place(maker_rest, ticker, "ask", "0.55", "2")
            await place(taker_rest, ticker, "bid", "0.55", "2", tif="fill_or_kill")
        trades = [await ws.recv(), await ws.recv()]
        assert [t["seq"] for t in trades] == [1, 2]
        body = trades[0]["msg"]
        assert {k: v for k, v in body.items() if k not in ("trade_id", "ts_ms")} == {
            "market_ticker": watched, "yes_price_dollars": "0.5500", "no_price_dollars": "0.4500",
            "count_fp": "2.00", "taker_outcome_side": "yes", "taker_book_side": "bid", "taker_side": "yes",
            "is_block_trade": False}
        rest_trades = (await maker_rest.get("/markets/trades", params={"ticker": watched})).json()["trades"]
        assert {t["trade_id"] for t in rest_trades} == {t["msg"]["trade_id"] for t in trades}
        assert await ws.quiet(0.2) == []


async def test_lifecycle_messages_on_create_determine_and_settle(sim) -> None:
    async with ws_connect(sim.ws_url, sim.signer("acct1")) as ws:
        await ws.send("subscribe", {"channels": ["market_lifecycle_v2"]})
        assert (await ws.recv())["msg"] == {"channel": "market_lifecycle_v2", "sid": 1}

        ticker = sim.new_market(title="Rain in Testville", settlement_timer_seconds=3600)
        event_ticker = ticker.rsplit("-", 1)[0] if ticker.count("-") >= 2 else ticker
        created = await ws.recv_until(lambda m: m["type"] == "market_lifecycle_v2" and m["msg"]["market_ticker"] == ticker)
        event_msgs = [m for m in created if m["type"] == "event_lifecycle"]
        assert [m["msg"]["event_ticker"] for m in event_msgs] == [event_ticker]
        body = created[-1]["msg"]
        assert body["event_type"] == "created"
        assert isinstance(body["open_ts"], int) and body["close_ts"] > body["open_ts"]
        assert body["additional_metadata"]["title"] == "Rain in Testville"
        assert body["additional_metadata"]["event_ticker"] == event_ticker

        r = httpx.post(f"{sim.admin_url}/markets/{ticker}/determine", json={"result": "yes"}, timeout=10)
        assert r.status_code == 200, r.text
        # determining an open market closes it early first (close_date_updated), then determines it
        closing = await ws.recv_until(lambda m: m["msg"].get("event_type") == "determined")
        determined = closing.pop()
        assert [(m["msg"]["event_type"], m["msg"]["market_ticker"]) for m in closing] == [
            ("close_date_updated", ticker)]
        assert determined["msg"]["market_ticker"] == ticker
        assert (determined["msg"]["result"], determined["msg"]["settlement_value"]) == ("yes", "1.0000")
        assert isinstance(determined["msg"]["determination_ts"], int)

        r = httpx.post(f"{sim.admin_url}/markets/{ticker}/settle", timeout=10)
        assert r.status_code == 200, r.text
        settled = await ws.recv()
        assert (settled["msg"]["event_type"], settled["msg"]["market_ticker"]) == ("settled", ticker)
        assert isinstance(settled["msg"]["settled_ts"], int)

        # one sid, one unbroken sequence across every lifecycle message
        seqs = [m["seq"] for m in [*created, *closing, determined, settled]]
        assert seqs == list(range(1, len(seqs) + 1))


async def test_ticker_change_is_sent_to_a_late_subscriber_even_if_it_restores_earlier_values(sim) -> None:
    ticker = sim.new_market()
    signer, _ = new_trader(sim)
    async with rest_client(sim, signer) as rest, ws_connect(sim.ws_url, sim.signer("acct1")) as ws:
        await ws.send("subscribe", {"channels": ["ticker"], "market_ticker": ticker})
        await ws.recv()
        await place(rest, ticker, "bid", "0.42", "10")
        assert (await ws.recv())["msg"]["yes_bid_size_fp"] == "10.00"
        await ws.command("unsubscribe", {"sids": [1]})

        extra = await place(rest, ticker, "bid", "0.42", "1")  # size 11, nobody listening
        await ws.send("subscribe", {"channels": ["ticker"], "market_ticker": ticker})
        await ws.recv()
        r = await rest.delete(f"/portfolio/events/orders/{extra['order_id']}")  # back to size 10
        assert r.status_code == 200, r.text
        update = await ws.recv()  # the new subscriber never saw 10.00, so this is news to it
        assert (update["sid"], update["msg"]["yes_bid_size_fp"]) == (2, "10.00")
