"""Confounded parameter pairs: parameters whose observed value classes determine each other.

When two parameters always changed together in the analysed runs, the data cannot tell which
one matters; :func:`confounded_pairs` finds such pairs (identical or nested) from the class
co-occurrence counts, with the combinations that were never run.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from configlab.analysis._counting import one_hot_gram
from configlab.analysis._report import ConfoundedPair
from configlab.results.encoded import EncodedResults

_F = npt.NDArray[np.float64]
_I = npt.NDArray[np.int64]


def _eq_cooccurrence(enc: EncodedResults, counts: _F, used: _I) -> tuple[_I, _I, _F]:
    """(parameter, class) of every class seen on the analysed rows of parameters with two or
    more seen classes, and their co-occurrence counts (for confounding checks)."""
    cols: list[int] = []
    codes: list[int] = []
    for j in range(len(enc.params)):
        present = np.flatnonzero(counts[j] > 0)
        if present.size >= 2:
            cols.extend([j] * present.size)
            codes.extend(int(c) for c in present)
    col = np.array(cols, dtype=np.int64)
    code = np.array(codes, dtype=np.int64)
    if col.size == 0 or used.size == 0:
        return col, code, np.zeros((col.size, col.size))
    index = {(int(a), int(b)): i for i, (a, b) in enumerate(zip(col, code, strict=True))}
    lookup = np.full((len(enc.params), int(counts.shape[1])), -1, dtype=np.int64)
    for (a, b), i in index.items():
        lookup[a, b] = i
    params = np.unique(col)
    sub = np.asarray(enc.codes[used][:, params], dtype=np.int64)
    atom = lookup[params[None, :], sub]
    # classes outside the list (none on the rows the counts came from) go to a spare column;
    # a dense one-hot product is ~3x faster than the sparse one on 10,000 x 200 results
    atom = np.where(atom >= 0, atom, col.size)
    block = one_hot_gram(atom, col.size + 1)[:-1, :-1]
    return col, code, np.ascontiguousarray(block)


#: rows of the cheap screen for confounded pairs on large result sets
_SCREEN_ROWS = 4_000


def _may_be_confounded(enc: EncodedResults, counts: _F, rows: _I) -> bool:
    """False when no pair can be confounded: a pair whose classes co-occur in more
    combinations than either parameter has classes, on some rows, does so on all of them."""
    cols, _, block = _eq_cooccurrence(enc, counts, rows)
    params = np.unique(cols)
    if params.size < 2:
        return False
    starts = np.searchsorted(cols, params)
    seen = (block > 0).astype(np.int64)
    nnz = np.add.reduceat(np.add.reduceat(seen, starts, axis=0), starts, axis=1)
    k = np.diff(np.concatenate([starts, [cols.size]]))
    candidate = (nnz <= k[:, None]) | (nnz <= k[None, :])
    return bool(np.triu(candidate, k=1).any())


def confounded_pairs(enc: EncodedResults, counts: _F, used: _I) -> list[ConfoundedPair]:
    """Parameter pairs whose observed classes determine each other, from the class
    co-occurrence counts of the analysed rows."""
    if used.size > _SCREEN_ROWS and not _may_be_confounded(enc, counts, used[:_SCREEN_ROWS]):
        return []
    cols, codes, eq_block = _eq_cooccurrence(enc, counts, used)
    if cols.size == 0:
        return []
    eq = np.arange(cols.size)
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


__all__ = ["confounded_pairs"]
