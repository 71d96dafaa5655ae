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
from xml.sax import SAXParseException
from xml.sax.handler import ContentHandler
from xml.sax.xmlreader import AttributesImpl, Locator

import defusedxml
from defusedxml.expatreader import DefusedExpatParser

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
#: Reserved top-level key holding the root element's name as written (absent for ``<config>``).
ROOT_KEY = "#root"
_XML_NS = "http://www.w3.org/XML/1998/namespace"
_SPACE = " \t\r\n"  # XML's whitespace (str.strip() would also strip U+00A0 and others)
_ITEM = "item"


class _Handler(ContentHandler):
    """SAX handler building an ElementTree with names as written (``prefix:local``).

    Namespace processing is off so that prefixes and ``xmlns`` declarations stay as written;
    the handler checks namespace well-formedness itself (every prefix declared) and turns
    names whose prefix is bound to ``urn:configlab`` into the Clark names of the annotations.
    """

    def __init__(self, locator: Locator) -> None:
        super().__init__()
        self.locator = locator
        self.builder = ET.TreeBuilder()
        self.lines: dict[ET.Element, int] = {}
        self.scopes: list[dict[str, str]] = [{"xml": _XML_NS}]
        self.tags: list[str] = []
        self.line = 1

    def resolve(self, name: str, scope: dict[str, str]) -> str:
        prefix, colon, local = name.partition(":")
        if not colon:
            return name
        uri = scope.get(prefix)
        if uri is None:
            raise _NamespaceError(f"unbound prefix {prefix!r} in {name!r}")
        return f"{{{NAMESPACE}}}{local}" if uri == NAMESPACE else name

    def startElement(self, name: str, attrs: AttributesImpl) -> None:
        self.line = self.locator.getLineNumber() or self.line
        scope = self.scopes[-1]
        declared = {key[6:]: value for key, value in attrs.items() if key.startswith("xmlns:")}
        if declared:
            scope = {**scope, **declared}
            for prefix, uri in declared.items():
                if not uri:
                    raise _NamespaceError(f"prefix {prefix!r} declared with an empty URI")
        self.scopes.append(scope)
        attrib: dict[str, str] = {}
        for key, value in attrs.items():
            if key.startswith("xmlns:"):
                if value != NAMESPACE:  # configlab's own declaration is not data
                    attrib[key] = value
            elif key == "xmlns":
                attrib[key] = value
            else:
                attrib[self.resolve(key, scope)] = value
        tag = self.resolve(name, scope)
        self.tags.append(tag)
        self.lines[self.builder.start(tag, attrib)] = self.line

    def endElement(self, name: str) -> None:
        self.scopes.pop()
        self.builder.end(self.tags.pop())

    def characters(self, content: str) -> None:
        self.builder.data(content)


class _NamespaceError(Exception):
    """A prefix used without a declaration (the document is not namespace-well-formed)."""


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
        if kind is None and not text.strip(_SPACE):
            return ""  # only whitespace (and comments) between the tags: an empty value
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
    """Parse XML text into a tree; a root element other than ``<config>`` is kept as ``#root``."""
    parser = DefusedExpatParser(forbid_dtd=True)
    handler = _Handler(parser)
    parser.setContentHandler(handler)
    try:
        parser.feed(text)
        parser.close()
    except SAXParseException as exc:
        raise FormatError(f"invalid XML: {exc.getMessage()}", path=source,
                          line=exc.getLineNumber()) from None
    except _NamespaceError as exc:
        raise FormatError(f"invalid XML: {exc}", path=source, line=handler.line) from None
    except defusedxml.DTDForbidden:
        raise FormatError("XML document type declarations (DTDs) are refused", path=source,
                          line=parser.getLineNumber()) from None
    except defusedxml.DefusedXmlException as exc:
        raise FormatError(f"XML refused (entities and external references are not allowed): "
                          f"{exc}", path=source, line=parser.getLineNumber()) from None
    root = handler.builder.close()  # (SAX and the builder do not recurse: depth is the reader's)
    reader = _Reader(handler.lines, source, typed)
    kind = root.get(_TYPE)
    if kind not in (None, "dict"):
        raise reader.fail(f"XML top level must be a mapping, got cl:type {kind!r}", root)
    if root.tag.startswith("{"):
        raise reader.fail("the root element cannot be a configlab annotation", root)
    try:
        tree = reader.dict(root)
    except RecursionError:
        raise FormatError("invalid XML: nested too deeply", path=source) from None
    if root.tag == _ROOT:
        return tree
    if ROOT_KEY in tree:
        raise reader.fail(f"key {ROOT_KEY!r} is given more than once in <{root.tag}> (it is "
                          "the root element's name)", root)
    return {ROOT_KEY: root.tag, **tree}


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
        self.annotated = False  # whether the output uses the cl: prefix (declared on the root)

    def annotate(self, attrs: list[tuple[str, str]], name: str, value: str) -> None:
        attrs.append((f"cl:{name}", value))
        self.annotated = True

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

    def attribute(self, key: str, value: Any, scope: frozenset[str]) -> bool:
        """Whether the ``@``-key ``key`` can be written as an attribute of its element."""
        if not key.startswith("@") or not self.reads_back(value):
            return False
        name = key[1:]
        if name == "xmlns":
            return bool(value != NAMESPACE)
        prefix, colon, local = name.partition(":")
        if not colon:
            return _is_name(name)
        if _NAME_RE.fullmatch(prefix) is None or _NAME_RE.fullmatch(local) is None:
            return False
        if prefix == "xmlns":  # a declaration: not of the prefixes XML or configlab reserve
            return (_is_name(local) and local != "cl" and isinstance(value, str)
                    and value not in ("", NAMESPACE))
        return prefix == "xml" or prefix in scope

    def scope_of(self, value: Any, scope: frozenset[str]) -> frozenset[str]:
        """``scope`` plus the prefixes an element holding ``value`` declares as attributes."""
        if not isinstance(value, dict):
            return scope
        declared = [key[7:] for key, item in value.items()
                    if key.startswith("@xmlns:") and self.attribute(key, item, scope)]
        return scope.union(declared) if declared else scope

    def element_name(self, key: str, value: Any, scope: frozenset[str]) -> bool:
        """Whether ``key`` can be the name of the element holding ``value``."""
        prefix, colon, local = key.partition(":")
        if not colon:
            return _is_name(key)
        return (_is_name(local) and prefix != "cl"
                and prefix in self.scope_of(value, scope) and _is_name(prefix))

    def child(self, key: str, value: Any, path: tuple[str, ...], indent: str,
              scope: frozenset[str]) -> None:
        if self.element_name(key, value, scope):
            self.element(key, None, value, path, indent, scope)
        else:
            self.element("cl:entry", key, value, path, indent, scope)

    def element(self, name: str, key: str | None, value: Any, path: tuple[str, ...],
                indent: str, scope: frozenset[str]) -> None:
        attrs: list[tuple[str, str]] = []
        if key is not None:
            self.annotate(attrs, "key", self.check_text(key, path))
        if isinstance(value, dict):
            self.mapping(name, attrs, value, path, indent, scope)
            return
        if isinstance(value, list):
            self.annotate(attrs, "type", "list")
            if not value:
                self.out.append(f"{indent}<{name}{_attrs(attrs)}/>\n")
                return
            self.out.append(f"{indent}<{name}{_attrs(attrs)}>\n")
            for index, item in enumerate(value):
                self.element(_ITEM, None, item, (*path, str(index)), indent + "  ", scope)
            self.out.append(f"{indent}</{name}>\n")
            return
        if value is None:
            self.annotate(attrs, "type", "null")
            self.out.append(f"{indent}<{name}{_attrs(attrs)}/>\n")
            return
        if isinstance(value, str):
            text = self.check_text(value, path)
            if (self.typed and not isinstance(infer_scalar(value), str)) or (
                    value and not value.strip(_SPACE)):
                self.annotate(attrs, "type", "str")
        else:
            text = format_scalar(value)
            if not self.reads_back(value):
                self.annotate(attrs, "type", "bool" if isinstance(value, bool)
                              else type(value).__name__)
        self.out.append(f"{indent}<{name}{_attrs(attrs)}>{_escape_text(text)}</{name}>\n")

    def mapping(self, name: str, attrs: list[tuple[str, str]], value: dict[str, Any],
                path: tuple[str, ...], indent: str, scope: frozenset[str]) -> None:
        structural = len(attrs)
        scope = self.scope_of(value, scope)
        children: list[tuple[str, Any]] = []
        for key, item in value.items():
            if self.attribute(key, item, scope):
                attrs.append((key[1:], self.check_text(format_scalar(item), (*path, key))))
            else:
                children.append((key, item))
        text: str | None = None
        if len(attrs) > structural and len(children) == 1 and children[0][0] == TEXT_KEY:
            candidate = format_scalar(children[0][1])
            if self.reads_back(children[0][1]) and candidate and candidate == candidate.strip():
                text = self.check_text(candidate, (*path, TEXT_KEY))
                children = []
        if not value and path:
            self.annotate(attrs, "type", "dict")
        if text is not None:
            self.out.append(f"{indent}<{name}{_attrs(attrs)}>{_escape_text(text)}</{name}>\n")
        elif not children:
            self.out.append(f"{indent}<{name}{_attrs(attrs)}/>\n")
        else:
            self.out.append(f"{indent}<{name}{_attrs(attrs)}>\n")
            inner = indent + "  "
            for key, item in children:
                if isinstance(item, list) and len(item) > 1 and key != TEXT_KEY and \
                        not key.startswith("@"):
                    # repeated sibling elements, as applications write their lists
                    for index, entry in enumerate(item):
                        self.child(key, entry, (*path, key, str(index)), inner, scope)
                else:
                    self.child(key, item, (*path, key), inner, scope)
            self.out.append(f"{indent}</{name}>\n")


def _is_name(key: str) -> bool:
    return _NAME_RE.fullmatch(key) is not None and not key.lower().startswith("xml")


def _attrs(attrs: list[tuple[str, str]]) -> str:
    return "".join(f' {name}="{_escape_attr(text)}"' for name, text in attrs)


def dumps(tree: Tree, typed: bool) -> str:
    """Write a tree as XML so that it reads back exactly.

    The root element is named by the tree's ``#root`` key when that is an element name (else
    ``<config>``); ``cl:`` annotations appear only where plain XML would read back differently.
    """
    check_tree(tree, "xml")
    writer = _Writer(typed)
    root = tree.get(ROOT_KEY)
    body = tree
    if isinstance(root, str) and root != _ROOT:
        rest = {key: value for key, value in tree.items() if key != ROOT_KEY}
        if writer.element_name(root, rest, frozenset()):
            body = rest
    name = tree[ROOT_KEY] if body is not tree else _ROOT
    try:
        writer.mapping(name, [], body, (), "", frozenset())
    except RecursionError:
        raise FormatError("cannot write xml: tree nested too deeply") from None
    if writer.annotated:  # declare the cl: prefix on the root element
        writer.out[0] = writer.out[0].replace(f"<{name}", f'<{name} xmlns:cl="{NAMESPACE}"', 1)
    text = '<?xml version="1.0" encoding="UTF-8"?>\n' + "".join(writer.out)
    return verify_round_trip(tree, text, "xml", loads, typed)


CODEC = Codec("xml", (".xml",), loads, dumps)
