"""A test double for the UI mechanics: a small kernel thread driving a real `Control`.

It is not the engine. It publishes snapshots built from the fixed desk fixture plus its own small
state (mode, orders, proposals, positions, flatten progress) and reacts to every command the desk can
send, recording them (`commands`) and what it would have sent to a venue (`sent`). Pilot tests of
screen mechanics use it; the tests that must prove what reached the exchange use the real engine.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections import deque

from console.domain.side import Side
from console.engine.control import (
    Alert, Approve, CancelAll, CancelOrder, CheckOrder, Control, DeskSnapshot, ExitPolicy, Filled, Flatten,
    IntentExpired, Mode, OrderChecked, OrderRow, OrderUpdated, PlaceOrder, ProposalRow, Reject, SetAuto, Shutdown,
)


class FakeClock:
    """A settable millisecond clock shared by the fake kernel and the app under test."""

    def __init__(self, now_ms: int) -> None:
        self.now_ms = now_ms

    def __call__(self) -> int:
        return self.now_ms

    def advance(self, ms: int) -> None:
        self.now_ms += ms


class FakeEngine:
    """Kernel-thread double. `max_check_count`: CheckOrder passes up to this count, else is rejected."""

    def __init__(self, base: DeskSnapshot, clock: FakeClock, *, flatten_turns: int = 5,
                 max_check_count: int = 50_000) -> None:
        self.control = Control()
        self.clock = clock
        self.base = base
        self.mode = base.mode
        self.mode_reason = base.mode_reason
        self.orders = list(base.orders)
        self.proposals = list(base.proposals)
        self.positions = list(base.positions)
        self.flattening = False
        self.flatten_report = ""
        self.flatten_turns = flatten_turns
        self.max_check_count = max_check_count
        self.commands: list[object] = []
        self.sent: list[PlaceOrder] = []
        self.shutdown_policy: ExitPolicy | None = None
        self.stopped = threading.Event()
        self._inbox: deque = deque()
        self._version = base.version
        self._flatten_left = 0
        self._ids = 100
        self._running = True
        self._thread = threading.Thread(target=self._run, name="fake-kernel", daemon=True)
        self._publish()

    # --- test side ---------------------------------------------------------------------------------

    def start(self) -> FakeEngine:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._running = False
        self.control.wake()
        self._thread.join(2)

    def wait_stopped(self, timeout_s: float) -> bool:
        return self.stopped.wait(timeout_s)

    def emit_later(self, event: object) -> None:
        """Have the kernel thread emit `event` on its next turn (as a real fill would arrive)."""
        self._inbox.append(event)
        self.control.wake()

    def seen(self, kind: type) -> list:
        return [c for c in list(self.commands) if isinstance(c, kind)]

    # --- kernel thread -----------------------------------------------------------------------------

    def _run(self) -> None:
        while self._running:
            self.control.wait(0.01)
            dirty = False
            for command in self.control.drain():
                self.commands.append(command)
                self._handle(command)
                dirty = True
            while self._inbox:
                self.control.emit(self._inbox.popleft())
            if self._flatten_left:
                self._flatten_left -= 1
                if not self._flatten_left:
                    self.positions, self.flattening = [], False
                    self.flatten_report = "flat in 5 turns; cost $2.34"
                    self.control.emit(Alert("warn", "flatten", "flat; flatten cost $2.34"))
                dirty = True
            if dirty:
                self._publish()
            if self.shutdown_policy is not None:
                self.stopped.set()
                return

    def _handle(self, command: object) -> None:
        match command:
            case SetAuto(on=on):
                if self.mode is Mode.HALTED and on:
                    self.control.emit(Alert("error", "mode", "HALTED: resume before turning auto on"))
                else:
                    self.mode, self.mode_reason = (Mode.AUTO, "operator") if on else (Mode.MANUAL, "operator")
            case Approve(intent_id=intent_id):
                proposal = next((p for p in self.proposals if p.intent_id == intent_id), None)
                if proposal is None:
                    return
                self.proposals.remove(proposal)
                if proposal.expires_ms <= self.clock():
                    self.control.emit(IntentExpired(intent_id, "approved after its time to live"))
                    return
                self._send(PlaceOrder(proposal.ticker, proposal.side, proposal.price, proposal.count),
                           proposal.strategy)
            case Reject(intent_id=intent_id):
                self.proposals = [p for p in self.proposals if p.intent_id != intent_id]
            case PlaceOrder():
                self._send(command, "manual")
            case CheckOrder(request_id=rid, order=order):
                if order.count <= self.max_check_count:
                    self.control.emit(OrderChecked(rid, True))
                else:
                    self.control.emit(OrderChecked(rid, False, ("max_contracts_per_market",),
                                                   f"{order.count // 100} contracts > {self.max_check_count // 100}"))
            case CancelOrder(client_order_id=coid):
                self._cancel(lambda o: o.client_order_id == coid)
            case CancelAll():
                self._cancel(lambda o: True)
            case Flatten():
                self.mode, self.mode_reason = Mode.HALTED, "flatten (operator)"
                self._cancel(lambda o: True)
                self.flattening, self._flatten_left = True, self.flatten_turns
            case Shutdown(policy=policy):
                if policy is not ExitPolicy.LEAVE:
                    self._cancel(lambda o: True)
                if policy is ExitPolicy.FLATTEN:
                    self.positions = []
                self.shutdown_policy = policy

    def _send(self, order: PlaceOrder, origin: str) -> None:
        self.sent.append(order)
        self._ids += 1
        row = OrderRow(f"ed-t-{self._ids}", order.ticker, order.side, order.price, 0, order.count, "resting", origin)
        self.orders.append(row)
        self.control.emit(OrderUpdated(row.client_order_id, row.ticker, "resting", row.side, row.price, 0,
                                       row.remaining, origin))

    def _cancel(self, which) -> None:
        for order in [o for o in self.orders if which(o)]:
            self.orders.remove(order)
            self.control.emit(OrderUpdated(order.client_order_id, order.ticker, "canceled", order.side, order.price,
                                           order.filled, 0, order.origin))

    def _publish(self) -> None:
        self._version += 1
        self.control.publish(dataclasses.replace(
            self.base, version=self._version, ts_ms=self.clock(), mode=self.mode, mode_reason=self.mode_reason,
            orders=tuple(self.orders), proposals=tuple(self.proposals), positions=tuple(self.positions),
            flattening=self.flattening, flatten_report=self.flatten_report))


def fill_event(ticker: str = "KXSENATE-26-D") -> Filled:
    return Filled("ed-m-0001", ticker, Side.BID, 4300, 500, 18_000, False, "manual")


def proposal(intent_id: str, expires_ms: int, ticker: str = "KXGOVCA-26") -> ProposalRow:
    return ProposalRow(intent_id, ticker, Side.BID, 8800, 1000, "fundamentals", 0.02, "test", expires_ms)


def wait_until(predicate, timeout_s: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()
