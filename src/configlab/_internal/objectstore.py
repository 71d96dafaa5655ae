"""Content-addressed object storage and the shared SQLite index connection.

Objects live at ``<root>/objects/ab/cdef...`` where ``abcdef...`` is the SHA-256 (hex) of the
*uncompressed* content; the file holds one zstd frame (level 3).  Identical content is stored
once.  Every write goes to a temporary file in the object's own directory, is fsynced (unless the
store is opened with ``durable=False``) and is then renamed into place with ``os.replace``, so a
reader sees either no object or the whole object.  Every read recomputes the hash: a damaged
object raises :class:`~configlab.errors.SnapshotCorruptedError`, never returns wrong bytes.

:func:`open_index` opens ``<root>/index.sqlite`` in WAL mode; other modules (results, ...) add
their own tables to the same database through it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal, Protocol

import zstandard

from configlab.errors import SnapshotCorruptedError, SnapshotError

#: zstd level used for objects and bundles.
ZSTD_LEVEL = 3
#: Content at least this large is compressed with zstd's worker threads (all cores).
THREADED_MIN = 8 * 1024 * 1024
#: Chunk size for streaming large content.
CHUNK = 1024 * 1024
#: Seconds a connection waits on a locked database before giving up.
BUSY_TIMEOUT_S = 60.0

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
        raise SnapshotError(
            f"cannot open the store index at {base / 'index.sqlite'}: {error}"
        ) from error
    return conn


@dataclass(frozen=True)
class StoredObject:
    """Hash and uncompressed size of an object that is now in the store."""

    hash: str
    size: int


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
    """The ``objects/`` directory of a snapshot store (see the module docstring)."""

    def __init__(self, root: str | os.PathLike[str], *, durable: bool = True) -> None:
        self.root = Path(root)
        self.objects = self.root / "objects"
        self.durable = durable
        self._dirs: set[Path] = set()  # directories known to exist

    # -- paths -------------------------------------------------------------------------------

    def path_for(self, digest: str) -> Path:
        """Where the object ``digest`` lives (whether or not it exists)."""
        if not is_object_hash(digest):
            raise SnapshotError(f"malformed object hash {digest!r}")
        return self.objects / digest[:2] / digest[2:]

    def has(self, digest: str) -> bool:
        """Whether an object file exists for ``digest`` (its content is not checked)."""
        return self.path_for(digest).is_file()

    def iter_hashes(self) -> Iterator[str]:
        """Every object hash present on disk (temporary files are skipped), sorted."""
        if not self.objects.is_dir():
            return
        for sub in sorted(self.objects.iterdir()):
            if len(sub.name) != 2 or not sub.is_dir():
                continue
            for item in sorted(sub.iterdir()):
                digest = sub.name + item.name
                if is_object_hash(digest):
                    yield digest

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
        """Store ``data`` (once: existing content is not rewritten) and return its hash and size."""
        digest = hash_bytes(data)
        if not self.has(digest):
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
            if self.has(digest):
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
        try:
            return self.path_for(digest).read_bytes()
        except FileNotFoundError as error:
            raise SnapshotCorruptedError(f"object {digest} is missing") from error
        except OSError as error:
            raise SnapshotCorruptedError(f"object {digest} cannot be read: {error}") from error

    def get_bytes(self, digest: str, size: int | None = None) -> bytes:
        """Return the content of object ``digest``, verified against its hash (and ``size``).

        Raises :class:`SnapshotCorruptedError` when the object is missing, truncated or damaged.
        """
        raw = self._raw(digest)
        try:
            data = zstandard.ZstdDecompressor().decompress(raw)
        except zstandard.ZstdError as error:
            state = _classify(raw)
            raise SnapshotCorruptedError(f"object {digest} is {state}: {error}") from error
        if size is not None and len(data) != size:
            state = "truncated" if len(data) < size else "corrupted"
            raise SnapshotCorruptedError(
                f"object {digest} is {state}: {len(data)} bytes instead of {size}"
            )
        if hash_bytes(data) != digest:
            raise SnapshotCorruptedError(
                f"object {digest} is corrupted: content does not match its hash"
            )
        return data

    def copy_to(self, digest: str, handle: _Sink, size: int | None = None) -> int:
        """Stream the content of ``digest`` into ``handle``; verify hash and size at the end.

        On a mismatch :class:`SnapshotCorruptedError` is raised *after* data was written: write to
        a temporary file and only publish it when this returns.
        """
        counter = _Hashing()
        path = self.path_for(digest)
        try:
            with path.open("rb") as source:
                reader = zstandard.ZstdDecompressor().stream_reader(
                    source, read_across_frames=False
                )
                while chunk := reader.read(CHUNK):
                    counter.update(chunk)
                    handle.write(chunk)
        except FileNotFoundError as error:
            raise SnapshotCorruptedError(f"object {digest} is missing") from error
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
        try:
            self.copy_to(digest, _NullSink(), size)
        except SnapshotCorruptedError as error:
            message = str(error)
            if not self.path_for(digest).is_file():
                return "missing", message
            if " is truncated" in message:
                return "truncated", message
            raw = self._raw(digest)
            return _classify(raw), message
        return "ok", ""


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
    "CHUNK",
    "ZSTD_LEVEL",
    "ObjectState",
    "ObjectStore",
    "StoredObject",
    "hash_bytes",
    "is_object_hash",
    "open_index",
]
