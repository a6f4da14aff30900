"""Trying a vendor file on one search page before it runs: what ``market-pulse vendors check`` shows.

The page is fetched exactly as a scheduled scrape fetches it (``open_vendor_fetch``: robots.txt,
rate limits, user agent, browser for JS shops), or read from a saved file, then extracted with
the file's rules. Nothing is written anywhere: the result is a report of the listings found and
of everything that looks wrong (skipped listings, unparsed prices, fields empty on every
listing, conditions outside the vocabulary, pagination not found, robots.txt refusing the page).
Scrapy's ``parse`` command is the model.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

from downloader.browser import BrowserFetcher
from downloader.http import HttpFetcher
from downloader.robots import RobotsPolicy, robots_url_for
from pipelines.extraction.pages import extract_page
from pipelines.extraction.plan import plan_for
from pipelines.extraction.results import ExtractedItem, PageExtraction
from pipelines.extraction.search_requests import PageRequest, first_request, next_request
from pipelines.scraping.fetching import open_vendor_fetch
from pipelines.vendors.config.fields import REQUIRED_FIELDS, FieldType
from pipelines.vendors.config.vendor import VendorConfig


@dataclass
class VendorCheck:
    """What one page of a vendor gave: listings, skipped ones, and warnings in plain words."""

    vendor: VendorConfig
    query: str
    url: str
    source: str  # "fetched" or "saved page <file>"
    status: int | None = None
    fetch_error: str | None = None
    robots: str = "not checked"
    extraction: PageExtraction | None = None
    pagination: str = ""
    warnings: list[str] = field(default_factory=list)

    @property
    def items(self) -> list[ExtractedItem]:
        return self.extraction.items if self.extraction is not None else []

    @property
    def ok(self) -> bool:
        """True when the page was a results page with at least one listing."""
        return (self.fetch_error is None and self.extraction is not None and self.extraction.error is None
                and bool(self.extraction.items))


def check_vendor(vendor: VendorConfig, *, query: str | None = None, saved_page: Path | None = None,
                 http: HttpFetcher | None = None, browser: BrowserFetcher | None = None) -> VendorCheck:
    """Fetch (or read) the first search page of ``query`` (default: the first tracked query) and
    extract it. Blocking; runs its own event loop for the fetch."""
    query = query if query is not None else vendor.queries[0]
    request = first_request(vendor, query)
    if saved_page is not None:
        check = VendorCheck(vendor, query, request.url, source=f"saved page {saved_page}",
                            robots="not checked (saved page)")
        body = saved_page.read_bytes()
        final_url = request.url
    else:
        check = VendorCheck(vendor, query, request.url, source="fetched")
        if vendor.session is not None:
            check.warnings.append("the shop needs a login: the page is fetched without the stored session "
                                  "(save a logged-in page and use --html to check the rules on it)")
        body, final_url = asyncio.run(_fetch(check, http or HttpFetcher(), browser or BrowserFetcher()))
        if check.fetch_error is not None:
            check.warnings.append(f"page not fetched: {check.fetch_error}")
            return check
    check.extraction = extract_page(vendor, body, url=final_url)
    check.pagination = _pagination(vendor, request, check.extraction)
    check.warnings += _warnings(vendor, check.extraction)
    return check


async def _fetch(check: VendorCheck, http: HttpFetcher, browser: BrowserFetcher) -> tuple[bytes, str]:
    vendor = check.vendor
    warnings: list[str] = []
    async with open_vendor_fetch(vendor, http, browser, warn=warnings.append) as opened:
        response = await opened.fetch(check.url)
        check.robots = await _robots_verdict(opened.robots, check.url)
    check.warnings += warnings
    check.status = response.status
    if response.error is not None:
        check.fetch_error = response.error
    elif response.status is not None and response.status >= 400:
        check.fetch_error = f"HTTP {response.status}"
    return response.body, response.final_url or check.url


async def _robots_verdict(robots: RobotsPolicy | None, url: str) -> str:
    if robots is None:
        return "ignored (fetch.obey_robots: false)"
    rules = await robots.rules_for(url)
    if rules.problem is not None:
        return f"nothing may be fetched: {rules.problem}"
    if rules.parser is None:
        return f"allowed (no robots.txt at {robots_url_for(url)})"
    if rules.parser.can_fetch(url, robots.user_agent):
        return f"allowed by {rules.robots_url}"
    return f"disallowed by {rules.robots_url}"


def _pagination(vendor: VendorConfig, request: PageRequest, page: PageExtraction) -> str:
    kind = vendor.pagination.kind
    if kind == "none":
        return "none (one page per query)"
    if page.error is not None:
        return "not known (the page is not a results page)"
    facts = []
    if page.has_next is not None:
        facts.append(f"has_next {str(page.has_next).lower()}")
    if page.total is not None:
        facts.append(f"total {page.total}")
    following = next_request(vendor, request, page)
    said = f" ({', '.join(facts)})" if facts else ""
    if following is not None:
        return f"{kind}: next page {following.url}{said}"
    if kind == "next_link" and page.next_page_url is None:
        return f"next_link: no next link found on this page{said}"
    if kind == "cursor" and page.next_cursor is None:
        return f"cursor: no cursor found on this page{said}"
    return f"{kind}: this is the last page{said}"


def _warnings(vendor: VendorConfig, page: PageExtraction) -> list[str]:
    if page.error is not None:
        return [f"not a results page: {page.error}"]
    warnings = []
    if not page.items and not page.failures:
        warnings.append(f"no listings: items {plan_for(vendor).items.label!r} matched nothing on this page")
    for failure in page.failures:
        what = "unparsed price" if failure.field == "price" else "skipped listing"
        warnings.append(f"{what} #{failure.position} ({failure.external_id or 'no id'}): {failure.reason}")
    items = page.items
    if items:
        for name, rule in vendor.extract.fields.items():
            if name in REQUIRED_FIELDS or rule.type == FieldType.FLAG:
                continue
            empty = sum(1 for item in items if _empty(item, name))
            if empty == len(items):
                warnings.append(f"field {name} is empty on every listing (check its selector)")
            elif empty:
                warnings.append(f"field {name} is empty on {empty} of {len(items)} listings")
        unmapped: dict[str, int] = {}
        for item in items:
            if item.unmapped_condition is not None:
                unmapped[item.unmapped_condition] = unmapped.get(item.unmapped_condition, 0) + 1
        for value, count in sorted(unmapped.items()):
            warnings.append(f"condition {value!r} is not in the vocabulary ({count} listings): add it to the "
                            "condition field's map")
    return warnings


def _empty(item: ExtractedItem, name: str) -> bool:
    if name == "currency":
        return "currency" not in item.raw
    if name == "condition":
        return item.condition is None and item.unmapped_condition is None
    return getattr(item, name) in (None, "", [], {})
