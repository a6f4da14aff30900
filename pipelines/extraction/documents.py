"""Turning a response body into a document: text decoding, "is this even HTML?", parsing."""

from __future__ import annotations

import re
from typing import Any

import orjson
from parsel import Selector as ParselSelector
from selectolax.lexbor import LexborHTMLParser

from pipelines.parsing.embedded import DataParse, EmbeddedKind, decode_text, structured_data
from pipelines.parsing.selectors import HtmlEngine
from pipelines.parsing.text import clean_text

_MARKUP = re.compile(r"<\s*[A-Za-z!/?]")
_CHARSET = re.compile(rb"""charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.IGNORECASE)


def decode(body: bytes | str) -> str:
    """Bytes to text: UTF-8 (with or without BOM), else the declared charset, else cp1252."""
    if isinstance(body, str):
        return body.removeprefix("\ufeff")
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    declared = _CHARSET.search(body[:2048])
    if declared is not None:
        try:
            return body.decode(declared.group(1).decode("ascii"), errors="replace")
        except LookupError:
            pass
    return body.decode("cp1252", errors="replace")


def preview(text: str) -> str:
    snippet = clean_text(text[:80])
    return snippet if len(text) <= 80 else snippet + "…"


def html_problem(text: str) -> str | None:
    """Why ``text`` cannot be an HTML results page, or ``None`` if it might be one."""
    stripped = text.strip()
    if not stripped:
        return "empty body"
    if "\x00" in text[:4096]:
        return "binary body, not HTML"
    if stripped[0] in "{[":
        try:
            orjson.loads(stripped)
            return "expected HTML but got JSON"
        except orjson.JSONDecodeError:
            pass
    if _MARKUP.search(text, 0, 65536) is None:
        return f"not HTML (no markup): {preview(stripped)!r}"
    return None


MAX_DEPTH = 512
"""Nesting deeper than this is refused before parsing: real pages stay under ~100 levels, while
HTML parsers slow down with the square of the depth (2 MB of nested ``<div>``s held lexbor for
minutes), so such a page is an attack or garbage, never listings."""

SCAN_FROM_BYTES = 65_536
"""Smaller pages are not scanned: even at the worst nesting they parse in well under a second."""

MAX_ELEMENTS = 300_000
"""More elements than this in one page is refused before parsing (a 5 MB results page has ~100k)."""

# Comments and raw-text elements are skipped whole (their content may contain "<div"); other
# tags count. Elements whose end tag is optional (p, li, td, …) or that never have one (br,
# img, …) do not nest in practice, so they do not add depth.
_SCAN = re.compile(
    r"<!--.*?-->|<(script|style|textarea|title|template)\b.*?</\1\s*>|<(/?)([A-Za-z][A-Za-z0-9:-]*)[^>]*?(/?)>",
    re.DOTALL | re.IGNORECASE,
)
_FLAT = frozenset((
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr",
    "p", "li", "dt", "dd", "option", "optgroup", "tr", "td", "th", "thead", "tbody", "tfoot", "colgroup", "caption",
    "rb", "rt", "rtc", "rp", "html", "head", "body",
))


def markup_problem(text: str) -> str | None:
    """Why ``text`` must not be handed to an HTML parser (too deep, too many elements), or ``None``.

    A regular-expression scan of the tags: linear, and stopped at the first excess, so a hostile
    page fails in milliseconds instead of holding the parser for minutes.
    """
    if len(text) < SCAN_FROM_BYTES or text.count("<") <= MAX_DEPTH:
        return None
    depth = elements = 0
    flat = _FLAT
    for match in _SCAN.finditer(text):
        name = match.group(3)
        if name is None:
            elements += 1
            continue
        name = name.lower()
        if name in flat or match.group(4):
            elements += 1
        elif match.group(2):
            depth = depth - 1 if depth else 0
        else:
            elements += 1
            depth += 1
            if depth > MAX_DEPTH:
                return f"markup nested deeper than {MAX_DEPTH} levels (not a results page; refused before parsing)"
        if elements > MAX_ELEMENTS:
            return f"more than {MAX_ELEMENTS:,} elements (not a results page; refused before parsing)"
    return None


def parse_html(text: str, engine: HtmlEngine | None) -> Any:
    """The document root for the vendor's engine (lexbor node or lxml element)."""
    if engine == "lxml":
        return ParselSelector(text=text, type="html").root
    return LexborHTMLParser(text).root


class PageDocument:
    """One page's memo of data found inside it (``PageData`` for selector chains).

    Several selectors of a page usually read the same embedded data (items, the next-page flag
    and the total from one ``__NEXT_DATA__`` script): it is decoded once per page.
    """

    __slots__ = ("_decoded", "_structured", "text", "url")

    def __init__(self, text: str, url: str) -> None:
        self.text = text
        self.url = url
        self._decoded: dict[tuple[str, str], Any] = {}
        self._structured: dict[str, list[Any]] = {}

    def decoded(self, text: str, parse: DataParse) -> Any:
        key = (parse, text)
        if key not in self._decoded:
            self._decoded[key] = decode_text(text, parse)
        return self._decoded[key]

    def structured(self, kind: EmbeddedKind) -> list[Any]:
        if kind not in self._structured:
            self._structured[kind] = structured_data(self.text, self.url, kind)
        return self._structured[kind]
