"""Correlation engine: which parameters, values and interactions drive failures and metrics.

The core is :func:`analyze_encoded`, which works on :class:`~configlab.results._model.encoded.
EncodedResults` (a matrix of value-class codes, outcomes and metrics) and returns an
:class:`AnalysisReport` with four parts:

* **impact** — per parameter, how strongly its value class is associated with failure
  (chi-square or exact test, Cramér's V, mutual information, largest risk difference, BH / Holm
  adjusted p-values) and with each numeric metric (eta-squared, ANOVA and Kruskal–Wallis tests);
* **patterns** — minimal conditions (``param == class``, ``param != class``, numeric thresholds
  and their 2- and 3-way conjunctions) that explain the failures, found by exhaustive, vectorised
  enumeration followed by sequential covering, so a condition that only co-occurs with a stronger
  cause is reported as *masked* rather than as a cause;
* **sensitivity** — per metric, the share of variance explained by each parameter and by the
  strongest pairwise interactions (sequential sums of squares, summing to at most 1);
* **confidence** — what the data cannot support: rare classes, constant or always-absent
  parameters, confounded parameter pairs (with the missing combinations to run), flaky tests.

:func:`analyze` is the thin wrapper taking a result set (anything with ``encode(space)`` and
``infer_space()``).  See ``docs/analysis.md`` for the JSON schema of :meth:`AnalysisReport.to_dict`.
"""

from __future__ import annotations

import io
import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from scipy import sparse
from scipy import stats as sps

from configlab.analysis import _stats as st
from configlab.errors import AnalysisError, SpaceError
from configlab.results.encoded import ERROR, FAIL, SKIP, EncodedResults
from configlab.space import Space

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

FlakyPolicy = Literal["exclude", "keep"]
AtomValue = str | float | tuple[str, ...]
_F = npt.NDArray[np.float64]
_I = npt.NDArray[np.int64]
_B = npt.NDArray[np.bool_]

_CHUNK = 8192
_EQ, _NE, _LT, _GE = 0, 1, 2, 3
_OPS = ("==", "!=", "<", ">=")


# =========================================================================== report objects


def _num(value: float) -> float | None:
    """A float for JSON: NaN/inf become None."""
    return float(value) if math.isfinite(value) else None


@dataclass(frozen=True)
class AnalysisSettings:
    """The knobs an analysis ran with (echoed in the report)."""

    max_order: int = 3
    alpha: float = 0.05
    min_support: int = 2
    min_count: int = 5
    max_patterns: int = 10
    top_k: int = 24
    flaky: FlakyPolicy = "exclude"
    max_cuts: int = 8
    max_atoms: int = 2000
    max_interactions: int = 5

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "max_order": self.max_order,
            "alpha": self.alpha,
            "min_support": self.min_support,
            "min_count": self.min_count,
            "max_patterns": self.max_patterns,
            "top_k": self.top_k,
            "flaky": self.flaky,
            "max_cuts": self.max_cuts,
            "max_atoms": self.max_atoms,
            "max_interactions": self.max_interactions,
        }


@dataclass(frozen=True)
class ClassStat:
    """How often one value class of a parameter was run, and how often it failed."""

    label: str
    count: int
    failures: int

    @property
    def failure_rate(self) -> float:
        """Failures / count (0 when never run)."""
        return self.failures / self.count if self.count else 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "label": self.label,
            "count": self.count,
            "failures": self.failures,
            "failure_rate": self.failure_rate,
        }


@dataclass(frozen=True)
class FailureImpact:
    """Association of one parameter's value class with failure (FAIL or ERROR)."""

    #: "chi2" (Pearson, no continuity correction), "fisher" (exact, small expected counts) or
    #: "none" (not testable: fewer than two classes seen, or no variation in outcome).
    test: str
    statistic: float
    dof: int
    p_value: float
    #: Benjamini–Hochberg adjusted over all parameters.
    p_adjusted: float
    #: Holm–Bonferroni adjusted over all parameters.
    p_holm: float
    cramers_v: float
    #: Mutual information between class and outcome, in bits.
    mutual_information: float
    #: Largest failure rate of a class minus the failure rate of all other rows.
    risk_difference: float
    #: The class with that largest risk difference (None when not defined).
    risk_class: str | None
    significant: bool

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "test": self.test,
            "statistic": _num(self.statistic),
            "dof": self.dof,
            "p_value": _num(self.p_value),
            "p_adjusted": _num(self.p_adjusted),
            "p_holm": _num(self.p_holm),
            "cramers_v": _num(self.cramers_v),
            "mutual_information": _num(self.mutual_information),
            "risk_difference": _num(self.risk_difference),
            "risk_class": self.risk_class,
            "significant": self.significant,
        }


@dataclass(frozen=True)
class MetricImpact:
    """Association of one parameter's value class with one numeric metric."""

    metric: str
    #: Rows with a finite value of the metric (SKIP rows excluded).
    n: int
    eta_squared: float
    anova_p: float
    kruskal_p: float
    #: Benjamini–Hochberg adjusted Kruskal–Wallis p-value over all parameters for this metric.
    p_adjusted: float
    significant: bool

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "metric": self.metric,
            "n": self.n,
            "eta_squared": _num(self.eta_squared),
            "anova_p": _num(self.anova_p),
            "kruskal_p": _num(self.kruskal_p),
            "p_adjusted": _num(self.p_adjusted),
            "significant": self.significant,
        }


@dataclass(frozen=True)
class ParameterImpact:
    """Everything known about one parameter's influence, ranked by failure impact."""

    param: str
    rank: int
    classes: tuple[ClassStat, ...]
    failure: FailureImpact
    metrics: tuple[MetricImpact, ...]
    #: True when the parameter appears in a reported failure pattern.
    in_pattern: bool

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "param": self.param,
            "rank": self.rank,
            "classes": [c.to_dict() for c in self.classes],
            "failure": self.failure.to_dict(),
            "metrics": {m.metric: m.to_dict() for m in self.metrics},
            "in_pattern": self.in_pattern,
        }


@dataclass(frozen=True)
class Atom:
    """One elementary condition: ``param op value``.

    ``op`` is one of ``==``, ``!=`` (value: a class label), ``in`` (value: tuple of labels),
    ``<``, ``<=``, ``>``, ``>=`` (value: a number compared with the raw parameter value).
    """

    param: str
    op: str
    value: AtomValue

    def __str__(self) -> str:
        if isinstance(self.value, tuple):
            return f"{self.param} in {{{', '.join(self.value)}}}"
        if isinstance(self.value, float):
            return f"{self.param} {self.op} {_fmt_number(self.value)}"
        return f"{self.param} {self.op} {self.value}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: ``{"param", "op", "value"}``."""
        value: Any = list(self.value) if isinstance(self.value, tuple) else self.value
        return {"param": self.param, "op": self.op, "value": value}


def _fmt_number(value: float) -> str:
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.6g}"


def _condition(atoms: Sequence[Atom]) -> str:
    return " and ".join(str(a) for a in atoms) if atoms else "(always)"


@dataclass(frozen=True)
class Pattern:
    """A minimal condition that explains failures (a conjunction of atoms)."""

    rank: int
    atoms: tuple[Atom, ...]
    #: Failing runs where the condition holds.
    support: int
    #: Runs where the condition holds.
    coverage: int
    #: Failure rate when the condition holds.
    confidence: float
    #: Confidence divided by the overall failure rate.
    lift: float
    #: One-sided Fisher exact (hypergeometric) p-value on all analysed rows.
    p_value: float
    #: Bonferroni-adjusted over every candidate condition enumerated (capped at 1).
    p_adjusted: float
    #: Failing runs not already explained by a higher-ranked pattern.
    new_support: int
    #: Indices (into the analysed results) of every row where the condition holds.
    rows: tuple[int, ...]
    #: The failing ones among ``rows``.
    failing_rows: tuple[int, ...]
    #: Other parameters perfectly confounded with one in the pattern (the data cannot tell
    #: which of them matters).
    confounded_with: tuple[str, ...] = ()

    @property
    def condition(self) -> str:
        """Readable condition, e.g. ``"db.pool == min and timeout_s < 5"``."""
        return _condition(self.atoms)

    @property
    def params(self) -> tuple[str, ...]:
        """Parameters the pattern mentions, in atom order."""
        return tuple(a.param for a in self.atoms)

    def to_dict(self, max_rows: int | None = 1000) -> dict[str, Any]:
        """JSON-ready form; ``rows`` lists are cut to ``max_rows`` (``rows_truncated`` says)."""
        rows = self.rows if max_rows is None else self.rows[:max_rows]
        failing = self.failing_rows if max_rows is None else self.failing_rows[:max_rows]
        return {
            "rank": self.rank,
            "condition": self.condition,
            "atoms": [a.to_dict() for a in self.atoms],
            "support": self.support,
            "coverage": self.coverage,
            "confidence": _num(self.confidence),
            "lift": _num(self.lift),
            "p_value": _num(self.p_value),
            "p_adjusted": _num(self.p_adjusted),
            "new_support": self.new_support,
            "row_count": len(self.rows),
            "rows": list(rows),
            "failing_rows": list(failing),
            "rows_truncated": len(rows) < len(self.rows) or len(failing) < len(self.failing_rows),
            "confounded_with": list(self.confounded_with),
        }


@dataclass(frozen=True)
class MaskedCondition:
    """A condition significantly associated with failure on its own that is explained away once
    a reported pattern's rows are set aside (it merely co-occurs with that cause)."""

    atoms: tuple[Atom, ...]
    support: int
    confidence: float
    lift: float
    p_value: float
    #: One-sided exact p-value on the rows no reported pattern covers.
    residual_p_value: float
    #: Rank of the pattern sharing most of its failing rows.
    explained_by: int
    shared_failures: int

    @property
    def condition(self) -> str:
        """Readable condition."""
        return _condition(self.atoms)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "condition": self.condition,
            "atoms": [a.to_dict() for a in self.atoms],
            "support": self.support,
            "confidence": _num(self.confidence),
            "lift": _num(self.lift),
            "p_value": _num(self.p_value),
            "residual_p_value": _num(self.residual_p_value),
            "explained_by": self.explained_by,
            "shared_failures": self.shared_failures,
        }


@dataclass(frozen=True)
class SensitivityComponent:
    """Share of a metric's variance attributed to one parameter or one pair's interaction."""

    params: tuple[str, ...]
    #: "main" (one parameter) or "interaction" (a pair, beyond both main effects).
    kind: str
    #: Sequential (type-I) share: main effects in decreasing order of eta-squared, then
    #: interactions; all shares plus the residual sum to 1.
    share: float
    #: Marginal eta-squared for a main effect; for an interaction
    #: (SS(cells) - SS(a) - SS(b)) / SS(total).
    eta_squared: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "params": list(self.params),
            "kind": self.kind,
            "share": _num(self.share),
            "eta_squared": _num(self.eta_squared),
        }


@dataclass(frozen=True)
class MetricSensitivity:
    """Variance decomposition of one metric."""

    metric: str
    n: int
    variance: float
    components: tuple[SensitivityComponent, ...]
    #: Sum of the component shares.
    explained: float
    #: 1 - explained: variance no modelled component accounts for.
    residual: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "metric": self.metric,
            "n": self.n,
            "variance": _num(self.variance),
            "components": [c.to_dict() for c in self.components],
            "explained": _num(self.explained),
            "residual": _num(self.residual),
        }


@dataclass(frozen=True)
class RareClass:
    """A value class run fewer than ``min_count`` times (0 = never run)."""

    param: str
    label: str
    count: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"param": self.param, "label": self.label, "count": self.count}


@dataclass(frozen=True)
class ConfoundedPair:
    """Two parameters whose classes always changed together in the data.

    ``kind`` is "identical" (one-to-one: the data cannot tell them apart at all) or "nested"
    (the first parameter's class determines the second's).  ``missing`` lists class-label
    combinations ``(label of params[0], label of params[1])`` never run.
    """

    params: tuple[str, str]
    kind: str
    missing: tuple[tuple[str, str], ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "params": list(self.params),
            "kind": self.kind,
            "missing": [{self.params[0]: a, self.params[1]: b} for a, b in self.missing],
        }


@dataclass(frozen=True)
class FlakyGroup:
    """A config (and test id) that both passed and failed."""

    config_key: str
    test_id: str
    runs: int
    failures: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "config_key": self.config_key,
            "test_id": self.test_id,
            "runs": self.runs,
            "failures": self.failures,
        }


@dataclass(frozen=True)
class Suggestion:
    """A run that would resolve an ambiguity: the class label to give each listed parameter."""

    reason: str
    assignment: tuple[tuple[str, str], ...]
    text: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"reason": self.reason, "assignment": dict(self.assignment), "text": self.text}


@dataclass(frozen=True)
class AnalysisWarning:
    """Something the data cannot support, with a stable machine-readable ``code``."""

    code: str
    message: str
    params: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"code": self.code, "message": self.message, "params": list(self.params)}


@dataclass(frozen=True)
class Confidence:
    """Limits of the data."""

    rare_classes: tuple[RareClass, ...]
    constant_params: tuple[str, ...]
    absent_params: tuple[str, ...]
    confounded: tuple[ConfoundedPair, ...]
    flaky_groups: tuple[FlakyGroup, ...]
    flaky_rows: int
    #: "exclude" (flaky rows left out of failure impact and pattern mining) or "keep".
    flaky_policy: str
    suggestions: tuple[Suggestion, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "rare_classes": [r.to_dict() for r in self.rare_classes],
            "constant_params": list(self.constant_params),
            "absent_params": list(self.absent_params),
            "confounded": [c.to_dict() for c in self.confounded],
            "flaky_groups": [g.to_dict() for g in self.flaky_groups],
            "flaky_rows": self.flaky_rows,
            "flaky_policy": self.flaky_policy,
            "suggestions": [s.to_dict() for s in self.suggestions],
        }


@dataclass(frozen=True)
class Summary:
    """Headline figures."""

    n_rows: int
    n_skipped: int
    n_excluded_flaky: int
    #: Rows used for failure impact and pattern mining.
    n_used: int
    n_failures: int
    failure_rate: float
    n_params: int
    metrics: tuple[str, ...]
    n_atoms: int
    n_candidates: int
    headline: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "n_rows": self.n_rows,
            "n_skipped": self.n_skipped,
            "n_excluded_flaky": self.n_excluded_flaky,
            "n_used": self.n_used,
            "n_failures": self.n_failures,
            "failure_rate": _num(self.failure_rate),
            "n_params": self.n_params,
            "metrics": list(self.metrics),
            "n_atoms": self.n_atoms,
            "n_candidates": self.n_candidates,
            "headline": self.headline,
        }


@dataclass(frozen=True)
class AnalysisReport:
    """The result of :func:`analyze_encoded` / :func:`analyze`."""

    summary: Summary
    impact: tuple[ParameterImpact, ...]
    patterns: tuple[Pattern, ...]
    masked: tuple[MaskedCondition, ...]
    sensitivity: tuple[MetricSensitivity, ...]
    confidence: Confidence
    warnings: tuple[AnalysisWarning, ...]
    settings: AnalysisSettings

    def to_dict(self, max_rows: int | None = 1000) -> dict[str, Any]:
        """JSON-ready dict (schema in ``docs/analysis.md``); pattern row lists cut to
        ``max_rows`` (None = all)."""
        return {
            "schema": "configlab.analysis._analysis/1",
            "summary": self.summary.to_dict(),
            "impact": [i.to_dict() for i in self.impact],
            "patterns": [p.to_dict(max_rows) for p in self.patterns],
            "masked": [m.to_dict() for m in self.masked],
            "sensitivity": [s.to_dict() for s in self.sensitivity],
            "confidence": self.confidence.to_dict(),
            "warnings": [w.to_dict() for w in self.warnings],
            "settings": self.settings.to_dict(),
        }

    # ------------------------------------------------------------------ rendering

    def to_markdown(self, top: int = 15) -> str:
        """Markdown (GitHub-flavoured tables) for CI job summaries."""
        s = self.summary
        out = ["## configlab analysis", "", f"**{s.headline}**", ""]
        out.append(
            f"{s.n_rows} results, {s.n_used} analysed ({s.n_skipped} skipped, "
            f"{s.n_excluded_flaky} flaky excluded), {s.n_failures} failing "
            f"({s.failure_rate:.1%}), {s.n_params} parameters."
        )
        out.append("")
        out.append("### Failure patterns")
        out.append("")
        if self.patterns:
            out.append("| # | condition | support | coverage | confidence | lift | p-value |")
            out.append("|---:|---|---:|---:|---:|---:|---:|")
            for p in self.patterns:
                out.append(
                    f"| {p.rank} | `{_md(p.condition)}` | {p.support} | {p.coverage} | "
                    f"{p.confidence:.1%} | {p.lift:.2f} | {p.p_value:.2e} |"
                )
        else:
            out.append("No condition explains the failures significantly.")
        if self.masked:
            out.append("")
            out.append("Masked (correlated only through a pattern above):")
            out.append("")
            for m in self.masked:
                out.append(
                    f"- `{_md(m.condition)}` (support {m.support}, p {m.p_value:.2e}) "
                    f"is explained by pattern {m.explained_by}"
                )
        out.append("")
        out.append("### Parameter impact on failure")
        out.append("")
        metrics = self.summary.metrics
        head = "| rank | parameter | test | p (BH) | Cramér's V | MI (bits) | risk diff | class |"
        sep = "|---:|---|---|---:|---:|---:|---:|---|"
        for name in metrics:
            head += f" η² {_md(name)} |"
            sep += "---:|"
        out.append(head)
        out.append(sep)
        for imp in self.impact[:top]:
            f = imp.failure
            row = (
                f"| {imp.rank} | `{_md(imp.param)}` | {f.test} | {f.p_adjusted:.2e} | "
                f"{f.cramers_v:.3f} | {f.mutual_information:.3f} | {f.risk_difference:+.3f} | "
                f"{_md(f.risk_class or '')} |"
            )
            for mi in imp.metrics:
                row += f" {mi.eta_squared:.3f} |"
            out.append(row)
        for sens in self.sensitivity:
            out.append("")
            out.append(f"### Sensitivity of `{_md(sens.metric)}` (n = {sens.n})")
            out.append("")
            out.append("| component | kind | share |")
            out.append("|---|---|---:|")
            for c in sens.components[:top]:
                out.append(f"| `{_md(' x '.join(c.params))}` | {c.kind} | {c.share:.1%} |")
            out.append(f"| (residual) | | {sens.residual:.1%} |")
        if self.warnings:
            out.append("")
            out.append("### Warnings")
            out.append("")
            for w in self.warnings:
                out.append(f"- **{w.code}**: {_md(w.message)}")
        if self.confidence.suggestions:
            out.append("")
            out.append("### Suggested runs")
            out.append("")
            for sug in self.confidence.suggestions:
                out.append(f"- {_md(sug.text)}")
        return "\n".join(out) + "\n"

    def to_text(self, width: int = 120, top: int = 15) -> str:
        """Ranked, readable tables for a terminal (rendered with rich, no colour codes)."""
        from rich.console import Console
        from rich.table import Table

        buffer = io.StringIO()
        console = Console(file=buffer, width=width, color_system=None, force_terminal=False)
        console.print(self.summary.headline)
        pt = Table(title="Failure patterns")
        for col in ("#", "condition", "support", "coverage", "confidence", "lift", "p-value"):
            pt.add_column(col, justify="left" if col == "condition" else "right")
        for p in self.patterns:
            pt.add_row(
                str(p.rank),
                p.condition,
                str(p.support),
                str(p.coverage),
                f"{p.confidence:.1%}",
                f"{p.lift:.2f}",
                f"{p.p_value:.2e}",
            )
        console.print(pt)
        for m in self.masked:
            console.print(f"masked: {m.condition} -> explained by pattern {m.explained_by}")
        it = Table(title="Parameter impact on failure")
        for col in ("rank", "parameter", "test", "p (BH)", "V", "MI", "risk diff", "class"):
            it.add_column(col, justify="left" if col in ("parameter", "class") else "right")
        for imp in self.impact[:top]:
            f = imp.failure
            it.add_row(
                str(imp.rank),
                imp.param,
                f.test,
                f"{f.p_adjusted:.2e}",
                f"{f.cramers_v:.3f}",
                f"{f.mutual_information:.3f}",
                f"{f.risk_difference:+.3f}",
                f.risk_class or "",
            )
        console.print(it)
        for sens in self.sensitivity:
            stab = Table(title=f"Sensitivity of {sens.metric} (n = {sens.n})")
            stab.add_column("component")
            stab.add_column("kind")
            stab.add_column("share", justify="right")
            for c in sens.components[:top]:
                stab.add_row(" x ".join(c.params), c.kind, f"{c.share:.1%}")
            stab.add_row("(residual)", "", f"{sens.residual:.1%}")
            console.print(stab)
        for w in self.warnings:
            console.print(f"warning [{w.code}]: {w.message}", markup=False)
        for sug in self.confidence.suggestions:
            console.print(f"suggest: {sug.text}", markup=False)
        return buffer.getvalue()

    def plot_impact(self, path: str | Path, top: int = 20) -> Path:
        """Write a bar chart of parameter impact (Cramér's V on failure, or the largest metric
        eta-squared when nothing failed) to ``path`` (format from the suffix, e.g. ``.png``).

        Needs matplotlib (``pip install configlab[plot]``); uses the Agg canvas, no display.
        """
        try:
            from matplotlib.backends.backend_agg import FigureCanvasAgg
            from matplotlib.figure import Figure
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise AnalysisError(
                "plot_impact needs matplotlib: pip install 'configlab[plot]'"
            ) from exc
        items = list(self.impact[:top])
        use_failure = self.summary.n_failures > 0
        values = [
            i.failure.cramers_v
            if use_failure
            else max((m.eta_squared for m in i.metrics), default=0.0)
            for i in items
        ]
        colors = [
            "#c0392b" if (i.failure.significant if use_failure else False) else "#7f8c8d"
            for i in items
        ]
        fig = Figure(figsize=(8, max(2.0, 0.35 * len(items) + 1.0)))
        FigureCanvasAgg(fig)
        ax = fig.add_subplot(1, 1, 1)
        labels = [i.param for i in items]
        ax.barh(range(len(items)), values, color=colors)
        ax.set_yticks(range(len(items)), labels=labels)
        ax.invert_yaxis()
        ax.set_xlabel("Cramér's V (failure)" if use_failure else "max eta² over metrics")
        ax.set_title("configlab: parameter impact")
        fig.tight_layout()
        target = Path(path)
        try:
            fig.savefig(target)
        except (OSError, ValueError) as exc:
            raise AnalysisError(f"cannot write impact plot to {target}: {exc}") from exc
        return target


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("`", "'")


# =========================================================================== input checks


def _check_settings(settings: AnalysisSettings) -> None:
    problems = []
    if settings.max_order not in (1, 2, 3):
        problems.append(f"max_order must be 1, 2 or 3 (got {settings.max_order!r})")
    if not 0.0 < settings.alpha < 1.0:
        problems.append(f"alpha must be in (0, 1) (got {settings.alpha!r})")
    for name in ("min_support", "min_count", "max_patterns", "top_k", "max_cuts", "max_atoms"):
        value = getattr(settings, name)
        if not isinstance(value, int) or value < 1:
            problems.append(f"{name} must be a positive integer (got {value!r})")
    if not isinstance(settings.max_interactions, int) or settings.max_interactions < 0:
        problems.append(
            f"max_interactions must be a non-negative integer (got {settings.max_interactions!r})"
        )
    if settings.flaky not in ("exclude", "keep"):
        problems.append(f"flaky must be 'exclude' or 'keep' (got {settings.flaky!r})")
    if problems:
        raise AnalysisError("invalid analysis settings: " + "; ".join(problems))


def _check_encoded(enc: EncodedResults) -> None:
    codes = np.asarray(enc.codes)
    n_params = len(enc.params)
    if codes.ndim != 2:
        raise AnalysisError(f"encoded results: codes must be a 2-D matrix, got {codes.ndim}-D")
    n = codes.shape[0]
    if codes.shape[1] != n_params:
        raise AnalysisError(
            f"encoded results: codes have {codes.shape[1]} columns but {n_params} parameters"
        )
    if len(enc.class_labels) != n_params:
        raise AnalysisError(
            f"encoded results: {len(enc.class_labels)} class-label lists for {n_params} parameters"
        )
    if n and n_params:
        if not np.issubdtype(codes.dtype, np.integer):
            raise AnalysisError(f"encoded results: codes must be integers, got {codes.dtype}")
        sizes = np.array([len(labels) for labels in enc.class_labels], dtype=np.int64)
        bad = (codes < 0) | (codes >= sizes[None, :])
        if bad.any():
            row, col = (int(v) for v in np.argwhere(bad)[0])
            raise AnalysisError(
                f"encoded results: row {row}, parameter {enc.params[col]!r}: class code "
                f"{int(codes[row, col])} outside 0..{int(sizes[col]) - 1}"
            )
    outcomes = np.asarray(enc.outcomes)
    if outcomes.shape != (n,):
        raise AnalysisError(f"encoded results: {outcomes.shape[0]} outcomes for {n} rows")
    if n and (outcomes.min() < 0 or outcomes.max() > SKIP):
        raise AnalysisError("encoded results: outcome codes must be 0..3 (pass/fail/error/skip)")
    for kind, mapping in (("metric", enc.metrics), ("numeric parameter", enc.numeric)):
        for name in mapping:
            values = np.asarray(mapping[name])
            if values.shape != (n,):
                raise AnalysisError(
                    f"encoded results: {kind} {name!r} has shape {values.shape}, expected ({n},)"
                )
    for label, seq in (("config_keys", enc.config_keys), ("test_ids", enc.test_ids)):
        if len(seq) not in (0, n):
            raise AnalysisError(f"encoded results: {len(seq)} {label} for {n} rows")


# =========================================================================== preparation


@dataclass(frozen=True)
class _Prepared:
    not_skip: _B
    fail: _B
    used_idx: _I
    flaky_rows: _B
    flaky_groups: tuple[FlakyGroup, ...]


def _prepare(enc: EncodedResults, policy: FlakyPolicy) -> _Prepared:
    outcomes = np.asarray(enc.outcomes, dtype=np.int64)
    not_skip = outcomes != SKIP
    fail = (outcomes == FAIL) | (outcomes == ERROR)
    n = enc.n_rows
    flaky_rows = np.zeros(n, dtype=np.bool_)
    groups: list[FlakyGroup] = []
    if enc.config_keys:
        tests = enc.test_ids if enc.test_ids else ("",) * n
        ids: dict[tuple[str, str], int] = {}
        gid = np.empty(n, dtype=np.int64)
        for i in range(n):
            key = (str(enc.config_keys[i]), str(tests[i]))
            gid[i] = ids.setdefault(key, len(ids))
        runs = np.bincount(gid[not_skip], minlength=len(ids))
        fails = np.bincount(gid[not_skip & fail], minlength=len(ids))
        flaky_gid = (fails > 0) & (fails < runs)
        flaky_rows = flaky_gid[gid] & not_skip
        keys = list(ids)
        for g in np.flatnonzero(flaky_gid):
            groups.append(FlakyGroup(keys[g][0], keys[g][1], int(runs[g]), int(fails[g])))
    used = not_skip & ~flaky_rows if policy == "exclude" else not_skip
    return _Prepared(
        not_skip=not_skip,
        fail=fail,
        used_idx=np.flatnonzero(used).astype(np.int64),
        flaky_rows=flaky_rows,
        flaky_groups=tuple(groups),
    )


@dataclass(frozen=True)
class _Layout:
    """Flat (parameter, class) indexing."""

    sizes: _I
    offsets: _I
    total: int
    width: int

    def pad(self, flat: _F) -> _F:
        out = np.zeros((self.sizes.size, self.width), dtype=np.float64)
        for j in range(self.sizes.size):
            size = int(self.sizes[j])
            out[j, :size] = flat[self.offsets[j] : self.offsets[j] + size]
        return out


def _layout(enc: EncodedResults) -> _Layout:
    sizes = np.array([len(labels) for labels in enc.class_labels], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64) if sizes.size else sizes
    return _Layout(sizes, offsets, int(sizes.sum()), int(sizes.max(initial=0)))


def _class_counts(
    enc: EncodedResults, lay: _Layout, rows: _I, weights: Sequence[_F | None]
) -> list[_F]:
    """Per (parameter, class) row counts (weight None) or sums of each weight vector."""
    if lay.total == 0:
        return [np.zeros((len(enc.params), 0)) for _ in weights]
    flats = [np.zeros(lay.total, dtype=np.float64) for _ in weights]
    step = _CHUNK * 4
    for start in range(0, rows.size, step):
        codes = np.asarray(enc.codes[rows[start : start + step]], dtype=np.int64)
        flat = (codes + lay.offsets[None, :]).ravel()
        for out, w in zip(flats, weights, strict=True):
            if w is None:
                out += np.bincount(flat, minlength=lay.total)
            else:
                tiled = np.broadcast_to(w[start : start + step, None], codes.shape).ravel()
                out += np.bincount(flat, weights=tiled, minlength=lay.total)
    return [lay.pad(f) for f in flats]


# =========================================================================== impact


def _failure_impact(
    counts: _F, fails: _F, enc: EncodedResults, alpha: float
) -> list[FailureImpact]:
    n_params = counts.shape[0]
    if n_params == 0:
        return []
    stat, dof, p, min_exp = st.chi2_kx2(counts, fails)
    tests = ["chi2" if d > 0 else "none" for d in dof]
    p = p.copy()
    for j in range(n_params):
        if dof[j] > 0 and min_exp[j] < 5.0:
            p[j] = st.fisher_kx2(counts[j], fails[j])
            tests[j] = "fisher"
    n = counts.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        v = np.where(n > 0, np.sqrt(stat / np.where(n > 0, n, 1.0)), 0.0)
    mi = st.mutual_information_kx2(counts, fails)
    rd, rd_class = st.risk_difference(counts, fails)
    p_bh = st.bh_adjust(p)
    p_holm = st.holm_adjust(p)
    out = []
    for j in range(n_params):
        cls = int(rd_class[j])
        out.append(
            FailureImpact(
                test=tests[j],
                statistic=float(stat[j]),
                dof=int(dof[j]),
                p_value=float(p[j]),
                p_adjusted=float(p_bh[j]),
                p_holm=float(p_holm[j]),
                cramers_v=float(min(1.0, v[j])),
                mutual_information=float(mi[j]),
                risk_difference=float(rd[j]),
                risk_class=enc.class_labels[j][cls] if cls >= 0 and dof[j] > 0 else None,
                significant=bool(p_bh[j] <= alpha and dof[j] > 0),
            )
        )
    return out


@dataclass(frozen=True)
class _MetricData:
    name: str
    rows: _I
    values: _F  # centred
    total_ss: float
    counts: _F  # (P, C)
    sums: _F  # (P, C) of centred values
    eta: _F
    anova_p: _F
    kruskal_p: _F


def _metric_data(enc: EncodedResults, lay: _Layout, prep: _Prepared, name: str) -> _MetricData:
    raw = np.asarray(enc.metrics[name], dtype=np.float64)
    rows = np.flatnonzero(prep.not_skip & np.isfinite(raw)).astype(np.int64)
    values = raw[rows]
    n = int(rows.size)
    centred = values - values.mean() if n else values
    total_ss = float(centred @ centred) if n else 0.0
    if total_ss <= 1e-300:
        # treat numerically constant metrics as constant
        total_ss = 0.0
    n_params = len(enc.params)
    if n_params == 0 or n < 2 or total_ss == 0.0:
        counts, sums = _class_counts(enc, lay, rows, [None, centred])
        ones = np.ones(n_params)
        return _MetricData(
            name, rows, centred, total_ss, counts, sums, np.zeros(n_params), ones, ones.copy()
        )
    ranks = np.asarray(sps.rankdata(values), dtype=np.float64)
    tie = float(sps.tiecorrect(ranks))
    counts, sums, rank_sums = _class_counts(enc, lay, rows, [None, centred, ranks])
    eta, anova_p = st.anova_from_sums(counts, sums, total_ss, n)
    kruskal_p = st.kruskal_from_rank_sums(counts, rank_sums, n, tie)
    return _MetricData(name, rows, centred, total_ss, counts, sums, eta, anova_p, kruskal_p)


# =========================================================================== atoms


@dataclass(frozen=True)
class _Atoms:
    kind: _I  # _EQ/_NE/_LT/_GE
    col: _I  # parameter column (EQ/NE) or numeric index (LT/GE)
    code: _I  # class code (EQ/NE)
    cut: _F  # threshold (LT/GE)
    group: _I  # one id per parameter path (atoms of a group are never combined)
    paths: tuple[str, ...]  # group id -> path
    numeric_names: tuple[str, ...]

    @property
    def size(self) -> int:
        return int(self.kind.size)

    def take(self, keep: _I) -> _Atoms:
        return _Atoms(
            self.kind[keep],
            self.col[keep],
            self.code[keep],
            self.cut[keep],
            self.group[keep],
            self.paths,
            self.numeric_names,
        )

    def atom(self, i: int, enc: EncodedResults) -> Atom:
        path = self.paths[int(self.group[i])]
        kind = int(self.kind[i])
        if kind in (_EQ, _NE):
            return Atom(path, _OPS[kind], enc.class_labels[int(self.col[i])][int(self.code[i])])
        return Atom(path, _OPS[kind], float(self.cut[i]))


def _numeric_matrix(enc: EncodedResults, names: Sequence[str]) -> _F:
    if not names:
        return np.zeros((enc.n_rows, 0))
    return np.stack([np.asarray(enc.numeric[name], dtype=np.float64) for name in names], axis=1)


class _Matrix:
    """Evaluates atoms as booleans on row subsets."""

    def __init__(self, enc: EncodedResults, atoms: _Atoms, numeric: _F) -> None:
        self.codes = enc.codes
        self.atoms = atoms
        self.numeric = numeric

    def rows(self, rows: _I, cols: _I) -> _B:
        atoms = self.atoms.take(cols)
        kind = atoms.kind
        out = np.empty((rows.size, kind.size), dtype=np.bool_)
        eq, ne = np.flatnonzero(kind == _EQ), np.flatnonzero(kind == _NE)
        lt, ge = np.flatnonzero(kind == _LT), np.flatnonzero(kind == _GE)
        if eq.size or ne.size:
            codes = self.codes[rows]
            if eq.size:
                out[:, eq] = codes[:, atoms.col[eq]] == atoms.code[eq][None, :]
            if ne.size:
                out[:, ne] = codes[:, atoms.col[ne]] != atoms.code[ne][None, :]
        if lt.size or ge.size:
            num = self.numeric[rows]
            with np.errstate(invalid="ignore"):
                if lt.size:
                    out[:, lt] = num[:, atoms.col[lt]] < atoms.cut[lt][None, :]
                if ge.size:
                    out[:, ge] = num[:, atoms.col[ge]] >= atoms.cut[ge][None, :]
        return out

    def holds(self, rows: _I, members: Sequence[int]) -> _B:
        """Rows (of ``rows``) where every atom in ``members`` holds."""
        result: _B = np.all(self.rows(rows, np.asarray(members, dtype=np.int64)), axis=1)
        return result


class _Base:
    """Base indicator columns from which every atom's counts follow linearly.

    Column 0 holds on every row; then one column per (parameter, class) of the equality atoms,
    one per threshold ``x < w`` and one per numeric parameter ("x is a number").  An atom is
    ``c1 * base[p1] + c2 * base[p2]`` (``a != x`` = all - ``a == x``; ``x >= w`` = number -
    ``x < w``), so the co-occurrence counts of all atom pairs are four gathers from the (much
    smaller) base co-occurrence matrix, computed with one float32 matrix product per chunk.
    """

    def __init__(self, enc: EncodedResults, lay: _Layout, atoms: _Atoms, numeric: _F) -> None:
        self.codes = enc.codes
        self.offsets = lay.offsets
        self.numeric = numeric
        self.lut = np.full(max(lay.total, 1), -1, dtype=np.int64)
        lt_key: dict[tuple[int, float], int] = {}
        nn_key: dict[int, int] = {}
        lt_cols: list[int] = []
        lt_cuts: list[float] = []
        nn_cols: list[int] = []
        width = 1
        m = atoms.size
        p1 = np.zeros(m, dtype=np.int64)
        p2 = np.zeros(m, dtype=np.int64)
        c1 = np.ones(m, dtype=np.float64)
        c2 = np.zeros(m, dtype=np.float64)
        for i in np.flatnonzero(atoms.kind == _EQ):
            flat = int(lay.offsets[atoms.col[i]] + atoms.code[i])
            self.lut[flat] = width
            p1[i] = width
            width += 1
        self.n_eq = width - 1
        for i in np.flatnonzero(atoms.kind == _NE):
            flat = int(lay.offsets[atoms.col[i]] + atoms.code[i])
            p1[i], c1[i], p2[i], c2[i] = 0, 1.0, self.lut[flat], -1.0
        for i in np.flatnonzero((atoms.kind == _LT) | (atoms.kind == _GE)):
            q, w = int(atoms.col[i]), float(atoms.cut[i])
            if (q, w) not in lt_key:
                lt_key[(q, w)] = width
                lt_cols.append(q)
                lt_cuts.append(w)
                width += 1
        for i in np.flatnonzero(atoms.kind == _GE):
            q = int(atoms.col[i])
            if q not in nn_key:
                nn_key[q] = width
                nn_cols.append(q)
                width += 1
        for i in np.flatnonzero(atoms.kind == _LT):
            p1[i] = lt_key[(int(atoms.col[i]), float(atoms.cut[i]))]
        for i in np.flatnonzero(atoms.kind == _GE):
            q = int(atoms.col[i])
            p1[i], c1[i], p2[i], c2[i] = nn_key[q], 1.0, lt_key[(q, float(atoms.cut[i]))], -1.0
        self.width = width
        self.lt_cols = np.array(lt_cols, dtype=np.int64)
        self.lt_cuts = np.array(lt_cuts, dtype=np.float64)
        self.nn_cols = np.array(nn_cols, dtype=np.int64)
        self.p1, self.c1, self.p2, self.c2 = p1, c1, p2, c2

    def take(self, keep: _I) -> None:
        self.p1, self.c1 = self.p1[keep], self.c1[keep]
        self.p2, self.c2 = self.p2[keep], self.c2[keep]

    def matrix(self, rows: _I) -> npt.NDArray[np.float32]:
        out = np.zeros((rows.size, self.width + 1), dtype=np.float32)
        out[:, 0] = 1.0
        if self.n_eq:
            cols = self.lut[np.asarray(self.codes[rows], dtype=np.int64) + self.offsets[None, :]]
            out[np.arange(rows.size)[:, None], cols] = 1.0  # -1 (no atom) hits the spare column
        if self.lt_cols.size:
            num = self.numeric[rows]
            start = 1 + self.n_eq
            with np.errstate(invalid="ignore"):
                out[:, start : start + self.lt_cols.size] = (
                    num[:, self.lt_cols] < self.lt_cuts[None, :]
                )
            start += self.lt_cols.size
            out[:, start : start + self.nn_cols.size] = np.isfinite(num[:, self.nn_cols])
        return out[:, : self.width]

    def counts(self, rows: _I, fail: _B) -> tuple[_F, _F]:
        """Base co-occurrence over ``rows`` and over the failing ones among them."""
        nb = np.zeros((self.width, self.width), dtype=np.float64)
        fb = np.zeros((self.width, self.width), dtype=np.float64)
        for start in range(0, rows.size, _CHUNK):
            chunk = rows[start : start + _CHUNK]
            a = self.matrix(chunk)
            nb += a.T @ a
            af = a[fail[chunk]]
            fb += af.T @ af
        return nb, fb

    def full(self, base: _F) -> _F:
        """Counts of every atom pair: ``T base T'`` with the sparse atom-from-base map ``T``."""
        m = self.p1.size
        rows = np.concatenate([np.arange(m), np.arange(m)])
        cols = np.concatenate([self.p1, self.p2])
        vals = np.concatenate([self.c1, self.c2])
        t = sparse.csr_matrix((vals, (rows, cols)), shape=(m, self.width))
        left = np.asarray(t @ base)
        result: _F = np.rint(np.asarray((t @ left.T).T))
        return result


def _threshold_cuts(values: _F, fail: _B, n_used: int, n_fail: int, max_cuts: int) -> list[float]:
    """Candidate cut points ``w`` (atoms ``x < w`` and ``x >= w``) for one numeric parameter.

    Every distinct value when there are few; otherwise the two best supervised cuts for each
    direction (by the hypergeometric score) plus the quartiles.
    """
    finite = np.isfinite(values)
    vals = values[finite]
    distinct = np.unique(vals)
    if distinct.size < 2:
        return []
    if distinct.size <= max_cuts + 1:
        return [float(v) for v in distinct[1:]]
    order = np.argsort(vals, kind="stable")
    sorted_vals = vals[order]
    sorted_fail = fail[finite][order]
    cum_fail = np.concatenate([[0], np.cumsum(sorted_fail)])
    starts = np.searchsorted(sorted_vals, distinct[1:], side="left")  # rows below each cut
    n_lt = starts.astype(np.float64)
    f_lt = cum_fail[starts].astype(np.float64)
    n_ge = vals.size - n_lt
    f_ge = cum_fail[-1] - f_lt
    s_lt = -st.hypergeom_log_sf_bound(f_lt, n_used, n_fail, n_lt)
    s_ge = -st.hypergeom_log_sf_bound(f_ge, n_used, n_fail, n_ge)
    chosen: list[float] = []
    for score in (s_lt, s_ge):
        best = np.argsort(-score, kind="stable")[:2]
        chosen.extend(float(distinct[1:][b]) for b in best if score[b] > 0)
    for q in (0.25, 0.5, 0.75):
        idx = int(np.searchsorted(distinct, np.quantile(vals, q), side="left"))
        idx = min(max(idx, 1), distinct.size - 1)
        chosen.append(float(distinct[idx]))
    return sorted(dict.fromkeys(chosen))


def _build_atoms(
    enc: EncodedResults,
    counts: _F,
    prep: _Prepared,
    settings: AnalysisSettings,
    numeric: _F,
) -> _Atoms:
    kind: list[int] = []
    col: list[int] = []
    code: list[int] = []
    cut: list[float] = []
    group: list[int] = []
    paths: list[str] = []
    group_of: dict[str, int] = {}

    def gid(path: str) -> int:
        if path not in group_of:
            group_of[path] = len(paths)
            paths.append(path)
        return group_of[path]

    def add(k: int, c: int, cls: int, w: float, g: int) -> None:
        kind.append(k)
        col.append(c)
        code.append(cls)
        cut.append(w)
        group.append(g)

    n_used = int(prep.used_idx.size)
    present_of = [np.flatnonzero(counts[j] > 0) for j in range(len(enc.params))]
    for j, path in enumerate(enc.params):
        g = gid(path)
        if present_of[j].size >= 2:
            for c in present_of[j]:
                add(_EQ, j, int(c), math.nan, g)
    for j, path in enumerate(enc.params):
        if present_of[j].size >= 3:
            for c in present_of[j]:
                add(_NE, j, int(c), math.nan, group_of[path])
    numeric_names = tuple(sorted(enc.numeric))
    fail_used = prep.fail[prep.used_idx]
    n_fail = int(fail_used.sum())
    for q, name in enumerate(numeric_names):
        values = numeric[prep.used_idx, q]
        g = gid(name)
        for w in _threshold_cuts(values, fail_used, n_used, n_fail, settings.max_cuts):
            add(_LT, q, -1, w, g)
            add(_GE, q, -1, w, g)
    return _Atoms(
        np.array(kind, dtype=np.int64),
        np.array(col, dtype=np.int64),
        np.array(code, dtype=np.int64),
        np.array(cut, dtype=np.float64),
        np.array(group, dtype=np.int64),
        tuple(paths),
        numeric_names,
    )


class _Packed:
    """Bit-packed row masks of the top atoms, for exact 3-way counts by popcount."""

    def __init__(self, mat: _Matrix, top: _I, used: _I, fail: _B) -> None:
        self.n = used.size
        bools = np.zeros((top.size, self.n), dtype=np.bool_)
        for start in range(0, used.size, _CHUNK):
            chunk = used[start : start + _CHUNK]
            bools[:, start : start + chunk.size] = mat.rows(chunk, top).T
        self.bits = self._pack(bools)
        self.fail = self._pack(fail[used][None, :])[0]
        self.bits_fail = self.bits & self.fail[None, :]

    def _pack(self, bools: _B) -> npt.NDArray[np.uint64]:
        words = -(-self.n // 64)
        padded = np.zeros((bools.shape[0], words * 64), dtype=np.bool_)
        padded[:, : self.n] = bools
        packed = np.packbits(padded, axis=1, bitorder="little")
        return np.ascontiguousarray(packed).view(np.uint64)

    def mask(self, rows_mask: _B) -> npt.NDArray[np.uint64]:
        packed: npt.NDArray[np.uint64] = self._pack(rows_mask[None, :])[0]
        return packed

    def counts(self, a: _I, b: _I, c: _I, rem: npt.NDArray[np.uint64] | None) -> tuple[_F, _F]:
        """Rows / failing rows (within ``rem``) where top atoms a, b, c all hold; the triples
        must be sorted by (a, b)."""
        n = np.zeros(a.size)
        f = np.zeros(a.size)
        if a.size == 0:
            return n, f
        change = np.flatnonzero(np.diff(a * (int(b.max()) + 1) + b)) + 1
        bounds = np.concatenate([[0], change, [a.size]])
        for s, e in itertools.pairwise(bounds.tolist()):
            ab = self.bits[a[s]] & self.bits[b[s]]
            if rem is not None:
                ab &= rem
            cs = c[s:e]
            n[s:e] = np.bitwise_count(ab[None, :] & self.bits[cs]).sum(axis=1)
            f[s:e] = np.bitwise_count(ab[None, :] & self.bits_fail[cs]).sum(axis=1)
        return n, f


# =========================================================================== pattern mining


@dataclass(frozen=True)
class _Mined:
    patterns: tuple[Pattern, ...]
    masked: tuple[MaskedCondition, ...]
    n_atoms: int
    n_candidates: int
    hit_limit: bool


def _score(f: _F, n: _F, total: float, fails: float, min_support: int) -> _F:
    """Ranking score: -log of an upper bound on the one-sided Fisher p-value (0 = useless)."""
    s = -st.hypergeom_log_sf_bound(f, total, fails, n)
    return np.where((f >= min_support) & (f * total > n * fails), s, 0.0)


def _proxy(f: _F, n: _F, total: float, fails: float, min_support: int) -> _F:
    """Cheap pre-ranking: n * KL(confidence || base rate) (Chernoff exponent of the tail)."""
    p = fails / total
    out = np.zeros(f.shape, dtype=np.float64)
    idx = np.flatnonzero((f >= min_support) & (f * total > n * fails))
    if idx.size == 0:
        return out
    fv, nv = f[idx], n[idx]
    q = fv / nv
    rest = nv - fv
    with np.errstate(divide="ignore", invalid="ignore"):
        t1 = fv * np.log(q / p)
        t2 = np.where(rest > 0, rest * np.log((rest / nv) / (1.0 - p)), 0.0)
    out[idx] = t1 + t2
    return out


_SHORTLIST = 256
_PAIR_BUDGET = 400_000


def _shortlist(proxy: _F) -> _I:
    """Indices of the (at most ``_SHORTLIST``) best positive proxy scores, in index order."""
    if proxy.size > _SHORTLIST:
        part = np.argpartition(-proxy, _SHORTLIST - 1)[:_SHORTLIST]
    else:
        part = np.arange(proxy.size)
    result: _I = np.sort(part[proxy[part] > 0])
    return result


def _mine(
    enc: EncodedResults,
    lay: _Layout,
    prep: _Prepared,
    atoms: _Atoms,
    numeric: _F,
    settings: AnalysisSettings,
) -> tuple[_Mined, _Atoms, _F]:
    """Enumerate, select (sequential covering) and finalise failure patterns.

    Also returns the equality atoms and their co-occurrence counts (for confounding checks).
    """
    used = prep.used_idx
    fail = prep.fail
    total = float(used.size)
    total_fail = float(fail[used].sum())
    empty = _Mined((), (), 0, 0, False)
    if atoms.size == 0 or total == 0:
        return empty, atoms, np.zeros((0, 0))
    base = _Base(enc, lay, atoms, numeric)
    nb, fb = base.counts(used, fail)
    eq_block = nb[1 : 1 + base.n_eq, 1 : 1 + base.n_eq]
    if total_fail == 0 or total_fail == total:
        return empty, atoms, eq_block
    n_full = base.full(nb)
    f_full = base.full(fb)
    m = atoms.size
    single_n = np.diag(n_full).copy()
    single_f = np.diag(f_full).copy()
    # drop atoms that hold on no row / on every row, and duplicates of an earlier atom
    keep = (single_n > 0) & (single_n < total)
    same = (n_full == single_n[:, None]) & (n_full == single_n[None, :])
    keep &= ~np.triu(same, k=1).any(axis=0)
    if keep.sum() > settings.max_atoms:
        score1 = _score(single_f, single_n, total, total_fail, 1)
        order = np.lexsort((np.arange(m), atoms.kind, -score1))
        keep_idx = order[keep[order]][: settings.max_atoms]
        keep = np.zeros(m, dtype=np.bool_)
        keep[keep_idx] = True
    kept = np.flatnonzero(keep)
    eq_atoms = atoms
    atoms = atoms.take(kept)
    base.take(kept)
    m = atoms.size
    if m == 0:  # pragma: no cover - every built atom holds on some, not all, used rows
        return empty, eq_atoms, eq_block
    mat = _Matrix(enc, atoms, numeric)
    big_n = n_full[np.ix_(kept, kept)]
    big_f = f_full[np.ix_(kept, kept)]
    del n_full, f_full
    n1 = np.diag(big_n).copy()
    f1 = np.diag(big_f).copy()
    group = atoms.group
    ms = settings.min_support

    # ---- static candidate structure (on all used rows)
    pi = pj = np.zeros(0, dtype=np.int64)
    if settings.max_order >= 2:
        pairable = np.ones(m, dtype=np.bool_)
        if m * (m - 1) // 2 > _PAIR_BUDGET:  # too many: "!=" atoms only as singles / in triples
            pairable = atoms.kind != _NE
        iu, ju = np.triu_indices(m, k=1)
        both = pairable[iu] & pairable[ju]
        iu, ju = iu[both], ju[both]
        nij = big_n[iu, ju]
        ok = (group[iu] != group[ju]) & (nij != n1[iu]) & (nij != n1[ju])
        ok &= big_f[iu, ju] >= ms
        pi, pj = iu[ok], ju[ok]
    top = np.zeros(0, dtype=np.int64)
    ta = tb = tc = np.zeros(0, dtype=np.int64)
    packed: _Packed | None = None
    if settings.max_order >= 3 and m >= 3:
        s1 = _proxy(f1, n1, total, total_fail, ms)
        relaxed = s1.copy()
        if pi.size:
            s2 = _proxy(big_f[pi, pj], big_n[pi, pj], total, total_fail, ms)
            synergy = s2 > np.maximum(s1[pi], s1[pj])
            np.maximum.at(relaxed, pi[synergy], s2[synergy])
            np.maximum.at(relaxed, pj[synergy], s2[synergy])
        order = np.lexsort((np.arange(m), -relaxed))
        top = np.sort(order[relaxed[order] > 0][: settings.top_k])
        if top.size >= 3:
            k = top.size
            a_, b_, c_ = (x.ravel() for x in np.meshgrid(*(np.arange(k),) * 3, indexing="ij"))
            tri = (a_ < b_) & (b_ < c_)
            a_, b_, c_ = a_[tri], b_[tri], c_[tri]
            ga, gb, gc = group[top[a_]], group[top[b_]], group[top[c_]]
            ok3 = (ga != gb) & (ga != gc) & (gb != gc)
            ok3 &= big_f[top[a_], top[b_]] >= ms
            a_, b_, c_ = a_[ok3], b_[ok3], c_[ok3]
            packed = _Packed(mat, top, used, fail)
            n3, f3 = packed.counts(a_, b_, c_, None)
            ok3 = (n3 != big_n[top[a_], top[b_]]) & (n3 != big_n[top[a_], top[c_]])
            ok3 &= (n3 != big_n[top[b_], top[c_]]) & (f3 >= ms)
            ta, tb, tc = a_[ok3], b_[ok3], c_[ok3]
    n_candidates = int(m + pi.size + ta.size)

    # ---- sequential covering
    cur_nb, cur_fb = nb.copy(), fb.copy()
    remaining = np.ones(used.size, dtype=np.bool_)
    rem_bits: npt.NDArray[np.uint64] | None = None
    rem_total, rem_fail = total, total_fail
    selected: list[tuple[tuple[int, ...], int]] = []  # (atom indices, new support)
    hit_limit = False
    while rem_fail > 0:
        full_n, full_f = base.full(cur_nb), base.full(cur_fb)
        cand_n = [np.diag(full_n)]
        cand_f = [np.diag(full_f)]
        if pi.size:
            cand_n.append(full_n[pi, pj])
            cand_f.append(full_f[pi, pj])
        del full_n, full_f
        if packed is not None and ta.size:
            n3, f3 = packed.counts(ta, tb, tc, rem_bits)
            cand_n.append(n3)
            cand_f.append(f3)
        all_n = np.concatenate(cand_n)
        all_f = np.concatenate(cand_f)
        short = _shortlist(_proxy(all_f, all_n, rem_total, rem_fail, ms))
        if short.size == 0:
            break
        exact = _score(all_f[short], all_n[short], rem_total, rem_fail, ms)
        best = int(short[int(np.argmax(exact))])
        if best < m:
            members: tuple[int, ...] = (best,)
        elif best < m + pi.size:
            members = (int(pi[best - m]), int(pj[best - m]))
        else:
            q = best - m - pi.size
            members = (int(top[ta[q]]), int(top[tb[q]]), int(top[tc[q]]))
        p_round = st.hypergeom_sf(int(all_f[best]), int(rem_total), int(rem_fail), int(all_n[best]))
        if min(1.0, p_round * n_candidates) > settings.alpha:
            break
        if len(selected) >= settings.max_patterns:
            hit_limit = True
            break
        rem_pos = np.flatnonzero(remaining)
        covered = mat.holds(used[rem_pos], members)
        removed = used[rem_pos[covered]]
        dn, df = base.counts(removed, fail)
        cur_nb -= dn
        cur_fb -= df
        new_support = int(fail[removed].sum())
        remaining[rem_pos[covered]] = False
        if packed is not None:
            rem_bits = packed.mask(remaining)
        rem_total -= float(removed.size)
        rem_fail -= float(new_support)
        selected.append((members, new_support))

    patterns = _finalise_patterns(enc, mat, atoms, used, fail, selected, n_candidates)
    masked = _masked(
        enc, mat, atoms, used, fail, remaining, patterns, n1, f1, n_candidates, settings
    )
    return _Mined(tuple(patterns), masked, m, n_candidates, hit_limit), eq_atoms, eq_block


def _stats_on(mat: _Matrix, used: _I, fail: _B, members: Sequence[int]) -> tuple[_I, int, int]:
    rows = used[mat.holds(used, members)]
    return rows, int(rows.size), int(fail[rows].sum())


def _finalise_patterns(
    enc: EncodedResults,
    mat: _Matrix,
    atoms: _Atoms,
    used: _I,
    fail: _B,
    selected: list[tuple[tuple[int, ...], int]],
    n_candidates: int,
) -> list[Pattern]:
    total = int(used.size)
    total_fail = int(fail[used].sum())
    base = total_fail / total
    out: list[Pattern] = []
    seen: list[tuple[int, ...]] = []
    for members_in, new_support in selected:
        members = tuple(sorted(members_in))
        rows, cov, sup = _stats_on(mat, used, fail, members)
        # minimality on all rows: drop an atom when the rest explains the same failures with at
        # least the same confidence (i.e. the atom restricts nothing that matters)
        changed = True
        while changed and len(members) > 1:
            changed = False
            for drop in range(len(members)):
                sub = members[:drop] + members[drop + 1 :]
                s_rows, s_cov, s_sup = _stats_on(mat, used, fail, sub)
                if s_sup == sup and s_sup * cov >= sup * s_cov:
                    members, rows, cov, sup = sub, s_rows, s_cov, s_sup
                    changed = True
                    break
        if members in seen:
            continue
        seen.append(members)
        conf = sup / cov if cov else 0.0
        p = st.hypergeom_sf(sup, total, total_fail, cov)
        out.append(
            Pattern(
                rank=len(out) + 1,
                atoms=tuple(atoms.atom(i, enc) for i in members),
                support=sup,
                coverage=cov,
                confidence=conf,
                lift=conf / base,
                p_value=p,
                p_adjusted=min(1.0, p * n_candidates),
                new_support=new_support,
                rows=tuple(rows.tolist()),
                failing_rows=tuple(rows[fail[rows]].tolist()),
            )
        )
    return out


def _masked(
    enc: EncodedResults,
    mat: _Matrix,
    atoms: _Atoms,
    used: _I,
    fail: _B,
    remaining: _B,
    patterns: list[Pattern],
    n1: _F,
    f1: _F,
    n_candidates: int,
    settings: AnalysisSettings,
) -> tuple[MaskedCondition, ...]:
    """Single atoms significant on their own, on parameters no pattern mentions, that no longer
    are once the patterns' rows are set aside."""
    if not patterns:
        return ()
    total = int(used.size)
    total_fail = int(fail[used].sum())
    base = total_fail / total
    in_pattern = {p for pat in patterns for p in pat.params}
    limit = -math.log(settings.alpha / n_candidates)
    score = _score(f1, n1, total, total_fail, settings.min_support)
    fail_rows = used[fail[used]]
    rem_rows = used[remaining]
    rem_fail = int(fail[rem_rows].sum())
    pattern_fail_sets = [np.asarray(p.failing_rows, dtype=np.int64) for p in patterns]
    out: list[tuple[float, int, MaskedCondition]] = []
    for i in np.flatnonzero(score >= limit):
        atom = atoms.atom(int(i), enc)
        if atom.param in in_pattern:
            continue
        sup, cov = int(f1[i]), int(n1[i])
        p = st.hypergeom_sf(sup, total, total_fail, cov)
        one = np.array([i], dtype=np.int64)
        atom_fail = fail_rows[mat.rows(fail_rows, one)[:, 0]]
        shared = [
            int(np.intersect1d(atom_fail, s, assume_unique=True).size) for s in pattern_fail_sets
        ]
        best = int(np.argmax(shared))
        rem_mask = mat.rows(rem_rows, one)[:, 0]
        r_cov = int(rem_mask.sum())
        r_sup = int(fail[rem_rows[rem_mask]].sum())
        residual = st.hypergeom_sf(r_sup, int(rem_rows.size), rem_fail, r_cov)
        conf = sup / cov
        masked = MaskedCondition(
            atoms=(atom,),
            support=sup,
            confidence=conf,
            lift=conf / base,
            p_value=p,
            residual_p_value=residual,
            explained_by=patterns[best].rank,
            shared_failures=shared[best],
        )
        out.append((p, int(i), masked))
    out.sort(key=lambda t: (t[0], t[1]))
    return tuple(m for _, _, m in out[:20])


# =========================================================================== sensitivity


def _design(
    enc: EncodedResults, params: Sequence[int], pairs: Sequence[tuple[int, int]], counts: _F
) -> tuple[Callable[[_I], npt.NDArray[np.float32]], _I, int]:
    """Design-matrix builder: intercept, one-hot of present classes of ``params`` (in order),
    then cell indicators of each pair.  Returns (builder, column groups, number of groups)."""
    blocks: list[tuple[int, int, _I, _I]] = []  # (a, b or -1, classes of a, classes of b)
    groups: list[int] = [-1]
    for g, j in enumerate(params):
        present = np.flatnonzero(counts[j] > 0)
        blocks.append((j, -1, present, present))
        groups.extend([g] * present.size)
    for h, (a, b) in enumerate(pairs):
        ca, cb = np.meshgrid(
            np.flatnonzero(counts[a] > 0), np.flatnonzero(counts[b] > 0), indexing="ij"
        )
        blocks.append((a, b, ca.ravel(), cb.ravel()))
        groups.extend([len(params) + h] * ca.size)

    def build(chunk: _I) -> npt.NDArray[np.float32]:
        codes = enc.codes[chunk]
        cols = [np.ones((chunk.size, 1), dtype=np.float32)]
        for a, b, ca_, cb_ in blocks:
            hit = codes[:, [a]] == ca_[None, :]
            if b >= 0:
                hit &= codes[:, [b]] == cb_[None, :]
            cols.append(hit.astype(np.float32))
        return np.concatenate(cols, axis=1)

    return build, np.array(groups, dtype=np.int64), len(params) + len(pairs)


def _interaction_screen(
    enc: EncodedResults, md: _MetricData, lay: _Layout, settings: AnalysisSettings
) -> list[tuple[int, int, float]]:
    """Pairs with a significant interaction, largest first.

    Every pair's interaction sum of squares is screened at once on a sample of rows (block sums
    of ``S^2 / N`` over the class co-occurrence matrix), then the best candidates are recomputed
    exactly on all rows with an F test (Bonferroni over all pairs).  Returns (a, b, raw share).
    """
    n_params = len(enc.params)
    present = md.counts > 0
    live = [j for j in range(n_params) if present[j].sum() >= 2]
    if len(live) < 2 or settings.max_interactions == 0:
        return []
    sizes = lay.sizes[live]
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    width = int(sizes.sum())
    n = md.rows.size
    budget = int(min(10000, max(2000, 1e9 // max(width * width, 1))))
    sample = np.linspace(0, n - 1, num=min(n, budget)).astype(np.int64)
    rows = md.rows[sample]
    y = md.values[sample] - md.values[sample].mean()
    a = np.zeros((rows.size, width), dtype=np.float32)
    codes = np.asarray(enc.codes[rows][:, live], dtype=np.int64)
    a[np.arange(rows.size)[:, None], starts[None, :] + codes] = 1.0
    cnt = (a.T @ a).astype(np.float64)
    sums = (a.T @ (a * y[:, None].astype(np.float32))).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.where(cnt > 0, sums * sums / np.where(cnt > 0, cnt, 1.0), 0.0)
    blocks = np.add.reduceat(np.add.reduceat(q, starts, axis=0), starts, axis=1)
    diag = np.diag(blocks)
    inter = blocks - diag[:, None] - diag[None, :]
    iu, ju = np.triu_indices(len(live), k=1)
    vals = inter[iu, ju]
    order = np.lexsort((ju, iu, -vals))[: settings.max_interactions * 3]
    n_pairs = iu.size
    out: list[tuple[int, int, float]] = []
    for o in order:
        ja, jb = live[int(iu[o])], live[int(ju[o])]
        share, p = _exact_interaction(enc, md, lay, ja, jb)
        if share >= 0.005 and p * n_pairs <= settings.alpha:
            out.append((ja, jb, share))
    out.sort(key=lambda t: (-t[2], t[0], t[1]))
    return out[: settings.max_interactions]


def _exact_interaction(
    enc: EncodedResults, md: _MetricData, lay: _Layout, a: int, b: int
) -> tuple[float, float]:
    """Interaction share (SS(cells) - SS(a) - SS(b)) / SS(total) and its F-test p-value."""
    size_b = int(lay.sizes[b])
    cell = np.asarray(enc.codes[md.rows, a], dtype=np.int64) * size_b + enc.codes[md.rows, b]
    length = int(lay.sizes[a]) * size_b
    cnt = np.bincount(cell, minlength=length).astype(np.float64)
    sums = np.bincount(cell, weights=md.values, minlength=length)
    with np.errstate(divide="ignore", invalid="ignore"):
        ss_cells = float(np.where(cnt > 0, sums * sums / np.where(cnt > 0, cnt, 1.0), 0.0).sum())

    def main(j: int) -> float:
        c, s = md.counts[j], md.sums[j]
        with np.errstate(divide="ignore", invalid="ignore"):
            return float(np.where(c > 0, s * s / np.where(c > 0, c, 1.0), 0.0).sum())

    ka = int((md.counts[a] > 0).sum())
    kb = int((md.counts[b] > 0).sum())
    cells = int((cnt > 0).sum())
    ss_int = max(0.0, ss_cells - main(a) - main(b))
    df_int = cells - ka - kb + 1
    df_res = int(md.rows.size) - cells
    ss_res = md.total_ss - ss_cells
    if df_int < 1 or df_res < 1:
        return ss_int / md.total_ss, 1.0
    if ss_res <= 1e-12 * md.total_ss:
        p = 0.0 if ss_int > 1e-12 * md.total_ss else 1.0
    else:
        p = float(sps.f.sf((ss_int / df_int) / (ss_res / df_res), df_int, df_res))
    return ss_int / md.total_ss, p


def _sensitivity(
    enc: EncodedResults, md: _MetricData, lay: _Layout, settings: AnalysisSettings
) -> MetricSensitivity:
    """Sequential (type-I) variance decomposition of one metric."""
    n = int(md.rows.size)
    variance = md.total_ss / (n - 1) if n > 1 else 0.0
    if n < 2 or md.total_ss <= 0 or not enc.params:
        return MetricSensitivity(md.name, n, variance, (), 0.0, 1.0 if n >= 2 else 0.0)
    anova_bh = st.bh_adjust(md.anova_p)
    order = np.lexsort((np.arange(md.eta.size), -md.eta))
    mains: list[int] = []
    width = 1
    for j in order.tolist():
        k = int((md.counts[j] > 0).sum())
        if md.eta[j] < 1e-3 or anova_bh[j] > settings.alpha or len(mains) >= 12:
            continue
        if width + k <= 400:
            mains.append(j)
            width += k
    pairs = _interaction_screen(enc, md, lay, settings)
    for a, b, _ in pairs:
        for j in (a, b):
            if j not in mains:
                mains.append(j)
    design, groups, n_groups = _design(enc, mains, [(a, b) for a, b, _ in pairs], md.counts)
    d = groups.size
    gram = np.zeros((d, d))
    xty = np.zeros(d)
    for start in range(0, n, _CHUNK):
        chunk = md.rows[start : start + _CHUNK]
        x = design(chunk)
        gram += x.T @ x
        xty += md.values[start : start + _CHUNK] @ x.astype(np.float64)
    ss = st.sequential_ss(gram, xty, groups, n_groups)
    shares = np.clip(ss / md.total_ss, 0.0, 1.0)
    comps: list[SensitivityComponent] = []
    for g, j in enumerate(mains):
        comps.append(
            SensitivityComponent((enc.params[j],), "main", float(shares[g]), float(md.eta[j]))
        )
    for h, (a, b, raw) in enumerate(pairs):
        comps.append(
            SensitivityComponent(
                (enc.params[a], enc.params[b]), "interaction", float(shares[len(mains) + h]), raw
            )
        )
    comps.sort(key=lambda c: (-c.share, c.kind, c.params))
    explained = float(min(1.0, sum(c.share for c in comps)))
    return MetricSensitivity(
        md.name, n, variance, tuple(comps), explained, max(0.0, 1.0 - explained)
    )


# =========================================================================== confidence


def _confounded(enc: EncodedResults, atoms: _Atoms, eq_block: _F) -> list[ConfoundedPair]:
    """Parameter pairs whose observed classes determine each other, from the class
    co-occurrence counts of the equality atoms (``eq_block``, in equality-atom order)."""
    eq = np.flatnonzero(atoms.kind == _EQ)
    if eq.size == 0 or eq_block.shape[0] != eq.size:
        return []
    cols = atoms.col[eq]
    codes = atoms.code[eq]
    params = np.unique(cols)
    if params.size < 2:
        return []
    starts = np.searchsorted(cols, params)
    seen = (eq_block > 0).astype(np.int64)
    nnz = np.add.reduceat(np.add.reduceat(seen, starts, axis=0), starts, axis=1)
    k = np.diff(np.concatenate([starts, [eq.size]]))
    ident = (nnz == k[:, None]) & (nnz == k[None, :])
    nest_xy = (nnz == k[:, None]) & ~ident  # x determines y
    nest_yx = (nnz == k[None, :]) & ~ident
    out: list[ConfoundedPair] = []
    xs, ys = np.nonzero(np.triu(ident | nest_xy | nest_yx, k=1))
    for x, y in zip(xs.tolist(), ys.tolist(), strict=True):
        if ident[x, y]:
            kind, first, second = "identical", x, y
        elif nest_xy[x, y]:
            kind, first, second = "nested", x, y
        else:
            kind, first, second = "nested", y, x
        ia = np.flatnonzero(cols == params[first])
        ib = np.flatnonzero(cols == params[second])
        sub = eq_block[np.ix_(ia, ib)]
        pa, pb = int(params[first]), int(params[second])
        missing = tuple(
            (enc.class_labels[pa][int(codes[ia[r]])], enc.class_labels[pb][int(codes[ib[c]])])
            for r, c in np.argwhere(sub == 0)[:12]
        )
        out.append(ConfoundedPair((enc.params[pa], enc.params[pb]), kind, missing))
    return out


# =========================================================================== entry points


def analyze_encoded(
    enc: EncodedResults,
    *,
    max_order: int = 3,
    alpha: float = 0.05,
    min_support: int = 2,
    min_count: int = 5,
    max_patterns: int = 10,
    top_k: int = 24,
    flaky: FlakyPolicy = "exclude",
    max_cuts: int = 8,
    max_atoms: int = 2000,
    max_interactions: int = 5,
) -> AnalysisReport:
    """Find which parameters, values and interactions drive failures and metrics.

    Args:
        enc: the encoded results (one row per test execution).
        max_order: largest number of atoms in a failure pattern (1, 2 or 3).
        alpha: significance level (BH-adjusted for impact, Bonferroni over every enumerated
            candidate condition for patterns).
        min_support: fewest failing rows a pattern must explain.
        min_count: value classes run fewer times are reported as rare.
        max_patterns: most patterns reported.
        top_k: atoms (by their best single or synergistic pairwise score) among which 3-way
            conjunctions are enumerated.
        flaky: "exclude" leaves rows of configs that both passed and failed (same config key and
            test id) out of failure impact and pattern mining; "keep" uses them as they are.
        max_cuts: numeric parameters with at most ``max_cuts + 1`` distinct values get a cut at
            every value; others get the best supervised cuts plus the quartiles.
        max_atoms: cap on candidate atoms (the best by single score are kept).
        max_interactions: most pairwise interactions in each metric's sensitivity.

    Raises:
        AnalysisError: no rows, malformed encoded results, or invalid settings.
    """
    settings = AnalysisSettings(
        max_order=max_order,
        alpha=alpha,
        min_support=min_support,
        min_count=min_count,
        max_patterns=max_patterns,
        top_k=top_k,
        flaky=flaky,
        max_cuts=max_cuts,
        max_atoms=max_atoms,
        max_interactions=max_interactions,
    )
    _check_settings(settings)
    _check_encoded(enc)
    if enc.n_rows == 0:
        raise AnalysisError(
            "cannot analyse 0 results: run some configurations and record their outcomes first"
        )
    warnings: list[AnalysisWarning] = []
    prep = _prepare(enc, settings.flaky)
    lay = _layout(enc)
    used = prep.used_idx
    n_used = int(used.size)
    fail_used = prep.fail[used]
    n_fail = int(fail_used.sum())
    n_params = len(enc.params)

    counts, fails = _class_counts(enc, lay, used, [None, fail_used.astype(np.float64)])
    not_skip_rows = np.flatnonzero(prep.not_skip).astype(np.int64)
    if not_skip_rows.size == used.size:
        all_counts = counts
    else:
        all_counts = _class_counts(enc, lay, not_skip_rows, [None])[0]

    # ---- what the data can support
    if n_params == 0:
        warnings.append(AnalysisWarning("no_parameters", "the results describe no parameters"))
    if n_used == 0:
        warnings.append(
            AnalysisWarning(
                "no_usable_rows",
                f"none of the {enc.n_rows} results can be analysed (all skipped or flaky)",
            )
        )
    elif n_fail == 0:
        warnings.append(
            AnalysisWarning(
                "no_failures",
                f"no failing run among {n_used}: nothing to correlate failures with",
            )
        )
    elif n_fail == n_used:
        warnings.append(
            AnalysisWarning(
                "all_failures",
                f"all {n_used} analysed runs failed: no passing run to contrast with",
            )
        )
    if 0 < n_used < 20:
        warnings.append(
            AnalysisWarning(
                "few_rows", f"only {n_used} runs analysed: results are indicative at best"
            )
        )
    rare: list[RareClass] = []
    constant: list[str] = []
    absent: list[str] = []
    if prep.not_skip.any():
        for j, path in enumerate(enc.params):
            present = np.flatnonzero(all_counts[j] > 0)
            if present.size == 1:
                label = enc.class_labels[j][int(present[0])]
                if label == "absent":
                    absent.append(path)
                else:
                    constant.append(path)
            for c, label in enumerate(enc.class_labels[j]):
                cnt = int(all_counts[j, c])
                if cnt < settings.min_count:
                    rare.append(RareClass(path, label, cnt))
    if constant:
        warnings.append(
            AnalysisWarning(
                "constant_parameter",
                f"{len(constant)} parameter(s) took a single value class, so their effect cannot "
                f"be assessed: {_listing(constant)}",
                tuple(constant),
            )
        )
    if absent:
        warnings.append(
            AnalysisWarning(
                "always_absent",
                f"{len(absent)} parameter(s) were absent in every run: {_listing(absent)}",
                tuple(absent),
            )
        )
    if rare:
        unseen = [r for r in rare if r.count == 0]
        seen = [r for r in rare if r.count > 0]
        if seen:
            warnings.append(
                AnalysisWarning(
                    "rare_classes",
                    f"{len(seen)} value class(es) ran fewer than {settings.min_count} times; "
                    f"conclusions about them are weak: "
                    f"{_listing([f'{r.param}={r.label} ({r.count})' for r in seen])}",
                    tuple(dict.fromkeys(r.param for r in seen)),
                )
            )
        if unseen:
            warnings.append(
                AnalysisWarning(
                    "unseen_classes",
                    f"{len(unseen)} value class(es) never ran, nothing can be said about them: "
                    f"{_listing([f'{r.param}={r.label}' for r in unseen])}",
                    tuple(dict.fromkeys(r.param for r in unseen)),
                )
            )
    flaky_rows = int(prep.flaky_rows.sum())
    if prep.flaky_groups:
        action = (
            "excluded from failure impact and pattern mining"
            if settings.flaky == "exclude"
            else "kept in the analysis (flaky='keep')"
        )
        warnings.append(
            AnalysisWarning(
                "flaky",
                f"{len(prep.flaky_groups)} config(s) both passed and failed across {flaky_rows} "
                f"runs; those runs were {action}",
            )
        )
        all_fail = int((prep.fail & prep.not_skip).sum())
        flaky_fail = int((prep.fail & prep.flaky_rows).sum())
        if settings.flaky == "exclude" and flaky_fail * 5 > all_fail:
            warnings.append(
                AnalysisWarning(
                    "flaky_share_high",
                    f"{flaky_fail} of {all_fail} failures come from flaky configs; if the "
                    "failure is intermittent by nature, rerun the analysis with flaky='keep'",
                )
            )

    # ---- impact
    failure = _failure_impact(counts, fails, enc, settings.alpha)
    metric_names = tuple(sorted(enc.metrics))
    metric_data = [_metric_data(enc, lay, prep, name) for name in metric_names]
    for md in metric_data:
        if md.rows.size == 0:
            warnings.append(
                AnalysisWarning("metric_missing", f"metric {md.name!r} has no finite value")
            )
        elif md.total_ss == 0.0:
            warnings.append(
                AnalysisWarning(
                    "metric_constant",
                    f"metric {md.name!r} never varies: no parameter can explain it",
                )
            )

    # ---- patterns
    numeric = _numeric_matrix(enc, tuple(sorted(enc.numeric)))
    atoms = _build_atoms(enc, counts, prep, settings, numeric)
    mined, eq_atoms, eq_block = _mine(enc, lay, prep, atoms, numeric, settings)
    if mined.hit_limit:
        warnings.append(
            AnalysisWarning(
                "pattern_limit",
                f"more significant patterns exist than max_patterns={settings.max_patterns}",
            )
        )
    if n_fail and n_fail < n_used and not mined.patterns and n_params:
        warnings.append(
            AnalysisWarning(
                "no_pattern",
                f"no condition explains the {n_fail} failure(s) significantly "
                f"(alpha={settings.alpha}, min_support={settings.min_support})",
            )
        )

    # ---- confounding
    confounded = _confounded(enc, eq_atoms, eq_block)
    pattern_params = {p for pat in mined.patterns for p in pat.params}
    impl = pattern_params | {enc.params[j] for j in range(n_params) if failure[j].significant}
    patterns = list(mined.patterns)
    for idx, pat in enumerate(patterns):
        partners = []
        for cp in confounded:
            if cp.kind != "identical":
                continue
            for a, b in (cp.params, cp.params[::-1]):
                if a in pat.params and b not in partners:
                    partners.append(b)
        if partners:
            patterns[idx] = _replace_confounded(pat, tuple(partners))
            warnings.append(
                AnalysisWarning(
                    "pattern_confounded",
                    f"pattern {pat.rank} ({pat.condition}) involves parameters that always "
                    f"changed together with {', '.join(partners)}: the data cannot tell which "
                    "one matters",
                    tuple(dict.fromkeys(pat.params + tuple(partners))),
                )
            )
    confounded.sort(key=lambda c: (not (c.params[0] in impl or c.params[1] in impl), c.params))
    if confounded:
        warnings.append(
            AnalysisWarning(
                "confounded",
                f"{len(confounded)} parameter pair(s) always changed together: "
                f"{_listing([f'{c.params[0]} ~ {c.params[1]}' for c in confounded])}",
                tuple(dict.fromkeys(p for c in confounded for p in c.params)),
            )
        )
    suggestions: list[Suggestion] = []
    for cp in confounded:
        for la, lb in cp.missing:
            if len(suggestions) >= 20:
                break
            a, b = cp.params
            suggestions.append(
                Suggestion(
                    "confounded",
                    ((a, la), (b, lb)),
                    f"run a config with {a}={la} and {b}={lb} to tell {a} and {b} apart",
                )
            )
    rare_lookup = {(r.param, r.label): r.count for r in rare}
    for pat in patterns:
        for atom in pat.atoms:
            if atom.op == "==" and isinstance(atom.value, str):
                key = (atom.param, atom.value)
                if key in rare_lookup and len(suggestions) < 30:
                    suggestions.append(
                        Suggestion(
                            "rare_class",
                            ((atom.param, atom.value),),
                            f"run more configs with {atom.param}={atom.value} "
                            f"(only {rare_lookup[key]} run(s) support pattern {pat.rank})",
                        )
                    )

    # ---- sensitivity
    sensitivity: list[MetricSensitivity] = []
    for md in metric_data:
        sensitivity.append(_sensitivity(enc, md, lay, settings))

    # ---- assemble impact
    impacts: list[ParameterImpact] = []
    metric_bh = [st.bh_adjust(md.kruskal_p) for md in metric_data]
    keys = []
    for j in range(n_params):
        max_eta = max((float(md.eta[j]) for md in metric_data), default=0.0)
        keys.append((failure[j].p_adjusted, -failure[j].cramers_v, -max_eta, j))
    for rank, (_, _, _, j) in enumerate(sorted(keys), start=1):
        classes = tuple(
            ClassStat(label, int(counts[j, c]), int(fails[j, c]))
            for c, label in enumerate(enc.class_labels[j])
        )
        metrics = tuple(
            MetricImpact(
                metric=md.name,
                n=int(md.rows.size),
                eta_squared=float(md.eta[j]),
                anova_p=float(md.anova_p[j]),
                kruskal_p=float(md.kruskal_p[j]),
                p_adjusted=float(metric_bh[k][j]),
                significant=bool(metric_bh[k][j] <= settings.alpha and md.eta[j] > 0),
            )
            for k, md in enumerate(metric_data)
        )
        impacts.append(
            ParameterImpact(
                param=enc.params[j],
                rank=rank,
                classes=classes,
                failure=failure[j],
                metrics=metrics,
                in_pattern=enc.params[j] in pattern_params,
            )
        )

    headline = _headline(n_used, n_fail, patterns, impacts)
    summary = Summary(
        n_rows=enc.n_rows,
        n_skipped=int((~prep.not_skip).sum()),
        n_excluded_flaky=flaky_rows if settings.flaky == "exclude" else 0,
        n_used=n_used,
        n_failures=n_fail,
        failure_rate=n_fail / n_used if n_used else 0.0,
        n_params=n_params,
        metrics=metric_names,
        n_atoms=mined.n_atoms,
        n_candidates=mined.n_candidates,
        headline=headline,
    )
    confidence = Confidence(
        rare_classes=tuple(rare),
        constant_params=tuple(constant),
        absent_params=tuple(absent),
        confounded=tuple(confounded),
        flaky_groups=prep.flaky_groups,
        flaky_rows=flaky_rows,
        flaky_policy=settings.flaky,
        suggestions=tuple(suggestions),
    )
    return AnalysisReport(
        summary=summary,
        impact=tuple(impacts),
        patterns=tuple(patterns),
        masked=mined.masked,
        sensitivity=tuple(sensitivity),
        confidence=confidence,
        warnings=tuple(warnings),
        settings=settings,
    )


def _replace_confounded(pat: Pattern, partners: tuple[str, ...]) -> Pattern:
    return Pattern(
        rank=pat.rank,
        atoms=pat.atoms,
        support=pat.support,
        coverage=pat.coverage,
        confidence=pat.confidence,
        lift=pat.lift,
        p_value=pat.p_value,
        p_adjusted=pat.p_adjusted,
        new_support=pat.new_support,
        rows=pat.rows,
        failing_rows=pat.failing_rows,
        confounded_with=partners,
    )


def _listing(items: Sequence[str], limit: int = 8) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f", ... ({len(items) - limit} more)" if len(items) > limit else "")


def _headline(
    n_used: int, n_fail: int, patterns: Sequence[Pattern], impacts: Sequence[ParameterImpact]
) -> str:
    if n_used == 0:
        return "No analysable runs."
    text = f"{n_fail} of {n_used} runs failed ({n_fail / n_used:.1%})"
    if patterns:
        p = patterns[0]
        return (
            f"{text}; top pattern: {p.condition} (explains {p.support} failure(s), "
            f"confidence {p.confidence:.0%})."
        )
    significant = [i for i in impacts if i.failure.significant]
    if significant:
        return f"{text}; most associated parameter: {significant[0].param}."
    return f"{text}; no significant cause found."


def analyze(results: Any, space: Any = None, **options: Any) -> AnalysisReport:
    """Analyse a result set: ``results.encode(space)`` then :func:`analyze_encoded`.

    ``results`` is a :class:`configlab.results.ResultSet` (anything with ``encode(space)`` and,
    when ``space`` is None, ``infer_space()``); ``options`` are :func:`analyze_encoded`'s
    keyword arguments.
    """
    unknown = sorted(set(options) - set(AnalysisSettings.__dataclass_fields__))
    if unknown:
        raise AnalysisError(f"analyze(): unknown option(s) {', '.join(unknown)}")
    encode = getattr(results, "encode", None)
    if not callable(encode):
        raise AnalysisError(
            "analyze() needs a result set with an encode(space) method, "
            f"got {type(results).__name__}"
        )
    if space is None:
        infer = getattr(results, "infer_space", None)
        if not callable(infer):
            raise AnalysisError(
                "analyze() was given no space and the results cannot infer one (no infer_space())"
            )
        try:
            space = infer()
        except SpaceError:
            # Nothing could be inferred (e.g. every config is empty): analyse zero parameters,
            # so the report says what cannot be concluded instead of raising.
            space = Space(())
    enc = encode(space)
    if not isinstance(enc, EncodedResults):
        raise AnalysisError(
            f"results.encode() returned {type(enc).__name__}, expected EncodedResults"
        )
    return analyze_encoded(enc, **options)
