"""Runners: how a behaviour spec runs the application under one config.

A runner is any callable ``config -> Outcome``.  This module provides the process-based ones
(a shell command template and a pytest node id, both given the config as a temporary file) and the
pool that runs many configs in parallel with per-run timeouts, so that one failing or hanging run
never stops the others.
"""

from __future__ import annotations

import math
import os
import re
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from configlab import formats
from configlab.errors import ConfiglabError, SpecError
from configlab.execution import (
    CONFIG_ENV,
    METRICS_ENV,
    CommandTemplate,
    LocalExecutor,
    Progress,
    read_metrics,
    run_process,
)
from configlab.execution import EXTENSIONS as _EXTENSIONS
from configlab.specs._model import Outcome

__all__ = [
    "CONFIG_ENV",
    "METRICS_ENV",
    "CommandRunner",
    "PytestRunner",
    "call_with_timeout",
    "exception_from_stderr",
    "run_all",
]

_TRACEBACK_LAST = re.compile(r"^([A-Za-z_][\w.]*)(?::.*)?$")


def exception_from_stderr(stderr: str) -> str | None:
    """The exception type a Python traceback at the end of ``stderr`` names, if any."""
    if "Traceback (most recent call last):" not in stderr:
        return None
    lines = [line for line in stderr.rstrip().splitlines() if line.strip()]
    for line in reversed(lines):
        if line.startswith(" "):
            continue
        match = _TRACEBACK_LAST.match(line)
        if match is not None and not line.startswith("Traceback"):
            return match.group(1).rsplit(".", 1)[-1]
        return None
    return None  # pragma: no cover - the traceback header line is always present


def _write_config(
    config: Mapping[str, Any], directory: str, fmt: str
) -> tuple[Path, Outcome | None]:
    """Write the config file; on failure the errored outcome of the run."""
    extension = _EXTENSIONS.get(fmt, fmt)
    path = Path(directory) / f"config.{extension}"
    try:
        formats.dump(dict(config), path, fmt)
    except ConfiglabError as error:
        return path, Outcome(outcome="error", error=f"could not write the config: {error}")
    return path, None


def _run_process(
    argv: str | list[str],
    *,
    shell: bool,
    env: Mapping[str, str],
    cwd: str | None,
    timeout: float | None,
) -> tuple[int | None, str, str, float, str | None]:
    """Run a process through the one runner (own session; the whole tree is killed on timeout)."""
    del shell  # a string runs under /bin/sh -c, a list directly
    done = run_process(argv, env=env, cwd=cwd, timeout=timeout)
    problem = done.problem if (done.timed_out or done.start_error) else None
    return done.exit_code, done.stdout, done.stderr, done.wall_s, problem


def _process_outcome(
    code: int | None,
    out: str,
    err: str,
    duration: float,
    problem: str | None,
    metrics: dict[str, float],
    pass_codes: Sequence[int] = (0,),
) -> Outcome:
    if problem is None and code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:  # pragma: no cover - unknown signal number
            name = str(-code)
        problem = f"killed by signal {name}"
    if problem is not None:
        return Outcome(
            exit_code=code,
            outcome="error",
            stdout=out,
            stderr=err,
            duration_s=duration,
            metrics=metrics,
            error=problem,
        )
    assert code is not None
    exception = exception_from_stderr(err) if code != 0 else None
    outcome = "error" if exception else ("pass" if code in pass_codes else "fail")
    return Outcome(
        exit_code=code,
        outcome=outcome,
        stdout=out,
        stderr=err,
        duration_s=duration,
        metrics=metrics,
        exception=exception,
    )


class CommandRunner:
    """Run a shell command template with the config written to a temporary file.

    ``{config}`` in ``template`` is replaced by the path of the file; the same path is in the
    ``CONFIGLAB_CONFIG`` environment variable.  A template without shell syntax is split like a
    shell command line and run directly (so a signal that kills the application is seen as
    such); one with pipes, redirections, ``&&``, ``;``, ``$VAR``, globs, backslashes or
    backticks runs under ``/bin/sh -c`` with the path shell-quoted.  The application may write
    a JSON object of metrics to the file named by ``CONFIGLAB_METRICS``.  On timeout the whole
    process group is killed and the run is reported errored ("timeout").  A Python traceback
    at the end of stderr is read as the exception the application raised.
    """

    def __init__(
        self,
        template: str,
        *,
        fmt: str = "yaml",
        timeout: float | None = None,
        cwd: str | os.PathLike[str] | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        if not isinstance(template, str) or not template.strip():
            raise SpecError("a command runner needs a non-empty command template")
        _check_timeout(timeout)
        try:
            self._command = CommandTemplate(template)
        except ConfiglabError as error:
            raise SpecError(str(error)) from None
        self.template = template
        self.fmt = fmt
        self.timeout = timeout
        self.cwd = None if cwd is None else str(cwd)
        self.env = dict(env or {})

    def __repr__(self) -> str:
        return f"CommandRunner({self.template!r}, fmt={self.fmt!r}, timeout={self.timeout!r})"

    def command(self, config_path: str) -> str | list[str]:
        """The argv run for ``config_path`` (a string when it needs ``/bin/sh -c``)."""
        return self._command.argv(config_path)

    def __call__(self, config: Mapping[str, Any]) -> Outcome:
        """Run the command once for ``config``."""
        with tempfile.TemporaryDirectory(prefix="configlab-spec-") as directory:
            path, problem = _write_config(config, directory, self.fmt)
            if problem is not None:
                return problem
            metrics_path = Path(directory) / "metrics.json"
            argv = self.command(str(path))
            env = {**os.environ, **self.env, CONFIG_ENV: str(path), METRICS_ENV: str(metrics_path)}
            result = _run_process(
                argv, shell=isinstance(argv, str), env=env, cwd=self.cwd, timeout=self.timeout
            )
            return _process_outcome(*result, metrics=read_metrics(metrics_path))


class PytestRunner:
    """Run one pytest node id in a subprocess with ``CONFIGLAB_CONFIG`` pointing at the config.

    Exit status 0 is a pass, 1 a failure, anything else (collection or usage errors, no test
    collected) an error.
    """

    def __init__(
        self,
        node_id: str,
        *,
        fmt: str = "yaml",
        timeout: float | None = None,
        cwd: str | os.PathLike[str] | None = None,
        python: str | None = None,
        args: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
    ) -> None:
        if not isinstance(node_id, str) or not node_id.strip():
            raise SpecError("a pytest runner needs a node id such as tests/test_app.py::test_x")
        _check_timeout(timeout)
        self.node_id = node_id
        self.fmt = fmt
        self.timeout = timeout
        self.cwd = None if cwd is None else str(cwd)
        self.python = python or sys.executable
        self.args = tuple(args)
        self.env = dict(env or {})

    def __repr__(self) -> str:
        return f"PytestRunner({self.node_id!r}, fmt={self.fmt!r}, timeout={self.timeout!r})"

    def __call__(self, config: Mapping[str, Any]) -> Outcome:
        """Run the test once for ``config``."""
        with tempfile.TemporaryDirectory(prefix="configlab-spec-") as directory:
            path, failed = _write_config(config, directory, self.fmt)
            if failed is not None:
                return failed
            metrics_path = Path(directory) / "metrics.json"
            argv = [
                self.python,
                "-m",
                "pytest",
                self.node_id,
                "-q",
                "-p",
                "no:cacheprovider",
                *self.args,
            ]
            env = {**os.environ, **self.env, CONFIG_ENV: str(path), METRICS_ENV: str(metrics_path)}
            code, out, err, duration, problem = _run_process(
                argv, shell=False, env=env, cwd=self.cwd, timeout=self.timeout
            )
            if problem is None and code is not None and code > 1:
                problem = f"pytest exited with status {code}"
            outcome = _process_outcome(
                code, out, err, duration, problem, metrics=read_metrics(metrics_path)
            )
            if outcome.outcome == "error" and outcome.error is None:
                # a traceback on a failed test's stderr is a test failure, not a crash of pytest
                from dataclasses import replace

                outcome = replace(outcome, outcome="fail")
            return outcome


def _check_timeout(timeout: float | None) -> None:
    if timeout is not None and (
        isinstance(timeout, bool)
        or not isinstance(timeout, int | float)
        or not math.isfinite(timeout)
        or timeout <= 0
    ):
        raise SpecError(f"timeout must be a positive number of seconds, got {timeout!r}")


def call_with_timeout(
    runner: Callable[[Mapping[str, Any]], Any],
    config: Mapping[str, Any],
    timeout: float | None,
) -> tuple[str, Any, float]:
    """Call ``runner(config)``: ``("ok"|"raised"|"timeout", value or exception, seconds)``.

    With a timeout the call runs in a daemon thread that is abandoned (not killed) when it
    overruns; use a process runner when a hang must be killed.
    """
    box: dict[str, Any] = {}
    start = time.perf_counter()

    def target() -> None:
        try:
            box["value"] = runner(config)
        except BaseException as error:
            box["error"] = error
        box["duration"] = time.perf_counter() - start

    if timeout is None:
        target()
    else:
        thread = threading.Thread(target=target, daemon=True, name="configlab-spec-run")
        thread.start()
        thread.join(timeout)
        if thread.is_alive():
            return "timeout", None, time.perf_counter() - start
    duration = float(box.get("duration", time.perf_counter() - start))
    if "error" in box:
        return "raised", box["error"], duration
    return "ok", box.get("value"), duration


def run_all(
    tasks: Sequence[Callable[[], Any]],
    *,
    workers: int,
    progress: bool,
    label: str,
) -> list[Any]:
    """Run ``tasks`` on a local pool of ``workers`` (in order when 1), with progress.

    Results come back in task order regardless of completion order.  With ``progress`` the
    count, failures so far and ETA are shown on stderr (a bar on a terminal, plain lines
    otherwise; see :class:`configlab.execution.Progress`).
    """
    shown = Progress(len(tasks), label, quiet=not progress)

    def done(_: int, value: Any) -> None:
        shown.advance(failed=getattr(value, "outcome", "pass") != "pass")

    try:
        return LocalExecutor(workers).map(lambda task: task(), tasks, done)
    finally:
        shown.close()
