"""Collection: the ``parametrize`` decorator, the cases a test is parametrized with, their ids."""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import pytest

from configlab.errors import GenerationError, SpaceError
from configlab.integrations.pytest._names import ENDLESS_STRATEGIES, FIXTURE, MAX_ID_VALUES

if TYPE_CHECKING:
    from configlab.space import Space

_F = TypeVar("_F", bound=Callable[..., Any])
_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_.+=-]+")


def _check_request(
    space: Any, strategy: Any, strength: Any, seed: Any, count: Any, base: Any
) -> None:
    """Validate the arguments of :func:`parametrize` / the marker (ConfiglabError if bad)."""
    if not isinstance(space, str | os.PathLike | Mapping) and not _is_space(space):
        raise SpaceError(
            f"space must be a path, a Space or a space dict, got {type(space).__name__}"
        )
    # deferred: pytest imports this module in every run; the generation engine loads pysat
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
    # deferred (as every configlab.space import in this package): pytest imports the plugin's
    # modules in every run, and configlab.space loads jsonschema and re2 (about a second)
    from configlab.space import Space

    return isinstance(value, Space)


def parametrize(
    space: str | os.PathLike[str] | Mapping[str, Any] | Space,
    *,
    strategy: str = "covering",
    strength: int = 2,
    seed: int = 0,
    count: int | None = None,
    base: str | os.PathLike[str] | Mapping[str, Any] | None = None,
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
        from configlab.constraints import ABSENT as absent  # deferred: see _is_space
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
    from configlab.constraints import ABSENT  # deferred: see _is_space

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
