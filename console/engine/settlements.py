"""Settlements: a market the venue pays out closes the desk's position there at the venue's value, once.

Two sources, both read on the kernel thread:

- the WebSocket `market_lifecycle_v2` channel (every market): `determined` announces the result and the
  YES value, `settled` says the venue paid out; the desk then settles its own position at that value;
- the account's REST settlements (`GET /portfolio/settlements`), read with every reconciliation pass
  since the journal began (first pass) or since shortly before the previous pass. This covers a desk
  that was stopped, disconnected or restarted between `determined` and `settled`: the venue's record
  says which count settled at which value and cost, so the desk takes that position (a correction,
  when its own differed) and settles it, instead of reconciliation "correcting" the position to zero
  at zero cost and losing the P&L.

Exactly once: every settlement is journaled (`Journal.record_settlement`, replayed by `load()`), and
a market the journal already settled is never settled again, in this run or after a restart. When the
venue's record later disagrees with the count the desk settled from the WebSocket, that is journaled
and raised as a correction (never applied a second time).

Outcomes: the result is attached to the market's journaled model predictions (`record_outcome`) and
handed to the scorebook (calibration). Markets with predictions but no position are resolved from the
lifecycle channel, or, when the desk missed it, from a market read during reconciliation.
"""

from __future__ import annotations

from collections.abc import Callable

from console.domain.units import PRICE_MAX, format_count, format_price
from console.engine.state import Desk
from console.venues.kalshi import codec_rest as r

#: settlements are re-read from this far before the previous pass (s): clock skew, slow payouts
SETTLEMENT_WINDOW_MARGIN_S = 600
#: markets resolved from a market read per pass at most (a long-unused journal may have many)
RESOLVE_PER_PASS = 500


def yes_value_of(result: str | None, value: int | None) -> int | None:
    """The YES payout in pips from a result and an optional explicit value (None when neither says)."""
    if value is not None:
        return value
    if result == "yes":
        return PRICE_MAX
    if result == "no":
        return 0
    return None


class Settler:
    """Applies settlements and outcomes (see the module docstring). Owned by the `Reconciler`."""

    def __init__(self, desk: Desk, request: Callable[[str, int], None]) -> None:
        self.desk = desk
        self.request = request  # the reconciler's: run a pass soon
        journal = desk.journal
        self.done: dict[str, tuple[int, int | None]] = journal.settlements() if journal is not None else {}
        self.determined: dict[str, tuple[str, int]] = {}  # ticker -> (result, YES value) from the lifecycle
        self.to_resolve: set[str] = set(journal.unresolved_tickers()) if journal is not None else set()
        first = journal.first_session_ms() if journal is not None else None
        self.since_s: int = max(0, (first if first is not None else desk.now_ms) // 1000 - SETTLEMENT_WINDOW_MARGIN_S)
        self.on_outcome: list[Callable[[str, bool], None]] = []

    # --- the lifecycle channel ------------------------------------------------------------------
    def on_lifecycle(self, body) -> None:
        ticker = body.market_ticker
        if body.event_type in ("determined", "amended"):
            value = yes_value_of(body.result, body.settlement_value)
            if value is not None:
                self.determined[ticker] = (body.result or "", value)
        elif body.event_type == "settled":
            known = self.determined.get(ticker)
            if known is None:
                # the desk missed `determined` (started since): the market read and the account's
                # settlements in the next pass say what it paid
                self.to_resolve.add(ticker)
                self.request(f"{ticker} settled", 300)
                return
            result, value = known
            pos = self.desk.portfolio.positions.get(ticker)
            if pos is not None and pos.position:
                self.settle(ticker, result, value, pos.position, "the venue's settled message")
            else:
                # nothing held here; a position the desk missed shows up in the venue's settlements
                self.outcome(ticker, result, value)
                self.request(f"{ticker} settled", 1_000)

    # --- reconciliation -------------------------------------------------------------------------
    def pass_args(self, since_ms: int | None) -> tuple[int, tuple[str, ...]]:
        """(settlements since, tickers to resolve) for the next reconciliation pass."""
        since = self.since_s if since_ms is None else max(0, since_ms // 1000 - SETTLEMENT_WINDOW_MARGIN_S)
        return since, tuple(sorted(self.to_resolve))[:RESOLVE_PER_PASS]

    def on_pass(self, settlements: tuple[r.Settlement, ...], results: tuple[tuple[str, str, int | None], ...],
                asked: tuple[str, ...]) -> None:
        """A reconciliation pass read these (oldest settlement applied first)."""
        for s in sorted(settlements, key=lambda s: s.settled_time):
            self.from_venue(s)
        for ticker, result, value in results:
            yes = yes_value_of(result, value)
            if yes is not None:
                self.outcome(ticker, result, yes)
        self.to_resolve.difference_update(asked)  # not finalized yet: the lifecycle channel will say when

    def from_venue(self, s: r.Settlement) -> None:
        desk = self.desk
        ticker = s.ticker
        value = yes_value_of(s.market_result, None if s.value_cents is None else s.value_cents * 100)
        if value is None:
            desk.alert("error", "settlement", f"{ticker}: the venue's settlement has no value (result "
                       f"{s.market_result!r}); position left to reconciliation")
            return
        signed = s.yes_count - s.no_count
        cost = s.yes_total_cost if signed > 0 else s.no_total_cost
        if ticker in self.done:
            _, settled = self.done[ticker]
            if settled is not None and settled != signed:
                self._correct(ticker, f"{ticker}: settled {format_count(settled)} here, the venue settled "
                              f"{format_count(signed)}; the P&L of the difference is not on the desk",
                              settled, signed)
                self.done[ticker] = (value, signed)  # said once
            return
        local = desk.position(ticker)
        if local != signed:
            # the venue's record is the truth at payout time (missed fills, a position never journaled)
            desk.portfolio.position(ticker).restate(signed, cost if signed else 0)
            if desk.journal is not None:
                desk.journal.record_restatement(ticker, signed, cost if signed else 0, desk.now_ms)
            self._correct(ticker, f"{ticker}: position {format_count(local)} taken as the venue's settled "
                          f"{format_count(signed)} before its settlement", local, signed)
        self.settle(ticker, s.market_result, value, signed, "the venue's settlements")

    # --- applying -------------------------------------------------------------------------------
    def settle(self, ticker: str, result: str, value: int, position: int, source: str) -> None:
        desk = self.desk
        if ticker in self.done:
            return
        realized = desk.portfolio.settle(ticker, value) if position else 0
        self.done[ticker] = (value, position)
        if desk.journal is not None:
            desk.journal.record_settlement(ticker, value, desk.now_ms, position=position)
        held = (f"{format_count(abs(position))} {'YES' if position > 0 else 'NO'} held, realized "
                f"{realized / 1e6:+.2f} $") if position else "nothing held"
        desk.alert("info", "settlement", f"{ticker} settled {result or 'scalar'} at {format_price(value)} "
                   f"({source}): {held}")
        note = getattr(desk, "note_realized", None)
        if position and note is not None:
            note(ticker, realized)
        desk.changed = True
        self.outcome(ticker, result, value)

    def outcome(self, ticker: str, result: str, value: int) -> None:
        """Attach the outcome to the market's predictions (a scalar value strictly inside is no YES/NO)."""
        self.to_resolve.discard(ticker)
        if value not in (0, PRICE_MAX):
            return
        yes = value == PRICE_MAX
        if self.desk.journal is not None and self.desk.journal.record_outcome(ticker, yes, self.desk.now_ms) == 0:
            return  # no open predictions (or already resolved): nothing new to score
        book = getattr(self.desk, "scorebook", None)
        if book is not None and hasattr(book, "on_outcome"):
            book.on_outcome(self.desk.journal, ticker)  # calibration and the sizing shrink see it at once
        for hook in self.on_outcome:
            hook(ticker, yes)

    def _correct(self, ticker: str, message: str, local: int | None, venue: int) -> None:
        desk = self.desk
        if desk.journal is not None:
            desk.journal.record_correction(desk.now_ms, "settlement", message, ticker=ticker, field_name="position",
                                           local_value=local, venue_value=venue)
        desk.alert("warn", "reconciliation", message)
