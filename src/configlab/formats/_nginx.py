"""``nginx`` codec: nginx-style block configs, parsed and written by ``crossplane``.

Tree mapping (``include`` is not followed: it stays a directive):

* ``name arg...;`` -> ``name: "arg ..."`` (one argument: a number when written canonically,
  else a string; several arguments joined by one space, quoted where nginx needs quotes);
* ``name arg... { ... }`` -> key ``name`` (or ``"name arg ..."`` when the block has arguments,
  e.g. ``"location /api"``) mapping to the block's own tree;
* a directive or block given several times in one context -> a list, in file order.

Comments are not kept.  Writing builds the crossplane payload back and lets crossplane format
it; the round trip ``loads(dumps(tree)) == tree`` is checked.
"""

from __future__ import annotations

import os
import re
import tempfile
from typing import Any

from configlab.errors import FormatError
from configlab.formats._common import Codec, check_tree, infer_scalar, verify_round_trip
from configlab.tree import Tree, deep_copy

_NAME_RE = re.compile(r"[^\s{};\"'#\\]+(?: |$)")


def _parse(text: str, source: str | None) -> list[dict[str, Any]]:
    import crossplane

    # crossplane reads files only: parse a private temporary copy of the text.
    handle, name = tempfile.mkstemp(suffix=".conf", prefix="configlab-nginx-")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        payload = crossplane.parse(name, single=True, check_ctx=False, check_args=False,
                                   comments=False)
    finally:
        os.unlink(name)
    config = payload["config"][0]
    if config.get("errors"):
        error = config["errors"][0]
        raise FormatError(f"invalid nginx config: {error.get('error')}".replace(name, "<text>"),
                          path=source, line=error.get("line"))
    parsed: list[dict[str, Any]] = config["parsed"]
    return parsed


def _argument(text: str) -> str:
    import crossplane.builder

    return str(crossplane.builder._enquote(text))


def _args_text(args: list[str]) -> str:
    return " ".join(_argument(a) for a in args)


def _scalar(args: list[str], typed: bool) -> Any:
    if len(args) == 1 and typed:
        value = infer_scalar(args[0])
        if isinstance(value, int | float) and not isinstance(value, bool) \
                and _argument(args[0]) == args[0]:
            return value
    return _args_text(args)


def _tree(block: list[dict[str, Any]], typed: bool) -> Tree:
    tree: Tree = {}
    for item in block:
        name, args = item["directive"], [str(a) for a in item.get("args", [])]
        if "block" in item:
            key = f"{name} {_args_text(args)}" if args else name
            value: Any = _tree(item["block"], typed)
        else:
            key, value = name, _scalar(args, typed)
        if key in tree:
            existing = tree[key]
            if isinstance(existing, list) and getattr(existing, "_repeated", False):
                existing.append(value)
            else:
                repeated = _Repeated([existing, value])
                tree[key] = repeated
        else:
            tree[key] = value
    plain: Tree = deep_copy(tree)  # the _Repeated markers become plain lists
    return plain


class _Repeated(list[Any]):
    """A list made of repeated directives (marked while parsing, plain list afterwards)."""

    _repeated = True


def loads(text: str, source: str | None, typed: bool) -> Tree:
    """Parse an nginx-style config into a tree."""
    return _tree(_parse(text, source), typed)


def _split_args(text: str) -> list[str]:
    import crossplane

    handle, name = tempfile.mkstemp(suffix=".conf", prefix="configlab-nginx-")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(f"x {text};\n")
        tokens = [token for token, _, _ in crossplane.lex(name)]
    finally:
        os.unlink(name)
    return tokens[1:-1]


def _payload(tree: Tree) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for key, value in tree.items():
        if not _NAME_RE.match(key):
            raise FormatError(f"cannot write nginx: invalid directive name {key!r}")
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, dict):
                name, _, rest = key.partition(" ")
                out.append({"directive": name, "args": _split_args(rest) if rest else [],
                            "block": _payload(item)})
            elif isinstance(item, list):
                raise FormatError(f"cannot write nginx: {key} holds a nested list")
            else:
                if item is None or isinstance(item, bool):
                    raise FormatError(f"cannot write nginx: {key} is {item!r} (write the "
                                      "argument text, e.g. on/off)")
                text = repr(item) if isinstance(item, float) else str(item)
                out.append({"directive": key, "args": _split_args(text) if text else []})
    return out


def dumps(tree: Tree, typed: bool) -> str:
    """Write a tree as an nginx-style config (crossplane's builder)."""
    import crossplane

    check_tree(tree, "nginx")
    try:
        text = str(crossplane.build(_payload(tree))) + "\n"
    except crossplane.errors.NgxParserBaseException as error:
        raise FormatError(f"cannot write nginx: {error.strerror}") from None
    return verify_round_trip(tree, text, "nginx", loads, typed)


def looks_like(text: str) -> bool:
    """Whether ``text`` reads as an nginx-style config (``;`` terminators and ``{}`` blocks)."""
    meaningful = [re.sub(r"\s#.*$", "", line).strip() for line in text.splitlines()
                  if line.strip() and not line.strip().startswith("#")]
    return bool(meaningful) and all(
        line.endswith((";", "{", "}")) or line == "}" for line in meaningful)


CODEC = Codec("nginx", (), loads, dumps)
