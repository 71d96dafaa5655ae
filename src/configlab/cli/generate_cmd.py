"""``configlab generate`` and ``configlab prioritize``.

``generate`` writes one file per config plus ``manifest.json`` (``--out DIR``), or streams JSON
lines (``--jsonl -`` or a file).  ``prioritize`` orders an existing suite (a directory written
by ``generate`` or a JSON-lines file) by greedy t-tuple coverage.
Exit codes: 0 ok; 2 bad space, bad input or bad usage.
"""

from __future__ import annotations

import json
import sys
import warnings
from collections.abc import Iterator, Mapping
from contextlib import ExitStack
from pathlib import Path
from typing import IO, Any

import click

from configlab import __version__
from configlab.errors import GenerationError
from configlab.generation import STRATEGIES, generate
from configlab.space import Space

_FORMATS = ("yaml", "json", "toml", "xml", "properties", "ini", "env")
MANIFEST = "manifest.json"


def _progress(enabled: bool) -> Any:
    """A rich progress bar on stderr when it is a terminal, else None."""
    if not enabled or not sys.stderr.isatty():
        return None
    from rich.console import Console
    from rich.progress import Progress

    return Progress(console=Console(stderr=True), transient=True)


def _read_base(path: str | None) -> dict[str, Any] | None:
    if path is None:
        return None
    from configlab import formats

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
def generate_command(
    space_path: str, strategy: str, strength: int, seed: int, count: int | None,
    base_path: str | None, raw: bool, max_size: int | None, out_dir: str | None, fmt: str,
    jsonl: str | None, force: bool,
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
    base = _read_base(base_path)
    out = Path(out_dir) if out_dir is not None else None
    if out is not None:
        _prepare_out(out, force)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        configs = generate(space, strategy, seed=seed, count=count, strength=strength,
                           base=base, **options)
        files = _emit(configs, out, fmt, jsonl, count)
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
    from configlab import formats

    files: list[str] = []
    with ExitStack() as stack:
        stream: IO[str] | None = None
        if jsonl == "-":
            stream = sys.stdout
        elif jsonl is not None:
            try:
                stream = stack.enter_context(open(jsonl, "w", encoding="utf-8"))
            except OSError as error:
                raise GenerationError(f"{jsonl}: cannot write: {error.strerror}") from None
        progress = _progress(enabled=True)
        task = None
        if progress is not None:  # pragma: no cover - only on a terminal
            stack.enter_context(progress)
            task = progress.add_task("generating", total=count)
        width = max(4, len(str(count))) if count is not None else 4
        for n, config in enumerate(configs, start=1):
            if stream is not None:
                stream.write(json.dumps(config, separators=(",", ":")) + "\n")
            if out is not None:
                name = f"config-{n:0{width}d}.{fmt}"
                formats.dump(config, out / name, fmt)
                files.append(name)
            elif stream is not None:
                files.append(f"{jsonl}:{n}")
            if progress is not None:  # pragma: no cover - only on a terminal
                progress.advance(task)
        if stream is sys.stdout:
            stream.flush()
    return files


# --------------------------------------------------------------------------- prioritize


def _read_suite(source: str) -> tuple[list[str], list[dict[str, Any]]]:
    """Names and configs of a suite: a directory of config files or a JSON-lines file/stdin."""
    from configlab import formats

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
    if not path.is_file():
        raise GenerationError(f"{source}: no such directory or JSON-lines file")
    with open(path, encoding="utf-8") as handle:
        return _read_jsonl(handle, source)


def _read_jsonl(handle: IO[str], where: str) -> tuple[list[str], list[dict[str, Any]]]:
    names: list[str] = []
    configs: list[dict[str, Any]] = []
    for line_no, line in enumerate(handle, start=1):
        if not line.strip():
            continue
        try:
            config = json.loads(line)
        except ValueError as error:
            raise GenerationError(f"{where}:{line_no}: not JSON: {error}") from None
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
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def prioritize_command(space_path: str, suite: str, strength: int, weights_path: str | None,
                       history_path: str | None, max_count: int | None, as_json: bool) -> None:
    """Order SUITE (a directory of configs or a JSON-lines file) by t-tuple coverage."""
    from configlab import formats
    from configlab.generation import prioritize

    space = Space.load(space_path)
    names, configs = _read_suite(suite)
    weights: dict[str, float] | None = None
    if weights_path is not None:
        weights = {}
        _flat_weights(formats.load(weights_path), "", weights)
    history = None
    if history_path is not None:
        with open(history_path, encoding="utf-8") as handle:
            _, records = _read_jsonl(handle, history_path)
        history = []
        for n, record in enumerate(records, start=1):
            if "config" not in record or "outcome" not in record:
                raise GenerationError(f"{history_path}:{n}: needs 'config' and 'outcome'")
            history.append((record["config"], record["outcome"]))
    result = prioritize(configs, space, strength=strength, weights=weights, history=history)
    if max_count is not None:
        result = result.head(max_count)
    ordered = [names[i] for i in result.order]
    if as_json:
        click.echo(json.dumps({
            "strength": result.strength,
            "total_tuples": result.total_tuples,
            "order": list(result.order),
            "files": ordered,
            "coverage_curve": list(result.coverage_curve),
            "gains": list(result.gains),
        }, indent=2))
        return
    click.echo(f"{'rank':>4}  {'coverage':>8}  config")
    for rank, (name, cov) in enumerate(zip(ordered, result.coverage_curve, strict=True), 1):
        click.echo(f"{rank:>4}  {cov:>8.1%}  {name}")


def register(cli: click.Group) -> None:
    """Add the commands of this module to the ``configlab`` group."""
    cli.add_command(generate_command)
    cli.add_command(prioritize_command)


__all__ = ["generate_command", "prioritize_command", "register"]
