"""Loading specs: from a mapping, from YAML/JSON/Gherkin files and from text."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from configlab._internal import safeio
from configlab.errors import SpecError
from configlab.space import Space
from configlab.specs._gherkin import parse_feature
from configlab.specs._model import Rule, Spec, expectations_from, resolve_space

_RULE_KEYS = ("id", "description", "when", "expect")
_SPEC_KEYS = ("name", "version", "description", "space", "rules")


def spec_from_dict(
    data: Mapping[str, Any],
    *,
    source: str = "spec",
    base_dir: str | os.PathLike[str] | None = None,
    space: Space | Mapping[str, Any] | str | os.PathLike[str] | None = None,
) -> Spec:
    """Build a spec from its file form (unknown keys raise SpecError naming ``source``)."""
    if not isinstance(data, Mapping):
        raise SpecError(f"{source}: a spec must be a mapping with name, version, space and rules")
    unknown = sorted(str(k) for k in data if k not in _SPEC_KEYS)
    if unknown:
        raise SpecError(
            f"{source}: unknown top-level key(s) {unknown}; expected {list(_SPEC_KEYS)}"
        )
    for key in ("name", "version", "rules"):
        if key not in data:
            raise SpecError(f"{source}: missing required key {key!r}")
    base = Path(base_dir) if base_dir is not None else None
    resolved = resolve_space(space if space is not None else data.get("space"), base, source)
    raw_rules = data["rules"]
    if not isinstance(raw_rules, list):
        raise SpecError(f"{source}: 'rules' must be a list")
    rules = []
    for index, item in enumerate(raw_rules):
        if not isinstance(item, Mapping):
            raise SpecError(f"{source}: rule #{index + 1} must be a mapping")
        rule_id = item.get("id")
        where = (
            f"{source}: rule {rule_id!r}"
            if rule_id is not None
            else (f"{source}: rule #{index + 1}")
        )
        bad = sorted(str(k) for k in item if k not in _RULE_KEYS)
        if bad:
            raise SpecError(f"{where}: unknown key(s) {bad}; expected {list(_RULE_KEYS)}")
        if not isinstance(rule_id, str | int) or isinstance(rule_id, bool):
            raise SpecError(f"{where}: 'id' must be a string")
        if "expect" not in item:
            raise SpecError(f"{where}: missing 'expect'")
        rules.append(
            Rule(
                id=str(rule_id),
                when=item.get("when", "true"),
                expect=expectations_from(item["expect"], where),
                description=item.get("description", "") or "",
                source=source,
            )
        )
    return Spec(
        name=data["name"],
        version=data["version"],
        space=resolved,
        rules=tuple(rules),
        description=str(data.get("description", "") or ""),
        source=source,
    )


def load_spec(
    path: str | os.PathLike[str],
    *,
    space: Space | Mapping[str, Any] | str | os.PathLike[str] | None = None,
) -> Spec:
    """Read a spec from YAML (``.yaml``/``.yml``), JSON (``.json``) or Gherkin (``.feature``).

    ``space`` overrides the spec's own space (required for a feature file without a
    ``@space:<path>`` tag if configs are to be generated or checked).
    """
    location = Path(path)
    source = str(location)
    # a regular file only (a FIFO would hang), bounded, UTF-8 checked
    raw = safeio.read_bytes(location, what="spec file", error=SpecError)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise SpecError(f"{source}: spec file is not UTF-8 text") from None
    files: list[tuple[str, bytes]] = [(location.name, raw)]
    suffix = location.suffix.lower()
    ref: Any = None
    if suffix == ".feature":
        spec, ref = _feature_spec(text, source, location.parent, space)
    elif suffix in (".yaml", ".yml", ".json"):
        data = _load_mapping(text, source, suffix)
        spec = spec_from_dict(data, source=source, base_dir=location.parent, space=space)
        ref = data.get("space")
    else:
        raise SpecError(f"{source}: unknown spec format {suffix!r}; use .yaml, .json or .feature")
    if space is None and isinstance(ref, str):
        space_path = location.parent / ref
        if space_path.is_file():
            files.append((f"space/{space_path.name}",
                          safeio.read_bytes(space_path, what="space file", error=SpecError)))
    return replace(spec, source_files=tuple(files))


def _load_mapping(text: str, source: str, suffix: str) -> Any:
    if suffix == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            raise SpecError(f"{source}:{error.lineno}: invalid JSON: {error.msg}") from None
        except (ValueError, RecursionError) as error:  # a huge int, nesting 100,000 deep
            raise SpecError(f"{source}: invalid JSON: {safeio.json_problem(error)}") from None
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error)
        raise SpecError(f"{source}{line}: invalid YAML: {problem}") from None
    except (ValueError, RecursionError) as error:  # `!!int twelve`, nesting too deep
        raise SpecError(f"{source}: invalid YAML: {safeio.json_problem(error)}") from None


def _feature_spec(
    text: str,
    source: str,
    base: Path,
    space: Space | Mapping[str, Any] | str | os.PathLike[str] | None,
) -> tuple[Spec, str | None]:
    feature = parse_feature(text, source)
    resolved = resolve_space(space if space is not None else feature.space, base, source)
    rules = []
    for data, line in zip(feature.rules, feature.lines, strict=True):
        where = f"{source}:{line}"
        rule = Rule(
            id=data["id"],
            when=data["when"],
            expect=expectations_from(data["expect"], where),
            description=data["description"],
            source=where,
        )
        rules.append(rule)
    name = re.sub(r"\s+", "-", feature.name.strip())
    spec = Spec(
        name=name,
        version=feature.version or "0",
        space=resolved,
        rules=tuple(rules),
        description=feature.description,
        source=source,
    )
    return spec, feature.space


def loads_spec(
    text: str,
    fmt: str = "yaml",
    *,
    source: str = "<string>",
    space: Space | Mapping[str, Any] | str | os.PathLike[str] | None = None,
) -> Spec:
    """Parse a spec from text (``fmt``: ``yaml``, ``json`` or ``feature``)."""
    if fmt == "feature":
        return _feature_spec(text, source, Path.cwd(), space)[0]
    if fmt not in ("yaml", "json"):
        raise SpecError(f"unknown spec format {fmt!r}; use yaml, json or feature")
    data = _load_mapping(text, source, "." + fmt)
    return spec_from_dict(data, source=source, base_dir=Path.cwd(), space=space)


def as_spec(spec: Spec | str | os.PathLike[str]) -> Spec:
    """``spec`` itself, or the spec loaded from the file it names."""
    if isinstance(spec, Spec):
        return spec
    if isinstance(spec, str | os.PathLike):
        return load_spec(spec)
    raise SpecError(f"expected a Spec or a spec file path, got {type(spec).__name__}")
