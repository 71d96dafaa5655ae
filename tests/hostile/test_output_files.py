"""Issue 18 item 1: output files never clobber devices, FIFOs or symlinks (one shared writer)."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from configlab import formats
from configlab._internal import safeio
from configlab.errors import ConfiglabError, FormatError
from tests.hostile.conftest import assert_one_line_error, root_only, run_cli


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "app.yaml"
    path.write_text("db:\n  port: 5432\n", encoding="utf-8")
    return path


def _null_device(path: Path) -> Path:
    os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # a private /dev/null
    return path


@root_only
@pytest.mark.parametrize("command", [
    ["space", "convert-config", "{config}", "--to", "json", "-o", "{out}"],
    ["space", "infer", "{config}", "-o", "{out}"],
])
def test_a_character_device_stays_a_device(tmp_path: Path, config: Path,
                                           command: list[str]) -> None:
    device = _null_device(tmp_path / "null.yaml")
    args = [part.format(config=config, out=device) for part in command]
    result = run_cli(*args)
    assert result.returncode == 0, result.stderr
    mode = device.lstat().st_mode
    assert stat.S_ISCHR(mode), "the device node was replaced by a regular file"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(safeio.TEMP_PREFIX)]


@root_only
def test_snapshot_export_to_a_device_keeps_it(tmp_path: Path, config: Path) -> None:
    store = tmp_path / "store"
    captured = run_cli("snapshot", "capture", str(config), "--store", str(store), "--json")
    assert captured.returncode == 0, captured.stderr
    device = _null_device(tmp_path / "bundle.tar")
    listed = run_cli("snapshot", "list", "--store", str(store), "--json")
    assert listed.returncode == 0, listed.stderr
    import json

    snap_id = json.loads(listed.stdout)[0]["id"]
    result = run_cli("snapshot", "export", snap_id, "-o", str(device), "--store", str(store))
    assert result.returncode == 0, result.stderr
    assert stat.S_ISCHR(device.lstat().st_mode)


def test_full_device_is_a_one_line_error(config: Path) -> None:
    if not os.path.exists("/dev/full"):  # pragma: no cover - Linux has it
        pytest.skip("no /dev/full")
    result = run_cli("space", "convert-config", str(config), "--to", "json", "-o", "/dev/full")
    assert_one_line_error(result, "/dev/full", "No space left on device")
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


def test_a_symlink_is_followed_not_replaced(tmp_path: Path, config: Path) -> None:
    target = tmp_path / "real.json"
    target.write_text("{}\n")
    target.chmod(0o640)
    link = tmp_path / "link.json"
    link.symlink_to(target)
    result = run_cli("space", "convert-config", str(config), "--to", "json", "-o", str(link))
    assert result.returncode == 0, result.stderr
    assert link.is_symlink(), "the symlink was replaced by a regular file"
    assert formats.load(target) == {"db": {"port": 5432}}
    assert stat.S_IMODE(target.stat().st_mode) == 0o640  # the old file's mode is kept


def test_dev_stdout_writes_to_the_open_descriptor(config: Path) -> None:
    result = run_cli("space", "convert-config", str(config), "--to", "json", "-o", "/dev/stdout")
    assert result.returncode == 0, result.stderr
    assert '"port": 5432' in result.stdout


def test_a_fifo_is_written_in_place(tmp_path: Path) -> None:
    fifo = tmp_path / "out.json"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    formats.dump({"a": 1}, fifo)
    reader.join(10)
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert received == [b'{\n  "a": 1\n}\n']


def test_other_special_files_are_refused(tmp_path: Path) -> None:
    import socket

    sock_path = tmp_path / "s.json"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(sock_path))
    try:
        with pytest.raises(FormatError, match="is a socket; refusing"):
            formats.dump({"a": 1}, sock_path)
    finally:
        server.close()
    with pytest.raises(ConfiglabError, match="is a directory; refusing"):
        safeio.write_output(tmp_path, "x")


def test_stdout_dash_and_failed_writes_leave_nothing(tmp_path: Path,
                                                     capsysbinary: pytest.CaptureFixture[bytes]
                                                     ) -> None:
    safeio.write_output("-", "hello\n")
    assert capsysbinary.readouterr().out == b"hello\n"
    target = tmp_path / "keep.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError), safeio.open_output(target) as handle:
        handle.write(b"partial")
        raise RuntimeError("writer failed")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]
    with pytest.raises(ConfiglabError, match="not encodable as UTF-8"):
        safeio.write_output(target, "\ud800")
    with pytest.raises(ConfiglabError, match="cannot write output file"):
        safeio.write_output(tmp_path / "missing" / "x.txt", "x", parents=False)
    safeio.write_output(tmp_path / "new" / "x.txt", "x")  # parents are created by default
    assert (tmp_path / "new" / "x.txt").read_text() == "x"
    with pytest.raises(ConfiglabError, match="cannot write output file"):
        safeio.write_output(target / "x.txt", "x")  # a parent that is a file
