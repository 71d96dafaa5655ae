"""Content-addressed object storage and the shared SQLite index connection.

Objects are named by the SHA-256 (hex) of their *uncompressed* content and hold one zstd frame
(level 3).  Identical content is stored once.  An object smaller than ``inline_max`` bytes
(default :data:`INLINE_MAX`) is kept *inline* in the index, table ``object_blobs`` (hash, size,
frame), when the store has one: it is inserted in the caller's transaction together with the
index rows that refer to it (see :meth:`ObjectStore.stage` / :meth:`ObjectStore.insert_staged`),
so it costs no file, fsync or rename and is exactly as durable as those rows.  Larger objects live
at ``<root>/objects/ab/cdef...`` where ``abcdef...`` is the hash.  Every file write goes to a
temporary file in the object's own directory, is fsynced (unless the store is opened with
``durable=False``) and is then renamed into place with ``os.replace``, so a reader sees either
no object or the whole object.  Every read recomputes the hash: a damaged
object (file or inline) raises :class:`~configlab.errors.SnapshotCorruptedError`, never
returns wrong bytes.  Reads look for an inline copy first, then for a file, whatever the size, so
a store can be read whatever ``inline_max`` it was written with.

Where the object *files* live is one seam, :class:`ObjectFiles`: :class:`LocalObjectFiles` (the
``objects/`` directory described above) or an S3 bucket (:mod:`configlab.storage.s3`).  Every
backend stores one immutable zstd frame per hash, never overwrites an existing object (content
addressing makes a second writer of the same hash a no-op) and reports a missing object as
:class:`FileNotFoundError`, any other failure as :class:`OSError`.

:func:`open_index` opens ``<root>/index.sqlite`` in WAL mode; other modules (results, ...) add
their own tables to the same database through it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import sqlite3
import stat
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal, Protocol
from urllib.parse import quote

from configlab._internal.safeio import file_kind
from configlab.errors import SnapshotCorruptedError, SnapshotError

# zstandard is imported by the functions that (de)compress, not here: `configlab run` opens the
# index to record one result and never touches an object (2 ms of its start-up budget).
if TYPE_CHECKING:
    import zstandard

#: zstd level used for objects and bundles.
ZSTD_LEVEL = 3
#: Content at least this large is compressed with zstd's worker threads (all cores).
THREADED_MIN = 8 * 1024 * 1024
#: Chunk size for streaming large content.
CHUNK = 1024 * 1024
#: Seconds a connection waits on a locked database before giving up.
BUSY_TIMEOUT_S = 60.0
#: Content at least this large is hashed in a background thread by get_bytes_deferred.
PARALLEL_HASH_MIN = 4 * 1024 * 1024
#: Objects smaller than this (uncompressed bytes) are kept inline in the index by default.
INLINE_MAX = 64 * 1024
#: The index table holding inline objects (created by the owner of the index).
BLOB_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS object_blobs ("
    "hash TEXT PRIMARY KEY, size INTEGER NOT NULL, data BLOB NOT NULL)"
)
#: The index table of object-file leases (see :meth:`ObjectStore.lease`): created on first
#: use, so an index made before leases existed (or a read-only one) needs no migration.
LEASE_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS object_leases (hash TEXT PRIMARY KEY, taken REAL NOT NULL)"
)

_HASH_RE = re.compile(r"[0-9a-f]{64}")

ObjectState = Literal["ok", "missing", "truncated", "corrupted"]


def is_object_hash(text: str) -> bool:
    """Whether ``text`` is a well-formed object hash (64 lowercase hex characters)."""
    return _HASH_RE.fullmatch(text) is not None


def hash_bytes(data: bytes) -> str:
    """SHA-256 hex digest of ``data`` (the object hash)."""
    return hashlib.sha256(data).hexdigest()


class IndexCursor(Protocol):
    """The part of :class:`sqlite3.Cursor` the stores use."""

    @property
    def rowcount(self) -> int: ...

    @property
    def description(self) -> Any: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class IndexConnection(Protocol):
    """The index seam: the part of :class:`sqlite3.Connection` the stores use.

    Implemented by :class:`sqlite3.Connection` (:func:`open_index`) and by
    :class:`configlab.storage.postgres.PgIndexConnection`, which speaks the same SQL and raises
    the same :mod:`sqlite3` exception classes.
    """

    def execute(self, sql: str, parameters: Any = ..., /) -> IndexCursor: ...

    def executemany(self, sql: str, parameters: Any, /) -> IndexCursor: ...

    def close(self) -> None: ...


class ThreadConnections:
    """One index connection per thread and per process, opened by ``opener`` on first use.

    Shared by the snapshot and result stores: a connection must not cross threads or a
    ``fork``, so each thread keeps its own and a forked child opens a fresh one.
    """

    def __init__(self, opener: Callable[[], IndexConnection]) -> None:
        self._opener = opener
        self._local = threading.local()

    def get(self) -> IndexConnection:
        """This thread's connection, opened now if it has none (or it was opened before a fork)."""
        local = self._local
        conn: IndexConnection | None = getattr(local, "conn", None)
        if conn is None or local.pid != os.getpid():
            conn = self._opener()
            local.conn = conn
            local.pid = os.getpid()
        return conn

    def close(self) -> None:
        """Close this thread's connection (:meth:`get` reopens it)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None


def open_index(root: str | os.PathLike[str]) -> sqlite3.Connection:
    """Open (creating if needed) the store's SQLite index ``<root>/index.sqlite``.

    The connection is in autocommit mode (``isolation_level=None``): start write transactions with
    ``BEGIN IMMEDIATE`` so that concurrent writers queue on the busy timeout instead of failing.
    WAL journal, ``synchronous=NORMAL`` and a 60 s busy timeout are set.  Each process (and each
    thread) must open its own connection.
    """
    base = Path(root)
    try:
        base.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(
            base / "index.sqlite",
            timeout=BUSY_TIMEOUT_S,
            isolation_level=None,
            check_same_thread=False,
        )
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
        if str(mode).lower() != "wal":
            enable_wal(conn)
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
    except (OSError, sqlite3.Error) as error:
        read_only = _open_read_only(base / "index.sqlite")
        if read_only is None:
            raise SnapshotError(
                f"cannot open the store index at {base / 'index.sqlite'}: {error}"
            ) from error
        return read_only
    return conn


def enable_wal(conn: sqlite3.Connection, patience: float = BUSY_TIMEOUT_S) -> None:
    """Switch ``conn``'s database to the WAL journal, retrying while another connection holds it.

    The switch needs an exclusive lock; when several connections open a new store at once
    (threads, or processes started together), SQLite may answer "database is locked" at once
    instead of waiting (it will not wait where waiting could deadlock), so the busy timeout
    alone is not enough.  Retries with a short busy timeout for up to ``patience`` seconds.
    """
    deadline = time.monotonic() + patience
    conn.execute("PRAGMA busy_timeout = 50")
    try:
        while True:
            try:
                conn.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or time.monotonic() >= deadline:
                    raise
                time.sleep(0.02)
    finally:
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")


def _open_read_only(path: Path) -> sqlite3.Connection | None:
    """A read-only connection to the existing index ``path`` (None when there is none).

    For a store on a read-only mount or in a directory configlab cannot write: reading (list,
    show, diff, verify, export) works, a write fails with "readonly database".  ``immutable=1``
    is the fallback SQLite needs for a WAL index whose -shm file cannot be created.
    """
    if not path.is_file():
        return None
    for query in ("mode=ro", "mode=ro&immutable=1"):
        conn = sqlite3.connect(f"file:{quote(str(path.resolve()))}?{query}", uri=True,
                               isolation_level=None, check_same_thread=False)
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return conn
        except sqlite3.Error:
            conn.close()
    return None


@dataclass(frozen=True)
class StoredObject:
    """Hash and uncompressed size of an object that is now in the store."""

    hash: str
    size: int


@dataclass(frozen=True)
class StagedObject:
    """An object ready to be recorded: ``frame`` is its zstd frame when it is to be stored inline
    (by :meth:`ObjectStore.insert_staged`, in the caller's transaction), None when it is already
    in a file."""

    hash: str
    size: int
    frame: bytes | None


class _Sink(Protocol):
    """Anything bytes can be written to."""

    def write(self, data: bytes, /) -> object: ...


class _Hashing:
    """A write-through wrapper that hashes and counts what passes through it."""

    def __init__(self) -> None:
        self.digest = hashlib.sha256()
        self.size = 0

    def update(self, chunk: bytes | memoryview) -> None:
        self.digest.update(chunk)
        self.size += len(chunk)


class NotAnObjectFile(OSError):
    """Something other than a regular file (a FIFO, a directory, ...) sits at an object's path;
    its text names what it is."""


class SpooledObject(Protocol):
    """Content written before its hash is known (see :meth:`ObjectFiles.spool`)."""

    def publish(self, digest: str) -> None:
        """Store the spooled content as object ``digest`` (a no-op when it already exists)."""

    def discard(self) -> None:
        """Drop the spooled content."""


class ObjectFiles(Protocol):
    """Storage of the objects that are not inline: one immutable zstd frame per hash.

    Missing objects raise :class:`FileNotFoundError`, other failures :class:`OSError`.
    """

    #: Where the objects are, for messages (never holds a credential).
    location: str
    #: Whether a writer should ask :meth:`exists` before compressing and writing an object
    #: (cheap on a local disk; a remote store relies on its conditional write instead).
    probe_before_write: bool

    def exists(self, digest: str) -> bool:
        """Whether object ``digest`` is stored (content not checked)."""

    def open(self, digest: str) -> IO[bytes]:
        """A binary reader over the stored frame of ``digest`` (the caller closes it).

        Raises :class:`NotAnObjectFile` when something other than an object sits there.
        """

    def put(self, digest: str, frame: bytes) -> None:
        """Store ``frame`` as object ``digest`` atomically unless it already exists."""

    def spool(self, write: Callable[[IO[bytes]], None]) -> SpooledObject:
        """Let ``write`` produce a frame whose hash is not known yet (published later)."""

    def hashes(self) -> Iterator[str]:
        """Every stored object hash, in no particular order."""

    def modified(self, digest: str) -> float:
        """When object ``digest`` was stored (POSIX seconds)."""

    def delete(self, digest: str) -> None:
        """Remove object ``digest`` (no error when it is already gone)."""


class LocalObjectFiles:
    """Objects as files under ``objects`` (``ab/cdef...``), written to a temporary file in the
    same directory, fsynced unless ``durable=False``, then renamed into place."""

    def __init__(self, objects: Path, *, durable: bool = True) -> None:
        self.objects = objects
        self.location = str(objects)
        self.probe_before_write = True
        self.durable = durable
        self._dirs: set[Path] = set()  # directories known to exist

    def path_for(self, digest: str) -> Path:
        """Where the object ``digest`` lives (whether or not it exists)."""
        if not is_object_hash(digest):
            raise SnapshotError(f"malformed object hash {digest!r}")
        return self.objects / digest[:2] / digest[2:]

    def exists(self, digest: str) -> bool:
        return self.path_for(digest).is_file()

    def open(self, digest: str) -> IO[bytes]:
        # opened without blocking: only a regular file is an object (a FIFO or device planted
        # in the store must not hang a reader)
        fd = os.open(self.path_for(digest), os.O_RDONLY | os.O_NONBLOCK)
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            os.close(fd)
            raise NotAnObjectFile(file_kind(mode))
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")

    def hashes(self) -> Iterator[str]:
        if self.objects.is_dir():
            for sub in self.objects.iterdir():
                if len(sub.name) != 2 or not sub.is_dir():
                    continue
                for item in sub.iterdir():
                    digest = sub.name + item.name
                    if is_object_hash(digest):
                        yield digest

    def modified(self, digest: str) -> float:
        return self.path_for(digest).stat().st_mtime

    def delete(self, digest: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path_for(digest).unlink()

    def _ensure_dir(self, directory: Path, *, again: bool = False) -> None:
        """Create ``directory`` unless this store already saw it (``again``: check anyway)."""
        if again or directory not in self._dirs:
            directory.mkdir(parents=True, exist_ok=True)
            self._dirs.add(directory)

    def _commit_temp(self, temp: str, digest: str) -> None:
        """Move a finished temporary file into place as object ``digest``."""
        target = self.path_for(digest)
        self._ensure_dir(target.parent)
        try:
            os.replace(temp, target)
        except FileNotFoundError:  # the directory was removed behind our back
            self._ensure_dir(target.parent, again=True)
            os.replace(temp, target)

    def _write_temp(self, directory: Path, write: Callable[[IO[bytes]], None]) -> str:
        import tempfile  # here, not at the top: 3 ms (shutil, bz2, lzma) of `configlab run`

        self._ensure_dir(directory)
        try:
            fd, temp = tempfile.mkstemp(dir=directory, prefix=".tmp-")
        except FileNotFoundError:  # the directory was removed behind our back
            self._ensure_dir(directory, again=True)
            fd, temp = tempfile.mkstemp(dir=directory, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                write(handle)
                handle.flush()
                if self.durable:
                    os.fsync(handle.fileno())
            os.chmod(temp, 0o444)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise
        return temp

    def put(self, digest: str, frame: bytes) -> None:
        target = self.path_for(digest)
        temp = self._write_temp(target.parent, lambda handle: _write_all(handle, frame))
        self._commit_temp(temp, digest)

    def spool(self, write: Callable[[IO[bytes]], None]) -> SpooledObject:
        return _LocalSpooled(self, self._write_temp(self.objects / ".incoming", write))


class _LocalSpooled:
    """A finished temporary file under ``objects/.incoming``."""

    def __init__(self, files: LocalObjectFiles, temp: str) -> None:
        self.files = files
        self.temp = temp

    def publish(self, digest: str) -> None:
        if self.files.exists(digest):
            os.unlink(self.temp)
        else:
            self.files._commit_temp(self.temp, digest)

    def discard(self) -> None:
        with contextlib.suppress(OSError):
            os.unlink(self.temp)


class ObjectStore:
    """The objects of a snapshot store (see the module docstring).

    ``index`` returns the connection of the calling thread to an index holding the
    ``object_blobs`` table (:data:`BLOB_SCHEMA`); without it every object is a file.
    ``inline_max``: objects smaller than this many bytes are stored inline (0: none).
    ``files``: where the other objects live (default: :class:`LocalObjectFiles` under
    ``<root>/objects``, fsynced unless ``durable=False``).
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        durable: bool = True,
        index: Callable[[], IndexConnection] | None = None,
        inline_max: int = INLINE_MAX,
        files: ObjectFiles | None = None,
    ) -> None:
        self.root = Path(root)
        self.objects = self.root / "objects"
        self.durable = durable
        self.files: ObjectFiles = (
            files if files is not None else LocalObjectFiles(self.objects, durable=durable)
        )
        self.index = index
        self.inline_max = inline_max if index is not None else 0
        self._local = threading.local()  # per-thread zstd contexts

    def _zstd(self) -> tuple[zstandard.ZstdCompressor, zstandard.ZstdDecompressor]:
        import zstandard  # lazy: see the TYPE_CHECKING import

        local = self._local
        contexts: tuple[zstandard.ZstdCompressor, zstandard.ZstdDecompressor] | None = getattr(
            local, "contexts", None
        )
        if contexts is None:
            contexts = (
                zstandard.ZstdCompressor(level=ZSTD_LEVEL, write_content_size=True),
                zstandard.ZstdDecompressor(),
            )
            local.contexts = contexts
        return contexts

    # -- inline objects ----------------------------------------------------------------------

    def _query(self, sql: str, params: tuple[str, ...]) -> list[tuple[object, ...]]:
        if self.index is None:
            return []
        try:
            return self.index().execute(sql, params).fetchall()
        except sqlite3.Error as error:
            raise SnapshotError(
                f"cannot read the object index under {self.root}: {error}"
            ) from error

    def _inline_frame(self, digest: str) -> bytes | None:
        rows = self._query("SELECT data FROM object_blobs WHERE hash = ?", (digest,))
        if not rows:
            return None
        data = rows[0][0]
        return bytes(data) if isinstance(data, (bytes, bytearray, memoryview)) else b""

    def stage(self, data: bytes) -> StagedObject:
        """Prepare ``data`` for recording: small content is hashed and compressed for an inline
        row (nothing written yet), larger content is written to its file now (:meth:`put_bytes`).
        """
        if len(data) < self.inline_max:
            return StagedObject(hash_bytes(data), len(data), self._zstd()[0].compress(data))
        stored = self.put_bytes(data)
        return StagedObject(stored.hash, stored.size, None)

    @staticmethod
    def insert_staged(conn: IndexConnection, staged: Iterable[StagedObject]) -> None:
        """Insert the inline rows of ``staged`` with ``conn`` (inside the caller's transaction;
        content already stored is left as it is).  Rows go in hash order, so that concurrent
        writers on a server index take their row locks in one order (no deadlock)."""
        conn.executemany(
            "INSERT OR IGNORE INTO object_blobs (hash, size, data) VALUES (?, ?, ?)",
            sorted((s.hash, s.size, s.frame) for s in staged if s.frame is not None),
        )

    def _put_inline(self, staged: StagedObject) -> None:
        assert self.index is not None  # only called when inline_max > 0
        try:
            conn = self.index()
            conn.execute("BEGIN IMMEDIATE")
            try:
                self.insert_staged(conn, [staged])
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        except sqlite3.Error as error:
            raise SnapshotError(
                f"cannot write object {staged.hash} to the index: {error}"
            ) from error

    # -- paths -------------------------------------------------------------------------------

    def path_for(self, digest: str) -> Path:
        """Where the object file ``digest`` lives (whether or not it exists) in a local store.

        Raises SnapshotError when the objects are not local files.
        """
        if not isinstance(self.files, LocalObjectFiles):
            raise SnapshotError(
                f"objects of this store are not local files ({self.files.location})"
            )
        return self.files.path_for(digest)

    def _check_digest(self, digest: str) -> None:
        if not is_object_hash(digest):
            raise SnapshotError(f"malformed object hash {digest!r}")

    def _file_exists(self, digest: str) -> bool:
        try:
            return self.files.exists(digest)
        except OSError as error:
            raise SnapshotError(
                f"cannot reach object {digest} at {self.files.location}: {error}"
            ) from error

    def has(self, digest: str) -> bool:
        """Whether object ``digest`` is stored, inline or as a file (content not checked)."""
        self._check_digest(digest)
        if self._query("SELECT 1 FROM object_blobs WHERE hash = ?", (digest,)):
            return True
        return self._file_exists(digest)

    def iter_hashes(self) -> Iterator[str]:
        """Every object hash stored, inline or as a file (temporary files skipped), sorted."""
        found = {
            str(row[0])
            for row in self._query("SELECT hash FROM object_blobs", ())
        }
        try:
            found.update(self.files.hashes())
        except OSError as error:
            raise SnapshotError(
                f"cannot list the objects at {self.files.location}: {error}"
            ) from error
        yield from sorted(found)

    def modified(self, digest: str) -> float:
        """When the object *file* ``digest`` was stored (POSIX seconds)."""
        self._check_digest(digest)
        try:
            return self.files.modified(digest)
        except OSError as error:
            raise SnapshotError(
                f"cannot reach object {digest} at {self.files.location}: {error}"
            ) from error

    def delete(self, digest: str) -> None:
        """Remove object ``digest``, inline and file copies (garbage collection only: the caller
        makes sure no index row names it)."""
        self._check_digest(digest)
        if self.index is not None:
            try:
                self.index().execute("DELETE FROM object_blobs WHERE hash = ?", (digest,))
            except sqlite3.Error as error:
                raise SnapshotError(
                    f"cannot delete object {digest} from the index: {error}"
                ) from error
        try:
            self.files.delete(digest)
        except OSError as error:
            raise SnapshotError(
                f"cannot delete object {digest} at {self.files.location}: {error}"
            ) from error

    # -- writing -----------------------------------------------------------------------------

    def _compressor(self, size: int) -> zstandard.ZstdCompressor:
        import zstandard  # lazy: see the TYPE_CHECKING import

        threads = -1 if size >= THREADED_MIN else 0
        return zstandard.ZstdCompressor(level=ZSTD_LEVEL, threads=threads, write_content_size=True)

    def lease(self, digest: str) -> None:
        """Record (committed) that this writer is about to write or reuse object file ``digest``.

        Garbage collection never deletes an object leased less than its grace period ago, and
        it decides under the index's exclusive write lock: a lease committed before that sweep
        keeps the object; a sweep that committed first has deleted it already, so the writer's
        own existence check or conditional write, which comes *after* the lease, stores it
        again.  Either way the snapshot row that follows never names a deleted object.  One row
        per hash (its latest lease); expired rows are removed by the sweep.  A no-op for an
        object store without an index.
        """
        if self.index is None:
            return
        self._check_digest(digest)
        rows = [(digest, time.time())]
        try:
            conn = self.index()
            for attempt in range(2):
                conn.execute("BEGIN IMMEDIATE")
                try:
                    conn.executemany(
                        "INSERT OR REPLACE INTO object_leases (hash, taken) VALUES (?, ?)", rows
                    )
                except (sqlite3.OperationalError, sqlite3.ProgrammingError) as error:
                    conn.execute("ROLLBACK")
                    if attempt or "object_leases" not in str(error):
                        raise
                    conn.execute(LEASE_SCHEMA)  # first lease of this index
                    continue
                except BaseException:  # pragma: no cover - an interrupt mid-statement
                    conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
                return
        except sqlite3.Error as error:
            raise SnapshotError(f"cannot lease object {digest} in the index: {error}") from error

    def put_bytes(self, data: bytes) -> StoredObject:
        """Store ``data`` (once: existing content is not rewritten) and return its hash and size.

        Small content goes inline in its own transaction; prefer :meth:`stage` to record it in
        the transaction of the rows that use it.  An object file is leased (:meth:`lease`)
        before it is looked for or written.
        """
        if len(data) < self.inline_max:
            staged = self.stage(data)
            self._put_inline(staged)
            return StoredObject(staged.hash, staged.size)
        digest = hash_bytes(data)
        self.lease(digest)
        if not self.files.probe_before_write or not self._file_exists(digest):
            compressed = self._compressor(len(data)).compress(data)
            try:
                self.files.put(digest, compressed)
            except OSError as error:
                raise SnapshotError(
                    f"cannot write object {digest} at {self.files.location}: {error}"
                ) from error
        return StoredObject(digest, len(data))

    def put_stream(self, source: IO[bytes], size: int, expected: str | None = None) -> StoredObject:
        """Store exactly ``size`` bytes read from ``source`` in chunks (for large files).

        Raises :class:`SnapshotCorruptedError` (storing nothing) when the source does not deliver
        ``size`` bytes or, with ``expected``, when the content does not hash to it.
        """
        import zstandard  # lazy: see the TYPE_CHECKING import

        if size < self.inline_max:
            parts: list[bytes] = []
            got = 0
            while got <= size and (chunk := source.read(CHUNK)):
                parts.append(chunk)
                got += len(chunk)
            data = b"".join(parts)
            if len(data) != size:
                raise SnapshotCorruptedError(
                    f"content is not the declared {size} bytes ({len(data)} read)"
                )
            staged = self.stage(data)
            if expected is not None and staged.hash != expected:
                raise SnapshotCorruptedError(
                    f"content hashes to {staged.hash}, expected {expected}"
                )
            self._put_inline(staged)
            return StoredObject(staged.hash, staged.size)
        counter = _Hashing()

        def write(handle: IO[bytes]) -> None:
            compressor = self._compressor(size)
            with compressor.stream_writer(handle, size=size, closefd=False) as writer:
                while chunk := source.read(CHUNK):
                    counter.update(chunk)
                    writer.write(chunk)

        try:
            spooled = self.files.spool(write)
        except zstandard.ZstdError as error:
            raise SnapshotCorruptedError(
                f"content is not the declared {size} bytes ({counter.size} read): {error}"
            ) from error
        except OSError as error:
            raise SnapshotError(
                f"cannot write an object at {self.files.location}: {error}"
            ) from error
        digest = counter.digest.hexdigest()
        try:
            if expected is not None and digest != expected:
                raise SnapshotCorruptedError(f"content hashes to {digest}, expected {expected}")
            self.lease(digest)  # before publishing, which may find (and reuse) an existing copy
            spooled.publish(digest)
        except OSError as error:
            spooled.discard()
            raise SnapshotError(
                f"cannot write object {digest} at {self.files.location}: {error}"
            ) from error
        except BaseException:
            spooled.discard()
            raise
        return StoredObject(digest, counter.size)

    # -- reading -----------------------------------------------------------------------------

    def _raw(self, digest: str) -> bytes:
        with self.open_file(digest) as handle:
            return handle.read()

    def get_inline(self, digest: str, size: int | None = None) -> bytes | None:
        """The verified content of ``digest`` when it is stored inline, None when it is not.

        Raises :class:`SnapshotCorruptedError` when the inline copy is damaged.
        """
        raw = self._inline_frame(digest)
        if raw is None:
            return None
        return self._verified(digest, raw, size, "inline ")

    def get_bytes(self, digest: str, size: int | None = None) -> bytes:
        """Return the content of object ``digest``, verified against its hash (and ``size``).

        Raises :class:`SnapshotCorruptedError` when the object is missing, truncated or damaged.
        """
        raw = self._inline_frame(digest)
        if raw is not None:
            return self._verified(digest, raw, size, "inline ")
        return self._verified(digest, self._raw(digest), size, "")

    def get_bytes_deferred(
        self, digest: str, size: int | None = None
    ) -> tuple[bytes, Callable[[], None]]:
        """Content of ``digest`` (size checked) and a ``confirm()`` that verifies its hash.

        For content of :data:`PARALLEL_HASH_MIN` bytes or more the SHA-256 is computed in a
        background thread (hashlib releases the GIL) while the caller works on the bytes, e.g.
        parses them; ``confirm()`` waits for it and raises :class:`SnapshotCorruptedError` on a
        mismatch.  The caller must call ``confirm()`` before using any result derived from the
        bytes.  Missing, truncated or undecodable objects raise at once, as in :meth:`get_bytes`.
        """
        raw = self._inline_frame(digest)
        where = "inline "
        if raw is None:
            raw, where = self._raw(digest), ""
        data = self._decompressed(digest, raw, size, where)
        if len(data) < PARALLEL_HASH_MIN:
            self._check_hash(digest, data, where)
            return data, _nothing
        found: list[str] = []
        started = threading.Event()

        def work() -> None:
            digest_object = hashlib.sha256()
            started.set()  # from here on the hashing runs without the GIL
            digest_object.update(data)
            found.append(digest_object.hexdigest())

        worker = threading.Thread(target=work, daemon=True)
        worker.start()
        started.wait()  # the caller may now hold the GIL for long (a C parser) without stalling it

        def confirm() -> None:
            worker.join()
            if found != [digest]:
                raise SnapshotCorruptedError(
                    f"{where}object {digest} is corrupted: content does not match its hash"
                )

        return data, confirm

    def _verified(self, digest: str, raw: bytes, size: int | None, where: str) -> bytes:
        """Decompress one stored frame and check it against ``digest`` and ``size``."""
        data = self._decompressed(digest, raw, size, where)
        self._check_hash(digest, data, where)
        return data

    @staticmethod
    def _check_hash(digest: str, data: bytes, where: str) -> None:
        if hash_bytes(data) != digest:
            raise SnapshotCorruptedError(
                f"{where}object {digest} is corrupted: content does not match its hash"
            )

    def _decompressed(self, digest: str, raw: bytes, size: int | None, where: str) -> bytes:
        """Decompress one stored frame and check its ``size`` (not its hash)."""
        import zstandard  # lazy: see the TYPE_CHECKING import

        if not is_object_hash(digest):
            raise SnapshotError(f"malformed object hash {digest!r}")
        try:
            data = self._zstd()[1].decompress(raw)
        except zstandard.ZstdError as error:
            state = _classify(raw)
            raise SnapshotCorruptedError(f"{where}object {digest} is {state}: {error}") from error
        if size is not None and len(data) != size:
            state = "truncated" if len(data) < size else "corrupted"
            raise SnapshotCorruptedError(
                f"{where}object {digest} is {state}: {len(data)} bytes instead of {size}"
            )
        return data

    def open_file(self, digest: str) -> IO[bytes]:
        """A binary reader over the stored zstd frame of file object ``digest`` (not inline).

        Raises :class:`SnapshotCorruptedError` when it is missing or cannot be read.
        """
        self._check_digest(digest)
        try:
            return self.files.open(digest)
        except FileNotFoundError as error:
            raise SnapshotCorruptedError(f"object {digest} is missing") from error
        except NotAnObjectFile as error:
            raise SnapshotCorruptedError(f"object {digest} is {error}, not a file") from error
        except OSError as error:
            raise SnapshotCorruptedError(f"object {digest} cannot be read: {error}") from error

    def copy_to(self, digest: str, handle: _Sink, size: int | None = None) -> int:
        """Stream the content of ``digest`` into ``handle``; verify hash and size at the end.

        On a mismatch :class:`SnapshotCorruptedError` is raised *after* data was written: write to
        a temporary file and only publish it when this returns.
        """
        import zstandard  # lazy: see the TYPE_CHECKING import

        inline = self.get_inline(digest, size)
        if inline is not None:
            handle.write(inline)
            return len(inline)
        counter = _Hashing()
        with self.open_file(digest) as source:
            reader = zstandard.ZstdDecompressor().stream_reader(source, read_across_frames=False)
            try:
                while chunk := reader.read(CHUNK):
                    counter.update(chunk)
                    handle.write(chunk)
            except zstandard.ZstdError as error:
                raise SnapshotCorruptedError(f"object {digest} is corrupted: {error}") from error
        if size is not None and counter.size != size:
            state = "truncated" if counter.size < size else "corrupted"
            raise SnapshotCorruptedError(
                f"object {digest} is {state}: {counter.size} bytes instead of {size}"
            )
        if counter.digest.hexdigest() != digest:
            raise SnapshotCorruptedError(
                f"object {digest} is corrupted: content does not match its hash"
            )
        return counter.size

    def check(self, digest: str, size: int | None = None) -> tuple[ObjectState, str]:
        """Verify one object without raising: ``(state, detail)``."""
        inline = self._inline_frame(digest)
        if inline is not None:
            try:
                self._verified(digest, inline, size, "inline ")
            except SnapshotCorruptedError as error:
                message = str(error)
                return ("truncated" if " is truncated" in message else _classify(inline)), message
            return "ok", ""
        try:
            self.copy_to(digest, _NullSink(), size)
        except SnapshotCorruptedError as error:
            message = str(error)
            if not self._file_exists(digest):  # gone, or a FIFO, a directory ... in its place
                return ("corrupted" if message.endswith("not a file") else "missing"), message
            if " is truncated" in message:
                return "truncated", message
            raw = self._raw(digest)
            return _classify(raw), message
        return "ok", ""


def _nothing() -> None:
    """A confirm() with nothing left to check."""


class _NullSink:
    """A write-only sink that discards everything (used to verify objects)."""

    def write(self, chunk: bytes) -> int:
        return len(chunk)


def _write_all(handle: IO[bytes], data: bytes) -> None:
    handle.write(data)


def _classify(raw: bytes) -> ObjectState:
    """Tell a truncated zstd frame (ends early) from a damaged one."""
    import zstandard  # lazy: see the TYPE_CHECKING import

    decompressor = zstandard.ZstdDecompressor().decompressobj()
    try:
        decompressor.decompress(raw)
    except zstandard.ZstdError:
        return "corrupted"
    return "corrupted" if decompressor.eof else "truncated"


__all__ = [
    "BLOB_SCHEMA",
    "CHUNK",
    "INLINE_MAX",
    "LEASE_SCHEMA",
    "ZSTD_LEVEL",
    "IndexConnection",
    "IndexCursor",
    "LocalObjectFiles",
    "NotAnObjectFile",
    "ObjectFiles",
    "ObjectState",
    "ObjectStore",
    "SpooledObject",
    "StagedObject",
    "StoredObject",
    "enable_wal",
    "hash_bytes",
    "is_object_hash",
    "open_index",
]
