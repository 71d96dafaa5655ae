"""Correlation engine: planted causes, degenerate data, report formats, the analyze() wrapper."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs

from configlab.analysis import AnalysisReport, Atom, analyze, analyze_encoded
from configlab.errors import AnalysisError, ConfiglabError
from configlab.results.encoded import ERROR, FAIL, PASS, SKIP, EncodedResults


def make(
    n: int,
    ks: list[int],
    fail_fn: Any = None,
    *,
    seed: int = 0,
    noise: float = 0.02,
    probs: list[list[float]] | None = None,
    numeric: dict[str, Any] | None = None,
    metrics: dict[str, Any] | None = None,
    keys: tuple[str, ...] = (),
    labels: list[tuple[str, ...]] | None = None,
) -> tuple[EncodedResults, np.ndarray]:
    """Random system: parameter j has ks[j] classes; fail_fn(codes, rng) -> planted failures."""
    rng = np.random.Generator(np.random.PCG64(seed))
    codes = np.empty((n, len(ks)), dtype=np.int32)
    for j, k in enumerate(ks):
        p = None if probs is None else probs[j]
        codes[:, j] = rng.choice(k, size=n, p=p)
    fail = np.zeros(n, dtype=bool) if fail_fn is None else fail_fn(codes, rng)
    fail = fail | (rng.random(n) < noise)
    enc = EncodedResults(
        params=tuple(f"p{j}" for j in range(len(ks))),
        class_labels=tuple(labels or [tuple(f"v{c}" for c in range(k)) for k in ks]),
        codes=codes,
        outcomes=np.where(fail, FAIL, PASS).astype(np.int8),
        metrics=metrics(codes, rng) if callable(metrics) else (metrics or {}),
        numeric=numeric(codes, rng) if callable(numeric) else (numeric or {}),
        config_keys=keys,
    )
    return enc, codes


def conditions(report: AnalysisReport) -> list[str]:
    return [p.condition for p in report.patterns]


# ----------------------------------------------------------------- planted causes


def test_single_value_cause_is_minimal_and_top() -> None:
    enc, codes = make(1500, [3, 4, 2, 3, 5], lambda c, r: c[:, 1] == 2)
    report = analyze_encoded(enc)
    top = report.patterns[0]
    assert top.atoms == (Atom("p1", "==", "v2"),)
    assert top.confidence > 0.95 and top.lift > 2
    assert top.support == int(((codes[:, 1] == 2) & (enc.outcomes == FAIL)).sum())
    assert set(top.rows) == set(np.flatnonzero(codes[:, 1] == 2).tolist())
    assert set(top.failing_rows) <= set(top.rows)
    assert top.p_value < 1e-50 and top.p_adjusted <= 1.0
    assert report.impact[0].param == "p1" and report.impact[0].in_pattern
    assert report.impact[0].failure.risk_class == "v2"


def test_two_way_and_three_way_causes_found_by_sequential_covering() -> None:
    def planted(c: np.ndarray, r: Any) -> np.ndarray:
        pair = (c[:, 0] == 1) & (c[:, 1] == 0)
        triple = (c[:, 2] == 0) & (c[:, 3] == 1) & (c[:, 4] == 2)
        return pair | triple

    enc, _ = make(4000, [3, 3, 3, 3, 3, 4, 2], planted, seed=1)
    found = conditions(analyze_encoded(enc))
    assert found[0] == "p0 == v1 and p1 == v0"
    assert "p2 == v0 and p3 == v1 and p4 == v2" in found[:3]


def test_interaction_only_xor_is_found() -> None:
    def xor(c: np.ndarray, r: Any) -> np.ndarray:
        return (c[:, 0] == 1) ^ (c[:, 1] == 1)

    enc, _ = make(2000, [2, 2, 3, 3, 2], xor, seed=2)
    report = analyze_encoded(enc)
    # neither parameter alone is associated with failure ...
    by_param = {i.param: i for i in report.impact}
    assert not by_param["p0"].failure.significant and not by_param["p1"].failure.significant
    # ... but both halves of the XOR are reported as 2-way patterns
    assert set(conditions(report)[:2]) == {"p0 == v0 and p1 == v1", "p0 == v1 and p1 == v0"}


def test_numeric_threshold_cause() -> None:
    def numeric(c: np.ndarray, r: Any) -> dict[str, np.ndarray]:
        raw = r.integers(1, 61, size=c.shape[0]).astype(float)
        raw[::50] = np.nan  # absent values satisfy no threshold
        return {"timeout_s": raw}

    rng = np.random.Generator(np.random.PCG64(3))
    n = 2000
    raw = rng.integers(1, 61, size=n).astype(float)
    raw[::50] = np.nan
    enc, _ = make(n, [3, 2, 4], None, seed=3, noise=0.02, numeric={"timeout_s": raw})
    outcomes = enc.outcomes.copy()
    with np.errstate(invalid="ignore"):
        outcomes[raw < 7] = FAIL
    enc = EncodedResults(enc.params, enc.class_labels, enc.codes, outcomes, {}, enc.numeric)
    top = analyze_encoded(enc).patterns[0]
    assert top.atoms == (Atom("timeout_s", "<=", 6.0),)
    assert str(top.atoms[0]) == "timeout_s <= 6"
    del numeric


def test_few_distinct_numeric_values_get_every_cut() -> None:
    rng = np.random.Generator(np.random.PCG64(4))
    raw = rng.choice([1.0, 2.0, 5.0, 10.0, 30.0], size=1000)
    enc, _ = make(1000, [2, 3], None, seed=4, noise=0.01, numeric={"retries": raw})
    outcomes = np.where(raw >= 10, FAIL, enc.outcomes).astype(np.int8)
    enc = EncodedResults(enc.params, enc.class_labels, enc.codes, outcomes, {}, enc.numeric)
    top = analyze_encoded(enc).patterns[0]
    assert top.atoms == (Atom("retries", ">", 5.0),)


def test_not_equal_atom() -> None:
    enc, _ = make(2000, [4, 3, 2], lambda c, r: c[:, 0] != 0, seed=5)
    top = analyze_encoded(enc).patterns[0]
    assert top.atoms == (Atom("p0", "!=", "v0"),)


def test_masking_parameter_is_explained_by_the_cause() -> None:
    rng = np.random.Generator(np.random.PCG64(6))
    n = 3000
    a = rng.integers(0, 2, size=n)
    b = np.where(rng.random(n) < 0.85, a, 1 - a)
    other = rng.integers(0, 3, size=n)
    codes = np.stack([a, b, other], axis=1).astype(np.int32)
    fail = (a == 1) & (rng.random(n) < 0.9) | (rng.random(n) < 0.03)
    enc = EncodedResults(
        ("cache", "compress", "mode"),
        (("off", "on"), ("no", "yes"), ("x", "y", "z")),
        codes,
        np.where(fail, FAIL, PASS).astype(np.int8),
    )
    report = analyze_encoded(enc)
    assert report.patterns[0].atoms == (Atom("cache", "==", "on"),)
    assert all("compress" not in p.params for p in report.patterns)
    masked = {m.condition: m for m in report.masked}
    assert "compress == yes" in masked
    assert masked["compress == yes"].explained_by == 1
    assert masked["compress == yes"].residual_p_value > 0.01
    by_param = {i.param: i for i in report.impact}
    assert by_param["compress"].failure.significant and not by_param["compress"].in_pattern
    assert "is explained by pattern 1" in report.to_markdown()
    assert "explained by pattern 1" in report.to_text()
    assert report.to_dict()["masked"][0]["explained_by"] == 1


def test_flaky_rows_are_excluded_and_reported() -> None:
    rng = np.random.Generator(np.random.PCG64(7))
    half = 1000
    codes = np.repeat(rng.integers(0, 3, size=(half, 4)).astype(np.int32), 2, axis=0)
    cause = (codes[:, 0] == 2) & (codes[:, 1] == 1)
    fail = cause | (rng.random(2 * half) < 0.1)
    keys = tuple(f"cfg{i // 2}" for i in range(2 * half))
    enc = EncodedResults(
        tuple(f"p{j}" for j in range(4)),
        tuple(("v0", "v1", "v2") for _ in range(4)),
        codes,
        np.where(fail, ERROR, PASS).astype(np.int8),
        config_keys=keys,
        test_ids=("t",) * (2 * half),
    )
    report = analyze_encoded(enc, flaky="exclude")
    assert report.patterns[0].condition == "p0 == v2 and p1 == v1"
    conf = report.confidence
    assert conf.flaky_policy == "exclude" and conf.flaky_rows > 0
    assert report.summary.n_excluded_flaky == conf.flaky_rows
    assert report.summary.n_used == 2 * half - conf.flaky_rows
    group = conf.flaky_groups[0]
    assert group.runs == 2 and group.failures == 1 and group.test_id == "t"
    assert any(w.code == "flaky" for w in report.warnings)
    kept = analyze_encoded(enc, flaky="keep")
    assert kept.summary.n_used == 2 * half and kept.summary.n_excluded_flaky == 0
    assert kept.patterns[0].condition == "p0 == v2 and p1 == v1"


def test_flaky_configs_are_down_weighted_to_one_run_with_their_majority_outcome() -> None:
    # each config runs three times; 10 % of configs are flaky: one of the three runs flips
    rng = np.random.Generator(np.random.PCG64(5))
    n_cfg = 900
    codes = np.repeat(rng.integers(0, 3, size=(n_cfg, 3)).astype(np.int32), 3, axis=0)
    cause = codes[:, 0] == 1
    fail = cause.copy()
    flip = np.flatnonzero(rng.random(n_cfg) < 0.1) * 3 + rng.integers(0, 3)
    fail[flip] = ~fail[flip]
    keys = tuple(f"cfg{i // 3}" for i in range(3 * n_cfg))
    enc = EncodedResults(("a", "b", "c"), tuple(("x", "y", "z") for _ in range(3)), codes,
                         np.where(fail, FAIL, PASS).astype(np.int8), config_keys=keys)
    report = analyze_encoded(enc)
    conf = report.confidence
    assert conf.flaky_policy == "weight" and len(conf.flaky_groups) == flip.size
    # one run per flaky config is kept (2 of 3 runs agree: never a tie) ...
    assert report.summary.n_used == 3 * n_cfg - 2 * flip.size
    assert report.summary.n_excluded_flaky == 2 * flip.size
    # ... with its majority outcome: the cause then explains every failure, exactly
    top = report.patterns[0]
    assert top.condition == "a == y"
    assert top.support == top.coverage == report.summary.n_failures
    assert any(w.code == "flaky" and "majority" in w.message for w in report.warnings)
    # kept as they are, the flipped runs dilute the cause; excluded, they are lost
    kept = analyze_encoded(enc, flaky="keep")
    assert kept.patterns[0].confidence < 1.0
    assert analyze_encoded(enc, flaky="exclude").summary.n_used == 3 * (n_cfg - flip.size)


def test_intermittent_failure_warns_when_most_failures_are_flaky() -> None:
    keys = tuple(f"c{i // 2}" for i in range(40))
    codes = np.repeat(np.arange(20).reshape(20, 1) % 2, 2, axis=0).astype(np.int32)
    outcomes = np.tile([FAIL, PASS], 20).astype(np.int8)
    enc = EncodedResults(("a",), (("x", "y"),), codes, outcomes, config_keys=keys)
    report = analyze_encoded(enc)
    codes_ = {w.code for w in report.warnings}
    assert {"flaky", "flaky_share_high", "no_usable_rows"} <= codes_


def test_skewed_sampling_rare_combination() -> None:
    probs = [[0.7, 0.2, 0.1], [0.75, 0.15, 0.1], [0.5, 0.5], [0.6, 0.3, 0.1]]
    enc, _ = make(3000, [3, 3, 2, 3], lambda c, r: (c[:, 0] == 1) & (c[:, 1] == 1), seed=8,
                  probs=probs)
    assert conditions(analyze_encoded(enc))[0] == "p0 == v1 and p1 == v1"


def test_limits_and_orders() -> None:
    def planted(c: np.ndarray, r: Any) -> np.ndarray:
        return (c[:, 0] == 1) & (c[:, 1] == 2) | (c[:, 2] == 0) & (c[:, 3] == 1)

    enc, _ = make(2000, [3, 3, 3, 2], planted, seed=9)
    singles = analyze_encoded(enc, max_order=1)
    assert all(len(p.atoms) == 1 for p in singles.patterns)
    limited = analyze_encoded(enc, max_patterns=1)
    assert len(limited.patterns) == 1
    assert any(w.code == "pattern_limit" for w in limited.warnings)
    capped = analyze_encoded(enc, max_atoms=3)
    assert capped.summary.n_atoms == 3


# ----------------------------------------------------------------- impact and sensitivity


def test_metric_impact_and_sensitivity() -> None:
    def metrics(c: np.ndarray, r: Any) -> dict[str, np.ndarray]:
        lat = 3.0 * c[:, 0] + 2.0 * (c[:, 1] == c[:, 2]) + r.normal(size=c.shape[0])
        lat[::97] = np.nan
        return {"latency": lat, "flat": np.ones(c.shape[0]), "none": np.full(c.shape[0], np.nan)}

    enc, _ = make(3000, [3, 2, 2, 3, 2], None, seed=10, metrics=metrics, noise=0.0)
    report = analyze_encoded(enc)
    sens = {s.metric: s for s in report.sensitivity}
    lat = sens["latency"]
    assert lat.components[0].params == ("p0",) and lat.components[0].kind == "main"
    inter = [c for c in lat.components if c.kind == "interaction"]
    assert inter and inter[0].params == ("p1", "p2") and inter[0].share > 0.05
    assert sum(c.share for c in lat.components) + lat.residual == pytest.approx(1.0)
    assert 0.0 <= lat.residual <= 1.0 and lat.n == 3000 - len(range(0, 3000, 97))
    assert sens["flat"].components == () and sens["none"].n == 0
    codes_ = {w.code for w in report.warnings}
    assert {"metric_constant", "metric_missing", "no_failures"} <= codes_
    by_param = {i.param: i for i in report.impact}
    m0 = by_param["p0"].metrics[[m.metric for m in by_param["p0"].metrics].index("latency")]
    assert m0.significant and m0.eta_squared > 0.5 and m0.kruskal_p < 1e-10
    # no failure data: impact ranked by metric eta-squared
    assert report.impact[0].param == "p0"


def test_small_counts_use_exact_test() -> None:
    codes = np.array([[0], [0], [0], [1], [1], [1], [1], [1]], dtype=np.int32)
    outcomes = np.array([FAIL, FAIL, FAIL, PASS, PASS, PASS, PASS, FAIL], dtype=np.int8)
    enc = EncodedResults(("a",), (("x", "y"),), codes, outcomes)
    report = analyze_encoded(enc, min_support=1)
    imp = report.impact[0].failure
    assert imp.test == "fisher"
    assert imp.risk_class == "x" and imp.risk_difference == pytest.approx(1.0 - 0.2)
    assert {w.code for w in report.warnings} >= {"few_rows"}


# ----------------------------------------------------------------- confidence / degenerate


def test_zero_rows_raises() -> None:
    enc = EncodedResults(("a",), (("x",),), np.zeros((0, 1), dtype=np.int32),
                         np.zeros(0, dtype=np.int8))
    with pytest.raises(AnalysisError, match="0 results"):
        analyze_encoded(enc)


@pytest.mark.parametrize(
    ("outcome", "code"), [(PASS, "no_failures"), (FAIL, "all_failures"), (SKIP, "no_usable_rows")]
)
def test_uniform_outcomes(outcome: int, code: str) -> None:
    enc, _ = make(50, [2, 3], None, noise=0.0)
    enc = EncodedResults(enc.params, enc.class_labels, enc.codes,
                         np.full(50, outcome, dtype=np.int8))
    report = analyze_encoded(enc)
    assert report.patterns == () and code in {w.code for w in report.warnings}
    assert all(not i.failure.significant for i in report.impact)
    assert report.to_markdown() and report.to_text()


def test_constant_absent_rare_and_unseen_classes() -> None:
    n = 300
    rng = np.random.Generator(np.random.PCG64(11))
    codes = np.stack(
        [
            np.zeros(n),  # constant
            np.full(n, 1),  # always absent
            np.where(np.arange(n) < 3, 1, 0),  # class 1 rare, class 2 never run
            rng.integers(0, 2, size=n),
        ],
        axis=1,
    ).astype(np.int32)
    outcomes = np.where(codes[:, 3] == 1, FAIL, PASS).astype(np.int8)
    enc = EncodedResults(
        ("const", "opt", "rare", "ok"),
        (("only",), ("set", "absent"), ("a", "b", "c"), ("off", "on")),
        codes,
        outcomes,
    )
    report = analyze_encoded(enc)
    conf = report.confidence
    assert conf.constant_params == ("const",) and conf.absent_params == ("opt",)
    rare = {(r.param, r.label): r.count for r in conf.rare_classes}
    assert rare[("rare", "b")] == 3 and rare[("rare", "c")] == 0 and rare[("opt", "set")] == 0
    codes_ = {w.code for w in report.warnings}
    assert {"constant_parameter", "always_absent", "rare_classes", "unseen_classes"} <= codes_
    assert report.patterns[0].condition == "ok == on"


def test_confounded_parameters_and_suggestions() -> None:
    rng = np.random.Generator(np.random.PCG64(12))
    n = 600
    a = rng.integers(0, 2, size=n)
    mode = rng.integers(0, 3, size=n)
    codes = np.stack([a, a, mode, mode % 2, rng.integers(0, 2, size=n)], axis=1).astype(np.int32)
    fail = (a == 1) | (rng.random(n) < 0.02)
    enc = EncodedResults(
        ("tls", "http2", "mode", "parity", "z"),
        (("off", "on"), ("no", "yes"), ("m0", "m1", "m2"), ("even", "odd"), ("p", "q")),
        codes,
        np.where(fail, FAIL, PASS).astype(np.int8),
        metrics={"t": a * 2.0 + rng.normal(size=n)},
    )
    report = analyze_encoded(enc)
    assert all(c.kind == "main" for c in report.sensitivity[0].components)
    pairs = {c.params: c for c in report.confidence.confounded}
    ident = pairs[("tls", "http2")]
    assert ident.kind == "identical"
    assert set(ident.missing) == {("off", "yes"), ("on", "no")}
    nested = pairs[("mode", "parity")]
    assert nested.kind == "nested" and ("m0", "odd") in nested.missing
    top = report.patterns[0]
    assert top.confounded_with and {"tls", "http2"} == set(top.params) | set(top.confounded_with)
    texts = [s.text for s in report.confidence.suggestions]
    assert "run a config with tls=off and http2=yes to tell tls and http2 apart" in texts
    assert report.confidence.suggestions[0].assignment[0][0] == "tls"
    assert {"confounded", "pattern_confounded"} <= {w.code for w in report.warnings}
    assert report.to_dict()["confidence"]["confounded"][0]["missing"]


def test_rare_class_in_pattern_suggests_more_runs() -> None:
    codes = np.zeros((200, 2), dtype=np.int32)
    codes[:4, 0] = 1
    codes[:, 1] = np.arange(200) % 2
    outcomes = np.where(codes[:, 0] == 1, FAIL, PASS).astype(np.int8)
    outcomes[10] = FAIL
    enc = EncodedResults(("a", "b"), (("x", "y"), ("u", "v")), codes, outcomes)
    report = analyze_encoded(enc)
    assert report.patterns[0].condition == "a == y"
    assert any(s.reason == "rare_class" and s.assignment == (("a", "y"),)
               for s in report.confidence.suggestions)


def test_no_parameters() -> None:
    enc = EncodedResults((), (), np.zeros((5, 0), dtype=np.int32),
                         np.array([0, 1, 0, 1, 0], dtype=np.int8), metrics={"t": np.arange(5.0)})
    report = analyze_encoded(enc)
    assert report.impact == () and report.patterns == ()
    assert "no_parameters" in {w.code for w in report.warnings}


def test_no_significant_pattern() -> None:
    enc, _ = make(300, [2, 3], None, seed=13, noise=0.1)
    report = analyze_encoded(enc)
    assert report.patterns == () and "no_pattern" in {w.code for w in report.warnings}
    assert "no significant cause" in report.summary.headline


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_order": 4}, "max_order"),
        ({"alpha": 0.0}, "alpha"),
        ({"min_support": 0}, "min_support"),
        ({"max_interactions": -1}, "max_interactions"),
        ({"flaky": "drop"}, "flaky"),
    ],
)
def test_invalid_settings(kwargs: dict[str, Any], message: str) -> None:
    enc, _ = make(10, [2], None)
    with pytest.raises(AnalysisError, match=message):
        analyze_encoded(enc, **kwargs)


def _enc(**over: Any) -> EncodedResults:
    base: dict[str, Any] = {
        "params": ("a", "b"),
        "class_labels": (("x", "y"), ("u", "v", "w")),
        "codes": np.array([[0, 1], [1, 2]], dtype=np.int32),
        "outcomes": np.array([0, 1], dtype=np.int8),
    }
    base.update(over)
    return EncodedResults(**base)


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"codes": np.zeros(2, dtype=np.int32)}, "2-D"),
        ({"codes": np.zeros((2, 3), dtype=np.int32)}, "3 columns"),
        ({"class_labels": (("x", "y"),)}, "class-label lists"),
        ({"codes": np.array([[0, 3], [1, 2]], dtype=np.int32)}, "row 0, parameter 'b'"),
        ({"codes": np.array([[0.5, 1], [1, 2]])}, "integers"),
        ({"outcomes": np.array([0], dtype=np.int8)}, "1 outcomes"),
        ({"outcomes": np.array([0, 7], dtype=np.int8)}, "outcome codes"),
        ({"metrics": {"t": np.zeros(3)}}, "metric 't'"),
        ({"numeric": {"a": np.zeros(1)}}, "numeric parameter 'a'"),
        ({"config_keys": ("k",)}, "config_keys"),
        ({"config_hashes": np.zeros(3, dtype=np.uint64)}, "config_hashes"),
    ],
)
def test_malformed_encoded_results(over: dict[str, Any], message: str) -> None:
    with pytest.raises(AnalysisError, match=message):
        analyze_encoded(_enc(**over))


# ----------------------------------------------------------------- output formats


def test_report_formats_and_determinism(tmp_path: Path) -> None:
    def metrics(c: np.ndarray, r: Any) -> dict[str, np.ndarray]:
        return {"ms": 2.0 * c[:, 2] + r.normal(size=c.shape[0])}

    enc, _ = make(800, [3, 2, 3, 2], lambda c, r: (c[:, 0] == 1) & (c[:, 1] == 1), seed=14,
                  metrics=metrics, labels=[("a", "b|c", "c"), ("n", "y"), ("0", "1", "2"),
                                           ("`q`", "r")])
    first = analyze_encoded(enc)
    second = analyze_encoded(enc)
    assert json.dumps(first.to_dict(), sort_keys=True) == json.dumps(second.to_dict(),
                                                                     sort_keys=True)
    d = first.to_dict(max_rows=3)
    assert {"impact", "patterns", "sensitivity", "warnings", "summary", "confidence",
            "masked", "settings", "schema"} <= set(d)
    pat = d["patterns"][0]
    assert pat["atoms"] == [{"param": "p0", "op": "==", "value": "b|c"},
                            {"param": "p1", "op": "==", "value": "y"}]
    assert pat["row_count"] > 3 and len(pat["rows"]) == 3 and pat["rows_truncated"]
    full = first.to_dict(max_rows=None)["patterns"][0]
    assert len(full["rows"]) == full["row_count"] and not full["rows_truncated"]
    json.dumps(d, allow_nan=False)
    md = first.to_markdown()
    assert "| # | condition |" in md and "p0 == b\\|c and p1 == y" in md
    assert "### Sensitivity" in md
    text = first.to_text()
    assert "Failure patterns" in text and "p0 == b|c and p1 == y" in text
    out = first.plot_impact(tmp_path / "impact.png")
    assert out.read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(AnalysisError, match="cannot write"):
        first.plot_impact(tmp_path / "missing" / "dir" / "x.png")


def test_plot_without_failures_and_masked_rendering(tmp_path: Path) -> None:
    enc, _ = make(100, [2, 3], None, noise=0.0,
                  metrics=lambda c, r: {"t": c[:, 0] + r.normal(size=100)})
    report = analyze_encoded(enc)
    assert report.plot_impact(tmp_path / "p.svg").exists()


def test_atom_rendering() -> None:
    assert str(Atom("a", "in", ("x", "y"))) == "a in {x, y}"
    assert str(Atom("t", "<", 2.5)) == "t < 2.5"
    assert Atom("a", "in", ("x",)).to_dict() == {"param": "a", "op": "in", "value": ["x"]}


# ----------------------------------------------------------------- analyze() wrapper


class _Results:
    def __init__(self, enc: EncodedResults) -> None:
        self.enc = enc
        self.spaces: list[Any] = []

    def infer_space(self) -> str:
        return "inferred"

    def encode(self, space: Any) -> Any:
        self.spaces.append(space)
        return self.enc


def test_analyze_wrapper_duck_typing() -> None:
    enc, _ = make(500, [3, 2], lambda c, r: c[:, 0] == 1, seed=15)
    results = _Results(enc)
    report = analyze(results)
    assert results.spaces == ["inferred"] and report.patterns[0].condition == "p0 == v1"
    analyze(results, "given", max_order=1)
    assert results.spaces[-1] == "given"
    with pytest.raises(AnalysisError, match="encode"):
        analyze(object())
    with pytest.raises(AnalysisError, match="unknown option"):
        analyze(results, max_ordr=2)

    class NoInfer:
        def encode(self, space: Any) -> EncodedResults:
            return enc

    with pytest.raises(AnalysisError, match="infer"):
        analyze(NoInfer())

    class Wrong(_Results):
        def encode(self, space: Any) -> Any:
            return {"not": "encoded"}

    with pytest.raises(AnalysisError, match="expected EncodedResults"):
        analyze(Wrong(enc), "s")


# ----------------------------------------------------------------- never crashes


@hs.composite
def encoded_results(draw: Any) -> EncodedResults:
    n = draw(hs.integers(1, 40))
    p = draw(hs.integers(0, 5))
    ks = [draw(hs.integers(1, 4)) for _ in range(p)]
    codes = np.array(
        [[draw(hs.integers(0, k - 1)) for k in ks] for _ in range(n)], dtype=np.int32
    ).reshape(n, p)
    outcomes = np.array(draw(hs.lists(hs.integers(0, 3), min_size=n, max_size=n)), dtype=np.int8)
    floats = hs.one_of(hs.floats(-1e6, 1e6), hs.just(float("nan")))
    metrics = {}
    if draw(hs.booleans()):
        metrics["m"] = np.array(draw(hs.lists(floats, min_size=n, max_size=n)))
    numeric = {}
    if p and draw(hs.booleans()):
        numeric["p0"] = np.array(draw(hs.lists(floats, min_size=n, max_size=n)))
    keys: tuple[str, ...] = ()
    if draw(hs.booleans()):
        keys = tuple(draw(hs.lists(hs.sampled_from("abc"), min_size=n, max_size=n)))
    labels = tuple(tuple(f"c{c}" for c in range(k)) for k in ks)
    return EncodedResults(tuple(f"p{j}" for j in range(p)), labels, codes, outcomes, metrics,
                          numeric, keys)


@given(encoded_results(), hs.integers(1, 3), hs.sampled_from(["weight", "exclude", "keep"]))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_random_encoded_results_never_raise(enc: EncodedResults, order: int, flaky: str) -> None:
    try:
        report = analyze_encoded(enc, max_order=order, flaky=flaky, min_support=1)  # type: ignore[arg-type]
    except ConfiglabError:  # pragma: no cover - the property under test
        pytest.fail("analysis raised on valid encoded results")
    json.dumps(report.to_dict(), allow_nan=False)
    report.to_markdown()
    report.to_text()
    for pat in report.patterns:
        assert 0 < pat.support <= pat.coverage and 0.0 <= pat.p_value <= 1.0
    for sens in report.sensitivity:
        assert sens.explained + sens.residual == pytest.approx(1.0) or sens.n < 2


def test_many_confounded_pairs_cap_suggestions_and_nested_order() -> None:
    rng = np.random.Generator(np.random.PCG64(16))
    n = 400
    a = rng.integers(0, 2, size=n)
    mode = rng.integers(0, 3, size=n)
    cols = [*([a] * 6), mode % 2, mode, rng.integers(0, 2, size=n)]
    codes = np.stack(cols, axis=1).astype(np.int32)
    enc = EncodedResults(
        (*(f"c{j}" for j in range(6)), "parity", "mode", "z"),
        (*(("n", "y") for _ in range(6)), ("even", "odd"), ("m0", "m1", "m2"), ("p", "q")),
        codes,
        np.where(codes[:, 8] == 1, FAIL, PASS).astype(np.int8),
    )
    report = analyze_encoded(enc)
    assert len([s for s in report.confidence.suggestions if s.reason == "confounded"]) == 20
    nested = {c.params: c for c in report.confidence.confounded if c.kind == "nested"}
    assert ("mode", "parity") in nested


def test_pair_budget_keeps_not_equal_atoms_single(monkeypatch: pytest.MonkeyPatch) -> None:
    import configlab.analysis._causes as mod

    # no pair fits the budget: the 3-way cells still hold the pair, and parsimony drops the
    # third parameter
    monkeypatch.setattr(mod, "_PAIR_BUDGET", 10)
    enc, _ = make(1500, [4, 4, 3], lambda c, r: (c[:, 0] == 1) & (c[:, 1] == 2), seed=17)
    report = analyze_encoded(enc)
    assert report.patterns[0].condition == "p0 == v1 and p1 == v2"


def test_headline_names_parameter_when_no_pattern_qualifies() -> None:
    enc, _ = make(1000, [3, 2], lambda c, r: c[:, 0] == 1, seed=18)
    report = analyze_encoded(enc, min_support=100_000)
    assert report.patterns == ()
    assert "most associated parameter: p0" in report.summary.headline


def test_noise_free_pure_interaction_metric() -> None:
    enc, _ = make(400, [2, 2, 3], None, seed=19, noise=0.0,
                  metrics=lambda c, r: {"t": (c[:, 0] == c[:, 1]).astype(float)})
    assert analyze_encoded(enc, max_interactions=0).sensitivity[0].residual > 0.9
    sens = analyze_encoded(enc).sensitivity[0]
    assert sens.components[0].params == ("p0", "p1")
    assert sens.components[0].share > 0.98 and sens.residual == pytest.approx(0.0, abs=1e-9)


def test_analyze_without_any_inferable_parameter_reports_instead_of_raising() -> None:
    from configlab.analysis import analyze
    from configlab.results import Result, ResultSet

    report = analyze(ResultSet([Result({}, "fail")] * 10))
    assert report.to_dict()["patterns"] == []
    assert report.warnings
