"""The one t-tuple validity kernel: which value-class combinations of a few parameters can occur
in some valid configuration.

Coverage measurement (:mod:`configlab.coverage`: a tuple never seen counts as missing only if it
is valid) and covering generation (:mod:`configlab.generation._covering`: only valid tuples are
required) both ask this question, so both use :class:`TupleValidity`.

A tuple is valid when none of its values is *dead* (taken by no valid configuration) and, for
every constraint component (parameters tied together by constraints that forbid something), the
tuple's parameters of that component extend to a valid assignment.  Components are independent,
so each is asked separately (and cached by the solver): an exact answer with small SAT calls.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:  # only a type here: importing this kernel does not load the SAT backend
    from configlab._internal.finite import ModelSolver

BoolArray = npt.NDArray[np.bool_]


class TupleValidity:
    """Validity of t-tuples of a finite model (parameters ``0..k-1`` with ``sizes[i]`` codes).

    Args:
        sizes: the number of value classes (codes) of each parameter.
        solver: the model's solver, already checked satisfiable; ``None`` when the model has no
            constraint (every tuple is then valid and no SAT call is ever made).
    """

    def __init__(self, sizes: Sequence[int], solver: ModelSolver | None = None) -> None:
        self.sizes = [int(s) for s in sizes]
        k = len(self.sizes)
        self.solver = solver
        #: Per parameter: its constraint component (only meaningful where ``constrained``).
        self.component: list[int] = list(range(k))
        #: Per parameter: whether a constraint that forbids something reads it.
        self.constrained: list[bool] = [False] * k
        #: Per parameter: which of its codes are dead (no valid configuration takes them).
        self.dead: list[BoolArray] = [np.zeros(s, dtype=bool) for s in self.sizes]
        self._dead_pairs: frozenset[tuple[int, int]] = frozenset()
        #: Per parameter: whether any of its codes is dead (read once per combination scanned).
        self._has_dead: list[bool] = [False] * k
        self._tables: dict[tuple[int, ...], BoolArray] = {}
        if solver is None:
            return
        self.component = list(solver.components)
        self.constrained = [solver.is_constrained(p) for p in range(k)]
        self._dead_pairs = frozenset(solver.dead_values())
        for p, v in self._dead_pairs:
            self.dead[p][v] = True
            self._has_dead[p] = True

    def _groups_valid(self, groups: dict[int, dict[int, int]]) -> bool:
        """Whether each component's part of a tuple extends to a valid assignment."""
        for _, group in sorted(groups.items()):
            if len(group) >= 2:
                # a parameter alone is valid unless dead (checked by the caller)
                assert self.solver is not None  # constrained parameters imply a solver
                if not self.solver.is_valid_partial(group):
                    return False
        return True

    def tuple_valid(self, params: Sequence[int], codes: Sequence[int]) -> bool:
        """Exact validity of one tuple: ``params[i]`` takes code ``codes[i]``."""
        groups: dict[int, dict[int, int]] = {}
        for p, v in zip(params, codes, strict=True):
            p, v = int(p), int(v)
            if (p, v) in self._dead_pairs:
                return False
            if self.constrained[p]:
                groups.setdefault(self.component[p], {})[p] = v
        return self._groups_valid(groups)

    def mask(self, combo: tuple[int, ...]) -> BoolArray | None:
        """Validity of every value combination of the parameters ``combo`` at once.

        The combinations are numbered in mixed radix (the last parameter varies fastest, as
        ``np.indices`` orders them); ``None`` means all are valid.  Each component's table is
        computed once per parameter group and cached.
        """
        groups: dict[int, list[int]] = {}
        for pos, p in enumerate(combo):
            if self.constrained[p]:
                groups.setdefault(self.component[p], []).append(pos)
        multi = [g for _, g in sorted(groups.items()) if len(g) >= 2]
        with_dead = [pos for pos, p in enumerate(combo) if self._has_dead[p]]
        if not multi and not with_dead:
            return None
        sizes = [self.sizes[p] for p in combo]
        grid = np.indices(sizes).reshape(len(combo), -1)
        mask = np.ones(grid.shape[1], dtype=bool)
        for pos in with_dead:
            mask &= ~self.dead[combo[pos]][grid[pos]]
        for group in multi:
            params = tuple(combo[pos] for pos in group)
            table = self._table(params)
            index = np.zeros(grid.shape[1], dtype=np.int64)
            for pos in group:
                index = index * sizes[pos] + grid[pos]
            mask &= table[index]
        return mask

    def _table(self, params: tuple[int, ...]) -> BoolArray:
        """Validity of every code combination of ``params`` (one component, mixed radix)."""
        table = self._tables.get(params)
        if table is None:
            solver = self.solver
            assert solver is not None  # constrained parameters imply a solver
            sizes = [self.sizes[p] for p in params]
            table = np.fromiter(
                (solver.is_valid_partial(dict(zip(params, codes, strict=True)))
                 for codes in itertools.product(*(range(s) for s in sizes))),
                dtype=bool, count=math.prod(sizes),
            )
            self._tables[params] = table
        return table


__all__ = ["TupleValidity"]
