"""The listings audits as pure functions: which facts fail which audit, and what the line says.

The same audits run through the real pipeline in ``test_write_audit_publish.py``; these cases
pin the thresholds and the edges the demo does not reach (a search cut short by fetch errors, too
little history to compare, a page marker that vanished, small samples).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

from infra.settings import PROJECT_ROOT
from pipelines.listings import audits
from pipelines.listings.audits import FieldCounts, QueryHistory, RecentFacts, StagedFacts, audit_partition
from pipelines.listings.parse import ParsedPartition, SearchParse
from pipelines.vendors.config.loading import load_vendor_file

TOKO = load_vendor_file(PROJECT_ROOT / "vendors" / "toko.yaml")
SINCE = dt.date(2026, 9, 3)
FIELDS = ("url", "condition", "location", "seller", "product_code", "images", "attributes")


def counts(listings: int, **filled: int) -> FieldCounts:
    return FieldCounts(listings, {name: filled.get(name, listings) for name in FIELDS})


def judge(searches: list[SearchParse], *, staged: FieldCounts | None = None, recent_listings: int = 200,
          medians: dict[str, float] | None = None, days: int = 7, **recent_filled: int) -> dict[str, audits.Verdict]:
    nodes = sum(s.nodes for s in searches)
    staged = staged or counts(sum(s.listings for s in searches))
    parsed = ParsedPartition(items_seen=nodes, pages_parsed=sum(s.pages for s in searches),
                             searches={s.search_id: s for s in searches},
                             item_failures=[{"field": f, "reason": f"{f}: missing"} for s in searches
                                            for f, n in s.failures.items() for _ in range(n)])
    recent = RecentFacts(SINCE, counts(recent_listings, **recent_filled),
                         {q: QueryHistory(days, m) for q, m in (medians or {}).items()})
    facts = StagedFacts(items=staged, by_search={s.search_id: staged for s in searches}, priced=staged.listings,
                        currencies={"IDR": staged.listings})
    return {v.check: v for v in audit_partition(TOKO, parsed, facts, recent)}


def search(search_id: int, query: str, nodes: int, pages: int = 3, **kw: object) -> SearchParse:
    return SearchParse(search_id, query, pages=pages, nodes=nodes, listings=nodes, **kw)  # type: ignore[arg-type]


def test_far_fewer_listings_than_the_searches_medians_is_a_changed_layout() -> None:
    medians = {"iphone": 60, "playstation": 40}
    fine = judge([search(1, "iphone", 55), search(2, "playstation", 38)], medians=medians)
    assert all(v.passed for v in fine.values())
    dropped = judge([search(1, "iphone", 6), search(2, "playstation", 5)], medians=medians)[audits.LAYOUT]
    assert not dropped.passed and dropped.blocking
    assert dropped.message == ("layout changed: listing selector css 'ul.results > li.listing' (extract.items) "
                               "matched 11 listings, 11% of the trailing 7-day median (100; searches 'iphone' 6 "
                               "(median 60), 'playstation' 5 (median 40))")  # the steepest drop first
    # just above a fifth of the median is a bad day, not a new layout
    assert judge([search(1, "iphone", 13), search(2, "playstation", 8)], medians=medians)[audits.LAYOUT].passed


def test_searches_cut_short_or_without_enough_history_are_not_compared() -> None:
    medians = {"iphone": 60, "playstation": 40}
    cut_short = [search(1, "iphone", 6, pages_failed=2), search(2, "playstation", 5, pages_failed=1)]
    assert judge(cut_short, medians=medians)[audits.LAYOUT].passed  # fetch errors: raw_captures' story
    assert judge([search(1, "iphone", 6), search(2, "playstation", 5)], medians=medians,
                 days=audits.MIN_RECENT_DAYS - 1)[audits.LAYOUT].passed
    assert judge([search(1, "iphone", 1)], medians={"iphone": 8})[audits.LAYOUT].passed  # too few to tell


def test_matching_nothing_names_the_selector_or_the_missing_page_marker() -> None:
    nothing = judge([search(1, "iphone", 0), search(2, "samsung galaxy", 0)], staged=counts(0))[audits.LAYOUT]
    assert not nothing.passed
    assert nothing.message == ("layout changed: listing selector css 'ul.results > li.listing' (extract.items) "
                               "matched nothing on the 6 pages of searches 'iphone', 'samsung galaxy'")
    no_marker = judge([search(1, "iphone", 0, page_errors=3)], staged=counts(0))[audits.LAYOUT]
    assert no_marker.message == ("layout changed: page marker css 'ul.results' (extract.page_marker) not found on "
                                 "any of the 3 pages of search 'iphone'")
    unfetched = judge([SearchParse(1, "iphone", pages_failed=2)], staged=counts(0))[audits.LAYOUT]
    assert unfetched.passed  # nothing fetched fine: nothing to judge (raw_captures failed the searches)


def test_a_field_gone_missing_blocks_when_required_and_warns_when_optional() -> None:
    located = judge([search(1, "iphone", 50)], staged=counts(50, location=0))
    assert located[audits.FIELDS].passed
    warning = located[audits.OPTIONAL]
    assert not warning.passed and not warning.blocking and warning.metadata["missing"] == ["location"]
    assert warning.message == ("field location went missing: css 'span.location' (extract.fields.location) found on "
                               "0% of 50 listings (recent listings 100%) in search 'iphone'")
    no_urls = judge([search(1, "iphone", 50)], staged=counts(50, url=4))[audits.FIELDS]
    assert not no_urls.passed and no_urls.blocking and "field url went missing" in no_urls.message
    priceless = judge([search(1, "iphone", 50, failures=Counter(price=50))], staged=counts(0))
    assert not priceless[audits.FIELDS].passed and "field price went missing" in priceless[audits.FIELDS].message
    assert not priceless[audits.PARSE_FAILURES].passed


def test_fields_are_judged_only_against_a_history_that_had_them() -> None:
    # seller was on only half of recent listings: its absence today is not news
    assert judge([search(1, "iphone", 50)], staged=counts(50, seller=0), seller=100)[audits.OPTIONAL].passed
    # no recent listings (a new vendor): nothing to compare with
    assert judge([search(1, "iphone", 50)], staged=counts(50, url=0), recent_listings=0)[audits.FIELDS].passed
    # too few listings today to say
    assert judge([search(1, "iphone", 5)], staged=counts(5, url=0))[audits.FIELDS].passed


def test_the_failure_line_joins_what_stopped_the_partition() -> None:
    verdicts = judge([search(1, "iphone", 0)], staged=counts(0)).values()
    line = audits.failure_line("toko", dt.date(2026, 9, 10), verdicts)
    assert line.startswith("toko 2026-09-10 not published, nothing changed: layout changed: ") and "\n" not in line
