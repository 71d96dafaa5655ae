"""Where a store lives: a directory (the embedded default) or a team store on existing servers.

A store has two parts behind one seam each (see ``docs/team-store.md``):

* the **index** (snapshot rows, tags, meta, results, small inline objects): SQLite in
  ``<dir>/index.sqlite`` (:func:`configlab._internal.objectstore.open_index`) or PostgreSQL
  (:class:`configlab.storage.postgres.PgIndexConnection`), both behind
  :class:`~configlab._internal.objectstore.IndexConnection`;
* the **object files** (content too large to be inline): ``<dir>/objects/``
  (:class:`~configlab._internal.objectstore.LocalObjectFiles`) or an S3 bucket
  (:class:`configlab.storage.s3.S3ObjectFiles`), both behind
  :class:`~configlab._internal.objectstore.ObjectFiles`.

:func:`resolve` turns what the user gave (``--store``, ``CONFIGLAB_STORE``, ``--objects``,
``CONFIGLAB_OBJECTS``) into a :class:`StoreLocation`; ``SnapshotStore`` and ``ResultStore`` accept
one wherever they accept a directory.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from configlab._internal.objectstore import (
    INLINE_MAX,
    IndexConnection,
    LocalObjectFiles,
    ObjectFiles,
    open_index,
)
from configlab.errors import SnapshotError
from configlab.storage.postgres import PgIndexConnection, is_postgres_url, redact
from configlab.storage.s3 import S3ObjectFiles, is_s3_url, s3_filesystem, split_s3_url

#: Environment variable naming the store when no ``--store`` is given.
STORE_ENV = "CONFIGLAB_STORE"
#: Environment variable naming where object files live when no ``--objects`` is given.
OBJECTS_ENV = "CONFIGLAB_OBJECTS"
#: The default store directory.
DEFAULT_STORE = ".configlab"


@dataclass(frozen=True)
class StoreLocation:
    """A resolved store: ``index`` is a directory or a ``postgresql://`` URL, ``objects`` an
    ``s3://bucket/prefix`` URL or None (object files in ``<dir>/objects``, or inline in
    PostgreSQL)."""

    index: str
    objects: str | None = None

    @property
    def is_postgres(self) -> bool:
        """Whether the index is on PostgreSQL."""
        return is_postgres_url(self.index)

    @property
    def root(self) -> Path:
        """The store directory (for a PostgreSQL store: the current directory, unused)."""
        return Path(".") if self.is_postgres else Path(self.index)

    @property
    def index_display(self) -> str:
        """The index for messages (a password is never shown)."""
        if self.is_postgres:
            return redact(self.index)
        return str(Path(self.index) / "index.sqlite")

    def __repr__(self) -> str:  # the dataclass repr would show a password written in the URL
        shown = redact(self.index) if self.is_postgres else self.index
        return f"StoreLocation({shown!r}, {self.objects!r})"

    def __str__(self) -> str:
        shown = redact(self.index) if self.is_postgres else self.index
        return f"{shown} (objects on {self.objects})" if self.objects else shown

    def connect(self) -> IndexConnection:
        """A new index connection (one per process and thread).

        Raises SnapshotError when the index cannot be opened or reached.
        """
        if not self.is_postgres:
            return open_index(self.index)
        import sqlite3

        try:
            return PgIndexConnection(self.index)
        except sqlite3.Error as error:
            raise SnapshotError(f"cannot open the store index: {error}") from error
        except ImportError as error:  # pragma: no cover - psycopg is in the team extra
            raise SnapshotError(
                "a PostgreSQL store needs psycopg: pip install 'configlab[team]'"
            ) from error

    def object_files(self, *, durable: bool = True) -> ObjectFiles:
        """Where this store's object files live."""
        if self.objects is not None:
            return S3ObjectFiles(self.objects)
        return LocalObjectFiles(self.root / "objects", durable=durable)

    def inline_max(self, requested: int = INLINE_MAX) -> int:
        """The inline threshold to use: everything is inline in PostgreSQL without S3."""
        if self.is_postgres and self.objects is None:
            return sys.maxsize
        return requested


def resolve(
    store: str | os.PathLike[str] | StoreLocation | None = None,
    objects: str | None = None,
    *,
    default: str | os.PathLike[str] = DEFAULT_STORE,
    environ: Mapping[str, str] | None = None,
) -> StoreLocation:
    """The store named by ``store`` (else ``$CONFIGLAB_STORE``, else ``default``) with its
    objects on ``objects`` (else ``$CONFIGLAB_OBJECTS``, else beside the index).

    ``environ`` is where the variables are read (default :data:`os.environ`; ``{}`` ignores
    them, as the Python API does when given a store explicitly).  Raises SnapshotError for an
    objects location that is not ``s3://bucket/prefix``.
    """
    env = os.environ if environ is None else environ
    if isinstance(store, StoreLocation):
        if objects is None or objects == store.objects:
            return store
        store = store.index
    if store is None:
        store = env.get(STORE_ENV) or default
    if objects is None:
        objects = env.get(OBJECTS_ENV) or None
    index = os.fspath(store)
    if isinstance(index, bytes):  # pragma: no cover - os.PathLike[str] only
        index = index.decode()
    if index.startswith(("postgres:", "postgresql:")) and not is_postgres_url(index):
        raise SnapshotError(f"store URL {redact(index)!r}: expected postgresql://user@host:port/db")
    if objects is not None:
        split_s3_url(objects)  # checks the form
    return StoreLocation(index, objects)


__all__ = [
    "DEFAULT_STORE",
    "OBJECTS_ENV",
    "STORE_ENV",
    "S3ObjectFiles",
    "StoreLocation",
    "is_postgres_url",
    "is_s3_url",
    "redact",
    "resolve",
    "s3_filesystem",
    "split_s3_url",
]
