"""Number types and the strict decoder behind every Kalshi wire struct.

Kalshi sends prices, counts and money as decimal strings (`"0.5600"`, `"10.00"`, `"0.017500"`). The
struct fields that hold them are annotated with the marker types below; the decoder's `dec_hook`
parses the string exactly with `console.domain.units` and stores an `int` (a subclass that behaves
exactly like int) in DESIGN.md units:

| annotation    | wire                               | stored                         |
|---------------|------------------------------------|--------------------------------|
| `Pips`        | dollar price, up to 4 decimals     | int pips 0..10000 (own scale)  |
| `Count`       | count string, up to 2 decimals, >=0 | int hundredths of a contract   |
| `SignedCount` | signed count (`position_fp`, `delta_fp`) | int hundredths          |
| `Money`       | signed dollar amount, up to 6 decimals | int micro-dollars          |

A field that is missing when required, has the wrong JSON type, or holds a malformed or inexact
number is a `DecodeError` naming the field path; nothing is ever replaced by a default. Unknown fields
are ignored (Kalshi adds fields often). Optional fields are `None` when absent, never a made-up value.
"""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec

from console.domain.units import UnitError, parse_count, parse_money, parse_price
from console.venues.errors import DecodeError

T = TypeVar("T")


class Pips(int):
    """A dollar price string decoded to int pips (on the scale the field's name says)."""


class Count(int):
    """A non-negative count string decoded to int hundredths of a contract."""


class SignedCount(int):
    """A signed count string decoded to int hundredths of a contract."""


class Money(int):
    """A signed dollar amount (up to 6 decimals) decoded to int micro-dollars."""


def _parse_signed_count(text: Any) -> int:
    return parse_count(text, signed=True)


_PARSERS = {Pips: parse_price, Count: parse_count, SignedCount: _parse_signed_count, Money: parse_money}


def dec_hook(kind: type, obj: Any) -> Any:
    parser = _PARSERS.get(kind)
    if parser is None:
        raise NotImplementedError(f"no decoder for {kind!r}")
    if not isinstance(obj, str):
        # Kalshi's fixed-point fields are always strings; a bare JSON number here is the retired
        # integer-cent or integer-count format (or a float), which must not be guessed at
        raise UnitError(f"expected a decimal string, got {type(obj).__name__} {obj!r}")
    # msgspec checks that a hook returns an instance of the annotated type; these are int subclasses
    return kind(parser(obj))


class Wire(msgspec.Struct, kw_only=True, frozen=True):
    """Base of every decoded Kalshi message: keyword-only, immutable, unknown fields ignored."""


_DECODERS: dict[Any, msgspec.json.Decoder[Any]] = {}


def decoder(kind: type[T] | Any) -> msgspec.json.Decoder[T]:
    """A cached strict JSON decoder for a wire type (struct, list of structs, union)."""
    found = _DECODERS.get(kind)
    if found is None:
        found = _DECODERS[kind] = msgspec.json.Decoder(kind, dec_hook=dec_hook)
    return found


def decode(kind: type[T] | Any, data: bytes | str, what: str | None = None) -> T:
    """Decode `data` into `kind` or raise DecodeError naming `what` and the field path."""
    try:
        return decoder(kind).decode(data)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise DecodeError(what or getattr(kind, "__name__", str(kind)), str(exc)) from None


def convert(kind: type[T] | Any, obj: Any, what: str | None = None) -> T:
    """Like `decode` but from already-parsed JSON (dicts and lists)."""
    try:
        return msgspec.convert(obj, kind, dec_hook=dec_hook)
    except msgspec.ValidationError as exc:
        raise DecodeError(what or getattr(kind, "__name__", str(kind)), str(exc)) from None


def required_fields(kind: type[msgspec.Struct]) -> list[str]:
    """Wire names of the fields a struct cannot do without (for `edgedesk doctor`)."""
    return [f.encode_name for f in msgspec.structs.fields(kind) if f.required]


def missing_fields(raw: dict[str, Any], kind: type[msgspec.Struct]) -> list[str]:
    """Every required wire field of `kind` that `raw` lacks (msgspec stops at the first one)."""
    return [name for name in required_fields(kind) if name not in raw]


def field(wire_name: str, default: Any = msgspec.NODEFAULT) -> Any:
    """A struct field read from `wire_name` on the wire (so attributes can carry domain names)."""
    return msgspec.field(name=wire_name, default=default)
