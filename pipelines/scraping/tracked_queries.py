"""Which queries a vendor's scrape runs: its own plus the users' saved searches (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


def tracked_queries(vendor: str, own: Sequence[str], saved: Mapping[str | None, Sequence[str]]) -> list[str]:
    """The vendor's queries, then saved-search queries for it or for every vendor (key ``None``),
    each once (compared case-insensitively, whitespace collapsed), in that order."""
    seen: set[str] = set()
    merged: list[str] = []
    for query in [*own, *saved.get(vendor, ()), *saved.get(None, ())]:
        query = " ".join(query.split())
        if query and query.casefold() not in seen:
            seen.add(query.casefold())
            merged.append(query)
    return merged
