"""End-to-end demo: configlab on a real application it did not write — SQLite.

``python -m configlab.demo`` (``make demo``, ``configlab demo``) runs the whole pipeline on
``examples/sqlite`` and writes ``demo-output/``:

1. **generate** the configs of ``space.yaml`` (pairwise covering array + boundary configs,
   seeded) — the same ones the pytest plugin generates from the test file's markers;
2. **run** ``test_sqlite_behaviours.py`` under pytest with the configlab plugin in a
   subprocess (the real product path): every execution lands in the results store and every
   config in the snapshot store (``demo-output/store``);
3. **snapshots**: every config run is a snapshot; failures are linked to theirs;
4. **verify** ``specs.yaml`` against what each config did;
5. **coverage** of the space (t = 1..3) with PNG charts;
6. **correlation**: the parameters behind each failing behaviour and behind durations;
7. **exports** (:mod:`configlab.integrations.exporters`): configlab's JUnit XML (snapshot id and
config as
   properties), an Allure results directory, a CTRF JSON report and a Markdown summary; pytest's
   own JUnit XML (read back through the store with
   :func:`configlab.integrations.ingest.from_junit`), the
   spec verification's JUnit XML, results as JSON Lines and CSV, analysis JSON, and the
   Markdown report ``demo-output/report.md`` with the exact ``configlab snapshot restore`` /
   ``pytest --configlab-replay`` commands that reproduce each failure.

``run_demo(out_dir, reduced=True)`` keeps a handful of configs per suite (CI smoke test).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from configlab import coverage
from configlab.analysis import AnalysisReport, analyze
from configlab.charts import render
from configlab.errors import ConfiglabError
from configlab.generation import generate, prioritize
from configlab.integrations import exporters
from configlab.integrations.ingest import IngestWarning, from_junit
from configlab.results import Result, ResultSet, ResultStore, config_key
from configlab.snapshots import SnapshotStore
from configlab.space import ABSENT, Space
from configlab.specs import Outcome, VerificationReport, load_spec, verify

#: Default seed of the demo (the test file's own default is the same).
DEFAULT_SEED = 2024
#: Configs per generated suite in the reduced (CI) run (``--configlab-max``).
REDUCED_MAX = 6
#: Boundary configs the test file asks for (keep in step with ``BOUNDARY_COUNT`` there).
BOUNDARY_COUNT = 16
#: Pair shown in the value-class grid chart.
GRID_PAIR = ("pragma.journal_mode", "pragma.locking_mode")
#: Exit statuses of pytest that mean "ran; some tests may have failed".
_PYTEST_RAN = (0, 1)


@dataclass(frozen=True)
class Behaviour:
    """One behaviour test of the example suite and how the report names it."""

    test: str
    metric: str
    title: str


#: The behaviour tests of ``examples/sqlite/test_sqlite_behaviours.py``.
BEHAVIOURS: tuple[Behaviour, ...] = (
    Behaviour("test_failed_statement_leaves_no_partial_changes", "statement_atomicity",
              "a failed statement leaves no partial changes"),
    Behaviour("test_second_connection_reads_during_write", "concurrent_read",
              "a second connection reads while a writer holds a transaction"),
    Behaviour("test_foreign_key_violation_refused", "fk_enforced",
              "a foreign-key violation is refused"),
    Behaviour("test_deleting_rows_shrinks_file", "file_shrinks",
              "deleting most rows shrinks the file"),
    Behaviour("test_write_heavy_workload", "write_heavy_passed",
              "a write-heavy workload finishes within its budget"),
)
#: Metric holding the write-heavy test's duration in the spec outcome env.
WRITE_DURATION_METRIC = "write_heavy_s"
_BY_TEST = {b.test: b for b in BEHAVIOURS}
_SUITES = ("TestCovering", "TestBoundary")


@dataclass(frozen=True)
class Attribution:
    """What the correlation engine names behind one behaviour's failures."""

    behaviour: str
    failures: int
    runs: int
    #: Top failure pattern (``pragma.foreign_keys == false``), or None.
    condition: str | None
    #: Parameters of the reported patterns in rank order, then the other parameters whose
    #: failure association is significant (impact ranking), without repeats.
    params: tuple[str, ...]
    confidence: float | None
    #: Snapshot id of a failing config matching the top pattern (for the replay commands).
    snapshot_id: str | None
    #: Node id of the test function (without parameters) that failed under it.
    node: str | None


@dataclass(frozen=True)
class DemoResult:
    """What :func:`run_demo` produced."""

    out_dir: Path
    report: Path
    charts: tuple[Path, ...]
    exports: tuple[Path, ...]
    configs: int
    executions: int
    outcomes: Mapping[str, int]
    attributions: tuple[Attribution, ...]
    #: Parameters with a significant effect on the write-heavy duration, strongest first.
    duration_params: tuple[str, ...]
    spec_ok: bool
    spec_totals: Mapping[str, int]
    seconds: float
    steps: Mapping[str, float] = field(default_factory=dict)


def example_dir() -> Path:
    """``examples/sqlite`` of the source tree configlab runs from (a clone or editable install).

    Raises:
        ConfiglabError: the example is not there (configlab installed from a wheel).
    """
    candidate = Path(__file__).resolve().parents[2] / "examples" / "sqlite"
    if not (candidate / "test_sqlite_behaviours.py").is_file():
        raise ConfiglabError(
            f"the SQLite example is not at {candidate}: run the demo from a clone of the "
            "configlab repository (pip install -e .)"
        )
    return candidate


def _split_test_id(test_id: str) -> tuple[str, str, str]:
    """(suite class, test function, parameter id) of a node id of the example suite."""
    head, _, param = test_id.partition("[")
    parts = head.split("::")
    suite = parts[-2] if len(parts) >= 3 else ""
    return suite, parts[-1], param.rstrip("]")


def _rel(path: Path, base: Path) -> str:
    try:
        return path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return path.resolve().as_posix()


class _Progress:
    def __init__(self, sink: Callable[[str], None] | None) -> None:
        self.sink = sink
        self.start = time.perf_counter()
        self.steps: dict[str, float] = {}
        self._last = self.start

    def __call__(self, step: str, text: str) -> None:
        now = time.perf_counter()
        if self.sink is not None:
            self.sink(f"[demo {now - self.start:6.1f}s] {step}: {text}")

    def done(self, step: str) -> None:
        now = time.perf_counter()
        self.steps[step] = round(now - self._last, 3)
        self._last = now


def _clean(out: Path) -> None:
    """Remove what a previous demo run wrote (only the demo's own entries)."""
    for name in ("store", "charts", "exports"):
        target = out / name
        if target.is_dir():
            shutil.rmtree(target)
    (out / "report.md").unlink(missing_ok=True)


def _pytest_command(test_file: Path, store: Path, seed: int, run_id: str, workers: int,
                    max_configs: int | None, junit: Path) -> list[str]:
    command = [
        sys.executable, "-m", "pytest", str(test_file), "-p", "configlab",
        "--configlab-store", str(store), "--configlab-seed", str(seed),
        "--configlab-run-id", run_id, "-q", "--no-header", "-rN", "-p", "no:cacheprovider",
        f"--junitxml={junit}", "-o", "junit_family=xunit2",
    ]
    if max_configs is not None:
        command += ["--configlab-max", str(max_configs)]
    if workers > 1:
        command += ["-p", "xdist", "-n", str(workers)]
    return command


def _run_pytest(command: Sequence[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items()
           if k != "PYTEST_ADDOPTS" and not k.startswith("PYTEST_XDIST")}
    # Only the plugins the demo names (-p ...): a plugin installed elsewhere (random order,
    # reruns) would change what runs.
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    completed = subprocess.run(list(command), cwd=cwd, env=env, capture_output=True,
                               text=True, check=False)
    if completed.returncode not in _PYTEST_RAN:
        tail = (completed.stdout + completed.stderr)[-3000:]
        raise ConfiglabError(
            f"pytest exited with status {completed.returncode} running the SQLite suite:\n{tail}"
        )
    return completed


def _spec_outcomes(results: Sequence[Result]) -> dict[str, Outcome]:
    """Per config key, the spec :class:`~configlab.specs.Outcome` built from its test runs."""
    metrics: dict[str, dict[str, float]] = {}
    for result in results:
        behaviour = _BY_TEST.get(_split_test_id(result.test_id or "")[1])
        if behaviour is None:
            continue
        values = metrics.setdefault(result.config_key, {})
        if result.outcome in ("pass", "fail"):
            passed = 1.0 if result.outcome == "pass" else 0.0
            values[behaviour.metric] = min(values.get(behaviour.metric, 1.0), passed)
        if behaviour.metric == "write_heavy_passed" and result.duration is not None:
            values[WRITE_DURATION_METRIC] = max(values.get(WRITE_DURATION_METRIC, 0.0),
                                                float(result.duration))
    return {key: Outcome(outcome="pass", metrics=values) for key, values in metrics.items()}


def _ordered_configs(results: Sequence[Result]) -> list[tuple[str, int, Result]]:
    """(suite, index, first result) per distinct config, in suite then generation order."""
    first: dict[str, tuple[int, int, Result]] = {}
    for result in results:
        suite, _, param = _split_test_id(result.test_id or "")
        rank = _SUITES.index(suite) if suite in _SUITES else len(_SUITES)
        index = int(param[3:7]) if param.startswith("cfg") and param[3:7].isdigit() else 9999
        key = result.config_key
        if key not in first or (rank, index) < first[key][:2]:
            first[key] = (rank, index, result)
    ordered = sorted(first.values(), key=lambda item: (item[0], item[1], item[2].config_key))
    return [(_SUITES[r] if r < len(_SUITES) else "?", i, res) for r, i, res in ordered]


def _attribute(behaviour: Behaviour, subset: Sequence[Result], space: Space,
               test_file_rel: str) -> tuple[Attribution, AnalysisReport]:
    failing = [r for r in subset if r.outcome in ("fail", "error")]
    report = analyze(ResultSet(list(subset)), space)
    params: list[str] = []
    for pattern in report.patterns:
        for atom in pattern.atoms:
            if atom.param not in params:
                params.append(atom.param)
    if failing:
        for impact in report.impact:
            if impact.failure.significant and impact.param not in params:
                params.append(impact.param)
    top = report.patterns[0] if report.patterns else None
    chosen = None
    if failing:
        matching = failing
        if top is not None:
            rows = set(top.failing_rows)
            matching = [r for i, r in enumerate(subset) if i in rows] or failing
        chosen = min(matching, key=lambda r: (r.snapshot_id or "", r.test_id or ""))
    node = None
    if chosen is not None:
        suite, function, _ = _split_test_id(chosen.test_id or "")
        node = f"{test_file_rel}::{suite}::{function}" if suite else f"{test_file_rel}::{function}"
    attribution = Attribution(
        behaviour=behaviour.test, failures=len(failing), runs=len(subset),
        condition=top.condition if top is not None else None, params=tuple(params),
        confidence=top.confidence if top is not None else None,
        snapshot_id=chosen.snapshot_id if chosen is not None else None, node=node,
    )
    return attribution, report


def _duration_params(report: AnalysisReport, metric: str = "duration"
                     ) -> list[tuple[str, float, float]]:
    """(param, eta², BH p) of parameters significantly associated with ``metric``."""
    found = []
    for impact in report.impact:
        for item in impact.metrics:
            if item.metric == metric and item.significant:
                found.append((impact.param, item.eta_squared, item.p_adjusted))
    return sorted(found, key=lambda x: (-x[1], x[0]))


def _fmt_pct(value: float) -> str:
    return f"{value:.1%}"


def _md_cell(value: Any) -> str:
    text = "absent" if value is None else str(value)
    if isinstance(value, bool):
        text = "true" if value else "false"
    return text.replace("|", "\\|")


@dataclass(frozen=True)
class _Run:
    """Where one demo run reads and writes, and its options (shared by the pipeline steps)."""

    example: Path
    root: Path
    out: Path
    seed: int
    reduced: bool
    workers: int
    say: _Progress
    store: Path
    charts_dir: Path
    exports_dir: Path
    test_file: Path
    test_rel: str
    #: Configs kept per suite (:data:`REDUCED_MAX` when reduced, else all).
    max_configs: int | None
    run_id: str


def run_demo(
    out_dir: str | os.PathLike[str] = "demo-output",
    *,
    reduced: bool = False,
    seed: int = DEFAULT_SEED,
    workers: int | None = None,
    progress: Callable[[str], None] | None = print,
) -> DemoResult:
    """Run the SQLite pipeline end to end and write the report into ``out_dir``.

    The steps: generate configs, run the behaviour suite under pytest with the plugin, check
    the recorded results and snapshots, verify the behaviour spec, measure coverage, name the
    causes of failures, write the exports and the Markdown report.

    Args:
        out_dir: output directory (its ``store``, ``charts``, ``exports`` and ``report.md``
            from an earlier run are replaced).
        reduced: keep :data:`REDUCED_MAX` configs per suite (a fast CI version).
        seed: generation seed; the same seed gives the same configs.
        workers: pytest-xdist workers (default 2, 1 when ``reduced``); 1 runs in-process.
        progress: called with one line per step (``None``: silent).

    Returns:
        A :class:`DemoResult` (paths written, figures, attributions).

    Raises:
        ConfiglabError: the example is missing, pytest could not run the suite, or a
            pipeline step failed on its input.
    """
    run = _prepare(out_dir, reduced=reduced, seed=seed, workers=workers, progress=progress)
    space, covering, boundary = _generate_configs(run)
    command, junit = _run_suite(run, len(covering) + len(boundary))
    results, ordered, n_snapshots = _load_recorded(run)
    verification = _verify_spec(run, results, ordered)
    configs = [res.config for _, _, res in ordered]
    cov, gaps3, charts = _measure_coverage(run, space, results, configs)
    attributions, write_report = _analyse_failures(run, space, results, charts)
    duration = _duration_params(write_report) if write_report is not None else []
    run.say("analysis", "write-heavy duration driven by: "
            + (", ".join(p for p, _, _ in duration) or "no significant parameter"))
    run.say.done("analysis")
    product, exports = _write_exports(run, results, junit, cov)
    report_path = run.out / "report.md"
    text = _report(_ReportData(
        space=space, seed=seed, reduced=reduced, covering=len(covering),
        boundary=len(boundary), results=list(results), ordered=ordered,
        outcomes=Counter(r.outcome for r in results), verification=verification, cov=cov,
        gaps3=gaps3, attributions=attributions, duration=duration, write_report=write_report,
        charts=charts, exports=exports, product=product, out=run.out, root=run.root,
        store=run.store, n_snapshots=n_snapshots, command=command,
    ))
    report_path.write_text(text, encoding="utf-8")
    run.say.done("report")
    seconds = time.perf_counter() - run.say.start
    run.say("report", f"{_rel(report_path, Path.cwd())} written in {seconds:.1f} s")
    return DemoResult(
        out_dir=run.out, report=report_path, charts=tuple(charts), exports=tuple(exports),
        configs=len(ordered), executions=len(results),
        outcomes=dict(Counter(r.outcome for r in results)),
        attributions=tuple(attributions), duration_params=tuple(p for p, _, _ in duration),
        spec_ok=verification.ok, spec_totals=dict(verification.totals()), seconds=seconds,
        steps=dict(run.say.steps),
    )


def _prepare(out_dir: str | os.PathLike[str], *, reduced: bool, seed: int, workers: int | None,
             progress: Callable[[str], None] | None) -> _Run:
    """Check the options, find the example and empty the output directory of an earlier run."""
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ConfiglabError(f"seed must be an integer, got {seed!r}")
    if workers is None:
        workers = 1 if reduced else 2
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ConfiglabError(f"workers must be a positive integer, got {workers!r}")
    say = _Progress(progress)
    example = example_dir()
    out = Path(out_dir).resolve()
    try:
        out.mkdir(parents=True, exist_ok=True)
        _clean(out)
        for name in ("charts", "exports"):
            (out / name).mkdir()
    except OSError as error:
        raise ConfiglabError(f"{out}: cannot prepare the output directory: {error}") from None
    root = example.parents[1]
    test_file = example / "test_sqlite_behaviours.py"
    return _Run(example=example, root=root, out=out, seed=seed, reduced=reduced,
                workers=workers, say=say, store=out / "store", charts_dir=out / "charts",
                exports_dir=out / "exports", test_file=test_file,
                test_rel=_rel(test_file, root), max_configs=REDUCED_MAX if reduced else None,
                run_id=f"configlab-demo-{seed}")


def _generate_configs(run: _Run) -> tuple[Space, list[dict[str, Any]], list[dict[str, Any]]]:
    """Step 1: the pairwise covering and boundary suites (prioritised down when reduced)."""
    space = Space.load(run.example / "space.yaml")
    covering = list(generate(space, strategy="covering", seed=run.seed, strength=2))
    boundary = list(generate(space, strategy="boundary", seed=run.seed, count=BOUNDARY_COUNT))
    if run.max_configs is not None:
        covering = list(prioritize(covering, space, strength=2).head(run.max_configs).configs)
        boundary = list(prioritize(boundary, space, strength=2).head(run.max_configs).configs)
    run.say("generate", f"{len(space.parameters)} PRAGMAs; {len(covering)} covering (pairwise) "
            f"+ {len(boundary)} boundary configs, seed {run.seed}")
    run.say.done("generate")
    return space, covering, boundary


def _run_suite(run: _Run, n_configs: int) -> tuple[list[str], Path]:
    """Step 2: run the behaviour suite under pytest with the plugin; (command, its JUnit XML)."""
    junit = run.exports_dir / "pytest-junit.xml"
    command = _pytest_command(run.test_file, run.store, run.seed, run.run_id, run.workers,
                              run.max_configs, junit)
    n_tests = n_configs * len(BEHAVIOURS)
    run.say("pytest", f"running {len(BEHAVIOURS)} behaviours x {n_configs} configs = "
            f"{n_tests} tests ({run.workers} worker{'s' if run.workers > 1 else ''})")
    completed = _run_pytest(command, run.root)
    last_line = completed.stdout.strip().splitlines()[-1] if completed.stdout.strip() else ""
    run.say("pytest", last_line.strip("= "))
    run.say.done("pytest")
    return command, junit


def _load_recorded(run: _Run) -> tuple[ResultSet, list[tuple[str, int, Result]], int]:
    """Step 3: the recorded results, one (suite, index, result) per config, snapshot count.

    Raises ConfiglabError when nothing was recorded or a result names a missing snapshot.
    """
    with ResultStore(run.store) as results_store:
        results = results_store.load(run_id=run.run_id)
    if not len(results):
        raise ConfiglabError(f"pytest ran but recorded no results in {run.store}")
    ordered = _ordered_configs(list(results))
    with SnapshotStore(run.store) as snapshots:
        stored = snapshots.list()
    missing = sorted({r.snapshot_id for r in results if r.snapshot_id} - {s.id for s in stored})
    if missing:
        raise ConfiglabError(f"results refer to snapshots missing from {run.store}: "
                             f"{missing[:3]}")
    run.say("snapshots", f"{len(results)} executions of {len(ordered)} configs recorded; "
            f"{len(stored)} snapshots in {_rel(run.store, run.root)}")
    run.say.done("snapshots")
    return results, ordered, len(stored)


def _verify_spec(run: _Run, results: ResultSet,
                 ordered: Sequence[tuple[str, int, Result]]) -> VerificationReport:
    """Step 4: judge the behaviour spec on the outcomes the suite recorded (no rerun)."""
    spec = load_spec(run.example / "specs.yaml")
    spec_outcomes = _spec_outcomes(list(results))

    def from_runs(config: Mapping[str, Any]) -> Outcome:
        return spec_outcomes[config_key(config)]

    verification = verify(spec, from_runs, configs=[res.config for _, _, res in ordered],
                          store=run.store, workers=1, progress=False)
    exports_dir = run.exports_dir
    (exports_dir / "spec-verification.md").write_text(verification.to_markdown(),
                                                      encoding="utf-8")
    verification.write(exports_dir / "spec-verification.xml")
    verification.write(exports_dir / "spec-verification.json")
    run.say("specs", f"{len(spec.rules)} rules: {dict(verification.totals())}")
    run.say.done("specs")
    return verification


def _measure_coverage(run: _Run, space: Space, results: ResultSet,
                      configs: list[Mapping[str, Any]]
                      ) -> tuple[coverage.CoverageReport, list[coverage.Gap], list[Path]]:
    """Step 5: 3-way coverage, its gaps and the coverage charts."""
    cov = coverage.measure(configs, space, strength=3)
    data = coverage.chart_data(ResultSet(list(results)), space, strength=2, pair=GRID_PAIR)
    charts = render(data, run.charts_dir, "png")
    gaps3 = coverage.gaps(configs, space, strength=3)
    (run.exports_dir / "coverage.json").write_text(
        json.dumps(cov.to_dict(detail=False), indent=2, sort_keys=True), encoding="utf-8")
    run.say("coverage", ", ".join(f"{lv.t}-way {_fmt_pct(lv.ratio)}" for lv in cov.levels)
            + f"; {len(charts)} charts")
    run.say.done("coverage")
    return cov, gaps3, charts


def _analyse_failures(run: _Run, space: Space, results: ResultSet, charts: list[Path]
                      ) -> tuple[list[Attribution], AnalysisReport | None]:
    """Step 6: per behaviour, the causes the correlation engine names (impact charts are
    appended to ``charts``); also the analysis of the write-heavy behaviour."""
    attributions: list[Attribution] = []
    analyses: dict[str, AnalysisReport] = {}
    exports_dir = run.exports_dir
    for behaviour in BEHAVIOURS:
        subset = [r for r in results if _split_test_id(r.test_id or "")[1] == behaviour.test]
        if not subset:
            continue
        attribution, report = _attribute(behaviour, subset, space, run.test_rel)
        attributions.append(attribution)
        analyses[behaviour.test] = report
        (exports_dir / f"analysis-{behaviour.metric}.md").write_text(report.to_markdown(),
                                                                     encoding="utf-8")
        (exports_dir / f"analysis-{behaviour.metric}.json").write_text(
            json.dumps(report.to_dict(), indent=2, sort_keys=True), encoding="utf-8")
        if attribution.failures:
            charts.append(report.plot_impact(run.charts_dir / f"impact-{behaviour.metric}.png",
                                             top=12))
            run.say("analysis", f"{behaviour.metric}: {attribution.failures}/{attribution.runs}"
                    f" fail; top pattern: {attribution.condition or '(none significant)'}; "
                    f"parameters: {', '.join(attribution.params) or '(none significant)'}")
    return attributions, analyses.get("test_write_heavy_workload")


def _write_exports(run: _Run, results: ResultSet, junit: Path,
                   cov: coverage.CoverageReport) -> tuple[_Exports, list[Path]]:
    """Step 7: configlab's own reports, the results tables; every file written so far."""
    exports_dir = run.exports_dir
    product = _product_exports(results, exports_dir, pytest_junit=junit, store=run.store,
                               coverage_report=cov, seed=run.seed)
    exports = [*product.paths, junit, exports_dir / "spec-verification.xml",
               exports_dir / "spec-verification.md", exports_dir / "spec-verification.json",
               exports_dir / "coverage.json"]
    exports.append(exporters.export(results, "jsonl", exports_dir / "results.jsonl"))
    exports.append(exporters.to_csv(results, exports_dir / "results.csv"))
    exports += sorted(exports_dir.glob("analysis-*"))
    run.say("exports", f"configlab JUnit XML, Allure results, CTRF, Markdown summary; "
            f"pytest's JUnit XML: {product.pytest_linked}/{product.pytest_cases} cases linked "
            "to their config")
    run.say.done("exports")
    return product, exports


@dataclass(frozen=True)
class _Exports:
    """configlab's own reports of the run (:mod:`configlab.integrations.exporters`)."""

    junit: Path
    allure: Path
    ctrf: Path
    summary: Path
    #: Test cases of pytest's JUnit XML, and how many of them
    #: :func:`configlab.integrations.ingest.from_junit` linked back to their config through the
    #: store.
    pytest_cases: int
    pytest_linked: int

    @property
    def paths(self) -> list[Path]:
        return [self.junit, self.allure, self.ctrf, self.summary]


def _product_exports(results: ResultSet, exports_dir: Path, *, pytest_junit: Path, store: Path,
                     coverage_report: coverage.CoverageReport, seed: int) -> _Exports:
    """Write configlab's JUnit XML (config properties), Allure results, CTRF JSON and Markdown
    summary, and read pytest's JUnit XML back through the store (the plugin's
    ``configlab.snapshot_id`` properties)."""
    import sqlite3
    import warnings

    junit = exporters.to_junit(results, exports_dir / "configlab-junit.xml")
    allure = exporters.to_allure(
        results, exports_dir / "allure-results",
        environment={"application": f"SQLite {sqlite3.sqlite_version}",
                     "configlab.seed": str(seed)},
    )
    ctrf = exporters.to_ctrf(results, exports_dir / "configlab-ctrf.json")
    summary = exporters.to_markdown(results, exports_dir / "configlab-summary.md",
                                    coverage=coverage_report, title="configlab on SQLite")
    config_of = {r.snapshot_id: r.config_key for r in results if r.snapshot_id}
    with warnings.catch_warnings():  # unlinked cases are counted below instead
        warnings.simplefilter("ignore", IngestWarning)
        back = from_junit(pytest_junit, store=store)
    linked = sum(1 for r in back
                 if r.snapshot_id is not None and config_of.get(r.snapshot_id) == r.config_key)
    return _Exports(junit=junit, allure=allure, ctrf=ctrf, summary=summary,
                    pytest_cases=len(back), pytest_linked=linked)


@dataclass(frozen=True)
class _ReportData:
    """Everything the Markdown report shows (what the pipeline steps produced)."""

    space: Space
    seed: int
    reduced: bool
    covering: int
    boundary: int
    results: list[Result]
    ordered: list[tuple[str, int, Result]]
    outcomes: Counter[str]
    verification: VerificationReport
    cov: coverage.CoverageReport
    gaps3: list[coverage.Gap]
    attributions: list[Attribution]
    duration: list[tuple[str, float, float]]
    write_report: AnalysisReport | None
    charts: list[Path]
    exports: list[Path]
    product: _Exports
    out: Path
    root: Path
    store: Path
    n_snapshots: int
    command: list[str]

    @property
    def store_rel(self) -> str:
        """The store's path relative to the repository root."""
        return _rel(self.store, self.root)


def _report(data: _ReportData) -> str:
    """The Markdown report, section by section."""
    sections = (_section_intro, _section_pipeline, _section_behaviours, _section_spec,
                _section_coverage, _section_causes, _section_duration, _section_reproduce,
                _section_configurations, _section_files)
    return "\n".join(line for section in sections for line in section(data))


def _section_intro(d: _ReportData) -> list[str]:
    """Title and what the run did."""
    lines: list[str] = []
    add = lines.append
    add(f"# configlab on SQLite: {len(BEHAVIOURS)} behaviours under {len(d.ordered)} "
        "PRAGMA configurations")
    add("")
    add("The application is SQLite 3 through Python's `sqlite3`, configured only by PRAGMAs "
        "(`examples/sqlite/`). configlab generated the configurations, ran the behaviour suite "
        "under pytest with its plugin, stored every config as a snapshot, verified the "
        "behaviour spec, measured coverage and named the parameters behind each failure."
        + (" **Reduced run** (CI smoke test): a few configs per suite." if d.reduced else ""))
    add("")
    return lines


def _section_pipeline(d: _ReportData) -> list[str]:
    """One table row per pipeline step, and the pytest command run."""
    lines: list[str] = []
    add = lines.append
    add("## Pipeline")
    add("")
    add("| step | what happened |")
    add("|---|---|")
    add(f"| generate | {len(d.space.parameters)} parameters; {d.covering} pairwise covering + "
        f"{d.boundary} boundary configs, seed {d.seed} |")
    counts = d.outcomes
    add(f"| run | {len(d.results)} executions under pytest + configlab plugin: "
        + ", ".join(f"{counts[o]} {o}" for o in ("pass", "fail", "error", "skip") if counts[o])
        + " |")
    add(f"| snapshots | {d.n_snapshots} snapshots in `{d.store_rel}` (every config run) |")
    totals = d.verification.totals()
    add(f"| specs | {len(d.verification.rules)} rules of `examples/sqlite/specs.yaml`: "
        + ", ".join(f"{v} {n}" for n, v in totals.items()) + " |")
    add("| coverage | " + ", ".join(f"{lv.t}-way {_fmt_pct(lv.ratio)}" for lv in d.cov.levels)
        + " |")
    named = sum(1 for a in d.attributions if a.failures and a.condition)
    add(f"| correlation | causes named for {named} failing behaviour(s) |")
    product: _Exports = d.product
    add(f"| exports | configlab JUnit XML `{_rel(product.junit, d.out)}` ({len(d.results)} test "
        f"cases, snapshot id and config as properties), Allure results "
        f"`{_rel(product.allure, d.out)}/`, CTRF JSON `{_rel(product.ctrf, d.out)}`, Markdown "
        f"summary `{_rel(product.summary, d.out)}`; pytest's JUnit XML: "
        f"{product.pytest_linked} / {product.pytest_cases} test cases linked back to their "
        "config through the store |")
    add("")
    add("Command run (from the repository root):")
    add("")
    shown = [_shown_arg(c, d.root) for c in d.command[1:]]
    add("```")
    add("python " + " ".join(shown))
    add("```")
    add("")
    return lines


def _section_behaviours(d: _ReportData) -> list[str]:
    """Runs and failure rate per behaviour."""
    lines: list[str] = []
    add = lines.append
    add("## Behaviours")
    add("")
    add("| behaviour | runs | pass | fail | error | failure rate |")
    add("|---|---|---|---|---|---|")
    for behaviour in BEHAVIOURS:
        subset = [r for r in d.results if _split_test_id(r.test_id or "")[1] == behaviour.test]
        c = Counter(r.outcome for r in subset)
        failing = c["fail"] + c["error"]
        rate = failing / len(subset) if subset else 0.0
        add(f"| {behaviour.title} (`{behaviour.test}`) | {len(subset)} | {c['pass']} | "
            f"{c['fail']} | {c['error']} | {_fmt_pct(rate)} |")
    add("")
    return lines


def _section_spec(d: _ReportData) -> list[str]:
    """Verdicts of the behaviour spec, rule by rule."""
    lines: list[str] = []
    add = lines.append
    add("## Behaviour spec verification")
    add("")
    add(f"Spec `{d.verification.spec_name}` version {d.verification.spec_version}: "
        f"**{'all rules held' if d.verification.ok else 'violations found'}** "
        "on the configs the suite ran (untested: no config satisfied the rule's `when`).")
    add("")
    add("| rule | when | tried | held | violated | errored | status |")
    add("|---|---|---|---|---|---|---|")
    for rule_report in d.verification.rules:
        add(f"| `{rule_report.rule_id}` | `{_md_cell(rule_report.when)}` | {rule_report.tried} | "
            f"{rule_report.held} | {rule_report.violated} | {rule_report.errored} | "
            f"{rule_report.status} |")
    add("")
    for violation in list(d.verification.violations)[:5]:
        add(f"- violation: `{violation.rule_id}` on snapshot "
            f"`{(violation.snapshot_id or '')[:12]}`: {'; '.join(violation.failures)}")
    add("")
    return lines


def _section_coverage(d: _ReportData) -> list[str]:
    """t-way coverage, first 3-way gaps and the coverage charts."""
    lines: list[str] = []
    add = lines.append
    add("## Coverage of the space")
    add("")
    add("CCM measures over value classes (covered / valid t-tuples; constraint-excluded "
        "tuples, e.g. `wal_autocheckpoint` outside WAL, are not gaps).")
    add("")
    add("| t | covered | valid | invalid | total coverage | combinations fully covered |")
    add("|---|---|---|---|---|---|")
    for level in d.cov.levels:
        add(f"| {level.t} | {level.covered} | {level.valid} | {level.invalid} | "
            f"{_fmt_pct(level.ratio)} | {_fmt_pct(level.simple)} |")
    add("")
    if d.gaps3:
        add(f"{sum(len(g.missing) for g in d.gaps3)} 3-way tuples are not covered (a pairwise "
            "suite does not promise them); first gaps:")
        add("")
        for gap in d.gaps3[:3]:
            add(f"- {', '.join(gap.params)}: " + "; ".join(str(t) for t in gap.missing[:3]))
        add("")
    for chart in d.charts:
        name = chart.stem
        if name.startswith("coverage_"):
            add(f"![{name}]({_rel(chart, d.out)})")
            add("")
    return lines


def _section_causes(d: _ReportData) -> list[str]:
    """The failure patterns and parameters the correlation engine names."""
    lines: list[str] = []
    add = lines.append
    add("## Why behaviours fail (correlation)")
    add("")
    add("| behaviour | failing runs | top pattern | confidence | parameters named |")
    add("|---|---|---|---|---|")
    for a in d.attributions:
        if not a.failures:
            add(f"| `{a.behaviour}` | 0 / {a.runs} | — | — | — |")
            continue
        conf = f"{a.confidence:.0%}" if a.confidence is not None else "—"
        add(f"| `{a.behaviour}` | {a.failures} / {a.runs} | `{_md_cell(a.condition)}` | "
            f"{conf} | {', '.join(f'`{p}`' for p in a.params) or '—'} |")
    add("")
    for chart in d.charts:
        if chart.stem.startswith("impact-"):
            add(f"![{chart.stem}]({_rel(chart, d.out)})")
            add("")
    add("Full analyses (impact tables, masked conditions, confidence warnings): "
        "`exports/analysis-<behaviour>.md`.")
    add("")
    return lines


def _section_duration(d: _ReportData) -> list[str]:
    """The parameters behind the write-heavy duration (effect sizes, variance shares)."""
    lines: list[str] = []
    add = lines.append
    add("## What drives the write-heavy duration")
    add("")
    if d.duration:
        add("| parameter | eta² (share of duration variance) | BH-adjusted p |")
        add("|---|---|---|")
        for param, eta, p in d.duration:
            add(f"| `{param}` | {eta:.2f} | {p:.2g} |")
    else:
        add("No parameter has a significant effect on the duration in this run.")
    if d.write_report is not None:
        for sens in d.write_report.sensitivity:
            if sens.metric == "duration":
                parts = [f"{'×'.join(c.params)} {c.share:.0%}" for c in sens.components[:5]]
                add("")
                add(f"Variance decomposition of the duration: {', '.join(parts)}; "
                    f"residual {sens.residual:.0%}.")
    add("")
    return lines


def _section_reproduce(d: _ReportData) -> list[str]:
    """Restore and replay commands for one failing config per behaviour."""
    lines: list[str] = []
    add = lines.append
    add("## Reproduce a failure")
    add("")
    add("Every failing run points at the snapshot of its exact config. From the repository "
        "root:")
    add("")
    for a in d.attributions:
        if not a.failures or a.snapshot_id is None:
            continue
        add(f"**{_BY_TEST[a.behaviour].title}** fails under snapshot `{a.snapshot_id[:12]}`"
            + (f" (matches `{a.condition}`)" if a.condition else "") + ":")
        add("")
        add("```sh")
        add(f"configlab snapshot restore {a.snapshot_id[:12]} "
            f"repro-{_BY_TEST[a.behaviour].metric} --store {d.store_rel}")
        add(f"pytest '{a.node}' --configlab-store {d.store_rel} --configlab-replay "
            f"{a.snapshot_id[:12]}")
        add("```")
        add("")
    return lines


def _section_configurations(d: _ReportData) -> list[str]:
    """Every config run, with its snapshot and failing behaviours."""
    lines: list[str] = []
    add = lines.append
    add("## Configurations")
    add("")
    params = [p.path for p in d.space.parameters]
    short = [p.rsplit(".", 1)[-1] for p in params]
    by_key: dict[str, list[str]] = {}
    for r in d.results:
        if r.outcome in ("fail", "error"):
            found = _BY_TEST.get(_split_test_id(r.test_id or "")[1])
            if found is not None and found.metric not in by_key.setdefault(r.config_key, []):
                by_key[r.config_key].append(found.metric)
    add("| # | suite | snapshot | " + " | ".join(short) + " | failing behaviours |")
    add("|---|---|---|" + "---|" * len(short) + "---|")
    for suite, index, res in d.ordered:
        env = d.space.extract(res.config)
        values = [_md_cell(None if _is_absent(env[p]) else env[p]) for p in params]
        names = sorted(by_key.get(res.config_key, []),
                       key=lambda m: [b.metric for b in BEHAVIOURS].index(m))
        add(f"| {index} | {suite.removeprefix('Test').lower()} | "
            f"`{(res.snapshot_id or '')[:12]}` | " + " | ".join(values)
            + f" | {', '.join(names) or '—'} |")
    add("")
    return lines


def _section_files(d: _ReportData) -> list[str]:
    """The files written."""
    lines: list[str] = []
    add = lines.append
    add("## Files")
    add("")
    for path in d.exports:
        add(f"- `{_rel(path, d.out)}`")
    add(f"- `{d.store_rel}`: the configlab store (results table + snapshots)")
    add("")
    return lines


def _shown_arg(arg: str, root: Path) -> str:
    """A command-line argument with absolute paths made relative to ``root``."""
    option, sep, value = arg.partition("=")
    if sep and os.path.isabs(value):
        return f"{option}={_rel(Path(value), root)}"
    return _rel(Path(arg), root) if os.path.isabs(arg) else arg


def _is_absent(value: Any) -> bool:
    return value is ABSENT


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m configlab.demo [OUT_DIR] [--reduced] [--seed N] [--workers N]``."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m configlab.demo", description=__doc__
                                     .split("\n", 1)[0])
    parser.add_argument("out_dir", nargs="?", default="demo-output")
    parser.add_argument("--reduced", action="store_true", help="a few configs per suite")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args(argv)
    try:
        result = run_demo(args.out_dir, reduced=args.reduced, seed=args.seed,
                          workers=args.workers)
    except ConfiglabError as error:
        print(f"configlab demo: error: {error}", file=sys.stderr)
        return 2
    print(f"report: {result.report}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
