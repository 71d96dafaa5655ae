"""Correlation analysis: which parameters and interactions drive failures and performance.

Names are loaded on first use (PEP 562): the in-memory engine (``analyze``) needs scipy, whose
import alone costs 1-5 s on a loaded machine, while the DuckDB path (``analyze_dataset``) does
not, so ``configlab analyze --results parquet-dir/ --param p`` answers in about a second.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from configlab.analysis._analysis import (
        AnalysisReport,
        AnalysisSettings,
        AnalysisWarning,
        Atom,
        ClassStat,
        Confidence,
        ConfoundedPair,
        FailureImpact,
        FlakyGroup,
        MaskedCondition,
        MetricImpact,
        MetricSensitivity,
        ParameterImpact,
        Pattern,
        RareClass,
        SensitivityComponent,
        Suggestion,
        Summary,
        analyze,
        analyze_encoded,
    )
    from configlab.analysis._scale import (
        DatasetCause,
        DatasetReport,
        ValueRates,
        analyze_dataset,
    )

_SCALE = ("DatasetCause", "DatasetReport", "ValueRates", "analyze_dataset")

__all__ = [
    "AnalysisReport",
    "AnalysisSettings",
    "AnalysisWarning",
    "Atom",
    "ClassStat",
    "Confidence",
    "ConfoundedPair",
    "DatasetCause",
    "DatasetReport",
    "FailureImpact",
    "FlakyGroup",
    "MaskedCondition",
    "MetricImpact",
    "MetricSensitivity",
    "ParameterImpact",
    "Pattern",
    "RareClass",
    "SensitivityComponent",
    "Suggestion",
    "Summary",
    "ValueRates",
    "analyze",
    "analyze_dataset",
    "analyze_encoded",
]


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module 'configlab.analysis' has no attribute {name!r}")
    module = importlib.import_module(
        "configlab.analysis._scale" if name in _SCALE else "configlab.analysis._analysis")
    value = getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
