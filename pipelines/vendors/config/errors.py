"""Invalid vendor files: one line per problem, ``<file>: <field.path>: <what is wrong>``."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from pipelines.vendors.config.base import FieldError


class VendorConfigError(ValueError):
    """A vendor file (or directory of them) is invalid.

    ``errors`` holds one line per problem, each ``<file>: <field.path>: <what is wrong>``;
    ``str(error)`` joins them with newlines.
    """

    def __init__(self, errors: list[str]) -> None:
        self.errors = list(errors)
        super().__init__("\n".join(self.errors))


def _format_location(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc) or "(top level)"


def _describe(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, str | int | float | bool):
        return f"{type(value).__name__} {value!r}"
    return f"a {type(value).__name__}"


def format_validation_error(shown: str, exc: ValidationError) -> list[str]:
    lines = []
    for error in exc.errors():
        loc = tuple(str(part) for part in error["loc"])
        cause = (error.get("ctx") or {}).get("error")
        if isinstance(cause, FieldError):
            loc += cause.loc
            message = cause.message
        else:
            message = error["msg"].removeprefix("Value error, ")
            message = message[:1].lower() + message[1:]
            value = error.get("input")
            if error["type"] in ("model_type", "model_attributes_type", "dict_type"):
                message = f"expected a mapping of options, got {_describe(value)}"
            elif error["type"] == "string_type" and isinstance(value, bool):
                message += " (YAML read this as a boolean; put it in quotes)"
            elif error["type"] in ("literal_error", "enum") and isinstance(value, str | int | float):
                message += f" (got {value!r})"
        lines.append(f"{shown}: {_format_location(loc)}: {message}")
    return lines
