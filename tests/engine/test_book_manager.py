"""BookManager: books kept from typed events and raw frames, and health that turns red exactly when the
copy can no longer be trusted (gap, refused update, failed cross-check, silence), with the reason."""

from __future__ import annotations

import json

import pytest

from console.domain.grid import PriceGrid
from console.domain.side import Side
from console.engine.book_health import Health, HealthThresholds
from console.engine.books import BookManager
from console.venues.events import BookDelta, BookLevelSet, BookSnapshot
from console.venues.kalshi.ws_events import FeedDisconnected, SeqGap

S = 1_000_000_000
GRID = PriceGrid.for_structure("linear_cent")


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000 * S

    def __call__(self) -> int:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += int(seconds * S)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def manager(clock: FakeClock) -> BookManager:
    m = BookManager(HealthThresholds(silence_s=60, slow_s=10, snapshot_max_age_s=300, healed_window_s=20),
                    clock_ns=clock)
    m.add_market("kalshi", "KXA", GRID)
    m.add_market("kalshi", "KXB", GRID)
    return m


def snap(ticker: str, sid: int = 1, seq: int = 1, bids=((4000, 500),), asks=((4200, 300),)) -> BookSnapshot:
    return BookSnapshot("kalshi", ticker, tuple(bids), tuple(asks), sid=sid, seq=seq)


def test_no_snapshot_is_red_then_green_after_one(manager: BookManager) -> None:
    assert manager.health("kalshi", "KXA").level is Health.RED
    assert manager.health("kalshi", "KXA").reason == "no snapshot yet"
    manager.apply(snap("KXA"))
    manager.apply(BookDelta("kalshi", "KXA", Side.BID, 4100, 250, sid=1, seq=2))
    health = manager.health("kalshi", "KXA")
    assert health.level is Health.GREEN and health.reason.startswith("ok")
    assert manager.book("kalshi", "KXA").best_bid == (4100, 250)


def test_gap_is_red_until_snapshot_then_amber_while_recent(manager: BookManager, clock: FakeClock) -> None:
    manager.apply(snap("KXA"))
    manager.apply(snap("KXB", seq=2))
    manager.apply(SeqGap("kalshi", 1, "orderbook_delta", "gap", 3, 5, ("KXA", "KXB"), resync=True))
    for ticker in ("KXA", "KXB"):
        health = manager.health("kalshi", ticker)
        assert health.level is Health.RED
        assert "seq gap on sid 1 (expected 3, got 5)" in health.reason and "waiting for a fresh snapshot" in health.reason
    clock.advance(1)
    manager.apply(snap("KXA", seq=6))
    assert manager.health("kalshi", "KXA").level is Health.AMBER
    assert "repaired" in manager.health("kalshi", "KXA").reason
    assert manager.health("kalshi", "KXB").level is Health.RED  # its snapshot has not come yet
    clock.advance(21)
    manager.apply(BookDelta("kalshi", "KXA", Side.ASK, 4300, 100))
    assert manager.health("kalshi", "KXA").level is Health.GREEN
    assert manager.health("kalshi", "KXA").gaps_seen == 1


def test_a_duplicate_is_not_a_gap(manager: BookManager) -> None:
    manager.apply(snap("KXA"))
    manager.apply(SeqGap("kalshi", 1, "orderbook_delta", "duplicate", 3, 2, ("KXA",), resync=True))
    assert manager.health("kalshi", "KXA").level is Health.GREEN


def test_silence_slow_and_cross_check_evidence(manager: BookManager, clock: FakeClock) -> None:
    manager.apply(snap("KXA"))
    clock.advance(11)
    health = manager.health("kalshi", "KXA")
    assert health.level is Health.AMBER and health.reason.startswith("slow: last update 11.0 s ago")
    clock.advance(50)
    health = manager.health("kalshi", "KXA")
    assert health.level is Health.RED and "no update for 61.0 s (limit 60.0 s)" in health.reason
    # a quiet market whose REST book still matches is fine again
    result = manager.compare_with("kalshi", "KXA", ([(4000, 500)], [(4200, 300)]))
    assert result.ok and result.levels_compared == 2
    assert manager.health("kalshi", "KXA").level is Health.GREEN
    clock.advance(301)
    manager.compare_with("kalshi", "KXA", ([(4000, 500)], [(4200, 300)]))
    health = manager.health("kalshi", "KXA")
    assert health.level is Health.AMBER and health.reason == "last snapshot 6 min ago"


def test_cross_check_mismatch_amber_then_red_with_details(manager: BookManager) -> None:
    manager.apply(snap("KXA"))
    rest = ([(4000, 600)], [(4200, 300), (4400, 100)])
    first = manager.compare_with("kalshi", "KXA", rest)
    assert not first.ok and [str(m) for m in first.mismatches] == [
        "bid 0.4000: local 5.00, REST 6.00", "ask 0.4400: local 0.00, REST 1.00"]
    assert manager.health("kalshi", "KXA").level is Health.AMBER
    manager.compare_with("kalshi", "KXA", rest)
    health = manager.health("kalshi", "KXA")
    assert health.level is Health.RED
    assert health.reason == ("REST cross-check failed 2x: 2 levels differ from REST: bid 0.4000: local 5.00, "
                             "REST 6.00; ask 0.4400: local 0.00, REST 1.00")
    assert health.cross_check_ok is False
    manager.apply(snap("KXA", seq=2, bids=[(4000, 600)], asks=[(4200, 300), (4400, 100)]))
    assert manager.compare_with("kalshi", "KXA", rest).ok
    assert manager.health("kalshi", "KXA").level is Health.GREEN


def test_cross_check_at_depth_compares_only_the_top(manager: BookManager) -> None:
    manager.apply(snap("KXA", bids=[(3000, 1), (4000, 500)], asks=[(4200, 300), (6000, 9)]))
    assert manager.compare_with("kalshi", "KXA", ([(4000, 500)], [(4200, 300)]), depth=1).ok
    assert not manager.compare_with("kalshi", "KXA", ([(4000, 500)], [(4200, 300)])).ok


def test_refused_delta_makes_the_book_red(manager: BookManager) -> None:
    manager.apply(snap("KXA"))
    manager.apply(BookDelta("kalshi", "KXA", Side.BID, 4000, -501))
    health = manager.health("kalshi", "KXA")
    assert health.level is Health.RED and "inconsistent" in health.reason
    assert manager.book("kalshi", "KXA").best_bid == (4000, 500)
    manager.apply(snap("KXA", seq=3))
    assert manager.health("kalshi", "KXA").level is not Health.RED


def test_disconnect_reds_every_book_of_the_venue(manager: BookManager) -> None:
    manager.apply(snap("KXA"))
    manager.apply(snap("KXB", seq=2))
    manager.apply(FeedDisconnected("kalshi", "connection reset"))
    assert {h.level for h in manager.health_all()} == {Health.RED}
    assert "feed disconnected (connection reset)" in manager.health("kalshi", "KXB").reason


def test_own_seq_checks_drop_duplicates_and_flag_gaps(clock: FakeClock) -> None:
    manager = BookManager(clock_ns=clock, check_seq=True)
    manager.add_market("kalshi", "KXA", GRID)
    manager.apply(snap("KXA", sid=4, seq=1))
    manager.apply(BookDelta("kalshi", "KXA", Side.BID, 4000, 100, sid=4, seq=2))
    manager.apply(BookDelta("kalshi", "KXA", Side.BID, 4000, 100, sid=4, seq=2))  # duplicate: dropped
    assert manager.book("kalshi", "KXA").count_at(Side.BID, 4000) == 600
    manager.apply(BookDelta("kalshi", "KXA", Side.BID, 4000, 100, sid=4, seq=4))
    assert "expected 3, got 4" in manager.health("kalshi", "KXA").reason
    assert manager.counters["stale"] == 1


def test_level_sets_and_unknown_markets(manager: BookManager) -> None:
    manager.apply(snap("KXA"))
    manager.apply(BookLevelSet("kalshi", "KXA", Side.ASK, 4100, 700))
    assert manager.book("kalshi", "KXA").best_ask == (4100, 700)
    manager.apply(BookDelta("kalshi", "KXNOPE", Side.BID, 4000, 1))
    assert manager.counters["unknown_market"] == 1


def frame(kind: str, sid: int, seq: int, **msg) -> bytes:
    return json.dumps({"type": kind, "sid": sid, "seq": seq, "msg": msg}).encode()


def test_raw_frames_through_the_fast_path_share_the_books_and_health(manager: BookManager, clock: FakeClock) -> None:
    manager.register_sid("kalshi", 3, use_yes_price=False, tickers=["KXA"])
    others: list = []
    manager.on_other = lambda venue, kind, raw: others.append(kind)
    manager.apply_raw("kalshi", [
        json.dumps({"type": "subscribed", "id": 1, "msg": {"channel": "orderbook_delta", "sid": 3}}).encode(),
        frame("orderbook_snapshot", 3, 1, market_ticker="KXA", market_id="m", yes_dollars_fp=[["0.4000", "5.00"]],
              no_dollars_fp=[["0.5800", "3.00"]]),
        frame("orderbook_delta", 3, 2, market_ticker="KXA", market_id="m", price_dollars="0.4100",
              delta_fp="2.00", side="yes", ts_ms=1),
    ])
    book = manager.book("kalshi", "KXA")
    assert others == ["subscribed"]
    assert book.best_bid == (4100, 200) and book.best_ask == (4200, 300)
    assert manager.health("kalshi", "KXA").level is Health.GREEN
    assert book.last_recv_ns == clock.now
    manager.apply_raw("kalshi", [frame("orderbook_delta", 3, 5, market_ticker="KXA", market_id="m",
                                       price_dollars="0.4100", delta_fp="1.00", side="yes")])
    assert manager.health("kalshi", "KXA").level is Health.RED
    assert manager.health("kalshi", "KXB").level is Health.RED  # never had a snapshot either
    manager.apply_raw("kalshi", [frame("orderbook_snapshot", 3, 6, market_ticker="KXA", market_id="m")])
    assert manager.health("kalshi", "KXA").level is Health.AMBER and book.best_bid is None


def test_thresholds_are_checked() -> None:
    with pytest.raises(ValueError, match="slow_s .* must be below silence_s"):
        HealthThresholds(silence_s=5, slow_s=10)
    with pytest.raises(ValueError, match="cross_check_strikes"):
        HealthThresholds(cross_check_strikes=0)


def test_polymarket_books_by_level_sets_and_hash_mismatch(clock: FakeClock) -> None:
    from console.venues.polymarket.events import BookHashMismatch, StaleBook

    manager = BookManager(clock_ns=clock)
    token = "7132" * 10
    manager.add_market("polymarket", token, PriceGrid.for_structure("linear_cent"))
    manager.apply(BookSnapshot("polymarket", token, ((4500, 10000),), ((4700, 2500),)))
    manager.apply(BookLevelSet("polymarket", token, Side.BID, 4600, 500))
    manager.apply(BookLevelSet("polymarket", token, Side.ASK, 4700, 0))
    book = manager.book("polymarket", token)
    assert book.best_bid == (4600, 500) and book.best_ask is None
    assert manager.health("polymarket", token).level is Health.GREEN
    manager.apply(BookHashMismatch("polymarket", token, "price_change", "abc", "def"))
    health = manager.health("polymarket", token)
    assert health.level is Health.RED and "book hash mismatch after price_change" in health.reason
    manager.apply(BookSnapshot("polymarket", token, ((4500, 100),), ()))
    manager.apply(StaleBook("polymarket", token, "tick size changed"))
    assert "tick size changed" in manager.health("polymarket", token).reason
