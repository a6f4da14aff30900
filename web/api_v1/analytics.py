"""What was searched, and how each vendor's scraping went (the analytics rollups)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from sqlalchemy import Connection
from starlette.responses import Response

from web.api import Problem
from web.api_v1 import models, store
from web.api_v1.deps import Reader, Reading
from web.api_v1.params import VendorName, days_param, page_size

router = APIRouter(prefix="/analytics", tags=["analytics"])


@router.get("/popular-searches", summary="The queries searched most over the trailing days",
            response_model=list[models.PopularSearch])
async def popular_searches(_caller: Reader, reading: Reading, days: Annotated[int, days_param()] = 7,
                           limit: Annotated[int, page_size()] = 20) -> Response:
    def answer(conn: Connection) -> list[models.PopularSearch]:
        return [models.PopularSearch.model_validate(r) for r in store.popular_searches(conn, days, limit)]

    return await reading.answer(answer)


@router.get("/vendor-performance", summary="Each vendor's days: volume, speed, success rate, cost",
            response_model=list[models.VendorDay])
async def vendor_performance(_caller: Reader, reading: Reading, vendor: VendorName = None,
                             days: Annotated[int, days_param()] = 30) -> Response:
    def answer(conn: Connection) -> list[models.VendorDay]:
        if vendor is not None and not store.vendor_exists(conn, vendor):
            raise Problem(404, "Not Found", f"no vendor {vendor!r} (see /api/v1/vendors)")
        return [models.VendorDay.model_validate(r) for r in store.vendor_performance(conn, vendor, days)]

    return await reading.answer(answer)
