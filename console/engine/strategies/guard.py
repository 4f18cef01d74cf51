"""The low-quality-conditions guard every model strategy asks before it trades.

A pure function of the strategy's `MarketView` and its limits: sit out when the book is red (its
prices cannot be trusted), within the cooling-off period after a large realized loss, when the
spread is wider than the limit or a side of the book is empty (thin, uninformative prices), or when
the model's recent calibration has shrunk its sizing below the floor (the model is not trusted).
The answer is a `Verdict` with the `NoTrade` reason (console.domain.edges) and a sentence for the
edges pane, or None when conditions are fine; `gates(verdict)` turns it into the `Gates` that
`edges.evaluate` takes, so the edge row shows the same reason.
"""

from __future__ import annotations

from dataclasses import dataclass

from console.domain.edges import OPEN, Gates, NoTrade
from console.engine.strategies.base import MarketView


@dataclass(frozen=True, slots=True)
class GuardLimits:
    max_spread: int = 800  # YES pips between the best bid and the best ask
    min_shrink: float = 0.3  # calibration's sizing factor below this: the model sits out
    cooling_off_s: float = 900.0  # after the desk's last large loss


@dataclass(frozen=True, slots=True)
class Verdict:
    reason: NoTrade
    message: str


def check(view: MarketView, limits: GuardLimits, model: str = "", category: str = "") -> Verdict | None:
    """Why this market should not be traded right now (first match wins), or None."""
    if not view.healthy:
        return Verdict(NoTrade.BOOK_RED, "the book is stale, gapped or resyncing")
    ctx = view.context
    if ctx is not None:
        last = ctx.last_loss_ms()
        cool_ms = int(limits.cooling_off_s * 1000)
        if last is not None and view.now_ms - last < cool_ms:
            left_s = (last + cool_ms - view.now_ms + 999) // 1000
            return Verdict(NoTrade.COOLING_OFF, f"after a large loss, {left_s} s left")
    bid, ask = view.book.best_bid, view.book.best_ask
    if bid is None or ask is None:
        return Verdict(NoTrade.LOW_QUALITY, f"one-sided book (no {'bid' if bid is None else 'ask'})")
    spread = ask[0] - bid[0]
    if spread > limits.max_spread:
        return Verdict(NoTrade.LOW_QUALITY, f"spread {spread / 100:g}c wider than {limits.max_spread / 100:g}c")
    if ctx is not None and model:
        shrink = ctx.shrink(model, category)
        if shrink < limits.min_shrink:
            return Verdict(NoTrade.LOW_QUALITY, f"{model} calibration poor in {category or 'this category'} "
                                                f"(sizing x{shrink:.2f} < x{limits.min_shrink:.2f})")
    return None


def gates(verdict: Verdict | None) -> Gates:
    """The verdict as `edges.evaluate` gates (so the edge row's reason is the guard's)."""
    if verdict is None:
        return OPEN
    if verdict.reason is NoTrade.BOOK_RED:
        return Gates(book_red=verdict.message)
    if verdict.reason is NoTrade.COOLING_OFF:
        return Gates(cooling_off=verdict.message)
    return Gates(low_quality=verdict.message)
