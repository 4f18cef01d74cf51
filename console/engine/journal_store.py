"""The journal's storage plumbing: a connection whose writes may wait for the next statement, the WAL
checkpointer thread, and the SQL of the orders log (see `journal.py` for what is journaled and why).
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any


class Connection:
    """The journal's connection, with writes that may wait: statements queued by `later` run (in one
    transaction) before the next statement of any kind, so the journal reads and orders exactly as if
    they had run at once. Only the order insert before a send uses it: its history row follows it."""

    __slots__ = ("db", "flushed", "pending")

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.pending: list[tuple[str, tuple]] = []
        self.flushed: Any = None  # called once queued writes are committed

    def execute(self, sql: str, args: Any = ()) -> sqlite3.Cursor:
        if self.pending:
            self.flush()
        return self.db.execute(sql, args)

    def executescript(self, script: str) -> sqlite3.Cursor:
        if self.pending:
            self.flush()
        return self.db.executescript(script)

    def later(self, sql: str, args: tuple) -> None:
        self.pending.append((sql, args))

    def flush(self) -> None:
        pending, self.pending = self.pending, []
        db = self.db
        if len(pending) == 1 or db.in_transaction:
            for sql, args in pending:
                db.execute(sql, args)
        else:
            db.execute("BEGIN")
            try:
                for sql, args in pending:
                    db.execute(sql, args)
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        if self.flushed is not None and not db.in_transaction:
            self.flushed()

    @property
    def in_transaction(self) -> bool:
        return self.db.in_transaction

    def __getattr__(self, name: str) -> Any:  # anything else (iterdump, ...): after the queued writes
        if self.pending:
            self.flush()
        return getattr(self.db, name)

    def close(self) -> None:
        if self.pending:
            self.flush()
        self.db.close()


ORDER_EVENT_SQL = ("INSERT INTO order_events (client_order_id, ts_ms, kind, state_before, state_after, detail) "
                   "VALUES (?, ?, ?, ?, ?, ?)")
NEW_ORDER_SQL = "INSERT OR IGNORE INTO orders VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
# the "created" row only when the order row was new (a replayed orders log may have inserted it already)
CREATED_SQL = ("INSERT INTO order_events (client_order_id, ts_ms, kind, state_before, state_after, detail) "
               "SELECT ?, ?, 'created', NULL, ?, '{}' WHERE changes() = 1")
ORDERS_LOG_SUFFIX = "-orders"


class Checkpointer(threading.Thread):
    """Moves the WAL into the database file every `every_s` from its own connection and thread.

    The journal's own connection never checkpoints (`wal_autocheckpoint=0`): a checkpoint inside a
    commit copies pages and fsyncs, milliseconds that would otherwise land on an order's way out
    (the journal's p99). A PASSIVE checkpoint never blocks the writer; SQLite runs it without the GIL.
    """

    def __init__(self, path: Path, every_s: float = 1.0) -> None:
        super().__init__(name="edgedesk-journal-checkpoint", daemon=True)
        self.path, self.every_s = path, every_s
        self._halt = threading.Event()

    def run(self) -> None:
        try:
            db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        except sqlite3.Error:
            return
        try:
            while not self._halt.wait(self.every_s):
                try:
                    db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error:
                    continue  # busy or locked this time: the next round catches up
        finally:
            db.close()

    def stop(self) -> None:
        self._halt.set()
        if self.is_alive():
            self.join(5)
