"""The direct lane against the built-in exchange over real sockets: the thread that decides an order
writes the create itself (no hand-over to the io loop), the io loop reads the answer, the socket is
kept alive for the next one, an order refused by the venue comes back as the venue's own rejection,
and when the lane is not ready (no socket, no pre-paid budget) nothing is written by it and the order
goes the normal way, once."""

from __future__ import annotations

import queue
import time

from engine_helpers import Account, new_markets, wait_until

from console.domain.side import Side
from console.engine import messages as m
from console.engine.io import IoThread
from console.venues.kalshi.orders import OrderSpec


def _io(account: Account) -> tuple[IoThread, queue.Queue]:
    answers: queue.Queue = queue.Queue()
    io = IoThread(account.venue().rest, None, answers.put, order_timeout_s=5.0)
    io.start()
    return io, answers


def _answer(answers: queue.Queue, cid: str) -> m.OrderAnswer:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        item = answers.get(timeout=10)
        if isinstance(item, m.OrderAnswer) and item.client_order_id == cid:
            return item
    raise AssertionError(f"no answer for {cid}")


def test_creates_leave_from_the_calling_thread_and_the_socket_is_reused(sim) -> None:
    [ticker] = new_markets(sim, 1, prefix="KXDIR")
    maker, desk = Account(sim), Account(sim)
    maker.place(ticker, "ask", "0.4000", "5.00")
    io, answers = _io(desk)
    try:
        lane = io.direct
        assert lane is not None, "plain HTTP venue: the direct lane is on"
        wait_until(lambda: lane._tokens > 0 and lane._idle, 5, "the lane ready (tokens, socket)")
        for i in range(3):
            spec = OrderSpec(ticker=ticker, side=Side.BID, price=4000, count=100,
                             time_in_force="immediate_or_cancel", client_order_id=f"ed:dir:manual:{i}")
            io.submit(m.SendOrder(spec))
            answer = _answer(answers, spec.client_order_id)
            assert (answer.outcome, answer.result.fill_count) == ("accepted", 100)
            wait_until(lambda: lane._idle, 5, "the socket back in the pool")
        assert (lane.sent, lane.fallbacks) == (3, 0)
        fills = desk.fills()
        assert len(fills) == 3  # three orders, each filled once
        # refused by the venue (no such market): the REST client's typed rejection, not a lost order
        bad = OrderSpec(ticker="KXNOSUCH-MKT", side=Side.BID, price=4000, count=100,
                        time_in_force="immediate_or_cancel", client_order_id="ed:dir:manual:bad")
        wait_until(lambda: lane._tokens > 0 and lane._idle, 5, "the lane ready again")
        io.submit(m.SendOrder(bad))
        answer = _answer(answers, bad.client_order_id)
        assert answer.outcome == "rejected" and answer.status == 404, answer
        assert lane.fallbacks == 1
        # not ready (no pre-paid budget): nothing written by the lane; the normal path sends it once
        with lane._lock:
            lane._tokens = -1_000  # keeps the refill from catching up during this order
        spec = OrderSpec(ticker=ticker, side=Side.BID, price=4000, count=100, time_in_force="immediate_or_cancel",
                         client_order_id="ed:dir:manual:normal")
        io.submit(m.SendOrder(spec))
        assert _answer(answers, spec.client_order_id).outcome == "accepted"
        assert lane.sent == 4 and lane.missed >= 1
        assert [o["client_order_id"] for o in desk.orders() if o["client_order_id"] == spec.client_order_id] == \
            [spec.client_order_id]
    finally:
        io.stop()
