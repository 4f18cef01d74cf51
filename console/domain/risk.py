"""Pre-trade risk checks: every order, manual or automatic, on submission and again on approval.

`RiskGate.check(proposal, state)` returns None (pass) or the first `RiskRejection(rule, message)`;
`check_all` returns every rule the order breaks. Each message names the numbers involved.

How "money at risk" is projected (exposure rules): for the order's direction (bid = wants YES, ask =
wants NO) the market's position is replayed as if every open order of ours in that direction filled
at its limit price, first without and then with the new order (Kalshi nets, so a bid first closes a
NO position and only the rest opens YES). A market's money at risk is the cost of what would then be
held; for totals and categories each market counts its worse direction. An exposure rule rejects an
order only when the projection with it is over the limit *and* larger than without it, so an exit or
a hedge is never blocked by a cap it does not make worse.

Rules (names are stable, for the journal and the UI):
  invalid_order, unknown_orders, book_health, fat_finger, order_rate, reduce_only,
  max_contracts_per_market, max_notional_per_market, max_bankroll_share_per_market,
  max_category_share, max_total_exposure, event_worst_case.

Breakers (AUTO -> HALTED) live in `console.domain.breakers` and are re-exported here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction

from console.config import RiskConfig
from console.domain.breakers import Breach, Breakers, SlidingCount
from console.domain.orders import MANUAL, Order, OrderState
from console.domain.portfolio import (
    BookView,
    MarketInfo,
    Portfolio,
    Position,
    event_outcome_pnls,
)
from console.domain.side import Side
from console.domain.units import (
    COUNT_PER_CONTRACT,
    MICROS_PER_DOLLAR,
    PRICE_MAX,
    format_count,
    format_price,
)

__all__ = [
    "BookHealth",
    "Breach",
    "Breakers",
    "OrderProposal",
    "RiskGate",
    "RiskRejection",
    "RiskState",
    "projected",
    "usd",
]

RULES = (
    "invalid_order", "unknown_orders", "book_health", "fat_finger", "order_rate", "reduce_only",
    "max_contracts_per_market", "max_notional_per_market", "max_bankroll_share_per_market",
    "max_category_share", "max_total_exposure", "event_worst_case",
)


@dataclass(frozen=True, slots=True)
class OrderProposal:
    """An order about to be sent (YES-scale price, count in hundredths of a contract)."""

    ticker: str
    side: Side
    price: int
    count: int
    origin: str = MANUAL
    reduce_only: bool = False


@dataclass(frozen=True, slots=True)
class BookHealth:
    """A market's book health as the book manager judges it (age, gaps, REST cross-check)."""

    red: bool = False
    stale: bool = False
    detail: str = ""


@dataclass(frozen=True, slots=True)
class RiskRejection:
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.rule}: {self.message}"


@dataclass
class RiskState:
    """What the kernel knows when it checks an order. `bankroll` is account equity in micro-dollars."""

    portfolio: Portfolio
    orders: Iterable[Order]
    books: Mapping[str, BookView]
    health: Mapping[str, BookHealth]
    bankroll: int
    now_ms: int


def usd(micros: int) -> str:
    """Exact dollars for messages: at least 2 decimals, more only when needed ($1.5 -> $1.50)."""
    sign = "-" if micros < 0 else ""
    whole, frac = divmod(abs(micros), MICROS_PER_DOLLAR)
    digits = f"{frac:06d}".rstrip("0").ljust(2, "0")
    return f"{sign}${whole:,}.{digits}"


def _share_cap(bankroll: int, share: Fraction) -> int:
    return max(0, share.numerator * bankroll // share.denominator)


def projected(position: Position | None, side: Side, fills: Iterable[tuple[int, int]]) -> tuple[int, int]:
    """The position if `fills` [(YES price, count)] of one `side` all filled at their prices.

    Returns (position seen from `side`: > 0 holds that side's outcome, < 0 still the other one; cost
    of what is then held). Nets like Kalshi: the fills first close the other side's lots FIFO, the
    rest open new lots. Exact and allocation-free (this runs for every market on every check).
    """
    signed = position.position if position is not None else 0
    held = signed if side is Side.BID else -signed
    cost = position.cost_basis if position is not None else 0
    bid = side is Side.BID
    total = opened = 0
    if held >= 0:  # flat or already holding this side: every unit opens
        for price, count in fills:
            opened += (price if bid else PRICE_MAX - price) * count
            total += count
        return held + total, cost + opened
    opposite = -held  # units of the other outcome that these fills close first
    for price, count in fills:
        closes = min(count, max(0, opposite - total))
        opened += (price if bid else PRICE_MAX - price) * (count - closes)
        total += count
    to_close = min(total, opposite)
    if to_close == opposite:
        return held + total, opened  # every old lot closed: only the new ones are held
    closed_cost = 0
    for lot_price, lot_count in position.lots:  # type: ignore[union-attr]
        take = min(lot_count, to_close)
        closed_cost += lot_price * take
        to_close -= take
        if not to_close:
            break
    return held + total, cost - closed_cost


def _d(side: Side, signed: int) -> int:
    """A signed position seen from a direction: bid counts YES as +, ask counts NO as +."""
    return signed if side is Side.BID else -signed


class RiskGate:
    """The pre-trade checks with their limits (from `RiskConfig`) and the order-rate window."""

    def __init__(self, config: RiskConfig) -> None:
        self.config = config
        self.max_contracts = config.max_contracts_per_market * COUNT_PER_CONTRACT
        self.max_notional = config.max_notional_per_market_dollars * MICROS_PER_DOLLAR
        self.max_total = config.max_total_exposure_dollars * MICROS_PER_DOLLAR
        self.fat_finger = config.fat_finger_cents * 100  # pips
        # the config holds decimal fractions (0.05); through their repr 5% is exactly 1/20
        self._market_share = Fraction(repr(config.max_bankroll_share_per_market))
        self._category_share = Fraction(repr(config.max_category_share))
        self._event_share = Fraction(repr(config.max_event_loss_share))
        self.rate = SlidingCount(60_000)

    def note_sent(self, now_ms: int) -> None:
        """Count an order actually sent (the rate rule counts sends, not checks)."""
        self.rate.add(now_ms)

    def check(self, proposal: OrderProposal, state: RiskState) -> RiskRejection | None:
        rejections = self.check_all(proposal, state, first_only=True)
        return rejections[0] if rejections else None

    def check_all(self, p: OrderProposal, state: RiskState, *, first_only: bool = False) -> list[RiskRejection]:
        out: list[RiskRejection] = []
        basic = self._invalid(p, state)
        if basic is not None:
            return [basic]  # nothing else can be judged for an impossible order
        # a finished order whose fills are still on their way still moves the position: keep it in view
        open_orders = [o for o in state.orders if o.state.open or o.unapplied]
        for rule in (self._unknown, self._book_health, self._fat_finger, self._rate, self._reduce_only):
            result = rule(p, state, open_orders)
            if result is not None:
                out.append(result)
                if first_only:
                    return out
        out.extend(self._exposure(p, state, open_orders, first_only))
        return out[:1] if first_only else out

    def reduce_only_cap(self, ticker: str, side: Side, portfolio: Portfolio, orders: Iterable[Order]) -> int:
        """The largest reduce-only count in `side` that cannot flip the position (0 when none)."""
        held = -_d(side, portfolio.signed(ticker))  # > 0 when `side` reduces the position
        others = sum((o.remaining if o.reduce_only else 0) + o.unapplied for o in orders
                     if o.ticker == ticker and o.side is side)
        return max(0, held - others)

    # --- the rules ----------------------------------------------------------------------------
    def _invalid(self, p: OrderProposal, state: RiskState) -> RiskRejection | None:
        if not 0 < p.price < PRICE_MAX:
            return RiskRejection("invalid_order", f"{p.ticker}: price {p.price} pips is outside 1..9999")
        if p.count <= 0:
            return RiskRejection("invalid_order", f"{p.ticker}: count {format_count(p.count)} must be more than 0")
        if p.ticker not in state.portfolio.markets:
            return RiskRejection("invalid_order", f"{p.ticker}: unknown market (no event/category to check "
                                 "exposure against); load the market first")
        return None

    def _unknown(self, p: OrderProposal, state: RiskState, open_orders: list[Order]) -> RiskRejection | None:
        unknown = [o.client_order_id for o in open_orders if o.ticker == p.ticker and o.state is OrderState.UNKNOWN]
        if unknown:
            return RiskRejection("unknown_orders", f"{p.ticker}: {len(unknown)} order(s) with unknown outcome "
                                 f"({', '.join(unknown[:3])}); no new orders until reconciliation settles them")
        return None

    def _book_health(self, p: OrderProposal, state: RiskState, _: list[Order]) -> RiskRejection | None:
        health = state.health.get(p.ticker)
        if p.ticker not in state.books or health is None:
            return RiskRejection("book_health", f"{p.ticker}: no live book; subscribe and wait for a snapshot")
        if health.red or health.stale:
            what = "red" if health.red else "stale"
            return RiskRejection("book_health", f"{p.ticker}: book is {what}"
                                 f"{' (' + health.detail + ')' if health.detail else ''}; wait until it is green")
        return None

    def _fat_finger(self, p: OrderProposal, state: RiskState, _: list[Order]) -> RiskRejection | None:
        book = state.books.get(p.ticker)
        if book is None:
            return None  # no book at all is the book_health rule's rejection
        if p.side is Side.BID:
            far, near = book.best_ask, book.best_bid
            ref = far or near
            distance = p.price - ref[0] if ref else None
        else:
            far, near = book.best_bid, book.best_ask
            ref = far or near
            distance = ref[0] - p.price if ref else None
        if ref is None:
            return RiskRejection("fat_finger", f"{p.ticker}: the book is empty, no price to check "
                                 f"{format_price(p.price)} against")
        if distance > self.fat_finger:
            which = ("best ask" if p.side is Side.BID else "best bid") if far else \
                    ("best bid" if p.side is Side.BID else "best ask")
            return RiskRejection("fat_finger", f"{p.ticker}: {p.side.value} at {format_price(p.price)} is "
                                 f"{format_price(distance)} through the {which} {format_price(ref[0])}; "
                                 f"limit {format_price(self.fat_finger)}")
        return None

    def _rate(self, p: OrderProposal, state: RiskState, _: list[Order]) -> RiskRejection | None:
        sent = self.rate.count(state.now_ms)
        if sent >= self.config.max_orders_per_minute:
            return RiskRejection("order_rate", f"{sent} orders sent in the last 60 s; "
                                 f"limit {self.config.max_orders_per_minute} per minute")
        return None

    def _reduce_only(self, p: OrderProposal, state: RiskState, open_orders: list[Order]) -> RiskRejection | None:
        if not p.reduce_only:
            return None
        cap = self.reduce_only_cap(p.ticker, p.side, state.portfolio, open_orders)
        if p.count > cap:
            held = state.portfolio.signed(p.ticker)
            return RiskRejection("reduce_only", f"{p.ticker}: reduce-only {p.side.value} "
                                 f"{format_count(p.count)} could flip the position {format_count(held)}; "
                                 f"at most {format_count(cap)} may be sent now")
        return None

    def _exposure(self, p: OrderProposal, state: RiskState, open_orders: list[Order],
                  first_only: bool) -> list[RiskRejection]:
        pf = state.portfolio
        resting: dict[str, dict[Side, list[tuple[int, int]]]] = {}
        for o in open_orders:
            remaining = o.remaining + o.unapplied  # fills the venue reported but we have not applied yet
            if remaining:
                resting.setdefault(o.ticker, {Side.BID: [], Side.ASK: []})[o.side].append((o.price, remaining))
        none: dict[Side, list[tuple[int, int]]] = {Side.BID: [], Side.ASK: []}
        mine = resting.get(p.ticker, none)
        pos = pf.positions.get(p.ticker)
        before = projected(pos, p.side, mine[p.side])
        after = projected(pos, p.side, mine[p.side] + [(p.price, p.count)])
        out: list[RiskRejection] = []

        def add(rule: str, message: str) -> bool:
            out.append(RiskRejection(rule, message))
            return first_only

        held_after = after[0]
        if held_after > self.max_contracts and add(
                "max_contracts_per_market", f"{p.ticker}: {format_count(held_after)} contracts "
                f"{p.side.outcome.upper()} if this and our open orders fill; limit {format_count(self.max_contracts)}"):
            return out
        cost_before, cost_after = before[1], after[1]
        worse = cost_after > cost_before
        if worse and cost_after > self.max_notional and add(
                "max_notional_per_market", f"{p.ticker}: {usd(cost_after)} at risk if this and our open "
                f"orders fill; limit {usd(self.max_notional)}"):
            return out
        share_cap = _share_cap(state.bankroll, self._market_share)
        if worse and cost_after > share_cap and add(
                "max_bankroll_share_per_market", f"{p.ticker}: {usd(cost_after)} at risk is more than "
                f"{self.config.max_bankroll_share_per_market:.0%} of the {usd(state.bankroll)} bankroll "
                f"({usd(share_cap)})"):
            return out

        # aggregates: every market at its worse direction (a direction without orders leaves the
        # position as it is), with and without the new order
        def at_risk(ticker: str, extra: bool) -> int:
            position = pf.positions.get(ticker)
            worst = position.cost_basis if position is not None else 0
            orders = resting.get(ticker)
            if orders is None:
                if not extra:
                    return worst
                orders = none
            for side in (Side.BID, Side.ASK):
                fills = orders[side] + [(p.price, p.count)] if extra and side is p.side else orders[side]
                if fills:
                    worst = max(worst, projected(position, side, fills)[1])
            return worst

        tickers = set(resting) | {t for t, pos_ in pf.positions.items() if pos_.position}
        others = {t: at_risk(t, False) for t in tickers if t != p.ticker}
        mine_before, mine_after = at_risk(p.ticker, False), at_risk(p.ticker, True)
        category = pf.markets[p.ticker].category
        in_cat = sum(v for t, v in others.items() if pf.markets.get(t, MarketInfo(t, t)).category == category)
        cat_cap = _share_cap(state.bankroll, self._category_share)
        if mine_after > mine_before and in_cat + mine_after > cat_cap and add(
                "max_category_share", f"{p.ticker}: category {category or '(none)'} would have "
                f"{usd(in_cat + mine_after)} at risk, more than {self.config.max_category_share:.0%} of the "
                f"{usd(state.bankroll)} bankroll ({usd(cat_cap)})"):
            return out
        total = sum(others.values())
        if mine_after > mine_before and total + mine_after > self.max_total and add(
                "max_total_exposure", f"{p.ticker}: total at risk would be {usd(total + mine_after)}; "
                f"limit {usd(self.max_total)}"):
            return out

        loss_before, loss_after = self._event_losses(p, pf, before, after)
        event_cap = _share_cap(state.bankroll, self._event_share)
        if loss_after > loss_before and loss_after > event_cap:
            event = pf.markets[p.ticker].event_ticker
            add("event_worst_case", f"{p.ticker}: worst case over the outcomes of {event} would lose "
                f"{usd(loss_after)} (now {usd(loss_before)}); limit {usd(event_cap)} "
                f"({self.config.max_event_loss_share:.0%} of {usd(state.bankroll)})")
        return out

    @staticmethod
    def _event_losses(p: OrderProposal, pf: Portfolio, before: tuple[int, int],
                      after: tuple[int, int]) -> tuple[int, int]:
        """Worst-case loss of the order's event with its market projected without and with the order."""
        info = pf.markets[p.ticker]
        tickers = pf.event_markets(info.event_ticker)
        holdings = pf.holdings(t for t in tickers if t != p.ticker)
        sign = 1 if p.side is Side.BID else -1
        losses = []
        for held, cost in (before, after):
            h = dict(holdings)
            if held:
                h[p.ticker] = (sign * held, cost)
            if not h:
                losses.append(0)
            elif info.mutually_exclusive:
                losses.append(max(0, -min(event_outcome_pnls(h, tickers).values())))
            else:
                losses.append(sum(c for _, c in h.values()))
        return losses[0], losses[1]
