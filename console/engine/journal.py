"""The trading journal: SQLite in WAL mode, written by the kernel thread only, read back on restart.

What is kept (schema in `journal_schema.py`): orders and every state change, fills (the fill id is
the primary key: a second insert of the same fill is ignored and reported), position restatements
and settlements, intents with the top of book they saw, decisions (including why an intent was not
sent), model predictions with their later outcomes, P&L marks, alerts and reconciliation corrections.

Write discipline for "nothing is sent twice": record an order (`record_order`) *before* its request
leaves; each call commits. WAL with `synchronous=NORMAL` makes a commit survive a killed process
(not a power cut) at a cost of tens of microseconds, which keeps the kernel's hot path short. On that
path `record_order` is a single INSERT (the order's "created" history row follows with the next
statement), and the WAL is checkpointed by a `Checkpointer` thread, never inside a commit.

`load()` rebuilds what a restart needs: the orders that may still be open (with their fills) and the
portfolio (every fill, restatement and settlement replayed in journal order). The engine then
reconciles both with the venue before trading.

Never a secret: free text (messages, details, reasons) passes through `scrub`, which removes PEM
blocks, signature/key headers and long base64 runs before anything is written.

`ForwardTestLog` writes one JSON line per intent with the top of book at that moment.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import IO, Any, NamedTuple

import msgspec

from console.domain.fees import FeeType, KalshiFees
from console.domain.orders import Applied, Fill, Order, OrderEvent, OrderState, Rejected
from console.domain.portfolio import BookView, MarketInfo, Portfolio
from console.domain.side import Side
from console.engine.journal_schema import MIGRATIONS, SCHEMA_V1, SCHEMA_VERSION
from console.engine.journal_store import (
    CREATED_SQL,
    NEW_ORDER_SQL,
    ORDER_EVENT_SQL,
    ORDERS_LOG_SUFFIX,
    Checkpointer,
    Connection,
)

JOURNAL_FILE = "journal.sqlite"

_PEM = re.compile(r"-----BEGIN [A-Z0-9 ]+-----.*?(-----END [A-Z0-9 ]+-----|\Z)", re.DOTALL)
_HEADER = re.compile(r"(?i)(KALSHI-ACCESS-(?:SIGNATURE|KEY)|authorization|private[_ -]?key|api[_ -]?secret)"
                     r"(\s*[:=]\s*)(\"[^\"]*\"|'[^']*'|\S+)")
_BLOB = re.compile(r"[A-Za-z0-9+/=_-]{64,}")


def scrub(text: str) -> str:
    """Remove anything that could be key material from free text before it is stored."""
    text = _PEM.sub("[redacted key]", text)
    text = _HEADER.sub(lambda m: f"{m.group(1)}{m.group(2)}[redacted]", text)
    return _BLOB.sub("[redacted]", text)


def data_dir(env: Mapping[str, str] | None = None) -> Path:
    """`$EDGEDESK_HOME`, else `$XDG_DATA_HOME/edgedesk`, else `~/.local/share/edgedesk`."""
    env = os.environ if env is None else env
    if env.get("EDGEDESK_HOME"):
        return Path(env["EDGEDESK_HOME"]).expanduser()
    if env.get("XDG_DATA_HOME"):
        return Path(env["XDG_DATA_HOME"]).expanduser() / "edgedesk"
    return Path.home() / ".local" / "share" / "edgedesk"


def default_journal_path(env: Mapping[str, str] | None = None) -> Path:
    return data_dir(env) / JOURNAL_FILE


class JournalError(RuntimeError):
    """The journal cannot be used (newer schema, not WAL-capable, unreadable); the message says what to do."""


@dataclass(frozen=True, slots=True)
class TopOfBook:
    """Best YES bid and ask (YES-scale pips, count units) at one moment; None for an empty side."""

    yes_bid: int | None
    yes_bid_size: int | None
    yes_ask: int | None
    yes_ask_size: int | None
    ts_ms: int = 0

    @classmethod
    def of(cls, book: BookView | None, ts_ms: int = 0) -> TopOfBook:
        bid = book.best_bid if book is not None else None
        ask = book.best_ask if book is not None else None
        return cls(bid[0] if bid else None, bid[1] if bid else None, ask[0] if ask else None,
                   ask[1] if ask else None, ts_ms)


@dataclass(frozen=True, slots=True)
class IntentRecord:
    """What a strategy proposed, as journaled (the kernel's own Intent maps onto this)."""

    intent_id: str
    ts_ms: int
    ticker: str
    side: Side
    price: int  # YES scale
    count: int
    strategy: str
    reason: str = ""
    model_probability: float | None = None
    edge_after_fees: int | None = None  # micro-dollars per contract
    ttl_ms: int = 0


class ResolvedPrediction(NamedTuple):
    """One prediction whose market resolved (`outcome` 1 = YES, 0 = NO); the first four fields are the
    journal's original (model, ticker, probability, outcome) tuple."""

    model: str
    ticker: str
    probability: float
    outcome: int
    category: str = ""
    market_prob: float | None = None  # the market's implied YES probability when the model predicted
    ts_ms: int = 0
    resolved_ms: int | None = None


@dataclass
class Recovered:
    """What `Journal.load()` rebuilt for a restart."""

    open_orders: list[Order]
    portfolio: Portfolio
    sessions: list[str]
    fill_ids: set[str] = field(default_factory=set)


_FACT_FIELDS = ("venue_fill_count", "exists_at_venue", "closed_by_venue", "canceled_seen", "executed_seen",
                "send_failed", "not_found", "cancel_requested")


class Journal:
    """The SQLite journal (see the module docstring). One writer: the kernel thread."""

    def __init__(self, path: str | Path | None = None, *, synchronous: str = "NORMAL",
                 checkpoint_every_s: float | None = 1.0, writer: bool = True) -> None:
        self.path = Path(path) if path is not None else default_journal_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            # check_same_thread=False: created by the runtime, then written only by the kernel thread
            self._db = Connection(sqlite3.connect(self.path, isolation_level=None, check_same_thread=False))
        except sqlite3.Error as exc:
            raise JournalError(f"{self.path}: cannot open the journal ({exc}); check the path and "
                               "permissions, or set EDGEDESK_HOME") from None
        mode = self._db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise JournalError(f"{self.path}: SQLite refused WAL mode (got {mode}); put the journal on a "
                               "local disk (EDGEDESK_HOME)")
        if synchronous.upper() not in ("NORMAL", "FULL"):
            raise ValueError("synchronous must be NORMAL or FULL")
        self._db.execute(f"PRAGMA synchronous={synchronous.upper()}")
        self._migrate()
        # new orders go to this append-only file before anything else (see record_order)
        self._orders_log = Path(f"{self.path}{ORDERS_LOG_SUFFIX}")
        self._log_fd: int | None = None
        self._log_dirty = False
        self._fsync = synchronous.upper() == "FULL"
        if writer:  # a reader (a report) must not take over orders the running desk has not flushed yet
            self._replay_orders_log()
            self._log_fd = os.open(self._orders_log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            self._db.flushed = self._orders_flushed
        self._checkpointer: Checkpointer | None = None
        if checkpoint_every_s is not None:  # None: SQLite checkpoints inside commits, as by default
            self._db.execute("PRAGMA wal_autocheckpoint=0")
            self._checkpointer = Checkpointer(self.path, checkpoint_every_s)
            self._checkpointer.start()
        self._seq = self._db.execute(
            "SELECT max(coalesce((SELECT max(seq) FROM fills), 0), "
            "coalesce((SELECT max(seq) FROM position_events), 0))").fetchone()[0]

    def _migrate(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise JournalError(f"{self.path}: journal schema {version} was written by a newer edgedesk "
                               f"(this one reads up to {SCHEMA_VERSION}); upgrade edgedesk")
        if version == 0:
            # one transaction: a crash while creating leaves an empty file, created again next time
            upgrades = "".join(f"{stmt};" for v in range(1, SCHEMA_VERSION) for stmt in MIGRATIONS[v])
            self._db.executescript("BEGIN IMMEDIATE;" + SCHEMA_V1 + upgrades +
                                   f"PRAGMA user_version={SCHEMA_VERSION}; COMMIT;")
            return
        # an older journal is upgraded in place, all steps in one transaction (a crash leaves it as it was)
        with self._tx():
            while version < SCHEMA_VERSION:
                for stmt in MIGRATIONS[version]:
                    self._db.execute(stmt)
                version += 1
                self._db.execute(f"PRAGMA user_version={version}")

    @contextmanager
    def _tx(self) -> Iterator[None]:
        if self._db.in_transaction:
            yield
            return
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        if self._db.in_transaction:
            self._db.execute("COMMIT")

    def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stop()
        self._db.close()  # the last connection to close checkpoints the WAL into the file
        if self._log_fd is not None:
            os.close(self._log_fd)
            self._log_fd = None

    def flush(self) -> None:
        """Write what `record_order` left for after the send (also done before any other statement)."""
        if self._db.pending:
            self._db.flush()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @property
    def journal_mode(self) -> str:
        return self._db.execute("PRAGMA journal_mode").fetchone()[0]

    @property
    def schema_version(self) -> int:
        return self._db.execute("PRAGMA user_version").fetchone()[0]

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    # --- sessions and markets -------------------------------------------------------------------
    def start_session(self, session: str, now_ms: int) -> None:
        """Remember a client_order_id session prefix (a prefix must never be reused)."""
        try:
            self._db.execute("INSERT INTO sessions VALUES (?, ?)", (session, now_ms))
        except sqlite3.IntegrityError:
            raise JournalError(f"client order id session {session!r} was already used; pick another") from None

    def sessions(self) -> list[str]:
        return [r[0] for r in self._db.execute("SELECT session FROM sessions ORDER BY started_ms, session")]

    def record_market(self, info: MarketInfo) -> None:
        self._db.execute("INSERT OR REPLACE INTO markets VALUES (?, ?, ?, ?, ?, ?, ?)",
                         (info.ticker, info.event_ticker, info.category, int(info.mutually_exclusive),
                          info.close_ts, info.fees.fee_type.value, str(info.fees.multiplier)))

    # --- orders ---------------------------------------------------------------------------------
    def record_order(self, order: Order, now_ms: int) -> None:
        """Journal a new order before it is sent (its client_order_id is then taken for good).

        The order's row is appended to the orders log (`journal.sqlite-orders`) with one write(2), in the
        page cache when this returns, exactly as durable as a WAL commit with synchronous=NORMAL (fsync'd
        too with FULL). Its SQLite rows (the order and its "created" history) are written with the
        journal's next statement, after the request left: a SQLite statement costs about ten times that
        write on a busy machine, and every one hands the GIL to the io thread. The log is emptied once
        its orders are committed, and replayed into the database when the journal is opened after a
        crash, so `load()` always sees every order that may have been sent."""
        # plain ints: prices and counts may arrive as the venue codec's int subclasses
        row = (order.client_order_id, order.order_id, order.ticker, order.side.value, int(order.price),
               int(order.count), order.origin, int(order.reduce_only), order.time_in_force,
               order.state.value, int(order.filled), int(order.created_ms or now_ms), int(now_ms),
               self._facts(order))
        fd = self._log_fd
        if fd is None:
            raise JournalError(f"{self.path}: opened as a reader (writer=False); orders cannot be journaled")
        os.write(fd, msgspec.json.encode(row) + b"\n")
        if self._fsync:
            os.fsync(fd)
        self._log_dirty = True
        self._db.later(NEW_ORDER_SQL, row)
        self._db.later(CREATED_SQL, (order.client_order_id, now_ms, order.state.value))

    def _orders_flushed(self) -> None:
        if self._log_dirty and self._log_fd is not None:
            os.ftruncate(self._log_fd, 0)  # every order in it is committed now
            self._log_dirty = False

    def _replay_orders_log(self) -> None:
        """Orders written to the log but not to the database (the desk died in between) go in now."""
        try:
            data = self._orders_log.read_bytes()
        except FileNotFoundError:
            return
        with self._tx():
            for line in data.splitlines():
                try:
                    row = tuple(msgspec.json.decode(line))
                except msgspec.DecodeError:
                    continue  # torn by a crash inside the write: that request never left (it is sent after)
                if len(row) == 14:
                    self._db.execute(NEW_ORDER_SQL, row)
                    self._db.execute(CREATED_SQL, (row[0], row[12], row[9]))
        os.truncate(self._orders_log, 0)

    def record_order_event(self, order: Order, event: OrderEvent | str, applied: Applied | None,
                           now_ms: int) -> None:
        """Journal one event applied to an order and the order's new row (`event` may be a label
        such as "cancel_requested" for local actions)."""
        kind = event if isinstance(event, str) else type(event).__name__
        detail = {} if isinstance(event, str) else {k: (v.value if isinstance(v, Side) else v)
                                                    for k, v in asdict(event).items()}
        if applied is not None and applied.anomaly:
            detail["anomaly"] = applied.anomaly
        with self._tx():
            self._db.execute(
                "UPDATE orders SET order_id=?, price=?, count=?, state=?, filled=?, updated_ms=?, facts=? "
                "WHERE client_order_id=?",
                (order.order_id, order.price, order.count, order.state.value, order.filled, now_ms,
                 self._facts(order), order.client_order_id))
            self._event(order.client_order_id, now_ms, kind, applied.before if applied else None,
                        order.state, detail)

    def _event(self, cid: str, now_ms: int, kind: str, before: OrderState | None, after: OrderState,
               detail: dict[str, Any]) -> None:
        self._db.execute(ORDER_EVENT_SQL,
                         (cid, now_ms, kind, before.value if before else None, after.value,
                          scrub(json.dumps(detail, sort_keys=True))))

    @staticmethod
    def _facts(order: Order) -> str:
        facts: dict[str, Any] = {name: getattr(order, name) for name in _FACT_FIELDS}
        facts["latched"] = order.latched.value if order.latched else None
        if order.rejection is not None:
            facts["rejection"] = [order.rejection.code, scrub(order.rejection.message), order.rejection.status]
        facts["anomalies"] = [scrub(a) for a in order.anomalies[-20:]]
        return json.dumps(facts, sort_keys=True)

    def order_history(self, client_order_id: str) -> list[tuple[str, str | None, str]]:
        """(kind, state before, state after) of every journaled change of one order, oldest first."""
        return list(self._db.execute("SELECT kind, state_before, state_after FROM order_events WHERE "
                                     "client_order_id=? ORDER BY id", (client_order_id,)))

    # --- fills and positions --------------------------------------------------------------------
    def record_fill(self, fill: Fill, now_ms: int, client_order_id: str | None = None) -> bool:
        """Insert a fill; returns False when that fill id is already journaled (nothing written)."""
        cur = self._db.execute(
            "INSERT OR IGNORE INTO fills VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (fill.fill_id, self._seq + 1, fill.order_id, client_order_id or fill.client_order_id, fill.ticker,
             fill.side.value, fill.price, fill.count, fill.fee, int(fill.is_taker), fill.ts_ms, now_ms))
        if cur.rowcount != 1:
            return False
        self._seq += 1
        return True

    def record_restatement(self, ticker: str, position: int, cost_basis: int, now_ms: int) -> None:
        """The venue's position replaced ours (reconciliation); replayed in order on load."""
        self._db.execute("INSERT INTO position_events VALUES (?, ?, 'restate', ?, ?, ?, NULL)",
                         (self._next_seq(), now_ms, ticker, position, cost_basis))

    def record_settlement(self, ticker: str, yes_value: int, now_ms: int, *, position: int | None = None) -> None:
        """The market paid out at `yes_value` pips per YES unit; `position` is the signed count settled (kept
        to compare with the venue's own settlement record; replay settles whatever the ledger holds)."""
        self._db.execute("INSERT INTO position_events VALUES (?, ?, 'settle', ?, ?, NULL, ?)",
                         (self._next_seq(), now_ms, ticker, position, yes_value))

    def settlements(self) -> dict[str, tuple[int, int | None]]:
        """ticker -> (YES value in pips, signed count settled or None) for every journaled settlement."""
        return {t: (v, pos) for t, v, pos in self._db.execute(
            "SELECT ticker, yes_value, position FROM position_events WHERE kind='settle' ORDER BY seq")}

    def first_session_ms(self) -> int | None:
        """When this journal's first session started (None for a journal never used)."""
        return self._db.execute("SELECT min(started_ms) FROM sessions").fetchone()[0]

    def fill_count(self) -> int:
        return self._db.execute("SELECT count(*) FROM fills").fetchone()[0]

    # --- intents, decisions, predictions, marks, alerts, corrections ---------------------------
    def record_intent(self, intent: IntentRecord, top: TopOfBook) -> None:
        self._db.execute(
            "INSERT INTO intents (intent_id, ts_ms, ticker, side, price, count, strategy, model_probability, "
            "edge_after_fees, reason, ttl_ms, yes_bid, yes_bid_size, yes_ask, yes_ask_size, book_ts_ms) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (intent.intent_id, intent.ts_ms, intent.ticker, intent.side.value, intent.price, intent.count,
             intent.strategy, intent.model_probability, intent.edge_after_fees, scrub(intent.reason),
             intent.ttl_ms, top.yes_bid, top.yes_bid_size, top.yes_ask, top.yes_ask_size, top.ts_ms))

    def record_decision(self, intent_id: str, decision: str, now_ms: int, *, rule: str | None = None,
                        message: str = "", client_order_id: str | None = None) -> None:
        """Why an intent was or was not sent: sent, approved, declined, expired, risk_rejected, ..."""
        self._db.execute("INSERT INTO decisions (intent_id, ts_ms, decision, rule, message, client_order_id) "
                         "VALUES (?, ?, ?, ?, ?, ?)",
                         (intent_id, now_ms, decision, rule, scrub(message), client_order_id))

    def decisions(self, intent_id: str) -> list[tuple[str, str | None, str]]:
        return list(self._db.execute("SELECT decision, rule, message FROM decisions WHERE intent_id=? "
                                     "ORDER BY id", (intent_id,)))

    def record_prediction(self, model: str, ticker: str, probability: float, now_ms: int, *,
                          category: str = "", market_prob: float | None = None) -> None:
        """A model's YES probability for a market, with the market's category and the market's own implied
        YES probability at that moment (e.g. the mid), so calibration can score both on the same rows."""
        if not 0.0 <= probability <= 1.0:
            raise ValueError(f"{model} {ticker}: probability {probability} is outside [0, 1]")
        if market_prob is not None and not 0.0 <= market_prob <= 1.0:
            raise ValueError(f"{model} {ticker}: market probability {market_prob} is outside [0, 1]")
        self._db.execute("INSERT INTO predictions (ts_ms, model, ticker, probability, category, market_prob) "
                         "VALUES (?, ?, ?, ?, ?, ?)", (now_ms, model, ticker, probability, category, market_prob))

    def record_outcome(self, ticker: str, yes: bool, now_ms: int) -> int:
        """The market resolved: attach the outcome to its open predictions; returns how many."""
        return self._db.execute("UPDATE predictions SET outcome=?, resolved_ms=? WHERE ticker=? AND outcome IS NULL",
                                (int(yes), now_ms, ticker)).rowcount

    def unresolved_tickers(self, limit: int = 1000) -> list[str]:
        """Markets with predictions still waiting for an outcome, oldest prediction first."""
        return [r[0] for r in self._db.execute("SELECT ticker FROM predictions WHERE outcome IS NULL GROUP BY ticker "
                                               "ORDER BY min(id) LIMIT ?", (limit,))]

    def resolved_predictions(self, model: str | None = None, *, ticker: str | None = None
                             ) -> list[ResolvedPrediction]:
        """Resolved predictions for calibration, oldest first (`model`, `ticker`: only those)."""
        sql = ("SELECT model, ticker, probability, outcome, category, market_prob, ts_ms, resolved_ms "
               "FROM predictions WHERE outcome IS NOT NULL")
        args: list[object] = []
        if model is not None:
            sql += " AND model=?"
            args.append(model)
        if ticker is not None:
            sql += " AND ticker=?"
            args.append(ticker)
        return [ResolvedPrediction(*row) for row in self._db.execute(sql + " ORDER BY id", args)]

    def record_mark(self, now_ms: int, *, realized: int, unrealized: int, fees: int, exposure: int,
                    equity: int | None = None) -> None:
        self._db.execute("INSERT INTO pnl_marks (ts_ms, realized, unrealized, fees, exposure, equity) "
                         "VALUES (?, ?, ?, ?, ?, ?)", (now_ms, realized, unrealized, fees, exposure, equity))

    def record_alert(self, now_ms: int, level: str, source: str, message: str) -> None:
        self._db.execute("INSERT INTO alerts (ts_ms, level, source, message) VALUES (?, ?, ?, ?)",
                         (now_ms, level, source, scrub(message)))

    def alerts(self, since_ms: int = 0) -> list[tuple[int, str, str, str]]:
        return list(self._db.execute("SELECT ts_ms, level, source, message FROM alerts WHERE ts_ms >= ? "
                                     "ORDER BY id", (since_ms,)))

    def record_correction(self, now_ms: int, kind: str, detail: str, *, ticker: str | None = None,
                          client_order_id: str | None = None, field_name: str | None = None,
                          local_value: object = None, venue_value: object = None) -> None:
        """A reconciliation correction: local state replaced by the venue's (also raise an alert)."""
        self._db.execute("INSERT INTO corrections (ts_ms, kind, ticker, client_order_id, field, local_value, "
                         "venue_value, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                         (now_ms, kind, ticker, client_order_id, field_name,
                          None if local_value is None else scrub(str(local_value)),
                          None if venue_value is None else scrub(str(venue_value)), scrub(detail)))

    def corrections(self) -> list[tuple[str, str | None, str | None, str]]:
        return list(self._db.execute("SELECT kind, ticker, client_order_id, detail FROM corrections ORDER BY id"))

    # --- restart ----------------------------------------------------------------------------------
    def load(self) -> Recovered:
        """Rebuild the open orders (with their fills) and the portfolio from everything journaled."""
        markets = [MarketInfo(t, e, c, bool(me), close, KalshiFees(FeeType(ft), Fraction(fm)))
                   for t, e, c, me, close, ft, fm in self._db.execute("SELECT * FROM markets")]
        portfolio = Portfolio(markets)
        fills = [Fill(fid, oid, t, Side(side), price, count, fee, bool(taker), ts, cid)
                 for fid, oid, cid, t, side, price, count, fee, taker, ts, seq in self._db.execute(
                     "SELECT fill_id, order_id, client_order_id, ticker, side, price, count, fee, is_taker, "
                     "ts_ms, seq FROM fills")]
        seqs = dict(self._db.execute("SELECT fill_id, seq FROM fills"))
        ledger: list[tuple[int, object]] = [(seqs[f.fill_id], f) for f in fills]
        ledger += [(seq, (kind, t, pos, cost, yes_value)) for seq, kind, t, pos, cost, yes_value in
                   self._db.execute("SELECT seq, kind, ticker, position, cost_basis, yes_value FROM position_events")]
        for _, item in sorted(ledger, key=lambda x: x[0]):
            if isinstance(item, Fill):
                portfolio.apply_fill(item)
            elif item[0] == "restate":
                portfolio.position(item[1]).restate(item[2], item[3])
            else:
                portfolio.settle(item[1], item[4])
        open_states = [s.value for s in OrderState if not s.terminal]
        rows = self._db.execute(
            f"SELECT client_order_id, order_id, ticker, side, price, count, origin, reduce_only, time_in_force, "
            f"created_ms, updated_ms, facts FROM orders WHERE state IN ({','.join('?' * len(open_states))}) "
            "ORDER BY created_ms, rowid", open_states).fetchall()
        by_cid: dict[str, list[Fill]] = {}
        by_oid: dict[str, list[Fill]] = {}
        for f in fills:
            (by_cid.setdefault(f.client_order_id, []) if f.client_order_id else by_oid.setdefault(f.order_id, [])
             ).append(f)
        orders = []
        for cid, oid, ticker, side, price, count, origin, ro, tif, created, updated, facts_json in rows:
            order = Order(cid, ticker, Side(side), price, count, origin, bool(ro), tif, created, oid, updated)
            facts = json.loads(facts_json)
            for name in _FACT_FIELDS:
                setattr(order, name, facts[name])
            order.latched = OrderState(facts["latched"]) if facts["latched"] else None
            if facts.get("rejection"):
                order.rejection = Rejected(*facts["rejection"])
            order.anomalies = list(facts.get("anomalies", []))
            for f in by_cid.get(cid, []) + (by_oid.get(oid, []) if oid else []):
                if f.fill_id not in order.fill_ids:
                    order.fill_ids.add(f.fill_id)
                    order.fill_total += f.count
                    order.fill_notional += f.price * f.count
                    order.fees += f.fee
            order.refresh()
            orders.append(order)
        return Recovered(orders, portfolio, self.sessions(), {f.fill_id for f in fills})


class ForwardTestLog:
    """One JSON line per intent with the top of book at that moment (append-only, line-buffered).

    Prices are YES-scale pips (`price`, `yes_bid`, `yes_ask`; 5600 = $0.56) and counts hundredths of
    a contract, exactly as the desk holds them; `side` is bid (wants YES) or ask (wants NO).
    """

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else data_dir() / "forward_test.jsonl"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file: IO[str] = open(self.path, "a", encoding="utf-8", buffering=1)  # noqa: SIM115

    def write(self, intent: IntentRecord, top: TopOfBook) -> None:
        line = {
            "ts_ms": intent.ts_ms, "intent_id": intent.intent_id, "ticker": intent.ticker,
            "side": intent.side.value, "price": intent.price, "count": intent.count,
            "strategy": intent.strategy, "model_probability": intent.model_probability,
            "edge_after_fees": intent.edge_after_fees, "reason": scrub(intent.reason), "ttl_ms": intent.ttl_ms,
            "book": {"ts_ms": top.ts_ms, "yes_bid": top.yes_bid, "yes_bid_size": top.yes_bid_size,
                     "yes_ask": top.yes_ask, "yes_ask_size": top.yes_ask_size},
        }
        self._file.write(json.dumps(line, separators=(",", ":")) + "\n")

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> ForwardTestLog:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
