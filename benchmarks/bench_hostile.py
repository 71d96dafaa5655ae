"""Benchmark of the hostile-input guards of issue 18 (linear work on plain but large input).

One command:  .venv/bin/python benchmarks/bench_hostile.py [--quick]

Each line prints a time and the ratio to a baseline measured in the same run:

1. ``ChoiceParam`` with 20,000 values (linear duplicate check) versus the old pairwise check on
   only 2,000 of them.
2. A space ``pattern: (a+)+$`` checked against ``"a" * 50,000 + "!"`` (RE2) versus Python's
   backtracking ``re`` on only 24 characters of the same shape.
3. Refusing covering generation for 10,000 parameters versus building that space.
4. ``treediff.diff`` of two 200,000-key configs versus ``json.loads`` of one of them.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections.abc import Callable

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))

from configlab import treediff
from configlab.constraints import values_equal
from configlab.errors import GenerationError
from configlab.generation import generate
from configlab.space import Space
from configlab.space._params import ChoiceParam


def _best(work: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - start)
    return best


def _line(name: str, seconds: float, baseline_name: str, baseline: float) -> None:
    ratio = seconds / baseline if baseline > 0 else float("inf")
    print(f"{name:<46} {seconds * 1000:10.1f} ms   {baseline_name:<36} "
          f"{baseline * 1000:10.1f} ms   ratio {ratio:8.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller inputs")
    options = parser.parse_args()
    repeat = 1 if options.quick else 3
    n = 2_000 if options.quick else 20_000
    print(f"load average {os.getloadavg()[0]:.2f}")

    values = tuple(f"v{i}" for i in range(n))
    large = _best(lambda: ChoiceParam("c", values=values), repeat)
    few = values[: n // 10]

    def pairwise() -> None:  # the duplicate check before issue 18, on a tenth of the values
        for i, value in enumerate(few):
            if any(values_equal(value, other) for other in few[:i]):
                raise AssertionError("no duplicates here")

    _line(f"choice of {n} values (linear check)", large,
          f"old pairwise check of {n // 10} values", _best(pairwise, 1))

    space = Space.from_dict({"parameters": {"name": {"type": "string", "pattern": "(a+)+$",
                                                     "max_length": 100_000}}})
    evil = "a" * 50_000 + "!"
    re2_time = _best(lambda: space.is_valid({"name": evil}), repeat)
    backtracking = re.compile("(a+)+$")
    re_time = _best(lambda: backtracking.fullmatch("a" * 24 + "!"), 1)
    _line("RE2: (a+)+$ on 50,000 chars", re2_time, "Python re: (a+)+$ on 24 chars", re_time)

    params = 10_000
    spec = {"parameters": {f"p{i}": ["a", "b", "c"] for i in range(params)}}
    build = _best(lambda: Space.from_dict(spec), 1)
    many = Space.from_dict(spec)

    def refuse() -> None:
        try:
            next(iter(generate(many)))
        except GenerationError:
            return
        raise AssertionError("expected the covering to be refused")

    _line(f"refuse covering of {params} parameters", _best(refuse, repeat),
          f"build the {params}-parameter space", build)

    keys = 20_000 if options.quick else 200_000
    old = {f"k{i}": i for i in range(keys)}
    new = dict(old, k5=-1, added=1)
    del new["k7"]
    text = json.dumps(old)
    _line(f"diff of two {keys}-key configs", _best(lambda: treediff.diff(old, new), repeat),
          "json.loads of one", _best(lambda: json.loads(text), repeat))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
