"""Query and path parameter types shared by the routes: bounded, so bad input is a 422 naming the
parameter and never reaches the database as something it cannot hold."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from fastapi import Path, Query

NO_NUL = r"^[^\x00]*$"
"""PostgreSQL text cannot hold NUL: refused at the door."""
BIGINT = 2**63 - 1

Words = Annotated[str | None, Query(max_length=200, pattern=NO_NUL, description="Words that must all occur in the "
                                    "title, in this order (case-insensitive).")]
RequiredWords = Annotated[str, Query(min_length=1, max_length=200, pattern=r"^[^\x00]*\S[^\x00]*$",
                                     description="Words that must all occur in the title, in this order.")]
VendorName = Annotated[str | None, Query(max_length=64, pattern=r"^[a-z0-9][a-z0-9_-]*$",
                                         description="A vendor's name (see /vendors).")]
Currency = Annotated[str | None, Query(pattern=r"^[A-Z]{3}$", description="ISO 4217 code, e.g. USD.")]
Price = Annotated[Decimal | None, Query(ge=0, le=Decimal("1e12"), max_digits=16, decimal_places=3)]
Cursor = Annotated[str | None, Query(max_length=200, pattern=r"^[A-Za-z0-9_-]*$",
                                     description="next_cursor of the previous page.")]


def page_size(cap: int = 100) -> object:
    return Query(ge=1, le=cap, description=f"Items per page, at most {cap}.")


def days_param(cap: int = 365) -> object:
    return Query(ge=1, le=cap, description=f"Trailing days, 1 to {cap}.")


ProductId = Annotated[int, Path(ge=1, le=BIGINT)]
ListingId = Annotated[int, Path(ge=1, le=BIGINT)]
SearchId = Annotated[int, Path(ge=1, le=BIGINT)]
