"""What every section of a vendor file shares: unknown keys are errors, and errors carry their path.

Kept apart from the sections themselves so each section module reads as a description of its
part of the format.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator


class FieldError(ValueError):
    """Raised inside validators to report a problem at a sub-path of the model being checked.

    Pydantic pins an error raised by a model validator to the model itself; the loader appends
    ``loc`` so the message points at the exact field (``extract.fields.price.selector``).
    """

    def __init__(self, loc: str | tuple[str, ...], message: str) -> None:
        self.loc = (loc,) if isinstance(loc, str) else tuple(loc)
        self.message = message
        super().__init__(message)


class StrictModel(BaseModel):
    """Base for every section: unknown keys are errors (a misspelt key must not be ignored)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=False)

    @model_validator(mode="before")
    @classmethod
    def _reject_unknown_keys(cls, data: Any) -> Any:
        if isinstance(data, dict):
            allowed = {field.alias or name for name, field in cls.model_fields.items()}
            for key in data:
                if key not in allowed:
                    raise FieldError(str(key), f"unknown field; allowed: {', '.join(sorted(allowed))}")
        return data


def as_list(value: Any) -> Any:
    """A single string where a list is expected becomes a one-item list."""
    return [value] if isinstance(value, str) else value


def check_regex(value: str | None) -> str | None:
    """``value`` if it compiles as a regular expression, else a ``ValueError`` saying why."""
    if value is not None:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"invalid regular expression {value!r}: {exc}") from None
    return value
