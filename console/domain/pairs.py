"""The pair registry: which Polymarket token matches which Kalshi market, written and verified by a human.

A TOML file (by default `pairs.toml` in the data directory), one `[[pair]]` table per pair:

    [[pair]]
    kalshi_ticker = "KXSENATEGA-26-D"
    polymarket_token_id = "71321045679252212594626385532706912750332728571942532289631379312455583992563"
    polymarket_condition_id = "0x5f0b1c..."
    orientation = "same"        # "same": the token pays when Kalshi YES does; "inverted": when Kalshi NO does
    verified = false            # set to true only after reading both venues' resolution rules
    notes = "Kalshi settles on the AP call; Polymarket on certification. Runoffs differ."
    polymarket_fee_rate = "0.04"  # optional: the token's taker rate, when the venue does not report one

Unknown keys are errors (a typo in `verified` must not silently leave a pair unverified or, worse,
make it look verified), and so are duplicate (kalshi_ticker, token) pairs.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator


class Orientation(StrEnum):
    SAME = "same"
    INVERTED = "inverted"


class PairRegistryError(ValueError):
    """The pair registry file is malformed; the message names the file, the pair and the key."""


@dataclass(frozen=True)
class Pair:
    kalshi_ticker: str
    polymarket_token_id: str
    polymarket_condition_id: str
    orientation: Orientation
    verified: bool = False
    notes: str = ""
    polymarket_fee_rate: Fraction | None = None


class _PairModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    kalshi_ticker: str
    polymarket_token_id: str
    polymarket_condition_id: str
    orientation: Orientation
    verified: bool = False
    notes: str = ""
    polymarket_fee_rate: str | None = None

    @field_validator("kalshi_ticker", "polymarket_token_id", "polymarket_condition_id")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("must not be empty")
        return v

    @field_validator("orientation", mode="before")
    @classmethod
    def _orientation(cls, v: object) -> Orientation:
        try:
            return Orientation(v)  # type: ignore[arg-type]
        except ValueError:
            raise ValueError(f"{v!r}: use \"same\" or \"inverted\"") from None

    @field_validator("polymarket_fee_rate")
    @classmethod
    def _rate(cls, v: str | None) -> str | None:
        if v is None:
            return v
        try:
            rate = Fraction(v)
        except ValueError:
            raise ValueError(f"{v!r} is not a decimal number") from None
        if not 0 <= rate < 1:
            raise ValueError(f"{v!r} must be in [0, 1)")
        return v


def parse_pairs(text: str, source: str = "pairs.toml") -> list[Pair]:
    """Parse registry TOML text; every problem is a `PairRegistryError` naming `source` and the pair."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PairRegistryError(f"{source}: not valid TOML: {exc}") from None
    extra = set(doc) - {"pair"}
    if extra:
        raise PairRegistryError(f"{source}: unknown top-level key(s) {sorted(extra)}; pairs go in [[pair]] tables")
    tables = doc.get("pair", [])
    if not isinstance(tables, list):
        raise PairRegistryError(f"{source}: 'pair' must be an array of tables ([[pair]])")
    pairs: list[Pair] = []
    seen: set[tuple[str, str]] = set()
    for i, table in enumerate(tables, start=1):
        label = f"{source}: pair #{i}" + (f" ({table.get('kalshi_ticker')})" if isinstance(table, dict) and
                                         table.get("kalshi_ticker") else "")
        try:
            m = _PairModel.model_validate(table)
        except ValidationError as exc:
            problems = "; ".join(_describe(err) for err in exc.errors())
            raise PairRegistryError(f"{label}: {problems}") from None
        key = (m.kalshi_ticker, m.polymarket_token_id)
        if key in seen:
            raise PairRegistryError(f"{label}: duplicate of an earlier pair with the same Kalshi ticker and token")
        seen.add(key)
        rate = None if m.polymarket_fee_rate is None else Fraction(m.polymarket_fee_rate)
        pairs.append(Pair(m.kalshi_ticker, m.polymarket_token_id, m.polymarket_condition_id, m.orientation,
                          m.verified, m.notes, rate))
    return pairs


def load_pairs(path: str | Path) -> list[Pair]:
    """Read the registry file at `path` (see the module docstring)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise PairRegistryError(f"{p}: cannot read the pair registry ({exc.strerror})") from None
    return parse_pairs(text, str(p))


_ALLOWED = ", ".join(_PairModel.model_fields)


def _describe(err: dict) -> str:
    where = ".".join(str(x) for x in err.get("loc", ())) or "pair"
    if err.get("type") == "extra_forbidden":
        return f"unknown key {where!r} (allowed: {_ALLOWED})"
    if err.get("type") == "missing":
        return f"missing key {where!r}"
    msg = err.get("msg", "invalid").removeprefix("Value error, ")
    return f"{where}: {msg}"
