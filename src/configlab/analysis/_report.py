"""Report objects of the correlation engine (:class:`AnalysisReport` and its parts).

Every object has ``to_dict()`` (the JSON schema is in ``docs/analysis.md``); the report also
renders Markdown and text and plots the impact bar chart.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from configlab.errors import AnalysisError

_F = npt.NDArray[np.float64]
_I = npt.NDArray[np.int64]
_B = npt.NDArray[np.bool_]
_CHUNK = 8192


FlakyPolicy = Literal["weight", "exclude", "keep"]
AtomValue = str | float | tuple[str, ...]

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
    flaky: FlakyPolicy = "weight"
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
    ``<``, ``<=``, ``>``, ``>=`` (value: a number compared with the raw parameter value, or
    a class label of a choice ordered like versions: ``target-version <= py39``).
    """

    param: str
    op: str
    value: AtomValue

    def __str__(self) -> str:
        if isinstance(self.value, tuple):
            return f"{self.param} in {{{', '.join(_label(v) for v in self.value)}}}"
        if isinstance(self.value, float):
            return f"{self.param} {self.op} {_fmt_number(self.value)}"
        return f"{self.param} {self.op} {_label(self.value)}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: ``{"param", "op", "value"}``."""
        value: Any = list(self.value) if isinstance(self.value, tuple) else self.value
        return {"param": self.param, "op": self.op, "value": value}


def _label(label: str) -> str:
    # an empty label would read as a missing value: show it as the empty string it is
    return label if label else '""'


def _fmt_number(value: float) -> str:
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.6g}"


def _condition(atoms: Sequence[Atom]) -> str:
    """Readable conjunction; ``x > lo`` followed by ``x <= hi`` reads ``lo < x <= hi``."""
    if not atoms:
        return "(always)"
    parts: list[str] = []
    i = 0
    while i < len(atoms):
        a = atoms[i]
        b = atoms[i + 1] if i + 1 < len(atoms) else None
        if (b is not None and a.param == b.param and a.op == ">" and b.op == "<="
                and isinstance(a.value, float) and isinstance(b.value, float)):
            parts.append(f"{_fmt_number(a.value)} < {a.param} <= {_fmt_number(b.value)}")
            i += 2
            continue
        parts.append(str(a))
        i += 1
    return " and ".join(parts)


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
    #: Exact (Clopper-Pearson) 95 % confidence interval of ``confidence``.
    confidence_interval: tuple[float, float] = (0.0, 1.0)

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
            "confidence_interval": [_num(v) for v in self.confidence_interval],
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
    #: A full config realising the assignment that satisfies the space's constraints (set when
    #: the analysis had the space; None otherwise).
    config: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (``config`` only when set)."""
        out: dict[str, Any] = {
            "reason": self.reason, "assignment": dict(self.assignment), "text": self.text,
        }
        if self.config is not None:
            out["config"] = self.config
        return out


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
    #: "weight" (each flaky config counts once, with its majority outcome), "exclude" (flaky
    #: rows left out of failure impact and pattern mining) or "keep".
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
            "schema": "configlab.analysis/1",
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

    def impact_bars(self, top: int = 20) -> tuple[str, str, list[ParameterImpact], list[float]]:
        """What :meth:`plot_impact` draws: (title, x label, parameters, values), the bars sorted
        by the plotted value, largest first (ties by parameter name)."""
        use_failure = self.summary.n_failures > 0
        scored = [
            (
                i.failure.cramers_v
                if use_failure
                else max((m.eta_squared for m in i.metrics), default=0.0),
                i,
            )
            for i in self.impact
        ]
        scored.sort(key=lambda t: (-t[0], t[1].param))
        scored = scored[:top]
        if use_failure:
            title = "configlab: parameter impact on failure (Cramér's V)"
            xlabel = "Cramér's V (failure)"
        else:
            names = ", ".join(self.summary.metrics) or "no metric"
            title = f"configlab: parameter impact on {names} (eta²)"
            xlabel = "max eta² over metrics"
        return title, xlabel, [i for _, i in scored], [v for v, _ in scored]

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
        title, xlabel, items, values = self.impact_bars(top)
        use_failure = self.summary.n_failures > 0
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
        ax.set_xlabel(xlabel)
        ax.set_title(title)
        fig.tight_layout()
        target = Path(path)
        try:
            fig.savefig(target)
        except (OSError, ValueError) as exc:
            raise AnalysisError(f"cannot write impact plot to {target}: {exc}") from exc
        return target


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("`", "'")

