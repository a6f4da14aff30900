"""Notices to the admins about the pipeline itself, through the same outbox as the alerts.

When a vendor's listings fail their audits (the shop changed its page, a selector stopped
matching), nothing is published and the admins' notification targets hear about it: once per
vendor and day, however often the partition is retried. The notice is an outbox row like every
alert (``notifications``, no user or saved search), so the delivery job sends it through Apprise
with the same claims, retries and idempotency key (``X-Idempotency-Key``, ``idempotency_key``);
its ``dedupe_key`` (``audit:<vendor>:<day>:<target id>``) is what makes it once.

Targets are Apprise URLs from ``MARKET_PULSE_ADMIN_TARGETS`` (whitespace-separated) and/or the
file named by ``MARKET_PULSE_ADMIN_TARGETS_FILE`` (one per line), read by ``infra.settings``.
They often hold a secret: in the outbox a target is sealed with the key ring like every alert's
(:mod:`pipelines.alerts.vault`), beside its masked label, and its id in the dedupe key is keyed
with the secret key (a plain hash of the URL would let a reader of a dump test guesses of it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection

from infra.secrets import SecretBox
from pipelines.alerts import store
from pipelines.alerts.messages import idempotency_key
from pipelines.alerts.targets import InvalidTarget, mask_url, validate_url

ADMIN_NOTICE_KIND = "listings_audit"
"""``notifications.data.kind`` of a failed-audit notice."""

TARGETS_SETTING = "MARKET_PULSE_ADMIN_TARGETS"


@dataclass(frozen=True)
class AdminTargets:
    """Where notices about the pipeline itself go (Apprise URLs); empty: nowhere.

    Bound as a plain resource, not as Dagster config, so the URLs never appear in the UI.
    """

    urls: tuple[str, ...] = ()

    @classmethod
    def from_urls(cls, urls: Iterable[str]) -> AdminTargets:
        """Validated by Apprise (parsing only); an unusable URL is an error naming the setting, never the secret."""
        checked = []
        for url in urls:
            try:
                checked.append(validate_url(url))
            except InvalidTarget as exc:
                raise ValueError(f"{TARGETS_SETTING}: {exc}") from None
        return cls(tuple(dict.fromkeys(checked)))

    def __repr__(self) -> str:
        return f"AdminTargets({', '.join(mask_url(u) for u in self.urls)})"


def queue_audit_notice(conn: Connection, targets: AdminTargets, *, vendor: str, day: dt.date, problem: str,
                       vendor_file: str | None = None, box: SecretBox | None = None) -> int:
    """Queue the failed-audit notice for (``vendor``, ``day``) to every admin target, in the caller's
    transaction; how many were new (a notice for the same vendor, day and target is queued once).
    Without a key to seal the targets with, ``SecretKeyError`` says how to make one."""
    if not targets.urls:
        return 0
    box = box or SecretBox.from_env()
    fix = f"Fix {vendor_file}" if vendor_file else "Fix the vendor file"
    queued = 0
    for url in targets.urls:
        dedupe = f"audit:{vendor}:{day.isoformat()}:{box.keyed_id(url.encode())}"
        ref = idempotency_key(dedupe)
        body = "\n".join([
            problem, "",
            "Nothing was published for this partition: the day's earlier data stays as it was.",
            f"{fix} and re-run it: market-pulse run --date {day.isoformat()} --vendor {vendor}",
            "", f"ref: {ref}",
        ])
        queued += store.queue_admin_notification(
            conn, dedupe_key=dedupe, target=box.encrypt(url.encode()).decode("ascii"), target_label=mask_url(url),
            title=f"Market Pulse: {vendor} {day.isoformat()} not published",
            body=body, data={"kind": ADMIN_NOTICE_KIND, "vendor": vendor, "day": day.isoformat(),
                             "problem": problem, "idempotency_key": ref})
    return queued
