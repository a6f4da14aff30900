"""Data embedded in HTML pages: JSON in a ``<script>``, JavaScript object literals, structured data.

Many shops render their results into the page as data rather than markup: a Next.js or Nuxt
page carries its props in ``<script id="__NEXT_DATA__" type="application/json">``, others assign
a state object in a script (``window.__STATE__ = {…}``, not strict JSON: unquoted keys, single
quotes, trailing commas), and product pages describe themselves with schema.org JSON-LD,
microdata or OpenGraph tags. Reading that data is both sturdier and cheaper than reading the
markup it is rendered into, so a vendor file may ask for it directly:

* ``decode_text`` turns the text of a matched element (or attribute) into data, with ``orjson``
  for strict JSON and ``chompjs`` for JavaScript object literals;
* ``structured_data`` reads JSON-LD, microdata or OpenGraph through ``extruct`` in its
  *uniform* shape, so all three look like JSON-LD objects (``@type``, ``@context``, properties).

Both raise ``EmbeddedDataError`` with a one-line reason; callers turn it into a page error or
an item failure.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

import chompjs
import orjson

DataParse = Literal["json", "javascript"]
EmbeddedKind = Literal["json-ld", "microdata", "opengraph"]
EMBEDDED_KINDS: tuple[EmbeddedKind, ...] = ("json-ld", "microdata", "opengraph")

_EXTRUCT_SYNTAX = {"json-ld": "json-ld", "microdata": "microdata", "opengraph": "opengraph"}


class EmbeddedDataError(ValueError):
    """Embedded text could not be read as data; the message says what and why, in one line."""


def _snippet(text: str) -> str:
    flat = " ".join(text[:60].split())
    return flat + ("…" if len(text) > 60 else "")


def decode_text(text: str, parse: DataParse) -> Any:
    """``text`` as data: strict JSON, or the first JavaScript object/array literal in it.

    ``javascript`` accepts what ``JSON.parse`` would refuse but a browser runs (``{a: 1, 'b': [2,],}``)
    and skips whatever precedes the literal (``window.__STATE__ = {…};``).
    """
    stripped = text.strip()
    if not stripped:
        raise EmbeddedDataError("is empty")
    if parse == "json":
        try:
            return orjson.loads(stripped)
        except orjson.JSONDecodeError as exc:
            raise EmbeddedDataError(f"is not JSON ({exc}): {_snippet(stripped)!r}") from None
    try:
        return chompjs.parse_js_object(stripped)
    except (ValueError, TypeError) as exc:
        message = " ".join(str(exc).split())[:120]
        raise EmbeddedDataError(f"has no JavaScript object literal ({message}): {_snippet(stripped)!r}") from None


def structured_data(html: str, url: str, kind: EmbeddedKind) -> list[Any]:
    """Every ``kind`` object of the page, in document order, shaped like JSON-LD.

    JSON-LD blocks are returned as written (a block holding a list contributes its elements);
    microdata items and the page's OpenGraph properties come in extruct's uniform shape
    (``{"@type": "Product", "name": …}``, ``{"og:title": …, "og:price:amount": …}``).
    """
    import extruct  # imported on first use: it pulls in rdflib and friends (~0.3 s)

    # extruct logs every malformed JSON-LD block at ERROR level; a shop's broken block is not
    # our error, and it is reported through the missing data instead.
    logging.getLogger("extruct").setLevel(logging.CRITICAL)
    try:
        found = extruct.extract(html, base_url=url, syntaxes=[_EXTRUCT_SYNTAX[kind]], uniform=True, errors="ignore")
    except Exception as exc:  # extruct wraps lxml and rdflib, which raise many kinds of errors
        raise EmbeddedDataError(f"cannot read {kind}: {' '.join(str(exc).split())[:120]}") from None
    return list(found.get(_EXTRUCT_SYNTAX[kind], []))
