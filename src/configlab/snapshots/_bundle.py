"""Snapshot bundles: a portable zstd-compressed tar of snapshots and their objects."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import IO, Any, cast

import zstandard

from configlab._internal import safeio
from configlab._internal.canonical import canonical_json, loads_standard
from configlab._internal.objectstore import (
    CHUNK,
    THREADED_MIN,
    ZSTD_LEVEL,
    ObjectStore,
    hash_bytes,
    is_object_hash,
)
from configlab.errors import SnapshotCorruptedError, SnapshotError
from configlab.snapshots._model import (
    Snapshot,
    _check_name,
    _check_tag,
    _decode_manifest,
    _manifest,
    _timestamp,
)

#: ``format`` value of a bundle's manifest.json.
BUNDLE_FORMAT = "configlab-snapshot-bundle"

_MANIFEST_MEMBER = "manifest.json"
_BUNDLE_MANIFEST_MAX = 256 * 1024 * 1024


class _VerifyingReader(io.RawIOBase):
    """Reads the content of an object (decompressed) and hashes it on the way."""

    def __init__(self, store: ObjectStore, digest: str) -> None:
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


def write_bundle(snapshots: Sequence[Snapshot], objects: ObjectStore, bundle: Path) -> Path:
    """Write ``snapshots`` (in order) and their objects from ``objects`` to the file ``bundle``.

    The bundle is a zstd-compressed tar: ``manifest.json`` (snapshots, object hashes and sizes)
    followed by ``objects/<sha256>`` members holding each file's exact bytes.  Object contents
    are verified while they are copied.
    """
    sizes: dict[str, int] = {}
    records = []
    for snap in snapshots:
        for entry in snap.files.values():
            sizes[entry.hash] = entry.size
        manifest = json.loads(_manifest(snap.files, snap.env, snap.meta))
        records.append(
            {"id": snap.id, "created": snap.created, "tags": list(snap.tags), "manifest": manifest}
        )
    manifest_bytes = canonical_json(
        {
            "format": BUNDLE_FORMAT,
            "version": 1,
            "snapshots": records,
            "objects": [{"hash": h, "size": sizes[h]} for h in sorted(sizes)],
        }
    ).encode("utf-8")
    total = sum(sizes.values())
    # a regular file is replaced atomically, a device or FIFO written in place
    with safeio.open_output(bundle, what="bundle", error=SnapshotError, parents=True) as handle:
        compressor = zstandard.ZstdCompressor(
            level=ZSTD_LEVEL, threads=-1 if total >= THREADED_MIN else 0
        )
        with (
            compressor.stream_writer(handle, closefd=False) as writer,
            tarfile.open(
                fileobj=cast(IO[bytes], writer), mode="w|", format=tarfile.PAX_FORMAT
            ) as tar,
        ):
            tar.addfile(_member(_MANIFEST_MEMBER, len(manifest_bytes)), io.BytesIO(manifest_bytes))
            for digest in sorted(sizes):
                _export_object(objects, tar, digest, sizes[digest])
    return bundle


def _export_object(objects: ObjectStore, tar: tarfile.TarFile, digest: str, size: int) -> None:
    inline = objects.get_inline(digest, size)  # verified; None when it is a file
    if inline is not None:
        tar.addfile(_member(f"objects/{digest}", size), io.BytesIO(inline))
        return
    reader = _VerifyingReader(objects, digest)  # SnapshotCorruptedError when missing
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


def read_bundle(bundle: Path, objects: ObjectStore) -> list[Any]:
    """Read a bundle written by :func:`write_bundle`, putting its objects into ``objects``.

    Returns its snapshot records ``(id, created, tags, files, env, meta, manifest text)``; the
    caller writes their index rows.  Every object is verified against its hash and every snapshot
    id against its manifest; unsafe members (absolute paths, ``..``, links, devices) and unknown
    members raise SnapshotError.
    """
    try:
        with safeio.open_input(bundle, what="bundle", error=SnapshotError) as handle:
            reader = zstandard.ZstdDecompressor().stream_reader(handle)
            with tarfile.open(fileobj=cast(IO[bytes], reader), mode="r|") as tar:
                return _import_members(objects, bundle, tar)
    except SnapshotError:
        raise
    except (OSError, EOFError, tarfile.TarError, zstandard.ZstdError) as error:
        raise SnapshotError(f"{bundle}: not a readable snapshot bundle: {error}") from error


def _import_members(objects: ObjectStore, bundle: Path, tar: tarfile.TarFile) -> list[Any]:
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
            objects.put_stream(source, member.size, expected=digest)
        except SnapshotCorruptedError as error:
            raise SnapshotCorruptedError(
                f"{where}: content does not match its hash ({error})"
            ) from error
        seen.add(digest)
    if parsed is None:
        raise SnapshotError(f"{bundle}: no manifest.json in the bundle")
    for digest in sorted(set(sizes) - seen):
        if not objects.has(digest):
            raise SnapshotError(f"{bundle}: object {digest} is listed but not in the bundle")
    return parsed


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
        doc = loads_standard(data)
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
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as error:
        raise SnapshotError(f"{bundle}: malformed bundle manifest: {error!r}") from error
    return records, sizes
