"""Fault injection on demand: the `Faults` controller kept in `state.extras["faults"]`.

The controller holds the active rules (`console.sim.faults_rules`), one seeded RNG (so a run with
the same seed and the same traffic injects the same faults) and the fault log. It acts in three
places:

- WebSocket: its `WsFaultTap` (`console.sim.faults_ws`) is installed as `WsSettings.tap` while any
  WebSocket rule is set, and sees every outgoing data message (seq already assigned).
- REST: `console.sim.faults_admin`'s middleware asks `before_request` (429 / 5xx, the exchange does
  not act) and `after_response` (lost answer / slow answer, the exchange has acted).
- Pauses: `apply_pauses(exchange)`, polled by a task, pauses and resumes the exchange as pause
  rules' windows open and close, never resuming a pause the fault layer did not start.

Every injected fault is written to a bounded in-memory log (`FaultLog`, served at
GET /sim/faults/log) and as one INFO line on the `console.sim.faults` logger, with the connection,
sid and seq, or the method, path and order ids, so a test can line up cause and effect.
"""

from __future__ import annotations

import logging
import random
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import msgspec

from console.sim.faults_rules import (
    PAUSE_KINDS,
    REST_KINDS,
    WS_KINDS,
    FaultRule,
    profile_rules,
    validate,
)
from console.sim.faults_ws import WsFaultTap

if TYPE_CHECKING:
    from console.sim.exchange import Exchange
    from console.sim.ws_connection import WsSettings

log = logging.getLogger(__name__)

EXTRA_KEY = "faults"
LOG_CAPACITY = 5_000

@dataclass(eq=False)
class ActiveRule:
    """A validated rule with its id, the time it was set and how often it has fired."""

    id: int
    rule: FaultRule
    set_at: float
    injected: int = 0

    def active(self, now: float) -> bool:
        age = now - self.set_at
        r = self.rule
        if r.every_s is not None:
            assert r.for_s is not None
            return age >= r.every_s and age % r.every_s < r.for_s
        return r.for_s is None or age < r.for_s

    def spent(self) -> bool:
        return self.rule.count is not None and self.injected >= self.rule.count

    def try_fire(self, rng: random.Random) -> bool:
        """Roll the rule's rate (no draw when it is certain) and count the injection."""
        if self.spent():
            return False
        rate = self.rule.rate
        if rate is not None and rate < 1 and not rng.random() < rate:
            return False
        self.injected += 1
        return True

    def matches_ws(self, account_id: str, channel: str, market: str | None) -> bool:
        r = self.rule
        return ((r.account_id is None or r.account_id == account_id)
                and (r.channels is None or channel in r.channels)
                and (r.market is None or r.market == market))

    def matches_rest(self, call: RestCall) -> bool:
        r = self.rule
        if r.path_prefix is not None:
            path = call.path if r.path_prefix.startswith("/trade-api/") else call.api_path
            if path is None or not path.startswith(r.path_prefix):
                return False
        elif call.api_path is None:
            return False  # unscoped rules cover the Trade API only, not the WebSocket handshake
        return ((r.method is None or r.method == call.method)
                and (r.ops is None or call.op in r.ops)
                and (r.account_id is None or r.account_id == call.account_id)
                and (r.market is None or r.market in call.markets))

    def as_json(self, now: float) -> dict[str, Any]:
        body = msgspec.structs.asdict(self.rule)
        body = {k: v for k, v in body.items() if v is not None}
        remaining = None if self.rule.count is None else self.rule.count - self.injected
        return {"id": self.id, **body, "injected": self.injected, "remaining": remaining,
                "active": self.active(now) and not self.spent()}


@dataclass(frozen=True, slots=True)
class RestCall:
    """What the REST rules look at: the request's method, paths, operation, caller and markets."""

    method: str
    path: str
    api_path: str | None  # path under /trade-api/v2, None outside it
    op: str | None
    account_id: str | None
    markets: frozenset[str] = frozenset()


class FaultLog:
    """A ring buffer of injected faults; each also goes out as one structured log line."""

    def __init__(self, capacity: int = LOG_CAPACITY, sim_now_ms: Callable[[], int] | None = None) -> None:
        self._entries: deque[dict[str, Any]] = deque(maxlen=capacity)
        self._next_id = 1
        self._sim_now_ms = sim_now_ms

    def record(self, kind: str, **fields: Any) -> dict[str, Any]:
        entry: dict[str, Any] = {"id": self._next_id, "ts_ms": int(time.time() * 1000)}
        if self._sim_now_ms is not None:
            entry["sim_ms"] = self._sim_now_ms()
        entry["kind"] = kind
        entry.update((k, v) for k, v in fields.items() if v is not None)
        self._next_id += 1
        self._entries.append(entry)
        shown = " ".join(f"{k}={v}" for k, v in entry.items() if k not in ("id", "ts_ms", "sim_ms", "kind"))
        log.info("fault injected: %s %s", kind, shown, extra={"fault": entry})
        return entry

    def entries(self, since: int = 0, kind: str | None = None) -> list[dict[str, Any]]:
        return [e for e in self._entries if e["id"] > since and (kind is None or e["kind"] == kind)]

    @property
    def last_id(self) -> int:
        return self._next_id - 1

    @property
    def dropped(self) -> int:
        """Entries that fell off the ring (the caller polled too rarely)."""
        return self.last_id - len(self._entries)


class Faults:
    """The fault controller: rules, RNG, log; the WebSocket tap and the REST/pause decisions."""

    def __init__(self, seed: int | None = None, profile: str = "none", *,
                 sim_now_ms: Callable[[], int] | None = None, now: Callable[[], float] = time.monotonic) -> None:
        self.seed = seed
        self.rng = random.Random(f"edgedesk-faults:{seed}")
        self.log = FaultLog(sim_now_ms=sim_now_ms)
        self.profile: str | None = None
        self.rules: list[ActiveRule] = []
        self.ws_settings: WsSettings | None = None
        self.now = now
        self._next_rule_id = 1
        self.ws_rules: list[ActiveRule] = []
        self._rest: list[ActiveRule] = []
        self._pauses: list[ActiveRule] = []
        self.ws_tap = WsFaultTap(self)
        #: (paused by us, was it already paused when we began) for trading and exchange
        self.paused_by_faults = {"trading_pause": False, "exchange_pause": False}
        self._pause_found_paused = {"trading_pause": False, "exchange_pause": False}
        self.configure(profile_rules(profile), profile=profile)

    # --- configuration -------------------------------------------------------------------------

    def configure(self, rules: Iterable[FaultRule], *, profile: str | None = None, seed: int | None = None,
                  append: bool = False) -> None:
        """Set (or with `append`, add) rules; each is validated (RuleError) before any takes effect."""
        checked = [validate(r) for r in rules]
        if seed is not None:
            self.seed = seed
            self.rng.seed(f"edgedesk-faults:{seed}")
        now = self.now()
        fresh = []
        for rule in checked:
            fresh.append(ActiveRule(self._next_rule_id, rule, now))
            self._next_rule_id += 1
        if append:
            self.rules.extend(fresh)
        else:
            self.rules = fresh
            self.profile = profile
        self._split()

    def clear(self) -> None:
        self.rules = []
        self.profile = None
        self._split()

    def attach_ws(self, settings: WsSettings) -> None:
        """Use `settings.tap` for WebSocket faults (installed only while a WebSocket rule is set)."""
        self.ws_settings = settings
        self._split()

    def _split(self) -> None:
        self.ws_rules = [r for r in self.rules if r.rule.kind in WS_KINDS]
        self._rest = [r for r in self.rules if r.rule.kind in REST_KINDS]
        self._pauses = [r for r in self.rules if r.rule.kind in PAUSE_KINDS]
        settings = self.ws_settings
        if settings is not None:
            # No tap at all without WebSocket rules, so the feed costs nothing extra when faults are
            # off; and never replace a tap someone else installed (a test's own hook).
            ours = settings.tap is None or settings.tap is self.ws_tap
            if not ours and self.ws_rules:
                log.warning("WsSettings.tap is taken by another hook; WebSocket fault rules are not applied")
            elif ours:
                settings.tap = self.ws_tap if self.ws_rules else None
        if not self.ws_rules:
            self.ws_tap.release_all_held()

    @property
    def has_rest(self) -> bool:
        return bool(self._rest)

    @property
    def needs_markets(self) -> bool:
        return any(r.rule.market is not None for r in self._rest)

    def describe(self) -> dict[str, Any]:
        now = self.now()
        return {"profile": self.profile, "seed": self.seed, "rules": [r.as_json(now) for r in self.rules],
                "trading_paused_by_faults": self.paused_by_faults["trading_pause"],
                "exchange_paused_by_faults": self.paused_by_faults["exchange_pause"],
                "log_last_id": self.log.last_id}

    # --- REST ----------------------------------------------------------------------------------

    def _rest_fire(self, call: RestCall, kinds: tuple[str, ...], ok: bool = True) -> ActiveRule | None:
        now = self.now()
        for kind in kinds:
            for r in self._rest:
                if r.rule.kind == kind and r.active(now) and r.matches_rest(call) and r.try_fire(self.rng):
                    return r
        return None

    def before_request(self, call: RestCall) -> ActiveRule | None:
        """A 429 or 5xx rule that refuses this request before the exchange sees it, if any fires."""
        rule = self._rest_fire(call, ("rate_limit", "server_error"))
        if rule is not None:
            status = 429 if rule.rule.kind == "rate_limit" else rule.rule.status
            self.log.record(rule.rule.kind, rule=rule.id, method=call.method, path=call.path, op=call.op,
                            account_id=call.account_id, status=status)
        return rule

    def after_response(self, call: RestCall, response_body: bytes | None) -> ActiveRule | None:
        """After the exchange acted: a lost-answer rule, else a slow-answer rule, if one fires."""
        rule = self._rest_fire(call, ("lost_response", "slow"))
        if rule is None:
            return None
        fields: dict[str, Any] = {"rule": rule.id, "method": call.method, "path": call.path, "op": call.op,
                                  "account_id": call.account_id}
        if rule.rule.kind == "slow":
            fields["delay_s"] = rule.rule.delay_s
        else:
            fields["status"] = rule.rule.status  # None: no answer at all, the connection is dropped
            fields.update(_order_ids(response_body))
        self.log.record(rule.rule.kind, **fields)
        return rule

    # --- pauses --------------------------------------------------------------------------------

    def apply_pauses(self, exchange: Exchange) -> None:
        """Pause or resume the exchange as pause rules' windows open and close."""
        now = self.now()
        for kind, setter, current in (
                ("trading_pause", exchange.set_trading_paused, exchange.trading_paused),
                ("exchange_pause", exchange.set_exchange_paused, exchange.exchange_paused)):
            want = any(r.rule.kind == kind and r.active(now) for r in self._pauses)
            ours = self.paused_by_faults[kind]
            if want and not ours:
                self._pause_found_paused[kind] = current
                setter(True)
                self.paused_by_faults[kind] = True
                self.log.record(kind, phase="begin")
            elif ours and not want:
                if not self._pause_found_paused[kind]:  # someone paused it before us: theirs to resume
                    setter(False)
                self.paused_by_faults[kind] = False
                self.log.record(kind, phase="end")

    @property
    def pauses_pending(self) -> bool:
        return bool(self._pauses) or any(self.paused_by_faults.values())


def _order_ids(body: bytes | None) -> dict[str, Any]:
    """Order ids and client order ids in a create/cancel/amend answer (single or batch)."""
    if not body:
        return {}
    try:
        data = msgspec.json.decode(body)
    except msgspec.DecodeError:
        return {}
    items = data.get("orders") if isinstance(data, dict) and "orders" in data else [data]
    order_ids, client_ids = [], []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        order = item.get("order") if isinstance(item.get("order"), dict) else item
        if order.get("order_id"):
            order_ids.append(order["order_id"])
            if order.get("client_order_id"):
                client_ids.append(order["client_order_id"])
    if not order_ids:
        return {}
    if len(order_ids) == 1:
        return {"order_id": order_ids[0], "client_order_id": client_ids[0] if client_ids else None}
    return {"order_ids": order_ids, "client_order_ids": client_ids or None}
