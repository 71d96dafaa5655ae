"""Tests for ``configlab generate`` and ``configlab prioritize``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from configlab import __version__, formats
from configlab.cli import cli
from configlab.space import Space

SPACE = {
    "name": "cli",
    "parameters": {
        "server.port": {"type": "int", "min": 1, "max": 100},
        "server.tls": "bool",
        "mode": ["a", "b", "c"],
        "limit": {"type": "int", "min": 0, "max": 5, "active_if": "server.tls"},
    },
    "constraints": ["mode != 'c'"],
}


@pytest.fixture()
def space_file(tmp_path: Path) -> Path:
    path = tmp_path / "space.yaml"
    path.write_text(yaml.safe_dump(SPACE))
    return path


def invoke(*args: str, input: str | None = None) -> Any:
    return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)


def test_generate_writes_files_and_manifest(space_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = invoke("generate", "--space", str(space_file), "--strategy", "covering",
                    "--seed", "7", "--out", str(out), "--format", "json")
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 7 and manifest["strategy"] == "covering"
    assert manifest["strength"] == 2
    assert manifest["configlab_version"] == __version__
    assert manifest["space_digest"] == Space.from_dict(SPACE).digest()
    assert manifest["files"][0] == "config-0001.json"
    assert any("mode = c" in w for w in manifest["warnings"])
    assert "dead value class" in result.stderr
    space = Space.from_dict(SPACE)
    for name in manifest["files"]:
        assert space.is_valid(formats.load(out / name))
    assert manifest["generated"] == len(manifest["files"]) == len(list(out.glob("config-*")))
    # a second run into the same directory needs --force and is byte-identical
    again = invoke("generate", "--space", str(space_file), "--seed", "7", "--out", str(out),
                   "--format", "json")
    assert again.exit_code == 2 and "--force" in again.stderr
    first = {p.name: p.read_bytes() for p in out.iterdir()}
    forced = invoke("generate", "--space", str(space_file), "--seed", "7", "--out", str(out),
                    "--format", "json", "--force")
    assert forced.exit_code == 0
    assert {p.name: p.read_bytes() for p in out.iterdir()} == first


def test_generate_jsonl_to_stdout_and_file(space_file: Path, tmp_path: Path) -> None:
    result = invoke("generate", "--space", str(space_file), "--strategy", "random",
                    "--count", "5", "--raw", "--jsonl", "-")
    assert result.exit_code == 0
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 5 and all(isinstance(json.loads(line), dict) for line in lines)
    target = tmp_path / "suite.jsonl"
    result = invoke("generate", "--space", str(space_file), "--strategy", "random",
                    "--count", "5", "--raw", "--jsonl", str(target))
    assert target.read_text().strip().splitlines() == lines


def test_generate_other_formats_base_and_exhaustive(space_file: Path, tmp_path: Path) -> None:
    base = tmp_path / "base.yaml"
    base.write_text("server:\n  port: 5\n  tls: false\nmode: a\nextra: kept\n")
    out = tmp_path / "mut"
    result = invoke("generate", "--space", str(space_file), "--strategy", "mutate",
                    "--base", str(base), "--out", str(out), "--format", "yaml", "--count", "3")
    assert result.exit_code == 0, result.stderr
    assert all(formats.load(p)["extra"] == "kept" for p in out.glob("config-*.yaml"))
    result = invoke("generate", "--space", str(space_file), "--strategy", "exhaustive",
                    "--max-size", "2", "--jsonl", "-")
    assert result.exit_code == 2 and "exhaustive generation refused" in result.stderr


def test_generate_directive_files_on_a_redis_conf_base(tmp_path: Path) -> None:
    """A redis.conf user writes redis.conf files: ``--format directive`` gives ``.conf`` files
    that read back as directive files (by content) and keep the base's other directives."""
    space = tmp_path / "space.yaml"
    space.write_text("parameters:\n  maxmemory: {type: choice, values: [0, 1mb]}\n"
                     "  save: ['', '3600 1']\n")
    base = tmp_path / "redis.conf"
    base.write_text("port 6379\nbind 127.0.0.1 -::1\nsave 900 1\n")
    out = tmp_path / "suite"
    result = invoke("generate", "--space", str(space), "--base", str(base), "--out", str(out),
                    "--format", "directive")
    assert result.exit_code == 0, result.stderr
    files = sorted(out.glob("config-*.conf"))
    assert len(files) == 4
    trees = [formats.load(path) for path in files]
    assert {(t["maxmemory"], t["save"]) for t in trees} == {
        (m, s) for m in (0, "1mb") for s in ("", "3600 1")}
    assert all(t["port"] == 6379 and t["bind"] == "127.0.0.1 -::1" for t in trees)
    assert 'save ""' in "".join(path.read_text() for path in files)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["format"] == "directive" and manifest["files"][0] == "config-0001.conf"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--strategy", "covering"], "give --out DIR"),
        (["--strategy", "random", "--jsonl", "-"], "give --count N"),
        (["--strategy", "covering", "--raw", "--jsonl", "-"], "--raw only applies"),
        (["--strategy", "covering", "--max-size", "3", "--jsonl", "-"], "--max-size only"),
        (["--strategy", "covering", "--strength", "9", "--jsonl", "-"], "strength"),
        (["--strategy", "mutate", "--jsonl", "-"], "needs a base config"),
    ],
)
def test_generate_bad_usage_exits_2(space_file: Path, args: list[str], message: str) -> None:
    result = invoke("generate", "--space", str(space_file), *args)
    assert result.exit_code == 2
    assert message in result.stderr


def test_generate_bad_out_and_missing_space(space_file: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = invoke("generate", "--space", str(space_file), "--out", str(blocker))
    assert result.exit_code == 2
    result = invoke("generate", "--space", str(tmp_path / "none.yaml"), "--jsonl", "-")
    assert result.exit_code == 2 and "no such space file" in result.stderr
    # an output option creates missing parent directories, like every other (issue 19) ...
    result = invoke("generate", "--space", str(space_file), "--jsonl",
                    str(tmp_path / "new" / "dir" / "suite.jsonl"))
    assert result.exit_code == 0 and (tmp_path / "new" / "dir" / "suite.jsonl").read_text()
    # ... but not through a file
    result = invoke("generate", "--space", str(space_file), "--jsonl",
                    str(blocker / "dir.jsonl"))
    assert result.exit_code == 2 and "cannot write" in result.stderr


def test_prioritize_directory_jsonl_and_options(space_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "suite"
    invoke("generate", "--space", str(space_file), "--strategy", "random", "--count", "6",
           "--seed", "1", "--out", str(out))
    result = invoke("prioritize", "--space", str(space_file), str(out), "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert sorted(data["files"]) == sorted(f"config-{i:04d}.yaml" for i in range(1, 7))
    assert data["coverage_curve"] == sorted(data["coverage_curve"])
    weights = tmp_path / "weights.yaml"
    weights.write_text("server:\n  tls: 5\nmode: 2\n")
    history = tmp_path / "history.jsonl"
    first = formats.load(out / "config-0003.yaml")
    history.write_text(json.dumps({"config": first, "outcome": "fail"}) + "\n")
    text = invoke("prioritize", "--space", str(space_file), str(out), "--weights", str(weights),
                  "--history", str(history), "--max", "2", "--strength", "1")
    assert text.exit_code == 0
    lines = text.stdout.strip().splitlines()
    assert lines[0].split() == ["rank", "coverage", "config"] and len(lines) == 3
    # a directory without manifest, and JSON lines on stdin
    (out / "manifest.json").unlink()
    assert invoke("prioritize", "--space", str(space_file), str(out)).exit_code == 0
    jsonl = "\n".join(json.dumps(formats.load(p)) for p in sorted(out.glob("*.yaml"))) + "\n\n"
    piped = invoke("prioritize", "--space", str(space_file), "-", "--json", input=jsonl)
    assert json.loads(piped.stdout)["files"][0].startswith("<stdin>:")


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("missing", "no such directory or JSON-lines file"),
        ("empty-dir", "no config files"),
        ("bad-manifest", "not a configlab manifest"),
        ("bad-json", "not JSON"),
        ("not-object", "must be a JSON object"),
        ("bad-history", "needs 'config' and 'outcome'"),
    ],
)
def test_prioritize_bad_input_exits_2(space_file: Path, tmp_path: Path, setup: str,
                                      message: str) -> None:
    target = tmp_path / "in"
    extra: list[str] = []
    if setup == "empty-dir":
        target.mkdir()
    elif setup == "bad-manifest":
        target.mkdir()
        (target / "manifest.json").write_text("[]")
    elif setup == "bad-json":
        target.write_text("{nope\n")
    elif setup == "not-object":
        target.write_text("[1]\n")
    elif setup == "bad-history":
        target.write_text('{"mode": "a"}\n')
        history = tmp_path / "h.jsonl"
        history.write_text('{"config": {}}\n')
        extra = ["--history", str(history)]
    result = invoke("prioritize", "--space", str(space_file), str(target), *extra)
    assert result.exit_code == 2
    assert message in result.stderr
