"""PICT models <-> spaces.

``space_from_pict`` reads a model in the format of Microsoft PICT (parameter lines
``Name: v1, v2``, optional sub-models, constraints ``IF ... THEN ... ELSE ...;``) and returns a
:class:`~configlab.space.Space` of choice parameters whose constraints are written in configlab's
constraint language.  ``space_to_pict`` writes a space back as a PICT model.

Mapping rules (see docs/space-import.md):

* a parameter name becomes a safe path: every character outside ``[A-Za-z0-9_]`` becomes ``_``,
  a leading digit gets a ``p_`` prefix, a constraint-language keyword gets a ``_`` suffix and
  collisions get ``_2``, ``_3``...; when the path differs from the name the parameter's
  description is ``PICT name: <original>`` (used again by the export);
* a parameter whose values are all numbers is numeric (values stay ``int``/``float``), otherwise
  every value is a string;
* aliases ``v | alias`` keep the first name (with a warning in ``space.warnings``);
* ``~`` (negative value) markers, ``(N)`` weights and sub-models ``{A, B} @ N`` are kept in
  :attr:`Space.hints` (``negative``, ``weights``, ``groups``), which covering generation
  uses as defaults (single-fault configs, value preference, mixed strength);
* string comparisons with ``=``, ``<>``, ``IN`` and ``LIKE`` resolve case-insensitively against
  the parameter's values (PICT's default); ``LIKE`` is expanded into ``in [...]``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from configlab._internal.saferegex import compile_pattern
from configlab.constraints import Node, parse
from configlab.errors import ConfiglabError, ConstraintError, SpaceError
from configlab.space._model import Space
from configlab.space._params import ABSENT, ChoiceParam, Parameter

_KEYWORDS = {"and", "or", "not", "in", "true", "false", "null", "len"}
_NAME_PREFIX = "PICT name: "
_INT_RE = re.compile(r"[+-]?\d+")
_FLOAT_RE = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_WEIGHT_RE = re.compile(r"^(.*?)\s*\(\s*(\d+)\s*\)$")
_CONSTRAINT_START = re.compile(r"^(?:IF\b|NOT\b|\[|\(|[A-Za-z]+\s*\()", re.IGNORECASE)
_PARAMETER_LINE = re.compile(r"^[^\[\]\"(){};]+:")

Literal = int | float | str


# --------------------------------------------------------------------------- predicate tree


@dataclass(frozen=True)
class _Ref:
    """Another parameter on the right-hand side of a comparison."""

    path: str


@dataclass(frozen=True)
class _Cmp:
    path: str
    op: str  # == != < <= > >=
    right: Literal | _Ref


@dataclass(frozen=True)
class _In:
    path: str
    values: tuple[Literal, ...]
    negated: bool = False


@dataclass(frozen=True)
class _Not:
    inner: Pred


@dataclass(frozen=True)
class _And:
    items: tuple[Pred, ...]


@dataclass(frozen=True)
class _Or:
    items: tuple[Pred, ...]


Pred = _Cmp | _In | _Not | _And | _Or


@dataclass(frozen=True)
class _If:
    cond: Pred
    then: Pred
    otherwise: Pred | None


Statement = _If | Pred


def _negate(pred: Pred) -> Pred:
    """NOT, folding ``not (x in ...)`` into ``x not in ...`` and double negations."""
    if isinstance(pred, _In):
        return _In(pred.path, pred.values, not pred.negated)
    if isinstance(pred, _Not):
        return pred.inner
    return _Not(pred)


def _join(cls: type[_And] | type[_Or], items: Sequence[Pred]) -> Pred:
    flat: list[Pred] = []
    for item in items:
        flat.extend(item.items if isinstance(item, cls) else (item,))
    return flat[0] if len(flat) == 1 else cls(tuple(flat))


# --------------------------------------------------------------------------- rendering


def _literal_text(value: Literal) -> str:
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return repr(value) if isinstance(value, float) else str(value)


def _level(pred: Pred) -> int:
    if isinstance(pred, _Or):
        return 1
    if isinstance(pred, _And):
        return 2
    return 3


def _render(pred: Pred, minimum: int = 1) -> str:
    """configlab constraint text with the fewest parentheses the precedence allows."""
    if isinstance(pred, _Cmp):
        right = pred.right.path if isinstance(pred.right, _Ref) else _literal_text(pred.right)
        text = f"{pred.path} {pred.op} {right}"
    elif isinstance(pred, _In):
        items = ", ".join(_literal_text(v) for v in pred.values)
        text = f"{pred.path} {'not in' if pred.negated else 'in'} [{items}]"
    elif isinstance(pred, _Not):
        text = f"not {_render(pred.inner, 3)}"
    elif isinstance(pred, _And):
        text = " and ".join(_render(item, 3) for item in pred.items)
    else:
        text = " or ".join(_render(item, 2) for item in pred.items)
    return f"({text})" if _level(pred) < minimum else text


def _render_statement(statement: Statement) -> str:
    if not isinstance(statement, _If):
        return _render(statement)
    cond, then = _render(statement.cond), _render(statement.then)
    if statement.otherwise is None:
        return f"{cond} -> {then}"
    otherwise = _render(statement.otherwise)
    return f"({cond} -> {then}) and ({_render(_negate(statement.cond))} -> {otherwise})"


# --------------------------------------------------------------------------- PICT import


@dataclass
class _PictParam:
    name: str
    path: str
    values: list[Literal]
    aliases: dict[str, Literal]  # lower-cased first name -> value
    numeric: bool


def _safe_path(name: str, taken: set[str]) -> str:
    base = re.sub(r"[^A-Za-z0-9_]", "_", name) or "p"
    if base[0].isdigit():
        base = f"p_{base}"
    if base in _KEYWORDS:
        base = f"{base}_"
    path, n = base, 2
    while path.lower() in taken:
        path = f"{base}_{n}"
        n += 1
    taken.add(path.lower())
    return path


def _number(text: str) -> int | float | None:
    if _INT_RE.fullmatch(text):
        return int(text)
    if _FLOAT_RE.fullmatch(text):
        number = float(text)
        return number if math.isfinite(number) else None
    return None


def _parse_parameter(
    line: str, lineno: int, params: dict[str, _PictParam], taken: set[str], warnings: list[str],
    source: str, marks: dict[str, dict[str, Any]] | None = None,
) -> _PictParam:
    name, _, raw_values = line.partition(":")
    name = name.strip()
    if not name:
        raise SpaceError(f"{source}:{lineno}: parameter without a name")
    if name.lower() in params:
        raise SpaceError(f"{source}:{lineno}: parameter {name!r} defined twice")
    if not raw_values.strip():  # `a:` is not a choice of "" (issue 18)
        raise SpaceError(f"{source}:{lineno}: parameter {name!r} has no values")
    names: list[list[str]] = []
    for raw in raw_values.split(","):
        item = raw.strip()
        if not item:
            raise SpaceError(f"{source}:{lineno}: {name}: empty value in the list")
        reuse = re.fullmatch(r"<(.+)>", item)
        if reuse is not None:
            other = params.get(reuse.group(1).strip().lower())
            if other is None:
                raise SpaceError(
                    f"{source}:{lineno}: {name}: <{reuse.group(1)}> names no earlier parameter"
                )
            for reused in other.values:
                names.append([str(reused)])
            continue
        weight = _WEIGHT_RE.match(item)
        if weight is not None:
            item = weight.group(1)
        alternatives = [part.strip() for part in item.split("|")]
        negative = alternatives[0].startswith("~")
        if negative:
            alternatives[0] = alternatives[0][1:].strip()
        if marks is not None:
            # honoured by covering generation through Space.hints
            if weight is not None:
                marks["weights"][alternatives[0].lower()] = int(weight.group(2))
            if negative:
                marks["negative"][alternatives[0].lower()] = True
        if len(alternatives) > 1:
            warnings.append(
                f"{source}:{lineno}: {name}: aliases of {alternatives[0]!r} "
                f"({', '.join(alternatives[1:])}) dropped; the first name is kept"
            )
        names.append(alternatives)
    numbers = [_number(alts[0]) for alts in names]
    numeric = bool(names) and all(n is not None for n in numbers)
    values: list[Literal] = []
    aliases: dict[str, Literal] = {}
    for alts, number in zip(names, numbers, strict=True):
        value: Literal = alts[0]
        if numeric and number is not None:
            value = number
        if any(type(v) is type(value) and v == value for v in values) or (
            numeric and any(v == value for v in values)
        ):
            warnings.append(f"{source}:{lineno}: {name}: duplicate value {alts[0]!r} dropped")
            continue
        values.append(value)
        # PICT: "when evaluating constraints, only the first name counts".
        aliases.setdefault(alts[0].lower(), value)
    param = _PictParam(name, _safe_path(name, taken), values, aliases, numeric)
    params[name.lower()] = param
    return param


_TOKEN_RE = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<param>\[[^\]]*\])
  | (?P<string>"[^"]*")
  | (?P<number>[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<op><>|<=|>=|=|<|>|[(){},])
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class _Tok:
    kind: str
    text: str


class _ConstraintParser:
    def __init__(
        self, text: str, lineno: int, params: Mapping[str, _PictParam], source: str,
        warnings: list[str],
    ) -> None:
        self.warnings = warnings
        self.lineno = lineno
        self.params = params
        self.source = source
        self.tokens = self._tokenize(text)
        self.index = 0

    def fail(self, message: str) -> SpaceError:
        return SpaceError(f"{self.source}:{self.lineno}: {message}")

    def _tokenize(self, text: str) -> list[_Tok]:
        tokens: list[_Tok] = []
        pos = 0
        while pos < len(text):
            match = _TOKEN_RE.match(text, pos)
            if match is None:
                raise self.fail(f"unexpected character {text[pos]!r} in constraint")
            kind = match.lastgroup or ""
            if kind != "ws":
                value = match.group()
                if kind == "word":
                    kind, value = "kw", value.upper()
                tokens.append(_Tok(kind, value))
            pos = match.end()
        tokens.append(_Tok("end", ""))
        return tokens

    @property
    def current(self) -> _Tok:
        return self.tokens[self.index]

    def accept(self, kind: str, text: str | None = None) -> _Tok | None:
        token = self.current
        if token.kind == kind and (text is None or token.text == text):
            self.index += 1
            return token
        return None

    def expect(self, kind: str, text: str | None = None) -> _Tok:
        token = self.accept(kind, text)
        if token is None:
            found = self.current.text or "end of constraint"
            raise self.fail(f"expected {text or kind}, found {found!r}")
        return token

    # statement := IF pred THEN pred [ELSE pred] | pred
    def statement(self) -> Statement:
        if self.accept("kw", "IF"):
            cond = self.predicate()
            self.expect("kw", "THEN")
            then = self.predicate()
            otherwise = self.predicate() if self.accept("kw", "ELSE") else None
            result: Statement = _If(cond, then, otherwise)
        else:
            result = self.predicate()
        if self.current.kind != "end":
            raise self.fail(f"unexpected {self.current.text!r} in constraint")
        return result

    def predicate(self) -> Pred:
        items = [self.conjunction()]
        while self.accept("kw", "OR"):
            items.append(self.conjunction())
        return _join(_Or, items)

    def conjunction(self) -> Pred:
        items = [self.clause()]
        while self.accept("kw", "AND"):
            items.append(self.clause())
        return _join(_And, items)

    def clause(self) -> Pred:
        if self.accept("kw", "NOT"):
            return _negate(self.clause())
        if self.accept("op", "("):
            inner = self.predicate()
            self.expect("op", ")")
            return inner
        return self.term()

    def param(self, token: _Tok) -> _PictParam:
        name = token.text[1:-1].strip()
        found = self.params.get(name.lower())
        if found is None:
            raise self.fail(f"unknown parameter [{name}]")
        return found

    def value(self, param: _PictParam) -> Literal:
        token = self.current
        if token.kind == "string":
            self.index += 1
            if param.numeric:
                raise self.fail(
                    f"[{param.name}] is numeric but is compared to the string {token.text}"
                )
            return token.text[1:-1]
        if token.kind == "number":
            self.index += 1
            if not param.numeric:
                raise self.fail(
                    f"[{param.name}] is a string parameter but is compared to the number "
                    f"{token.text} (quote it)"
                )
            number = _number(token.text)
            if number is None:  # pragma: no cover - the token pattern only admits numbers
                raise self.fail(f"bad number {token.text}")
            return number
        raise self.fail(f"expected a value for [{param.name}], found {token.text or 'end'!r}")

    def canonical(self, param: _PictParam, value: Literal) -> Literal:
        """The parameter's own spelling of a string value (PICT compares case-insensitively)."""
        if isinstance(value, str):
            found = param.aliases.get(value.lower())
            if found is None:
                self.warnings.append(
                    f"{self.source}:{self.lineno}: [{param.name}] has no value {value!r} "
                    "(aliases never match in PICT); the comparison never holds"
                )
                return value
            return found
        return value

    def term(self) -> Pred:
        token = self.accept("param")
        if token is None:
            found = self.current.text or "end of constraint"
            if self.current.kind == "kw" and self.current.text.startswith("IS"):
                raise self.fail(f"{found}() (negative-value functions) is not supported")
            raise self.fail(f"expected [parameter], found {found!r}")
        param = self.param(token)
        negated = bool(self.accept("kw", "NOT"))
        if self.accept("kw", "IN"):
            self.expect("op", "{")
            values = [self.canonical(param, self.value(param))]
            while self.accept("op", ","):
                values.append(self.canonical(param, self.value(param)))
            self.expect("op", "}")
            return _In(param.path, tuple(values), negated)
        if self.accept("kw", "LIKE"):
            return self.like(param, negated)
        if negated:
            raise self.fail("NOT after a parameter must be followed by IN or LIKE")
        relation = self.expect("op")
        ops = {"=": "==", "<>": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
        if relation.text not in ops:
            raise self.fail(f"expected a relation after [{param.name}], found {relation.text!r}")
        op = ops[relation.text]
        other = self.accept("param")
        if other is not None:
            right = self.param(other)
            if right.numeric != param.numeric:
                raise self.fail(f"[{param.name}] and [{right.name}] have different types")
            return _Cmp(param.path, op, _Ref(right.path))
        value = self.value(param)
        if op in ("==", "!="):
            value = self.canonical(param, value)
        return _Cmp(param.path, op, value)

    def like(self, param: _PictParam, negated: bool) -> Pred:
        token = self.current
        if param.numeric:
            raise self.fail(f"LIKE cannot be used on the numeric parameter [{param.name}]")
        if token.kind != "string":
            raise self.fail(f"LIKE needs a quoted pattern, found {token.text or 'end'!r}")
        self.index += 1
        pattern = token.text[1:-1]
        regex = "".join(
            ".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern
        )
        compiled = compile_pattern(regex, where=f"LIKE {pattern!r}", error=SpaceError,
                                   ignore_case=True, dot_all=True)
        matches = tuple(v for v in param.values if compiled.fullmatch(str(v)))
        return _In(param.path, matches, negated)


def _split_statements(lines: list[tuple[int, str]], source: str) -> list[tuple[int, str]]:
    statements: list[tuple[int, str]] = []
    buffer: list[str] = []
    start = 0
    in_string = False
    for lineno, line in lines:
        for char in line:
            if not buffer and not char.isspace() and start == 0:
                start = lineno
            if char == '"':
                in_string = not in_string
            if char == ";" and not in_string:
                statements.append((start, "".join(buffer).strip()))
                buffer, start = [], 0
                continue
            if start:
                buffer.append(char)
        if start:
            buffer.append("\n")
    if "".join(buffer).strip():
        raise SpaceError(f"{source}:{start}: constraint is not terminated by ';'")
    return statements


def space_from_pict(text: str, *, source: str = "model.pict") -> Space:
    """Parse a PICT model into a space of choice parameters plus translated constraints."""
    warnings: list[str] = []
    params: dict[str, _PictParam] = {}
    taken: set[str] = set()
    constraint_lines: list[tuple[int, str]] = []
    in_constraints = False
    submodels: list[tuple[int, str]] = []
    marks: dict[str, dict[str, dict[str, Any]]] = {}
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not in_constraints and (not line or line.startswith("#")):
            continue
        if in_constraints:
            if not line.startswith("#"):
                constraint_lines.append((lineno, raw))
            continue
        if line.startswith("{"):
            submodels.append((lineno, line))
            continue
        if _CONSTRAINT_START.match(line) and not _PARAMETER_LINE.match(line):
            in_constraints = True
            constraint_lines.append((lineno, raw))
            continue
        if ":" not in line:
            raise SpaceError(f"{source}:{lineno}: expected 'Name: value, value, ...', got {line!r}")
        mark: dict[str, dict[str, Any]] = {"weights": {}, "negative": {}}
        param = _parse_parameter(line, lineno, params, taken, warnings, source, mark)
        marks[param.name.lower()] = mark
    if not params:
        raise SpaceError(f"{source}: a PICT model needs at least one parameter")
    parameters: list[Parameter] = []
    for param in params.values():
        description = "" if param.path == param.name else f"{_NAME_PREFIX}{param.name}"
        try:
            parameters.append(
                ChoiceParam(param.path, values=tuple(param.values), description=description)
            )
        except SpaceError as error:  # pragma: no cover - values are deduplicated above
            raise SpaceError(f"{source}: {error}") from None
    known = [p.path for p in parameters]
    constraints = []
    for lineno, statement_text in _split_statements(constraint_lines, source):
        if not statement_text:
            continue
        statement = _ConstraintParser(
            statement_text, lineno, params, source, warnings
        ).statement()
        rendered = _render_statement(statement)
        try:
            constraints.append(parse(rendered, known))
        except ConstraintError as error:  # pragma: no cover - the renderer emits valid text
            raise SpaceError(f"{source}:{lineno}: {error}") from None
    hints = _hints(params, marks, submodels, warnings, source)
    return Space(
        tuple(parameters), tuple(constraints), name="", warnings=tuple(warnings), hints=hints
    )


_SUBMODEL_RE = re.compile(r"^\{(?P<names>[^{}]*)\}\s*(?:@\s*(?P<order>\d+))?\s*$")


def _hints(
    params: Mapping[str, _PictParam], marks: Mapping[str, Mapping[str, Mapping[str, Any]]],
    submodels: Sequence[tuple[int, str]], warnings: list[str], source: str,
) -> dict[str, Any]:
    """Sub-models (``{A, B} @ 3``), weights and ``~`` values as :attr:`Space.hints`."""
    weights: dict[str, dict[Any, int]] = {}
    negative: dict[str, list[Any]] = {}
    for key, mark in marks.items():
        param = params[key]
        for raw, weight in mark["weights"].items():
            weights.setdefault(param.path, {})[param.aliases[raw]] = weight
        for raw in mark["negative"]:
            negative.setdefault(param.path, []).append(param.aliases[raw])
    groups: list[tuple[list[str], int]] = []
    for lineno, line in submodels:
        match = _SUBMODEL_RE.match(line)
        if match is None:
            raise SpaceError(f"{source}:{lineno}: sub-model {line!r}: expected '{{A, B, ...}} @ N'")
        paths = []
        for name in (n.strip() for n in match.group("names").split(",")):
            if name.lower() not in params:
                raise SpaceError(f"{source}:{lineno}: sub-model names unknown parameter {name!r}")
            paths.append(params[name.lower()].path)
        if match.group("order") is None:
            warnings.append(
                f"{source}:{lineno}: sub-model {line} has no '@ N': covered at the suite's strength"
            )
            continue
        groups.append((paths, int(match.group("order"))))
    hints: dict[str, Any] = {}
    if groups:
        hints["groups"] = groups
    if weights:
        hints["weights"] = weights
    if negative:
        hints["negative"] = negative
    return hints


# --------------------------------------------------------------------------- PICT export


def _pict_name(param: Parameter) -> str:
    if param.description.startswith(_NAME_PREFIX):
        return param.description[len(_NAME_PREFIX):]
    return param.path


def _pict_value(value: Any) -> str | None:
    """How a value is written in a PICT parameter line (None: not representable)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else None
    if isinstance(value, str):
        if value != value.strip() or not value or any(c in value for c in ',|"#\n;'):
            return None
        if value.startswith(("~", "<")) or _WEIGHT_RE.match(value):
            return None
        return value
    return None


class _Exporter:
    def __init__(self, space: Space) -> None:
        self.space = space
        self.names = {p.path: _pict_name(p) for p in space.parameters}
        self.exported: set[str] = set()
        self.numeric: dict[str, bool] = {}

    def fail(self, constraint: str, why: str) -> SpaceError:
        return SpaceError(f"constraint {constraint!r} cannot be written as PICT: {why}")

    def lit(self, node: Node, name: str) -> Literal:
        if node.op != "lit":
            raise self.fail(name, "only parameter-versus-value comparisons are expressible")
        value = node.args[0]
        if isinstance(value, bool):
            return "true" if value else "false"
        if value is None or isinstance(value, list):
            raise self.fail(name, f"the value {value!r} has no PICT form")
        assert isinstance(value, int | float | str)
        return value

    def path(self, node: Node, name: str) -> str:
        path = str(node.args[0])
        if path not in self.exported:
            raise self.fail(name, f"{path} is not a PICT parameter (not exported)")
        return path

    def convert(self, node: Node, name: str) -> Pred:
        op = node.op
        if op in ("and", "or"):
            parts = [self.convert(arg, name) for arg in node.args]
            return _join(_And if op == "and" else _Or, parts)
        if op == "not":
            return _negate(self.convert(node.args[0], name))
        if op == "->":
            return _join(_Or, [_negate(self.convert(node.args[0], name)),
                               self.convert(node.args[1], name)])
        if op == "path":
            path = self.path(node, name)
            if self.space.param(path).kind != "bool":
                raise self.fail(name, f"{path} is used as a condition but is not a bool")
            return _Cmp(path, "==", "true")
        flipped = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
        if op in flipped:
            left, right = node.args
            if left.op != "path" and right.op == "path":
                left, right, op = right, left, flipped[op]
            if left.op != "path":
                raise self.fail(name, "a comparison needs a parameter on one side")
            path = self.path(left, name)
            if right.op == "path":
                return _Cmp(path, op, _Ref(self.path(right, name)))
            return _Cmp(path, op, self.lit(right, name))
        if op == "in":
            left, right = node.args
            if left.op != "path" or right.op != "list":
                raise self.fail(name, "'in' needs a parameter and a list of values")
            return _In(self.path(left, name), tuple(self.lit(item, name) for item in right.args))
        raise self.fail(name, f"the operator {op!r} has no PICT form")

    def statement(self, node: Node, name: str) -> Statement:
        if node.op == "->":
            return _If(self.convert(node.args[0], name), self.convert(node.args[1], name), None)
        if node.op == "and" and all(arg.op == "->" for arg in node.args):
            first, second = node.args
            cond = self.convert(first.args[0], name)
            if self.convert(second.args[0], name) == _negate(cond):
                return _If(cond, self.convert(first.args[1], name),
                           self.convert(second.args[1], name))
        return self.convert(node, name)

    def marked(self, path: str, value: Any, written: str) -> str:
        """A value as written in its parameter line, with its ``~`` and ``(weight)`` hints."""
        if value in self.space.hints.get("negative", {}).get(path, ()):
            written = f"~{written}"
        weight = self.space.hints.get("weights", {}).get(path, {}).get(value)
        return written if weight is None else f"{written} ({weight})"

    def literal(self, value: Literal, path: str) -> str:
        if isinstance(value, str):
            if '"' in value:
                raise SpaceError(f"value {value!r} of {path} contains a quote (no PICT form)")
            return f'"{value}"'
        return repr(value) if isinstance(value, float) else str(value)

    def render(self, pred: Pred, minimum: int = 1) -> str:
        if isinstance(pred, _Cmp):
            ops = {"==": "=", "!=": "<>"}
            if isinstance(pred.right, _Ref):
                right = f"[{self.names[pred.right.path]}]"
            else:
                right = self.literal(pred.right, pred.path)
            text = f"[{self.names[pred.path]}] {ops.get(pred.op, pred.op)} {right}"
        elif isinstance(pred, _In):
            items = ", ".join(self.literal(v, pred.path) for v in pred.values)
            if not items:
                raise SpaceError(f"{pred.path}: an empty 'in' list has no PICT form")
            text = f"[{self.names[pred.path]}] IN {{{items}}}"
            if pred.negated:
                text = f"NOT {text}"
        elif isinstance(pred, _Not):
            text = f"NOT {self.render(pred.inner, 3)}"
        elif isinstance(pred, _And):
            text = " AND ".join(self.render(item, 3) for item in pred.items)
        else:
            text = " OR ".join(self.render(item, 2) for item in pred.items)
        return f"({text})" if _level(pred) < minimum else text

    def export(self) -> str:
        lines: list[str] = []
        notes: list[str] = []
        for param in self.space.parameters:
            name = self.names[param.path]
            if any(c in name for c in ":[],;#{}") or name != name.strip() or not name:
                raise SpaceError(f"{param.path}: the name {name!r} cannot be a PICT parameter")
            values: list[str] = []
            for cls in param.value_classes:
                if cls.value is ABSENT or cls.value is None:
                    notes.append(f"# {name}: class '{cls.label}' has no PICT form (omitted)")
                    continue
                written = _pict_value(cls.value)
                if written is None:
                    notes.append(f"# {name}: class '{cls.label}' has no PICT form (omitted)")
                elif written not in values:
                    values.append(self.marked(param.path, cls.value, written))
            if not values:
                notes.append(f"# {name}: {param.kind} parameter has no PICT form (omitted)")
                continue
            self.exported.add(param.path)
            lines.append(f"{name}: {', '.join(values)}")
        if not lines:
            raise SpaceError("no parameter of the space can be written as PICT")
        title = f" from {self.space.name}" if self.space.name else ""
        out = [f"# PICT model exported by configlab{title}"]
        out.extend(notes)
        out.extend(lines)
        groups = self.space.hints.get("groups", ())
        if groups:
            out.append("")
        for paths, order in groups:
            names = ", ".join(self.names[path] for path in paths)
            out.append(f"{{ {names} }} @ {order}")
        if self.space.constraints:
            out.append("")
        for constraint in self.space.constraints:
            statement = self.statement(constraint.root, constraint.name)
            if isinstance(statement, _If):
                text = f"IF {self.render(statement.cond)} THEN {self.render(statement.then)}"
                if statement.otherwise is not None:
                    text += f" ELSE {self.render(statement.otherwise)}"
            else:
                text = self.render(statement)
            out.append(f"{text};")
        return "\n".join(out) + "\n"


def space_to_pict(space: Space) -> str:
    """Write ``space`` as a PICT model.

    Choice and bool parameters are written with their values, other kinds with their value-class
    representatives; absent/null classes and unrepresentable values become ``#`` comments.
    Constraints are translated back; one that PICT cannot express raises :class:`SpaceError`
    naming it.
    """
    try:
        return _Exporter(space).export()
    except SpaceError:
        raise
    except ConfiglabError as error:  # pragma: no cover - defensive
        raise SpaceError(str(error)) from None


__all__ = ["space_from_pict", "space_to_pict"]
