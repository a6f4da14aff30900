"""Compiling and evaluating the selectors of a vendor file (CSS, XPath, JMESPath).

Two HTML engines exist because they trade speed for power:

* ``lexbor`` (selectolax) evaluates CSS roughly ten times faster than lxml and is used
  whenever a vendor's HTML rules are all CSS;
* ``lxml`` (through parsel) is used as soon as one rule is XPath, because nodes of one
  engine cannot be handed to the other. CSS rules then run as XPath translated by parsel.

Expressions are compiled (or, for lexbor, which has no compiled form, test-parsed) once and
cached, so a bad expression is reported when the vendor file is loaded, not mid-scrape.

The special CSS selector ``:scope`` (and XPath ``.``, JMESPath ``@``) selects the item node
itself, e.g. to read the ``data-id`` attribute of the listing element.

A vendor file's selector may chain two steps (``SelectorChain``): a CSS/XPath step that finds
text in the page (a ``<script>``'s content, an attribute) and a JMESPath step over that text
read as data, or a JMESPath over the page's structured data (JSON-LD, microdata, OpenGraph).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal, Protocol

import jmespath
import jmespath.exceptions
import lxml.etree
from cssselect import SelectorError
from parsel.csstranslator import css2xpath
from selectolax.lexbor import LexborHTMLParser, LexborNode, SelectolaxError

from pipelines.parsing.embedded import DataParse, EmbeddedKind

SelectorKind = Literal["css", "xpath", "json"]
HtmlEngine = Literal["lexbor", "lxml"]

SCOPE = ":scope"

_PROBE_DOCUMENT = LexborHTMLParser("<html><body><p class='probe'>probe</p></body></html>")
_PROBE_ELEMENT = lxml.etree.fromstring("<html><body><p>probe</p></body></html>")


class SelectorSyntaxError(ValueError):
    """An expression in a vendor file does not compile; the message says which and why."""


@lru_cache(maxsize=4096)
def check_css(query: str) -> str:
    """Return ``query`` if lexbor (selectolax) can parse it, else raise ``SelectorSyntaxError``.

    Lexbor only says "can't parse", so the error borrows cssselect's more precise diagnosis
    when cssselect also rejects the selector.
    """
    if query.strip() == SCOPE:
        return SCOPE
    if not query.strip():
        raise SelectorSyntaxError("invalid CSS selector '': empty")
    try:
        _PROBE_DOCUMENT.css(query)
    except SelectolaxError:
        detail = ""
        try:
            css2xpath(query)
        except SelectorError as exc:
            detail = f": {exc}"
        raise SelectorSyntaxError(f"invalid CSS selector {query!r}{detail}") from None
    return query


@lru_cache(maxsize=4096)
def compile_css_as_xpath(query: str) -> lxml.etree.XPath:
    """Translate a CSS selector to a compiled XPath (for vendors on the lxml engine)."""
    if query.strip() == SCOPE:
        return compile_xpath(".")
    try:
        return compile_xpath(css2xpath(query))
    except (SelectorError, SelectorSyntaxError) as exc:
        raise SelectorSyntaxError(f"CSS selector {query!r} cannot be translated to XPath: {exc}") from None


@lru_cache(maxsize=4096)
def compile_xpath(query: str) -> lxml.etree.XPath:
    """Compile an XPath expression, and try it once so unknown functions fail now, not later."""
    try:
        compiled = lxml.etree.XPath(query)
        compiled(_PROBE_ELEMENT)
    except lxml.etree.XPathError as exc:
        raise SelectorSyntaxError(f"invalid XPath expression {query!r}: {exc}") from None
    return compiled


@lru_cache(maxsize=4096)
def compile_jmespath(query: str) -> jmespath.parser.ParsedResult:
    """Compile a JMESPath expression."""
    try:
        return jmespath.compile(query)
    except jmespath.exceptions.JMESPathError as exc:
        message = " ".join(str(exc).split())
        raise SelectorSyntaxError(f"invalid JMESPath expression {query!r}: {message}") from None


_IDENTIFIER = r"[A-Za-z_][A-Za-z0-9_]*"
_SIMPLE_PATH = re.compile(rf"({_IDENTIFIER}(?:\.{_IDENTIFIER})*)(?:\[\]\.({_IDENTIFIER}(?:\.{_IDENTIFIER})*))?")


class _FieldPath:
    """A fast evaluator for the JMESPath forms vendor files use most: ``a.b`` and ``a[].b``.

    jmespath's generic interpreter costs a few microseconds per call, which made it the
    largest cost of reading a JSON page; these two forms are plain dictionary look-ups with
    the same results (missing keys and non-objects give null, projections drop nulls).
    """

    __slots__ = ("head", "tail")

    def __init__(self, head: str, tail: str | None) -> None:
        self.head = tuple(head.split("."))
        self.tail = tuple(tail.split(".")) if tail else None

    @staticmethod
    def _walk(value: Any, keys: tuple[str, ...]) -> Any:
        for key in keys:
            if not isinstance(value, dict):
                return None
            value = value.get(key)
        return value

    def search(self, data: Any) -> Any:
        value = self._walk(data, self.head)
        if self.tail is None:
            return value
        if not isinstance(value, list):
            return None
        projected = (self._walk(element, self.tail) for element in value)
        return [element for element in projected if element is not None]


def fast_jmespath(query: str) -> Any:
    """A compiled JMESPath expression: the fast path for simple forms, else jmespath's own."""
    compiled = compile_jmespath(query)
    match = _SIMPLE_PATH.fullmatch(query)
    if match is None:
        return compiled
    return _FieldPath(match.group(1), match.group(2))


def check_expression(kind: SelectorKind, query: str) -> str:
    """Validate one expression of the given kind; raise ``SelectorSyntaxError`` if it is bad."""
    if kind == "css":
        check_css(query)
    elif kind == "xpath":
        compile_xpath(query)
    else:
        compile_jmespath(query)
    return query


# -- evaluation -----------------------------------------------------------------------------

_STRING_VALUE = lxml.etree.XPath("string()")


@dataclass(frozen=True, slots=True)
class CompiledSelector:
    """One selector ready to run against a node of the vendor's engine (or a JSON value).

    ``select`` returns the matches (nodes, or strings for XPath ``@attr``/``text()``),
    ``select_first`` the first match or ``None``. For JSON the "matches" are the JMESPath
    result flattened to a list.
    """

    kind: SelectorKind
    query: str
    engine: HtmlEngine | None
    _compiled: Any

    @classmethod
    def build(cls, kind: SelectorKind, query: str, engine: HtmlEngine | None) -> CompiledSelector:
        if kind == "json":
            return cls(kind, query, None, fast_jmespath(query))
        if kind == "xpath":
            return cls(kind, query, "lxml", compile_xpath(query))
        if engine == "lxml":
            return cls(kind, query, "lxml", compile_css_as_xpath(query))
        return cls(kind, query, "lexbor", check_css(query))

    def select(self, node: Any) -> list[Any]:
        if self.engine == "lexbor":
            if self._compiled == SCOPE:
                return [node]
            return node.css(self._compiled)
        if self.engine == "lxml":
            result = self._compiled(node)
            return result if isinstance(result, list) else [result]
        return flatten_json(self._compiled.search(node))

    def select_first(self, node: Any) -> Any | None:
        if self.engine == "lexbor":
            if self._compiled == SCOPE:
                return node
            return node.css_first(self._compiled)
        matches = self.select(node)
        return matches[0] if matches else None

    def search_json(self, data: Any) -> Any:
        """The raw JMESPath result (not flattened), e.g. to test a flag for truthiness."""
        return self._compiled.search(data)


def flatten_json(value: Any) -> list[Any]:
    """A JMESPath result as a list of non-null values (a scalar becomes a one-item list)."""
    if value is None:
        return []
    if isinstance(value, list):
        out: list[Any] = []
        for element in value:
            out.extend(flatten_json(element))
        return out
    return [value]


def node_value(node: Any, attributes: tuple[str, ...] | None) -> str | None:
    """The string a match stands for: its text, or the first non-empty of ``attributes``.

    Works for lexbor nodes, lxml elements, XPath string/number results and JSON scalars, so the
    extraction code does not care which engine produced the match.
    """
    if isinstance(node, LexborNode):
        if attributes:
            attrs = node.attributes
            for name in attributes:
                value = attrs.get(name)
                if value:
                    return value
            return None
        return node.text(deep=True)
    if isinstance(node, lxml.etree._Element):
        if attributes:
            for name in attributes:
                value = node.get(name)
                if value:
                    return value
            return None
        if not isinstance(node.tag, str):  # comment or processing instruction
            return None
        return str(_STRING_VALUE(node))
    if isinstance(node, bool):
        return "true" if node else "false"
    if isinstance(node, float) and node.is_integer():
        return str(int(node))
    if isinstance(node, str | int | float):
        return str(node)
    return None


# -- chains: a markup step, then a data step ---------------------------------------------------


class PageData(Protocol):
    """What a chain needs from the page beyond the node it runs on (see ``extraction.documents``)."""

    def decoded(self, text: str, parse: DataParse) -> Any:
        """``text`` decoded as data (memoised per page); raises ``EmbeddedDataError``."""

    def structured(self, kind: EmbeddedKind) -> list[Any]:
        """The page's structured data of ``kind`` (memoised); raises ``EmbeddedDataError``."""


@dataclass(frozen=True, slots=True)
class SelectorChain:
    """One selector of a vendor file, compiled: where the value is, in up to two steps.

    The *markup* step (CSS or XPath, relative to the node it runs on) finds elements, or the
    whole page's structured data is taken (``embedded``); the *data* step is a JMESPath applied
    to data: to the node itself when it is already data (JSON vendors, items read from JSON),
    or to the text of each markup match decoded with ``parse`` (``json`` or ``javascript``).
    Without a data step a markup step yields elements, as a plain CSS/XPath selector does.
    """

    markup: CompiledSelector | None
    embedded: EmbeddedKind | None
    attributes: tuple[str, ...] | None
    parse: DataParse | None
    data: CompiledSelector | None

    @property
    def yields_data(self) -> bool:
        """True when matches are JSON values rather than elements of the page."""
        return self.markup is None or self.parse is not None

    @property
    def label(self) -> str:
        """The selector as a short text for messages: ``script#__NEXT_DATA__ | props.hits``."""
        steps = []
        if self.markup is not None:
            steps.append(self.markup.query + (f" @{'/'.join(self.attributes)}" if self.attributes else ""))
        if self.embedded is not None:
            steps.append(self.embedded)
        if self.parse == "javascript":
            steps.append("javascript")
        if self.data is not None:
            steps.append(self.data.query)
        return " | ".join(steps)

    def results(self, node: Any, page: PageData) -> list[Any]:
        """The raw result of each way the selector matched, unflattened.

        Markup only: the matched elements (one result each). Markup then data: the data result
        of each match's decoded text (``None`` where the JMESPath found nothing). Embedded: one
        result, the data step over the list of structured-data objects (or that list).
        Data only: one result, the JMESPath over ``node``.
        """
        if self.embedded is not None:
            objects = page.structured(self.embedded)
            return [self.data.search_json(objects) if self.data is not None else objects]
        if self.markup is None:
            assert self.data is not None
            return [self.data.search_json(node)]
        matches = self.markup.select(node)
        if self.parse is None:
            return matches
        out = []
        for match in matches:
            text = node_value(match, self.attributes)
            if text is None:
                continue
            decoded = page.decoded(text, self.parse)
            out.append(self.data.search_json(decoded) if self.data is not None else decoded)
        return out

    def values(self, node: Any, page: PageData) -> list[Any]:
        """Every match: elements (markup only) or non-null JSON values, flattened in order."""
        if self.markup is not None and self.parse is None:
            return self.markup.select(node)
        out: list[Any] = []
        for result in self.results(node, page):
            out.extend(flatten_json(result))
        return out

    def first_text(self, node: Any, page: PageData) -> str | None:
        """The first match as a string (element text or attribute, or a JSON scalar)."""
        if self.markup is not None and self.parse is None:
            match = self.markup.select_first(node)
            return None if match is None else node_value(match, self.attributes)
        for value in self.values(node, page):
            text = node_value(value, None)
            if text is not None:
                return text
        return None

    def texts(self, node: Any, page: PageData) -> list[str]:
        """Every match as a string; matches without one (objects, absent attributes) are left out."""
        attributes = self.attributes if self.parse is None else None
        found = (node_value(match, attributes) for match in self.values(node, page))
        return [text for text in found if text is not None]

    def first_result(self, node: Any, page: PageData) -> Any:
        """The first raw result that is not ``None`` (a JSON value, or an element), else ``None``."""
        for result in self.results(node, page):
            element_without_attribute = (self.parse is None and self.markup is not None and self.attributes
                                         and node_value(result, self.attributes) is None)
            if result is not None and not element_without_attribute:
                return result
        return None

    @classmethod
    def build(cls, *, markup: tuple[SelectorKind, str] | None, embedded: EmbeddedKind | None,
              attributes: tuple[str, ...] | None, parse: DataParse | None, data: str | None,
              engine: HtmlEngine | None) -> SelectorChain:
        """Compile a chain; ``parse`` defaults to ``json`` when a data step follows a markup step."""
        compiled_markup = CompiledSelector.build(markup[0], markup[1], engine) if markup is not None else None
        compiled_data = CompiledSelector.build("json", data, None) if data is not None else None
        if compiled_markup is not None and parse is None and compiled_data is not None:
            parse = "json"
        return cls(compiled_markup, embedded, attributes, parse, compiled_data)
