"""Tests for snapshot bundles: export / import between stores, tampered and unsafe bundles."""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest
import zstandard

import configlab.snapshots._bundle as snapshots
from configlab.errors import SnapshotCorruptedError, SnapshotError
from configlab.snapshots import SnapshotStore, canonical_json
from tests.snapshots.test_snapshots_integrity import LAYOUTS, replace_stored, stored_frame

Members = list[tuple[tarfile.TarInfo, bytes]]


def read_bundle(path: Path) -> Members:
    raw = zstandard.ZstdDecompressor().stream_reader(path.open("rb")).read()
    members: Members = []
    with tarfile.open(fileobj=io.BytesIO(raw), mode="r:") as tar:
        for info in tar.getmembers():
            handle = tar.extractfile(info)
            members.append((info, handle.read() if handle else b""))
    return members


def write_bundle(path: Path, members: Members) -> Path:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:", format=tarfile.PAX_FORMAT) as tar:
        for info, data in members:
            info.size = len(data) if info.isfile() else 0
            tar.addfile(info, io.BytesIO(data) if info.isfile() else None)
    path.write_bytes(zstandard.ZstdCompressor().compress(buffer.getvalue()))
    return path


def _file(name: str, data: bytes) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


@pytest.fixture(params=LAYOUTS)
def source(tmp_path: Path, request: pytest.FixtureRequest) -> tuple[SnapshotStore, list[str]]:
    store = SnapshotStore(tmp_path / "a", inline_max=request.param)
    one = store.capture(
        files=[("app.yaml", b"a: 1\n"), ("conf/db.json", b'{"port": 1}')],
        meta={"test_id": "t1", "labels": {"k": "v"}},
        environ={"APP_X": "1"},
        env=["APP_*"],
        tags=["base", "ci"],
    )
    two = store.capture(files=[("app.yaml", b"a: 2\n"), ("conf/db.json", b'{"port": 1}')])
    return store, [one.id, two.id]


def test_export_import_between_two_stores(
    source: tuple[SnapshotStore, list[str]], tmp_path: Path
) -> None:
    store, ids = source
    bundle = store.export([ids[0][:8], "base", ids[1]], tmp_path / "out" / "b.tar.zst")
    names = [info.name for info, _ in read_bundle(bundle)]
    assert names[0] == "manifest.json"
    assert len(names) == 4  # manifest + 3 distinct objects (db.json shared)
    manifest = json.loads(read_bundle(bundle)[0][1])
    assert manifest["format"] == "configlab-snapshot-bundle"
    assert {o["hash"] for o in manifest["objects"]} == {n.split("/")[1] for n in names[1:]}
    target = SnapshotStore(tmp_path / "b")
    assert sorted(target.import_(bundle)) == sorted(ids)
    for sid in ids:
        a, b = store.get(sid), target.get(sid)
        assert (a.files, a.env, a.meta, a.tags, a.created) == (
            b.files,
            b.env,
            b.meta,
            b.tags,
            b.created,
        )
        for name in a.files:
            assert target.read_bytes(b, name) == store.read_bytes(a, name)
    assert target.find(meta={"labels.k": "v"})[0].id == ids[0]
    assert target.get("base").id == ids[0]
    # idempotent: importing again changes nothing
    assert sorted(target.import_(bundle)) == sorted(ids)
    assert len(target.list()) == 2 and target.verify().ok
    # re-export is byte-identical (deterministic bundles)
    again = target.export(ids, tmp_path / "again.tar.zst")
    assert again.read_bytes() == bundle.read_bytes()
    assert store.export(ids[0], tmp_path / "single.tar.zst").exists()


def test_export_refuses_damaged_objects(
    source: tuple[SnapshotStore, list[str]], tmp_path: Path
) -> None:
    store, ids = source
    snap = store.get(ids[0])
    digest = snap.files["app.yaml"].hash
    original = stored_frame(store, digest)
    bundle = tmp_path / "b.tar.zst"

    replace_stored(store, digest, original[:-4])
    with pytest.raises(SnapshotCorruptedError):
        store.export([ids[0]], bundle)
    replace_stored(store, digest, b"not zstd at all")
    with pytest.raises(SnapshotCorruptedError, match=r"damaged|corrupted"):
        store.export([ids[0]], bundle)
    other = stored_frame(store, store.get(ids[1]).files["app.yaml"].hash)
    replace_stored(store, digest, other)  # same size, other content
    with pytest.raises(SnapshotCorruptedError, match="does not match"):
        store.export([ids[0]], bundle)
    longer = store.objects.put_bytes(b"a: 1\n# longer content\n")
    replace_stored(store, digest, stored_frame(store, longer.hash))
    with pytest.raises(SnapshotCorruptedError, match=r"does not match|instead of"):
        store.export([ids[0]], bundle)
    replace_stored(store, digest, None)
    with pytest.raises(SnapshotCorruptedError, match="missing"):
        store.export([ids[0]], bundle)
    assert not bundle.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".bundle-")]


def test_export_argument_and_write_errors(
    source: tuple[SnapshotStore, list[str]], tmp_path: Path
) -> None:
    store, ids = source
    with pytest.raises(SnapshotError, match="at least one"):
        store.export([], tmp_path / "b")
    (tmp_path / "file").write_text("x")
    with pytest.raises(SnapshotError, match="cannot write bundle"):
        store.export(ids, tmp_path / "file" / "b.tar.zst")
    (tmp_path / "dir.tar.zst").mkdir()
    with pytest.raises(SnapshotError, match="is a directory; refusing to write the bundle"):
        store.export(ids, tmp_path / "dir.tar.zst")


def _tampered(tmp_path: Path, bundle: Path, change: Callable[[Members], Members]) -> Path:
    return write_bundle(tmp_path / "tampered.tar.zst", change(read_bundle(bundle)))


def _edit_manifest(members: Members, edit: Callable[[dict], None]) -> Members:  # type: ignore[type-arg]
    doc = json.loads(members[0][1])
    edit(doc)
    return [_file("manifest.json", json.dumps(doc).encode()), *members[1:]]


def _retarget(doc: dict, edit: Callable[[dict], None]) -> None:  # type: ignore[type-arg]
    """Edit a snapshot's manifest and recompute its id, as a careful attacker would."""
    record = doc["snapshots"][0]
    edit(record["manifest"])
    record["id"] = snapshots.hash_bytes(canonical_json(record["manifest"]).encode())


def _link(kind: bytes) -> Callable[[Members], Members]:
    def change(members: Members) -> Members:
        info = tarfile.TarInfo("objects/" + "a" * 64)
        info.type = kind
        info.linkname = "/etc/passwd"
        return [*members, (info, b"")]

    return change


def _device(kind: bytes) -> Callable[[Members], Members]:
    def change(members: Members) -> Members:
        info = tarfile.TarInfo("dev")
        info.type = kind
        return [*members, (info, b"")]

    return change


def _flip(members: Members) -> Members:
    info, data = members[1]
    return [members[0], (info, bytes([data[0] ^ 1]) + data[1:]), *members[2:]]


TAMPERING: list[tuple[str, Callable[[Members], Members], str]] = [
    ("absolute", lambda m: [*m, _file("/etc/evil", b"x")], "absolute path"),
    ("drive", lambda m: [*m, _file("C:/evil", b"x")], "absolute path"),
    ("dotdot", lambda m: [*m, _file("objects/../../evil", b"x")], "escaping"),
    ("symlink", _link(tarfile.SYMTYPE), "links are refused"),
    ("hardlink", _link(tarfile.LNKTYPE), "links are refused"),
    ("chardev", _device(tarfile.CHRTYPE), "device"),
    ("fifo", _device(tarfile.FIFOTYPE), "device"),
    ("directory", _device(tarfile.DIRTYPE), "only regular files"),
    ("unknown", lambda m: [*m, _file("notes.txt", b"x")], "not listed"),
    ("unlisted object", lambda m: [*m, _file("objects/" + "b" * 64, b"x")], "not listed"),
    ("object first", lambda m: [m[1], m[0], *m[2:]], "manifest.json first"),
    ("two manifests", lambda m: [m[0], m[0], *m[1:]], "duplicate manifest"),
    ("duplicate object", lambda m: [*m, m[1]], "duplicate object"),
    ("no manifest", lambda m: m[1:2], "manifest.json first"),
    ("empty", lambda m: [], "no manifest"),
    ("missing object", lambda m: m[:2], "listed but not in the bundle"),
    ("flipped byte", _flip, "does not match its hash"),
    ("wrong size", lambda m: [m[0], (m[1][0], m[1][1] + b"!"), *m[2:]], "manifest says"),
    ("not json", lambda m: [_file("manifest.json", b"{nope"), *m[1:]], "malformed bundle manifest"),
    (
        "wrong format",
        lambda m: _edit_manifest(m, lambda d: d.update(format="zip")),
        "not a configlab",
    ),
    (
        "bad hash",
        lambda m: _edit_manifest(m, lambda d: d["objects"][0].update(hash="../x")),
        "malformed object hash",
    ),
    (
        "bad size",
        lambda m: _edit_manifest(m, lambda d: d["objects"][0].update(size=-1)),
        "malformed size",
    ),
    (
        "missing key",
        lambda m: _edit_manifest(m, lambda d: d.pop("snapshots")),
        "malformed bundle manifest",
    ),
    (
        "meta changed",
        lambda m: _edit_manifest(
            m, lambda d: d["snapshots"][0]["manifest"]["meta"].update(test_id="t2")
        ),
        "does not match its manifest",
    ),
    (
        "id retargeted to bad structure",
        lambda m: _edit_manifest(m, lambda d: _retarget(d, lambda s: s.update(env=[1]))),
        "unreadable manifest",
    ),
    (
        "malformed file entry",
        lambda m: _edit_manifest(
            m, lambda d: _retarget(d, lambda s: s["files"][0].update(hash="xyz"))
        ),
        "malformed file entry",
    ),
    (
        "meta not a mapping",
        lambda m: _edit_manifest(m, lambda d: _retarget(d, lambda s: s.update(meta=[1]))),
        "meta must be a mapping",
    ),
    (
        "unsafe file name",
        lambda m: _edit_manifest(
            m, lambda d: _retarget(d, lambda s: s["files"][0].update(name="../../x"))
        ),
        "relative path",
    ),
    (
        "file object not listed",
        lambda m: _edit_manifest(
            m, lambda d: _retarget(d, lambda s: s["files"][0].update(size=999))
        ),
        "not listed in the bundle",
    ),
    (
        "bad created",
        lambda m: _edit_manifest(m, lambda d: d["snapshots"][0].update(created="soon")),
        "ISO 8601",
    ),
    (
        "bad tag",
        lambda m: _edit_manifest(m, lambda d: d["snapshots"][0].update(tags=["a b"])),
        "invalid tag",
    ),
]


@pytest.mark.parametrize(("label", "change", "message"), TAMPERING, ids=[t[0] for t in TAMPERING])
def test_tampered_or_unsafe_bundles_are_refused(
    source: tuple[SnapshotStore, list[str]],
    tmp_path: Path,
    label: str,
    change: Callable[[Members], Members],
    message: str,
) -> None:
    store, ids = source
    bundle = store.export([ids[0]], tmp_path / "b.tar.zst")
    bad = _tampered(tmp_path, bundle, change)
    target = SnapshotStore(tmp_path / "target")
    with pytest.raises(SnapshotError, match=message):
        target.import_(bad)
    assert target.list() == []
    assert target.verify().ok


def test_unreadable_bundles(
    source: tuple[SnapshotStore, list[str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, ids = source
    bundle = store.export(ids, tmp_path / "b.tar.zst")
    target = SnapshotStore(tmp_path / "target")
    (tmp_path / "plain.txt").write_text("hello")
    with pytest.raises(SnapshotError, match="not a readable snapshot bundle"):
        target.import_(tmp_path / "plain.txt")
    truncated = tmp_path / "truncated.tar.zst"
    truncated.write_bytes(bundle.read_bytes()[: len(bundle.read_bytes()) // 2])
    with pytest.raises(SnapshotError):
        target.import_(truncated)
    with pytest.raises(SnapshotError, match="no such bundle"):
        target.import_(tmp_path / "missing.tar.zst")
    monkeypatch.setattr(snapshots, "_BUNDLE_MANIFEST_MAX", 10)
    with pytest.raises(SnapshotError, match="manifest too large"):
        target.import_(bundle)
    assert target.list() == []


def test_import_when_objects_already_present(
    source: tuple[SnapshotStore, list[str]], tmp_path: Path
) -> None:
    store, ids = source
    full = store.export(ids, tmp_path / "full.tar.zst")
    target = SnapshotStore(tmp_path / "target")
    target.import_(full)
    # a bundle that omits objects the target already holds is accepted there
    slim = write_bundle(tmp_path / "slim.tar.zst", read_bundle(full)[:1])
    assert sorted(target.import_(slim)) == sorted(ids)
    with pytest.raises(SnapshotError, match="listed but not in the bundle"):
        SnapshotStore(tmp_path / "empty").import_(slim)
