"""Recording a listings partition published outside a run, as the asset itself would record it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from dagster import AssetCheckEvaluation, AssetCheckSeverity, AssetKey, AssetMaterialization, DagsterInstance

LISTINGS = AssetKey("listings")

Verdict = tuple[str, bool, bool, str, dict[str, Any]]
"""An audit's verdict as plain values (check name, passed, blocking, message, metadata): it crosses processes."""


def report_listings(instance: DagsterInstance, partition: str, verdicts: Iterable[Verdict],
                    metadata: dict[str, Any] | None) -> None:
    """The audits' check results, then (``metadata`` given: the partition was published) its
    materialisation, so the UI shows the partition and its checks as a run would."""
    for check_name, passed, blocking, message, check_metadata in verdicts:
        instance.report_runless_asset_event(AssetCheckEvaluation(
            asset_key=LISTINGS, check_name=check_name, passed=passed, partition=partition, description=message,
            metadata=check_metadata, severity=AssetCheckSeverity.ERROR if blocking else AssetCheckSeverity.WARN))
    if metadata is not None:
        instance.report_runless_asset_event(AssetMaterialization(LISTINGS, partition=partition, metadata=metadata))


def plain_verdicts(verdicts: Iterable[Any]) -> list[Verdict]:
    """The audits' `Verdict` objects as plain values, their dict/list metadata as JSON metadata."""
    from dagster import MetadataValue

    return [(v.check, v.passed, v.blocking, v.message,
             {k: MetadataValue.json(m) if isinstance(m, dict | list) else m for k, m in v.metadata.items()})
            for v in verdicts]
