"""Format codec benchmark: one command, ``.venv/bin/python benchmarks/bench_formats.py``.

Measures ``configlab.formats.load`` / ``dump`` on a ~100 MB JSON config next to the baseline
of reading the file and calling stdlib ``json.loads`` / ``json.dumps`` directly (ratio printed),
plus load times of 1 MB YAML, TOML, XML, properties, INI and .env configs.

``--quick`` uses a 10 MB JSON config (a smoke run).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from configlab.formats import dump, dumps, load


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    """Wall time of one run, and its result."""
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


def make_tree(target_bytes: int) -> dict[str, Any]:
    """A config tree of roughly ``target_bytes`` when written as JSON."""
    record = {
        "host": "db-01.internal.example.org",
        "port": 5432,
        "enabled": True,
        "ratio": 0.125,
        "tags": ["primary", "eu-west", "ssd"],
        "pool": {"min": 1, "max": 32, "timeout_ms": 2500, "name": "pool"},
        "note": None,
    }
    size = len(json.dumps({"services": {"svc0000000": record}}, indent=2)) - 20
    return {"services": {f"svc{i:07d}": dict(record) for i in range(target_bytes // size)}}


def flat_tree(target_bytes: int) -> dict[str, Any]:
    """A tree every format (including .env) can hold: flat keys, scalar values."""
    return {f"KEY_{i:07d}": f"value-{i}" if i % 2 else i for i in range(target_bytes // 24)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="10 MB instead of 100 MB")
    args = parser.parse_args()
    megabytes = 10 if args.quick else 100
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.json"
        tree = make_tree(megabytes * 1024 * 1024)
        dump(tree, path)
        size_mb = path.stat().st_size / 1024 / 1024
        base_load, _ = timed(lambda: json.loads(path.read_bytes()))
        our_load, loaded = timed(lambda: load(path))
        assert loaded == tree
        base_dump, _ = timed(lambda: path.with_suffix(".b").write_text(json.dumps(tree, indent=2)))
        our_dump, _ = timed(lambda: dump(tree, path))
        print(f"json {size_mb:.0f} MB load: {our_load:.2f} s (baseline json.loads "
              f"{base_load:.2f} s, ratio {our_load / base_load:.2f})")
        print(f"json {size_mb:.0f} MB dump: {our_dump:.2f} s (baseline json.dumps "
              f"{base_dump:.2f} s, ratio {our_dump / base_dump:.2f})")

        small = flat_tree(1024 * 1024)
        for fmt in ("yaml", "toml", "xml", "properties", "ini", "env"):
            text = dumps(small, fmt)
            file = Path(tmp) / f"small.{fmt}"
            file.write_text(text)
            seconds, again = timed(lambda file=file: load(file))
            assert again == small
            print(f"{fmt} {len(text.encode()) / 1024 / 1024:.1f} MB load: {seconds:.2f} s")


if __name__ == "__main__":
    main()
