"""configlab: explore an application's configuration space from the outside.

Which configurations should we test, did we, what happened, and which parameters caused it?
The public API lives here; everything is loaded on first use so that ``import configlab``
(which pytest does early, through the plugin entry point) stays light.

>>> import configlab
>>> space = configlab.Space.load("examples/webapp-space.yaml")
>>> configs = list(configlab.generate(space, strategy="covering", strength=2, seed=7))
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from configlab._internal.lazy import lazy_attributes
from configlab._version import __version__
from configlab.errors import (
    AnalysisError,
    ConfiglabError,
    ConstraintError,
    ContradictorySpecError,
    FormatError,
    GenerationError,
    IntegrationError,
    ResultsError,
    SnapshotCorruptedError,
    SnapshotError,
    SnapshotNotFoundError,
    SpaceError,
    SpecError,
    UnsatisfiableSpaceError,
    ValidationError,
)

if TYPE_CHECKING:
    from configlab.analysis import AnalysisReport, analyze, analyze_dataset
    from configlab.constraints import ABSENT, Constraint
    from configlab.constraints import parse as parse_constraint
    from configlab.coverage import CoverageReport
    from configlab.generation import PrioritizedSuite, generate, prioritize
    from configlab.integrations.pytest import parametrize
    from configlab.results import Result, ResultDataset, ResultSet, ResultStore
    from configlab.snapshots import Snapshot, SnapshotStore
    from configlab.space import Parameter, Space, ValueClass, Violation
    from configlab.specs import Rule, Spec, VerificationReport, load_spec, verify

#: public name -> (module, attribute); attribute None means the module itself.
_LAZY: dict[str, tuple[str, str | None]] = {
    "ABSENT": ("configlab.constraints", "ABSENT"),
    "AnalysisReport": ("configlab.analysis", "AnalysisReport"),
    "Constraint": ("configlab.constraints", "Constraint"),
    "CoverageReport": ("configlab.coverage", "CoverageReport"),
    "Parameter": ("configlab.space", "Parameter"),
    "PrioritizedSuite": ("configlab.generation", "PrioritizedSuite"),
    "Result": ("configlab.results", "Result"),
    "ResultDataset": ("configlab.results", "ResultDataset"),
    "ResultSet": ("configlab.results", "ResultSet"),
    "ResultStore": ("configlab.results", "ResultStore"),
    "Rule": ("configlab.specs", "Rule"),
    "Snapshot": ("configlab.snapshots", "Snapshot"),
    "SnapshotStore": ("configlab.snapshots", "SnapshotStore"),
    "Space": ("configlab.space", "Space"),
    "Spec": ("configlab.specs", "Spec"),
    "ValueClass": ("configlab.space", "ValueClass"),
    "VerificationReport": ("configlab.specs", "VerificationReport"),
    "Violation": ("configlab.space", "Violation"),
    "analyze": ("configlab.analysis", "analyze"),
    "analyze_dataset": ("configlab.analysis", "analyze_dataset"),
    "generate": ("configlab.generation", "generate"),
    "load_spec": ("configlab.specs", "load_spec"),
    "parametrize": ("configlab.integrations.pytest", "parametrize"),
    "parse_constraint": ("configlab.constraints", "parse"),
    "prioritize": ("configlab.generation", "prioritize"),
    "verify": ("configlab.specs", "verify"),
    # Old module paths kept as aliases (``configlab.ingest``, ``configlab.exporters``) are real
    # modules next to this file; they need no entry here.
}


__getattr__, __dir__ = lazy_attributes(__name__, _LAZY, globals())


__all__ = [
    "ABSENT",
    "AnalysisError",
    "AnalysisReport",
    "ConfiglabError",
    "Constraint",
    "ConstraintError",
    "ContradictorySpecError",
    "CoverageReport",
    "FormatError",
    "GenerationError",
    "IntegrationError",
    "Parameter",
    "PrioritizedSuite",
    "Result",
    "ResultDataset",
    "ResultSet",
    "ResultStore",
    "ResultsError",
    "Rule",
    "Snapshot",
    "SnapshotCorruptedError",
    "SnapshotError",
    "SnapshotNotFoundError",
    "SnapshotStore",
    "Space",
    "SpaceError",
    "Spec",
    "SpecError",
    "UnsatisfiableSpaceError",
    "ValidationError",
    "ValueClass",
    "VerificationReport",
    "Violation",
    "__version__",
    "analyze",
    "analyze_dataset",
    "generate",
    "load_spec",
    "parametrize",
    "parse_constraint",
    "prioritize",
    "verify",
]
