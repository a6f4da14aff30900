"""Text normalisation for matching, the same rule the shops' search uses (see demo/SPEC.md):
NFKD, combining marks dropped, case-folded, every run of characters outside ``[0-9a-z]`` → one space."""

from __future__ import annotations

import re
import unicodedata

_NON_ALNUM = re.compile(r"[^0-9a-z]+")


def normalize(text: str | None) -> str:
    """``"Pokémon  Pikachu 58/102™"`` → ``"pokemon pikachu 58 102 tm"``."""
    if not text:
        return ""
    if text.isascii():
        return _NON_ALNUM.sub(" ", text.lower()).strip()
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return _NON_ALNUM.sub(" ", stripped).strip()
