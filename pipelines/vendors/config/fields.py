"""The logical fields of a listing and how each one is read (``extract.fields``)."""

from __future__ import annotations

from collections.abc import Iterator
from enum import StrEnum

from pydantic import Field, field_validator, model_validator

from pipelines.parsing.conditions import CONDITIONS, vocabulary_word
from pipelines.vendors.config.base import FieldError, StrictModel, as_list, check_regex
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
FIELD_TYPES: dict[str, tuple[frozenset[FieldType], FieldType]] = {
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
    "mpn": (frozenset({FieldType.TEXT, FieldType.ATTRIBUTE}), FieldType.TEXT),
    "gtin": (frozenset({FieldType.TEXT, FieldType.ATTRIBUTE}), FieldType.TEXT),
}
REQUIRED_FIELDS = ("external_id", "title", "price")


class FieldRule(Selector):
    """How to read one logical field of a listing.

    ``type`` defaults from the field name (``price`` -> price, ``images`` -> images, ``sold``
    -> flag, text otherwise, or attribute when ``attribute`` is given). ``required: true``
    makes an optional field mandatory (an item without it is skipped and reported);
    ``external_id``, ``title`` and ``price`` are always required. ``default`` is used when the
    selector finds nothing. ``regex`` keeps only the part of the value it matches (group 1 if
    it has a group; for images, of each image; for flags it is the test). ``map`` translates
    values (case-insensitive), e.g. ``{Bekas: used}``; for ``condition`` its values must be
    words of the condition vocabulary. Price only: ``on_request`` phrases that mean "ask the
    seller"; ``minor_units: true`` when the amount counts the currency's minor unit (cents,
    öre), with the exponent from ISO 4217 or ``exponent``.

    Every option is either applied to the field's type or refused when the file is loaded
    (``OPTIONS_BY_TYPE``): nothing in a vendor file is silently ignored.
    """

    type: FieldType | None = None
    required: bool = False
    default: str | None = None
    regex: str | None = None
    map: dict[str, str] | None = None
    key: Selector | None = None
    value: Selector | None = None
    on_request: list[str] | None = None
    minor_units: bool = False
    exponent: int | None = Field(default=None, ge=0, le=4)

    check_regex = field_validator("regex")(check_regex)
    normalise_on_request = field_validator("on_request", mode="before")(as_list)

    @field_validator("on_request")
    @classmethod
    def _check_phrases(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and (not value or not all(phrase.strip() for phrase in value)):
            raise ValueError("phrases must be non-empty")
        return value

    def _needs_expression(self) -> bool:
        # Checked in ``resolved`` instead: whether a selector is needed depends on the type,
        # and the type may only be known from the field name.
        return False

    def resolved(self, field_name: str) -> FieldRule:
        """This rule with ``type`` (and the type's default ``attribute``) filled in and checked.

        Raises ``FieldError`` for options that do not fit the type, e.g. a flag with a default.
        """
        allowed, default_type = FIELD_TYPES[field_name]
        field_type = self.type or default_type
        if self.type is None and self.attribute and default_type == FieldType.TEXT:
            field_type = FieldType.ATTRIBUTE
        if field_type not in allowed:
            names = ", ".join(sorted(t.value for t in allowed))
            raise FieldError("type", f"{field_type.value!r} is not allowed for {field_name}; use {names}")
        self._check_options(field_name, field_type)
        attribute = self.attribute
        if attribute is None and self.markup_kind is not None and self.parse is None and self.json_path is None:
            if field_type == FieldType.URL:
                attribute = ["href"]
            elif field_type == FieldType.IMAGES:
                attribute = ["data-src", "src"]
        return self.model_copy(update={"type": field_type, "attribute": attribute})

    def _check_options(self, field_name: str, field_type: FieldType) -> None:
        used = self.model_fields_set
        for option in sorted(used & RULE_OPTIONS):
            if option not in OPTIONS_BY_TYPE[field_type]:
                raise FieldError(option, _not_used(option, field_type))
        if field_type == FieldType.ATTRIBUTES:
            if self.has_expression:
                raise FieldError("selector", "not used by type attributes; give key and value selectors")
            for part in ("key", "value"):
                if getattr(self, part) is None:
                    raise FieldError(part, "field required (type attributes needs key and value selectors)")
            return
        if not self.has_expression:
            raise FieldError("selector", "field required (give one of css, xpath, embedded, json)")
        if field_type == FieldType.ATTRIBUTE:
            if self.markup_kind is None:
                raise FieldError("type", "type attribute reads an attribute of an element; use css or xpath")
            if not self.attribute and self.markup_kind == "css" and not self.yields_data:
                raise FieldError("attribute", "field required for type attribute")
        if "exponent" in used and not self.minor_units:
            raise FieldError("exponent", "only used with minor_units: true")
        if field_name == "condition" and self.default is not None and vocabulary_word(self.default) is None:
            raise FieldError("default", f"{self.default!r} is not a condition; use one of {', '.join(CONDITIONS)}")
        if field_name == "condition" and self.map is not None:
            for raw, word in self.map.items():
                if word not in CONDITIONS:
                    raise FieldError(("map", raw), f"{word!r} is not a condition; use one of {', '.join(CONDITIONS)}")


def _not_used(option: str, field_type: FieldType) -> str:
    if option in ("key", "value"):
        return "only used by type attributes"
    if option in ("on_request", "minor_units", "exponent"):
        return "only used by type price"
    if field_type == FieldType.FLAG and option in ("default", "required"):
        return "not used by a flag (a flag is simply false when absent)"
    if field_type == FieldType.PRICE and option == "required":
        return "price is always required; leave required out"
    return f"not used by type {field_type.value}"


RULE_OPTIONS = frozenset({"required", "default", "regex", "map", "key", "value", "on_request", "minor_units",
                          "exponent"})
"""The options of a field rule beyond its selector and type (each is checked against the type)."""

OPTIONS_BY_TYPE: dict[FieldType, frozenset[str]] = {
    FieldType.TEXT: frozenset({"required", "default", "regex", "map"}),
    FieldType.ATTRIBUTE: frozenset({"required", "default", "regex", "map"}),
    FieldType.PRICE: frozenset({"default", "regex", "map", "on_request", "minor_units", "exponent"}),
    FieldType.URL: frozenset({"required", "default", "regex", "map"}),
    FieldType.IMAGES: frozenset({"required", "regex"}),
    FieldType.ATTRIBUTES: frozenset({"required", "key", "value"}),
    FieldType.FLAG: frozenset({"regex"}),
}
"""Which options each field type applies; any other option given is refused at load time."""


class Fields(StrictModel):
    """The logical fields of a listing. ``external_id``, ``title`` and ``price`` are required.

    ``product_code`` is any identifier the vendor gives for the *product* (GTIN/EAN, SKU, card
    number), which helps match the same product across vendors; ``mpn`` (manufacturer part
    number) and ``gtin`` (GTIN/EAN/UPC) name that identifier's kind when the shop shows it apart
    (kept as the listing attributes ``mpn`` / ``gtin``); ``currency`` overrides the currency per
    item (ISO code or symbol) when one vendor lists in several currencies.
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
    mpn: FieldRule | None = None
    gtin: FieldRule | None = None

    @model_validator(mode="after")
    def _resolve_types(self) -> Fields:
        for name in FIELD_TYPES:
            rule = getattr(self, name)
            if rule is None:
                continue
            try:
                resolved = rule.resolved(name)
            except FieldError as exc:
                raise FieldError((name, *exc.loc), exc.message) from None
            if name in REQUIRED_FIELDS and "required" in rule.model_fields_set:
                raise FieldError((name, "required"), f"{name} is always required; leave required out")
            object.__setattr__(self, name, resolved)
        return self

    def items(self) -> Iterator[tuple[str, FieldRule]]:
        """The configured fields as ``(name, rule)`` pairs, required ones first."""
        for name in FIELD_TYPES:
            rule = getattr(self, name)
            if rule is not None:
                yield name, rule
