"""Property: whatever the intents, manual orders, approvals, mode changes and books, and whatever the
limits, no order (or amend) that breaks a risk rule ever reaches the venue client. Every action the
kernel hands the io thread is checked at that instant by an independent gate against the kernel's
state (without the order itself); the order-rate limit is checked on the actions' own timestamps."""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kernel_harness import Harness

from console.domain.risk import OrderProposal, RiskGate
from console.domain.side import Side
from console.engine import messages as m
from console.engine.control import Approve, Flatten, PlaceOrder, Resume, SetAuto
from console.engine.flatten import TOLERATED
from console.engine.strategies import Intent, MarketView

TICKERS = ("KXR-A", "KXR-B", "KXR-C")
UNKNOWN = "KXR-NOT-LOADED"


class Scripted:
    """A strategy that says whatever the test queued for a market."""

    name = "scripted"
    tickers = None

    def __init__(self) -> None:
        self.queue: dict[str, list[Intent]] = {}

    def evaluate(self, view: MarketView) -> Sequence[Intent]:
        return self.queue.pop(view.ticker, [])


prices = st.integers(1, 99).map(lambda c: c * 100)
counts = st.sampled_from([1, 50, 100, 300, 700, 1500, 4000])
book_step = st.tuples(st.just("book"), st.sampled_from(TICKERS), prices, st.integers(0, 3000), st.integers(1, 20),
                      st.integers(0, 3000))
intent_step = st.tuples(st.just("intent"), st.sampled_from(TICKERS + (UNKNOWN,)), st.sampled_from(Side), prices, counts,
                        st.booleans(), st.booleans(), st.booleans())
manual_step = st.tuples(st.just("manual"), st.sampled_from(TICKERS + (UNKNOWN,)), st.sampled_from(Side), prices,
                        counts, st.booleans())
# weights by repetition: mostly orders and book moves, now and then a mode change, a flatten or a resume
step = st.one_of(
    intent_step, intent_step, intent_step, intent_step, manual_step, manual_step, manual_step, book_step, book_step,
    book_step, st.tuples(st.just("mode"), st.booleans()), st.tuples(st.just("approve")),
    st.tuples(st.just("advance"), st.sampled_from([1, 100, 5_000, 61_000])), st.tuples(st.just("flatten")),
    st.tuples(st.just("resume")),
)
limits = st.fixed_dictionaries({
    "max_contracts_per_market": st.sampled_from([1, 5, 20, 60]),
    "max_notional_per_market_dollars": st.sampled_from([1, 5, 20, 100]),
    "max_bankroll_share_per_market": st.sampled_from([0.02, 0.2, 1.0]),
    "max_category_share": st.sampled_from([0.05, 0.4, 1.0]),
    "max_total_exposure_dollars": st.sampled_from([2, 20, 200]),
    "max_event_loss_share": st.sampled_from([0.05, 0.5, 1.0]),
    "fat_finger_cents": st.sampled_from([1, 5, 30, 100]),
    "max_orders_per_minute": st.sampled_from([3, 20, 1000]),
    "proposal_ttl_s": st.sampled_from([1, 30]),
})
opening_books = st.tuples(*[st.tuples(st.just("book"), st.just(t), st.integers(30, 60).map(lambda c: c * 100),
                                       st.integers(100, 3000), st.integers(1, 5), st.integers(100, 3000))
                             for t in TICKERS]).map(list)
SENT: list[int] = []  # orders that reached the fake venue, per example (the property must not be vacuous)


@settings(max_examples=200, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(limits=limits, cash_dollars=st.sampled_from([10, 200, 5_000]), opening=opening_books,
       steps=st.lists(step, min_size=20, max_size=80))
def test_no_order_that_breaks_a_rule_reaches_the_venue(limits, cash_dollars, opening, steps) -> None:
    steps = opening + [("mode", True)] + steps
    strategy = Scripted()
    h = Harness([strategy], risk=limits)
    oracle = RiskGate(h.kernel.desk.config.risk)
    oracle_rate_limit = h.kernel.desk.config.risk.max_orders_per_minute
    checked: list[tuple[int, str]] = []
    violations: list[str] = []
    act = h.kernel.desk.act

    def checking_act(action: object) -> None:
        desk = h.kernel.desk
        if isinstance(action, m.SendOrder):
            spec = action.spec
            order = desk.orders.get(spec.client_order_id)
            proposal = OrderProposal(spec.ticker, spec.side, spec.price, spec.count, order.origin, spec.reduce_only)
            state = desk.risk_state(spec.ticker, exclude=spec.client_order_id)
            allowed = TOLERATED | {"order_rate"} if order.origin == "flatten" else {"order_rate"}
        elif isinstance(action, m.AmendOrderAction):
            order = desk.orders.get(action.client_order_id)
            proposal = OrderProposal(order.ticker, order.side, action.price, action.count - order.filled,
                                     order.origin, order.reduce_only)
            state = desk.risk_state(order.ticker, exclude=order.client_order_id)
            allowed = {"order_rate"}
        else:
            act(action)
            return
        broken = [r for r in oracle.check_all(proposal, state) if r.rule not in allowed]
        if broken:
            violations.append(f"{type(action).__name__} {proposal}: {broken}")
        if order.origin != "flatten":
            checked.append((desk.now_ms, type(action).__name__))
        act(action)

    h.kernel.desk.act = checking_act
    h.kernel.execution.desk.act = checking_act
    h.ready(TICKERS)
    h.desk.cash = cash_dollars * 1_000_000
    for s in steps:
        kind = s[0]
        if kind == "book":
            _, t, bid, bid_size, gap, ask_size = s
            ask = min(bid + gap * 100, 9900)
            h.book(t, bids=[(bid, bid_size)] if bid_size and bid < ask else [],
                   asks=[(ask, ask_size)] if ask_size else [])
        elif kind == "intent":
            _, t, side, price, count, ioc, reduce_only, quote = s
            strategy.queue.setdefault(t, []).append(Intent(
                t, side, price, count, "scripted", time_in_force="immediate_or_cancel" if ioc and not quote
                else "good_till_canceled", reduce_only=reduce_only and ioc and not quote, quote=quote))
            h.kernel.dirty[t] = None
            h.step()
        elif kind == "manual":
            _, t, side, price, count, reduce_only = s
            h.step(PlaceOrder(t, side, price, count, time_in_force="immediate_or_cancel" if reduce_only
                              else "good_till_canceled", reduce_only=reduce_only))
        elif kind == "mode":
            h.step(SetAuto(s[1]))
        elif kind == "approve":
            h.step(*[Approve(i) for i in list(h.desk.proposals)])
        elif kind == "advance":
            h.step(advance_ms=s[1])
        elif kind == "flatten":
            h.step(Flatten("property"))
            h.run_for(100)
        else:
            h.step(Resume())
    assert not violations, violations[:3]
    SENT.append(sum(1 for _, kind in checked if kind == "SendOrder"))
    times = sorted(t for t, kind in checked if kind == "SendOrder")
    for i, t in enumerate(times):
        window = [u for u in times[: i + 1] if u > t - 60_000]
        assert len(window) <= oracle_rate_limit, f"{len(window)} orders within 60 s; limit {oracle_rate_limit}"


def test_the_property_above_really_sent_orders() -> None:
    """Most generated sessions send orders (and some get refused), so the property is not vacuous."""
    if not SENT:
        test_no_order_that_breaks_a_rule_reaches_the_venue()
    assert sum(1 for n in SENT if n) >= len(SENT) // 5 and sum(SENT) >= 100, SENT[:20]
