"""Open a SQLite database configured by a configlab config (a dict of PRAGMA settings).

The application under test is SQLite itself, reached through Python's ``sqlite3``; configlab
never changes it — it only chooses the PRAGMA values applied when a connection opens.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

#: PRAGMAs that must be set before the first table is created (they shape the file).
FILE_SHAPING = ("page_size", "auto_vacuum")
#: PRAGMAs applied on every connection, in this order (journal mode after locking mode).
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


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "ON" if value else "OFF"
    return str(value)


def connect(path: Path, config: dict[str, Any], *, create: bool = False) -> sqlite3.Connection:
    """Open ``path`` with the PRAGMAs in ``config`` (``create``: also the file-shaping ones)."""
    connection = sqlite3.connect(path, timeout=0, isolation_level=None)
    pragmas = config.get("pragma", {})
    names = (FILE_SHAPING if create else ()) + PER_CONNECTION
    for name in names:
        if name in pragmas:
            connection.execute(f"PRAGMA {name} = {_literal(pragmas[name])}").fetchall()
    return connection


def effective(connection: sqlite3.Connection) -> dict[str, Any]:
    """What SQLite reports for each PRAGMA (for reports: SQLite may refuse a setting)."""
    report = {}
    for name in FILE_SHAPING + PER_CONNECTION:
        row = connection.execute(f"PRAGMA {name}").fetchone()
        report[name] = row[0] if row else None
    return report
