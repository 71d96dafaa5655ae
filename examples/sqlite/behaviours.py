"""Real SQLite behaviours, each observed on a fresh database opened with a config's PRAGMAs.

Each function runs one small workload in ``directory`` and returns what SQLite did; the
pytest suite (``test_sqlite_behaviours.py``) turns the observations into pass/fail.  Nothing
is faked or injected: where a behaviour fails, it is SQLite reacting to its configuration.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pragmas import connect

#: Rows the writer inserts in the concurrent-read workload, and their payload size.  About
#: 420 KB of table data: more than a 10- or 100-page cache of small pages holds, less than
#: SQLite's default 2 MB cache.
WRITER_ROWS = 2000
ROW_BYTES = 200


@dataclass(frozen=True)
class Atomicity:
    """Row counts around a failing statement inside a transaction.

    ``committed`` rows exist before the transaction; one row is inserted in it; then an
    ``INSERT ... SELECT`` of five rows fails on the fourth (UNIQUE violation).
    """

    committed: int
    after_failed_statement: int
    after_rollback: int

    @property
    def expected_after_statement(self) -> int:
        """Rows a statement-atomic database shows: the committed ones plus the one insert."""
        return self.committed + 1


def statement_atomicity(directory: Path, config: Mapping[str, Any]) -> Atomicity:
    """A failing statement must leave no partial changes; ROLLBACK must restore the data."""
    with contextlib.closing(connect(directory / "atomic.db", config, create=True)) as db:
        db.execute("CREATE TABLE item(id INTEGER PRIMARY KEY, name TEXT UNIQUE)")
        db.execute("CREATE TABLE incoming(name TEXT)")
        db.executemany("INSERT INTO incoming VALUES (?)",
                       [("a",), ("b",), ("c",), ("x",), ("d",)])
        db.executemany("INSERT INTO item(name) VALUES (?)", [("x",), ("y",)])
        committed = _count(db, "item")
        db.execute("BEGIN")
        db.execute("INSERT INTO item(name) VALUES ('z')")
        with contextlib.suppress(sqlite3.IntegrityError):
            db.execute("INSERT INTO item(name) SELECT name FROM incoming ORDER BY rowid")
        after_statement = _count(db, "item")
        db.execute("ROLLBACK")
        return Atomicity(committed, after_statement, _count(db, "item"))


@dataclass(frozen=True)
class ConcurrentRead:
    """What a second connection saw while a writer held an open write transaction."""

    error: str | None
    rows_seen: int | None
    committed: int


def concurrent_read(directory: Path, config: Mapping[str, Any],
                    rows: int = WRITER_ROWS) -> ConcurrentRead:
    """A reader must be able to read the last committed state while a writer is mid-transaction.

    The writer inserts ``rows`` rows in one open transaction; a second connection then opens
    the database and counts the rows.  Any ``sqlite3.OperationalError`` of the reader (opening
    or reading) is the behaviour failing.
    """
    path = directory / "shared.db"
    with contextlib.closing(connect(path, config, create=True)) as writer:
        writer.execute("CREATE TABLE log(id INTEGER PRIMARY KEY, body TEXT)")
        writer.execute("INSERT INTO log(body) VALUES ('committed')")
        committed = _count(writer, "log")
        writer.execute("BEGIN")
        writer.executemany("INSERT INTO log(body) VALUES (?)",
                           [("w" * ROW_BYTES,) for _ in range(rows)])
        error: str | None = None
        seen: int | None = None
        try:
            with contextlib.closing(connect(path, config)) as reader:
                seen = _count(reader, "log")
        except sqlite3.OperationalError as exc:
            error = str(exc)
        writer.execute("COMMIT")
    return ConcurrentRead(error, seen, committed)


def foreign_key_violation_refused(directory: Path, config: Mapping[str, Any]) -> bool:
    """Insert a child row whose parent does not exist: True when SQLite refuses it."""
    with contextlib.closing(connect(directory / "fk.db", config, create=True)) as db:
        db.execute("CREATE TABLE account(id INTEGER PRIMARY KEY)")
        db.execute("CREATE TABLE payment(id INTEGER PRIMARY KEY, "
                   "account INTEGER NOT NULL REFERENCES account(id))")
        db.execute("INSERT INTO account(id) VALUES (1)")
        db.execute("INSERT INTO payment(account) VALUES (1)")
        try:
            db.execute("INSERT INTO payment(account) VALUES (42)")
        except sqlite3.IntegrityError:
            return True
        return False


@dataclass(frozen=True)
class FileSizes:
    """Database file size in bytes after filling a table and after deleting most of it."""

    filled: int
    after_delete: int


def shrink_after_delete(directory: Path, config: Mapping[str, Any]) -> FileSizes:
    """Fill ~1 MB, delete 95 % of the rows, commit; measure the main database file.

    In WAL mode the pages reach the database file only at a checkpoint, so one is run (as
    an application would before measuring) after the fill and after the delete.
    """
    path = directory / "shrink.db"
    with contextlib.closing(connect(path, config, create=True)) as db:
        wal = str(db.execute("PRAGMA journal_mode").fetchone()[0]).lower() == "wal"
        db.execute("CREATE TABLE doc(id INTEGER PRIMARY KEY, body TEXT)")
        db.execute("BEGIN")
        db.executemany("INSERT INTO doc(body) VALUES (?)", [("d" * 500,) for _ in range(2000)])
        db.execute("COMMIT")
        if wal:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        filled = path.stat().st_size
        db.execute("DELETE FROM doc WHERE id > 100")
        if wal:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        return FileSizes(filled, path.stat().st_size)


def write_heavy(directory: Path, config: Mapping[str, Any], transactions: int = 100,
                rows: int = 20) -> tuple[float, int]:
    """Commit ``transactions`` small write transactions; (seconds taken, rows stored)."""
    with contextlib.closing(connect(directory / "writes.db", config, create=True)) as db:
        db.execute("CREATE TABLE event(id INTEGER PRIMARY KEY, kind TEXT, n INTEGER)")
        start = time.perf_counter()
        for _ in range(transactions):
            db.execute("BEGIN")
            db.executemany("INSERT INTO event(kind, n) VALUES (?, ?)",
                           [("e" * 100, j) for j in range(rows)])
            db.execute("COMMIT")
        elapsed = time.perf_counter() - start
        return elapsed, _count(db, "event")


def _count(db: sqlite3.Connection, table: str) -> int:
    return int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
