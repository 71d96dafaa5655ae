"""JSON Schema object keywords (``if/then/else``, ``anyOf``/``oneOf``/``not`` on objects,
``dependentRequired``) translated into constraint-language text over the imported parameters."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from configlab import tree as _tree
from configlab.errors import SpaceError
from configlab.space._params import is_json_number as _is_number
from configlab.space._schema_base import (
    ANNOTATIONS,
    _ImporterState,
    _literal,
    _pointer_escape,
    _Unsupported,
)


class _ConditionImporter(_ImporterState):
    """Object-level keywords of a schema as constraints between its parameters."""

    def object_constraints(
        self, schema: Mapping[str, Any], pointer: str, prefix: tuple[str, ...]
    ) -> None:
        if "if" in schema:
            try:
                cond = self.condition(schema["if"], prefix, f"{pointer}/if")
                if "then" in schema:
                    then = self.condition(schema["then"], prefix, f"{pointer}/then")
                    self.add(f"{pointer}/then", f"({cond}) -> ({then})")
                if "else" in schema:
                    other = self.condition(schema["else"], prefix, f"{pointer}/else")
                    self.add(f"{pointer}/else", f"not ({cond}) -> ({other})")
            except _Unsupported as why:
                self.unsound_here(pointer, "if", f"{why}; the conditional is not modelled")
        else:
            for keyword in ("then", "else"):
                if keyword in schema:
                    self.warn(pointer, keyword, "without 'if' has no effect")
        for keyword in ("anyOf", "oneOf", "not"):
            if keyword not in schema:
                continue
            try:
                if keyword == "not":
                    inner = self.condition(schema["not"], prefix, f"{pointer}/not")
                    self.add(f"{pointer}/not", f"not ({inner})")
                    continue
                branches = schema[keyword]
                if not isinstance(branches, list) or not branches:
                    raise SpaceError(
                        f"{self.source}: {pointer}/{keyword}: must be a non-empty list"
                    )
                parts = [self.condition(b, prefix, f"{pointer}/{keyword}/{i}")
                         for i, b in enumerate(branches)]
                if keyword == "anyOf":
                    text = " or ".join(f"({p})" for p in parts)
                elif len(parts) == 1:
                    text = parts[0]
                else:
                    text = " or ".join(
                        "(" + " and ".join(
                            f"({p})" if i == j else f"not ({p})" for j, p in enumerate(parts)
                        ) + ")"
                        for i in range(len(parts))
                    )
                self.add(f"{pointer}/{keyword}", text)
            except _Unsupported as why:
                self.unsound_here(pointer, keyword, f"{why}; not modelled")
        dependent = dict(schema.get("dependentRequired", {}) or {})
        for name, value in (schema.get("dependencies", {}) or {}).items():
            if isinstance(value, list):
                dependent[name] = value
            else:
                self.unsound_here(f"{pointer}/dependencies/{_pointer_escape(name)}",
                                  "dependencies", "schema dependencies are not modelled")
        for name, needed in dependent.items():
            try:
                trigger = self.present((*prefix, str(name)))
                required = [self.present((*prefix, str(n))) for n in needed]
            except _Unsupported as why:
                self.unsound_here(f"{pointer}/dependentRequired/{_pointer_escape(name)}",
                                  "dependentRequired", f"{why}; not modelled")
                continue
            if required:
                self.add(f"{pointer}/dependentRequired/{_pointer_escape(name)}",
                         f"{trigger} -> " + " and ".join(required))

    def condition(self, schema: Any, prefix: tuple[str, ...], pointer: str) -> str:
        """A sub-schema applied to the object at ``prefix`` as a constraint expression."""
        try:
            schema, pointer = self.resolve(schema, pointer)
        except _Unsupported as why:
            raise _Unsupported(str(why)) from None
        if schema is True or schema == {}:
            return "true"
        if schema is False:
            return "false"
        if not isinstance(schema, Mapping):
            raise _Unsupported(f"{pointer}: unsupported sub-schema")
        parts: list[str] = []
        required = schema.get("required", [])
        for keyword in schema:
            if keyword not in ("properties", "required", "anyOf", "oneOf", "allOf", "not",
                               "type") and keyword not in ANNOTATIONS:
                raise _Unsupported(f"{pointer}: keyword {keyword!r} in a condition")
        if schema.get("type", "object") != "object":
            raise _Unsupported(f"{pointer}: a condition on a non-object")
        for name in required:
            parts.append(self.present((*prefix, str(name))))
        for name, sub in (schema.get("properties", {}) or {}).items():
            parts.append(self.value_condition(
                sub, (*prefix, str(name)), f"{pointer}/properties/{_pointer_escape(str(name))}",
                name in required,
            ))
        for index, part in enumerate(schema.get("allOf", []) or []):
            parts.append(self.condition(part, prefix, f"{pointer}/allOf/{index}"))
        for keyword in ("anyOf", "oneOf"):
            if keyword in schema:
                branches = [self.condition(b, prefix, f"{pointer}/{keyword}/{i}")
                            for i, b in enumerate(schema[keyword])]
                if keyword == "oneOf" and len(branches) > 1:
                    branches = [
                        " and ".join(f"({p})" if i == j else f"not ({p})"
                                     for j, p in enumerate(branches))
                        for i in range(len(branches))
                    ]
                parts.append(" or ".join(f"({b})" for b in branches))
        if "not" in schema:
            parts.append(f"not ({self.condition(schema['not'], prefix, f'{pointer}/not')})")
        if not parts:
            return "true"
        return " and ".join(f"({p})" for p in parts) if len(parts) > 1 else parts[0]

    def value_condition(
        self, schema: Any, segments: tuple[str, ...], pointer: str, required: bool
    ) -> str:
        """``properties: {name: schema}`` inside a condition (holds when the key is absent)."""
        schema, pointer = self.resolve(schema, pointer)
        if isinstance(schema, Mapping) and (
            "properties" in schema or schema.get("type") == "object"
        ):
            inner = self.condition(schema, segments, pointer)
            return inner
        ref = self.param_ref(segments)
        if not isinstance(schema, Mapping):
            raise _Unsupported(f"{pointer}: boolean schema in a condition")
        tests: list[str] = []
        for keyword, value in schema.items():
            if keyword in ANNOTATIONS:
                continue
            if keyword == "const":
                tests.append(f"{ref} == {_literal(value)}")
            elif keyword == "enum" and isinstance(value, list) and not any(
                isinstance(v, dict | list) for v in value
            ):
                tests.append(f"{ref} in [{', '.join(_literal(v) for v in value)}]")
            elif keyword in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum") \
                    and _is_number(value):
                op = {"minimum": ">=", "maximum": "<=", "exclusiveMinimum": ">",
                      "exclusiveMaximum": "<"}[keyword]
                tests.append(f"{ref} {op} {_literal(value)}")
            elif keyword == "not" and isinstance(value, Mapping):
                inner = self.value_condition(value, segments, f"{pointer}/not", True)
                tests.append(f"not ({inner})")
            else:
                raise _Unsupported(f"{pointer}: keyword {keyword!r} in a condition")
        if not tests:
            return "true"
        text = " and ".join(f"({t})" for t in tests) if len(tests) > 1 else tests[0]
        param = self.params[_tree.join_path(segments)]
        if not required and (param.optional or param.conditional):
            return f"{ref} == null or ({text})"
        return text

