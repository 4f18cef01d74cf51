"""Number types and the strict decoder behind every Polymarket wire struct.

Polymarket writes prices and sizes as decimal strings in their shortest form ("0.5", ".48", "0.920",
"192.3") and Gamma writes some as JSON numbers (`orderPriceMinTickSize: 0.001`). JSON numbers are read
as `Decimal` (never through a float) and every value is parsed exactly with `console.domain.units`:

| annotation   | wire                                     | value                                      |
|--------------|------------------------------------------|--------------------------------------------|
| `Price`      | price string or number, 0..1, <= 4 dp    | int pips on the token's own scale          |
| `Size`       | size string or number, <= 2 dp           | int hundredths of a share (count units)    |
| `TradeSize`  | a trade's size, <= 6 dp (fills can be finer than a count unit) | int millionths of a share |
| `RawPrice`   | a book level's price string              | the exact string (for the book hash), `.pips` |
| `RawSize`    | a book level's size string               | the exact string, `.count`                 |
| `JsonList`   | Gamma's JSON-encoded list strings (`"[\"Yes\", \"No\"]"`) | a tuple of strings         |

A missing required field, a wrong JSON type or an inexact number is a `DecodeError` naming the field;
never a default. Unknown fields are ignored.
"""

from __future__ import annotations

import decimal
from typing import Any, TypeVar

import msgspec

from console.domain.units import UnitError, parse_count, parse_price
from console.venues.errors import DecodeError

T = TypeVar("T")


class Price(int):
    """A price decoded to int pips (0..10000) on its token's scale."""


class Size(int):
    """A size decoded to int hundredths of a share."""


class TradeSize(int):
    """A trade size decoded to int millionths of a share."""


class RawPrice(str):
    """A price string kept verbatim (the book hash covers the exact strings); `.pips` is its value."""

    pips: int


class RawSize(str):
    """A size string kept verbatim; `.count` is its value in hundredths of a share."""

    count: int


class JsonList(tuple):  # type: ignore[type-arg]
    """A JSON-encoded list of strings inside a string field (Gamma's outcomes, clobTokenIds)."""


def _text(obj: Any, what: str) -> str:
    if isinstance(obj, str):
        return obj
    if isinstance(obj, decimal.Decimal):
        return format(obj, "f")
    if isinstance(obj, int) and not isinstance(obj, bool):
        return str(obj)
    raise UnitError(f"{what}: expected a decimal string or number, got {type(obj).__name__} {obj!r}")


def _parse_micro(text: str) -> int:
    whole, dot, frac = text.partition(".")
    if not whole:
        whole = "0"
    if not (whole.isascii() and whole.isdigit()) or (dot and not (frac.isascii() and frac.isdigit())):
        raise UnitError(f"size: {text!r} is not a decimal number")
    if len(frac) > 6 and frac[6:].strip("0"):
        raise UnitError(f"size: {text!r} has more than 6 decimals")
    return int(whole) * 1_000_000 + int((frac[:6] or "0").ljust(6, "0"))


def _raw_price(obj: Any) -> RawPrice:
    if not isinstance(obj, str):
        raise UnitError(f"price: expected a string, got {type(obj).__name__} {obj!r}")
    out = RawPrice(obj)
    out.pips = parse_price(obj)
    return out


def _raw_size(obj: Any) -> RawSize:
    if not isinstance(obj, str):
        raise UnitError(f"size: expected a string, got {type(obj).__name__} {obj!r}")
    out = RawSize(obj)
    out.count = parse_count(obj)
    return out


def _json_list(obj: Any) -> JsonList:
    if not isinstance(obj, str):
        raise UnitError(f"expected a JSON-encoded list in a string, got {type(obj).__name__}")
    try:
        return JsonList(msgspec.json.decode(obj, type=list[str]))
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise UnitError(f"{obj[:60]!r} is not a JSON list of strings ({exc})") from None


_HOOKS = {
    Price: lambda o: Price(parse_price(_text(o, "price"))),
    Size: lambda o: Size(parse_count(_text(o, "size"))),
    TradeSize: lambda o: TradeSize(_parse_micro(_text(o, "size"))),
    RawPrice: _raw_price,
    RawSize: _raw_size,
    JsonList: _json_list,
}


def dec_hook(kind: type, obj: Any) -> Any:
    hook = _HOOKS.get(kind)
    if hook is None:
        raise NotImplementedError(f"no decoder for {kind!r}")
    return hook(obj)


class Wire(msgspec.Struct, kw_only=True, frozen=True):
    """Base of every decoded Polymarket message: keyword-only, immutable, unknown fields ignored."""


_DECODERS: dict[Any, msgspec.json.Decoder[Any]] = {}


def decoder(kind: Any) -> msgspec.json.Decoder[Any]:
    found = _DECODERS.get(kind)
    if found is None:
        found = _DECODERS[kind] = msgspec.json.Decoder(kind, dec_hook=dec_hook, float_hook=decimal.Decimal)
    return found


def decode(kind: type[T] | Any, data: bytes | str, what: str | None = None) -> T:
    """Decode `data` into `kind` or raise DecodeError naming `what` and the field path."""
    try:
        return decoder(kind).decode(data)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise DecodeError(what or getattr(kind, "__name__", str(kind)), str(exc)) from None


def field(wire_name: str, default: Any = msgspec.NODEFAULT) -> Any:
    """A struct field read from `wire_name` (Gamma's camelCase) under a Python name."""
    return msgspec.field(name=wire_name, default=default)
