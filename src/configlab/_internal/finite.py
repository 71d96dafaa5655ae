"""A configuration space reduced to finite value codes, plus SAT-based reasoning about it.

A :class:`FiniteModel` has parameters ``0..k-1``; parameter ``i`` takes the codes
``0..domain_sizes[i]-1`` (value classes of the real space).  Constraints are
black-box predicates over the codes of the parameters in their *scope*.

:class:`ModelSolver` compiles a model into CNF for python-sat:

* one Boolean ``x[i][v]`` per (parameter, code), with exactly-one per parameter;
* one *selector* variable per constraint; every forbidden combination of the
  constraint's scope (found by enumerating the scope's value combinations)
  becomes the clause ``(not selector) or (not x[i1][v1]) or ... or (not x[is][vs])``.

Solving under the assumption "all selectors true" answers satisfiability;
dropping selectors gives a deletion-based minimal unsatisfiable subset.  The
same forbidden-combination tables also drive the pure-Python :meth:`ModelSolver.violates`
check used in hot loops.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from pysat.solvers import Solver

from configlab.errors import GenerationError, UnsatisfiableSpaceError

#: Largest scope value-combination count compiled by enumeration.
MAX_SCOPE_COMBINATIONS = 2_000_000

#: The SAT backend (deterministic for a given sequence of calls).
SAT_BACKEND = "glucose4"


@dataclass(frozen=True)
class FiniteConstraint:
    """A constraint over value codes.

    Attributes:
        name: shown to users in errors (usually the constraint text).
        scope: sorted, unique indices of the parameters the constraint reads.
        allows: maps the codes of the scope parameters (in scope order) to
            ``True`` when the combination satisfies the constraint.
    """

    name: str
    scope: tuple[int, ...]
    allows: Callable[[tuple[int, ...]], bool]


@dataclass(frozen=True)
class FiniteModel:
    """Parameters with finite code domains and constraints over them.

    Attributes:
        names: parameter names (used in messages only).
        domain_sizes: parameter ``i`` takes codes ``0..domain_sizes[i]-1``.
        constraints: constraints every valid assignment must satisfy.
    """

    names: tuple[str, ...]
    domain_sizes: tuple[int, ...]
    constraints: tuple[FiniteConstraint, ...] = ()

    def check(self) -> None:
        """Raise :class:`GenerationError` if the model is structurally malformed."""
        if len(self.names) != len(self.domain_sizes):
            raise GenerationError(
                f"finite model has {len(self.names)} names but {len(self.domain_sizes)} domains"
            )
        for name, size in zip(self.names, self.domain_sizes, strict=True):
            if not isinstance(size, int) or size < 1:
                raise GenerationError(f"parameter {name!r} has no values (domain size {size!r})")
        k = len(self.domain_sizes)
        for c in self.constraints:
            if list(c.scope) != sorted(set(c.scope)):
                raise GenerationError(f"constraint {c.name!r}: scope {c.scope} not sorted/unique")
            if any(not isinstance(i, int) or i < 0 or i >= k for i in c.scope):
                raise GenerationError(f"constraint {c.name!r}: scope {c.scope} out of range")


class ModelSolver:
    """SAT-backed reasoning over a :class:`FiniteModel` (one instance per model).

    Raises:
        GenerationError: the model is malformed, a constraint scope has more than
            :data:`MAX_SCOPE_COMBINATIONS` value combinations, or a constraint
            predicate raised.
    """

    def __init__(self, model: FiniteModel) -> None:
        model.check()
        self.model = model
        sizes = model.domain_sizes
        self._offsets: list[int] = []
        nxt = 1
        for size in sizes:
            self._offsets.append(nxt)
            nxt += size
        self.num_value_vars = nxt - 1
        self._selectors = [nxt + j for j in range(len(model.constraints))]
        #: per constraint: the set of forbidden scope combinations
        self.forbidden: list[frozenset[tuple[int, ...]]] = []
        #: per parameter: indices of the constraints whose scope contains it
        self.constraints_of: list[list[int]] = [[] for _ in sizes]
        self._solver = Solver(name=SAT_BACKEND)
        for i, size in enumerate(sizes):
            lits = [self.lit(i, v) for v in range(size)]
            self._solver.add_clause(lits)
            for a, b in itertools.combinations(lits, 2):
                self._solver.add_clause([-a, -b])
        for j, c in enumerate(model.constraints):
            bad = self._enumerate_forbidden(c)
            self.forbidden.append(frozenset(bad))
            sel = self._selectors[j]
            for combo in bad:
                self._solver.add_clause(
                    [-sel] + [-self.lit(p, v) for p, v in zip(c.scope, combo, strict=True)]
                )
            for p in c.scope:
                self.constraints_of[p].append(j)
        self.components = self._components()
        self._tables: dict[
            tuple[int, ...], tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]
        ] = {}
        self._tables_of: list[list[tuple[int, ...]]] = [[] for _ in sizes]
        self._partial_cache: dict[tuple[tuple[int, int], ...], bool] = {}
        self._dead: list[tuple[int, int]] | None = None
        self._sat: bool | None = None

    # ------------------------------------------------------------------ encoding
    def lit(self, param: int, code: int) -> int:
        """The SAT variable meaning ``parameter param takes code``."""
        return self._offsets[param] + code

    def _enumerate_forbidden(self, c: FiniteConstraint) -> list[tuple[int, ...]]:
        sizes = [self.model.domain_sizes[p] for p in c.scope]
        total = 1
        for s in sizes:
            total *= s
        if total > MAX_SCOPE_COMBINATIONS:
            raise GenerationError(
                f"constraint {c.name!r} reads {len(c.scope)} parameters with {total} value "
                f"combinations (limit {MAX_SCOPE_COMBINATIONS}); split it into smaller constraints"
            )
        bad: list[tuple[int, ...]] = []
        for combo in itertools.product(*(range(s) for s in sizes)):
            try:
                ok = c.allows(combo)
            except Exception as exc:  # a user predicate must not crash generation obscurely
                raise GenerationError(
                    f"constraint {c.name!r} could not be evaluated on codes {combo}: {exc}"
                ) from exc
            if not ok:
                bad.append(combo)
        return bad

    def _components(self) -> list[int]:
        """Connected components of the constraint graph: component id per parameter."""
        k = len(self.model.domain_sizes)
        parent = list(range(k))

        def find(x: int) -> int:
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        for j, c in enumerate(self.model.constraints):
            if not self.forbidden[j]:
                continue
            for p in c.scope[1:]:
                a, b = find(c.scope[0]), find(p)
                if a != b:
                    parent[max(a, b)] = min(a, b)
        return [find(i) for i in range(k)]

    def is_constrained(self, param: int) -> bool:
        """Whether some constraint that forbids anything reads ``param``."""
        return any(self.forbidden[j] for j in self.constraints_of[param])

    # ------------------------------------------------------------------ fast checks
    def violates(self, assignment: Mapping[int, int] | Sequence[int]) -> bool:
        """Whether some constraint whose scope is fully assigned is violated.

        ``assignment`` is a mapping ``param -> code`` (partial) or a full row of
        codes.  Constraints reading unassigned parameters are not evaluated, so
        ``False`` on a partial assignment does not mean it is extendable (see
        :meth:`is_valid_partial`).
        """
        if isinstance(assignment, Mapping):
            touched: set[int] = set()
            for p in assignment:
                if 0 <= p < len(self.constraints_of):
                    touched.update(self.constraints_of[p])
            for j in sorted(touched):
                scope = self.model.constraints[j].scope
                if all(p in assignment for p in scope) and (
                    tuple(assignment[p] for p in scope) in self.forbidden[j]
                ):
                    return True
            return False
        row = assignment
        return any(
            bad and tuple(row[p] for p in c.scope) in bad
            for c, bad in zip(self.model.constraints, self.forbidden, strict=True)
        )

    def row_violates(self, row: Sequence[int], params: Iterable[int]) -> bool:
        """Whether a full ``row`` violates a constraint reading one of ``params``."""
        seen: set[int] = set()
        for p in params:
            for j in self.constraints_of[p]:
                if j in seen:
                    continue
                seen.add(j)
                bad = self.forbidden[j]
                if bad and tuple(row[q] for q in self.model.constraints[j].scope) in bad:
                    return True
        return False

    def _build_tables(self) -> None:
        """Merge the forbidden combinations per scope into numpy lookup tables."""
        sizes = self.model.domain_sizes
        for j, c in enumerate(self.model.constraints):
            if not self.forbidden[j]:
                continue
            scope = c.scope
            if scope not in self._tables:
                dims = [sizes[p] for p in scope]
                mult = np.ones(len(scope), dtype=np.int64)
                for n in range(len(scope) - 2, -1, -1):
                    mult[n] = mult[n + 1] * dims[n + 1]
                self._tables[scope] = (mult, np.zeros(int(np.prod(dims)), dtype=bool))
                for p in scope:
                    self._tables_of[p].append(scope)
            mult, table = self._tables[scope]
            bad = np.array(sorted(self.forbidden[j]), dtype=np.int64).reshape(-1, len(scope))
            table[bad @ mult] = True

    def rows_violating(
        self, rows: npt.NDArray[np.int64], params: Iterable[int]
    ) -> npt.NDArray[np.bool_]:
        """Vectorised :meth:`row_violates`: one flag per full row of the ``(n, k)`` matrix."""
        if not self._tables and any(self.forbidden):
            self._build_tables()
        out = np.zeros(len(rows), dtype=bool)
        seen: set[tuple[int, ...]] = set()
        for p in params:
            for scope in self._tables_of[p]:
                if scope in seen:
                    continue
                seen.add(scope)
                mult, table = self._tables[scope]
                out |= table[rows[:, list(scope)] @ mult]
        return out

    # ------------------------------------------------------------------ SAT queries
    def _assume(self, assignment: Mapping[int, int]) -> list[int]:
        sizes = self.model.domain_sizes
        lits: list[int] = []
        for p, v in sorted(assignment.items()):
            if not (0 <= p < len(sizes)) or not (0 <= v < sizes[p]):
                raise GenerationError(f"assignment {p}={v} is outside the model's domains")
            lits.append(self.lit(p, v))
        return self._selectors + lits

    def is_satisfiable(self) -> bool:
        """Whether some full assignment satisfies every constraint."""
        if self._sat is None:
            self._sat = bool(self._solver.solve(assumptions=self._selectors))
        return self._sat

    def minimal_conflict(self) -> tuple[str, ...]:
        """Names of a minimal unsatisfiable subset of the constraints (``()`` if satisfiable).

        Minimal: dropping any one named constraint makes the rest satisfiable.
        """
        if self.is_satisfiable():
            return ()
        core = sorted(set(self._solver.get_core() or self._selectors))
        i = 0
        while i < len(core):
            trial = core[:i] + core[i + 1 :]
            if not self._solver.solve(assumptions=trial):
                smaller = set(self._solver.get_core() or trial)
                core = [s for s in trial if s in smaller]
            else:
                i += 1
        first = self._selectors[0] if self._selectors else 0
        return tuple(self.model.constraints[s - first].name for s in core)

    def check_satisfiable(self) -> None:
        """Raise :class:`UnsatisfiableSpaceError` naming a minimal conflict if unsatisfiable."""
        if self.is_satisfiable():
            return
        names = self.minimal_conflict()
        if names:
            listed = "; ".join(repr(n) for n in names)
            msg = f"no configuration satisfies the constraints; these conflict: {listed}"
        else:  # pragma: no cover - exactly-one clauses alone are always satisfiable
            msg = "no configuration satisfies the parameter domains"
        raise UnsatisfiableSpaceError(msg, conflicting=names)

    def _model_codes(self) -> tuple[int, ...]:
        model = self._solver.get_model()
        true = {lit for lit in model if lit > 0}
        row = []
        for i, size in enumerate(self.model.domain_sizes):
            off = self._offsets[i]
            row.append(next(v for v in range(size) if off + v in true))
        return tuple(row)

    def dead_values(self) -> list[tuple[int, int]]:
        """``(param, code)`` pairs that no valid full assignment takes, sorted.

        Every value is dead when the model is unsatisfiable.
        """
        if self._dead is not None:
            return list(self._dead)
        sizes = self.model.domain_sizes
        if not self.is_satisfiable():
            self._dead = [(i, v) for i, s in enumerate(sizes) for v in range(s)]
            return list(self._dead)
        alive: set[tuple[int, int]] = set()
        dead: list[tuple[int, int]] = []
        for i, size in enumerate(sizes):
            if not self.is_constrained(i):
                continue
            for v in range(size):
                if (i, v) in alive:
                    continue
                if self._solver.solve(assumptions=[*self._selectors, self.lit(i, v)]):
                    alive.update(enumerate(self._model_codes()))
                else:
                    dead.append((i, v))
        self._dead = dead
        return list(dead)

    def is_valid_partial(self, assignment: Mapping[int, int]) -> bool:
        """Whether ``assignment`` (param -> code) extends to a full valid assignment (cached)."""
        key = tuple(sorted(assignment.items()))
        hit = self._partial_cache.get(key)
        if hit is not None:
            return hit
        if self.violates(assignment):
            result = False
        else:
            result = bool(self._solver.solve(assumptions=self._assume(assignment)))
        self._partial_cache[key] = result
        return result

    def extend(self, partial: Mapping[int, int]) -> tuple[int, ...] | None:
        """A full valid assignment extending ``partial`` (current phases), or ``None``."""
        key = tuple(sorted(partial.items()))
        if self.violates(partial) or not self._solver.solve(assumptions=self._assume(partial)):
            self._partial_cache[key] = False
            return None
        self._partial_cache[key] = True
        return self._model_codes()

    def complete(self, partial: Mapping[int, int], rng: random.Random) -> tuple[int, ...] | None:
        """A full valid assignment extending ``partial``, or ``None`` if there is none.

        Decision phases are randomised with ``rng`` so repeated calls give variety;
        the result is deterministic for a given ``rng`` state and call history.
        """
        assumptions = self._assume(partial)
        phases = [
            self.lit(i, v) if rng.random() < 1.0 / size else -self.lit(i, v)
            for i, size in enumerate(self.model.domain_sizes)
            for v in range(size)
        ]
        self._solver.set_phases(phases)
        if not self._solver.solve(assumptions=assumptions):
            return None
        return self._model_codes()

    def prefer(self, row: Sequence[int]) -> None:
        """Make the solver's decisions prefer the codes of ``row`` (one per parameter)."""
        self._solver.set_phases(
            [
                self.lit(i, v) if v == row[i] else -self.lit(i, v)
                for i, size in enumerate(self.model.domain_sizes)
                for v in range(size)
            ]
        )

    def complete_preferred(self, partial: Mapping[int, int]) -> tuple[int, ...] | None:
        """Like :meth:`complete`, but keeping the phases set by :meth:`prefer`."""
        if not self._solver.solve(assumptions=self._assume(partial)):
            return None
        return self._model_codes()

    def close(self) -> None:
        """Release the native SAT solver."""
        self._solver.delete()
