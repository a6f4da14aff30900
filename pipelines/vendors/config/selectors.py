"""Selectors: where a value is on a page, in one step or two.

A selector has at most one *markup* step and at most one *data* step:

* ``css`` or ``xpath`` find elements (relative to the listing element for item fields);
  ``attribute`` reads an attribute of the match instead of its text;
* ``embedded`` takes the page's structured data instead: ``json-ld``, ``microdata`` or
  ``opengraph`` (a list of objects shaped like JSON-LD);
* ``json`` is a JMESPath over data: the JSON document or item itself, the structured data, or
  the text of each markup match read as data, ``parse: json`` (the default) or
  ``parse: javascript`` for an object literal that is not strict JSON (``window.__STATE__ = {…}``).

So ``{css: "script#__NEXT_DATA__", json: props.pageProps.hits}`` reads a Next.js page's data and
``{embedded: json-ld, json: "[?\\"@type\\"=='Product']"}`` its schema.org products. Where each kind
of step may be used (which format, items or fields) is checked by ``VendorConfig``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from pipelines.parsing.embedded import DataParse, EmbeddedKind
from pipelines.parsing.selectors import SelectorKind, check_css, check_expression
from pipelines.vendors.config.base import FieldError, StrictModel, as_list

StepKind = Literal["css", "xpath", "embedded", "json"]


class Selector(StrictModel):
    """Where a value is: a markup step (``css``, ``xpath`` or ``embedded``), a ``json`` step, or both.

    ``attribute`` (with css/xpath) reads an attribute of the matched element instead of its text;
    a list means "the first of these that is non-empty" (``[data-src, src]`` for lazy images).
    ``parse`` (with css/xpath, followed by data) says how the matched text becomes data.
    Selectors of item fields are relative to the item element (or JSON object); ``:scope`` /
    ``.`` / ``@`` select the item itself.
    """

    css: str | None = None
    xpath: str | None = None
    embedded: EmbeddedKind | None = None
    attribute: list[str] | None = None
    parse: DataParse | None = None
    json_path: str | None = Field(default=None, alias="json")

    normalise_attribute = field_validator("attribute", mode="before")(as_list)

    @field_validator("css")
    @classmethod
    def _compile_css(cls, value: str | None) -> str | None:
        return None if value is None else check_css(value)

    @field_validator("xpath")
    @classmethod
    def _compile_xpath(cls, value: str | None) -> str | None:
        return None if value is None else check_expression("xpath", value)

    @field_validator("json_path")
    @classmethod
    def _compile_jmespath(cls, value: str | None) -> str | None:
        return None if value is None else check_expression("json", value)

    @field_validator("attribute")
    @classmethod
    def _check_attribute(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and (not value or not all(name.strip() for name in value)):
            raise ValueError("attribute names must be non-empty")
        return value

    @model_validator(mode="after")
    def _check_steps(self) -> Selector:
        markup = [kind for kind in ("css", "xpath", "embedded") if getattr(self, kind) is not None]
        if self._needs_expression() and not self.has_expression:
            raise FieldError("selector", "field required (give one of css, xpath, embedded, json)")
        if len(markup) > 1:
            raise FieldError("selector", f"give only one of css, xpath, embedded (got {', '.join(markup)})")
        if self.attribute is not None and self.markup_kind is None:
            raise FieldError("attribute", "only used with css or xpath (it names an attribute of the matched element)")
        if self.parse is not None and self.markup_kind is None:
            raise FieldError("parse", "only used after css or xpath (it says how the matched text becomes data)")
        return self

    def _needs_expression(self) -> bool:
        return True

    @property
    def markup_kind(self) -> SelectorKind | None:
        """``css`` or ``xpath`` when the selector starts by matching elements, else ``None``."""
        if self.css is not None:
            return "css"
        if self.xpath is not None:
            return "xpath"
        return None

    @property
    def markup_query(self) -> str | None:
        return self.css if self.css is not None else self.xpath

    @property
    def yields_data(self) -> bool:
        """True when the selector's matches are JSON values (it has a data step or reads embedded data)."""
        return self.json_path is not None or self.parse is not None or self.embedded is not None

    @property
    def steps(self) -> list[StepKind]:
        """The kinds of step given, in evaluation order (``["css", "json"]``)."""
        order: list[StepKind] = ["css", "xpath", "embedded"]
        given: list[StepKind] = [kind for kind in order if getattr(self, kind) is not None]
        if self.json_path is not None:
            given.append("json")
        return given

    @property
    def kind(self) -> StepKind:
        """The first step's kind: ``css``, ``xpath``, ``embedded`` or ``json``."""
        steps = self.steps
        if not steps:
            raise ValueError("selector has no expression")
        return steps[0]

    @property
    def query(self) -> str:
        """The first step's expression (the embedded kind for ``embedded``)."""
        kind = self.kind
        if kind == "json":
            assert self.json_path is not None
            return self.json_path
        value = getattr(self, kind)
        assert value is not None
        return str(value)

    @property
    def is_single_step(self) -> bool:
        """One plain css/xpath/json expression (what login markers take)."""
        return len(self.steps) == 1 and self.embedded is None and self.parse is None

    @property
    def has_expression(self) -> bool:
        return bool(self.steps)
