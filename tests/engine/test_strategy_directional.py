"""The directional strategy and the low-quality-conditions guard on hand-made views (no kernel): edges
after fees, Kelly sizes worked by hand, every guard reason, the election bound, config errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from kernel_harness import FEES, GRID, meta

from console.domain.book import Book
from console.domain.edges import NoTrade
from console.domain.side import Side
from console.domain.sizing import ElectionMarket as SizingMarket
from console.domain.sizing import Holding, election_scenarios, worst_joint_pnl
from console.engine.fair import ElectionMarket, ElectionState, FairValue
from console.engine.strategies import (
    Directional,
    StrategyConfigError,
    build_strategies,
    guard,
)
from console.engine.strategies.base import MarketView
from console.models.montecarlo import ElectionModel

NOW = 1_767_225_600_000


class Context:
    """A DeskContext with fixed answers."""

    def __init__(self, bankroll: int = 100_000_000, shrink: float = 1.0, last_loss: int | None = None,
                 election: ElectionState | None = None, positions: dict[str, int] | None = None,
                 costs: dict[str, int] | None = None) -> None:
        self.bankroll, self._shrink, self._loss, self.election = bankroll, shrink, last_loss, election
        self.positions, self.costs = positions or {}, costs or {}

    def book(self, ticker, venue="kalshi"):
        return None

    def healthy(self, ticker, venue="kalshi"):
        return True

    def fair(self, ticker):
        return None

    def meta(self, ticker):
        return None

    def position(self, ticker):
        return self.positions.get(ticker, 0)

    def cost_basis(self, ticker):
        return self.costs.get(ticker, 0)

    def shrink(self, model, category):
        return self._shrink

    def last_loss_ms(self):
        return self._loss


def view(prob: float | None, bids=((5000, 5000),), asks=((5500, 5000),), *, ticker="KXA", category="elections",
         healthy=True, position=0, ctx: Context | None = None, close_ts: int = 2_000_000_000,
         now_ms: int = NOW) -> MarketView:
    book = Book(GRID, ticker, "kalshi")
    book.apply_snapshot(bids, asks)
    m = meta(ticker)
    m = type(m)(m.ticker, m.event_ticker, m.title, m.category, m.status, GRID, FEES, False, close_ts)
    fair = None if prob is None else FairValue(ticker, prob, "polls", category, now_ms)
    return MarketView(ticker, book, healthy, position, (), now_ms, m, fair, ctx or Context())


def strat(**kw) -> Directional:
    return Directional("dir", None, **{"min_interval_ms": 0, **kw})


# --- edges and sizing ----------------------------------------------------------------------------


def test_buys_yes_at_the_ask_when_the_model_clears_ask_plus_fee_plus_min_edge():
    a = strat().assess(view(0.70))
    (intent,) = a.intents
    assert (intent.side, intent.price, intent.time_in_force) == (Side.BID, 5500, "immediate_or_cancel")
    # taker fee 0.07 x 0.55 x 0.45 = 1.7325c, rounded up per 10 contracts to 1.733c
    assert intent.edge_after_fees == pytest.approx(0.70 - 0.55 - 0.01733)
    assert intent.model_probability == 0.70
    assert "polls 0.700 vs YES at 55c" in intent.reason
    assert a.row.signal == "BUY YES 10" and a.row.side is Side.BID and a.row.suggested_count == 1000


def test_buys_no_by_selling_yes_at_the_bid_in_the_mirror_case():
    a = strat().assess(view(0.30, bids=((4500, 5000),), asks=((5000, 5000),)))
    (intent,) = a.intents
    assert (intent.side, intent.price) == (Side.ASK, 4500)
    assert intent.edge_after_fees == pytest.approx(0.70 - 0.55 - 0.01733)
    assert a.row.signal == "BUY NO 10"


def test_no_trade_below_fees_and_below_the_category_minimum_says_why():
    below_fees = strat().assess(view(0.56))
    assert below_fees.intents == () and below_fees.reason is NoTrade.BELOW_FEES
    assert below_fees.row.signal.startswith("edge below fees: YES 1.00c before, 1.73c fee")
    # 0.59 - 0.55 - 0.0173 = 2.27c after fees: enough for elections (2c) but not weather (4c)
    s = strat(min_edge=200, min_edge_by_category={"weather": 400})
    assert s.assess(view(0.59, category="elections")).intents
    weather = s.assess(view(0.59, category="weather"))
    assert weather.intents == () and weather.reason is NoTrade.BELOW_MIN_EDGE
    assert "below the 4.00c minimum for weather" in weather.row.signal


def test_kelly_count_matches_the_hand_worked_case():
    # p = 0.70, YES ask 0.55, fee 1.733c/contract: all-in cost c = 0.56733; f* = (0.70 - c) / (1 - c) = 0.30663
    # quarter Kelly of $100 = $7.6658; / $0.56733 = 13.5 contracts -> 13 whole contracts
    big = {"max_order": 100_000, "max_position": 100_000}
    deep = ((5500, 100_000),)
    assert strat(**big).assess(view(0.70, asks=deep)).intents[0].count == 1300
    # calibration shrink 0.5 halves the fraction: $3.8329 / 0.56733 = 6.76 -> 6 contracts
    assert strat(**big).assess(view(0.70, asks=deep, ctx=Context(shrink=0.5))).intents[0].count == 600
    # NO side, same numbers mirrored
    no = strat(**big).assess(view(0.30, bids=((4500, 100_000),), asks=((5000, 10),)))
    assert (no.intents[0].side, no.intents[0].count) == (Side.ASK, 1300)


def test_size_counts_what_is_held_and_stops_at_max_position():
    s = strat(max_order=1000, max_position=1500)
    rich = Context(bankroll=10**11)
    assert s.assess(view(0.70, position=1000, ctx=rich)).intents[0].count == 500
    full = s.assess(view(0.70, position=1500, ctx=rich))
    assert full.intents == () and full.reason is NoTrade.RISK_LIMIT
    assert full.row.signal.startswith("risk limit: at max position")


# --- the guard -----------------------------------------------------------------------------------


def test_guard_reasons():
    limits = guard.GuardLimits(max_spread=800, min_shrink=0.3, cooling_off_s=900)
    assert guard.check(view(0.7), limits, "polls", "elections") is None
    red = guard.check(view(0.7, healthy=False), limits)
    assert red.reason is NoTrade.BOOK_RED
    wide = guard.check(view(0.7, bids=((4000, 10),), asks=((5000, 10),)), limits)
    assert (wide.reason, wide.message) == (NoTrade.LOW_QUALITY, "spread 10c wider than 8c")
    one_sided = guard.check(view(0.7, bids=()), limits)
    assert one_sided.reason is NoTrade.LOW_QUALITY and "no bid" in one_sided.message
    poor = guard.check(view(0.7, ctx=Context(shrink=0.2)), limits, "polls", "elections")
    assert poor.reason is NoTrade.LOW_QUALITY and "polls calibration poor in elections" in poor.message
    cooling = guard.check(view(0.7, ctx=Context(last_loss=NOW - 600_000)), limits)
    assert (cooling.reason, cooling.message) == (NoTrade.COOLING_OFF, "after a large loss, 300 s left")
    assert guard.check(view(0.7, ctx=Context(last_loss=NOW - 900_000)), limits) is None  # over


def test_guarded_markets_are_not_traded_and_the_row_says_why():
    cooling = strat().assess(view(0.9, ctx=Context(last_loss=NOW - 1000)))
    assert cooling.intents == () and cooling.reason is NoTrade.COOLING_OFF
    assert cooling.row.signal.startswith("cooling off: after a large loss")
    wide = strat().assess(view(0.9, bids=((3000, 10),), asks=((5500, 10),)))
    assert wide.intents == () and wide.row.signal == "low-quality conditions: spread 25c wider than 8c"
    red = strat().assess(view(0.9, healthy=False))
    assert red.intents == () and red.row.signal.startswith("book red")


def test_no_fair_value_no_opinion():
    assert strat().assess(view(None)) is None
    assert strat().evaluate(view(None)) == ()


# --- the election bound --------------------------------------------------------------------------


def _election() -> ElectionState:
    model = ElectionModel.from_probabilities({"SEN-A": 0.7, "SEN-B": 0.7}, shared_share=0.8)
    return ElectionState(model, {"KXA": ElectionMarket("SEN-A", False, True),
                                 "KXB": ElectionMarket("SEN-B", False, True)})


def test_election_bound_caps_the_correlated_total():
    election = _election()
    big = {"max_order": 1_000_000, "max_position": 1_000_000, "kelly_multiplier": 1.0, "election_loss_share": 0.05}
    deep = ((5500, 1_000_000),)
    bankroll = 1_000_000_000  # $1,000: the election book may lose at most $50 in its worst stressed scenario
    free = strat(**big).assess(view(0.70, asks=deep, ctx=Context(bankroll))).intents[0].count
    held = {"KXA": 5_000}  # 50 YES in race A: its worst stressed scenario already loses ~$27.50
    ctx = Context(bankroll, election=election, positions=held, costs={"KXA": 5_000 * 5500})
    capped = strat(**big).assess(view(0.70, asks=deep, ticker="KXB", ctx=ctx))
    count = capped.intents[0].count
    assert 0 < count < free  # the bound, not Kelly, decided
    assert "election worst-case bound" in capped.intents[0].reason
    scen = election_scenarios(election.model, {"KXA": SizingMarket(race="SEN-A"), "KXB": SizingMarket(race="SEN-B")})
    fee = FEES.trade_fee(5500, count, maker=False)

    def worst(n: int) -> int:
        return worst_joint_pnl(scen, {"KXA": Holding(5_000, 5_000 * 5500),
                                      "KXB": Holding(n, n * 5500 + fee)})[0]

    assert worst(count) >= -50_000_000 > worst(count + 200)  # within the bound; two more contracts would not be
    # at the bound already: nothing more, and the row says it is the risk limit
    full = Context(bankroll, election=election, positions={"KXA": 10_000}, costs={"KXA": 10_000 * 5500})
    none = strat(**big).assess(view(0.70, asks=deep, ticker="KXB", ctx=full))
    assert none.intents == () and none.row.signal == "risk limit: the election book is at its worst-case loss bound"


# --- convergence exit ----------------------------------------------------------------------------


def test_convergence_exit_near_close_sells_reduce_only_once_the_edge_is_spent():
    close_s = NOW // 1000 + 1800  # 30 minutes left, inside exit_before_close_s = 3600
    near = view(0.555, bids=((5500, 5000),), asks=((5600, 5000),), position=700, close_ts=close_s)
    a = strat().assess(near)
    (intent,) = a.intents
    assert (intent.side, intent.price, intent.count, intent.reduce_only) == (Side.ASK, 5500, 700, True)
    assert "convergence exit" in intent.reason and a.row.signal == "EXIT YES 7"
    # long NO: buys YES at the ask (reduce-only) once 1 - ask is within 1c of 1 - p
    no = strat().assess(view(0.545, bids=((5400, 50),), asks=((5500, 5000),), position=-300, close_ts=close_s))
    assert [(i.side, i.price, i.count, i.reduce_only) for i in no.intents] == [(Side.BID, 5500, 300, True)]
    # edge left (model 0.70 vs bid 0.55): hold to settlement
    assert not any(i.reduce_only for i in strat().assess(view(0.70, position=700, close_ts=close_s)).intents)
    # far from the close: no exit
    assert strat().assess(view(0.555, bids=((5500, 5000),), asks=((5600, 5000),), position=700)).intents == ()


# --- config --------------------------------------------------------------------------------------


def test_config_tables_are_typed_and_can_be_disabled():
    built = build_strategies({"d": {"kind": "directional", "min_edge": 250, "kelly_multiplier": 0.5,
                                    "cooling_off_s": 60, "min_edge_by_category": {"weather": 400},
                                    "tickers": ["KXA"]},
                              "off": {"kind": "directional", "enabled": False},
                              "t": {"kind": "threshold_taker", "buy_at_or_below": 4000}})
    assert [s.name for s in built] == ["d", "t"]
    d = built[0]
    assert (d.min_edge, d.kelly_multiplier, d.cooling_off_s, d.tickers) == (250, 0.5, 60.0, frozenset({"KXA"}))


@pytest.mark.parametrize("table, message", [
    ({"min_edge": 0.03}, "[engine.strategies.x] min_edge = 0.03: must be an integer (prices and edges in YES pips"),
    ({"kelly_multiplier": "quarter"}, "[engine.strategies.x] kelly_multiplier = 'quarter': must be a number"),
    ({"kelly_multiplier": True}, "kelly_multiplier = True: must be a number"),
    ({"enabled": "yes"}, "[engine.strategies.x] enabled = 'yes': must be true or false"),
    ({"min_edge_by_category": {"weather": 0.04}}, ("min_edge_by_category = {'weather': 0.04}: must be a table of "
                                                  "integers")),
    ({"max_order": 50}, "[engine.strategies.x] max_order = 50: must be at least 100 (one contract)"),
    ({"kelly_multiplier": 2.0}, "kelly_multiplier = 2.0: must be in (0, 1]"),
    ({"min_edje": 300}, "[engine.strategies.x] unknown key(s) min_edje for kind 'directional'"),
    ({"tickers": "KXA"}, "tickers = 'KXA': must be a list of market tickers"),
])
def test_config_errors_name_the_table_and_key(table, message):
    with pytest.raises(StrategyConfigError) as exc:
        build_strategies({"x": {"kind": "directional", **table}})
    assert message in str(exc.value)


def test_the_shipped_config_builds_an_enabled_directional_strategy():
    from console.config import load_config

    shipped = load_config(Path(__file__).resolve().parents[2] / "config.toml")
    (d,) = [s for s in build_strategies(shipped.engine.strategies) if isinstance(s, Directional)]
    assert (d.name, d.tickers, d.min_edge_by_category["weather"], d.kelly_multiplier) == \
        ("directional", None, 400, 0.25)


def test_old_kinds_still_want_integers():
    with pytest.raises(StrategyConfigError, match=r"\[engine.strategies.t\] count = 1.5: must be an integer"):
        build_strategies({"t": {"kind": "threshold_taker", "count": 1.5}})
