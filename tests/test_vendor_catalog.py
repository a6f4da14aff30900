"""`vendor_catalog` through Dagster with the real warehouse: sync, idempotency, bad files isolated."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from dagster import AssetCheckSeverity, materialize
from sqlalchemy import text

from infra.settings import PROJECT_ROOT
from pipelines.shared.warehouse import Warehouse
from pipelines.vendors.assets import vendor_catalog, vendor_files_valid
from pipelines.vendors.resources import VendorRegistry


@pytest.fixture
def vendor_dir(tmp_path: Path) -> Path:
    target = tmp_path / "vendors"
    shutil.copytree(PROJECT_ROOT / "vendors", target, ignore=shutil.ignore_patterns("*.md"))
    return target


def _materialize(warehouse: Warehouse, directory: Path, instance=None):  # type: ignore[no-untyped-def]
    return materialize([vendor_catalog, vendor_files_valid], instance=instance, raise_on_error=False, resources={
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


def test_a_bad_file_fails_its_check_and_takes_out_only_its_vendor(fresh_database: str, vendor_dir: Path) -> None:
    warehouse = Warehouse(database_url=fresh_database)
    assert _materialize(warehouse, vendor_dir).success
    before = _vendors(warehouse)
    chapin, toko, mercado, cardvault = (vendor_dir / f"{n}.yaml" for n in ("chapin", "toko", "mercado", "cardvault"))
    chapin.write_text(chapin.read_text().replace("currency: GTQ", "currency: quetzal"))
    toko.write_text("colour: blue\n" + toko.read_text())  # an unknown key
    mercado.write_text("name: mercado\nqueries: [iphone\n")  # malformed YAML
    cardvault.write_text(cardvault.read_text().replace("display_name: CardVault (demo)", "display_name: CardVault"))

    result = _materialize(warehouse, vendor_dir)
    assert result.success  # the good vendor syncs
    (check,) = result.get_asset_check_evaluations()
    assert check.check_name == "vendor_files_valid" and not check.passed
    assert check.severity == AssetCheckSeverity.ERROR and not check.blocking
    assert check.description.startswith("3 invalid vendor files: ")
    problems = check.metadata["problems"].value
    assert "chapin.yaml: currency: invalid currency code 'quetzal'" in problems
    assert "toko.yaml: colour: unknown field" in problems
    assert "mercado.yaml: line 3, column 1: invalid YAML" in problems
    metadata = result.asset_materializations_for_node("vendor_catalog")[0].metadata
    assert metadata["updated"].value == 1 and metadata["deactivated"].value == []
    after = _vendors(warehouse)
    assert after["cardvault"][0] == "CardVault"
    # a broken file is not a removed one: its vendor keeps its row, active, as it was
    assert {n: after[n] for n in ("chapin", "toko", "mercado")} == {n: before[n] for n in ("chapin", "toko", "mercado")}
