"""The paper venue: orders fill against the live book at prices it offered, never more than it showed,
and a resting order fills only after the size ahead of it has traded. End to end, the engine in paper
mode trades on the built-in exchange's data without a single order reaching the exchange."""

from __future__ import annotations

import asyncio

import pytest
from engine_helpers import (
    Account,
    engine_positions,
    new_markets,
    start_engine,
    wait_until,
)

from console.domain.side import Side
from console.engine.strategies import ThresholdTaker
from console.venues.errors import OrderRejected
from console.venues.events import BookDelta, BookSnapshot
from console.venues.kalshi import codec_ws as w
from console.venues.kalshi.orders import OrderSpec
from console.venues.paper import PaperRest

T = "KXP-1"


def paper() -> tuple[PaperRest, list]:
    posted: list = []
    account = PaperRest(None, posted.append, clock_ms=lambda: 1_000_000)
    account.on_feed(BookSnapshot("kalshi", T, bids=((4800, 500), (4900, 300)), asks=((5100, 200), (5200, 400))))
    return account, posted


def trade(price: int, count: int, taker: Side) -> w.TradeMsg:
    return w.TradeMsg(sid=2, msg=w.TradeBody(trade_id="x", market_ticker=T, yes_price=price, count=count,
                                             taker_book_side=taker))


def fills(posted: list) -> list[tuple[int, int, bool]]:
    return [(m.msg.yes_price, m.msg.count, m.msg.is_taker) for m in posted if isinstance(m, w.FillMsg)]


def run(coro):
    return asyncio.run(coro)


def test_marketable_order_takes_only_what_the_book_shows_at_its_prices() -> None:
    account, posted = paper()
    result = run(account.create_order(OrderSpec(ticker=T, side=Side.BID, price=5200, count=1000,
                                                time_in_force="immediate_or_cancel")))
    assert fills(posted) == [(5100, 200, True), (5200, 400, True)]
    assert (result.fill_count, result.remaining_count) == (600, 0)
    posted.clear()
    again = run(account.create_order(OrderSpec(ticker=T, side=Side.BID, price=5200, count=100,
                                               time_in_force="immediate_or_cancel")))
    assert again.fill_count == 0 and fills(posted) == []  # the same contracts are not taken twice
    account.on_feed(BookDelta("kalshi", T, Side.ASK, 5100, -200))  # the level we took is gone for real
    account.on_feed(BookDelta("kalshi", T, Side.ASK, 5100, 50))  # and new size arrives
    run(account.create_order(OrderSpec(ticker=T, side=Side.BID, price=5100, count=100,
                                       time_in_force="immediate_or_cancel")))
    assert fills(posted) == [(5100, 50, True)]
    assert account.positions[T].position == 650


def test_resting_order_waits_for_the_size_ahead_of_it() -> None:
    account, posted = paper()
    result = run(account.create_order(OrderSpec(ticker=T, side=Side.BID, price=4900, count=200)))
    assert result.remaining_count == 200 and fills(posted) == []
    account.on_feed(trade(4900, 200, Side.ASK))  # 300 ahead of us: 100 left ahead
    assert fills(posted) == []
    account.on_feed(BookDelta("kalshi", T, Side.BID, 4900, -250))  # the level shrinks to 50 (cancels ahead)
    account.on_feed(trade(4900, 120, Side.ASK))  # 50 ahead traded, 70 for us
    assert fills(posted) == [(4900, 70, False)]
    account.on_feed(trade(4800, 10, Side.ASK))  # traded through our price: the rest of the level went
    assert fills(posted) == [(4900, 70, False), (4900, 130, False)]
    assert account.orders[result.order_id].status == "executed"
    account.on_feed(trade(5100, 500, Side.BID))  # trades on the other side never fill a bid
    assert len(fills(posted)) == 2


def test_post_only_reduce_only_and_ioc_rules() -> None:
    account, posted = paper()
    with pytest.raises(OrderRejected):
        run(account.create_order(OrderSpec(ticker=T, side=Side.BID, price=5100, count=100, post_only=True)))
    capped = run(account.create_order(OrderSpec(ticker=T, side=Side.ASK, price=4800, count=100, reduce_only=True,
                                                time_in_force="immediate_or_cancel")))
    assert capped.fill_count == 0 and fills(posted) == []  # no position: nothing to reduce
    run(account.create_order(OrderSpec(ticker=T, side=Side.BID, price=5100, count=150,
                                       time_in_force="immediate_or_cancel")))
    closed = run(account.create_order(OrderSpec(ticker=T, side=Side.ASK, price=4800, count=900, reduce_only=True,
                                                time_in_force="immediate_or_cancel")))
    assert closed.fill_count == 150 and account.positions[T].position == 0
    assert fills(posted)[-1] == (4900, 150, True)


def test_engine_in_paper_mode_never_sends_an_order_to_the_exchange(sim, tmp_path) -> None:
    [ticker] = new_markets(sim, 1, prefix="KXPAPER")
    maker, desk = Account(sim), Account(sim)
    maker.place(ticker, "ask", "0.4800", "3.00")
    taker = ThresholdTaker("taker", frozenset({ticker}), buy_at_or_below=5000, count=100, max_position=200)
    eng = start_engine(desk, tmp_path, [ticker], strategies=[taker], auto=True, paper=True)
    try:
        wait_until(lambda: engine_positions(eng).get(ticker) == 200, 10, "paper position")
        assert desk.orders() == [] and desk.positions() == {}
        assert maker.positions() == {}  # the maker was never really hit
        book = eng.control.snapshot().books[ticker]
        assert book.asks == ((4800, 300),)  # the live book is untouched
    finally:
        eng.stop("leave")


def lifecycle(event_type: str, result: str | None = None) -> w.MarketLifecycle:
    return w.MarketLifecycle(sid=3, msg=w.MarketLifecycleBody(market_ticker=T, event_type=event_type, result=result))


def test_paper_positions_settle_when_the_real_market_does_and_only_the_paper_account_is_read() -> None:
    """NO side held: a 'no' result pays $1 a NO contract into the paper cash; the settlement is the paper
    account's own record (the real account's settlements are never read in paper mode)."""
    from fractions import Fraction

    from console.domain.fees import FeeType, KalshiFees

    cheap = KalshiFees(FeeType.QUADRATIC, Fraction(1, 2))
    posted: list = []
    account = PaperRest(None, posted.append, clock_ms=lambda: 1_000_000, fees=lambda t: cheap if t == T else None)
    account.on_feed(BookSnapshot("kalshi", T, bids=((4800, 500),), asks=((5100, 200),)))
    run(account.create_order(OrderSpec(ticker=T, side=Side.ASK, price=4800, count=300,
                                       time_in_force="immediate_or_cancel")))  # buys 3 NO at 0.52
    [fill] = [m.msg for m in posted if isinstance(m, w.FillMsg)]
    assert fill.fee_cost == cheap.trade_fee(4800, 300, maker=False)  # the market's own schedule, not the default
    assert fill.fee_cost < KalshiFees().trade_fee(4800, 300, maker=False)
    cash_after_buy = account.cash_delta
    assert cash_after_buy == -(5200 * 300 + fill.fee_cost)
    account.on_feed(lifecycle("determined", "no"))
    assert account.positions[T].position == -300  # determined is not paid yet
    account.on_feed(lifecycle("settled"))
    assert account.positions[T].position == 0
    assert account.cash_delta - cash_after_buy == 300 * 10_000  # $3.00 for 3 NO contracts
    [s] = run(_collect(account.iter_settlements(min_ts=0)))
    assert (s.market_result, s.yes_count, s.no_count, s.no_total_cost, s.value_cents) == ("no", 0, 300, 5200 * 300, 0)
    account.on_feed(lifecycle("settled"))  # a repeated message pays nothing twice
    assert account.cash_delta - cash_after_buy == 300 * 10_000 and len(account.settlements) == 1


async def _collect(it) -> list:
    return [x async for x in it]
