"""Private WebSocket channels (fill, user_orders, market_positions, order_group_updates): each account sees
its own events only, with values that agree with the REST portfolio endpoints.
"""

from __future__ import annotations

from kalshi_ws_client import new_trader, place, rest_client, ws_connect

PRIVATE = ["fill", "user_orders", "market_positions", "order_group_updates"]


async def _subscribe_private(ws, ticker: str | None = None) -> None:
    params = {"channels": PRIVATE}
    if ticker is not None:
        params["market_ticker"] = ticker
    await ws.send("subscribe", params)
    replies = [await ws.recv() for _ in PRIVATE]
    assert [r["msg"]["channel"] for r in replies] == PRIVATE


def _by_type(messages):
    out: dict[str, list] = {}
    for m in messages:
        out.setdefault(m["type"], []).append(m)
    return out


async def test_fills_orders_and_positions_reach_only_their_owner_with_rest_values(sim) -> None:
    ticker = sim.new_market()
    (maker_signer, maker_id), (taker_signer, taker_id) = new_trader(sim), new_trader(sim)
    async with (rest_client(sim, maker_signer) as maker_rest, rest_client(sim, taker_signer) as taker_rest,
                ws_connect(sim.ws_url, maker_signer) as maker_ws, ws_connect(sim.ws_url, taker_signer) as taker_ws,
                ws_connect(sim.ws_url, sim.signer("acct1")) as bystander_ws):
        await _subscribe_private(maker_ws, ticker)
        await _subscribe_private(taker_ws)  # all markets
        await _subscribe_private(bystander_ws)

        resting = await place(maker_rest, ticker, "bid", "0.40", "10", client_order_id="mk-1")
        created = await maker_ws.recv()
        assert created["type"] == "user_order" and "seq" not in created
        assert created["msg"]["order_id"] == resting["order_id"]
        assert (created["msg"]["status"], created["msg"]["remaining_count_fp"], created["msg"]["fill_count_fp"]) == (
            "resting", "10.00", "0.00")
        assert created["msg"]["client_order_id"] == "mk-1" and created["msg"]["user_id"] == maker_id

        taken = await place(taker_rest, ticker, "ask", "0.40", "4", tif="immediate_or_cancel", client_order_id="tk-1")
        maker_msgs = _by_type([await maker_ws.recv() for _ in range(3)])
        taker_msgs = _by_type([await taker_ws.recv() for _ in range(4)])  # + the order's creation
        assert set(maker_msgs) == {"fill", "user_order", "market_position"}
        assert set(taker_msgs) == {"fill", "user_order", "market_position"}

        maker_fill = maker_msgs["fill"][0]
        assert "seq" not in maker_fill and maker_fill["sid"] == 1
        assert {k: maker_fill["msg"][k] for k in ("order_id", "client_order_id", "market_ticker", "is_taker",
                                                  "yes_price_dollars", "count_fp", "outcome_side", "book_side",
                                                  "post_position_fp")} == {
            "order_id": resting["order_id"], "client_order_id": "mk-1", "market_ticker": ticker, "is_taker": False,
            "yes_price_dollars": "0.4000", "count_fp": "4.00", "outcome_side": "yes", "book_side": "bid",
            "post_position_fp": "4.00"}
        taker_fill = taker_msgs["fill"][0]
        assert (taker_fill["msg"]["order_id"], taker_fill["msg"]["is_taker"], taker_fill["msg"]["outcome_side"],
                taker_fill["msg"]["book_side"], taker_fill["msg"]["post_position_fp"]) == (
            taken["order_id"], True, "no", "ask", "-4.00")
        assert taker_fill["msg"]["trade_id"] == maker_fill["msg"]["trade_id"]

        # fees and order state agree with REST
        for rest, fill in ((maker_rest, maker_fill), (taker_rest, taker_fill)):
            r = await rest.get("/portfolio/fills", params={"order_id": fill["msg"]["order_id"]})
            (rest_fill,) = r.json()["fills"]
            assert fill["msg"]["fee_cost"] == rest_fill["fee_cost"]
            assert fill["msg"]["trade_id"] == rest_fill["trade_id"]
        maker_order = maker_msgs["user_order"][-1]["msg"]
        rest_order = (await maker_rest.get(f"/portfolio/orders/{resting['order_id']}")).json()["order"]
        for key in ("status", "fill_count_fp", "remaining_count_fp", "initial_count_fp", "yes_price_dollars",
                    "maker_fill_cost_dollars", "maker_fees_dollars", "taker_fees_dollars", "outcome_side", "book_side"):
            assert maker_order[key] == rest_order[key], key
        assert (maker_order["status"], maker_order["fill_count_fp"], maker_order["last_update_reason"]) == (
            "resting", "4.00", "Trade")
        taker_order = taker_msgs["user_order"][-1]["msg"]
        assert (taker_order["status"], taker_order["remaining_count_fp"]) == ("executed", "0.00")

        # positions: signed, with the REST portfolio's cost and fees
        maker_pos = maker_msgs["market_position"][0]["msg"]
        assert "seq" not in maker_msgs["market_position"][0]
        rest_pos = next(p for p in (await maker_rest.get("/portfolio/positions", params={"ticker": ticker})).json()[
            "market_positions"] if p["ticker"] == ticker)
        assert (maker_pos["position_fp"], maker_pos["user_id"]) == ("4.00", maker_id)
        assert maker_pos["position_fee_cost_dollars"] == rest_pos["fees_paid_dollars"]
        assert maker_pos["fees_paid_dollars"] == rest_pos["fees_paid_dollars"]
        assert maker_pos["position_cost_dollars"] == rest_pos["market_exposure_dollars"]
        assert taker_msgs["market_position"][0]["msg"]["position_fp"] == "-4.00"
        assert taker_msgs["market_position"][0]["msg"]["user_id"] == taker_id

        # nobody else heard a thing, and nothing more came
        assert await bystander_ws.quiet(0.3) == []
        assert await maker_ws.quiet(0.1) == [] and await taker_ws.quiet(0.1) == []


async def test_private_market_filter_and_order_group_updates(sim) -> None:
    watched, other = sim.new_market(), sim.new_market()
    signer, _ = new_trader(sim)
    async with rest_client(sim, signer) as rest, ws_connect(sim.ws_url, signer) as ws:
        await _subscribe_private(ws, watched)
        await place(rest, other, "bid", "0.10", "1")  # a market the subscription does not cover
        assert await ws.quiet(0.2) == []

        r = await rest.post("/portfolio/order_groups/create", json={"contracts_limit": 25})
        assert r.status_code == 201, r.text
        group_id = r.json()["order_group_id"]
        update = await ws.recv()
        # order_group_updates ignores market filters and is sequenced
        assert update["type"] == "order_group_updates" and update["seq"] == 1
        assert {k: v for k, v in update["msg"].items() if k != "ts_ms"} == {
            "event_type": "created", "order_group_id": group_id, "contracts_limit_fp": "25.00"}
        r = await rest.delete(f"/portfolio/order_groups/{group_id}")
        assert r.status_code == 200, r.text
        deleted = await ws.recv()
        assert (deleted["seq"], deleted["msg"]["event_type"]) == (2, "deleted")
        assert "contracts_limit_fp" not in deleted["msg"]

    async with ws_connect(sim.ws_url, sim.signer("acct1")) as stranger:
        await _subscribe_private(stranger)
        async with rest_client(sim, signer) as rest:
            r = await rest.post("/portfolio/order_groups/create", json={"contracts_limit": 5})
            assert r.status_code == 201
        assert await stranger.quiet(0.3) == []
