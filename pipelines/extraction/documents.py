"""Turning a response body into a document: text decoding, "is this even HTML?", parsing."""

from __future__ import annotations

import re
from typing import Any

import orjson
from parsel import Selector as ParselSelector
from selectolax.lexbor import LexborHTMLParser

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


def parse_html(text: str, engine: HtmlEngine | None) -> Any:
    """The document root for the vendor's engine (lexbor node or lxml element)."""
    if engine == "lxml":
        return ParselSelector(text=text, type="html").root
    return LexborHTMLParser(text).root
