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
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal, Protocol
from urllib.parse import quote

import zstandard

from configlab._internal.safeio import file_kind
from configlab.errors import SnapshotCorruptedError, SnapshotError

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

_HASH_RE = re.compile(r"[0-9a-f]{64}")

ObjectState = Literal["ok", "missing", "truncated", "corrupted"]


def is_object_hash(text: str) -> bool:
    """Whether ``text`` is a well-formed object hash (64 lowercase hex characters)."""
    return _HASH_RE.fullmatch(text) is not None


def hash_bytes(data: bytes) -> str:
    """SHA-256 hex digest of ``data`` (the object hash)."""
    return hashlib.sha256(data).hexdigest()


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
            conn.execute("PRAGMA journal_mode = WAL")
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


class ObjectStore:
    """The objects of a snapshot store (see the module docstring).

    ``index`` returns the connection of the calling thread to an index holding the
    ``object_blobs`` table (:data:`BLOB_SCHEMA`); without it every object is a file.
    ``inline_max``: objects smaller than this many bytes are stored inline (0: none).
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        durable: bool = True,
        index: Callable[[], sqlite3.Connection] | None = None,
        inline_max: int = INLINE_MAX,
    ) -> None:
        self.root = Path(root)
        self.objects = self.root / "objects"
        self.durable = durable
        self.index = index
        self.inline_max = inline_max if index is not None else 0
        self._dirs: set[Path] = set()  # directories known to exist
        self._local = threading.local()  # per-thread zstd contexts

    def _zstd(self) -> tuple[zstandard.ZstdCompressor, zstandard.ZstdDecompressor]:
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
    def insert_staged(conn: sqlite3.Connection, staged: Iterable[StagedObject]) -> None:
        """Insert the inline rows of ``staged`` with ``conn`` (inside the caller's transaction;
        content already stored is left as it is)."""
        conn.executemany(
            "INSERT OR IGNORE INTO object_blobs (hash, size, data) VALUES (?, ?, ?)",
            [(s.hash, s.size, s.frame) for s in staged if s.frame is not None],
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
        """Where the object ``digest`` lives (whether or not it exists)."""
        if not is_object_hash(digest):
            raise SnapshotError(f"malformed object hash {digest!r}")
        return self.objects / digest[:2] / digest[2:]

    def has(self, digest: str) -> bool:
        """Whether object ``digest`` is stored, inline or as a file (content not checked)."""
        path = self.path_for(digest)
        if self._query("SELECT 1 FROM object_blobs WHERE hash = ?", (digest,)):
            return True
        return path.is_file()

    def iter_hashes(self) -> Iterator[str]:
        """Every object hash stored, inline or as a file (temporary files skipped), sorted."""
        found = {
            str(row[0])
            for row in self._query("SELECT hash FROM object_blobs", ())
        }
        if self.objects.is_dir():
            for sub in self.objects.iterdir():
                if len(sub.name) != 2 or not sub.is_dir():
                    continue
                for item in sub.iterdir():
                    digest = sub.name + item.name
                    if is_object_hash(digest):
                        found.add(digest)
        yield from sorted(found)

    # -- writing -----------------------------------------------------------------------------

    def _compressor(self, size: int) -> zstandard.ZstdCompressor:
        threads = -1 if size >= THREADED_MIN else 0
        return zstandard.ZstdCompressor(level=ZSTD_LEVEL, threads=threads, write_content_size=True)

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

    def put_bytes(self, data: bytes) -> StoredObject:
        """Store ``data`` (once: existing content is not rewritten) and return its hash and size.

        Small content goes inline in its own transaction; prefer :meth:`stage` to record it in
        the transaction of the rows that use it.
        """
        if len(data) < self.inline_max:
            staged = self.stage(data)
            self._put_inline(staged)
            return StoredObject(staged.hash, staged.size)
        digest = hash_bytes(data)
        if not self.path_for(digest).is_file():
            target = self.path_for(digest)
            compressed = self._compressor(len(data)).compress(data)
            try:
                temp = self._write_temp(
                    target.parent, lambda handle: _write_all(handle, compressed)
                )
                self._commit_temp(temp, digest)
            except OSError as error:
                raise SnapshotError(
                    f"cannot write object {digest} under {self.objects}: {error}"
                ) from error
        return StoredObject(digest, len(data))

    def put_stream(self, source: IO[bytes], size: int, expected: str | None = None) -> StoredObject:
        """Store exactly ``size`` bytes read from ``source`` in chunks (for large files).

        Raises :class:`SnapshotCorruptedError` (storing nothing) when the source does not deliver
        ``size`` bytes or, with ``expected``, when the content does not hash to it.
        """
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
        incoming = self.objects / ".incoming"

        def write(handle: IO[bytes]) -> None:
            compressor = self._compressor(size)
            with compressor.stream_writer(handle, size=size, closefd=False) as writer:
                while chunk := source.read(CHUNK):
                    counter.update(chunk)
                    writer.write(chunk)

        try:
            temp = self._write_temp(incoming, write)
        except zstandard.ZstdError as error:
            raise SnapshotCorruptedError(
                f"content is not the declared {size} bytes ({counter.size} read): {error}"
            ) from error
        except OSError as error:
            raise SnapshotError(f"cannot write an object under {self.objects}: {error}") from error
        digest = counter.digest.hexdigest()
        try:
            if expected is not None and digest != expected:
                raise SnapshotCorruptedError(f"content hashes to {digest}, expected {expected}")
            if self.path_for(digest).is_file():
                os.unlink(temp)
            else:
                self._commit_temp(temp, digest)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise
        return StoredObject(digest, counter.size)

    # -- reading -----------------------------------------------------------------------------

    def _raw(self, digest: str) -> bytes:
        with self._open(digest) as handle:
            return handle.read()

    def _open(self, digest: str) -> IO[bytes]:
        """The object file, opened without blocking: only a regular file is an object (a FIFO
        or device planted in the store must not hang a reader)."""
        try:
            fd = os.open(self.path_for(digest), os.O_RDONLY | os.O_NONBLOCK)
        except FileNotFoundError as error:
            raise SnapshotCorruptedError(f"object {digest} is missing") from error
        except OSError as error:
            raise SnapshotCorruptedError(f"object {digest} cannot be read: {error}") from error
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            os.close(fd)
            raise SnapshotCorruptedError(f"object {digest} is {file_kind(mode)}, not a file")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")

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

    def copy_to(self, digest: str, handle: _Sink, size: int | None = None) -> int:
        """Stream the content of ``digest`` into ``handle``; verify hash and size at the end.

        On a mismatch :class:`SnapshotCorruptedError` is raised *after* data was written: write to
        a temporary file and only publish it when this returns.
        """
        inline = self.get_inline(digest, size)
        if inline is not None:
            handle.write(inline)
            return len(inline)
        counter = _Hashing()
        try:
            with self._open(digest) as source:
                reader = zstandard.ZstdDecompressor().stream_reader(
                    source, read_across_frames=False
                )
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
            if not os.path.lexists(self.path_for(digest)):
                return "missing", message
            if not self.path_for(digest).is_file():  # a FIFO, a directory ...
                return "corrupted", message
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
    "ZSTD_LEVEL",
    "ObjectState",
    "ObjectStore",
    "StagedObject",
    "StoredObject",
    "hash_bytes",
    "is_object_hash",
    "open_index",
]
