"""Covering suites built around seeds, an existing suite, mixed strength, weights and
negative values, with a report of what the given configs already cover.

:func:`covering_suite` is the space-level front of the covering engine
(:mod:`configlab.generation._covering`): it turns configs, path patterns and values into the
engine's codes and back, and explains the result (:class:`SuiteReport`).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypedDict, Unpack

from configlab import tree as _tree
from configlab._internal.finite import ModelSolver
from configlab._internal.spacemodel import SpaceModel, space_model
from configlab.constraints import ABSENT
from configlab.errors import GenerationError
from configlab.generation._covering import Group, build_covering
from configlab.generation._faults import CoveringOptions, build_with_negatives
from configlab.space import Parameter, Space, SpaceSource, load_space

Config = dict[str, Any]

_GROUP_RE = re.compile(r"^\s*\{?\s*(?P<patterns>[^{}@]+?)\s*\}?\s*@\s*(?P<t>\d+)\s*$")


@dataclass(frozen=True)
class SuiteReport:
    """A covering suite and how it was built.

    Attributes:
        configs: the suite: seed configs first (``seeded`` of them), then the generated
            configs, then one or more single-fault configs per negative value.
        strength: the base strength t.
        valid_tuples: valid tuples (t-way, plus the groups' higher-strength ones) to cover.
        seed_covered: how many of them the seeds and the existing suite already cover.
        seed_tuples: those tuples, each as ``{path: value-class label}``.
        seeded: number of leading configs that come from the seeds.
        existing: number of configs in the existing suite that was extended.
        existing_invalid: one ``"config N: reason"`` per existing config that no longer
            fits the space (they cover nothing and are not reused).
        faults: ``(index in configs, path, label)`` of each single-fault config.
    """

    configs: list[Config]
    strength: int
    valid_tuples: int
    seed_covered: int
    seed_tuples: list[dict[str, str]]
    seeded: int
    existing: int
    existing_invalid: tuple[str, ...]
    faults: tuple[tuple[int, str, str], ...]

    def summary(self) -> list[str]:
        """Human-readable lines describing the suite (used by the CLI)."""
        new = len(self.configs) - self.seeded - len(self.faults)
        lines = [
            f"{len(self.configs)} configs: {self.seeded} from seeds, {new} generated, "
            f"{len(self.faults)} single-fault",
            f"{self.seed_covered} of {self.valid_tuples} valid tuples were already covered "
            "by the seeds and the existing suite",
        ]
        if self.existing:
            lines.append(
                f"existing suite: {self.existing} configs, {len(self.existing_invalid)} no "
                "longer valid in this space"
            )
            lines.extend(f"  {reason}" for reason in self.existing_invalid)
        return lines


def _param_codes(param: Parameter, value: Any, what: str) -> int:
    """The code of ``value`` (a value or a value-class label) of ``param``."""
    for code, cls in enumerate(param.value_classes):
        if isinstance(value, str) and cls.label == value:
            return code
    code = param.classify(value)
    if code < 0:
        raise GenerationError(f"{what}: {value!r} is not a value of {param.path!r}")
    return code


def _select(space: Space, pattern: str, what: str) -> list[int]:
    paths = [p.path for p in space.parameters]
    found = [n for n, path in enumerate(paths) if fnmatch.fnmatchcase(path, pattern)]
    if not found:
        raise GenerationError(f"{what}: {pattern!r} matches no parameter of the space")
    return found


def parse_group(text: str) -> tuple[list[str], int]:
    """``"{db.*, cache.size}@3"`` (braces optional) -> ``(["db.*", "cache.size"], 3)``.

    Raises:
        GenerationError: the text is not of that form.
    """
    match = _GROUP_RE.match(text)
    if match is None:
        raise GenerationError(
            f"strength group {text!r}: expected '{{PATTERN, ...}}@T', e.g. '{{db.*}}@3'"
        )
    patterns = [p.strip() for p in match.group("patterns").split(",") if p.strip()]
    return patterns, int(match.group("t"))


def _groups(space: Space, groups: Any) -> list[Group]:
    if isinstance(groups, Mapping):
        items: Iterable[Any] = groups.items()
    elif isinstance(groups, str):
        items = [groups]
    else:
        items = groups
    out: list[Group] = []
    for item in items:
        if isinstance(item, str):
            patterns, t = parse_group(item)
        else:
            patterns, t = item
            patterns = [patterns] if isinstance(patterns, str) else list(patterns)
        params = sorted({n for pat in patterns for n in _select(space, pat, "strength group")})
        out.append((params, t))
    return out


def _per_value(space: Space, data: Mapping[str, Any], what: str) -> dict[int, dict[int, Any]]:
    """``{pattern: {value-or-label: x}}`` or ``{pattern: [value, ...]}`` -> codes."""
    if not isinstance(data, Mapping):
        raise GenerationError(f"{what}: expected a mapping of parameter paths, got {data!r}")
    out: dict[int, dict[int, Any]] = {}
    for pattern, values in data.items():
        if isinstance(values, Mapping):
            entries: Iterable[tuple[Any, Any]] = list(values.items())
        elif isinstance(values, (list, tuple)):
            entries = [(v, True) for v in values]
        else:
            shape = "{value: weight}" if what == "weights" else "{value: x} or a list of values"
            raise GenerationError(f"{what} of {str(pattern)!r}: expected {shape}, got {values!r}")
        for n in _select(space, str(pattern), what):
            param = space.parameters[n]
            for value, x in entries:
                out.setdefault(n, {})[_param_codes(param, value, what)] = x
    return out


def _weights(space: Space, data: Mapping[str, Any] | None) -> list[list[float]] | None:
    if not data:
        return None
    table = _per_value(space, data, "weights")
    for n, by_code in table.items():
        for weight in by_code.values():
            if isinstance(weight, bool) or not isinstance(weight, (int, float)):
                raise GenerationError(
                    f"weights of {space.parameters[n].path!r}: a weight must be a number, "
                    f"got {weight!r}"
                )
    return [
        [float(table.get(n, {}).get(c, 1.0)) for c in range(len(p.value_classes))]
        for n, p in enumerate(space.parameters)
    ]


def _seed_codes(
    sm: SpaceModel, solver: ModelSolver, seeds: Iterable[Mapping[str, Any]]
) -> tuple[list[tuple[int, ...]], list[dict[int, int]], list[dict[str, Any]]]:
    """Full valid seeds become required rows (and are returned, to be kept as they are);
    partial ones required combinations."""
    rows: list[tuple[int, ...]] = []
    combos: list[dict[int, int]] = []
    kept: list[dict[str, Any]] = []
    space = sm.space
    for n, seed in enumerate(seeds):
        if not isinstance(seed, Mapping):
            raise GenerationError(f"seed {n}: expected a config (mapping), got {seed!r}")
        codes = space.encode(seed)
        if min(codes, default=0) >= 0 and not solver.violates(codes) and space.is_valid(seed):
            rows.append(codes)
            kept.append(_tree.deep_copy(dict(seed)))
            continue
        env = space.extract(seed)
        combo: dict[int, int] = {}
        for p, param in enumerate(space.parameters):
            if env[param.path] is not ABSENT:
                combo[p] = _param_codes(param, env[param.path], f"seed {n}")
        if not combo:
            raise GenerationError(f"seed {n}: sets no parameter of the space")
        if not solver.is_valid_partial(combo):
            raise GenerationError(
                f"seed {n}: {', '.join(f'{space.parameters[p].path}' for p in combo)} "
                "take values no valid configuration has together"
            )
        combos.append(combo)
    return rows, combos, kept


def _existing_codes(
    sm: SpaceModel, solver: ModelSolver, existing: Iterable[Mapping[str, Any]]
) -> tuple[list[tuple[int, ...]], list[str], int]:
    """Configs of an existing suite that still fit the space, and why the others do not."""
    rows: list[tuple[int, ...]] = []
    invalid: list[str] = []
    total = 0
    for n, config in enumerate(existing):
        total += 1
        problems = [str(v) for v in sm.space.validate(config)] if isinstance(
            config, Mapping) else [f"not a config: {config!r}"]
        if not problems:
            codes = sm.space.encode(config)
            if solver.violates(codes):  # pragma: no cover - validate() checks constraints
                problems = ["violates a constraint"]
            else:
                rows.append(codes)
                continue
        invalid.append(f"config {n}: {problems[0]}")
    return rows, invalid, total


class SuiteOptions(TypedDict, total=False):
    """The keyword options of :func:`covering_suite` (meanings and defaults there), as
    :func:`build_suite` takes them."""

    seeds: Iterable[Mapping[str, Any]]
    existing: Iterable[Mapping[str, Any]]
    groups: Any
    weights: Mapping[str, Any] | None
    negative: Mapping[str, Sequence[Any]] | None
    time_budget: float | None
    max_steps: int | None
    candidates: int | None
    effort: float
    base: Mapping[str, Any] | None


def covering_suite(
    space: SpaceSource,
    strength: int = 2,
    seed: int = 0,
    *,
    seeds: Iterable[Mapping[str, Any]] = (),
    existing: Iterable[Mapping[str, Any]] = (),
    groups: Any = (),
    weights: Mapping[str, Any] | None = None,
    negative: Mapping[str, Sequence[Any]] | None = None,
    time_budget: float | None = None,
    max_steps: int | None = None,
    candidates: int | None = None,
    effort: float = 1.0,
    base: Mapping[str, Any] | None = None,
) -> SuiteReport:
    """A t-way covering suite of ``space`` built around seeds and an existing suite.

    Args:
        space: a :class:`Space` or anything :func:`load_space` accepts.
        strength: t (1..4).
        seed: seed of the deterministic choices (same inputs and seed: same suite).
        seeds: configs that must be in the suite (a complete valid config is kept as is;
            a partial one is a value combination that some config must hold: compatible
            ones share a config, the rest of it is chosen to cover the most).
        existing: configs already run (an earlier suite, e.g. before the space changed):
            only configs covering what they miss are generated; configs that no longer fit
            the space are counted in the report and ignored.
        groups: higher strength for groups of parameters: ``{"db.*": 3}``,
            ``["{db.*, cache.size}@3"]`` or ``[(["db.*"], 3)]`` (glob patterns on paths);
            defaults to the space's PICT sub-models.
        weights: ``{path-pattern: {value-or-label: weight}}``: among values that cover
            equally many new tuples, heavier ones are preferred (default weight 1);
            defaults to the space's PICT weights.
        negative: ``{path-pattern: [value-or-label, ...]}``: invalid inputs; they appear only
            in single-fault configs, one negative value per config, combined with the other
            parameters' valid values at strength t-1; defaults to the space's PICT ``~``
            values.
        time_budget: wall-clock limit in seconds of the covering construction and its
            optimisation (see :func:`~configlab.generation._covering.build_covering`).
        max_steps: step budget of the optimisation (default 20,000 x ``effort``).
        candidates: candidate rows per greedy step.
        effort: longer optimisation (smaller suites), deterministic; default 1.
        base: config written under every generated one.

    Returns:
        A :class:`SuiteReport`.

    Raises:
        GenerationError: bad strength, seeds, groups, weights, negative values or options.
        UnsatisfiableSpaceError: no configuration satisfies the constraints.
    """
    resolved = load_space(space)
    sm = space_model(resolved)
    solver = ModelSolver(sm.model)
    solver.check_satisfiable()
    return build_suite(
        sm, solver, strength, seed, seeds=seeds, existing=existing, groups=groups,
        weights=weights, negative=negative, time_budget=time_budget, max_steps=max_steps,
        candidates=candidates, effort=effort, base=base,
    )[0]


def build_suite(
    sm: SpaceModel,
    solver: ModelSolver,
    strength: int,
    seed: int,
    **options: Unpack[SuiteOptions],
) -> tuple[SuiteReport, list[tuple[int, ...]]]:
    """:func:`covering_suite` on a prepared space model and solver; also returns the rows."""
    resolved = sm.space
    hints: Mapping[str, Any] = getattr(resolved, "hints", None) or {}
    req_rows, combos, kept = _seed_codes(sm, solver, options.get("seeds", ()))
    old_rows, invalid, n_existing = _existing_codes(sm, solver, options.get("existing", ()))
    group_list = _groups(resolved, options.get("groups") or hints.get("groups", ()))
    weights = options.get("weights")
    weight_table = _weights(resolved, weights if weights is not None else hints.get("weights"))
    negative = options.get("negative")
    neg_data = negative if negative is not None else hints.get("negative")
    neg_codes = _per_value(resolved, neg_data or {}, "negative")
    neg = {p: sorted(codes) for p, codes in neg_codes.items()}
    covering: CoveringOptions = {
        "seed_rows": old_rows, "required_rows": req_rows, "required_tuples": combos,
        "groups": group_list, "weights": weight_table, "time_budget": options.get("time_budget"),
        "max_steps": options.get("max_steps"), "candidates": options.get("candidates"),
        "effort": options.get("effort", 1.0),
    }
    if neg:
        suite = build_with_negatives(sm.model, strength, seed, neg, **covering)
        result, faults = suite.positive, suite.faults
    else:
        result, faults = build_covering(sm.model, strength, seed, solver=solver, **covering), ()
    rows = result.rows + [f.row for f in faults]
    configs = [sm.decode(row, options.get("base")) for row in rows]
    if options.get("base") is None:
        # A complete seed is kept as it is: its row holds the value classes of the first
        # element of each list only (and none of the keys the space does not describe).
        configs[:len(kept)] = kept
    labels = sm.labels
    fault_info = tuple(
        (len(result.rows) + n, resolved.parameters[f.param].path, labels[f.param][f.code])
        for n, f in enumerate(faults)
    )
    seed_tuples = [
        {resolved.parameters[p].path: labels[p][c] for p, c in tup}
        for tup in result.seed_tuples()
    ]
    report = SuiteReport(
        configs, strength, result.valid_tuples, result.seed_covered, seed_tuples,
        result.fixed, n_existing, tuple(invalid), fault_info,
    )
    return report, rows
