"""Suggested runs that respect the space: each suggestion's partial assignment is completed by
the SAT-backed generator model into a full config satisfying every constraint and ``active_if``
rule; suggestions no valid config can realise are dropped (and counted in a warning)."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from configlab.analysis._report import AnalysisReport, AnalysisWarning, Suggestion

if TYPE_CHECKING:
    from configlab.space import Space


def realise_suggestions(report: AnalysisReport, space: Space) -> AnalysisReport:
    """``report`` with each suggestion given a valid ``config`` (or dropped when none exists)."""
    suggestions = report.confidence.suggestions
    if not suggestions or not space.parameters:
        return report
    # deferred: the SAT solver (~35 ms of imports) loads only when there is something to realise
    from configlab._internal.finite import ModelSolver
    from configlab._internal.spacemodel import space_model

    model = space_model(space)
    index = {p.path: i for i, p in enumerate(space.parameters)}
    labels = model.labels
    solver = ModelSolver(model.model)
    kept: list[Suggestion] = []
    dropped: list[str] = []
    try:
        for suggestion in suggestions:
            partial: dict[int, int] = {}
            for path, label in suggestion.assignment:
                i = index.get(path)
                if i is None or label not in labels[i]:
                    partial = {}
                    break
                partial[i] = labels[i].index(label)
            codes = solver.extend(partial) if partial else None
            if codes is None:
                dropped.append(suggestion.text)
                continue
            kept.append(dataclasses.replace(suggestion, config=model.decode(codes)))
    finally:
        solver.close()
    warnings = report.warnings
    if dropped:
        warnings = (*warnings, AnalysisWarning(
            "suggestion_infeasible",
            f"{len(dropped)} suggested run(s) would break the space's constraints and were "
            f"dropped: {'; '.join(dropped[:3])}",
        ))
    confidence = dataclasses.replace(report.confidence, suggestions=tuple(kept))
    return dataclasses.replace(report, confidence=confidence, warnings=warnings)


__all__ = ["realise_suggestions"]
