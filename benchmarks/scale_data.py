"""Seeded results at scale for ``bench_scale.py``: N results x 50 parameters with planted causes.

The layout is configlab's results table (:func:`configlab.integrations.exporters.parquet_table`:
``outcome``, ``duration``, ``test_id``, ``run_id``, ``timestamp`` and one column per config
path), written either as hive-partitioned Parquet (``<dir>/run_id=<run>/part-0.parquet``, the
layout of ``configlab results compact``) or as JSON lines.  Columns are generated with numpy
in chunks, so 10 million rows take a few hundred MB at most while generating.

Parameters: ``c00``-``c19`` choices (3-8 string levels), ``b00``-``b09`` booleans,
``i00``-``i09`` small integers (1-16), ``f00``-``f09`` floats in [0, 1) rounded to 3 decimals.
Planted causes (each fires with probability 0.9 on top of a 2 % background failure rate):
``c03 == 'v2'`` (single value), ``c07 == 'v1' and b02 == true`` (2-way) and ``f04 > 0.95``
(threshold).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

N_CHOICE, N_BOOL, N_INT, N_FLOAT = 20, 10, 10, 10
PLANTED = ("c03 == 'v2'", "c07 == 'v1' and b02 == true", "f04 > 0.95")


def _levels(j: int) -> int:
    return 3 + (j * 5) % 6  # 3..8 levels, deterministic per column


def columns() -> list[str]:
    """The config column names, in table order."""
    return ([f"c{j:02d}" for j in range(N_CHOICE)] + [f"b{j:02d}" for j in range(N_BOOL)]
            + [f"i{j:02d}" for j in range(N_INT)] + [f"f{j:02d}" for j in range(N_FLOAT)])


def chunk(rng: np.random.Generator, n: int) -> dict[str, Any]:
    """One chunk of ``n`` rows as numpy arrays (choice columns as integer codes)."""
    data: dict[str, Any] = {}
    for j in range(N_CHOICE):
        data[f"c{j:02d}"] = rng.integers(0, _levels(j), n, dtype=np.int8)
    for j in range(N_BOOL):
        data[f"b{j:02d}"] = rng.random(n) < 0.5
    for j in range(N_INT):
        data[f"i{j:02d}"] = rng.integers(1, 17, n, dtype=np.int64)
    for j in range(N_FLOAT):
        data[f"f{j:02d}"] = np.round(rng.random(n), 3)
    cause = ((data["c03"] == 2) | ((data["c07"] == 1) & data["b02"]) | (data["f04"] > 0.95))
    fail = (cause & (rng.random(n) < 0.9)) | (rng.random(n) < 0.02)
    data["__fail"] = fail
    data["__duration"] = np.round(rng.gamma(2.0, 0.5, n), 3)
    return data


def _table(data: dict[str, Any], run: str, start: int) -> Any:
    import pyarrow as pa

    n = len(data["__fail"])
    arrays: dict[str, Any] = {
        "outcome": pa.DictionaryArray.from_arrays(
            pa.array(data["__fail"].astype(np.int8)), pa.array(["pass", "fail"])),
        "duration": pa.array(data["__duration"]),
        "test_id": pa.DictionaryArray.from_arrays(
            pa.array(np.zeros(n, dtype=np.int8)), pa.array(["tests/test_app.py::test_start"])),
        "timestamp": pa.array(
            (np.datetime64("2026-01-01T00:00:00") + (start + np.arange(n)).astype("timedelta64[s]"))
            .astype(str), pa.string()),
        "run_id": pa.array([run] * n, pa.string()),
    }
    for name in columns():
        values = data[name]
        if name.startswith("c"):
            labels = pa.array([f"v{k}" for k in range(_levels(int(name[1:])))])
            arrays[name] = pa.DictionaryArray.from_arrays(pa.array(values), labels)
        else:
            arrays[name] = pa.array(values)
    return pa.table(arrays)


def generate_parquet(target: str | os.PathLike[str], rows: int, *, seed: int = 0,
                     partitions: int = 10) -> Path:
    """Write ``rows`` results as ``partitions`` hive partitions ``run_id=run-NN``; returns
    the directory."""
    import pyarrow.parquet as pq

    root = Path(target)
    rng = np.random.default_rng(seed)
    per = -(-rows // partitions)
    for part, (start, data) in enumerate(_chunks(rng, rows, per)):
        run = f"run-{part:02d}"
        directory = root / f"run_id={run}"
        directory.mkdir(parents=True, exist_ok=True)
        table = _table(data, run, start).drop(["run_id"])
        pq.write_table(table, directory / "part-0.parquet", row_group_size=256 * 1024)
    return root


def _chunks(rng: np.random.Generator, rows: int, size: int
            ) -> Iterator[tuple[int, dict[str, Any]]]:
    start = 0
    while start < rows:
        n = min(size, rows - start)
        yield start, chunk(rng, n)
        start += n


def generate_jsonl(target: str | os.PathLike[str], rows: int, *, seed: int = 0) -> Path:
    """Write ``rows`` results (the same generator) as configlab JSON lines; returns the path."""
    import polars as pl

    path = Path(target)
    rng = np.random.default_rng(seed)
    with path.open("wb") as handle:
        for start, data in _chunks(rng, rows, 200_000):
            table = _table(data, f"run-{start // 200_000:02d}", start)
            frame = pl.from_arrow(table)
            assert isinstance(frame, pl.DataFrame)
            config = pl.struct([pl.col(name) for name in columns()]).alias("config")
            frame = frame.select(config, "outcome", "duration", "test_id", "timestamp", "run_id")
            frame.write_ndjson(handle)
    return path


def generate_single_parquet(target: str | os.PathLike[str], rows: int, *, seed: int = 0) -> Path:
    """Write ``rows`` results as one Parquet file (the :func:`configlab.exporters.to_parquet`
    layout); returns the path."""
    import pyarrow.parquet as pq

    path = Path(target)
    rng = np.random.default_rng(seed)
    writer = None
    try:
        for start, data in _chunks(rng, rows, 200_000):
            table = _table(data, f"run-{start // 200_000:02d}", start)
            if writer is None:
                writer = pq.ParquetWriter(path, table.schema)
            writer.write_table(table)
    finally:
        if writer is not None:
            writer.close()
    return path
