"""The audits a staged listings partition must pass before it is published (pure: facts in, verdicts out).

A shop changes its page and yesterday's selectors quietly stop matching: the pages still fetch
fine, but the listing selector finds nothing (or a handful), or the price cell is gone. Publishing
that would replace a good day with an empty or broken one, so the listings step stages the
partition, runs these audits against the staged rows and the vendor's recent days, and publishes
only when every blocking audit passes (changedetection.io's "filter not found", applied to data).

- **layout unchanged** (blocking): on the pages that fetched fine the listing selector matched
  something, and not far fewer listings than the same searches' trailing median;
- **fields present** (blocking): a field that must be there (external id, title, price, and the
  listing URL when the vendor file reads one) filled on most recent listings is not suddenly
  missing from nearly all of today's;
- **optional fields present** (warning): the same for the fields a listing may lack (condition,
  location, seller, images, attributes, product code): published, but reported;
- **prices valid**, **currencies known**, **parse failures low** (blocking): as before, on the
  staged rows instead of the published ones.

Each verdict carries one line that names the search, the selector and the field at fault; the
step's failure message is those lines joined (see :func:`failure_line`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pipelines.listings.parse import ParsedPartition, SearchParse
from pipelines.parsing.standards import ISO_4217_CURRENCIES
from pipelines.vendors.config.selectors import Selector
from pipelines.vendors.config.vendor import VendorConfig

RECENT_DAYS = 7
"""The vendor's recent days: the trailing window the partition is compared with."""

MIN_SHARE_OF_RECENT = 0.20
"""Fewer listings than this share of the searches' trailing median means the layout changed."""

MIN_RECENT_DAYS = 3
"""Published days a search needs in the window before its median is trusted."""

MIN_EXPECTED_LISTINGS = 10
"""Below this many expected listings (sum of the medians) the drop rule is not applied: too few to tell."""

USUALLY_FILLED = 0.90
NOW_MISSING = 0.10
"""A field filled on at least ``USUALLY_FILLED`` of recent listings and on at most ``NOW_MISSING``
of today's went missing."""

MIN_LISTINGS_FOR_FIELDS = 10
"""Fill rates of fewer listings than this (today or recently) are not judged."""

MAX_PARSE_FAILURE_RATE = 0.05
"""Largest share of listing elements on parsed pages that may fail to parse (per vendor and day)."""

REQUIRED_FIELDS = ("external_id", "title", "price")
"""Fields without which an element is skipped (a parse failure): their fill rate counts elements."""
BLOCKING_FIELDS = (*REQUIRED_FIELDS, "url")
OPTIONAL_FIELDS = ("condition", "location", "seller", "images", "attributes", "product_code")
MAY_BE_EMPTY = ("url", *OPTIONAL_FIELDS)
"""Fields a staged listing may lack; the store counts how often each is filled."""

LAYOUT = "listings_layout_unchanged"
FIELDS = "listings_fields_present"
OPTIONAL = "listings_optional_fields_present"
PRICES = "listings_prices_valid"
CURRENCIES = "listings_currencies_known"
PARSE_FAILURES = "listings_parse_failures_low"


@dataclass(frozen=True)
class FieldCounts:
    """How many listings, and on how many of them each field that may be empty was found."""

    listings: int
    filled: Mapping[str, int] = field(default_factory=dict)

    def share(self, name: str) -> float | None:
        return self.filled.get(name, 0) / self.listings if self.listings else None


@dataclass(frozen=True)
class StagedFacts:
    """The staged rows, as read back from the staging tables."""

    items: FieldCounts
    by_search: Mapping[int, FieldCounts]
    priced: int = 0
    priced_without_price: int = 0
    negative: int = 0
    examples: Sequence[str] = ()
    currencies: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class QueryHistory:
    days: int
    median: float


@dataclass(frozen=True)
class RecentFacts:
    """The vendor's published recent days: listings per query, and how filled their fields are."""

    since: dt.date
    listings: FieldCounts
    queries: Mapping[str, QueryHistory] = field(default_factory=dict)

    def field_share(self, name: str) -> float | None:
        """Share of recent listings with the field; the required ones are always there (an element
        without them is never published), provided there are enough recent listings to judge."""
        if self.listings.listings < MIN_LISTINGS_FOR_FIELDS:
            return None
        if name in REQUIRED_FIELDS:
            return 1.0
        return self.listings.share(name)


@dataclass(frozen=True)
class Verdict:
    """One audit's outcome. ``message`` is one line; a failed ``blocking`` verdict stops the publish."""

    check: str
    passed: bool
    blocking: bool
    message: str
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def stops_publishing(self) -> bool:
        return self.blocking and not self.passed


def audit_partition(vendor: VendorConfig, parsed: ParsedPartition, staged: StagedFacts,
                    recent: RecentFacts) -> list[Verdict]:
    """Every audit of the staged partition, in the order their messages are shown."""
    fields_blocking, fields_optional = _fields(vendor, parsed, staged, recent)
    return [
        _layout(vendor, parsed, recent),
        fields_blocking,
        fields_optional,
        _prices(staged),
        _currencies(staged),
        _parse_failures(vendor, parsed),
    ]


def failure_line(vendor: str, day: dt.date, verdicts: Iterable[Verdict]) -> str:
    """The one line a blocked partition fails with: what stopped it, most specific first."""
    problems = [v.message for v in verdicts if v.stops_publishing]
    return f"{vendor} {day} not published, nothing changed: " + "; ".join(problems)


def warning_lines(verdicts: Iterable[Verdict]) -> list[str]:
    """The failed non-blocking verdicts' lines (published, but reported)."""
    return [v.message for v in verdicts if not v.passed and not v.blocking]


# -- naming things --------------------------------------------------------------------------


def describe_selector(selector: Selector | None) -> str:
    """``css 'span.price'``; for key/value rules ``key css 'dt', value css 'dd'``."""
    if selector is None:
        return "(no selector)"
    if selector.has_expression:
        return f"{selector.kind} {selector.query!r}"
    parts = [f"{part} {describe_selector(getattr(selector, part, None))}" for part in ("key", "value")
             if getattr(selector, part, None) is not None]
    return ", ".join(parts) or "(no selector)"


def field_selector(vendor: VendorConfig, name: str) -> str:
    """How the vendor file reads field ``name``, with its path: ``css 'td.amount' (extract.fields.price)``."""
    return f"{describe_selector(getattr(vendor.extract.fields, name))} (extract.fields.{name})"


def quoted(queries: Iterable[str], limit: int = 3) -> str:
    """``'a', 'b', 'c' and 2 more`` (search queries, in order)."""
    names = list(dict.fromkeys(queries))
    shown = ", ".join(f"'{q}'" for q in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _searches_phrase(searches: Sequence[SearchParse]) -> str:
    return f"search{'es' if len(searches) != 1 else ''} {quoted(s.query for s in searches)}"


# -- the audits -----------------------------------------------------------------------------


def _fetched(parsed: ParsedPartition) -> list[SearchParse]:
    return [s for s in parsed.searches.values() if s.pages]


def _layout(vendor: VendorConfig, parsed: ParsedPartition, recent: RecentFacts) -> Verdict:
    items = f"listing selector {describe_selector(vendor.extract.items)} (extract.items)"
    fetched = _fetched(parsed)
    pages = sum(s.pages for s in fetched)
    nodes = sum(s.nodes for s in fetched)
    metadata: dict[str, Any] = {"pages_fetched_fine": pages, "listing_elements": nodes,
                                "recent_since": recent.since.isoformat()}
    if not fetched:  # nothing fetched fine: raw_captures reported why; there is no layout to judge
        return Verdict(LAYOUT, True, True, "no page fetched fine: nothing to judge", metadata)
    if nodes == 0:
        errors = sum(s.page_errors for s in fetched)
        marker = vendor.extract.page_marker
        if errors == pages and marker is not None:
            what = (f"page marker {describe_selector(marker)} (extract.page_marker) not found on any of the "
                    f"{pages} pages")
        elif errors == pages:
            first = parsed.page_errors[0]["error"] if parsed.page_errors else "not a results page"
            what = f"none of the {pages} pages was a results page ({first})"
        else:
            what = f"{items} matched nothing on the {pages} pages"
        return Verdict(LAYOUT, False, True, f"layout changed: {what} of {_searches_phrase(fetched)}", metadata)

    # Only whole searches are compared: one that lost pages to fetch errors or non-results pages
    # (reported by raw_captures and the parse report) was cut short, not re-laid out.
    comparable = [s for s in fetched if not s.page_errors and not s.pages_failed and s.query in recent.queries
                  and recent.queries[s.query].days >= MIN_RECENT_DAYS]
    expected = sum(recent.queries[s.query].median for s in comparable)
    found = sum(s.nodes for s in comparable)
    metadata.update(compared_searches=len(comparable), compared_listings=found,
                    recent_median_listings=expected)
    if expected >= MIN_EXPECTED_LISTINGS and found < MIN_SHARE_OF_RECENT * expected:
        dropped = sorted(comparable, key=lambda s: s.nodes / max(recent.queries[s.query].median, 1))
        detail = ", ".join(f"'{s.query}' {s.nodes} (median {recent.queries[s.query].median:g})"
                           for s in dropped[:3])
        return Verdict(LAYOUT, False, True,
                       f"layout changed: {items} matched {found} listings, {found / expected:.0%} of the "
                       f"trailing {RECENT_DAYS}-day median ({expected:g}; searches {detail})", metadata)
    return Verdict(LAYOUT, True, True, f"{items} matched {nodes} listings on {pages} pages", metadata)


def _today_share(name: str, parsed: ParsedPartition, staged: StagedFacts,
                 searches: Sequence[SearchParse]) -> tuple[float | None, int, list[SearchParse]]:
    """(share of today's listings with the field, how many were judged, the searches where it is missing)."""
    if name in REQUIRED_FIELDS:
        judged = [s for s in searches if s.nodes]
        total = sum(s.nodes for s in judged)
        missing = sum(s.failures.get(name, 0) for s in judged)
        worst = [s for s in judged if s.failures.get(name, 0) >= (1 - NOW_MISSING) * s.nodes]
        return ((total - missing) / total if total else None), total, worst
    counts = staged.by_search
    worst = [s for s in searches if s.search_id in counts and counts[s.search_id].listings
             and (counts[s.search_id].share(name) or 0.0) <= NOW_MISSING]
    return staged.items.share(name), staged.items.listings, worst


def _fields(vendor: VendorConfig, parsed: ParsedPartition, staged: StagedFacts,
            recent: RecentFacts) -> tuple[Verdict, Verdict]:
    configured = {name for name, _ in vendor.extract.fields.items()}
    searches = _fetched(parsed)
    shares: dict[str, Any] = {}
    gone: dict[str, str] = {}
    for name in (*BLOCKING_FIELDS, *OPTIONAL_FIELDS):
        if name not in configured:
            continue
        today, judged, where = _today_share(name, parsed, staged, searches)
        before = recent.field_share(name)
        shares[name] = {"today": None if today is None else round(today, 3),
                        "recent": None if before is None else round(before, 3)}
        if (today is None or before is None or judged < MIN_LISTINGS_FOR_FIELDS
                or before < USUALLY_FILLED or today > NOW_MISSING):
            continue
        counted = "listing elements" if name in REQUIRED_FIELDS else "listings"
        gone[name] = (f"field {name} went missing: {field_selector(vendor, name)} found on {today:.0%} of "
                      f"{judged} {counted} (recent listings {before:.0%})"
                      + (f" in {_searches_phrase(where)}" if where else ""))
    blocking = [gone[n] for n in BLOCKING_FIELDS if n in gone]
    optional = [gone[n] for n in OPTIONAL_FIELDS if n in gone]
    metadata = {"fill_rates": shares, "recent_listings": recent.listings.listings}
    return (
        Verdict(FIELDS, not blocking, True, "; ".join(blocking) or "external id, title, price and URL found as usual",
                {**metadata, "missing": [n for n in BLOCKING_FIELDS if n in gone]}),
        Verdict(OPTIONAL, not optional, False, "; ".join(optional) or "optional fields found as usual",
                {**metadata, "missing": [n for n in OPTIONAL_FIELDS if n in gone]}),
    )


def _prices(staged: StagedFacts) -> Verdict:
    bad = staged.priced_without_price + staged.negative
    metadata = {"listings": staged.items.listings, "priced": staged.priced,
                "priced_without_price": staged.priced_without_price, "negative_prices": staged.negative,
                "examples": ", ".join(staged.examples) or "none"}
    if bad:
        return Verdict(PRICES, False, True, f"{bad} listings with a missing or negative price "
                       f"(e.g. {', '.join(staged.examples[:3])})", metadata)
    return Verdict(PRICES, True, True, f"{staged.priced} priced listings, every price present and positive",
                   metadata)


def _currencies(staged: StagedFacts) -> Verdict:
    unknown = sorted(c for c in staged.currencies if c not in ISO_4217_CURRENCIES)
    metadata = {"currencies": dict(staged.currencies), "unknown": ", ".join(unknown) or "none"}
    if unknown:
        return Verdict(CURRENCIES, False, True, f"unknown currencies {', '.join(unknown)} "
                       "(fields.currency or the price text)", metadata)
    return Verdict(CURRENCIES, True, True, f"currencies {', '.join(sorted(staged.currencies)) or 'none'}", metadata)


def _parse_failures(vendor: VendorConfig, parsed: ParsedPartition) -> Verdict:
    seen = parsed.items_seen
    failed = len(parsed.item_failures)
    rate = failed / seen if seen else 0.0
    metadata = {"items_seen": seen, "parse_failures": failed, "parse_failure_rate": round(rate, 4),
                "threshold": MAX_PARSE_FAILURE_RATE, "page_errors": len(parsed.page_errors)}
    if rate <= MAX_PARSE_FAILURE_RATE:
        return Verdict(PARSE_FAILURES, True, True, f"{failed} of {seen} listing elements unparseable ({rate:.1%})",
                       metadata)
    by_field: dict[str, list[SearchParse]] = {}
    for search in _fetched(parsed):
        for name in search.failures:
            by_field.setdefault(name, []).append(search)
    worst = max(by_field, key=lambda n: sum(s.failures[n] for s in by_field[n]))
    reason = next(str(f["reason"]) for f in parsed.item_failures if f["field"] == worst)
    culprit = field_selector(vendor, worst) if getattr(vendor.extract.fields, worst, None) else worst
    return Verdict(PARSE_FAILURES, False, True,
                   f"{failed} of {seen} listing elements unparseable ({rate:.0%}, threshold "
                   f"{MAX_PARSE_FAILURE_RATE:.0%}), mostly {worst} ('{reason}') from {culprit} in "
                   f"{_searches_phrase(by_field[worst])}", metadata)
