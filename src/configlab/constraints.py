"""The constraint language: safe, compiled boolean expressions over configuration paths.

Grammar (lowest precedence first)::

    expr    := equiv
    equiv   := imp ( "<->" imp )*
    imp     := or ( "->" imp )?                 right-associative
    or      := and ( ("or" | "||") and )*
    and     := not ( ("and" | "&&") not )*
    not     := ("not" | "!") not | cmp
    cmp     := sum ( ("==" | "!=" | "<" | "<=" | ">" | ">=" | "in" | "not in") sum )?
    sum     := term ( ("+" | "-") term )*
    term    := unary ( ("*" | "/" | "%") unary )*
    unary   := "-" unary | primary
    primary := NUMBER | STRING | true | false | null | PATH | "[" [expr ("," expr)*] "]"
             | "len" "(" expr ")" | "(" expr ")"

A PATH is a dotted parameter path (``db.pool.size``); a segment that is not an identifier is
written in backticks (```my-key`.x``).  Semantics are those of configuration values, not of
Python: an absent parameter reads as ``null``; ``==`` never equates a bool with a number;
ordering and arithmetic only apply to numbers (or strings, for ordering) and otherwise make the
comparison false.  Nothing here calls ``eval``: text is tokenised, parsed to a tree and compiled
to closures.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from configlab.errors import ConstraintError
from configlab.tree import ABSENT  # defined in the leaf: results use it without this parser

# --------------------------------------------------------------------------- tokens

_TOKEN_RE = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<number>(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?)
  | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<op><->|->|==|!=|<=|>=|&&|\|\||[<>+\-*/%()\[\],!])
  | (?P<name>(?:[A-Za-z_][A-Za-z0-9_]*|`[^`]+`)(?:\.(?:[A-Za-z_][A-Za-z0-9_]*|`[^`]+`|\d+))*)
    """,
    re.VERBOSE,
)

_KEYWORDS = {"and", "or", "not", "in", "true", "false", "null", "len"}

#: Deepest nesting of brackets, ``not``, ``len`` and unary minus the parser accepts.
MAX_NESTING = 32
#: Deepest syntax tree accepted (``and``/``or`` chains are balanced, so long chains fit).
MAX_DEPTH = 100
#: Longest number literal accepted (digits).
MAX_NUMBER_DIGITS = 400


@dataclass(frozen=True)
class _Token:
    kind: str  # number, string, op, name, keyword, end
    text: str
    pos: int


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN_RE.match(text, pos)
        if match is None:
            raise ConstraintError(f"unexpected character {text[pos]!r}", text=text, position=pos)
        kind = match.lastgroup or ""
        value = match.group()
        if kind != "ws":
            if kind == "name" and value in _KEYWORDS:
                kind = "keyword"
            tokens.append(_Token(kind, value, pos))
        pos = match.end()
    tokens.append(_Token("end", "", len(text)))
    return tokens


# --------------------------------------------------------------------------- syntax tree


@dataclass(frozen=True)
class Node:
    """A node of a parsed constraint (``op`` names the construct, ``args`` its operands)."""

    op: str
    args: tuple[Any, ...] = ()
    pos: int = 0


def _unquote_path(raw: str) -> str:
    # Keep backtick quoting for segments containing dots: that is the canonical dotted form.
    segments = re.findall(r"`[^`]+`|[^.`]+", raw)
    out = []
    for segment in segments:
        if segment.startswith("`"):
            inner = segment[1:-1]
            out.append(f"`{inner}`" if "." in inner else inner)
        else:
            out.append(segment)
    return ".".join(out)


_STRING_ESCAPES = re.compile(r"\\(.)")


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.index = 0
        self.nesting = 0

    def _enter(self) -> None:
        # A recursion guard: deeper input would exhaust Python's stack (RecursionError).
        self.nesting += 1
        if self.nesting > MAX_NESTING:
            self._fail(f"nested more than {MAX_NESTING} levels deep")

    # helpers
    @property
    def current(self) -> _Token:
        return self.tokens[self.index]

    def _accept(self, *texts: str) -> _Token | None:
        token = self.current
        if token.kind in ("op", "keyword") and token.text in texts:
            self.index += 1
            return token
        return None

    def _expect(self, text: str) -> _Token:
        token = self._accept(text)
        if token is None:
            self._fail(f"expected {text!r}")
        assert token is not None
        return token

    def _fail(self, message: str) -> None:
        token = self.current
        shown = token.text if len(token.text) <= 40 else token.text[:40] + "..."
        found = "end of expression" if token.kind == "end" else repr(shown)
        raise ConstraintError(f"{message}, found {found}", text=self.text, position=token.pos)

    # grammar
    def parse(self) -> Node:
        if self.current.kind == "end":
            raise ConstraintError("empty constraint", text=self.text, position=0)
        node = self._equiv()
        if self.current.kind != "end":
            self._fail("unexpected token")
        return node

    def _equiv(self) -> Node:
        self._enter()
        node = self._imp()
        while (token := self._accept("<->")) is not None:
            node = Node("<->", (node, self._imp()), token.pos)
        self.nesting -= 1
        return node

    def _imp(self) -> Node:
        node = self._or()
        token = self._accept("->")
        if token is not None:
            return Node("->", (node, self._imp()), token.pos)
        return node

    def _or(self) -> Node:
        terms = [self._and()]
        positions: list[int] = []
        while (token := self._accept("or", "||")) is not None:
            positions.append(token.pos)
            terms.append(self._and())
        return _balanced("or", terms, positions)

    def _and(self) -> Node:
        terms = [self._not()]
        positions: list[int] = []
        while (token := self._accept("and", "&&")) is not None:
            positions.append(token.pos)
            terms.append(self._not())
        return _balanced("and", terms, positions)

    def _not(self) -> Node:
        token = self._accept("not", "!")
        if token is not None:
            self._enter()
            node = Node("not", (self._not(),), token.pos)
            self.nesting -= 1
            return node
        return self._cmp()

    def _cmp(self) -> Node:
        left = self._sum()
        token = self._accept("==", "!=", "<", "<=", ">", ">=", "in")
        if token is not None:
            return Node(token.text, (left, self._sum()), token.pos)
        if self.current.kind == "keyword" and self.current.text == "not":
            nxt = self.tokens[self.index + 1]
            if nxt.kind == "keyword" and nxt.text == "in":
                pos = self.current.pos
                self.index += 2
                return Node("not", (Node("in", (left, self._sum()), pos),), pos)
        return left

    def _sum(self) -> Node:
        node = self._term()
        while (token := self._accept("+", "-")) is not None:
            node = Node(token.text, (node, self._term()), token.pos)
        return node

    def _term(self) -> Node:
        node = self._unary()
        while (token := self._accept("*", "/", "%")) is not None:
            node = Node(token.text, (node, self._unary()), token.pos)
        return node

    def _unary(self) -> Node:
        token = self._accept("-")
        if token is not None:
            self._enter()
            operand = self._unary()
            self.nesting -= 1
            if operand.op == "lit" and _is_number(operand.args[0]):
                return Node("lit", (-operand.args[0],), token.pos)
            return Node("neg", (operand,), token.pos)
        return self._primary()

    def _primary(self) -> Node:
        token = self.current
        if token.kind == "number":
            if len(token.text) > MAX_NUMBER_DIGITS:
                self._fail(f"number longer than {MAX_NUMBER_DIGITS} characters")
            self.index += 1
            number = int(token.text) if token.text.isdigit() else float(token.text)
            return Node("lit", (number,), token.pos)
        if token.kind == "string":
            self.index += 1
            return Node("lit", (_STRING_ESCAPES.sub(r"\1", token.text[1:-1]),), token.pos)
        if token.kind == "keyword":
            if token.text in ("true", "false", "null"):
                self.index += 1
                value = {"true": True, "false": False, "null": None}[token.text]
                return Node("lit", (value,), token.pos)
            if token.text == "len":
                self.index += 1
                self._expect("(")
                arg = self._equiv()
                self._expect(")")
                return Node("len", (arg,), token.pos)
        if token.kind == "name":
            self.index += 1
            return Node("path", (_unquote_path(token.text),), token.pos)
        if self._accept("(") is not None:
            node = self._equiv()
            self._expect(")")
            return node
        if self._accept("[") is not None:
            items: list[Node] = []
            if self._accept("]") is None:
                items.append(self._equiv())
                while self._accept(",") is not None:
                    items.append(self._equiv())
                self._expect("]")
            return Node("list", tuple(items), token.pos)
        self._fail("expected a value, a parameter path or '('")
        raise AssertionError("unreachable")  # pragma: no cover


def _balanced(op: str, terms: list[Node], positions: list[int]) -> Node:
    """``terms[0] op terms[1] op ...`` as a balanced tree (and/or are associative), so that a
    1,000-term chain is 10 levels deep instead of 1,000 (no RecursionError downstream)."""
    if len(terms) == 1:
        return terms[0]
    middle = len(terms) // 2
    return Node(
        op,
        (_balanced(op, terms[:middle], positions[:middle - 1]),
         _balanced(op, terms[middle:], positions[middle:])),
        positions[middle - 1],
    )


def _check_depth(root: Node, text: str) -> None:
    """Refuse a syntax tree deeper than MAX_DEPTH (walked with an explicit stack)."""
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ConstraintError(
                f"expression nested more than {MAX_DEPTH} levels deep", text=text,
                position=node.pos,
            )
        stack.extend((arg, depth + 1) for arg in node.args if isinstance(arg, Node))


# --------------------------------------------------------------------------- semantics


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _normalise(value: Any) -> Any:
    return None if value is ABSENT else value


def values_equal(left: Any, right: Any) -> bool:
    """Configuration equality: numbers numerically, never bool == number, lists element-wise."""
    left, right = _normalise(left), _normalise(right)
    if _is_number(left) and _is_number(right):
        return bool(left == right)
    if type(left) is not type(right):
        return False
    if isinstance(left, list):
        return len(left) == len(right) and all(
            values_equal(a, b) for a, b in zip(left, right, strict=True)
        )
    return bool(left == right)


def _compare(op: str, left: Any, right: Any) -> bool:
    if op == "==":
        return values_equal(left, right)
    if op == "!=":
        return not values_equal(left, right)
    comparable = (_is_number(left) and _is_number(right)) or (
        isinstance(left, str) and isinstance(right, str)
    )
    if not comparable:
        return False
    if op == "<":
        return bool(left < right)
    if op == "<=":
        return bool(left <= right)
    if op == ">":
        return bool(left > right)
    return bool(left >= right)


def _contains(container: Any, item: Any) -> bool:
    if isinstance(container, list):
        return any(values_equal(item, element) for element in container)
    if isinstance(container, str) and isinstance(item, str):
        return item in container
    return False


def _arith(op: str, left: Any, right: Any) -> Any:
    try:
        return _arith_checked(op, left, right)
    except OverflowError:  # e.g. a huge int mixed with a float: no meaningful value
        return None


def _arith_checked(op: str, left: Any, right: Any) -> Any:
    if not (_is_number(left) and _is_number(right)):
        if op == "+" and isinstance(left, str) and isinstance(right, str):
            return left + right
        return None
    if op == "+":
        return left + right
    if op == "-":
        return left - right
    if op == "*":
        return left * right
    if right == 0:
        return None
    if op == "/":
        return left / right
    return left % right


def truthy(value: Any) -> bool:
    """How a bare value behaves as a condition: null/absent is false."""
    value = _normalise(value)
    if value is None:
        return False
    if isinstance(value, float) and math.isnan(value):
        return False
    return bool(value)


Evaluator = Callable[[Mapping[str, Any]], Any]


def _compile(node: Node) -> Evaluator:
    op = node.op
    if op == "lit":
        constant = node.args[0]
        return lambda env: constant
    if op == "path":
        path = node.args[0]

        def read(env: Mapping[str, Any]) -> Any:
            value = env.get(path)
            return None if value is ABSENT else value

        return read
    if op == "list":
        items = [_compile(arg) for arg in node.args]
        return lambda env: [item(env) for item in items]
    if op == "len":
        inner = _compile(node.args[0])

        def length(env: Mapping[str, Any]) -> Any:
            value = inner(env)
            return len(value) if isinstance(value, str | list | dict) else None

        return length
    if op == "not":
        inner = _compile(node.args[0])
        return lambda env: not truthy(inner(env))
    if op == "neg":
        inner = _compile(node.args[0])

        def negate(env: Mapping[str, Any]) -> Any:
            value = inner(env)
            return -value if _is_number(value) else None

        return negate
    left = _compile(node.args[0])
    right = _compile(node.args[1])
    if op == "and":
        return lambda env: truthy(left(env)) and truthy(right(env))
    if op == "or":
        return lambda env: truthy(left(env)) or truthy(right(env))
    if op == "->":
        return lambda env: (not truthy(left(env))) or truthy(right(env))
    if op == "<->":
        return lambda env: truthy(left(env)) == truthy(right(env))
    if op in ("==", "!=", "<", "<=", ">", ">="):
        return lambda env: _compare(op, left(env), right(env))
    if op == "in":
        return lambda env: _contains(right(env), left(env))
    return lambda env: _arith(op, left(env), right(env))


def _paths(node: Node, found: dict[str, int]) -> None:
    if node.op == "path":
        found.setdefault(node.args[0], node.pos)
        return
    for arg in node.args:
        if isinstance(arg, Node):
            _paths(arg, found)


@dataclass(frozen=True)
class Constraint:
    """A parsed, compiled constraint.

    ``params`` lists the dotted paths the expression reads (sorted), so that a generator can
    evaluate it as soon as those parameters are assigned.
    """

    text: str
    name: str
    params: tuple[str, ...]
    root: Node = field(repr=False, compare=False)
    _evaluate: Evaluator = field(repr=False, compare=False)

    def evaluate(self, env: Mapping[str, Any]) -> bool:
        """Whether the constraint holds for ``env`` (path -> value; missing/ABSENT = null)."""
        return truthy(self._evaluate(env))

    def value(self, env: Mapping[str, Any]) -> Any:
        """The raw value of the expression (e.g. a number for ``a + b``)."""
        return _normalise(self._evaluate(env))

    def __call__(self, env: Mapping[str, Any]) -> bool:
        return self.evaluate(env)


def parse(
    text: str, known_params: Collection[str] | None = None, *, name: str | None = None
) -> Constraint:
    """Parse and compile ``text``.

    When ``known_params`` is given, a path that names no known parameter raises
    :class:`ConstraintError` pointing at it.  ``name`` labels the constraint in error messages
    (defaults to the text itself).
    """
    if not isinstance(text, str):
        raise ConstraintError(f"a constraint must be a string, got {type(text).__name__}")
    root = _Parser(text).parse()
    _check_depth(root, text)
    found: dict[str, int] = {}
    _paths(root, found)
    if known_params is not None:
        known = set(known_params)
        for path, pos in found.items():
            if path not in known:
                raise ConstraintError(f"unknown parameter {path!r}{_backtick_hint(path, known)}",
                                      text=text, position=pos)
    return Constraint(
        text=text,
        name=name if name is not None else text,
        params=tuple(sorted(found)),
        root=root,
        _evaluate=_compile(root),
    )


def _backtick_hint(path: str, known: Collection[str]) -> str:
    """A hint when ``path`` is the start of a known parameter whose name has a ``-`` (or
    another non-identifier character): the expression read ``max-length`` as ``max - length``."""
    for candidate in sorted(known):
        if candidate.startswith(path) and len(candidate) > len(path) \
                and not candidate[len(path)].isalnum() and candidate[len(path)] not in "._":
            segments = candidate.split(".")
            quoted = ".".join(
                seg if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", seg) else f"`{seg}`"
                for seg in segments)
            return (f"; a name with '-' (or another operator character) must be written in "
                    f"backticks: {quoted}")
    return ""


__all__ = ["ABSENT", "Constraint", "Node", "parse", "truthy", "values_equal"]
