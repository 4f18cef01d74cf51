"""Positions, P&L, exposure and the cost to flatten, exact in micro-dollars.

A position is one signed count per market (Kalshi nets YES against NO): > 0 is long YES, < 0 long
NO. It is kept as FIFO lots of the held outcome, each at the price paid *in that outcome's own
scale* (a NO lot bought with a YES-scale ask fill at p cost 10000 - p per unit). A fill against
the held side first closes lots FIFO (realizing P&L exactly, in integers) and then opens lots on the
other side: buying NO at q while long YES is selling YES at 10000 - q.

- realized P&L excludes fees; fees are summed separately (`net = realized + unrealized - fees`).
- unrealized P&L marks to the *executable* side of the book: long YES at the YES bid, long NO at
  10000 - the YES ask (the NO bid). An empty executable side marks at 0: nothing could be sold.
- exposure (money at risk) of a market is the cost of its open lots: what is lost if it resolves
  against us. Capital stays locked until the market resolves.
- for a mutually exclusive event exactly one market resolves YES (`event_outcome_pnls`); the worst
  outcome is the event's worst case. Markets of other events are independent: each can go against us.
- `flatten_quote` walks the closing side of the book level by level with taker fees.

Books: anything with `best_bid`, `best_ask` and `depth(side, n)` (`BookView`); `console.domain.book.Book`
satisfies it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Protocol

from console.domain.fees import KalshiFees
from console.domain.orders import Fill
from console.domain.side import Side
from console.domain.units import PAYOUT_PER_COUNT_UNIT, PRICE_MAX

_ALL_LEVELS = 10_001  # more levels than any grid has


class BookView(Protocol):
    """The part of `console.domain.book.Book` the portfolio and risk use (YES-scale levels)."""

    @property
    def best_bid(self) -> tuple[int, int] | None: ...

    @property
    def best_ask(self) -> tuple[int, int] | None: ...

    def depth(self, side: Side, n: int) -> list[tuple[int, int]]: ...


@dataclass(frozen=True, slots=True)
class MarketInfo:
    """What the portfolio needs to know about a market besides its book."""

    ticker: str
    event_ticker: str
    category: str = ""
    mutually_exclusive: bool = False  # the event's markets: exactly one resolves YES
    close_ts: int = 0  # Unix seconds, 0 when unknown
    fees: KalshiFees = field(default_factory=KalshiFees)


@dataclass
class Position:
    """One market's position as FIFO lots of the held outcome (see the module docstring)."""

    ticker: str
    lots: deque[list[int]] = field(default_factory=deque)  # [own-scale price, count]; change only via methods
    position: int = 0  # signed: > 0 long YES, < 0 long NO
    cost: int = 0  # sum of price x count over the lots, kept with them (risk reads it on every check)
    realized: int = 0  # micro-dollars, before fees
    fees: int = 0
    volume: int = 0  # count traded
    settled: bool = False

    @property
    def outcome(self) -> str | None:
        return "yes" if self.position > 0 else "no" if self.position < 0 else None

    @property
    def cost_basis(self) -> int:
        """Money paid for the open lots = money at risk (the most this position can lose)."""
        return self.cost

    @property
    def average_price(self) -> Fraction | None:
        """Average price paid per unit of the held outcome, in that outcome's own scale (exact)."""
        held = abs(self.position)
        return Fraction(self.cost_basis, held) if held else None

    def apply_fill(self, side: Side, yes_price: int, count: int, fee: int = 0) -> int:
        """Apply one fill (YES-scale price); returns the P&L it realized."""
        direction = 1 if side is Side.BID else -1
        own_price = yes_price if side is Side.BID else PRICE_MAX - yes_price
        self.fees += fee
        self.volume += count
        realized = 0
        remaining = count
        if self.position * direction < 0:
            exit_price = PRICE_MAX - own_price  # the held outcome's own-scale sale price
            while remaining and self.lots:
                lot = self.lots[0]
                take = min(lot[1], remaining)
                realized += take * (exit_price - lot[0])
                self.cost -= take * lot[0]
                lot[1] -= take
                remaining -= take
                self.position += direction * take
                if not lot[1]:
                    self.lots.popleft()
        if remaining:
            self.lots.append([own_price, remaining])
            self.cost += own_price * remaining
            self.position += direction * remaining
        self.realized += realized
        return realized

    def settle(self, yes_value: int) -> int:
        """Resolve the market: each YES unit pays `yes_value` pips (10000 yes, 0 no), NO the rest."""
        payoff = yes_value if self.position > 0 else PRICE_MAX - yes_value
        realized = sum(count * (payoff - price) for price, count in self.lots)
        self.lots.clear()
        self.position = self.cost = 0
        self.realized += realized
        self.settled = True
        return realized

    def restate(self, position: int, cost_basis: int) -> None:
        """Replace the lots with the venue's position and cost (reconciliation), exactly."""
        self.lots.clear()
        self.position = position
        self.cost = 0
        held = abs(position)
        if held:
            if cost_basis < 0:
                raise ValueError(f"{self.ticker}: cost basis {cost_basis} of a position cannot be negative")
            per_unit, extra = divmod(cost_basis, held)
            if held - extra:
                self.lots.append([per_unit, held - extra])
            if extra:
                self.lots.append([per_unit + 1, extra])
            self.cost = cost_basis

    def mark_value(self, book: BookView | None) -> int:
        """What the open lots are worth at the executable top of book (0 with nothing to hit)."""
        if not self.position or book is None:
            return 0
        if self.position > 0:
            bid = book.best_bid
            return 0 if bid is None else bid[0] * self.position
        ask = book.best_ask
        return 0 if ask is None else (PRICE_MAX - ask[0]) * -self.position

    def unrealized(self, book: BookView | None) -> int:
        return self.mark_value(book) - self.cost_basis


@dataclass(frozen=True, slots=True)
class FlattenQuote:
    """What closing one position against the book right now would do (taker fees per level)."""

    ticker: str
    position: int
    closable: int  # units the book can absorb
    left: int  # units without a bid/ask to hit
    gross_proceeds: int  # money received before fees
    fees: int
    realized: int  # P&L locked in on the closable units, after fees
    cost: int  # slippage below the top-of-book mark plus fees: what flattening costs versus the mark
    limit_yes_price: int | None  # the worst YES price reached: the limit for a marketable reduce-only IOC


def flatten_quote(position: Position, book: BookView | None, fees: KalshiFees) -> FlattenQuote:
    """Walk the closing side: long YES sells into YES bids, long NO sells NO into YES asks."""
    held = abs(position.position)
    closing_side = Side.BID if position.position > 0 else Side.ASK
    levels = book.depth(closing_side, _ALL_LEVELS) if (book is not None and held) else []
    need, gross, fee, limit = held, 0, 0, None
    touch_own = None
    for yes_price, size in levels:
        if not need:
            break
        own = yes_price if closing_side is Side.BID else PRICE_MAX - yes_price
        touch_own = own if touch_own is None else touch_own
        take = min(size, need)
        gross += own * take
        fee += fees.trade_fee(yes_price, take, maker=False)
        need -= take
        limit = yes_price
    closable = held - need
    closed_cost = 0
    to_close = closable
    for price, count in position.lots:
        if not to_close:
            break
        take = min(count, to_close)
        closed_cost += price * take
        to_close -= take
    slippage = (touch_own or 0) * closable - gross
    return FlattenQuote(position.ticker, position.position, closable, need, gross, fee,
                        gross - fee - closed_cost, slippage + fee, limit)


def event_outcome_pnls(holdings: Mapping[str, tuple[int, int]], market_tickers: Iterable[str],
                       *, include_none: bool = False) -> dict[str | None, int]:
    """P&L at resolution of a mutually exclusive event, for each market being the one that says YES.

    `holdings` maps ticker -> (signed position, cost basis). With `include_none`, also the outcome
    where none of the listed markets resolves YES (key None), for events not known to be exhaustive.
    """
    tickers = list(dict.fromkeys(market_tickers))
    outcomes: list[str | None] = list(tickers) + ([None] if include_none else [])
    result: dict[str | None, int] = {}
    for winner in outcomes:
        pnl = 0
        for ticker, (pos, cost) in holdings.items():
            wins = (pos > 0 and ticker == winner) or (pos < 0 and ticker != winner)
            pnl += (abs(pos) * PAYOUT_PER_COUNT_UNIT if wins else 0) - cost
        result[winner] = pnl
    return result


@dataclass(frozen=True, slots=True)
class LockedCapital:
    ticker: str
    close_ts: int
    amount: int


class Portfolio:
    """Every position of the account, with the market metadata needed to group them."""

    def __init__(self, markets: Iterable[MarketInfo] = ()) -> None:
        self.markets: dict[str, MarketInfo] = {}
        self.positions: dict[str, Position] = {}
        self._fill_ids: set[str] = set()
        for info in markets:
            self.add_market(info)

    def add_market(self, info: MarketInfo) -> None:
        self.markets[info.ticker] = info

    def position(self, ticker: str) -> Position:
        pos = self.positions.get(ticker)
        if pos is None:
            pos = self.positions[ticker] = Position(ticker)
        return pos

    def signed(self, ticker: str) -> int:
        pos = self.positions.get(ticker)
        return pos.position if pos else 0

    def apply_fill(self, fill: Fill) -> bool:
        """Apply a fill once; returns False (and changes nothing) for a fill id already applied."""
        if fill.fill_id in self._fill_ids:
            return False
        self._fill_ids.add(fill.fill_id)
        self.position(fill.ticker).apply_fill(fill.side, fill.price, fill.count, fill.fee)
        return True

    def settle(self, ticker: str, yes_value: int) -> int:
        return self.position(ticker).settle(yes_value)

    # --- totals -------------------------------------------------------------------------------
    @property
    def realized(self) -> int:
        return sum(p.realized for p in self.positions.values())

    @property
    def fees(self) -> int:
        return sum(p.fees for p in self.positions.values())

    def unrealized(self, books: Mapping[str, BookView]) -> int:
        return sum(p.unrealized(books.get(t)) for t, p in self.positions.items() if p.position)

    def net_pnl(self, books: Mapping[str, BookView]) -> int:
        return self.realized + self.unrealized(books) - self.fees

    # --- exposure -----------------------------------------------------------------------------
    def exposure(self, ticker: str) -> int:
        pos = self.positions.get(ticker)
        return pos.cost_basis if pos else 0

    @property
    def total_exposure(self) -> int:
        return sum(p.cost_basis for p in self.positions.values())

    def _group(self, key) -> dict[str, int]:
        out: dict[str, int] = {}
        for ticker, pos in self.positions.items():
            if pos.position:
                name = key(self.markets.get(ticker), ticker)
                out[name] = out.get(name, 0) + pos.cost_basis
        return out

    def exposure_by_event(self) -> dict[str, int]:
        return self._group(lambda info, t: info.event_ticker if info else t)

    def exposure_by_category(self) -> dict[str, int]:
        return self._group(lambda info, t: info.category if info else "")

    def capital_locked(self) -> list[LockedCapital]:
        """Money tied up in each open position until its market resolves, soonest first."""
        rows = [LockedCapital(t, self.markets[t].close_ts if t in self.markets else 0, p.cost_basis)
                for t, p in self.positions.items() if p.position]
        return sorted(rows, key=lambda r: (r.close_ts or 2**62, r.ticker))

    def event_markets(self, event_ticker: str) -> list[str]:
        return [t for t, info in self.markets.items() if info.event_ticker == event_ticker]

    def holdings(self, tickers: Iterable[str]) -> dict[str, tuple[int, int]]:
        out = {}
        for t in tickers:
            pos = self.positions.get(t)
            if pos and pos.position:
                out[t] = (pos.position, pos.cost_basis)
        return out

    def event_worst_case(self, event_ticker: str) -> int:
        """Worst P&L at resolution over the event's possible outcomes (<= 0 unless fully hedged).

        Mutually exclusive: exactly one of the event's known markets resolves YES. Otherwise every
        market can independently go against us: minus the sum of the costs.
        """
        tickers = self.event_markets(event_ticker)
        holdings = self.holdings(tickers)
        if not holdings:
            return 0
        info = self.markets[tickers[0]]
        if not info.mutually_exclusive:
            return -sum(cost for _, cost in holdings.values())
        return min(event_outcome_pnls(holdings, tickers).values())

    def flatten_quotes(self, books: Mapping[str, BookView]) -> list[FlattenQuote]:
        return [flatten_quote(p, books.get(t), self.markets[t].fees if t in self.markets else KalshiFees())
                for t, p in self.positions.items() if p.position]

    def cost_to_flatten(self, books: Mapping[str, BookView]) -> tuple[int, int]:
        """(cost versus the marks, units the books cannot absorb) for flattening everything now."""
        quotes = self.flatten_quotes(books)
        return sum(q.cost for q in quotes), sum(q.left for q in quotes)
