"""Metric sensitivity: the share of a metric's variance each parameter and the strongest
pairwise interactions explain (sequential sums of squares)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt

from configlab.analysis import _stats as st
from configlab.analysis._impact import _Layout, _MetricData
from configlab.analysis._report import AnalysisSettings, MetricSensitivity, SensitivityComponent
from configlab.results.encoded import EncodedResults

_F = npt.NDArray[np.float64]
_I = npt.NDArray[np.int64]
_B = npt.NDArray[np.bool_]
_CHUNK = 8192

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
        p = float(st.f_sf((ss_int / df_int) / (ss_res / df_res), df_int, df_res))
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

