"""Selectors: where a value is on a page (CSS, XPath or JMESPath)."""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from pipelines.parsing.selectors import SelectorKind, check_css, check_expression
from pipelines.vendors.config.base import FieldError, StrictModel, as_list


class Selector(StrictModel):
    """Where a value is on the page: exactly one of ``css``, ``xpath`` or ``json`` (JMESPath).

    ``attribute`` (HTML only) reads an attribute of the matched element instead of its text; a
    list means "the first of these that is non-empty" (``[data-src, src]`` for lazy images).
    Selectors of item fields are relative to the item element (or JSON object); ``:scope`` /
    ``.`` / ``@`` select the item itself.
    """

    css: str | None = None
    xpath: str | None = None
    json_path: str | None = Field(default=None, alias="json")
    attribute: list[str] | None = None

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
    def _exactly_one_expression(self) -> Selector:
        given = [kind for kind, query in self._expressions() if query is not None]
        if self._needs_expression() and not given:
            raise FieldError("selector", "field required (give one of css, xpath, json)")
        if len(given) > 1:
            raise FieldError("selector", f"give only one of css, xpath, json (got {', '.join(given)})")
        return self

    def _needs_expression(self) -> bool:
        return True

    def _expressions(self) -> list[tuple[SelectorKind, str | None]]:
        return [("css", self.css), ("xpath", self.xpath), ("json", self.json_path)]

    @property
    def kind(self) -> SelectorKind:
        """Which language the expression is in: ``css``, ``xpath`` or ``json``."""
        for kind, query in self._expressions():
            if query is not None:
                return kind
        raise ValueError("selector has no expression")

    @property
    def query(self) -> str:
        """The expression itself."""
        for _, query in self._expressions():
            if query is not None:
                return query
        raise ValueError("selector has no expression")

    @property
    def has_expression(self) -> bool:
        return any(query is not None for _, query in self._expressions())
