"""``configlab exec``, the local executor, sharding and progress (issue 16 items 2, 4, 5)."""

from __future__ import annotations

import io
import json
import shlex
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from configlab.cli import cli
from configlab.errors import ExecutionError
from configlab.execution import (
    CommandJob,
    CommandTemplate,
    LocalExecutor,
    Progress,
    Shard,
    assign,
    check_complete,
    make_executor,
    run_job,
    shared_run_id,
)
from configlab.execution._suite_run import SuiteItem, load_suite, run_suite
from configlab.results import ResultSet
from tests.paths import DATA_DIR

PY = shlex.quote(sys.executable)
SPACE = """name: s
parameters:
  a: {type: int, min: 1, max: 9}
  b: [x, y, z]
  c: bool
"""
#: fails when c is false, prints something on both streams
APP = """import json, sys
config = json.load(open(sys.argv[1]))
print("starting with", config["b"])
if not config["c"]:
    print("c is off: refusing to start", file=sys.stderr)
    sys.exit(3)
"""


def _suite(tmp_path: Path) -> Path:
    (tmp_path / "space.yaml").write_text(SPACE)
    (tmp_path / "app.py").write_text(APP)
    result = CliRunner().invoke(cli, ["generate", "--space", str(tmp_path / "space.yaml"),
                                      "--format", "json", "--out", str(tmp_path / "suite")])
    assert result.exit_code == 0, result.output
    return tmp_path / "suite"


def _exec(tmp_path: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        cli, ["exec", "--store", str(tmp_path / "store"), *args, "--", sys.executable,
              str(tmp_path / "app.py"), "{config}"])
    return result.exit_code, result.stderr


def _key(results: ResultSet) -> list[tuple[str, str, str, float]]:
    return sorted((r.test_id, r.outcome, json.dumps(r.config, sort_keys=True),
                   r.metrics.get("exit_status", -1.0)) for r in results)


def test_exec_runs_every_config_and_records_results(tmp_path: Path) -> None:
    suite = _suite(tmp_path)
    code, err = _exec(tmp_path, "--suite", str(suite), "--jobs", "4", "--run-id", "r1",
                      "--jsonl", str(tmp_path / "out.jsonl"))
    assert code == 1
    stored = ResultSet.from_store(tmp_path / "store", run_id="r1")
    size = len(list(suite.glob("config-*")))
    assert len(stored) == size and all(r.snapshot_id for r in stored)
    failing = [r for r in stored if r.outcome == "fail"]
    assert failing and all(r.config["c"] is False for r in failing)
    assert all(r.metrics["exit_status"] == 3.0 and r.metrics["peak_rss_mb"] > 0
               for r in failing)
    assert "c is off: refusing to start" in err and "exec[config-" in err
    # the store keeps the output tails: searchable, and the same as the JSON lines
    assert all(r.stderr == "c is off: refusing to start\n" and r.stdout.startswith("starting")
               for r in failing)
    assert stored.select(where='"refusing" in stderr') == ResultSet(failing)
    lines = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert len(lines) == size
    assert any(line["stderr"] == "c is off: refusing to start\n" for line in lines)


def test_parallel_results_equal_serial(tmp_path: Path) -> None:
    suite = _suite(tmp_path)
    _exec(tmp_path, "--suite", str(suite), "--jobs", "1", "--run-id", "serial", "-q")
    _exec(tmp_path, "--suite", str(suite), "--jobs", "8", "--run-id", "par", "-q")
    serial = ResultSet.from_store(tmp_path / "store", run_id="serial")
    parallel = ResultSet.from_store(tmp_path / "store", run_id="par")
    assert _key(serial) == _key(parallel)


def test_sharded_runs_merge_to_one_run(tmp_path: Path) -> None:
    _suite(tmp_path)
    space = str(tmp_path / "space.yaml")
    _exec(tmp_path, "--space", space, "--seed", "3", "--run-id", "whole", "-q", "--format", "json")
    for index in (1, 2, 3):
        code, _ = _exec(tmp_path, "--space", space, "--seed", "3", "--shard", f"{index}/3",
                        "--format", "json",
                        "--run-id", "sharded", "-q", "--no-snapshot")
        assert code in (0, 1)
    whole = ResultSet.from_store(tmp_path / "store", run_id="whole")
    sharded = ResultSet.from_store(tmp_path / "store", run_id="sharded")
    assert _key(whole) == _key(sharded)
    check = check_complete([r.test_id for r in sharded], [r.metrics for r in sharded])
    assert check.ok and check.shards_seen == (1, 2, 3) and check.expected == len(whole)
    partial = [r for r in sharded if r.metrics["shard"] != 2]
    bad = check_complete([r.test_id for r in partial] + [partial[0].test_id],
                         [r.metrics for r in partial] + [partial[0].metrics])
    assert not bad.ok
    problems = " ".join(bad.problems())
    assert "ran in more than one shard" in problems and "missing" in problems
    assert "shard(s) 2 of 3 sent no results" in problems


def test_shard_balancing_and_parsing() -> None:
    names = [f"c{k}" for k in range(7)]
    assert assign(names, 3) == [1, 2, 3, 1, 2, 3, 1]
    # one long config on its own shard, the six short ones on the other
    times = {"c0": 10.0, **{f"c{k}": 1.0 for k in range(1, 7)}}
    assert assign(names, 2, times) == [1, 2, 2, 2, 2, 2, 2]
    # unknown durations count as the mean of the known ones (13 / 4)
    assert assign(names, 2, {"c0": 10.0, "c1": 1.0, "c2": 1.0, "c3": 1.0}) == [
        1, 2, 1, 2, 2, 2, 2]
    assert Shard.parse(" 2/3 ").select(names) == [1, 4]
    assert str(Shard.parse("1/1")) == "1/1"
    for text in ("0/3", "4/3", "a/b", "1/0", ""):
        with pytest.raises(ExecutionError):
            Shard.parse(text)
    with pytest.raises(ExecutionError):
        assign(names, 0)


def test_shared_run_id_from_ci_variables() -> None:
    assert shared_run_id({"CONFIGLAB_RUN_ID": "x", "GITHUB_RUN_ID": "5"}) == "x"
    assert shared_run_id({"GITHUB_RUN_ID": "5", "GITHUB_RUN_ATTEMPT": "2"}) == "gh-5-2"
    assert shared_run_id({"CI_PIPELINE_ID": "77"}) == "gl-77"
    assert shared_run_id({}) is None


def test_local_executor_order_callbacks_and_errors() -> None:
    seen: list[int] = []
    pool = LocalExecutor(4)
    out = pool.map(lambda x: (time.sleep(0.01 * (5 - x)), x * x)[1], list(range(5)),
                   lambda i, r: seen.append(i))
    assert out == [0, 1, 4, 9, 16] and sorted(seen) == [0, 1, 2, 3, 4]
    assert LocalExecutor(1).map(str, [1, 2]) == ["1", "2"]

    def boom(x: int) -> int:
        raise RuntimeError(f"bad {x}")

    with pytest.raises(RuntimeError):
        pool.map(boom, [1, 2, 3])
    with pytest.raises(ExecutionError):
        LocalExecutor(0)
    with pytest.raises(ExecutionError):
        make_executor("ftp://x")
    assert make_executor(None, 3).name == "local"
    pool.close()


def test_run_job_writes_the_config_when_no_file_is_given(tmp_path: Path) -> None:
    show = f"{PY} -c 'import sys; print(open(sys.argv[1]).read())' {{config}}"
    job = CommandJob(index=2, name="n", config={"a": {"b": 1}}, fmt="json",
                     command=CommandTemplate(show))
    done = run_job(job)
    assert done.outcome == "pass" and json.loads(done.process.stdout) == {"a": {"b": 1}}
    bad = run_job(CommandJob(index=1, name="n", config={"a": 1}, fmt="no-such-format",
                             command=CommandTemplate("true")))
    assert bad.outcome == "error" and "could not write the config" in bad.why


def test_a_hundred_sleeping_runs_at_once(tmp_path: Path) -> None:
    jobs = [CommandJob(index=k, name=f"c{k}", config={"k": k},
                       command=CommandTemplate("sleep 0.5")) for k in range(1, 101)]
    started = time.perf_counter()
    run = run_suite(jobs, LocalExecutor(100), store=tmp_path / "store", snapshot=False,
                    run_id="many")
    assert time.perf_counter() - started < 20  # 100 x 0.5 s in series would be 50 s
    assert run.ok and len(ResultSet.from_store(tmp_path / "store", run_id="many")) == 100


def test_load_suite_forms_and_errors(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_text('{"x": 1}\n\n{"x": 2}\n')
    assert [i.name for i in load_suite(tmp_path / "a.jsonl")] == ["config-0001.json",
                                                                  "config-0002.json"]
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "b.json").write_text('{"y": 2}')
    (plain / "a.yaml").write_text("y: 1\n")
    assert [i.config for i in load_suite(plain)] == [{"y": 1}, {"y": 2}]
    for text in ('{"x": 1}\nnot json\n', "[1]\n", "\n"):
        (tmp_path / "bad.jsonl").write_text(text)
        with pytest.raises(ExecutionError):
            load_suite(tmp_path / "bad.jsonl")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ExecutionError, match="no config files"):
        load_suite(empty)
    (empty / "manifest.json").write_text("[]")
    with pytest.raises(ExecutionError, match="not a configlab manifest"):
        load_suite(empty)
    with pytest.raises(ExecutionError, match="no such suite"):
        load_suite(tmp_path / "nowhere")
    assert SuiteItem("n", {}).path is None


def test_exec_usage_errors_are_one_line(tmp_path: Path) -> None:
    _suite(tmp_path)
    runner = CliRunner()
    for args in (["--suite", "x", "--space", "y"], ["--suite", str(tmp_path / "suite"),
                                                    "--shard", "5/3"],
                 ["--suite", str(tmp_path / "suite"), "--timeout", "0"],
                 ["--suite", str(tmp_path / "suite"), "--executor", "ftp://h"]):
        result = runner.invoke(cli, ["exec", *args, "--", "true"])
        assert result.exit_code == 2, (args, result.output)
    result = runner.invoke(cli, ["exec", "--suite", str(tmp_path / "suite"), "--",
                                 'sh -c "cat {config}"'])
    assert result.exit_code == 2 and "configlab: error:" in result.stderr


def test_progress_plain_lines_and_quiet() -> None:
    stream = io.StringIO()
    progress = Progress(3, "exec", stream=stream, interval=0.0)
    progress.advance()
    progress.advance(failed=True)
    progress.advance()
    progress.close()
    progress.close()
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("exec: 1/3 done, 0 failed") and "ETA" in lines[0]
    assert lines[-1].startswith("exec: 3/3 done, 1 failed") and "ETA" not in lines[-1]
    assert len(lines) == 3
    silent = io.StringIO()
    with Progress(2, "exec", stream=silent, quiet=True) as quiet:
        quiet.advance()
    assert silent.getvalue() == "" and quiet.eta() is not None


def test_progress_bar_on_a_terminal() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream = Tty()
    with Progress(2, "verify", stream=stream) as progress:
        progress.advance(failed=True)
        progress.advance()
    assert progress.failed == 1 and progress.done == 2


def test_spec_failures_show_the_output_tail(tmp_path: Path) -> None:
    data = DATA_DIR / "specs"
    app = f"{PY} {shlex.quote(str(data / 'app.py'))} {{config}}"
    result = CliRunner().invoke(cli, [
        "spec", "verify", str(data / "spec_v1.yaml"), "--run", app, "--timeout", "1", "-j", "4",
        "--max-per-rule", "1", "--no-store", "--md", str(tmp_path / "r.md"), "--progress"])
    assert result.exit_code == 1
    # the violated rule expected SAFE on stdout: the app's own words are shown under it
    assert "violated on config #" in result.stdout and "| ok safe" in result.stdout
    assert "```text\n  ok safe\n  ```" in (tmp_path / "r.md").read_text()
    assert "verify demo-app" in result.stderr and "done" in result.stderr  # plain progress


def test_results_merge_joins_shard_files_and_checks_them(tmp_path: Path) -> None:
    suite = _suite(tmp_path)
    runner = CliRunner()
    for index in (1, 2, 3):
        code, _ = _exec(tmp_path, "--suite", str(suite), "--shard", f"{index}/3", "--run-id",
                        "r", "-q", "--no-store", "--jsonl", str(tmp_path / f"s{index}.jsonl"))
        assert code in (0, 1)
    shards = [str(tmp_path / f"s{k}.jsonl") for k in (1, 2, 3)]
    merged = runner.invoke(cli, ["results", "merge", *shards, "--into",
                                 str(tmp_path / "merged"), "--jsonl", str(tmp_path / "all.jsonl"),
                                 "--suite", str(suite)])
    assert merged.exit_code == 0, merged.stderr
    assert "across 3 shard(s), each exactly once" in merged.stderr
    together = ResultSet.from_store(tmp_path / "merged")
    assert len(together) == len(list(suite.glob("config-*")))
    assert all(r.stdout is not None for r in ResultSet.from_jsonl(tmp_path / "all.jsonl"))
    # a shard missing, a shard sent twice
    broken = runner.invoke(cli, ["results", "merge", shards[0], shards[0], shards[2]])
    assert broken.exit_code == 1
    assert "ran in more than one shard" in broken.stderr
    assert "shard(s) 2 of 3 sent no results" in broken.stderr
    assert runner.invoke(cli, ["results", "merge", shards[0], "--no-check"]).exit_code == 0
    assert runner.invoke(cli, ["results", "merge", shards[0], "--run-id", "x"]).exit_code == 2
    same = runner.invoke(cli, ["results", "merge", str(tmp_path / "merged"), "--into",
                               str(tmp_path / "merged")])
    assert same.exit_code == 2 and "also a source" in same.stderr


def test_ci_shards_of_the_demo_app_merge_to_one_run(tmp_path: Path) -> None:
    import shutil

    from configlab.errors import IntegrationError
    from configlab.integrations.ci import run_ci

    data = DATA_DIR / "ci"
    shutil.copy(data / "app.py", tmp_path / "app.py")
    shutil.copy(data / "space.yaml", tmp_path / "space.yaml")
    steps = ("steps:\n  - generate: {strategy: covering, strength: 2, seed: 7, out: configs/,"
             " format: json}\n"
             f'  - run: {{command: "{PY} app.py --config {{config}}", timeout: 30}}\n')
    (tmp_path / "whole.yaml").write_text(f"space: space.yaml\nstore: whole\n{steps}")
    (tmp_path / "shard.yaml").write_text(f"space: space.yaml\nstore: sharded\n{steps}")
    whole = run_ci(tmp_path / "whole.yaml", environ={}, emit=lambda line: None, jobs=4)
    for index in (1, 2, 3):
        run_ci(tmp_path / "shard.yaml", environ={"GITHUB_RUN_ID": "9"},
               emit=lambda line: None, shard=f"{index}/3", jobs=2)
    one = ResultSet.from_store(tmp_path / "whole")
    three = ResultSet.from_store(tmp_path / "sharded", run_id="gh-9-1")
    assert _key(one) == _key(three) and whole.counts["fail"] > 0
    merged = CliRunner().invoke(cli, ["results", "merge", str(tmp_path / "sharded"),
                                      "--name", "run", "--suite", str(tmp_path / "configs")])
    assert merged.exit_code == 0, merged.stderr
    with pytest.raises(IntegrationError, match="one run id for all shards"):
        run_ci(tmp_path / "shard.yaml", environ={}, emit=lambda line: None, shard="1/3")
    with pytest.raises(IntegrationError, match="--shard"):
        run_ci(tmp_path / "shard.yaml", environ={}, emit=lambda line: None, shard="4/3")
    with pytest.raises(IntegrationError, match="--jobs"):
        run_ci(tmp_path / "shard.yaml", environ={}, emit=lambda line: None, jobs=0)


def test_balanced_shards_use_the_last_durations(tmp_path: Path) -> None:
    suite = _suite(tmp_path)
    _exec(tmp_path, "--suite", str(suite), "--run-id", "first", "-q", "--no-snapshot")
    for index in (1, 2):
        _exec(tmp_path, "--suite", str(suite), "--shard", f"{index}/2", "--balance",
              "--run-id", "balanced", "-q", "--no-snapshot")
    first = ResultSet.from_store(tmp_path / "store", run_id="first")
    balanced = ResultSet.from_store(tmp_path / "store", run_id="balanced")
    assert _key(first) == _key(balanced)
    # without a store to learn from, --balance falls back to round robin
    code, _ = _exec(tmp_path, "--suite", str(suite), "--shard", "1/2", "--balance", "-q",
                    "--store", str(tmp_path / "empty"), "--no-store")
    assert code in (0, 1)


def test_output_tails_are_searchable_with_where(tmp_path: Path) -> None:
    suite = _suite(tmp_path)
    _exec(tmp_path, "--suite", str(suite), "-q", "--no-store", "--jsonl",
          str(tmp_path / "r.jsonl"))
    results = ResultSet.from_jsonl(tmp_path / "r.jsonl")
    refused = results.select(where='"refusing to start" in stderr')
    assert len(refused) > 0 and all(r.config["c"] is False for r in refused)
    assert len(results.select(where='"starting with x" in stdout and c')) > 0
    # a config parameter named like the stream wins
    from configlab.results import Result

    own = ResultSet([Result(config={"stderr": "mine"}, outcome="pass", stderr="theirs")])
    assert len(own.select(where='stderr == "mine"')) == 1


def test_progress_with_unknown_total_and_quiet_short_runs() -> None:
    stream = io.StringIO()
    with Progress(None, "generate", stream=stream, interval=0.0, final=False) as progress:
        progress.advance()
        progress.advance()
    lines = stream.getvalue().splitlines()
    assert lines[0] == lines[0].split(",")[0] + ", 0 failed, " + lines[0].split(", ")[2]
    assert lines[0].startswith("generate: 1 done") and "ETA" not in lines[-1]
    assert progress.eta() is None
    short = io.StringIO()
    with Progress(5, "generate", stream=short, final=False) as quick:
        quick.advance()
    assert short.getvalue() == ""  # a quick step prints nothing extra


def test_tail_option_bounds_the_kept_output(tmp_path: Path) -> None:
    suite = _suite(tmp_path)
    (tmp_path / "app.py").write_text("print('x' * 5000)\n")
    _exec(tmp_path, "--suite", str(suite), "--tail", "1", "--run-id", "small", "-q")
    _exec(tmp_path, "--suite", str(suite), "--tail", "0", "--run-id", "none", "-q")
    small = ResultSet.from_store(tmp_path / "store", run_id="small")
    assert small and all(len(r.stdout) == 1024 and r.stdout.endswith("x\n") for r in small)
    assert all(not r.stdout for r in ResultSet.from_store(tmp_path / "store", run_id="none"))


def test_exec_on_a_suite_of_directive_conf_files(tmp_path: Path) -> None:
    """redis.conf-style suites (``generate --format directive``: ``.conf`` files, whose format
    the name does not tell) run, snapshot and restore as directive files."""
    (tmp_path / "space.yaml").write_text(
        "parameters:\n  maxmemory: [0, 1mb]\n  save: ['', '60 1']\n")
    (tmp_path / "app.py").write_text(
        "import sys\ntext = open(sys.argv[1]).read()\nprint(text)\n"
        "sys.exit('maxmemory 1mb' in text)\n")
    suite = tmp_path / "suite"
    done = CliRunner().invoke(cli, ["generate", "--space", str(tmp_path / "space.yaml"),
                                    "--format", "directive", "--out", str(suite)])
    assert done.exit_code == 0, done.output
    assert [item.fmt for item in load_suite(suite)] == ["directive"] * 4
    code, err = _exec(tmp_path, "--suite", str(suite), "--jobs", "2", "--run-id", "conf")
    assert code == 1, err
    stored = ResultSet.from_store(tmp_path / "store", run_id="conf")
    assert sorted(r.outcome for r in stored) == ["fail", "fail", "pass", "pass"]
    assert all('save ""' in r.stdout or "save 60 1" in r.stdout for r in stored)
    failing = next(r for r in stored if r.outcome == "fail")
    assert failing.snapshot_id is not None
    done = CliRunner().invoke(cli, ["snapshot", "restore", "--store", str(tmp_path / "store"),
                                    failing.snapshot_id, str(tmp_path / "replay")])
    assert done.exit_code == 0, done.output
    restored = next((tmp_path / "replay").glob("*.conf"))
    assert "maxmemory 1mb" in restored.read_text()
