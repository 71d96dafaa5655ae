"""The pytest plugin, exercised through ``pytester`` (in-process runs unless xdist is needed)."""

from __future__ import annotations

import os
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

# Imported here so that in-process pytester runs (which drop modules first imported inside
# them) keep reusing them instead of importing numpy/scipy again each run.
import configlab.analysis._analysis
import configlab.coverage
import configlab.generation._generate
import configlab.generation._prioritize
import configlab.snapshots
from configlab import formats
from configlab.errors import ConfiglabError, GenerationError, SpaceError
from configlab.integrations.pytest import _names, collect, session
from configlab.integrations.pytest import plugin as pytest_plugin
from configlab.integrations.pytest.collect import ConfigCase, case_ids, parametrize
from configlab.integrations.pytest.handle import ConfigHandle
from configlab.results import ResultStore
from configlab.snapshots import SnapshotStore
from configlab.space import Space
from tests.paths import ROOT_DIR

pytest_plugins = ["pytester"]

SPACE = """\
name: sqlite
parameters:
  journal_mode: [DELETE, WAL, MEMORY, "OFF"]
  synchronous: ["OFF", NORMAL, FULL]
  foreign_keys: bool
"""

FAILING_TEST = """\
import configlab.integrations.pytest.collect as cp

@cp.parametrize(space="space.yaml", strategy="covering", strength=2, seed=1)
def test_db(configlab_config):
    bad = configlab_config["journal_mode"] == "WAL" and configlab_config["synchronous"] == "OFF"
    assert not bad
"""


def _space() -> Space:
    return Space.from_dict(formats.loads(SPACE, "yaml"))


def _suite(seed: int = 1) -> list[dict[str, Any]]:
    return list(configlab.generation._generate.generate(_space(), strategy="covering", strength=2,
                                            seed=seed))


def _results(path: Path) -> Any:
    store = ResultStore(path / ".configlab")
    try:
        return store.load()
    finally:
        store.close()


def _collected_ids(result: pytest.RunResult) -> list[str]:
    return [line.split("[", 1)[1].rstrip("]") for line in result.outlines
            if "::test_" in line and "[" in line]


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makefile(".yaml", space=SPACE)
    return pytester


# --------------------------------------------------------------------------- parametrization


def test_one_test_per_config_with_readable_stable_ids(project: pytest.Pytester) -> None:
    project.makepyfile(test_db=FAILING_TEST)
    first = project.runpytest("--collect-only", "-q")
    second = project.runpytest("--collect-only", "-q")
    ids = _collected_ids(first)
    suite = _suite()
    assert len(ids) == len(suite) > 4
    assert ids == _collected_ids(second)
    assert len(set(ids)) == len(ids)
    for number, (case_id, config) in enumerate(zip(ids, suite, strict=True)):
        assert case_id.startswith(f"cfg{number:04d}-")
        # the values shown are the config's own
        for item in case_id.split("-")[1:]:
            name, value = item.split("=")
            shown = {True: "true", False: "false"}.get(config[name], config[name])
            assert str(shown) == value
        assert len(case_id) <= len("cfg0000-") + _names.MAX_ID_VALUES
    assert not (project.path / ".configlab").exists()  # collecting writes nothing


def test_results_recorded_with_snapshot_outcome_duration_metrics(
    project: pytest.Pytester,
) -> None:
    project.makepyfile(test_db=FAILING_TEST)
    result = project.runpytest()
    suite = _suite()
    failing = [c for c in suite if c["journal_mode"] == "WAL" and c["synchronous"] == "OFF"]
    result.assert_outcomes(passed=len(suite) - len(failing), failed=len(failing))
    stored = _results(project.path)
    assert len(stored) == len(suite)
    assert len({r.run_id for r in stored}) == 1
    assert sorted(r.test_id for r in stored) == sorted(
        line.split(" ")[0] for line in project.runpytest("--collect-only", "-q").outlines
        if "::test_db[" in line
    )
    snapshots = SnapshotStore(project.path / ".configlab")
    for record in stored:
        bad = record.config["journal_mode"] == "WAL" and record.config["synchronous"] == "OFF"
        assert record.outcome == ("fail" if bad else "pass")
        assert record.duration is not None and record.duration >= 0
        assert {"wall_s", "cpu_s", "peak_rss_mb", "rss_growth_mb", "config_drift"} <= set(
            record.metrics)
        assert record.metrics["config_drift"] == 0.0
        assert record.snapshot_id is not None
        assert snapshots.read_tree(record.snapshot_id) == record.config
        meta = snapshots.get(record.snapshot_id).meta
        assert meta["space_digest"] == _space().digest()
    snapshots.close()
    # same configs again: the snapshots are found, not duplicated
    project.runpytest()
    again = _results(project.path)
    assert len(again) == 2 * len(suite)
    assert {r.snapshot_id for r in again} == {r.snapshot_id for r in stored}
    assert len({r.run_id for r in again}) == 2


def test_analyze_since_sees_what_the_plugin_recorded(project: pytest.Pytester) -> None:
    import json
    from datetime import UTC, datetime, timedelta

    from click.testing import CliRunner

    from configlab.cli import cli

    before = datetime.now(UTC) - timedelta(seconds=1)
    project.makepyfile(test_db=FAILING_TEST)
    project.runpytest()
    after = datetime.now(UTC) + timedelta(seconds=1)
    stored = _results(project.path)
    assert all(r.timestamp is not None and before <= datetime.fromisoformat(r.timestamp)
               <= after for r in stored)
    store = str(project.path / ".configlab")
    run = CliRunner().invoke(cli, ["analyze", "--results", store, "--json",
                                   "--since", before.isoformat(), "--until", after.isoformat()])
    assert run.exit_code == 0, run.output
    report = json.loads(run.stdout)
    assert report["summary"]["n_rows"] == len(stored)
    assert report["summary"]["n_failures"] == sum(r.outcome == "fail" for r in stored) > 0
    later = CliRunner().invoke(cli, ["analyze", "--results", store, "--since", after.isoformat()])
    assert later.exit_code == 2 and "no results to analyse" in later.output


def test_the_store_finds_the_snapshot_the_plugin_saves(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path / "s")
    meta = {"source": "configlab.pytest", "space": "x", "space_digest": "ab"}
    config = {"a": {"b": [1, 2.5, None]}, "c": "ü"}
    assert store.find_config(config, _names.SNAPSHOT_FILE, meta=meta) is None
    saved = store.save_config(config, _names.SNAPSHOT_FILE, meta=meta)
    assert store.find_config(config, _names.SNAPSHOT_FILE, meta=meta) == saved.id
    store.close()


def test_marker_form_and_space_lookup(pytester: pytest.Pytester) -> None:
    sub = pytester.mkpydir("pkg")
    (sub / "local.yaml").write_text(SPACE)
    (pytester.path / "root.yaml").write_text(SPACE)
    (sub / "test_marked.py").write_text(textwrap.dedent("""\
        import pytest

        @pytest.mark.configlab("local.yaml", strategy="random", count=3, seed=2)
        def test_local(configlab_config):
            assert configlab_config["journal_mode"]

        @pytest.mark.configlab(space="root.yaml", strategy="boundary", count=2)
        def test_root(configlab_config):
            assert configlab_config.space.name == "sqlite"
    """))
    result = pytester.runpytest("-q")
    result.assert_outcomes(passed=5)


def test_space_object_and_absolute_path(pytester: pytest.Pytester, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere.yaml"
    elsewhere.write_text(SPACE)
    pytester.makepyfile(test_objects=f"""
        import configlab.integrations.pytest.collect as cp
        from configlab.space import Space

        SPACE = Space.from_dict({{"name": "tiny", "parameters": {{"flag": "bool"}}}})

        @cp.parametrize(SPACE, strategy="exhaustive")
        def test_object(configlab_config):
            assert configlab_config.space is SPACE

        @cp.parametrize({str(elsewhere)!r}, strategy="random", count=2)
        def test_absolute(configlab_config):
            assert configlab_config.space.name == "sqlite"
    """)
    pytester.runpytest("-q").assert_outcomes(passed=4)


def test_worker_and_controller_hand_over(pytester: pytest.Pytester) -> None:
    """What xdist does between processes, done by hand (the real thing is in the xdist test)."""
    controller = pytester.parseconfigure("--configlab-store", "shared")
    state = controller.stash[session._STATE]
    node = type("Node", (), {"workerinput": {}})()
    hooks = controller.pluginmanager.get_plugin("configlab-session")
    assert hooks is not None
    hooks.pytest_configure_node(node)
    assert node.workerinput == {"configlab_run_id": state.run_id,
                                "configlab_store": str(pytester.path / "shared")}
    worker = pytester.parseconfig()
    worker.workerinput = node.workerinput  # type: ignore[attr-defined]
    worker_state = session._State(worker)
    assert worker_state.is_worker
    assert worker_state.run_id == state.run_id
    assert Path(worker_state.store_path.index) == pytester.path / "shared"
    space = _space()
    state.saw("t::x[cfg0000]", {"space_digest": space.digest(), "space": space.to_dict(),
                                "snapshot_id": "ab" * 32, "strength": 2, "outcome": "pass",
                                "recorded": True, "drift": []})
    rebuilt = state.space_for(space.digest())
    assert rebuilt is not None and rebuilt.digest() == space.digest()
    assert state.space_for(space.digest()) is rebuilt
    assert state.space_for("unknown") is None
    assert state.seen[0].outcome == "pass"


def test_show_value() -> None:
    show = collect._show_value
    assert show(0.25) == "0.25" and show(1e-12) == "1e-12"
    assert show({"a": 1}) == "map1" and show([1, 2]) == "list2"
    assert show("") == "empty" and show("x" * 20) == "x" * 15 + "~"
    assert show(None) == "null" and show(False) == "false"


def test_seed_option_overrides_the_decorator(project: pytest.Pytester) -> None:
    project.makepyfile(test_db=FAILING_TEST)
    default = _collected_ids(project.runpytest("--collect-only", "-q"))
    seeded = _collected_ids(project.runpytest("--collect-only", "-q", "--configlab-seed", "7"))
    expected = case_ids(_suite(7), list(range(len(_suite(7)))), _space())
    assert seeded == expected
    assert seeded != default


def test_max_keeps_the_prioritised_head(project: pytest.Pytester) -> None:
    project.makepyfile(test_db=FAILING_TEST)
    full = _collected_ids(project.runpytest("--collect-only", "-q"))
    result = project.runpytest("--collect-only", "-q", "--configlab-max", "3")
    kept = _collected_ids(result)
    suite = _suite()
    head = configlab.generation._prioritize.prioritize(suite, _space(), strength=2).head(3)
    assert len(kept) == 3
    assert kept == [full[i] for i in head.order]
    assert project.runpytest("--configlab-max", "0").ret == pytest.ExitCode.USAGE_ERROR


def test_base_as_file_and_extra_generate_options(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", space=SPACE)
    pytester.makefile(".json", base='{"journal_mode": "WAL", "synchronous": "FULL", '
                                   '"foreign_keys": true, "name": "keep-me"}')
    pytester.makepyfile(test_base="""
        import configlab.integrations.pytest.collect as cp

        @cp.parametrize("space.yaml", strategy="mutate", base="base.json", max_order=1)
        def test_mutants(configlab_config):
            assert configlab_config["name"] == "keep-me"
    """)
    result = pytester.runpytest("-q")
    outcomes = result.parseoutcomes()
    assert outcomes["passed"] >= 3 and "failed" not in outcomes


def test_empty_suite_is_skipped(project: pytest.Pytester) -> None:
    project.makepyfile(test_none="""
        import configlab.integrations.pytest.collect as cp

        @cp.parametrize("space.yaml", strategy="random", count=0)
        def test_nothing(configlab_config):
            raise AssertionError("never runs")
    """)
    project.runpytest().assert_outcomes(skipped=1)


# --------------------------------------------------------------------------- usage errors


def test_decorator_validates_its_arguments() -> None:
    with pytest.raises(GenerationError, match="unknown strategy"):
        parametrize("space.yaml", strategy="nope")
    with pytest.raises(GenerationError, match="strength"):
        parametrize("space.yaml", strength=9)
    with pytest.raises(GenerationError, match="seed"):
        parametrize("space.yaml", seed="1")  # type: ignore[arg-type]
    with pytest.raises(GenerationError, match="count"):
        parametrize("space.yaml", count=-1)
    with pytest.raises(GenerationError, match="endless"):
        parametrize("space.yaml", strategy="random")
    with pytest.raises(GenerationError, match="base"):
        parametrize("space.yaml", base=3)
    with pytest.raises(SpaceError, match="space must be"):
        parametrize(42)
    def test_function() -> None:
        pass

    marked = parametrize(_space(), strategy="boundary", count=2)(test_function)
    names = sorted(m.name for m in marked.pytestmark)  # type: ignore[attr-defined]
    assert names == ["configlab", "usefixtures"]


@pytest.mark.parametrize(("source", "message"), [
    ('@pytest.mark.configlab(space="missing.yaml")\ndef test_x(configlab_config):\n    pass',
     "no space file 'missing.yaml'"),
    ('@pytest.mark.configlab(space={"parameters": {"a": "bool"}})\ndef test_x():\n    pass',
     "must use the configlab_config fixture"),
    ("@pytest.mark.configlab()\ndef test_x(configlab_config):\n    pass", "needs space="),
    ('@pytest.mark.configlab("a.yaml", space="b.yaml")\ndef test_x(configlab_config):\n'
     "    pass", "only positional argument"),
    ('@pytest.mark.configlab("s.yaml", strategy="random")\ndef test_x(configlab_config):\n'
     "    pass", "endless: give count=N"),
    ('@pytest.mark.configlab("s.yaml", base="nothere.json", strategy="mutate")\n'
     "def test_x(configlab_config):\n    pass", "no base config 'nothere.json'"),
])
def test_usage_errors_are_reported_cleanly(
    pytester: pytest.Pytester, source: str, message: str
) -> None:
    pytester.makefile(".yaml", s=SPACE)
    pytester.makepyfile(test_bad="import pytest\n\n" + source)
    result = pytester.runpytest("-q")
    text = result.stdout.str()
    assert message in text
    assert "configlab: test_bad.py::test_x: " in text or message.startswith("must use")
    assert "Traceback" not in text and "During handling" not in text
    assert result.ret == pytest.ExitCode.INTERRUPTED


def test_fixture_without_marker(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_x="def test_x(configlab_config):\n    pass\n")
    result = pytester.runpytest("-q")
    result.assert_outcomes(errors=1)
    assert "needs the test to be decorated" in result.stdout.str()


def test_bad_space_file_is_a_collection_error(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", space="parameters: 3\n")
    pytester.makepyfile(test_x="""
        import configlab.integrations.pytest.collect as cp

        @cp.parametrize("space.yaml")
        def test_x(configlab_config):
            pass
    """)
    result = pytester.runpytest("-q")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    assert "'parameters' must be a non-empty mapping" in result.stdout.str()


# --------------------------------------------------------------------------- the fixture


def test_write_and_setenv_are_undone(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = b"# the original\njournal_mode: keep\n"
    (project.path / "app.yaml").write_bytes(original)
    os.chmod(project.path / "app.yaml", 0o640)
    monkeypatch.setenv("APP_JOURNAL_MODE", "from-outside")
    monkeypatch.setenv("APP_EXTRA", "untouched")
    monkeypatch.delenv("APP_SYNCHRONOUS", raising=False)
    project.makepyfile(test_apply="""
        import os
        from configlab import formats
        import configlab.integrations.pytest.collect as cp

        @cp.parametrize("space.yaml", strategy="random", count=3, seed=4)
        def test_apply(configlab_config, tmp_path):
            path = configlab_config.write("app.yaml")
            assert formats.load(path) == configlab_config.as_dict()
            nested = configlab_config.write(tmp_path / "new" / "deeper" / "app.toml")
            assert formats.load(nested) == dict(configlab_config)
            env = configlab_config.setenv(prefix="APP_")
            assert os.environ["APP_JOURNAL_MODE"] == configlab_config["journal_mode"]
            assert os.environ["APP_FOREIGN_KEYS"] in ("true", "false")
            assert env["APP_SYNCHRONOUS"] == os.environ["APP_SYNCHRONOUS"]
            assert os.environ["APP_EXTRA"] == "untouched"
            with open("written-dirs.txt", "a") as out:
                out.write(str(tmp_path / "new") + "\\n")
    """)
    project.runpytest("-q").assert_outcomes(passed=3)
    assert (project.path / "app.yaml").read_bytes() == original
    assert (os.stat(project.path / "app.yaml").st_mode & 0o777) == 0o640
    assert os.environ["APP_JOURNAL_MODE"] == "from-outside"
    assert "APP_SYNCHRONOUS" not in os.environ
    assert "APP_FOREIGN_KEYS" not in os.environ
    for line in (project.path / "written-dirs.txt").read_text().split():
        assert not Path(line).exists()  # created directories removed too


def _handle(config: dict[str, Any], space: Space | None = None) -> ConfigHandle:
    case = ConfigCase(config, 0, "cfg0000", space or _space())
    return ConfigHandle(case, "f" * 64)


def test_handle_reading_and_env_mapping(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    space = Space.from_dict({"parameters": {
        "db.pool-size": "int", "db.hosts": {"type": "list", "item": "string"},
        "db.name": {"type": "string", "nullable": True}, "cache.ttl": {"type": "float"},
        "cache.on": {"type": "bool", "optional": True}, "extra": {"type": "int",
                                                                  "optional": True},
    }})
    config = {"db": {"pool-size": 5, "hosts": ["a", "b"], "name": None},
              "cache": {"ttl": 1.5}, "unmodelled": {"x": 1}}
    handle = _handle(config, space)
    assert handle["db"]["pool-size"] == 5
    assert list(handle) == ["db", "cache", "unmodelled"] and len(handle) == 3
    assert handle.get_path("cache.ttl") == 1.5
    assert handle.get_path("cache.on", "dflt") == "dflt"
    assert handle.flat()["db.hosts"] == ["a", "b"]
    copy = handle.as_dict()
    copy["db"]["pool-size"] = 99
    assert handle["db"]["pool-size"] == 5
    assert handle.snapshot_id == "f" * 64 and handle.id == "cfg0000" and handle.space is space
    assert "cfg0000" in repr(handle)
    env = handle.env("MY_")
    assert env == {
        "MY_DB_POOL_SIZE": "5", "MY_DB_HOSTS": '["a","b"]', "MY_DB_NAME": "",
        "MY_CACHE_TTL": "1.5", "MY_UNMODELLED_X": "1", "MY_CACHE_ON": None, "MY_EXTRA": None,
    }
    assert handle.env("p.", separator="/", upper=False)["p.db/pool_size"] == "5"
    monkeypatch.setenv("MY_CACHE_ON", "true")
    monkeypatch.setenv("MY_DB_NAME", "before")
    handle.setenv("MY_")
    assert "MY_CACHE_ON" not in os.environ
    assert os.environ["MY_DB_NAME"] == ""
    handle.setenv("MY_")  # twice: the first originals are kept
    os.environ["MY_DB_POOL_SIZE"] = "6"  # the test changes the config's environment
    assert handle._finish() == ("env:MY_DB_POOL_SIZE",)
    assert os.environ["MY_CACHE_ON"] == "true" and os.environ["MY_DB_NAME"] == "before"
    assert "MY_DB_POOL_SIZE" not in os.environ


def test_handle_write_errors_and_drift(tmp_path: Path) -> None:
    handle = _handle({"journal_mode": "WAL", "synchronous": "OFF", "foreign_keys": True})
    with pytest.raises(ConfiglabError, match="is a directory"):
        handle.write(tmp_path)
    with pytest.raises(ConfiglabError, match="cannot tell the format"):
        handle.write(tmp_path / "app.unknown")
    path = handle.write(tmp_path / "app.ini", fmt="ini")
    handle.write(path)  # rewritten: still restored to "absent" afterwards
    watched = tmp_path / "other.txt"
    watched.write_text("v1")
    handle.watch(watched)
    path.write_text("[changed]\n")
    watched.write_text("v2")
    drift = handle._finish()
    assert drift == (str(path), str(watched))
    assert not path.exists()
    assert watched.read_text() == "v2"  # watched files are not restored


def test_drift_is_recorded_and_printed(project: pytest.Pytester) -> None:
    project.makepyfile(test_drift="""
        import configlab.integrations.pytest.collect as cp

        @cp.parametrize("space.yaml", strategy="random", count=2, seed=3)
        def test_drift(configlab_config, tmp_path):
            path = configlab_config.write(tmp_path / "app.json")
            if configlab_config.id.startswith("cfg0001"):
                path.write_text('{"journal_mode": "changed by the app"}')
    """)
    result = project.runpytest()
    result.assert_outcomes(passed=2)
    stored = sorted(_results(project.path), key=lambda r: r.test_id)
    assert [r.metrics["config_drift"] for r in stored] == [0.0, 1.0]
    result.stdout.fnmatch_lines(["*config drift in 1 test(s)*", "*test_drift*cfg0001*app.json"])


# --------------------------------------------------------------------------- outcomes


def test_outcome_mapping(project: pytest.Pytester) -> None:
    project.makepyfile(test_outcomes="""
        import pytest
        import configlab.integrations.pytest.collect as cp

        @pytest.fixture
        def broken():
            raise RuntimeError("setup fails")

        @pytest.fixture
        def bad_teardown():
            yield
            raise RuntimeError("teardown fails")

        def space(test):
            return cp.parametrize("space.yaml", strategy="random", count=1, seed=9)(test)

        @space
        def test_setup_error(broken, configlab_config):
            pass

        @space
        def test_early_setup_error(broken, configlab_config):
            pass

        @space
        def test_skip(configlab_config):
            pytest.skip("not today")

        @space
        @pytest.mark.xfail(reason="known")
        def test_xfail(configlab_config):
            raise AssertionError

        @space
        def test_teardown_error(configlab_config, bad_teardown):
            pass

        @space
        def test_fail(configlab_config):
            raise AssertionError

        @space
        @pytest.mark.skip(reason="skipped at setup")
        def test_skip_marker(configlab_config):
            pass
    """)
    result = project.runpytest("-q")
    result.assert_outcomes(passed=1, failed=1, skipped=2, xfailed=1, errors=3)
    outcome = {r.test_id.split("::")[1].split("[")[0]: r.outcome for r in _results(project.path)}
    assert outcome == {
        "test_setup_error": "error", "test_early_setup_error": "error", "test_skip": "skip",
        "test_xfail": "skip", "test_teardown_error": "error", "test_fail": "fail",
        "test_skip_marker": "skip",
    }
    # a setup error before the fixture ran still has its config saved for replay
    assert all(r.snapshot_id for r in _results(project.path))


def test_final_outcome_rules() -> None:
    final = session._final_outcome
    assert final({"setup": "passed"}) is None  # --setup-only: nothing ran
    assert final({"setup": "passed", "call": "passed", "teardown": "passed"}) == "pass"
    assert final({"setup": "passed", "call": "failed", "teardown": "failed"}) == "fail"


def test_user_parametrizing_the_fixture_name_bypasses_configlab(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_direct="""
        import pytest

        @pytest.mark.parametrize("configlab_config", [{"a": 1}])
        def test_direct(configlab_config):
            assert configlab_config == {"a": 1}
    """)
    pytester.runpytest().assert_outcomes(passed=1)
    assert not (pytester.path / ".configlab").exists()


def test_setup_only_records_nothing(project: pytest.Pytester) -> None:
    project.makepyfile(test_db=FAILING_TEST)
    result = project.runpytest("--setup-only")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*SETUP    F configlab_config[[]cfg0000-journal_mod*[]]"])
    assert len(_results(project.path)) == 0


def test_junitxml_report_links_every_case_to_its_config(project: pytest.Pytester) -> None:
    from configlab.integrations.ingest import SNAPSHOT_KEY, IngestWarning, from_junit

    assert _names.SNAPSHOT_PROPERTY == SNAPSHOT_KEY
    project.makepyfile(test_db=FAILING_TEST, test_more="""
        import pytest
        import configlab.integrations.pytest.collect as cp

        @pytest.fixture(autouse=True)
        def broken(request):
            if request.node.name.startswith("test_early_setup_error"):
                raise RuntimeError("setup fails before configlab_config")

        @cp.parametrize("space.yaml", strategy="random", count=2, seed=3)
        def test_early_setup_error(configlab_config):
            raise AssertionError("not reached")

        def test_plain():
            pass
    """)
    report = project.path / "report.xml"
    result = project.runpytest(f"--junitxml={report}", "-o", "junit_family=xunit2")
    suite = _suite()
    failing = sum(c["journal_mode"] == "WAL" and c["synchronous"] == "OFF" for c in suite)
    result.assert_outcomes(passed=len(suite) - failing + 1, failed=failing, errors=2)
    stored = {r.test_id: r for r in _results(project.path)}
    assert len(stored) == len(suite) + 2
    # the plain test carries no link: kept with an empty config and a warning
    with pytest.warns(IngestWarning, match="1 of .* carry no config link"):
        ingested = from_junit(report, store=project.path / ".configlab")
    assert len(ingested) == len(stored) + 1
    linked = 0
    for record in ingested:
        classname, name = record.test_id.split("::", 1)
        node = classname.replace(".", "/") + ".py::" + name
        if name == "test_plain":
            assert record.snapshot_id is None and dict(record.config) == {}
            continue
        own = stored[node]
        assert record.snapshot_id == own.snapshot_id is not None
        assert dict(record.config) == dict(own.config)
        assert record.outcome == own.outcome
        linked += 1
    assert linked == len(stored)
    # one property per case, not one per phase
    text = report.read_text(encoding="utf-8")
    assert text.count(f'name="{SNAPSHOT_KEY}"') == len(stored)


# --------------------------------------------------------------------------- replay


def test_replay_reruns_exactly_the_failing_config(project: pytest.Pytester) -> None:
    project.makepyfile(test_db=FAILING_TEST, test_other="""
        import configlab.integrations.pytest.collect as cp

        @cp.parametrize({"parameters": {"x": "bool"}})
        def test_other_space(configlab_config):
            pass

        def test_plain():
            pass
    """)
    project.runpytest()
    failing = [r for r in _results(project.path) if r.outcome == "fail"]
    assert len(failing) >= 1
    target = failing[0]
    assert target.snapshot_id is not None
    result = project.runpytest("-v", "--configlab-replay", target.snapshot_id[:12])
    result.assert_outcomes(failed=1, passed=1, deselected=1)
    result.stdout.fnmatch_lines([f"*test_db[[]replay-{target.snapshot_id[:12]}[]] FAILED*"])
    rerun = [r for r in _results(project.path) if r.run_id != target.run_id]
    assert len(rerun) == 1
    assert rerun[0].snapshot_id == target.snapshot_id
    assert rerun[0].config == target.config
    assert rerun[0].outcome == "fail"


def test_replay_errors(project: pytest.Pytester) -> None:
    project.makepyfile(test_db=FAILING_TEST)
    result = project.runpytest("--configlab-replay", "abcdef123456")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "no configlab store" in result.stderr.str()
    project.runpytest("--configlab-max", "1")
    result = project.runpytest("--configlab-replay", "abcdef123456")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "no snapshot" in result.stderr.str()
    store = SnapshotStore(project.path / ".configlab")
    two = store.capture(files=[("a.json", b"{}"), ("b.json", b"{}")], tags=["two-files"])
    store.close()
    result = project.runpytest("--configlab-replay", "two-files")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert f"snapshot {two.short_id} holds 2 files" in result.stderr.str()


def test_replay_of_a_foreign_snapshot_runs_every_selected_test(
    project: pytest.Pytester,
) -> None:
    store = SnapshotStore(project.path / ".configlab")
    snap = store.save_config({"journal_mode": "WAL", "synchronous": "OFF",
                              "foreign_keys": False}, "prod.yaml", tags=["prod"])
    store.close()
    project.makepyfile(test_db=FAILING_TEST)
    result = project.runpytest("--configlab-replay", "prod")
    result.assert_outcomes(failed=1)
    assert _results(project.path)[0].snapshot_id == snap.id


# --------------------------------------------------------------------------- summary


def test_summary_reports_coverage_suspects_and_replay(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", space=SPACE)
    pytester.makepyfile(test_many="""
        import configlab.integrations.pytest.collect as cp

        @cp.parametrize("space.yaml", strategy="random", count=24, seed=5)
        def test_many(configlab_config):
            assert configlab_config["journal_mode"] != "MEMORY"
    """)
    result = pytester.runpytest()
    stored = _results(pytester.path)
    fails = sum(r.outcome == "fail" for r in stored)
    assert fails > 0
    result.stdout.fnmatch_lines([
        "*configlab summary*",
        f"configlab: 24 executions of 24 configs recorded (run *): {24 - fails} pass, "
        f"{fails} fail",
        "  sqlite: 2-way coverage *% (*/* valid 2-tuples) over 24 configs",
        f"    test_many.py::test_many: {fails} of 24 executions fail",
        f"      suspect 1: journal_mode == MEMORY ({fails} of {fails} runs fail, confidence "
        "100%)",
        "  replay: pytest 'test_many.py::test_many' --configlab-replay *",
    ])


def test_summary_limits_the_failing_tests_analysed(project: pytest.Pytester) -> None:
    functions = "".join(f"""
@cp.parametrize("space.yaml", strategy="random", count=3, seed=1)
def test_f{i}(configlab_config):
    raise AssertionError
""" for i in range(_names.MAX_ANALYSED_TESTS + 2))
    project.makepyfile(
        test_all_fail="import configlab.integrations.pytest.collect as cp\n" + functions
    )
    result = project.runpytest()
    result.stdout.fnmatch_lines([
        "    test_all_fail.py::test_f0: 3 of 3 executions fail",
        "      no parameter pattern stands out",
        "    (2 more failing tests not analysed here: use `configlab analyze`)",
    ])


def test_summary_without_failures_and_without_configlab_tests(
    project: pytest.Pytester,
) -> None:
    project.makepyfile(test_plain="def test_plain():\n    pass\n")
    result = project.runpytest()
    assert "configlab summary" not in result.stdout.str()
    assert not (project.path / ".configlab").exists()
    project.makepyfile(test_ok="""
        import configlab.integrations.pytest.collect as cp

        @cp.parametrize("space.yaml", strategy="covering", strength=1)
        def test_ok(configlab_config):
            pass
    """)
    result = project.runpytest()
    result.stdout.fnmatch_lines(["*1-way coverage 100.0%*"])
    assert "suspect" not in result.stdout.str()
    assert "replay:" not in result.stdout.str()


def test_summary_failure_never_fails_the_run(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(configlab.coverage, "measure", boom)
    project.makepyfile(test_ok="""
        import configlab.integrations.pytest.collect as cp

        @cp.parametrize("space.yaml", strategy="random", count=2)
        def test_ok(configlab_config):
            pass
    """)
    result = project.runpytest()
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["configlab: summary unavailable (RuntimeError: boom)"])


def test_analysis_errors_are_one_line(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise configlab.errors.AnalysisError("too little data")

    monkeypatch.setattr(configlab.analysis, "analyze", refuse)
    project.makepyfile(test_db=FAILING_TEST)
    result = project.runpytest()
    result.stdout.fnmatch_lines(["      suspects unavailable: too little data"])


def test_unrecordable_results_do_not_fail_tests(project: pytest.Pytester) -> None:
    (project.path / "not-a-dir").write_text("x")
    project.makepyfile(test_ok="""
        import pytest
        import configlab.integrations.pytest.collect as cp

        @pytest.fixture
        def broken():
            raise RuntimeError("setup fails")

        @cp.parametrize("space.yaml", strategy="random", count=1)
        def test_ok(broken, configlab_config):
            pass
    """)
    result = project.runpytest("--configlab-store", "not-a-dir")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["configlab: 1 executions could not be recorded: *"])


def test_run_id_option_and_environment(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    project.makepyfile(test_db=FAILING_TEST)
    project.runpytest("--configlab-max", "1", "--configlab-run-id", "ci-42")
    monkeypatch.setenv(pytest_plugin.RUN_ID_ENV, "from-env")
    project.runpytest("--configlab-max", "1", "--configlab-store", "elsewhere")
    assert [r.run_id for r in _results(project.path)] == ["ci-42"]
    elsewhere = ResultStore(project.path / "elsewhere").load()
    assert [r.run_id for r in elsewhere] == ["from-env"]


# --------------------------------------------------------------------------- isolation


def test_writes_nothing_but_the_store(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    project.makepyfile(test_db=FAILING_TEST)
    before = {p for p in project.path.rglob("*")}
    project.runpytest("-p", "no:cacheprovider")
    created = {p for p in project.path.rglob("*")} - before
    assert created
    assert all(p.relative_to(project.path).parts[0] == ".configlab" for p in created), created


# --------------------------------------------------------------------------- ids


def test_case_ids_leave_out_constant_parameters_and_show_values() -> None:
    space = Space.from_dict({"parameters": {
        "a.mode": ["x y", "z"], "b.mode": "bool", "same": ["k"],
        "text": {"type": "string", "max_length": 40, "optional": True},
        "items": {"type": "list", "item": "int"}, "ratio": "float", "none": {
            "type": "choice", "values": ["v", None]},
    }})
    configs = [
        {"a": {"mode": "x y"}, "b": {"mode": True}, "same": "k", "text": "t" * 30,
         "items": [1, 2], "ratio": 0.5, "none": None},
        {"a": {"mode": "z"}, "b": {"mode": False}, "same": "k", "text": "",
         "items": [], "ratio": 1e-9, "none": "v"},
        {"a": {"mode": "z"}, "b": {"mode": False}, "same": "k", "items": [], "ratio": 0.5,
         "none": "v"},
    ]
    ids = case_ids(configs, [0, 1, 7], space)
    assert ids[0].startswith("cfg0000-")
    assert "a.mode=x_y" in ids[0] and "b.mode=true" in ids[0]
    assert "same=" not in "".join(ids)
    assert "text=ttttttttttttttt~" in ids[0] or len(ids[0]) > 55
    assert ids[2].startswith("cfg0007-") and "text=absent" in ids[2]
    assert case_ids(configs, [0, 1, 7], space) == ids


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["a", "b", "c"]), st.booleans(),
                          st.integers(0, 100)), min_size=1, max_size=30, unique=True))
def test_case_ids_are_unique_bounded_and_deterministic(rows: list[tuple[str, bool, int]]) -> None:
    space = Space.from_dict({"parameters": {
        "name": ["a", "b", "c"], "flag": "bool", "num": {"type": "int", "min": 0, "max": 100},
    }})
    configs = [{"name": n, "flag": f, "num": v} for n, f, v in rows]
    indices = list(range(len(configs)))
    ids = case_ids(configs, indices, space)
    assert len(set(ids)) == len(ids)
    assert all(len(i) <= len("cfg0000-") + _names.MAX_ID_VALUES for i in ids)
    assert ids == case_ids(configs, indices, space)
    for case_id in ids:
        assert collect._ID_UNSAFE.search(case_id) is None


def test_ids_do_not_change_with_max(pytester: pytest.Pytester) -> None:
    # Issue 19: with --configlab-max the distinctive values were ranked within the kept head,
    # so cfg0001 got another id (and lost its history). Ids now come from the whole suite.
    space = (ROOT_DIR / "examples" / "cache-service" / "space.yaml").read_text()
    pytester.makefile(".yaml", space=space)
    pytester.makepyfile(test_svc=(
        "import configlab\n\n"
        "@configlab.parametrize(space='space.yaml', strategy='covering', strength=2, seed=1)\n"
        "def test_svc(configlab_config):\n    pass\n"
    ))
    full = _collected_ids(pytester.runpytest("--collect-only", "-q"))
    for keep in ("2", "5", "11"):
        kept = _collected_ids(pytester.runpytest("--collect-only", "-q", "--configlab-max", keep))
        assert len(kept) == int(keep) and set(kept) <= set(full), (keep, kept)
    again = _collected_ids(pytester.runpytest("--collect-only", "-q"))
    assert again == full


def test_captured_output_is_kept_with_each_result(project: pytest.Pytester) -> None:
    project.makepyfile(test_out="""
import sys
import configlab.integrations.pytest.collect as cp

@cp.parametrize(space="space.yaml", strategy="covering", strength=1, seed=1)
def test_db(configlab_config):
    print("journal", configlab_config["journal_mode"])
    if configlab_config["journal_mode"] == "OFF":
        print("OOM command not allowed", file=sys.stderr)
        assert False
""")
    project.runpytest()
    stored = _results(project.path)
    assert stored and all(r.stdout.startswith("journal ") for r in stored)
    oom = stored.select(where='"OOM" in stderr')
    assert len(oom) == 1 and oom[0].outcome == "fail"
    assert oom[0].stderr == "OOM command not allowed\n"
    project.runpytest("-s")  # nothing captured: nothing kept
    assert all(r.stdout is None for r in _results(project.path)[len(stored):])
