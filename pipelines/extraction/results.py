"""What extraction returns: listings read from a page, listings skipped, and the page's own facts."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from pipelines.parsing.price_text import PriceKind


@dataclass(frozen=True, slots=True)
class ExtractedItem:
    """One listing as read from a search page.

    ``price`` is ``None`` only when ``price_kind`` is ``on_request``; ``currency`` is ISO 4217
    (per-item field, else the price text's symbol, else the vendor's currency). URLs are
    absolute; ``images`` are de-duplicated in page order. ``condition`` is a word of the condition
    vocabulary (``pipelines.parsing.conditions``) or ``None``; a value the vendor file does not
    map into it is kept in ``unmapped_condition``. ``position`` is the 1-based position
    on the page (among all listing elements, including skipped ones). ``raw`` keeps the field
    strings as found, for debugging rules.
    """

    external_id: str
    title: str
    price: Decimal | None
    price_kind: PriceKind
    currency: str
    position: int
    url: str | None = None
    condition: str | None = None
    location: str | None = None
    seller: str | None = None
    images: list[str] = field(default_factory=list)
    attributes: dict[str, str] = field(default_factory=dict)
    sold: bool = False
    product_code: str | None = None
    raw: dict[str, str] = field(default_factory=dict)
    unmapped_condition: str | None = None


@dataclass(frozen=True, slots=True)
class ItemFailure:
    """A listing that was skipped. ``field`` is the first field at fault; ``reason`` lists every
    problem as ``"<field>: <what>"``, e.g. ``"price: cannot parse 'abc' (no amount found)"``."""

    position: int
    external_id: str | None
    field: str
    reason: str


@dataclass(frozen=True, slots=True)
class PageExtraction:
    """Everything read from one page.

    ``item_count_seen`` counts listing elements found, read or not (so ``len(items) +
    len(failures) == item_count_seen``). ``next_page_url`` (absolute) and ``next_cursor`` are
    set when the vendor paginates that way and the page offers a next page; ``has_next`` and
    ``total`` when the vendor reads them (``pagination.has_next`` / ``pagination.total``). ``error`` is set,
    with no items, when the body is not a usable results page.
    """

    url: str
    items: list[ExtractedItem] = field(default_factory=list)
    failures: list[ItemFailure] = field(default_factory=list)
    next_page_url: str | None = None
    next_cursor: str | None = None
    has_next: bool | None = None
    total: int | None = None
    item_count_seen: int = 0
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None
