"""``configlab coverage`` command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from configlab.cli import cli
from configlab.results import Result, ResultSet, ResultStore

SPACE_YAML = """
parameters:
  db: [sqlite, postgres]
  cache: bool
  workers: {type: int, min: 1, max: 2}
constraints:
  - "db == 'sqlite' -> workers == 1"
"""


@pytest.fixture()
def files(tmp_path: Path) -> dict[str, Path]:
    space = tmp_path / "space.yaml"
    space.write_text(SPACE_YAML)
    results = ResultSet([
        Result({"db": "sqlite", "cache": True, "workers": 1}, "pass"),
        Result({"db": "postgres", "cache": False, "workers": 2}, "fail"),
        Result({"db": "postgres", "cache": True, "workers": 9}, "pass"),
    ])
    store = tmp_path / "store"
    ResultStore(store).record_many(results)
    return {"space": space, "jsonl": results.to_jsonl(tmp_path / "r.jsonl"),
            "csv": results.to_csv(tmp_path / "r.csv"), "store": store, "dir": tmp_path}


def test_summary_from_each_source(files: dict[str, Path]) -> None:
    runner = CliRunner()
    outputs = []
    for source in ("jsonl", "csv", "store"):
        result = runner.invoke(cli, ["coverage", "--space", str(files["space"]),
                                     "--results", str(files[source])])
        assert result.exit_code == 0, result.output
        outputs.append(result.output)
        assert "Combinatorial coverage" in result.output and "Gaps" in result.output
        assert "Seen only in failing runs" in result.output
        assert "fit no value class" in result.output
    assert outputs[0] == outputs[1] == outputs[2]


def test_json_charts_and_fail_under(files: dict[str, Path]) -> None:
    runner = CliRunner()
    args = ["coverage", "--space", str(files["space"]), "--results", str(files["jsonl"])]
    result = runner.invoke(cli, [*args, "--json", "--strength", "2"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["strength"] == 2 and data["invalid"] == 1
    assert data["valid"] == 11 and 0 < data["ratio"] < 1
    assert data["gaps"] and data["gaps"][0]["missing"]
    png, svg = files["dir"] / "png", files["dir"] / "svg"
    result = runner.invoke(cli, [*args, "--png", str(png), "--svg", str(svg),
                                 "--pair", "cache", "db", "--fail-under", "0.99"])
    assert result.exit_code == 3
    assert "below --fail-under" in result.output
    assert sorted(p.name for p in png.iterdir())[0] == "coverage_growth.png"
    assert len(list(svg.iterdir())) == 4
    ok = runner.invoke(cli, [*args, "--fail-under", "0.1", "--include-skipped"])
    assert ok.exit_code == 0
    full = runner.invoke(cli, [*args, "-t", "1"])
    assert full.exit_code == 0 and "Least covered" not in full.output


def test_bad_input_exits_2(files: dict[str, Path]) -> None:
    runner = CliRunner()
    bad = files["dir"] / "bad.jsonl"
    bad.write_text("{oops\n")
    result = runner.invoke(cli, ["coverage", "--space", str(files["space"]),
                                 "--results", str(bad)])
    assert result.exit_code == 2 and "bad.jsonl:1" in result.output
    result = runner.invoke(cli, ["coverage", "--space", str(files["space"]),
                                 "--results", str(files["jsonl"]), "--strength", "7"])
    assert result.exit_code == 2 and "strength" in result.output


@pytest.mark.parametrize(("pair", "message"), [
    (("x", "y"), "--pair: unknown parameter 'x' (the space has: db, cache, workers)"),
    (("db", "nope"), "--pair: unknown parameter 'nope'"),
    (("cache", "cache"), "--pair: needs two different parameters, got 'cache' twice"),
])
@pytest.mark.parametrize("extra", [[], ["--json"], ["--png", "charts"]])
def test_bad_pair_exits_2_before_any_output(files: dict[str, Path], pair: tuple[str, str],
                                            message: str, extra: list[str]) -> None:
    runner = CliRunner()
    args = ["coverage", "--space", str(files["space"]), "--results", str(files["jsonl"]),
            *[str(files["dir"] / a) if a == "charts" else a for a in extra], "--pair", *pair]
    result = runner.invoke(cli, args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"configlab: error: {message}")
    assert result.stderr.count("\n") == 1
    assert not (files["dir"] / "charts").exists()


def test_pair_names_the_value_grid(files: dict[str, Path]) -> None:
    runner = CliRunner()
    svg = files["dir"] / "svg"
    result = runner.invoke(cli, ["coverage", "--space", str(files["space"]), "--results",
                                 str(files["jsonl"]), "--svg", str(svg), "--pair", "workers",
                                 "cache"])
    assert result.exit_code == 0, result.output
    grid = next(p for p in svg.iterdir() if "value" in p.name)
    text = grid.read_text()  # matplotlib keeps each label as an SVG comment
    assert text.index("<!-- workers -->") < text.index("<!-- cache -->")
