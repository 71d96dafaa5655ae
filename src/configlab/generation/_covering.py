"""t-way covering-array construction (t = 1..4) on a :class:`FiniteModel` with constraints.

Terminology: a *t-tuple* assigns codes to ``t`` distinct parameters; it is *valid*
when some valid full assignment contains it.  A suite *covers* a tuple when one
of its rows contains it.  :func:`build_covering_suite` returns valid rows that
(together with already executed ``seed_rows``) cover every valid t-tuple.

Algorithm (see ``docs/covering.md``):

1. Every t-tuple gets an integer index: the column subsets in lexicographic
   order, each followed by its value combinations in mixed radix.  Coverage
   state is a flat numpy array over these indices.
2. Greedy one-row-at-a-time construction (AETG/PICT family): seed each row with
   the uncovered tuple touching the most-demanded value (checked valid with
   SAT; invalid tuples are dropped from the requirement), then fill the other
   parameters one by one with the value covering the most uncovered tuples
   among those that keep the row extendable (SAT on the constraint component).
3. Post-optimisation by row elimination and tabu local search (in the spirit of
   CASA / TCA / CAmpactor): drop the row with the fewest uniquely covered
   tuples, then repeatedly pick an uncovered tuple and write it into the row
   where that costs the least coverage (keeping rows valid with the fast
   constraint check), until coverage is complete again or the step budget runs
   out; the best complete suite is returned.

Everything is driven by one ``random.Random(seed)``, numpy stable sorts and a
step budget, so results are byte-identical across processes for the same seed
(an explicit ``time_budget`` is a safety cap: if it is what stops the search the
result may depend on machine speed).
"""

from __future__ import annotations

import itertools
import random
import time
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from configlab._internal.finite import FiniteModel, ModelSolver
from configlab._internal.validity import TupleValidity
from configlab.errors import GenerationError
from configlab.generation._compactor import Compactor
from configlab.generation._tuple_index import TupleIndex

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

MAX_STRENGTH = 4
#: Default optimisation step budgets (times ``effort``) for t <= 2 and for higher strengths.
DEFAULT_STEPS_T2 = 5_000
DEFAULT_STEPS = 250_000
#: Least patience (steps without a complete suite, times ``effort``) for t <= 2 and above:
#: the compiled steps at t >= 3 are cheap but a complete suite can take many of them.
MIN_PATIENCE_T2 = 2_000
MIN_PATIENCE = 100_000

Tuple_ = tuple[tuple[int, int], ...]


class CoveringBudgetWarning(UserWarning):
    """The time budget ran out before the first complete covering suite: the greedy
    construction went on (a suite missing valid tuples is not a covering suite), so the call
    took longer than the budget and the suite was not optimised."""


class _Validity:
    """The t-tuple validity kernel plus the vectorised views of it over the tuple index."""

    def __init__(self, solver: ModelSolver, index: TupleIndex) -> None:
        self.kernel = TupleValidity([int(s) for s in index.sizes], solver)
        self.index = index
        k = index.k
        comp = np.array(self.kernel.component, dtype=np.int64)
        constrained = np.array(self.kernel.constrained, dtype=bool)
        # unconstrained parameters get a unique negative component id
        self.comp = np.where(constrained, comp, -np.arange(1, k + 1, dtype=np.int64))
        self.constrained = constrained
        dead = np.zeros(index.num_values, dtype=bool)
        for p, v in solver.dead_values():
            dead[index.glob_offset[p] + v] = True
        self.dead = dead

    def initial_required(self) -> BoolArray:
        """Tuples not excluded by a dead value (chunked to bound memory)."""
        idx = self.index
        req = np.ones(idx.total, dtype=bool)
        if not self.dead.any():
            return req
        chunk = 1 << 20
        for start in range(0, idx.total, chunk):
            sl = np.arange(start, min(idx.total, start + chunk), dtype=np.int64)
            params, vals = idx.decode(sl)
            g = idx.glob_offset[params] + vals
            req[sl] = ~self.dead[g].any(axis=1)
        return req

    def needs_sat(self, params: IntArray) -> BoolArray:
        """Rows of ``params`` (n, t) with two parameters in one constraint component."""
        c = self.comp[params]
        out = np.zeros(len(params), dtype=bool)
        for a, b in itertools.combinations(range(params.shape[1]), 2):
            out |= c[:, a] == c[:, b]
        return out

    def tuple_valid(self, params: Sequence[int], codes: Sequence[int]) -> bool:
        """Exact validity of one tuple (components checked independently)."""
        return self.kernel.tuple_valid(params, codes)


def _prepare(
    model: FiniteModel, strength: int, solver: ModelSolver | None
) -> tuple[ModelSolver, int]:
    if not isinstance(strength, int) or isinstance(strength, bool):
        raise GenerationError(f"strength must be an integer 1..{MAX_STRENGTH}, got {strength!r}")
    if not 1 <= strength <= MAX_STRENGTH:
        raise GenerationError(f"strength must be between 1 and {MAX_STRENGTH}, got {strength}")
    if solver is None:
        solver = ModelSolver(model)
    elif solver.model is not model and solver.model != model:
        raise GenerationError("the solver was built for a different model")
    solver.check_satisfiable()
    return solver, min(strength, len(model.domain_sizes))


def _as_rows(model: FiniteModel, rows: Iterable[Sequence[int]], what: str) -> list[IntArray]:
    sizes = model.domain_sizes
    out = []
    for n, row in enumerate(rows):
        r = tuple(row)
        if len(r) != len(sizes) or any(
            not isinstance(v, int | np.integer) or not 0 <= v < s
            for v, s in zip(r, sizes, strict=False)
        ):
            raise GenerationError(
                f"{what} {n}: {r!r} is not a row of {len(sizes)} codes within the domains"
            )
        out.append(np.asarray(r, dtype=np.int64))
    return out


#: A group of parameters covered at a higher strength: ``(parameter indices, strength)``.
Group = tuple[Sequence[int], int]


def _check_groups(model: FiniteModel, groups: Iterable[Group]) -> list[tuple[list[int], int]]:
    k = len(model.domain_sizes)
    out = []
    for n, group in enumerate(groups):
        params, strength = group
        ps = sorted(set(params))
        if not ps or any(not isinstance(p, int) or not 0 <= p < k for p in ps):
            raise GenerationError(f"strength group {n}: {params!r} is not a set of parameters")
        if not isinstance(strength, int) or not 1 <= strength <= MAX_STRENGTH:
            raise GenerationError(
                f"strength group {n}: strength must be an integer 1..{MAX_STRENGTH}, "
                f"got {strength!r}"
            )
        out.append((ps, min(strength, len(ps))))
    return out


class _Work:
    """The model the engine works on: the user's, plus size-1 pad parameters when column
    subsets of several strengths (mixed strength) must share one tuple index."""

    def __init__(
        self, model: FiniteModel, strength: int, solver: ModelSolver | None,
        groups: Iterable[Group] = (),
    ) -> None:
        solver, t = _prepare(model, strength, solver)
        self.model, self.k, self.t = model, len(model.domain_sizes), t
        extra = [(ps, tg) for ps, tg in _check_groups(model, groups) if tg > t]
        self.pads = 0
        self.solver = solver
        subsets: IntArray | None = None
        if extra:
            top = max(tg for _, tg in extra)
            k = self.k
            self.pads = top - t
            seen: dict[tuple[int, ...], None] = {}
            for sub in itertools.combinations(range(k), t):
                seen[sub + tuple(range(k, k + top - t))] = None
            for ps, tg in extra:
                for sub in itertools.combinations(ps, tg):
                    seen[sub + tuple(range(k, k + top - tg))] = None
            subsets = np.array(list(seen), dtype=np.int64).reshape(-1, top)
            padded = FiniteModel(
                model.names + tuple(f"<pad {n}>" for n in range(self.pads)),
                model.domain_sizes + (1,) * self.pads,
                model.constraints,
            )
            self.solver = ModelSolver(padded)
            t = top
        self.sizes = tuple(model.domain_sizes) + (1,) * self.pads
        self.index = TupleIndex(self.sizes, t, subsets) if self.t else None

    def rows(self, rows: Iterable[Sequence[int]], what: str) -> list[IntArray]:
        """Checked rows of the user's model, padded for the work model."""
        pad = np.zeros(self.pads, dtype=np.int64)
        return [np.concatenate([r, pad]) for r in _as_rows(self.model, rows, what)]

    def strip(self, params: IntArray, codes: IntArray) -> list[Tuple_]:
        """Tuples as ``((param, code), ...)`` without the pad parameters."""
        return [
            tuple((p, v) for p, v in zip(ps, vs, strict=True) if p < self.k)
            for ps, vs in zip(params.tolist(), codes.tolist(), strict=True)
        ]


def uncovered_tuples(
    model: FiniteModel,
    rows: Iterable[Sequence[int]],
    strength: int,
    solver: ModelSolver | None = None,
    groups: Iterable[Group] = (),
) -> list[Tuple_]:
    """Valid t-tuples that no row covers, as ``((param, code), ...)`` sorted by param.

    ``groups`` adds, per ``(parameters, strength)``, the tuples of that higher strength
    among those parameters (mixed strength).

    Raises:
        GenerationError: bad strength, groups or rows.
        UnsatisfiableSpaceError: the model is unsatisfiable.
    """
    work = _Work(model, strength, solver, groups)
    given = work.rows(rows, "row")
    if work.index is None:
        return [] if given else [()]
    index = work.index
    validity = _Validity(work.solver, index)
    cand = validity.initial_required()
    for r in given:
        cand[index.row_indices(r)] = False
    idx = np.flatnonzero(cand)
    params, vals = index.decode(idx)
    sat = validity.needs_sat(params)
    keep = [
        n for n in range(len(idx))
        if not sat[n] or validity.tuple_valid(params[n].tolist(), vals[n].tolist())
    ]
    return work.strip(params[keep], vals[keep])


def tuples_to_cover(
    model: FiniteModel, strength: int, solver: ModelSolver | None = None,
    groups: Iterable[Group] = (),
) -> list[Tuple_]:
    """Every valid t-tuple of the model (and of its strength ``groups``), sorted by param."""
    return uncovered_tuples(model, (), strength, solver, groups)


# --------------------------------------------------------------------------- greedy


class _Builder:
    """Greedy one-row-at-a-time construction with incrementally kept value demand."""

    def __init__(
        self,
        solver: ModelSolver,
        index: TupleIndex,
        validity: _Validity,
        rng: random.Random,
        candidates: int,
        weights: FloatArray | None = None,
    ) -> None:
        self.solver, self.index, self.validity, self.rng = solver, index, validity, rng
        self.candidates = candidates
        self.weights = weights
        self.np_rng = np.random.Generator(np.random.PCG64(rng.getrandbits(64)))
        self.need = validity.initial_required()
        self.required = self.need.copy()
        self.cnt = self._demand()

    def _demand(self) -> IntArray:
        """Uncovered required tuples per global value (chunked to bound memory)."""
        idx = self.index
        if self.need.all():
            # nothing excluded yet: p = v lies in prod(other sizes) tuples of each subset of p
            per_param = [int(idx.sizes[o].prod(axis=1).sum()) for o in idx.others]
            return np.repeat(np.asarray(per_param, dtype=np.int64), idx.sizes)
        cnt = np.zeros(idx.num_values, dtype=np.int64)
        chunk = 1 << 21
        for start in range(0, idx.total, chunk):
            unc = np.flatnonzero(self.need[start : start + chunk]) + start
            params, vals = idx.decode(unc)
            cnt += np.bincount((idx.glob_offset[params] + vals).ravel(), minlength=idx.num_values)
        return cnt

    def mark_covered(self, row: IntArray, held: IntArray | None = None) -> None:
        """Mark the tuples of ``row`` covered and update the demand counts (``held``: the
        row's tuple indices when the caller has them already)."""
        idx = self.index
        ti = idx.row_indices(row) if held is None else held
        new = self.need[ti]
        self.need[ti] = False
        sub = idx.subsets[new]
        self.cnt -= np.bincount(
            (idx.glob_offset[sub] + row[sub]).ravel(), minlength=idx.num_values
        )

    def _tuples_with(self, p: int, v: int) -> tuple[IntArray, IntArray, IntArray]:
        """Uncovered required tuples containing ``p = v``: indices, other params, their codes."""
        idx = self.index
        oth, om = idx.others[p], idx.o_mult[p]
        osz = idx.sizes[oth]
        counts = osz.prod(axis=1)
        rep = np.repeat(np.arange(len(oth), dtype=np.int64), counts)
        local = np.arange(len(rep), dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
        codes = np.empty((len(rep), oth.shape[1]), dtype=np.int64)
        for j in range(oth.shape[1] - 1, -1, -1):
            size = osz[rep, j]
            codes[:, j] = local % size
            local //= size
        tidx = (
            idx.base[idx.by_param[p][rep]]
            + v * idx.p_mult[p][rep]
            + (codes * om[rep]).sum(axis=1)
        )
        keep = self.need[tidx]
        return tidx[keep], oth[rep[keep]], codes[keep]

    def _pick_seed(self) -> tuple[list[int], list[int]] | None:
        """The seed tuple of the next row: it holds the most demanded value, then the most
        demanded companions; invalid candidates are dropped from the requirement."""
        idx = self.index
        while self.cnt.any():
            best = int(np.argmax(self.cnt))
            p = int(np.searchsorted(idx.glob_offset, best, side="right")) - 1
            v = best - int(idx.glob_offset[p])
            tidx, oth, codes = self._tuples_with(p, v)
            g = idx.glob_offset[oth] + codes
            order = np.argsort(-self.cnt[g].sum(axis=1), kind="stable")
            params = np.column_stack([oth[order], np.full(len(order), p, dtype=np.int64)])
            sat = self.validity.needs_sat(params)
            for n, r in enumerate(order):
                ps, vs = [*oth[r].tolist(), p], [*codes[r].tolist(), v]
                if not sat[n] or self.validity.tuple_valid(ps, vs):
                    return ps, vs
                self.need[tidx[r]] = False
                self.required[tidx[r]] = False
                self.cnt[g[r]] -= 1
                self.cnt[best] -= 1
        return None

    def fill(
        self, seed_p: Sequence[int], seed_v: Sequence[int], order: Sequence[int]
    ) -> tuple[IntArray, IntArray]:
        """A valid row holding ``seed_p = seed_v``, other parameters set greedily in ``order``,
        and the indices of the tuples it holds.

        Per column subset the number of members already set and the partial tuple index are
        kept, so the gain of ``p = v`` reads the subsets of ``p`` whose other members are all
        set (once ``p`` is set too, the partial index is the tuple index) instead of
        recomputing every subset's index per parameter.
        """
        idx, solver, need = self.index, self.solver, self.need
        k, t = idx.k, idx.t
        row = np.full(k, -1, dtype=np.int64)
        fixed = np.zeros(k, dtype=bool)
        n_set = np.zeros(len(idx.subsets), dtype=np.int8)
        partial_idx = idx.base.copy()

        def assign(p: int, v: int) -> None:
            sids = idx.by_param[p]  # distinct subsets: fancy += is safe
            n_set[sids] += 1
            if v:
                partial_idx[sids] += v * idx.p_mult[p]
            row[p] = v
            fixed[p] = True

        for p, v in zip(seed_p, seed_v, strict=True):
            assign(int(p), int(v))
        comp = self.validity.comp
        witnesses: dict[int, tuple[int, ...]] = {}
        for p in order:
            if fixed[p]:
                continue
            size = int(idx.sizes[p])
            sids = idx.by_param[p]
            ok = n_set[sids] == t - 1
            b = partial_idx[sids[ok]]
            pm = idx.p_mult[p][ok]
            gains = np.array([np.count_nonzero(need[b + v * pm]) for v in range(size)])
            keys: list[Any] = [self.np_rng.random(size)]
            if self.weights is not None:
                keys.append(-self.weights[idx.glob_offset[p] : idx.glob_offset[p] + size])
            choices = np.lexsort((*keys, -gains))
            chosen = -1
            if self.validity.constrained[p]:
                cp = int(comp[p])
                members = np.flatnonzero(fixed & (comp == cp))
                partial = {int(q): int(row[q]) for q in members}
                witness = witnesses.get(cp)
                for v in choices:
                    v = int(v)
                    partial[p] = v
                    if witness is not None and witness[p] == v:
                        chosen = v
                        break
                    if solver.violates(partial):
                        continue
                    found = solver.extend(partial)
                    if found is not None:
                        witnesses[cp] = found
                        chosen = v
                        break
                if chosen < 0:  # pragma: no cover - seed tuple was proven extendable
                    raise GenerationError("internal error: no valid value while building a row")
            else:
                chosen = int(choices[0])
            assign(int(p), chosen)
        return row, partial_idx

    def best_row(self, seed_p: Sequence[int], seed_v: Sequence[int]) -> tuple[IntArray, IntArray]:
        """The best of ``candidates`` greedy rows around the seed assignment, with the
        indices of the tuples it holds."""
        idx = self.index
        k = idx.k
        demand = np.add.reduceat(self.cnt, idx.glob_offset)
        best: tuple[IntArray, IntArray] | None = None
        best_gain = -1
        for c in range(self.candidates):
            if c == 0:
                order = np.lexsort((self.np_rng.random(k), -demand)).tolist()
            else:
                order = self.np_rng.permutation(k).tolist()
            row, held = self.fill(seed_p, seed_v, order)
            gain = int(np.count_nonzero(self.need[held]))
            if gain > best_gain:
                best, best_gain = (row, held), gain
        assert best is not None
        return best

    def next_row(self) -> tuple[IntArray, IntArray] | None:
        """The next greedy row and its tuple indices, or None when every required tuple is
        covered."""
        seed = self._pick_seed()
        return None if seed is None else self.best_row(*seed)


@dataclass
class CoveringResult:
    """A covering suite and what the given rows already covered.

    Attributes:
        rows: the suite: the ``required_rows`` (as given), one row per packed group of
            ``required_tuples``, then the generated rows.
        fixed: how many leading rows of ``rows`` came from required rows and tuples.
        valid_tuples: the number of valid tuples the suite had to cover.
        seed_covered: how many of them the seed rows, required rows and required-tuple
            rows cover before any row is generated.
    """

    rows: list[tuple[int, ...]]
    fixed: int
    valid_tuples: int
    seed_covered: int
    _work: _Work | None = field(default=None, repr=False)
    _seed_idx: IntArray | None = field(default=None, repr=False)
    #: the time budget ran out before the first complete suite (see CoveringBudgetWarning)
    over_budget: bool = False

    def seed_tuples(self) -> list[Tuple_]:
        """The valid tuples the seeds already cover, as ``((param, code), ...)``."""
        if self._work is None or self._work.index is None or self._seed_idx is None:
            return []
        return self._work.strip(*self._work.index.decode(self._seed_idx))


def _violation(solver: ModelSolver, row: IntArray) -> str | None:
    for c, bad in zip(solver.model.constraints, solver.forbidden, strict=True):
        if bad and tuple(int(row[p]) for p in c.scope) in bad:
            return c.name
    return None


def _pack_tuples(
    work: _Work, required_tuples: Iterable[Mapping[int, int]]
) -> list[dict[int, int]]:
    """Merge required combinations into as few partial rows as stay extendable (in order)."""
    sizes, names = work.model.domain_sizes, work.model.names
    parts: list[dict[int, int]] = []
    for n, combo in enumerate(required_tuples):
        items = dict(combo)
        if not items or any(
            not isinstance(p, int) or not 0 <= p < len(sizes)
            or not isinstance(v, int) or not 0 <= v < sizes[p]
            for p, v in items.items()
        ):
            raise GenerationError(f"required combination {n}: {combo!r} is not a set of codes")
        if not work.solver.is_valid_partial(items):
            shown = ", ".join(f"{names[p]}={v}" for p, v in sorted(items.items()))
            raise GenerationError(
                f"required combination {n} ({shown}) is not part of any valid configuration"
            )
        for part in parts:
            if all(part.get(p, v) == v for p, v in items.items()) and (
                work.solver.is_valid_partial({**part, **items})
            ):
                part.update(items)
                break
        else:
            parts.append(items)
    return parts


def build_covering(
    model: FiniteModel,
    strength: int,
    seed: int,
    *,
    solver: ModelSolver | None = None,
    seed_rows: Iterable[Sequence[int]] = (),
    required_rows: Iterable[Sequence[int]] = (),
    required_tuples: Iterable[Mapping[int, int]] = (),
    groups: Iterable[Group] = (),
    weights: Sequence[Sequence[float]] | None = None,
    time_budget: float | None = None,
    max_steps: int | None = None,
    candidates: int | None = None,
    effort: float = 1.0,
) -> CoveringResult:
    """Valid rows that, with ``seed_rows``, cover every valid ``strength``-tuple of ``model``.

    Args:
        model: the finite model.
        strength: t, 1..4 (clamped to the number of parameters).
        seed: seed of the deterministic random choices.
        solver: a :class:`ModelSolver` already built for ``model`` (reused caches).
        seed_rows: rows already executed; tuples they contain count as covered
            and they are not part of the result (incremental extension).
        required_rows: rows that must be in the suite; they lead the result.
        required_tuples: partial assignments ``{param: code}`` that some row must hold;
            compatible ones share a row (PICT seeding), completed greedily.
        groups: ``(parameters, strength)`` pairs: those parameters are also covered at
            that higher strength (mixed strength, like PICT sub-models).
        weights: per parameter, a positive weight per code; when several codes cover
            equally many new tuples, the heavier one is preferred.
        time_budget: optional wall-clock limit in seconds for the whole call: the greedy
            construction reads the clock after every row and the optimisation after every
            step; the best complete suite found by then is returned.  If the budget runs
            out before the first complete suite, construction goes on to completion
            without optimisation and :class:`CoveringBudgetWarning` is issued
            (``over_budget`` in the result).  When the budget (rather than the step
            budget) ends the search, the result can depend on machine speed.
        max_steps: step budget of the optimisation phase (deterministic); default
            ``5000 * effort`` for t <= 2, ``250000 * effort`` above (compiled, cheap
            steps); ``0`` disables it.
        candidates: candidate rows tried per greedy step (>= 1); default 3 when no
            constraint forbids anything (cheap rows), else 1 (rows cost SAT checks).
        effort: multiplies the default step budget and the patience of the
            optimisation (longer search, smaller suites); deterministic.

    Returns:
        A :class:`CoveringResult`; its rows are deterministic for a given seed.

    Raises:
        GenerationError: bad strength, rows, combinations, groups, weights or model; a
            required row or combination that no valid configuration has; too many tuples.
        UnsatisfiableSpaceError: no valid configuration exists (names a minimal conflict).
    """
    start = time.monotonic()
    work = _Work(model, strength, solver, groups)
    seeds = work.rows(seed_rows, "seed row")
    required = work.rows(required_rows, "required row")
    for n, r in enumerate(required):
        bad = _violation(work.solver, r)
        if bad is not None:
            raise GenerationError(f"required row {n} violates constraint {bad!r}")
    parts = _pack_tuples(work, required_tuples)
    flat_weights = _flat_weights(work, weights)
    if not isinstance(effort, int | float) or isinstance(effort, bool) or not effort > 0:
        raise GenerationError(f"effort must be a positive number, got {effort!r}")
    if work.index is None:
        rows0 = [tuple(int(v) for v in r) for r in required]
        empty: list[tuple[int, ...]] = [] if seeds or rows0 else [()]
        return CoveringResult(rows0 + empty, len(rows0), 1, 1 if seeds or rows0 else 0)
    rng = random.Random(seed)
    index = work.index
    validity = _Validity(work.solver, index)
    if candidates is None:
        candidates = 1 if any(work.solver.forbidden) else 3
    builder = _Builder(work.solver, index, validity, rng, max(1, int(candidates)), flat_weights)
    for r in seeds + required:
        builder.mark_covered(r)
    for part in parts:
        packed, held = builder.best_row(list(part), list(part.values()))
        builder.mark_covered(packed, held)
        required.append(packed)
    seed_idx = np.flatnonzero(builder.required & ~builder.need)
    deadline = None if time_budget is None else start + float(time_budget)
    rows, over_budget = _greedy_rows(builder, deadline)
    if max_steps is None:
        # pairwise: interactive speed by default, more with ``effort``
        max_steps = int((DEFAULT_STEPS_T2 if work.t <= 2 else DEFAULT_STEPS) * effort)
    if max_steps > 0 and rows and not over_budget:
        compactor = Compactor(work.solver, index, builder.required, rows, seeds + required, rng)
        floor = MIN_PATIENCE_T2 if work.t <= 2 else MIN_PATIENCE
        patience = int(
            effort * min(max(max_steps // 4, 1), max(floor, 25 * len(model.domain_sizes)))
        )
        if deadline is not None:
            # an explicit time budget is time the caller wants spent: only it and the step
            # budget stop the search (at t=3 a complete suite can take thousands of steps)
            patience = max_steps
        rows = compactor.run(max_steps, patience=max(1, patience), deadline=deadline)
    k = work.k
    out = [tuple(int(v) for v in r[:k]) for r in required + rows]
    return CoveringResult(
        out, len(required), int(np.count_nonzero(builder.required)), len(seed_idx), work,
        seed_idx, over_budget,
    )


def _greedy_rows(builder: _Builder, deadline: float | None) -> tuple[list[IntArray], bool]:
    """Greedy rows until every required tuple is covered, and whether the deadline passed
    first.  The clock is read after every row; past the deadline the construction warns
    once (:class:`CoveringBudgetWarning`) and finishes with one candidate per row, the
    cheapest complete suite it can still give."""
    rows: list[IntArray] = []
    over = False
    while True:
        found = builder.next_row()
        if found is None:
            return rows, over
        builder.mark_covered(*found)
        rows.append(found[0])
        if not over and deadline is not None and time.monotonic() > deadline:
            over = True
            left = int(np.count_nonzero(builder.need))
            warnings.warn(
                CoveringBudgetWarning(
                    f"time budget exhausted after {len(rows)} greedy rows with {left} valid "
                    "tuples still uncovered: completing the suite without optimisation "
                    "(raise time_budget, or lower the strength)"
                ),
                stacklevel=3,
            )
            builder.candidates = 1


def _flat_weights(work: _Work, weights: Sequence[Sequence[float]] | None) -> FloatArray | None:
    if weights is None:
        return None
    sizes = work.model.domain_sizes
    ws = list(weights)
    if len(ws) != len(sizes):
        raise GenerationError(f"weights: expected {len(sizes)} parameters, got {len(ws)}")
    flat: list[float] = []
    for p, (w, size) in enumerate(zip(ws, sizes, strict=True)):
        w = list(w)
        if len(w) != size or any(
            not isinstance(x, int | float) or isinstance(x, bool) or not x > 0 for x in w
        ):
            raise GenerationError(
                f"weights of {work.model.names[p]!r}: expected {size} positive numbers, got {w!r}"
            )
        flat.extend(float(x) for x in w)
    return np.asarray(flat + [1.0] * work.pads, dtype=np.float64)


def build_covering_suite(
    model: FiniteModel,
    strength: int,
    seed: int,
    *,
    solver: ModelSolver | None = None,
    seed_rows: Iterable[Sequence[int]] = (),
    time_budget: float | None = None,
    max_steps: int | None = None,
    candidates: int | None = None,
) -> list[tuple[int, ...]]:
    """The rows of :func:`build_covering` (same arguments, without the report).

    Raises:
        GenerationError: bad strength, seed rows or model; too many tuples.
        UnsatisfiableSpaceError: no valid configuration exists (names a minimal conflict).
    """
    return build_covering(
        model, strength, seed, solver=solver, seed_rows=seed_rows, time_budget=time_budget,
        max_steps=max_steps, candidates=candidates,
    ).rows
