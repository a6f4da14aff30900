"""Listings (filtered, keyset pages), one listing with its price history, and comps."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
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


@router.get("/listings", summary="Listings with filters, in keyset pages (follow next_cursor)",
            response_model=models.ListingPage)
async def list_listings(
    _caller: Reader, reading: Reading, q: Words = None, vendor: VendorName = None, min_price: Price = None,
    max_price: Price = None, currency: Currency = None,
    condition: Annotated[str | None, Query(max_length=50, pattern=r"^[^\x00]*$")] = None,
    sold: Annotated[bool | None, Query(description="true: sold only; false: not sold.")] = None,
    sort: Annotated[Sort, Query(description="newest (last seen first), price_asc or price_desc (priced only).")]
    = "newest",
    cursor: Cursor = None, limit: Annotated[int, page_size()] = 50,
) -> Response:
    if min_price is not None and max_price is not None and min_price > max_price:
        raise Problem(422, "Unprocessable Content", f"min_price: {min_price} is more than max_price {max_price}")
    after = cursors.decode(cursor, sort) if cursor else None
    filters = {"q": q, "vendor": vendor, "min_price": min_price, "max_price": max_price, "currency": currency,
               "condition": condition.strip().lower() if condition else None, "sold": sold}

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

    return await reading.answer(answer)


@router.get("/listings/{listing_id}", summary="One listing with its price history", response_model=models.Listing)
async def get_listing(listing_id: ListingId, _caller: Reader, reading: Reading) -> Response:
    def answer(conn: Connection) -> models.Listing:
        row = store.listing(conn, listing_id)
        if row is None:
            raise Problem(404, "Not Found", f"no listing {listing_id}")
        history = [models.Observation.model_validate(r) for r in store.listing_observations(conn, listing_id)]
        return models.Listing.model_validate({**row._mapping, "price_history": history})

    return await reading.answer(answer)


@router.get("/comps", summary="Comps: listings on sale now or sold lately for a query, with their FMV band",
            response_model=models.Comps)
async def comps(_caller: Reader, reading: Reading, q: RequiredWords, days: Annotated[int, days_param()] = 90,
                currency: Currency = None, limit: Annotated[int, page_size()] = 50) -> Response:
    def answer(conn: Connection) -> models.Comps:
        bands, rows = store.comps(conn, q, days, currency, limit)
        as_of = max((r.last_seen_at for r in rows), default=None)
        return models.Comps(query=" ".join(q.split()), days=days, as_of=as_of,
                            bands=[models.CompsBand.model_validate(b) for b in bands],
                            listings=[models.ListingSummary.model_validate(r) for r in rows])

    return await reading.answer(answer)
