"""The columnar JSON Lines reader gives the row reader's space, encoding and analysis."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from configlab.analysis import analyze, analyze_encoded
from configlab.cli import cli
from configlab.results import Result, ResultSet
from configlab.results._columns import FastPathUnavailable, encode_jsonl, encode_parquet
from tests.paths import ROOT_DIR

EXAMPLE = ROOT_DIR / "examples" / "analysis" / "redis-like.jsonl"


def _rows(seed: int = 1, n: int = 400) -> list[Result]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        config = {
            "db": {"engine": rng.choice(["pg", "lite", "maria"]), "pool": rng.randint(1, 64)},
            "cache": rng.random() < 0.5,
            "ratio": round(rng.random(), 3),
            "name": f"n{rng.randint(0, 10_000)}",
            "mode": rng.choice([1, 2.5, 4]),
        }
        fail = config["db"]["engine"] == "pg" and not config["cache"]
        rows.append(Result(config, "fail" if fail else "pass", duration=rng.random(),
                           metrics={"qps": rng.random() * 100}, test_id=f"t::x[{i % 3}]",
                           timestamp="2026-01-01T00:00:00Z"))
    return rows


def _same(path: Path) -> None:
    rows = ResultSet.from_jsonl(path)
    space = rows.infer_space()
    slow = rows.encode(space)
    fast, fast_space = encode_jsonl(path)
    assert fast_space.to_dict() == space.to_dict()
    assert fast.params == slow.params and fast.class_labels == slow.class_labels
    assert np.array_equal(fast.codes, slow.codes)
    assert np.array_equal(fast.outcomes, slow.outcomes)
    assert fast.numeric.keys() == slow.numeric.keys()
    for name in slow.numeric:
        assert np.array_equal(fast.numeric[name], slow.numeric[name], equal_nan=True)
    assert fast.metrics.keys() == slow.metrics.keys()
    for name in slow.metrics:
        assert np.array_equal(fast.metrics[name], slow.metrics[name], equal_nan=True)
    assert fast.test_ids == slow.test_ids
    assert analyze_encoded(fast).to_dict()["patterns"] == analyze(rows, space).to_dict()[
        "patterns"]


def test_columns_match_rows_on_nested_mixed_configs(tmp_path: Path) -> None:
    path = ResultSet(_rows()).to_jsonl(tmp_path / "r.jsonl")
    _same(path)


def test_columns_match_rows_on_the_readme_example() -> None:
    _same(EXAMPLE)


@pytest.mark.parametrize("stamped", [True, False], ids=["polars", "arrow"])
def test_given_space_is_used(tmp_path: Path, stamped: bool) -> None:
    from configlab.space import Space

    path = ResultSet(_rows() if stamped else _plain_rows()).to_jsonl(tmp_path / "r.jsonl")
    space = Space.from_dict({"parameters": {"cache": "bool", "absent.flag": "bool",
                                            "absent.n": {"type": "int", "min": 0, "max": 3},
                                            "mode": {"type": "choice", "values": [1, 2.5, 4]},
                                            "db.pool": {"type": "int", "min": 1, "max": 64}}})
    fast, _ = encode_jsonl(path, space)
    slow = ResultSet.from_jsonl(path).encode(space)
    assert np.array_equal(fast.codes, slow.codes)


@pytest.mark.parametrize("line", [
    {"config": {"a": None}, "outcome": "pass"},          # null: absent and null look alike
    {"config": {"b": 1}, "outcome": "pass"},             # a key missing from other rows
    {"config": {"a": [1, 2]}, "outcome": "pass"},        # lists
    {"config": {"a": 1}, "outcome": "maybe"},            # unknown outcome
    {"config": {"a": 1}, "outcome": "pass", "extra": 1},  # unknown field
    {"config": {"a": 1}, "outcome": "pass", "exit_status": "one"},  # a text exit status
])
def test_unusual_files_fall_back_to_the_row_reader(tmp_path: Path, line: dict[str, object]
                                                    ) -> None:
    path = tmp_path / "r.jsonl"
    rows = [{"config": {"a": i}, "outcome": "pass"} for i in range(5)]
    path.write_text("\n".join(json.dumps(r) for r in [*rows, line]) + "\n")
    with pytest.raises(FastPathUnavailable):
        encode_jsonl(path)


def test_cli_analyze_same_report_both_ways_and_errors_stay_errors(tmp_path: Path) -> None:
    path = ResultSet(_rows()).to_jsonl(tmp_path / "r.jsonl")
    fast = CliRunner().invoke(cli, ["analyze", "--results", str(path), "--json"])
    # a selection that keeps everything goes through the row reader
    slow = CliRunner().invoke(cli, ["analyze", "--results", str(path), "--json",
                                    "--outcome", "pass", "--outcome", "fail"])
    assert fast.exit_code == 0 and slow.exit_code == 0
    assert json.loads(fast.stdout)["patterns"] == json.loads(slow.stdout)["patterns"]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"config": {"a": 1}, "outcome": "pass"}\n{"config": {"a": 2}, "outcome": 7}\n')
    run = CliRunner().invoke(cli, ["analyze", "--results", str(bad)])
    assert run.exit_code == 2 and "bad.jsonl:2" in run.output
    stamp = tmp_path / "stamp.jsonl"
    stamp.write_text('{"config": {"a": 1}, "outcome": "pass", "timestamp": "soon"}\n')
    run = CliRunner().invoke(cli, ["analyze", "--results", str(stamp)])
    assert run.exit_code == 2 and "soon" in run.output and "stamp.jsonl:1" in run.output


def _flat_rows(seed: int = 2, n: int = 300) -> list[Result]:
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        config = {"engine": rng.choice(["pg", "lite", "maria"]), "pool": rng.randint(1, 64),
                  "cache": rng.random() < 0.5, "ratio": round(rng.random(), 3) + 0.0005,
                  "target": rng.choice(["py38", "py39", "py310", "py311"])}
        fail = config["engine"] == "pg" and not config["cache"]
        rows.append(Result(config, "fail" if fail else "pass", duration=rng.random(),
                           metrics={"qps": rng.random()}, test_id="t"))
    return rows


def test_flat_csv_by_columns_matches_the_row_reader(tmp_path: Path) -> None:
    from configlab.results._columns import encode_csv

    path = ResultSet(_flat_rows()).to_csv(tmp_path / "r.csv")
    rows = ResultSet.from_csv(path)
    space = rows.infer_space()
    slow = rows.encode(space)
    fast, fast_space = encode_csv(path)
    assert fast_space.to_dict() == space.to_dict()
    assert fast.class_labels == slow.class_labels and np.array_equal(fast.codes, slow.codes)
    assert np.array_equal(fast.outcomes, slow.outcomes)
    assert fast.metrics.keys() == slow.metrics.keys() == {"duration", "qps"}
    for name in slow.numeric:
        assert np.array_equal(fast.numeric[name], slow.numeric[name], equal_nan=True)
    assert analyze_encoded(fast).to_dict()["patterns"] == analyze(rows, space).to_dict()[
        "patterns"]


def test_bookkeeping_columns_are_metrics_never_parameters(tmp_path: Path) -> None:
    from configlab.results._columns import encode_csv

    # a runner's export: exit status and wall time beside the parameters; the exit status
    # "explains" every failure and must not become a cause
    lines = ["engine,cache,outcome,exit_status,wall_time"]
    jsonl = []
    rng = random.Random(3)
    for _ in range(200):
        engine, cache = rng.choice(["pg", "lite"]), rng.choice(["true", "false"])
        fail = engine == "pg" and cache == "false"
        wall = round(rng.random(), 3)
        lines.append(f"{engine},{cache},{'fail' if fail else 'pass'},{int(fail)},{wall}")
        jsonl.append(json.dumps({"config": {"engine": engine, "cache": cache == "true"},
                                 "outcome": "fail" if fail else "pass",
                                 "exit_status": int(fail), "wall_time": wall}))
    (tmp_path / "r.csv").write_text("\n".join(lines) + "\n")
    (tmp_path / "r.jsonl").write_text("\n".join(jsonl) + "\n")
    fast, space = encode_csv(tmp_path / "r.csv")
    assert space.paths == ("engine", "cache")
    assert set(fast.metrics) == {"exit_status", "wall_time"}
    by_rows = ResultSet.from_csv(tmp_path / "r.csv")
    assert by_rows[0].metrics.keys() == {"exit_status", "wall_time"}
    assert ResultSet.from_jsonl(tmp_path / "r.jsonl")[0].metrics.keys() == {
        "exit_status", "wall_time"}
    for name in ("r.csv", "r.jsonl"):
        run = CliRunner().invoke(cli, ["analyze", "--results", str(tmp_path / name), "--json"])
        assert run.exit_code == 0, run.output
        report = json.loads(run.stdout)
        assert [p["condition"] for p in report["patterns"]] == [
            "cache == false and engine == pg"]
        assert report["summary"]["metrics"] == []
        assert any(w["code"] == "bookkeeping_metrics" for w in report["warnings"])


@pytest.mark.parametrize("text", [
    "a,outcome\n1,pass\n,pass\n",              # an empty cell: an absent path
    "a.b,outcome\n1,pass\n2,pass\n",           # a nested path
    "a,outcome\n1,pass\nx,pass\n",             # mixed types
    'a,outcome\n1,pass\n"[1, 2]",pass\n',      # a JSON list
    "a,outcome\n1,pass\n2,maybe\n",            # an unknown outcome
    "a,outcome,metric.m\n1,pass,x\n2,pass,1\n",  # a text metric
    "a,outcome,duration\n1,pass,x\n2,pass,1\n",  # a text duration
    "outcome\npass\n",                          # no config column
    'a,outcome\n1,pass\n"[1,",pass\n',          # malformed JSON: the row reader's error
    "a,result\n1,pass\n",                       # no outcome column
    "a,outcome\n1,pass,3\n2,pass\n",            # more cells than columns
])
def test_unusual_csv_falls_back_to_the_row_reader(tmp_path: Path, text: str) -> None:
    from configlab.results._columns import encode_csv

    path = tmp_path / "r.csv"
    path.write_text(text)
    with pytest.raises(FastPathUnavailable):
        encode_csv(path)


def test_pyarrow_reads_results_and_polars_takes_what_it_would_type(tmp_path: Path) -> None:
    """pyarrow reads configlab's own results (timestamps stay text); a config string that
    looks like a date (pyarrow would make it a timestamp) sends the file to Polars' reader,
    and both give the row reader's encoding."""
    from configlab.results._columns import _read_arrow

    plain = tmp_path / "plain.jsonl"
    ResultSet(_rows(seed=5, n=60)).to_jsonl(plain)
    frame = _read_arrow(plain)
    assert frame is not None and str(frame.schema["timestamp"]) == "String"
    _same(plain)
    dated = tmp_path / "dated.jsonl"
    rows = [Result({"since": f"2026-01-0{1 + i % 3}", "n": i % 4},
                   "fail" if i % 4 == 1 else "pass", test_id="t") for i in range(40)]
    ResultSet(rows).to_jsonl(dated)
    assert _read_arrow(dated) is None
    _same(dated)
    assert _read_arrow(tmp_path / "missing.jsonl") is None


def _same_encoding(fast: Any, slow: Any) -> None:
    assert fast.params == slow.params and fast.class_labels == slow.class_labels
    for name in ("codes", "outcomes"):
        assert np.array_equal(getattr(fast, name), getattr(slow, name))
    for name in ("numeric", "metrics"):
        left, right = getattr(fast, name), getattr(slow, name)
        assert left.keys() == right.keys()
        assert all(np.array_equal(left[k], right[k], equal_nan=True) for k in right)
    assert fast.test_ids == slow.test_ids


def test_parquet_columns_match_the_row_reader(tmp_path: Path) -> None:
    from configlab.integrations.exporters import to_parquet
    from configlab.integrations.ingest import from_parquet, load_encoded

    # "mode" mixes ints and floats: a text column, which the row reader reads
    typed = [Result({k: v for k, v in r.config.items() if k != "mode"}, r.outcome,
                    duration=r.duration, metrics=r.metrics, test_id=r.test_id,
                    timestamp=r.timestamp) for r in _rows()]
    path = to_parquet(ResultSet(typed), tmp_path / "r.parquet")
    rows = from_parquet(path)
    space = rows.infer_space()
    fast, fast_space = encode_parquet(path)
    assert fast_space.to_dict() == space.to_dict()
    _same_encoding(fast, rows.encode(space))
    encoded, _ = load_encoded(path)
    assert np.array_equal(encoded.codes, fast.codes)
    cli_fast = CliRunner().invoke(cli, ["analyze", "--results", str(path), "--json", "-"])
    cli_slow = CliRunner().invoke(cli, ["analyze", "--results", str(path), "--json", "-",
                                        "--outcome", "pass", "--outcome", "fail"])
    assert cli_fast.exit_code == cli_slow.exit_code == 0, cli_fast.output
    assert json.loads(cli_fast.output)["patterns"] == json.loads(cli_slow.output)["patterns"]


def test_parquet_with_text_columns_goes_through_the_row_reader(tmp_path: Path) -> None:
    from configlab.integrations.exporters import to_parquet
    from configlab.integrations.ingest import from_parquet, load_encoded
    from configlab.results import encode_columns

    mixed = ResultSet([Result({"a": v, "b": i % 2 == 0}, "fail" if i % 3 else "pass")
                       for i, v in enumerate([1, "x", None, [1]] * 5)])
    path = to_parquet(mixed, tmp_path / "mixed.parquet")
    with pytest.raises(FastPathUnavailable, match="canonical text"):
        encode_parquet(path)
    assert encode_columns(path) is None
    assert encode_columns(tmp_path / "nope.parquet") is None
    encoded, _ = load_encoded(path)
    expected = from_parquet(path)
    assert np.array_equal(encoded.codes, expected.encode(expected.infer_space()).codes)
    (tmp_path / "junk.parquet").write_bytes(b"not parquet")
    with pytest.raises(FastPathUnavailable, match="cannot read"):
        encode_parquet(tmp_path / "junk.parquet")


def test_timestamps_are_checked_by_columns_and_malformed_ones_fall_back(tmp_path: Path) -> None:
    rows = [{"config": {"a": i}, "outcome": "pass", "timestamp": stamp}
            for i, stamp in enumerate(["2026-01-01T00:00:00Z", "2026-01-01T00:00:00+02:00",
                                       "2026-01-01", "2026-01-01 10:00"])]
    path = tmp_path / "r.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    assert encode_jsonl(path)[0].n_rows == 4
    path.write_text("\n".join(json.dumps(r) for r in [*rows, {**rows[0], "timestamp":
                                                               "2026-02-30T00:00:00"}]) + "\n")
    with pytest.raises(FastPathUnavailable, match="malformed timestamp"):
        encode_jsonl(path)



@pytest.mark.parametrize("stamped", [True, False], ids=["polars", "arrow"])
def test_config_hashes_group_equal_configs_like_the_row_reader(tmp_path: Path, stamped: bool
                                                                ) -> None:
    """The columnar reader keys configs by a 64-bit hash folded column by column: equal configs
    share a key, different ones do not (a change in any one column, nested or not, changes
    it), and the flaky configs found are the row reader's (on both encoders: timestamps to
    check take the Polars one)."""
    rows = _rows(seed=4, n=300) if stamped else _plain_rows(seed=4, n=300)
    again = [Result(r.config, "pass" if r.outcome == "fail" else "fail", test_id=r.test_id)
             for r in rows[:40]]  # the same configs rerun with the other outcome: flaky
    path = ResultSet(rows + again).to_jsonl(tmp_path / "r.jsonl")
    fast, _ = encode_jsonl(path)
    assert fast.config_hashes is not None and fast.config_keys == ()
    slow_keys = [r.config_key for r in ResultSet.from_jsonl(path)]
    # same partition of the rows into configs as the row reader's canonical keys
    pairs = set(zip(slow_keys, fast.config_hashes.tolist(), strict=True))
    assert len(pairs) == len(set(slow_keys)) == len(set(fast.config_hashes.tolist()))
    slow_report = analyze(ResultSet.from_jsonl(path)).to_dict()["confidence"]
    fast_report = analyze_encoded(fast).to_dict()["confidence"]
    assert len(fast_report["flaky_groups"]) == len(slow_report["flaky_groups"]) == 40
    assert [g["runs"] for g in fast_report["flaky_groups"]] == [
        g["runs"] for g in slow_report["flaky_groups"]]


def _plain_rows(seed: int = 1, n: int = 400) -> list[Result]:
    """:func:`_rows` without timestamps (the shape the Arrow encoder takes), plus a
    many-valued float and int, a text with many values and a bookkeeping field."""
    rng = random.Random(seed)
    rows = []
    for i, row in enumerate(_rows(seed, n)):
        config = {**row.config, "big": rng.randint(0, 100_000), "x": rng.random() * 1e3}
        rows.append(Result(config, row.outcome, duration=row.duration,
                           metrics={**row.metrics, "exit_status": float(row.outcome == "fail")},
                           test_id=row.test_id if i % 7 else None))
    return rows


def test_arrow_encoder_takes_plain_files_and_matches_polars_and_rows(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Files without timestamps are encoded from the Arrow table without Polars: the same
    space, codes, outcomes, numbers, metrics and test ids as the Polars encoder and the row
    reader, and the same patterns."""
    from configlab.results import _arrow_columns
    from configlab.results._columns import _read_arrow_table

    path = ResultSet(_plain_rows()).to_jsonl(tmp_path / "r.jsonl")
    table = _read_arrow_table(path)
    assert table is not None and "timestamp" not in table.column_names
    arrow = _arrow_columns.encode_table(table, path, None)
    assert arrow is not None
    _same(path)  # encode_jsonl: the Arrow encoder, against the row reader
    monkeypatch.setattr(_arrow_columns, "encode_table", lambda *args: None)
    polars, polars_space = encode_jsonl(path)
    assert arrow[1].to_dict() == polars_space.to_dict()
    _same_encoding(arrow[0], polars)


@pytest.mark.parametrize("extra", [
    {"timestamp": "2026-01-01T00:00:00Z"},   # timestamps are checked by the Polars encoder
    {"metrics": {"qps": "fast"}},             # a text metric
    {"duration": "slow"},                     # a text duration
    {"stdout": 3},                            # a number where text belongs (not in row 1)
])
def test_arrow_encoder_leaves_other_shapes_to_polars(tmp_path: Path, extra: dict[str, Any]
                                                     ) -> None:
    from configlab.results import _arrow_columns
    from configlab.results._columns import _read_arrow_table

    path = tmp_path / "r.jsonl"
    rows = [{"config": {"a": i % 3, "b": {"c": i % 2 == 0}}, "outcome": "pass",
             **(extra if i or "stdout" not in extra else {})} for i in range(6)]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    table = _read_arrow_table(path)
    assert table is not None
    assert _arrow_columns.encode_table(table, path, None) is None


@pytest.mark.parametrize("config", [
    {"a": None},                 # a null leaf
    {"a": {"b": None}},          # a null object
    {"a": [1]},                  # a list leaf
    {"": 1},                     # a key no path can address
])
def test_arrow_encoder_leaves_unusual_configs_to_polars(tmp_path: Path,
                                                        config: dict[str, Any]) -> None:
    from configlab.results import _arrow_columns
    from configlab.results._columns import _read_arrow_table

    path = tmp_path / "r.jsonl"
    rows = [{"config": {"a": {"b": 1}} if "a" in config and isinstance(config["a"], dict)
             else {"a": 1}, "outcome": "pass"}, {"config": config, "outcome": "fail"}]
    if "" in config:
        rows = [{"config": config, "outcome": "pass"}] * 2
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    table = _read_arrow_table(path)
    if table is not None:
        assert _arrow_columns.encode_table(table, path, None) is None
    assert encode_columns_or_none(path) is None


def encode_columns_or_none(path: Path) -> Any:
    from configlab.results import encode_columns

    return encode_columns(path)


def test_arrow_encoder_leaves_element_parameters_and_odd_fields(tmp_path: Path) -> None:
    """A given space with element parameters goes through the row reader; an unknown field
    is the row reader's, as on the Polars path; an empty column converts to an empty array."""
    import pyarrow as pa

    from configlab.results import _arrow_columns
    from configlab.results._columns import _read_arrow_table
    from configlab.space import Space

    path = ResultSet(_plain_rows(n=30)).to_jsonl(tmp_path / "r.jsonl")
    table = _read_arrow_table(path)
    space = Space.from_dict({"parameters": {
        "labels": {"type": "map", "keys": ["a", "b"], "optional": True},
        "labels.*": {"type": "choice", "values": ["x", "y"], "active_if": "len(labels) > 0"}}})
    assert _arrow_columns.encode_table(table, path, space) is None
    odd = tmp_path / "odd.jsonl"
    odd.write_text('{"config": {"a": 1}, "outcome": "pass", "extra": 1}\n')
    with pytest.raises(FastPathUnavailable):
        _arrow_columns.encode_table(_read_arrow_table(odd), odd, None)
    odd.write_text('{"config": {"a": 1}, "outcome": "pass"}\n{"config": null, "outcome": "pass"}\n')
    assert _arrow_columns.encode_table(_read_arrow_table(odd), odd, None) is None
    assert _arrow_columns._numpy(pa.chunked_array([], type=pa.int64())).size == 0
    halves = pa.chunked_array([pa.array([1.0, None]).slice(1), pa.array([2.5])])
    assert np.array_equal(_arrow_columns._numpy(halves), [np.nan, 2.5], equal_nan=True)
