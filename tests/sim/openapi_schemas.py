"""Required fields of Kalshi's OpenAPI component schemas, adjusted to the 2026 (3.34.0) wire.

The spec lives outside the repo, in `shared/reference/spec/openapi.yaml` beside the checkout
(<x>/main is the repo, <x>/shared the reference material). It is read, never copied. When it is
missing, `load_schemas` fails the test with the path it looked at: a conformance check that
silently skipped would prove nothing.

YAML: the spec's legacy orderbook schemas have keys `yes:` / `no:`, which a YAML 1.1 loader turns
into booleans. PyYAML is not a project dependency, so this reads the one part it needs (block-style
`components.schemas.<Name>.required` lists and `properties.<field>` type/$ref/format lines) with a
small indentation reader that keeps every key a string, the YAML 1.2 behaviour.

The spec is 3.13.0 (2026-04). `REMOVED_2026` drops required fields Kalshi removed since (reference
section 4.2 and 6), `ADDED_3_34` adds fields the 3.34.0 models require, per kalshi-api.md section 6.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SPEC_PATH = Path(__file__).resolve().parents[3] / "shared" / "reference" / "spec" / "openapi.yaml"

#: required in 3.13.0 but removed from Kalshi's responses in 2026
REMOVED_2026: dict[str, set[str]] = {
    "Market": {"liquidity_dollars", "fractional_trading_enabled"},  # 2026-01-15 / 2026-07-09
    "MarketPosition": {"resting_orders_count"},  # removed with the resting_order_count filter
    "EventData": {"available_on_brokers"},  # removed 2026-09-10
    # 3.13 described limits as read_limit/write_limit; 3.34 has read/write buckets (reference 6.6)
    "GetAccountApiLimitsResponse": {"read_limit", "write_limit"},
}

#: required by the 3.34.0 models (kalshi-api.md section 6) but absent or optional in 3.13.0
ADDED_3_34: dict[str, dict[str, str]] = {
    "Market": {"settlement_bounds_type": "string"},
    "Order": {"outcome_side": "string", "book_side": "string"},
    "Fill": {"outcome_side": "string", "book_side": "string", "exchange_index": "integer"},
    "Trade": {"taker_outcome_side": "string", "taker_book_side": "string", "is_block_trade": "boolean"},
    "Settlement": {"exchange_index": "integer"},
    "MarketPosition": {"exchange_index": "integer"},
    "Series": {"categories": "array"},
    "EventData": {"settlement_sources": "array"},
    "GetBalanceResponse": {"balance_dollars": "dollars"},
    "GetAccountApiLimitsResponse": {"read": "object", "write": "object"},
}

_DOLLARS = re.compile(r"^-?\d+\.\d{4,6}$")
_COUNT = re.compile(r"^-?\d+\.\d{2}$")
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


@dataclass
class Schema:
    name: str
    required: list[str] = field(default_factory=list)
    properties: dict[str, dict[str, str]] = field(default_factory=dict)


def _strip(text: str) -> str:
    return text.strip().strip("'\"")


def parse_schemas(text: str) -> dict[str, Schema]:
    """`components.schemas` of a block-style OpenAPI YAML: required lists and property kinds."""
    lines = text.splitlines()
    try:
        start = lines.index("  schemas:")
    except ValueError:
        raise AssertionError("openapi.yaml has no `components: schemas:` block at the expected indent") from None
    schemas: dict[str, Schema] = {}
    current: Schema | None = None
    section: str | None = None
    prop: dict[str, str] | None = None
    for line in lines[start + 1:]:
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        indent = len(line) - len(line.lstrip(" "))
        body = line.strip()
        if indent < 4:
            break  # left components.schemas
        if indent == 4 and body.endswith(":"):
            current = schemas.setdefault(_strip(body[:-1]), Schema(_strip(body[:-1])))
            section, prop = None, None
        elif current is None:
            continue
        elif indent == 6:
            section = _strip(body[:-1]) if body.endswith(":") else None
            if body.startswith("required: [") and body.endswith("]"):
                current.required.extend(_strip(x) for x in body[len("required: ["):-1].split(",") if x.strip())
        elif section == "required" and indent == 8 and body.startswith("- "):
            current.required.append(_strip(body[2:]))
        elif section == "properties" and indent == 8 and body.endswith(":"):
            prop = current.properties.setdefault(_strip(body[:-1]), {})
        elif section == "properties" and indent == 10 and prop is not None and ":" in body:
            key, _, value = body.partition(":")
            prop[key.strip()] = _strip(value)
    return schemas


def load_schemas(path: Path = SPEC_PATH) -> dict[str, Schema]:
    if not path.is_file():
        raise AssertionError(
            f"Kalshi's OpenAPI spec was not found at {path}. The conformance tests read it from the "
            "shared reference folder beside the repository checkout (<x>/main and <x>/shared); "
            "check out shared/ next to the repo."
        )
    return parse_schemas(path.read_text(encoding="utf-8"))


def kind_of(prop: dict[str, str]) -> str:
    """The wire kind a property must have: dollars, count, datetime, string, integer, ..."""
    ref = prop.get("$ref", "")
    if ref.endswith("/FixedPointDollars"):
        return "dollars"
    if ref.endswith("/FixedPointCount"):
        return "count"
    if ref:
        return "ref"
    if prop.get("type") == "string" and prop.get("format") == "date-time":
        return "datetime"
    return prop.get("type", "any")


def required_fields(schemas: dict[str, Schema], name: str) -> dict[str, str]:
    """Field -> wire kind for every field the 2026 wire requires in schema `name`."""
    schema = schemas.get(name)
    if schema is None:
        raise AssertionError(f"schema {name} is not in openapi.yaml")
    fields = {
        f: kind_of(schema.properties.get(f, {}))
        for f in schema.required
        if f not in REMOVED_2026.get(name, set())
    }
    fields.update(ADDED_3_34.get(name, {}))
    return fields


def type_problems(value: Any, kind: str, nullable: bool = False) -> str | None:
    """Why `value` is not of wire kind `kind`, or None when it is."""
    if value is None:
        return None if nullable else "is null"
    checks = {
        "dollars": lambda v: isinstance(v, str) and bool(_DOLLARS.match(v)),
        "count": lambda v: isinstance(v, str) and bool(_COUNT.match(v)),
        "datetime": lambda v: isinstance(v, str) and bool(_RFC3339.match(v)),
        "string": lambda v: isinstance(v, str),
        "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
        "boolean": lambda v: isinstance(v, bool),
        "array": lambda v: isinstance(v, list),
        "object": lambda v: isinstance(v, dict),
        "ref": lambda v: v is not None,
        "any": lambda v: True,
    }
    ok = checks.get(kind, checks["any"])(value)
    return None if ok else f"is {value!r}, expected {kind}"


def conformance_errors(schemas: dict[str, Schema], name: str, obj: Any, where: str) -> list[str]:
    """Every required field of `name` missing from `obj` or of the wrong kind, as readable lines."""
    if not isinstance(obj, dict):
        return [f"{where}: expected a {name} object, got {obj!r}"]
    schema = schemas[name]
    errors = []
    for fname, kind in required_fields(schemas, name).items():
        if fname not in obj:
            errors.append(f"{where}: {name}.{fname} is missing")
            continue
        nullable = schema.properties.get(fname, {}).get("nullable") == "true"
        problem = type_problems(obj[fname], kind, nullable)
        if problem:
            errors.append(f"{where}: {name}.{fname} {problem}")
    return errors
