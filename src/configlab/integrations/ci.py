"""CI hooks: run a suite of configlab steps from a small YAML file and turn it into an exit code.

Example ``configlab-ci.yaml`` (paths are relative to the file's directory, where commands run)::

    space: space.yaml
    store: .configlab                # results and snapshots: a directory or postgresql://...
                                     # (default $CONFIGLAB_STORE, else .configlab)
    objects: s3://bucket/prefix      # optional: large objects on S3 (default $CONFIGLAB_OBJECTS)
    steps:
      - generate: {strategy: covering, strength: 2, seed: 7, out: configs/, format: json}
      - run: {command: "python app.py --config {config}", timeout: 30}
      - ingest: {reports: ["build/test-results/*.xml"]}
      - coverage: {strength: 2, fail_under: 0.9}
      - analyze: {md: analysis.md}
      - export: {junit: results.xml, markdown: summary.md, ctrf: ctrf.json, allure: allure-results/}

Steps run in order and share one result set.  ``run`` executes the command once per generated
config (``{config}`` is replaced by the config file's path, ``{index}`` by its number), saves the
config as a snapshot and records one result (pass on exit 0, fail otherwise, error on a timeout
or when the command cannot start).  ``verify`` (``{spec: spec.yaml, command: ..., timeout:
..}``) judges a behaviour spec on the generated configs (written in the generated format; the
command runs in the suite file's directory).

Exit codes (:mod:`configlab.exit_codes`): 0 all good; 1 a result failed/errored or a spec
rule was violated; 2 bad configuration or input; 3 coverage below ``fail_under``.  Failures win
over low coverage.  With ``GITHUB_ACTIONS`` set, problems are printed as workflow commands
(``::error file=..,title=..::message``); the Markdown summary is appended to
``$GITHUB_STEP_SUMMARY`` when that variable is set.

Each step imports its engine when it runs (the imports inside the step functions): a suite of
``run`` steps does not load numpy, scipy, pysat or matplotlib, which ``coverage``, ``analyze``
and ``generate`` need.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from configlab import formats, storage
from configlab._internal.safeio import write_output
from configlab.errors import AnalysisError, ConfiglabError, IntegrationError
from configlab.execution import (
    CommandJob,
    CommandTemplate,
    Progress,
    Shard,
    check_jobs,
    default_jobs,
    make_executor,
    run_job,
    shared_run_id,
)
from configlab.execution import to_result as job_result
from configlab.exit_codes import EXIT_COVERAGE, EXIT_FAILURES, EXIT_OK
from configlab.integrations.exporters import export, markdown_summary, replay_command
from configlab.integrations.ingest import IngestWarning, load_results
from configlab.results import Result, ResultSet, ResultStore
from configlab.snapshots import SnapshotStore
from configlab.space import Space, load_space
from configlab.storage import StoreLocation

if TYPE_CHECKING:  # pragma: no cover - the analysis and coverage engines load numpy
    from configlab.analysis import AnalysisReport
    from configlab.coverage import CoverageReport

#: The step kinds, in the order they usually appear.
STEP_KINDS = ("generate", "run", "ingest", "verify", "coverage", "analyze", "export")
_STEP_OPTIONS: dict[str, tuple[str, ...]] = {
    "generate": ("strategy", "strength", "seed", "count", "out", "format", "base"),
    "run": ("command", "timeout", "name", "shell", "env", "jobs", "executor"),
    "ingest": ("reports", "required"),
    "verify": ("spec", "command", "timeout", "jobs"),
    "coverage": ("strength", "fail_under", "include_skipped"),
    "analyze": ("md", "json", "png", "text"),
    "export": ("junit", "markdown", "ctrf", "allure", "csv", "parquet", "jsonl"),
}
_ROOT_KEYS = ("space", "store", "objects", "run_id", "steps")
#: Longest command output tail kept in a failure message.
OUTPUT_TAIL = 400


@dataclass(frozen=True)
class Step:
    """One step of a CI suite: its kind, options and position (1-based)."""

    kind: str
    options: Mapping[str, Any]
    number: int

    @property
    def label(self) -> str:
        """``step 2 (run)``: how messages name the step."""
        return f"step {self.number} ({self.kind})"


@dataclass(frozen=True)
class CIConfig:
    """A parsed CI suite file."""

    path: Path
    base_dir: Path
    space: str | None
    store: str
    run_id: str | None
    steps: tuple[Step, ...]
    objects: str | None = None


@dataclass(frozen=True)
class Annotation:
    """A problem to show on the CI page (GitHub Actions workflow command)."""

    level: str
    title: str
    message: str
    file: str | None = None

    def github(self) -> str:
        """The ``::error file=...,title=...::message`` workflow command line."""
        props = []
        if self.file:
            props.append(f"file={_escape_property(self.file)}")
        props.append(f"title={_escape_property(self.title)}")
        return f"::{self.level} {','.join(props)}::{_escape_data(self.message)}"


@dataclass(frozen=True)
class StepReport:
    """What one step did (``status`` is ``ok``, ``failed`` or ``below-threshold``)."""

    step: str
    status: str
    detail: str

    def to_dict(self) -> dict[str, str]:
        """JSON-ready form."""
        return {"step": self.step, "status": self.status, "detail": self.detail}


@dataclass(frozen=True)
class CIReport:
    """The outcome of :func:`run_ci`."""

    exit_code: int
    steps: tuple[StepReport, ...]
    annotations: tuple[Annotation, ...]
    counts: Mapping[str, int]
    coverage: float | None
    summary: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "exit_code": self.exit_code,
            "counts": dict(self.counts),
            "coverage": self.coverage,
            "steps": [s.to_dict() for s in self.steps],
            "annotations": [
                {"level": a.level, "title": a.title, "message": a.message, "file": a.file}
                for a in self.annotations
            ],
        }


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


# --------------------------------------------------------------------------- config file


def load_ci_config(path: str | os.PathLike[str]) -> CIConfig:
    """Read and check a CI suite file (YAML or JSON).

    Raises:
        IntegrationError: unreadable file, malformed YAML, unknown keys or step kinds, or
            options of the wrong type (names the file and the step).
    """
    location = Path(path)
    if not location.is_file():
        raise IntegrationError(f"{location}: no such CI config file")
    try:
        data = formats.load(location, "json" if location.suffix == ".json" else "yaml")
    except ConfiglabError as error:
        raise IntegrationError(f"{location}: {error}") from None
    where = str(location)
    unknown = sorted(set(data) - set(_ROOT_KEYS))
    if unknown:
        raise IntegrationError(f"{where}: unknown key(s) {unknown} (allowed: {list(_ROOT_KEYS)})")
    raw_steps = data.get("steps")
    if not isinstance(raw_steps, list) or not raw_steps:
        raise IntegrationError(f"{where}: 'steps' must be a non-empty list")
    steps = []
    for number, raw in enumerate(raw_steps, start=1):
        if isinstance(raw, str):
            raw = {raw: {}}
        if not isinstance(raw, dict) or len(raw) != 1:
            raise IntegrationError(
                f"{where}: step {number}: expected one '<kind>: {{options}}' mapping, got {raw!r}"
            )
        kind, options = next(iter(raw.items()))
        if kind not in _STEP_OPTIONS:
            raise IntegrationError(
                f"{where}: step {number}: unknown step {kind!r} (use one of "
                f"{', '.join(STEP_KINDS)})"
            )
        options = options or {}
        if not isinstance(options, dict):
            raise IntegrationError(f"{where}: step {number} ({kind}): options must be a mapping")
        extra = sorted(set(options) - set(_STEP_OPTIONS[kind]))
        if extra:
            raise IntegrationError(
                f"{where}: step {number} ({kind}): unknown option(s) {extra} "
                f"(allowed: {list(_STEP_OPTIONS[kind])})"
            )
        step = Step(kind, options, number)
        _check_step(step, where)
        steps.append(step)
    kinds = [s.kind for s in steps]
    for needs in ("run", "verify"):
        if needs in kinds and ("generate" not in kinds or kinds.index("generate") >
                               kinds.index(needs)):
            raise IntegrationError(f"{where}: a '{needs}' step needs a 'generate' step before it")
    space = data.get("space")
    if space is not None and not isinstance(space, str):
        raise IntegrationError(f"{where}: 'space' must be a path")
    if any(k in kinds for k in ("generate", "coverage")) and space is None:
        raise IntegrationError(f"{where}: 'generate' and 'coverage' steps need 'space'")

    store = data.get("store", os.environ.get(storage.STORE_ENV) or storage.DEFAULT_STORE)
    objects = data.get("objects", os.environ.get(storage.OBJECTS_ENV) or None)
    run_id = data.get("run_id")
    if not isinstance(store, str) or (run_id is not None and not isinstance(run_id, str)):
        raise IntegrationError(f"{where}: 'store' and 'run_id' must be strings")
    if objects is not None and not (isinstance(objects, str) and storage.is_s3_url(objects)):
        raise IntegrationError(f"{where}: 'objects' must be an s3://bucket/prefix URL")
    return CIConfig(location, location.resolve().parent, space, store, run_id, tuple(steps),
                    objects)


def _check_step(step: Step, where: str) -> None:
    o = step.options
    label = f"{where}: {step.label}"

    def need(key: str, kinds: tuple[type, ...], required: bool = False) -> None:
        if key not in o:
            if required:
                raise IntegrationError(f"{label}: '{key}' is required")
            return
        value = o[key]
        if (isinstance(value, bool) and bool not in kinds) or not isinstance(value, kinds):
            names = " or ".join(k.__name__ for k in kinds)
            raise IntegrationError(f"{label}: '{key}' must be {names}, got {value!r}")

    if step.kind == "generate":
        need("out", (str,), required=True)
        for key in ("strength", "seed", "count"):
            need(key, (int,))
        for key in ("strategy", "format", "base"):
            need(key, (str,))
    elif step.kind in ("run", "verify"):
        need("command", (str,), required=True)
        need("timeout", (int, float))
        need("jobs", (int,))
        if "jobs" in o and o["jobs"] < 1:
            raise IntegrationError(f"{label}: 'jobs' must be at least 1")
        if step.kind == "verify":
            need("spec", (str,), required=True)
        else:
            need("shell", (bool,))
            need("name", (str,))
            need("env", (dict,))
            need("executor", (str,))
    elif step.kind == "ingest":
        need("reports", (list, str), required=True)
        need("required", (bool,))
    elif step.kind == "coverage":
        need("strength", (int,))
        need("fail_under", (int, float))
        need("include_skipped", (bool,))
        if "fail_under" in o and not 0 <= o["fail_under"] <= 1:
            raise IntegrationError(f"{label}: 'fail_under' must be between 0 and 1")
    else:  # analyze, export
        for key in o:
            need(key, (str,))
        if not o:
            raise IntegrationError(f"{label}: name at least one output")


# --------------------------------------------------------------------------- running


@dataclass
class _State:
    config: CIConfig
    emit: Callable[[str], None]
    space: Space | None = None
    generated: list[tuple[Path, dict[str, Any]]] = field(default_factory=list)
    fmt: str = "yaml"
    results: ResultSet = field(default_factory=ResultSet)
    new_results: list[Result] = field(default_factory=list)
    steps: list[StepReport] = field(default_factory=list)
    annotations: list[Annotation] = field(default_factory=list)
    failed: bool = False
    below: bool = False
    coverage_report: CoverageReport | None = None
    coverage_ratio: float | None = None
    analysis: AnalysisReport | None = None
    shard: Shard | None = None
    jobs: int | None = None
    suite_size: int = 0

    def need_space(self) -> Space:
        """The file's space; IntegrationError for a step that needs one when there is none
        (the configuration check refuses such files first)."""
        if self.space is None:
            raise IntegrationError(f"{self.config.path}: this step needs 'space'")
        return self.space

    def shard_metrics(self) -> dict[str, float]:
        """``shard``, ``shards``, ``suite_size`` for the results of a sharded run."""
        if self.shard is None:
            return {}
        return {"shard": float(self.shard.index), "shards": float(self.shard.count),
                "suite_size": float(self.suite_size)}

    def path(self, text: str) -> Path:
        candidate = Path(text)
        return candidate if candidate.is_absolute() else self.config.base_dir / candidate

    def store(self) -> StoreLocation:
        """The suite's store: a postgresql:// URL as written, a directory relative to the file."""
        text = self.config.store
        index = text if storage.is_postgres_url(text) else str(self.path(text))
        return storage.resolve(index, self.config.objects, environ={})

    def shown(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.config.base_dir))
        except ValueError:
            return str(path)


def run_ci(config: CIConfig | str | os.PathLike[str], *,
           environ: Mapping[str, str] | None = None,
           emit: Callable[[str], None] | None = None,
           shard: str | None = None,
           jobs: int | None = None) -> CIReport:
    """Run every step of a CI suite; returns the :class:`CIReport` (exit code included).

    ``environ`` (default ``os.environ``) decides about GitHub annotations and the step
    summary; ``emit`` receives progress lines and workflow commands (default: print).
    ``shard`` (``"2/3"``) runs only that slice of the generated suite (every shard generates
    the same suite; the results carry ``shard``/``shards``/``suite_size`` metrics for
    ``configlab results merge``); the run id then comes from the file, ``CONFIGLAB_RUN_ID``
    or the CI's pipeline id so that all shards share it.  ``jobs`` is the default number of
    parallel runs of ``run``/``verify`` steps (default: the CPU count).

    Raises:
        IntegrationError: the suite file or an input it names is unusable (exit code 2).
    """
    cfg = config if isinstance(config, CIConfig) else load_ci_config(config)
    env = os.environ if environ is None else environ
    chosen = None
    if shard is not None:
        try:
            chosen = Shard.parse(shard)
        except ConfiglabError as error:
            raise IntegrationError(str(error)) from None
        if cfg.run_id is None:
            shared = shared_run_id(env)
            if shared is None:
                raise IntegrationError(
                    f"{cfg.path}: --shard needs one run id for all shards: set run_id in the "
                    "file or CONFIGLAB_RUN_ID (GitHub Actions and GitLab CI provide one)")
            cfg = replace(cfg, run_id=shared)
    if jobs is not None:
        try:
            check_jobs(jobs)
        except ConfiglabError as error:
            raise IntegrationError(str(error)) from None
    state = _State(cfg, emit or print, results=ResultSet(), shard=chosen, jobs=jobs)
    if cfg.space is not None:
        try:
            state.space = load_space(state.path(cfg.space))
        except ConfiglabError as error:
            raise IntegrationError(f"{cfg.path}: space {cfg.space}: {error}") from None
    for step in cfg.steps:
        handler = _HANDLERS[step.kind]
        try:
            status, detail = handler(state, step)
        except IntegrationError:
            raise
        except ConfiglabError as error:
            raise IntegrationError(f"{cfg.path}: {step.label}: {error}") from None
        state.steps.append(StepReport(step.label, status, detail))
        state.emit(f"configlab ci: {step.label}: {status}: {detail}")
    if state.new_results:
        try:
            with ResultStore(state.store()) as store:
                store.record_many(state.new_results)
        except ConfiglabError as error:
            raise IntegrationError(f"{cfg.path}: cannot record results: {error}") from None
    failures = [r for r in state.results if r.outcome in ("fail", "error")]
    if failures:
        state.failed = True
    code = EXIT_FAILURES if state.failed else EXIT_COVERAGE if state.below else EXIT_OK

    summary = markdown_summary(state.results, coverage=state.coverage_report,
                               analysis=state.analysis, title="configlab ci")
    if env.get("GITHUB_ACTIONS"):
        for note in state.annotations:
            state.emit(note.github())
    step_summary = env.get("GITHUB_STEP_SUMMARY")
    if step_summary:
        try:
            with open(step_summary, "a", encoding="utf-8") as handle:
                handle.write(summary + "\n")
        except OSError as error:
            state.emit(f"configlab ci: warning: cannot write $GITHUB_STEP_SUMMARY: {error}")
    counts = {o: sum(r.outcome == o for r in state.results)
              for o in ("pass", "fail", "error", "skip")}
    return CIReport(code, tuple(state.steps), tuple(state.annotations), counts,
                    state.coverage_ratio, summary)


def _generate(state: _State, step: Step) -> tuple[str, str]:
    # deferred: numpy/python-sat load only for suites with a generate step
    from configlab.generation import generate

    o = step.options
    fmt = o.get("format", "yaml")
    if fmt not in formats.FORMATS:
        raise IntegrationError(f"{state.config.path}: {step.label}: unknown format {fmt!r}")
    out = state.path(o["out"])
    try:
        out.mkdir(parents=True, exist_ok=True)
        for old in sorted(out.iterdir()):
            if old.name == "manifest.json" or old.name.startswith("config-"):
                old.unlink()
    except OSError as error:
        raise IntegrationError(f"{out}: cannot prepare the output directory: {error}") from None
    base = formats.load(state.path(o["base"])) if "base" in o else None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        configs = list(generate(state.need_space(), o.get("strategy", "covering"),
                                seed=o.get("seed", 0), count=o.get("count"),
                                strength=o.get("strength", 2), base=base))
    for note in caught:
        state.annotations.append(Annotation("warning", "configlab generate", str(note.message)))
    ext = {"yaml": "yaml", "json": "json", "toml": "toml", "xml": "xml",
           "properties": "properties", "ini": "ini", "env": "env", "directive": "conf",
           "nginx": "conf", "postgresql": "conf"}.get(fmt, fmt)
    width = max(4, len(str(len(configs))))
    state.generated = []
    state.fmt = fmt
    for number, config in enumerate(configs, start=1):
        target = out / f"config-{number:0{width}d}.{ext}"
        formats.dump(config, target, fmt)
        state.generated.append((target, config))
    manifest = {"space": state.config.space, "space_digest": state.need_space().digest(),
                "strategy": o.get("strategy", "covering"), "strength": o.get("strength", 2),
                "seed": o.get("seed", 0), "format": fmt,
                "files": [p.name for p, _ in state.generated]}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    state.suite_size = len(state.generated)
    if state.shard is not None:
        keep = state.shard.select([p.name for p, _ in state.generated])
        state.generated = [state.generated[k] for k in keep]
        return "ok", (f"{len(configs)} configs in {state.shown(out)}; shard {state.shard} "
                      f"runs {len(keep)}")
    return "ok", f"{len(configs)} configs in {state.shown(out)}"


def _run(state: _State, step: Step) -> tuple[str, str]:
    o = step.options
    name = o.get("name", "run")
    try:
        command = CommandTemplate(o["command"], shell=True if o.get("shell") else None)
        executor = make_executor(o.get("executor"), o.get("jobs", state.jobs))
    except ConfiglabError as error:
        raise IntegrationError(f"{state.config.path}: {step.label}: {error}") from None
    # on a cluster the config is written where the command runs, and runs in the worker's cwd
    local = executor.name == "local"
    extra_env = {str(k): str(v) for k, v in (o.get("env") or {}).items()}
    jobs = [CommandJob(index=index, name=path.name, config=config, command=command,
                       fmt=state.fmt, config_path=state.shown(path) if local else None,
                       timeout=o.get("timeout"),
                       cwd=str(state.config.base_dir) if local else None, env=extra_env)
            for index, (path, config) in enumerate(state.generated, start=1)]
    failing = 0
    digest = state.need_space().digest()
    with SnapshotStore(state.store()) as snapshots:
        snapshot_ids = [snapshots.save_config(
            job.config, job.name, fmt=state.fmt,
            meta={"source": "configlab.integrations.ci", "space_digest": digest}).id
            for job in jobs]
        with Progress(len(jobs), f"configlab ci: {step.label}") as progress:
            try:
                done_all = executor.map(
                    run_job, jobs, lambda _, done: progress.advance(failed=done.outcome != "pass"))
            finally:
                executor.close()
    shown_paths = [state.shown(path) for path, _ in state.generated]
    for job, done, snapshot_id, shown in zip(jobs, done_all, snapshot_ids, shown_paths,
                                             strict=True):
        result = job_result(job, done, test_name=name, run_id=state.config.run_id,
                            snapshot_id=snapshot_id, extra_metrics=state.shard_metrics())
        state.results.append(result)
        state.new_results.append(result)
        if result.outcome == "pass":
            continue
        failing += 1
        why = _why(done)
        replay = replay_command(result)
        message = f"{why} under {shown} (snapshot {snapshot_id[:12]}); replay: {replay}"
        output = "" if done.process is None else done.process.output_tail(OUTPUT_TAIL)
        if output:
            message += f"\n{output}"
        state.annotations.append(Annotation(
            "error", f"configlab: {name} failed ({why})", message, file=shown))
    ran = len(jobs)
    return ("failed" if failing else "ok"), f"{ran - failing} of {ran} configs passed"


def _why(done: Any) -> str:
    """The reason shown for a run that did not pass (the wording CI users grep for)."""
    process = done.process
    if process is None:
        return str(done.why)
    if process.start_error is not None:
        return f"cannot start: {process.start_error}"
    if process.timed_out:
        return f"timed out after {process.timeout:g} s"
    return str(done.why)


def _ingest(state: _State, step: Step) -> tuple[str, str]:
    patterns = step.options["reports"]
    if isinstance(patterns, str):
        patterns = [patterns]
    files: list[Path] = []
    for pattern in patterns:
        if not isinstance(pattern, str):
            raise IntegrationError(f"{state.config.path}: {step.label}: reports must be paths")
        matched = sorted(state.config.base_dir.glob(pattern)) if not Path(pattern).is_absolute() \
            else sorted(Path(pattern).parent.glob(Path(pattern).name))
        files.extend(p for p in matched if p.is_file())
    if not files:
        message = f"no report matched {patterns}"
        if step.options.get("required", False):
            raise IntegrationError(f"{state.config.path}: {step.label}: {message}")
        state.annotations.append(Annotation("warning", "configlab ingest", message))
        return "ok", message

    location = state.store()
    known = location.is_postgres or (location.root / "index.sqlite").is_file()
    store = SnapshotStore(location) if known else None
    count = 0
    for report in files:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", IngestWarning)
            found = load_results(report, store, run_id=state.config.run_id)
        for note in caught:
            state.annotations.append(Annotation("warning", "configlab ingest", str(note.message),
                                                file=state.shown(report)))
        for result in found:
            state.results.append(result)
            state.new_results.append(result)
            if result.outcome in ("fail", "error"):
                state.annotations.append(Annotation(
                    "error", f"configlab: {result.test_id} {result.outcome}",
                    f"{result.outcome} in {state.shown(report)}"
                    + (f" (snapshot {result.snapshot_id[:12]})" if result.snapshot_id else ""),
                    file=state.shown(report)))
        count += len(found)
    failing = sum(r.outcome in ("fail", "error") for r in state.results)
    return ("failed" if failing else "ok"), f"{count} results from {len(files)} report(s)"


def _verify(state: _State, step: Step) -> tuple[str, str]:
    # deferred: numpy/python-sat load only for suites with a verify step
    from configlab.specs import CommandRunner, load_spec, verify

    o = step.options
    spec = load_spec(state.path(o["spec"]), space=state.space)
    runner = CommandRunner(o["command"], fmt=state.fmt, timeout=o.get("timeout"),
                           cwd=state.config.base_dir)
    report = verify(spec, runner, configs=[c for _, c in state.generated],
                    store=state.store(), progress=False,
                    workers=o.get("jobs", state.jobs or default_jobs()))
    for check in report.violations:
        state.annotations.append(Annotation(
            "error", f"configlab: spec rule {check.rule_id} violated",
            "; ".join(check.failures) + (f" (snapshot {check.snapshot_id[:12]})"
                                         if check.snapshot_id else ""),
            file=o["spec"]))
    totals = report.totals()
    if not report.ok:
        state.failed = True
    return ("ok" if report.ok else "failed"), (
        f"{totals['held']} held, {totals['violated']} violated, {totals['errored']} errored"
    )


def _coverage(state: _State, step: Step) -> tuple[str, str]:
    # deferred: numpy loads only for suites with a coverage step
    from configlab.coverage import measure

    o = step.options
    report = measure(state.results, state.need_space(), o.get("strength", 2),
                     include_skipped=bool(o.get("include_skipped", False)))
    state.coverage_report = report
    state.coverage_ratio = report.ratio
    detail = f"{report.strength}-way coverage {report.ratio:.1%} ({report.covered}/{report.valid})"
    threshold = o.get("fail_under")
    if threshold is not None and report.ratio < threshold:
        state.below = True
        state.annotations.append(Annotation(
            "error", "configlab: coverage below threshold",
            f"{detail} is below fail_under {threshold:.1%}", file=state.config.space))
        return "below-threshold", detail
    return "ok", detail


def _analyze(state: _State, step: Step) -> tuple[str, str]:
    # deferred: numpy/scipy load only for suites with an analyze step
    from configlab.analysis import analyze

    o = step.options
    try:
        report = analyze(state.results, state.need_space())
    except AnalysisError as error:
        state.annotations.append(Annotation("warning", "configlab analyze", str(error)))
        return "ok", f"skipped: {error}"
    state.analysis = report
    written = []
    renderers: dict[str, Callable[[], str]] = {
        "md": report.to_markdown,
        "text": report.to_text,
        "json": lambda: json.dumps(report.to_dict(), indent=2) + "\n",
    }
    for key, render in renderers.items():
        if key in o:
            target = state.path(o[key])
            write_output(target, render(), what="analysis report", error=IntegrationError,
                         parents=True)
            written.append(state.shown(target))
    if "png" in o:
        directory = state.path(o["png"])
        directory.mkdir(parents=True, exist_ok=True)
        written.append(state.shown(report.plot_impact(directory / "impact.png")))
    return "ok", f"{report.summary.headline} (wrote {', '.join(written)})"


def _export(state: _State, step: Step) -> tuple[str, str]:
    written = []
    for fmt, out in step.options.items():
        target = state.path(out)
        export(state.results, fmt, target, coverage=state.coverage_report,
               analysis=state.analysis)
        written.append(f"{fmt}: {state.shown(target)}")
    return "ok", ", ".join(written)


_HANDLERS: dict[str, Callable[[_State, Step], tuple[str, str]]] = {
    "generate": _generate,
    "run": _run,
    "ingest": _ingest,
    "verify": _verify,
    "coverage": _coverage,
    "analyze": _analyze,
    "export": _export,
}


__all__ = [
    "STEP_KINDS",
    "Annotation",
    "CIConfig",
    "CIReport",
    "Step",
    "StepReport",
    "load_ci_config",
    "run_ci",
]
