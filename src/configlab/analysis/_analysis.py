"""Correlation engine: which parameters, values and interactions drive failures and metrics.

The core is :func:`analyze_encoded`, which works on :class:`~configlab.results._model.encoded.
EncodedResults` (a matrix of value-class codes, outcomes and metrics) and returns an
:class:`AnalysisReport` with four parts:

* **impact** — per parameter, how strongly its value class is associated with failure
  (chi-square or exact test, Cramér's V, mutual information, largest risk difference, BH / Holm
  adjusted p-values) and with each numeric metric (eta-squared, ANOVA and Kruskal–Wallis tests);
* **patterns** — minimal conditions (``param == class``, ``!=``, ``in {...}``, intervals
  ``lo < x <= hi`` and their 2- and 3-way conjunctions) that explain the failures, found by the
  explain-away search of :mod:`configlab.analysis._causes`, so a condition that only co-occurs
  with a stronger cause is reported as *masked* rather than as a cause;
* **sensitivity** — per metric, the share of variance explained by each parameter and by the
  strongest pairwise interactions (sequential sums of squares, summing to at most 1);
* **confidence** — what the data cannot support: rare classes, constant or always-absent
  parameters, confounded parameter pairs (with the missing combinations to run), flaky tests.

:func:`analyze` is the thin wrapper taking a result set (anything with ``encode(space)`` and
``infer_space()``).  See ``docs/analysis.md`` for the JSON schema of :meth:`AnalysisReport.to_dict`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from configlab.analysis import _causes
from configlab.analysis import _stats as st
from configlab.analysis._confounding import confounded_pairs
from configlab.analysis._impact import (
    _class_counts,
    _failure_impact,
    _Layout,
    _layout,
    _metric_data,
    _MetricData,
    _prepare,
    _Prepared,
)
from configlab.analysis._report import (
    AnalysisReport,
    AnalysisSettings,
    AnalysisWarning,
    Atom,
    ClassStat,
    Confidence,
    ConfoundedPair,
    FailureImpact,
    FlakyGroup,
    FlakyPolicy,
    MaskedCondition,
    MetricImpact,
    MetricSensitivity,
    ParameterImpact,
    Pattern,
    RareClass,
    SensitivityComponent,
    Suggestion,
    Summary,
)
from configlab.analysis._sensitivity import _sensitivity
from configlab.errors import AnalysisError, SpaceError
from configlab.results import BOOKKEEPING_FIELDS
from configlab.results.encoded import SKIP, EncodedResults
from configlab.space import Space

_F = npt.NDArray[np.float64]
_I = npt.NDArray[np.int64]
_B = npt.NDArray[np.bool_]
_CHUNK = 8192

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
    if settings.flaky not in ("weight", "exclude", "keep"):
        problems.append(f"flaky must be 'weight', 'exclude' or 'keep' (got {settings.flaky!r})")
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
    for label, seq in (("config_keys", enc.config_keys), ("test_ids", enc.test_ids),
                       ("config_hashes", () if enc.config_hashes is None else enc.config_hashes)):
        if len(seq) not in (0, n):
            raise AnalysisError(f"encoded results: {len(seq)} {label} for {n} rows")



# =========================================================================== patterns


@dataclass(frozen=True)
class _Mined:
    patterns: tuple[Pattern, ...]
    masked: tuple[MaskedCondition, ...]
    n_atoms: int
    n_candidates: int
    hit_limit: bool



def _region_atoms(
    enc: EncodedResults, paths: Sequence[str], region: _causes.Region, present: _F
) -> list[Atom]:
    """The atoms a user would write for one region (``present``: class counts in the data)."""
    path = paths[region.param]
    if region.numeric:
        atoms = []
        if region.lo > -math.inf:
            atoms.append(Atom(path, ">", float(region.lo)))
        if region.hi < math.inf:
            atoms.append(Atom(path, "<=", float(region.hi)))
        return atoms
    labels = enc.class_labels[region.param]
    seen = [c for c in range(len(labels)) if present[c] > 0]
    inside = [c for c in seen if c in region.codes]
    outside = [c for c in seen if c not in region.codes]
    if len(inside) == 1:
        return [Atom(path, "==", labels[inside[0]])]
    if len(outside) == 1 and len(seen) >= 3:
        return [Atom(path, "!=", labels[outside[0]])]
    bound = _causes.order_bound(labels, seen, inside)
    if bound is not None:  # versions, levels: ``target-version <= py39``
        return [Atom(path, bound[0], bound[1])]
    return [Atom(path, "in", tuple(labels[c] for c in inside))]


def _present(all_counts: _F, j: int) -> _F:
    # class counts of parameter j; numeric columns outside the space have no classes
    return all_counts[j] if j < all_counts.shape[0] else np.zeros(0)


def _cause_patterns(
    enc: EncodedResults, prep: _Prepared, settings: AnalysisSettings, all_counts: _F,
    counts: tuple[_F, _F],
) -> _Mined:
    """Failure patterns from the explain-away cause search (:mod:`configlab.analysis._causes`);
    ``counts``: the (parameter, class) row and failure counts of the analysed rows."""
    used = prep.used_idx
    if used.size == 0 or not (enc.params or enc.numeric):
        return _Mined((), (), 0, 0, False)
    fail = prep.fail[used]
    # numeric columns that are not parameters of the space (raw values only) are searched too
    extras = sorted(name for name in enc.numeric if name not in enc.params)
    paths = [*enc.params, *extras]
    # one row per parameter: the search and _masked read whole columns, which in the (rows,
    # parameters) layout are strided walks over the whole matrix, one per parameter
    by_param = np.zeros((len(paths), used.size), dtype=np.int32)
    by_param[: len(enc.params)] = enc.codes[used].T
    codes = by_param.T
    index = {path: j for j, path in enumerate(paths)}
    numeric = {index[name]: np.asarray(values, dtype=np.float64)[used]
               for name, values in enc.numeric.items()}
    found, n_tests, n_single, hit = _causes.find_causes(
        codes,
        [len(labels) for labels in enc.class_labels] + [1] * len(extras),
        numeric,
        fail,
        max_order=settings.max_order,
        alpha=settings.alpha,
        min_support=settings.min_support,
        max_causes=settings.max_patterns,
        bins=settings.max_cuts + 1,
        max_cells=settings.max_atoms,
        top_params=settings.top_k,
    )
    total = int(used.size)
    base = float(fail.sum()) / total if total else 0.0
    patterns = []
    for rank, cause in enumerate(found, start=1):
        atoms = [
            a
            for r in sorted(cause.regions, key=lambda r: paths[r.param])
            for a in _region_atoms(enc, paths, r, _present(all_counts, r.param))
        ]
        support = int(cause.failing.size)
        coverage = int(cause.rows.size)
        conf = support / coverage if coverage else 0.0
        patterns.append(
            Pattern(
                rank=rank,
                atoms=tuple(atoms),
                support=support,
                coverage=coverage,
                confidence=conf,
                lift=conf / base if base else 0.0,
                p_value=cause.p_value,
                p_adjusted=cause.p_adjusted,
                new_support=cause.new_support,
                rows=tuple(used[cause.rows].tolist()),
                failing_rows=tuple(used[cause.failing].tolist()),
                confidence_interval=st.clopper_pearson(support, coverage),
            )
        )
    masked = _masked(enc, used, fail, patterns, n_single, settings.alpha, by_param, counts)
    return _Mined(tuple(patterns), masked, n_single, n_tests, hit)


def _masked(
    enc: EncodedResults, used: _I, fail: _B, patterns: Sequence[Pattern], n_single: int,
    alpha: float, by_param: npt.NDArray[np.int32], counts: tuple[_F, _F],
) -> tuple[MaskedCondition, ...]:
    """``param == class`` conditions, on parameters no pattern mentions, that are significant on
    their own (Bonferroni over the single cells) but no longer once the patterns' rows are set
    aside: they merely co-occur with a reported cause.  ``by_param[j]``: parameter ``j``'s
    codes on the ``used`` rows; ``counts``: their (parameter, class) row and failure counts
    (the impact table's, not counted again)."""
    if not patterns:
        return ()
    total = int(used.size)
    total_fail = int(fail.sum())
    base = total_fail / total
    covered = np.zeros(total, dtype=np.bool_)
    fail_sets = []
    for pat in patterns:
        # positions among the analysed rows (``used`` ascends and holds every pattern row)
        rows = np.searchsorted(used, np.asarray(pat.rows, dtype=np.int64))
        covered[rows] = True
        fail_sets.append(rows[fail[rows]])
    rest = ~covered
    rest_total, rest_fail = int(rest.sum()), int(fail[rest].sum())
    in_pattern = {p for pat in patterns for p in pat.params}
    out: list[tuple[float, int, int, MaskedCondition]] = []
    for j, path in enumerate(enc.params):
        if path in in_pattern:
            continue
        col = by_param[j]
        k = len(enc.class_labels[j])
        n, f = counts[0][j, :k], counts[1][j, :k]
        rn = np.bincount(col[rest], minlength=k)
        rf = np.bincount(col[rest & fail], minlength=k)
        for c in np.flatnonzero((n > 0) & (n < total) & (f * total > n * total_fail)):
            p = st.hypergeom_sf(int(f[c]), total, total_fail, int(n[c]))
            if p * max(n_single, 1) > alpha:
                continue
            residual = st.hypergeom_sf(int(rf[c]), rest_total, rest_fail, int(rn[c]))
            if residual <= alpha:
                continue
            holds = col == c
            shared = [int(holds[s].sum()) for s in fail_sets]
            best = int(np.argmax(shared))
            conf = float(f[c] / n[c])
            out.append((p, j, int(c), MaskedCondition(
                atoms=(Atom(path, "==", enc.class_labels[j][int(c)]),),
                support=int(f[c]),
                confidence=conf,
                lift=conf / base,
                p_value=p,
                residual_p_value=residual,
                explained_by=patterns[best].rank,
                shared_failures=shared[best],
            )))
    out.sort(key=lambda t: (t[0], t[1], t[2]))
    return tuple(m for *_, m in out[:20])



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
    flaky: FlakyPolicy = "weight",
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
        flaky: configs that both passed and failed (same config key and test id) are flaky;
            "weight" (default) counts each as a single run with its majority outcome (a tie is
            set aside), so reruns neither add nor cancel evidence; "exclude" leaves all their
            runs out of failure impact and pattern mining; "keep" uses them as they are.
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
    rare, constant, absent, flaky_rows = _data_warnings(
        enc, prep, settings, all_counts, n_used, n_fail, warnings
    )
    # ---- impact
    failure, metric_names, metric_data = _impact_inputs(
        enc, prep, lay, counts, fails, settings, warnings
    )
    # ---- patterns
    mined = _cause_patterns(enc, prep, settings, all_counts, (counts, fails))
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
    patterns, confounded, suggestions = _confounding(
        enc, counts, used, mined, failure, rare, warnings
    )
    pattern_params = {p for pat in mined.patterns for p in pat.params}

    # ---- sensitivity
    sensitivity = [_sensitivity(enc, md, lay, settings) for md in metric_data]
    impacts = _impacts(enc, counts, fails, failure, metric_data, pattern_params, settings)

    headline = _headline(n_used, n_fail, patterns, impacts)
    summary = Summary(
        n_rows=enc.n_rows,
        n_skipped=int((~prep.not_skip).sum()),
        n_excluded_flaky=flaky_rows - int(prep.flaky_rows[prep.used_idx].sum()),
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



def _data_warnings(
    enc: EncodedResults, prep: _Prepared, settings: AnalysisSettings, all_counts: _F,
    n_used: int, n_fail: int, warnings: list[AnalysisWarning],
) -> tuple[list[RareClass], list[str], list[str], int]:
    """Warnings about what the data can support (appended to ``warnings``): rare, constant
    and always-absent parameters, flaky configs.  Returns (rare classes, constant
    parameters, absent parameters, flaky rows)."""
    n_params = len(enc.params)
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
        action = {
            "weight": "down-weighted: each such config counts as one run with its majority "
            "outcome (ties set aside)",
            "exclude": "excluded from failure impact and pattern mining",
            "keep": "kept in the analysis (flaky='keep')",
        }[settings.flaky]
        warnings.append(
            AnalysisWarning(
                "flaky",
                f"{len(prep.flaky_groups)} config(s) both passed and failed across {flaky_rows} "
                f"runs; those runs were {action}",
            )
        )
        all_fail = int((prep.run_fail & prep.not_skip).sum())
        flaky_fail = int((prep.run_fail & prep.flaky_rows).sum())
        if settings.flaky != "keep" and flaky_fail * 5 > all_fail:
            warnings.append(
                AnalysisWarning(
                    "flaky_share_high",
                    f"{flaky_fail} of {all_fail} failures come from flaky configs; if the "
                    "failure is intermittent by nature, rerun the analysis with flaky='keep'",
                )
            )
    return rare, constant, absent, flaky_rows


def _impact_inputs(
    enc: EncodedResults, prep: _Prepared, lay: _Layout, counts: _F, fails: _F,
    settings: AnalysisSettings, warnings: list[AnalysisWarning],
) -> tuple[list[FailureImpact], tuple[str, ...], list[_MetricData]]:
    """Failure impact per parameter and the analysed metrics' data (with their warnings)."""
    failure = _failure_impact(counts, fails, enc, settings.alpha)
    metric_names = tuple(sorted(m for m in enc.metrics if not _bookkeeping(m, enc.metrics)))
    skipped_metrics = sorted(m for m in enc.metrics if m not in metric_names)
    if skipped_metrics:
        warnings.append(
            AnalysisWarning(
                "bookkeeping_metrics",
                f"not analysed as metrics (recorded by the runner, not caused by the config): "
                f"{', '.join(skipped_metrics)}",
            )
        )
    mixed = _mixed_tests(enc, prep)
    if mixed:
        warnings.append(
            AnalysisWarning(
                "mixed_tests",
                f"the results mix {len(mixed)} different tests ({_listing(mixed)}); causes of "
                "unrelated tests are pooled: select one test to analyse it alone",
            )
        )
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
    return failure, metric_names, metric_data


def _confounding(
    enc: EncodedResults, counts: _F, used: _I, mined: _Mined, failure: list[FailureImpact],
    rare: list[RareClass], warnings: list[AnalysisWarning],
) -> tuple[list[Pattern], list[ConfoundedPair], list[Suggestion]]:
    """Confounded parameter pairs, the patterns they affect, and the configs to run to tell
    them apart (and to support patterns resting on rare classes)."""
    n_params = len(enc.params)
    confounded = confounded_pairs(enc, counts, used)
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
    return patterns, confounded, suggestions


def _impacts(
    enc: EncodedResults, counts: _F, fails: _F, failure: list[FailureImpact],
    metric_data: list[_MetricData], pattern_params: set[str], settings: AnalysisSettings,
) -> list[ParameterImpact]:
    """Per-parameter impact, ranked by failure p-value, effect size and metric effect."""
    n_params = len(enc.params)
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
    return impacts


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
        confidence_interval=pat.confidence_interval,
    )


#: metrics the runner records about the run itself (the outcome again, or the wall time of the
#: whole process): never explained
_BOOKKEEPING = frozenset({*BOOKKEEPING_FIELDS, "signal"})


def _bookkeeping(name: str, metrics: Any) -> bool:
    return name in _BOOKKEEPING


def _mixed_tests(enc: EncodedResults, prep: _Prepared) -> list[str]:
    """Distinct tests among the analysed rows (parametrisations ``t[...]`` count as one test);
    empty when there is at most one."""
    if not enc.test_ids:
        return []
    distinct = set(map(enc.test_ids.__getitem__, prep.used_idx.tolist()))
    names = sorted({test.split("[", 1)[0] for test in distinct} - {""})
    return names if len(names) > 1 else []


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
    report = analyze_encoded(enc, **options)
    if isinstance(space, Space):
        # deferred: the SAT solver loads only when suggestions are completed against a space
        from configlab.analysis._suggest import realise_suggestions

        report = realise_suggestions(report, space)
    return report
