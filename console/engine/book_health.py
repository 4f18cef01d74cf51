"""Per-market book health: green / amber / red with the reason, from what the book manager observed.

A local book is worth trading on only while there is evidence it still equals the venue's. Evidence is
an applied update, a snapshot, or a REST cross-check that matched. The classification, first match wins:

red (the market leaves auto trading until green again)
  - no snapshot yet
  - a known sequence gap (or lost message, or disconnect) not yet repaired by a snapshot
  - a refused update (a level would go negative, an off-grid price): the copy is inconsistent
  - a REST cross-check that failed `cross_check_strikes` times in a row
  - no evidence for longer than `silence_s`
amber
  - a REST cross-check that differed but is not confirmed yet (REST and the stream race by a few ms)
  - a gap repaired less than `healed_window_s` ago
  - the last snapshot older than `snapshot_max_age_s`
  - no evidence for longer than `slow_s` (a quiet market stays green when cross-checks keep passing)
green otherwise.

Times are the manager's monotonic clock in nanoseconds; ages are reported in seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from console.domain.book import Book
from console.domain.side import Side
from console.domain.units import format_count, format_price

NS = 1_000_000_000


class Health(StrEnum):
    GREEN = "green"
    AMBER = "amber"
    RED = "red"


@dataclass(frozen=True)
class HealthThresholds:
    """When a book turns amber or red (seconds). See the module docstring."""

    silence_s: float = 120.0
    slow_s: float = 30.0
    snapshot_max_age_s: float = 900.0
    healed_window_s: float = 60.0
    cross_check_strikes: int = 2

    def __post_init__(self) -> None:
        for name in ("silence_s", "slow_s", "snapshot_max_age_s", "healed_window_s"):
            if not getattr(self, name) > 0:
                raise ValueError(f"book health: {name} = {getattr(self, name)!r}: must be > 0")
        if self.slow_s >= self.silence_s:
            raise ValueError(f"book health: slow_s ({self.slow_s}) must be below silence_s ({self.silence_s})")
        if self.cross_check_strikes < 1:
            raise ValueError("book health: cross_check_strikes must be >= 1")


@dataclass(frozen=True)
class LevelMismatch:
    side: Side
    price: int  # YES scale
    local: int
    rest: int

    def __str__(self) -> str:
        return f"{self.side.value} {format_price(self.price)}: local {format_count(self.local)}, " \
               f"REST {format_count(self.rest)}"


@dataclass(frozen=True)
class CrossCheck:
    """The result of comparing a local book with the venue's REST book."""

    ok: bool
    mismatches: tuple[LevelMismatch, ...]
    levels_compared: int
    at_ns: int

    def describe(self, limit: int = 3) -> str:
        if self.ok:
            return f"matches REST ({self.levels_compared} levels)"
        shown = "; ".join(str(m) for m in self.mismatches[:limit])
        more = f" and {len(self.mismatches) - limit} more" if len(self.mismatches) > limit else ""
        return f"{len(self.mismatches)} levels differ from REST: {shown}{more}"


@dataclass
class MarketState:
    """What the manager knows about one market's book (mutable; owned by the kernel thread)."""

    venue: str
    ticker: str
    book: Book
    sid: int | None = None
    snapshot_ns: int | None = None
    gap: str | None = None  # an unrepaired gap, described
    gap_ns: int = 0
    gaps_seen: int = 0
    healed_ns: int | None = None
    check: CrossCheck | None = None
    check_ok_ns: int | None = None
    strikes: int = 0
    extra: dict = field(default_factory=dict)

    def note_gap(self, description: str, now_ns: int) -> None:
        if self.gap is None:
            self.gap, self.gap_ns = description, now_ns
        self.gaps_seen += 1

    def note_snapshot(self, now_ns: int) -> None:
        if self.gap is not None:
            self.gap = None
            self.healed_ns = now_ns
        self.snapshot_ns = now_ns
        self.strikes = 0  # the cross-check compared an older copy

    def evidence_ns(self) -> int:
        return max(self.book.last_recv_ns, self.snapshot_ns or 0, self.check_ok_ns or 0)


@dataclass(frozen=True)
class MarketHealth:
    venue: str
    ticker: str
    level: Health
    reason: str
    update_age_s: float | None
    snapshot_age_s: float | None
    gaps_seen: int
    cross_check_ok: bool | None
    cross_check_age_s: float | None

    def as_dict(self) -> dict:
        return {k: (v.value if isinstance(v, Health) else v) for k, v in self.__dict__.items()}


def _age(now_ns: int, then_ns: int | None) -> float | None:
    return None if not then_ns else (now_ns - then_ns) / NS


def _secs(seconds: float) -> str:
    return f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


def classify(state: MarketState, now_ns: int, th: HealthThresholds) -> MarketHealth:
    """Green / amber / red with the reason (see the module docstring for the rules)."""
    update_age = _age(now_ns, state.evidence_ns())
    snapshot_age = _age(now_ns, state.snapshot_ns)
    check = state.check

    def result(level: Health, reason: str) -> MarketHealth:
        return MarketHealth(state.venue, state.ticker, level, reason, update_age, snapshot_age, state.gaps_seen,
                            None if check is None else check.ok, _age(now_ns, check.at_ns) if check else None)

    if state.snapshot_ns is None:
        return result(Health.RED, "no snapshot yet")
    if state.gap is not None:
        return result(Health.RED, f"{state.gap} {_secs(_age(now_ns, state.gap_ns) or 0)} ago; "
                                  "waiting for a fresh snapshot")
    if state.book.damaged:
        return result(Health.RED, "an update was refused (a level would go negative or the price is off the "
                                  "grid): the book is inconsistent until a fresh snapshot")
    if check is not None and not check.ok and state.strikes >= th.cross_check_strikes:
        return result(Health.RED, f"REST cross-check failed {state.strikes}x: {check.describe()}")
    if update_age is not None and update_age > th.silence_s:
        return result(Health.RED, f"no update for {_secs(update_age)} (limit {_secs(th.silence_s)})")
    if check is not None and not check.ok and state.strikes:
        return result(Health.AMBER, f"REST cross-check differs (unconfirmed, recheck): {check.describe()}")
    healed_age = _age(now_ns, state.healed_ns)
    if healed_age is not None and healed_age < th.healed_window_s:
        return result(Health.AMBER, f"seq gap repaired {_secs(healed_age)} ago")
    if snapshot_age is not None and snapshot_age > th.snapshot_max_age_s:
        return result(Health.AMBER, f"last snapshot {_secs(snapshot_age)} ago")
    if update_age is not None and update_age > th.slow_s:
        return result(Health.AMBER, f"slow: last update {_secs(update_age)} ago")
    checked = f", REST check ok {_secs(_age(now_ns, check.at_ns) or 0)} ago" if check is not None and check.ok else ""
    return result(Health.GREEN, f"ok: updated {_secs(update_age or 0)} ago{checked}")
