"""Control: priority commands jump the queue, snapshots swap whole, events reach every subscriber."""

import threading

from console.domain.side import Side
from console.engine.control import (
    Alert, CancelAll, Control, DeskSnapshot, Flatten, Halt, Mode, PlaceOrder, SetAuto,
)


def test_flatten_and_halt_jump_the_queue():
    control = Control()
    control.submit(SetAuto(True))
    control.submit(PlaceOrder("KXA", Side.BID, 5600, 100))
    control.submit(Halt("operator"))
    control.submit(Flatten())
    drained = control.drain()
    assert isinstance(drained[0], Flatten) and isinstance(drained[1], Halt)
    assert drained[2:] == [SetAuto(True), PlaceOrder("KXA", Side.BID, 5600, 100)]
    assert control.drain() == []


def test_submit_from_many_threads_loses_nothing():
    control = Control()
    threads = [threading.Thread(target=lambda: [control.submit(CancelAll()) for _ in range(500)]) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(control.drain()) == 2000


def test_snapshot_publish_and_events():
    control = Control()
    assert control.snapshot().mode is Mode.MANUAL
    control.publish(DeskSnapshot(version=3, mode=Mode.HALTED, mode_reason="daily loss"))
    assert control.snapshot().version == 3 and control.snapshot().mode_reason == "daily loss"
    seen_a, seen_b = [], []
    control.subscribe(seen_a.append)
    unsubscribe = control.subscribe(seen_b.append)
    control.emit(Alert("info", "fill", "one"))
    unsubscribe()
    control.emit(Alert("info", "fill", "two"))
    assert [a.message for a in seen_a] == ["one", "two"]
    assert [a.message for a in seen_b] == ["one"]


def test_wait_wakes_on_submit():
    control = Control()
    assert control.wait(0.01) is False
    control.submit(SetAuto(False))
    assert control.wait(0.01) is True
