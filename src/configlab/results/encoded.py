"""The encoded form of a result set: what coverage and correlation analyses compute on.

Each row is one test execution; each column one parameter of the space.  A cell is the index of
the parameter's value class (``Space.parameters[j].value_classes[code]``) that the row's config
took.  Analyses never look at raw configs except through ``numeric`` (raw numeric values, for
threshold conditions such as ``timeout_s < 5``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only: importing results must not import numpy (start-up time)
    import numpy as np
    import numpy.typing as npt

#: Outcome codes used in :attr:`EncodedResults.outcomes`.
PASS, FAIL, ERROR, SKIP = 0, 1, 2, 3
OUTCOME_NAMES = ("pass", "fail", "error", "skip")


@dataclass(frozen=True, eq=False)
class EncodedResults:
    """Results as a matrix of value-class codes plus outcome and metric vectors."""

    #: Dotted parameter paths, one per column of ``codes``.
    params: tuple[str, ...]
    #: For each parameter, the labels of its value classes (index = code).
    class_labels: tuple[tuple[str, ...], ...]
    #: (n_rows, n_params) int32 matrix of value-class codes.
    codes: npt.NDArray[np.int32]
    #: (n_rows,) int8 outcome codes (PASS/FAIL/ERROR/SKIP).
    outcomes: npt.NDArray[np.int8]
    #: metric name -> (n_rows,) float64 values, NaN where the run did not report it.
    metrics: dict[str, npt.NDArray[np.float64]] = field(default_factory=dict)
    #: numeric parameter path -> (n_rows,) float64 raw values, NaN where absent/null.
    numeric: dict[str, npt.NDArray[np.float64]] = field(default_factory=dict)
    #: (n_rows,) stable key of each row's full config (equal keys = same config): flakiness.
    config_keys: tuple[str, ...] = ()
    #: (n_rows,) test ids ("" when unknown).
    test_ids: tuple[str, ...] = ()
    #: (n_rows,) 64-bit config keys, given instead of ``config_keys`` by the columnar readers
    #: (a million Python strings cost ~0.7 s); equal keys = same config.
    config_hashes: npt.NDArray[np.uint64] | None = None

    @property
    def n_rows(self) -> int:
        """Number of results."""
        return int(self.codes.shape[0])

    @property
    def n_params(self) -> int:
        """Number of parameters (columns)."""
        return len(self.params)
