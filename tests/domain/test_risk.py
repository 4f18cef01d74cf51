"""Risk gate: one hand-worked case per rule (numbers in the message, YES and NO sides, exits never
blocked by a cap they do not worsen) and a property test: for random states and random orders, the
rules the gate reports are exactly those a brute-force oracle finds, so no violating order passes."""

from __future__ import annotations

import itertools
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from console.config import RiskConfig
from console.domain.book import Book
from console.domain.grid import PriceGrid
from console.domain.orders import Accepted, Fill, Order, SendFailed
from console.domain.portfolio import MarketInfo, Portfolio
from console.domain.risk import BookHealth, OrderProposal, RiskGate, RiskState, usd
from console.domain.side import Side
from console.domain.units import dollars

GRID = PriceGrid.for_structure("linear_cent")
BID, ASK = Side.BID, Side.ASK


def make_book(bid: int | None = 5000, ask: int | None = 5200, size: int = 100_000) -> Book:
    b = Book(GRID, "T")
    b.apply_snapshot([(bid, size)] if bid else [], [(ask, size)] if ask else [])
    return b


class Desk:
    """A small world: markets, a portfolio, open orders, books and health, for hand-worked cases."""

    def __init__(self, config: RiskConfig | None = None, bankroll: str = "10000") -> None:
        self.gate = RiskGate(config or RiskConfig())
        self.pf = Portfolio([MarketInfo("A", "E", "politics", True), MarketInfo("B", "E", "politics", True),
                             MarketInfo("C", "F", "economics")])
        self.orders: list[Order] = []
        self.books = {t: make_book() for t in "ABC"}
        self.health = {t: BookHealth() for t in "ABC"}
        self.bankroll = dollars(bankroll)
        self.now = 1_000_000
        self._n = itertools.count()

    def hold(self, ticker: str, side: Side, yes_price: int, contracts: int) -> None:
        self.pf.apply_fill(Fill(f"f{next(self._n)}", "o", ticker, side, yes_price, contracts * 100))

    def rest(self, ticker: str, side: Side, price: int, contracts: int, reduce_only: bool = False) -> Order:
        o = Order.new(f"c{next(self._n)}", ticker, side, price, contracts * 100, reduce_only=reduce_only)
        o.apply(Accepted(f"o{o.client_order_id}", 0, o.count))
        self.orders.append(o)
        return o

    def check(self, ticker: str, side: Side, price: int, contracts: float, reduce_only: bool = False):
        p = OrderProposal(ticker, side, price, int(contracts * 100), reduce_only=reduce_only)
        state = RiskState(self.pf, self.orders, self.books, self.health, self.bankroll, self.now)
        return self.gate.check(p, state), {r.rule for r in self.gate.check_all(p, state)}


def test_clean_order_passes() -> None:
    assert Desk().check("A", BID, 5200, 10) == (None, set())


def test_max_contracts_counts_open_orders_and_names_the_numbers() -> None:
    desk = Desk(RiskConfig(max_bankroll_share_per_market=1, max_category_share=1, max_event_loss_share=1),
                bankroll="1000000")
    desk.rest("A", BID, 5000, 400)
    first, rules = desk.check("A", BID, 5000, 200)
    assert rules == {"max_contracts_per_market"}
    assert first.message == "A: 600.00 contracts YES if this and our open orders fill; limit 500.00"
    assert desk.check("A", BID, 5000, 100)[0] is None


def test_notional_and_bankroll_share_caps_no_side() -> None:
    desk = Desk(bankroll="2500")  # 5% = $125
    desk.hold("C", ASK, 6000, 100)  # long 100 NO at 0.40: $40 at risk
    first, rules = desk.check("C", ASK, 5000, 200)  # +200 NO at 0.50: $100 more -> $140
    assert rules == {"max_bankroll_share_per_market"}
    assert "$140.00 at risk is more than 5% of the $2,500.00 bankroll ($125.00)" in first.message
    assert desk.check("C", ASK, 5000, 170)[0] is None  # exactly $125 is allowed
    big = Desk(RiskConfig(max_notional_per_market_dollars=100))
    assert big.check("C", BID, 5200, 193)[1] == {"max_notional_per_market"}  # $100.36 > $100


def test_exits_are_never_blocked_by_caps_they_do_not_worsen() -> None:
    desk = Desk(bankroll="1000")
    desk.pf.position("A").restate(100_000, dollars("500"))  # 1000 YES, far over every cap
    assert desk.check("A", ASK, 5000, 300) == (None, set())  # selling YES only reduces
    rejection, rules = desk.check("A", BID, 5200, 1)
    assert "max_contracts_per_market" in rules and rejection is not None


def test_reduce_only_guard_on_both_sides() -> None:
    desk = Desk()
    desk.hold("C", ASK, 7000, 30)  # long 30 NO
    assert desk.check("C", BID, 5200, 30, reduce_only=True)[0] is None  # buying YES closes NO
    first, rules = desk.check("C", BID, 5200, 31, reduce_only=True)
    assert "reduce_only" in rules
    assert first.message == "C: reduce-only bid 31.00 could flip the position -30.00; at most 30.00 may be sent now"
    assert "reduce_only" in desk.check("C", ASK, 5000, 1, reduce_only=True)[1]  # same side adds
    desk.rest("C", BID, 4900, 20, reduce_only=True)
    assert "reduce_only" in desk.check("C", BID, 5200, 11, reduce_only=True)[1]  # 20 already exiting
    assert desk.gate.reduce_only_cap("C", BID, desk.pf, desk.orders) == 1000
    assert "reduce_only" in desk.check("B", ASK, 5000, 1, reduce_only=True)[1]  # flat: nothing to reduce


def test_fat_finger_through_the_far_touch() -> None:
    desk = Desk()  # bid 0.50 / ask 0.52, limit 10c
    assert desk.check("A", BID, 6200, 1)[0] is None
    first, rules = desk.check("A", BID, 6300, 1)
    assert rules == {"fat_finger"}
    assert first.message == "A: bid at 0.6300 is 0.1100 through the best ask 0.5200; limit 0.1000"
    assert desk.check("A", ASK, 4000, 1)[0] is None
    assert desk.check("A", ASK, 3900, 1)[1] == {"fat_finger"}
    desk.books["B"] = make_book(None, None)
    assert "the book is empty" in desk.check("B", BID, 5000, 1)[0].message


def test_order_rate_sliding_minute() -> None:
    desk = Desk(RiskConfig(max_orders_per_minute=3))
    for ms in (0, 20_000, 40_000):
        desk.gate.note_sent(desk.now - 50_000 + ms)
    first, rules = desk.check("A", BID, 5200, 1)
    assert rules == {"order_rate"} and "3 orders sent in the last 60 s" in first.message
    desk.now += 10_000  # the oldest send has left the window
    assert desk.check("A", BID, 5200, 1)[0] is None


def test_red_stale_or_missing_book() -> None:
    desk = Desk()
    desk.health["A"] = BookHealth(red=True, detail="sequence gap")
    assert desk.check("A", BID, 5200, 1)[0].message == "A: book is red (sequence gap); wait until it is green"
    desk.health["A"] = BookHealth(stale=True)
    assert desk.check("A", BID, 5200, 1)[1] == {"book_health"}
    del desk.books["B"]
    assert "no live book" in desk.check("B", BID, 5200, 1)[0].message


def test_unknown_order_blocks_only_its_market() -> None:
    desk = Desk()
    lost = desk.rest("A", BID, 5000, 1)
    lost.apply(SendFailed("timeout"))
    # an Accepted already arrived for this one, so it is not unknown: make a truly unknown order
    unknown = Order.new("u1", "A", BID, 5000, 100)
    unknown.apply(SendFailed("503 after send"))
    desk.orders.append(unknown)
    first, rules = desk.check("A", ASK, 5000, 1)
    assert rules == {"unknown_orders"} and "u1" in first.message
    assert desk.check("C", BID, 5200, 1)[0] is None


def test_category_and_total_caps() -> None:
    cfg = RiskConfig(max_bankroll_share_per_market=1, max_category_share=0.4, max_total_exposure_dollars=500,
                     max_event_loss_share=1)
    desk = Desk(cfg, bankroll="1000")  # category cap $400
    desk.hold("A", BID, 5000, 500)  # $250 politics
    first, rules = desk.check("B", BID, 5200, 300)  # +$156 politics = $406
    assert rules == {"max_category_share"} and "category politics would have $406.00 at risk" in first.message
    desk.hold("C", BID, 5000, 400)  # $200 economics: total $450
    assert desk.check("C", BID, 5200, 100)[1] == {"max_total_exposure"}  # +$52 = $502


def test_event_worst_case_blocks_concentration_but_allows_hedges() -> None:
    cfg = RiskConfig(max_bankroll_share_per_market=1, max_category_share=1)
    desk = Desk(cfg, bankroll="1000")  # event cap 10% = $100
    desk.hold("A", BID, 5000, 150)  # YES A: $75; worst (B wins) -$75
    first, rules = desk.check("A", BID, 5200, 50)  # +$26 -> worst -$101
    assert rules == {"event_worst_case"}
    assert "worst case over the outcomes of E would lose $101.00 (now $75.00); limit $100.00" in first.message
    desk.hold("A", BID, 5000, 100)  # now $125 at risk, over the cap already
    assert desk.check("B", BID, 5200, 100)[0] is None  # YES B hedges: worst becomes -$77


def test_usd_formatting_is_exact() -> None:
    assert usd(dollars("1.5")) == "$1.50"
    assert usd(1_234_567_891) == "$1,234.567891"
    assert usd(-dollars("0.25")) == "-$0.25"


# --- property: the gate equals a brute-force oracle -------------------------------------------------

MARKETS = [MarketInfo("M0", "E1", "pol", True), MarketInfo("M1", "E1", "pol", True),
           MarketInfo("M2", "E1", "pol", True), MarketInfo("M3", "E2", "eco"), MarketInfo("M4", "E2", "pol")]
TICKERS = [m.ticker for m in MARKETS] + ["ZZ"]  # ZZ: a market the desk does not know

cents = st.integers(1, 99)
order_st = st.tuples(st.sampled_from(TICKERS[:5]), st.sampled_from([BID, ASK]), cents, st.integers(1, 30),
                     st.booleans(), st.sampled_from(["resting", "partial", "pending", "unknown", "done"]))


@st.composite
def world(draw):
    cfg = RiskConfig(
        max_contracts_per_market=draw(st.integers(1, 60)),
        max_notional_per_market_dollars=draw(st.integers(1, 40)),
        max_bankroll_share_per_market=draw(st.sampled_from([0.05, 0.1, 0.25, 1.0])),
        max_category_share=draw(st.sampled_from([0.1, 0.4, 1.0])),
        max_total_exposure_dollars=draw(st.integers(1, 100)),
        fat_finger_cents=draw(st.integers(1, 20)),
        max_orders_per_minute=draw(st.integers(1, 5)),
        max_event_loss_share=draw(st.sampled_from([0.05, 0.2, 1.0])),
    )
    fills = draw(st.lists(st.tuples(st.sampled_from(TICKERS[:5]), st.sampled_from([BID, ASK]), cents,
                                    st.integers(1, 30)), max_size=12))
    orders = draw(st.lists(order_st, max_size=8))
    books = {}
    health = {}
    for t in TICKERS[:5]:
        if draw(st.integers(0, 9)):  # mostly present
            bid = draw(st.integers(0, 97)) or None  # an empty side now and then
            ask = draw(st.integers(bid or 0, 99))
            ask = None if ask == (bid or 0) else ask
            books[t] = (bid * 100 if bid else None, ask * 100 if ask else None)
        if draw(st.integers(0, 9)):
            health[t] = BookHealth(red=draw(st.integers(0, 19)) == 11, stale=draw(st.integers(0, 19)) == 11)
    sends = draw(st.lists(st.integers(0, 90_000), max_size=6))
    bankroll = draw(st.integers(0, 2000)) * 1_000_000
    # mostly well-formed orders, so the other rules get exercised; now and then an impossible one
    proposal = OrderProposal(draw(st.sampled_from(TICKERS[:5] * 4 + TICKERS[5:])), draw(st.sampled_from([BID, ASK])),
                             draw(st.sampled_from([0, 100]) if draw(st.integers(0, 19)) == 11 else cents) * 100,
                             draw(st.integers(1, 30)) * 100 if draw(st.integers(0, 19)) != 11 else 0,
                             reduce_only=draw(st.integers(0, 3)) == 2)
    return cfg, fills, orders, books, health, sends, bankroll, proposal


def units_after(fills_units: list[tuple[Side, int, int]]) -> tuple[int, list[int]]:
    """Replay fills one unit at a time: (signed position, own-scale prices of held units)."""
    held: list[int] = []
    sign = 0
    for side, price, count in fills_units:
        d = 1 if side is BID else -1
        own = price if d == 1 else 10000 - price
        for _ in range(count):
            if held and sign != d:
                held.pop(0)
            else:
                held.append(own)
                sign = d
        if not held:
            sign = 0
    return sign * len(held), held


def oracle(cfg: RiskConfig, fills, orders, books, health, sends, bankroll, p: OrderProposal) -> set[str]:
    known = {m.ticker: m for m in MARKETS}
    if not 0 < p.price < 10000 or p.count <= 0 or p.ticker not in known:
        return {"invalid_order"}
    bad: set[str] = set()
    open_ = [o for o in orders if o[5] != "done"]
    if any(o[0] == p.ticker and o[5] == "unknown" for o in open_):
        bad.add("unknown_orders")
    h = health.get(p.ticker)
    if p.ticker not in books or h is None or h.red or h.stale:
        bad.add("book_health")
    if p.ticker in books:
        bid, ask = books[p.ticker]
        if p.side is BID:
            ref = ask if ask is not None else bid
            if ref is None or p.price - ref > cfg.fat_finger_cents * 100:
                bad.add("fat_finger")
        else:
            ref = bid if bid is not None else ask
            if ref is None or ref - p.price > cfg.fat_finger_cents * 100:
                bad.add("fat_finger")
    if sum(1 for s in sends if 1_000_000 - 60_000 < 1_000_000 - 90_000 + s <= 1_000_000) >= cfg.max_orders_per_minute:
        bad.add("order_rate")

    def remaining(o) -> int:
        return o[3] * 100 - (o[3] * 50 if o[5] == "partial" else 0)

    def base(t):
        return [(s, c * 100, n * 100) for (tt, s, c, n) in fills if tt == t]

    def resting(t, side):
        return [(o[1], o[2] * 100, remaining(o)) for o in open_ if o[0] == t and o[1] is side]

    pos, _ = units_after(base(p.ticker))
    d = 1 if p.side is BID else -1
    if p.reduce_only:
        others = sum(remaining(o) for o in open_ if o[0] == p.ticker and o[1] is p.side and o[4])
        if p.count > max(0, -d * pos - others):
            bad.add("reduce_only")
    new = [(p.side, p.price, p.count)]
    after_pos, after_units = units_after(base(p.ticker) + resting(p.ticker, p.side) + new)
    _, before_units = units_after(base(p.ticker) + resting(p.ticker, p.side))
    if d * after_pos > cfg.max_contracts_per_market * 100:
        bad.add("max_contracts_per_market")
    worse = sum(after_units) > sum(before_units)
    if worse and sum(after_units) > cfg.max_notional_per_market_dollars * 1_000_000:
        bad.add("max_notional_per_market")
    if worse and sum(after_units) > int(Fraction(str(cfg.max_bankroll_share_per_market)) * bankroll):
        bad.add("max_bankroll_share_per_market")

    def at_risk(t, extra):
        return max(sum(units_after(base(t) + resting(t, s) + (new if extra and t == p.ticker and s is p.side
                                                               else []))[1]) for s in (BID, ASK))

    with_new = {t: at_risk(t, True) for t in known}
    without = {t: at_risk(t, False) for t in known}
    grows = with_new[p.ticker] > without[p.ticker]
    cat = known[p.ticker].category
    if grows and sum(v for t, v in with_new.items() if known[t].category == cat) > \
            int(Fraction(str(cfg.max_category_share)) * bankroll):
        bad.add("max_category_share")
    if grows and sum(with_new.values()) > cfg.max_total_exposure_dollars * 1_000_000:
        bad.add("max_total_exposure")

    event = known[p.ticker].event_ticker
    members = [t for t in known if known[t].event_ticker == event]

    def worst_loss(units_of_order_market):
        books_ = {t: units_after(base(t)) for t in members if t != p.ticker}
        books_[p.ticker] = units_of_order_market
        if known[p.ticker].mutually_exclusive:
            outcomes = [{t: t == w for t in members} for w in members]
        else:
            outcomes = [dict(zip(members, combo, strict=True))
                        for combo in itertools.product([True, False], repeat=len(members))]
        worst = None
        for yes in outcomes:
            pnl = 0
            for t, (signed, held) in books_.items():
                pays = (signed > 0 and yes[t]) or (signed < 0 and not yes[t])
                pnl += sum((10000 if pays else 0) - u for u in held)
            worst = pnl if worst is None else min(worst, pnl)
        return max(0, -worst)

    loss_after = worst_loss(units_after(base(p.ticker) + resting(p.ticker, p.side) + new))
    loss_before = worst_loss(units_after(base(p.ticker) + resting(p.ticker, p.side)))
    if loss_after > loss_before and loss_after > int(Fraction(str(cfg.max_event_loss_share)) * bankroll):
        bad.add("event_worst_case")
    return bad


def build(cfg, fills, orders, books, health, sends, bankroll):
    gate = RiskGate(cfg)
    for s in sends:
        gate.note_sent(1_000_000 - 90_000 + s)
    pf = Portfolio(MARKETS)
    for i, (t, side, c, n) in enumerate(fills):
        pf.apply_fill(Fill(f"f{i}", "o", t, side, c * 100, n * 100))
    table = []
    for i, (t, side, c, n, ro, kind) in enumerate(orders):
        o = Order.new(f"c{i}", t, side, c * 100, n * 100, reduce_only=ro)
        if kind == "unknown":
            o.apply(SendFailed("timeout"))
        elif kind in ("resting", "partial", "done"):
            o.apply(Accepted(f"o{i}", 0, n * 100))
            if kind == "partial":
                o.apply(Fill(f"of{i}", f"o{i}", t, side, c * 100, n * 50))
            if kind == "done":
                o.apply(Fill(f"of{i}", f"o{i}", t, side, c * 100, n * 100))
        table.append(o)
    books_ = {}
    for t, (bid, ask) in books.items():
        books_[t] = make_book(bid, ask)
    state = RiskState(pf, table, books_, health, bankroll, 1_000_000)
    return gate, state


@settings(max_examples=600, deadline=None)
@given(world())
def test_no_order_violating_a_rule_passes(w) -> None:
    cfg, fills, orders, books, health, sends, bankroll, proposal = w
    gate, state = build(cfg, fills, orders, books, health, sends, bankroll)
    expected = oracle(cfg, fills, orders, books, health, sends, bankroll, proposal)
    reported = {r.rule for r in gate.check_all(proposal, state)}
    assert reported == expected
    first = gate.check(proposal, state)
    assert (first is None) == (not expected)
    if first is not None:
        assert first.rule in expected and first.message


@pytest.mark.parametrize("share", [0.05, 0.4, 0.1])
def test_share_caps_are_exact_fractions(share) -> None:
    gate = RiskGate(RiskConfig(max_bankroll_share_per_market=share))
    assert gate.config.max_bankroll_share_per_market == share
    from console.domain.risk import _share_cap
    assert _share_cap(dollars("10000"), gate._market_share) == int(Fraction(str(share)) * dollars("10000"))
    assert _share_cap(dollars("10000"), gate._market_share) == dollars("10000") * int(share * 100) // 100
