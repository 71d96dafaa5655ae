"""configlab's pytest plugin (registered through the ``pytest11`` entry point).

Decorate a test with ``@configlab.parametrize(space=...)`` (or mark it
``@pytest.mark.configlab(space=...)``) and it runs once per configuration generated from the
space; the ``configlab_config`` fixture gives it the config
(:class:`configlab.integrations.pytest.handle.ConfigHandle`).  Every execution is recorded in the
results
store, and its snapshot id is added to the test's ``user_properties`` as
``configlab.snapshot_id`` (``--junitxml`` reports carry it); the session ends with a
coverage / suspects summary.  See ``docs/pytest-plugin.md``.

pytest imports this module in every run, so it only holds the hooks: they return at once for
tests that are not configlab tests; the implementation is
:mod:`configlab.integrations.pytest.session`, imported inside the hooks (deferred, measured
reason): the entry point is imported before pytest-cov starts measuring, so anything imported
here (the session pulls the store seam: storage, objectstore) would lose its module-level lines
from a project's coverage, including configlab's own.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from typing import TYPE_CHECKING, Any

import pytest

from configlab.errors import ConfiglabError
from configlab.integrations.pytest._names import FIXTURE, MARKER, RUN_ID_ENV, SHARD_METRICS

if TYPE_CHECKING:  # pragma: no cover
    from configlab.integrations.pytest.handle import ConfigHandle


def _is_configlab(item: pytest.Item) -> bool:
    callspec = getattr(item, "callspec", None)
    return callspec is not None and FIXTURE in callspec.params


@pytest.fixture
def configlab_config(request: pytest.FixtureRequest) -> Iterator[ConfigHandle]:
    """The configuration of this configlab test execution (a ``ConfigHandle``)."""
    from configlab.integrations.pytest.session import config_fixture  # deferred: see above

    yield from config_fixture(request)


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--configlab-*`` options."""
    group = parser.getgroup("configlab", "configlab: configuration-space testing")
    group.addoption("--configlab-store", default=None, metavar="PATH|URL",
                    help="results/snapshot store: a directory or postgresql://user@host:port/db"
                         " (default: $CONFIGLAB_STORE, else <rootdir>/.configlab)")
    group.addoption("--configlab-objects", default=None, metavar="URL",
                    help="where the store's large objects live: s3://bucket/prefix"
                         " (default: $CONFIGLAB_OBJECTS)")
    group.addoption("--configlab-replay", default=None, metavar="SNAPSHOT_ID",
                    help="rerun the selected configlab tests with exactly this stored config "
                         "(snapshot id, unique id prefix or tag)")
    group.addoption("--configlab-seed", type=int, default=None, metavar="N",
                    help="generation seed for every configlab test (overrides seed=)")
    group.addoption("--configlab-max", type=int, default=None, metavar="N",
                    help="keep only the N most valuable configs per test (prioritised)")
    group.addoption("--configlab-run-id", default=None, metavar="ID",
                    help=f"run id recorded with each result (default: ${RUN_ID_ENV} or new)")
    group.addoption("--configlab-shard", default=None, metavar="I/N",
                    help="run only shard I of N (1-based) of every configlab test's configs "
                         "(CI matrix jobs; the run id defaults to the CI's pipeline id so that "
                         "all shards share it)")


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker; set up the session state (and the xdist hand-over)."""
    config.addinivalue_line(
        "markers",
        "configlab(space, strategy='covering', strength=2, seed=0, count=None, base=None, "
        "**options): run the test once per config generated from the space "
        "(see configlab.parametrize)",
    )

    from configlab.integrations.pytest.session import configure  # deferred: see above

    configure(config)


def pytest_unconfigure(config: pytest.Config) -> None:
    """Close the store connections."""
    from configlab.integrations.pytest.session import unconfigure  # deferred: see above

    unconfigure(config)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize marked tests over ``configlab_config`` with the generated configs."""
    marker = metafunc.definition.get_closest_marker(MARKER)
    if marker is not None:
        from configlab.integrations.pytest.session import generate_tests  # deferred: see above

        generate_tests(metafunc, marker)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Replay: deselect the tests whose space is not the replayed snapshot's; shard: deselect
    the configs other shards run."""
    if config.getoption("configlab_replay") is not None:
        from configlab.integrations.pytest.session import (  # deferred: see above
            deselect_mismatched,
        )

        deselect_mismatched(config, items)
    if config.getoption("configlab_shard") is not None:
        _deselect_other_shards(config, items)


def _deselect_other_shards(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Keep config k (0-based, in generation order) of each configlab test when k mod N = I-1.

    Every shard generates the same seeded configs, so the slices are disjoint and together
    cover every config once; tests that are not configlab-parametrized run in every shard.
    """
    from configlab.execution import Shard  # deferred: see above

    try:
        shard = Shard.parse(str(config.getoption("configlab_shard")))
    except ConfiglabError as error:
        raise pytest.UsageError(f"--configlab-shard: {error}") from None
    position: dict[str, int] = {}
    keep: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        if not _is_configlab(item):
            keep.append(item)
            continue
        function = item.nodeid.split("[", 1)[0]
        k = position.get(function, 0)
        position[function] = k + 1
        (keep if k % shard.count == shard.index - 1 else dropped).append(item)
    config.stash[SHARD_METRICS] = {"shard": float(shard.index), "shards": float(shard.count),
                                   "suite_size": float(sum(position.values()))}
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """Measure the call phase of configlab tests with the execution monitor."""
    if not _is_configlab(item):
        return (yield)

    from configlab.integrations.pytest.session import start_call  # deferred: see above

    stop = start_call(item)
    try:
        return (yield)
    finally:
        if stop is not None:
            stop()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Collect phase outcomes; on teardown record the result and tell the controller."""
    report = yield
    if _is_configlab(item):
        from configlab.integrations.pytest.session import report_phase  # deferred: see above

        report_phase(item, report)
    return report


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int,
                            config: pytest.Config) -> None:
    """The configlab summary (controller only; never fails the run)."""
    from configlab.integrations.pytest.session import terminal_summary  # deferred: see above

    terminal_summary(terminalreporter, config)


__all__ = ["FIXTURE", "MARKER", "RUN_ID_ENV", "configlab_config"]
