"""Parquet results read through DuckDB (``ResultDataset``, ``analyze_dataset``, ``configlab
analyze --results DIR``): the same counts as the in-memory path, selection pushed down, S3."""

from __future__ import annotations

import json
import math
import random
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from configlab.analysis import analyze, analyze_dataset
from configlab.analysis._scale import _p
from configlab.cli import cli
from configlab.errors import AnalysisError, ResultsError
from configlab.integrations.compact import compact_results
from configlab.results import (
    GroupKey,
    Result,
    ResultDataset,
    ResultSet,
    Selection,
    is_dataset_source,
)

ROWS = 10_000


def _results(rows: int = ROWS, seed: int = 7) -> ResultSet:
    """Seeded results with two planted causes: ``db == 'oracle'`` and
    ``cache == 'off' and tls == true`` (each fails 90 %), 3 % background, some skips."""
    rng = random.Random(seed)
    out = ResultSet()
    for i in range(rows):
        config = {"db": rng.choice(["pg", "mysql", "oracle", "sqlite"]),
                  "cache": rng.choice(["off", "lru", "lfu"]), "tls": rng.random() < 0.5,
                  "workers": rng.randint(1, 4), "timeout": round(rng.random() * 10, 4),
                  "net": {"mtu": rng.choice([1500, 9000])}}
        cause = config["db"] == "oracle" or (config["cache"] == "off" and config["tls"])
        failed = (cause and rng.random() < 0.9) or rng.random() < 0.03
        outcome = "skip" if rng.random() < 0.02 else ("error" if failed and i % 7 == 0
                                                      else "fail" if failed else "pass")
        out.append(Result(config, outcome, duration=rng.random(),
                          test_id=f"tests/test_{'db' if i % 3 else 'net'}.py::test_{i % 5}",
                          run_id=f"run-{i % 4}", timestamp=1_767_225_600 + i * 60))
    return out


@pytest.fixture(scope="module")
def results() -> ResultSet:
    return _results()


@pytest.fixture(scope="module")
def dataset_dir(results: ResultSet, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("parquet") / "results"
    compact_results(results, target)  # hive partitions run_id=run-0 ... run-3
    return target


def _counts(results: ResultSet, read: Any) -> dict[Any, tuple[int, int]]:
    """runs and failures per value, computed row by row in Python."""
    runs: Counter[Any] = Counter()
    fails: Counter[Any] = Counter()
    for r in results:
        if r.outcome == "skip":
            continue
        value = read(r.config)
        runs[value] += 1
        fails[value] += r.outcome in ("fail", "error")
    return {v: (runs[v], fails[v]) for v in runs}


def _dataset_counts(dataset: ResultDataset, key: GroupKey) -> dict[Any, tuple[int, int]]:
    return {c.value: (c.runs, c.failures) for c in dataset.value_counts(key) if c.runs}


def _memory(results: ResultSet) -> dict[str, dict[str, tuple[int, int]]]:
    """Runs and failures per value class from the in-memory path (ResultSet -> encode)."""
    import numpy as np

    space = results.infer_space()
    encoded = results.encode(space)
    used = encoded.outcomes != 3
    failed = (encoded.outcomes == 1) | (encoded.outcomes == 2)
    out = {}
    for j, param in enumerate(encoded.params):
        labels = encoded.class_labels[j]
        runs = np.bincount(encoded.codes[used, j], minlength=len(labels))
        fails = np.bincount(encoded.codes[used & failed, j], minlength=len(labels))
        out[param] = {label: (int(runs[c]), int(fails[c]))
                      for c, label in enumerate(labels) if runs[c]}
    return out


def test_failure_rates_match_the_in_memory_path(results: ResultSet, dataset_dir: Path) -> None:
    memory = _memory(results)
    with ResultDataset(dataset_dir) as dataset:
        assert len(dataset.files) == 4
        assert set(dataset.params) == {"db", "cache", "tls", "workers", "timeout", "net.mtu"}
        for param in ("db", "cache"):
            assert {str(k): v for k, v in _dataset_counts(dataset, GroupKey(param)).items()} \
                == memory[param]
        tls = _dataset_counts(dataset, GroupKey("tls"))
        assert {("true" if k else "false"): v for k, v in tls.items()} == memory["tls"]
        workers = _dataset_counts(dataset, GroupKey("workers"))
        names = {1: "min", 2: "min+1", 3: "max-1", 4: "max"}
        assert {names[k]: v for k, v in workers.items()} == memory["workers"]
        assert _dataset_counts(dataset, GroupKey("net.mtu")) == _counts(
            results, lambda c: c["net"]["mtu"])
        edges = (2.5, 5.0, 7.5)
        binned = _dataset_counts(dataset, GroupKey("timeout", edges))
        assert binned == _counts(results, lambda c: sum(c["timeout"] > e for e in edges))
        assert dataset.totals() == (len(results), sum(r.outcome != "skip" for r in results),
                                    sum(r.outcome in ("fail", "error") for r in results))


def test_value_rates_match_the_in_memory_analysis(results: ResultSet, dataset_dir: Path) -> None:
    subset = results[:1500]
    compact_results(subset, dataset_dir.parent / "subset")
    report = analyze(subset, max_order=1)
    memory = {i.param: {c.label: (c.count, c.failures) for c in i.classes if c.count}
              for i in report.impact}
    scale = analyze_dataset(dataset_dir.parent / "subset")
    rates = {p.param: {c.label: (c.count, c.failures) for c in p.classes}
             for p in scale.parameters}
    assert rates["db"] == memory["db"] and rates["cache"] == memory["cache"]
    assert rates["tls"] == memory["tls"]


SELECTIONS = [
    Selection(where="db == 'pg' and workers > 2"),
    Selection(where="net.mtu == 9000 or timeout < 1.5"),
    Selection(run_ids=("run-1", "run-3")),
    Selection(outcomes=("fail", "skip")),
    Selection(test_ids=("tests/test_net.py::*",)),
    Selection(test_ids=("tests/test_db.py::test_[13]",), run_ids=("run-2",)),
    Selection(since="2026-01-02T00:00:00Z", until="2026-01-05T12:00:00+00:00"),
    Selection(where="cache != 'off'", outcomes=("pass", "fail"), since=1_767_300_000),
    Selection(where="nope == null"),  # an unknown path is absent: every row
    Selection(where="db == 'nope'"),
]


@pytest.mark.parametrize("selection", SELECTIONS, ids=lambda s: repr(s)[10:70])
def test_selection_is_pushed_down_with_the_resultset_meaning(
        results: ResultSet, dataset_dir: Path, selection: Selection) -> None:
    expected = results.select(test_id=selection.test_ids, run_id=selection.run_ids,
                              outcome=selection.outcomes, since=selection.since,
                              until=selection.until, where=selection.where)
    with ResultDataset(dataset_dir, selection) as dataset:
        assert dataset.totals()[0] == len(expected)
        got = _dataset_counts(dataset, GroupKey("db"))
    assert got == _counts(expected, lambda c: c["db"])


def test_selection_errors_are_clear(dataset_dir: Path) -> None:
    with pytest.raises(ResultsError, match="--where"):
        ResultDataset(dataset_dir, Selection(where="db =="))
    with pytest.raises(ResultsError, match="--outcome: unknown outcome"):
        ResultDataset(dataset_dir, Selection(outcomes=("boom",)))
    with pytest.raises(ResultsError, match="--since"):
        ResultDataset(dataset_dir, Selection(since="yesterday"))
    with ResultDataset(dataset_dir) as dataset, pytest.raises(ResultsError, match="no parameter"):
        dataset.value_counts(GroupKey("nope"))


def test_analyze_dataset_finds_the_planted_causes(dataset_dir: Path) -> None:
    report = analyze_dataset(dataset_dir)
    conditions = [c.condition for c in report.causes]
    assert conditions[:2] == ["db == 'oracle'", "cache == 'off' and tls == true"]
    # a value that only fails inside the pair is not a cause of its own
    assert "cache == 'off'" not in conditions and "tls == true" not in conditions
    assert report.pair_params[:3] and set(report.pair_params[:3]) == {"db", "cache", "tls"}
    timeout = next(p for p in report.parameters if p.param == "timeout")
    assert timeout.grouping == "intervals" and len(timeout.edges) == 9
    # every condition reads back through --where to the same runs
    for cause in report.causes:
        again = analyze_dataset(dataset_dir, selection=Selection(where=cause.condition),
                                params=["db"], pair_candidates=0)
        assert (again.runs, again.failures) == (cause.runs, cause.failures)
        low, high = cause.rate_interval
        assert low <= cause.failure_rate <= high
    assert report.to_text().startswith(f"{report.failures:,} of {report.runs:,} runs failed")
    assert "| 1 | `db == 'oracle'` |" in report.to_markdown()
    assert json.loads(json.dumps(report.to_dict()))["engine"] == "duckdb"


def test_analyze_dataset_settings_and_empty_selections(dataset_dir: Path) -> None:
    with pytest.raises(AnalysisError, match="pair_candidates"):
        analyze_dataset(dataset_dir, pair_candidates=-1)
    with pytest.raises(AnalysisError, match="no results selected"):
        analyze_dataset(dataset_dir, selection=Selection(where="db == 'nope'"))
    with pytest.raises(AnalysisError, match="all skipped"):
        analyze_dataset(dataset_dir, selection=Selection(outcomes=("skip",)))
    with ResultDataset(dataset_dir, Selection(outcomes=("skip",))) as dataset:
        with pytest.raises(AnalysisError, match="all skipped"):
            analyze_dataset(dataset, params=[])
        assert "4 files" in repr(dataset)
    one = analyze_dataset(dataset_dir, params=["db"], pair_candidates=0)
    assert [p.param for p in one.parameters] == ["db"] and one.pair_params == ()


def test_hypergeometric_bound_is_a_tight_upper_bound_on_scipy() -> None:
    from scipy.stats import hypergeom

    for k, total, successes, draws in [(30, 1000, 100, 100), (9, 50, 10, 12),
                                       (400, 100_000, 5_000, 2_000), (3, 10, 3, 3)]:
        exact = float(hypergeom.sf(k - 1, total, successes, draws))
        bound = _p(k, total, successes, draws)
        assert exact <= bound * (1 + 1e-9)
        assert bound <= max(4 * exact, 1e-300)
    assert _p(0, 10, 5, 5) == 1.0 and _p(2, 100, 50, 4) == 1.0  # at or below the mode


def test_text_columns_are_decoded(tmp_path: Path) -> None:
    mixed = ResultSet([Result({"level": v, "flag": True}, o) for v, o in
                       [(1, "fail"), ("high", "pass"), (None, "fail"), (1, "pass"),
                        ([1, 2], "fail")] * 3])
    compact_results(mixed, tmp_path / "mixed")
    with ResultDataset(tmp_path / "mixed") as dataset:
        assert "level" in dataset.text_columns
        counts = {json.dumps(c.value): (c.runs, c.failures)
                  for c in dataset.value_counts(GroupKey("level"))}
    assert counts == {"null": (3, 3), "1": (6, 3), '"high"': (3, 0), "[1, 2]": (3, 3)}
    with ResultDataset(tmp_path / "mixed", Selection(where="level == 'high'")) as dataset:
        assert dataset.totals() == (3, 3, 0)
    report = analyze_dataset(tmp_path / "mixed", min_support=1)
    labels = [c.label for p in report.parameters if p.param == "level" for c in p.classes]
    assert labels == ["null", "1", "[1, 2]", "high"]


def test_missing_and_corrupt_parquet_are_clear_errors(tmp_path: Path, dataset_dir: Path) -> None:
    with pytest.raises(ResultsError, match="no such file or directory"):
        ResultDataset(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ResultsError, match="no Parquet files found"):
        ResultDataset(tmp_path / "empty")
    with pytest.raises(ResultsError, match="no Parquet files found"):
        ResultDataset(str(tmp_path / "*.parquet"))
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "part-0.parquet").write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(ResultsError, match="cannot read Parquet"):
        ResultDataset(bad)
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"x": [1, 2]}), tmp_path / "noout.parquet")
    with pytest.raises(ResultsError, match="no 'outcome' column"):
        ResultDataset(tmp_path / "noout.parquet")
    pq.write_table(pa.table({"x": [1, 2], "outcome": ["pass", "boom"]}), tmp_path / "odd.parquet")
    with pytest.raises(ResultsError, match="unknown outcome 'boom'"):
        analyze_dataset(tmp_path / "odd.parquet")
    with pytest.raises(ResultsError, match="no bucket"):
        ResultDataset("s3:///x")
    truncated = tmp_path / "truncated"
    truncated.mkdir()
    whole = next(dataset_dir.glob("*/*.parquet")).read_bytes()
    (truncated / "part-0.parquet").write_bytes(whole[: len(whole) // 2] + whole[-8:])
    with pytest.raises(ResultsError, match="cannot read Parquet"):
        analyze_dataset(truncated)


def test_is_dataset_source(tmp_path: Path, dataset_dir: Path) -> None:
    store = tmp_path / "store"
    store.mkdir()
    (store / "index.sqlite").write_bytes(b"")
    assert is_dataset_source(dataset_dir) and is_dataset_source("s3://b/p")
    assert is_dataset_source(str(dataset_dir / "*" / "*.parquet"))
    assert not is_dataset_source(store) and not is_dataset_source(tmp_path / "r.jsonl")


def test_s3_partitions_on_the_moto_server(results: ResultSet, s3_url: str,
                                          dataset_dir: Path) -> None:
    target = f"{s3_url}/compacted"
    compact_results(results[:2000], target)
    local = dataset_dir.parent / "first2000"
    compact_results(results[:2000], local)
    remote = analyze_dataset(target, selection=Selection(where="tls == true"))
    here = analyze_dataset(local, selection=Selection(where="tls == true"))
    assert remote.files == 4
    assert remote.to_dict() | {"source": ""} == here.to_dict() | {"source": ""}
    with pytest.raises(ResultsError, match="no Parquet files found"):
        ResultDataset(f"{s3_url}/nothing-here")


def test_cli_analyze_on_a_parquet_directory(dataset_dir: Path) -> None:
    runner = CliRunner()
    out = runner.invoke(cli, ["analyze", "--results", str(dataset_dir), "--json", "-",
                               "--where", "workers > 1", "--run-id", "run-1"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["engine"] == "duckdb" and data["causes"][0]["condition"] == "db == 'oracle'"
    one = runner.invoke(cli, ["analyze", "--results", str(dataset_dir), "--param", "db",
                               "--pairs", "0"])
    assert one.exit_code == 0, one.output
    assert "  db: mysql " in one.output and "cache:" not in one.output
    md = runner.invoke(cli, ["analyze", "--results", str(dataset_dir), "--md", "-"])
    assert md.output.startswith("# Failure analysis (DuckDB)")
    for argv, message in [(["--space", "s.yaml"], "--space and --png"),
                          (["--param", "nope"], "no parameter(s) nope")]:
        bad = runner.invoke(cli, ["analyze", "--results", str(dataset_dir), *argv])
        assert bad.exit_code == 2 and message in bad.output
    jsonl = dataset_dir.parent / "r.jsonl"
    _results(20).to_jsonl(jsonl)
    bad = runner.invoke(cli, ["analyze", "--results", str(jsonl), "--param", "db"])
    assert bad.exit_code == 2 and "apply to Parquet datasets" in bad.output
    assert math.isfinite(data["failure_rate"])


def test_redis_like_causes_through_duckdb(tmp_path: Path) -> None:
    """The three Redis-shaped causes, an interval among them, from Parquet partitions."""
    from configlab.integrations.ingest import load_results
    from tests.paths import ROOT_DIR

    results = load_results(ROOT_DIR / "examples" / "analysis" / "redis-like.jsonl")
    compact_results(results, tmp_path / "redis")
    report = analyze_dataset(tmp_path / "redis", pair_candidates=4)
    assert [c.condition for c in report.causes[:3]] == [
        "databases <= 3", "maxmemory >= 1 and maxmemory <= 1048576",
        "save == '' and appendonly == 'no'"]
    save = next(p for p in report.parameters if p.param == "save")
    assert save.classes[0].label == '""'


def test_same_files_same_report(dataset_dir: Path) -> None:
    first = analyze_dataset(dataset_dir, selection=Selection(where="workers > 1"))
    again = analyze_dataset(str(dataset_dir / "*" / "*.parquet"),
                            selection=Selection(where="workers > 1"))
    assert json.dumps(first.to_dict() | {"source": ""}) == json.dumps(
        again.to_dict() | {"source": ""})
