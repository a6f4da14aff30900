"""The logical fields of a listing and how each one is read (``extract.fields``)."""

from __future__ import annotations

from collections.abc import Iterator
from enum import StrEnum

from pydantic import field_validator, model_validator

from pipelines.parsing.selectors import SelectorKind
from pipelines.vendors.config.base import FieldError, StrictModel, check_regex
from pipelines.vendors.config.selectors import Selector


class FieldType(StrEnum):
    """How a field's raw string becomes a value.

    ``text`` element text (whitespace-normalised); ``attribute`` an attribute's value;
    ``price`` text parsed with the vendor's number format; ``url`` a link made absolute
    against the page URL (attribute defaults to ``href``); ``images`` every match, made
    absolute and de-duplicated (attribute defaults to ``[data-src, src]``); ``attributes``
    key/value pairs zipped from the ``key`` and ``value`` selectors; ``flag`` true when the
    selector matches (and, with ``regex``, when the matched text matches it).
    """

    TEXT = "text"
    ATTRIBUTE = "attribute"
    PRICE = "price"
    URL = "url"
    IMAGES = "images"
    ATTRIBUTES = "attributes"
    FLAG = "flag"


# Logical field -> (types it may have, default type).
_FIELD_TYPES: dict[str, tuple[frozenset[FieldType], FieldType]] = {
    "external_id": (frozenset({FieldType.TEXT, FieldType.ATTRIBUTE}), FieldType.TEXT),
    "title": (frozenset({FieldType.TEXT, FieldType.ATTRIBUTE}), FieldType.TEXT),
    "price": (frozenset({FieldType.PRICE}), FieldType.PRICE),
    "url": (frozenset({FieldType.URL}), FieldType.URL),
    "condition": (frozenset({FieldType.TEXT, FieldType.ATTRIBUTE}), FieldType.TEXT),
    "location": (frozenset({FieldType.TEXT, FieldType.ATTRIBUTE}), FieldType.TEXT),
    "seller": (frozenset({FieldType.TEXT, FieldType.ATTRIBUTE}), FieldType.TEXT),
    "images": (frozenset({FieldType.IMAGES}), FieldType.IMAGES),
    "attributes": (frozenset({FieldType.ATTRIBUTES}), FieldType.ATTRIBUTES),
    "sold": (frozenset({FieldType.FLAG}), FieldType.FLAG),
    "product_code": (frozenset({FieldType.TEXT, FieldType.ATTRIBUTE}), FieldType.TEXT),
    "currency": (frozenset({FieldType.TEXT, FieldType.ATTRIBUTE}), FieldType.TEXT),
}
REQUIRED_FIELDS = ("external_id", "title", "price")


class FieldRule(Selector):
    """How to read one logical field of a listing.

    ``type`` defaults from the field name (``price`` -> price, ``images`` -> images, ``sold``
    -> flag, text otherwise, or attribute when ``attribute`` is given). ``required: true``
    makes an optional field mandatory (an item without it is skipped and reported);
    ``external_id``, ``title`` and ``price`` are always required. ``default`` is used when the
    selector finds nothing. ``regex`` keeps only the part of the value it matches (group 1 if
    it has a group); for flags it is the test. ``map`` translates values (case-insensitive),
    e.g. ``{Bekas: used}`` to normalise conditions; unmapped values pass through.
    """

    type: FieldType | None = None
    required: bool = False
    default: str | None = None
    regex: str | None = None
    map: dict[str, str] | None = None
    key: Selector | None = None
    value: Selector | None = None

    check_regex = field_validator("regex")(check_regex)

    def _needs_expression(self) -> bool:
        # Checked in ``resolved`` instead: whether a selector is needed depends on the type,
        # and the type may only be known from the field name.
        return False

    def resolved(self, field_name: str) -> FieldRule:
        """This rule with ``type`` (and the type's default ``attribute``) filled in and checked.

        Raises ``FieldError`` for options that do not fit the type, e.g. a flag with a default.
        """
        allowed, default_type = _FIELD_TYPES[field_name]
        field_type = self.type or default_type
        if self.type is None and self.attribute and default_type == FieldType.TEXT:
            field_type = FieldType.ATTRIBUTE
        if field_type not in allowed:
            names = ", ".join(sorted(t.value for t in allowed))
            raise FieldError("type", f"{field_type.value!r} is not allowed for {field_name}; use {names}")
        self._check_options(field_type)
        attribute = self.attribute
        if attribute is None and self.kind_or_none in ("css", "xpath"):
            if field_type == FieldType.URL:
                attribute = ["href"]
            elif field_type == FieldType.IMAGES:
                attribute = ["data-src", "src"]
        return self.model_copy(update={"type": field_type, "attribute": attribute})

    def _check_options(self, field_type: FieldType) -> None:
        if field_type == FieldType.ATTRIBUTES:
            if self.has_expression:
                raise FieldError("selector", "not used by type attributes; give key and value selectors")
            for part in ("key", "value"):
                if getattr(self, part) is None:
                    raise FieldError(part, "field required (type attributes needs key and value selectors)")
            return
        if not self.has_expression:
            raise FieldError("selector", "field required (give one of css, xpath, json)")
        for part in ("key", "value"):
            if getattr(self, part) is not None:
                raise FieldError(part, "only used by type attributes")
        if field_type == FieldType.ATTRIBUTE and not self.attribute and self.kind == "css":
            raise FieldError("attribute", "field required for type attribute")
        if field_type == FieldType.FLAG:
            for option in ("default", "required"):
                if option in self.model_fields_set:
                    raise FieldError(option, "not used by a flag (a flag is simply false when absent)")

    @property
    def kind_or_none(self) -> SelectorKind | None:
        return self.kind if self.has_expression else None


class Fields(StrictModel):
    """The logical fields of a listing. ``external_id``, ``title`` and ``price`` are required.

    ``product_code`` is any identifier the vendor gives for the *product* (GTIN/EAN, SKU, card
    number), which helps match the same product across vendors; ``currency`` overrides the
    currency per item (ISO code or symbol) when one vendor lists in several currencies.
    """

    external_id: FieldRule
    title: FieldRule
    price: FieldRule
    url: FieldRule | None = None
    condition: FieldRule | None = None
    location: FieldRule | None = None
    seller: FieldRule | None = None
    images: FieldRule | None = None
    attributes: FieldRule | None = None
    sold: FieldRule | None = None
    product_code: FieldRule | None = None
    currency: FieldRule | None = None

    @model_validator(mode="after")
    def _resolve_types(self) -> Fields:
        for name in _FIELD_TYPES:
            rule = getattr(self, name)
            if rule is None:
                continue
            try:
                resolved = rule.resolved(name)
            except FieldError as exc:
                raise FieldError((name, *exc.loc), exc.message) from None
            if name in REQUIRED_FIELDS and "required" in rule.model_fields_set and not rule.required:
                raise FieldError((name, "required"), f"{name} is always required")
            object.__setattr__(self, name, resolved)
        return self

    def items(self) -> Iterator[tuple[str, FieldRule]]:
        """The configured fields as ``(name, rule)`` pairs, required ones first."""
        for name in _FIELD_TYPES:
            rule = getattr(self, name)
            if rule is not None:
                yield name, rule
