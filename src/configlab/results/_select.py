"""Selecting results before analysing them: by test, run, outcome, time range and a condition on
the config written in the constraint language (``--where "db == 'postgres' and workers > 2"``).

Used by :meth:`configlab.results.ResultSet.select` and the ``--test-id``, ``--run-id``,
``--outcome``, ``--since``, ``--until`` and ``--where`` options of ``configlab analyze`` and
``configlab report``.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

from configlab import tree as _tree
from configlab.errors import ConstraintError, ResultsError
from configlab.results._time import normalize_timestamp
from configlab.results.encoded import OUTCOME_NAMES as OUTCOMES


class _Row(Protocol):
    """What selection reads of a result (:class:`configlab.results.Result` has it all)."""

    @property
    def config(self) -> Any: ...
    @property
    def outcome(self) -> str: ...
    @property
    def test_id(self) -> str: ...
    @property
    def run_id(self) -> str | None: ...
    @property
    def timestamp(self) -> str | None: ...


_R = TypeVar("_R", bound=_Row)


@dataclass(frozen=True)
class Selection:
    """Which results to keep; ``None`` (or empty) criteria keep everything.

    Attributes:
        test_ids: test ids or shell-style patterns (``tests/test_db.py::*``); a result is kept
            when one matches.
        run_ids: run ids to keep.
        outcomes: outcomes to keep (``pass``, ``fail``, ``error``, ``skip``).
        since: keep results at or after this time (ISO 8601 or epoch seconds); results without
            a timestamp are dropped when a time range is given.
        until: keep results at or before this time.
        where: a condition on the config in the constraint language; ``stdout`` and
            ``stderr`` name the result's kept output (``"OOM" in stderr``) unless the config
            has parameters of those names.
    """

    test_ids: tuple[str, ...] = ()
    run_ids: tuple[str, ...] = ()
    outcomes: tuple[str, ...] = ()
    since: Any = None
    until: Any = None
    where: str | None = None

    @property
    def empty(self) -> bool:
        """True when nothing is filtered."""
        return not (self.test_ids or self.run_ids or self.outcomes or self.where
                    or self.since is not None or self.until is not None)


def _moment(value: Any, what: str) -> datetime | None:
    text = normalize_timestamp(value, what)
    return None if text is None else datetime.fromisoformat(text)


def criteria(selection: Selection) -> tuple[datetime | None, datetime | None, Any]:
    """The checked ``since`` and ``until`` times and the parsed ``where`` condition (or None).

    Raises:
        ResultsError: an unknown outcome, a malformed time or ``where`` condition.
    """
    bad = sorted(set(selection.outcomes) - set(OUTCOMES))
    if bad:
        raise ResultsError(
            f"--outcome: unknown outcome(s) {', '.join(bad)} (expected {', '.join(OUTCOMES)})"
        )
    since = _moment(selection.since, "--since")
    until = _moment(selection.until, "--until")
    condition = None
    if selection.where:
        # deferred: the constraint parser stays off the path of `configlab run` (start-up)
        from configlab.constraints import parse

        try:
            condition = parse(selection.where)
        except ConstraintError as error:
            raise ResultsError(f"--where: {error}") from None
    return since, until, condition


def select(results: Iterable[_R], selection: Selection) -> list[_R]:
    """The results ``selection`` keeps, in order.

    Raises:
        ResultsError: an unknown outcome, a malformed time or ``where`` condition.
    """
    since, until, condition = criteria(selection)
    kept: list[_R] = []
    for result in results:
        if selection.test_ids and not _test_matches(result.test_id, selection.test_ids):
            continue
        if selection.run_ids and result.run_id not in selection.run_ids:
            continue
        if selection.outcomes and result.outcome not in selection.outcomes:
            continue
        if since is not None or until is not None:
            if result.timestamp is None:
                continue
            moment = datetime.fromisoformat(result.timestamp)
            if (since is not None and moment < since) or (until is not None and moment > until):
                continue
        if condition is not None and not condition.evaluate(_environment(result)):
            continue
        kept.append(result)
    return kept


def _environment(result: _Row) -> dict[str, Any]:
    """What ``where`` sees: the config's leaves, plus ``stdout`` / ``stderr`` (the kept output
    tails, ``"OOM" in stderr``) unless the config has parameters of those names."""
    env = _tree.flatten(result.config)
    for name in ("stdout", "stderr"):
        if name not in env:
            env[name] = getattr(result, name)
    return env


def _test_matches(test_id: str, patterns: Sequence[str]) -> bool:
    return any(test_id == p or fnmatch.fnmatchcase(test_id, p) for p in patterns)


__all__ = ["Selection", "criteria", "select"]
