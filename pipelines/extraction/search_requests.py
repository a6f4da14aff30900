"""Which URL to request next: search URL templates and pagination, without any I/O.

The crawler (HTTP or browser, in the pipeline) only loops::

    request = first_request(vendor, query, asof=day)
    while request is not None:
        body = fetch(request.url)
        page = extract_page(vendor, body, url=request.url)
        request = next_request(vendor, request, page)

Everything that decides *what* to fetch lives here so it can be tested without a network and
replayed over archived pages.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from urllib.parse import quote, quote_plus

from pipelines.extraction.results import PageExtraction
from pipelines.vendors.config.vendor import AsOfNotSupportedError, VendorConfig

__all__ = ["PageRequest", "build_search_url", "first_request", "next_request"]

_PLACEHOLDER = re.compile(r"\{(query|page|cursor|asof)\}")
_WHOLE_PLACEHOLDER = re.compile(r"^\{(query|page|cursor|asof)\}$")


def _asof_text(asof: dt.date | str | None) -> str | None:
    if asof is None:
        return None
    if isinstance(asof, dt.datetime):
        return asof.date().isoformat()
    if isinstance(asof, dt.date):
        return asof.isoformat()
    return dt.date.fromisoformat(asof).isoformat()


def _fill(part: str, values: dict[str, str | None], *, in_query: bool, template: str) -> str:
    def replace(match: re.Match[str]) -> str:
        value = values[match.group(1)]
        if value is None:
            raise ValueError(f"search URL {template!r} needs a value for {{{match.group(1)}}}")
        return quote_plus(value) if in_query else quote(value, safe="")

    return _PLACEHOLDER.sub(replace, part)


def build_search_url(
    vendor: VendorConfig,
    query: str,
    *,
    page: int | None = None,
    cursor: str | None = None,
    asof: dt.date | str | None = None,
) -> str:
    """The absolute search URL for ``query`` (URL-encoded), rendered from ``search.url``.

    ``page`` defaults to ``pagination.start``. A query-string parameter whose whole value is a
    placeholder with no value is left out (``cursor`` on the first page, ``asof`` when
    scraping "today"), as the shops expect. Raises ``AsOfNotSupportedError`` when ``asof`` is
    given for a live-only vendor.
    """
    asof_text = _asof_text(asof)
    if asof_text is not None and not vendor.accepts_asof:
        raise AsOfNotSupportedError(
            f"{vendor.name}: history is live (only the current catalogue is visible); cannot scrape as of {asof_text}"
        )
    if page is None and vendor.pagination.kind == "page_number":
        page = vendor.pagination.start
    values: dict[str, str | None] = {
        "query": query,
        "page": None if page is None else str(page),
        "cursor": cursor or None,
        "asof": asof_text,
    }
    template = vendor.search_url_template
    base, question, query_string = template.partition("?")
    url = _fill(base, values, in_query=False, template=template)
    if not question:
        return url
    params = []
    for param in query_string.split("&"):
        _name, equals, value = param.partition("=")
        whole = _WHOLE_PLACEHOLDER.match(value) if equals else None
        if whole is not None and values[whole.group(1)] is None:
            continue
        params.append(_fill(param, values, in_query=True, template=template))
    return f"{url}?{'&'.join(params)}" if params else url


@dataclass(frozen=True, slots=True)
class PageRequest:
    """One search page to fetch, and where it sits in the crawl of one query.

    ``page_index`` counts pages fetched for this query (1 for the first); ``page`` is the
    ``{page}`` value (page-number pagination) and ``cursor`` the ``{cursor}`` value used.
    ``visited`` holds every URL of the crawl so far, so a shop linking back to an earlier page
    cannot trap the crawler in a loop; ``items_seen`` counts the listing elements of the pages
    before this one (to stop at the search's ``total``).
    """

    url: str
    query: str
    page_index: int = 1
    page: int | None = None
    cursor: str | None = None
    asof: dt.date | None = None
    visited: frozenset[str] = field(default_factory=frozenset)
    items_seen: int = 0


def first_request(vendor: VendorConfig, query: str, *, asof: dt.date | None = None) -> PageRequest:
    """The first page of a search (``asof=None`` means the live catalogue)."""
    page = vendor.pagination.start if vendor.pagination.kind == "page_number" else None
    url = build_search_url(vendor, query, page=page, asof=asof)
    return PageRequest(url=url, query=query, page=page, asof=asof, visited=frozenset({url}))


def next_request(vendor: VendorConfig, previous: PageRequest, extraction: PageExtraction) -> PageRequest | None:
    """The request after ``previous`` given what its page contained, or ``None`` to stop.

    Stops on a page-level error, on a page with no listings, after ``max_pages``, when the page
    says it is the last (``has_next`` false, or ``total`` listings seen), and when the
    pagination has nowhere new to go: page-number crawls also stop after a page shorter than
    ``page_size`` (when set); next-link crawls when the link is missing or already visited;
    cursor crawls when the cursor is missing or unchanged.
    """
    pagination = vendor.pagination
    if extraction.error is not None or extraction.item_count_seen == 0:
        return None
    if previous.page_index >= pagination.max_pages or pagination.kind == "none":
        return None
    seen = previous.items_seen + extraction.item_count_seen
    if extraction.has_next is False or (extraction.total is not None and seen >= extraction.total):
        return None
    page: int | None = None
    cursor: str | None = None
    if pagination.kind == "page_number":
        if pagination.page_size is not None and extraction.item_count_seen < pagination.page_size:
            return None
        page = (previous.page if previous.page is not None else pagination.start) + pagination.step
        url = build_search_url(vendor, previous.query, page=page, asof=previous.asof)
    elif pagination.kind == "next_link":
        if extraction.next_page_url is None:
            return None
        url = extraction.next_page_url
    else:
        cursor = extraction.next_cursor
        if cursor is None or cursor == previous.cursor:
            return None
        url = build_search_url(vendor, previous.query, cursor=cursor, asof=previous.asof)
    if url in previous.visited:
        return None
    return PageRequest(
        url=url,
        query=previous.query,
        page_index=previous.page_index + 1,
        page=page,
        cursor=cursor,
        asof=previous.asof,
        visited=previous.visited | {url},
        items_seen=seen,
    )
