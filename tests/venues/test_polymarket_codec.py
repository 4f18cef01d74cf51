"""Polymarket decoding on fixtures written from the documented shapes (polymarket-api.md 3-5).

tests/venues/fixtures/polymarket_messages.json holds hand-made REST and WebSocket bodies: a YES/NO
pair of books that are complements, a sub-cent (0.001 tick) book with an empty ask side and a
leading-dot price, a Gamma market whose outcomes are party names, keyset pages, a batched
price_change with per-entry hashes, a 6-decimal trade size, and a legacy price_change. The hashes were
computed with the recipe of section 4.1.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from console.domain.side import Side
from console.venues.errors import DecodeError
from console.venues.events import BookLevelSet, BookSnapshot
from console.venues.polymarket import codec as c
from console.venues.polymarket.events import TokenMeta
from console.venues.polymarket.venue import token_meta

FIXTURES = json.loads((Path(__file__).parent / "fixtures" / "polymarket_messages.json").read_text())


def raw(name: str, **changes) -> bytes:
    body = copy.deepcopy(FIXTURES[name])
    body.update(changes)
    return json.dumps(body).encode()


def test_rest_book_decodes_exactly_and_reports_bids_and_asks_ascending() -> None:
    book = c.decode_rest(c.ClobBook, raw("rest_book_yes"), "GET /book")
    snap = c.book_snapshot(book, recv_ns=7)
    assert isinstance(snap, BookSnapshot) and snap.venue == "polymarket" and snap.ticker == book.asset_id
    assert snap.bids == ((4000, 150000), (4500, 22050), (4700, 1225))  # best bid last, as on the wire
    assert snap.asks == ((4900, 7500), (5000, 4000), (5500, 90000))  # the wire sends asks descending
    assert snap.ts_ms == 1_790_000_000_123 and snap.recv_ns == 7
    assert c.rest_book_hash_ok(book) is True


def test_yes_and_no_books_are_complements_on_their_own_scales() -> None:
    yes = c.book_snapshot(c.decode_rest(c.ClobBook, raw("rest_book_yes"), "GET /book"))
    no = c.book_snapshot(c.decode_rest(c.ClobBook, raw("rest_book_no"), "GET /book"))
    assert sorted((10000 - p, n) for p, n in yes.asks) == list(no.bids)
    assert sorted((10000 - p, n) for p, n in yes.bids) == list(no.asks)


def test_subcent_book_with_an_empty_side_and_no_trade_yet() -> None:
    book = c.decode_rest(c.ClobBook, raw("rest_book_subcent_empty_ask"), "GET /book")
    snap = c.book_snapshot(book)
    assert snap.bids == ((10, 25_000_000), (40, 3150), (50, 1000))  # "0.001", "0.004", ".005"
    assert snap.asks == ()
    assert book.last_trade_price == "" and book.tick_size == "0.001" and book.neg_risk is True
    assert c.rest_book_hash_ok(book) is True


def test_a_book_whose_content_changed_no_longer_matches_its_hash() -> None:
    body = json.loads(raw("rest_book_yes"))
    body["bids"][1]["size"] = "220.50"  # same number, different string: the hash covers strings
    book = c.decode_rest(c.ClobBook, json.dumps(body), "GET /book")
    assert c.book_snapshot(book).bids[1] == (4500, 22050)
    assert c.rest_book_hash_ok(book) is False
    del body["neg_risk"]
    assert c.rest_book_hash_ok(c.decode_rest(c.ClobBook, json.dumps(body), "GET /book")) is None


@pytest.mark.parametrize("mutate, field", [
    (lambda b: b["bids"][0].update(price="0.40001"), "price"),  # finer than a pip
    (lambda b: b["bids"][0].update(size="1.234"), "size"),  # finer than a hundredth of a share
    (lambda b: b["asks"][0].update(price="1.01"), "price"),
    (lambda b: b["asks"][0].update(size="-5"), "size"),
    (lambda b: b["asks"][0].update(price=0.55), "price"),  # a number where the CLOB sends a string
    (lambda b: b.update(timestamp="17900e5"), "timestamp"),
    (lambda b: b.pop("asset_id"), "asset_id"),
    (lambda b: b.update(tick_size="0.0x"), "tick"),
])
def test_malformed_books_are_decode_errors_never_defaults(mutate, field) -> None:
    body = json.loads(raw("rest_book_yes"))
    mutate(body)
    with pytest.raises(DecodeError) as err:
        c.decode_rest(c.ClobBook, json.dumps(body), "GET /book")
    assert "GET /book" in str(err.value)
    assert field in str(err.value) or "bids" in str(err.value) or "asks" in str(err.value)


def test_small_replies_parse_to_pips_including_gamma_style_numbers() -> None:
    assert c.decode_rest(c.PriceReply, raw("rest_price"), "GET /price").price == 4700
    assert c.decode_rest(c.MidpointReply, raw("rest_midpoint"), "GET /midpoint").mid == 4800
    assert c.decode_rest(c.SpreadReply, raw("rest_spread"), "GET /spread").spread == 200
    assert c.decode_rest(c.TickSizeReply, raw("rest_tick_size"), "GET /tick-size").minimum_tick_size == 10
    assert c.decode_rest(c.FeeRateReply, raw("rest_fee_rate"), "GET /fee-rate").bps == 400
    assert c.decode_rest(c.FeeRateReply, raw("rest_fee_rate_string"), "GET /fee-rate").bps == 0
    with pytest.raises(DecodeError):
        c.decode_rest(c.TickSizeReply, b'{"minimum_tick_size": 0.00001}', "GET /tick-size")


def test_gamma_market_with_party_outcomes_maps_tokens_by_name() -> None:
    page = c.decode_rest(c.GammaMarketsPage, raw("gamma_page_1"), "GET /markets/keyset")
    market = page.markets[0]
    assert page.next_cursor == "aWQ6NzAwMTAx"
    assert market.outcomes == ("Republican", "Democratic")
    assert market.token_for("democratic") == market.token_ids[1] != market.token_ids[0]
    with pytest.raises(KeyError):
        market.token_for("Yes")  # never assume index 0 is Yes
    assert market.tick_size == 10 and market.min_order_size == 500
    assert market.best_bid == 5840 and market.best_ask == 5860
    assert market.outcome_prices == ("0.5849999999999999", "0.415")  # Gamma marks stay strings, unparsed
    assert market.fee_schedule is not None and str(market.fee_schedule.rate) == "0.04"
    assert market.taker_base_fee == 400 and market.end_ms == 1_793_707_200_000
    assert token_meta(market) == {t: TokenMeta("5", False) for t in market.token_ids}  # what the book hash needs
    last = c.decode_rest(c.GammaMarketsPage, raw("gamma_page_last"), "GET /markets/keyset")
    assert last.next_cursor is None and last.markets[0].outcomes == ("Yes", "No")


@pytest.mark.parametrize("changes", [
    {"clobTokenIds": "[\"1\", \"2\""},  # not JSON
    {"clobTokenIds": ["1", "2"]},  # a real list where Gamma sends a JSON string
    {"outcomes": "[\"Yes\"]"},  # one outcome but two token ids
    {"endDate": "next tuesday"},
    {"orderPriceMinTickSize": "0.01x"},
])
def test_malformed_gamma_markets_are_decode_errors(changes) -> None:
    body = copy.deepcopy(FIXTURES["gamma_page_1"])
    body["markets"][0].update(changes)
    with pytest.raises(DecodeError):
        c.decode_rest(c.GammaMarketsPage, json.dumps(body), "GET /markets/keyset")
    body = copy.deepcopy(FIXTURES["gamma_page_1"])
    del body["markets"][0]["conditionId"]
    with pytest.raises(DecodeError, match="conditionId"):
        c.decode_rest(c.GammaMarketsPage, json.dumps(body), "GET /markets/keyset")


def test_initial_dump_array_decodes_to_books_whose_hashes_reproduce() -> None:
    messages = c.decode_ws(json.dumps(FIXTURES["ws_initial_dump"]))
    assert [type(m) for m in messages] == [c.WsBook, c.WsBook]
    yes = messages[0]
    assert yes.tick_size == "0.01" and yes.last_trade_price == "0.480"
    digest = c.book_hash(yes.market, yes.asset_id, yes.timestamp, [(lv.price, lv.size) for lv in yes.bids],
                         [(lv.price, lv.size) for lv in yes.asks], "5", "0.01", False, "0.480")
    assert digest == yes.hash
    assert c.book_snapshot(yes).bids[-1] == (4700, 1225)


def test_batched_price_change_becomes_absolute_level_sets_on_each_tokens_scale() -> None:
    (msg,) = c.decode_ws(json.dumps(FIXTURES["ws_price_change"]))
    assert isinstance(msg, c.PriceChange) and msg.ts_ms == 1_790_000_000_300
    sets = c.level_sets(msg, recv_ns=3)
    assert all(isinstance(s, BookLevelSet) for s in sets)
    yes, no = FIXTURES["ws_initial_dump"][0]["asset_id"], FIXTURES["ws_initial_dump"][1]["asset_id"]
    assert [(s.ticker, s.side, s.price, s.count) for s in sets] == [
        (yes, Side.BID, 4700, 0), (no, Side.ASK, 5300, 0), (yes, Side.BID, 4600, 31000), (no, Side.ASK, 5400, 31000)]
    assert msg.price_changes[2].best_bid == 4600 and msg.price_changes[3].best_ask == 5400
    assert all(s.ts_ms == msg.ts_ms and s.recv_ns == 3 for s in sets)


def test_trade_tick_and_custom_messages() -> None:
    (trade,) = c.decode_ws(json.dumps(FIXTURES["ws_last_trade_price"]))
    assert isinstance(trade, c.LastTradePrice)
    assert (trade.price, trade.side, trade.size) == (4900, "BUY", 11_276_594)  # millionths of a share, exact
    (tick,) = c.decode_ws(json.dumps(FIXTURES["ws_tick_size_change"]))
    assert isinstance(tick, c.TickSizeChange) and (tick.old_tick_size, tick.new_tick_size) == (100, 10)
    (bba,) = c.decode_ws(json.dumps(FIXTURES["ws_best_bid_ask"]))
    assert isinstance(bba, c.BestBidAsk) and (bba.best_bid, bba.best_ask, bba.spread) == (4600, 4900, 300)
    (done,) = c.decode_ws(json.dumps(FIXTURES["ws_market_resolved"]))
    assert isinstance(done, c.MarketResolved) and done.winning_asset_id == done.assets_ids[1]
    (other,) = c.decode_ws(json.dumps(FIXTURES["ws_unknown_event"]))
    assert other == c.UnknownMessage("comment_posted")


def test_legacy_price_change_and_broken_frames_are_decode_errors() -> None:
    with pytest.raises(DecodeError, match="price_changes"):
        c.decode_ws(json.dumps(FIXTURES["ws_legacy_price_change"]))
    with pytest.raises(DecodeError):
        c.decode_ws('{"event_type": "book", "market": "0x1"')
    bad_trade = dict(FIXTURES["ws_last_trade_price"], size="1.2345678")
    with pytest.raises(DecodeError, match="last_trade_price"):
        c.decode_ws(json.dumps(bad_trade))
    bad_change = copy.deepcopy(FIXTURES["ws_price_change"])
    bad_change["price_changes"][1]["side"] = "HOLD"
    with pytest.raises(DecodeError, match="price_change"):
        c.decode_ws(json.dumps(bad_change))
