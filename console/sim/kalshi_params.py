"""Request parsing shared by the simulator's Kalshi REST handlers: query params, JSON bodies, cursors.

Refusals follow Kalshi's shapes (reference section 3.1):

- a body that is not JSON, or JSON of the wrong type (an array, a number where a string belongs,
  an unknown field), is a 400 with the flat body `{"code": "bad_request", "message": "bad request",
  "details": ...}` (`BadRequest`, answered here as an aiohttp HTTP exception);
- everything else is an `ExchangeError`, which the server middleware renders as
  `{"error": {"code", "message", "details"}}`.

Cursors are opaque strings that name the key of the last item returned (a stable insertion index),
so walking pages never repeats or skips an item even while new items arrive.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import msgspec
from aiohttp import web

from console.sim.model import ExchangeError

T = TypeVar("T")
S = TypeVar("S", bound=msgspec.Struct)


# --- bodies -------------------------------------------------------------------------------------


def bad_request(details: str) -> web.HTTPBadRequest:
    """Kalshi's flat 400 for a body that cannot be decoded into the request type."""
    body = {"code": "bad_request", "message": "bad request", "details": details}
    return web.HTTPBadRequest(text=json.dumps(body), content_type="application/json")


async def read_json_object(request: web.Request) -> dict[str, Any]:
    """The request body as a JSON object, or a flat 400 `bad_request`."""
    raw = await request.read()
    if not raw.strip():
        raise bad_request("request body is empty; expected a JSON object")
    try:
        body = msgspec.json.decode(raw)
    except msgspec.DecodeError as exc:
        raise bad_request(f"request body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise bad_request(f"request body must be a JSON object, got {type(body).__name__}")
    return body


def convert(obj: Any, struct: type[S], where: str = "") -> S:
    """Strictly convert decoded JSON to `struct` (no type coercion, unknown fields refused)."""
    try:
        return msgspec.convert(obj, struct)
    except msgspec.ValidationError as exc:
        raise bad_request(f"{where}{exc}") from None


def convert_item(obj: Any, struct: type[S]) -> S:
    """Like `convert`, but as an `ExchangeError` (for batch items, which fail one by one)."""
    try:
        return msgspec.convert(obj, struct)
    except msgspec.ValidationError as exc:
        raise ExchangeError(400, "bad_request", "bad request", str(exc)) from None


# --- query parameters ---------------------------------------------------------------------------


def query_error(details: str) -> ExchangeError:
    return ExchangeError(400, "bad_request", "bad request", details)


def q_str(request: web.Request, name: str) -> str | None:
    value = request.query.get(name)
    return value if value not in (None, "") else None


def q_list(request: web.Request, name: str) -> list[str]:
    """A comma-separated (and/or repeated) list parameter; empty entries are dropped."""
    out: list[str] = []
    for raw in request.query.getall(name, []):
        out.extend(part.strip() for part in raw.split(",") if part.strip())
    return out


def q_int(request: web.Request, name: str, default: int | None = None, *, lo: int | None = None,
          hi: int | None = None) -> int | None:
    raw = q_str(request, name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise query_error(f"{name}={raw!r}: expected an integer") from None
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        bounds = f"{lo if lo is not None else '-inf'}..{hi if hi is not None else 'inf'}"
        raise query_error(f"{name}={value}: must be in {bounds}")
    return value


def q_bool(request: web.Request, name: str, default: bool = False) -> bool:
    raw = q_str(request, name)
    if raw is None:
        return default
    lowered = raw.lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise query_error(f"{name}={raw!r}: expected true or false")


def q_limit(request: web.Request, default: int, maximum: int) -> int:
    value = q_int(request, "limit", default, lo=1, hi=maximum)
    assert value is not None
    return value


def q_choice(request: web.Request, name: str, choices: Iterable[str]) -> str | None:
    raw = q_str(request, name)
    allowed = tuple(choices)
    if raw is not None and raw not in allowed:
        raise query_error(f"{name}={raw!r}: expected one of {', '.join(allowed)}")
    return raw


# --- cursor pagination --------------------------------------------------------------------------


def encode_cursor(key: int) -> str:
    return base64.urlsafe_b64encode(f"k{key}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if not text.startswith("k"):
            raise ValueError(text)
        return int(text[1:])
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise query_error(f"cursor={cursor!r} is not a cursor this server issued; pass back the "
                          "`cursor` of the previous page, or omit it for the first page") from None


def paginate(
    keyed: Iterable[tuple[int, T]],
    request: web.Request,
    *,
    default_limit: int,
    max_limit: int,
    newest_first: bool,
    keep: Callable[[T], bool] = lambda _item: True,
) -> tuple[list[T], str]:
    """One page of `keyed` ((stable key, item) in ascending key order), plus the next cursor.

    `newest_first` pages from the highest key down (orders, fills, trades, settlements); otherwise
    from the lowest up (series, events, markets, positions). The cursor is "" on the last page.
    """
    limit = q_limit(request, default_limit, max_limit)
    raw_cursor = q_str(request, "cursor")
    after = decode_cursor(raw_cursor) if raw_cursor is not None else None
    ordered = reversed(list(keyed)) if newest_first else keyed
    page: list[T] = []
    last_key: int | None = None
    for key, item in ordered:
        if after is not None and (key >= after if newest_first else key <= after):
            continue
        if not keep(item):
            continue
        if len(page) == limit:
            # there is at least one more matching item: hand out a cursor to it
            assert last_key is not None
            return page, encode_cursor(last_key)
        page.append(item)
        last_key = key
    return page, ""
