"""The implementation behind configlab's pytest plugin (see
:mod:`configlab.integrations.pytest.plugin`).

Public here: :func:`parametrize` (exported as ``configlab.parametrize``), :class:`ConfigHandle`
(what the ``configlab_config`` fixture gives a test), :class:`ConfigCase` and
:func:`case_ids`.  The hook functions live in :mod:`configlab.integrations.pytest.plugin`, which
pytest
imports in every run: it stays small and imports this module only when a configlab test is
collected or run.

Decorate a test with :func:`parametrize` (or mark it ``@pytest.mark.configlab(space=...)``)
and it runs once per configuration generated from the space::

    import configlab

    @configlab.parametrize(space="space.yaml", strategy="covering", strength=2, seed=1)
    def test_app_starts(configlab_config, tmp_path):
        path = configlab_config.write(tmp_path / "app.yaml")    # removed after the test
        configlab_config.setenv(prefix="APP_")                  # restored after the test
        assert start_app(path).healthy

Every execution is recorded in the results store (``--configlab-store``, default
``<rootdir>/.configlab``): the config (saved as a snapshot), the outcome, the duration, the
test id and the execution monitor's measurements (wall/CPU time, peak memory, config drift).
Each execution also carries the user property ``configlab.snapshot_id`` (as
``record_property`` would add it), so a ``pytest --junitxml`` report links every test case to
its config: :func:`configlab.integrations.ingest.from_junit` with ``store=`` reads the configs back.
Workers of pytest-xdist write to the store directly (SQLite WAL).  At the end of the session
a short summary reports the configs run, the outcomes, the t-way coverage reached and, when
tests failed, the top suspect parameter patterns.  ``pytest --configlab-replay SNAPSHOT_ID``
reruns the selected tests with exactly one recorded config.
"""

from __future__ import annotations

import contextlib
import os
import re
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TypeVar

import pytest

from configlab.errors import ConfiglabError, GenerationError, ResultsError, SpaceError
from configlab.integrations.pytest.plugin import FIXTURE, RUN_ID_ENV

if TYPE_CHECKING:  # pragma: no cover
    from configlab.integrations.monitor import Execution
    from configlab.results import ResultSet
    from configlab.snapshots import SnapshotStore
    from configlab.space import Space

#: Default store directory, under the rootdir.
DEFAULT_STORE: Final = ".configlab"
#: Name of the file a config is saved as in its snapshot.
SNAPSHOT_FILE: Final = "config.json"
#: Strategies that never end on their own: ``count`` is required.
ENDLESS_STRATEGIES: Final = ("boundary", "random")
#: Longest part of a test id spent on values (after ``cfg0003``).
MAX_ID_VALUES: Final = 60
#: Patterns listed per failing test function in the terminal summary.
TOP_SUSPECTS: Final = 3
#: Failing test functions analysed per space in the terminal summary.
MAX_ANALYSED_TESTS: Final = 5
#: ``user_properties`` name carrying the snapshot id of each configlab test execution (written
#: to ``pytest --junitxml`` reports; :func:`configlab.integrations.ingest.from_junit` resolves it
#: through the
#: store).  Same text as :data:`configlab.integrations.ingest.SNAPSHOT_KEY`, kept here so that the
#: plugin
#: does not import the report readers.
SNAPSHOT_PROPERTY: Final = "configlab.snapshot_id"

_F = TypeVar("_F", bound=Callable[..., Any])
_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_.+=-]+")
_ENV_UNSAFE = re.compile(r"[^0-9A-Za-z]+")


# =========================================================================== public decorator


def _check_request(
    space: Any, strategy: Any, strength: Any, seed: Any, count: Any, base: Any
) -> None:
    """Validate the arguments of :func:`parametrize` / the marker (ConfiglabError if bad)."""
    if not isinstance(space, str | os.PathLike | Mapping) and not _is_space(space):
        raise SpaceError(
            f"space must be a path, a Space or a space dict, got {type(space).__name__}"
        )
    from configlab.generation import STRATEGIES

    if strategy not in STRATEGIES:
        raise GenerationError(
            f"unknown strategy {strategy!r} (expected one of {', '.join(STRATEGIES)})"
        )
    for name, value, low in (("strength", strength, 1), ("seed", seed, None)):
        if not isinstance(value, int) or isinstance(value, bool) or (
            low is not None and not low <= value <= 4
        ):
            raise GenerationError(f"{name} must be an integer{' (1..4)' if low else ''}, "
                                  f"got {value!r}")
    if count is not None and (not isinstance(count, int) or isinstance(count, bool)
                              or count < 0):
        raise GenerationError(f"count must be a non-negative integer or None, got {count!r}")
    if count is None and strategy in ENDLESS_STRATEGIES:
        raise GenerationError(f"the {strategy} strategy is endless: give count=N")
    if base is not None and not isinstance(base, str | os.PathLike | Mapping):
        raise GenerationError(f"base must be a path or a config dict, got {type(base).__name__}")


def _is_space(value: Any) -> bool:
    from configlab.space import Space

    return isinstance(value, Space)


def parametrize(
    space: Any,
    *,
    strategy: str = "covering",
    strength: int = 2,
    seed: int = 0,
    count: int | None = None,
    base: Any = None,
    **options: Any,
) -> Callable[[_F], _F]:
    """Run the decorated test once per configuration generated from ``space``.

    The test receives the config through the ``configlab_config`` fixture
    (:class:`ConfigHandle`).  Equivalent to ``@pytest.mark.configlab(space=..., ...)`` plus
    ``@pytest.mark.usefixtures("configlab_config")``.

    Args:
        space: a space file path (relative paths are looked up next to the test file, then
            under the rootdir), a :class:`~configlab.space._model.Space` or a space dict.
        strategy: a :func:`configlab.generation.generate` strategy (``covering`` by default).
        strength: t of the covering strategy (1..4); also the coverage strength reported.
        seed: generation seed (``--configlab-seed`` overrides it).
        count: at most this many configs (required by ``boundary`` and ``random``).
        base: a config (dict, or a config file path resolved like ``space``) the generated
            values are written over; required by ``mutate``.
        options: further :func:`~configlab.generation.generate` options (``time_budget``, ...).

    Raises:
        ConfiglabError: bad arguments (raised when the test module is imported).
    """
    _check_request(space, strategy, strength, seed, count, base)
    mark = pytest.mark.configlab(
        space=space, strategy=strategy, strength=strength, seed=seed, count=count, base=base,
        **options,
    )
    uses = pytest.mark.usefixtures(FIXTURE)

    def decorate(function: _F) -> _F:
        return uses(mark(function))  # type: ignore[no-any-return]

    return decorate


# =========================================================================== cases and ids


@dataclass(frozen=True, eq=False, repr=False)
class ConfigCase:
    """One configuration a configlab test is parametrized with.

    Attributes:
        config: the nested config.
        index: its position in the generated stream (``-1`` for a replayed config).
        id: the readable test-id part (``cfg0003-journal_mode=WAL-synchronous=OFF``).
        space: the space it was generated from.
        strength: the coverage strength asked for.
        snapshot_id: the snapshot id when already known (replay), else None.
        mismatch: replay only — the replayed snapshot belongs to another space, the test is
            deselected.
    """

    config: Mapping[str, Any]
    index: int
    id: str
    space: Space
    strength: int = 2
    snapshot_id: str | None = None
    mismatch: bool = False

    def __repr__(self) -> str:
        return self.id


def _show_value(value: Any, absent: Any = None) -> str:
    if absent is None:
        from configlab.constraints import ABSENT as absent
    if value is absent:
        return "absent"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, list):
        return f"list{len(value)}"
    if isinstance(value, dict):
        return f"map{len(value)}"
    text = str(value)
    if text == "":
        return "empty"
    return text if len(text) <= 16 else text[:15] + "~"


def case_ids(configs: Sequence[Mapping[str, Any]], indices: Sequence[int], space: Space
             ) -> list[str]:
    """Readable, stable test ids: ``cfg<index>`` plus the config's most distinctive values.

    A value is the more distinctive the fewer configs of the suite share its value class;
    parameters constant across the suite are left out; ties keep declaration order.  The
    values part is cut to :data:`MAX_ID_VALUES` characters (whole ``name=value`` items).
    """
    from configlab.constraints import ABSENT

    params = space.parameters
    last = [p.path.rsplit(".", 1)[-1] for p in params]
    names = [short if last.count(short) == 1 else p.path for short, p in zip(last, params,
                                                                              strict=True)]
    envs = [space.extract(config) for config in configs]
    codes = [tuple(p.classify(env[p.path]) for p in params) for env in envs]
    counts = [Counter(row[p] for row in codes) for p in range(len(params))]
    total = len(configs)
    ids = []
    for config_codes, env, index in zip(codes, envs, indices, strict=True):
        ranked = sorted(
            (counts[p][config_codes[p]], p) for p in range(len(params))
            if counts[p][config_codes[p]] < total or len(counts[p]) > 1
        )
        parts: list[str] = []
        used = 0
        for _, p in ranked:
            shown = _show_value(env[params[p].path], ABSENT)
            item = _ID_UNSAFE.sub("_", f"{names[p]}={shown}")
            if used + len(item) + 1 > MAX_ID_VALUES:
                break
            parts.append(item)
            used += len(item) + 1
        ids.append("-".join([f"cfg{index:04d}", *parts]))
    return ids


# =========================================================================== session state


@dataclass
class _ItemRecord:
    """What is known about one configlab test execution while it runs."""

    case: ConfigCase
    snapshot_id: str | None = None
    phases: dict[str, str] = field(default_factory=dict)
    durations: dict[str, float] = field(default_factory=dict)
    execution: Execution | None = None
    drift: tuple[str, ...] = ()


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
        given_store = config.getoption("configlab_store")
        if workerinput is not None and "configlab_store" in workerinput:
            self.store_path = Path(workerinput["configlab_store"])
        elif given_store:
            self.store_path = (config.invocation_params.dir / given_store).resolve()
        else:
            self.store_path = Path(config.rootpath) / DEFAULT_STORE
        run_id = (workerinput or {}).get("configlab_run_id") or config.getoption(
            "configlab_run_id"
        ) or os.environ.get(RUN_ID_ENV)
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
        self._results: Any = None
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
            from configlab.snapshots import SnapshotStore

            self._snapshots = SnapshotStore(self.store_path, durable=False)
        return self._snapshots

    def results(self) -> Any:
        if self._results is None:
            from configlab.results import ResultStore

            self._results = ResultStore(self.store_path)
        return self._results

    def close(self) -> None:
        for store in (self._snapshots, self._results):
            if store is not None:
                store.close()
        self._snapshots = self._results = None

    def _load_replay(self, ref: str) -> tuple[str, dict[str, Any], str | None]:
        if not (self.store_path / "index.sqlite").is_file():
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
        from configlab.space import Space, load_space

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
        from configlab.results import canonical_json

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
            from configlab import formats

            base = formats.load(self._locate(base, where, "base config"))
        key = canonical_json([space.digest(), strategy, strength, seed, count, base,
                              sorted(kwargs.items()), self.max_configs])
        if key not in self._suites:
            self._suites[key] = self._generate(space, strategy, strength, seed, count, base,
                                               kwargs)
        return self._suites[key]

    def _generate(self, space: Space, strategy: str, strength: int, seed: int,
                  count: int | None, base: Any, options: dict[str, Any]) -> list[ConfigCase]:
        from configlab.generation import generate, prioritize

        configs = list(generate(space, strategy=strategy, seed=seed, count=count,
                                strength=strength, base=base, **options))
        indices = list(range(len(configs)))
        if self.max_configs is not None and len(configs) > self.max_configs:
            suite = prioritize(configs, space, strength=strength).head(self.max_configs)
            configs = list(suite.configs)
            indices = list(suite.order)
        ids = case_ids(list(configs), indices, space)
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
        from configlab.results import config_key

        key = config_key(case.config)
        found = self._saved.get(key)
        if found is not None:
            return found
        meta = {"source": "configlab.pytest", "space": case.space.name,
                "space_digest": case.space.digest()}
        store = self.snapshots()
        snapshot_id = _existing_snapshot(store, case.config, meta)
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
            from configlab.results import Result

            if record.snapshot_id is None:
                record.snapshot_id = info["snapshot_id"] = self.snapshot_id(case)
            metrics = record.execution.metrics() if record.execution is not None else {}
            metrics["config_drift"] = 1.0 if record.drift else 0.0
            duration = record.durations.get("call", record.durations.get("setup"))
            self.results().record(Result(
                config=case.config, outcome=outcome, duration=duration, metrics=metrics,
                test_id=item.nodeid, snapshot_id=record.snapshot_id, run_id=self.run_id,
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
        from configlab.space import Space

        self.spaces[digest] = Space.from_dict(data)
        return self.spaces[digest]


def _existing_snapshot(store: SnapshotStore, config: Mapping[str, Any],
                       meta: Mapping[str, Any]) -> str | None:
    """The id save_config would give ``config`` if that snapshot is already stored, else None.

    Saves a write per test on reruns.  Predicts the id as :mod:`configlab.snapshots._store` computes
    it; if the prediction ever disagrees with the store, the config is simply saved again.
    """
    from configlab import formats
    from configlab._internal.objectstore import hash_bytes
    from configlab.snapshots._store import FileEntry, _manifest

    data = formats.dumps(dict(config), "json").encode("utf-8")
    entry = FileEntry(hash_bytes(data), len(data), "json")
    predicted = hash_bytes(_manifest({SNAPSHOT_FILE: entry}, {}, meta).encode("utf-8"))
    try:
        return store.resolve(predicted)
    except ConfiglabError:
        return None


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


def _link_snapshot(item: pytest.Item, snapshot_id: str, report: Any = None) -> None:
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


# =========================================================================== the fixture


def _env_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, list | dict):
        from configlab.results import canonical_json

        return canonical_json(value)
    return str(value)


class ConfigHandle(Mapping[str, Any]):
    """The config a configlab test runs with (the ``configlab_config`` fixture).

    Read it like a dict (``configlab_config["db"]["pool"]["size"]``, :meth:`get_path`,
    :meth:`as_dict`) and apply it the way the application reads it with :meth:`write` and
    :meth:`setenv`: everything they change is undone after the test.
    """

    def __init__(self, case: ConfigCase, snapshot_id: str) -> None:
        self._case = case
        self._snapshot_id = snapshot_id
        self._files: dict[Path, tuple[bytes | None, int | None]] = {}
        self._dirs: list[Path] = []
        self._env: dict[str, str | None] = {}
        self._env_set: dict[str, str | None] = {}
        self._start: dict[str, str | None] = {}

    # -- reading ----------------------------------------------------------------------------

    def __getitem__(self, key: str) -> Any:
        return self._case.config[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._case.config)

    def __len__(self) -> int:
        return len(self._case.config)

    def __repr__(self) -> str:
        return f"ConfigHandle({self.id!r}, {dict(self._case.config)!r})"

    @property
    def id(self) -> str:
        """The config's part of the test id (``cfg0003-journal_mode=WAL-...``)."""
        return self._case.id

    @property
    def snapshot_id(self) -> str:
        """Id of the snapshot holding this config (``pytest --configlab-replay <id>``)."""
        return self._snapshot_id

    @property
    def space(self) -> Space:
        """The space the config was generated from."""
        return self._case.space

    def as_dict(self) -> dict[str, Any]:
        """A deep copy of the nested config (a plain dict the test may modify)."""
        from configlab.tree import deep_copy

        return deep_copy(dict(self._case.config))  # type: ignore[no-any-return]

    def flat(self) -> dict[str, Any]:
        """``{dotted.path: value}`` of every leaf (lists are leaves)."""
        from configlab.tree import flatten

        return flatten(self._case.config)

    def get_path(self, path: str, default: Any = None) -> Any:
        """The value at dotted ``path`` (``default`` when absent)."""
        from configlab.tree import get_path

        return get_path(self._case.config, path, default)

    # -- applying ---------------------------------------------------------------------------

    def write(self, path: str | os.PathLike[str], fmt: str | None = None, *,
              typed: bool = True) -> Path:
        """Write the config to ``path`` (format from the extension unless ``fmt`` is given).

        After the test the original file is restored byte for byte (and its mode), or
        removed if there was none, together with the directories created for it.  A file
        the test changes afterwards is reported as config drift.

        Raises:
            FormatError: the format cannot represent the config, or unknown extension.
            ConfiglabError: ``path`` is a directory.
        """
        from configlab import formats
        from configlab.integrations.monitor import file_fingerprint

        target = Path(os.path.abspath(path))
        if target.is_dir():
            raise ConfiglabError(f"{target}: is a directory, cannot write the config there")
        if target not in self._files:
            if target.is_file():
                self._files[target] = (target.read_bytes(), target.stat().st_mode)
            else:
                self._files[target] = (None, None)
            missing = []
            parent = target.parent
            while not parent.exists():
                missing.append(parent)
                parent = parent.parent
            for directory in reversed(missing):
                directory.mkdir()
                self._dirs.append(directory)
        formats.dump(self.as_dict(), target, fmt, typed=typed)
        self._start[str(target)] = file_fingerprint(target)
        return target

    def watch(self, path: str | os.PathLike[str]) -> None:
        """Fingerprint ``path`` now and again after the test: a change is reported as drift."""
        from configlab.integrations.monitor import file_fingerprint

        key = os.path.abspath(path)
        self._start.setdefault(key, file_fingerprint(key))

    def env(self, prefix: str = "APP_", *, separator: str = "_", upper: bool = True
            ) -> dict[str, str | None]:
        """The variables :meth:`setenv` would set: ``{NAME: value}`` (None: unset).

        ``db.pool.size`` becomes ``<prefix>DB_POOL_SIZE``; booleans are ``true``/``false``,
        null is the empty string, lists and maps are JSON; parameters of the space absent
        from the config are unset.
        """
        from configlab.tree import split_path

        def name(path: str) -> str:
            segments = [_ENV_UNSAFE.sub("_", s) for s in split_path(path)]
            text = prefix + separator.join(segments)
            return text.upper() if upper else text

        wanted: dict[str, str | None] = {}
        for path, value in self.flat().items():
            wanted[name(path)] = _env_text(value)
        for param in self._case.space.parameters:
            wanted.setdefault(name(param.path), None)
        return wanted

    def setenv(self, prefix: str = "APP_", *, separator: str = "_", upper: bool = True
               ) -> dict[str, str | None]:
        """Set environment variables from the config's flattened paths (see :meth:`env`).

        Everything set or unset is restored after the test.  Returns the variables.
        """
        wanted = self.env(prefix, separator=separator, upper=upper)
        for var, value in wanted.items():
            if var not in self._env:
                self._env[var] = os.environ.get(var)
            if value is None:
                os.environ.pop(var, None)
            else:
                os.environ[var] = value
            self._env_set[var] = value
        return wanted

    def _finish(self) -> tuple[str, ...]:
        """Undo :meth:`write` and :meth:`setenv`; returns what drifted meanwhile."""
        from configlab.integrations.monitor import drifted_files, fingerprint

        drift = list(drifted_files(self._start, fingerprint(self._start)))
        drift += [f"env:{var}" for var, value in self._env_set.items()
                  if os.environ.get(var) != value]
        for var, old in self._env.items():
            if old is None:
                os.environ.pop(var, None)
            else:
                os.environ[var] = old
        for target, (data, mode) in reversed(list(self._files.items())):
            if data is None:
                target.unlink(missing_ok=True)
            else:
                target.write_bytes(data)
                if mode is not None:
                    os.chmod(target, mode)
        for directory in reversed(self._dirs):
            with contextlib.suppress(OSError):  # the test left something in it: keep it
                directory.rmdir()
        self._files.clear()
        self._dirs.clear()
        self._env.clear()
        return tuple(drift)


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
        node.workerinput["configlab_store"] = str(self.state.store_path)

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
    from configlab.integrations.monitor import Monitor

    monitor = Monitor().start()

    def stop() -> None:
        record.execution = monitor.stop()

    return stop


def report_phase(item: pytest.Item, report: Any) -> None:
    """Note a phase's outcome; on teardown record the result and attach it to the report."""
    record = _record_of(item)
    if record is None:
        return
    record.phases[report.when] = report.outcome
    record.durations[report.when] = report.duration
    if report.when == "teardown":
        info = _state(item.config).record(item, record)
        if info is not None:
            report.configlab = info
        if record.snapshot_id is not None:
            # a setup error before the fixture ran: the id is only known now (the JUnit
            # writer reads the teardown report's properties)
            _link_snapshot(item, record.snapshot_id, report)


def terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
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


def summary_lines(state: _State) -> list[str]:
    """The terminal-summary text of a session (see the module docstring)."""
    from configlab.results import ResultSet

    results = ResultSet()
    if (state.store_path / "index.sqlite").is_file():
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
    from configlab.coverage import measure
    from configlab.results import ResultSet

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
        from configlab.analysis import analyze

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


__all__ = [
    "DEFAULT_STORE",
    "SNAPSHOT_PROPERTY",
    "ConfigCase",
    "ConfigHandle",
    "case_ids",
    "parametrize",
    "summary_lines",
]
