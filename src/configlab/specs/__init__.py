"""Behaviour specs: rules linking configuration conditions to expected outcomes; verification,
lint and versions."""

from __future__ import annotations

from configlab.specs._lint import (
    CheckReport,
    Contradiction,
    DeadRule,
    Interval,
    check,
    comparison_atoms,
    expectation_conflict,
)
from configlab.specs._load import (
    load_spec,
    loads_spec,
    spec_from_dict,
)
from configlab.specs._model import (
    DEFAULT_COUNT,
    EXPECTATION_KINDS,
    OUTCOME_FIELDS,
    OUTCOMES,
    VERDICTS,
    Expectation,
    Outcome,
    Rule,
    Spec,
    expect,
    resolve_predicate,
)
from configlab.specs._report import (
    Check,
    RuleReport,
    VerificationReport,
    output_tail,
)
from configlab.specs._runners import (
    CONFIG_ENV,
    METRICS_ENV,
    CommandRunner,
    PytestRunner,
)
from configlab.specs._verify import (
    verify,
)
from configlab.specs._versions import (
    RuleChange,
    SpecDiff,
    diff_specs,
    record_spec,
    spec_from_store,
)

__all__ = [
    "CONFIG_ENV",
    "DEFAULT_COUNT",
    "EXPECTATION_KINDS",
    "METRICS_ENV",
    "OUTCOMES",
    "OUTCOME_FIELDS",
    "VERDICTS",
    "Check",
    "CheckReport",
    "CommandRunner",
    "Contradiction",
    "DeadRule",
    "Expectation",
    "Interval",
    "Outcome",
    "PytestRunner",
    "Rule",
    "RuleChange",
    "RuleReport",
    "Spec",
    "SpecDiff",
    "VerificationReport",
    "check",
    "comparison_atoms",
    "diff_specs",
    "expect",
    "expectation_conflict",
    "load_spec",
    "loads_spec",
    "output_tail",
    "record_spec",
    "resolve_predicate",
    "spec_from_dict",
    "spec_from_store",
    "verify",
]
