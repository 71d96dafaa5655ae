"""Issue 18 item 3: FIFOs, devices and endless files are refused before reading, never hang."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from configlab import formats
from configlab._internal import safeio
from configlab.errors import FormatError
from tests.hostile.conftest import assert_one_line_error, run_cli


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "space.yaml"
    os.mkfifo(path)
    return path


def test_fifo_space_is_refused_quickly(fifo: Path) -> None:
    assert_one_line_error(run_cli("space", "check", str(fifo), timeout=20), str(fifo), "FIFO")


@pytest.mark.parametrize("command", [
    ["space", "convert-config", "{f}", "--to", "json"],
    ["space", "infer", "{f}"],
])
def test_fifo_config_is_refused_quickly(fifo: Path, command: list[str]) -> None:
    result = run_cli(*[part.format(f=fifo) for part in command], timeout=20)
    assert_one_line_error(result, str(fifo), "FIFO")


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_symlink_to_an_endless_device_is_refused(tmp_path: Path, device: str) -> None:
    link = tmp_path / "app.yaml"
    link.symlink_to(device)
    result = run_cli("space", "convert-config", str(link), "--to", "json", timeout=20)
    assert_one_line_error(result, str(link), "character device")
    with pytest.raises(FormatError, match="character device"):
        formats.load(link)


def test_readers_are_bounded(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_bytes(b"x" * 1000)
    with pytest.raises(FormatError, match="larger than the limit of 100 bytes"):
        safeio.read_bytes(path, max_bytes=100)
    assert safeio.read_text(path, max_bytes=1000) == "x" * 1000
    path.write_bytes(b"ok\n\xff")
    with pytest.raises(FormatError, match="not valid UTF-8") as info:
        safeio.read_text(path)
    assert info.value.line == 2
    with pytest.raises(FormatError, match="no such file"):
        safeio.read_bytes(tmp_path / "absent")
    with pytest.raises(FormatError, match="is a directory"):
        safeio.read_bytes(tmp_path)
    assert safeio.file_kind(0) == "a special file"


@pytest.mark.parametrize("command", [
    ["report", "--results", "{f}", "--to", "csv", "-o", "{tmp}/x.csv"],
    ["analyze", "--results", "{f}"],
    ["ingest", "{f}"],
])
def test_fifo_results_are_refused_quickly(tmp_path: Path, command: list[str]) -> None:
    fifo = tmp_path / "results.jsonl"
    os.mkfifo(fifo)
    result = run_cli(*[part.format(f=fifo, tmp=tmp_path) for part in command], timeout=20)
    assert_one_line_error(result, str(fifo), "FIFO")


@pytest.mark.parametrize(("name", "text", "needle"), [
    ("deep.jsonl", '{"config": ' + "[" * 100_000 + "]" * 100_000 + ', "outcome": "pass"}\n',
     "nested too deeply"),
    ("big.jsonl", '{"config": {"a": ' + "9" * 100_000 + '}, "outcome": "pass"}\n',
     "more digits than supported"),
    ("ctrf.json", '{"results": {"tests": ' + "[" * 100_000 + "]" * 100_000 + "}}",
     "nested too deeply"),
    ("deep.xml", "<testsuites>" + '<testsuite name="s">' * 5000 + '<testcase name="t"/>'
     + "</testsuite>" * 5000 + "</testsuites>", "nested too deeply"),
])
def test_hostile_results_files_are_one_line_errors(tmp_path: Path, name: str, text: str,
                                                   needle: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    result = run_cli("report", "--results", str(path), "--to", "csv", "-o",
                     str(tmp_path / "x.csv"))
    assert_one_line_error(result, str(path), needle)


def test_generation_inputs_and_outputs(tmp_path: Path) -> None:
    space = tmp_path / "space.yaml"
    space.write_text("parameters:\n  a: bool\n  b: [x, y]\n")
    seeds = tmp_path / "seeds.tsv"
    os.mkfifo(seeds)
    result = run_cli("generate", "--space", str(space), "--jsonl", "-", "--seeds", str(seeds),
                     timeout=20)
    assert_one_line_error(result, str(seeds), "FIFO")
    bad = tmp_path / "suite.jsonl"
    bad.write_bytes(b'{"a": true}\n\xff\n')
    assert_one_line_error(run_cli("prioritize", "--space", str(space), str(bad)),
                          str(bad), "not valid UTF-8")
    assert_one_line_error(run_cli("generate", "--space", str(space), "--jsonl", "/dev/full"),
                          "/dev/full", "No space left on device")


def test_a_metrics_fifo_written_by_the_application_is_ignored(tmp_path: Path) -> None:
    from configlab.execution._jobs import read_metrics

    fifo = tmp_path / "metrics.json"
    os.mkfifo(fifo)
    assert read_metrics(fifo) == {}
    (tmp_path / "m.json").write_text('{"latency_ms": 12.5, "name": "x"}')
    assert read_metrics(tmp_path / "m.json").get("latency_ms") == 12.5
