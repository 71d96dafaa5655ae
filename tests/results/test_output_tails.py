"""The output tails (stdout/stderr) of results as columns of the result store (issue 16).

SQLite and a real PostgreSQL server (tests/team_servers.py); a store written before the
columns existed is upgraded when it is opened, and a read-only one still reads.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from configlab._internal.objectstore import _open_read_only
from configlab.cli import cli
from configlab.errors import ResultsError
from configlab.results import Result, ResultSet, ResultStore
from configlab.storage.postgres import PgIndexConnection

#: The results table as configlab wrote it before the output columns (wave 2).
OLD_SCHEMA = """CREATE TABLE results (
    id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT, test_id TEXT NOT NULL DEFAULT '',
    outcome TEXT NOT NULL, duration REAL, config TEXT NOT NULL,
    metrics TEXT NOT NULL DEFAULT '{}', snapshot_id TEXT, timestamp TEXT,
    recorded_at TEXT NOT NULL, ts REAL NOT NULL)"""
OLD_ROW = ("INSERT INTO results (run_id, test_id, outcome, config, recorded_at, ts)"
           " VALUES ('old', 't', 'fail', '{\"a\":1}', '2024-01-01T00:00:00+00:00', 0)")

OOM = Result({"maxmemory": "1mb"}, "fail", duration=0.5, test_id="redis::set", run_id="r",
             stdout="OK\n",
             stderr="(error) OOM command not allowed when used memory > 'maxmemory'\n")
INDEX = Result({"databases": 1}, "fail", test_id="redis::select", run_id="r",
               stderr="(error) ERR DB index is out of range\n")
QUIET = Result({"databases": 16}, "pass", test_id="redis::select", run_id="r")


def _round_trip(store: ResultStore) -> None:
    store.record_many([OOM, INDEX, QUIET])
    loaded = store.load(run_id="r")
    assert list(loaded) == [OOM, INDEX, QUIET]
    assert loaded.select(where='"OOM" in stderr') == ResultSet([OOM])
    assert loaded.select(where="\"out of range\" in stderr || \"OK\" in stdout") == \
        ResultSet([OOM, INDEX])


def test_sqlite_store_keeps_and_searches_output_tails(tmp_path: Path) -> None:
    with ResultStore(tmp_path / "store") as store:
        _round_trip(store)


def test_postgres_store_keeps_and_searches_output_tails(pg_url: str) -> None:
    with ResultStore(pg_url) as store:
        _round_trip(store)


def test_an_older_sqlite_store_gets_the_columns(tmp_path: Path) -> None:
    (tmp_path / "store").mkdir()
    conn = sqlite3.connect(tmp_path / "store" / "index.sqlite")
    conn.execute(OLD_SCHEMA)
    conn.execute(OLD_ROW)
    conn.commit()
    conn.close()
    with ResultStore(tmp_path / "store") as store:
        store.record(OOM)
        old, new = store.load()
    assert (old.run_id, old.stdout, old.stderr, new) == ("old", None, None, OOM)
    with sqlite3.connect(tmp_path / "store" / "index.sqlite") as conn:
        columns = [row[1] for row in conn.execute("PRAGMA table_info(results)")]
    assert columns[-2:] == ["stdout", "stderr"]


def test_an_older_postgres_store_gets_the_columns(pg_url: str) -> None:
    conn = PgIndexConnection(pg_url)
    conn.execute(OLD_SCHEMA)
    conn.execute(OLD_ROW)
    conn.close()
    with ResultStore(pg_url) as store:
        store.record(INDEX)
        old, new = store.load()
    assert (old.run_id, old.stderr, new) == ("old", None, INDEX)
    with ResultStore(pg_url) as again:  # now current: opened without any schema change
        assert again.count() == 2


def test_an_older_store_that_cannot_change_still_reads(tmp_path: Path) -> None:
    (tmp_path / "store").mkdir()
    index = tmp_path / "store" / "index.sqlite"
    with sqlite3.connect(index) as conn:
        conn.execute(OLD_SCHEMA)
        conn.execute(OLD_ROW)
    store = ResultStore(tmp_path / "store")

    class ReadOnly:  # what open_index falls back to on a read-only mount (a real connection)
        def connect(self) -> object:
            return _open_read_only(index)

    store.location = ReadOnly()  # type: ignore[assignment]
    (old,) = store.load()
    assert (old.run_id, old.outcome, old.stdout) == ("old", "fail", None)
    store.close()
    # a read-only index without a results table (a snapshot-only store): a clear error
    with sqlite3.connect(index) as conn:
        conn.execute("DROP TABLE results")
    empty = ResultStore(tmp_path / "store")
    empty.location = ReadOnly()  # type: ignore[assignment]
    with pytest.raises(ResultsError, match="readonly"):
        empty.load()


def test_configlab_run_records_what_the_command_wrote(tmp_path: Path) -> None:
    script = "import sys; print('ready'); sys.exit('DB index is out of range')"
    result = CliRunner().invoke(cli, ["run", "--store", str(tmp_path / "store"), "--",
                                      sys.executable, "-c", script])
    assert result.exit_code == 1
    (recorded,) = ResultStore(tmp_path / "store").load()
    assert (recorded.stdout, recorded.stderr) == ("ready\n", "DB index is out of range\n")
    report = CliRunner().invoke(cli, ["report", "--results", str(tmp_path / "store"),
                                      "--where", '"out of range" in stderr', "--to", "junit",
                                      "-o", str(tmp_path / "junit.xml")])
    assert report.exit_code == 0, report.output
    assert "<system-err>DB index is out of range\n</system-err>" in \
        (tmp_path / "junit.xml").read_text()


def test_analysis_reads_the_tails_only_when_asked(tmp_path: Path) -> None:
    with ResultStore(tmp_path / "store") as store:
        store.record_many([
            Result({"a": k % 3, "b": k % 2}, "fail" if k % 3 == 0 else "pass",
                   stderr="OOM command not allowed\n" if k % 2 else "ready\n")
            for k in range(12)])
        assert all(r.stderr is None for r in store.load(output=False))
        assert ResultSet.from_store(tmp_path / "store", output=False)[1].stderr is None
    # --where naming stderr: the tails are read, and select
    analysed = CliRunner().invoke(cli, ["analyze", "--results", str(tmp_path / "store"),
                                        "--where", '"OOM" in stderr', "--json", "-", "-q"])
    assert analysed.exit_code == 0, analysed.output
    assert json.loads(analysed.stdout)["summary"]["n_rows"] == 6
    counted = CliRunner().invoke(cli, ["coverage", "--space", str(_space(tmp_path)),
                                       "--results", str(tmp_path / "store"), "--json", "-"])
    assert counted.exit_code == 0 and json.loads(counted.stdout)["n_rows"] == 12


def _space(tmp_path: Path) -> Path:
    path = tmp_path / "space.yaml"
    path.write_text("parameters:\n  a: [0, 1, 2]\n  b: [0, 1]\n")
    return path
