"""``--executor dask://HOST:PORT`` on a real Dask cluster (issue 16 item 6).

A ``dask scheduler`` and two ``dask worker`` processes are started on 127.0.0.1 on free ports
(about 5-10 s here) and stopped by PID.  The application runs on the workers (it reports its
parent, which is a worker process); the store is written by the controller only.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from configlab.cli import cli
from configlab.errors import ExecutionError
from configlab.execution import CommandJob, CommandTemplate, make_executor, run_job
from configlab.execution._dask import DaskExecutor, scheduler_address
from configlab.results import ResultSet
from tests.paths import SRC_DIR

pytest.importorskip("distributed")

SRC = str(SRC_DIR)
APP = """import json, os, sys
config = json.load(open(sys.argv[1]))
print(json.dumps({"parent": os.getppid(), "cwd_has_store": os.path.exists(".configlab")}))
sys.exit(0 if config["c"] else 4)
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_port(port: int, deadline: float) -> None:
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, list[int]]]:
    """(``dask://127.0.0.1:PORT``, worker pids) of a scheduler + 2 workers, stopped by PID."""
    port = _free_port()
    workdir = tmp_path_factory.mktemp("dask")
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", ""),
           "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}
    dask = [sys.executable, "-m", "dask"]
    processes = [subprocess.Popen(
        [*dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
        cwd=workdir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        _wait_port(port, time.monotonic() + 60)
        for _ in range(2):
            processes.append(subprocess.Popen(
                [*dask, "worker", f"tcp://127.0.0.1:{port}", "--no-nanny", "--nthreads", "4",
                 "--no-dashboard", "--host", "127.0.0.1"],
                cwd=workdir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        from distributed import Client

        with Client(f"tcp://127.0.0.1:{port}", timeout=30) as client:
            client.wait_for_workers(2, timeout=60)
        yield f"dask://127.0.0.1:{port}", [p.pid for p in processes[1:]]
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in reversed(processes):
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def test_exec_on_dask_matches_a_local_run(cluster: tuple[str, list[int]],
                                          tmp_path: Path) -> None:
    address, workers = cluster
    (tmp_path / "space.yaml").write_text(
        "name: s\nparameters:\n  a: {type: int, min: 1, max: 5}\n  c: bool\n")
    (tmp_path / "app.py").write_text(APP)
    base = ["exec", "--space", str(tmp_path / "space.yaml"), "--format", "json",
            "--store", str(tmp_path / "store"), "--jsonl"]
    command = ["--", sys.executable, str(tmp_path / "app.py"), "{config}"]
    runner = CliRunner()
    remote = runner.invoke(cli, [*base, str(tmp_path / "remote.jsonl"), "--executor", address,
                                 "--run-id", "remote", *command])
    local = runner.invoke(cli, [*base, str(tmp_path / "local.jsonl"), "--run-id", "local",
                                *command])
    assert remote.exit_code == local.exit_code == 1, remote.output + local.output

    def key(run: str) -> list[tuple[str, str, float]]:
        results = ResultSet.from_store(tmp_path / "store", run_id=run)
        return sorted((r.test_id, r.outcome, r.metrics["exit_status"]) for r in results)

    assert key("remote") == key("local") and len(key("remote")) > 0
    lines = [json.loads(line) for line in (tmp_path / "remote.jsonl").read_text().splitlines()]
    parents = {json.loads(line["stdout"])["parent"] for line in lines}
    assert parents <= set(workers) and parents  # the app ran under the dask workers
    assert all(line["snapshot_id"] for line in lines)


def test_dask_executor_api_and_errors(cluster: tuple[str, list[int]]) -> None:
    address, _ = cluster
    executor = make_executor(address)
    assert isinstance(executor, DaskExecutor) and executor.name == address
    seen: list[int] = []
    jobs = [CommandJob(index=k, name=f"c{k}", config={"k": k},
                       command=CommandTemplate("sh -c 'exit $CONFIGLAB_INDEX'")) for k in (0, 3)]
    done = executor.map(run_job, jobs, lambda i, r: seen.append(i))
    assert [d.process.exit_code for d in done if d.process] == [0, 3]
    assert sorted(seen) == [0, 1] and executor.map(run_job, []) == []

    def boom(x: int) -> int:
        raise ValueError("no")

    with pytest.raises(ExecutionError, match="failed on the cluster: ValueError"):
        executor.map(boom, [1])
    executor.close()
    executor.close()
    assert scheduler_address("tcp://h:1") == "tcp://h:1"
    with pytest.raises(ExecutionError, match="expected dask://HOST:PORT"):
        scheduler_address("dask://nohost")
    unreachable = DaskExecutor(f"dask://127.0.0.1:{_free_port()}", timeout=1)
    with pytest.raises(ExecutionError, match="cannot reach the Dask scheduler"):
        unreachable.map(str, [1])


def test_ci_run_step_on_dask(cluster: tuple[str, list[int]], tmp_path: Path) -> None:
    from configlab.integrations.ci import run_ci

    address, _ = cluster
    (tmp_path / "space.yaml").write_text("name: s\nparameters:\n  c: bool\n  a: [1, 2, 3]\n")
    (tmp_path / "app.py").write_text(APP)
    (tmp_path / "ci.yaml").write_text(
        "space: space.yaml\nsteps:\n"
        "  - generate: {strategy: covering, seed: 1, out: configs/, format: json}\n"
        f"  - run: {{command: '{sys.executable} {tmp_path / 'app.py'} {{config}}',"
        f" executor: '{address}'}}\n")
    report = run_ci(tmp_path / "ci.yaml", environ={}, emit=lambda line: None)
    assert report.counts["pass"] > 0 and report.counts["fail"] > 0
    assert all(a.file and a.file.startswith("configs/config-") for a in report.annotations)
