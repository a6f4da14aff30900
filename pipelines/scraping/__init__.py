"""Scraping: vendor files, price parsing, page extraction and request planning.

Everything exported here is pure domain logic (no Dagster, SQL or HTTP), so it can be unit-tested
and re-run over archived pages; the Dagster assets and the archive live in sibling modules.
"""

from pipelines.scraping.extract import ExtractedItem, ItemFailure, PageExtraction, extract_page
from pipelines.scraping.prices import ParsedPrice, PriceKind, PriceParseError, parse_price
from pipelines.scraping.search_requests import PageRequest, build_search_url, first_request, next_request
from pipelines.scraping.vendor_config import (
    AsOfNotSupportedError,
    VendorConfig,
    VendorConfigError,
    ensure_asof_supported,
    load_vendor_file,
    load_vendors,
)

__all__ = [
    "AsOfNotSupportedError",
    "ExtractedItem",
    "ItemFailure",
    "PageExtraction",
    "PageRequest",
    "ParsedPrice",
    "PriceKind",
    "PriceParseError",
    "VendorConfig",
    "VendorConfigError",
    "build_search_url",
    "ensure_asof_supported",
    "extract_page",
    "first_request",
    "load_vendor_file",
    "load_vendors",
    "next_request",
    "parse_price",
]
