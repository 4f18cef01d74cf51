"""WebSocket faults: `WsFaultTap`, installed as `WsSettings.tap` by the `Faults` controller.

The tap sees every outgoing data message with its `seq` already assigned and applies the active
WebSocket rules, in this order: silent feed (nothing more goes out on this connection), skip seq
(renumber: the sid's counter jumps, nothing is lost), drop, duplicate, reorder (hold the message
until the next one on its sid has gone out, or `hold_s`), then close-after-N (the connection is
closed once the message is on the wire). Control replies (subscribed, ok, errors) never pass here,
and the server's pings and its answers to the client's pings are untouched, so a silent feed
still looks alive at the WebSocket level: exactly the failure a client must detect itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from console.sim.faults import ActiveRule, Faults
    from console.sim.ws_connection import Connection, Subscription

Deliver = Callable[[dict[str, Any]], None]

#: how long a closing connection may take to flush what it already sent before the close frame
_CLOSE_FLUSH_S = 2.0


@dataclass(eq=False, slots=True)
class _Held:
    """A message a reorder holds back until the next one on its sid (or its timer) goes out."""

    envelope: dict[str, Any]
    deliver: Deliver
    copies: int
    timer: asyncio.TimerHandle | None


@dataclass(eq=False)
class _ConnState:
    """What the WebSocket faults remember about one connection."""

    conn_id: int
    seen: dict[int, int] = field(default_factory=dict)  # rule id -> matching messages so far
    silent: dict[int, bool] = field(default_factory=dict)  # ws_silent rule id -> this connection's draw
    held: dict[int, _Held] = field(default_factory=dict)  # sid -> the message a reorder holds back
    closing: bool = False


class WsFaultTap:
    """The WebSocket half of the fault layer; rules, RNG and log belong to the `Faults` controller."""

    def __init__(self, faults: Faults) -> None:
        self._faults = faults
        self._conns: weakref.WeakKeyDictionary[Connection, _ConnState] = weakref.WeakKeyDictionary()
        self._next_conn_id = 1
        self._tasks: set[asyncio.Task[None]] = set()

    def _conn(self, conn: Connection) -> _ConnState:
        state = self._conns.get(conn)
        if state is None:
            state = self._conns[conn] = _ConnState(self._next_conn_id)
            self._next_conn_id += 1
        return state

    def _ws_record(self, kind: str, cs: _ConnState, conn: Connection, sub: Subscription,
                   envelope: dict[str, Any], market: str | None, **extra: Any) -> None:
        self._faults.log.record(kind, conn=cs.conn_id, account_id=conn.account_id, channel=sub.channel,
                                sid=sub.sid, seq=envelope.get("seq"), type=envelope.get("type"), market=market,
                                **extra)

    def __call__(self, conn: Connection, sub: Subscription, envelope: dict[str, Any], deliver: Deliver) -> None:
        """`WsSettings.tap`: apply the WebSocket rules to one data message."""
        cs = self._conn(conn)
        if cs.closing:
            return  # a fault is closing this connection: nothing more goes out
        now, rng = self._faults.now(), self._faults.rng
        msg = envelope.get("msg")
        market = msg.get("market_ticker") if isinstance(msg, dict) else None
        rules = [r for r in self._faults.ws_rules
                 if r.matches_ws(conn.account_id, sub.channel, market) and r.active(now)]
        if not rules:
            deliver(envelope)
            self._release_held(cs, sub.sid)
            return
        by_kind: dict[str, list[ActiveRule]] = {}
        for r in rules:
            by_kind.setdefault(r.rule.kind, []).append(r)
        if self._silenced(cs, conn, sub, envelope, market, by_kind.get("ws_silent", ())):
            return
        seq = envelope.get("seq")
        if seq is not None:
            for r in by_kind.get("ws_skip_seq", ()):
                if r.try_fire(rng):
                    skip = r.rule.skip or 1
                    sub.seq += skip  # the skipped numbers are never sent
                    envelope["seq"] = seq + skip
                    self._ws_record("ws_skip_seq", cs, conn, sub, envelope, market, rule=r.id,
                                    skipped_from=seq, skipped_to=seq + skip - 1)
                    break
        for r in by_kind.get("ws_drop", ()):
            if r.try_fire(rng):
                self._ws_record("ws_drop", cs, conn, sub, envelope, market, rule=r.id)
                self._release_held(cs, sub.sid)
                return
        copies = 1
        for r in by_kind.get("ws_duplicate", ()):
            if r.try_fire(rng):
                copies = 2
                self._ws_record("ws_duplicate", cs, conn, sub, envelope, market, rule=r.id)
                break
        if sub.sid not in cs.held:
            for r in by_kind.get("ws_reorder", ()):
                if r.try_fire(rng):
                    self._ws_record("ws_reorder", cs, conn, sub, envelope, market, rule=r.id)
                    self._hold(cs, sub.sid, envelope, deliver, copies, r.rule.hold_s or 0.5)
                    return
        for _ in range(copies):
            deliver(envelope)
        self._release_held(cs, sub.sid)
        for r in by_kind.get("ws_close", ()):
            seen = cs.seen[r.id] = cs.seen.get(r.id, 0) + 1
            if seen >= max(r.rule.after_messages or 0, 1) and r.try_fire(rng):
                self._ws_record("ws_close", cs, conn, sub, envelope, market, rule=r.id, messages=seen,
                                close_code=r.rule.close_code)
                self._close(cs, conn, r.rule.close_code or 1001)
                return

    def _silenced(self, cs: _ConnState, conn: Connection, sub: Subscription, envelope: dict[str, Any],
                  market: str | None, rules: Iterable[ActiveRule]) -> bool:
        """A silent feed: each connection draws once per rule (after `after_messages` messages)."""
        for r in rules:
            decided = cs.silent.get(r.id)
            if decided is None:
                seen = cs.seen[r.id] = cs.seen.get(r.id, 0) + 1
                if seen <= (r.rule.after_messages or 0):
                    continue
                decided = cs.silent[r.id] = r.try_fire(self._faults.rng)
                if decided:
                    # logged once, at the first message held back; everything after it is silent too
                    self._ws_record("ws_silent", cs, conn, sub, envelope, market, rule=r.id, messages=seen - 1)
            if decided:
                self._drop_held(cs)
                return True
        return False

    def _hold(self, cs: _ConnState, sid: int, envelope: dict[str, Any], deliver: Deliver, copies: int,
              hold_s: float) -> None:
        try:
            handle = asyncio.get_running_loop().call_later(hold_s, self._release_held, cs, sid)
        except RuntimeError:  # no loop (a synchronous test of the tap): released by the next message
            handle = None
        cs.held[sid] = _Held(envelope, deliver, copies, handle)

    def _release_held(self, cs: _ConnState, sid: int) -> None:
        held = cs.held.pop(sid, None)
        if held is None:
            return
        if held.timer is not None:
            held.timer.cancel()
        if not cs.closing:
            for _ in range(held.copies):
                held.deliver(held.envelope)

    def _drop_held(self, cs: _ConnState) -> None:
        for held in cs.held.values():
            if held.timer is not None:
                held.timer.cancel()
        cs.held.clear()

    def release_all_held(self) -> None:
        """Send every held (reordered) message now: the rules that held them are gone."""
        for cs in list(self._conns.values()):
            for sid in list(cs.held):
                self._release_held(cs, sid)

    def _close(self, cs: _ConnState, conn: Connection, code: int) -> None:
        cs.closing = True
        self._drop_held(cs)
        try:
            task = asyncio.get_running_loop().create_task(self._close_after_flush(conn, code))
        except RuntimeError:
            return
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _close_after_flush(conn: Connection, code: int) -> None:
        # "closed after N messages" must mean the client got the N messages: wait (bounded) until
        # the connection's writer has sent what is queued. Connection has no public "pending"
        # count, so this reads its queue; without it we would close early, never late.
        loop = asyncio.get_running_loop()
        deadline = loop.time() + _CLOSE_FLUSH_S
        while getattr(conn, "_queue", None) and not conn.closed and loop.time() < deadline:
            await asyncio.sleep(0.005)
        if not conn.closed:
            with contextlib.suppress(ConnectionError, RuntimeError):
                await conn.ws.close(code=code, message=b"edgedesk sim fault injection: connection closed")
