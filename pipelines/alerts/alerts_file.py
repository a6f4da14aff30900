"""Saved searches as data: the entry format shared by ``alerts add`` flags and ``alerts.yaml`` files.

An alerts file (GitOps style, applied with ``market-pulse alerts sync FILE``)::

    users:
      - {username: alice, email: alice@example.com}
    alerts:
      - name: Cheap iPhones
        user: alice
        query: iphone 13            # sent to the vendors; every word must be in a title unless `all` is given
        any: [pro, mini]            # optional: at least one of these
        none: [case, cover]         # optional: none of these
        vendors: [toko, chapin]     # optional: default every vendor
        price: {min: 1000000, max: 9000000, currency: IDR}
        condition: [used]           # optional: condition contains any of these
        location: [jakarta]         # optional: location contains any of these
        attributes: {Penyimpanan: 128 GB}
        rules: [new, "drop:10%", "below-market:20%:n=5"]
        notify:
          urls: ["json://127.0.0.1:9000/hook", "mailtos://me:${SMTP_PASSWORD}@smtp.example.com"]
          digest: false
        active: true

``${NAME}`` is the environment variable NAME (or the file named by NAME_FILE): keep secrets out of
the file. In notification targets (``notify``) the reference itself is stored (encrypted) and
expanded only when a message is sent, so the secret is never written to the database and a
changed secret needs no new sync; the variable must be set where alerts are sent (Dagster's
daemon and runs) as well as where the file is synced (to validate the URL). Anywhere else a
reference is replaced when the file is read. A missing variable is an error that names it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from infra.settings import secret
from pipelines.alerts.criteria import (
    CriteriaError,
    NotificationSettings,
    SearchCriteria,
    format_validation_error,
    parse_rule,
)
from pipelines.alerts.targets import InvalidTarget
from pipelines.alerts.text import normalize
from pipelines.alerts.vault import expand

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class PriceRange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    min: Decimal | None = None
    max: Decimal | None = None
    currency: str | None = None


class NotifyEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    urls: list[str] = Field(default_factory=list)
    digest: bool = False


def _listify(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


def _default_rules() -> list[str | dict[str, Any]]:
    """An entry without rules alerts on new matches."""
    return ["new"]


class AlertEntry(BaseModel):
    """One saved search as written by a person (flags or YAML); :meth:`build` validates it fully."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    name: str = Field(min_length=1, max_length=100)
    user: str = Field(min_length=1, max_length=64)
    query: str = Field(min_length=1)
    all_words: list[str] | None = Field(default=None, alias="all")
    any_words: list[str] = Field(default_factory=list, alias="any")
    none_words: list[str] = Field(default_factory=list, alias="none")
    vendors: list[str] = Field(default_factory=list)
    price: PriceRange = Field(default_factory=PriceRange)
    condition: list[str] = Field(default_factory=list)
    location: list[str] = Field(default_factory=list)
    attributes: dict[str, str] = Field(default_factory=dict)
    rules: list[str | dict[str, Any]] = Field(default_factory=_default_rules)
    notify: NotifyEntry
    active: bool = True

    @field_validator("all_words", "any_words", "none_words", "vendors", "condition", "location", "rules",
                     mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return _listify(value)

    @field_validator("notify", mode="before")
    @classmethod
    def _notify(cls, value: Any) -> Any:
        if isinstance(value, str | list):
            return {"urls": _listify(value)}
        return value

    @field_validator("query", "name", "user")
    @classmethod
    def _strip(cls, value: str) -> str:
        value = " ".join(value.split())
        if not value:
            raise ValueError("must not be blank")
        return value

    def build(self, env: Mapping[str, str] | None = None) -> tuple[SearchCriteria, NotificationSettings]:
        """The models to store, or :class:`CriteriaError` with one ``field: problem`` line per problem.

        Targets keep their ``${VAR}`` references; each is validated by Apprise with the references
        expanded from ``env`` (default: the process environment)."""
        try:
            rules = [parse_rule(r) if isinstance(r, str) else r for r in self.rules]
        except CriteriaError as exc:
            raise CriteriaError(f"rules: {exc}") from None
        data = {
            "all_words": self.all_words if self.all_words is not None else normalize(self.query).split(),
            "any_words": self.any_words, "none_words": self.none_words, "vendors": self.vendors,
            "min_price": self.price.min, "max_price": self.price.max, "currency": self.price.currency,
            "conditions": self.condition, "locations": self.location, "attributes": self.attributes,
            "rules": rules,
        }
        problems = []
        criteria = settings = None
        try:
            criteria = SearchCriteria.model_validate(data)
        except ValidationError as exc:
            problems.append(format_validation_error(exc, "criteria."))
        try:
            settings = self._notification_settings(env)
        except ValidationError as exc:
            problems.append(format_validation_error(exc, "notify."))
        except InvalidTarget as exc:
            problems.append(f"notify.urls: {exc}")
        if problems:
            raise CriteriaError("\n".join(problems))
        assert criteria is not None and settings is not None
        return criteria, settings

    def _notification_settings(self, env: Mapping[str, str] | None) -> NotificationSettings:
        """Validated with references expanded; returned as written (references kept)."""
        expanded = []
        for i, url in enumerate(self.notify.urls):
            try:
                expanded.append(expand(url, env))
            except InvalidTarget as exc:
                raise InvalidTarget(f"entry {i + 1}: {exc}") from None
        NotificationSettings.model_validate({"urls": expanded, "digest": self.notify.digest})
        return NotificationSettings.model_validate({"urls": self.notify.urls, "digest": self.notify.digest},
                                                   context={"stored": True})


class UserEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    email: str = Field(min_length=3, max_length=255, pattern=r"^[^@\s]+@[^@\s]+$")
    display_name: str | None = None


class AlertsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    users: list[UserEntry] = Field(default_factory=list)
    alerts: list[AlertEntry] = Field(default_factory=list)


_TARGETS = re.compile(r"^alerts\[\d+\]\.notify(\.|\[|$)")
"""Where references are kept as references (notification targets)."""


def expand_variables(value: Any, env: Mapping[str, str], path: str = "", *,
                     constants: Mapping[str, str] | None = None) -> Any:
    """Replace ``${NAME}`` in every string of a parsed YAML document, except in notification
    targets, where only ``constants`` (values that are no secret, e.g. the demo's inbox URL) are
    replaced and other references are kept for delivery to expand."""
    constants = constants or {}
    if isinstance(value, str):
        def sub(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in constants:
                return constants[name]
            if _TARGETS.match(path):
                return match.group(0)
            try:
                found = secret(name, env)
            except ValueError as exc:
                raise CriteriaError(f"{path or 'file'}: {exc}") from None
            if found is None:
                raise CriteriaError(f"{path or 'file'}: environment variable {name} is not set")
            return found
        return _VAR.sub(sub, value)
    if isinstance(value, list):
        return [expand_variables(v, env, f"{path}[{i}]", constants=constants) for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {k: expand_variables(v, env, f"{path}.{k}" if path else str(k), constants=constants)
                for k, v in value.items()}
    return value


def load_alerts_file(path: Path, env: Mapping[str, str] | None = None, *,
                     constants: Mapping[str, str] | None = None) -> AlertsFile:
    """Parse and validate an alerts file; every problem is reported with where it is.

    ``constants`` are replaced everywhere when the file is read, targets included (for values
    that are no secret); ``env`` (default: the process environment) provides the rest."""
    env = os.environ if env is None else env
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise CriteriaError(f"{path}: cannot read: {exc}") from None
    if not isinstance(raw, dict):
        raise CriteriaError(f"{path}: expected a mapping with `users:` and/or `alerts:`")
    try:
        data = expand_variables(raw, env, constants=constants)
    except CriteriaError as exc:
        raise CriteriaError(f"{path}: {exc}") from None
    try:
        parsed = AlertsFile.model_validate(data)
    except ValidationError as exc:
        raise CriteriaError(f"{path}:\n" + _indent(format_validation_error(exc))) from None
    problems = []
    seen: set[tuple[str, str]] = set()
    for i, entry in enumerate(parsed.alerts):
        where = f"alerts[{i}] ({entry.name})"
        if (entry.user, entry.name) in seen:
            problems.append(f"{where}: duplicate name for user {entry.user}")
        seen.add((entry.user, entry.name))
        try:
            entry.build(env)
        except CriteriaError as exc:
            problems.append(f"{where}:\n" + _indent(str(exc)))
    if problems:
        raise CriteriaError(f"{path}:\n" + _indent("\n".join(problems)))
    return parsed


def _indent(text: str) -> str:
    return "\n".join(f"  {line}" for line in text.splitlines())
