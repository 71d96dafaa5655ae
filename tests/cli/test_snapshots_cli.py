"""Tests for ``configlab snapshot`` commands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from configlab.cli.snapshot_cmd import snapshot
from configlab.errors import SnapshotError, SnapshotNotFoundError
from configlab.snapshots import SnapshotStore
from tests.snapshots.test_snapshots_integrity import replace_stored


def run(*args: str, ok: bool = True) -> str:
    result = CliRunner().invoke(snapshot, list(args), catch_exceptions=True)
    if ok:
        assert result.exit_code == 0, (result.output, result.exception)
    return result.output if ok else repr(result)


def test_cli_round_trip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("APP_TOKEN", "secret-value")
    Path("app.yaml").write_bytes(b"db:\n  port: 1\n")
    Path("bad.json").write_bytes(b"{")
    store = ["--store", "st"]
    first = run(
        "capture", "app.yaml", "--env", "APP_*", "--tag", "base", "--meta", "test_id=t1", *store
    ).strip()
    assert len(first) == 64
    Path("app.yaml").write_bytes(b"db:\n  port: '1'\n")
    result = CliRunner().invoke(snapshot, ["capture", "app.yaml", "bad.json", "--json", *store])
    assert result.exit_code == 0
    second = json.loads(result.output[result.output.index("{") :])
    assert second["files"]["bad.json"]["parse_error"]
    warned = CliRunner().invoke(snapshot, ["capture", "bad.json", *store])
    assert "does not parse" in warned.output
    run("capture", "bad.json", "--no-check", *store)

    listing = run("list", *store).splitlines()
    assert len(listing) == 3 and listing[0].startswith(first[:12]) and "[base]" in listing[0]
    assert [s["id"] for s in json.loads(run("list", "--tag", "base", "--json", *store))] == [first]

    shown = run("show", "base", *store)
    assert first in shown and "APP_TOKEN=***REDACTED***" in shown and 'test_id: "t1"' in shown
    assert json.loads(run("show", first[:8], "--json", *store))["env"] == {
        "APP_TOKEN": "***REDACTED***"
    }
    assert "parse error" in run("show", second["id"], *store)

    text = run("diff", first, second["id"], "--name", "app.yaml", *store)
    assert text.strip() == '~ db.port: 1 -> "1"'
    assert json.loads(
        run("diff", first, second["id"], "--name", "app.yaml", "--patch", *store)
    ) == [{"op": "replace", "path": "/db/port", "value": "1"}]
    assert (
        json.loads(run("diff", first, second["id"], "--name", "app.yaml", "--json", *store))[0][
            "kind"
        ]
        == "changed"
    )

    out = run("restore", first, "restored", *store)
    assert Path("restored/app.yaml").read_bytes() == b"db:\n  port: 1\n" and "app.yaml" in out
    assert "v2" in run("tag", second["id"], "v2", *store)
    assert "v2" not in run("tag", second["id"], "v2", "--remove", *store)

    run("export", first, second["id"], "-o", "bundle.tar.zst", *store)
    imported = run("import", "bundle.tar.zst", "--store", "other").split()
    assert sorted(imported) == sorted([first, second["id"]])
    assert run("verify", "--store", "other").strip().endswith("ok")
    assert json.loads(run("verify", "--json", "--store", "other"))["ok"] is True


def test_cli_verify_exits_1_on_corruption(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path / "st")
    snap = store.capture(files=[("a.json", b"{}")])
    replace_stored(store, snap.files["a.json"].hash, b"junk")
    result = CliRunner().invoke(snapshot, ["verify", "--store", str(tmp_path / "st")])
    assert result.exit_code == 1
    assert "corrupted" in result.output and snap.id[:12] in result.output


def test_cli_errors_are_configlab_errors(tmp_path: Path) -> None:
    store = ["--store", str(tmp_path / "st")]
    result = CliRunner().invoke(snapshot, ["show", "nothing", *store])
    assert isinstance(result.exception, SnapshotNotFoundError)
    result = CliRunner().invoke(snapshot, ["capture", "--meta", "novalue", *store])
    assert isinstance(result.exception, SnapshotError) and "KEY=VALUE" in str(result.exception)


def test_cli_group_maps_errors_to_exit_2(tmp_path: Path) -> None:
    try:
        from configlab.cli import cli
    except ImportError:  # pragma: no cover - another area's subcommand module is not there yet
        pytest.skip("configlab.cli cannot be imported yet")
    result = CliRunner().invoke(
        cli, ["snapshot", "show", "nothing", "--store", str(tmp_path / "st")]
    )
    assert result.exit_code == 2
    assert "configlab: error:" in result.output


def test_cli_list_skips_a_damaged_snapshot_with_a_warning(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path / "st")
    first = store.capture(files=[("a.json", b"{}")])
    second = store.capture(files=[("b.json", b"{}")])
    store._conn().execute("UPDATE snapshots SET manifest = '{bad' WHERE id = ?", (first.id,))
    store.close()
    args = ["--store", str(tmp_path / "st")]
    result = CliRunner().invoke(snapshot, ["list", *args])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().startswith(second.short_id)
    assert first.short_id not in result.stdout
    assert f"skipped damaged snapshot {first.short_id}" in result.stderr
    result = CliRunner().invoke(snapshot, ["list", "--json", *args])
    assert [s["id"] for s in json.loads(result.stdout)] == [second.id]
    assert first.short_id in result.stderr


def test_capture_each_file_as_its_own_snapshot(tmp_path: Path) -> None:
    from configlab.cli import cli

    files = []
    for n in range(3):
        path = tmp_path / f"config-{n}.json"
        path.write_text(f'{{"n": {n}}}')
        files.append(str(path))
    store = str(tmp_path / "store")
    result = CliRunner().invoke(cli, ["snapshot", "capture", "--each", *files, "--store", store,
                                      "--tag", "suite"])
    assert result.exit_code == 0, result.output
    lines = [line.split(" ", 1) for line in result.stdout.splitlines()]
    assert [path for _, path in lines] == files and len({sid for sid, _ in lines}) == 3
    listed = CliRunner().invoke(cli, ["snapshot", "list", "--tag", "suite", "--json", "--store",
                                      store])
    assert sorted(s["id"] for s in json.loads(listed.stdout)) == sorted(sid for sid, _ in lines)
    as_json = CliRunner().invoke(cli, ["snapshot", "capture", "--each", *files[:2], "--json",
                                       "--store", store])
    assert [s["id"] for s in json.loads(as_json.stdout)] == [sid for sid, _ in lines[:2]]
    empty = CliRunner().invoke(cli, ["snapshot", "capture", "--each", "--store", store])
    assert empty.exit_code == 2 and "--each needs at least one FILE" in empty.output
