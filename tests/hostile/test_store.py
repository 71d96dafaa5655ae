"""Issue 18 items 3, 6 and 9: the snapshot store against special files, hostile bundles, a
deleted index, leftover temporary files and a read-only store."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import zstandard

from configlab._internal.objectstore import open_index
from configlab.errors import SnapshotError
from configlab.snapshots import REDACTED, SnapshotStore, capture_env
from configlab.snapshots._tidy import TEMP_PREFIX, remove_temp_files, temp_files
from tests.hostile.conftest import assert_one_line_error, run_cli


@pytest.fixture
def store(tmp_path: Path) -> SnapshotStore:
    return SnapshotStore(tmp_path / "store", inline_max=0)  # objects as files


def _object_path(store: SnapshotStore) -> Path:
    return next(p for p in (store.root / "objects").rglob("*") if p.is_file())


def test_fifo_config_and_bundle_are_refused_quickly(tmp_path: Path) -> None:
    fifo = tmp_path / "app.yaml"
    os.mkfifo(fifo)
    store = str(tmp_path / "store")
    assert_one_line_error(run_cli("snapshot", "capture", str(fifo), "--store", store, timeout=20),
                          str(fifo), "FIFO")
    assert_one_line_error(run_cli("snapshot", "import", str(fifo), "--store", store, timeout=20),
                          str(fifo), "FIFO")


@pytest.mark.parametrize("kind", ["fifo", "directory"])
def test_verify_reports_an_object_that_is_not_a_file(store: SnapshotStore, tmp_path: Path,
                                                     kind: str) -> None:
    config = tmp_path / "a.yaml"
    config.write_text("a: 1\n")
    store.capture([config])
    path = _object_path(store)
    path.chmod(0o644)
    path.unlink()
    if kind == "fifo":
        os.mkfifo(path)
    else:
        path.mkdir()
    result = run_cli("snapshot", "verify", "--store", str(store.root), timeout=20)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert "corrupted" in result.stdout and "not a file" in result.stdout


def test_a_deleted_index_is_not_ok(store: SnapshotStore, tmp_path: Path) -> None:
    config = tmp_path / "a.yaml"
    config.write_text("a: 1\n")
    store.capture([config])
    store.close()
    (store.root / "index.sqlite").unlink()
    report = SnapshotStore(store.root).verify()
    assert not report.ok
    assert "index.sqlite is missing" in report.to_text()
    assert len(report.unindexed) == 1 and "no snapshot refers to" in report.to_text()
    assert report.to_dict()["unindexed_objects"] == list(report.unindexed)


def test_temp_files_are_reported_and_collected(store: SnapshotStore, tmp_path: Path) -> None:
    config = tmp_path / "a.yaml"
    config.write_text("a: 1\n")
    store.capture([config])
    leftover = _object_path(store).parent / f"{TEMP_PREFIX}killed"
    leftover.write_bytes(b"x" * 1000)
    (store.root / "objects" / "stray-file").write_text("not a directory")
    report = store.verify()
    assert report.ok and report.temp_files == ((str(leftover), 1000),)
    assert "1 temporary file(s) of interrupted saves, 1000 bytes" in report.to_text()
    assert report.to_dict()["temp_files"] == [{"path": str(leftover), "size": 1000}]
    young = remove_temp_files(store.root, dry_run=False)  # within the grace period: kept
    assert young.removed == () and leftover.exists()
    assert "kept 1 younger than the grace period" in young.to_text()
    dry = run_cli("snapshot", "gc", "--grace", "0", "--store", str(store.root))
    assert "would remove 1 temporary file(s) (1000 bytes)" in dry.stdout
    assert "pass --delete" in dry.stdout and leftover.exists()
    assert "pass --delete" in remove_temp_files(store.root, grace=0).to_text()
    gone = remove_temp_files(store.root, dry_run=False, grace=0)
    assert gone.to_text().startswith("removed 1 temporary file(s)") and not leftover.exists()
    leftover.write_bytes(b"x" * 1000)
    done = run_cli("snapshot", "gc", "--grace", "0", "--delete", "--json",
                   "--store", str(store.root))
    assert json.loads(done.stdout)["removed"][0]["size"] == 1000 and not leftover.exists()
    assert temp_files(store.root) == () and temp_files(tmp_path / "nowhere") == ()
    with pytest.raises(SnapshotError, match="grace must be >= 0"):
        remove_temp_files(store.root, grace=-1)


@pytest.fixture
def immutable(tmp_path: Path) -> Iterator[list[Path]]:
    """Paths made immutable with chattr +i (even root cannot write them), undone afterwards."""
    if shutil.which("chattr") is None:  # pragma: no cover - e2fsprogs is on Debian machines
        pytest.skip("chattr is not installed")
    paths: list[Path] = []
    yield paths
    for path in reversed(paths):
        subprocess.run(["chattr", "-i", str(path)], check=False)


def _freeze(paths: list[Path], *more: Path) -> None:
    for path in more:
        done = subprocess.run(["chattr", "+i", str(path)], capture_output=True, check=False)
        if done.returncode != 0:  # pragma: no cover - a filesystem without attributes
            pytest.skip(f"chattr +i not supported here: {done.stderr!r}")
        paths.append(path)


def test_a_read_only_store_can_be_listed_and_verified(store: SnapshotStore, tmp_path: Path,
                                                      immutable: list[Path]) -> None:
    config = tmp_path / "a.yaml"
    config.write_text("a: 1\n")
    snap = store.capture([config], tags=["v1"])
    store.close()
    _freeze(immutable, store.root / "index.sqlite", store.root)
    with SnapshotStore(store.root) as read_only:  # in-process too: the read-only index
        assert [s.id for s in read_only.list()] == [snap.id] and read_only.verify().ok
    listed = run_cli("snapshot", "list", "--store", str(store.root))
    assert listed.returncode == 0 and snap.short_id in listed.stdout, listed.stderr
    verified = run_cli("snapshot", "verify", "--store", str(store.root))
    assert verified.returncode == 0 and ": ok" in verified.stdout, verified.stderr
    assert run_cli("snapshot", "show", "v1", "--store", str(store.root)).returncode == 0
    refused = run_cli("snapshot", "capture", str(config), "--tag", "v2",
                      "--store", str(store.root))
    assert_one_line_error(refused, "readonly")


def test_a_read_only_directory_without_a_usable_index(tmp_path: Path,
                                                      immutable: list[Path]) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    garbage = tmp_path / "garbage"
    garbage.mkdir()
    (garbage / "index.sqlite").write_bytes(b"not a database at all" * 100)
    _freeze(immutable, empty, garbage / "index.sqlite", garbage)
    for root in (empty, garbage):
        with pytest.raises(SnapshotError, match="cannot open the store index"):
            open_index(root)


def _bundle(path: Path, manifest: bytes) -> Path:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        info = tarfile.TarInfo("manifest.json")
        info.size = len(manifest)
        tar.addfile(info, io.BytesIO(manifest))
    path.write_bytes(zstandard.ZstdCompressor().compress(raw.getvalue()))
    return path


def test_a_deeply_nested_bundle_manifest_is_refused(tmp_path: Path) -> None:
    nested = b'{"format": "configlab-bundle", "version": 1, "objects": ' + b"[" * 100_000 \
        + b"]" * 100_000 + b', "snapshots": []}'
    bundle = _bundle(tmp_path / "deep.bundle", nested)
    result = run_cli("snapshot", "import", str(bundle), "--store", str(tmp_path / "s"))
    assert_one_line_error(result, str(bundle), "malformed bundle manifest")


def test_an_oversized_bundle_manifest_is_refused(store: SnapshotStore, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from configlab.snapshots import _bundle

    config = tmp_path / "a.yaml"
    config.write_text("a: 1\n")
    bundle = store.export([store.capture([config])], tmp_path / "b.bundle")
    monkeypatch.setattr(_bundle, "_BUNDLE_MANIFEST_MAX", 10)
    with pytest.raises(SnapshotError, match="manifest too large"):
        SnapshotStore(tmp_path / "other").import_(bundle)


def test_env_capture_redacts_by_the_shared_rules() -> None:
    environ = {"DB_PASS": "p", "GH_AUTH": "a", "CERT_PEM": "c", "APP_PWD": "w",
               "DATABASE_URL": "postgresql://u:secret@h/db", "MODE": "fast"}
    got = capture_env(["*"], environ=environ)
    assert got == {"APP_PWD": REDACTED, "CERT_PEM": REDACTED, "DATABASE_URL":
                   f"postgresql://u:{REDACTED}@h/db", "DB_PASS": REDACTED, "GH_AUTH": REDACTED,
                   "MODE": "fast"}
    assert capture_env(["DB_PASS"], allow_secrets=["DB_*"], environ=environ) == {"DB_PASS": "p"}


def test_a_read_error_while_capturing_is_a_snapshot_error(store: SnapshotStore, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    config = tmp_path / "a.yaml"
    config.write_text("a: 1\n")

    def broken(data: bytes) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(store.objects, "stage", broken)
    with pytest.raises(SnapshotError, match=r"cannot read config file.*Input/output error"):
        store.capture([config])


def test_store_gc_also_removes_temp_files(store: SnapshotStore, tmp_path: Path) -> None:
    config = tmp_path / "a.yaml"
    config.write_text("a: 1\n")
    store.capture([config])
    leftover = _object_path(store).parent / f"{TEMP_PREFIX}killed"
    leftover.write_bytes(b"x" * 10)
    listed = run_cli("store", "gc", "--grace", "0", "--store", str(store.root))
    assert listed.returncode == 0, listed.stderr
    assert "would remove 1 temporary file(s)" in listed.stdout and leftover.exists()
    done = run_cli("store", "gc", "--grace", "0", "--delete", "--json", "--store",
                   str(store.root))
    assert json.loads(done.stdout)["temp_files"]["removed"] == [str(leftover)]
    assert not leftover.exists()
