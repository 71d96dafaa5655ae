"""Planted-cause data, a strict scorer and simple baselines for ``bench_causes.py``.

This module does not import configlab: the data it writes and the way it scores reported
patterns are independent of the engine under test (configlab is only run through its CLI).

* :func:`make_case` draws one scenario of a family (see :data:`FAMILIES`): parameters of four
  kinds (bool, choice, int, float), planted causes (conjunctions of per-parameter regions, or a
  disjunction of such terms for interaction-only causes), causes firing with a probability,
  background failures and flaky repeats (same config, flipped outcome).
* :func:`score` applies the issue's strict rule: a reported pattern matches a planted cause only
  if it names exactly the cause's parameters and, for each of them, the rows its atoms select
  overlap the true region's rows by >= 70 % (intersection over union).  Interaction-only causes
  (XOR, mod-4 sum, parity) are disjunctions of terms; matching any one term counts.  top-k is
  the share of planted causes whose first match has fewer than k false patterns ranked above it.
* Baselines: chi-square per atom with Benjamini-Hochberg, greedy explain-away Ochiai over atoms
  up to 2-way, decision-tree rules, gradient-boosting permutation importance (scikit-learn).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import orjson

Mask = np.ndarray
#: a reported pattern: parameter -> rows its atoms on that parameter select
Reported = dict[str, Mask]


@dataclass
class Param:
    name: str
    kind: str  # bool, choice (levels in natural order for ordered ones), int, float
    values: np.ndarray  # raw column (bool / int codes for choice / int / float)
    levels: tuple[str, ...] = ()  # choice labels
    ordered: bool = False  # choice levels have a natural order (versions): py37 < ... < py312

    def raw(self, i: int) -> Any:
        v = self.values[i]
        if self.kind == "bool":
            return bool(v)
        if self.kind == "choice":
            return self.levels[int(v)]
        if self.kind == "int":
            return int(v)
        return float(v)

    def label_mask(self, label: Any) -> Mask:
        """Rows whose value equals a reported label or value."""
        if self.kind == "bool":
            text = str(label).lower()
            if text not in ("true", "false"):
                return np.zeros(self.values.shape, bool)
            return self.values == (text == "true")
        if self.kind == "choice":
            text = str(label).strip("'\"")
            if text not in self.levels:
                return np.zeros(self.values.shape, bool)
            return self.values == self.levels.index(text)
        if label in ("min", "max"):
            target = self.values.min() if label == "min" else self.values.max()
            return self.values == target
        try:
            return self.values == float(label)
        except (TypeError, ValueError):
            return np.zeros(self.values.shape, bool)


@dataclass
class Cause:
    kind: str
    #: disjunction of terms; a term maps parameter -> rows of its true region
    terms: list[dict[str, Mask]]
    text: str

    @property
    def params(self) -> frozenset[str]:
        return frozenset(self.terms[0])

    def rows(self) -> Mask:
        out = np.zeros(next(iter(self.terms[0].values())).shape, bool)
        for term in self.terms:
            m = np.ones_like(out)
            for mask in term.values():
                m &= mask
            out |= m
        return out


@dataclass
class Case:
    family: str
    seed: int
    params: list[Param]
    causes: list[Cause]
    fail: Mask
    flaky: Mask = field(default_factory=lambda: np.zeros(0, bool))
    #: runner bookkeeping per row (exit status, wall time): present in the data, never causes
    wall_time: Mask = field(default_factory=lambda: np.zeros(0))

    @property
    def n(self) -> int:
        return int(self.fail.size)

    def by_name(self) -> dict[str, Param]:
        return {p.name: p for p in self.params}

    @property
    def file_format(self) -> str:
        """``jsonl`` or ``csv``: families alternate, as users' data comes in both."""
        return "csv" if self.family in CSV_FAMILIES else "jsonl"

    def write(self, path: Path) -> Path:
        """Write the results file (``path`` gets the format's suffix); returns its path."""
        path = path.with_suffix("." + self.file_format)
        if self.file_format == "csv":
            self.write_csv(path)
        else:
            self.write_jsonl(path)
        return path

    def write_jsonl(self, path: Path) -> None:
        """configlab JSON lines; the runner's exit status and wall time as metrics."""
        with path.open("wb") as handle:
            for i in range(self.n):
                config = {p.name: p.raw(i) for p in self.params}
                row = {"config": config, "outcome": "fail" if self.fail[i] else "pass",
                       "test_id": "test_app",
                       "metrics": {"exit_status": int(self.fail[i]),
                                   "wall_time": round(float(self.wall_time[i]), 3)}}
                handle.write(orjson.dumps(row) + b"\n")

    def write_csv(self, path: Path) -> None:
        """One flat row per run, with the bookkeeping columns a runner adds (``exit_status``,
        ``wall_time``) beside the parameters, as an exported spreadsheet would have them."""
        import csv

        with path.open("w", newline="") as handle:
            out = csv.writer(handle)
            out.writerow([p.name for p in self.params]
                         + ["outcome", "test_id", "exit_status", "wall_time"])
            for i in range(self.n):
                cells = []
                for p in self.params:
                    v = p.raw(i)
                    cells.append(str(v).lower() if isinstance(v, bool) else v)
                out.writerow([*cells, "fail" if self.fail[i] else "pass", "test_app",
                              int(self.fail[i]), round(float(self.wall_time[i]), 3)])


#: families written as flat CSV (the others as JSON lines)
CSV_FAMILIES = frozenset({"sparse", "threshold", "wide"})

#: family -> (params, results, flaky share, cause firing probability range, cause kinds)
FAMILIES: dict[str, tuple[int, int, float, tuple[float, float], tuple[str, ...]]] = {
    "easy": (20, 2000, 0.01, (1.0, 1.0), ("value", "pair", "threshold")),
    "noisy": (30, 2000, 0.10, (0.6, 0.9),
              ("single", "pair", "triple", "threshold", "masker+masked")),
    "sparse": (50, 200, 0.03, (1.0, 1.0), ("single", "pair")),
    "threshold": (30, 2000, 0.03, (1.0, 1.0), ("int_lt", "float_gt", "num_and_bool")),
    "interaction": (30, 3000, 0.02, (1.0, 1.0), ("xor", "mod4", "parity3")),
    "wide": (200, 5000, 0.03, (1.0, 1.0), ("single", "pair", "triple", "threshold")),
    "large": (50, 100_000, 0.05, (1.0, 1.0),
              ("single", "pair", "pair", "triple", "threshold", "masker+masked")),
}
#: background failure rate (failures no configuration explains) per family
BACKGROUND = {"noisy": 0.02}
#: version-like level names of ordered choices (a parameter takes a contiguous run of them)
VERSIONS = ("py36", "py37", "py38", "py39", "py310", "py311", "py312", "py313")


class _Builder:
    def __init__(self, family: str, seed: int) -> None:
        n_params, n, self.flaky_share, self.fire, self.kinds = FAMILIES[family]
        self.family = family
        self.seed = seed
        self.rng = np.random.default_rng(np.random.PCG64(seed * 7919 + len(family)))
        self.n = n
        self.skew = family == "sparse"
        self.params = [self._param(j) for j in range(n_params)]
        self.used: set[str] = set()

    def _weights(self, k: int) -> np.ndarray:
        if not self.skew:
            return np.full(k, 1.0 / k)
        # skewed sampling: a few values common, the rest rare (Zipf-like)
        w = 1.0 / np.arange(1, k + 1) ** 1.3
        return self.rng.permutation(w / w.sum())

    def _param(self, j: int) -> Param:
        rng = self.rng
        name = f"p{j:03d}"
        kind = str(rng.choice(["bool", "choice", "choice", "ordered", "int", "float"]))
        if self.family == "interaction" and j < 10:
            kind = "bool" if j < 5 else "choice4"
        if kind == "bool":
            share = float(rng.uniform(0.2, 0.8)) if self.skew else 0.5
            return Param(name, "bool", rng.random(self.n) < share)
        if kind in ("choice", "choice4"):
            k = 4 if kind == "choice4" else int(rng.integers(3, 9))
            return Param(name, "choice", rng.choice(k, size=self.n, p=self._weights(k)),
                         tuple(f"v{c}" for c in range(k)))
        if kind == "ordered":
            k = int(rng.integers(4, len(VERSIONS) + 1))
            first = int(rng.integers(0, len(VERSIONS) - k + 1))
            return Param(name, "choice", rng.choice(k, size=self.n, p=self._weights(k)),
                         VERSIONS[first : first + k], ordered=True)
        if kind == "int":
            hi = int(rng.choice([64, 1000, 100_000]))
            return Param(name, "int", rng.integers(0, hi, size=self.n))
        if rng.random() < 0.5:
            return Param(name, "float", np.round(rng.random(self.n), 4))
        # heavy-tailed floats with many distinct values (latencies, sizes)
        return Param(name, "float", np.round(rng.lognormal(0.0, 1.0, self.n), 4))

    def free(self, kinds: Sequence[str], ordered: bool | None = None,
             levels: int | None = None) -> list[Param]:
        return [p for p in self.params if p.kind in kinds and p.name not in self.used
                and (ordered is None or p.ordered == ordered)
                and (levels is None or len(p.levels) == levels)]

    def pick(self, kinds: Sequence[str], ordered: bool | None = None,
             levels: int | None = None) -> Param:
        free = self.free(kinds, ordered, levels)
        p = free[int(self.rng.integers(len(free)))]
        self.used.add(p.name)
        return p

    def _common(self, p: Param, share: float) -> np.ndarray:
        counts = np.bincount(p.values, minlength=len(p.levels))
        # values seen often enough to be learnable (skewed sampling makes some rare)
        return np.flatnonzero(counts >= max(3, counts.max() * share))

    def value_atom(self, p: Param, share: float = 0.3) -> tuple[Mask, str]:
        if p.kind == "bool":
            v = bool(self.rng.random() < 0.5)
            return p.values == v, f"{p.name} == {str(v).lower()}"
        ok = self._common(p, share)
        c = int(ok[int(self.rng.integers(ok.size))])
        return p.values == c, f"{p.name} == {p.levels[c]}"

    def set_atom(self, p: Param) -> tuple[Mask, str]:
        """``p in {a, b}`` (two levels, not neighbours when the choice is ordered)."""
        ok = self._common(p, 0.2)
        if ok.size < 2 or len(p.levels) < 4:
            return self.value_atom(p)
        pair = sorted(int(c) for c in self.rng.choice(ok, size=2, replace=False))
        return np.isin(p.values, pair), f"{p.name} in {{{', '.join(p.levels[c] for c in pair)}}}"

    def order_atom(self, p: Param) -> tuple[Mask, str]:
        """``p <= level`` or ``p >= level`` on an ordered choice, a quarter to a half of rows."""
        k = len(p.levels)
        cut = int(self.rng.integers(1, max(2, k // 2) + 1))
        if self.rng.random() < 0.5:
            return p.values < cut, f"{p.name} <= {p.levels[cut - 1]}"
        return p.values >= k - cut, f"{p.name} >= {p.levels[k - cut]}"

    def threshold(self, p: Param, below: bool, share: float) -> tuple[Mask, str]:
        """A cut at an arbitrary point (not a quantile, not a round number) so that about
        ``share`` of the rows are on the failing side."""
        jitter = float(self.rng.uniform(0.7, 1.3))
        q = float(np.quantile(p.values, min(share * jitter, 0.5) if below
                              else 1 - min(share * jitter, 0.5)))
        q = float(math.floor(q)) if p.kind == "int" else float(f"{q:.3g}")
        if below:
            return p.values < q, f"{p.name} < {q:g}"
        return p.values > q, f"{p.name} > {q:g}"

    def conj(self, kinds: Sequence[str], k: int) -> Cause:
        term: dict[str, Mask] = {}
        texts = []
        for _ in range(k):
            p = self.pick(kinds)
            term[p.name], t = self.value_atom(p)
            texts.append(t)
        return Cause("conj", [term], " and ".join(texts))

    def single(self) -> Cause:
        """A one-parameter cause on a choice: ``==`` (half), ``in {..}`` or an order bound."""
        form = self.rng.random()
        if form < 0.25 and self.free(("choice",), ordered=True):
            p = self.pick(("choice",), ordered=True)
            mask, text = self.order_atom(p)
        elif form < 0.5:
            p = self.pick(("choice",))
            mask, text = self.set_atom(p)
        else:
            p = self.pick(("choice",))
            mask, text = self.value_atom(p)
        return Cause("single", [{p.name: mask}], text)

    def cause(self, kind: str) -> list[Cause]:
        cat = ("bool", "choice")
        if kind == "value":
            return [self.conj(("choice",), 1)]
        if kind == "single":
            return [self.single()]
        if kind == "pair":
            return [self.conj(cat, 2)]
        if kind == "triple":
            return [self.conj(("bool",), 3)]
        if kind in ("threshold", "int_lt", "float_gt"):
            kinds = ("int",) if kind == "int_lt" else ("float",) if kind == "float_gt" else (
                "int", "float")
            p = self.pick(kinds)
            below = kind == "int_lt" or (kind == "threshold" and bool(self.rng.random() < 0.5))
            mask, text = self.threshold(p, below, float(self.rng.uniform(0.05, 0.15)))
            return [Cause("threshold", [{p.name: mask}], text)]
        if kind == "num_and_bool":
            p = self.pick(("int", "float"))
            m1, t1 = self.threshold(p, False, float(self.rng.uniform(0.2, 0.4)))
            b = self.pick(("bool",))
            m2, t2 = self.value_atom(b)
            return [Cause("conj", [{p.name: m1, b.name: m2}], f"{t1} and {t2}")]
        if kind == "xor":
            a, b = self.pick(("bool",)), self.pick(("bool",))
            terms = [{a.name: a.values == va, b.name: b.values == (not va)} for va in (True, False)]
            return [Cause("xor", terms, f"{a.name} xor {b.name}")]
        if kind == "mod4":
            a = self.pick(("choice",), ordered=False, levels=4)
            b = self.pick(("choice",), ordered=False, levels=4)
            terms = [{a.name: a.values == i, b.name: b.values == (4 - i) % 4} for i in range(4)]
            return [Cause("mod4", terms, f"({a.name} + {b.name}) mod 4 == 0")]
        if kind == "parity3":
            ps = [self.pick(("bool",)) for _ in range(3)]
            terms = []
            for bits in range(8):
                vals = [bool(bits >> s & 1) for s in range(3)]
                if sum(vals) % 2 == 1:
                    terms.append({p.name: p.values == v for p, v in zip(ps, vals, strict=True)})
            return [Cause("parity3", terms, "parity(" + ", ".join(p.name for p in ps) + ")")]
        if kind == "masker+masked":
            masker = self.pick(("choice",), ordered=False)
            m_mask, m_text = self.value_atom(masker, share=0.5)
            masked = self.conj(("bool", "choice"), 2)
            rows = masked.rows()
            # the masked cause mostly co-occurs with the masker: 70 % of its rows get the
            # masker's value, so its failures look explained by the frequent cause
            code = masker.levels.index(m_text.rsplit(" ", 1)[1])
            move = rows & (self.rng.random(self.n) < 0.7)
            masker.values[move] = code
            m_mask = masker.values == code
            return [Cause("masker", [{masker.name: m_mask}], m_text), masked]
        raise ValueError(kind)

    def build(self) -> Case:
        causes: list[Cause] = []
        for kind in self.kinds:
            causes.extend(self.cause(kind))
        lo, hi = self.fire
        fail = self.rng.random(self.n) < BACKGROUND.get(self.family, 0.005)
        for cause in causes:
            prob = float(self.rng.uniform(lo, hi))
            fail |= cause.rows() & (self.rng.random(self.n) < prob)
        # flaky: a share of rows re-run an earlier row's config with the opposite outcome
        n_flaky = round(self.flaky_share * self.n)
        flaky = np.zeros(self.n, bool)
        if n_flaky:
            by = {p.name: p for p in self.params}
            # regions are sets of values (or value ranges): keep them, rebuild masks after
            specs = [[{name: _spec(by[name], mask) for name, mask in term.items()}
                      for term in cause.terms] for cause in causes]
            dst = self.rng.choice(self.n, size=n_flaky, replace=False)
            src = self.rng.integers(0, self.n, size=n_flaky)
            for p in self.params:
                p.values[dst] = p.values[src]
            fail[dst] = ~fail[src]
            flaky[dst] = True
            causes = [Cause(c.kind, [{name: _mask(by[name], sp) for name, sp in term.items()}
                                     for term in terms], c.text)
                      for c, terms in zip(causes, specs, strict=True)]
        # the runner's wall time: failures crash early, passing runs take their time
        wall = np.where(fail, self.rng.uniform(0.01, 0.2, self.n),
                        self.rng.uniform(0.5, 3.0, self.n))
        return Case(self.family, self.seed, self.params, causes, fail, flaky, wall)


def _spec(p: Param, mask: Mask) -> tuple[Any, ...]:
    if p.kind in ("bool", "choice"):
        return ("set", np.unique(p.values[mask]))
    return ("range", float(p.values[mask].min()), float(p.values[mask].max()))


def _mask(p: Param, spec: tuple[Any, ...]) -> Mask:
    if spec[0] == "set":
        return np.isin(p.values, spec[1])
    return (p.values >= spec[1]) & (p.values <= spec[2])


def make_case(family: str, seed: int) -> Case:
    """One scenario of ``family`` (deterministic in ``seed``)."""
    return _Builder(family, seed).build()


# =========================================================================== scoring


def atom_mask(p: Param, op: str, value: Any) -> Mask:
    """Rows of ``p`` satisfying one reported atom (configlab JSON form)."""
    if op == "==":
        return p.label_mask(value)
    if op == "!=":
        return ~p.label_mask(value)
    if op in ("in", "not in"):
        m = np.zeros(p.values.shape, bool)
        for v in value:
            m |= p.label_mask(v)
        return m if op == "in" else ~m
    if p.kind in ("bool", "choice"):
        if p.kind == "choice" and op in ("<", "<=", ">", ">=") and isinstance(value, str):
            text = value.strip("'\"")
            if text in p.levels:
                c = p.levels.index(text)
                return _cmp(p.values, op, c)
        return np.zeros(p.values.shape, bool)
    try:
        return _cmp(p.values, op, float(value))
    except (TypeError, ValueError):
        return np.zeros(p.values.shape, bool)


def _cmp(values: np.ndarray, op: str, t: float) -> Mask:
    if op == "<":
        return values < t
    if op == "<=":
        return values <= t
    if op == ">":
        return values > t
    if op == ">=":
        return values >= t
    raise ValueError(op)


def reported_from_atoms(case: Case, atoms: Sequence[dict[str, Any]]) -> Reported | None:
    by = case.by_name()
    out: Reported = {}
    for atom in atoms:
        p = by.get(atom["param"])
        if p is None:
            return None
        m = atom_mask(p, atom["op"], atom["value"])
        out[p.name] = out[p.name] & m if p.name in out else m
    return out


def _iou(a: Mask, b: Mask) -> float:
    union = int((a | b).sum())
    return int((a & b).sum()) / union if union else 0.0


def matches(rep: Reported, cause: Cause, threshold: float = 0.7) -> bool:
    if frozenset(rep) != cause.params:
        return False
    return any(all(_iou(rep[name], term[name]) >= threshold for name in term)
               for term in cause.terms)


def score(case: Case, reported: Sequence[Reported], ks: Sequence[int] = (1, 3)) -> dict[int, float]:
    """Share of planted causes found within top-k (strict matching, see module docstring)."""
    is_true = [any(matches(r, c) for c in case.causes) for r in reported]
    out = {}
    for k in ks:
        hits = 0
        for cause in case.causes:
            false_above = 0
            for r, ok in zip(reported, is_true, strict=True):
                if matches(r, cause):
                    hits += false_above < k
                    break
                if not ok:
                    false_above += 1
        out[k] = hits / len(case.causes)
    return out


# =========================================================================== baselines


@dataclass
class _AtomSet:
    names: list[str]
    masks: np.ndarray  # (n_atoms, n) bool

    def reported(self, idx: Sequence[int]) -> Reported:
        out: Reported = {}
        for i in idx:
            name = self.names[i]
            out[name] = out[name] & self.masks[i] if name in out else self.masks[i].copy()
        return out


def _atoms(case: Case, cuts: int = 9) -> _AtomSet:
    names, masks = [], []
    for p in case.params:
        if p.kind == "bool":
            for v in (False, True):
                names.append(p.name)
                masks.append(p.values == v)
        elif p.kind == "choice":
            for c in range(len(p.levels)):
                names.append(p.name)
                masks.append(p.values == c)
        else:
            qs = np.unique(np.quantile(p.values, np.linspace(0, 1, cuts + 2)[1:-1]))
            for q in qs:
                names.append(p.name)
                masks.append(p.values <= q)
                names.append(p.name)
                masks.append(p.values > q)
    return _AtomSet(names, np.array(masks))


def baseline_chi2(case: Case, max_out: int = 10) -> list[Reported]:
    """Chi-square 2x2 test per atom, Benjamini-Hochberg, ranked by adjusted p (risk atoms only)."""
    from scipy import stats

    atoms = _atoms(case)
    m = atoms.masks.astype(np.float64)
    fail = case.fail.astype(np.float64)
    n, nf = float(case.n), float(fail.sum())
    a = m @ fail  # in & fail
    cov = m.sum(axis=1)
    b = cov - a
    c = nf - a
    d = n - nf - b
    with np.errstate(divide="ignore", invalid="ignore"):
        chi = n * (a * d - b * c) ** 2 / ((a + b) * (c + d) * (a + c) * (b + d))
    chi = np.nan_to_num(chi)
    p = stats.chi2.sf(chi, 1)
    order = np.argsort(p, kind="stable")
    ranked = p[order] * len(p) / np.arange(1, len(p) + 1)
    adj = np.minimum.accumulate(ranked[::-1])[::-1]
    q = np.empty_like(adj)
    q[order] = np.minimum(adj, 1)
    risk = a / np.maximum(cov, 1) > nf / n
    keep = [int(i) for i in np.lexsort((-chi, q)) if risk[i] and q[i] < 0.05][:max_out]
    return [atoms.reported([i]) for i in keep]


def baseline_ochiai(case: Case, max_out: int = 10, top: int = 40) -> list[Reported]:
    """Greedy explain-away Ochiai over atoms and their 2-way conjunctions."""
    atoms = _atoms(case)
    masks = atoms.masks
    names = atoms.names
    fail = case.fail.copy()

    def ochiai(cand: np.ndarray, fails: Mask) -> np.ndarray:
        f = cand.astype(np.float32) @ fails.astype(np.float32)
        cov = cand.sum(axis=1).astype(np.float32)
        return f / np.sqrt(np.maximum(float(fails.sum()) * cov, 1e-9))

    s1 = ochiai(masks, fail)
    best = np.argsort(-s1, kind="stable")[:top]
    pairs = [(int(i), int(j)) for x, i in enumerate(best) for j in best[x + 1:]
             if names[int(i)] != names[int(j)]]
    cands: list[tuple[int, ...]] = [(i,) for i in range(len(names))] + pairs
    cmasks = np.concatenate([masks, np.array([masks[i] & masks[j] for i, j in pairs])
                             if pairs else np.zeros((0, case.n), bool)])
    out = []
    remaining = fail.copy()
    for _ in range(max_out):
        if remaining.sum() < 2:
            break
        s = ochiai(cmasks, remaining)
        k = int(np.argmax(s))
        if s[k] <= 0:
            break
        out.append(atoms.reported(cands[k]))
        remaining &= ~cmasks[k]
    return out


def _features(case: Case) -> tuple[np.ndarray, list[tuple[str, str, int]]]:
    cols, meta = [], []
    for p in case.params:
        if p.kind == "choice":
            for c in range(len(p.levels)):
                cols.append((p.values == c).astype(np.float32))
                meta.append((p.name, "onehot", c))
        else:
            cols.append(p.values.astype(np.float32))
            meta.append((p.name, p.kind, -1))
    return np.stack(cols, axis=1), meta


def baseline_tree(case: Case, max_out: int = 10) -> list[Reported]:
    """Rules read off the failing leaves of a CART decision tree (depth 4)."""
    from sklearn.tree import DecisionTreeClassifier

    x, meta = _features(case)
    tree = DecisionTreeClassifier(max_depth=4, min_samples_leaf=max(5, case.n // 400),
                                  random_state=0).fit(x, case.fail)
    t = tree.tree_
    by = case.by_name()
    leaves: list[tuple[float, Reported]] = []

    def walk(node: int, conds: list[tuple[int, bool, float]]) -> None:
        if t.children_left[node] == -1:
            value = t.value[node][0]
            rate = value[1] / value.sum() if value.size > 1 else 0.0
            n_node = t.n_node_samples[node]
            if rate >= 0.5:
                rep: Reported = {}
                for feat, left, thr in conds:
                    name, kind, c = meta[feat]
                    vals = by[name].values
                    if kind == "onehot":
                        hit = vals == c
                        mm = ~hit if left else hit
                    else:
                        x = vals.astype(np.float32)
                        mm = (x <= thr) if left else (x > thr)
                    rep[name] = rep[name] & mm if name in rep else mm
                leaves.append((rate * n_node, rep))
            return
        f, thr = int(t.feature[node]), float(t.threshold[node])
        walk(int(t.children_left[node]), [*conds, (f, True, thr)])
        walk(int(t.children_right[node]), [*conds, (f, False, thr)])

    walk(0, [])
    leaves.sort(key=lambda item: -item[0])
    return [rep for _, rep in leaves[:max_out] if rep]


def baseline_gbm(case: Case, max_out: int = 10) -> list[Reported]:
    """Permutation importance of a gradient-boosting model; each important parameter is reported
    with its best single atom (by Ochiai)."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.inspection import permutation_importance

    x = np.stack([p.values.astype(np.float32) for p in case.params], axis=1)
    cat = [p.kind == "choice" for p in case.params]
    model = HistGradientBoostingClassifier(max_iter=100, categorical_features=cat,
                                           random_state=0).fit(x, case.fail)
    rng = np.random.default_rng(0)
    idx = rng.choice(case.n, size=min(case.n, 10_000), replace=False)
    imp = permutation_importance(model, x[idx], case.fail[idx], n_repeats=3, random_state=0,
                                 scoring="roc_auc").importances_mean
    atoms = _atoms(case)
    fail = case.fail
    f = atoms.masks.astype(np.float32) @ fail.astype(np.float32)
    ochiai = f / np.sqrt(np.maximum(float(fail.sum()) * atoms.masks.sum(axis=1), 1e-9))
    out = []
    for j in np.argsort(-imp, kind="stable")[:max_out]:
        if imp[j] <= 0:
            break
        name = case.params[int(j)].name
        cand = [i for i, nm in enumerate(atoms.names) if nm == name]
        best = max(cand, key=lambda i: ochiai[i])
        out.append(atoms.reported([best]))
    return out


BASELINES: dict[str, Callable[[Case], list[Reported]]] = {
    "chi2+BH": baseline_chi2,
    "ochiai-greedy": baseline_ochiai,
    "tree-rules": baseline_tree,
    "gbm-perm": baseline_gbm,
}
