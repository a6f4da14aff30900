"""Markdown for Dagster metadata: the asset pages show previews as tables and charts inline."""

from __future__ import annotations

import base64
from collections.abc import Iterable, Sequence
from typing import Any


def markdown_table(headers: Sequence[str], rows: Iterable[Sequence[Any]], empty: str = "_no rows_") -> str:
    """A GitHub-style table; cells are one line, ``|`` escaped, None shown as an em dash."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    for row in rows:
        lines.append("| " + " | ".join(_cell(v) for v in row) + " |")
    return "\n".join(lines) if len(lines) > 2 else empty


def _cell(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value).replace("|", "/").replace("\n", " ")[:80]


def png_markdown(png: bytes, alt: str) -> str:
    """Markdown showing a PNG inline (a data URI): Dagster renders it on the asset page."""
    return f"![{alt}](data:image/png;base64,{base64.b64encode(png).decode()})"
