"""What one listings partition stages: pure records, shared by the parser and the store."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class StagedItem:
    """A parsed listing as this partition saw it (first appearance wins within a day)."""

    external_id: str
    title: str
    price: Decimal | None
    currency: str
    price_kind: str
    seen_at: dt.datetime
    is_sold: bool = False
    condition: str | None = None
    location: str | None = None
    url: str | None = None
    seller: str | None = None
    product_code: str | None = None
    attributes: dict[str, str] = field(default_factory=dict)
    images: list[str] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StagedPosition:
    search_id: int
    external_id: str
    position: int
    page: int
