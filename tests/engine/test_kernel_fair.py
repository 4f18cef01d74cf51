"""Model fair values inside the kernel: `FairValues` reach the strategies and the snapshot's edge rows, the
directional strategy trades (or says why not) through the real kernel with the fake venue, predictions
are journaled (throttled), data errors alerted once a minute, a large loss cools the models off, the
election bound holds across markets, the convergence exit goes out reduce-only, replays agree."""

from __future__ import annotations

import sqlite3

from kernel_harness import FEES, GRID, Harness

from console.domain.side import Side
from console.domain.sizing import ElectionMarket as SizingMarket
from console.domain.sizing import Holding, election_scenarios, worst_joint_pnl
from console.engine import messages as m
from console.engine.clock import ManualClock
from console.engine.control import Alert, IntentProposed, PlaceOrder, SetAuto
from console.engine.fair import ElectionMarket, ElectionState, FairValue, FairValues
from console.engine.journal import Journal
from console.engine.strategies import Directional
from console.models.montecarlo import ElectionModel
from console.venues.kalshi import codec_ws as w


def fair(h: Harness, *values: tuple[str, float], category: str = "elections", election=None, errors=(),
         model: str = "polls") -> None:
    now = h.clock.now_ms()
    h.step(FairValues(tuple(FairValue(t, p, model, category, now) for t, p in values), now, election,
                      "test feed", tuple(errors)))


def directional(**kw) -> Directional:
    return Directional("dir", None, **{"min_interval_ms": 0, **kw})


def snapshot(h: Harness):
    h.kernel.publish_if_due(h.clock.now_ms(), force=True)
    return h.control.snapshot()


class Spy:
    name, tickers = "spy", None

    def __init__(self) -> None:
        self.views = []

    def evaluate(self, view):
        self.views.append(view)
        return ()


def test_fair_values_reach_strategies_and_the_snapshot_edges():
    spy = Spy()
    h = Harness([directional(), spy])
    h.ready(["KXA", "KXB"])
    h.book("KXA", bids=[(5000, 5000)], asks=[(5500, 5000)])
    h.book("KXB", bids=[(5000, 5000)], asks=[(5500, 5000)])
    assert snapshot(h).edges == ()  # no model yet: no rows, no proposals
    assert not h.desk.proposals
    fair(h, ("KXA", 0.70))
    seen = [v for v in spy.views if v.ticker == "KXA"][-1]
    assert seen.fair.prob_yes == 0.70 and seen.meta.ticker == "KXA" and seen.context is h.desk
    assert seen.context.fair("KXA") is seen.fair and seen.context.book("KXA") is seen.book
    (proposal,) = h.of(IntentProposed)  # MANUAL: the operator is asked
    assert (proposal.ticker, proposal.side, proposal.price, proposal.count) == ("KXA", Side.BID, 5500, 1000)
    assert abs(proposal.edge_after_fees - (0.70 - 0.55 - 0.01733)) < 1e-9
    snap = snapshot(h)
    (row,) = snap.edges  # KXB has no model value: no row
    assert (row.ticker, row.model, row.model_prob, row.yes_bid, row.yes_ask, row.side) == \
        ("KXA", "polls", 0.70, 5000, 5500, Side.BID)
    assert row.signal == "BUY YES 10" and row.suggested_count == 1000
    assert next(r for r in snap.markets if r.ticker == "KXA").edge_after_fees == row.edge_after_fees
    # the book moves: the row follows
    h.delta("KXA", Side.ASK, 5500, -5000)
    h.delta("KXA", Side.ASK, 6900, 100)
    (row,) = snapshot(h).edges
    assert row.yes_ask == 6900 and row.signal.startswith("low-quality conditions: spread 19c")


def test_auto_buys_yes_and_no_with_ioc_orders_carrying_the_model():
    h = Harness([directional()], auto=True)
    h.ready(["KXA", "KXB"])
    h.book("KXA", bids=[(5000, 5000)], asks=[(5500, 5000)])
    h.book("KXB", bids=[(4500, 5000)], asks=[(5000, 5000)])
    fair(h, ("KXA", 0.70), ("KXB", 0.30))
    yes, no = sorted(h.sent(), key=lambda s: s.ticker)[::2]
    assert (yes.ticker, yes.side, yes.price, yes.count, yes.time_in_force) == \
        ("KXA", Side.BID, 5500, 1000, "immediate_or_cancel")
    assert (no.ticker, no.side, no.price, no.count) == ("KXB", Side.ASK, 4500, 1000)
    h.run_for(3_000)
    # max_order (10) per order, up to max_position (20) a market, then it stops
    assert [s.count for s in h.sent()] == [1000] * 4
    assert h.desk.position("KXA") == 2000 and h.desk.position("KXB") == -2000
    assert {r.ticker: r.signal for r in snapshot(h).edges} == {"KXA": "risk limit: at max position (20 of 20)",
                                                               "KXB": "risk limit: at max position (20 of 20)"}


def test_no_trade_below_fees_and_the_edge_row_says_so():
    h = Harness([directional()], auto=True)
    h.ready(["KXA"])
    h.book("KXA", bids=[(5000, 5000)], asks=[(5500, 5000)])
    fair(h, ("KXA", 0.56))
    h.run_for(1_000)
    assert h.sent() == []
    (row,) = snapshot(h).edges
    assert row.suggested_count == 0 and row.signal == "edge below fees: YES 1.00c before, 1.73c fee per contract"


def test_kelly_size_against_the_hand_worked_case_through_the_kernel():
    # $100 bankroll, p = 0.70 vs ask 0.55 + 1.733c fee: quarter Kelly = 13 contracts (see the unit test)
    h = Harness([directional(max_order=100_000, max_position=100_000)], auto=True)
    h.desk.cash = 100_000_000
    h.ready(["KXA"])
    h.book("KXA", bids=[(5000, 5000)], asks=[(5500, 100_000)])
    fair(h, ("KXA", 0.70))
    h.run_for(3_000)
    assert [(s.side, s.count) for s in h.sent()] == [(Side.BID, 1300)]  # and no top-ups: it is the Kelly target
    assert h.desk.cash == 100_000_000 - 1300 * 5500  # the purchase left the cash (the fake venue charges no fee)


class Scorebook:
    def __init__(self, factor: float) -> None:
        self.factor, self.asked = factor, []

    def shrink(self, model: str, category: str) -> float:
        self.asked.append((model, category))
        return self.factor


def test_calibration_shrink_scales_the_size_and_poor_calibration_sits_out():
    h = Harness([directional(max_order=100_000, max_position=100_000)], auto=True)
    h.desk.cash = 100_000_000
    h.desk.scorebook = Scorebook(0.5)
    h.ready(["KXA"])
    h.book("KXA", bids=[(5000, 5000)], asks=[(5500, 100_000)])
    fair(h, ("KXA", 0.70))
    assert [s.count for s in h.sent()] == [600]
    assert ("polls", "elections") in h.desk.scorebook.asked
    h.desk.scorebook = Scorebook(0.1)
    h.delta("KXA", Side.BID, 5000, 10)  # the book changed: re-evaluated
    h.run_for(2_000)
    assert len(h.sent()) == 1
    assert snapshot(h).edges[0].signal.startswith("low-quality conditions: polls calibration poor in elections")


def test_a_large_loss_cools_the_model_strategies_off():
    h = Harness([directional()], auto=True, large_loss_share=0.02)
    h.desk.cash = 100_000_000  # $100: a loss over $2 is large
    h.ready(["KXA", "KXB"])
    h.book("KXB", bids=[(500, 5000)], asks=[(5500, 5000)])
    h.step(PlaceOrder("KXB", Side.BID, 5500, 1000))  # 10 YES at 55c ...
    h.step(PlaceOrder("KXB", Side.ASK, 500, 1000))  # ... sold at 5c: -$5
    assert h.desk.last_loss_ms() is not None
    assert any(a.kind == "risk" and "large loss" in a.message for a in h.of(Alert))
    h.book("KXA", bids=[(5000, 5000)], asks=[(5500, 5000)])
    fair(h, ("KXA", 0.80))
    assert [s.ticker for s in h.sent()] == ["KXB", "KXB"]  # the manual orders only
    (row,) = snapshot(h).edges
    assert row.signal.startswith("cooling off: after a large loss")
    h.clock.advance(900_000)  # the cooling-off period is over
    h.delta("KXA", Side.BID, 4900, 100)  # (and the quiet book hears from the venue again)
    h.run_for(300)
    assert [s.ticker for s in h.sent()][-1] == "KXA"


def test_a_settlement_that_loses_big_starts_the_cooling_off_and_pays_nothing_into_cash():
    h = Harness([directional()], auto=True)
    h.desk.cash = 100_000_000
    h.ready(["KXA", "KXB"])
    h.book("KXB", bids=[(5000, 5000)], asks=[(5500, 5000)])
    h.step(PlaceOrder("KXB", Side.BID, 5500, 1000))  # 10 YES at 55c: $5.50 paid
    assert h.desk.cash == 94_500_000 and h.desk.last_loss_ms() is None
    h.step(w.MarketLifecycle(sid=1, msg=w.MarketLifecycleBody(market_ticker="KXB", event_type="determined",
                                                             result="no", settlement_value=0)))
    h.step(w.MarketLifecycle(sid=1, msg=w.MarketLifecycleBody(market_ticker="KXB", event_type="settled")))
    assert h.desk.position("KXB") == 0 and h.desk.cash == 94_500_000  # NO won: the YES paid nothing back
    assert h.desk.last_loss_ms() is not None  # -$5.50 on a ~$100 bankroll
    h.book("KXA", bids=[(5000, 5000)], asks=[(5500, 5000)])
    fair(h, ("KXA", 0.80))
    assert [s.ticker for s in h.sent()] == ["KXB"]
    assert snapshot(h).edges[0].signal.startswith("cooling off")


def test_election_bound_caps_the_total_across_markets():
    model = ElectionModel.from_probabilities({"SEN-A": 0.7, "SEN-B": 0.7}, shared_share=0.8)
    election = ElectionState(model, {"KXA": ElectionMarket("SEN-A", False, True),
                                     "KXB": ElectionMarket("SEN-B", False, True)})
    h = Harness([directional(max_order=1_000_000, max_position=1_000_000, kelly_multiplier=1.0,
                             election_loss_share=0.05)], auto=True)
    h.desk.cash = 1_000_000_000  # $1,000: the election book may lose $50 in its worst stressed scenario
    h.ready(["KXA", "KXB"])
    h.book("KXA", bids=[(5000, 5000)], asks=[(5500, 1_000_000)])
    h.book("KXB", bids=[(5000, 5000)], asks=[(5500, 1_000_000)])
    fair(h, ("KXA", 0.70), ("KXB", 0.70), election=election)
    h.run_for(3_000)
    held = {t: h.desk.position(t) for t in ("KXA", "KXB")}
    assert held["KXA"] > 0 and held["KXB"] > 0
    scen = election_scenarios(model, {"KXA": SizingMarket(race="SEN-A"), "KXB": SizingMarket(race="SEN-B")})
    holdings = {t: Holding(n, h.desk.portfolio.positions[t].cost_basis + h.desk.portfolio.positions[t].fees)
                for t, n in held.items()}
    worst, _ = worst_joint_pnl(scen, holdings)
    assert -50_000_000 * 1.02 <= worst  # the bound (fees rounded per order give a little slack)
    assert worst < -40_000_000  # and it was the bound that stopped it, not Kelly (Kelly alone: ~$300 each)
    assert snapshot(h).edges[0].signal == "risk limit: the election book is at its worst-case loss bound"


def test_convergence_exit_sends_reduce_only_near_the_close():
    h = Harness([directional(max_position=1000)], auto=True)
    now_s = h.clock.now_ms() // 1000
    near = m.MarketMeta("KXA", "KXEV", "market KXA", "test", "active", GRID, FEES, False, now_s + 1800)
    h.step(m.MarketsLoaded((near,)))
    h.book("KXA", bids=[(5000, 5000)], asks=[(5500, 5000)])
    fair(h, ("KXA", 0.70))
    assert h.desk.position("KXA") == 1000
    h.book("KXA", bids=[(5500, 5000)], asks=[(5600, 5000)])  # the market moves up to 55 / 56
    assert not any(s.reduce_only for s in h.sent())  # model still at 0.70: hold
    fair(h, ("KXA", 0.555))  # the price caught up with the model: the edge is spent
    exit_order = h.sent()[-1]
    assert (exit_order.side, exit_order.price, exit_order.count, exit_order.reduce_only) == (Side.ASK, 5500, 1000, True)
    assert h.desk.position("KXA") == 0
    assert snapshot(h).edges[0].signal != "EXIT YES 10"  # flat now: nothing left to exit


def test_predictions_are_journaled_throttled_with_category_and_the_market_mid(tmp_path):
    h = Harness([directional()], journal=Journal(tmp_path / "j.sqlite"))
    h.ready(["KXA"])
    h.book("KXA", bids=[(5000, 5000)], asks=[(5500, 5000)])
    fair(h, ("KXA", 0.70), ("KXZ", 0.40), category="weather")
    fair(h, ("KXA", 0.705), category="weather")  # moved less than 0.01: not journaled
    fair(h, ("KXA", 0.72), category="weather")
    h.clock.advance(15 * 60_000)
    fair(h, ("KXA", 0.72), category="weather")  # 15 minutes on: journaled again
    fair(h, ("KXA", 0.72), category="weather", model="ensemble")  # another model's first prediction
    with sqlite3.connect(tmp_path / "j.sqlite") as db:
        rows = list(db.execute("SELECT ticker, model, probability, category, market_prob FROM predictions ORDER BY id"))
    assert rows == [("KXA", "polls", 0.70, "weather", 0.525), ("KXZ", "polls", 0.40, "weather", None),
                    ("KXA", "polls", 0.72, "weather", 0.525), ("KXA", "polls", 0.72, "weather", 0.525),
                    ("KXA", "ensemble", 0.72, "weather", 0.525)]


def test_model_data_errors_alert_once_a_minute():
    h = Harness()
    h.ready(["KXA"])
    fair(h, errors=["polls feed: HTTP 503"])
    fair(h, errors=["polls feed: HTTP 503", "weather feed: stale by 3 h"])
    h.clock.advance(60_000)
    fair(h, errors=["polls feed: HTTP 503"])
    alerts = [a.message for a in h.of(Alert) if a.kind == "model"]
    assert alerts == ["model data (test feed): polls feed: HTTP 503", "model data (test feed): weather feed: stale by 3 h",
                      "model data (test feed): polls feed: HTTP 503"]


def _session(h: Harness) -> None:
    h.ready(["KXA", "KXB"])
    h.book("KXA", bids=[(5000, 5000)], asks=[(5500, 5000)])
    h.book("KXB", bids=[(4500, 5000)], asks=[(5000, 5000)])
    fair(h, ("KXA", 0.70), ("KXB", 0.30))
    h.step(SetAuto(True))
    for i in range(30):
        h.delta("KXA", Side.ASK, 5500, 300)
        fair(h, ("KXA", 0.60 + i / 100), ("KXB", 0.40 - i / 100))
        h.run_for(200, every_ms=50)


def test_same_events_same_intents():
    live = Harness([directional(min_interval_ms=500)], session="fair1")
    items: list = []
    live.kernel.tap = lambda now, mono, item: items.append((now, mono, item))
    _session(live)
    assert len(live.sent()) >= 4
    replayed = Harness([directional(min_interval_ms=500)], session="fair1")
    clock: ManualClock = replayed.clock
    for now, mono, item in items:
        clock.set(now, mono)
        replayed.kernel.handle(item)
    assert replayed.actions == live.actions
    assert snapshot(replayed).edges == snapshot(live).edges
