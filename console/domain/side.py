"""`Side`: which way an order or book level faces on the YES-scale book.

`Side.BID` wants YES (buy YES or sell NO); `Side.ASK` wants NO (buy NO or sell YES). Prices that go
with a Side are always YES-scale pips; a NO price is derived with `console.domain.units.no_price`.
"""

from __future__ import annotations

from enum import StrEnum


class Side(StrEnum):
    BID = "bid"
    ASK = "ask"

    @property
    def outcome(self) -> str:
        """The outcome this side is long: "yes" for a bid, "no" for an ask."""
        return "yes" if self is Side.BID else "no"

    @property
    def opposite(self) -> Side:
        return Side.ASK if self is Side.BID else Side.BID

    @classmethod
    def from_outcome(cls, outcome: str) -> Side:
        if outcome == "yes":
            return cls.BID
        if outcome == "no":
            return cls.ASK
        raise ValueError(f"outcome must be 'yes' or 'no', got {outcome!r}")
