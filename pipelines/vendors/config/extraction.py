"""``extract:``: how a fetched body becomes listings."""

from __future__ import annotations

from typing import Literal

from pipelines.vendors.config.base import StrictModel
from pipelines.vendors.config.fields import Fields
from pipelines.vendors.config.selectors import Selector


class ExtractRules(StrictModel):
    """How to turn a fetched body into listings.

    ``format`` is ``html`` (a page: CSS/XPath selectors, and data inside the page through a
    ``json`` step or ``embedded``) or ``json`` (a JSON body: JMESPath only). ``items`` selects
    the listing elements, or the listing objects when it has a data step; every field selector
    is relative to one of them.
    ``page_marker`` (optional) matches on every genuine results page, even an empty one: when
    it is missing the page is reported as an error (blocked, captcha, changed layout, JS not
    rendered) instead of silently reading as "no listings".
    """

    format: Literal["html", "json"] = "html"
    items: Selector
    fields: Fields
    page_marker: Selector | None = None
