"""The Kalshi REST client against the built-in exchange over real sockets (the shared `sim`).

Each test makes its own accounts and markets. Fault injection tests are in test_kalshi_rest_faults.py.
"""

from __future__ import annotations

import asyncio
import time
import uuid

import httpx
import pytest
from kalshi_helpers import UNLIMITED, orders_by_client_id, place, rest_for

from console.domain.side import Side
from console.venues.errors import AuthError, DecodeError, NotFound, OrderRejected
from console.venues.kalshi.auth import Signer
from console.venues.kalshi.limits import RateBudget
from console.venues.kalshi.orders import OrderSpec
from console.venues.kalshi.rest import KalshiRest


def _event(sim, n: int, **fields) -> tuple[str, list[str]]:
    event = f"KXREST{uuid.uuid4().hex[:8].upper()}"
    return event, [sim.new_market(ticker=f"{event}-M{i}", event_ticker=event, **fields) for i in range(n)]


async def test_market_data_reads_page_through_cursors_and_books_are_yes_scale(sim) -> None:
    event, tickers = _event(sim, 3)
    maker = sim.new_account()
    place(maker, tickers[0], "bid", "0.41", "12.5")
    place(maker, tickers[0], "ask", "0.43", "3")  # a NO bid at $0.57, reported on the NO side of the book
    async with rest_for(sim, sim.new_account()) as api:
        listed = [m.ticker async for m in api.iter_markets(event_ticker=event, limit=1)]
        assert listed == tickers  # three pages of one market each, in order, none lost
        page = await api.get_markets(event_ticker=event, limit=2)
        assert len(page.markets) == 2 and page.cursor
        market = await api.get_market(tickers[0])
        assert (market.yes_bid, market.yes_ask, market.yes_bid_size) == (4100, 4300, 1250)
        raw = await api.get_orderbook_levels(tickers[0])
        assert raw.no == [(5700, 300)]  # the wire's own NO-price view
        book = await api.get_orderbook(tickers[0])
        assert (book.bids, book.asks) == (((4100, 1250),), ((4300, 300),))
        both = await api.get_orderbooks(tickers[:2])
        assert both[tickers[0]] == book and both[tickers[1]].bids == () and both[tickers[1]].asks == ()
        got = await api.get_event(event, with_nested_markets=True)
        assert got.event.event_ticker == event and [m.ticker for m in got.event.markets or []] == tickers
        assert (await api.get_series(got.event.series_ticker)).ticker == got.event.series_ticker


async def test_trades_fills_positions_candles_after_a_cross(sim) -> None:
    _, (ticker,) = _event(sim, 1, price_level_structure="deci_cent")
    maker, taker = sim.new_account(), sim.new_account()
    place(maker, ticker, "ask", "0.437", "2")
    async with rest_for(sim, taker) as api:
        result = await api.create_order(OrderSpec(ticker=ticker, side=Side.BID, price=4370, count=150,
                                                  time_in_force="immediate_or_cancel"))
        assert (result.fill_count, result.remaining_count) == (150, 0)
        assert result.average_fill_price == 437_000  # $0.437 per contract, exact
        trades = [t async for t in api.iter_trades(ticker=ticker)]
        assert [(t.yes_price, t.count, t.taker) for t in trades] == [(4370, 150, Side.BID)]
        (fill,) = [f async for f in api.iter_fills(ticker=ticker)]
        assert (fill.side, fill.yes_price, fill.count, fill.is_taker) == (Side.BID, 4370, 150, True)
        assert fill.fee_cost > 0
        (position,) = [p async for p in api.iter_positions() if p.ticker == ticker]
        assert position.position == 150
        series = ticker.split("-")[0]
        now = httpx.get(f"{sim.admin_url}/clock", timeout=10).json()["now_ts"]  # other tests move the sim clock
        candles = await api.get_candlesticks(series, ticker, start_ts=now - 120, end_ts=now + 60, period_interval=1)
        assert any(c.price.close == 4370 and c.volume == 150 for c in candles)
        balance = await api.get_balance()
        assert balance.balance < 1_000 * 1_000_000  # paid for the contracts


async def test_order_lifecycle_and_typed_errors_carry_kalshis_codes(sim) -> None:
    _, (ticker,) = _event(sim, 1)
    account = sim.new_account()
    async with rest_for(sim, account) as api:
        created = await api.create_order(OrderSpec(ticker=ticker, side=Side.ASK, price=6000, count=500))
        order = await api.get_order(created.order_id)
        assert (order.side, order.yes_price, order.remaining_count, order.status) == (Side.ASK, 6000, 500, "resting")
        assert await api.get_queue_position(created.order_id) == 0
        amended = await api.amend_order(created.order_id, ticker=ticker, side=Side.ASK, price=6100, count=800)
        assert amended.remaining_count == 800
        assert (await api.decrease_order(created.order_id, reduce_to=300)).remaining_count == 300
        assert (await api.decrease_order(created.order_id, reduce_by=100)).remaining_count == 200
        assert (await api.cancel_order(created.order_id)).reduced_by == 200
        with pytest.raises(OrderRejected) as rejected:
            await api.cancel_order(created.order_id)
        assert (rejected.value.status, rejected.value.code) == (400, "order_not_resting")
        with pytest.raises(OrderRejected) as off_grid:
            await api.create_order(OrderSpec(ticker=ticker, side=Side.BID, price=4150, count=100))
        assert off_grid.value.code == "invalid_order" and "grid" in off_grid.value.details
        with pytest.raises(NotFound) as missing:
            await api.get_order("no-such-order")
        assert missing.value.code == "order_not_found"
        with pytest.raises(NotFound):
            await api.get_market("KXNOSUCH-MARKET")
        statuses = {o.status async for o in api.iter_orders(ticker=ticker)}
        assert statuses == {"canceled"}


async def test_batch_create_reports_each_item_and_batch_cancel(sim) -> None:
    _, (ticker,) = _event(sim, 1)
    async with rest_for(sim, sim.new_account()) as api:
        specs = [OrderSpec(ticker=ticker, side=Side.BID, price=1000 + 100 * i, count=100) for i in range(3)]
        specs.append(OrderSpec(ticker=ticker, side=Side.BID, price=1055, count=100))  # off the 1 c grid
        items = await api.batch_create(specs)
        assert [i.client_order_id for i in items] == [s.client_order_id for s in specs]
        assert [i.error is None for i in items] == [True, True, True, False]
        assert items[3].error is not None and items[3].error.code == "invalid_order"
        cancelled = await api.batch_cancel([i.order_id for i in items[:3] if i.order_id])
        assert [c.reduced_by for c in cancelled] == [100, 100, 100]
        await api.create_order(OrderSpec(ticker=ticker, side=Side.BID, price=500, count=100))
        await api.cancel_all()
        assert [o.status async for o in api.iter_orders(ticker=ticker, status="resting")] == []


async def test_order_groups(sim) -> None:
    async with rest_for(sim, sim.new_account()) as api:
        group = await api.create_order_group(contracts_limit=2500)
        assert any(g.id == group.order_group_id and g.contracts_limit == 2500 for g in await api.list_order_groups())
        await api.set_order_group_limit(group.order_group_id, 5000)
        assert (await api.get_order_group(group.order_group_id)).contracts_limit == 5000
        await api.trigger_order_group(group.order_group_id)
        await api.reset_order_group(group.order_group_id)
        await api.delete_order_group(group.order_group_id)
        with pytest.raises(NotFound):
            await api.get_order_group(group.order_group_id)


async def test_a_wrong_key_is_an_auth_error_naming_the_cause(sim) -> None:
    account = sim.new_account()
    stranger = Signer(account.api_key_id, sim.accounts["acct2"]["private_key_path"])  # someone else's key file
    async with KalshiRest(sim.base_url, stranger) as api:
        with pytest.raises(AuthError) as err:
            await api.get_balance()
    assert err.value.status == 401 and err.value.code == "invalid_signature"
    assert "key file does not match the key id" in str(err.value)


async def test_rate_limits_are_sized_from_the_accounts_own_limits(sim) -> None:
    async with rest_for(sim, sim.new_account()) as api:
        limits = await api.configure_rate_limits()
        budget = api.http.budget
    assert limits.usage_tier == "basic" and budget.tier == "basic"
    write = budget.buckets["write"]
    assert (write.rate, write.capacity) == pytest.approx((90.0, 90.0))  # 100/s holding 1 s, less 10%
    assert budget.costs.cost("DELETE", "/portfolio/events/orders/abc") == 2
    assert budget.costs.cost("DELETE", "/portfolio/events/orders/batched", items=7) == 14
    assert budget.costs.cost("POST", "/portfolio/events/orders/batched", items=7) == 70
    assert budget.costs.cost("GET", "/markets") == 10


async def _burst(sim, budget: RateBudget) -> tuple[str, list[OrderSpec], object, object]:
    _, (ticker,) = _event(sim, 1)
    account = sim.new_account()  # basic tier: Write 100 tokens/s holding 100 = 10 creates, then 10/s
    specs = [OrderSpec(ticker=ticker, side=Side.BID, price=100 + 100 * (i % 50), count=100) for i in range(50)]
    async with rest_for(sim, account, budget=budget) as api:
        results = await asyncio.gather(*(api.create_order(s) for s in specs))
        stats = api.stats
    assert [r.client_order_id for r in results] == [s.client_order_id for s in specs]
    return ticker, specs, account, stats


async def test_a_burst_of_50_creates_on_a_basic_account_is_paced_and_each_placed_exactly_once(sim) -> None:
    started = time.monotonic()
    ticker, specs, account, stats = await _burst(sim, RateBudget())
    held = orders_by_client_id(account, ticker)
    assert held == {s.client_order_id: 1 for s in specs}
    # the client's own bucket did the pacing: about 4 s for 500 tokens at 90/s after a 90-token burst
    assert stats.throttled_s > 2.0 and time.monotonic() - started < 15
    assert stats.rate_limited <= 3


async def test_429s_are_absorbed_without_losing_or_repeating_a_create(sim) -> None:
    ticker, specs, account, stats = await _burst(sim, UNLIMITED)  # no client pacing: the exchange says 429
    assert stats.rate_limited >= 20  # 40 of 50 cannot fit at first; each waits its turn with backoff
    held = orders_by_client_id(account, ticker)
    assert held == {s.client_order_id: 1 for s in specs}
    assert stats.unclear_writes == 0 and stats.resent_writes == 0


async def test_an_unreadable_answer_is_counted_and_raised_not_defaulted() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"balance": 100, "balance_dollars": "1.00.00"})

    async with KalshiRest("http://venue.invalid/trade-api/v2", transport=httpx.MockTransport(handler)) as api:
        with pytest.raises(DecodeError) as err:
            await api.get_balance()
        assert api.stats.decode_errors == 1
    assert "balance_dollars" in str(err.value) and err.value.what == "GET /portfolio/balance"
