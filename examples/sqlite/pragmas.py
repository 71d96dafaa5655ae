"""Open a SQLite database configured by a configlab config (a dict of PRAGMA settings).

The application under test is SQLite itself, reached through Python's ``sqlite3``; configlab
never changes it — it only chooses the PRAGMA values applied when a connection opens.  The
config's ``pragma`` mapping holds the settings (see ``space.yaml`` for their domains)::

    {"pragma": {"journal_mode": "WAL", "synchronous": "NORMAL", "page_size": 4096}}
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Any

#: PRAGMAs that must be set before the first table is created (they shape the file).
FILE_SHAPING = ("page_size", "auto_vacuum")
#: PRAGMAs applied on every connection, in this order (journal mode after locking mode, so
#: that an EXCLUSIVE WAL database does not need shared memory).
PER_CONNECTION = (
    "locking_mode",
    "journal_mode",
    "synchronous",
    "cache_size",
    "temp_store",
    "foreign_keys",
    "mmap_size",
    "secure_delete",
    "busy_timeout",
    "wal_autocheckpoint",
    "cache_spill",
)
#: Every PRAGMA this module knows, in application order.
KNOWN = FILE_SHAPING + PER_CONNECTION


class PragmaRefused(RuntimeError):
    """SQLite answered a journal_mode PRAGMA with another mode than the one asked for."""


def pragmas_of(config: Mapping[str, Any]) -> Mapping[str, Any]:
    """The ``pragma`` mapping of a config (empty when there is none)."""
    pragmas = config.get("pragma", {})
    if not isinstance(pragmas, Mapping):
        raise TypeError(f"config['pragma'] must be a mapping, got {type(pragmas).__name__}")
    unknown = sorted(str(name) for name in pragmas if name not in KNOWN)
    if unknown:
        raise KeyError(f"unknown PRAGMA(s) {unknown}; known: {list(KNOWN)}")
    return pragmas


def literal(value: Any) -> str:
    """The SQL text of a PRAGMA value (booleans as ON/OFF, keywords and numbers as written)."""
    if isinstance(value, bool):
        return "ON" if value else "OFF"
    text = str(value)
    if not text.lstrip("-").isalnum():
        raise ValueError(f"not a PRAGMA keyword or number: {value!r}")
    return text


def connect(path: Path, config: Mapping[str, Any], *, create: bool = False) -> sqlite3.Connection:
    """Open ``path`` with the PRAGMAs in ``config`` (``create``: also the file-shaping ones).

    The connection is in autocommit mode (``isolation_level=None``: transactions are opened
    with explicit ``BEGIN``) and does not wait for locks unless ``busy_timeout`` says so.

    Raises:
        PragmaRefused: SQLite kept another journal mode than the one configured.
        sqlite3.OperationalError: SQLite refused to open or configure the database (for
            instance ``database is locked`` while another connection holds an exclusive lock).
    """
    pragmas = pragmas_of(config)
    connection = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        names = (FILE_SHAPING if create else ()) + PER_CONNECTION
        for name in names:
            if name not in pragmas:
                continue
            rows = connection.execute(f"PRAGMA {name} = {literal(pragmas[name])}").fetchall()
            if name == "journal_mode":
                got = str(rows[0][0]).upper() if rows else ""
                if got != str(pragmas[name]).upper():
                    raise PragmaRefused(f"journal_mode={pragmas[name]} refused, SQLite kept {got}")
    except BaseException:
        connection.close()
        raise
    return connection


def effective(connection: sqlite3.Connection) -> dict[str, Any]:
    """What SQLite reports for each PRAGMA (for reports: SQLite may ignore a setting)."""
    report = {}
    for name in KNOWN:
        row = connection.execute(f"PRAGMA {name}").fetchone()
        report[name] = row[0] if row else None
    return report
