"""Listings (filtered, keyset pages), one listing with its price history, and comps."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy import Connection
from starlette.responses import Response

from web.api import Problem
from web.api_v1 import cursors, models, store
from web.api_v1.deps import Reader, Reading
from web.api_v1.params import (
    Currency,
    Cursor,
    ListingId,
    Price,
    RequiredWords,
    VendorName,
    Words,
    days_param,
    page_size,
)

router = APIRouter(tags=["listings"])

Sort = Literal["newest", "price_asc", "price_desc"]


class ListingsQuery(BaseModel):
    """``GET /listings``'s query (one definition for the route and :mod:`web.api_v1.fast_reads`)."""

    q: Words = None
    vendor: VendorName = None
    min_price: Price = None
    max_price: Price = None
    currency: Currency = None
    condition: Annotated[str | None, Query(max_length=50, pattern=r"^[^\x00]*$")] = None
    sold: Annotated[bool | None, Query(description="true: sold only; false: not sold.")] = None
    sort: Annotated[Sort, Query(description="newest (last seen first), price_asc or price_desc (priced only).")] \
        = "newest"
    cursor: Cursor = None
    limit: Annotated[int, page_size()] = 50


def listings_read(p: ListingsQuery) -> Callable[[Connection], models.ListingPage]:
    """The read of one page of listings. A bad cursor or ``min_price`` above ``max_price`` is a 422
    raised here, before any query."""
    if p.min_price is not None and p.max_price is not None and p.min_price > p.max_price:
        raise Problem(422, "Unprocessable Content", f"min_price: {p.min_price} is more than max_price {p.max_price}")
    after = cursors.decode(p.cursor, p.sort) if p.cursor else None
    filters = {"q": p.q, "vendor": p.vendor, "min_price": p.min_price, "max_price": p.max_price,
               "currency": p.currency, "condition": p.condition.strip().lower() if p.condition else None,
               "sold": p.sold}
    sort, limit = p.sort, p.limit

    def answer(conn: Connection) -> models.ListingPage:
        rows = store.listings_page(conn, sort, filters, after, limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        next_cursor = None
        if more:
            last = rows[-1]
            next_cursor = cursors.encode(sort, last.last_seen_at if sort == "newest" else last.price, last.id)
        items = [models.ListingSummary.model_validate(r) for r in rows]
        return models.ListingPage(items=items, next_cursor=next_cursor)

    return answer


@router.get("/listings", summary="Listings with filters, in keyset pages (follow next_cursor)",
            response_model=models.ListingPage)
async def list_listings(_caller: Reader, reading: Reading, params: Annotated[ListingsQuery, Query()]) -> Response:
    return await reading.answer(listings_read(params))


@router.get("/listings/{listing_id}", summary="One listing with its price history", response_model=models.Listing)
async def get_listing(listing_id: ListingId, _caller: Reader, reading: Reading) -> Response:
    def answer(conn: Connection) -> models.Listing:
        row = store.listing(conn, listing_id)
        if row is None:
            raise Problem(404, "Not Found", f"no listing {listing_id}")
        history = [models.Observation.model_validate(r) for r in store.listing_observations(conn, listing_id)]
        return models.Listing.model_validate({**row._mapping, "price_history": history})

    return await reading.answer(answer)


class CompsQuery(BaseModel):
    """``GET /comps``'s query (one definition for the route and :mod:`web.api_v1.fast_reads`)."""

    q: RequiredWords
    days: Annotated[int, days_param()] = 90
    currency: Currency = None
    limit: Annotated[int, page_size()] = 50


def comps_read(p: CompsQuery) -> Callable[[Connection], models.Comps]:
    """The read of comps for a query: its listings and their FMV band per currency."""
    q, days, currency, limit = p.q, p.days, p.currency, p.limit

    def answer(conn: Connection) -> models.Comps:
        bands, rows = store.comps(conn, q, days, currency, limit)
        as_of = max((r.last_seen_at for r in rows), default=None)
        return models.Comps(query=" ".join(q.split()), days=days, as_of=as_of,
                            bands=[models.CompsBand.model_validate(b) for b in bands],
                            listings=[models.ListingSummary.model_validate(r) for r in rows])

    return answer


@router.get("/comps", summary="Comps: listings on sale now or sold lately for a query, with their FMV band",
            response_model=models.Comps)
async def comps(_caller: Reader, reading: Reading, params: Annotated[CompsQuery, Query()]) -> Response:
    return await reading.answer(comps_read(params))
