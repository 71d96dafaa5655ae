"""Read other test frameworks' reports as configlab results.

Supported producers:

* **JUnit XML** (:func:`from_junit`): Maven Surefire/Failsafe, Gradle, pytest ``--junitxml``,
  the JUnit Platform console launcher, Jenkins xunit-plugin output and other xUnit flavours
  following the JUnit schema (``<testsuites>`` root or a single ``<testsuite>``, nested suites,
  ``<failure>``, ``<error>``, ``<skipped>``, ``time`` in seconds).
* **pytest-json-report** (:func:`from_pytest_json`).
* **CTRF** — Common Test Report Format (:func:`from_ctrf`).
* configlab's own JSON Lines, CSV and Parquet tables.

:func:`load_results` picks the reader from the file's content.

Linking a test case to its configuration (see ``docs/integration.md``): every reader collects
the key/value pairs a producer attaches to a test case (JUnit ``<properties>``, testcase
attributes and ``configlab.*`` lines in ``<system-out>``; pytest-json-report ``user_properties``
and ``metadata``; CTRF ``extra``, ``labels`` and ``parameters``) and reads these keys (the
output a report kept — JUnit ``<system-out>``/``<system-err>``, pytest-json-report's captured
``stdout``/``stderr``, CTRF ``stdout``/``stderr`` lines — becomes the result's
``stdout``/``stderr``, so ``--where '"OOM" in stderr'`` finds it):

=============================  ===========================================================
``configlab.snapshot_id``      id (or unique prefix, or tag) of a snapshot holding the config
``configlab.config``           the whole config as JSON (text, or an object in JSON reports)
``config.<dotted.path>``       one config leaf; text is typed canonically (``8`` -> int,
                               ``true`` -> bool, ``null`` -> None, ``"8"`` -> the string 8,
                               ``[..]``/``{..}`` -> JSON)
``configlab.test_id``          overrides the test id built from the report
``configlab.run_id``           the run id (also accepted on a JUnit ``<testsuite>``)
``configlab.timestamp``        the ISO 8601 time of the run
``configlab.duration``         the exact duration in seconds (``null``: unknown)
``configlab.metric.<name>``    a numeric metric
=============================  ===========================================================

A snapshot id is resolved through the snapshot store (``store=``) when no config is given.
Test cases without any config link are kept with an empty config and counted in one
:class:`IngestWarning` per file: they are never dropped silently.
"""

from __future__ import annotations

import json
import math
import os
import re
import warnings
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from xml.etree.ElementTree import Element, ParseError

from configlab import tree as _tree
from configlab._internal import safeio
from configlab.errors import ConfiglabError, IntegrationError, ResultsError, SnapshotNotFoundError
from configlab.results import (
    METRIC_PREFIX,
    RESERVED_COLUMNS,
    Result,
    ResultSet,
    format_cell,
    normalize_timestamp,
    parquet_columns,
    parse_cell,
)
from configlab.snapshots import SnapshotStore
from configlab.storage import StoreLocation, is_postgres_url

if TYPE_CHECKING:
    from configlab.results.encoded import EncodedResults
    from configlab.space import Space

#: Key carrying the snapshot id of the config a test ran with.
SNAPSHOT_KEY = "configlab.snapshot_id"
#: Key carrying the whole config as JSON.
CONFIG_KEY = "configlab.config"
#: Key overriding the test id.
TEST_ID_KEY = "configlab.test_id"
#: Key carrying the run id.
RUN_ID_KEY = "configlab.run_id"
#: Key carrying the exact ISO 8601 time of the run.
TIMESTAMP_KEY = "configlab.timestamp"
#: Key carrying the exact duration in seconds (``null``: unknown).
DURATION_KEY = "configlab.duration"
#: Prefix of metric keys.
METRIC_KEY_PREFIX = "configlab.metric."
#: Prefix of flattened config keys.
CONFIG_KEY_PREFIX = "config."

#: Where snapshot ids are resolved: a store, its directory, or None (ids left unresolved).
StoreRef = SnapshotStore | StoreLocation | str | os.PathLike[str] | None

_XML_LINE_RE = re.compile(r":\s*line \d+, column \d+$")
_STDOUT_KEY_RE = re.compile(
    r"^[ \t]*(?:-[ \t]*)?(configlab\.[A-Za-z0-9_.\-]+)[ \t]*[:=][ \t]*(.*?)[ \t]*$", re.MULTILINE
)
#: testcase attributes read as link keys (XML attribute names may hold dots).
_JUNIT_ATTRIBUTES = (
    (SNAPSHOT_KEY, SNAPSHOT_KEY),
    ("configlab_snapshot_id", SNAPSHOT_KEY),
    (CONFIG_KEY, CONFIG_KEY),
    ("configlab_config", CONFIG_KEY),
)
_PYTEST_OUTCOMES = {
    "passed": "pass",
    "failed": "fail",
    "error": "error",
    "skipped": "skip",
    "xfailed": "skip",
    "xpassed": "pass",
}
_CTRF_OUTCOMES = {
    "passed": "pass",
    "failed": "fail",
    "skipped": "skip",
    "pending": "skip",
    "other": "error",
}


class IngestWarning(UserWarning):
    """Something in a report could not be linked to a config (the results are still kept)."""


# --------------------------------------------------------------------------- value encoding


def encode_value(value: Any) -> str:
    """Text form of a config leaf for string-only carriers (JUnit properties, Allure parameters).

    Non-strings use their canonical spelling (``8``, ``0.5``, ``true``, ``null``), lists and
    objects canonical JSON; a string that would read back as something else (``"8"``,
    ``"true"``, ``""``, or text starting with a quote, ``[`` or ``{``) is JSON-quoted.
    :func:`decode_value` is the inverse.
    """
    return format_cell(value)


def decode_value(text: str) -> Any:
    """Typed value of a text config leaf (inverse of :func:`encode_value`).

    Raises:
        IntegrationError: text starting with a quote, ``[`` or ``{`` that is not valid JSON.
    """
    try:
        return parse_cell(text, "config value")
    except ResultsError as error:
        raise IntegrationError(str(error)) from None


# --------------------------------------------------------------------------- linking


@dataclass
class _Case:
    """One test case as read from a report, before it is linked to a config."""

    test_id: str
    outcome: str
    duration: float | None
    timestamp: str | None
    where: str
    #: (key, value, typed) pairs attached to the case; ``typed`` False: text values are
    #: typed canonically (JUnit properties, ``record_property``), True: kept as they are.
    pairs: list[tuple[str, Any, bool]] = field(default_factory=list)
    run_id: str | None = None
    #: what the test wrote, as the report kept it (JUnit system-out/-err, CTRF stdout/stderr)
    stdout: str | None = None
    stderr: str | None = None


class _Linker:
    """Turns cases into results: reads the link keys, resolves snapshot ids, counts misses."""

    def __init__(self, source: Path, store: StoreRef,
                 run_id: str | None) -> None:
        self.source = source
        self.store, self._owned = _open_store(store)
        self.run_id = run_id
        self.unlinked: list[str] = []
        self.unresolved: list[str] = []
        self._snapshots: dict[str, tuple[str, dict[str, Any]] | None] = {}

    def result(self, case: _Case) -> Result:
        config: dict[str, Any] | None = None
        flat: dict[str, Any] = {}
        metrics: dict[str, float] = {}
        snapshot_id: str | None = None
        test_id = case.test_id
        run_id = case.run_id
        timestamp = case.timestamp
        duration = case.duration
        for key, raw, typed in case.pairs:
            where = f"{case.where}: {key}"
            if key == SNAPSHOT_KEY:
                snapshot_id = _text(raw, where).strip() or None
            elif key == CONFIG_KEY:
                config = _config_value(raw, where)
            elif key == TEST_ID_KEY:
                test_id = _text(raw, where)
            elif key == RUN_ID_KEY:
                run_id = _text(raw, where) or None
            elif key == DURATION_KEY:
                duration = None if raw is None else _metric(raw, where)
            elif key == TIMESTAMP_KEY:
                timestamp = _timestamp(_text(raw, where), where)
            elif key.startswith(METRIC_KEY_PREFIX) and len(key) > len(METRIC_KEY_PREFIX):
                metrics[key[len(METRIC_KEY_PREFIX):]] = _metric(raw, where)
            elif key.startswith(CONFIG_KEY_PREFIX) and len(key) > len(CONFIG_KEY_PREFIX):
                literal = typed or not isinstance(raw, str)
                flat[key[len(CONFIG_KEY_PREFIX):]] = raw if literal else _decode(raw, where)
        if config is None and flat:
            config = {}
        if flat:
            assert config is not None
            for path, value in flat.items():
                try:
                    _tree.set_path(config, path, value)
                except ConfiglabError as error:
                    raise IntegrationError(f"{case.where}: config.{path}: {error}") from None
        if config is None and snapshot_id is not None:
            resolved = self._resolve(snapshot_id)
            if resolved is None:
                self.unresolved.append(test_id)
            else:
                snapshot_id, config = resolved
        if config is None:
            if snapshot_id is None:
                self.unlinked.append(test_id)
            config = {}
        try:
            return Result(
                config=config, outcome=case.outcome, duration=duration, metrics=metrics,
                test_id=test_id, snapshot_id=snapshot_id, timestamp=timestamp,
                run_id=run_id if run_id is not None else self.run_id,
                stdout=case.stdout or None, stderr=case.stderr or None,
            )
        except ConfiglabError as error:
            raise IntegrationError(f"{case.where}: {error}") from None

    def _resolve(self, ref: str) -> tuple[str, dict[str, Any]] | None:
        if self.store is None:
            return None
        if ref not in self._snapshots:
            try:
                snapshot = self.store.get(ref)
                merged: dict[str, Any] = {}
                for name in sorted(snapshot.files):
                    _merge(merged, self.store.read_tree(snapshot, name))
                self._snapshots[ref] = (snapshot.id, merged)
            except SnapshotNotFoundError:
                self._snapshots[ref] = None
            except ConfiglabError as error:
                raise IntegrationError(f"{self.source}: snapshot {ref}: {error}") from None
        found = self._snapshots[ref]
        return None if found is None else (found[0], _tree.deep_copy(found[1]))

    def finish(self, results: ResultSet) -> ResultSet:
        """Emit the warnings about unlinked and unresolved cases; returns ``results``."""
        if self.unlinked:
            warnings.warn(
                f"{self.source}: {len(self.unlinked)} of {len(results)} test case(s) carry no "
                f"config link ({SNAPSHOT_KEY}, {CONFIG_KEY} or {CONFIG_KEY_PREFIX}<path>); kept "
                f"with an empty config (first: {self.unlinked[0]!r})",
                IngestWarning,
                stacklevel=3,
            )
        if self.unresolved:
            why = "no snapshot store given" if self.store is None else (
                f"not found in {self.store.root}"
            )
            warnings.warn(
                f"{self.source}: {len(self.unresolved)} test case(s) name a snapshot id whose "
                f"config could not be read ({why}); kept with an empty config "
                f"(first: {self.unresolved[0]!r})",
                IngestWarning,
                stacklevel=3,
            )
        if self._owned and self.store is not None:
            self.store.close()
        return results


def _open_store(store: StoreRef) -> tuple[SnapshotStore | None, bool]:
    """(SnapshotStore or None, whether it was opened here) from a store, a directory, a team
    store (``postgresql://`` URL or :class:`~configlab.storage.StoreLocation`) or None."""
    if store is None:
        return None, False
    if isinstance(store, SnapshotStore):
        return store, False
    if isinstance(store, StoreLocation) or (isinstance(store, str) and is_postgres_url(store)):
        return SnapshotStore(store), True  # a team store: reached when a link is resolved
    if isinstance(store, str | os.PathLike):
        root = Path(store)
        if not (root / "index.sqlite").is_file():
            raise IntegrationError(f"{root}: no configlab store (index.sqlite) found")
        return SnapshotStore(root), True
    raise IntegrationError(f"store must be a SnapshotStore or a directory, got {store!r}")


def _merge(target: dict[str, Any], tree: Mapping[str, Any]) -> None:
    for key, value in tree.items():
        current = target.get(key)
        if isinstance(value, Mapping) and isinstance(current, dict):
            _merge(current, value)
        else:
            target[key] = _tree.deep_copy(value)


def _text(raw: Any, where: str) -> str:
    if isinstance(raw, str):
        return raw
    if isinstance(raw, bool) or raw is None or isinstance(raw, list | dict):
        raise IntegrationError(f"{where}: expected text, got {raw!r}")
    return str(raw)


def _decode(raw: Any, where: str) -> Any:
    try:
        return decode_value(_text(raw, where))
    except IntegrationError as error:
        raise IntegrationError(f"{where}: {error}") from None


def _config_value(raw: Any, where: str) -> dict[str, Any]:
    value = raw
    if isinstance(raw, str):
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as error:
            raise IntegrationError(f"{where}: malformed JSON config: {error.msg}") from None
    if not isinstance(value, dict):
        raise IntegrationError(f"{where}: the config must be a JSON object, got {raw!r}")
    return value


def _metric(raw: Any, where: str) -> float:
    if isinstance(raw, bool):
        raise IntegrationError(f"{where}: a metric must be a number, got {raw!r}")
    try:
        number = float(raw)
    except (TypeError, ValueError):
        raise IntegrationError(f"{where}: a metric must be a number, got {raw!r}") from None
    if not math.isfinite(number):
        raise IntegrationError(f"{where}: a metric must be finite, got {raw!r}")
    return number


def _seconds(text: str | None, where: str) -> float | None:
    """Seconds from a JUnit ``time`` attribute (``1,234.5`` thousands separators accepted)."""
    if text is None or not text.strip():
        return None
    cleaned = text.strip()
    if re.fullmatch(r"\d{1,3}(,\d{3})+(\.\d*)?", cleaned):
        cleaned = cleaned.replace(",", "")
    try:
        value = float(cleaned)
    except ValueError:
        raise IntegrationError(f"{where}: time {text!r} is not a number of seconds") from None
    if not math.isfinite(value) or value < 0:
        raise IntegrationError(f"{where}: time {text!r} is not a valid duration")
    return value


def _timestamp(value: Any, where: str) -> str | None:
    try:
        return normalize_timestamp(value)
    except ConfiglabError as error:
        raise IntegrationError(f"{where}: {error}") from None


def _epoch_ms(value: Any, where: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise IntegrationError(f"{where}: expected milliseconds since the epoch, got {value!r}")
    try:
        return datetime.fromtimestamp(value / 1000.0, UTC).isoformat()
    except (OverflowError, OSError, ValueError):
        raise IntegrationError(f"{where}: {value!r} is not a valid epoch time") from None


# --------------------------------------------------------------------------- JUnit XML


def _parse_xml(location: Path) -> Element:
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import parse

    try:
        with safeio.open_input(location, what="report", error=IntegrationError) as handle:
            root: Element = parse(handle, forbid_dtd=False).getroot()
    except ParseError as error:
        position = getattr(error, "position", None)
        reason = _XML_LINE_RE.sub("", str(error))
        where = str(location)
        if isinstance(position, tuple) and len(position) == 2:
            where = f"{location}:{position[0]}:{position[1] + 1}"
        raise IntegrationError(f"{where}: malformed XML: {reason}") from None
    except DefusedXmlException as error:
        raise IntegrationError(f"{location}: refused unsafe XML: {error}") from None
    except OSError as error:
        raise IntegrationError(
            f"{location}: cannot read report: {error.strerror or error}"
        ) from None
    return root


def _junit_suites(root: Element, location: Path) -> Iterator[tuple[Element, Element, str | None]]:
    """(suite, testcase, suite run id) for every testcase, suites nested at any depth."""
    from junitparser import JUnitXml, JUnitXmlError

    try:
        cast(Any, JUnitXml).fromroot(root)  # the JUnit schema check junitparser applies
    except JUnitXmlError:
        raise IntegrationError(
            f"{location}: not a JUnit XML report (root element <{root.tag}>, expected "
            "<testsuites> or <testsuite>)"
        ) from None

    def walk(suite: Element, run_id: str | None) -> Iterator[tuple[Element, Element, str | None]]:
        for prop in suite.iterfind("properties/property"):
            if prop.get("name") == RUN_ID_KEY:
                run_id = prop.get("value", prop.text or "") or run_id
        for child in suite:
            if child.tag == "testcase":
                yield suite, child, run_id
            elif child.tag == "testsuite":
                yield from walk(child, run_id)

    suites = [root] if root.tag == "testsuite" else [s for s in root if s.tag == "testsuite"]
    for suite in suites:
        yield from walk(suite, None)


def _junit_case(suite: Element, case: Element, run_id: str | None, location: Path,
                number: int) -> _Case:
    from junitparser import TestCase

    parsed = cast(Any, TestCase).fromelem(case)
    name = case.get("name") or ""
    classname = case.get("classname") or ""
    where = f"{location}: testcase #{number} {name!r}"
    test_id = f"{classname}::{name}" if classname else name
    if parsed.is_error:
        outcome = "error"
    elif parsed.is_failure:
        outcome = "fail"
    elif parsed.is_skipped:
        outcome = "skip"
    else:
        outcome = "pass"
    stamp = case.get("timestamp") or suite.get("timestamp")
    junit_case = _Case(
        test_id=test_id,
        outcome=outcome,
        duration=_seconds(case.get("time"), where),
        timestamp=_timestamp(stamp, where) if stamp else None,
        where=where,
        run_id=run_id,
    )
    for attribute, key in _JUNIT_ATTRIBUTES:
        value = case.get(attribute)
        if value is not None:
            junit_case.pairs.append((key, value, False))
    for output in case.iterfind("system-out"):
        for match in _STDOUT_KEY_RE.finditer(output.text or ""):
            junit_case.pairs.append((match.group(1), match.group(2), False))
    junit_case.stdout = "".join(o.text or "" for o in case.iterfind("system-out"))
    junit_case.stderr = "".join(o.text or "" for o in case.iterfind("system-err"))
    for prop in case.iterfind("properties/property"):
        prop_name = prop.get("name")
        if prop_name is None:
            raise IntegrationError(f"{where}: a <property> has no name")
        text = prop.get("value")
        junit_case.pairs.append((prop_name, text if text is not None else prop.text or "", False))
    return junit_case


def from_junit(path: str | os.PathLike[str], store: StoreRef = None, *,
               run_id: str | None = None) -> ResultSet:
    """Read a JUnit XML report (any xUnit flavour of the JUnit schema) as a ResultSet.

    One result per ``<testcase>``: outcome ``error`` if it has an ``<error>``, else ``fail``
    with a ``<failure>``, ``skip`` with ``<skipped>``, else ``pass``; ``time`` is the duration
    (seconds); the testcase's or its suite's ``timestamp`` the timestamp; the test id is
    ``classname::name``.  Config links: see the module docstring.  ``store`` (a SnapshotStore
    or a store directory) resolves snapshot ids; ``run_id`` is recorded on results that do not
    name their own.

    Raises:
        IntegrationError: unreadable or malformed XML (names file, line and column), a root
            other than ``<testsuites>``/``<testsuite>``, or malformed values (names the case).
    """
    location = Path(path)
    root = _parse_xml(location)
    linker = _Linker(location, store, run_id)
    results = ResultSet()
    try:
        for number, (suite, case, suite_run) in enumerate(_junit_suites(root, location),
                                                          start=1):
            results.append(linker.result(_junit_case(suite, case, suite_run, location, number)))
    except RecursionError:  # <testsuite> nested thousands deep
        raise IntegrationError(f"{location}: JUnit XML nested too deeply") from None
    return linker.finish(results)


# --------------------------------------------------------------------------- JSON reports


def _read_json(location: Path, what: str) -> Any:
    text = safeio.read_text(location, what="report", error=IntegrationError)
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise IntegrationError(
            f"{location}:{error.lineno}:{error.colno}: malformed {what} JSON: {error.msg}"
        ) from None
    except (ValueError, RecursionError) as error:  # a huge int, nesting 100,000 deep
        raise IntegrationError(
            f"{location}: malformed {what} JSON: {safeio.json_problem(error)}") from None


def _pairs_from(mapping: Any, where: str, what: str) -> list[tuple[str, Any, bool]]:
    if mapping is None:
        return []
    if not isinstance(mapping, Mapping):
        raise IntegrationError(f"{where}: {what} must be an object, got {mapping!r}")
    return [(str(key), value, True) for key, value in mapping.items()]


def from_pytest_json(path: str | os.PathLike[str], store: StoreRef = None, *,
                     run_id: str | None = None) -> ResultSet:
    """Read a pytest-json-report file (``pytest --json-report``) as a ResultSet.

    One result per entry of ``tests``: outcome from ``outcome`` (passed -> pass, failed -> fail,
    error -> error, skipped and xfailed -> skip, xpassed -> pass); duration the sum of the
    setup, call and teardown durations; timestamp the report's ``created`` time; test id the
    node id.  Config links come from ``user_properties`` (``record_property``) and
    ``metadata`` (the ``json_metadata`` fixture); JSON values keep their types.

    Raises:
        IntegrationError: unreadable or malformed JSON (names file and line), not a
            pytest-json-report document, or an unknown outcome (names the test).
    """
    location = Path(path)
    data = _read_json(location, "pytest-json-report")
    if not isinstance(data, dict) or not isinstance(data.get("tests"), list):
        raise IntegrationError(
            f"{location}: not a pytest-json-report file (no 'tests' list at the top level)"
        )
    created = data.get("created")
    stamp = _timestamp(created, f"{location}: created") if created is not None else None
    linker = _Linker(location, store, run_id)
    results = ResultSet()
    for number, test in enumerate(data["tests"], start=1):
        where = f"{location}: tests[{number - 1}]"
        if not isinstance(test, dict):
            raise IntegrationError(f"{where}: expected an object, got {test!r}")
        nodeid = test.get("nodeid")
        if not isinstance(nodeid, str):
            raise IntegrationError(f"{where}: no 'nodeid'")
        where = f"{location}: test {nodeid!r}"
        outcome = _PYTEST_OUTCOMES.get(str(test.get("outcome")))
        if outcome is None:
            raise IntegrationError(f"{where}: unknown outcome {test.get('outcome')!r}")
        duration = None
        for phase in ("setup", "call", "teardown"):
            report = test.get(phase)
            if isinstance(report, dict) and report.get("duration") is not None:
                seconds = _metric(report["duration"], f"{where}: {phase}.duration")
                duration = seconds if duration is None else duration + seconds
        case = _Case(test_id=nodeid, outcome=outcome, duration=duration, timestamp=stamp,
                     where=where)
        # the output pytest captured, phase by phase
        case.stdout, case.stderr = ("".join(
            str(test[phase].get(stream) or "") for phase in ("setup", "call", "teardown")
            if isinstance(test.get(phase), dict)) for stream in ("stdout", "stderr"))
        properties = test.get("user_properties") or []
        if not isinstance(properties, list):
            raise IntegrationError(f"{where}: user_properties must be a list")
        for item in properties:  # record_property values: text is typed as in JUnit XML
            case.pairs.extend((key, value, False)
                              for key, value, _ in _pairs_from(item, where, "a user property"))
        case.pairs.extend(_pairs_from(test.get("metadata"), where, "metadata"))
        results.append(linker.result(case))
    return linker.finish(results)


def from_ctrf(path: str | os.PathLike[str], store: StoreRef = None, *,
              run_id: str | None = None) -> ResultSet:
    """Read a CTRF report (Common Test Report Format, ``results.tests``) as a ResultSet.

    Status: passed -> pass, failed -> fail, skipped and pending -> skip, other -> error.
    ``duration`` is milliseconds; ``start`` (epoch ms) gives the timestamp; the test id is
    ``extra.configlab.test_id`` or the suite path and name joined with ``::``.  Config links
    come from ``extra.configlab`` (``{"config", "snapshot_id", "test_id", "run_id",
    "metrics"}``, as written by :func:`configlab.integrations.exporters.to_ctrf`) and from the flat
    keys of
    ``labels``, ``parameters`` and ``extra``.

    Raises:
        IntegrationError: unreadable or malformed JSON, not a CTRF document, or a malformed
            test entry (names the test).
    """
    location = Path(path)
    data = _read_json(location, "CTRF")
    body = data.get("results") if isinstance(data, dict) else None
    if not isinstance(body, dict) or not isinstance(body.get("tests"), list):
        raise IntegrationError(f"{location}: not a CTRF report (no 'results.tests' list)")
    linker = _Linker(location, store, run_id)
    results = ResultSet()
    for number, test in enumerate(body["tests"]):
        where = f"{location}: results.tests[{number}]"
        if not isinstance(test, dict) or not isinstance(test.get("name"), str):
            raise IntegrationError(f"{where}: a test needs a 'name'")
        where = f"{where} {test['name']!r}"
        outcome = _CTRF_OUTCOMES.get(str(test.get("status")))
        if outcome is None:
            raise IntegrationError(f"{where}: unknown status {test.get('status')!r}")
        duration_ms = test.get("duration")
        duration = None if duration_ms is None else _metric(duration_ms, f"{where}: duration")
        if duration is not None and duration < 0:
            raise IntegrationError(f"{where}: negative duration {duration_ms!r}")
        suite = test.get("suite") or []
        if isinstance(suite, str):
            suite = [suite]
        if not isinstance(suite, list) or not all(isinstance(s, str) for s in suite):
            raise IntegrationError(f"{where}: 'suite' must be a list of strings")
        case = _Case(
            test_id="::".join([*suite, test["name"]]),
            outcome=outcome,
            duration=None if duration is None else duration / 1000.0,
            timestamp=_epoch_ms(test.get("start"), f"{where}: start"),
            where=where,
        )
        case.stdout, case.stderr = (_ctrf_lines(test, stream, where)
                                    for stream in ("stdout", "stderr"))
        extra = test.get("extra") or {}
        case.pairs.extend(_pairs_from(test.get("labels"), where, "labels"))
        case.pairs.extend(_pairs_from(test.get("parameters"), where, "parameters"))
        case.pairs.extend(_pairs_from(extra, where, "extra"))
        own = extra.get("configlab") if isinstance(extra, dict) else None
        if own is not None:
            case.pairs.extend(_ctrf_own(own, where))
        results.append(linker.result(case))
    return linker.finish(results)


def _ctrf_lines(test: Mapping[str, Any], stream: str, where: str) -> str | None:
    """A CTRF test's ``stdout`` / ``stderr`` (a list of lines) as one text.

    Lines that keep their ends (as configlab writes them) are joined as they are; lines without
    (other tools) get a newline each.
    """
    lines = test.get(stream)
    if lines is None:
        return None
    if not isinstance(lines, list) or not all(isinstance(line, str) for line in lines):
        raise IntegrationError(f"{where}: {stream!r} must be a list of strings")
    if all(line.endswith("\n") for line in lines[:-1]):
        return "".join(lines)
    return "".join(f"{line}\n" for line in lines)


def _ctrf_own(own: Any, where: str) -> Iterable[tuple[str, Any, bool]]:
    if not isinstance(own, Mapping):
        raise IntegrationError(f"{where}: extra.configlab must be an object")
    keys = {"config": CONFIG_KEY, "snapshot_id": SNAPSHOT_KEY, "test_id": TEST_ID_KEY,
            "run_id": RUN_ID_KEY, "timestamp": TIMESTAMP_KEY}
    for name, key in keys.items():
        if own.get(name) is not None:
            yield key, own[name], True
    if "duration" in own:
        yield DURATION_KEY, own["duration"], True
    metrics = own.get("metrics") or {}
    if not isinstance(metrics, Mapping):
        raise IntegrationError(f"{where}: extra.configlab.metrics must be an object")
    for name, value in metrics.items():
        yield METRIC_KEY_PREFIX + str(name), value, True


# --------------------------------------------------------------------------- Parquet


def from_parquet(path: str | os.PathLike[str]) -> ResultSet:
    """Read a Parquet results table written by :func:`configlab.integrations.exporters.to_parquet`.

    Needs pyarrow.  Config columns listed in the file's ``configlab.text_columns`` metadata
    hold canonical text (see :func:`encode_value`); the others are typed.  A missing cell means
    the path is absent.
    """
    location = Path(path)
    columns = parquet_columns(location)  # the common shape, straight to columns
    if columns is not None:
        return columns
    try:
        import pyarrow.parquet as pq
    except ImportError:  # pragma: no cover - pyarrow is installed with the test extra
        raise IntegrationError(
            "reading Parquet needs pyarrow: pip install pyarrow"
        ) from None
    try:
        table = pq.read_table(location)
    except (OSError, ValueError) as error:
        raise IntegrationError(f"{location}: cannot read Parquet: {error}") from None
    meta = table.schema.metadata or {}
    text_columns = set(json.loads(meta.get(b"configlab.text_columns", b"[]")))

    columns = table.column_names
    if "outcome" not in columns:
        raise IntegrationError(f"{location}: no 'outcome' column")
    data = table.to_pylist()
    results = ResultSet()
    for number, row in enumerate(data, start=1):
        where = f"{location}: row {number}"
        config: dict[str, Any] = {}
        metrics: dict[str, float] = {}
        for column in columns:
            value = row[column]
            if value is None or column in RESERVED_COLUMNS:
                continue
            if column.startswith(METRIC_PREFIX):
                metrics[column[len(METRIC_PREFIX):]] = _metric(value, f"{where}: {column}")
                continue
            if column in text_columns:
                value = _decode(value, f"{where}: {column}")
            try:
                _tree.set_path(config, column, value)
            except ConfiglabError as error:
                raise IntegrationError(f"{where}: column {column!r}: {error}") from None
        try:
            results.append(Result(
                config=config, outcome=row["outcome"], duration=row.get("duration"),
                metrics=metrics, test_id=row.get("test_id") or "",
                snapshot_id=row.get("snapshot_id"), timestamp=row.get("timestamp"),
                run_id=row.get("run_id"),
            ))
        except ConfiglabError as error:
            raise IntegrationError(f"{where}: {error}") from None
    return results


# --------------------------------------------------------------------------- encoded


def load_encoded(path: str | os.PathLike[str], space: Space | None = None, *,
                 store: StoreRef = None) -> tuple[EncodedResults, Space]:
    """Read any results file :func:`load_results` reads and encode it against ``space``
    (inferred from the configs when None): ``analyze_encoded(*load_encoded(path)[:1])``.

    JSON lines and Parquet in the common shape go straight to columns (1,000,000 results x 50
    parameters in seconds); everything else through :func:`load_results`.
    """
    # imported here: the columnar readers load numpy and polars, which `configlab run` avoids
    from configlab.results import encode_columns

    found = encode_columns(path, space)
    if found is not None:
        return found
    results = load_results(path, store)
    if space is None:
        space = results.infer_space()
    return results.encode(space), space


# --------------------------------------------------------------------------- dispatch


def detect_report_format(path: str | os.PathLike[str]) -> str:
    """The kind of results file at ``path``, from its content.

    One of ``"store"`` (a store directory), ``"junit"``, ``"ctrf"``, ``"pytest-json"``,
    ``"jsonl"``, ``"csv"``, ``"parquet"``.

    Raises:
        IntegrationError: missing file, or content none of the readers takes.
    """
    location = Path(path)
    if location.is_dir():
        if (location / "index.sqlite").is_file():
            return "store"
        raise IntegrationError(f"{location}: a directory but not a configlab store")
    try:
        with safeio.open_input(location, what="results file", error=IntegrationError) as handle:
            head = handle.read(64 * 1024)
    except OSError as error:
        raise IntegrationError(
            f"{location}: cannot read results: {error.strerror or error}"
        ) from None
    if head.startswith(b"PAR1"):
        return "parquet"
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")
    if text.startswith("<"):
        return "junit"
    if text.startswith("{") or text.startswith("["):
        first = text.split("\n", 1)[0]
        try:
            record = json.loads(first)
        except (ValueError, RecursionError):  # not one JSON line, or a hostile one
            record = None
        if isinstance(record, dict) and "outcome" in record and "config" in record:
            return "jsonl"
        data = _read_json(location, "results")
        if isinstance(data, dict):
            body = data.get("results")
            if isinstance(body, dict) and "tests" in body:
                return "ctrf"
            if isinstance(data.get("tests"), list):
                return "pytest-json"
        raise IntegrationError(
            f"{location}: JSON that is neither configlab JSON lines, CTRF nor pytest-json-report"
        )
    header = text.split("\n", 1)[0]
    if "outcome" in [cell.strip().strip('"') for cell in header.split(",")]:
        return "csv"
    raise IntegrationError(
        f"{location}: unknown results format (expected JSON lines, CSV, Parquet, JUnit XML, "
        "pytest-json-report or CTRF)"
    )


def load_results(source: str | os.PathLike[str] | ResultSet, store: StoreRef = None, *,
                 run_id: str | None = None, output: bool = True) -> ResultSet:
    """Read results from any supported file, choosing the reader from the content.

    The one door for reading results: JSON lines, CSV, Parquet and store directories are
    configlab's own forms (read as they are), as is a team store named by its ``postgresql://``
    URL; JUnit XML, pytest-json-report and CTRF go through
    :func:`from_junit`, :func:`from_pytest_json` and :func:`from_ctrf` (``store`` and ``run_id``
    apply to those).  A :class:`ResultSet` is returned as it is, so callers may take either.
    ``output=False`` leaves a store's output tails unread (coverage and analysis need none).

    Raises:
        IntegrationError: missing file, unknown or malformed content (names the file).
    """
    if isinstance(source, ResultSet):
        return source
    if is_postgres_url(os.fspath(source)):  # a team store: its results table
        try:
            return ResultSet.from_store(os.fspath(source), output=output)
        except ConfiglabError as error:
            raise IntegrationError(str(error)) from None
    path = source
    kind = detect_report_format(path)
    if kind == "junit":
        return from_junit(path, store, run_id=run_id)
    if kind == "ctrf":
        return from_ctrf(path, store, run_id=run_id)
    if kind == "pytest-json":
        return from_pytest_json(path, store, run_id=run_id)
    if kind == "parquet":
        return from_parquet(path)
    try:
        if kind == "store":
            return ResultSet.from_store(path, output=output)
        if kind == "jsonl":
            return ResultSet.from_jsonl(path)
        return ResultSet.from_csv(path)
    except ConfiglabError as error:
        raise IntegrationError(str(error)) from None


__all__ = [
    "CONFIG_KEY",
    "CONFIG_KEY_PREFIX",
    "DURATION_KEY",
    "METRIC_KEY_PREFIX",
    "RUN_ID_KEY",
    "SNAPSHOT_KEY",
    "TEST_ID_KEY",
    "TIMESTAMP_KEY",
    "IngestWarning",
    "decode_value",
    "detect_report_format",
    "encode_value",
    "from_ctrf",
    "from_junit",
    "from_parquet",
    "from_pytest_json",
    "load_encoded",
    "load_results",
]
