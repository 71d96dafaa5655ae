"""Correlation analysis: which parameters and interactions drive failures and performance.

Names are loaded on first use (PEP 562): the in-memory engine (``analyze``) needs scipy, whose
import alone costs 1-5 s on a loaded machine, while the DuckDB path (``analyze_dataset``) does
not, so ``configlab analyze --results parquet-dir/ --param p`` answers in about a second.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from configlab._internal.lazy import lazy_attributes

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
    from configlab.analysis._suggest import realise_suggestions

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
    "realise_suggestions",
]


_ENGINE = "configlab.analysis._analysis"
_LAZY = {name: "configlab.analysis._scale" if name in _SCALE else _ENGINE for name in __all__}
_LAZY["realise_suggestions"] = "configlab.analysis._suggest"

__getattr__, __dir__ = lazy_attributes(__name__, _LAZY, globals())
