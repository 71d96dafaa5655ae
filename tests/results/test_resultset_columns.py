"""ResultSet on columns: exact round trips, the column readers against the row readers, and
selection / encoding / inference on columns against the row algorithms."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from configlab._internal.canonical import canonical_json
from configlab.errors import ConfiglabError
from configlab.results import Result, ResultSet, Selection, _frame, _readcols, normalize_timestamp
from configlab.results._encode import encode_results
from configlab.results._select import select
from configlab.space import Space

_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0.0, 1.0, -0.0, 2.0, 1, 0, "1", "true", "null", "", "a.b"]),
    st.text(max_size=5),
)
_VALUES = st.one_of(_SCALARS, st.lists(_SCALARS, max_size=3), st.just({}))
_KEYS = st.sampled_from(["a", "b", "c", "d.e", "f"])


@st.composite
def _config(draw: st.DrawFn) -> dict[str, Any]:
    """A config over a few shared keys, nested one level: absent, null, scalars of any type,
    lists, empty objects."""
    config: dict[str, Any] = {}
    for key in draw(st.lists(_KEYS, unique=True, max_size=4)):
        if draw(st.booleans()):
            config[key] = draw(_VALUES)
        else:
            config[key] = {inner: draw(_VALUES)
                           for inner in draw(st.lists(_KEYS, unique=True, min_size=1,
                                                      max_size=2))}
    return config


_RESULTS = st.builds(
    Result,
    config=_config(),
    outcome=st.sampled_from(["pass", "fail", "error", "skip"]),
    duration=st.none() | st.floats(min_value=0, max_value=1e6) | st.integers(0, 100),
    metrics=st.dictionaries(st.sampled_from(["m", "n", "duration"]),
                            st.floats(allow_nan=False, allow_infinity=False), max_size=2),
    test_id=st.sampled_from(["", "t::a", "t::b"]),
    run_id=st.none() | st.sampled_from(["r1", "r2"]),
    timestamp=st.none() | st.sampled_from(["2024-05-01T10:00:00Z", "2024-05-01T12:00:00.25",
                                           "2024-05-01T09:00:00-02:00"]),
    stdout=st.none() | st.text(max_size=4),
)


def _text(results: Any) -> list[str]:
    """Each result's canonical JSON: exact types (1 vs 1.0 vs true, null vs absent)."""
    return [canonical_json(r.to_dict()) for r in results]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_RESULTS, max_size=8), st.lists(_RESULTS, max_size=4))
def test_columns_keep_every_result_exactly(rows: list[Result], more: list[Result]) -> None:
    results = ResultSet(rows)
    assert _text(results) == _text(rows)  # still buffered
    results._columns()
    assert results._pending == [] and len(results) == len(rows)
    assert _text(results) == _text(rows) and _text(results[::-1]) == _text(rows[::-1])
    assert [results[i].config == rows[i].config for i in range(len(rows))] == [True] * len(rows)
    assert results == ResultSet(rows) and results.configs == [r.config for r in rows]
    combined = results + ResultSet(more)
    assert _text(combined) == _text(rows + more)
    assert combined == ResultSet([*rows, *more])
    grown = ResultSet(rows)
    grown.extend(more)
    assert _text(grown) == _text(rows + more)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_RESULTS, min_size=1, max_size=8))
def test_files_round_trip_exactly_and_deterministically(tmp_path_factory: Any,
                                                        rows: list[Result]) -> None:
    folder = tmp_path_factory.mktemp("rt")
    results = ResultSet(rows)
    first = results.to_jsonl(folder / "a.jsonl").read_bytes()
    back = ResultSet.from_jsonl(folder / "a.jsonl")
    assert _text(back) == _text(rows)
    assert back.to_jsonl(folder / "b.jsonl").read_bytes() == first


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_RESULTS, min_size=1, max_size=10),
       st.sampled_from([None, "a == 1", "a != null", "d.e > 0 or b == 'true'", "f in [1, 2]",
                        "stdout == ''"]),
       st.sampled_from([(), ("pass",), ("fail", "error")]),
       st.sampled_from([None, "2024-05-01T10:00:00+00:00"]))
def test_select_on_columns_matches_the_row_selection(rows: list[Result], where: str | None,
                                                     outcomes: tuple[str, ...],
                                                     since: str | None) -> None:
    results = ResultSet(rows)
    chosen = results.select(where=where, outcome=outcomes or None, since=since,
                            test_id="t::*", run_id=None)
    expected = select(rows, Selection(test_ids=("t::*",), outcomes=outcomes, since=since,
                                      where=where))
    assert _text(chosen) == _text(expected)
    assert _text(results.select(run_id="r1")) == _text(r for r in rows if r.run_id == "r1")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_RESULTS, min_size=1, max_size=10))
def test_inference_and_encoding_on_columns_match_the_rows(rows: list[Result]) -> None:
    results = ResultSet(rows)
    try:
        expected_space = Space.infer([r.config for r in rows])
    except Exception as error:  # no parameter at all: the same error
        with pytest.raises(type(error)):
            results.infer_space()
        return
    space = results.infer_space()
    if _frame._addressable(results._columns()):  # inferred from the columns: exactly
        assert space.to_dict() == expected_space.to_dict()
        assert space.warnings == expected_space.warnings
    else:
        # a key both an object and a value: Space.infer over the rebuilt configs, whose keys
        # come in the set's leaf order, so only the order of parameters and warnings may differ
        assert space.to_dict() == Space.infer(results.configs).to_dict()
        assert sorted(space.warnings) == sorted(expected_space.warnings)
        assert {p.path: p for p in space.parameters} == {
            p.path: p for p in expected_space.parameters}
    encoded, expected = results.encode(space), encode_results(list(results), space)
    assert encoded.codes.tolist() == expected.codes.tolist()
    assert encoded.outcomes.tolist() == expected.outcomes.tolist()
    assert sorted(encoded.metrics) == sorted(expected.metrics)
    for name, values in expected.metrics.items():
        assert encoded.metrics[name].tobytes() == values.tobytes()
    assert sorted(encoded.numeric) == sorted(expected.numeric)
    for name, values in expected.numeric.items():
        assert encoded.numeric[name].tobytes() == values.tobytes()
    assert encoded.test_ids == expected.test_ids
    hashes = encoded.config_hashes
    assert hashes is not None
    keys = [r.config_key for r in rows]
    for i in range(len(rows)):
        for j in range(len(rows)):
            # equal configs get equal keys; equal keys mean configs equal as values (Polars
            # hashes -0.0 like 0.0, which sha256 of the text tells apart)
            if keys[i] == keys[j]:
                assert hashes[i] == hashes[j]
            if hashes[i] == hashes[j]:
                assert rows[i].config == rows[j].config


def _write(path: Path, lines: list[Any]) -> Path:
    path.write_text("".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines))
    return path


def _rows(path: Path) -> list[str]:
    """The row reader's results, as canonical text."""
    return [canonical_json(Result.from_dict(json.loads(line)).to_dict())
            for line in path.read_text().splitlines() if line.strip()]


def test_jsonl_column_reader_settles_what_arrow_cannot_tell(tmp_path: Path) -> None:
    lines: list[Any] = [
        {"config": {"f": 0.5, "g": 1.0, "i": 3, "n": {"x": True}, "s": "a"}, "outcome": "pass",
         "metrics": {"m": 1}, "exit_status": 0, "timestamp": "2024-05-01T10:00:00.5Z"},
        "   ",
        {"config": {"f": 1.0, "g": 2, "i": 4, "s": "b", "late": None}, "outcome": "fail",
         "duration": 2, "test_id": None, "timestamp": "2024-05-01T12:00:00+02:00"},
        {"config": {"f": 0.25, "g": 3.5, "i": 5, "n": {"x": False}, "s": "c"}, "outcome": "pass",
         "metrics": {"m": 2.5, "k": 1}},
    ]
    path = _write(tmp_path / "r.jsonl", lines)
    table = _readcols.read_table("jsonl", path)
    assert table is not None  # read by columns
    kinds = {leaf.path: leaf.json for leaf in table.leaves}
    # f: floats only (1.0 checked on its line); g: 1.0, 2 and 3.5 mix an int in: JSON text
    assert kinds == {"f": False, "g": True, "i": False, "n.x": False, "s": False, "late": True}
    results = ResultSet.from_jsonl(path)
    assert _text(results) == _rows(path)
    assert results[1].config["g"] == 2 and type(results[1].config["g"]) is int
    assert results[1].config["late"] is None and "late" not in results[0].config
    assert [leaf.path for leaf in table.leaves] == ["f", "g", "i", "n.x", "s", "late"]
    assert results.infer_space().to_dict() == Space.infer(
        [json.loads(line)["config"] for line in path.read_text().splitlines()
         if line.strip()]).to_dict()


@pytest.mark.parametrize("lines", [
    [{"config": {"a": 1}, "outcome": "pass"}, {"config": {"a": "x"}, "outcome": "pass"}],
    [{"config": {"a": [1]}, "outcome": "pass"}],
    [{"config": {"a": {}}, "outcome": "pass"}, {"config": {"a": {"b": 1}}, "outcome": "pass"}],
    [{"config": {"a": None}, "outcome": "pass"}, {"config": {"a": {"b": 1}}, "outcome": "pass"}],
    [{"config": {"a": 1}, "outcome": "pass", "metrics": {"m": None}},
     {"config": {"a": 1}, "outcome": "pass", "metrics": {"m": 1}}],
    [{"config": {"a": 1}, "outcome": "pass", "timestamp": 1714557600}],
    [{"config": {"a": 1}, "outcome": "won"}],
    [{"config": {"a": 1}, "outcome": "pass", "colour": "red"}],
])
def test_shapes_the_columns_cannot_take_are_read_line_by_line(tmp_path: Path,
                                                              lines: list[Any]) -> None:
    path = _write(tmp_path / "r.jsonl", lines)
    assert _readcols.read_table("jsonl", path) is None
    try:
        expected = _rows(path)
    except Exception as error:  # the row reader's error, with file and line
        with pytest.raises(type(error), match=r"r\.jsonl:\d"):
            ResultSet.from_jsonl(path)
        return
    assert _text(ResultSet.from_jsonl(path)) == expected


def test_csv_column_reader_matches_the_row_reader(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text('outcome,duration,test_id,timestamp,metric.m,exit_status,a,b,c,q\n'
                    'pass,1.5,t::a,2024-05-01T10:00:00Z,3,0,1,true,0.5,"""42"""\n'
                    'fail,,,,,1,2,false,1.0,x\n')
    table = _readcols.read_table("csv", path)
    assert table is not None
    results = ResultSet.from_csv(path)
    assert results[0].config == {"a": 1, "b": True, "c": 0.5, "q": "42"}
    assert results[0].metrics == {"m": 3.0, "exit_status": 0.0}
    assert results[1].metrics == {"exit_status": 1.0} and results[1].test_id == ""
    assert results[0].timestamp == "2024-05-01T10:00:00+00:00"
    (tmp_path / "rows.csv").write_text(path.read_text() + "skip,,,,,,,,,\n")  # empty cells
    assert _readcols.read_table("csv", tmp_path / "rows.csv") is None
    assert _text(ResultSet.from_csv(tmp_path / "rows.csv")[:2]) == _text(results)


@settings(max_examples=200, deadline=None)
@given(st.datetimes(timezones=st.none()), st.sampled_from(["", "Z", "+00:00", "+02:00"]),
       st.sampled_from([0, 1, 3, 6]))
def test_timestamps_normalised_by_columns_as_by_rows(moment: Any, zone: str, digits: int
                                                     ) -> None:
    text = moment.isoformat(timespec="seconds")
    if digits:
        text += "." + f"{moment.microsecond:06d}"[:digits]
    text += zone
    import polars as pl

    got = _frame.normalized_stamps(pl.Series([text, None])).to_list()
    assert got == [normalize_timestamp(text), None]


def test_appending_is_buffered_and_folded_once() -> None:
    results = ResultSet()
    for i in range(1000):
        results.append(Result({"i": i}, "pass"))
        assert len(results) == i + 1
    assert results._table is None and len(results._pending) == 1000
    assert results[-1].config == {"i": 999}
    assert len(results.select(where="i >= 500")) == 500
    assert results._table is not None and results._table.height == 1000
    results.append(Result({"i": "x"}, "fail"))
    assert results[1000].config == {"i": "x"} and results[999].config == {"i": 999}
    with pytest.raises(IndexError):
        results[1001]
    assert len(results.select(outcome="fail")) == 1


def test_parquet_read_straight_to_columns_as_the_row_reader_reads_it(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    from configlab.integrations import ingest
    from configlab.integrations.exporters import to_parquet

    rows = [Result({"db": {"engine": "pg", "pool": 8}, "r": 0.5, "mixed": 1, "n": None},
                   "pass", duration=1.5, metrics={"m": 2.0}, test_id="t::a", run_id="r1",
                   timestamp="2024-05-01T10:00:00Z"),
            Result({"db": {"engine": "sqlite"}, "r": 1.0, "mixed": "x", "l": [1, "a"]}, "fail")]
    path = to_parquet(ResultSet(rows), tmp_path / "run_id=r9" / "part-0.parquet")
    table = _readcols.read_table("parquet", path)
    assert table is not None  # typed and text columns, straight to columns
    assert {leaf.path: leaf.json for leaf in table.leaves} == {
        "db.engine": False, "db.pool": False, "r": False, "mixed": True, "n": True, "l": True}
    assert _text(ingest.from_parquet(path)) == _text(rows)
    import polars as pl

    pl.DataFrame({"outcome": ["pass"], "metric.m": [float("nan")], "a": [1]}).write_parquet(
        tmp_path / "nan.parquet")
    assert _readcols.read_table("parquet", tmp_path / "nan.parquet") is None
    with pytest.raises(ConfiglabError, match="finite"):
        ingest.from_parquet(tmp_path / "nan.parquet")


def _row_csv(rows: list[Result]) -> str:
    """The CSV a row-per-Result writer gives (the layout of ResultSet.to_csv)."""
    import csv
    import io

    from configlab.results import RESERVED_COLUMNS, format_cell
    from configlab.results._model import _rows

    columns, flat = _rows(rows)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in flat:
        cells = []
        for column in columns:
            value = row.get(column, None if column in RESERVED_COLUMNS else "\0absent")
            if value == "\0absent" or (column in RESERVED_COLUMNS and value in (None, "")):
                cells.append("")
            elif column in RESERVED_COLUMNS or column.startswith("metric."):
                cells.append(repr(value) if isinstance(value, float) else str(value))
            else:
                cells.append(format_cell(value))
        writer.writerow(cells)
    return buffer.getvalue()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_RESULTS, max_size=8))
def test_csv_written_by_columns_as_by_rows(tmp_path_factory: Any, rows: list[Result]) -> None:
    path = ResultSet(rows).to_csv(tmp_path_factory.mktemp("csv") / "r.csv")
    # byte for byte, columns in first-seen order (a row with a "\r" has every cell quoted)
    if b"\r" not in path.read_bytes():
        assert path.read_bytes() == _row_csv(rows).encode()
    # the CSV layout has no output tails
    assert ResultSet.from_csv(path) == ResultSet(dataclasses.replace(r, stdout=None)
                                                 for r in rows)


def test_common_timestamp_columns_take_the_short_path() -> None:
    import polars as pl

    naive = ["2024-05-01T10:00:00", None, "2024-12-31T23:59:59"]
    done = ["2024-05-01T10:00:00+00:00", None, "2024-12-31T23:59:59+00:00"]
    assert _frame.normalized_stamps(pl.Series(naive)).to_list() == done
    assert _frame.normalized_stamps(pl.Series(done)).to_list() == done
    with pytest.raises(ConfiglabError, match="ISO 8601"):  # checked, not only reshaped
        _frame.normalized_stamps(pl.Series(["2024-02-30T10:00:00"]))


def test_csv_cells_with_a_carriage_return_read_back(tmp_path: Path) -> None:
    # the csv module quotes only its own line terminator ("\n"): a bare "\r" used to be
    # written unquoted and read back as a line break, splitting the row
    rows = [Result({"note": "a\rb", "n": 1}, "pass", test_id="t"),
            Result({"note": "plain", "n": 2}, "fail", test_id="t")]
    path = ResultSet(rows).to_csv(tmp_path / "r.csv")
    lines = path.read_bytes().split(b"\n")
    assert lines[1].startswith(b'"pass"') and not lines[2].startswith(b'"')
    assert ResultSet.from_csv(path) == ResultSet(rows)
