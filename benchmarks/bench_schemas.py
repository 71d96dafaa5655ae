"""Real JSON Schemas: import rate, validity of every generated config, configs/s vs jsf and
hypothesis-jsonschema.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_schemas.py [--count 1000] [--baseline-seconds 3] [--quick]

The schemas are published ones (``tests/schema_corpus.py``): Kubernetes resources shipped by
``kubernetes-validate``, CloudFormation resource schemas shipped by ``cfn-lint`` and the
SchemaStore files in ``tests/data/schemas``.  For each schema:

* ``import``: whether ``Space.from_json_schema`` accepts it (and how many warnings it gives);
* ``b+r valid``: of ``--count`` configs (half ``boundary``, half ``random``), how many validate
  with ``jsonschema`` itself (format checking on) against the source schema;
* ``pairwise valid``: the same for the ``covering`` (t=2) suite (``--covering-steps`` bounds
  the covering search on very wide schemas; the suite is still complete at that size);
* ``cfg/s``: configlab ``random`` generation rate (unique configs per second);
* beside it, on every schema, the same figures for ``jsf`` and hypothesis-jsonschema run for
  ``--baseline-seconds`` each in the same process (their outputs validated the same way).

Targets (issue 15): 100 % valid on every schema that imports, >= 95 % of the schemas import,
>= 10,000 configs/s on mid-size schemas.  The summary prints those and the ratio of configlab's
rate to each baseline's on the same schema.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
import time
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

import jsonschema  # noqa: E402
from tests.space.schema_corpus import corpus  # noqa: E402

from configlab.errors import ConfiglabError  # noqa: E402
from configlab.generation import generate  # noqa: E402
from configlab.space import Space  # noqa: E402

#: Parameter counts of a "mid-size" schema for the rate target.
MID_SIZE = (10, 40)


def validator(schema: dict[str, Any]) -> Any:
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def quietly(strategy: str, space: Space, **options: Any) -> list[dict[str, Any]]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return list(generate(space, strategy, seed=1, **options))


def rate_configlab(space: Space, count: int) -> float:
    start = time.perf_counter()
    produced = quietly("random", space, count=count)
    elapsed = time.perf_counter() - start
    unique = len({json.dumps(c, sort_keys=True) for c in produced})
    return unique / elapsed if elapsed else 0.0


def run_jsf(schema: dict[str, Any], seconds: float) -> list[Any] | None:
    try:
        from jsf import JSF
    except ImportError:
        return None
    outputs: list[Any] = []
    deadline = time.perf_counter() + seconds
    try:
        faker = JSF(schema)
        while time.perf_counter() < deadline:
            outputs.append(faker.generate())
    except Exception:
        return outputs
    return outputs


def run_hypothesis(schema: dict[str, Any], seconds: float) -> list[Any] | None:
    try:
        from hypothesis import HealthCheck, Phase, given, settings
        from hypothesis_jsonschema import from_schema
    except ImportError:
        return None
    outputs: list[Any] = []
    deadline = time.perf_counter() + seconds

    class _Done(Exception):
        pass

    try:
        strategy = from_schema(schema)

        @settings(max_examples=10**9, deadline=None, database=None, derandomize=True,
                  phases=[Phase.generate], suppress_health_check=list(HealthCheck))
        @given(strategy)
        def collect(instance: Any) -> None:
            outputs.append(instance)
            if time.perf_counter() > deadline:
                raise _Done

        with contextlib.suppress(_Done):
            collect()
    except Exception:
        return outputs
    return outputs


def baseline_row(outputs: list[Any] | None, seconds: float, check: Any) -> str:
    if outputs is None:
        return "not installed"
    if not outputs:
        return "fails"
    valid = [o for o in outputs if check.is_valid(o)]
    unique = len({json.dumps(o, sort_keys=True, default=repr) for o in valid})
    return f"{len(valid)}/{len(outputs)} valid, {unique / seconds:,.0f}/s"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--rate-count", type=int, default=20000)
    parser.add_argument("--baseline-seconds", type=float, default=3.0)
    parser.add_argument("--covering-steps", type=int, default=200)
    parser.add_argument("--quick", action="store_true", help="fewer schemas, shorter baselines")
    parser.add_argument("only", nargs="*", help="labels (substrings) to run")
    options = parser.parse_args()
    items = corpus()
    if options.quick:
        items = items[::3]
        options.count, options.rate_count, options.baseline_seconds = 200, 4000, 1.0
    if options.only:
        items = [(label, load) for label, load in items
                 if any(o in label for o in options.only)]
    imported, all_valid, rates = 0, 0, []
    ratios: dict[str, list[float]] = {"jsf": [], "hypothesis-jsonschema": []}
    header = ("schema", "import", "params", "warn", "b+r valid", "pairwise valid", "cfg/s",
              "jsf", "hypothesis-jsonschema")
    print(" | ".join(header))
    print(" | ".join("---" for _ in header))
    for label, load in items:
        schema = load()
        check = validator(schema)
        try:
            space = Space.from_json_schema(schema, source=label)
        except ConfiglabError as error:
            print(f"{label} | no: {str(error)[:80]} | | | | | | |")
            continue
        imported += 1
        half = options.count // 2
        produced = quietly("boundary", space, count=half) + quietly("random", space, count=half)
        valid = sum(1 for c in produced if check.is_valid(c))
        suite = quietly("covering", space, max_steps=options.covering_steps)
        suite_valid = sum(1 for c in suite if check.is_valid(c))
        if valid == len(produced) and suite_valid == len(suite):
            all_valid += 1
        rate = rate_configlab(space, options.rate_count)
        rates.append((len(space.parameters), rate))
        cells = [label, "yes", str(len(space.parameters)), str(len(space.warnings)),
                 f"{valid}/{len(produced)}", f"{suite_valid}/{len(suite)}", f"{rate:,.0f}"]
        for name, runner in (("jsf", run_jsf), ("hypothesis-jsonschema", run_hypothesis)):
            outputs = runner(schema, options.baseline_seconds)
            cells.append(baseline_row(outputs, options.baseline_seconds, check))
            if outputs:
                good = len({json.dumps(o, sort_keys=True, default=repr)
                            for o in outputs if check.is_valid(o)})
                if good:
                    ratios[name].append(rate / (good / options.baseline_seconds))
        print(" | ".join(cells), flush=True)
    total = len(items)
    print()
    print(f"imported: {imported}/{total} ({imported / total:.0%}; target >= 95 %)")
    print(f"every generated config valid: {all_valid}/{imported} imported schemas "
          "(target: all)")
    mid = [rate for size, rate in rates if MID_SIZE[0] <= size <= MID_SIZE[1]]
    if mid:
        print(f"configlab random rate on mid-size schemas ({MID_SIZE[0]}-{MID_SIZE[1]} "
              f"parameters): median {statistics.median(mid):,.0f} configs/s, min {min(mid):,.0f}"
              " (target >= 10,000)")
    if rates:
        print(f"configlab random rate on all: min {min(r for _, r in rates):,.0f} configs/s "
              f"(largest schema: {max(s for s, _ in rates)} parameters)")
    for name, values in ratios.items():
        if values:
            print(f"ratio configlab / {name} (valid unique configs/s, same schema): "
                  f"median {statistics.median(values):,.1f}x over {len(values)} schema(s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
