"""The arb strategy (kind "arb"): an IOC on the Kalshi leg of a verified pair sized to the executable size and
its caps, with the Polymarket leg spelled out in the reason; unverified pairs and doubtful books never
traded; and, through the kernel, the operator told exactly what to buy on Polymarket when the leg fills."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st
from kernel_harness import FEES, GRID, Harness

from console.domain.book import Book
from console.domain.fees import polymarket_taker_fee
from console.domain.pairs import Orientation, Pair
from console.domain.side import Side
from console.domain.units import PRICE_MAX
from console.engine.arbs import TAG, ArbRegistry, TokenInfo, TokensLoaded, attach_arbs
from console.engine.control import Alert, Filled
from console.engine.messages import MarketMeta, WorkDone
from console.engine.strategies import build_strategies
from console.engine.strategies.arb import ArbTaker, break_even
from console.engine.strategies.base import MarketView, OwnOrder
from console.venues.events import BookSnapshot

TOKEN, OTHER = "1111", "2222"
RATE = Fraction(4, 100)
META = MarketMeta("KXA", "KXEV", "market KXA", "test", "active", GRID, FEES, False, 2_000_000_000)


def book(bids, asks, ticker="KXA", venue="kalshi") -> Book:
    b = Book(GRID, ticker, venue)
    b.apply_snapshot(tuple(sorted(bids)), tuple(sorted(asks)), 0, 1)
    return b


class Context:
    """The part of DeskContext the arb strategy reads: the Polymarket book and its health."""

    def __init__(self, poly: Book | None, healthy: bool = True) -> None:
        self.poly, self._healthy = poly, healthy

    def book(self, ticker: str, venue: str = "kalshi"):
        return self.poly if venue == "polymarket" and ticker == TOKEN else None

    def healthy(self, ticker: str, venue: str = "kalshi") -> bool:
        return self._healthy


def registry(verified: bool = True, orientation: Orientation = Orientation.SAME,
             rate: Fraction | None = RATE) -> ArbRegistry:
    reg = ArbRegistry((Pair("KXA", TOKEN, "0xc", orientation, verified, "notes"),), 100, "test")
    reg.tokens[TOKEN] = TokenInfo(TOKEN, "0xc", "Will it?", "Yes", OTHER, "No", rate, None, 100)
    return reg


def taker(reg: ArbRegistry, **kw) -> ArbTaker:
    s = ArbTaker("arb", None, **kw)
    s.bind_arbs(reg)
    return s


# Kalshi YES at 0.40 (800) then 0.60 (too dear to pair); the token's bids 0.60 (500), 0.58 (1000): the other outcome at 0.40 / 0.42
KALSHI = book([(3800, 800)], [(4000, 800), (6000, 800)])
POLY = book([(6000, 500), (5800, 1000)], [(6200, 500)], TOKEN, "polymarket")


def view(strategy_book=KALSHI, poly=POLY, *, position=0, own=(), now_ms=1_000, healthy=True, poly_healthy=True):
    return MarketView("KXA", strategy_book, healthy, position, own, now_ms, META, None, Context(poly, poly_healthy))


def test_a_verified_arb_is_one_kalshi_ioc_with_the_polymarket_leg_in_the_reason() -> None:
    s = taker(registry(), count=10_000, max_position=10_000)
    [intent] = s.evaluate(view())
    assert (intent.ticker, intent.side, intent.price, intent.count) == ("KXA", Side.BID, 4000, 800)
    assert intent.time_in_force == "immediate_or_cancel" and intent.strategy == "arb"
    # 800 pairs: Kalshi 800 at 0.40, Polymarket 500 at 0.40 + 300 at 0.42
    kalshi_fee = FEES.trade_fee(4000, 800, maker=False)
    poly_fee = polymarket_taker_fee(4000, 500, RATE) + polymarket_taker_fee(4200, 300, RATE)
    profit = 800 * PRICE_MAX - 4000 * 800 - 4000 * 500 - 4200 * 300 - kalshi_fee - poly_fee
    assert round(intent.edge_after_fees * PRICE_MAX * 800) == profit
    # break-even: 0.40 + Kalshi's fee 0.0168 leaves 0.5832 for the other leg, its fee included: 0.573
    assert "then BUY 8 'No' (token 2222) on Polymarket at <= 0.42 (break-even 0.573) [Will it?]" in intent.reason
    assert "leg risk: you hold 8 YES KXA unhedged" in intent.reason


def test_clip_and_position_caps_and_own_orders_limit_the_size() -> None:
    s = taker(registry(), count=300, max_position=10_000)
    [intent] = s.evaluate(view())
    assert intent.count == 300
    s = taker(registry(), count=10_000, max_position=1_000)
    own = (OwnOrder("c1", Side.BID, 4000, 200, "resting"),)
    [intent] = s.evaluate(view(position=300, own=own))
    assert intent.count == 500  # 1000 - 300 held - 200 on its way
    assert taker(registry(), max_position=1_000).evaluate(view(position=1_000)) == ()  # full


def test_the_no_direction_buys_no_on_kalshi_at_the_yes_bid() -> None:
    # Kalshi YES bid 0.62 (NO costs 0.38); the token's ask 0.50 pays on Kalshi YES (same orientation)
    kalshi = book([(6200, 400)], [(6600, 400)])
    poly = book([(4600, 400)], [(5000, 400)], TOKEN, "polymarket")
    [intent] = taker(registry()).evaluate(view(kalshi, poly))
    assert (intent.side, intent.price, intent.count) == (Side.ASK, 6200, 400)
    assert "BUY 4 'Yes' (token 1111) on Polymarket at <= 0.50" in intent.reason
    assert "you hold 4 NO KXA unhedged" in intent.reason


def test_inverted_pair_hedges_yes_with_the_token_itself() -> None:
    kalshi = book([(3800, 400)], [(4000, 400)])
    poly = book([(4500, 400)], [(5000, 400)], TOKEN, "polymarket")  # token (pays on Kalshi NO) asks 0.50
    [intent] = taker(registry(orientation=Orientation.INVERTED)).evaluate(view(kalshi, poly))
    assert (intent.side, intent.price) == (Side.BID, 4000)
    assert "BUY 4 'Yes' (token 1111) on Polymarket at <= 0.50" in intent.reason


def test_unverified_pairs_and_doubtful_books_are_never_traded() -> None:
    assert taker(registry(verified=False)).evaluate(view()) == ()  # shown in the table, never traded
    assert taker(registry()).evaluate(view(poly_healthy=False)) == ()
    assert taker(registry()).evaluate(view(healthy=False)) == ()
    assert taker(registry(rate=None)).evaluate(view()) == ()  # fee rate unknown
    assert taker(registry()).evaluate(view(poly=None)) == ()
    assert ArbTaker("arb", None).evaluate(view()) == ()  # no registry bound
    closed = registry()
    closed.tokens[TOKEN] = TokenInfo(TOKEN, "0xc", "Will it?", "Yes", OTHER, "No", RATE, None, 100, closed=True)
    assert taker(closed).evaluate(view()) == ()


def test_threshold_and_pacing() -> None:
    assert taker(registry(), min_net_edge=5_000).evaluate(view()) == ()  # 50c per contract: not there
    s = taker(registry(), min_interval_ms=1_000)
    assert s.evaluate(view(now_ms=1_000)) and not s.evaluate(view(now_ms=1_500))
    assert s.evaluate(view(now_ms=2_000))


def test_break_even_keeps_the_pair_whole() -> None:
    be = break_even(4000, FEES.trade_fee(4000, 800, maker=False), 800, RATE)
    assert be is not None
    cost = lambda q: 4000 * 800 + FEES.trade_fee(4000, 800, maker=False) + q * 800 + polymarket_taker_fee(q, 800, RATE)
    assert cost(be) <= 800 * PRICE_MAX < cost(be + 10)


def test_built_from_config_with_its_kind() -> None:
    [s] = build_strategies({"pm": {"kind": "arb", "min_net_edge": 200, "count": 500, "tickers": ["KXA"]}})
    assert isinstance(s, ArbTaker) and s.min_net_edge == 200 and s.count == 500 and s.tickers == {"KXA"}


def test_through_the_kernel_the_fill_tells_the_operator_what_to_buy_on_polymarket() -> None:
    strategy = ArbTaker("arb", None, count=800, max_position=800)
    h = Harness([strategy], auto=True)
    reg = ArbRegistry((Pair("KXA", TOKEN, "0xc", Orientation.SAME, True, "notes"),), 100, "test")
    attach_arbs(h.kernel, reg, refresh_ms=0, workers=False)
    h.ready(["KXA"])
    h.step(WorkDone(TAG, TokensLoaded((TokenInfo(TOKEN, "0xc", "Will it?", "Yes", OTHER, "No", RATE, None, 100),)),
                    ""))
    h.step(BookSnapshot("polymarket", TOKEN, ((5800, 1000), (6000, 500)), ((6200, 500),)))
    h.book("KXA", bids=[(3800, 800)], asks=[(4000, 800), (6000, 800)])
    h.run_for(300)
    [spec] = h.sent()
    assert (spec.side, spec.price, spec.count, spec.time_in_force) == (Side.BID, 4000, 800, "immediate_or_cancel")
    fills = h.of(Filled)
    assert sum(f.count for f in fills) == 800 and all(f.origin == "arb" for f in fills)
    [told] = [a for a in h.of(Alert) if a.kind == "arb" and "Kalshi leg filled" in a.message]
    assert "bought 8 YES KXA at 0.40" in told.message
    # the harness venue charges no fee: the break-even from the actual fill is 0.59
    assert "Now BUY 8 'No' (token 2222) on Polymarket at <= 0.42 (break-even 0.59) [Will it?]" in told.message
    assert "unhedged (leg risk)" in told.message
    assert h.sent() == [spec]  # at max_position: nothing more


def test_through_the_kernel_an_unverified_pair_is_shown_and_never_traded() -> None:
    h = Harness([ArbTaker("arb", None)], auto=True)
    reg = ArbRegistry((Pair("KXA", TOKEN, "0xc", Orientation.SAME, False, "notes"),), 100, "test")
    attach_arbs(h.kernel, reg, refresh_ms=0, workers=False)
    h.ready(["KXA"])
    h.step(WorkDone(TAG, TokensLoaded((TokenInfo(TOKEN, "0xc", "Will it?", "Yes", OTHER, "No", RATE, None, 100),)),
                    ""))
    h.step(BookSnapshot("polymarket", TOKEN, ((5800, 1000), (6000, 500)), ((6200, 500),)))
    h.book("KXA", bids=[(3800, 800)], asks=[(4000, 800), (6000, 800)])
    h.run_for(600)
    assert h.sent() == []
    [row] = [r for r in h.control.snapshot().arbs if r.direction == "kalshi_yes"]
    assert row.executable_count == 800 and not row.verified and "never auto-traded" in row.notes


_levels = st.lists(st.tuples(st.integers(1, 99).map(lambda c: c * 100), st.integers(1, 20).map(lambda n: n * 100)),
                   max_size=4, unique_by=lambda lv: lv[0])


@settings(max_examples=200, deadline=None)
@given(_levels, _levels, _levels, _levels, st.sampled_from(list(Orientation)), st.integers(0, 500))
def test_the_quick_cross_check_never_hides_a_tradeable_arb(k_bids, k_asks, t_bids, t_asks, orientation,
                                                           threshold) -> None:
    from console.domain.arb import Depth, evaluate_pair
    from console.engine.strategies.arb import _books_cross

    kalshi, token = Depth.of(k_bids, k_asks), Depth.of(t_bids, t_asks)
    pair = Pair("KXA", TOKEN, "0xc", orientation, True)
    found = [o for o in evaluate_pair(pair, kalshi, token, FEES, RATE, now_ms=0, resolution_ms=86_400_000)
             if o.auto_tradeable and o.profit >= threshold * o.count]
    k_book, t_book = book(k_bids, k_asks), book(t_bids, t_asks, TOKEN, "polymarket")
    if found and not (max(p for p, _ in k_bids or [(0, 0)]) >= min(p for p, _ in k_asks or [(PRICE_MAX, 0)])):
        assert _books_cross(k_book, t_book, pair, threshold)


def test_a_deeply_crossed_pair_close_to_resolution_does_not_crash_the_strategy() -> None:
    # NO on Kalshi at 0.06 plus the other side at 0.07 pays $1 a day later: 7x in a day does not fit a float
    # when compounded over a year (it used to raise OverflowError, which would halt the desk)
    kalshi = book([(9400, 100)], [(9600, 100)])
    poly = book([(500, 100)], [(700, 100)], TOKEN, "polymarket")
    meta = MarketMeta("KXA", "KXEV", "market KXA", "test", "active", GRID, FEES, False, 1_767_225_600 + 86_400)
    s = taker(registry(), count=100)
    v = MarketView("KXA", kalshi, True, 0, (), 1_767_225_600_000, meta, None, Context(poly))
    [intent] = s.evaluate(v)
    assert (intent.side, intent.price, intent.count) == (Side.ASK, 9400, 100)
    assert "inf%/yr" in intent.reason
