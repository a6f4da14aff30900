"""The request side: which days a shop can show, its search URL and its pagination."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Literal

from pydantic import Field, field_validator, model_validator

from pipelines.vendors.config.base import FieldError, StrictModel
from pipelines.vendors.config.selectors import Selector

PLACEHOLDERS = ("query", "page", "cursor", "asof")
"""Placeholders a ``search.url`` template may use, in the order error messages list them."""

_PLACEHOLDER_RE = re.compile(r"\{([^{}]*)\}")

class History(StrEnum):
    """Whether a vendor can show its catalogue as of a past day.

    ``asof`` vendors accept an ``{asof}`` date in the search URL, so history can be back-filled;
    ``live`` vendors only show the present, so a past-day scrape must be refused.
    """

    ASOF = "asof"
    LIVE = "live"


class SearchRules(StrictModel):
    """The search request. ``url`` is a template with ``{query}``, ``{page}``, ``{cursor}``,
    ``{asof}``; a relative template is appended to ``base_url`` (``/search`` under
    ``http://host/toko`` is ``http://host/toko/search``). A query-string parameter whose value is
    a placeholder without a value (``cursor`` on the first page, ``asof`` for today) is dropped.
    """

    url: str
    headers: dict[str, str] = Field(default_factory=dict)

    @field_validator("url")
    @classmethod
    def _check_placeholders(cls, value: str) -> str:
        allowed = ", ".join(f"{{{name}}}" for name in PLACEHOLDERS)
        for name in _PLACEHOLDER_RE.findall(value):
            if name not in PLACEHOLDERS:
                raise ValueError(f"unknown placeholder {{{name}}}; allowed: {allowed}")
        if "{query}" not in value:
            raise ValueError("missing placeholder {query}")
        if value.startswith(("http://", "https://")):
            return value
        if "://" in value or value.startswith("//"):
            raise ValueError("must be a path relative to base_url or an absolute http(s) URL")
        return value

    @field_validator("headers")
    @classmethod
    def _check_headers(cls, value: dict[str, str]) -> dict[str, str]:
        for name in value:
            if not re.fullmatch(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+", name):
                raise ValueError(f"invalid HTTP header name {name!r}")
        return value

    def placeholders(self) -> set[str]:
        """The placeholder names the template uses."""
        return set(_PLACEHOLDER_RE.findall(self.url))


class PaginationRules(StrictModel):
    """How to get from one result page to the next.

    ``page_number``: ``{page}`` runs ``start``, ``start + step``, … while pages have items
    (``page_size``, when given, also stops after a short page). ``next_link``: follow the URL
    the ``next_link`` selector finds (attribute defaults to ``href``). ``cursor``: pass the value
    the ``cursor`` selector finds as ``{cursor}``. ``none``: one page. Never more than
    ``max_pages`` pages per query.

    Whatever the kind, the page may say itself whether there is more, so no empty page is ever
    requested to find out: ``has_next`` is a selector whose value is true while more pages
    follow (a ``hasNextPage`` flag, ``has_more``, a "next" button; false, null or absent on the
    last page), and ``total`` one that finds the number of results of the whole search (the
    crawl stops once that many listings were seen).
    """

    kind: Literal["page_number", "next_link", "cursor", "none"] = "none"
    start: int = Field(default=1, ge=0)
    step: int = Field(default=1, ge=1)
    page_size: int | None = Field(default=None, ge=1)
    next_link: Selector | None = None
    cursor: Selector | None = None
    has_next: Selector | None = None
    total: Selector | None = None
    max_pages: int = Field(default=10, ge=1, le=1000)

    @model_validator(mode="after")
    def _check_kind_options(self) -> PaginationRules:
        if self.kind == "next_link" and self.next_link is None:
            raise FieldError("next_link", "field required for kind next_link")
        if self.kind == "cursor" and self.cursor is None:
            raise FieldError("cursor", "field required for kind cursor")
        if self.kind != "next_link" and self.next_link is not None:
            raise FieldError("next_link", f"only used by kind next_link (kind is {self.kind})")
        if self.kind != "cursor" and self.cursor is not None:
            raise FieldError("cursor", f"only used by kind cursor (kind is {self.kind})")
        if self.kind == "none":
            for name in ("has_next", "total"):
                if getattr(self, name) is not None:
                    raise FieldError(name, "not used by kind none (a single page is fetched)")
        if self.kind != "page_number":
            for name in ("start", "step", "page_size"):
                if name in self.model_fields_set:
                    raise FieldError(name, f"only used by kind page_number (kind is {self.kind})")
        return self
