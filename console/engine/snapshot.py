"""Builds the immutable `DeskSnapshot` the front ends read (at most `snapshot_hz` times a second,
only when something changed). Runs on the kernel thread; everything it returns is a fresh tuple or
frozen dataclass, so a reader on another thread never sees a half-made snapshot.
"""

from __future__ import annotations

from collections import deque

from console.domain.orders import OrderState
from console.domain.side import Side
from console.domain.units import COUNT_PER_CONTRACT, MICROS_PER_DOLLAR, PRICE_MAX
from console.engine.control import (
    BookTop,
    DeskSnapshot,
    MarketRow,
    OrderRow,
    PositionRow,
    ProposalRow,
    RiskMeter,
)
from console.engine.state import Desk

BOOK_LEVELS = 10
PNL_POINTS = 600


class SnapshotBuilder:
    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        self.version = 0
        self.pnl_marks: deque[int] = deque(maxlen=PNL_POINTS)
        self.arbs = None  # console.engine.arbs.ArbDesk when arbitrage is on (attach_arbs)

    def day_pnl(self) -> int:
        desk = self.desk
        books = {t: b for t in desk.portfolio.positions if (b := desk.book(t)) is not None}
        net = desk.portfolio.net_pnl(books)
        return 0 if desk.day_start_pnl is None else net - desk.day_start_pnl

    def build(self) -> DeskSnapshot:
        desk = self.desk
        self.version += 1
        books = {}
        own: dict[str, list] = {}
        for order in desk.open.values():
            own.setdefault(order.ticker, []).append(order)
        for ticker in desk.watched:
            book = desk.book(ticker)
            if book is None:
                continue
            level, reason = desk.health(ticker)
            books[ticker] = BookTop(ticker, desk.venue, tuple(book.depth(Side.BID, BOOK_LEVELS)),
                                    tuple(book.depth(Side.ASK, BOOK_LEVELS)), level, reason, desk.last_price.get(ticker),
                                    tuple((o.side, o.price, o.remaining) for o in own.get(ticker, ())
                                          if o.remaining))
        markets = []
        for ticker, meta in desk.markets.items():
            book = desk.book(ticker)
            bid = book.best_bid if book else None
            ask = book.best_ask if book else None
            level, reason = desk.health(ticker) if book else ("red", "not watched")
            markets.append(MarketRow(ticker, desk.venue, meta.title, meta.category, desk.last_price.get(ticker),
                                     bid[0] if bid else None, ask[0] if ask else None,
                                     edge.edge_after_fees if (edge := desk.edge_rows.get(ticker)) else None,
                                     level, reason))
        orders = tuple(OrderRow(o.client_order_id, o.ticker, o.side, o.price, o.filled, o.remaining, o.state.value,
                                o.origin, o.client_order_id in desk.adopted) for o in desk.open.values())
        proposals = tuple(ProposalRow(p.intent_id, p.intent.ticker, p.intent.side, p.intent.price,  # type: ignore[attr-defined]
                                      p.intent.count, p.intent.strategy, p.intent.edge_after_fees,  # type: ignore[attr-defined]
                                      p.intent.reason, p.expires_ms) for p in desk.proposals.values())  # type: ignore[attr-defined]
        positions = []
        mark_books = {}
        for ticker, pos in desk.portfolio.positions.items():
            if not pos.position and not pos.realized:
                continue
            book = desk.book(ticker)
            if book is not None:
                mark_books[ticker] = book
            mark = None
            if book is not None and pos.position:
                top = book.best_bid if pos.position > 0 else book.best_ask
                mark = None if top is None else (top[0] if pos.position > 0 else PRICE_MAX - top[0])
            avg = pos.average_price
            meta = desk.markets.get(ticker)
            positions.append(PositionRow(ticker, pos.position, int(avg) if avg is not None else 0, mark, pos.realized,
                                         pos.unrealized(book) if book is not None and pos.position else None,
                                         pos.fees, pos.cost_basis, meta.close_ts * 1000 if meta and meta.close_ts else None))
        cost, _left = desk.portfolio.cost_to_flatten(mark_books)
        day = self.day_pnl()
        self.pnl_marks.append(day)
        blocked = tuple((t, (f"{len(cids)} order(s) of unknown outcome ({', '.join(cids[:2])}); "
                             "no new orders until reconciliation settles them"))
                        for t, cids in sorted(desk.unknown_tickers().items()))
        if not desk.ready:
            blocked += (("*", "reconciling with the venue before trading"),)
        risk = self._meters(day)
        return DeskSnapshot(
            version=self.version, ts_ms=desk.now_ms, mode=desk.mode, mode_reason=desk.mode_reason,
            flattening=desk.flattening, flatten_report=desk.flatten_report, venue=desk.venue,
            venue_health="green" if desk.feed.connected else "red", venue_reason=desk.feed.reason,
            books=books, markets=tuple(markets), orders=orders, proposals=proposals, positions=tuple(positions),
            risk=risk, blocked_markets=blocked, cost_to_flatten=cost, pnl_today=tuple(self.pnl_marks),
            alerts=tuple(list(desk.alerts)[-50:]),
            arbs=self.arbs.rows() if self.arbs is not None else (),
            edges=tuple(desk.edge_rows[t] for t in desk.watched if t in desk.edge_rows),
        )

    def _meters(self, day: int) -> tuple[RiskMeter, ...]:
        desk = self.desk
        cfg = desk.config.risk
        biggest = max((abs(p.position) for p in desk.portfolio.positions.values()), default=0)
        return (
            RiskMeter("total exposure", desk.portfolio.total_exposure / MICROS_PER_DOLLAR,
                      cfg.max_total_exposure_dollars, "$"),
            RiskMeter("day P&L", day / MICROS_PER_DOLLAR, -cfg.daily_loss_limit_dollars, "$"),
            RiskMeter("largest position", biggest / COUNT_PER_CONTRACT, cfg.max_contracts_per_market, "contracts"),
            RiskMeter("orders", desk.gate.rate.count(desk.now_ms), cfg.max_orders_per_minute, "/min"),
            RiskMeter("unknown orders", sum(1 for o in desk.open.values() if o.state is OrderState.UNKNOWN), 1, "orders"),
        )
