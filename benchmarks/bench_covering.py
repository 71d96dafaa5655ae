"""Covering-array benchmark: configlab's t-way builder vs PICT (recorded) and allpairspy (live).

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_covering.py [MODEL ...] [--strength 2] [--no-allpairspy]

MODEL is a model name or path from ../shared/benchmarks/ca (default: every model whose
``strengths`` contain the requested strength).  Each suite is checked independently with
``../shared/benchmarks/ca/check.py``.  Prints one line per model: our size and time, the
check verdict, PICT's recorded size, the best known size, our ratios to both, and the live
allpairspy size / coverage (skipped when it exceeds --allpairspy-timeout seconds).
"""

from __future__ import annotations

import argparse
import json
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
from configlab.generation._covering import build_covering_suite  # noqa: E402

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


# ---------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("models", nargs="*")
    ap.add_argument("--strength", "-t", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-allpairspy", action="store_true")
    ap.add_argument("--allpairspy-timeout", type=float, default=20.0)
    ap.add_argument("--time-budget", type=float, default=None)
    args = ap.parse_args(argv)
    t = args.strength
    if args.models:
        paths = [Path(m) if m.endswith(".json") else CA_DIR / f"{m}.json" for m in args.models]
    else:
        paths = sorted(CA_DIR.glob("*.json"), key=lambda p: p.name.lower())
    print(
        f"{'model':26} {'ours':>5} {'time':>6} {'check':>7} {'PICT':>5} {'best':>5} "
        f"{'/PICT':>6} {'/best':>6} {'allpairspy':>22}"
    )
    n_pict = n_best = n_models = n_best_models = 0
    for path in paths:
        data, model = load_model(path)
        if not args.models and t not in data.get("strengths", [2]):
            continue
        start = time.monotonic()
        solver = ModelSolver(model)
        rows = build_covering_suite(
            model, t, args.seed, solver=solver, time_budget=args.time_budget
        )
        secs = time.monotonic() - start
        values = [p["values"] for p in data["parameters"]]
        suite = [
            {
                p["name"]: values[i][c]
                for i, (p, c) in enumerate(zip(data["parameters"], r, strict=True))
            }
            for r in rows
        ]
        verdict, _ = run_check(path, suite, t)
        pict = data.get("measured", {}).get("pict", {}).get(str(t), {}).get("size")
        best = data.get("best_known", {}).get(str(t), {}).get("size")
        r_pict = f"{len(rows) / pict:.2f}" if pict else "-"
        r_best = f"{len(rows) / best:.2f}" if best else "-"
        n_models += 1
        if pict is None or len(rows) <= pict:
            n_pict += 1
        if best:
            n_best_models += 1
            n_best += len(rows) <= 1.1 * best
        ap_txt = "-"
        if not args.no_allpairspy:
            size, ap_secs, cov = run_allpairspy(path, t, args.allpairspy_timeout)
            ap_txt = f"{size} {ap_secs} {cov}"
        print(
            f"{path.stem:26} {len(rows):5} {secs:6.2f} {verdict:>7} {pict or '-':>5} "
            f"{best or '-':>5} {r_pict:>6} {r_best:>6} {ap_txt:>22}",
            flush=True,
        )
    print(
        f"\n{n_pict}/{n_models} models with size <= PICT (or no PICT result); "
        f"{n_best}/{n_best_models} models with a best-known size within 10 %"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
