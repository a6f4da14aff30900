"""Vendors, products and a product's price history."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy import Connection
from starlette.responses import Response

from web.api import Problem
from web.api_v1 import cursors, models, store
from web.api_v1.deps import Reader, Reading
from web.api_v1.params import Cursor, ProductId, Words, days_param, page_size

router = APIRouter(tags=["catalogue"])


@router.get("/vendors", summary="Every vendor, with its active listings and when it was last seen",
            response_model=list[models.Vendor])
async def list_vendors(_caller: Reader, reading: Reading) -> Response:
    def answer(conn: Connection) -> list[models.Vendor]:
        return [models.Vendor.model_validate(r) for r in store.vendors(conn)]

    return await reading.answer(answer)


@router.get("/products", summary="Products, by id; ?q= keeps those whose name holds the words",
            response_model=models.ProductPage)
async def list_products(_caller: Reader, reading: Reading, q: Words = None, cursor: Cursor = None,
                        limit: Annotated[int, page_size()] = 50) -> Response:
    after = cursors.decode(cursor, "products")[1] if cursor else 0

    def answer(conn: Connection) -> models.ProductPage:
        rows = store.products(conn, q, after, limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        next_cursor = cursors.encode("products", str(rows[-1].id), rows[-1].id) if more else None
        items = [models.ProductSummary.model_validate(r) for r in rows]
        return models.ProductPage(items=items, next_cursor=next_cursor)

    return await reading.answer(answer)


@router.get("/products/{product_id}", summary="One product", response_model=models.Product)
async def get_product(product_id: ProductId, _caller: Reader, reading: Reading) -> Response:
    def answer(conn: Connection) -> models.Product:
        row = store.product(conn, product_id)
        if row is None:
            raise Problem(404, "Not Found", f"no product {product_id}")
        return models.Product.model_validate(row)

    return await reading.answer(answer)


class PriceHistoryQuery(BaseModel):
    """``GET /products/{id}/price-history``'s query (one definition for the route and
    :mod:`web.api_v1.fast_reads`)."""

    days: Annotated[int, days_param()] = 30
    observations: Annotated[bool, Query(description="Also the listings' price changes.")] = False


def price_history_read(product_id: int, p: PriceHistoryQuery) -> Callable[[Connection], models.PriceHistory]:
    """The read of a product's daily snapshots (and, on request, its listings' observations)."""
    days, observations = p.days, p.observations

    def answer(conn: Connection) -> models.PriceHistory:
        if store.product(conn, product_id) is None:
            raise Problem(404, "Not Found", f"no product {product_id}")
        snapshots = [models.Snapshot.model_validate(r) for r in store.product_snapshots(conn, product_id, days)]
        seen = None
        if observations:
            seen = [models.ProductObservation.model_validate(r)
                    for r in store.product_observations(conn, product_id, days)]
        return models.PriceHistory(product_id=product_id, days=days, snapshots=snapshots, observations=seen)

    return answer


@router.get("/products/{product_id}/price-history",
            summary="A product's daily market: value, FMV band, quick and patient sale, sample size, per currency",
            response_model=models.PriceHistory)
async def price_history(product_id: ProductId, _caller: Reader, reading: Reading,
                        params: Annotated[PriceHistoryQuery, Query()]) -> Response:
    return await reading.answer(price_history_read(product_id, params))
