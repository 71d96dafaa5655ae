"""Generation of valid configurations (boundary, covering, random, mutation, exhaustive) and
prioritisation of suites."""

from __future__ import annotations

from configlab.generation._covering import CoveringBudgetWarning, build_covering_suite
from configlab.generation._generate import (
    DEFAULT_MAX_SIZE,
    STRATEGIES,
    DeadValue,
    DeadValueWarning,
    dead_values,
    generate,
)
from configlab.generation._prioritize import (
    FAILING_OUTCOMES,
    PrioritizedSuite,
    is_failure,
    prioritize,
)
from configlab.generation._suite import SuiteReport, covering_suite, parse_group

__all__ = [
    "DEFAULT_MAX_SIZE",
    "FAILING_OUTCOMES",
    "STRATEGIES",
    "CoveringBudgetWarning",
    "DeadValue",
    "DeadValueWarning",
    "PrioritizedSuite",
    "SuiteReport",
    "build_covering_suite",
    "covering_suite",
    "dead_values",
    "generate",
    "is_failure",
    "parse_group",
    "prioritize",
]
