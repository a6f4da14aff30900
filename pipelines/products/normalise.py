"""Title text folded to one spelling: Unicode, accents, symbols, case, punctuation, storage sizes.

Two titles of one product written by two shops differ in ways that carry no meaning (``iPhone
15 Pro 128GB™`` vs ``iphone 15 pro 128 gb``); every comparison of titles starts here.
"""

from __future__ import annotations

import re
import unicodedata

_SYMBOLS = {"So", "Sk", "Cf", "Co", "Cs", "Cn"}
"""Unicode categories dropped: other/modifier symbols (emoji, ™, ®), format (zero-width), private."""
_MARKS = {"Mn", "Me"}
_NON_WORD = re.compile(r"[^0-9a-z.]+")
_STRAY_DOTS = re.compile(r"(?<![0-9])\.|\.(?![0-9])")
_STORAGE = re.compile(r"(?<![0-9a-z.])(\d+(?:\.\d+)?) ?(gb|tb)(?![0-9a-z])")


def strip_marks(text: str, translit: dict[int, str] | None = None) -> str:
    """Symbols and invisible characters dropped first (NFKD would turn ™ into "TM"), then NFKD
    without its combining marks (accents)."""
    if translit:
        text = text.translate(translit)
    if text.isascii():  # most titles: NFKD changes nothing, the only ASCII symbols are ^ and `
        return text.replace("^", "").replace("`", "")
    kept = "".join(ch for ch in text if unicodedata.category(ch) not in _SYMBOLS)
    decomposed = unicodedata.normalize("NFKD", kept)
    return "".join(ch for ch in decomposed if unicodedata.category(ch) not in _MARKS)


def normalise_text(text: str, translit: dict[int, str] | None = None) -> str:
    """Lower-case ASCII words separated by single spaces; a '.' survives only between digits.

    Symbols (emoji, ™, ®) and invisible characters go *before* NFKD, so ``iPhone™`` does not
    become ``iphonetm``. Then accents are stripped, the text is casefolded, and storage sizes
    are spelled ``<n>gb`` (terabytes converted), e.g. ``1 TB`` → ``1024gb``.
    """
    folded = strip_marks(text, translit).casefold()
    folded = _NON_WORD.sub(" ", folded)
    folded = _STRAY_DOTS.sub(" ", folded)
    folded = " ".join(folded.split())
    return _STORAGE.sub(_storage_gb, folded)


def _storage_gb(match: re.Match[str]) -> str:
    amount, unit = match.group(1), match.group(2)
    try:
        gb = float(amount) * (1024 if unit == "tb" else 1)
    except ValueError:  # pragma: no cover - the regex only lets digits through
        return match.group(0)
    return f"{int(gb)}gb" if gb.is_integer() else f"{gb:g}gb"


def clean_display(title: str) -> str:
    """A title fit for display: symbols, emoji and odd spacing removed, case and accents kept."""
    kept = "".join(" " if unicodedata.category(ch) in _SYMBOLS else ch
                   for ch in unicodedata.normalize("NFC", title))
    return " ".join(kept.split()).strip(" -\u2013\u2014|\u00b7/,")  # dashes, pipes, middle dots
