"""The condition vocabulary every vendor's listings are stored in.

Shops write conditions in their own words ("Bekas", "Como nuevo", "Pre-owned", "PSA 9"), so a
report by condition or an alert for "used only" needs one vocabulary. Vendor files map their
words into it with the condition field's ``map``; a value that is already a vocabulary word
(any case, spaces or hyphens for underscores: "Like new") or a schema.org ``itemCondition``
(``https://schema.org/UsedCondition``) needs no mapping. Anything else is *unmapped*: the
listing is stored without a condition, keeps the raw word, and the word is reported by
``market-pulse vendors check`` and in the run's metadata so the vendor file can be completed.
"""

from __future__ import annotations

import re

CONDITIONS: dict[str, str] = {
    "new": "never used, in its original packaging",
    "open_box": "new, but the packaging was opened (returns, display units)",
    "like_new": "used, with no visible signs of use",
    "used": "used, working, with signs of use",
    "refurbished": "restored to working order by the maker or a refurbisher",
    "for_parts": "not working, or sold for parts or repair",
}
"""The vocabulary: value -> what it means (``vendors/README.md`` shows the same table)."""

_SCHEMA_ORG = {
    "newcondition": "new",
    "usedcondition": "used",
    "refurbishedcondition": "refurbished",
    "damagedcondition": "for_parts",
}


def vocabulary_word(text: str) -> str | None:
    """The vocabulary value ``text`` already is (``"Like-New"`` -> ``like_new``), else ``None``."""
    folded = re.sub(r"[\s\-]+", "_", text.strip().casefold())
    if folded in CONDITIONS:
        return folded
    tail = folded.rsplit("/", 1)[-1]
    return _SCHEMA_ORG.get(tail)


def check_condition(value: str) -> str:
    """``value`` if it is a vocabulary word, else a ``ValueError`` listing the vocabulary."""
    if value not in CONDITIONS:
        raise ValueError(f"{value!r} is not a condition; use one of {', '.join(CONDITIONS)}")
    return value
