"""Tests for configlab.snapshots: capture, ids, formats, env redaction, tags, queries, diff."""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from configlab import formats
from configlab._internal.canonical import loads_standard
from configlab.errors import (
    ConfiglabError,
    FormatError,
    SnapshotCorruptedError,
    SnapshotError,
    SnapshotNotFoundError,
)
from configlab.snapshots import (
    REDACTED,
    FileEntry,
    Snapshot,
    SnapshotStore,
    canonical_json,
    capture_env,
    open_index,
)
from tests.snapshots.test_snapshots_integrity import LAYOUTS, replace_stored

SAMPLES: dict[str, bytes] = {
    "app.yaml": b"# comment\ndb:\n  host: x   \n  port: 5432\nlist:\n- a\n- b\n",
    "app.json": b'{\r\n  "a" : 1,\r\n  "b": [1, 2.50]\r\n}',
    "app.toml": b'# c\n[db]\nhost = "x"\nport = 5432\n',
    "app.xml": (
        b'<?xml version="1.0"?>\n<config>\n  <db host="x"><port>5432</port></db>\n</config>\n'
    ),
    "app.properties": b"# c\ndb.host = x\ndb.port=5432\n",
    "app.ini": b"[db]\nhost = x\nport = 5432\n",
    ".env": b"DB_HOST=x\nDB_PORT=5432\n",
}


@pytest.fixture(params=LAYOUTS)
def store(tmp_path: Path, request: pytest.FixtureRequest) -> SnapshotStore:
    return SnapshotStore(tmp_path / "store", inline_max=request.param)


# -- capture and read back --------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_every_format_round_trips_byte_for_byte(
    store: SnapshotStore, tmp_path: Path, name: str
) -> None:
    source = tmp_path / "src" / name
    source.parent.mkdir()
    source.write_bytes(SAMPLES[name])
    snap = store.capture(files=[source])
    entry = snap.files[name]
    assert entry.format == formats.detect_format(name)
    assert entry.size == len(SAMPLES[name]) and entry.parse_error is None
    assert store.read_bytes(snap, name) == SAMPLES[name]
    assert store.read_bytes(snap.id) == SAMPLES[name]
    assert store.read_tree(snap, name) == formats.loads(SAMPLES[name], entry.format or "")
    restored = store.restore(snap.id, tmp_path / "out")
    assert restored == [(tmp_path / "out" / name).resolve()]
    assert restored[0].read_bytes() == SAMPLES[name]


def test_capture_many_files_env_meta_tags(
    store: SnapshotStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("conf").mkdir()
    Path("conf/app.yaml").write_bytes(SAMPLES["app.yaml"])
    outside = tmp_path.parent / f"{tmp_path.name}-outside.json"
    outside.write_bytes(SAMPLES["app.json"])
    monkeypatch.setenv("APP_MODE", "fast")
    monkeypatch.setenv("APP_DB_PASSWORD", "hunter2")
    meta = {
        "test_id": "tests/test_x.py::test_y",
        "run_id": "r1",
        "seed": 7,
        "labels": {"team": "core"},
    }
    try:
        snap = store.capture(
            files=[
                "./conf/app.yaml",
                outside,
                ("extra.ini", SAMPLES["app.ini"]),
                ("t.toml", "a = 1\n"),
            ],
            env=["APP_*"],
            meta=meta,
            tags=["nightly", "v1"],
        )
    finally:
        outside.unlink()
    assert sorted(snap.files) == sorted(
        ["conf/app.yaml", "extra.ini", f"{tmp_path.name}-outside.json", "t.toml"]
    )
    assert snap.env == {"APP_DB_PASSWORD": REDACTED, "APP_MODE": "fast"}
    assert dict(snap.meta) == meta
    assert snap.tags == ("nightly", "v1")
    assert len(snap.id) == 64 and snap.short_id == snap.id[:12]
    created = datetime.fromisoformat(snap.created)
    assert created.tzinfo is not None and abs(datetime.now(UTC) - created) < timedelta(minutes=5)
    assert store.read_tree(snap, "t.toml") == {"a": 1}
    assert hash(snap) == hash(snap.id)
    data = snap.to_dict()
    assert data["files"]["t.toml"]["size"] == 6 and data["tags"] == ["nightly", "v1"]
    with pytest.raises(TypeError):
        snap.files["x"] = FileEntry("0" * 64, 0, None)  # type: ignore[index]


def test_same_state_twice_gives_the_same_id_and_stores_nothing_new(store: SnapshotStore) -> None:
    files = [("a.json", b'{"a": 1}'), ("b.yaml", b"b: 2\n")]
    first = store.capture(files=files, meta={"k": 1}, environ={"X": "1"}, env=["X"])
    objects_before = sorted(store.objects.iter_hashes())
    second = store.capture(
        files=list(reversed(files)), meta={"k": 1}, environ={"X": "1"}, env=["X"], tags=["again"]
    )
    assert second.id == first.id
    assert second.created == first.created
    assert second.tags == ("again",)
    assert sorted(store.objects.iter_hashes()) == objects_before
    assert len(store.list()) == 1
    # any difference in content, env or meta is a different snapshot
    assert store.capture(files=files, meta={"k": 2}, environ={"X": "1"}, env=["X"]).id != first.id
    assert store.capture(files=files, meta={"k": 1}, environ={"X": "2"}, env=["X"]).id != first.id
    assert (
        store.capture(files=files[:1], meta={"k": 1}, environ={"X": "1"}, env=["X"]).id != first.id
    )
    # identical content under two names is stored once
    twin = store.capture(files=[("x.json", b'{"a": 1}'), ("y.json", b'{"a": 1}')])
    assert twin.files["x.json"].hash == twin.files["y.json"].hash == first.files["a.json"].hash


def test_ids_do_not_depend_on_process_or_order(tmp_path: Path) -> None:
    a = SnapshotStore(tmp_path / "a").capture(
        files=[("x.json", b"{}")], meta={"b": 1, "a": [1, {"z": 1, "y": 2}]}
    )
    b = SnapshotStore(tmp_path / "b").capture(
        files=[("x.json", b"{}")], meta={"a": [1, {"y": 2, "z": 1}], "b": 1}
    )
    assert a.id == b.id


def test_large_files_are_streamed(
    store: SnapshotStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import configlab.snapshots._store as snapshots

    monkeypatch.setattr(snapshots, "STREAM_MIN", 1000)
    big = tmp_path / "big.json"
    content = ('{"items": [' + ",".join(f'{{"n": {i}}}' for i in range(2000)) + "]}").encode()
    big.write_bytes(content)
    snap = store.capture(files=[big])
    assert snap.files["big.json"].parse_error is None
    assert store.read_bytes(snap) == content
    assert store.read_tree(snap)["items"][1999] == {"n": 1999}
    unchecked = store.capture(files=[big], check=False, tags=["x"])
    assert unchecked.id == snap.id


def test_unparseable_file_is_stored_with_its_parse_error(store: SnapshotStore) -> None:
    bad = b'{"a": 1,,}'
    snap = store.capture(
        files=[("bad.json", bad), ("blob.bin", b"\x00\xff"), ("ok.yaml", b"a: 1\n")]
    )
    assert (
        snap.files["bad.json"].parse_error is not None
        and "bad.json" in snap.files["bad.json"].parse_error
    )
    assert snap.files["blob.bin"].format is None and snap.files["blob.bin"].parse_error is None
    assert snap.files["ok.yaml"].parse_error is None
    assert store.read_bytes(snap, "bad.json") == bad
    with pytest.raises(FormatError, match=r"bad\.json"):
        store.read_tree(snap, "bad.json")
    with pytest.raises(FormatError, match="format unknown"):
        store.read_tree(snap, "blob.bin")


def test_parse_error_recorded_lazily_when_not_checked(store: SnapshotStore) -> None:
    snap = store.capture(files=[("bad.yaml", b"a: [1\n")], check=False)
    assert snap.files["bad.yaml"].parse_error is None
    with pytest.raises(FormatError):
        store.read_tree(snap, "bad.yaml")
    recorded = store.get(snap.id).files["bad.yaml"].parse_error
    assert recorded is not None and "bad.yaml" in recorded
    with pytest.raises(FormatError):
        store.read_tree(snap.id, "bad.yaml")  # already recorded: no second update needed


def test_codec_crash_becomes_format_error(
    store: SnapshotStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*args: Any, **kwargs: Any) -> Any:
        raise RecursionError("too deep")

    monkeypatch.setattr(formats, "loads", boom)
    snap = store.capture(files=[("deep.json", b"[[[[]]]]")])
    assert "RecursionError" in (snap.files["deep.json"].parse_error or "")


def test_format_override(store: SnapshotStore) -> None:
    snap = store.capture(
        files=[("settings.conf.txt", b"a: 1\n")], formats={"settings.conf.txt": "yaml"}
    )
    assert snap.files["settings.conf.txt"].format == "yaml"
    assert store.read_tree(snap) == {"a": 1}


def test_save_config_for_generated_trees(store: SnapshotStore) -> None:
    tree = {"db": {"port": 5432, "hosts": ["a", "b"]}, "debug": True}
    snap = store.save_config(
        tree, "gen.yaml", "yaml", meta={"seed": 3, "space_hash": "abc"}, tags=["gen"]
    )
    assert store.read_tree(snap, "gen.yaml") == tree
    assert store.read_bytes(snap).decode() == formats.dumps(tree, "yaml")
    assert snap.meta == {"seed": 3, "space_hash": "abc"} and snap.tags == ("gen",)
    assert (
        store.save_config(tree, "gen.yaml", "yaml", meta={"seed": 3, "space_hash": "abc"}).id
        == snap.id
    )
    as_json = store.save_config(tree, "gen.json")
    assert as_json.files["gen.json"].format == "json"
    assert store.diff(snap, as_json).is_empty
    with pytest.raises(SnapshotError, match="pass fmt"):
        store.save_config(tree, "gen.unknown")
    with pytest.raises(FormatError):
        store.save_config({"a": None}, "gen.toml")
    with pytest.raises(FormatError, match="UTF-8"):
        store.save_config({"a": "\ud800"}, "gen.json")


def test_config_id_and_find_config_name_the_snapshot_save_config_writes(
    store: SnapshotStore,
) -> None:
    tree = {"db": {"port": 5432}, "debug": False}
    meta = {"test_id": "t::a", "labels": {"team": "qa"}}
    expected = store.config_id(tree, "config.json", meta=meta)
    assert store.find_config(tree, "config.json", meta=meta) is None
    saved = store.save_config(tree, "config.json", meta=meta, tags=["x"])
    assert saved.id == expected
    assert store.find_config(tree, "config.json", meta=meta) == saved.id
    # any part of the identity changes the id: content, name, format, meta
    assert store.find_config({**tree, "debug": True}, "config.json", meta=meta) is None
    assert store.find_config(tree, "other.json", meta=meta) is None
    assert store.find_config(tree, "config.json", "yaml", meta=meta) is None
    assert store.find_config(tree, "config.json", meta={}) is None
    with pytest.raises(SnapshotError, match="pass fmt"):
        store.config_id(tree, "config.unknown")


# -- environment ------------------------------------------------------------------------------


def test_env_allow_list_globs_and_secret_redaction() -> None:
    environ = {
        "APP_PORT": "80",
        "APP_TOKEN": "t",
        "db_password": "p",
        "API_KEY": "k",
        "MY_SECRET_X": "s",
        "AWS_CREDENTIALS": "c",
        "OLD_PASSWD": "o",
        "HOME": "/root",
        "OTHER": "x",
    }
    got = capture_env(
        ["APP_*", "db_password", "API_KEY", "*SECRET*", "AWS_*", "OLD_PASSWD", "HOME", "MISSING"],
        environ=environ,
    )
    assert got == {
        "API_KEY": REDACTED,
        "APP_PORT": "80",
        "APP_TOKEN": REDACTED,
        "AWS_CREDENTIALS": REDACTED,
        "HOME": "/root",
        "MY_SECRET_X": REDACTED,
        "OLD_PASSWD": REDACTED,
        "db_password": REDACTED,
    }
    allowed = capture_env(
        ["APP_*", "API_KEY"], allow_secrets=["APP_TOKEN", "API_*"], environ=environ
    )
    assert allowed == {"API_KEY": "k", "APP_PORT": "80", "APP_TOKEN": "t"}
    assert capture_env(["app_*"], environ=environ) == {}  # names are case-sensitive
    assert list(capture_env(["*"], environ=environ)) == sorted(environ)


def test_capture_reads_os_environ_and_redacts(
    store: SnapshotStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLAB_TEST_SECRET", "s3cr3t")
    monkeypatch.setenv("CLAB_TEST_VALUE", "v")
    snap = store.capture(env="CLAB_TEST_*")
    assert snap.env == {"CLAB_TEST_SECRET": REDACTED, "CLAB_TEST_VALUE": "v"}
    assert "s3cr3t" not in (store.root / "index.sqlite").read_bytes().decode("latin-1")
    shown = store.capture(env=["CLAB_TEST_*"], allow_secrets="CLAB_TEST_SECRET")
    assert shown.env["CLAB_TEST_SECRET"] == "s3cr3t"
    assert shown.files == {}


# -- lookup, tags, queries --------------------------------------------------------------------


def test_get_by_id_prefix_and_tag(store: SnapshotStore) -> None:
    snaps = [store.capture(files=[("a.json", f'{{"i": {i}}}'.encode())]) for i in range(40)]
    target = snaps[5]
    assert store.get(target.id) == target
    assert store.get(target.id.upper()).id == target.id
    assert store.get(target.id[:6]).id == target.id or len({s.id[:6] for s in snaps}) < 40
    assert store.get(target.id[:20]).id == target.id
    assert store.get(target).id == target.id
    # ambiguity: find two ids sharing a 6-digit prefix is unlikely; simulate with a shorter one
    prefixes: dict[str, list[str]] = {}
    for s in snaps:
        prefixes.setdefault(s.id[:1], []).append(s.id)
    with pytest.raises(SnapshotNotFoundError, match="at least 6"):
        store.get(target.id[:5])
    with pytest.raises(SnapshotNotFoundError):
        store.get("0" * 64)
    with pytest.raises(SnapshotNotFoundError):
        store.get("no-such-tag")
    with pytest.raises(SnapshotNotFoundError):
        store.get("ffffff" if not any(s.id.startswith("ffffff") for s in snaps) else "eeeeee")
    with pytest.raises(SnapshotError, match="needed"):
        store.get("")
    with pytest.raises(SnapshotError, match="needed"):
        store.get(42)  # type: ignore[arg-type]


def test_ambiguous_prefix(store: SnapshotStore) -> None:
    conn = store._conn()
    for sid in ("abcdef" + "0" * 58, "abcdef" + "1" * 58):
        conn.execute(
            "INSERT INTO snapshots (id, created, manifest) VALUES (?, ?, ?)", (sid, "2020", "{}")
        )
    with pytest.raises(SnapshotError, match="ambiguous"):
        store.get("abcdef")


def test_tags_move_untag_and_tag_resolution(store: SnapshotStore) -> None:
    a = store.capture(files=[("a.json", b"1")], tags=["release"])
    b = store.capture(files=[("a.json", b"2")])
    assert store.get("release").id == a.id
    tagged = store.tag(b.id[:8], "release")
    assert tagged.tags == ("release",)
    assert store.get("release").id == b.id  # most recently tagged wins
    assert [s.id for s in store.find(tag="release")] == [a.id, b.id]
    assert store.untag(b, "release").tags == ()
    assert store.get("release").id == a.id
    with pytest.raises(SnapshotError, match="has no tag"):
        store.untag(b, "release")
    with pytest.raises(SnapshotError, match="invalid tag"):
        store.tag(a, "has space")
    with pytest.raises(SnapshotError, match="invalid tag"):
        store.capture(files=[("a.json", b"1")], tags=[""])
    # a tag that looks like a prefix resolves as a tag first
    store.tag(a, b.id[:8])
    assert store.get(b.id[:8]).id == a.id


def test_find_by_meta_time_and_tag(store: SnapshotStore) -> None:
    first = store.capture(
        files=[("a.json", b"1")],
        meta={"test_id": "t1", "run_id": "r1", "labels": {"team": "core", "x.y": 1}},
    )
    second = store.capture(
        files=[("a.json", b"2")], meta={"test_id": "t2", "run_id": "r1", "seed": 5}, tags=["ci"]
    )
    third = store.capture(files=[("a.json", b"3")], meta={"test_id": "t1", "run_id": "r2"})
    ids = lambda found: [s.id for s in found]  # noqa: E731
    assert ids(store.find(meta={"run_id": "r1"})) == [first.id, second.id]
    assert ids(store.find(meta={"test_id": "t1"})) == [first.id, third.id]
    assert ids(store.find(meta={"test_id": "t1", "run_id": "r2"})) == [third.id]
    assert ids(store.find(meta={"labels.team": "core"})) == [first.id]
    assert ids(store.find(meta={"labels.`x.y`": 1})) == [first.id]
    assert ids(store.find(meta={"labels": {"x.y": 1, "team": "core"}})) == [first.id]
    assert ids(store.find(meta={"seed": 5})) == [second.id]
    assert ids(store.find(meta={"seed": "5"})) == []
    assert ids(store.find(tag="ci", meta={"run_id": "r1"})) == [second.id]
    assert ids(store.find(tag="nope")) == []
    assert ids(store.list()) == [first.id, second.id, third.id]
    assert ids(store.list(tag="ci")) == [second.id]
    assert ids(store.find(since=second.created)) == [second.id, third.id]
    assert ids(store.find(until=second.created)) == [first.id]
    assert ids(store.find(since=datetime.fromisoformat(first.created), until=third.created)) == [
        first.id,
        second.id,
    ]
    naive = datetime.fromisoformat(third.created).replace(tzinfo=None)
    assert ids(store.find(since=naive)) == [third.id]
    assert ids(store.find(since="2000-01-01T00:00:00Z", until="2000-01-02")) == []
    with pytest.raises(SnapshotError, match="ISO 8601"):
        store.find(since="yesterday")
    with pytest.raises(SnapshotError, match="expected a datetime"):
        store.find(until=5)  # type: ignore[arg-type]
    with pytest.raises(SnapshotError, match="mapping"):
        store.find(meta=[("a", 1)])  # type: ignore[arg-type]
    with pytest.raises(SnapshotError, match="not JSON"):
        store.find(meta={"a": object()})
    with pytest.raises(SnapshotError, match="not JSON"):
        store.find(meta={"a": float("nan")})


# -- diff -------------------------------------------------------------------------------------


def test_diff_across_formats_and_files(store: SnapshotStore) -> None:
    yaml_snap = store.capture(files=[("app.yaml", b"db:\n  port: 5432\n  host: x\n")])
    json_snap = store.capture(files=[("app.json", b'{"db": {"host": "x", "port": 5432}}')])
    assert store.diff(yaml_snap, json_snap).is_empty
    changed = store.capture(
        files=[("app.json", b'{"db": {"host": "x", "port": "5432"}, "new": [1]}')]
    )
    result = store.diff(json_snap.id, changed.id)
    assert [(e.kind, e.path) for e in result] == [("changed", "db.port"), ("added", "new")]
    multi_a = store.capture(
        files=[
            ("a.yaml", b"x: 1\n"),
            ("same.json", b"{}"),
            ("gone.json", b'{"g": 1}'),
            ("bad.json", b"{"),
        ]
    )
    multi_b = store.capture(
        files=[
            ("a.yaml", b"x: 2\n"),
            ("same.json", b"{}"),
            ("new.ini", b"[s]\nk = v\n"),
            ("bad.json", b"{{"),
        ]
    )
    result = store.diff(multi_a, multi_b)
    assert [(e.kind, e.path) for e in result] == [
        ("changed", "`a.yaml`.x"),
        ("changed", "`bad.json`"),
        ("removed", "`gone.json`"),
        ("added", "`new.ini`"),
    ]
    assert result.entries[1].old == "{" and result.entries[1].new == "{{"
    assert [(e.kind, e.path) for e in store.diff(multi_a, multi_b, name="a.yaml")] == [
        ("changed", "x")
    ]
    with pytest.raises(SnapshotError, match=r"no file 'gone\.json'"):
        store.diff(multi_a, multi_b, name="gone.json")


# -- restore ----------------------------------------------------------------------------------


def test_restore_nested_names_and_overwrite(store: SnapshotStore, tmp_path: Path) -> None:
    snap = store.capture(files=[("conf/deep/app.yaml", b"a: 1\n"), ("top.json", b"{}")])
    target = tmp_path / "t"
    (target / "conf" / "deep").mkdir(parents=True)
    (target / "conf" / "deep" / "app.yaml").write_bytes(b"old")
    written = store.restore(snap, target)
    assert [p.relative_to(target.resolve()).as_posix() for p in written] == [
        "conf/deep/app.yaml",
        "top.json",
    ]
    assert (target / "conf" / "deep" / "app.yaml").read_bytes() == b"a: 1\n"
    assert not [p for p in target.rglob(".configlab-*")]


def test_restore_refuses_to_escape_target(store: SnapshotStore, tmp_path: Path) -> None:
    snap = store.capture(files=[("sub/app.yaml", b"a: 1\n"), ("z.json", b"{}")])
    target = tmp_path / "t"
    target.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (target / "sub").symlink_to(elsewhere)
    with pytest.raises(SnapshotError, match="outside"):
        store.restore(snap, target)
    assert list(elsewhere.iterdir()) == [] and not (target / "z.json").exists()


def test_restore_write_errors(store: SnapshotStore, tmp_path: Path) -> None:
    snap = store.capture(files=[("a/b.json", b"{}")])
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(SnapshotError, match="cannot create restore directory"):
        store.restore(snap, blocker / "t")
    target = tmp_path / "t"
    target.mkdir()
    (target / "a").write_text("a file where a directory is needed")
    with pytest.raises(SnapshotError, match="cannot write"):
        store.restore(snap, target)
    (target / "a").unlink()
    (target / "a" / "b.json").mkdir(parents=True)
    with pytest.raises(SnapshotError, match="cannot write"):
        store.restore(snap, target)
    assert not [p for p in (target / "a").iterdir() if p.name.startswith(".configlab-")]


def test_restore_of_corrupted_object_writes_nothing(store: SnapshotStore, tmp_path: Path) -> None:
    snap = store.capture(files=[("a.json", b'{"a": 1}')])
    replace_stored(store, snap.files["a.json"].hash, b"junk")
    with pytest.raises(SnapshotCorruptedError):
        store.restore(snap, tmp_path / "t")
    assert list((tmp_path / "t").iterdir()) == []


# -- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ("a.json", "must be a list"),
        ([("/etc/passwd", b"x")], "relative path"),
        ([("../up.json", b"x")], "relative path"),
        ([("C:/x.json", b"x")], "relative path"),
        ([("a\\b.json", b"x")], "backslash"),
        ([("", b"x")], "non-empty"),
        ([(".", b"x")], "names no file"),
        ([("a", b"x", "extra")], "expected \\(name, content\\)"),
        ([("a.json", 5)], "content must be"),
        ([5], "expected a path"),
        ([("a.json", b"1"), ("./a.json", b"2")], "two files"),
    ],
)
def test_bad_file_arguments(store: SnapshotStore, files: Any, message: str) -> None:
    with pytest.raises(SnapshotError, match=message):
        store.capture(files=files)


def test_bad_meta_env_and_missing_files(store: SnapshotStore, tmp_path: Path) -> None:
    with pytest.raises(SnapshotError, match="mapping"):
        store.capture(meta=[1])  # type: ignore[arg-type]
    with pytest.raises(SnapshotError, match="JSON-serialisable"):
        store.capture(meta={"a": float("nan")})
    with pytest.raises(SnapshotError, match="JSON-serialisable"):
        store.capture(meta={"a": object()})
    with pytest.raises(SnapshotError, match="keys must be strings"):
        store.capture(meta={1: "a"})  # type: ignore[dict-item]
    with pytest.raises(SnapshotError, match="expected strings"):
        store.capture(env=[1])  # type: ignore[list-item]
    with pytest.raises(SnapshotError, match="list of strings"):
        store.capture(env=5)  # type: ignore[arg-type]
    with pytest.raises(SnapshotError, match="no such config file"):
        store.capture(files=[tmp_path / "missing.yaml"])
    with pytest.raises(SnapshotError, match="is a directory"):
        store.capture(files=[("named.yaml", tmp_path)])
    assert store.list() == []


def test_read_errors(store: SnapshotStore) -> None:
    two = store.capture(files=[("a.json", b"{}"), ("b.json", b"{}")])
    with pytest.raises(SnapshotError, match="has 2 files"):
        store.read_bytes(two)
    with pytest.raises(SnapshotError, match=r"no file 'c\.json'"):
        store.read_tree(two, "c.json")
    assert all(
        isinstance(e, type) and issubclass(e, ConfiglabError) for e in (SnapshotError, FormatError)
    )


def test_canonical_json_and_snapshot_is_frozen() -> None:
    assert canonical_json({"b": 1, "a": [1.5, "é"]}) == '{"a":[1.5,"é"],"b":1}'
    # one canonical text everywhere (configlab._internal.canonical): non-finite floats are
    # Python's tokens; snapshot meta and bundle manifests refuse them when read back
    assert canonical_json({"a": float("inf")}) == '{"a":Infinity}'
    with pytest.raises(ValueError, match="not a standard JSON number"):
        loads_standard('{"a":NaN}')
    snap = Snapshot("0" * 64, {}, {}, {}, (), "now")
    with pytest.raises(AttributeError):
        snap.id = "x"  # type: ignore[misc]


# -- the shared index -------------------------------------------------------------------------


def test_open_index_is_shared_with_other_modules(store: SnapshotStore) -> None:
    snap = store.capture(files=[("a.json", b"{}")])
    conn = open_index(store.root)
    conn.execute("CREATE TABLE IF NOT EXISTS results (snapshot_id TEXT, outcome TEXT)")
    conn.execute("INSERT INTO results VALUES (?, 'passed')", (snap.id,))
    conn.close()
    assert store.get(snap.id).id == snap.id
    tables = {
        r[0]
        for r in open_index(store.root).execute("SELECT name FROM sqlite_master WHERE type='table'")
    }
    assert {"snapshots", "snapshot_files", "snapshot_tags", "snapshot_meta", "results"} <= tables


def test_index_errors_become_snapshot_errors(tmp_path: Path) -> None:
    root = tmp_path / "s"
    store = SnapshotStore(root)
    store.capture(files=[("a.json", b"{}")])
    store._conn().execute("DROP TABLE snapshot_tags")
    with pytest.raises(SnapshotError, match="snapshot index"):
        store.get("sometag")
    with pytest.raises(sqlite3.OperationalError):
        store._conn().execute("SELECT * FROM snapshot_tags")
    failing = SnapshotStore(tmp_path / "t")
    failing.capture(files=[("a.json", b"{}")])
    failing._conn().execute("DROP TABLE snapshot_meta")
    with pytest.raises(SnapshotError):
        failing.capture(files=[("a.json", b"[]")], meta={"a": 1})
    assert len(failing.list()) == 1  # the failed capture's transaction was rolled back


def test_threads_fork_and_close(store: SnapshotStore) -> None:
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            snap = store.capture(files=[("t.json", f'{{"t": {i}}}'.encode())])
            assert store.read_tree(snap) == {"t": i}
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(store.list()) == 8
    store._connections._local.pid = -1  # as if this process were a fork of another one
    assert len(store.list()) == 8
    with store as same:
        assert same is store
    store.close()
    assert repr(store).startswith("SnapshotStore(")
    assert len(store.list()) == 8
    assert os.path.exists(store.root / "index.sqlite")


def test_captured_snapshot_equals_the_one_read_back(store: SnapshotStore) -> None:
    snap = store.capture(
        files=[("z.json", b'{"a": 1}'), ("a/b.yaml", b"x: [1\n"), ("big.txt", b"x" * 70_000)],
        env=["APP_*"],
        environ={"APP_Z": "1", "APP_A": "2", "APP_TOKEN": "s"},
        meta={"z": {"b": 1, "a": [1.5, None]}, "a": "x"},
        tags=["t2", "t1", "t2"],
    )
    again = store.get(snap.id)
    for field_name in ("id", "created", "tags"):
        assert getattr(snap, field_name) == getattr(again, field_name)
    for field_name in ("files", "env", "meta"):
        mine, theirs = getattr(snap, field_name), getattr(again, field_name)
        assert list(mine.items()) == list(theirs.items())
        assert json.dumps(dict(mine), default=repr) == json.dumps(dict(theirs), default=repr)
    assert snap.files["a/b.yaml"].parse_error is not None and snap.tags == ("t1", "t2")
