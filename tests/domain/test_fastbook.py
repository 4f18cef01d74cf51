"""The C fast path and the Python reference path of KalshiBookFeed give identical books, counters, seq
state and callbacks on the same random stream (malformed messages included), and each rule does what a
desk user relies on: NO prices mirrored, refusals counted and never defaulted, duplicates not applied."""

from __future__ import annotations

import random

import pytest
from fastbook_streams import GRIDS, SIDS, StreamMaker, dumps
from hypothesis import given, settings
from hypothesis import strategies as st

from console.domain import _fastbook
from console.domain.book import Book
from console.domain.fastbook import KalshiBookFeed
from console.domain.side import Side
from console.domain.units import parse_count, parse_price


def make_feed(pure: bool) -> tuple[KalshiBookFeed, list]:
    events: list = []
    feed = KalshiBookFeed(pure=pure, on_gap=lambda *g: events.append(("gap", *g)),
                          on_snapshot=lambda t: events.append(("snapshot", t)),
                          on_other=lambda kind, raw: events.append(("other", kind)))
    for ticker, grid in GRIDS.items():
        feed.add_book(Book(grid, ticker, "kalshi"))
    for sid, use_yes in SIDS.items():
        feed.register_sid(sid, use_yes)
    return feed, events


def assert_same(c_feed: KalshiBookFeed, c_events: list, py_feed: KalshiBookFeed, py_events: list) -> None:
    for ticker in GRIDS:
        c_book, py_book = c_feed.books[ticker], py_feed.books[ticker]
        assert c_book.bids == py_book.bids, ticker
        assert c_book.asks == py_book.asks, ticker
        assert c_book.meta == py_book.meta, ticker  # best indices, version, last ts, refusals, damaged
    assert c_feed.counters() == py_feed.counters()
    for sid in SIDS:
        assert c_feed.sid_state(sid) == py_feed.sid_state(sid)
    assert c_events == py_events


def test_c_extension_is_built_and_used() -> None:
    feed = KalshiBookFeed()
    assert feed.uses_c and _fastbook.DeltaFeed is not None


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32), st.integers(1, 600))
def test_c_and_python_paths_agree_on_random_streams(seed: int, n: int) -> None:
    stream = StreamMaker(random.Random(seed)).stream(n)
    c_feed, c_events = make_feed(pure=False)
    py_feed, py_events = make_feed(pure=True)
    # the C path in uneven batches (batch edges must not matter), the reference one message at a time;
    # each batch carries its own receive time, stamped on the books it changes
    i, k = 0, 0
    rng = random.Random(seed + 1)
    while i < len(stream):
        j = i + rng.randint(1, 50)
        k += 1
        c_feed.feed(stream[i:j], recv_ns=1000 * k)
        for raw in stream[i:j]:
            py_feed.feed_one(raw, recv_ns=1000 * k)
        i = j
    assert_same(c_feed, c_events, py_feed, py_events)


def test_a_long_stream_agrees_and_exercises_every_outcome() -> None:
    stream = StreamMaker(random.Random(20260501)).stream(40_000)
    c_feed, c_events = make_feed(pure=False)
    py_feed, py_events = make_feed(pure=True)
    c_feed.feed(stream)
    py_feed.feed(stream)
    assert_same(c_feed, c_events, py_feed, py_events)
    counters = c_feed.counters()
    for outcome in ("applied", "malformed", "unknown_sid", "unknown_market", "off_grid", "inconsistent",
                    "gaps", "stale", "snapshots", "other"):
        assert counters[outcome] > 0, f"the stream never produced {outcome}: {counters}"
    # the C path really did the bulk of the work
    assert c_feed._c.counters()["applied"] > 0.9 * counters["applied"]


def test_newline_buffer_mode_agrees() -> None:
    stream = StreamMaker(random.Random(7)).stream(5_000)
    buffer = b"\n".join(m if isinstance(m, bytes) else m.encode() for m in stream)
    c_feed, c_events = make_feed(pure=False)
    py_feed, py_events = make_feed(pure=True)
    c_feed.feed_lines(buffer)
    py_feed.feed_lines(buffer)
    assert_same(c_feed, c_events, py_feed, py_events)
    assert c_feed.counters()["applied"] > 1000


def delta(sid: int, seq: int, ticker: str, price: str, count: str, side: str, **extra) -> bytes:
    msg = {"market_ticker": ticker, "market_id": "m", "price_dollars": price, "delta_fp": count, "side": side,
           "ts_ms": 1767225600123, **extra}
    return dumps({"type": "orderbook_delta", "sid": sid, "seq": seq, "msg": msg})


@pytest.mark.parametrize("pure", [False, True])
def test_rules_a_user_relies_on(pure: bool) -> None:
    feed, events = make_feed(pure)
    book = feed.books["KXA-LIN"]  # sid 1: NO side in NO prices
    taper = feed.books["KXC-TAPER"]  # sid 2: use_yes_price
    feed.feed([
        delta(1, 1, "KXA-LIN", "0.4100", "10.00", "yes"),
        delta(1, 2, "KXA-LIN", "0.5500", "3.50", "no"),  # a NO bid at $0.55 = a YES ask at $0.45
        delta(2, 1, "KXC-TAPER", "0.9550", "1.00", "no"),  # use_yes_price: already a YES price
    ])
    assert book.best_bid == (4100, 1000) and book.best_ask == (4500, 350)
    assert taper.best_ask == (9550, 100)
    assert book.last_ts_ms == 1767225600123

    before = (bytes(book.bids), bytes(book.asks))
    feed.feed([
        delta(1, 2, "KXA-LIN", "0.4100", "10.00", "yes"),  # a duplicate seq: not applied twice
        delta(1, 3, "KXA-LIN", "0.41", "ten", "yes"),  # malformed count: skipped, never defaulted
        delta(1, 4, "KXA-LIN", "0.4150", "1.00", "yes"),  # off the cent grid
        delta(1, 5, "KXA-LIN", "0.4100", "-10.01", "yes"),  # would go negative
        delta(7, 1, "KXA-LIN", "0.4100", "1.00", "yes"),  # a sid nobody subscribed
        delta(1, 6, "KXZZZ", "0.4100", "1.00", "yes"),
    ])
    assert (bytes(book.bids), bytes(book.asks)) == before
    assert book.damaged
    counters = feed.counters()
    assert (counters["stale"], counters["malformed"], counters["off_grid"], counters["inconsistent"],
            counters["unknown_sid"], counters["unknown_market"]) == (1, 1, 1, 1, 1, 1)
    # seq 3 was malformed, so 4 came after 2: a gap of one message, reported once
    assert events == [("gap", 1, 3, 4)]
    assert feed.sid_state(1) == (6, 1, 1, 1)

    snapshot = {"type": "orderbook_snapshot", "sid": 1, "seq": 7,
                "msg": {"market_ticker": "KXA-LIN", "market_id": "m", "yes_dollars_fp": [["0.4000", "2.00"]],
                        "no_dollars_fp": [["0.5000", "1.00"], ["0.5800", "4.00"]]}}
    feed.feed([dumps(snapshot)])
    assert book.levels(Side.BID) == [(4000, 200)]
    assert book.levels(Side.ASK) == [(4200, 400), (5000, 100)]
    assert not book.damaged and events[-1] == ("snapshot", "KXA-LIN")


@pytest.mark.parametrize("text,decimals,signed", [
    ("0.56", 4, False), ("0.5600", 4, False), (".5", 4, False), ("1", 4, False), ("1.0001", 4, False),
    ("0.56001", 4, False), ("0.560000", 4, False), ("-0.5", 4, False), ("5.", 4, False), (".", 4, False),
    ("", 4, False), ("10.00", 2, True), ("-3.5", 2, True), ("-.25", 2, True), ("0.001", 2, True),
    ("0.010", 2, True), ("10000000000000.00", 2, True), ("10000000000000.01", 2, True), ("1e3", 2, True),
    ("0012.30", 2, True), ("1.2.3", 2, True), ("-", 2, True),
])
def test_c_decimal_parser_matches_units(text: str, decimals: int, signed: bool) -> None:
    parse = parse_price if decimals == 4 else (lambda s: parse_count(s, signed=signed))
    limit = 10000 if decimals == 4 else 10**15
    try:
        expected = parse(text)
        if abs(expected) > limit:
            expected = None
    except ValueError:
        expected = None
    assert _fastbook.DeltaFeed.parse_fixed(text.encode(), decimals, signed) == expected


JSONISH = st.text(alphabet='{}[]":,0123456789.-eE tfnrulsa\\yo_', max_size=120)
FIELDS = ['"type":"orderbook_delta"', '"sid":1', '"seq":5', '"msg":{', '"market_ticker":"KXA-LIN"',
          '"market_id":"m"', '"price_dollars":"0.4100"', '"delta_fp":"1.00"', '"side":"yes"', '"ts_ms":7', "}"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.binary(max_size=200), JSONISH,
                          st.lists(st.one_of(st.sampled_from(FIELDS), JSONISH), max_size=14).map(
                              lambda parts: "{" + ",".join(parts) + "}")), max_size=40))
def test_arbitrary_bytes_never_crash_and_both_paths_agree(messages) -> None:
    c_feed, c_events = make_feed(pure=False)
    py_feed, py_events = make_feed(pure=True)
    c_feed.feed(messages)
    py_feed.feed(messages)
    assert_same(c_feed, c_events, py_feed, py_events)


def test_a_new_book_for_a_ticker_takes_over_in_both_paths() -> None:
    for pure in (False, True):
        feed, _ = make_feed(pure)
        old = feed.books["KXA-LIN"]
        new = Book(GRIDS["KXB-DECI"], "KXA-LIN", "kalshi")  # the market moved to a finer grid
        feed.add_book(new)
        feed.feed([delta(1, 1, "KXA-LIN", "0.4110", "2.00", "yes")])
        assert new.best_bid == (4110, 200) and old.best_bid is None
