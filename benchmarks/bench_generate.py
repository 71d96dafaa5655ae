"""Generation throughput: configlab random (classes / raw) and boundary vs hypothesis-jsonschema.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_generate.py [--count 20000] [--baseline-seconds 10]

The space has 50 parameters of mixed kinds (int, bool, choice, float, nullable string, optional
int), 10 constraints and 5 conditional parameters.  For each configlab mode we time
generation of ``--count`` configs, then check every one with ``space.is_valid`` and for
uniqueness, and print two rates:

* ``gen/s``   valid unique configs per second of generation time;
* ``e2e/s``   valid unique configs per second of generation + ``space.is_valid`` time.

The baseline is hypothesis-jsonschema (``from_schema``) on the same space written as a JSON
Schema, run for ``--baseline-seconds``.  JSON Schema cannot express the 10 cross-parameter
constraints nor ``active_if`` (conditional parameters become optional properties), so those are
dropped for the baseline; only its outputs valid in our space (and unique) are counted.
Ratios compare like with like (gen/s to the baseline's generation rate, e2e/s to its rate
including the same validation).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from configlab.generation._generate import generate  # noqa: E402
from configlab.space import (  # noqa: E402
    BoolParam,
    ChoiceParam,
    FloatParam,
    IntParam,
    ListParam,
    Parameter,
    Space,
    StringParam,
)


def bench_space() -> Space:
    """50 parameters (mixed kinds), 10 constraints, 5 conditional parameters."""
    params: dict[str, Any] = {}
    for i in range(50):
        kind = i % 6
        spec: dict[str, Any]
        if kind == 0:
            spec = {"type": "int", "min": 0, "max": 10000}
        elif kind == 1:
            spec = {"type": "bool"}
        elif kind == 2:
            spec = {"type": "choice", "values": ["off", "low", "mid", "high"]}
        elif kind == 3:
            spec = {"type": "float", "min": 0.0, "max": 100.0}
        elif kind == 4:
            spec = {"type": "string", "min_length": 1, "max_length": 16, "nullable": True}
        else:
            spec = {"type": "int", "min": 1, "max": 64, "optional": True}
        params[_path(i)] = spec
    for c, gate in enumerate((7, 13, 19, 25, 31)):  # bool parameters gate conditional ones
        target = _path(38 + 2 * c + (c % 2))
        params[target] = {**params[target], "active_if": _path(gate)}
    p = _path
    constraints = [
        f"{p(0)} <= {p(6)}",
        f"{p(12)} >= 10 or {p(1)}",
        f"{p(2)} != 'off' or not {p(13)}",
        f"{p(3)} < {p(9)} or {p(8)} == 'high'",
        f"{p(18)} + {p(24)} <= 15000",
        f"{p(14)} != 'high' or {p(15)} <= 90.0",
        f"len({p(4)}) <= 8 or {p(10)} == null",
        f"{p(5)} == null or {p(11)} != null",
        f"{p(20)} in ['low', 'mid'] -> {p(19)}",
        f"{p(30)} > {p(36)} or {p(26)} != 'off'",
    ]
    return Space.from_dict({"name": "bench50", "parameters": params, "constraints": constraints})


def _path(i: int) -> str:
    return f"svc{i % 5}.p{i:02d}"


# --------------------------------------------------------------------------- configlab


def run_configlab(space: Space, label: str, strategy: str, count: int,
                  **options: Any) -> dict[str, Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        configs = list(generate(space, strategy, seed=1, count=count, **options))
        gen = time.perf_counter() - start
    start = time.perf_counter()
    valid = sum(1 for c in configs if space.is_valid(c))
    check = time.perf_counter() - start
    unique = len({json.dumps(c, sort_keys=True) for c in configs})
    good = min(valid, unique) if valid == len(configs) else 0
    return {"label": label, "n": len(configs), "valid": valid, "unique": unique,
            "gen_rate": good / gen, "e2e_rate": good / (gen + check)}


# --------------------------------------------------------------------------- baseline


def _schema_of(param: Parameter) -> dict[str, Any]:
    schema: dict[str, Any]
    if isinstance(param, BoolParam):
        schema = {"type": "boolean"}
    elif isinstance(param, IntParam):
        schema = {"type": "integer", "minimum": param.min, "maximum": param.max}
        if param.step != 1 and param.min % param.step == 0:
            schema["multipleOf"] = param.step
    elif isinstance(param, FloatParam):
        schema = {"type": "number", "minimum": param.min, "maximum": param.max}
    elif isinstance(param, ChoiceParam):
        schema = {"enum": list(param.values)}
    elif isinstance(param, StringParam):
        schema = {"type": "string", "minLength": param.min_length, "maxLength": param.max_length}
        if param.pattern is not None:
            schema["pattern"] = f"^(?:{param.pattern})$"
    elif isinstance(param, ListParam):
        schema = {"type": "array", "items": _schema_of(param.item),
                  "minItems": param.min_items, "maxItems": param.max_items}
    else:  # pragma: no cover - every kind is listed above
        raise TypeError(param.kind)
    if param.nullable:
        schema = {"anyOf": [schema, {"type": "null"}]}
    return schema


def json_schema(space: Space) -> dict[str, Any]:
    """The space as a JSON Schema (constraints and active_if dropped: not expressible)."""
    root: dict[str, Any] = {"type": "object", "properties": {}, "required": []}
    for param in space.parameters:
        node = root
        *parents, leaf = param.path.split(".")
        for segment in parents:
            if segment not in node["properties"]:
                node["properties"][segment] = {"type": "object", "properties": {},
                                               "required": []}
                node["required"].append(segment)
            node = node["properties"][segment]
        node["properties"][leaf] = _schema_of(param)
        if not (param.optional or param.conditional):
            node["required"].append(leaf)
    return root


def run_baseline(space: Space, seconds: float) -> dict[str, Any] | None:
    try:
        from hypothesis import HealthCheck, Phase, given, settings
        from hypothesis_jsonschema import from_schema
    except ImportError:
        return None
    outputs: list[dict[str, Any]] = []
    deadline = time.perf_counter() + seconds

    class _Done(Exception):
        pass

    @settings(max_examples=10**9, deadline=None, database=None, derandomize=True,
              phases=[Phase.generate],  # no shrinking after the stop signal
              suppress_health_check=list(HealthCheck))
    @given(from_schema(json_schema(space)))
    def collect(config: dict[str, Any]) -> None:
        outputs.append(config)
        if time.perf_counter() > deadline:
            raise _Done

    start = time.perf_counter()
    with contextlib.suppress(_Done):
        collect()
    gen = time.perf_counter() - start
    start = time.perf_counter()
    valid = [c for c in outputs if space.is_valid(c)]
    check = time.perf_counter() - start
    good = len({json.dumps(c, sort_keys=True) for c in valid})
    return {"label": "hypothesis-jsonschema", "n": len(outputs), "valid": len(valid),
            "unique": good, "gen_rate": good / gen, "e2e_rate": good / (gen + check),
            "any_rate": len(outputs) / gen}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--baseline-seconds", type=float, default=10.0)
    args = parser.parse_args(argv)
    space = bench_space()
    print(f"space: {len(space.parameters)} parameters, {len(space.constraints)} constraints, "
          f"{sum(p.conditional for p in space.parameters)} conditional, "
          f"{space.size():.3e} class combinations")
    rows = [
        run_configlab(space, "configlab random (classes)", "random", args.count),
        run_configlab(space, "configlab random (raw)", "random", args.count, raw=True),
        run_configlab(space, "configlab boundary", "boundary", args.count),
    ]
    baseline = run_baseline(space, args.baseline_seconds)
    print(f"{'generator':30} {'n':>7} {'valid':>7} {'unique':>7} {'gen/s':>10} {'e2e/s':>10}"
          f" {'x gen':>8} {'x e2e':>8}")
    for row in [*rows, *([baseline] if baseline else [])]:
        ratio_gen = ratio_e2e = ""
        if baseline and row is not baseline:
            if baseline["gen_rate"] > 0:
                ratio_gen = f"{row['gen_rate'] / baseline['gen_rate']:.0f}x"
                ratio_e2e = f"{row['e2e_rate'] / baseline['e2e_rate']:.0f}x"
            else:
                ratio_gen = ratio_e2e = "inf"
        print(f"{row['label']:30} {row['n']:>7} {row['valid']:>7} {row['unique']:>7} "
              f"{row['gen_rate']:>10,.0f} {row['e2e_rate']:>10,.0f} {ratio_gen:>8} {ratio_e2e:>8}")
    if baseline is None:
        print("hypothesis-jsonschema not installed: pip install -e '.[bench]' for the baseline")
    else:
        for row in rows:
            print(f"conservative ratio of {row['label']} gen/s to the baseline's rate of ANY "
                  f"output (valid or not, {baseline['any_rate']:,.1f}/s): "
                  f"{row['gen_rate'] / baseline['any_rate']:,.0f}x")
        print("baseline: JSON Schema cannot express the 10 constraints or active_if; they are "
              "dropped for it and only its outputs valid in the space are counted")
    return 0


if __name__ == "__main__":
    sys.exit(main())
