"""Session: the plugin's per-session state, the hook bodies, and the terminal summary.

:mod:`configlab.integrations.pytest.plugin` holds the hooks pytest calls; each one that concerns
a configlab test calls a body here.  ``pytest_configure`` imports this module in every pytest
run, configlab tests or not, so it imports at module level only what is light (~50 ms after
pytest): the areas that load numpy, scipy, jsonschema, re2, pysat or the format codecs (results,
analysis, coverage, space, generation, snapshots, formats) are imported where first needed.
"""

from __future__ import annotations

import os
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from configlab import storage
from configlab.errors import ConfiglabError, GenerationError, ResultsError, SpaceError
from configlab.execution import DEFAULT_TAIL_BYTES, shared_run_id
from configlab.integrations.monitor import Execution, Monitor
from configlab.integrations.pytest._names import (
    DEFAULT_STORE,
    FIXTURE,
    MAX_ANALYSED_TESTS,
    RUN_ID_ENV,
    SHARD_METRICS,
    SNAPSHOT_FILE,
    SNAPSHOT_PROPERTY,
    TOP_SUSPECTS,
)
from configlab.integrations.pytest.collect import ConfigCase, _check_request, case_ids
from configlab.integrations.pytest.handle import ConfigHandle
from configlab.storage import StoreLocation

if TYPE_CHECKING:
    from configlab.results import ResultSet, ResultStore
    from configlab.snapshots import SnapshotStore
    from configlab.space import Space


@dataclass
class _ItemRecord:
    """What is known about one configlab test execution while it runs."""

    case: ConfigCase
    snapshot_id: str | None = None
    phases: dict[str, str] = field(default_factory=dict)
    durations: dict[str, float] = field(default_factory=dict)
    execution: Execution | None = None
    drift: tuple[str, ...] = ()
    #: the output pytest captured (all phases, its last DEFAULT_TAIL_BYTES characters each)
    stdout: str | None = None
    stderr: str | None = None


@dataclass
class _Seen:
    """A recorded execution as the controller learns it from a teardown report."""

    nodeid: str
    snapshot_id: str | None
    space_digest: str
    strength: int
    outcome: str | None
    recorded: bool
    error: str | None
    drift: tuple[str, ...]


class _State:
    """Per-session plugin state (in ``config.stash``)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        workerinput: dict[str, Any] | None = getattr(config, "workerinput", None)
        self.is_worker = workerinput is not None
        given_store = config.getoption("configlab_store") or os.environ.get(storage.STORE_ENV)
        objects = config.getoption("configlab_objects", None)
        #: the store: a directory or a postgresql:// URL (objects on S3 with --configlab-objects)
        self.store_path: StoreLocation
        if workerinput is not None and "configlab_store" in workerinput:
            self.store_path = storage.resolve(
                workerinput["configlab_store"], workerinput.get("configlab_objects"), environ={}
            )
        elif given_store and storage.is_postgres_url(given_store):
            self.store_path = storage.resolve(given_store, objects)
        elif given_store:
            local = (config.invocation_params.dir / given_store).resolve()
            self.store_path = storage.resolve(local, objects)
        else:
            self.store_path = storage.resolve(Path(config.rootpath) / DEFAULT_STORE, objects)
        run_id = (workerinput or {}).get("configlab_run_id") or config.getoption(
            "configlab_run_id"
        ) or os.environ.get(RUN_ID_ENV)
        if run_id is None and config.getoption("configlab_shard", None) is not None:

            run_id = shared_run_id()  # every shard of a CI pipeline agrees on it
        self.run_id: str = run_id or (
            f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
        )
        self.seed: int | None = config.getoption("configlab_seed")
        self.max_configs: int | None = config.getoption("configlab_max")
        if self.max_configs is not None and self.max_configs < 1:
            raise pytest.UsageError("--configlab-max must be at least 1")
        self.replay_ref: str | None = config.getoption("configlab_replay")
        self.replay: tuple[str, dict[str, Any], str | None] | None = None
        self._spaces: dict[tuple[str, int], Space] = {}
        self._suites: dict[str, list[ConfigCase]] = {}
        self._snapshots: SnapshotStore | None = None
        self._results: ResultStore | None = None
        self._saved: dict[str, str] = {}
        self._sent_spaces: set[str] = set()
        # controller side
        self.seen: list[_Seen] = []
        self.spaces: dict[str, Space] = {}
        self.space_defs: dict[str, dict[str, Any]] = {}
        if self.replay_ref is not None:
            self.replay = self._load_replay(self.replay_ref)

    # -- stores -----------------------------------------------------------------------------

    def snapshots(self) -> SnapshotStore:
        if self._snapshots is None:
            from configlab.snapshots import SnapshotStore  # deferred: see module doc

            self._snapshots = SnapshotStore(self.store_path, durable=False)
        return self._snapshots

    def results(self) -> ResultStore:
        if self._results is None:
            from configlab.results import ResultStore  # deferred: see module doc

            self._results = ResultStore(self.store_path)
        return self._results

    def close(self) -> None:
        for store in (self._snapshots, self._results):
            if store is not None:
                store.close()
        self._snapshots = self._results = None

    def _load_replay(self, ref: str) -> tuple[str, dict[str, Any], str | None]:
        if not _store_exists(self.store_path):
            raise pytest.UsageError(
                f"--configlab-replay {ref}: no configlab store at {self.store_path} "
                "(pass --configlab-store)"
            )
        store = self.snapshots()
        try:
            snapshot = store.get(ref)
            if len(snapshot.files) != 1:
                raise ConfiglabError(
                    f"snapshot {snapshot.short_id} holds {len(snapshot.files)} files; "
                    "a replayed snapshot must hold exactly one config file"
                )
            tree = store.read_tree(snapshot)
        except ConfiglabError as error:
            raise pytest.UsageError(f"--configlab-replay {ref}: {error}") from None
        digest = snapshot.meta.get("space_digest")
        return snapshot.id, tree, digest if isinstance(digest, str) else None

    # -- generation -------------------------------------------------------------------------

    def _space(self, spec: Any, where: Path) -> Space:
        from configlab.space import Space, load_space  # deferred: see module doc

        if isinstance(spec, Space):
            return spec
        if isinstance(spec, Mapping):
            return load_space(spec)
        path = self._locate(spec, where, "space file")
        key = (str(path), path.stat().st_mtime_ns)
        if key not in self._spaces:
            self._spaces[key] = Space.load(path)
        return self._spaces[key]

    def _locate(self, spec: str | os.PathLike[str], where: Path, what: str) -> Path:
        path = Path(spec)
        if path.is_absolute():
            candidates = [path]
        else:
            candidates = [where / path, Path(self.config.rootpath) / path]
        for candidate in candidates:
            if candidate.is_file():
                return candidate.resolve()
        tried = " or ".join(str(c) for c in dict.fromkeys(candidates))
        raise SpaceError(f"no {what} {os.fspath(spec)!r} (looked for {tried})")

    def cases(self, marker: pytest.Mark, where: Path) -> list[ConfigCase]:
        """The configs of a marked test (cached per identical request)."""
        from configlab.results import canonical_json  # deferred: see module doc

        kwargs = dict(marker.kwargs)
        if marker.args:
            if len(marker.args) > 1 or "space" in kwargs:
                raise GenerationError("the configlab marker takes the space as its only "
                                      "positional argument")
            kwargs["space"] = marker.args[0]
        if "space" not in kwargs:
            raise SpaceError("the configlab marker needs space=...")
        space_spec = kwargs.pop("space")
        strategy = kwargs.pop("strategy", "covering")
        strength = kwargs.pop("strength", 2)
        seed = kwargs.pop("seed", 0)
        count = kwargs.pop("count", None)
        base = kwargs.pop("base", None)
        if self.seed is not None:
            seed = self.seed
        _check_request(space_spec, strategy, strength, seed, count, base)
        space = self._space(space_spec, where)
        if self.replay is not None:
            return [self._replay_case(space, strength)]
        if isinstance(base, str | os.PathLike):
            from configlab import formats  # deferred: see module doc

            base = formats.load(self._locate(base, where, "base config"))
        key = canonical_json([space.digest(), strategy, strength, seed, count, base,
                              sorted(kwargs.items()), self.max_configs])
        if key not in self._suites:
            self._suites[key] = self._generate(space, strategy, strength, seed, count, base,
                                               kwargs)
        return self._suites[key]

    def _generate(self, space: Space, strategy: str, strength: int, seed: int,
                  count: int | None, base: Any, options: dict[str, Any]) -> list[ConfigCase]:
        from configlab.generation import generate, prioritize  # deferred: see module doc

        configs = list(generate(space, strategy=strategy, seed=seed, count=count,
                                strength=strength, base=base, **options))
        indices = list(range(len(configs)))
        # Ids are computed over the whole generated suite, so a config keeps its id with or
        # without --configlab-max (its history per test id survives the option).
        every_id = case_ids(configs, indices, space)
        if self.max_configs is not None and len(configs) > self.max_configs:
            suite = prioritize(configs, space, strength=strength).head(self.max_configs)
            configs = list(suite.configs)
            indices = list(suite.order)
        ids = [every_id[index] for index in indices]
        return [ConfigCase(config, index, case_id, space, strength)
                for config, index, case_id in zip(configs, indices, ids, strict=True)]

    def _replay_case(self, space: Space, strength: int) -> ConfigCase:
        assert self.replay is not None
        snapshot_id, tree, digest = self.replay
        mismatch = digest is not None and digest != space.digest()
        return ConfigCase(tree, -1, f"replay-{snapshot_id[:12]}", space, strength,
                          snapshot_id=snapshot_id, mismatch=mismatch)

    # -- recording --------------------------------------------------------------------------

    def snapshot_id(self, case: ConfigCase) -> str:
        """Save the case's config in the snapshot store (once per config); its snapshot id."""
        if case.snapshot_id is not None:
            return case.snapshot_id
        from configlab.results import config_key  # deferred: see module doc

        key = config_key(case.config)
        found = self._saved.get(key)
        if found is not None:
            return found
        meta = {"source": "configlab.pytest", "space": case.space.name,
                "space_digest": case.space.digest()}
        store = self.snapshots()
        snapshot_id = store.find_config(dict(case.config), SNAPSHOT_FILE, meta=meta)
        if snapshot_id is None:
            snapshot_id = store.save_config(dict(case.config), SNAPSHOT_FILE, meta=meta).id
        self._saved[key] = snapshot_id
        return snapshot_id

    def record(self, item: pytest.Item, record: _ItemRecord) -> dict[str, Any] | None:
        """Write the result of a finished execution; returns the info sent to the controller."""
        outcome = _final_outcome(record.phases)
        if outcome is None:  # --setup-only / --setup-plan: nothing ran
            return None
        case = record.case
        digest = case.space.digest()
        info: dict[str, Any] = {
            "snapshot_id": record.snapshot_id, "space_digest": digest,
            "strength": case.strength, "outcome": outcome, "recorded": False, "error": None,
            "drift": list(record.drift),
        }
        if digest not in self._sent_spaces:
            self._sent_spaces.add(digest)
            self.spaces[digest] = case.space
            info["space"] = case.space.to_dict()
        try:
            from configlab.results import Result  # deferred: see module doc

            if record.snapshot_id is None:
                record.snapshot_id = info["snapshot_id"] = self.snapshot_id(case)
            metrics = record.execution.metrics() if record.execution is not None else {}
            metrics["config_drift"] = 1.0 if record.drift else 0.0
            shard_metrics: dict[str, float] = self.config.stash.get(SHARD_METRICS, {})
            metrics.update(shard_metrics)
            duration = record.durations.get("call", record.durations.get("setup"))
            self.results().record(Result(
                config=case.config, outcome=outcome, duration=duration, metrics=metrics,
                test_id=item.nodeid, snapshot_id=record.snapshot_id, run_id=self.run_id,
                stdout=record.stdout, stderr=record.stderr,
                # when the test ran: what ``configlab analyze --since/--until`` select on
                timestamp=datetime.now(UTC).isoformat(),
            ))
            info["recorded"] = True
        except ConfiglabError as error:
            info["error"] = str(error)
        return info

    def saw(self, nodeid: str, info: Mapping[str, Any]) -> None:
        """Controller side: remember a recorded execution from its teardown report."""
        digest = str(info.get("space_digest", ""))
        space_def = info.get("space")
        if isinstance(space_def, dict):
            self.space_defs.setdefault(digest, space_def)
        drift = info.get("drift") or ()
        self.seen.append(_Seen(
            nodeid=nodeid,
            snapshot_id=info.get("snapshot_id"),
            space_digest=digest,
            strength=int(info.get("strength", 2)),
            outcome=info.get("outcome"),
            recorded=bool(info.get("recorded")),
            error=info.get("error"),
            drift=tuple(str(d) for d in drift),
        ))

    def space_for(self, digest: str) -> Space | None:
        if digest in self.spaces:
            return self.spaces[digest]
        data = self.space_defs.get(digest)
        if data is None:
            return None
        from configlab.space import Space  # deferred: see module doc

        self.spaces[digest] = Space.from_dict(data)
        return self.spaces[digest]



def _final_outcome(phases: Mapping[str, str]) -> str | None:
    """pass / fail / error / skip of an execution from its phase outcomes (None: no call)."""
    setup = phases.get("setup")
    if setup == "failed":
        return "error"
    if setup == "skipped":
        return "skip"
    call = phases.get("call")
    if call is None:
        return None
    if call == "failed":
        return "fail"
    if call == "skipped":
        return "skip"
    return "error" if phases.get("teardown") == "failed" else "pass"


_STATE = pytest.StashKey[_State]()
_ITEM = pytest.StashKey[_ItemRecord]()


def _state(config: pytest.Config) -> _State:
    return config.stash[_STATE]


def _case_of(item: pytest.Item) -> ConfigCase | None:
    callspec = getattr(item, "callspec", None)
    if callspec is None:
        return None
    case = callspec.params.get(FIXTURE)
    return case if isinstance(case, ConfigCase) else None


def _link_snapshot(item: pytest.Item, snapshot_id: str,
                   report: pytest.TestReport | None = None) -> None:
    """Record ``(configlab.snapshot_id, id)`` in the item's ``user_properties`` (as
    ``record_property`` does) and in ``report``'s when given, once each."""
    prop = (SNAPSHOT_PROPERTY, snapshot_id)
    if prop not in item.user_properties:
        item.user_properties.append(prop)
    if report is not None and prop not in report.user_properties:
        report.user_properties.append(prop)


def _record_of(item: pytest.Item) -> _ItemRecord | None:
    record = item.stash.get(_ITEM, None)
    if record is None:
        case = _case_of(item)
        if case is None:
            return None
        record = item.stash[_ITEM] = _ItemRecord(case)
    return record


def config_fixture(request: pytest.FixtureRequest) -> Iterator[ConfigHandle]:
    """Body of the ``configlab_config`` fixture (see :class:`ConfigHandle`)."""
    case = getattr(request, "param", None)
    if not isinstance(case, ConfigCase):
        pytest.fail(
            f"{request.node.nodeid}: the configlab_config fixture needs the test to be "
            "decorated with @configlab.parametrize(space=...) or marked "
            "@pytest.mark.configlab(space=...)",
            pytrace=False,
        )
    state = _state(request.config)
    record = _record_of(request.node)
    snapshot_id = state.snapshot_id(case)
    if record is not None:
        record.snapshot_id = snapshot_id
    _link_snapshot(request.node, snapshot_id)
    handle = ConfigHandle(case, snapshot_id)
    try:
        yield handle
    finally:
        drift = handle._finish()
        if record is not None:
            record.drift = drift


# =========================================================================== hook bodies


def configure(config: pytest.Config) -> None:
    """Set up the session state and the hooks that need it."""
    state = _State(config)
    config.stash[_STATE] = state
    config.pluginmanager.register(_SessionHooks(state), "configlab-session")


def unconfigure(config: pytest.Config) -> None:
    """Close the store connections."""
    state = config.stash.get(_STATE, None)
    if state is not None:
        state.close()


class _SessionHooks:
    """Hooks that need the session state: xdist hand-over and report collection."""

    def __init__(self, state: _State) -> None:
        self.state = state

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        """xdist controller: hand the run id and the store to every worker."""
        node.workerinput["configlab_run_id"] = self.state.run_id
        node.workerinput["configlab_store"] = self.state.store_path.index  # not str(): redacted
        if self.state.store_path.objects is not None:
            node.workerinput["configlab_objects"] = self.state.store_path.objects

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Controller (or single process): remember what each configlab test recorded."""
        info = getattr(report, "configlab", None)
        if report.when == "teardown" and isinstance(info, Mapping) and not self.state.is_worker:
            self.state.saw(report.nodeid, info)


def generate_tests(metafunc: pytest.Metafunc, marker: pytest.Mark) -> None:
    """Parametrize a marked test over ``configlab_config`` with the generated configs."""
    where = metafunc.definition.path.parent
    if FIXTURE not in metafunc.fixturenames:
        pytest.fail(
            f"configlab: {metafunc.definition.nodeid}: a test marked configlab must use the "
            f"{FIXTURE} fixture (take it as an argument, or use @configlab.parametrize)",
            pytrace=False,
        )
    problem: str | None = None
    try:
        cases = _state(metafunc.config).cases(marker, where)
    except ConfiglabError as error:
        problem = f"configlab: {metafunc.definition.nodeid}: {error}"
    if problem is not None:
        pytest.fail(problem, pytrace=False)
    metafunc.parametrize(FIXTURE, cases, ids=[c.id for c in cases], indirect=True)


def deselect_mismatched(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Replay: deselect the tests whose space is not the replayed snapshot's."""
    keep: list[pytest.Item] = []
    drop: list[pytest.Item] = []
    for item in items:
        case = _case_of(item)
        (drop if case is not None and case.mismatch else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def start_call(item: pytest.Item) -> Callable[[], None] | None:
    """Start the execution monitor for a configlab test's call; returns its stop callback."""
    record = _record_of(item)
    if record is None:
        return None
    monitor = Monitor().start()

    def stop() -> None:
        record.execution = monitor.stop()

    return stop


def report_phase(item: pytest.Item, report: pytest.TestReport) -> None:
    """Note a phase's outcome; on teardown record the result and attach it to the report."""
    record = _record_of(item)
    if record is None:
        return
    record.phases[report.when] = report.outcome
    record.durations[report.when] = report.duration
    if report.when == "teardown":
        # the teardown report holds what was captured in every phase (none with -s)
        record.stdout = report.capstdout[-DEFAULT_TAIL_BYTES:] or None
        record.stderr = report.capstderr[-DEFAULT_TAIL_BYTES:] or None
        info = _state(item.config).record(item, record)
        if info is not None:
            # an extra report attribute travels to the xdist controller with the report
            report.configlab = info  # type: ignore[attr-defined]
        if record.snapshot_id is not None:
            # a setup error before the fixture ran: the id is only known now (the JUnit
            # writer reads the teardown report's properties)
            _link_snapshot(item, record.snapshot_id, report)


def terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    """The configlab summary (controller only; never fails the run)."""
    state = config.stash.get(_STATE, None)
    if state is None or state.is_worker or not state.seen:
        return
    try:
        lines = summary_lines(state)
    except Exception as error:  # the summary must never fail the run
        lines = [f"configlab: summary unavailable ({type(error).__name__}: {error})"]
    terminalreporter.write_sep("-", "configlab summary")
    for line in lines:
        terminalreporter.write_line(line)


# =========================================================================== summary


def _store_exists(store: StoreLocation) -> bool:
    """Whether the store holds anything yet (a team store on a server always exists)."""
    return store.is_postgres or (store.root / "index.sqlite").is_file()


def summary_lines(state: _State) -> list[str]:
    """The terminal-summary text of a session (see the module docstring)."""
    from configlab.results import ResultSet  # deferred: see module doc

    results = ResultSet()
    if _store_exists(state.store_path):
        results = state.results().load(run_id=state.run_id)
    outcomes = Counter(r.outcome for r in results)
    configs = {r.config_key for r in results}
    shown = ", ".join(f"{outcomes[o]} {o}" for o in ("pass", "fail", "error", "skip")
                      if outcomes[o])
    lines = [
        f"configlab: {len(results)} executions of {len(configs)} configs recorded "
        f"(run {state.run_id}, store {state.store_path})" + (f": {shown}" if shown else "")
    ]
    unrecorded = [s for s in state.seen if not s.recorded]
    if unrecorded:
        lines.append(f"configlab: {len(unrecorded)} executions could not be recorded: "
                     f"{unrecorded[0].error}")
    by_snapshot = {s.snapshot_id: s for s in state.seen if s.snapshot_id}
    groups: dict[str, list[Any]] = {}
    strengths: dict[str, int] = {}
    for seen in state.seen:
        strengths[seen.space_digest] = max(strengths.get(seen.space_digest, 1), seen.strength)
        groups.setdefault(seen.space_digest, [])
    for result in results:
        seen_entry = by_snapshot.get(result.snapshot_id or "")
        if seen_entry is not None:
            groups[seen_entry.space_digest].append(result)
    for digest, members in groups.items():
        space = state.space_for(digest)
        if space is None or not members:
            continue
        lines.extend(_space_lines(space, ResultSet(members), strengths[digest]))
    drifted = [s for s in state.seen if s.drift]
    if drifted:
        lines.append(f"configlab: config drift in {len(drifted)} test(s) (the config changed "
                     "while the test ran):")
        lines.extend(f"  {s.nodeid}: {', '.join(s.drift)}" for s in drifted[:5])
    failing = [s for s in state.seen if s.outcome in ("fail", "error") and s.snapshot_id]
    for seen in failing[:TOP_SUSPECTS]:
        assert seen.snapshot_id is not None
        base = seen.nodeid.split("[", 1)[0]
        lines.append(f"  replay: pytest '{base}' --configlab-replay {seen.snapshot_id[:12]}")
    return lines


def _space_lines(space: Space, results: ResultSet, strength: int) -> list[str]:
    from configlab.coverage import measure  # deferred: see module doc
    from configlab.results import ResultSet  # deferred: see module doc

    name = space.name or f"space {space.digest()[:12]}"
    report = measure(results, space, strength)
    configs = len({r.config_key for r in results})
    lines = [
        f"  {name}: {report.strength}-way coverage {report.ratio:.1%} ({report.covered}/"
        f"{report.valid} valid {report.strength}-tuples) over {configs} configs"
    ]
    by_test: dict[str, list[Any]] = {}
    for result in results:
        by_test.setdefault(result.test_id.split("[", 1)[0], []).append(result)
    failing = [(test, members) for test, members in by_test.items()
               if any(r.outcome in ("fail", "error") for r in members)]
    for test, members in failing[:MAX_ANALYSED_TESTS]:
        failures = sum(1 for r in members if r.outcome in ("fail", "error"))
        lines.append(f"    {test}: {failures} of {len(members)} executions fail")
        lines.extend(_suspect_lines(ResultSet(members), space))
    if len(failing) > MAX_ANALYSED_TESTS:
        lines.append(f"    ({len(failing) - MAX_ANALYSED_TESTS} more failing tests not "
                     "analysed here: use `configlab analyze`)")
    return lines


def _suspect_lines(results: ResultSet, space: Space) -> list[str]:
    """Top suspect patterns of one test function's failures."""
    try:
        from configlab.analysis import analyze  # deferred: see module doc

        patterns = analyze(results, space).patterns[:TOP_SUSPECTS]
    except (ConfiglabError, ResultsError) as error:
        return [f"      suspects unavailable: {error}"]
    if not patterns:
        return ["      no parameter pattern stands out"]
    return [
        f"      suspect {pattern.rank}: {pattern.condition} ({pattern.support} of "
        f"{pattern.coverage} runs fail, confidence {pattern.confidence:.0%})"
        for pattern in patterns
    ]
