"""When two on-demand searches are the same search (pure)."""

from __future__ import annotations

from collections.abc import Iterable


def query_key(query: str) -> str:
    """The query as compared for reuse: whitespace collapsed, case folded (``iPhone  15`` = ``iphone 15``)."""
    return " ".join(query.split()).casefold()


def clean_query(query: str) -> str:
    """The query as searched: whitespace collapsed, case kept (shops may care)."""
    return " ".join(query.split())


def vendor_set(vendors: Iterable[str] | None) -> list[str]:
    """The vendors asked for, sorted and each once; empty means every vendor."""
    return sorted(set(vendors or ()))
