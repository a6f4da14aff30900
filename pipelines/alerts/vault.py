"""Notification targets at rest: sealed with the Fernet key ring, opened only to be sent to.

A saved search stores each target as a :class:`~pipelines.alerts.criteria.SealedTarget`: the URL
*as the user wrote it* encrypted with :class:`infra.secrets.SecretBox` (``${VAR}`` references
stay references), a masked label for every listing, log line and page, and a random id for
dedupe keys. Outbox rows (``notifications``) copy the sealed token and the label. So neither the
database nor a backup of it holds a target in clear, and nothing but delivery needs the key:
listings show labels, matching copies tokens.

Delivery opens a token (decrypts) and expands its references from the environment of the
process that sends (``NAME`` or the file of ``NAME_FILE``), right before sending.

Without a key nothing is stored: :class:`infra.secrets.SecretKeyError` says how to make one (the
embedded setup makes one itself, see :func:`infra.secrets.ensure_home_key`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from infra.secrets import SecretBox, SecretKeyError
from infra.settings import secret
from pipelines.alerts.criteria import NotificationSettings, SealedTarget, StoredNotification
from pipelines.alerts.targets import VARIABLE, InvalidTarget, mask_url, new_target_id, variables

__all__ = ["SecretKeyError", "expand", "label_for", "open_reference", "open_url", "seal", "stored_settings"]


class NotEncrypted(ValueError):
    """Stored settings in the format of before encryption (the migration has not run)."""


def expand(url: str, env: Mapping[str, str] | None = None) -> str:
    """``url`` with every ``${NAME}`` replaced by the variable NAME or the file of NAME_FILE, or
    :class:`InvalidTarget` naming the first variable that is not set (never a value)."""
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        try:
            found = secret(name, env)
        except ValueError as exc:
            raise InvalidTarget(str(exc)) from None
        if found is None:
            raise InvalidTarget(f"environment variable {name} is not set (nor {name}_FILE)")
        return found

    return VARIABLE.sub(value, url)


def label_for(reference: str, env: Mapping[str, str] | None = None) -> str:
    """The masked form of a target as written. References stay visible as names; a reference
    Apprise cannot read as a URL (a whole URL in one variable) is masked after expansion."""
    shown = mask_url(reference)
    if shown.endswith("://***") and variables(reference):
        shown = mask_url(expand(reference, env))
    return shown


def seal(settings: NotificationSettings, box: SecretBox, previous: StoredNotification | None = None,
         env: Mapping[str, str] | None = None) -> StoredNotification:
    """``settings`` (targets as written, already validated) as stored: each target encrypted with
    the current key. A target that was stored before (same text) keeps its id, so its dedupe keys
    stay the same."""
    known: dict[str, str] = {}
    for target in previous.targets if previous is not None else []:
        try:
            known.setdefault(open_reference(box, target.sealed), target.id)
        except SecretKeyError:
            continue  # sealed with a key no longer configured: it gets a new id
    targets = [SealedTarget(id=known.get(url) or new_target_id(), label=label_for(url, env),
                            sealed=box.encrypt(url.encode()).decode("ascii"))
               for url in settings.urls]
    return StoredNotification(targets=targets, digest=settings.digest)


def stored_settings(value: Any) -> StoredNotification:
    """``saved_searches.notification_settings`` parsed; :class:`NotEncrypted` for the format of before
    encryption, :class:`pydantic.ValidationError` for anything else that does not fit."""
    if isinstance(value, dict) and "urls" in value and "targets" not in value:
        raise NotEncrypted("its notification targets are stored unencrypted: run `market-pulse db migrate`")
    return StoredNotification.model_validate(value)


def open_reference(box: SecretBox, sealed: str) -> str:
    """The target as written (references not expanded), for comparing and re-sealing."""
    return box.decrypt(sealed.encode("ascii")).decode()


def open_url(box: SecretBox, sealed: str, env: Mapping[str, str] | None = None) -> str:
    """The URL to send to: decrypted, references expanded. Never log what this returns."""
    return expand(open_reference(box, sealed), env)


def same_targets(stored: StoredNotification, settings: NotificationSettings, box: SecretBox) -> bool:
    """True when ``stored`` holds exactly ``settings``' targets (as written) and digest flag."""
    if stored.digest != settings.digest or len(stored.targets) != len(settings.urls):
        return False
    try:
        return [open_reference(box, t.sealed) for t in stored.targets] == list(settings.urls)
    except SecretKeyError:
        return False


def parse_stored(value: Any) -> StoredNotification | None:
    """Like :func:`stored_settings`, None when the value does not parse."""
    try:
        return stored_settings(value)
    except (NotEncrypted, ValidationError):
        return None
