"""XML codec: parsed with defusedxml (no DTDs, entities or external references), written by a
small deterministic serializer.

Mapping (see docs/formats.md): the root element wraps the tree; child elements are keys;
repeated sibling elements become lists; attributes become ``@name`` keys; text beside
attributes or children is ``#text``.  Annotations in the ``urn:configlab`` namespace
(prefix ``cl``) make every tree representable: ``cl:type`` (str, int, float, bool, null,
list, dict) and ``<cl:entry cl:key="...">`` for keys that are not XML names.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from typing import Any

import defusedxml
from defusedxml.ElementTree import DefusedXMLParser

from configlab.errors import FormatError
from configlab.formats._common import (
    TEXT_KEY,
    Codec,
    check_tree,
    format_scalar,
    infer_scalar,
    is_scalar,
    show_path,
    verify_round_trip,
)
from configlab.tree import Tree

NAMESPACE = "urn:configlab"
_TYPE = f"{{{NAMESPACE}}}type"
_KEY = f"{{{NAMESPACE}}}key"
_ENTRY = f"{{{NAMESPACE}}}entry"
_TYPES = ("str", "int", "float", "bool", "null", "list", "dict")
_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
_INVALID_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_ROOT = "config"
_ITEM = "item"


class _Builder(ET.TreeBuilder):
    """Tree builder that remembers the line where each element starts."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: dict[ET.Element, int] = {}
        self.parser: Any = None

    def start(self, tag: str, attrs: dict[str, str]) -> ET.Element:
        element = super().start(tag, attrs)
        self.lines[element] = self.parser.parser.CurrentLineNumber
        return element


class _Reader:
    def __init__(self, lines: dict[ET.Element, int], source: str | None, typed: bool) -> None:
        self.lines = lines
        self.source = source
        self.typed = typed

    def fail(self, message: str, element: ET.Element) -> FormatError:
        return FormatError(message, path=self.source, line=self.lines.get(element))

    def value(self, element: ET.Element) -> Any:
        kind = element.get(_TYPE)
        if kind is not None and kind not in _TYPES:
            raise self.fail(f"unknown cl:type {kind!r} on <{element.tag}>", element)
        if kind == "list":
            return self.list(element)
        if kind == "dict":
            return self.dict(element)
        attributes = [name for name in element.attrib if name not in (_TYPE, _KEY)]
        if kind is None and (attributes or len(element)):
            return self.dict(element)
        if len(element) or attributes:
            raise self.fail(f"<{element.tag}> of cl:type {kind!r} cannot have children or "
                            "attributes", element)
        text = element.text or ""
        if kind == "null":
            if text.strip():
                raise self.fail(f"<{element.tag}> is cl:type 'null' but has text", element)
            return None
        if not self.typed or kind == "str":
            return text
        if kind is None:
            return infer_scalar(text)
        return self.typed_scalar(element, kind, text)

    def typed_scalar(self, element: ET.Element, kind: str, text: str) -> Any:
        try:
            if kind == "int":
                return int(text)
            if kind == "float":
                return float(text)
        except ValueError:
            raise self.fail(f"<{element.tag}> is cl:type {kind!r} but holds {text!r}",
                            element) from None
        if text.strip() in ("true", "1"):
            return True
        if text.strip() in ("false", "0"):
            return False
        raise self.fail(f"<{element.tag}> is cl:type 'bool' but holds {text!r}", element)

    def list(self, element: ET.Element) -> list[Any]:
        extra = [name for name in element.attrib if name not in (_TYPE, _KEY)]
        if extra or (element.text or "").strip():
            raise self.fail(f"list element <{element.tag}> cannot have attributes or text",
                            element)
        self.no_tails(element)
        return [self.value(child) for child in element]

    def no_tails(self, element: ET.Element) -> None:
        for child in element:
            if (child.tail or "").strip():
                raise self.fail(f"mixed content (text after <{child.tag}>) in <{element.tag}> "
                                "is not supported", child)

    def dict(self, element: ET.Element) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for name, text in element.attrib.items():
            if name not in (_TYPE, _KEY):
                result["@" + name] = infer_scalar(text) if self.typed else text
        text = (element.text or "").strip()
        if text:
            result[TEXT_KEY] = infer_scalar(text) if self.typed else text
        self.no_tails(element)
        repeated: set[str] = set()
        for child in element:
            if child.tag == _ENTRY:
                key = child.get(_KEY)
                if key is None:
                    raise self.fail("<cl:entry> without a cl:key attribute", child)
            else:
                key = child.tag
            value = self.value(child)
            if key not in result:
                result[key] = value
            elif key in repeated:
                result[key].append(value)
            elif key.startswith("@") or key == TEXT_KEY:
                raise self.fail(f"key {key!r} is given more than once in <{element.tag}>", child)
            else:
                result[key] = [result[key], value]
                repeated.add(key)
        return result


def loads(text: str, source: str | None, typed: bool) -> Tree:
    """Parse XML text into a tree (the root element's name is not part of the tree)."""
    builder = _Builder()
    parser = DefusedXMLParser(target=builder, forbid_dtd=True)
    builder.parser = parser
    try:
        parser.feed(text)
        root = parser.close()
    except ET.ParseError as exc:
        line, _column = exc.position
        message = re.sub(r": line \d+, column \d+$", "", str(exc))
        raise FormatError(f"invalid XML: {message}", path=source, line=line) from None
    except defusedxml.DTDForbidden:
        raise FormatError("XML document type declarations (DTDs) are refused", path=source,
                          line=parser.parser.CurrentLineNumber) from None
    except defusedxml.DefusedXmlException as exc:
        raise FormatError(f"XML refused (entities and external references are not allowed): "
                          f"{exc}", path=source, line=parser.parser.CurrentLineNumber) from None
    reader = _Reader(builder.lines, source, typed)
    kind = root.get(_TYPE)
    if kind not in (None, "dict"):
        raise reader.fail(f"XML top level must be a mapping, got cl:type {kind!r}", root)
    try:
        return reader.dict(root)
    except RecursionError:
        raise FormatError("invalid XML: nested too deeply", path=source) from None


# ---------------------------------------------------------------------------------------------
# writing


def _escape_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace(
        "\r", "&#13;"
    )


def _escape_attr(text: str) -> str:
    return (
        _escape_text(text).replace('"', "&quot;").replace("\n", "&#10;").replace("\t", "&#9;")
    )


class _Writer:
    def __init__(self, typed: bool) -> None:
        self.typed = typed
        self.out: list[str] = []

    def check_text(self, text: str, path: tuple[str, ...]) -> str:
        if _INVALID_CHARS.search(text):
            raise FormatError(
                f"cannot write xml: text at {show_path(path)} holds a character XML 1.0 "
                "cannot carry"
            )
        return text

    def reads_back(self, value: Any) -> bool:
        """Whether a scalar written as bare text (attribute or #text) reads back unchanged."""
        if not is_scalar(value):
            return False
        if not self.typed:
            return isinstance(value, str)
        if isinstance(value, float) and not math.isfinite(value):
            return False
        back = infer_scalar(format_scalar(value))
        return type(back) is type(value) and back == value

    def element(self, name: str, key: str | None, value: Any, path: tuple[str, ...],
                indent: str) -> None:
        attrs: list[tuple[str, str]] = []
        if key is not None:
            attrs.append(("cl:key", self.check_text(key, path)))
        if isinstance(value, dict):
            self.mapping(name, attrs, value, path, indent)
            return
        if isinstance(value, list):
            attrs.append(("cl:type", "list"))
            if not value:
                self.out.append(f"{indent}<{name}{_attrs(attrs)}/>\n")
                return
            self.out.append(f"{indent}<{name}{_attrs(attrs)}>\n")
            for index, item in enumerate(value):
                self.element(_ITEM, None, item, (*path, str(index)), indent + "  ")
            self.out.append(f"{indent}</{name}>\n")
            return
        if value is None:
            attrs.append(("cl:type", "null"))
            self.out.append(f"{indent}<{name}{_attrs(attrs)}/>\n")
            return
        if isinstance(value, str):
            text = self.check_text(value, path)
            if self.typed and not isinstance(infer_scalar(value), str):
                attrs.append(("cl:type", "str"))
        else:
            text = format_scalar(value)
            if self.typed:
                attrs.append(("cl:type", "bool" if isinstance(value, bool)
                              else type(value).__name__))
        self.out.append(f"{indent}<{name}{_attrs(attrs)}>{_escape_text(text)}</{name}>\n")

    def mapping(self, name: str, attrs: list[tuple[str, str]], value: dict[str, Any],
                path: tuple[str, ...], indent: str) -> None:
        structural = len(attrs)
        children: list[tuple[str, Any]] = []
        for key, item in value.items():
            if key.startswith("@") and _is_name(key[1:]) and self.reads_back(item):
                attrs.append((key[1:], self.check_text(format_scalar(item), (*path, key))))
            else:
                children.append((key, item))
        text: str | None = None
        if len(attrs) > structural and len(children) == 1 and children[0][0] == TEXT_KEY:
            candidate = format_scalar(children[0][1])
            if self.reads_back(children[0][1]) and candidate and candidate == candidate.strip():
                text = self.check_text(candidate, (*path, TEXT_KEY))
                children = []
        if not value:
            attrs.append(("cl:type", "dict"))
        if text is not None:
            self.out.append(f"{indent}<{name}{_attrs(attrs)}>{_escape_text(text)}</{name}>\n")
        elif not children:
            self.out.append(f"{indent}<{name}{_attrs(attrs)}/>\n")
        else:
            self.out.append(f"{indent}<{name}{_attrs(attrs)}>\n")
            for key, item in children:
                if _is_name(key):
                    self.element(key, None, item, (*path, key), indent + "  ")
                else:
                    self.element("cl:entry", key, item, (*path, key), indent + "  ")
            self.out.append(f"{indent}</{name}>\n")


def _is_name(key: str) -> bool:
    return _NAME_RE.fullmatch(key) is not None and not key.lower().startswith("xml")


def _attrs(attrs: list[tuple[str, str]]) -> str:
    return "".join(f' {name}="{_escape_attr(text)}"' for name, text in attrs)


def dumps(tree: Tree, typed: bool) -> str:
    """Write a tree as XML under a ``<config>`` root, annotated so that it reads back exactly."""
    check_tree(tree, "xml")
    writer = _Writer(typed)
    writer.out.append('<?xml version="1.0" encoding="UTF-8"?>\n')
    try:
        writer.mapping(_ROOT, [("xmlns:cl", NAMESPACE)], tree, (), "")
    except RecursionError:
        raise FormatError("cannot write xml: tree nested too deeply") from None
    return verify_round_trip(tree, "".join(writer.out), "xml", loads, typed)


CODEC = Codec("xml", (".xml",), loads, dumps)
