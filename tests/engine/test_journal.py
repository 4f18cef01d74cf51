"""Journal: WAL on a real file, survives a reopen and a SIGKILL, fills recorded once, restart rebuilds
open orders and positions exactly, intents/decisions/predictions/alerts/corrections round-trip, no
secret ever reaches the file, and the forward-test log writes one JSON line per intent."""

from __future__ import annotations

import itertools
import json
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from console.domain.book import Book
from console.domain.fees import FeeType, KalshiFees
from console.domain.grid import PriceGrid
from console.domain.orders import Accepted, Fill, Order, OrderState, Rejected, SendFailed, VenueOrderUpdate
from console.domain.portfolio import MarketInfo, Portfolio
from console.domain.side import Side
from console.engine.journal import (
    ForwardTestLog,
    IntentRecord,
    Journal,
    JournalError,
    TopOfBook,
    data_dir,
    default_journal_path,
    scrub,
)

MARKET = MarketInfo("KXSEN-A", "KXSEN", "politics", True, 1_900_000_000,
                    KalshiFees(FeeType.QUADRATIC_WITH_MAKER_FEES, Fraction(1, 2)))


def test_wal_mode_schema_version_and_default_paths(tmp_path) -> None:
    with Journal(tmp_path / "j.sqlite") as j:
        assert j.journal_mode == "wal" and j.schema_version == 2
    assert (tmp_path / "j.sqlite").exists()
    assert default_journal_path({"EDGEDESK_HOME": str(tmp_path)}) == tmp_path / "journal.sqlite"
    assert data_dir({"XDG_DATA_HOME": "/x"}).as_posix() == "/x/edgedesk"
    assert default_journal_path({}).as_posix().endswith(".local/share/edgedesk/journal.sqlite")


def test_newer_schema_is_refused_with_advice(tmp_path) -> None:
    path = tmp_path / "j.sqlite"
    Journal(path).close()
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version=99")
    db.close()
    with pytest.raises(JournalError, match="newer edgedesk.*upgrade"):
        Journal(path)


def test_a_version_1_journal_is_upgraded_in_place_and_keeps_its_predictions(tmp_path) -> None:
    from console.engine.journal_schema import SCHEMA_V1
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    db.executescript(SCHEMA_V1 + "PRAGMA user_version=1;")
    db.execute("INSERT INTO predictions (ts_ms, model, ticker, probability) VALUES (5, 'polls', 'KXSEN-A', 0.6)")
    db.commit()
    db.close()
    with Journal(path) as j:
        assert j.schema_version == 2
        j.record_prediction("polls", "KXSEN-A", 0.7, 6, category="politics", market_prob=0.65)
        assert j.record_outcome("KXSEN-A", False, 9) == 2
        old, new = j.resolved_predictions()
        assert (old.probability, old.category, old.market_prob, old.outcome) == (0.6, "", None, 0)
        assert (new.probability, new.category, new.market_prob, new.outcome) == (0.7, "politics", 0.65, 0)
    fresh = tmp_path / "fresh.sqlite"
    Journal(fresh).close()

    def columns(p):
        with sqlite3.connect(p) as c:
            return c.execute("SELECT sql FROM sqlite_master WHERE name='predictions'").fetchone()

    assert columns(path) == columns(fresh)  # upgraded and new journals have the same table


def test_duplicate_fill_is_recorded_once_even_after_reopen(tmp_path) -> None:
    fill = Fill("F1", "O1", "KXSEN-A", Side.BID, 5600, 1000, 15_400, True, 5, "c1")
    with Journal(tmp_path / "j.sqlite") as j:
        assert j.record_fill(fill, 10) is True
        assert j.record_fill(fill, 11) is False  # ignored and reported
        assert j.fill_count() == 1
    with Journal(tmp_path / "j.sqlite") as j:
        assert j.record_fill(fill, 12) is False
        assert j.fill_count() == 1
        assert j.load().portfolio.signed("KXSEN-A") == 1000  # applied once


def live_session(j: Journal) -> tuple[dict[str, Order], Portfolio]:
    """A small trading session written to the journal the way the kernel does it."""
    j.record_market(MARKET)
    j.record_market(MarketInfo("KXCPI-1", "KXCPI", "economics"))
    j.start_session("s1", 1)
    pf = Portfolio([MARKET, MarketInfo("KXCPI-1", "KXCPI", "economics")])
    orders: dict[str, Order] = {}

    def new(cid, ticker, side, price, count, **kw) -> Order:
        o = Order.new(cid, ticker, side, price, count, created_ms=len(orders) + 1, **kw)
        j.record_order(o, o.created_ms)
        orders[cid] = o
        return o

    def event(o: Order, e, now=50) -> None:
        j.record_order_event(o, e, o.apply(e), now)
        if isinstance(e, Fill) and j.record_fill(e, now, o.client_order_id):
            pf.apply_fill(e)

    resting = new("ed:s1:mm:0", "KXSEN-A", Side.BID, 5600, 1000, origin="mm")
    event(resting, Accepted("O1", 0, 1000))
    event(resting, Fill("F1", "O1", "KXSEN-A", Side.BID, 5600, 400, 6_200))
    lost = new("ed:s1:manual:1", "KXSEN-A", Side.ASK, 6000, 300)  # NO at 0.40
    event(lost, SendFailed("timeout after 5 s"))
    done = new("ed:s1:mm:2", "KXCPI-1", Side.ASK, 3000, 500, time_in_force="immediate_or_cancel")
    event(done, Accepted("O3", 500, 0))
    event(done, Fill("F3", "O3", "KXCPI-1", Side.ASK, 3000, 500, 7_400))
    refused = new("ed:s1:manual:3", "KXCPI-1", Side.BID, 2000, 100)
    event(refused, Rejected("invalid_order", "post only cross", 400))
    j.record_restatement("KXCPI-1", -600, 4_200_000, 60)  # reconciliation: venue says 6 NO for $4.20
    pf.position("KXCPI-1").restate(-600, 4_200_000)
    orphan = Fill("F9", "O9", "KXSEN-A", Side.ASK, 5500, 100, 0)  # a fill for an order placed elsewhere
    assert j.record_fill(orphan, 70)
    pf.apply_fill(orphan)
    return orders, pf


def test_restart_rebuilds_open_orders_and_positions(tmp_path) -> None:
    path = tmp_path / "journal.sqlite"
    with Journal(path) as j:
        orders, live = live_session(j)
    with Journal(path) as j:
        rec = j.load()
        history = j.order_history("ed:s1:mm:0")
    assert rec.sessions == ["s1"]
    by_cid = {o.client_order_id: o for o in rec.open_orders}
    assert set(by_cid) == {"ed:s1:mm:0", "ed:s1:manual:1"}  # filled and rejected ones are done
    resting = by_cid["ed:s1:mm:0"]
    assert (resting.state, resting.filled, resting.remaining, resting.order_id) == \
        (OrderState.PARTIALLY_FILLED, 400, 600, "O1")
    assert resting.is_bot and resting.fill_ids == {"F1"} and resting.fees == 6_200
    lost = by_cid["ed:s1:manual:1"]
    assert lost.state is OrderState.UNKNOWN and not lost.is_bot
    # the recovered order keeps working: a late user_order settles the unknown one
    lost.apply(VenueOrderUpdate("O2", "resting", 0, 300))
    assert lost.state is OrderState.RESTING
    for ticker in ("KXSEN-A", "KXCPI-1"):
        a, b = rec.portfolio.positions[ticker], live.positions[ticker]
        assert (a.position, a.cost_basis, a.realized, a.fees) == (b.position, b.cost_basis, b.realized, b.fees)
    assert rec.portfolio.markets["KXSEN-A"] == MARKET
    assert rec.fill_ids == {"F1", "F3", "F9"}
    assert history == [("created", None, "pending"), ("Accepted", "pending", "resting"),
                       ("Fill", "resting", "partially_filled")]


def test_state_survives_sigkill(tmp_path) -> None:
    """Each record commits: a process killed right after writing loses nothing."""
    path = tmp_path / "journal.sqlite"
    code = textwrap.dedent(f"""
        import os, signal
        from console.domain.orders import Order, SendFailed
        from console.domain.side import Side
        from console.engine.journal import Journal
        j = Journal({str(path)!r})
        o = Order.new("ed:k:manual:0", "KXSEN-A", Side.BID, 5000, 100)
        j.record_order(o, 1)
        j.record_order_event(o, SendFailed("timeout"), o.apply(SendFailed("timeout")), 2)
        j.record_alert(3, "warn", "io", "order outcome unknown")
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60)
    assert proc.returncode == -signal.SIGKILL
    with Journal(path) as j:
        rec = j.load()
        assert [(o.client_order_id, o.state) for o in rec.open_orders] == [("ed:k:manual:0", OrderState.UNKNOWN)]
        assert j.alerts() == [(3, "warn", "io", "order outcome unknown")]


def test_session_prefix_cannot_be_reused(tmp_path) -> None:
    with Journal(tmp_path / "j.sqlite") as j:
        j.start_session("abc", 1)
        with pytest.raises(JournalError, match="already used"):
            j.start_session("abc", 2)


def test_intents_decisions_predictions_marks_corrections(tmp_path) -> None:
    with Journal(tmp_path / "j.sqlite") as j:
        intent = IntentRecord("i1", 100, "KXSEN-A", Side.ASK, 4300, 500, "fair-value", "model 0.52 vs 0.57",
                              0.52, 31_000, 30_000)
        j.record_intent(intent, TopOfBook(4200, 900, 4300, 1200, 99))
        j.record_decision("i1", "risk_rejected", 101, rule="fat_finger", message="A: ask 0.1100 through")
        j.record_decision("i1", "expired", 130_100, message="proposal ttl 30 s passed")
        assert j.decisions("i1") == [("risk_rejected", "fat_finger", "A: ask 0.1100 through"),
                                     ("expired", None, "proposal ttl 30 s passed")]
        j.record_prediction("polls", "KXSEN-A", 0.52, 100, category="politics", market_prob=0.57)
        j.record_prediction("polls", "KXSEN-B", 0.40, 100)
        with pytest.raises(ValueError, match="outside"):
            j.record_prediction("polls", "KXSEN-A", 1.2, 100)
        with pytest.raises(ValueError, match="market probability"):
            j.record_prediction("polls", "KXSEN-A", 0.5, 100, market_prob=-0.1)
        assert j.record_outcome("KXSEN-A", True, 500) == 1
        assert j.record_outcome("KXSEN-A", False, 600) == 0  # a market resolves once
        [resolved] = j.resolved_predictions("polls")
        assert resolved[:4] == ("polls", "KXSEN-A", 0.52, 1)
        assert (resolved.category, resolved.market_prob, resolved.ts_ms, resolved.resolved_ms) == \
            ("politics", 0.57, 100, 500)
        assert j.resolved_predictions("polls", ticker="KXSEN-B") == []
        j.record_mark(200, realized=1, unrealized=-2, fees=3, exposure=4, equity=5)
        j.record_correction(300, "order_adopted", "venue order O7 not in the journal; adopted",
                            ticker="KXSEN-A", client_order_id="ed:x:manual:9")
        assert j.corrections() == [("order_adopted", "KXSEN-A", "ed:x:manual:9",
                                    "venue order O7 not in the journal; adopted")]
        row = j._db.execute("SELECT yes_bid, yes_bid_size, yes_ask, yes_ask_size, edge_after_fees "
                            "FROM intents").fetchone()
        assert row == (4200, 900, 4300, 1200, 31_000)


PEM = ("-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n"
       "-----END PRIVATE KEY-----")


def test_secrets_never_reach_the_file(tmp_path) -> None:
    path = tmp_path / "j.sqlite"
    signature = "KALSHI-ACCESS-SIGNATURE: " + "A1b2" * 40
    with Journal(path) as j:
        j.record_alert(1, "error", "auth", f"signing failed with key {PEM}")
        j.record_correction(2, "auth", f"request headers {signature}")
        o = Order.new("c1", "T", Side.BID, 5000, 100)
        j.record_order(o, 1)
        j.record_order_event(o, Rejected("unauthorized", f"bad signature {'x' * 80}", 401),
                             o.apply(Rejected("unauthorized", f"bad signature {'x' * 80}", 401)), 3)
        dump = "\n".join(j._db.iterdump())
    raw = path.read_bytes() + (tmp_path / "j.sqlite-wal").read_bytes() if (tmp_path / "j.sqlite-wal").exists() \
        else path.read_bytes()
    for text in (dump, raw.decode("latin-1")):
        assert "PRIVATE KEY" not in text and "MIIEvQ" not in text and "A1b2A1b2" not in text
        assert "x" * 64 not in text
    assert "[redacted" in dump
    assert scrub("price 0.5600 count 10.00") == "price 0.5600 count 10.00"  # ordinary text untouched


def test_forward_test_log_one_json_line_per_intent(tmp_path) -> None:
    path = tmp_path / "fwd" / "forward.jsonl"
    book = Book(PriceGrid.for_structure("linear_cent"), "KXSEN-A")
    book.apply_snapshot([(5500, 700)], [(5700, 300)])
    with ForwardTestLog(path) as log:
        log.write(IntentRecord("i1", 10, "KXSEN-A", Side.BID, 5600, 100, "mm"), TopOfBook.of(book, 10))
        log.write(IntentRecord("i2", 11, "KXSEN-A", Side.ASK, 5800, 100, "mm", model_probability=0.6),
                  TopOfBook.of(None, 11))
    with ForwardTestLog(path) as log:  # reopening appends
        log.write(IntentRecord("i3", 12, "KXSEN-A", Side.BID, 5600, 100, "mm"), TopOfBook.of(book, 12))
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [line["intent_id"] for line in lines] == ["i1", "i2", "i3"]
    assert lines[0]["book"] == {"ts_ms": 10, "yes_bid": 5500, "yes_bid_size": 700, "yes_ask": 5700,
                                "yes_ask_size": 300}
    assert lines[1]["book"]["yes_bid"] is None and lines[1]["model_probability"] == 0.6
    assert lines[0]["side"] == "bid" and lines[0]["price"] == 5600


_paths = itertools.count()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(["A", "B"]), st.sampled_from([Side.BID, Side.ASK]),
                          st.integers(1, 99), st.integers(1, 500), st.integers(0, 3)), max_size=30))
def test_reloaded_positions_equal_live_ones(tmp_path, fills) -> None:
    path = tmp_path / f"p{next(_paths)}.sqlite"
    live = Portfolio()
    with Journal(path) as j:
        for i, (t, side, c, n, dup) in enumerate(fills):
            fill = Fill(f"F{i}", "O", t, side, c * 100, n, c)
            for _ in range(1 + dup):  # redelivered fills
                if j.record_fill(fill, i):
                    live.apply_fill(fill)
            if i == len(fills) // 2:
                j.record_restatement(t, 250, 1_000_003, i)
                live.position(t).restate(250, 1_000_003)
    with Journal(path) as j:
        rec = j.load().portfolio
    for t in ("A", "B"):
        a, b = rec.position(t), live.position(t)
        assert (a.position, a.cost_basis, a.realized, a.fees) == (b.position, b.cost_basis, b.realized, b.fees)


def test_an_order_is_on_disk_when_record_order_returns_and_its_rows_follow(tmp_path) -> None:
    path = tmp_path / "j.sqlite"
    j = Journal(path)
    order = Order.new("ed:s:manual:1", "KXSEN-A", Side.BID, 5600, 100, created_ms=5)
    j.record_order(order, 5)
    log = path.with_name(path.name + "-orders")
    assert b"ed:s:manual:1" in log.read_bytes()  # one write(2): there before the request leaves
    with sqlite3.connect(path) as other:
        assert other.execute("SELECT count(*) FROM orders").fetchone()[0] == 0  # SQLite rows come after the send
    j.record_decision("i1", "sent", 6, client_order_id="ed:s:manual:1")  # the next statement brings them
    with sqlite3.connect(path) as other:
        assert other.execute("SELECT client_order_id, state FROM orders").fetchall() == [("ed:s:manual:1", "pending")]
        assert other.execute("SELECT kind FROM order_events").fetchall() == [("created",)]
    assert log.read_bytes() == b""  # committed: the log is emptied
    j.record_order(Order.new("ed:s:manual:2", "KXSEN-A", Side.BID, 5600, 100), 7)
    assert j.order_history("ed:s:manual:2") == [("created", None, "pending")]  # reads see it at once
    j.record_order(Order.new("ed:s:manual:3", "KXSEN-A", Side.BID, 5600, 100), 8)
    # the desk dies here (no close, no further statement): a restart replays the log
    with log.open("ab") as f:
        f.write(b'["ed:s:manual:9", null, "KXSEN-A"')  # a write torn by a crash: that request never left
    with Journal(path) as again:
        rec = again.load()
        assert [o.client_order_id for o in rec.open_orders] == ["ed:s:manual:1", "ed:s:manual:2", "ed:s:manual:3"]
        assert again.order_history("ed:s:manual:3") == [("created", None, "pending")]
    assert log.read_bytes() == b""
    j.record_decision("i2", "sent", 9)  # the old instance flushing late inserts nothing twice
    assert j.order_history("ed:s:manual:3") == [("created", None, "pending")]
    j.close()
    with Journal(path, writer=False) as reader, pytest.raises(JournalError, match="reader"):
        reader.record_order(Order.new("ed:s:manual:4", "KXSEN-A", Side.BID, 5600, 100), 10)


def test_the_wal_is_checkpointed_off_the_writers_thread(tmp_path) -> None:
    path = tmp_path / "j.sqlite"
    with Journal(path, checkpoint_every_s=0.02) as j:
        assert j._db.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0  # never inside a commit
        for round_ in range(6):
            for i in range(500):
                j.record_alert(i, "info", "test", f"alert {round_} {i}")
            time.sleep(0.1)
        wal = path.with_name(path.name + "-wal").stat().st_size
    # 3,000 commits of at least one 4 KiB page each: without checkpoints the WAL would hold them all
    assert wal < 1_500 * 4096, wal
    with Journal(path, checkpoint_every_s=None) as j:
        assert len(j.alerts()) == 3_000
