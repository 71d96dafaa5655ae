"""Bulk snapshot operations: export/restore/verify/tag act on every snapshot a query selects
(a tag, a test, a run, an outcome, a --where expression; --latest for one) — issue 16 item 7."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from configlab.cli import cli
from configlab.errors import SnapshotError, SnapshotNotFoundError
from configlab.snapshots import SnapshotQuery, SnapshotStore, select_snapshots

SPACE = "name: s\nparameters:\n  a: {type: int, min: 1, max: 9}\n  b: [x, y, z]\n  c: bool\n"
APP = "import json, sys\nsys.exit(0 if json.load(open(sys.argv[1]))['c'] else 5)\n"


def _invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """A store with the snapshots and results of one exec run (run id r1), some failing."""
    (tmp_path / "space.yaml").write_text(SPACE)
    (tmp_path / "app.py").write_text(APP)
    code, _, err = _invoke("exec", "--space", str(tmp_path / "space.yaml"), "--format", "json",
                           "--store", str(tmp_path / "store"), "--run-id", "r1", "-q", "--",
                           sys.executable, str(tmp_path / "app.py"), "{config}")
    assert code == 1, err
    return tmp_path / "store"


def _failing(store: Path) -> list[str]:
    from configlab.results import ResultSet

    return sorted({r.snapshot_id or "" for r in ResultSet.from_store(store)
                   if r.outcome == "fail"})


def test_tag_every_failing_snapshot_then_export_them_all(store: Path, tmp_path: Path) -> None:
    failing = _failing(store)
    assert len(failing) > 1
    code, out, err = _invoke("snapshot", "tag", "--run", "r1", "--outcome", "fail",
                             "redis-failing", "--store", str(store))
    assert code == 0, err
    assert len(out.splitlines()) == len(failing)
    # a tag names every snapshot that has it: all are exported, not the newest only
    code, out, _ = _invoke("snapshot", "export", "redis-failing", "-o",
                           str(tmp_path / "all.bundle"), "--store", str(store))
    assert code == 0 and f"({len(failing)} snapshots)" in out
    code, out, _ = _invoke("snapshot", "import", str(tmp_path / "all.bundle"), "--store",
                           str(tmp_path / "other"))
    assert sorted(out.split()) == failing
    code, out, _ = _invoke("snapshot", "export", "redis-failing", "--latest", "-o",
                           str(tmp_path / "one.bundle"), "--store", str(store))
    assert code == 0 and "(1 snapshot)" in out
    code, out, _ = _invoke("snapshot", "tag", "redis-failing", "redis-failing", "--remove",
                           "--store", str(store))
    assert code == 0
    assert SnapshotStore(store).find(tag="redis-failing") == []


def test_restore_many_into_subdirectories_and_one_into_the_directory(
    store: Path, tmp_path: Path
) -> None:
    failing = _failing(store)
    code, _, _ = _invoke("snapshot", "restore", "--outcome", "fail", str(tmp_path / "many"),
                           "--store", str(store))
    assert code == 0
    assert sorted(p.name for p in (tmp_path / "many").iterdir()) == [f[:12] for f in failing]
    code, _, _ = _invoke("snapshot", "restore", "--outcome", "fail", "--latest",
                           str(tmp_path / "one"), "--store", str(store))
    assert code == 0 and len(list((tmp_path / "one").glob("*.json"))) == 1


def test_verify_selected_snapshots_reports_damage(store: Path) -> None:
    code, out, _ = _invoke("snapshot", "verify", "--test", "exec[*", "--store", str(store))
    assert code == 0 and out.rstrip().endswith(": ok")
    snaps = SnapshotStore(store)
    victim = snaps.get(_failing(store)[0])
    digest = next(iter(victim.files.values())).hash
    conn = snaps._conn()
    conn.execute("UPDATE object_blobs SET data = ? WHERE hash = ?", (b"garbage", digest))
    code, out, _ = _invoke("snapshot", "verify", victim.id[:12], "--json", "--store", str(store))
    assert code == 1 and '"damaged": 1' in out
    code, out, _ = _invoke("snapshot", "verify", "--outcome", "fail", "--store", str(store))
    assert code == 1 and "1 damaged" in out


def test_where_tag_and_reference_criteria_combine(store: Path) -> None:
    snaps = SnapshotStore(store)
    off = select_snapshots(snaps, SnapshotQuery(where="c == false"))
    assert sorted(s.id for s in off) == _failing(store)
    for s in off[:2]:
        snaps.tag(s.id, "pair")
    both = select_snapshots(snaps, SnapshotQuery(refs=(off[0].id[:12], off[2].id), tag="pair"))
    assert [s.id for s in both] == [off[0].id]
    everything = select_snapshots(snaps, SnapshotQuery())
    assert len(everything) > len(off)
    assert select_snapshots(snaps, SnapshotQuery(latest=True)) == everything[-1:]
    assert SnapshotQuery().empty and not SnapshotQuery(run="x").empty
    assert SnapshotQuery().describe() == "every snapshot"
    with pytest.raises(SnapshotNotFoundError, match="no snapshot matches tag 'pair', run 'nope'"):
        select_snapshots(snaps, SnapshotQuery(tag="pair", run="nope"))
    with pytest.raises(SnapshotError, match="--outcome must be one of"):
        select_snapshots(snaps, SnapshotQuery(outcome="broken"))
    with pytest.raises(SnapshotError, match="--where"):
        select_snapshots(snaps, SnapshotQuery(where="c == == 1"))


def test_multi_file_snapshots_are_seen_by_file_name(tmp_path: Path) -> None:
    (tmp_path / "app.json").write_text('{"port": 80}')
    (tmp_path / "db.json").write_text('{"pool": 4}')
    snaps = SnapshotStore(tmp_path / "store")
    snap = snaps.capture(files=[tmp_path / "app.json", tmp_path / "db.json"])
    found = select_snapshots(snaps, SnapshotQuery(where="`app.json`.port == 80"))
    assert [s.id for s in found] == [snap.id]


def test_bulk_commands_need_a_selection(store: Path, tmp_path: Path) -> None:
    code, _, err = _invoke("snapshot", "export", "-o", str(tmp_path / "x.bundle"), "--store",
                           str(store))
    assert code == 2 and "configlab: error: name snapshots" in err
    code, _, err = _invoke("snapshot", "export", "no-such-tag", "-o", str(tmp_path / "x.bundle"),
                           "--store", str(store))
    assert code == 2 and "no-such-tag" in err
