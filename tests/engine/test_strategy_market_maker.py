"""MarketMaker driven directly with hand-built views: where it quotes, how it leans, when it pulls."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kernel_harness import Harness

from console.domain.book import Book
from console.domain.fees import FeeType, KalshiFees
from console.domain.grid import PriceGrid
from console.domain.side import Side
from console.engine import messages as m
from console.engine.fair import ElectionState, FairValue, FairValues
from console.engine.messages import MarketMeta
from console.engine.strategies.base import MarketView, OwnOrder, StrategyConfigError
from console.engine.strategies.market_maker import MarketMaker

CENT = PriceGrid.for_structure("linear_cent")
DECI = PriceGrid.for_structure("deci_cent")
NO_MAKER_FEE = KalshiFees(FeeType.QUADRATIC, Fraction(1))
T0 = 1_800_000_000_000  # kernel ms


@dataclass
class FakeContext:
    books: dict = field(default_factory=dict)
    positions: dict = field(default_factory=dict)
    election: ElectionState | None = None
    bankroll: int = 1_000_000_000
    shrinks: dict = field(default_factory=dict)
    loss_ms: int | None = None
    red: set = field(default_factory=set)

    def book(self, ticker, venue="kalshi"):
        return self.books.get(ticker)

    def healthy(self, ticker, venue="kalshi"):
        return ticker not in self.red

    def fair(self, ticker):
        return None

    def meta(self, ticker):
        return None

    def position(self, ticker):
        return self.positions.get(ticker, 0)

    def shrink(self, model, category):
        return self.shrinks.get(model, 1.0)

    def last_loss_ms(self):
        return self.loss_ms


def make_book(bids, asks, grid=CENT):
    book = Book(grid, "KXA")
    book.apply_snapshot(bids, asks)
    return book


def view(prob=0.50, bids=((4800, 2000),), asks=((5200, 2000),), *, position=0, own=(), now_ms=T0, grid=CENT,
         fees=NO_MAKER_FEE, healthy=True, close_ts=2_000_000_000, context=None, fair_as_of=None):
    meta = MarketMeta("KXA", "KXEV", "market KXA", "test", "active", grid, fees, False, close_ts)
    fair = None if prob is None else FairValue("KXA", prob, "ensemble", "test",
                                                now_ms if fair_as_of is None else fair_as_of)
    return MarketView("KXA", make_book(bids, asks, grid), healthy, position, tuple(own), now_ms, meta, fair,
                      context if context is not None else FakeContext())


def mm(**kw):
    params = {"vol_multiplier": 0.0, "thin_touch_count": 0, **kw}
    return MarketMaker(name="mm", tickers=None, **params)


def sides(intents):
    by = {i.side: i for i in intents}
    assert set(by) == {Side.BID, Side.ASK}, "a market maker always speaks for both slots"
    return by[Side.BID], by[Side.ASK]


def test_quotes_both_sides_around_fair_with_the_no_side_priced_on_its_own_scale():
    bid, ask = sides(mm().evaluate(view(prob=0.30, bids=((2500, 2000),), asks=((3500, 2000),))))
    assert (bid.price, bid.count) == (2800, 1000)  # buys YES 2c under fair
    assert (ask.price, ask.count) == (3200, 1000)  # buys NO at 68c: 2c under the NO fair of 70c
    assert ask.edge_after_fees == pytest.approx(0.70 - 0.68)
    assert bid.edge_after_fees == pytest.approx(0.30 - 0.28)
    for i in (bid, ask):
        assert i.quote and i.post_only and i.time_in_force == "good_till_canceled"
        assert i.model_probability == 0.30 and "fair 30.00c" in i.reason
    assert "NO bid" in ask.reason and "YES bid" in bid.reason


def test_long_yes_lowers_both_quotes_and_shrinks_the_bid_short_does_the_opposite():
    flat_bid, flat_ask = sides(mm().evaluate(view()))
    long_bid, long_ask = sides(mm().evaluate(view(position=2500)))  # half of max_position 5000
    assert long_bid.price < flat_bid.price and long_ask.price < flat_ask.price
    assert (long_bid.price, long_ask.price) == (4600, 5100)  # 150 pips of skew, then onto the cent grid
    assert long_bid.count == 500 and long_ask.count == 1000  # adding to the long is halved; selling is not
    short_bid, short_ask = sides(mm().evaluate(view(position=-2500)))
    assert short_bid.price > flat_bid.price and short_ask.price > flat_ask.price
    assert short_ask.count == 500 and short_bid.count == 1000


def test_at_max_position_the_side_that_adds_is_pulled():
    bid, ask = sides(mm().evaluate(view(position=5000)))
    assert bid.count == 0 and ask.count == 1000


def test_spread_widens_with_recent_mid_moves_and_narrows_once_they_leave_the_window():
    s = mm(vol_multiplier=0.5, vol_window_ms=60_000)
    s.evaluate(view(now_ms=T0))
    s.evaluate(view(bids=((5300, 2000),), asks=((5500, 2000),), now_ms=T0 + 1000))  # mid 54c: a 4c range
    bid, ask = sides(s.evaluate(view(now_ms=T0 + 2000)))
    assert (bid.price, ask.price) == (4600, 5400)  # half-spread 2c + 0.5 x 4c
    assert "half-spread 4.00c, mid range 4.00c in 60 s" in bid.reason
    calm_bid, calm_ask = sides(s.evaluate(view(now_ms=T0 + 63_000)))  # the move is out of the window
    assert (calm_bid.price, calm_ask.price) == (4800, 5200)


def test_a_thin_touch_widens_the_quotes():
    s = mm(thin_touch_count=500, thin_widen=100)
    thick_bid, _ = sides(s.evaluate(view()))
    thin_bid, thin_ask = sides(s.evaluate(view(bids=((4700, 200),), asks=((5300, 2000),))))
    assert thick_bid.price == 4800
    assert (thin_bid.price, thin_ask.price) == (4700, 5300) and "thin book" in thin_bid.reason


def test_our_own_resting_orders_are_not_mistaken_for_a_thin_or_moving_book():
    s = mm(thin_touch_count=500, thin_widen=100, vol_multiplier=0.5)
    own = (OwnOrder("c1", Side.BID, 4900, 1000, "resting"), OwnOrder("c2", Side.ASK, 5100, 1000, "resting"))
    first = s.evaluate(view(bids=((4800, 2000),), asks=((5200, 2000),)))
    again = s.evaluate(view(bids=((4900, 1000), (4800, 2000)), asks=((5100, 1000), (5200, 2000)), own=own,
                            now_ms=T0 + 1000))
    assert [i.price for i in sides(first)] == [4800, 5200]
    assert [i.price for i in sides(again)] == [4800, 5200]  # no vol from our own quotes, no thinness


def test_small_fair_moves_keep_the_resting_price_large_ones_move_it():
    s = mm(requote_threshold=100)
    bid, ask = sides(s.evaluate(view(grid=DECI)))
    assert (bid.price, ask.price) == (4800, 5200)
    own = (OwnOrder("c1", Side.BID, 4800, 1000, "resting"), OwnOrder("c2", Side.ASK, 5200, 1000, "resting"))
    book = {"bids": ((4800, 3000),), "asks": ((5200, 3000),)}
    small_bid, small_ask = sides(s.evaluate(view(prob=0.5050, own=own, grid=DECI, now_ms=T0 + 250, **book)))
    assert (small_bid.price, small_ask.price) == (4800, 5200)  # 50 pips: no amend
    big_bid, big_ask = sides(s.evaluate(view(prob=0.5150, own=own, grid=DECI, now_ms=T0 + 500, **book)))
    assert (big_bid.price, big_ask.price) == (4950, 5350)  # 150 pips: both move


def test_never_crosses_the_book():
    bid, ask = sides(mm().evaluate(view(prob=0.60)))  # fair well above the 52c ask
    assert bid.price == 5100 and bid.count == 1000  # one tick under the ask, not a take
    assert ask.price == 6200


@pytest.mark.parametrize(("why", "kwargs", "context", "words"), [
    ("red book", {"healthy": False}, None, "book red"),
    ("no model", {"prob": None}, None, "no model value"),
    ("cooling off", {}, FakeContext(loss_ms=T0 - 60_000), "cooling off"),
    ("poor calibration", {}, FakeContext(shrinks={"ensemble": 0.1}), "calibration poor"),
    ("wide spread", {"bids": ((2000, 500),), "asks": ((8000, 500),)}, None, "spread"),
    ("stale model", {"fair_as_of": T0 - 600_000}, None, "600 s old"),
    ("fair far from the mid", {"prob": 0.70}, None, "70.00c is more than 15.00c from the mid 50.00c"),
])
def test_pulls_both_quotes(why, kwargs, context, words):
    s = mm(max_fair_age_ms=300_000)
    bid, ask = sides(s.evaluate(view(context=context, **kwargs)))
    assert bid.count == 0 and ask.count == 0, why
    assert words in bid.reason and bid.reason.startswith("quotes pulled")


def test_pulls_inside_a_blackout_window_and_before_the_close():
    start_s = T0 // 1000
    s = mm(blackouts=f"{start_s - 60}/{start_s + 60}, 2027-01-15T13:25Z/2027-01-15T13:45Z")
    assert [i.count for i in s.evaluate(view())] == [0, 0]
    assert "blackout" in s.evaluate(view())[0].reason
    assert [i.count for i in s.evaluate(view(now_ms=T0 + 61_000))] == [1000, 1000]
    cpi_ms = 1_800_020_000_000  # 2027-01-15T13:33:20Z, inside the ISO window
    assert [i.count for i in s.evaluate(view(now_ms=cpi_ms))] == [0, 0]
    closing = mm(pull_before_close_s=3600)
    assert [i.count for i in closing.evaluate(view(close_ts=start_s + 1800))] == [0, 0]
    assert [i.count for i in closing.evaluate(view(close_ts=start_s + 7200))] == [1000, 1000]


def test_bad_blackout_is_a_config_error_naming_the_table():
    with pytest.raises(StrategyConfigError, match=r"\[engine.strategies.mm\] blackouts"):
        mm(blackouts="tomorrow morning")


def test_maker_fees_push_quotes_out_and_can_make_a_side_disappear():
    combo = KalshiFees(FeeType.QUADRATIC_WITH_COMBO_MAKER_FEES, Fraction(1))
    free_bid, free_ask = sides(mm(half_spread=0).evaluate(view(grid=DECI)))
    paid_bid, paid_ask = sides(mm(half_spread=0).evaluate(view(grid=DECI, fees=combo)))
    assert (free_bid.price, free_ask.price) == (5000, 5000)  # no maker fee: zero edge is allowed at fair
    assert paid_bid.price < 5000 < paid_ask.price  # 0.875c maker fee: both walk out until it is covered
    assert paid_bid.edge_after_fees >= 0 and paid_ask.edge_after_fees >= 0
    assert paid_bid.price == 4910 and paid_ask.price == 5090
    # a longshot at 1.2c: the 1c bid earns 0.2c, less than a 10x maker fee there
    heavy = KalshiFees(FeeType.QUADRATIC_WITH_COMBO_MAKER_FEES, Fraction(10))
    longshot = {"prob": 0.012, "bids": ((100, 2000),), "asks": ((300, 2000),)}
    cheap_bid, _ = sides(mm(half_spread=0).evaluate(view(**longshot)))
    dear_bid, dear_ask = sides(mm(half_spread=0).evaluate(view(fees=heavy, **longshot)))
    assert cheap_bid.price == 100 and cheap_bid.count == 1000
    assert dear_bid.count == 0 and "maker fee" in dear_bid.reason
    assert dear_ask.count == 1000


def test_only_the_configured_categories_are_quoted():
    weather_only = mm(categories=("weather",))
    bid, ask = sides(weather_only.evaluate(view()))  # the view's fair value is category "test"
    assert bid.count == ask.count == 0 and "category 'test' is not among weather" in bid.reason
    assert [i.count for i in mm(categories=("weather", "test")).evaluate(view())] == [1000, 1000]


def test_calibration_shrink_scales_the_size():
    bid, ask = sides(mm().evaluate(view(context=FakeContext(shrinks={"ensemble": 0.5}))))
    assert bid.count == ask.count == 500


def test_same_views_give_the_same_intents():
    def run():
        s = mm(vol_multiplier=0.5, thin_touch_count=500)
        out = []
        for k, (b, a, pos) in enumerate([(4800, 5200, 0), (5000, 5400, 300), (4700, 5100, -700), (4800, 5000, 0)]):
            out.append(tuple(s.evaluate(view(prob=0.5 + k / 100, bids=((b, 300 * (k + 1)),), asks=((a, 900),),
                                             position=pos, now_ms=T0 + 250 * k))))
        return out
    assert run() == run()


# --- inside a kernel (tests/engine/kernel_harness.py: no threads, a fake venue) ---------------------


def fair(h, prob, ticker="KXA", election=None):
    now = h.clock.now_ms()
    h.step(FairValues((FairValue(ticker, prob, "ensemble", "test", now),), now, election))


def amends(h):
    return [a for a in h.actions if isinstance(a, m.AmendOrderAction)]


def test_quotes_rest_move_only_past_the_threshold_and_are_pulled_on_a_red_book():
    h = Harness([MarketMaker("mm", None, vol_multiplier=0.0, thin_touch_count=0, requote_threshold=100)], auto=True)
    h.ready(["KXA"])
    h.book("KXA", bids=[(4800, 2000)], asks=[(5200, 2000)])
    fair(h, 0.50)
    h.run_for(600)
    quotes = sorted((s.side, s.price, s.count, s.post_only, s.time_in_force) for s in h.sent())
    assert quotes == [(Side.ASK, 5200, 1000, True, "good_till_canceled"), (Side.BID, 4800, 1000, True,
                                                                           "good_till_canceled")]
    fair(h, 0.5049)  # < 1c: the cent grid keeps the prices, and nothing is amended
    h.run_for(600)
    assert amends(h) == [] and len(h.sent()) == 2
    fair(h, 0.53)  # 3c: both quotes move up (the ask to 55c; the bid to 51c, under the 52c ask)
    h.run_for(600)
    moved = sorted((a.side, a.price) for a in amends(h))
    assert moved == [(Side.ASK, 5500), (Side.BID, 5100)]
    assert len(h.sent()) == 2  # amended in place, not new orders
    assert not [a for a in h.actions if isinstance(a, m.CancelOrderAction)]
    h.delta("KXA", Side.BID, 4000, -100)  # a delta that empties a level below zero: the book is refused, red
    assert h.desk.health("KXA")[0] == "red"
    h.run_for(600)
    cancels = [a for a in h.actions if isinstance(a, m.CancelOrderAction)]
    assert sorted(c.client_order_id for c in cancels) == sorted(s.client_order_id for s in h.sent())


def test_built_from_config_tables_with_typed_values():
    from console.engine.strategies import build_strategies

    built = build_strategies({"mm": {"kind": "market_maker", "tickers": ["KXA"], "vol_multiplier": 1,
                                     "blackouts": "1800000000/1800000600", "min_edge": 50},
                              "off": {"kind": "market_maker", "enabled": False}})
    assert len(built) == 1 and isinstance(built[0], MarketMaker)
    assert (built[0].vol_multiplier, built[0].min_edge, built[0].tickers) == (1.0, 50, frozenset({"KXA"}))
    assert [i.count for i in built[0].evaluate(view(now_ms=T0 + 1000))] == [0, 0]  # inside the blackout
    with pytest.raises(StrategyConfigError, match=r"min_edge = 0.01: must be an integer"):
        build_strategies({"mm": {"kind": "market_maker", "min_edge": 0.01}})


def test_a_busy_book_does_not_shorten_the_volatility_window():
    s = mm(vol_multiplier=0.5, vol_window_ms=60_000)
    s.evaluate(view(bids=((5300, 2000),), asks=((5500, 2000),), now_ms=T0))  # mid 54c ...
    for k in range(1, 5_000):  # ... then 5,000 unchanged views in the next 50 s (100 a second)
        s.evaluate(view(now_ms=T0 + 10 * k))
    bid, _ = sides(s.evaluate(view(now_ms=T0 + 50_000)))
    assert "mid range 4.00c in 60 s" in bid.reason and bid.price == 4600


FEE_SCHEDULES = [NO_MAKER_FEE, KalshiFees(FeeType.QUADRATIC_WITH_MAKER_FEES, Fraction(1)),
                 KalshiFees(FeeType.QUADRATIC_WITH_COMBO_MAKER_FEES, Fraction(3))]


@settings(max_examples=300, deadline=None)
@given(prob=st.floats(0.0, 1.0), bid=st.integers(1, 98), width=st.integers(1, 20), sizes=st.tuples(
       st.integers(100, 5000), st.integers(100, 5000)), position=st.integers(-6000, 6000),
       fees=st.sampled_from(FEE_SCHEDULES), half=st.integers(0, 600), min_edge=st.integers(0, 200),
       skew=st.integers(0, 800))
def test_every_quote_rests_on_the_grid_clears_the_maker_fee_never_crosses_and_respects_max_position(
        prob, bid, width, sizes, position, fees, half, min_edge, skew):
    ask = min(bid + width, 99)
    s = mm(half_spread=half, max_half_spread=max(half, 1500), min_edge=min_edge, skew_at_max=skew, max_fair_gap=0)
    v = view(prob=prob, bids=((bid * 100, sizes[0]),), asks=((ask * 100, sizes[1]),), position=position, fees=fees)
    yes_bid, no_bid = sides(s.evaluate(v))
    for q in (yes_bid, no_bid):
        assert q.count >= 0 and q.count % 100 == 0
        if q.count:
            assert CENT.is_valid(q.price)
            assert q.edge_after_fees >= min_edge / 10_000 - 1e-12  # never a quote that loses after the maker fee
    if yes_bid.count:
        assert yes_bid.price < ask * 100 and position + yes_bid.count <= 5000
    if no_bid.count:
        assert no_bid.price > bid * 100 and position - no_bid.count >= -5000
    if yes_bid.count and no_bid.count:
        assert yes_bid.price < no_bid.price
