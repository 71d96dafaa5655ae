"""``configlab generate`` and ``configlab prioritize``.

``generate`` writes one file per config plus ``manifest.json`` (``--out DIR``), or streams JSON
lines (``--jsonl -`` or a file).  ``prioritize`` orders an existing suite (a directory written
by ``generate`` or a JSON-lines file) by greedy t-tuple coverage.
Exit codes: 0 ok; 2 bad space, bad input or bad usage.
"""

from __future__ import annotations

import io
import json
import sys
import warnings
from collections.abc import Iterator, Mapping
from contextlib import ExitStack
from pathlib import Path
from typing import IO, Any

import click

from configlab import formats
from configlab._internal import safeio
from configlab._version import __version__
from configlab.cli._output import emit_json, output_option
from configlab.errors import GenerationError
from configlab.execution import EXTENSIONS, Progress
from configlab.generation import STRATEGIES, covering_suite, generate, prioritize
from configlab.integrations.ingest import load_results
from configlab.space import Space

#: every format configlab writes; directive (redis.conf, sshd_config) and nginx files get ``.conf``
_FORMATS = formats.FORMATS
MANIFEST = "manifest.json"


def _read_base(path: str | None) -> dict[str, Any] | None:
    if path is None:
        return None

    return formats.load(path)


@click.command("generate")
@click.option("--space", "space_path", required=True, type=click.Path(dir_okay=False),
              help="Space file (YAML/JSON space, JSON Schema or .pict model).")
@click.option("--strategy", type=click.Choice(STRATEGIES), default="covering", show_default=True)
@click.option("--strength", type=int, default=2, show_default=True,
              help="t of the covering strategy (1..4).")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--count", type=int, default=None,
              help="Number of configs (required for endless strategies: boundary, random).")
@click.option("--base", "base_path", type=click.Path(dir_okay=False), default=None,
              help="Config written under every generated one (required by mutate).")
@click.option("--raw", is_flag=True, help="random: uniform raw values instead of value classes.")
@click.option("--max-size", type=int, default=None, help="exhaustive: refusal threshold.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None,
              help="Directory for config-0001.<ext> files and manifest.json.")
@click.option("--format", "fmt", type=click.Choice(_FORMATS), default="yaml", show_default=True)
@click.option("--jsonl", "jsonl", default=None, help="Write JSON lines to this file ('-': stdout).")
@click.option("--force", is_flag=True, help="Replace configs of an earlier run in --out.")
@click.option("--seeds", "seeds_path", default=None,
              help="covering: configs that must be in the suite (suite dir, JSON lines, or a "
                   "PICT seeding file .tsv/.txt; partial rows are completed).")
@click.option("--extend", "extend_path", default=None,
              help="covering: an existing suite (dir or JSON lines) to complete after the "
                   "space changed; only the configs it lacks are written.")
@click.option("--extend-results", "extend_results", default=None,
              help="covering: like --extend, from a results file or store directory.")
@click.option("--group", "groups", multiple=True,
              help="covering: higher strength for some parameters, e.g. '{db.*}@3' (repeatable).")
@click.option("--weights", "weights_path", type=click.Path(exists=True, dir_okay=False),
              default=None, help="covering: YAML/JSON {path: {value: weight}} value preferences.")
@click.option("--negative", "negatives", multiple=True,
              help="covering: PATH=VALUE is an invalid input: single-fault configs only.")
@click.option("--effort", type=float, default=None,
              help="covering: optimisation effort (default 1; higher: smaller suite, slower).")
@click.option("--time-budget", type=float, default=None,
              help="covering: wall-clock limit in seconds (construction + optimisation; "
                   "warns and completes the suite if even construction needs longer).")
def generate_command(
    space_path: str, strategy: str, strength: int, seed: int, count: int | None,
    base_path: str | None, raw: bool, max_size: int | None, out_dir: str | None, fmt: str,
    jsonl: str | None, force: bool, seeds_path: str | None, extend_path: str | None,
    extend_results: str | None, groups: tuple[str, ...], weights_path: str | None,
    negatives: tuple[str, ...], effort: float | None, time_budget: float | None,
) -> None:
    """Generate configurations from a space."""
    if out_dir is None and jsonl is None:
        raise click.UsageError("give --out DIR and/or --jsonl FILE ('-' for stdout)")
    if count is None and strategy in ("boundary", "random"):
        raise click.UsageError(f"the {strategy} strategy is endless: give --count N")
    space = Space.load(space_path)
    options: dict[str, Any] = {}
    if raw:
        if strategy != "random":
            raise click.UsageError("--raw only applies to --strategy random")
        options["raw"] = True
    if max_size is not None:
        if strategy != "exhaustive":
            raise click.UsageError("--max-size only applies to --strategy exhaustive")
        options["max_size"] = max_size
    covering = _covering_options(space, seeds_path, extend_path, extend_results, groups,
                                 weights_path, negatives, effort, time_budget)
    if covering and strategy != "covering":
        raise click.UsageError(f"{', '.join(sorted(covering))}: only for --strategy covering")
    base = _read_base(base_path)
    out = Path(out_dir) if out_dir is not None else None
    if out is not None:
        _prepare_out(out, force)
    report_lines: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if covering:
            report = covering_suite(space, strength, seed, base=base, **covering)
            report_lines = report.summary()
            options["report"] = {
                "valid_tuples": report.valid_tuples, "seed_covered": report.seed_covered,
                "seeded": report.seeded, "existing": report.existing,
                "existing_invalid": len(report.existing_invalid), "faults": len(report.faults),
            }
            configs: Iterator[dict[str, Any]] = _unique(report.configs, count)
        else:
            configs = generate(space, strategy, seed=seed, count=count, strength=strength,
                               base=base, **options)
        files = _emit(configs, out, fmt, jsonl, count)
    for line in report_lines:
        click.echo(f"configlab: {line}", err=True)
    notes = [*space.warnings, *(str(w.message) for w in caught)]
    for note in notes:
        click.echo(f"configlab: warning: {note}", err=True)
    if out is not None:
        manifest = {
            "configlab_version": __version__,
            "space": str(space_path),
            "space_digest": space.digest(),
            "strategy": strategy,
            "strength": strength,
            "seed": seed,
            "count": count,
            "generated": len(files),
            "format": fmt,
            "options": options,
            "base": base_path,
            "files": files,
            "warnings": notes,
        }
        (out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        click.echo(f"wrote {len(files)} configs to {out}", err=True)


def _unique(configs: list[dict[str, Any]], count: int | None) -> Iterator[dict[str, Any]]:
    seen: set[str] = set()
    for config in configs:
        key = json.dumps(config, sort_keys=True)
        if key not in seen and (count is None or len(seen) < count):
            seen.add(key)
            yield config


def _covering_options(
    space: Space, seeds_path: str | None, extend_path: str | None, extend_results: str | None,
    groups: tuple[str, ...], weights_path: str | None, negatives: tuple[str, ...],
    effort: float | None, time_budget: float | None,
) -> dict[str, Any]:
    """The covering-only options given on the command line, read and checked."""
    options: dict[str, Any] = {}
    if seeds_path is not None:
        options["seeds"] = _read_seeds(space, seeds_path)
    existing: list[dict[str, Any]] = []
    if extend_path is not None:
        existing += _read_suite(extend_path)[1]
    if extend_results is not None:
        existing += [dict(r.config) for r in load_results(extend_results)]
    if extend_path is not None or extend_results is not None:
        options["existing"] = existing
    if groups:
        options["groups"] = list(groups)
    if weights_path is not None:
        options["weights"] = formats.load(weights_path)
    if negatives:
        table: dict[str, list[Any]] = {}
        for item in negatives:
            path, sep, value = item.partition("=")
            if not sep or path.strip() not in space:
                raise GenerationError(f"--negative {item!r}: expected PATH=VALUE with a known PATH")
            table.setdefault(path.strip(), []).append(_cell_value(space, path.strip(), value))
        options["negative"] = table
    if effort is not None:
        options["effort"] = effort
    if time_budget is not None:
        if not time_budget > 0:
            raise GenerationError(f"--time-budget must be positive, got {time_budget}")
        options["time_budget"] = time_budget
    return options


def _cell_value(space: Space, path: str, text: str) -> Any:
    """The value of ``path`` written as ``text`` (a value-class label, case-insensitive)."""
    text = text.strip()
    for cls in space.param(path).value_classes:
        if cls.label.lower() == text.lower() or str(cls.value).lower() == text.lower():
            return cls.value
    raise GenerationError(f"{path}: {text!r} is not one of its values")


def _read_seeds(space: Space, source: str) -> list[dict[str, Any]]:
    """Seed configs: a suite (dir / JSON lines) or a PICT seeding file (tab-separated, header
    of parameter names, empty cells left open)."""
    if not source.endswith((".tsv", ".txt")):
        return _read_suite(source)[1]

    by_name = {p.path.lower(): p.path for p in space.parameters}
    by_name.update({
        p.description.removeprefix("PICT name: ").lower(): p.path
        for p in space.parameters if p.description.startswith("PICT name: ")
    })
    text = safeio.read_text(source, what="seeding file", error=GenerationError)
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise GenerationError(f"{source}: empty seeding file")
    header = [h.strip() for h in lines[0].split("\t")]
    unknown = [h for h in header if h.lower() not in by_name]
    if unknown:
        raise GenerationError(f"{source}:1: unknown parameter(s) {', '.join(unknown)}")
    seeds = []
    for line_no, line in enumerate(lines[1:], start=2):
        assignment: dict[str, Any] = {}
        for name, cell in zip(header, line.split("\t"), strict=False):
            if cell.strip():
                path = by_name[name.lower()]
                try:
                    assignment[path] = _cell_value(space, path, cell)
                except GenerationError as error:
                    raise GenerationError(f"{source}:{line_no}: {error}") from None
        # Element fields (``a[*].b``) and member factors are written through their container.
        seeds.append(space.build_partial(assignment))
    return seeds


def _prepare_out(out: Path, force: bool) -> None:
    if out.exists() and not out.is_dir():
        raise GenerationError(f"{out}: not a directory")
    out.mkdir(parents=True, exist_ok=True)
    old = sorted(p for p in out.iterdir() if p.name == MANIFEST or p.name.startswith("config-"))
    if old and not force:
        raise GenerationError(f"{out}: holds configs of an earlier run (use --force to replace)")
    for path in old:
        path.unlink()


def _emit(configs: Iterator[dict[str, Any]], out: Path | None, fmt: str, jsonl: str | None,
          count: int | None) -> list[str]:
    files: list[str] = []
    with ExitStack() as stack:
        stream: IO[str] | None = None
        if jsonl == "-":
            stream = sys.stdout
        elif jsonl is not None:
            # regular file: atomic replace; a device or FIFO: written in place
            binary = stack.enter_context(
                safeio.open_output(jsonl, what="JSON-lines file", error=GenerationError))
            stream = stack.enter_context(io.TextIOWrapper(binary, encoding="utf-8"))

        # a bar on a terminal, a line every 5 s in CI logs for suites that take that long
        progress = stack.enter_context(Progress(count, "generate", final=False))
        width = max(4, len(str(count))) if count is not None else 4
        for n, config in enumerate(configs, start=1):
            if stream is not None:
                stream.write(json.dumps(config, separators=(",", ":")) + "\n")
            if out is not None:
                name = f"config-{n:0{width}d}.{EXTENSIONS.get(fmt, fmt)}"
                formats.dump(config, out / name, fmt)
                files.append(name)
            elif stream is not None:
                files.append(f"{jsonl}:{n}")
            progress.advance()
        if stream is sys.stdout:
            stream.flush()
    return files


# --------------------------------------------------------------------------- prioritize


def _read_suite(source: str) -> tuple[list[str], list[dict[str, Any]]]:
    """Names and configs of a suite: a directory of config files or a JSON-lines file/stdin."""
    if source == "-":
        return _read_jsonl(sys.stdin, "<stdin>")
    path = Path(source)
    if path.is_dir():
        manifest = path / MANIFEST
        if manifest.is_file():
            try:
                names = list(json.loads(manifest.read_text(encoding="utf-8"))["files"])
            except (ValueError, KeyError, TypeError):
                raise GenerationError(f"{manifest}: not a configlab manifest") from None
        else:
            names = sorted(p.name for p in path.iterdir()
                           if p.is_file() and not p.name.startswith("."))
        if not names:
            raise GenerationError(f"{path}: no config files")
        return names, [formats.load(path / name) for name in names]
    if not path.exists():
        raise GenerationError(f"{source}: no such directory or JSON-lines file")
    text = safeio.read_text(path, what="JSON-lines file", error=GenerationError)
    return _read_jsonl(io.StringIO(text), source)


def _read_jsonl(handle: IO[str], where: str) -> tuple[list[str], list[dict[str, Any]]]:
    names: list[str] = []
    configs: list[dict[str, Any]] = []
    for line_no, line in enumerate(handle, start=1):
        if not line.strip():
            continue
        try:
            config = json.loads(line)
        except (ValueError, RecursionError) as error:
            reason = "nested too deeply" if isinstance(error, RecursionError) else error
            raise GenerationError(f"{where}:{line_no}: not JSON: {reason}") from None
        if not isinstance(config, dict):
            raise GenerationError(f"{where}:{line_no}: a config must be a JSON object")
        names.append(f"{where}:{line_no}")
        configs.append(config)
    return names, configs


def _flat_weights(data: Mapping[str, Any], prefix: str, out: dict[str, float]) -> None:
    for key, value in data.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, Mapping):
            _flat_weights(value, path, out)
        else:
            out[path] = value


@click.command("prioritize")
@click.option("--space", "space_path", required=True, type=click.Path(dir_okay=False))
@click.argument("suite")
@click.option("--strength", type=int, default=2, show_default=True)
@click.option("--weights", "weights_path", type=click.Path(exists=True, dir_okay=False),
              default=None,
              help="YAML/JSON mapping parameter path -> risk weight.")
@click.option("--history", "history_path", type=click.Path(exists=True, dir_okay=False),
              default=None,
              help="JSON lines of {\"config\": ..., \"outcome\": ...} from past runs.")
@click.option("--max", "max_count", type=int, default=None, help="Keep only the first N.")
@output_option("--json", "json_out", "the order as JSON")
def prioritize_command(space_path: str, suite: str, strength: int, weights_path: str | None,
                       history_path: str | None, max_count: int | None,
                       json_out: str | None) -> None:
    """Order SUITE (a directory of configs or a JSON-lines file) by t-tuple coverage."""
    space = Space.load(space_path)
    names, configs = _read_suite(suite)
    weights: dict[str, float] | None = None
    if weights_path is not None:
        weights = {}
        _flat_weights(formats.load(weights_path), "", weights)
    history = None
    if history_path is not None:
        text = safeio.read_text(history_path, what="history file", error=GenerationError)
        _, records = _read_jsonl(io.StringIO(text), history_path)
        history = []
        for n, record in enumerate(records, start=1):
            if "config" not in record or "outcome" not in record:
                raise GenerationError(f"{history_path}:{n}: needs 'config' and 'outcome'")
            history.append((record["config"], record["outcome"]))
    result = prioritize(configs, space, strength=strength, weights=weights, history=history)
    if max_count is not None:
        result = result.head(max_count)
    ordered = [names[i] for i in result.order]
    if json_out is not None:
        emit_json(json_out, {
            "strength": result.strength,
            "total_tuples": result.total_tuples,
            "order": list(result.order),
            "files": ordered,
            "coverage_curve": list(result.coverage_curve),
            "gains": list(result.gains),
        })
        return
    click.echo(f"{'rank':>4}  {'coverage':>8}  config")
    for rank, (name, cov) in enumerate(zip(ordered, result.coverage_curve, strict=True), 1):
        click.echo(f"{rank:>4}  {cov:>8.1%}  {name}")


def register(cli: click.Group) -> None:
    """Add the commands of this module to the ``configlab`` group."""
    cli.add_command(generate_command)
    cli.add_command(prioritize_command)


__all__ = ["generate_command", "prioritize_command", "register"]
