"""Covering-array benchmark: configlab's t-way builder vs PICT (recorded) and allpairspy (live).

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_covering.py [MODEL ...] [--strength 2|3|all]
        [--t3-budget 60] [--no-check] [--allpairspy] [--cpu-clock]

MODEL is a model name or path from ../shared/benchmarks/ca, or ``constraint-heavy`` (a
generated model: 30 parameters, 24 IF/THEN implications, the kind PICT users report as slow).
The default (``--strength all``) runs every model at t=2 and, where the model lists strength 3
or a best-known t=3 size, at t=3 with a wall-clock ``time_budget`` of --t3-budget seconds.
Each suite is checked independently with ``../shared/benchmarks/ca/check.py``.  Prints one
line per model and strength: our size, wall and CPU seconds, the check verdict, PICT's
recorded size (the baseline, measured by ``measure.py`` in that folder), the best known size
and our ratios to both; allpairspy (live) with --allpairspy.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from configlab._internal.finite import FiniteConstraint, FiniteModel, ModelSolver  # noqa: E402
from configlab.generation import _compactor, _covering  # noqa: E402
from configlab.generation._covering import build_covering  # noqa: E402


class _CpuClock:
    """Stand-in for the ``time`` module inside the engine: its monotonic clock is CPU time."""

    monotonic = staticmethod(time.process_time)

CA_DIR = (ROOT / ".." / "shared" / "benchmarks" / "ca").resolve()
CHECK = CA_DIR / "check.py"


# ---------------------------------------------------------------- constraint loading
def _private_parser(text: str) -> tuple[tuple[str, ...], Callable[[dict[str, Any]], bool]]:
    """Tiny translator for the benchmark grammar (fallback when configlab.constraints is absent)."""
    toks = re.findall(r"->|==|!=|<=|>=|[<>()]|\"[^\"]*\"|'[^']*'|-?\d+(?:\.\d+)?|\w+", text)
    pos = 0
    names: set[str] = set()

    def peek() -> str | None:
        return toks[pos] if pos < len(toks) else None

    def take() -> str:
        nonlocal pos
        pos += 1
        return toks[pos - 1]

    def imp() -> Callable[[dict[str, Any]], Any]:
        left = disj()
        if peek() == "->":
            take()
            right = imp()
            return lambda e: (not left(e)) or right(e)
        return left

    def disj() -> Callable[[dict[str, Any]], Any]:
        parts = [conj()]
        while peek() == "or":
            take()
            parts.append(conj())
        return parts[0] if len(parts) == 1 else (lambda e: any(p(e) for p in parts))

    def conj() -> Callable[[dict[str, Any]], Any]:
        parts = [neg()]
        while peek() == "and":
            take()
            parts.append(neg())
        return parts[0] if len(parts) == 1 else (lambda e: all(p(e) for p in parts))

    def neg() -> Callable[[dict[str, Any]], Any]:
        if peek() == "not":
            take()
            inner = neg()
            return lambda e: not inner(e)
        return cmp()

    ops: dict[str, Callable[[Any, Any], bool]] = {
        "==": lambda a, b: a == b,
        "!=": lambda a, b: a != b,
        "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b,
        ">": lambda a, b: a > b,
        ">=": lambda a, b: a >= b,
    }

    def cmp() -> Callable[[dict[str, Any]], Any]:
        left = atom()
        op = peek()
        if op in ops:
            take()
            right = atom()
            f = ops[op]
            return lambda e: f(left(e), right(e))
        return left

    def atom() -> Callable[[dict[str, Any]], Any]:
        tok = take()
        if tok == "(":
            inner = imp()
            take()
            return inner
        if tok[0] in "\"'":
            return lambda e: tok[1:-1]
        if re.fullmatch(r"-?\d+(?:\.\d+)?", tok):
            num = float(tok) if "." in tok else int(tok)
            return lambda e: num
        if tok in ("true", "false"):
            return lambda e: tok == "true"
        names.add(tok)
        return lambda e: e.get(tok)

    fn = imp()
    return tuple(sorted(names)), lambda env: bool(fn(env))


def _parser() -> Callable[[str], tuple[tuple[str, ...], Callable[[dict[str, Any]], bool]]]:
    try:
        from configlab.constraints import parse
    except ImportError:  # the lead's module is not there: use the private translator
        return _private_parser

    def via_configlab(text: str) -> tuple[tuple[str, ...], Callable[[dict[str, Any]], bool]]:
        c = parse(text)
        return tuple(c.params), c.evaluate

    return via_configlab


def load_model(path: Path) -> tuple[dict[str, Any], FiniteModel]:
    """Read a benchmark JSON into a FiniteModel (codes = positions in each ``values`` list)."""
    data = json.loads(path.read_text())
    names = tuple(p["name"] for p in data["parameters"])
    values = [list(p["values"]) for p in data["parameters"]]
    pos = {n: i for i, n in enumerate(names)}
    parse = _parser()
    cons = []
    for text in data.get("constraints", []):
        params, evaluate = parse(text)
        scope = tuple(sorted(pos[p] for p in params))

        def allows(
            codes: tuple[int, ...],
            scope: tuple[int, ...] = scope,
            ev: Callable[[dict[str, Any]], bool] = evaluate,
        ) -> bool:
            return bool(ev({names[p]: values[p][c] for p, c in zip(scope, codes, strict=True)}))

        cons.append(FiniteConstraint(text, scope, allows))
    return data, FiniteModel(names, tuple(len(v) for v in values), tuple(cons))


# ---------------------------------------------------------------- baselines / check
def run_check(model_path: Path, suite: list[dict[str, Any]], t: int) -> tuple[str, str]:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump(suite, fh)
        name = fh.name
    proc = subprocess.run(
        [sys.executable, str(CHECK), str(model_path), name, "-t", str(t)],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    Path(name).unlink()
    verdict = {0: "ok", 1: "FAILED", 2: "bad-input", 3: "inconclusive"}.get(proc.returncode, "?")
    cov = re.search(r"coverage:\s*([\d.]+%)", proc.stdout)
    return verdict, cov.group(1) if cov else proc.stdout.strip().splitlines()[-1:][0:1].__str__()


_ALLPAIRS = r"""
import json, sys
from allpairspy import AllPairs
sys.path.insert(0, sys.argv[3])
from bench_covering import load_model
from pathlib import Path
data, model = load_model(Path(sys.argv[1]))
t = int(sys.argv[2])
names = [p["name"] for p in data["parameters"]]
vals = [p["values"] for p in data["parameters"]]
evs = [(c.scope, c.allows) for c in model.constraints]
def filt(row):
    n = len(row)
    for scope, allows in evs:
        if scope and scope[-1] < n:
            codes = tuple(vals[p].index(row[p]) for p in scope)
            if not allows(codes):
                return False
    return True
rows = [list(r) for r in AllPairs(vals, filter_func=filt, n=t)]
print(json.dumps([dict(zip(names, r)) for r in rows]))
"""


def run_allpairspy(model_path: Path, t: int, timeout: float) -> tuple[str, str, str]:
    start = time.monotonic()
    try:
        proc = subprocess.run(
            [sys.executable, "-c", _ALLPAIRS, str(model_path), str(t), str(Path(__file__).parent)],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return "-", f">{timeout:.0f}s", "skipped"
    secs = time.monotonic() - start
    if proc.returncode != 0:
        return "-", f"{secs:.1f}s", "error"
    suite = json.loads(proc.stdout)
    verdict, cov = run_check(model_path, suite, t)
    return str(len(suite)), f"{secs:.1f}s", cov if verdict != "ok" else "100%"


# ---------------------------------------------------------------- constraint-heavy model
def constraint_heavy_model(seed: int = 2026) -> dict[str, Any]:
    """30 parameters (2-4 values) and 24 implication constraints, in the shared model format.

    Half the implications have a conjunctive premise (``a == x and b == y -> c != z``), the
    kind of IF/THEN/ELSE nest reported to make PICT's generation time explode.
    """
    rng = random.Random(seed)
    params = [{"name": f"p{i}", "values": list(range(rng.choice((2, 3, 3, 4))))}
              for i in range(30)]
    size = {p["name"]: len(p["values"]) for p in params}
    names = list(size)
    constraints = []
    for n in range(24):
        a, b, c = rng.sample(names, 3)
        premise = f"{a} == {rng.randrange(size[a])}"
        if n % 2:
            premise += f" and {b} == {rng.randrange(size[b])}"
        constraints.append(f"{premise} -> {c} != {rng.randrange(size[c])}")
    return {
        "name": "constraint-heavy",
        "source": "benchmarks/bench_covering.py (generated, seed 2026)",
        "strengths": [2, 3],
        "parameters": params,
        "constraints": constraints,
    }


# ---------------------------------------------------------------- main
def _paths(args: argparse.Namespace, tmp: Path) -> list[Path]:
    heavy = tmp / "constraint-heavy.json"
    heavy.write_text(json.dumps(constraint_heavy_model()))
    if not args.models:
        return [*sorted(CA_DIR.glob("*.json"), key=lambda p: p.name.lower()), heavy]
    out = []
    for m in args.models:
        if m == "constraint-heavy":
            out.append(heavy)
        else:
            out.append(Path(m) if m.endswith(".json") else CA_DIR / f"{m}.json")
    return out


def _strengths(data: dict[str, Any], wanted: str, named: bool) -> list[int]:
    """Strengths to run: the model's own (2 and 3) for ``all``; an explicit strength on the
    models it lists, or on any model named on the command line (e.g. t=4 on small ones)."""
    listed = set(data.get("strengths", [2])) | {int(t) for t in data.get("best_known", {})}
    if wanted == "all":
        return sorted(t for t in listed if t in (2, 3))
    return [int(wanted)] if named or int(wanted) in listed else []


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("models", nargs="*")
    ap.add_argument("--strength", "-t", default="all", help="2, 3 or all (default)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--allpairspy", action="store_true", help="also run allpairspy (slow)")
    ap.add_argument("--allpairspy-timeout", type=float, default=20.0)
    ap.add_argument("--time-budget", type=float, default=None, help="t=2 wall-clock cap")
    ap.add_argument("--t3-budget", type=float, default=60.0, help="t=3 wall-clock cap (s)")
    ap.add_argument("--effort", type=float, default=1.0)
    ap.add_argument("--no-check", action="store_true", help="skip check.py (t=3 is slow)")
    ap.add_argument(
        "--cpu-clock", action="store_true",
        help="measure the budgets on this process's CPU clock: what the wall budget buys on a "
        "quiet machine, when a shared machine's load makes wall time meaningless",
    )
    args = ap.parse_args(argv)
    if args.cpu_clock:
        for module in (_covering, _compactor):  # the engine's two clock readers
            setattr(module, "time", _CpuClock())  # noqa: B010
    print(
        f"{'model':26} {'t':>1} {'ours':>5} {'wall':>6} {'cpu':>6} {'check':>7} {'PICT':>5} "
        f"{'best':>5} {'/PICT':>6} {'/best':>6} {'allpairspy':>22}"
    )
    stats: dict[int, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for path in _paths(args, Path(tmp)):
            data, model = load_model(path)
            for t in _strengths(data, args.strength, bool(args.models)):
                _one(args, path, data, model, t, stats.setdefault(t, {}))
    for t, st in sorted(stats.items()):
        print(
            f"t={t}: {st.get('pict_ok', 0):.0f}/{st.get('models', 0):.0f} models with size <= "
            f"PICT (or no PICT result); {st.get('best_ok', 0):.0f}/{st.get('best_models', 0):.0f}"
            f" with a best-known size within 10 %; slowest {st.get('slowest', 0):.2f} s wall; "
            f"{st.get('failed', 0):.0f} failed checks"
        )
    return 0


def _one(args: argparse.Namespace, path: Path, data: dict[str, Any], model: FiniteModel,
         t: int, st: dict[str, float]) -> None:
    budget = args.t3_budget if t >= 3 else args.time_budget  # t=4 shares the t=3 budget
    start, cpu = time.monotonic(), time.process_time()
    solver = ModelSolver(model)
    rows = build_covering(
        model, t, args.seed, solver=solver, time_budget=budget, effort=args.effort
    ).rows
    secs, cpu_secs = time.monotonic() - start, time.process_time() - cpu
    values = [p["values"] for p in data["parameters"]]
    params = data["parameters"]
    suite = [
        {p["name"]: values[i][c] for i, (p, c) in enumerate(zip(params, r, strict=True))}
        for r in rows
    ]
    verdict = "-" if args.no_check else run_check(path, suite, t)[0]
    pict = data.get("measured", {}).get("pict", {}).get(str(t), {}).get("size")
    best = data.get("best_known", {}).get(str(t), {}).get("size")
    r_pict = f"{len(rows) / pict:.2f}" if pict else "-"
    r_best = f"{len(rows) / best:.2f}" if best else "-"
    st["models"] = st.get("models", 0) + 1
    st["pict_ok"] = st.get("pict_ok", 0) + (pict is None or len(rows) <= pict)
    if best:
        st["best_models"] = st.get("best_models", 0) + 1
        st["best_ok"] = st.get("best_ok", 0) + (len(rows) <= 1.1 * best)
    st["slowest"] = max(st.get("slowest", 0.0), secs)
    st["failed"] = st.get("failed", 0) + (verdict not in ("ok", "-"))
    ap_txt = "-"
    if args.allpairspy:
        size, ap_secs, cov = run_allpairspy(path, t, args.allpairspy_timeout)
        ap_txt = f"{size} {ap_secs} {cov}"
    print(
        f"{path.stem:26} {t:>1} {len(rows):5} {secs:6.2f} {cpu_secs:6.2f} {verdict:>7} "
        f"{pict or '-':>5} {best or '-':>5} {r_pict:>6} {r_best:>6} {ap_txt:>22}",
        flush=True,
    )


if __name__ == "__main__":
    raise SystemExit(main())
