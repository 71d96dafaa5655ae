"""Generate configurations from a space: boundary, covering, random, mutate and exhaustive.

``generate(space, strategy=..., seed=..., count=..., strength=..., base=..., **options)``
checks the space first (an unsatisfiable space raises :class:`UnsatisfiableSpaceError`
naming a minimal set of conflicting constraints; value classes no valid config can take are
reported with :class:`DeadValueWarning`) and returns an iterator of nested-dict configs.

Every stream is duplicate-free and a pure function of its inputs and ``seed``: the same call
yields the same configs in the same order in any process.  Streams never enumerate the space:
the constraints split the parameters into independent *blocks* (connected components of the
constraint graph); small blocks have their valid value-class combinations enumerated once,
large ones are sampled by a randomised depth-first search with a SAT fallback.
"""

from __future__ import annotations

import itertools
import json
import math
import operator
import random
import string
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from configlab import tree as _tree
from configlab._internal.finite import ModelSolver
from configlab._internal.spacemodel import SpaceModel, space_model
from configlab.constraints import ABSENT, values_equal
from configlab.errors import GenerationError
from configlab.generation._suite import build_suite
from configlab.space import (
    FloatParam,
    IntParam,
    ListParam,
    Parameter,
    Space,
    SpaceSource,
    StringParam,
    load_space,
)

Config = dict[str, Any]

#: The strategies :func:`generate` knows.
STRATEGIES: Final = ("boundary", "covering", "random", "mutate", "exhaustive")
#: Default refusal threshold of the ``exhaustive`` strategy (valid value-class combinations).
DEFAULT_MAX_SIZE: Final = 100_000
#: A constraint block with at most this many valid combinations is enumerated once.
ENUM_LIMIT: Final = 4_096
#: Search-node budget when enumerating a block (beyond it the block is sampled instead).
ENUM_NODE_LIMIT: Final = 100_000
#: Search-node budget of one randomised depth-first sample before the SAT fallback.
SAMPLE_NODE_LIMIT: Final = 2_000
#: Forward-sampling attempts of a large block before its randomised depth-first search.
FORWARD_TRIES: Final = 8
#: Raw-value resampling rounds before falling back to class representatives.
RAW_RETRIES: Final = 8
#: A stream whose size is unknown ends after this many duplicates in a row.
MAX_CONSECUTIVE_DUPLICATES: Final = 2_000

_OPTIONS: Final[dict[str, frozenset[str]]] = {
    "boundary": frozenset(),
    "covering": frozenset({"time_budget", "max_steps", "candidates", "effort", "seeds",
                           "existing", "groups", "weights", "negative"}),
    "random": frozenset({"raw"}),
    "mutate": frozenset({"max_order"}),
    "exhaustive": frozenset({"max_size"}),
}


class DeadValueWarning(UserWarning):
    """A value class that no valid configuration can take (the constraints exclude it)."""


@dataclass(frozen=True)
class DeadValue:
    """A value class of ``path`` that no valid configuration can take."""

    path: str
    label: str

    def __str__(self) -> str:
        return f"{self.path} = {self.label}"


# --------------------------------------------------------------------------- blocks


@dataclass
class _Block:
    """Parameters linked by constraints, sampled together.

    ``checks[d]`` lists ``(scope positions, forbidden combinations)`` of the constraints whose
    last parameter is ``params[d]``.  ``combos`` holds every valid combination (None when the
    block is too large to enumerate); ``edge_combos`` those made of edge classes only (all
    combos when there is none).
    """

    params: tuple[int, ...]
    alive: tuple[tuple[int, ...], ...]
    checks: tuple[tuple[tuple[tuple[int, ...], frozenset[tuple[int, ...]]], ...], ...]
    combos: list[tuple[int, ...]] | None = None
    edge_combos: list[tuple[int, ...]] | None = None


def _dfs(
    block: _Block, options: Callable[[int], Sequence[int]], node_limit: int
) -> Iterator[tuple[int, ...] | None]:
    """Valid combinations of ``block`` in search order; yields None once when out of budget."""
    n = len(block.params)
    row = [0] * n
    opts: list[Sequence[int]] = [()] * n
    pos = [0] * n
    opts[0] = options(0)
    depth, nodes = 0, 0
    checks = block.checks
    while depth >= 0:
        if pos[depth] >= len(opts[depth]):
            depth -= 1
            if depth >= 0:
                pos[depth] += 1
            continue
        row[depth] = opts[depth][pos[depth]]
        nodes += 1
        if nodes > node_limit:
            yield None
            return
        if any(tuple(row[q] for q in scope) in bad for scope, bad in checks[depth]):
            pos[depth] += 1
            continue
        if depth == n - 1:
            yield tuple(row)
            pos[depth] += 1
            continue
        depth += 1
        opts[depth] = options(depth)
        pos[depth] = 0


class _Forward:
    """Draws a large block's parameters in order, each among the codes allowed by the values
    already drawn (forward checking, no backtracking).

    Every constraint of a block is checked at its last parameter, so the codes allowed at depth
    ``d`` depend only on the earlier parameters its constraints read (its *parents*).  The
    allowed codes are computed once per combination of parent values and cached: a container
    and its element parameters (``active_if: len(container) > 0`` on each) then cost one dict
    look-up and one random draw per parameter instead of a shuffle and a search.  A draw that
    reaches a parameter with no allowed code (a dead end the checks cannot see ahead) is
    restarted; :meth:`draw` gives up (None) after ``FORWARD_TRIES`` dead ends.
    """

    def __init__(self, block: _Block, edges: Sequence[Sequence[bool]]) -> None:
        self.block, self.edges = block, edges
        self.parents = [
            tuple(sorted({q for scope, _ in checks for q in scope if q != d}))
            for d, checks in enumerate(block.checks)
        ]
        # The key of depth d: its parents' codes (itemgetter of one position gives a scalar).
        self.keys: list[Callable[[list[int]], Any] | None] = [
            operator.itemgetter(*parents) if parents else None for parents in self.parents
        ]
        self.cache: list[dict[Any, tuple[list[int], list[int]]]] = [{} for _ in block.params]

    def _allowed(self, depth: int, row: list[int]) -> tuple[list[int], list[int]]:
        """(codes allowed at ``depth`` given ``row``'s parents, the edge ones among them)."""
        checks = self.block.checks[depth]
        allowed = []
        for code in self.block.alive[depth]:
            row[depth] = code
            if not any(tuple(row[q] for q in scope) in bad for scope, bad in checks):
                allowed.append(code)
        flags = self.edges[self.block.params[depth]]
        return allowed, [c for c in allowed if flags[c]] or allowed

    def draw(self, rng: random.Random, edge: bool) -> tuple[int, ...] | None:
        """A valid combination (edge codes first when ``edge``), or None after dead ends."""
        n = len(self.block.params)
        row = [0] * n
        rand, keys, cache = rng.random, self.keys, self.cache
        pick = 1 if edge else 0
        for _ in range(FORWARD_TRIES):
            for depth in range(n):
                key_of = keys[depth]
                key = key_of(row) if key_of is not None else None
                entry = cache[depth].get(key)
                if entry is None:
                    entry = cache[depth][key] = self._allowed(depth, row)
                codes = entry[pick]
                if not codes:
                    break  # dead end: restart
                row[depth] = codes[int(rand() * len(codes))]
            else:
                return tuple(row)
        return None


class _Engine:
    """Samples valid value-class rows block by block."""

    def __init__(
        self,
        sm: SpaceModel,
        solver: ModelSolver,
        *,
        enum_limit: int = ENUM_LIMIT,
        node_limit: int = ENUM_NODE_LIMIT,
    ) -> None:
        self.sm, self.solver = sm, solver
        sizes = sm.model.domain_sizes
        self.k = len(sizes)
        self.alive: list[tuple[int, ...]] = [tuple(range(s)) for s in sizes]
        groups: dict[int, list[int]] = {}
        for p in range(self.k):
            key = solver.components[p] if solver.is_constrained(p) else -1 - p
            groups.setdefault(key, []).append(p)
        self.blocks: list[_Block] = []
        self._plans: dict[bool, list[tuple[int, list[tuple[int, ...]] | None, _Block]]] = {}
        self._forward: dict[tuple[int, ...], _Forward] = {}
        self.enumerable = True
        for params in sorted(groups.values()):
            block = self._block(tuple(params))
            self._enumerate(block, enum_limit, node_limit)
            if block.combos is None:
                self.enumerable = False
                alive = [
                    tuple(c for c in codes if solver.is_valid_partial({p: c}))
                    for p, codes in zip(block.params, block.alive, strict=True)
                ]
            else:
                alive = [tuple(sorted(set(column))) for column in zip(*block.combos, strict=True)]
            block.alive = tuple(alive)
            for p, codes in zip(block.params, alive, strict=True):
                self.alive[p] = codes
            self.blocks.append(block)
        #: ``(param, code)`` pairs no valid row takes, sorted
        self.dead = [
            (p, c) for p, s in enumerate(sizes) for c in range(s) if c not in self.alive[p]
        ]

    def _block(self, params: tuple[int, ...]) -> _Block:
        position = {p: d for d, p in enumerate(params)}
        checks: list[list[tuple[tuple[int, ...], frozenset[tuple[int, ...]]]]] = [
            [] for _ in params
        ]
        model = self.sm.model
        for j, constraint in enumerate(model.constraints):
            bad = self.solver.forbidden[j]
            if bad and constraint.scope and constraint.scope[0] in position:
                scope = tuple(position[p] for p in constraint.scope)
                checks[max(scope)].append((scope, bad))
        return _Block(
            params,
            tuple(self.alive[p] for p in params),
            tuple(tuple(c) for c in checks),
        )

    def _enumerate(self, block: _Block, limit: int, node_limit: int) -> None:
        combos: list[tuple[int, ...]] = []
        for combo in _dfs(block, lambda d: block.alive[d], node_limit):
            if combo is None or len(combos) >= limit:
                return
            combos.append(combo)
        block.combos = combos
        edges = self.sm.edges
        edge_only = [
            c for c in combos if all(edges[p][v] for p, v in zip(block.params, c, strict=True))
        ]
        block.edge_combos = edge_only or combos

    def total(self, edge: bool) -> int | None:
        """Number of distinct rows the sampler can produce (None when unknown)."""
        if not self.enumerable:
            return None
        return math.prod(len((b.edge_combos if edge else b.combos) or ()) for b in self.blocks)

    def _options(self, block: _Block, rng: random.Random, edge: bool) -> Callable[[int], list[int]]:
        edges = self.sm.edges

        def options(depth: int) -> list[int]:
            codes = list(block.alive[depth])
            rng.shuffle(codes)
            if edge:
                flags = edges[block.params[depth]]
                codes.sort(key=lambda c: not flags[c])
            return codes

        return options

    def sample_block(self, block: _Block, rng: random.Random, edge: bool, row: list[int]) -> None:
        """Write a random valid combination of ``block`` into ``row``."""
        combos = block.edge_combos if edge else block.combos
        if combos is not None:
            combo = combos[int(rng.random() * len(combos))]
        else:
            forward = self._forward.get(block.params)
            if forward is None:
                forward = self._forward[block.params] = _Forward(block, self.sm.edges)
            found = forward.draw(rng, edge)
            if found is None:
                found = next(_dfs(block, self._options(block, rng, edge), SAMPLE_NODE_LIMIT))
            if found is None:
                full = self.solver.complete({}, rng)
                assert full is not None  # satisfiable: checked before sampling
                found = tuple(full[p] for p in block.params)
            combo = found
        for p, v in zip(block.params, combo, strict=True):
            row[p] = v

    def _plan(self, edge: bool) -> list[tuple[int, list[tuple[int, ...]] | None, _Block]]:
        """Per block: (its parameter if single, else -1; its combos or None; the block)."""
        cached = self._plans.get(edge)
        if cached is None:
            cached = []
            for block in self.blocks:
                combos = block.edge_combos if edge else block.combos
                single = block.params[0] if len(block.params) == 1 and combos is not None else -1
                cached.append((single, combos, block))
            self._plans[edge] = cached
        return cached

    def sample(self, rng: random.Random, edge: bool = False) -> list[int]:
        """A random valid row (uniform over the valid combinations of enumerated blocks)."""
        row = [0] * self.k
        draw = rng.random
        for single, combos, block in self._plan(edge):
            if combos is None:
                self.sample_block(block, rng, edge, row)
            elif single >= 0:
                row[single] = combos[int(draw() * len(combos))][0]
            else:
                for p, v in zip(block.params, combos[int(draw() * len(combos))], strict=True):
                    row[p] = v
        return row

    # -- boundary packing
    def pack(self, block: _Block, targets: set[tuple[int, int]], rng: random.Random,
             row: list[int]) -> None:
        """Write a valid combination of ``block`` holding as many ``targets`` as possible."""
        params = block.params
        mine = [(p, c) for p in params for c in self.alive[p] if (p, c) in targets]
        if not mine:
            self.sample_block(block, rng, True, row)
            return
        if block.combos is not None:
            best: list[tuple[int, ...]] = []
            best_score = -1
            for combo in block.combos:
                score = sum((p, v) in targets for p, v in zip(params, combo, strict=True))
                if score > best_score:
                    best, best_score = [combo], score
                elif score == best_score:
                    best.append(combo)
            chosen = best[int(rng.random() * len(best))]
        else:
            chosen = self._pack_greedy(block, targets, rng)
        for p, v in zip(params, chosen, strict=True):
            row[p] = v

    def _pack_greedy(self, block: _Block, targets: set[tuple[int, int]],
                     rng: random.Random) -> tuple[int, ...]:
        edges = self.sm.edges
        wanted = [p for p in block.params if any((p, c) in targets for c in self.alive[p])]
        rest = [p for p in block.params if p not in wanted]
        partial: dict[int, int] = {}
        for p in wanted + rest:
            codes = list(self.alive[p])
            rng.shuffle(codes)
            flags = edges[p]
            codes.sort(key=lambda c: ((p, c) not in targets, not flags[c]))
            for c in codes:
                partial[p] = c
                if self.solver.is_valid_partial(partial):
                    break
            else:  # pragma: no cover - the partial assignment was proven extendable
                raise GenerationError("internal error: no valid value while packing edges")
        return tuple(partial[p] for p in block.params)


# --------------------------------------------------------------------------- raw values

#: Random strings are slices of this fixed pseudo-random letter pool (fast and deterministic).
_POOL_SIZE: Final = 8192
_POOL: Final = "".join(random.Random(0).choices(string.ascii_lowercase, k=_POOL_SIZE))


def _raw_drawer(param: Parameter) -> Callable[[random.Random], Any] | None:
    """A uniform raw-value drawer for ``param``'s domain (None: keep the class representative)."""
    if isinstance(param, IntParam):
        lo, step = param.min, param.step
        slots = (param.max - lo) // step + 1
        return lambda rng: lo + int(rng.random() * slots) * step
    if isinstance(param, FloatParam):
        flo, fhi = float(param.min), float(param.max)
        return lambda rng: min(fhi, max(flo, flo + (fhi - flo) * rng.random()))
    if isinstance(param, StringParam):
        if param.pattern is not None:
            return None
        lo_len, span = param.min_length, param.max_length - param.min_length + 1
        if param.max_length >= _POOL_SIZE // 2:
            return lambda rng: "".join(
                rng.choices(string.ascii_lowercase, k=lo_len + int(rng.random() * span))
            )

        def draw_string(rng: random.Random) -> str:
            length = lo_len + int(rng.random() * span)
            start = int(rng.random() * (_POOL_SIZE - length))
            return _POOL[start : start + length]

        return draw_string
    if isinstance(param, ListParam):
        item = _raw_drawer(param.item)
        if item is None:
            choices = [c.value for c in param.item.value_classes if c.value is not ABSENT]
            item = _choice_drawer(choices)
        lo_items, n_span = param.min_items, param.max_items - param.min_items + 1
        drawn = item
        return lambda rng: [drawn(rng) for _ in range(lo_items + int(rng.random() * n_span))]
    return None


def _choice_drawer(choices: Sequence[Any]) -> Callable[[random.Random], Any]:
    return lambda rng: choices[int(rng.random() * len(choices))]


def _freeze(value: Any) -> Any:
    """Hashable stand-in for a raw value (list items tagged so that ``1`` and ``True`` differ)."""
    return tuple((type(v), v) for v in value) if isinstance(value, list) else value


class _RawFiller:
    """Replaces class representatives by uniform raw values, keeping every constraint true."""

    def __init__(self, sm: SpaceModel) -> None:
        self.sm = sm
        space = sm.space
        index = {p.path: i for i, p in enumerate(space.parameters)}
        self.drawers = [_raw_drawer(p) for p in space.parameters]
        self.paths = [p.path for p in space.parameters]
        # per parameter: indices of the constraints reading it
        self.touching: list[list[int]] = [[] for _ in space.parameters]
        self.scopes: list[tuple[int, ...]] = []
        # A derived ``active_if(path)`` constraint only depends on raw values through its
        # condition: raw values never change whether ``path`` is present.
        reads = [c.params for c in space.constraints]
        reads += [p.active_if.params for p in space.parameters if p.active_if is not None]
        for j, params in enumerate(reads):
            scope = tuple(sorted({index[p] for p in params if p in index}))
            self.scopes.append(scope)
            for p in scope:
                self.touching[p].append(j)
        #: parameters that get raw values, and the constraints reading one of them
        self.rawable = [p for p, drawer in enumerate(self.drawers) if drawer is not None]
        self.relevant = sorted({j for p in self.rawable for j in self.touching[p]})

    def key(self, codes: Sequence[int], values: Sequence[Any]) -> tuple[Any, ...]:
        """Identity of the config: class codes where the value is the representative."""
        key: list[Any] = list(codes)
        for p in self.rawable:
            key[p] = _freeze(values[p])
        return tuple(key)

    def fill(self, codes: Sequence[int], rng: random.Random) -> list[Any]:
        """Raw values for the class row ``codes`` (valid: falls back to representatives)."""
        sm = self.sm
        values = [table[c] for table, c in zip(sm.values, codes, strict=True)]
        raw: list[int] = []
        drawers = self.drawers
        for p in self.rawable:
            value = values[p]
            if value is not ABSENT and value is not None:
                values[p] = drawers[p](rng)  # type: ignore[misc]
                raw.append(p)
        if not raw or not self.relevant:
            return values
        env = dict(zip(self.paths, values, strict=True))
        constraints = sm.constraints
        failing = [j for j in self.relevant if not constraints[j].evaluate(env)]
        is_raw = set(raw)
        for _ in range(RAW_RETRIES):
            if not failing:
                return values
            redraw = sorted({p for j in failing for p in self.scopes[j] if p in is_raw})
            for p in redraw:
                drawer = self.drawers[p]
                assert drawer is not None
                values[p] = env[self.paths[p]] = drawer(rng)
            recheck = sorted({*failing, *(j for p in redraw for j in self.touching[p])})
            failing = [j for j in recheck if not constraints[j].evaluate(env)]
        if failing:
            # Representatives satisfy every constraint (the class row is valid), so restoring
            # them on every raw parameter a constraint reads always yields a valid config.
            for p in raw:
                if self.touching[p]:
                    values[p] = sm.values[p][codes[p]]
        return values


# --------------------------------------------------------------------------- set-up


@dataclass
class _Plan:
    space: Space
    sm: SpaceModel
    solver: ModelSolver
    engine: _Engine
    dead: list[DeadValue]


def _prepare(space: Space, enum_limit: int = ENUM_LIMIT) -> _Plan:
    sm = space_model(space)
    solver = ModelSolver(sm.model)
    solver.check_satisfiable()
    limit = max(enum_limit, ENUM_LIMIT)
    engine = _Engine(sm, solver, enum_limit=limit, node_limit=max(ENUM_NODE_LIMIT, 20 * limit))
    dead = [
        DeadValue(space.parameters[p].path, space.parameters[p].value_classes[c].label)
        for p, c in engine.dead
    ]
    return _Plan(space, sm, solver, engine, dead)


def dead_values(space: SpaceSource) -> list[DeadValue]:
    """Value classes that no valid configuration can take, in parameter order.

    Raises:
        UnsatisfiableSpaceError: no configuration satisfies the constraints.
    """
    return _prepare(load_space(space)).dead


def _check_int(name: str, value: Any, low: int, high: int | None = None) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise GenerationError(f"{name} must be an integer, got {value!r}")
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f">= {low}"
        raise GenerationError(f"{name} must be {bound}, got {value}")
    return value


def generate(
    space: SpaceSource,
    strategy: str = "covering",
    seed: int = 0,
    count: int | None = None,
    strength: int = 2,
    base: Mapping[str, Any] | None = None,
    **options: Any,
) -> Iterator[Config]:
    """Iterate over configurations of ``space`` produced by ``strategy``.

    Args:
        space: a :class:`Space`, or anything :func:`configlab.space._model.load_space` accepts.
        strategy: ``boundary``, ``covering``, ``random``, ``mutate`` or ``exhaustive``.
        seed: seed of every random choice (same seed and inputs: same stream, any process).
        count: stop after this many configs (``covering``/``exhaustive``/``mutate`` also stop
            when exhausted; ``boundary``/``random`` are endless without it, unless every valid
            combination has been produced).
        strength: t of the covering strategy (1..4).
        base: a config the generated ones are written over: keys the space does not describe
            are carried through unchanged; required by ``mutate``.
        options: ``raw=True`` (random: uniform raw values instead of class representatives),
            ``max_size`` (exhaustive: refusal threshold, default 100,000),
            ``time_budget`` / ``max_steps`` / ``candidates`` / ``effort`` (covering engine),
            ``seeds`` / ``existing`` / ``groups`` / ``weights`` / ``negative`` (covering:
            see :func:`configlab.generation.covering_suite`),
            ``max_order`` (mutate: most parameters changed at once).

    Returns:
        An iterator of nested-dict configs (inactive parameters absent), without duplicates.

    Raises:
        GenerationError: unknown strategy or option, bad strength/count/seed/base, exhaustive
            space above ``max_size``, ``mutate`` without ``base``.
        UnsatisfiableSpaceError: no configuration satisfies the constraints (names a minimal
            conflicting set).

    Warns:
        DeadValueWarning: once per value class that no valid configuration can take.
    """
    if strategy not in STRATEGIES:
        raise GenerationError(
            f"unknown strategy {strategy!r} (expected one of {', '.join(STRATEGIES)})"
        )
    unknown = sorted(set(options) - _OPTIONS[strategy])
    if unknown:
        allowed = ", ".join(sorted(_OPTIONS[strategy])) or "none"
        raise GenerationError(
            f"unknown option(s) {', '.join(unknown)} for strategy {strategy!r} (allowed: {allowed})"
        )
    _check_int("seed", seed, -(2**63))
    _check_int("strength", strength, 1, 4)
    if count is not None:
        _check_int("count", count, 0)
    if base is not None and not isinstance(base, Mapping):
        raise GenerationError(f"base must be a mapping (a config), got {type(base).__name__}")
    if strategy == "mutate" and base is None:
        raise GenerationError("the mutate strategy needs a base config (base=...)")
    settings = _settings(strategy, options)
    resolved = load_space(space)
    plan = _prepare(resolved, int(settings.get("max_size", 0)) + 1)
    for dead in plan.dead:
        warnings.warn(
            f"dead value class {dead}: no valid configuration can take it",
            DeadValueWarning,
            stacklevel=2,
        )
    stream = _stream(plan, strategy, seed, strength, base, settings)
    return stream if count is None else itertools.islice(stream, count)


def _settings(strategy: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """Check the strategy-specific options; return them with defaults filled in."""
    settings = dict(options)
    if strategy == "random":
        raw = settings.setdefault("raw", False)
        if not isinstance(raw, bool):
            raise GenerationError(f"raw must be true or false, got {raw!r}")
    elif strategy == "exhaustive":
        settings["max_size"] = _check_int(
            "max_size", settings.get("max_size", DEFAULT_MAX_SIZE), 0
        )
    elif strategy == "mutate":
        if settings.get("max_order") is not None:
            _check_int("max_order", settings["max_order"], 1)
    elif strategy == "covering":
        budget = settings.get("time_budget")
        if budget is not None and (
            not isinstance(budget, int | float) or isinstance(budget, bool) or budget <= 0
        ):
            raise GenerationError(f"time_budget must be a positive number, got {budget!r}")
        if "max_steps" in settings:
            _check_int("max_steps", settings["max_steps"], 0)
        if "candidates" in settings:
            _check_int("candidates", settings["candidates"], 1)
        effort = settings.get("effort", 1.0)
        if not isinstance(effort, int | float) or isinstance(effort, bool) or not effort > 0:
            raise GenerationError(f"effort must be a positive number, got {effort!r}")
    return settings


def _stream(plan: _Plan, strategy: str, seed: int, strength: int,
            base: Mapping[str, Any] | None, settings: Mapping[str, Any]) -> Iterator[Config]:
    rng = random.Random(seed)
    if strategy == "covering":
        return _covering(plan, seed, strength, base, settings)
    if strategy == "mutate":
        assert base is not None
        return _mutate(plan, base, settings.get("max_order"))
    if strategy == "exhaustive":
        return _exhaustive(plan, base, settings["max_size"])
    if strategy == "random":
        return _random_raw(plan, rng, base) if settings["raw"] else _random(plan, rng, base)
    return _boundary(plan, rng, base)


# --------------------------------------------------------------------------- strategies


def _unique_rows(
    engine: _Engine, rng: random.Random, edge: bool, seen: set[tuple[int, ...]]
) -> Iterator[tuple[int, ...]]:
    """Random valid rows never in ``seen`` (adds them), until every row has been produced."""
    total = engine.total(edge)
    misses = 0
    while total is None or len(seen) < total:
        row = tuple(engine.sample(rng, edge))
        if row in seen:
            misses += 1
            if misses >= MAX_CONSECUTIVE_DUPLICATES:
                if total is not None:  # nearly exhausted: finish systematically
                    yield from _remaining(engine, edge, seen)
                return  # unknown size and nothing new for a long time: treat as exhausted
            continue
        misses = 0
        seen.add(row)
        yield row


def _remaining(
    engine: _Engine, edge: bool, seen: set[tuple[int, ...]]
) -> Iterator[tuple[int, ...]]:
    """Rows not yet seen, in enumeration order (finishes a nearly exhausted random stream)."""
    for row in _all_rows(engine, edge):
        if row not in seen:
            seen.add(row)
            yield row


def _all_rows(engine: _Engine, edge: bool) -> Iterator[tuple[int, ...]]:
    blocks = engine.blocks
    lists = [b.edge_combos if edge else b.combos for b in blocks]
    for picks in itertools.product(*lists):  # type: ignore[arg-type]
        row = [0] * engine.k
        for block, combo in zip(blocks, picks, strict=True):
            for p, v in zip(block.params, combo, strict=True):
                row[p] = v
        yield tuple(row)


def _random(plan: _Plan, rng: random.Random, base: Mapping[str, Any] | None) -> Iterator[Config]:
    engine = plan.engine
    decode = plan.sm.decode
    for row in _unique_rows(engine, rng, False, set()):
        yield decode(row, base)


def _random_raw(plan: _Plan, rng: random.Random,
                base: Mapping[str, Any] | None) -> Iterator[Config]:
    engine = plan.engine
    filler = _RawFiller(plan.sm)
    build = plan.sm.build
    seen: set[tuple[Any, ...]] = set()
    misses = 0
    while misses < MAX_CONSECUTIVE_DUPLICATES:
        row = engine.sample(rng)
        values = filler.fill(row, rng)
        key = filler.key(row, values)
        if key in seen:
            misses += 1
            continue
        misses = 0
        seen.add(key)
        yield build(values, base)


def _boundary(plan: _Plan, rng: random.Random, base: Mapping[str, Any] | None) -> Iterator[Config]:
    engine = plan.engine
    sm = plan.sm
    targets = {
        (p, c) for p in range(engine.k) for c in engine.alive[p] if sm.edges[p][c]
    }
    seen: set[tuple[int, ...]] = set()
    while targets:
        row = [0] * engine.k
        for block in engine.blocks:
            engine.pack(block, targets, rng, row)
        key = tuple(row)
        seen.add(key)
        targets.difference_update(enumerate(key))
        yield sm.decode(key, base)
    for edge in (True, False):
        for key in _unique_rows(engine, rng, edge, seen):
            yield sm.decode(key, base)


def _covering(plan: _Plan, seed: int, strength: int, base: Mapping[str, Any] | None,
              settings: Mapping[str, Any]) -> Iterator[Config]:
    report, rows = build_suite(plan.sm, plan.solver, strength, seed, base=base, **settings)
    return _unique(rows, report.configs)


def _unique(rows: Sequence[tuple[int, ...]], configs: Sequence[Config]) -> Iterator[Config]:
    """The configs of the suite whose rows were not met before (seeds kept as they are)."""
    seen: set[tuple[int, ...]] = set()
    for row, config in zip(rows, configs, strict=True):
        if row not in seen:
            seen.add(row)
            yield config


def _exhaustive(plan: _Plan, base: Mapping[str, Any] | None, max_size: int) -> Iterator[Config]:
    space, engine = plan.space, plan.engine
    total = engine.total(False)
    if total is None or total > max_size:
        raise GenerationError(
            f"exhaustive generation refused: {space.name or 'the space'} has more than "
            f"{max_size} valid value-class combinations ({space.size()} before constraints); "
            "raise max_size or use the covering strategy"
        )
    return (plan.sm.decode(row, base) for row in _all_rows(engine, False))


# --------------------------------------------------------------------------- mutate


def _canonical(config: Mapping[str, Any]) -> str:
    return json.dumps(config, sort_keys=True, separators=(",", ":"), default=repr)


def _mutate(plan: _Plan, base: Mapping[str, Any], max_order: int | None) -> Iterator[Config]:
    space, sm = plan.space, plan.sm
    params = space.parameters
    base_env = space.extract(base)
    base_problems = {(v.path, v.rule) for v in space.validate(base)}
    dead = set(plan.engine.dead)
    moves: list[list[Any]] = []
    for p, param in enumerate(params):
        current = base_env[param.path]
        options: list[Any] = []
        for c, value in enumerate(sm.values[p]):
            if not sm.edges[p][c] or (p, c) in dead:
                continue
            same = (value is ABSENT) == (current is ABSENT) and values_equal(value, current)
            if not same:
                options.append(value)
        moves.append(options)
    seen = {_canonical(base)}
    movable = [p for p in range(len(params)) if moves[p]]
    top = len(movable) if max_order is None else min(max_order, len(movable))
    for order in range(1, top + 1):
        for chosen in itertools.combinations(movable, order):
            for picked in itertools.product(*(moves[p] for p in chosen)):
                assignment = {params[p].path: v for p, v in zip(chosen, picked, strict=True)}
                _repair(space, base_env, assignment)
                config = space.build(assignment, base)
                problems = {(v.path, v.rule) for v in space.validate(config)}
                if not problems <= base_problems:
                    continue
                key = _canonical(config)
                if key in seen:
                    continue
                seen.add(key)
                yield config


def _repair(space: Space, base_env: Mapping[str, Any], assignment: dict[str, Any]) -> None:
    """Make conditional parameters present exactly when active (not touching changed ones)."""
    env = {**base_env, **assignment}
    fixed = set(assignment)
    for _ in range(len(space.parameters)):
        changed = False
        for param in space.parameters:
            if param.active_if is None or param.path in fixed:
                continue
            present = env[param.path] is not ABSENT
            active = param.active_if.evaluate(env)
            if present and not active:
                env[param.path] = assignment[param.path] = ABSENT
                changed = True
            elif active and not present and not param.optional:
                value = _presence_value(param)
                env[param.path] = assignment[param.path] = value
                changed = True
        if not changed:
            return


def _presence_value(param: Parameter) -> Any:
    """The value given to a required conditional parameter that becomes active."""
    if param.default is not None and param.check_value(param.default) is None:
        return _tree.deep_copy(param.default)
    present = [c for c in param.value_classes if c.value is not ABSENT and c.value is not None]
    nominal = [c for c in present if c.label == "nominal"]
    chosen = (nominal or present or list(param.value_classes))[0]
    return _tree.deep_copy(chosen.value)



__all__ = [
    "DEFAULT_MAX_SIZE",
    "STRATEGIES",
    "DeadValue",
    "DeadValueWarning",
    "dead_values",
    "generate",
]
