"""``configlab space``: check a space (and configs against it), infer one, convert formats.

Exit codes: 0 ok; 1 a config violates the space; 2 bad space, bad file or bad usage.
"""

from __future__ import annotations

import json
import math
from typing import Any

import click

from configlab import formats
from configlab._internal.safeio import write_output
from configlab.cli._output import emit, emit_json, output_option
from configlab.errors import ConfiglabError, FormatError, SpaceError
from configlab.space import ABSENT, Space, space_to_pict

_SPACE_FORMATS = ("yaml", "json", "pict")


def _load_space(path: str, space_format: str | None, strict: bool = False) -> Space:
    fmt = None if space_format in (None, "auto") else space_format
    return Space.load(path, fmt=fmt, strict=strict)


_STRICT_HELP = "Refuse a JSON Schema with a keyword configlab cannot honour (see the warnings)."


def _jsonable(value: Any) -> Any:
    if value is ABSENT:
        return "<absent>"
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def _write(text: str, output: str | None) -> None:
    if not text.endswith("\n"):
        text += "\n"
    write_output("-" if output is None else output, text)


def _count(number: int) -> str:
    """``number`` in full, or ``~10^N`` when it has more than 30 digits (10,000 parameters)."""
    if number < 10**30:
        return str(number)
    return f"~10^{int(math.log10(number))}"


@click.group(name="space")
def space() -> None:
    """Load, check, infer and convert configuration spaces."""


@space.command("check")
@click.argument("space_file", metavar="SPACE", type=click.Path(dir_okay=False))
@click.option("--config", "-c", "configs", multiple=True, type=click.Path(dir_okay=False),
              help="A config file to validate against the space (repeatable).")
@click.option("--space-format", type=click.Choice(["auto", "yaml", "json", "pict"]),
              default="auto", show_default=True,
              help="Format of SPACE (auto: by extension; .pict is PICT).")
@click.option("--config-format", default=None,
              help="Format of the configs (default: by extension).")
@output_option("--json", "json_out", "the report as JSON")
@click.option("--strict", is_flag=True, help=_STRICT_HELP)
def check(space_file: str, configs: tuple[str, ...], space_format: str,
          config_format: str | None, json_out: str | None, strict: bool) -> None:
    """Load SPACE, list its parameters and value classes, and validate --config files."""
    try:
        loaded = _load_space(space_file, space_format, strict)
    except ConfiglabError as error:
        if json_out is not None:
            emit_json(json_out, {"space": space_file, "error": str(error)})
        else:
            click.echo(f"configlab: error: {error}", err=True)
        raise SystemExit(2) from None
    results: list[dict[str, Any]] = []
    for config_path in configs:
        tree = formats.load(config_path, config_format)
        violations = loaded.validate(tree)
        results.append({
            "config": config_path,
            "valid": not violations,
            "violations": [
                {"path": v.path, "rule": v.rule, "value": _jsonable(v.value),
                 "message": v.message}
                for v in violations
            ],
        })
    if json_out is not None:
        report = {
            "space": space_file,
            "name": loaded.name,
            "digest": loaded.digest(),
            "parameters": [
                {"path": p.path, "kind": p.kind, "optional": p.optional,
                 "nullable": p.nullable, "classes": [str(c) for c in p.value_classes]}
                for p in loaded.parameters
            ],
            "constraints": [c.text for c in loaded.constraints],
            "warnings": list(loaded.warnings),
            "configs": results,
        }
        emit(json_out, json.dumps(report, indent=2, default=repr))
    else:
        title = f" {loaded.name!r}" if loaded.name else ""
        click.echo(f"space{title}: {len(loaded.parameters)} parameter(s), "
                   f"{len(loaded.constraints)} constraint(s), "
                   f"{_count(loaded.size())} value-class combination(s) before constraints")
        for param in loaded.parameters:
            flags = "".join(
                f" {flag}" for flag, on in (("optional", param.optional),
                                            ("nullable", param.nullable),
                                            ("conditional", param.conditional)) if on
            )
            click.echo(f"  {param.path} ({param.kind}{flags}): "
                       + ", ".join(str(c) for c in param.value_classes))
        for constraint in loaded.constraints:
            click.echo(f"  constraint: {constraint.text}")
        for warning in loaded.warnings:
            click.echo(f"  warning: {warning}")
        for result in results:
            if result["valid"]:
                click.echo(f"{result['config']}: valid")
            else:
                click.echo(f"{result['config']}: {len(result['violations'])} violation(s)")
                for violation in result["violations"]:
                    click.echo(f"  {violation['path']}: {violation['message']}")
    if any(not r["valid"] for r in results):
        raise SystemExit(1)


@space.command("infer")
@click.argument("configs", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Write the space here (format by extension; default: YAML on stdout).")
@click.option("--name", default="inferred", show_default=True, help="Name of the space.")
@click.option("--config-format", default=None,
              help="Format of the configs (default: by extension).")
def infer(configs: tuple[str, ...], output: str | None, name: str,
          config_format: str | None) -> None:
    """Infer a space from example CONFIG files (types, observed ranges and values)."""
    trees = [formats.load(path, config_format) for path in configs]
    try:
        inferred = Space.infer(trees, name=name)
    except ConfiglabError as error:  # name the files: the trees alone do not say where
        more = f" (and {len(configs) - 1} more)" if len(configs) > 1 else ""
        raise SpaceError(f"{configs[0]}{more}: {error}") from None
    for warning in inferred.warnings:
        click.echo(f"warning: {warning}", err=True)
    data = inferred.to_dict()
    if output is None:
        _write(formats.dumps(data, "yaml"), None)
    else:
        formats.dump(data, output)
        click.echo(f"wrote {len(inferred.parameters)} parameter(s) to {output}", err=True)


@space.command("convert")
@click.argument("space_file", metavar="SPACE", type=click.Path(dir_okay=False))
@click.option("--to", "target", required=True, type=click.Choice(list(_SPACE_FORMATS)),
              help="Output format: a space file (yaml/json) or a PICT model.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Output file (default: stdout).")
@click.option("--space-format", type=click.Choice(["auto", "yaml", "json", "pict"]),
              default="auto", show_default=True, help="Format of SPACE.")
@click.option("--strict", is_flag=True, help=_STRICT_HELP)
def convert(space_file: str, target: str, output: str | None, space_format: str,
            strict: bool) -> None:
    """Convert SPACE (space file, JSON Schema or PICT model) to a space file or PICT."""
    loaded = _load_space(space_file, space_format, strict)
    for warning in loaded.warnings:
        click.echo(f"warning: {warning}", err=True)
    text = space_to_pict(loaded) if target == "pict" else formats.dumps(loaded.to_dict(), target)
    _write(text, output)


@space.command("convert-config")
@click.argument("config", type=click.Path(dir_okay=False))
@click.option("--to", "target", required=True,
              help=f"Output format ({', '.join(formats.FORMATS)}).")
@click.option("--from", "source_format", default=None,
              help="Input format (default: by extension).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Output file (default: stdout).")
def convert_config(config: str, target: str, source_format: str | None,
                   output: str | None) -> None:
    """Convert a CONFIG file between formats (YAML, JSON, TOML, XML, properties, INI, env)."""
    tree = formats.load(config, source_format)
    if output is None:
        try:
            text = formats.dumps(tree, target)
        except FormatError as error:
            raise FormatError(f"{config}: {error}") from None
        _write(text, None)
    else:
        formats.dump(tree, output, target)


__all__ = ["space"]
