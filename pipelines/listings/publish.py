"""Write, audit, publish one listings partition, in one transaction (no Dagster here).

1. **Write**: parse the partition's archived pages and stage them in temporary tables
   (:func:`~pipelines.listings.store.stage_listings_partition`); nothing published yet.
2. **Audit**: read the staged rows and the vendor's recent published days, and judge them
   (:mod:`pipelines.listings.audits`).
3. **Publish** only when every blocking audit passed: replace the partition (listings, sightings,
   price history, state, positions, attributes, images, parse report). Otherwise nothing outside
   the staging tables is touched, the admins are told (once per vendor and day), and the caller
   fails the run with :attr:`PartitionOutcome.failure`.

The ``listings`` asset calls :func:`write_audit_publish`; so do the benchmarks, so they measure
exactly what a run does.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Row

from infra.secrets import SecretKeyError
from pipelines.alerts.admin import AdminTargets, queue_audit_notice
from pipelines.listings.audits import RECENT_DAYS, Verdict, audit_partition, failure_line, warning_lines
from pipelines.listings.parse import ParsedPartition, parse_partition
from pipelines.listings.store import (
    PartitionSummary,
    partition_preview,
    publish_listings_partition,
    recent_facts,
    replace_parse_report,
    stage_listings_partition,
    staged_facts,
)
from pipelines.scraping.pages import ArchivedPage
from pipelines.vendors.config.vendor import VendorConfig

MAX_STORED_FAILURES = 200
"""Skipped items kept in the partition's parse report (the count is always complete)."""


@dataclass
class PartitionOutcome:
    parsed: ParsedPartition
    verdicts: list[Verdict]
    summary: PartitionSummary | None = None
    """What was published; None when the audits stopped it."""
    preview: list[Row[Any]] = field(default_factory=list)
    failure: str | None = None
    """One line naming what stopped the partition, when it was not published."""
    notices_queued: int = 0
    notice_error: str | None = None
    """Why the admins could not be told (no key to seal their targets with); the audit failure stands."""

    @property
    def published(self) -> bool:
        return self.summary is not None

    @property
    def warnings(self) -> list[str]:
        return warning_lines(self.verdicts)


def write_audit_publish(conn: Connection, *, vendor: VendorConfig, vendor_id: int, day: dt.date,
                        pages: list[ArchivedPage], admin_targets: AdminTargets = AdminTargets(),
                        vendor_file: str | None = None) -> PartitionOutcome:
    """Stage, audit and (when the audits pass) publish the (vendor, day) partition inside ``conn``'s
    transaction. A blocked partition leaves every published row as it was and queues the admins'
    notice in the same transaction (committed by the caller, with nothing else changed)."""
    parsed = parse_partition(vendor, day, pages)
    stage_listings_partition(conn, vendor_id=vendor_id, items=parsed.items, positions=parsed.positions)
    verdicts = audit_partition(vendor, parsed, staged_facts(conn),
                               recent_facts(conn, vendor_id=vendor_id, partition_date=day, days=RECENT_DAYS))
    if any(v.stops_publishing for v in verdicts):
        failure = failure_line(vendor.name, day, verdicts)
        try:
            queued = queue_audit_notice(conn, admin_targets, vendor=vendor.name, day=day, problem=failure,
                                        vendor_file=vendor_file)
        except SecretKeyError as exc:  # the audit's own failure is what the run reports
            return PartitionOutcome(parsed, verdicts, failure=failure, notice_error=str(exc))
        return PartitionOutcome(parsed, verdicts, failure=failure, notices_queued=queued)
    summary = publish_listings_partition(conn, vendor_id=vendor_id, partition_date=day,
                                         removed_after=vendor.removed_after_missing)
    report = None
    if parsed.item_failures or parsed.page_errors:
        report = {"item_failures": parsed.item_failures[:MAX_STORED_FAILURES],
                  "item_failure_count": len(parsed.item_failures), "page_errors": parsed.page_errors}
    replace_parse_report(conn, vendor_id=vendor_id, partition_date=day, report=report)
    preview = partition_preview(conn, vendor_id=vendor_id, partition_date=day)
    return PartitionOutcome(parsed, verdicts, summary=summary, preview=preview)
