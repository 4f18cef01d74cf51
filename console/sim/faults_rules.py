"""Fault rules and named profiles for the simulator's fault layer (`console.sim.faults`).

A rule says what to break (`kind`), where (scope), how often (`rate`, `count`) and when (`for_s`,
`every_s`). Profiles are named lists of rules, picked at start with `edgedesk sim --faults NAME`.

Kinds:

| kind | what happens on the wire |
|---|---|
| `ws_drop` | a data message is not sent (its seq is used, so the client sees a gap) |
| `ws_duplicate` | a data message is sent twice (same seq) |
| `ws_reorder` | a data message is held back and sent after the next one on its sid (or after `hold_s`) |
| `ws_skip_seq` | the sid's seq jumps by `skip` before a message: a gap with nothing missing |
| `ws_close` | the connection is closed (close code `close_code`) after the message is sent |
| `ws_silent` | the connection stops sending data (pings are still answered) until the client reconnects |
| `rate_limit` | 429 `{"error": "too many requests"}`; the exchange does not act |
| `server_error` | `status` (500/502/503/504) with an error body; the exchange does not act |
| `slow` | the exchange acts at once; the answer leaves `delay_s` later |
| `lost_response` | the exchange acts (the order IS created), then the connection is dropped with no answer |
| `trading_pause` / `exchange_pause` | the exchange pauses trading / everything while the rule is active |

Timing: a rule is active from when it is set, for `for_s` seconds (default: until cleared); with
`every_s`, it is active for `for_s` seconds once every `every_s` seconds instead, the first window
starting one period after it was set. Times are real seconds (faults are transport events), not
the simulated clock. `count` caps injections; `rate` (default 1) is the chance per eligible message,
request or (for `ws_silent`) connection.
"""

from __future__ import annotations

import msgspec

from console.sim.ws_connection import SEQUENCED_CHANNELS

WS_KINDS = frozenset({"ws_drop", "ws_duplicate", "ws_reorder", "ws_skip_seq", "ws_close", "ws_silent"})
REST_KINDS = frozenset({"rate_limit", "server_error", "slow", "lost_response"})
PAUSE_KINDS = frozenset({"trading_pause", "exchange_pause"})
KINDS = WS_KINDS | REST_KINDS | PAUSE_KINDS

#: named REST operations a rule can be scoped to (`ops`)
OPS = ("order_create", "batch_create", "order_cancel", "batch_cancel", "cancel_all", "order_amend",
       "order_decrease")
ORDER_CREATE_OPS = ("order_create", "batch_create")
SERVER_ERROR_STATUSES = (500, 502, 503, 504)
CHANNELS = frozenset({"orderbook_delta", "ticker", "trade", "fill", "market_positions", "user_orders",
                      "market_lifecycle_v2", "order_group_updates"})
MAX_DELAY_S = 60.0

#: parameters that only make sense for some kinds; anything else on a rule is refused
_PARAMS_FOR = {
    "channels": WS_KINDS, "after_messages": {"ws_close", "ws_silent"}, "skip": {"ws_skip_seq"},
    "hold_s": {"ws_reorder"}, "close_code": {"ws_close"},
    "method": REST_KINDS, "path_prefix": REST_KINDS, "ops": REST_KINDS,
    "status": {"server_error", "lost_response"}, "delay_s": {"slow"},
    "account_id": WS_KINDS | REST_KINDS, "market": WS_KINDS | REST_KINDS,
    "rate": WS_KINDS | REST_KINDS, "count": WS_KINDS | REST_KINDS,
}


class FaultRule(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """One fault: what, where, how often, when. Unset fields take the kind's defaults."""

    kind: str
    rate: float | None = None
    count: int | None = None
    for_s: float | None = None
    every_s: float | None = None
    # scope
    account_id: str | None = None
    market: str | None = None
    channels: list[str] | None = None
    method: str | None = None
    path_prefix: str | None = None
    ops: list[str] | None = None
    # parameters
    status: int | None = None
    delay_s: float | None = None
    skip: int | None = None
    after_messages: int | None = None
    hold_s: float | None = None
    close_code: int | None = None


class RuleError(ValueError):
    """A rule that cannot work; the message names the field and what to send instead."""


def validate(rule: FaultRule) -> FaultRule:
    """Check a rule (raises RuleError) and return it with its kind's defaults filled in."""
    if rule.kind not in KINDS:
        raise RuleError(f"kind={rule.kind!r}: expected one of {', '.join(sorted(KINDS))}")
    for name, kinds in _PARAMS_FOR.items():
        if getattr(rule, name) is not None and rule.kind not in kinds:
            raise RuleError(f"{name} does not apply to kind {rule.kind}")
    if rule.rate is not None and not 0 <= rule.rate <= 1:
        raise RuleError(f"rate={rule.rate}: must be a probability between 0 and 1")
    for name in ("count", "skip", "after_messages"):
        value = getattr(rule, name)
        if value is not None and value < (0 if name == "after_messages" else 1):
            raise RuleError(f"{name}={value}: must be at least {0 if name == 'after_messages' else 1}")
    for name in ("for_s", "every_s", "delay_s", "hold_s"):
        value = getattr(rule, name)
        if value is not None and not 0 < value <= 86_400:
            raise RuleError(f"{name}={value}: must be a positive number of seconds")
    if rule.delay_s is not None and rule.delay_s > MAX_DELAY_S:
        raise RuleError(f"delay_s={rule.delay_s}: at most {MAX_DELAY_S:g} s (clients time out long before)")
    if rule.every_s is not None and (rule.for_s is None or rule.for_s >= rule.every_s):
        raise RuleError("every_s needs for_s shorter than it (active for_s seconds once per every_s)")
    if rule.channels is not None:
        unknown = sorted(set(rule.channels) - CHANNELS)
        if unknown or not rule.channels:
            raise RuleError(f"channels: unknown {unknown or 'empty list'}; "
                            f"expected some of {', '.join(sorted(CHANNELS))}")
    if rule.ops is not None:
        unknown = sorted(set(rule.ops) - set(OPS))
        if unknown or not rule.ops:
            raise RuleError(f"ops: unknown {unknown or 'empty list'}; expected some of {', '.join(OPS)}")
    if rule.method is not None and rule.method.upper() not in ("GET", "POST", "PUT", "DELETE"):
        raise RuleError(f"method={rule.method!r}: expected GET, POST, PUT or DELETE")
    if rule.path_prefix is not None and not rule.path_prefix.startswith("/"):
        raise RuleError(f"path_prefix={rule.path_prefix!r}: must start with / (e.g. /portfolio/events/orders)")
    if rule.status is not None and rule.status not in SERVER_ERROR_STATUSES:
        raise RuleError(f"status={rule.status}: expected one of {', '.join(map(str, SERVER_ERROR_STATUSES))}")
    code = rule.close_code
    if code is not None and (code in (1004, 1005, 1006, 1015) or not (code == 1000 or 1001 <= code <= 4999)):
        raise RuleError(f"close_code={rule.close_code}: not a code a server may send (try 1001 or 1011)")
    defaults: dict[str, object] = {}
    if rule.kind == "server_error" and rule.status is None:
        defaults["status"] = 503
    if rule.kind == "slow" and rule.delay_s is None:
        defaults["delay_s"] = 1.0
    if rule.kind == "ws_skip_seq" and rule.skip is None:
        defaults["skip"] = 1
    if rule.kind == "ws_reorder" and rule.hold_s is None:
        defaults["hold_s"] = 0.5
    if rule.kind == "ws_close" and rule.close_code is None:
        defaults["close_code"] = 1001
    if rule.kind == "lost_response" and rule.ops is None and rule.path_prefix is None and rule.method is None:
        defaults["ops"] = list(ORDER_CREATE_OPS)  # "an order accepted whose response is lost"
    if rule.method is not None:
        defaults["method"] = rule.method.upper()
    return msgspec.structs.replace(rule, **defaults) if defaults else rule


def _r(kind: str, **fields: object) -> FaultRule:
    return validate(FaultRule(kind=kind, **fields))  # type: ignore[arg-type]


_SEQ = sorted(SEQUENCED_CHANNELS)

#: name -> (one-line description for --help, rules)
PROFILES: dict[str, tuple[str, list[FaultRule]]] = {
    "none": ("no faults (default)", []),
    "flaky": ("a little of everything at low rates (the desk's end-to-end tests)", [
        _r("ws_drop", rate=0.003, channels=_SEQ),
        _r("ws_duplicate", rate=0.003),
        _r("ws_reorder", rate=0.003, channels=_SEQ),
        _r("ws_skip_seq", rate=0.002, channels=_SEQ),
        _r("ws_close", rate=0.0005),
        _r("ws_silent", rate=0.02, after_messages=200),
        _r("rate_limit", rate=0.01),
        _r("server_error", rate=0.003, status=503),
        _r("server_error", rate=0.002, status=502),
        _r("slow", rate=0.02, delay_s=0.5),
        _r("lost_response", rate=0.01),
        _r("trading_pause", for_s=2, every_s=300),
    ]),
    "chaos": ("everything at high rates (recovery under stress)", [
        _r("ws_drop", rate=0.03),
        _r("ws_duplicate", rate=0.03),
        _r("ws_reorder", rate=0.03),
        _r("ws_skip_seq", rate=0.02, skip=3),
        _r("ws_close", rate=0.005),
        _r("ws_silent", rate=0.2, after_messages=50),
        _r("rate_limit", rate=0.1),
        _r("rate_limit", for_s=2, every_s=30),
        _r("server_error", rate=0.03, status=500),
        _r("server_error", rate=0.03, status=502),
        _r("server_error", rate=0.03, status=503),
        _r("slow", rate=0.1, delay_s=2.0),
        _r("lost_response", rate=0.1),
        _r("lost_response", rate=0.05, ops=["order_cancel", "batch_cancel", "order_amend", "order_decrease"]),
        _r("trading_pause", for_s=5, every_s=60),
        _r("exchange_pause", for_s=3, every_s=170),
    ]),
    "lost-responses": ("a fifth of order creates are made but their answer never arrives", [
        _r("lost_response", rate=0.2),
    ]),
    "ws-gaps": ("WebSocket drops, duplicates, reorders and skipped seqs on sequenced channels", [
        _r("ws_drop", rate=0.05, channels=_SEQ),
        _r("ws_duplicate", rate=0.02, channels=_SEQ),
        _r("ws_reorder", rate=0.02, channels=_SEQ),
        _r("ws_skip_seq", rate=0.02, channels=_SEQ),
    ]),
    "silent-feed": ("every WebSocket goes silent after 20 data messages (pings still answered)", [
        _r("ws_silent", after_messages=20),
    ]),
    "disconnects": ("every WebSocket is closed after 100 data messages", [
        _r("ws_close", after_messages=100),
    ]),
    "rate-limit": ("a tenth of API calls get 429, plus a 2 s burst of 429s every 20 s", [
        _r("rate_limit", rate=0.1),
        _r("rate_limit", for_s=2, every_s=20),
    ]),
    "server-errors": ("a tenth of API calls get 500/502/503 and change nothing", [
        _r("server_error", rate=0.04, status=500),
        _r("server_error", rate=0.03, status=502),
        _r("server_error", rate=0.03, status=503),
    ]),
    "slow": ("a fifth of API answers arrive 1 s late", [
        _r("slow", rate=0.2, delay_s=1.0),
    ]),
    "pauses": ("trading pauses 3 s every 30 s; the exchange pauses 2 s every 120 s", [
        _r("trading_pause", for_s=3, every_s=30),
        _r("exchange_pause", for_s=2, every_s=120),
    ]),
}


def profile_help() -> str:
    """The profiles, one per line, for `edgedesk sim --help`."""
    width = max(map(len, PROFILES))
    lines = [f"  {name:<{width}}  {text}" for name, (text, _) in PROFILES.items()]
    return "fault profiles (--faults PROFILE):\n" + "\n".join(lines)


def profile_rules(name: str) -> list[FaultRule]:
    if name not in PROFILES:
        raise RuleError(f"unknown fault profile {name!r}; expected one of {', '.join(PROFILES)}")
    return list(PROFILES[name][1])
