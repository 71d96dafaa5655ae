"""The store index on PostgreSQL (psycopg 3): a connection that speaks the index's SQL.

configlab's index SQL is written once, for SQLite (``?`` placeholders, ``INSERT OR IGNORE`` /
``INSERT OR REPLACE``, ``BEGIN IMMEDIATE``, ``PRAGMA user_version``, ``sqlite_master``, SQLite
column types).  :class:`PgIndexConnection` offers the few methods of :class:`sqlite3.Connection`
the stores use (``execute``, ``executemany``, ``close``) and rewrites that small dialect for
PostgreSQL, so ``SnapshotStore``, ``ResultStore`` and the object store run unchanged on either
index — one seam, not a second copy of the store.  The rewrites:

* ``?`` -> ``%s`` (a literal ``%`` is doubled);
* ``INSERT OR IGNORE`` -> ``INSERT ... ON CONFLICT DO NOTHING``; ``INSERT OR REPLACE`` ->
  ``INSERT ... ON CONFLICT (<primary key>) DO UPDATE SET`` the other columns;
* in ``CREATE TABLE``: ``INTEGER PRIMARY KEY AUTOINCREMENT`` -> ``BIGSERIAL PRIMARY KEY``,
  ``INTEGER`` -> ``BIGINT``, ``REAL`` -> ``DOUBLE PRECISION``, ``BLOB`` -> ``BYTEA``;
* ``BEGIN IMMEDIATE`` (a write transaction) -> ``BEGIN`` + a transaction-scoped advisory lock:
  shared when the transaction starts by inserting (content-addressed, idempotent rows: such
  writers run side by side, row locks order them), exclusive when it starts by reading or
  deleting (schema set-up, garbage collection), which then sees and changes the index alone,
  exactly as under SQLite's single writer (see :meth:`PgIndexConnection._begin_write`);
  ``BEGIN`` (a read) -> a ``REPEATABLE READ`` transaction, one consistent view across several
  queries as in SQLite's WAL mode;
* ``PRAGMA user_version`` reads/writes a one-row table ``configlab_schema``; other PRAGMAs are
  SQLite tuning and do nothing; ``sqlite_master`` lists the tables of the current schema;
* ``WHERE 1`` (an always-true filter) -> ``WHERE TRUE``.

Errors are raised as the matching DB-API exception classes of :mod:`sqlite3` (IntegrityError,
OperationalError, ...), so a store catches one exception family whatever its index; messages
never contain a password.

The password comes from libpq's usual sources: ``PGPASSWORD``, ``~/.pgpass`` (``PGPASSFILE``) or
a service file (``postgresql:///?service=NAME``, ``PGSERVICEFILE``).  A password written into the
URL works too but is never printed (:func:`redact`).
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

#: Key of the advisory lock that serialises index writers (any constant works; this one reads
#: "configlab" in ASCII, truncated to 63 bits).
WRITE_LOCK_KEY = 0x636F6E6669676C61

_SCHEMA_TABLE = (
    "CREATE TABLE IF NOT EXISTS configlab_schema ("
    "one INTEGER PRIMARY KEY CHECK (one = 1), user_version INTEGER NOT NULL)"
)
_INSERT_OR = re.compile(
    r"^\s*INSERT\s+OR\s+(IGNORE|REPLACE)\s+INTO\s+(\w+)\s*\(([^)]*)\)(.*)$", re.I | re.S
)
_PRAGMA = re.compile(r"^\s*PRAGMA\s+(\w+)\s*(?:=\s*(\w+))?\s*;?\s*$", re.I)
_SQLITE_MASTER = re.compile(r"\bsqlite_master\s+WHERE\s+type\s*=\s*'table'", re.I)
_WHERE_ONE = re.compile(r"\bWHERE\s+1\b(?!\s*[=<>!])", re.I)
_TYPES = (
    (re.compile(r"\bINTEGER\s+PRIMARY\s+KEY\s+AUTOINCREMENT\b", re.I), "BIGSERIAL PRIMARY KEY"),
    (re.compile(r"\bINTEGER\b", re.I), "BIGINT"),
    (re.compile(r"\bREAL\b", re.I), "DOUBLE PRECISION"),
    (re.compile(r"\bBLOB\b", re.I), "BYTEA"),
)


def is_postgres_url(text: str) -> bool:
    """Whether ``text`` names a PostgreSQL store (``postgresql://`` or ``postgres://``)."""
    return text.startswith(("postgresql://", "postgres://"))


def redact(url: str) -> str:
    """``url`` with any password (in the user part or a ``password=`` parameter) masked."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        user, _, host = netloc.rpartition("@")
        if ":" in user:
            user = user.split(":", 1)[0] + ":***"
        netloc = f"{user}@{host}"
    query = parts.query
    if query:
        pairs = [
            (key, "***" if key.lower() == "password" else value)
            for key, value in parse_qsl(query, keep_blank_values=True)
        ]
        query = urlencode(pairs, safe="*")
    # built by hand: urlunsplit drops the empty host of postgresql:///db?service=...
    text = f"{parts.scheme}://{netloc}{parts.path}"
    return text + (f"?{query}" if query else "") + (f"#{parts.fragment}" if parts.fragment else "")


class _Rows:
    """What :meth:`PgIndexConnection.execute` returns: the rows and ``rowcount`` of a statement
    (a :class:`sqlite3.Cursor` look-alike)."""

    def __init__(self, rows: list[tuple[Any, ...]], rowcount: int,
                 names: Sequence[str] | None = None) -> None:
        self._rows = rows
        self.rowcount = rowcount
        #: DB-API column descriptions (7-tuples, only the name known) or None for no result set
        self.description = (None if names is None
                            else tuple((name, *(None,) * 6) for name in names))

    def fetchone(self) -> tuple[Any, ...] | None:
        return self._rows.pop(0) if self._rows else None

    def fetchall(self) -> list[tuple[Any, ...]]:
        rows, self._rows = self._rows, []
        return rows

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return iter(self.fetchall())


def _sqlite_error(error: Exception, redacted: str) -> sqlite3.Error:
    """The :mod:`sqlite3` DB-API exception matching a psycopg error."""
    import psycopg

    message = f"PostgreSQL {redacted}: {str(error).strip()}"
    if isinstance(error, psycopg.IntegrityError):
        return sqlite3.IntegrityError(message)
    if isinstance(error, psycopg.OperationalError):
        return sqlite3.OperationalError(message)
    if isinstance(error, psycopg.ProgrammingError):
        return sqlite3.ProgrammingError(message)
    return sqlite3.DatabaseError(message)


class PgIndexConnection:
    """A store index connection to PostgreSQL (see the module docstring).

    One per process and thread, like a :class:`sqlite3.Connection`; in autocommit mode outside
    the explicit ``BEGIN ... COMMIT`` the stores issue.
    """

    def __init__(self, url: str) -> None:
        import psycopg

        self.url = url
        self.redacted = redact(url)
        self._primary_keys: dict[str, tuple[str, ...]] = {}
        self._translated: dict[str, str] = {}
        self._in_transaction = False
        self._write_pending = False
        self._lock = threading.Lock()
        try:
            self._conn = psycopg.connect(url, autocommit=True, connect_timeout=30)
            self._execute(_SCHEMA_TABLE, ())  # queued with other DDL: see _execute
        except psycopg.Error as error:
            raise _sqlite_error(error, self.redacted) from None

    # -- the sqlite3.Connection surface ------------------------------------------------------

    def execute(self, sql: str, parameters: Sequence[Any] = (), /) -> _Rows:
        """Run one statement of the index dialect; return its rows and rowcount."""
        import psycopg

        with self._lock:
            try:
                return self._execute(sql, parameters)
            except psycopg.Error as error:
                raise _sqlite_error(error, self.redacted) from None

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]], /) -> _Rows:
        """Run one statement for every parameter row."""
        import psycopg

        batch = list(rows)
        with self._lock:
            try:
                if not batch:
                    return _Rows([], 0)
                return self._run(sql.strip().upper(), self._statement(sql), batch, many=True)
            except psycopg.Error as error:
                raise _sqlite_error(error, self.redacted) from None

    def close(self) -> None:
        """Close the connection (an open transaction is rolled back by the server)."""
        self._conn.close()

    # -- translation ---------------------------------------------------------------------------

    def _execute(self, sql: str, parameters: Sequence[Any]) -> _Rows:
        keyword = sql.strip().rstrip(";").upper()
        if keyword == "BEGIN IMMEDIATE":
            self._write_pending = True  # begun with its first statement (see _begin_write)
            self._in_transaction = True
            return _Rows([], -1)
        if keyword in ("BEGIN", "BEGIN DEFERRED", "BEGIN TRANSACTION"):
            self._conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
            self._in_transaction = True
            return _Rows([], -1)
        if keyword in ("COMMIT", "ROLLBACK", "END"):
            self._in_transaction = False
            if self._write_pending:  # an empty write transaction: nothing was sent
                self._write_pending = False
                return _Rows([], -1)
            self._conn.execute("ROLLBACK" if keyword == "ROLLBACK" else "COMMIT")
            return _Rows([], -1)
        if self._write_pending and not keyword.startswith("INSERT"):
            self._begin_write(shared=False)
        pragma = _PRAGMA.match(sql)
        if pragma is not None:
            return self._pragma(pragma.group(1).lower(), pragma.group(2))
        statement = self._statement(sql)
        if keyword.startswith("CREATE") and not self._in_transaction:
            # concurrent CREATE ... IF NOT EXISTS can collide in PostgreSQL's catalog: queue them
            with self._conn.transaction():
                self._conn.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK_KEY,))
                self._conn.execute(statement)
            return _Rows([], -1)
        return self._run(keyword, statement, tuple(parameters) if parameters else None)

    def _run(self, keyword: str, statement: str, parameters: Any, *, many: bool = False) -> _Rows:
        """Execute ``statement``; the pending start of a write transaction travels with it."""
        with self._conn.cursor() as cursor:
            if self._write_pending:  # an inserting transaction: BEGIN, lock and insert at once
                with self._conn.pipeline():
                    self._begin_write(shared=keyword.startswith("INSERT"))
                    if many:
                        cursor.executemany(statement, parameters)
                    else:
                        cursor.execute(statement, parameters)
            elif many:
                cursor.executemany(statement, parameters)
            else:
                cursor.execute(statement, parameters)
            if cursor.description is None:
                return _Rows([], cursor.rowcount)
            return _Rows(list(cursor.fetchall()), cursor.rowcount,
                         [column.name for column in cursor.description])

    def _begin_write(self, *, shared: bool) -> None:
        """Start the pending ``BEGIN IMMEDIATE``, taking the writers' lock.

        A transaction that starts by inserting only adds rows that are idempotent or keyed by
        content (``INSERT OR IGNORE``, new results): it takes the lock *shared* and runs beside
        other inserting transactions (sent in one pipeline with its first statement).  One that
        starts by reading, deleting or changing the schema decides what to write from what it
        sees (schema set-up, garbage collection): it takes the lock *exclusively*, so nothing
        else writes meanwhile, as under SQLite's single writer.
        """
        self._write_pending = False
        lock = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
        self._conn.execute("BEGIN")
        self._conn.execute(f"SELECT {lock}({WRITE_LOCK_KEY})")

    def _pragma(self, name: str, value: str | None) -> _Rows:
        if name != "user_version":
            return _Rows([], -1)  # SQLite tuning (journal mode, busy timeout, ...): not relevant
        if value is None:
            row = self._conn.execute("SELECT user_version FROM configlab_schema").fetchone()
            return _Rows([(int(row[0]) if row else 0,)], 1)
        self._conn.execute(
            "INSERT INTO configlab_schema (one, user_version) VALUES (1, %s)"
            " ON CONFLICT (one) DO UPDATE SET user_version = EXCLUDED.user_version",
            (int(value),),
        )
        return _Rows([], 1)

    def _statement(self, sql: str) -> str:
        """The PostgreSQL text of one index statement (cached)."""
        cached = self._translated.get(sql)
        if cached is not None:
            return cached
        text = sql.replace("%", "%%").replace("?", "%s")
        if text.lstrip().upper().startswith("CREATE"):
            text = _translate_types(text)
        text = _SQLITE_MASTER.sub(
            "(SELECT table_name AS name FROM information_schema.tables"
            " WHERE table_schema = current_schema()) AS sqlite_master WHERE TRUE",
            text,
        )
        text = _WHERE_ONE.sub("WHERE TRUE", text)
        insert = _INSERT_OR.match(text)
        if insert is not None:
            action, table, columns, rest = insert.groups()
            head = f"INSERT INTO {table} ({columns}){rest.rstrip().rstrip(';')}"
            if action.upper() == "IGNORE":
                text = f"{head} ON CONFLICT DO NOTHING"
            else:
                keys = self._primary_key(table)
                names = [c.strip() for c in columns.split(",")]
                others = [c for c in names if c not in keys]
                update = (
                    "DO UPDATE SET " + ", ".join(f"{c} = EXCLUDED.{c}" for c in others)
                    if others
                    else "DO NOTHING"
                )
                text = f"{head} ON CONFLICT ({', '.join(keys)}) {update}"
        self._translated[sql] = text
        return text

    def _primary_key(self, table: str) -> tuple[str, ...]:
        keys = self._primary_keys.get(table)
        if keys is None:
            rows = self._conn.execute(
                "SELECT a.attname FROM pg_index i JOIN pg_attribute a"
                " ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)"
                " WHERE i.indrelid = to_regclass(%s) AND i.indisprimary"
                " ORDER BY array_position(i.indkey, a.attnum)",
                (table,),
            ).fetchall()
            keys = tuple(str(row[0]) for row in rows)
            if not keys:
                raise sqlite3.OperationalError(
                    f"PostgreSQL {self.redacted}: table {table} has no primary key to replace on"
                )
            self._primary_keys[table] = keys
        return keys


def _translate_types(sql: str) -> str:
    for pattern, replacement in _TYPES:
        sql = pattern.sub(replacement, sql)
    return sql


__all__ = ["WRITE_LOCK_KEY", "PgIndexConnection", "is_postgres_url", "redact"]
