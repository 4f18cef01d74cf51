"""Flatten: halt, cancel every resting order, then close every position through the book.

1. HALT (nothing new from strategies or the operator), cancel every open order the desk knows, and
   ask the venue to cancel all resting orders of the account (orders the desk does not know too).
2. Rounds: read the venue's positions and fresh books (REST, not the stream: the freshest view and
   the venue's own numbers), then for each position send one reduce-only IOC priced through the book
   as far as the book goes (the worst level needed to close it, from `flatten_quote`). Wait for the
   answers, then the next round with fresh books.
3. Stop when the venue shows no position, when a round finds nothing it can close (out of book), or
   after `flatten_max_rounds` / `flatten_timeout_s`; report what is left and what it cost, on the
   snapshot (`flatten_report`) and as an Alert. The desk stays HALTED.

Flatten orders pass the risk gate like every order, but the rules that would stop an emergency exit
for reasons that cannot make risk worse are tolerated: fat_finger and book_health (the price comes
from a fresh venue book), order_rate, unknown_orders and reduce_only (each order is reduce-only at
the venue and sized from the venue's own position read just before, so it can never flip one).
Exposure rules still apply; an exit never makes them worse.

Cost = fees + slippage: for every closing fill, how much worse its price was than the executable top
of book when flatten began.
"""

from __future__ import annotations

from console.domain.fees import KalshiFees
from console.domain.portfolio import Position, flatten_quote
from console.domain.risk import OrderProposal, usd
from console.domain.side import Side
from console.domain.units import PRICE_MAX, format_count
from console.engine.control import Mode
from console.engine.messages import CancelAllAction, FlattenBooks, FlattenFetch
from console.engine.state import Desk

ORIGIN = "flatten"
TOLERATED = frozenset({"fat_finger", "book_health", "order_rate", "unknown_orders", "reduce_only"})
CANCEL_WAIT_MS = 1_000


class LevelsView:
    """A REST book (YES-scale levels, ascending) seen as the portfolio's BookView."""

    def __init__(self, bids: tuple[tuple[int, int], ...], asks: tuple[tuple[int, int], ...]) -> None:
        self._bids = sorted(bids, reverse=True)
        self._asks = sorted(asks)

    @property
    def best_bid(self) -> tuple[int, int] | None:
        return self._bids[0] if self._bids else None

    @property
    def best_ask(self) -> tuple[int, int] | None:
        return self._asks[0] if self._asks else None

    def depth(self, side: Side, n: int) -> list[tuple[int, int]]:
        return list((self._bids if side is Side.BID else self._asks)[:n])


class Flattener:
    def __init__(self, desk: Desk, execution) -> None:
        self.desk = desk
        self.execution = execution
        self.active = False
        self.phase = ""
        self.reason = ""
        self.round_no = 0
        self.started_ms = 0
        self.phase_ms = 0
        self.round_orders: set[str] = set()
        self.all_orders: set[str] = set()
        self.touch: dict[str, tuple[Side, int]] = {}  # ticker -> (closing side, YES touch price at the start)
        self.fees = 0
        self.slippage = 0
        self.closed: set[str] = set()
        execution.on_order_done.append(self._order_done)
        execution.on_new_fill.append(self._on_fill)

    def start(self, reason: str) -> None:
        desk = self.desk
        if self.active:
            return
        self.active, self.reason, self.round_no = True, reason, 0
        self.started_ms = desk.now_ms
        self.round_orders, self.all_orders, self.touch, self.closed = set(), set(), {}, set()
        self.fees = self.slippage = 0
        desk.flattening = True
        desk.flatten_report = "flattening..."
        desk.set_mode(Mode.HALTED, f"flatten ({reason})")
        desk.proposals.clear()
        n = self.execution.cancel_where(lambda o: True)
        desk.act(CancelAllAction(f"flatten ({reason})"))
        desk.alert("warn", "flatten", f"flatten ({reason}): halted, cancelling {n} open order(s), then closing "
                   "every position")
        self._phase("cancelling")

    def _phase(self, phase: str) -> None:
        self.phase, self.phase_ms = phase, self.desk.now_ms

    def on_tick(self) -> None:
        if not self.active:
            return
        desk = self.desk
        cfg = desk.config.engine
        if desk.now_ms - self.started_ms > cfg.flatten_timeout_s * 1000 and self.phase != "fetching":
            self._finish(None, f"gave up after {cfg.flatten_timeout_s:g} s")
            return
        if self.phase == "cancelling":
            resting = [o for o in desk.open.values() if o.origin != ORIGIN]
            if not resting or desk.now_ms - self.phase_ms >= CANCEL_WAIT_MS:
                self._next_round()
        elif self.phase == "closing" and not self.round_orders:
            self._next_round()

    def _next_round(self) -> None:
        cfg = self.desk.config.engine
        if self.round_no >= cfg.flatten_max_rounds:
            self._finish(None, f"stopped after {self.round_no} rounds")
            return
        self.round_no += 1
        self._phase("fetching")
        self.desk.act(FlattenFetch(self.round_no))

    def on_books(self, result: FlattenBooks) -> None:
        desk = self.desk
        if not self.active or result.round_no != self.round_no:
            return
        if not result.ok:
            desk.alert("warn", "flatten", f"flatten round {self.round_no}: could not read the venue ({result.message}); "
                       "trying again")
            self._phase("closing")  # no orders out: the next tick starts another round
            return
        held = {t: p for t, p in result.positions.items() if p}
        if not held:
            self._finish(result, "")
            return
        self.round_orders = set()
        for ticker, position in sorted(held.items()):
            snapshot = result.books.get(ticker)
            view = LevelsView(snapshot.bids, snapshot.asks) if snapshot else LevelsView((), ())
            self._close(ticker, position, view)
        if not self.round_orders:
            self._finish(result, "")
            return
        self._phase("closing")

    def _close(self, ticker: str, position: int, view: LevelsView) -> None:
        desk = self.desk
        pos = Position(ticker)
        pos.restate(position, 0)  # only the size matters for the book walk
        meta = desk.markets.get(ticker)
        quote = flatten_quote(pos, view, meta.fees if meta else KalshiFees())
        if quote.closable <= 0 or quote.limit_yes_price is None:
            return
        side = Side.ASK if position > 0 else Side.BID  # long YES sells into bids; long NO buys YES at asks
        if ticker not in self.touch:
            top = view.best_bid if side is Side.ASK else view.best_ask
            self.touch[ticker] = (side, top[0] if top else quote.limit_yes_price)
        price = min(max(quote.limit_yes_price, 1), PRICE_MAX - 1)
        count = quote.closable
        proposal = OrderProposal(ticker, side, price, count, ORIGIN, True)
        rejections = desk.gate.check_all(proposal, desk.risk_state(ticker))
        blocking = [r for r in rejections if r.rule not in TOLERATED]
        if blocking:
            desk.alert("error", "flatten", f"flatten: {ticker} not closed: {blocking[0]}")
            return
        order = self.execution.send(ticker, side, price, count, origin=ORIGIN, time_in_force="immediate_or_cancel",
                                    reduce_only=True, group=False)
        self.round_orders.add(order.client_order_id)
        self.all_orders.add(order.client_order_id)

    def _order_done(self, order) -> None:
        if order.client_order_id in self.all_orders:
            self.round_orders.discard(order.client_order_id)

    def _on_fill(self, fill, client_order_id: str | None) -> None:
        if not self.active or client_order_id not in self.all_orders:
            return
        self.fees += fill.fee
        touch = self.touch.get(fill.ticker)
        if touch is not None:
            _, top = touch
            self.slippage += (top - fill.price) * fill.count if fill.side is Side.ASK else (fill.price - top) * fill.count

    def _finish(self, result: FlattenBooks | None, why: str) -> None:
        desk = self.desk
        self.active = False
        desk.flattening = False
        secs = (desk.now_ms - self.started_ms) / 1000
        left = {t: p for t, p in (result.positions if result else {}).items() if p}
        if result is None:
            left = {t: p.position for t, p in desk.portfolio.positions.items() if p.position}
        parts = []
        for ticker, pos in sorted(left.items()):
            snapshot = result.books.get(ticker) if result else None
            side_empty = snapshot is None or not (snapshot.bids if pos > 0 else snapshot.asks)
            hint = ("no bids to sell YES into" if pos > 0 else "no asks to buy YES from") if side_empty else "not filled"
            parts.append(f"{ticker} {format_count(abs(pos))} {'YES' if pos > 0 else 'NO'} ({hint})")
        cost = self.fees + self.slippage
        head = f"flatten ({self.reason}) {'done' if not left else 'incomplete'} in {self.round_no} round(s), {secs:.2f} s"
        if why:
            head += f" ({why})"
        text = (f"{head}: cost {usd(cost)} (fees {usd(self.fees)}, slippage {usd(self.slippage)}); "
                + (f"left: {'; '.join(parts)}" if parts else "no positions left"))
        desk.flatten_report = text
        desk.alert("warn" if left else "info", "flatten", text)
        desk.changed = True
