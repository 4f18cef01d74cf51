"""Trading through the V2 REST endpoints of a real simulator: crossing, fees, balances, positions.

Each test makes its own market and accounts (`sim.new_market`, `sim.new_account`, $1000 each), so
the numbers are exact: fees are Kalshi's formula rounded up to $0.0001 per fill, balances are kept
to $0.0001, and a NO buyer pays 1 - YES price.
"""

from __future__ import annotations

from rest_helpers import account, reader, ORDERS, balance, balance_dollars, book, fills, market, order, place, position


def test_yes_bid_meets_no_buy_sent_as_ask(sim):
    ticker = sim.new_market(fee_type="quadratic")
    maker, taker = account(sim), account(sim)
    resting = place(maker, ticker, "bid", "0.56", "10")
    assert resting["fill_count"] == "0.00" and resting["remaining_count"] == "10.00"
    assert (resting["average_fill_price"], resting["average_fee_paid"]) == ("0.000000", "0.000000")

    # "buy 10 NO at $0.44" is an ask at the YES price 0.56
    result = place(taker, ticker, "ask", "0.56", "10", tif="immediate_or_cancel")
    assert result["fill_count"] == "10.00"
    assert result["remaining_count"] == "0.00"
    assert result["average_fill_price"] == "0.560000"
    # taker fee 0.07 x 10 x 0.56 x 0.44 = 0.17248 -> rounded up to 0.1725
    assert result["average_fee_paid"] == "0.017250"
    assert isinstance(result["ts_ms"], int)

    assert balance_dollars(taker) == "995.4275"  # 1000 - 10 x 0.44 - 0.1725
    assert balance_dollars(maker) == "994.4000"  # 1000 - 10 x 0.56, no maker fee on a quadratic market
    assert balance(taker)["balance"] == 99542  # integer cents, truncated

    taker_fill, = fills(taker, ticker=ticker)
    assert taker_fill["is_taker"] is True
    assert (taker_fill["outcome_side"], taker_fill["book_side"]) == ("no", "ask")
    assert (taker_fill["yes_price_dollars"], taker_fill["no_price_dollars"]) == ("0.5600", "0.4400")
    assert taker_fill["count_fp"] == "10.00"
    assert taker_fill["fee_cost"] == "0.172500"
    maker_fill, = fills(maker, ticker=ticker)
    assert maker_fill["is_taker"] is False and maker_fill["fee_cost"] == "0.000000"
    assert maker_fill["trade_id"] == taker_fill["trade_id"]

    assert position(maker, ticker)["position_fp"] == "10.00"
    assert position(maker, ticker)["market_exposure_dollars"] == "5.600000"
    assert position(taker, ticker)["position_fp"] == "-10.00"
    assert position(taker, ticker)["market_exposure_dollars"] == "4.400000"
    assert position(taker, ticker)["fees_paid_dollars"] == "0.172500"

    assert order(maker, resting["order_id"])["status"] == "executed"
    trades = reader(sim).get("/markets/trades", params={"ticker": ticker}).json()["trades"]
    assert [(t["yes_price_dollars"], t["count_fp"], t["taker_outcome_side"], t["taker_book_side"])
            for t in trades] == [("0.5600", "10.00", "no", "ask")]
    assert book(maker, ticker) == {"yes_dollars": [], "no_dollars": []}


def test_no_bid_resting_meets_yes_taker_with_maker_fees_and_price_improvement(sim):
    ticker = sim.new_market(fee_type="quadratic_with_maker_fees")
    maker, taker = account(sim), account(sim)
    resting = place(maker, ticker, "ask", "0.55", "10")  # a NO bid at 0.45
    assert book(taker, ticker) == {"yes_dollars": [], "no_dollars": [["0.4500", "10.00"]]}

    result = place(taker, ticker, "bid", "0.60", "4")  # crosses; fills at the maker's 0.55
    assert (result["fill_count"], result["remaining_count"]) == ("4.00", "0.00")
    assert result["average_fill_price"] == "0.550000"

    # taker: 0.07 x 4 x 0.55 x 0.45 = 0.0693; maker: 0.0175 x 4 x 0.2475 = 0.017325 -> 0.0174
    taker_order = order(taker, result["order_id"])
    assert taker_order["status"] == "executed"
    assert (taker_order["taker_fill_cost_dollars"], taker_order["taker_fees_dollars"]) == ("2.200000", "0.069300")
    assert (taker_order["maker_fill_cost_dollars"], taker_order["maker_fees_dollars"]) == ("0.000000", "0.000000")
    maker_order = order(maker, resting["order_id"])
    assert maker_order["status"] == "resting"
    assert (maker_order["fill_count_fp"], maker_order["remaining_count_fp"]) == ("4.00", "6.00")
    assert (maker_order["maker_fill_cost_dollars"], maker_order["maker_fees_dollars"]) == ("1.800000", "0.017400")

    assert balance_dollars(taker) == "997.7307"  # 1000 - 2.20 - 0.0693
    # 1000 - 1.80 (NO bought) - 0.0174 fee - 2.70 held for the 6 still resting at 0.45
    assert balance_dollars(maker) == "995.4826"

    shown = market(taker, ticker)
    assert (shown["yes_ask_dollars"], shown["yes_ask_size_fp"], shown["no_bid_dollars"]) == ("0.5500", "6.00", "0.4500")
    assert (shown["yes_bid_dollars"], shown["no_ask_dollars"], shown["yes_bid_size_fp"]) == ("0.0000", "0.0000", "0.00")
    assert shown["last_price_dollars"] == "0.5500"
    assert shown["volume_fp"] == "4.00"
    assert shown["open_interest_fp"] == "4.00"


def test_taker_sweeps_two_levels_and_pays_a_fee_per_fill(sim):
    ticker = sim.new_market(fee_type="quadratic")
    maker, taker = account(sim), account(sim)
    place(maker, ticker, "bid", "0.50", "5")
    place(maker, ticker, "bid", "0.52", "5")
    result = place(taker, ticker, "ask", "0.50", "8", tif="immediate_or_cancel")
    assert result["fill_count"] == "8.00"
    assert result["average_fill_price"] == "0.512500"  # (5 x 0.52 + 3 x 0.50) / 8
    got = sorted((f["yes_price_dollars"], f["count_fp"], f["fee_cost"]) for f in fills(taker, ticker=ticker))
    # 0.07 x 5 x 0.52 x 0.48 = 0.08736 -> 0.0874 ; 0.07 x 3 x 0.25 = 0.0525
    assert got == [("0.5000", "3.00", "0.052500"), ("0.5200", "5.00", "0.087400")]
    assert balance_dollars(taker) == "995.9601"  # 1000 - (5 x 0.48 + 3 x 0.50) - 0.1399
    assert book(taker, ticker)["yes_dollars"] == [["0.5000", "2.00"]]


def test_fractional_counts_and_deci_cent_prices(sim):
    ticker = sim.new_market(fee_type="quadratic", price_level_structure="deci_cent")
    maker, taker = account(sim), account(sim)
    place(maker, ticker, "ask", "0.123", "2.5")
    result = place(taker, ticker, "bid", "0.1230", "1.25", tif="fill_or_kill")
    assert (result["fill_count"], result["average_fill_price"]) == ("1.25", "0.123000")
    # fee 0.07 x 1.25 x 0.123 x 0.877 = 0.009438... -> 0.0095; cost 1.25 x 0.123 = 0.15375
    assert balance_dollars(taker) == "999.8367"  # 1000 - 0.15375 - 0.0095 = 999.83675, floored
    assert position(taker, ticker)["position_fp"] == "1.25"
    assert book(taker, ticker)["no_dollars"] == [["0.8770", "1.25"]]


def test_ioc_fills_what_it_can_and_cancels_the_rest(sim):
    ticker = sim.new_market(fee_type="quadratic")
    maker, taker = account(sim), account(sim)
    place(maker, ticker, "ask", "0.40", "3")
    result = place(taker, ticker, "bid", "0.45", "5", tif="immediate_or_cancel")
    assert (result["fill_count"], result["remaining_count"]) == ("3.00", "0.00")
    placed = order(taker, result["order_id"])
    assert (placed["status"], placed["fill_count_fp"], placed["initial_count_fp"]) == ("canceled", "3.00", "5.00")
    assert book(taker, ticker) == {"yes_dollars": [], "no_dollars": []}


def test_fok_that_cannot_fill_in_full_changes_nothing(sim):
    ticker = sim.new_market(fee_type="quadratic")
    maker, taker = account(sim), account(sim)
    place(maker, ticker, "ask", "0.40", "3")
    before = balance(taker)
    result = place(taker, ticker, "bid", "0.45", "5", tif="fill_or_kill")
    assert result["fill_count"] == "0.00"
    assert order(taker, result["order_id"])["status"] == "canceled"
    assert balance(taker)["balance_dollars"] == before["balance_dollars"]
    assert book(taker, ticker)["no_dollars"] == [["0.6000", "3.00"]]
    assert position(taker, ticker) is None or position(taker, ticker)["position_fp"] == "0.00"

    full = place(taker, ticker, "bid", "0.45", "3", tif="fill_or_kill")
    assert (full["fill_count"], full["average_fill_price"]) == ("3.00", "0.400000")


def test_post_only_that_would_cross_is_refused_and_one_that_rests_is_kept(sim):
    ticker = sim.new_market(fee_type="quadratic")
    maker, other = account(sim), account(sim)
    place(maker, ticker, "ask", "0.40", "3")
    before = balance(other)
    r = other.post(ORDERS, json={"ticker": ticker, "side": "bid", "price": "0.40", "count": "1",
                                 "time_in_force": "good_till_canceled",
                                 "self_trade_prevention_type": "taker_at_cross", "post_only": True})
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "invalid_order"
    assert r.json()["error"]["details"] == "post only cross"
    after = balance(other)
    assert (after["balance"], after["balance_dollars"]) == (before["balance"], before["balance_dollars"])
    assert book(other, ticker)["no_dollars"] == [["0.6000", "3.00"]]

    rests = place(other, ticker, "bid", "0.39", "2", post_only=True)
    assert rests["remaining_count"] == "2.00"
    assert book(other, ticker)["yes_dollars"] == [["0.3900", "2.00"]]


def test_self_trade_prevention_taker_at_cross_and_maker(sim):
    ticker = sim.new_market(fee_type="quadratic")
    trader = account(sim)
    resting = place(trader, ticker, "ask", "0.40", "5")
    # taker_at_cross: the incoming order dies at its own resting order, which stays
    incoming = place(trader, ticker, "bid", "0.45", "5", stp="taker_at_cross")
    assert incoming["fill_count"] == "0.00"
    assert order(trader, incoming["order_id"])["status"] == "canceled"
    assert order(trader, resting["order_id"])["status"] == "resting"
    assert fills(trader, ticker=ticker) == []

    # maker: the resting order is cancelled and the incoming one goes on (here: rests)
    incoming = place(trader, ticker, "bid", "0.45", "5", stp="maker")
    assert order(trader, resting["order_id"])["status"] == "canceled"
    assert order(trader, resting["order_id"]).get("last_update_reason") == "SelfTradeCancel"
    assert order(trader, incoming["order_id"])["status"] == "resting"
    assert book(trader, ticker) == {"yes_dollars": [["0.4500", "5.00"]], "no_dollars": []}
    assert fills(trader, ticker=ticker) == []


def test_reduce_only_is_capped_at_the_position_and_needs_ioc(sim):
    ticker = sim.new_market(fee_type="quadratic")
    maker, trader = account(sim), account(sim)
    # nothing to reduce: accepted, nothing filled
    nothing = place(trader, ticker, "ask", "0.01", "5", tif="immediate_or_cancel", reduce_only=True)
    assert nothing["fill_count"] == "0.00"

    place(maker, ticker, "ask", "0.50", "10")
    place(trader, ticker, "bid", "0.50", "10")  # long 10 YES
    place(maker, ticker, "bid", "0.45", "50")
    sold = place(trader, ticker, "ask", "0.45", "15", tif="immediate_or_cancel", reduce_only=True)
    assert sold["fill_count"] == "10.00"  # capped at the 10 held, never flips to NO
    assert position(trader, ticker)["position_fp"] == "0.00"
    assert book(trader, ticker)["yes_dollars"] == [["0.4500", "40.00"]]

    r = trader.post(ORDERS, json={"ticker": ticker, "side": "ask", "price": "0.45", "count": "1",
                                  "time_in_force": "good_till_canceled",
                                  "self_trade_prevention_type": "taker_at_cross", "reduce_only": True})
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_order"


def test_selling_a_held_position_nets_and_releases_cash(sim):
    ticker = sim.new_market(fee_type="quadratic")
    maker, trader = account(sim), account(sim)
    place(maker, ticker, "ask", "0.40", "10")
    place(trader, ticker, "bid", "0.40", "10")  # long 10 YES for 4.00 + fee 0.168
    place(maker, ticker, "bid", "0.50", "10")
    place(trader, ticker, "ask", "0.50", "10")  # sell: buys 10 NO at 0.50, nets to flat, pays out $10
    pos = position(trader, ticker)
    assert pos["position_fp"] == "0.00"
    assert pos["realized_pnl_dollars"] == "1.000000"  # bought at 0.40, sold at 0.50
    # fees: 0.07 x 10 x 0.24 = 0.168 ; 0.07 x 10 x 0.25 = 0.175
    assert pos["fees_paid_dollars"] == "0.343000"
    assert balance_dollars(trader) == "1000.6570"  # 1000 + 1.00 - 0.343
