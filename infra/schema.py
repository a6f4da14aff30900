"""Warehouse schema: SQLAlchemy 2 typed models. Alembic (``migrations/``) owns the DDL.

Conventions: money is ``NUMERIC(16, 3)`` with its ISO 4217 currency beside it (three decimals for
the dinars that have them; 13 digits before the point, the price parser's ceiling), times are
``timestamptz``, free-form extras are ``JSONB``, and ``updated_at`` is kept by a database trigger
(``set_updated_at``) so every writer (ORM, bulk SQL, psql) keeps it honest.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Money = Numeric(16, 3)
Currency = String(3)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        dt.datetime: DateTime(timezone=True),
        dt.date: Date,
        dict[str, Any]: JSONB,
        list[Any]: JSONB,
        Decimal: Money,
    }


def created_at_column() -> Mapped[dt.datetime]:
    return mapped_column(server_default=func.now())


def updated_at_column() -> Mapped[dt.datetime]:
    """Filled on insert by its default, on update by the ``set_updated_at`` trigger."""
    return mapped_column(server_default=func.now())


TABLES_WITH_UPDATED_AT: list[str] = []


def _track_updated_at(cls: type[Base]) -> type[Base]:
    TABLES_WITH_UPDATED_AT.append(cls.__tablename__)
    return cls


def _id() -> Mapped[int]:
    return mapped_column(BigInteger, Identity(), primary_key=True)


# --- catalogue -----------------------------------------------------------------------------


@_track_updated_at
class Vendor(Base):
    """A shop or marketplace, synced from ``vendors/*.yaml`` by the ``vendor_catalog`` asset."""

    __tablename__ = "vendors"
    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    base_url: Mapped[str] = mapped_column(Text)
    country: Mapped[str | None] = mapped_column(String(2))
    currency: Mapped[str] = mapped_column(Currency)
    is_active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    config: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    config_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = created_at_column()
    updated_at: Mapped[dt.datetime] = updated_at_column()


@_track_updated_at
class Category(Base):
    """Product category tree (``parent_id`` is NULL at the roots)."""

    __tablename__ = "categories"
    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[dt.datetime] = created_at_column()
    updated_at: Mapped[dt.datetime] = updated_at_column()


@_track_updated_at
class Product(Base):
    """A real-world product, independent of vendor: listings of the same thing share one row."""

    __tablename__ = "products"
    id: Mapped[int] = _id()
    product_key: Mapped[str] = mapped_column(Text, unique=True)
    name: Mapped[str] = mapped_column(Text)
    brand: Mapped[str | None] = mapped_column(String(200))
    product_code: Mapped[str | None] = mapped_column(String(100), index=True)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id", ondelete="SET NULL"),
                                                    index=True)
    attributes: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    created_at: Mapped[dt.datetime] = created_at_column()
    updated_at: Mapped[dt.datetime] = updated_at_column()


# --- listings --------------------------------------------------------------------------------


@_track_updated_at
class Listing(Base):
    """One offer on one vendor, identified by the vendor's own id."""

    __tablename__ = "listings"
    __table_args__ = (
        UniqueConstraint("vendor_id", "external_id"),
        CheckConstraint("price IS NULL OR price >= 0", name="price_not_negative"),
        # A listings write re-derives the listings last seen in the vendor's last few scrapes.
        Index("ix_listings_vendor_id_last_seen_at", "vendor_id", "last_seen_at"),
        # A product's price history reads only its listings last seen inside the window.
        Index("ix_listings_product_id_last_seen_at", "product_id", "last_seen_at"),
        # A partition's summary counts the day's sold and removed listings without reading the others.
        Index("ix_listings_sold_vendor_id_sold_at", "vendor_id", "sold_at",
              postgresql_where=text("sold_at IS NOT NULL")),
        Index("ix_listings_removed_vendor_id_removed_at", "vendor_id", "removed_at",
              postgresql_where=text("removed_at IS NOT NULL")),
        # Removed listings whose missed_scrapes is not the vendor's threshold: derived with another one.
        Index("ix_listings_removed_vendor_id_missed_scrapes", "vendor_id", "missed_scrapes",
              postgresql_where=text("is_removed")),
        # Most reads (alerts, snapshots, "what is on sale now") only want live listings.
        Index("ix_listings_active_vendor_id", "vendor_id", "price",
              postgresql_where=text("NOT is_sold AND NOT is_removed")),
        # The API's ``?q=``: words anywhere in the title (ILIKE '%…%'), answered by trigrams.
        Index("ix_listings_title_trgm", "title", postgresql_using="gin", postgresql_ops={"title": "gin_trgm_ops"}),
        # The API's keyset pages, newest first.
        Index("ix_listings_last_seen_at_id", "last_seen_at", "id"),
    )
    id: Mapped[int] = _id()
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendors.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(200))
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id", ondelete="SET NULL"),
                                                   index=True)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id", ondelete="SET NULL"),
                                                    index=True)
    title: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    price: Mapped[Decimal | None]
    currency: Mapped[str] = mapped_column(Currency)
    price_kind: Mapped[str] = mapped_column(String(16), server_default="priced")
    condition: Mapped[str | None] = mapped_column(String(200))
    location: Mapped[str | None] = mapped_column(String(200))
    url: Mapped[str | None] = mapped_column(Text)
    seller: Mapped[str | None] = mapped_column(String(200))
    product_code: Mapped[str | None] = mapped_column(String(100))
    match_method: Mapped[str | None] = mapped_column(String(16))
    """How ``product_id`` was decided: gtin, mpn, rules, title, manual, or new (founded the product)."""
    match_score: Mapped[float | None] = mapped_column(Float)
    match_signature: Mapped[str | None] = mapped_column(String(32))
    """Digest of the rules and the listing's identity fields when it was matched: a change re-matches it."""
    first_seen_at: Mapped[dt.datetime]
    last_seen_at: Mapped[dt.datetime]
    sold_at: Mapped[dt.datetime | None]
    removed_at: Mapped[dt.datetime | None]
    is_sold: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    is_removed: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    missed_scrapes: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    """Complete scrapes of the vendor since the listing was last seen, counted up to the vendor's
    ``removed_after_missing`` and no further: it saturates when the listing is removed (or, sold,
    reaches it), so a new day changes it only on listings seen in the last few scrapes."""
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", server_default=text("'{}'::jsonb"))
    created_at: Mapped[dt.datetime] = created_at_column()
    updated_at: Mapped[dt.datetime] = updated_at_column()


class ProductDecision(Base):
    """A person's decision about one listing's product (``market-pulse products merge|split``):
    applied before any rule, on every re-match."""

    __tablename__ = "product_decisions"
    __table_args__ = (CheckConstraint("action IN ('merge', 'split')", name="action_known"),)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id", ondelete="CASCADE"), primary_key=True)
    product_key: Mapped[str] = mapped_column(Text, index=True)
    action: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())


class ProductKey(Base):
    """Blocking keys of a product (GTIN, part-number stem, title key, model words): a day's new
    listings are compared only with the products sharing a key with them."""

    __tablename__ = "product_keys"
    key: Mapped[str] = mapped_column(Text, primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), primary_key=True,
                                            index=True)


class ListingAttribute(Base):
    __tablename__ = "listing_attributes"
    __table_args__ = (UniqueConstraint("listing_id", "key"),)
    id: Mapped[int] = _id()
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(200), index=True)
    value: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = created_at_column()


class ListingImage(Base):
    __tablename__ = "listing_images"
    __table_args__ = (UniqueConstraint("listing_id", "position"),)
    id: Mapped[int] = _id()
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(Text)
    position: Mapped[int] = mapped_column(SmallInteger)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = created_at_column()


class ListingSighting(Base):
    """A listing as one day's scrape saw it: the fact every listing field is derived from.

    Listing state (first/last seen, sold, removed, price history) is recomputed from sightings,
    so re-parsing any past partition, in any order, converges on the same state.
    """

    __tablename__ = "listing_sightings"
    __table_args__ = (
        UniqueConstraint("listing_id", "partition_date"),
        Index("ix_listing_sightings_vendor_id_partition_date", "vendor_id", "partition_date"),
        # Daily rollups read one day (or a backfill window) of every vendor at once.
        Index("ix_listing_sightings_partition_date", "partition_date"),
        CheckConstraint("price IS NULL OR price >= 0", name="price_not_negative"),
        {"postgresql_partition_by": "RANGE (partition_date)"},
    )
    id: Mapped[int] = _id()
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id", ondelete="CASCADE"))
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendors.id", ondelete="CASCADE"))
    partition_date: Mapped[dt.date] = mapped_column(primary_key=True)
    seen_at: Mapped[dt.datetime]
    price: Mapped[Decimal | None]
    currency: Mapped[str] = mapped_column(Currency)
    price_kind: Mapped[str] = mapped_column(String(16))
    is_sold: Mapped[bool] = mapped_column(Boolean)
    title: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = created_at_column()


class PriceObservation(Base):
    """A listing's price when it was new or changed (not one row per scrape)."""

    __tablename__ = "price_observations"
    __table_args__ = (
        # observed_date is the UTC day of observed_at: in the key only because the partition key must be.
        UniqueConstraint("listing_id", "observed_at", "observed_date"),
        CheckConstraint("price IS NULL OR price >= 0", name="price_not_negative"),
        Index("ix_price_observations_observed_date", "observed_date"),
        {"postgresql_partition_by": "RANGE (observed_date)"},
    )
    id: Mapped[int] = _id()
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id", ondelete="CASCADE"))
    observed_at: Mapped[dt.datetime]
    observed_date: Mapped[dt.date] = mapped_column(primary_key=True)
    price: Mapped[Decimal | None]
    currency: Mapped[str] = mapped_column(Currency)
    created_at: Mapped[dt.datetime] = created_at_column()


# --- scraping ----------------------------------------------------------------------------------


class Search(Base):
    """One tracked query run against one vendor for one day's partition."""

    __tablename__ = "searches"
    __table_args__ = (
        Index("ix_searches_query_created_at", "query", "created_at"),
        Index("ix_searches_status_created_at", "status", "created_at"),
        Index("ix_searches_vendor_id_partition_date", "vendor_id", "partition_date"),
    )
    id: Mapped[int] = _id()
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendors.id", ondelete="CASCADE"))
    request_id: Mapped[int | None] = mapped_column(ForeignKey("search_requests.id", ondelete="SET NULL"), index=True)
    """Set when an on-demand search ran it: a scheduled scrape of the partition leaves it in place."""
    partition_date: Mapped[dt.date]
    query: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))
    pages: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    items: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    requests: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    bytes: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    browser_seconds: Mapped[float] = mapped_column(Float, server_default=text("0"))
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    cache_hit: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[dt.datetime | None]
    completed_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = created_at_column()


class SearchRequest(Base):
    """One on-demand search (``POST /api/v1/searches`` or ``market-pulse search``): some vendors, now."""

    __tablename__ = "search_requests"
    __table_args__ = (
        Index("ix_search_requests_query_key_created_at", "query_key", "created_at"),
        CheckConstraint("status IN ('running', 'done', 'failed')", name="status_known"),
    )
    id: Mapped[int] = _id()
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id", ondelete="SET NULL"))
    query: Mapped[str] = mapped_column(Text)
    query_key: Mapped[str] = mapped_column(Text)
    """The query as compared for reuse: case folded, whitespace collapsed."""
    vendors: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'::text[]"))
    """The vendors asked for, sorted; empty for every vendor."""
    status: Mapped[str] = mapped_column(String(20))
    pages: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    results: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    error: Mapped[str | None] = mapped_column(Text)
    completed_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = created_at_column()


class SearchRequestEvent(Base):
    """A step of an on-demand search, as its event stream replays it."""

    __tablename__ = "search_request_events"
    __table_args__ = (Index("ix_search_request_events_request_id_id", "request_id", "id"),)
    id: Mapped[int] = _id()
    request_id: Mapped[int] = mapped_column(ForeignKey("search_requests.id", ondelete="CASCADE"))
    vendor: Mapped[str | None] = mapped_column(Text)
    event_type: Mapped[str] = mapped_column(String(20))
    data: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    created_at: Mapped[dt.datetime] = created_at_column()


class SearchResult(Base):
    """Where a listing appeared in a search (position counts across pages, from 1)."""

    __tablename__ = "search_results"
    __table_args__ = (
        UniqueConstraint("search_id", "position", "partition_date"),
        {"postgresql_partition_by": "RANGE (partition_date)"},
    )
    id: Mapped[int] = _id()
    search_id: Mapped[int] = mapped_column(ForeignKey("searches.id", ondelete="CASCADE"))
    partition_date: Mapped[dt.date] = mapped_column(primary_key=True)
    """The search's day (``searches.partition_date``): the month partition the row lives in."""
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    page: Mapped[int | None] = mapped_column(Integer)
    relevance_score: Mapped[Decimal | None] = mapped_column(Numeric(4, 3))
    created_at: Mapped[dt.datetime] = created_at_column()


class SearchEvent(Base):
    """Timeline of a search (page fetched, retry, parse failure...), for debugging vendors."""

    __tablename__ = "search_events"
    __table_args__ = (
        Index("ix_search_events_search_id_created_at", "search_id", "created_at"),
        {"postgresql_partition_by": "RANGE (created_at)"},
    )
    id: Mapped[int] = _id()
    search_id: Mapped[int | None] = mapped_column(ForeignKey("searches.id", ondelete="CASCADE"))
    vendor_id: Mapped[int | None] = mapped_column(ForeignKey("vendors.id", ondelete="CASCADE"), index=True)
    event_type: Mapped[str] = mapped_column(String(50))
    data: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now(), primary_key=True)


class CaptureBody(Base):
    """A compressed response body, stored once per content hash however often it is fetched.

    Old bodies can be moved out of Postgres (``market-pulse prune --offload-bodies-older-than``):
    ``body`` is then NULL and ``archive_url`` names the file (an fsspec URL) holding the same bytes.
    """

    __tablename__ = "capture_bodies"
    __table_args__ = (CheckConstraint("body IS NOT NULL OR archive_url IS NOT NULL", name="body_or_archive"),)
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    encoding: Mapped[str] = mapped_column(String(16))
    size: Mapped[int] = mapped_column(Integer)
    body: Mapped[bytes | None] = mapped_column(LargeBinary)
    archive_url: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = created_at_column()


class RawCapture(Base):
    """One archived response: what was asked, what came back, how long it took."""

    __tablename__ = "raw_captures"
    __table_args__ = (
        Index("ix_raw_captures_vendor_id_partition_date", "vendor_id", "partition_date"),
        {"postgresql_partition_by": "RANGE (partition_date)"},
    )
    id: Mapped[int] = _id()
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendors.id", ondelete="CASCADE"))
    search_id: Mapped[int | None] = mapped_column(ForeignKey("searches.id", ondelete="CASCADE"), index=True)
    partition_date: Mapped[dt.date] = mapped_column(primary_key=True)
    query: Mapped[str | None] = mapped_column(Text)
    page_number: Mapped[int] = mapped_column(Integer)
    url: Mapped[str] = mapped_column(Text)
    final_url: Mapped[str | None] = mapped_column(Text)
    status: Mapped[int | None] = mapped_column(SmallInteger)
    headers: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    content_type: Mapped[str | None] = mapped_column(String(200))
    fetch_mode: Mapped[str] = mapped_column(String(16))
    body_sha256: Mapped[str | None] = mapped_column(ForeignKey("capture_bodies.sha256"), index=True)
    bytes: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    attempts: Mapped[int] = mapped_column(SmallInteger, server_default=text("1"))
    elapsed_ms: Mapped[float | None] = mapped_column(Float)
    browser_seconds: Mapped[float] = mapped_column(Float, server_default=text("0"))
    error: Mapped[str | None] = mapped_column(Text)
    fetched_at: Mapped[dt.datetime]
    created_at: Mapped[dt.datetime] = created_at_column()


class ListingCache(Base):
    """A listing's detail page with its HTTP validators (ETag / Last-Modified) and a TTL.

    Conditional requests revalidate it (304 = reuse the body); the ``prune_listing_cache`` job
    deletes rows past ``expires_at``. Bodies are shared with the archive (``capture_bodies``).
    """

    __tablename__ = "listing_cache"
    __table_args__ = (
        UniqueConstraint("vendor_id", "url"),
        Index("ix_listing_cache_expires_at", "expires_at"),
        Index("ix_listing_cache_vendor_id_external_id", "vendor_id", "external_id"),
    )
    id: Mapped[int] = _id()
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendors.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(Text)
    external_id: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[int] = mapped_column(SmallInteger)
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(String(64))
    content_type: Mapped[str | None] = mapped_column(String(200))
    headers: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    body_sha256: Mapped[str] = mapped_column(ForeignKey("capture_bodies.sha256"), index=True)
    fetched_at: Mapped[dt.datetime]
    validated_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]
    hits: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    created_at: Mapped[dt.datetime] = created_at_column()


# --- rollups -------------------------------------------------------------------------------------


class PriceSnapshot(Base):
    """A product's market on one day, per currency (statistics never mix currencies)."""

    __tablename__ = "price_snapshots"
    __table_args__ = (
        UniqueConstraint("product_id", "snapshot_date", "currency"),
        Index("ix_price_snapshots_snapshot_date", "snapshot_date"),
    )
    id: Mapped[int] = _id()
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    snapshot_date: Mapped[dt.date]
    currency: Mapped[str] = mapped_column(Currency)
    fmv_low: Mapped[Decimal | None]
    fmv_high: Mapped[Decimal | None]
    market_value: Mapped[Decimal | None]
    quick_sale: Mapped[Decimal | None]
    patient_sale: Mapped[Decimal | None]
    sample_size: Mapped[int] = mapped_column(Integer)
    min_price: Mapped[Decimal | None]
    max_price: Mapped[Decimal | None]
    avg_price: Mapped[Decimal | None]
    volume_confidence: Mapped[str | None] = mapped_column(String(20))
    analyses: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    created_at: Mapped[dt.datetime] = created_at_column()


@_track_updated_at
class VendorPerformance(Base):
    """A vendor's day: volume, speed, reliability and cost (1 compute unit = 1 minute of fetching)."""

    __tablename__ = "vendor_performance"
    __table_args__ = (UniqueConstraint("vendor_id", "date"), Index("ix_vendor_performance_date", "date"))
    id: Mapped[int] = _id()
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendors.id", ondelete="CASCADE"))
    date: Mapped[dt.date]
    total_searches: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    total_listings: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    new_listings: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    sold_listings: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    removed_listings: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    avg_duration_ms: Mapped[float | None] = mapped_column(Float)
    p95_duration_ms: Mapped[float | None] = mapped_column(Float)
    success_rate: Mapped[Decimal | None] = mapped_column(Numeric(5, 4))
    error_count: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    cache_hits: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    requests: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    bytes: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    browser_seconds: Mapped[float] = mapped_column(Float, server_default=text("0"))
    compute_units: Mapped[Decimal] = mapped_column(Numeric(12, 4), server_default=text("0"))
    created_at: Mapped[dt.datetime] = created_at_column()
    updated_at: Mapped[dt.datetime] = updated_at_column()


class SearchQueryStats(Base):
    """One tracked query on one day, over all vendors: volume, zero results, cache hits, and its
    popularity over the trailing 7 and 30 days (windows end on ``stats_date``, inclusive)."""

    __tablename__ = "search_query_stats"
    __table_args__ = (UniqueConstraint("stats_date", "query"), Index("ix_search_query_stats_query", "query"))
    id: Mapped[int] = _id()
    stats_date: Mapped[dt.date]
    query: Mapped[str] = mapped_column(Text)
    searches: Mapped[int] = mapped_column(Integer)
    vendors: Mapped[int] = mapped_column(Integer)
    successful_searches: Mapped[int] = mapped_column(Integer)
    zero_result_searches: Mapped[int] = mapped_column(Integer)
    listings_found: Mapped[int] = mapped_column(Integer)
    cache_hits: Mapped[int] = mapped_column(Integer)
    cache_hit_rate: Mapped[Decimal | None] = mapped_column(Numeric(5, 4))
    avg_duration_ms: Mapped[float | None] = mapped_column(Float)
    searches_7d: Mapped[int] = mapped_column(Integer)
    searches_30d: Mapped[int] = mapped_column(Integer)
    zero_result_searches_7d: Mapped[int] = mapped_column(Integer)
    zero_result_searches_30d: Mapped[int] = mapped_column(Integer)
    popularity_rank_7d: Mapped[int] = mapped_column(Integer)
    popularity_rank_30d: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = created_at_column()


class TrackedProductPrice(Base):
    """A product found by the tracked queries on one day, per currency: how visible it was
    (appearances in search results, best position) and what it was offered at; one row per day
    is the product's price history."""

    __tablename__ = "tracked_product_prices"
    __table_args__ = (
        UniqueConstraint("product_id", "stats_date", "currency"),
        Index("ix_tracked_product_prices_stats_date", "stats_date"),
    )
    id: Mapped[int] = _id()
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    stats_date: Mapped[dt.date]
    currency: Mapped[str] = mapped_column(Currency)
    appearances: Mapped[int] = mapped_column(Integer)
    listings: Mapped[int] = mapped_column(Integer)
    vendors: Mapped[int] = mapped_column(Integer)
    best_position: Mapped[int | None] = mapped_column(Integer)
    queries: Mapped[list[Any]] = mapped_column(server_default=text("'[]'::jsonb"))
    priced_listings: Mapped[int] = mapped_column(Integer)
    min_price: Mapped[Decimal | None]
    median_price: Mapped[Decimal | None]
    created_at: Mapped[dt.datetime] = created_at_column()


# --- users and alerts ------------------------------------------------------------------------------


USER_ROLES = ("viewer", "operator", "admin")
"""viewer: read-only UI; operator: also launches runs and backfills, toggles schedules; admin: also
users and keys. Ordered: each role can do what the ones before it can."""


@_track_updated_at
class User(Base):
    """A person: owner of saved searches and, with a password, someone who can log in (argon2id hash)."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint("role IN ('viewer', 'operator', 'admin')", name="role"),)
    id: Mapped[int] = _id()
    username: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(String(255), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), server_default="viewer")
    display_name: Mapped[str | None] = mapped_column(String(200))
    is_active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    last_login: Mapped[dt.datetime | None]
    must_change_password: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    """Set for a one-time password: the front door lets the user do nothing else until it is changed."""
    password_changed_at: Mapped[dt.datetime | None]
    failed_logins: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    locked_until: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = created_at_column()
    updated_at: Mapped[dt.datetime] = updated_at_column()


class WebSession(Base):
    """A logged-in browser: the cookie holds a random token, the table only its SHA-256."""

    __tablename__ = "web_sessions"
    id: Mapped[int] = _id()
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = created_at_column()
    last_seen_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    expires_at: Mapped[dt.datetime] = mapped_column(index=True)


class ApiKey(Base):
    """Programmatic access; only a hash of the key is stored, plus a prefix to recognise it."""

    __tablename__ = "api_keys"
    __table_args__ = (Index("ix_api_keys_user_id_active", "user_id", postgresql_where=text("is_active")),)
    id: Mapped[int] = _id()
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    key_prefix: Mapped[str] = mapped_column(String(16), unique=True, index=True)
    key_hash: Mapped[str] = mapped_column(String(128), unique=True)
    scopes: Mapped[list[Any]] = mapped_column(server_default=text("'[]'::jsonb"))
    is_active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    last_used_at: Mapped[dt.datetime | None]
    expires_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = created_at_column()


class ApiKeyUsage(Base):
    """What one API key did on one day (UTC): requests, on-demand searches started, pages fetched
    for them, and compute units (1 CU = one minute of server time, as for the vendors)."""

    __tablename__ = "api_key_usage"
    __table_args__ = (UniqueConstraint("api_key_id", "usage_date"), Index("ix_api_key_usage_usage_date", "usage_date"))
    id: Mapped[int] = _id()
    api_key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"))
    usage_date: Mapped[dt.date]
    requests: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    searches: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    pages: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    compute_units: Mapped[Decimal] = mapped_column(Numeric(12, 4), server_default=text("0"))
    created_at: Mapped[dt.datetime] = created_at_column()


class ApiUsageDaily(Base):
    """The ``api_usage`` rollup: a user's API use on one day, over all of their keys."""

    __tablename__ = "api_usage_daily"
    __table_args__ = (UniqueConstraint("usage_date", "user_id"),)
    id: Mapped[int] = _id()
    usage_date: Mapped[dt.date]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    keys: Mapped[int] = mapped_column(Integer)
    requests: Mapped[int] = mapped_column(Integer)
    searches: Mapped[int] = mapped_column(Integer)
    pages: Mapped[int] = mapped_column(Integer)
    compute_units: Mapped[Decimal] = mapped_column(Numeric(12, 4))
    created_at: Mapped[dt.datetime] = created_at_column()


@_track_updated_at
class SavedSearch(Base):
    """A user's standing query: criteria and rule in JSONB, where and how to notify (targets encrypted,
    see ``pipelines.alerts.vault``)."""

    __tablename__ = "saved_searches"
    __table_args__ = (
        UniqueConstraint("user_id", "name"),
        Index("ix_saved_searches_active", "id", postgresql_where=text("is_active")),
    )
    id: Mapped[int] = _id()
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    query: Mapped[str] = mapped_column(Text)
    criteria: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    notification_settings: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    is_active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    last_checked_at: Mapped[dt.datetime | None]
    last_matched_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = created_at_column()
    updated_at: Mapped[dt.datetime] = updated_at_column()


class AlertMatch(Base):
    __tablename__ = "alert_matches"
    __table_args__ = (UniqueConstraint("saved_search_id", "listing_id"),)
    id: Mapped[int] = _id()
    saved_search_id: Mapped[int] = mapped_column(ForeignKey("saved_searches.id", ondelete="CASCADE"))
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    rule: Mapped[str] = mapped_column(String(20))
    price_at_match: Mapped[Decimal | None]
    last_notified_price: Mapped[Decimal | None]
    matched_at: Mapped[dt.datetime] = created_at_column()
    notified_at: Mapped[dt.datetime | None]
    is_read: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    is_saved: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    data: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))


@_track_updated_at
class Notification(Base):
    """Outbox: one message to one target; the delivery job moves it to sent or failed."""

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_due", "next_attempt_at", postgresql_where=text("status = 'pending'")),
        Index("ix_notifications_status_created_at", "status", "created_at"),
    )
    id: Mapped[int] = _id()
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    saved_search_id: Mapped[int | None] = mapped_column(
        ForeignKey("saved_searches.id", ondelete="CASCADE"), index=True)
    alert_match_id: Mapped[int | None] = mapped_column(ForeignKey("alert_matches.id", ondelete="CASCADE"))
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    target: Mapped[str] = mapped_column(Text)
    """Encrypted (a Fernet token of the Apprise URL as written): opened only to send."""
    target_label: Mapped[str] = mapped_column(Text, server_default=text("''"))
    """The target masked, for listings and logs."""
    title: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    status: Mapped[str] = mapped_column(String(20), server_default="pending")
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    sent_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = created_at_column()
    updated_at: Mapped[dt.datetime] = updated_at_column()


@_track_updated_at
class VendorSession(Base):
    """A logged-in session imported for a vendor; cookies are encrypted at rest (Fernet)."""

    __tablename__ = "vendor_sessions"
    __table_args__ = (Index("ix_vendor_sessions_valid", "vendor_id", postgresql_where=text("is_valid")),)
    id: Mapped[int] = _id()
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendors.id", ondelete="CASCADE"))
    label: Mapped[str | None] = mapped_column(String(100))
    source: Mapped[str | None] = mapped_column(String(50))
    cookies_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    cookie_count: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    uploaded_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    expires_at: Mapped[dt.datetime | None]
    is_valid: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    invalid_reason: Mapped[str | None] = mapped_column(Text)
    last_used_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = created_at_column()
    updated_at: Mapped[dt.datetime] = updated_at_column()
