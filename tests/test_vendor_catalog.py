"""`vendor_catalog` through Dagster with the real warehouse: sync, idempotency, bad files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from dagster import materialize
from sqlalchemy import text

from infra.settings import PROJECT_ROOT
from pipelines.shared.warehouse import Warehouse
from pipelines.vendors.assets import vendor_catalog
from pipelines.vendors.resources import VendorRegistry


@pytest.fixture
def vendor_dir(tmp_path: Path) -> Path:
    target = tmp_path / "vendors"
    shutil.copytree(PROJECT_ROOT / "vendors", target, ignore=shutil.ignore_patterns("*.md"))
    return target


def _materialize(warehouse: Warehouse, directory: Path, instance=None):  # type: ignore[no-untyped-def]
    return materialize([vendor_catalog], instance=instance, raise_on_error=False, resources={
        "warehouse": warehouse, "vendor_registry": VendorRegistry(directory=str(directory))})


def _vendors(warehouse: Warehouse) -> dict[str, tuple]:
    with warehouse.connect() as conn:
        rows = conn.execute(text("SELECT name, display_name, currency, is_active, updated_at FROM vendors"))
        return {r.name: tuple(r)[1:] for r in rows}


def test_sync_is_idempotent_and_reports_counts(fresh_database: str, vendor_dir: Path,
                                               dagster_instance) -> None:  # type: ignore[no-untyped-def]
    warehouse = Warehouse(database_url=fresh_database)
    result = _materialize(warehouse, vendor_dir, dagster_instance)
    assert result.success
    metadata = result.asset_materializations_for_node("vendor_catalog")[0].metadata
    assert metadata["inserted"].value == 5 and metadata["row_count"].value == 5
    first = _vendors(warehouse)
    assert set(first) == {"toko", "chapin", "mercado", "cardvault", "fynda"}
    assert first["toko"][1] == "IDR"

    again = _materialize(warehouse, vendor_dir, dagster_instance)
    metadata = again.asset_materializations_for_node("vendor_catalog")[0].metadata
    assert (metadata["inserted"].value, metadata["updated"].value, metadata["unchanged"].value) == (0, 0, 5)
    assert _vendors(warehouse) == first  # not even updated_at moved


def test_changed_and_removed_files(fresh_database: str, vendor_dir: Path) -> None:
    warehouse = Warehouse(database_url=fresh_database)
    assert _materialize(warehouse, vendor_dir).success
    toko = vendor_dir / "toko.yaml"
    toko.write_text(toko.read_text().replace("display_name: Toko (demo)", "display_name: Toko Baru"))
    (vendor_dir / "cardvault.yaml").unlink()
    result = _materialize(warehouse, vendor_dir)
    metadata = result.asset_materializations_for_node("vendor_catalog")[0].metadata
    assert metadata["updated"].value == 1 and metadata["deactivated"].value == ["cardvault"]
    vendors = _vendors(warehouse)
    assert vendors["toko"][0] == "Toko Baru"
    assert vendors["cardvault"][2] is False  # kept for its history, but inactive


def test_a_bad_file_names_file_and_field_and_writes_nothing(fresh_database: str, vendor_dir: Path) -> None:
    warehouse = Warehouse(database_url=fresh_database)
    broken = vendor_dir / "chapin.yaml"
    broken.write_text(broken.read_text().replace("currency: GTQ", "currency: quetzal"))
    result = _materialize(warehouse, vendor_dir)
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    message = failure.event_specific_data.error.message  # type: ignore[union-attr]
    assert "Traceback" not in message
    assert "chapin.yaml" in message and "currency" in message
    assert _vendors(warehouse) == {}  # the good files were not written either
