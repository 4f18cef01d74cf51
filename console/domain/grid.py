"""`PriceGrid`: the valid prices of one market, from its `price_ranges`.

A market lists bands `{start, end, step}` in dollars. A price is valid when it lies strictly between
$0 and $1 and sits on the step grid of a band that contains it. The grid maps each valid price (pips,
YES scale) to a dense level index and back, so books can be plain arrays.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from console.domain.units import PRICE_MAX, UnitError, format_price, parse_price

_WHOLE, _HALF, _QUINT, _DECI, _CENTI = 100, 50, 20, 10, 1  # steps in pips
_CENTER_EDGE = {"whole": _WHOLE, "half": _HALF, "quint": _QUINT, "deci": _DECI, "centi": _CENTI}

#: price level structures by name, as bands (start, end, step) in pips
STRUCTURES: dict[str, tuple[tuple[int, int, int], ...]] = {
    "linear_cent": ((0, 10000, _WHOLE),),
    "deci_cent": ((0, 10000, _DECI),),
    "tapered_deci_cent": ((0, 1000, _DECI), (1000, 9000, _WHOLE), (9000, 10000, _DECI)),
    "center_deci_edge_centi_cent": ((0, 100, _CENTI), (100, 9900, _DECI), (9900, 10000, _CENTI)),
}
for _center, _edge in (
    ("whole", "half"), ("whole", "quint"), ("half", "half"), ("half", "quint"),
    ("half", "deci"), ("quint", "quint"), ("quint", "deci"),
):
    STRUCTURES[f"center_{_center}_edge_{_edge}_cent"] = (
        (0, 1000, _CENTER_EDGE[_edge]),
        (1000, 9000, _CENTER_EDGE[_center]),
        (9000, 10000, _CENTER_EDGE[_edge]),
    )


class OffGridPrice(ValueError):
    """A price that is not on the market's grid."""


@dataclass(frozen=True)
class PriceGrid:
    """The valid YES-scale prices of one market, with index <-> price maps."""

    bands: tuple[tuple[int, int, int], ...]
    prices: tuple[int, ...] = field(init=False, repr=False)
    _index: tuple[int, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not self.bands:
            raise ValueError("a price grid needs at least one band")
        valid: set[int] = set()
        for start, end, step in self.bands:
            if not (0 <= start < end <= PRICE_MAX) or step <= 0:
                raise ValueError(f"bad price band {format_price(start)}-{format_price(end)} step {step}")
            valid.update(p for p in range(start, end + 1, step) if 0 < p < PRICE_MAX)
        prices = tuple(sorted(valid))
        index = [-1] * (PRICE_MAX + 1)
        for i, p in enumerate(prices):
            index[p] = i
        object.__setattr__(self, "prices", prices)
        object.__setattr__(self, "_index", tuple(index))

    @classmethod
    def for_structure(cls, name: str) -> PriceGrid:
        try:
            return cls(STRUCTURES[name])
        except KeyError:
            raise ValueError(f"unknown price_level_structure {name!r}") from None

    @classmethod
    def from_wire(cls, price_ranges: Iterable[Mapping[str, str]]) -> PriceGrid:
        """Build from Kalshi's `price_ranges` ([{"start": "0.00", "end": "0.10", "step": "0.001"}])."""
        try:
            bands = tuple(
                (parse_price(r["start"]), parse_price(r["end"]), parse_price(r["step"])) for r in price_ranges
            )
        except (KeyError, TypeError) as exc:
            raise UnitError(f"price_ranges: malformed band ({exc})") from exc
        return cls(bands)

    def to_wire(self) -> list[dict[str, str]]:
        return [
            {"start": format_price(s), "end": format_price(e), "step": format_price(st)}
            for s, e, st in self.bands
        ]

    def __len__(self) -> int:
        return len(self.prices)

    def is_valid(self, price_pips: int) -> bool:
        return 0 < price_pips < PRICE_MAX and self._index[price_pips] >= 0

    def index_of(self, price_pips: int) -> int:
        """Level index of a YES-scale price; raises `OffGridPrice` when it is not on the grid."""
        if not (0 < price_pips < PRICE_MAX) or (i := self._index[price_pips]) < 0:
            raise OffGridPrice(f"price {format_price(price_pips)} is not on this market's price grid")
        return i

    def price_at(self, index: int) -> int:
        if not 0 <= index < len(self.prices):
            raise IndexError(f"level index {index} outside 0..{len(self.prices) - 1}")
        return self.prices[index]

    @property
    def min_price(self) -> int:
        return self.prices[0]

    @property
    def max_price(self) -> int:
        return self.prices[-1]

    def step_at(self, price_pips: int) -> int:
        """The finest tick that applies at a price (for quoting one tick better)."""
        return min(step for start, end, step in self.bands if start <= price_pips <= end)

    def round_down(self, price_pips: int) -> int | None:
        """The highest valid price <= price_pips, or None."""
        return self._nearest(price_pips, -1)

    def round_up(self, price_pips: int) -> int | None:
        """The lowest valid price >= price_pips, or None."""
        return self._nearest(price_pips, +1)

    def _nearest(self, price_pips: int, direction: int) -> int | None:
        p = min(max(price_pips, 0), PRICE_MAX)
        while 0 <= p <= PRICE_MAX:
            if 0 < p < PRICE_MAX and self._index[p] >= 0:
                return p
            p += direction
        return None
