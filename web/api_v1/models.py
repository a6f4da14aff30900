"""What the HTTP API answers, as pydantic models: they are the OpenAPI schema, and every response
is validated against them before it is sent. Money is a decimal string (``"12.50"``): never a float."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

Money = Decimal


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ProblemOut(BaseModel):
    """RFC 9457 Problem Details."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    errors: list[dict[str, Any]] | None = Field(default=None, description="422: one entry per bad field")


def problem(description: str) -> dict[str, Any]:
    """An OpenAPI ``responses`` entry for a Problem Details answer."""
    return {"model": ProblemOut, "description": description,
            "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/ProblemOut"}}}}


class Health(BaseModel):
    status: str


class Vendor(_Out):
    id: int
    name: str
    display_name: str
    base_url: str
    country: str | None
    currency: str
    is_active: bool
    active_listings: int
    last_seen_at: dt.datetime | None


class ProductSummary(_Out):
    id: int
    name: str
    brand: str | None
    product_code: str | None
    listings: int


class ProductPage(BaseModel):
    items: list[ProductSummary]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page; null on the last page.")


class Product(_Out):
    id: int
    name: str
    brand: str | None
    product_code: str | None
    attributes: dict[str, Any]
    created_at: dt.datetime
    listings: int
    active_listings: int


class Snapshot(_Out):
    """A product's market on one day in one currency (the price_snapshots rollup)."""

    snapshot_date: dt.date
    currency: str
    market_value: Money | None
    fmv_low: Money | None
    fmv_high: Money | None
    quick_sale: Money | None
    patient_sale: Money | None
    sample_size: int
    min_price: Money | None
    max_price: Money | None
    avg_price: Money | None
    volume_confidence: str | None


class Observation(_Out):
    """A price when it was new or changed."""

    observed_at: dt.datetime
    price: Money | None
    currency: str


class ProductObservation(Observation):
    listing_id: int


class PriceHistory(BaseModel):
    product_id: int
    days: int
    snapshots: list[Snapshot]
    observations: list[ProductObservation] | None = Field(
        default=None, description="With ?observations=true: the listings' price changes (at most 5000).")


class ListingSummary(_Out):
    id: int
    vendor: str
    product_id: int | None
    title: str
    price: Money | None
    currency: str
    price_kind: str
    condition: str | None
    url: str | None
    first_seen_at: dt.datetime
    last_seen_at: dt.datetime
    is_sold: bool
    is_removed: bool


class ListingPage(BaseModel):
    items: list[ListingSummary]
    next_cursor: str | None = Field(description="Pass as ?cursor= (with the same filters and sort) for the "
                                    "next page; null on the last page.")


class Listing(_Out):
    id: int
    vendor: str
    external_id: str
    product_id: int | None
    title: str
    price: Money | None
    currency: str
    price_kind: str
    condition: str | None
    location: str | None
    url: str | None
    seller: str | None
    first_seen_at: dt.datetime
    last_seen_at: dt.datetime
    sold_at: dt.datetime | None
    removed_at: dt.datetime | None
    is_sold: bool
    is_removed: bool
    price_history: list[Observation]


class CompsBand(_Out):
    """The fair-market-value band of the comps in one currency (outliers trimmed, Tukey 1.5 IQR)."""

    currency: str
    sample_size: int
    active: int
    sold: int
    kept: int
    min_price: Money
    max_price: Money
    fmv_low: Money
    fmv_high: Money
    market_value: Money
    quick_sale: Money
    patient_sale: Money


class Comps(BaseModel):
    query: str
    days: int
    as_of: dt.datetime | None = Field(description="When the most recently seen comp was last seen.")
    bands: list[CompsBand]
    listings: list[ListingSummary]


class PopularSearch(_Out):
    query: str
    searches: int
    zero_result_searches: int
    listings_found: int
    cache_hits: int
    vendors: int
    last_searched: dt.date


class VendorDay(_Out):
    vendor: str
    date: dt.date
    total_searches: int
    total_listings: int
    new_listings: int
    sold_listings: int
    removed_listings: int
    avg_duration_ms: float | None
    p95_duration_ms: float | None
    success_rate: Decimal | None
    error_count: int
    cache_hits: int
    requests: int
    bytes: int
    compute_units: Decimal


class Target(BaseModel):
    id: str
    label: str = Field(description="The target masked: the URL itself is stored encrypted and never shown.")


class SavedSearch(BaseModel):
    id: int
    name: str
    query: str
    criteria: dict[str, Any]
    targets: list[Target]
    digest: bool
    is_active: bool
    last_checked_at: dt.datetime | None
    last_matched_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime


class Notification(_Out):
    id: int
    saved_search_id: int | None
    title: str
    body: str
    status: str
    attempts: int
    target_label: str
    created_at: dt.datetime
    sent_at: dt.datetime | None


class NotificationPage(BaseModel):
    items: list[Notification]
    next_cursor: str | None
