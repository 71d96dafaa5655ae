"""Correlation analysis: which parameters and interactions drive failures and performance."""

from __future__ import annotations

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

__all__ = [
    "AnalysisReport",
    "AnalysisSettings",
    "AnalysisWarning",
    "Atom",
    "ClassStat",
    "Confidence",
    "ConfoundedPair",
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
    "analyze",
    "analyze_encoded",
]
