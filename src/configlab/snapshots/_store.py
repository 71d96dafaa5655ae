"""Snapshot store: capture, store and recreate exact configuration states.

A :class:`Snapshot` is an immutable record of a set of named config files (their exact bytes),
selected environment variables (secrets redacted) and free-form metadata.  Its id is the SHA-256
of a canonical manifest of file hashes + env + meta, so saving the same state twice yields the
same id and stores nothing new.  File contents live in a content-addressed object store
(zstd compressed, hash verified on every read): small ones inline in the index, written in the
same transaction as the snapshot, larger ones under ``<store>/objects``; the index is a SQLite
database (``<store>/index.sqlite``, WAL) that other modules may extend through
:func:`open_index`.

Example::

    store = SnapshotStore(".configlab")
    snap = store.capture(files=["app.yaml"], env=["APP_*"], meta={"test_id": "t1"}, tags=["ci"])
    store.read_tree(snap, "app.yaml")
    store.restore(snap.id, "/tmp/repro")
"""

from __future__ import annotations

import contextlib
import fnmatch
import functools
import io
import json
import os
import re
import sqlite3
import tarfile
import tempfile
import threading
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from types import MappingProxyType
from typing import IO, Any, cast

import zstandard

from configlab import storage, treediff
from configlab._internal import safeio
from configlab._internal.objectstore import (
    BLOB_SCHEMA,
    CHUNK,
    INLINE_MAX,
    THREADED_MIN,
    ZSTD_LEVEL,
    IndexConnection,
    ObjectState,
    ObjectStore,
    StagedObject,
    StoredObject,
    hash_bytes,
    is_object_hash,
    open_index,
)
from configlab.errors import (
    FormatError,
    SnapshotCorruptedError,
    SnapshotError,
    SnapshotNotFoundError,
)
from configlab.storage import StoreLocation
from configlab.tree import join_path

#: Replacement value of a redacted environment variable.
REDACTED = "***REDACTED***"
#: Environment variable NAMES matching this (case-insensitive) have their value redacted.
SECRET_NAME_RE = re.compile(r"password|passwd|token|key|secret|credential", re.IGNORECASE)
#: Shortest accepted id prefix.
MIN_PREFIX = 6
#: Version of the snapshot manifest (part of every id).
MANIFEST_VERSION = 1
#: ``format`` value of a bundle's manifest.json.
BUNDLE_FORMAT = "configlab-snapshot-bundle"
#: Files at least this large are streamed into the object store instead of read whole.
STREAM_MIN = 8 * 1024 * 1024

_HEX_RE = re.compile(r"[0-9a-f]+")
_TAG_RE = re.compile(r"[^\s\x00-\x1f]{1,200}")
_MANIFEST_MEMBER = "manifest.json"
_BUNDLE_MANIFEST_MAX = 256 * 1024 * 1024

#: ``PRAGMA user_version`` of an index whose snapshot tables were created (or checked) by this
#: code: from then on a missing table is damage, never a new store.
SCHEMA_VERSION = 1
#: The tables of the snapshot index.
_TABLES = ("snapshots", "snapshot_files", "snapshot_tags", "snapshot_meta", "object_blobs")

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS snapshots (
        id TEXT PRIMARY KEY,
        created TEXT NOT NULL,
        manifest TEXT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS snapshots_created ON snapshots (created)",
    """CREATE TABLE IF NOT EXISTS snapshot_files (
        snapshot_id TEXT NOT NULL,
        name TEXT NOT NULL,
        hash TEXT NOT NULL,
        size INTEGER NOT NULL,
        format TEXT,
        parse_error TEXT,
        PRIMARY KEY (snapshot_id, name))""",
    "CREATE INDEX IF NOT EXISTS snapshot_files_hash ON snapshot_files (hash)",
    """CREATE TABLE IF NOT EXISTS snapshot_tags (
        tag TEXT NOT NULL,
        snapshot_id TEXT NOT NULL,
        tagged TEXT NOT NULL,
        PRIMARY KEY (tag, snapshot_id))""",
    "CREATE INDEX IF NOT EXISTS snapshot_tags_id ON snapshot_tags (snapshot_id)",
    """CREATE TABLE IF NOT EXISTS snapshot_meta (
        snapshot_id TEXT NOT NULL,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (snapshot_id, key))""",
    "CREATE INDEX IF NOT EXISTS snapshot_meta_kv ON snapshot_meta (key, value)",
    BLOB_SCHEMA,
)

#: What ``capture(files=...)`` accepts per file: a path, or ``(name, bytes | str | path)``.
FileSource = str | os.PathLike[str] | tuple[str, bytes | str | os.PathLike[str]]


@dataclass(frozen=True)
class FileEntry:
    """One file of a snapshot: object hash, size in bytes, format (None if unknown).

    ``parse_error`` is the message of the error met when the bytes were parsed (at capture, or
    on the first failed :meth:`SnapshotStore.read_tree`), None when it parsed or was not tried.
    """

    hash: str
    size: int
    format: str | None
    parse_error: str | None = None


@dataclass(frozen=True)
class Snapshot:
    """An immutable configuration state (see the module docstring)."""

    id: str
    files: Mapping[str, FileEntry]
    env: Mapping[str, str]
    meta: Mapping[str, Any]
    tags: tuple[str, ...]
    created: str

    def __hash__(self) -> int:
        return hash(self.id)

    @property
    def short_id(self) -> str:
        """The first 12 hex digits of the id (what listings show)."""
        return self.id[:12]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (used by ``--json`` output)."""
        return {
            "id": self.id,
            "created": self.created,
            "tags": list(self.tags),
            "files": {
                name: {
                    "hash": entry.hash,
                    "size": entry.size,
                    "format": entry.format,
                    "parse_error": entry.parse_error,
                }
                for name, entry in self.files.items()
            },
            "env": dict(self.env),
            "meta": dict(self.meta),
        }


@dataclass(frozen=True)
class Problem:
    """One finding of :meth:`SnapshotStore.verify`.

    ``kind`` is ``missing``, ``truncated`` or ``corrupted`` (an object), or ``index`` (index rows
    that disagree with a snapshot's manifest or point at nothing, a ``created`` value that is
    not a timestamp, or an index table that is missing: ``snapshot_id`` None).
    """

    kind: str
    snapshot_id: str | None
    detail: str
    name: str | None = None
    hash: str | None = None


@dataclass(frozen=True)
class VerifyReport:
    """Result of :meth:`SnapshotStore.verify`."""

    snapshots_checked: int
    objects_checked: int
    problems: tuple[Problem, ...] = field(default=())

    @property
    def ok(self) -> bool:
        """True when nothing is wrong."""
        return not self.problems

    @property
    def corrupted_snapshots(self) -> tuple[str, ...]:
        """Ids of the snapshots affected by a problem, sorted."""
        return tuple(sorted({p.snapshot_id for p in self.problems if p.snapshot_id}))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "ok": self.ok,
            "snapshots_checked": self.snapshots_checked,
            "objects_checked": self.objects_checked,
            "corrupted_snapshots": list(self.corrupted_snapshots),
            "problems": [
                {
                    "kind": p.kind,
                    "snapshot_id": p.snapshot_id,
                    "name": p.name,
                    "hash": p.hash,
                    "detail": p.detail,
                }
                for p in self.problems
            ],
        }

    def to_text(self) -> str:
        """Readable summary, one line per problem."""
        head = (
            f"checked {self.snapshots_checked} snapshot(s), {self.objects_checked} object(s): "
            + ("ok" if self.ok else f"{len(self.problems)} problem(s)")
        )
        lines = [head]
        for p in self.problems:
            where = (p.snapshot_id or "?")[:12] + (f" {p.name}" if p.name else "")
            lines.append(f"  {p.kind}: {where}: {p.detail}")
        return "\n".join(lines)


# -- helpers ---------------------------------------------------------------------------------


def canonical_json(value: Any) -> str:
    """Canonical JSON text (sorted keys, no spaces, UTF-8, no NaN) used for ids and meta rows."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _timestamp(value: datetime | str, what: str) -> str:
    """Normalise a datetime or ISO string to the stored form (UTC, microseconds)."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError as error:
            raise SnapshotError(f"{what}: {value!r} is not an ISO 8601 date/time") from error
    if not isinstance(value, datetime):
        raise SnapshotError(f"{what}: expected a datetime or ISO string, got {value!r}")
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def _check_name(name: Any) -> str:
    """Validate a file name inside a snapshot: a relative POSIX path that stays inside."""
    if not isinstance(name, str) or not name:
        raise SnapshotError(f"file name must be a non-empty string, got {name!r}")
    return _checked_name(name)


@functools.lru_cache(maxsize=4096)
def _checked_name(name: str) -> str:
    if "\x00" in name or "\\" in name:
        raise SnapshotError(f"file name {name!r} contains a NUL or a backslash")
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or (len(name) > 1 and name[1] == ":"):
        raise SnapshotError(f"file name {name!r} must be a relative path inside the snapshot")
    normal = path.as_posix()
    if normal in ("", "."):
        raise SnapshotError(f"file name {name!r} names no file")
    return normal


def _check_tag(tag: Any) -> str:
    if not isinstance(tag, str) or not _TAG_RE.fullmatch(tag):
        raise SnapshotError(
            f"invalid tag {tag!r}: 1 to 200 characters, no whitespace or control characters"
        )
    return tag


def _meta_rows(meta: Mapping[str, Any]) -> dict[str, str]:
    """Query rows for ``meta``: every key at every depth (dotted path) -> canonical JSON value."""
    rows: dict[str, str] = {}
    stack: list[tuple[tuple[str, ...], Any]] = [((), meta)]
    while stack:
        prefix, node = stack.pop()
        for key, value in node.items():
            segments = (*prefix, key)
            rows[join_path(segments)] = canonical_json(value)
            if isinstance(value, dict):
                stack.append((segments, value))
    return rows


def _matches(name: str, patterns: Sequence[str]) -> bool:
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)


def _str_list(value: Any, what: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    try:
        items = list(value)
    except TypeError as error:
        raise SnapshotError(f"{what}: expected a list of strings, got {value!r}") from error
    for item in items:
        if not isinstance(item, str):
            raise SnapshotError(f"{what}: expected strings, got {item!r}")
    return items


def capture_env(
    allow: Sequence[str],
    allow_secrets: Sequence[str] = (),
    environ: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Environment variables whose name matches a name or glob in ``allow``.

    Values of variables whose name looks secret (:data:`SECRET_NAME_RE`) become
    :data:`REDACTED` unless the name also matches ``allow_secrets``.
    """
    if not allow:
        return {}
    source = os.environ if environ is None else environ
    selected: dict[str, str] = {}
    for name in sorted(source):
        if not _matches(name, allow):
            continue
        value = source[name]
        if SECRET_NAME_RE.search(name) and not _matches(name, allow_secrets):
            value = REDACTED
        selected[name] = value
    return selected


@functools.lru_cache(maxsize=4096)
def _detect_format(name: str) -> str | None:
    from configlab import formats

    try:
        return formats.detect_format(name)
    except FormatError:
        return None


def _parse(data: bytes, fmt: str | None, name: str) -> Any:
    """Parse bytes with configlab.formats; any failure becomes a FormatError naming the file."""
    from configlab import formats

    if fmt is None:
        raise FormatError("format unknown (no codec for this file extension)", path=name)
    try:
        return formats.loads(data, fmt, source=name)
    except FormatError:
        raise
    except Exception as error:  # a codec bug or exotic input must not escape as a bare error
        raise FormatError(
            f"cannot parse as {fmt}: {type(error).__name__}: {error}", path=name
        ) from error


def _parse_error(data: bytes, fmt: str, name: str) -> str | None:
    try:
        _parse(data, fmt, name)
    except FormatError as error:
        return str(error)
    return None


def _manifest(
    files: Mapping[str, FileEntry], env: Mapping[str, str], meta: Mapping[str, Any]
) -> str:
    """The canonical manifest text whose SHA-256 is the snapshot id."""
    return canonical_json(
        {
            "version": MANIFEST_VERSION,
            "files": [
                {"name": name, "hash": e.hash, "size": e.size, "format": e.format}
                for name, e in sorted(files.items())
            ],
            "env": dict(env),
            "meta": dict(meta),
        }
    )


def _decode_manifest(
    snapshot_id: str, text: str
) -> tuple[dict[str, FileEntry], dict[str, str], dict[str, Any]]:
    """Parse and check a stored manifest (SnapshotCorruptedError unless it hashes to the id)."""
    if hash_bytes(text.encode("utf-8")) != snapshot_id:
        raise SnapshotCorruptedError(
            f"snapshot {snapshot_id}: index manifest does not match its id"
        )
    try:
        data = json.loads(text)
        files: dict[str, FileEntry] = {}
        for item in data["files"]:
            name, digest, size, fmt = item["name"], item["hash"], item["size"], item["format"]
            if not (
                isinstance(name, str)
                and isinstance(digest, str)
                and is_object_hash(digest)
                and type(size) is int
                and size >= 0
                and (fmt is None or isinstance(fmt, str))
            ):
                raise ValueError(f"malformed file entry {item!r}")
            files[name] = FileEntry(digest, size, fmt)
        env = data["env"]
        meta = data["meta"]
        if not isinstance(env, dict) or not all(isinstance(v, str) for v in env.values()):
            raise ValueError("env must map names to strings")
        if not isinstance(meta, dict):
            raise ValueError("meta must be a mapping")
    except (ValueError, TypeError, KeyError) as error:
        raise SnapshotCorruptedError(
            f"snapshot {snapshot_id}: unreadable manifest: {error}"
        ) from error
    return files, env, meta


class _VerifyingReader(io.RawIOBase):
    """Reads the content of an object (decompressed) and hashes it on the way."""

    def __init__(self, store: ObjectStore, digest: str) -> None:
        import hashlib

        super().__init__()
        self._handle = store.open_file(digest)
        self._reader = zstandard.ZstdDecompressor().stream_reader(
            self._handle, read_across_frames=False
        )
        self.digest = hashlib.sha256()
        self.count = 0

    def read(self, size: int = -1) -> bytes:
        chunk = self._reader.read(size if size is not None and size >= 0 else CHUNK)
        self.digest.update(chunk)
        self.count += len(chunk)
        return bytes(chunk)

    def close(self) -> None:
        self._handle.close()
        super().close()


# -- the store -------------------------------------------------------------------------------



@contextlib.contextmanager
def _atomic_file(
    target: Path, what: str, prefix: str, mode: int | None = None
) -> Iterator[IO[bytes]]:
    """Write ``target`` through a temporary file in its directory, renamed into place on success.

    Readers see the old file or the whole new one; on any failure the temporary file is removed
    and an OSError becomes a SnapshotError naming ``what``.
    """
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=target.parent, prefix=prefix)
    except OSError as error:
        raise SnapshotError(f"cannot write {what}: {error}") from error
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
        if mode is not None:
            os.chmod(temp, mode)
        os.replace(temp, target)
    except BaseException as error:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        if isinstance(error, OSError):
            raise SnapshotError(f"cannot write {what}: {error}") from error
        raise


class SnapshotStore:
    """A snapshot store rooted at ``path`` (default ``.configlab``; created on first use).

    Files smaller than ``inline_max`` bytes (default 64 KiB) are kept inline in the index,
    written in the same transaction as the snapshot's rows; larger ones are object files.
    ``durable=False`` skips the fsync of each new object *file* (faster; a power cut may then
    lose recently saved content, a killed process still cannot leave a half snapshot).
    Safe for many processes at once; within a process each thread gets its own connection.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | StoreLocation = ".configlab",
        *,
        durable: bool = True,
        inline_max: int = INLINE_MAX,
        objects: str | None = None,
    ) -> None:
        self.location = storage.resolve(path, objects, environ={})
        self.root = self.location.root
        self._local = threading.local()
        self._missing_tables: tuple[str, ...] = ()
        self.objects = ObjectStore(
            self.root,
            durable=durable,
            index=self._conn,
            inline_max=self.location.inline_max(inline_max),
            files=self.location.object_files(durable=durable),
        )

    def __repr__(self) -> str:
        return f"SnapshotStore({str(self.location)!r})"

    # -- database ----------------------------------------------------------------------------

    def _conn(self) -> IndexConnection:
        local = self._local
        conn: IndexConnection | None = getattr(local, "conn", None)
        if conn is None or local.pid != os.getpid():
            conn = self.location.connect()
            try:
                self._missing_tables = _ensure_schema(conn)
            except sqlite3.Error as error:
                conn.close()
                raise SnapshotError(
                    f"snapshot index {self.location.index_display}: {error}"
                ) from error
            local.conn = conn
            local.pid = os.getpid()
        return conn

    @contextlib.contextmanager
    def _db(self) -> Iterator[IndexConnection]:
        """The connection, with index errors turned into SnapshotError."""
        try:
            yield self._conn()
        except sqlite3.Error as error:
            where = self.location.index_display
            if self._missing_tables:
                raise SnapshotCorruptedError(
                    f"snapshot index {where}: table(s) {', '.join(self._missing_tables)} missing:"
                    f" the store is damaged (see `configlab snapshot verify`): {error}"
                ) from error
            raise SnapshotError(f"snapshot index {where}: {error}") from error

    @contextlib.contextmanager
    def _write(self) -> Iterator[IndexConnection]:
        """One write transaction (BEGIN IMMEDIATE ... COMMIT, rolled back on error)."""
        with self._db() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def close(self) -> None:
        """Close this thread's index connection (the store reopens it when used again)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def __enter__(self) -> SnapshotStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- saving ------------------------------------------------------------------------------

    def _store_file(
        self, name: str, source: bytes | Path, check: bool, fmt: str | None
    ) -> tuple[FileEntry, StagedObject | None]:
        """Store one file's content (small content is only staged: the caller records it)."""
        if fmt is None:
            fmt = _detect_format(name)
        staged: StagedObject | None = None
        if isinstance(source, bytes):
            staged = self.objects.stage(source)
            stored = StoredObject(staged.hash, staged.size)
            data: bytes | None = source
        else:
            try:
                with source.open("rb") as handle:
                    size = os.fstat(handle.fileno()).st_size
                    if size >= STREAM_MIN:
                        stored = self.objects.put_stream(handle, size)
                        data = None
                    else:
                        data = handle.read()
                        staged = self.objects.stage(data)
                        stored = StoredObject(staged.hash, staged.size)
            except OSError as error:
                raise SnapshotError(f"cannot read config file {source}: {error}") from error
        error_text = None
        if check and fmt is not None:
            if data is None:
                data = self.objects.get_bytes(stored.hash, stored.size)
            error_text = _parse_error(data, fmt, name)
        return FileEntry(stored.hash, stored.size, fmt, error_text), staged

    def capture(
        self,
        files: Iterable[FileSource] = (),
        env: Sequence[str] = (),
        meta: Mapping[str, Any] | None = None,
        tags: Sequence[str] = (),
        *,
        allow_secrets: Sequence[str] = (),
        environ: Mapping[str, str] | None = None,
        check: bool = True,
        formats: Mapping[str, str] | None = None,
    ) -> Snapshot:
        """Capture config files, environment variables and metadata as a snapshot.

        ``files``: paths (named by their relative path, or base name when absolute or outside
        the working tree), or ``(name, bytes | str | path)`` pairs.  ``env``: allow-list of
        variable names or glob patterns (values read from ``environ``, default ``os.environ``;
        secret-looking names redacted unless matched by ``allow_secrets``).  ``meta``: any
        JSON-serialisable mapping (conventional keys: ``test_id``, ``run_id``, ``seed``,
        ``space_hash``, ``labels``).  ``check``: parse each file now to record parse errors
        (the bytes are stored either way).  ``formats``: name -> format overriding detection by
        extension.  Returns the snapshot; capturing an identical state again returns the same
        snapshot (its original ``created``) and only adds the new tags.
        """
        overrides = dict(formats or {})
        sources: dict[str, bytes | Path] = {}
        if isinstance(files, (str, bytes, os.PathLike)):
            raise SnapshotError("files must be a list of paths or (name, content) pairs")
        for item in files:
            name, source = self._source(item)
            if name in sources:
                raise SnapshotError(f"two files are named {name!r} in one snapshot")
            sources[name] = source
        env_values = capture_env(
            _str_list(env, "env"), _str_list(allow_secrets, "allow_secrets"), environ
        )
        meta_values = self._check_meta(meta)
        tag_list = [_check_tag(t) for t in _str_list(tags, "tags")]
        entries: dict[str, FileEntry] = {}
        staged: list[StagedObject] = []
        for name in sorted(sources):
            entries[name], pending = self._store_file(
                name, sources[name], check, overrides.get(name)
            )
            if pending is not None:
                staged.append(pending)
        return self._record(entries, env_values, meta_values, tag_list, staged=staged)

    def save_config(
        self,
        tree: Mapping[str, Any],
        name: str,
        fmt: str | None = None,
        meta: Mapping[str, Any] | None = None,
        tags: Sequence[str] = (),
    ) -> Snapshot:
        """Save a generated config tree as a one-file snapshot, serialised with formats.dumps.

        ``fmt`` defaults to the format of ``name``'s extension.
        """
        from configlab import formats

        name = _check_name(name)
        if fmt is None:
            fmt = _detect_format(name)
            if fmt is None:
                raise SnapshotError(f"cannot tell the format of {name!r}: pass fmt=")
        text = formats.dumps(dict(tree), fmt)
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError as error:
            raise FormatError(
                f"cannot write {fmt}: text is not encodable as UTF-8 ({error.reason})", path=name
            ) from error
        return self.capture(
            files=[(name, data)],
            meta=meta,
            tags=tags,
            check=False,
            formats={name: fmt},
        )

    @staticmethod
    def _source(item: Any) -> tuple[str, bytes | Path]:
        if isinstance(item, tuple):
            if len(item) != 2:
                raise SnapshotError(f"file entry {item!r}: expected (name, content)")
            name = _check_name(item[0])
            content = item[1]
            if isinstance(content, bytes):
                return name, content
            if isinstance(content, str):
                return name, content.encode("utf-8")
            if isinstance(content, os.PathLike):
                return name, Path(content)
            raise SnapshotError(f"file {name!r}: content must be bytes, str or a path")
        if isinstance(item, (str, os.PathLike)):
            path = Path(item)
            posix = PurePosixPath(path.as_posix())
            outside = path.is_absolute() or ".." in posix.parts
            name = path.name if outside else posix.as_posix()
            return _check_name(name), path
        raise SnapshotError(f"file entry {item!r}: expected a path or (name, content)")

    @staticmethod
    def _check_meta(meta: Mapping[str, Any] | None) -> dict[str, Any]:
        if meta is None:
            return {}
        if not isinstance(meta, Mapping):
            raise SnapshotError(f"meta must be a mapping, got {type(meta).__name__}")
        try:
            checked = json.loads(canonical_json(dict(meta)))
        except (TypeError, ValueError) as error:
            raise SnapshotError(
                f"meta must be JSON-serialisable with string keys: {error}"
            ) from error
        if any(not isinstance(key, str) for key in meta):
            raise SnapshotError("meta keys must be strings")
        return cast(dict[str, Any], checked)

    def _record(
        self,
        files: Mapping[str, FileEntry],
        env: Mapping[str, str],
        meta: Mapping[str, Any],
        tags: Sequence[str],
        *,
        staged: Sequence[StagedObject] = (),
    ) -> Snapshot:
        """Insert one snapshot's inline objects and index rows in one transaction.

        Objects stored as files are already in place; ``staged`` inline objects are inserted
        here, so the snapshot and its content appear together or not at all.
        """
        manifest = _manifest(files, env, meta)
        snapshot_id = hash_bytes(manifest.encode("utf-8"))
        now = _now()
        with self._write() as conn:
            self.objects.insert_staged(conn, staged)
            inserted = _insert_snapshot(conn, snapshot_id, now, manifest, files, meta)
            for tag in tags:
                conn.execute(
                    "INSERT OR REPLACE INTO snapshot_tags (tag, snapshot_id, tagged)"
                    " VALUES (?, ?, ?)",
                    (tag, snapshot_id, now),
                )
            if inserted:  # a new snapshot: its rows are the ones just written
                all_tags = [
                    str(row[0])
                    for row in conn.execute(
                        "SELECT tag FROM snapshot_tags WHERE snapshot_id = ? ORDER BY tag",
                        (snapshot_id,),
                    )
                ]
        if inserted:  # built from what was just written (capture passes canonical, fresh meta)
            return Snapshot(
                id=snapshot_id,
                files=MappingProxyType({name: files[name] for name in sorted(files)}),
                env=MappingProxyType(dict(sorted(env.items()))),
                meta=MappingProxyType(dict(meta)),
                tags=tuple(all_tags),
                created=now,
            )
        return self._load("s.id = ?", (snapshot_id,))[0]

    # -- lookup ------------------------------------------------------------------------------

    def resolve(self, ref: Snapshot | str) -> str:
        """Full id for a snapshot, full id, tag or unique id prefix (>= 6 hex digits).

        A full id wins, then a tag (the snapshot most recently given that tag), then a prefix.
        """
        if isinstance(ref, Snapshot):
            return ref.id
        if not isinstance(ref, str) or not ref:
            raise SnapshotError(f"a snapshot id, tag or id prefix is needed, got {ref!r}")
        with self._db() as conn:
            lowered = ref.lower()
            if len(lowered) == 64 and is_object_hash(lowered):
                if conn.execute("SELECT 1 FROM snapshots WHERE id = ?", (lowered,)).fetchone():
                    return lowered
                raise SnapshotNotFoundError(f"no snapshot with id {ref}")
            row = conn.execute(
                "SELECT t.snapshot_id FROM snapshot_tags t JOIN snapshots s ON s.id = t.snapshot_id"
                " WHERE t.tag = ? ORDER BY t.tagged DESC, s.created DESC, s.id DESC LIMIT 1",
                (ref,),
            ).fetchone()
            if row:
                return str(row[0])
            if _HEX_RE.fullmatch(lowered):
                if len(lowered) < MIN_PREFIX:
                    raise SnapshotNotFoundError(
                        f"no tag {ref!r}, and an id prefix needs at least {MIN_PREFIX} hex digits"
                    )
                rows = conn.execute(
                    "SELECT id FROM snapshots WHERE id >= ? AND id < ? ORDER BY id LIMIT 5",
                    (lowered, lowered + "g"),
                ).fetchall()
                if len(rows) == 1:
                    return str(rows[0][0])
                if rows:
                    shown = ", ".join(str(r[0])[:12] for r in rows)
                    raise SnapshotError(f"id prefix {ref!r} is ambiguous: {shown}")
        raise SnapshotNotFoundError(f"no snapshot with id, tag or id prefix {ref!r}")

    def get(self, ref: Snapshot | str) -> Snapshot:
        """The snapshot for a full id, tag or unique id prefix (its manifest verified)."""
        snapshot_id = self.resolve(ref)
        found = self._load("s.id = ?", (snapshot_id,))
        if not found:  # pragma: no cover - resolve just found it and snapshots are never deleted
            raise SnapshotNotFoundError(f"no snapshot with id {snapshot_id}")
        return found[0]

    def _load(
        self,
        where: str,
        params: Sequence[Any],
        on_corrupted: Callable[[str, SnapshotCorruptedError], None] | None = None,
    ) -> list[Snapshot]:
        """Snapshots whose row matches ``where`` (alias ``s``), ordered by creation time.

        A row whose manifest does not check raises SnapshotCorruptedError, or, with
        ``on_corrupted``, is left out and passed to ``on_corrupted(id, error)``.
        """
        with self._db() as conn:
            conn.execute("BEGIN")  # one consistent read snapshot across the three queries
            try:
                rows = conn.execute(
                    f"SELECT s.id, s.created, s.manifest FROM snapshots s WHERE {where}"
                    " ORDER BY s.created, s.id",
                    params,
                ).fetchall()
                errors: dict[tuple[str, str], str | None] = {}
                tags: dict[str, list[str]] = {}
                if rows:
                    sub = f"SELECT s.id FROM snapshots s WHERE {where}"
                    for sid, name, parse_error in conn.execute(
                        f"SELECT snapshot_id, name, parse_error FROM snapshot_files"
                        f" WHERE snapshot_id IN ({sub})",
                        params,
                    ):
                        errors[(sid, name)] = parse_error
                    for sid, tag in conn.execute(
                        f"SELECT snapshot_id, tag FROM snapshot_tags WHERE snapshot_id IN ({sub})"
                        " ORDER BY tag",
                        params,
                    ):
                        tags.setdefault(sid, []).append(tag)
            finally:
                conn.execute("COMMIT")
        if on_corrupted is None:
            return [
                _snapshot(sid, created, manifest, errors, tags) for sid, created, manifest in rows
            ]
        found: list[Snapshot] = []
        for sid, created, manifest in rows:
            try:
                found.append(_snapshot(sid, created, manifest, errors, tags))
            except SnapshotCorruptedError as error:
                on_corrupted(sid, error)
        return found

    def find(
        self,
        tag: str | None = None,
        meta: Mapping[str, Any] | None = None,
        since: datetime | str | None = None,
        until: datetime | str | None = None,
        *,
        on_corrupted: Callable[[str, SnapshotCorruptedError], None] | None = None,
    ) -> list[Snapshot]:
        """Snapshots matching every given criterion, oldest first.

        ``meta``: ``{key: value}`` pairs that must all equal the snapshot's meta; keys may be
        dotted paths into nested meta (``labels.team``).  ``since`` (inclusive) and ``until``
        (exclusive) bound the creation time; naive datetimes are taken as UTC.

        A damaged snapshot (its index manifest does not match its id) is left out, so the others
        can still be listed: it is passed to ``on_corrupted(snapshot_id, error)``, or by default
        reported with a :class:`RuntimeWarning`.  Reading that snapshot (:meth:`get`) still
        raises SnapshotCorruptedError and :meth:`verify` reports it.
        """
        clauses: list[str] = []
        params: list[Any] = []
        if tag is not None:
            clauses.append("s.id IN (SELECT snapshot_id FROM snapshot_tags WHERE tag = ?)")
            params.append(tag)
        if meta is not None:
            if not isinstance(meta, Mapping):
                raise SnapshotError(f"meta must be a mapping, got {type(meta).__name__}")
            for key, value in meta.items():
                try:
                    encoded = canonical_json(value)
                except (TypeError, ValueError) as error:
                    raise SnapshotError(f"meta {key!r}: value is not JSON: {error}") from error
                clauses.append(
                    "s.id IN (SELECT snapshot_id FROM snapshot_meta WHERE key = ? AND value = ?)"
                )
                params.extend([str(key), encoded])
        if since is not None:
            clauses.append("s.created >= ?")
            params.append(_timestamp(since, "since"))
        if until is not None:
            clauses.append("s.created < ?")
            params.append(_timestamp(until, "until"))
        return self._load(" AND ".join(clauses) or "1", params, on_corrupted or _warn_corrupted)

    # -- tags --------------------------------------------------------------------------------

    def tag(self, ref: Snapshot | str, tag: str) -> Snapshot:
        """Give ``tag`` to a snapshot (a tag names the snapshot most recently given it)."""
        tag = _check_tag(tag)
        snapshot_id = self.resolve(ref)
        with self._write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO snapshot_tags (tag, snapshot_id, tagged) VALUES (?, ?, ?)",
                (tag, snapshot_id, _now()),
            )
        return self.get(snapshot_id)

    def untag(self, ref: Snapshot | str, tag: str) -> Snapshot:
        """Remove ``tag`` from a snapshot; SnapshotError when it does not carry it."""
        snapshot_id = self.resolve(ref)
        with self._write() as conn:
            cursor = conn.execute(
                "DELETE FROM snapshot_tags WHERE tag = ? AND snapshot_id = ?", (tag, snapshot_id)
            )
            removed = cursor.rowcount
        if not removed:
            raise SnapshotError(f"snapshot {snapshot_id[:12]} has no tag {tag!r}")
        return self.get(snapshot_id)

    # -- reading -----------------------------------------------------------------------------

    def _entry(self, ref: Snapshot | str, name: str | None) -> tuple[Snapshot, str, FileEntry]:
        snapshot = ref if isinstance(ref, Snapshot) else self.get(ref)
        if name is None:
            if len(snapshot.files) != 1:
                raise SnapshotError(
                    f"snapshot {snapshot.short_id} has {len(snapshot.files)} files: name one of "
                    f"{sorted(snapshot.files)}"
                )
            name = next(iter(snapshot.files))
        entry = snapshot.files.get(name)
        if entry is None:
            raise SnapshotError(
                f"snapshot {snapshot.short_id} has no file {name!r}"
                f" (files: {sorted(snapshot.files)})"
            )
        return snapshot, name, entry

    def read_bytes(self, snapshot: Snapshot | str, name: str | None = None) -> bytes:
        """The exact bytes of file ``name`` (may be omitted for one-file snapshots).

        The content hash is verified: damaged data raises SnapshotCorruptedError.
        """
        snap, name, entry = self._entry(snapshot, name)
        try:
            return self.objects.get_bytes(entry.hash, entry.size)
        except SnapshotCorruptedError as error:
            raise SnapshotCorruptedError(f"snapshot {snap.id} file {name!r}: {error}") from error

    def read_tree(self, snapshot: Snapshot | str, name: str | None = None) -> dict[str, Any]:
        """The parsed tree of file ``name`` (configlab.formats, by the recorded format).

        Raises FormatError when the file cannot be parsed; the error is recorded in the index.
        """
        snap, name, entry = self._entry(snapshot, name)
        try:
            data, confirm = self.objects.get_bytes_deferred(entry.hash, entry.size)
        except SnapshotCorruptedError as error:
            raise SnapshotCorruptedError(f"snapshot {snap.id} file {name!r}: {error}") from error

        def confirmed() -> None:  # the hash (checked while parsing) before any result
            try:
                confirm()
            except SnapshotCorruptedError as error:
                raise SnapshotCorruptedError(
                    f"snapshot {snap.id} file {name!r}: {error}"
                ) from error

        try:
            tree = cast(dict[str, Any], _parse(data, entry.format, name))
        except FormatError as error:
            confirmed()  # damaged content is reported as such, not as a parse error
            if entry.format is not None and entry.parse_error is None:
                with self._write() as conn:
                    conn.execute(
                        "UPDATE snapshot_files SET parse_error = ? WHERE hash = ? AND format = ?",
                        (str(error), entry.hash, entry.format),
                    )
            raise
        confirmed()
        return tree

    def restore(self, ref: Snapshot | str, target_dir: str | os.PathLike[str]) -> list[Path]:
        """Write every file of a snapshot under ``target_dir`` byte for byte; return the paths.

        Names that would land outside ``target_dir`` (through ``..`` or symlinks) are refused
        before anything is written.  Each file is verified, then renamed into place atomically.
        """
        snapshot = ref if isinstance(ref, Snapshot) else self.get(ref)
        target = Path(target_dir)
        try:
            target.mkdir(parents=True, exist_ok=True)
            base = target.resolve()
        except OSError as error:
            raise SnapshotError(f"cannot create restore directory {target}: {error}") from error
        plan: list[tuple[str, Path, FileEntry]] = []
        for name, entry in sorted(snapshot.files.items()):
            destination = (base / _check_name(name)).resolve()
            if not destination.is_relative_to(base):
                raise SnapshotError(f"refusing to write {name!r} outside {target}")
            plan.append((name, destination, entry))
        written: list[Path] = []
        for name, destination, entry in plan:
            with _atomic_file(destination, str(destination), ".configlab-", mode=0o644) as handle:
                try:
                    self.objects.copy_to(entry.hash, handle, entry.size)
                except SnapshotCorruptedError as error:
                    raise SnapshotCorruptedError(
                        f"snapshot {snapshot.id} file {name!r}: {error}"
                    ) from error
            written.append(destination)
        return written

    def diff(
        self, a: Snapshot | str, b: Snapshot | str, name: str | None = None
    ) -> treediff.TreeDiff:
        """Structural diff of two snapshots' configs (see :mod:`configlab.treediff`).

        With ``name``: that file in both.  Without, when both hold exactly one file: those two
        files (whatever their names and formats).  Otherwise a tree ``{file name: config}`` of
        all files, so a file added or removed is one entry.  A file that cannot be parsed is
        compared as its text.
        """
        with treediff.gc_paused():  # two large parsed trees at once: no collector passes
            return self._diff(a, b, name)

    def _diff(self, a: Snapshot | str, b: Snapshot | str, name: str | None) -> treediff.TreeDiff:
        old = self.get(a)
        new = self.get(b)
        if name is not None:
            self._entry(old, name)
            self._entry(new, name)
            return treediff.diff(self._diff_tree(old, name), self._diff_tree(new, name))
        if len(old.files) == 1 and len(new.files) == 1:
            (old_name,), (new_name,) = old.files, new.files
            return treediff.diff(self._diff_tree(old, old_name), self._diff_tree(new, new_name))
        old_tree: dict[str, Any] = {}
        new_tree: dict[str, Any] = {}
        for file_name in sorted(set(old.files) | set(new.files)):
            in_old, in_new = old.files.get(file_name), new.files.get(file_name)
            if in_old is not None and in_new is not None and in_old.hash == in_new.hash:
                continue
            if in_old is not None:
                old_tree[file_name] = self._diff_tree(old, file_name)
            if in_new is not None:
                new_tree[file_name] = self._diff_tree(new, file_name)
        return treediff.diff(old_tree, new_tree)

    def _diff_tree(self, snapshot: Snapshot, name: str) -> Any:
        try:
            return self.read_tree(snapshot, name)
        except FormatError:
            return self.read_bytes(snapshot, name).decode("utf-8", errors="replace")

    # -- bundles -----------------------------------------------------------------------------

    def export(self, ids: Iterable[Snapshot | str], bundle_path: str | os.PathLike[str]) -> Path:
        """Write the snapshots ``ids`` and their objects to one portable bundle file.

        The bundle is a zstd-compressed tar: ``manifest.json`` (snapshots, object hashes and
        sizes) followed by ``objects/<sha256>`` members holding each file's exact bytes.  Object
        contents are verified while they are copied.
        """
        if isinstance(ids, (str, Snapshot)):
            ids = [ids]
        snapshots = {s.id: s for s in (self.get(ref) for ref in ids)}
        if not snapshots:
            raise SnapshotError("export needs at least one snapshot")
        objects: dict[str, int] = {}
        records = []
        for sid in sorted(snapshots):
            snap = snapshots[sid]
            for entry in snap.files.values():
                objects[entry.hash] = entry.size
            manifest = json.loads(_manifest(snap.files, snap.env, snap.meta))
            records.append(
                {"id": sid, "created": snap.created, "tags": list(snap.tags), "manifest": manifest}
            )
        manifest_bytes = canonical_json(
            {
                "format": BUNDLE_FORMAT,
                "version": 1,
                "snapshots": records,
                "objects": [{"hash": h, "size": objects[h]} for h in sorted(objects)],
            }
        ).encode("utf-8")
        bundle = Path(bundle_path)
        total = sum(objects.values())
        # a regular file is replaced atomically, a device or FIFO written in place
        with safeio.open_output(bundle, what="bundle", error=SnapshotError,
                                parents=True) as handle:
            compressor = zstandard.ZstdCompressor(
                level=ZSTD_LEVEL, threads=-1 if total >= THREADED_MIN else 0
            )
            with (
                compressor.stream_writer(handle, closefd=False) as writer,
                tarfile.open(
                    fileobj=cast(IO[bytes], writer), mode="w|", format=tarfile.PAX_FORMAT
                ) as tar,
            ):
                tar.addfile(
                    _member(_MANIFEST_MEMBER, len(manifest_bytes)), io.BytesIO(manifest_bytes)
                )
                for digest in sorted(objects):
                    self._export_object(tar, digest, objects[digest])
        return bundle

    def _export_object(self, tar: tarfile.TarFile, digest: str, size: int) -> None:
        inline = self.objects.get_inline(digest, size)  # verified; None when it is a file
        if inline is not None:
            tar.addfile(_member(f"objects/{digest}", size), io.BytesIO(inline))
            return
        reader = _VerifyingReader(self.objects, digest)  # SnapshotCorruptedError when missing
        with reader:
            try:
                tar.addfile(_member(f"objects/{digest}", size), reader)
                extra = reader.read(1)
            except (OSError, zstandard.ZstdError) as error:
                raise SnapshotCorruptedError(f"object {digest} is damaged: {error}") from error
        if extra or reader.count != size or reader.digest.hexdigest() != digest:
            raise SnapshotCorruptedError(
                f"object {digest} is corrupted: content does not match its hash"
            )

    def import_(self, bundle_path: str | os.PathLike[str]) -> list[str]:
        """Import a bundle written by :meth:`export`; return the ids of its snapshots.

        Every object is verified against its hash and every snapshot id against its manifest
        before any index row is written; unsafe members (absolute paths, ``..``, links,
        devices) and unknown members raise SnapshotError.  Importing again is a no-op.
        """
        bundle = Path(bundle_path)
        try:
            with bundle.open("rb") as handle:
                reader = zstandard.ZstdDecompressor().stream_reader(handle)
                with tarfile.open(fileobj=cast(IO[bytes], reader), mode="r|") as tar:
                    manifest = self._import_members(bundle, tar)
        except SnapshotError:
            raise
        except (OSError, EOFError, tarfile.TarError, zstandard.ZstdError) as error:
            raise SnapshotError(f"{bundle}: not a readable snapshot bundle: {error}") from error
        ids: list[str] = []
        with self._write() as conn:
            for sid, created, tags, files, _env, meta, text in manifest:
                _insert_snapshot(conn, sid, created, text, files, meta)
                for tag in tags:
                    conn.execute(
                        "INSERT OR IGNORE INTO snapshot_tags (tag, snapshot_id, tagged)"
                        " VALUES (?, ?, ?)",
                        (tag, sid, created),
                    )
                ids.append(sid)
        return ids

    def _import_members(self, bundle: Path, tar: tarfile.TarFile) -> list[Any]:
        parsed: list[Any] | None = None
        sizes: dict[str, int] = {}
        seen: set[str] = set()
        for member in tar:
            name = member.name
            where = f"{bundle}: member {name!r}"
            if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
                raise SnapshotError(f"{where}: absolute path refused")
            if ".." in PurePosixPath(name.replace("\\", "/")).parts:
                raise SnapshotError(f"{where}: path escaping the bundle refused")
            if member.issym() or member.islnk():
                raise SnapshotError(f"{where}: links are refused")
            if member.isdev():
                raise SnapshotError(f"{where}: device or fifo members are refused")
            if not member.isfile():
                raise SnapshotError(f"{where}: only regular files are allowed")
            if name == _MANIFEST_MEMBER:
                if parsed is not None:
                    raise SnapshotError(f"{where}: duplicate manifest")
                if member.size > _BUNDLE_MANIFEST_MAX:
                    raise SnapshotError(f"{where}: manifest too large")
                source = tar.extractfile(member)
                assert source is not None  # a regular file always has content
                parsed, sizes = _parse_bundle_manifest(bundle, source.read())
                continue
            digest = name[len("objects/") :] if name.startswith("objects/") else ""
            if parsed is None:
                raise SnapshotError(f"{where}: unknown member (expected manifest.json first)")
            if digest not in sizes:
                raise SnapshotError(f"{where}: unknown member (not listed in the manifest)")
            if digest in seen:
                raise SnapshotError(f"{where}: duplicate object")
            if member.size != sizes[digest]:
                raise SnapshotError(f"{where}: {member.size} bytes, manifest says {sizes[digest]}")
            source = tar.extractfile(member)
            assert source is not None
            try:
                self.objects.put_stream(source, member.size, expected=digest)
            except SnapshotCorruptedError as error:
                raise SnapshotCorruptedError(
                    f"{where}: content does not match its hash ({error})"
                ) from error
            seen.add(digest)
        if parsed is None:
            raise SnapshotError(f"{bundle}: no manifest.json in the bundle")
        for digest in sorted(set(sizes) - seen):
            if not self.objects.has(digest):
                raise SnapshotError(f"{bundle}: object {digest} is listed but not in the bundle")
        return parsed

    # -- verification ------------------------------------------------------------------------

    def verify(self) -> VerifyReport:
        """Check every object (hash recomputed) and every index row.

        Reports missing, truncated or corrupted objects and index rows that disagree with a
        snapshot's manifest, by snapshot id.  Never raises on damaged data.
        """
        problems: list[Problem] = []
        expected_files: dict[tuple[str, str], FileEntry] = {}
        expected_meta: dict[str, dict[str, str]] = {}
        with self._db() as conn:
            missing = self._missing_tables

            def rows(table: str, sql: str) -> list[Any]:
                return [] if table in missing else conn.execute(sql).fetchall()

            conn.execute("BEGIN")
            try:
                snapshot_rows = rows(
                    "snapshots", "SELECT id, created, manifest FROM snapshots ORDER BY id"
                )
                file_rows = rows(
                    "snapshot_files",
                    "SELECT snapshot_id, name, hash, size, format FROM snapshot_files"
                    " ORDER BY snapshot_id, name",
                )
                meta_rows = rows(
                    "snapshot_meta",
                    "SELECT snapshot_id, key, value FROM snapshot_meta ORDER BY snapshot_id, key",
                )
                tag_rows = rows(
                    "snapshot_tags",
                    "SELECT tag, snapshot_id FROM snapshot_tags ORDER BY tag, snapshot_id",
                )
            finally:
                conn.execute("COMMIT")
        for table in missing:
            problems.append(
                Problem("index", None, f"index table {table} is missing: its rows are lost")
            )
        known: set[str] = set()
        for sid, created, manifest in snapshot_rows:
            known.add(sid)
            wrong_created = _created_problem(created)
            if wrong_created is not None:
                problems.append(Problem("index", sid, wrong_created))
            try:
                files, _env, meta = _decode_manifest(sid, manifest)
            except SnapshotCorruptedError as error:
                problems.append(Problem("index", sid, str(error)))
                continue
            for name, entry in files.items():
                expected_files[(sid, name)] = entry
            expected_meta[sid] = _meta_rows(meta)
        seen_files: set[tuple[str, str]] = set()
        for sid, name, digest, size, fmt in file_rows:
            seen_files.add((sid, name))
            if sid not in known:
                problems.append(
                    Problem("index", sid, "file row of an unknown snapshot", name, digest)
                )
                continue
            expected = expected_files.get((sid, name))
            if expected is None:
                if sid in expected_meta:
                    problems.append(
                        Problem("index", sid, "file row not in the manifest", name, digest)
                    )
            elif (expected.hash, expected.size, expected.format) != (digest, size, fmt):
                problems.append(
                    Problem("index", sid, "file row disagrees with the manifest", name, digest)
                )
        for (sid, name), entry in sorted(expected_files.items()):
            if (sid, name) not in seen_files:
                problems.append(Problem("index", sid, "file row missing", name, entry.hash))
        actual_meta: dict[str, dict[str, str]] = {}
        for sid, key, value in meta_rows:
            actual_meta.setdefault(sid, {})[key] = value
        for sid in sorted(set(actual_meta) | set(expected_meta)):
            if sid not in known:
                problems.append(Problem("index", sid, "meta rows of an unknown snapshot"))
            elif sid in expected_meta and actual_meta.get(sid, {}) != expected_meta[sid]:
                problems.append(Problem("index", sid, "meta rows disagree with the manifest"))
        for tag, sid in tag_rows:
            if sid not in known:
                problems.append(Problem("index", sid, f"tag {tag!r} names an unknown snapshot"))
        by_object: dict[tuple[str, int], list[tuple[str, str]]] = {}
        for (sid, name), entry in sorted(expected_files.items()):
            by_object.setdefault((entry.hash, entry.size), []).append((sid, name))
        for (digest, size), users in sorted(by_object.items()):
            state: ObjectState
            try:
                state, detail = self.objects.check(digest, size)
            except SnapshotError as error:  # the object index itself is gone
                state, detail = "missing", str(error)
            if state != "ok":
                for sid, name in users:
                    problems.append(Problem(state, sid, detail, name, digest))
        return VerifyReport(len(snapshot_rows), len(by_object), tuple(problems))

    def list(
        self,
        tag: str | None = None,
        *,
        on_corrupted: Callable[[str, SnapshotCorruptedError], None] | None = None,
    ) -> list[Snapshot]:
        """Every snapshot (or those carrying ``tag``), oldest first.

        Damaged snapshots are left out and reported as in :meth:`find`.
        """
        return self.find(tag=tag, on_corrupted=on_corrupted)


# -- module-level helpers used by the store ---------------------------------------------------


def _schema_state(conn: IndexConnection) -> tuple[int, tuple[str, ...]]:
    """``(PRAGMA user_version, the snapshot tables missing)`` of an index."""
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    present = {
        str(row[0])
        for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN (?, ?, ?, ?, ?)",
            _TABLES,
        )
    }
    return version, tuple(name for name in _TABLES if name not in present)


def _ensure_schema(conn: IndexConnection) -> tuple[str, ...]:
    """Create the tables of a new store; return the tables missing from an existing one.

    A new store has none of the tables and no schema version; a store written before inline
    objects existed (no version, only ``object_blobs`` missing) gets that table.  Either way the
    index is then stamped with :data:`SCHEMA_VERSION`.  In any other store a missing table is
    damage (its rows are lost): it is *not* recreated, so that :meth:`SnapshotStore.verify`
    reports it and every operation that needs it raises SnapshotCorruptedError.
    """
    version, missing = _schema_state(conn)
    if version >= SCHEMA_VERSION and not missing:
        return ()
    conn.execute("BEGIN IMMEDIATE")
    try:
        version, missing = _schema_state(conn)  # again, now that no other writer can change it
        fresh = len(missing) == len(_TABLES)
        if version < SCHEMA_VERSION and (fresh or missing in ((), ("object_blobs",))):
            for statement in _SCHEMA:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            missing = ()
    except BaseException:  # pragma: no cover - DDL on a locked-for-us database does not fail
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return missing


def _warn_corrupted(snapshot_id: str, error: SnapshotCorruptedError) -> None:
    """Default ``on_corrupted`` of :meth:`SnapshotStore.find`: a RuntimeWarning."""
    warnings.warn(f"skipped damaged snapshot {snapshot_id}: {error}", RuntimeWarning, stacklevel=4)


def _created_problem(created: object) -> str | None:
    """Why a stored ``created`` value is wrong, None when it is a timestamp in the stored form."""
    if not isinstance(created, str):
        return f"created value {created!r} is not a timestamp"
    try:
        canonical = _timestamp(created, "created")
    except SnapshotError:
        return f"created value {created!r} is not an ISO 8601 timestamp"
    if canonical != created:
        return f"created value {created!r} is not in the stored form ({canonical})"
    return None


def _snapshot(
    sid: str,
    created: str,
    manifest: str,
    errors: Mapping[tuple[str, str], str | None],
    tags: Mapping[str, Sequence[str]],
) -> Snapshot:
    """A Snapshot from its index data (the manifest is checked against the id)."""
    files, env, meta = _decode_manifest(sid, manifest)
    entries = {
        name: FileEntry(e.hash, e.size, e.format, errors.get((sid, name)))
        for name, e in files.items()
    }
    return Snapshot(
        id=sid,
        files=MappingProxyType(entries),
        env=MappingProxyType(env),
        meta=MappingProxyType(meta),
        tags=tuple(tags.get(sid, ())),
        created=created,
    )


def _insert_snapshot(
    conn: IndexConnection,
    snapshot_id: str,
    created: str,
    manifest: str,
    files: Mapping[str, FileEntry],
    meta: Mapping[str, Any],
) -> bool:
    """Insert a snapshot's rows; False (and nothing written) when it is already stored."""
    cursor = conn.execute(
        "INSERT OR IGNORE INTO snapshots (id, created, manifest) VALUES (?, ?, ?)",
        (snapshot_id, created, manifest),
    )
    if cursor.rowcount != 1:
        return False  # already stored: content-derived ids make this a no-op
    conn.executemany(
        "INSERT INTO snapshot_files (snapshot_id, name, hash, size, format, parse_error)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        [
            (snapshot_id, name, e.hash, e.size, e.format, e.parse_error)
            for name, e in sorted(files.items())
        ],
    )
    conn.executemany(
        "INSERT INTO snapshot_meta (snapshot_id, key, value) VALUES (?, ?, ?)",
        [(snapshot_id, key, value) for key, value in sorted(_meta_rows(meta).items())],
    )
    return True


def _member(name: str, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mode = 0o644
    info.mtime = 0
    info.type = tarfile.REGTYPE
    return info


def _parse_bundle_manifest(bundle: Path, data: bytes) -> tuple[list[Any], dict[str, int]]:
    """Validate a bundle manifest: every snapshot id must be the hash of its manifest."""
    try:
        doc = json.loads(data)
        if doc.get("format") != BUNDLE_FORMAT or doc.get("version") != 1:
            raise SnapshotError(f"{bundle}: not a configlab snapshot bundle (format/version)")
        sizes: dict[str, int] = {}
        for item in doc["objects"]:
            digest, size = item["hash"], item["size"]
            if not isinstance(digest, str) or not is_object_hash(digest):
                raise SnapshotError(f"{bundle}: malformed object hash {digest!r}")
            if not isinstance(size, int) or size < 0:
                raise SnapshotError(f"{bundle}: malformed size for object {digest}")
            sizes[digest] = size
        records: list[Any] = []
        for record in doc["snapshots"]:
            sid = record["id"]
            text = canonical_json(record["manifest"])
            if not isinstance(sid, str) or hash_bytes(text.encode("utf-8")) != sid:
                raise SnapshotCorruptedError(
                    f"{bundle}: snapshot {sid!r} does not match its manifest (tampered?)"
                )
            files, env, meta = _decode_manifest(sid, text)
            for name, entry in files.items():
                _check_name(name)
                if sizes.get(entry.hash) != entry.size:
                    raise SnapshotError(
                        f"{bundle}: snapshot {sid[:12]} file {name!r} refers to an object "
                        "not listed in the bundle"
                    )
            created = _timestamp(record["created"], f"{bundle}: snapshot {sid[:12]} created")
            tags = [_check_tag(tag) for tag in record["tags"]]
            records.append((sid, created, tags, files, env, meta, text))
    except SnapshotError:
        raise
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        raise SnapshotError(f"{bundle}: malformed bundle manifest: {error!r}") from error
    return records, sizes


__all__ = [
    "MIN_PREFIX",
    "REDACTED",
    "SECRET_NAME_RE",
    "FileEntry",
    "FileSource",
    "Problem",
    "Snapshot",
    "SnapshotStore",
    "StoredObject",
    "VerifyReport",
    "canonical_json",
    "capture_env",
    "open_index",
]
