"""Laggards driven directly: a control move, race books that have or have not followed, the exposure bound."""

from __future__ import annotations

import math
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
from console.domain.sizing import ElectionMarket as ExposureMarket
from console.domain.sizing import Holding, election_scenarios, max_count_within_bound
from console.engine.fair import ElectionMarket, ElectionState, FairValue, FairValues
from console.engine.messages import MarketMeta
from console.engine.strategies.base import MarketView, OwnOrder
from console.engine.strategies.laggards import Laggards
from console.models.montecarlo import Chamber, ElectionModel
from console.models.normal import norm_cdf, norm_ppf

GRID = PriceGrid.for_structure("linear_cent")
FEES = KalshiFees(FeeType.QUADRATIC, Fraction(1))
T0 = 1_800_000_000_000
RACES = ("A", "B", "C", "D", "E")
MODEL = ElectionModel.from_probabilities(dict.fromkeys(RACES, 0.5), 0.6, {"senate": Chamber(RACES, 0, 3)})
MARKETS = {"CTRL": ElectionMarket("senate", True, True), "RA": ElectionMarket("A", False, True),
           "RB": ElectionMarket("B", False, False), "RC": ElectionMarket("C", False, True)}
ELECTION = ElectionState(MODEL, MARKETS)
A_GIVEN_65 = MODEL.conditional_race_probabilities("senate", 0.65)["A"]  # ~0.628: A is worth that if control is 65c


@dataclass
class FakeContext:
    """The desk as a strategy sees it: other books, positions, the election model, calibration, losses."""

    books: dict = field(default_factory=dict)
    positions: dict = field(default_factory=dict)
    election: ElectionState | None = None
    bankroll: int = 1_000_000_000
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
        return 1.0

    def last_loss_ms(self):
        return self.loss_ms


def book(ticker, bids, asks):
    b = Book(GRID, ticker)
    b.apply_snapshot(bids, asks)
    return b


def around(mid):
    return book("X", [(mid - 100, 1000)], [(mid + 100, 1000)])


def context(control_mid=5000, **kw):
    ctx = FakeContext(election=ELECTION, **kw)
    ctx.books.setdefault("CTRL", around(control_mid))
    return ctx


def race_view(ctx, ticker="RA", bids=((4900, 600),), asks=((5100, 600), (5500, 800), (6200, 5000)), *,
              now_ms=T0, position=0, own=(), healthy=True):
    meta = MarketMeta(ticker, "KXEV", f"race {ticker}", "elections", "active", GRID, FEES, False, 2_000_000_000)
    fair = FairValue(ticker, 0.5, "polls", "elections", now_ms)
    return MarketView(ticker, book(ticker, bids, asks), healthy, position, tuple(own), now_ms, meta, fair, ctx)


def lag(**kw):
    return Laggards(name="lag", tickers=None, **{"min_control_move": 300, "min_edge": 200, **kw})


def moved(strategy, ctx, to_mid=6500, **kw):
    """Control at 50c, then at `to_mid` ten seconds later while the race book stays where it was."""
    strategy.evaluate(race_view(ctx, now_ms=T0, **{k: v for k, v in kw.items() if k != "after"}))
    ctx.books["CTRL"] = around(to_mid)
    return strategy.evaluate(race_view(ctx, now_ms=T0 + 10_000, **kw))


def test_buys_the_race_that_has_not_followed_a_control_move():
    intents = moved(lag(), context())
    assert len(intents) == 1
    i = intents[0]
    assert (i.ticker, i.side, i.time_in_force, i.quote) == ("RA", Side.BID, "immediate_or_cancel", False)
    assert i.price == 5500  # takes 51c and 55c; 62c is past the edge after the taker fee
    assert i.count == 1000  # the order cap (1,400 is visible up to 55c)
    assert i.model_probability == pytest.approx(A_GIVEN_65)
    assert i.edge_after_fees == pytest.approx(A_GIVEN_65 - 0.55 - 0.0174, abs=2e-4)
    assert "CTRL moved +15.00c to 65.00c" in i.reason and "A should be worth 62.77c" in i.reason


def test_a_race_whose_yes_is_the_other_party_is_sold_through_the_no_side():
    ctx = context()
    intents = moved(lag(), ctx, ticker="RB", bids=((4900, 600), (4500, 800)), asks=((5100, 600),))
    assert len(intents) == 1 and intents[0].side is Side.ASK  # buys NO: B's YES pays if D loses B
    assert intents[0].price == 4500 and intents[0].count == 1000
    assert intents[0].model_probability == pytest.approx(1 - A_GIVEN_65)
    assert "buy NO" in intents[0].reason


def test_no_trade_when_the_race_already_caught_up():
    ctx = context()
    s = lag()
    s.evaluate(race_view(ctx, now_ms=T0))
    ctx.books["CTRL"] = around(6500)
    caught_up = s.evaluate(race_view(ctx, bids=((6200, 600),), asks=((6300, 600),), now_ms=T0 + 10_000))
    assert caught_up == ()


def test_the_race_own_level_is_carried_by_the_margin_shift_not_replaced_by_the_model():
    # the race traded at 30c while the model said 50c; control moves 50c -> 65c
    cheap = {"bids": ((2900, 600),), "asks": ((3100, 600), (3500, 800))}
    intents = moved(lag(), context(), **cheap)
    carried = norm_cdf(norm_ppf(0.30) + norm_ppf(A_GIVEN_65) - norm_ppf(0.5))  # ~0.42, not 0.30 + 0.13
    assert len(intents) == 1 and intents[0].side is Side.BID
    assert intents[0].model_probability == pytest.approx(carried)
    assert intents[0].price == 3500 and f"should be worth {carried * 100:.2f}c" in intents[0].reason
    # at 70c the model already thought it dear: the move does not make it a buy
    dear = {"bids": ((6900, 600),), "asks": ((7100, 600),)}
    assert moved(lag(), context(), **dear) == ()


def test_no_trade_on_a_small_move_first_sight_or_a_red_control_book():
    assert moved(lag(), context(), to_mid=5200) == ()  # 2c < the 3c minimum move
    s = lag()
    assert s.evaluate(race_view(context(control_mid=6500))) == ()  # no history: not a move
    ctx = context()
    ctx.red.add("CTRL")
    assert moved(lag(), ctx) == ()


def test_an_old_move_is_a_disagreement_not_a_lag():
    ctx = context()
    s = lag(move_window_ms=120_000)
    assert moved(s, ctx) != ()
    later = s.evaluate(race_view(ctx, now_ms=T0 + 140_000))  # same books, the move is now 130 s old
    assert later == ()


def test_the_correlated_bound_caps_the_size_with_other_races_held():
    ctx = context(positions={"RC": 2000})  # already long D in race C: same national risk
    ctx.books["RC"] = around(5000)
    ctx.bankroll = 300_000_000  # $300: 5% of it ($15) is what the whole election book may lose
    bound = 15_000_000
    intents = moved(lag(election_loss_share=0.05), ctx)
    assert len(intents) == 1
    i = intents[0]
    scen = election_scenarios(MODEL, {t: ExposureMarket(race=None if m.chamber else m.name,
                                                        chamber=m.name if m.chamber else None,
                                                        yes_if_win=m.yes_is_dem) for t, m in MARKETS.items()})
    unit_cost = 5500 + FEES.trade_fee(5500, 1000, maker=False) / 1000
    held = {"RC": Holding(2000, 2000 * 5000)}  # valued at its mid
    expected = max_count_within_bound(scen, held, "RA", Side.BID, unit_cost, bound) // 100 * 100
    assert 0 < i.count == expected < 1000
    assert "size limited by correlated bound" in i.reason
    alone = moved(lag(election_loss_share=0.05), context(bankroll=300_000_000))[0]
    assert alone.count > i.count  # the race C position used up part of the bound


def test_own_position_and_open_orders_count_against_max_position():
    own = (OwnOrder("c1", Side.BID, 5100, 300, "pending"),)
    intents = moved(lag(max_position=1500), context(), position=900, own=own)
    assert intents[0].count == 300  # 1500 - 900 held - 300 on the way


def test_the_guard_keeps_it_out_after_a_large_loss():
    assert moved(lag(), context(loss_ms=T0)) == ()


def test_same_views_give_the_same_intents():
    def run():
        ctx = context()
        s = lag()
        out = []
        for k, mid in enumerate((5000, 5400, 6500, 6600, 6000)):
            ctx.books["CTRL"] = around(mid)
            out.append(tuple(s.evaluate(race_view(ctx, now_ms=T0 + 5000 * k))))
        return out
    first = run()
    assert first == run() and any(first)
    assert math.isfinite(first[2][0].edge_after_fees)


def test_one_order_per_market_and_side_per_interval():
    ctx = context()
    s = lag(min_interval_ms=1000)
    assert moved(s, ctx) != ()
    assert s.evaluate(race_view(ctx, now_ms=T0 + 10_250)) == ()  # still lagging, but 250 ms after the last order
    assert s.evaluate(race_view(ctx, now_ms=T0 + 11_000)) != ()


def test_held_positions_count_at_their_cost_basis_when_the_desk_knows_it():
    @dataclass
    class DeskLike(FakeContext):
        costs: dict = field(default_factory=dict)

        def cost_basis(self, ticker):
            return self.costs.get(ticker, 0)

    def desk(paid_pips):  # long 20 race C contracts (D wins C), paid `paid_pips` each; $15 election bound
        ctx = DeskLike(election=ELECTION, positions={"RC": 2000}, costs={"RC": 2000 * paid_pips},
                       bankroll=300_000_000)
        ctx.books["CTRL"] = around(5000)
        return ctx

    cheap, middling = moved(lag(), desk(1000))[0], moved(lag(), desk(5000))[0]
    assert cheap.count == 1000 and "limited by count" in cheap.reason  # $2 at risk in C leaves room
    assert middling.count == 800 and "limited by correlated bound" in middling.reason
    assert moved(lag(), desk(9000)) == ()  # $18 paid for C: the worst scenario already loses more than $15


# --- inside a kernel (tests/engine/kernel_harness.py) ----------------------------------------------


def test_laggards_take_the_race_that_did_not_follow_the_control_market():
    election = ElectionState(MODEL, {"CTRL": MARKETS["CTRL"], "RA": MARKETS["RA"]})
    h = Harness([Laggards("lag", frozenset({"RA"}))], auto=True)
    h.desk.cash = 1_000_000_000  # $1,000 bankroll: 5% = $50 of election risk
    h.ready(["CTRL", "RA"])
    h.book("CTRL", bids=[(4900, 1000)], asks=[(5100, 1000)])
    h.book("RA", bids=[(4900, 600)], asks=[(5100, 600), (5500, 800), (6200, 5000)])
    now = h.clock.now_ms()
    h.step(FairValues((FairValue("RA", 0.5, "polls", "elections", now),), now, election))
    h.run_for(1000)
    assert h.sent() == []  # nothing has moved yet
    h.book("CTRL", bids=[(6400, 1000)], asks=[(6600, 1000)])
    h.run_for(1000)
    sent = h.sent()
    assert [(s.ticker, s.side, s.price, s.count, s.time_in_force) for s in sent] == [
        ("RA", Side.BID, 5500, 1000, "immediate_or_cancel"),  # 600 at 51c and 400 at 55c; 62c is too dear
    ]  # (one order a second at most: the next would wait for min_interval_ms)
    assert h.desk.position("RA") == 1000


def test_built_from_a_config_table():
    from console.engine.strategies import build_strategies

    [built] = build_strategies({"lag": {"kind": "laggards", "tickers": ["RA"], "min_control_move": 500,
                                        "election_loss_share": 0.1}})
    assert isinstance(built, Laggards) and (built.min_control_move, built.election_loss_share) == (500, 0.1)
    assert moved(built, context()) != () and moved(lag(min_control_move=1600), context()) == ()


@settings(max_examples=100, deadline=None)
@given(control_from=st.integers(5, 95), control_to=st.integers(5, 95), race_bid=st.integers(2, 96),
       width=st.integers(1, 6), depth=st.integers(100, 3000), position=st.integers(-6000, 6000),
       yes_is_dem=st.booleans())
def test_any_trade_follows_the_move_clears_the_edge_and_stays_within_max_position(
        control_from, control_to, race_bid, width, depth, position, yes_is_dem):
    ticker = "RA" if yes_is_dem else "RB"
    ctx = context(control_mid=control_from * 100)
    s = lag()
    asks = ((min(race_bid + width, 98) * 100, depth), (99 * 100, depth))
    bids = ((race_bid * 100, depth), (100, depth))
    s.evaluate(race_view(ctx, ticker, bids=bids, asks=asks, now_ms=T0, position=position))
    ctx.books["CTRL"] = around(control_to * 100)
    out = s.evaluate(race_view(ctx, ticker, bids=bids, asks=asks, now_ms=T0 + 10_000, position=position))
    if abs(control_to - control_from) < 3:
        assert out == ()
    for i in out:
        d_wins = i.side is Side.BID if yes_is_dem else i.side is Side.ASK
        assert d_wins == (control_to > control_from)  # only in the direction the control move implies
        assert i.edge_after_fees >= 0.02 - 1e-12 and i.count % 100 == 0 and 0 < i.count <= 1000
        signed = position + (i.count if i.side is Side.BID else -i.count)
        assert abs(signed) <= 5000 or abs(signed) < abs(position)  # past max_position only ever back toward it
