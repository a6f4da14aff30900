"""Normalising scraped strings so the same listing reads the same on every scrape.

Shops pad titles with newlines and indentation, mix NBSP and thin spaces, and send
decomposed accents ("Pokémon" as ``e`` + U+0301) on one day and composed ones the next. Comparing
or hashing such strings would report changes that never happened, so every text field goes
through ``clean_text``: control characters become spaces, invisible characters (zero-width
space, soft hyphen, BOM) are dropped, runs of any Unicode whitespace collapse to one space, and
the result is NFC. Zero-width *joiners* are kept: they glue emoji sequences together.
"""

from __future__ import annotations

import unicodedata

_CONTROLS = {code: " " for code in (*range(0x00, 0x20), *range(0x7F, 0xA0))}
_INVISIBLE = {code: None for code in (0x200B, 0x2060, 0xFEFF, 0x00AD)}
_TRANSLATION = str.maketrans({**_CONTROLS, **_INVISIBLE})


def clean_text(value: str) -> str:
    """Whitespace-normalised, NFC, without control or invisible characters (may be empty)."""
    collapsed = " ".join(value.translate(_TRANSLATION).split())
    if collapsed.isascii():
        return collapsed
    return unicodedata.normalize("NFC", collapsed)
