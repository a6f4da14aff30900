"""The code location loads the way ``dagster dev``'s code server loads it, with no hand wiring.

Same calls as Dagster's gRPC code server: find the loadable targets of the module named in
``workspace.yaml`` (resolving ``@definitions``), reconstruct the repository from its code
pointer, and force every lazily built definition.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest
import yaml
from dagster._core.code_pointer import CodePointer
from dagster._core.definitions.reconstruct import ReconstructableRepository
from dagster._grpc.utils import get_loadable_targets

from infra.settings import PROJECT_ROOT
from pipelines.vendors.resources import VendorRegistry
from tests.support.vendor_files import vendor_dir

MODULE = yaml.safe_load((PROJECT_ROOT / "workspace.yaml").read_text())["load_from"][0]["python_module"]["module_name"]


def _load_like_the_code_server(module: str):  # type: ignore[no-untyped-def]
    (target,) = get_loadable_targets(python_file=None, module_name=module, package_name=None,
                                     autoload_defs_module_name=None, working_directory=str(PROJECT_ROOT),
                                     attribute=None, resolve_lazy_defs=True)
    pointer = CodePointer.from_module(module, target.attribute, str(PROJECT_ROOT))
    repo = ReconstructableRepository(pointer, executable_path=sys.executable).get_definition()
    repo.load_all_definitions()
    return repo


def test_the_code_location_loads_as_dagster_dev_loads_it() -> None:
    repo = _load_like_the_code_server(MODULE)
    vendors = VendorRegistry(directory=str(PROJECT_ROOT / "vendors")).load()

    jobs = {job.name for job in repo.get_all_jobs()}
    assert {"scrape", "sync_vendors", "deliver_notifications", "prune_listing_cache"} <= jobs
    schedules = {s.name for s in repo.schedule_defs}
    assert schedules == {f"scrape_{v.name.replace('-', '_')}" for v in vendors} | {"prune_listing_cache_hourly"}
    assert {s.name for s in repo.sensor_defs} == {"alert_matching_sensor", "notification_retry_sensor",
                                                  "rollup_automation"}
    assets = {key.to_user_string() for key in repo.asset_graph.get_all_asset_keys()}
    assert {"vendor_catalog", "raw_captures", "listings", "product_matches", "price_snapshots",
            "vendor_performance", "search_analytics"} <= assets
    # Every resource an asset, check, sensor or job asks for is bound by the code location itself.
    assert {"warehouse", "vendor_registry", "http_fetcher", "browser_fetcher", "vendor_secrets",
            "notifier"} <= set(repo.get_top_level_resources())
    scrape = repo.get_job("scrape")
    vendor_keys = scrape.partitions_def.get_partitions_def_for_dimension("vendor").get_partition_keys()
    assert set(vendor_keys) == {v.name for v in vendors if v.enabled}


def broken_vendor_folder(target: Path) -> Path:
    """The bundled vendors, three of them broken three ways: an unknown key, a cron Dagster refuses
    (it passed our check before), malformed YAML."""
    folder = vendor_dir(target, {"chapin": {"colour": "blue"}, "toko": {"schedule": "0 0 31 2 *"}})
    (folder / "mercado.yaml").write_text("name: mercado\nqueries: [iphone\n")
    return folder


def test_a_bad_vendor_file_takes_out_only_its_vendor(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    folder = broken_vendor_folder(tmp_path / "vendors")
    monkeypatch.setenv("MARKET_PULSE_VENDORS_DIR", str(folder))
    repo = _load_like_the_code_server(MODULE)

    assert {s.name for s in repo.schedule_defs} == {"scrape_cardvault", "scrape_fynda", "prune_listing_cache_hourly"}
    assert {s.name for s in repo.sensor_defs} == {"alert_matching_sensor", "notification_retry_sensor",
                                                  "rollup_automation"}
    assets = {key.to_user_string() for key in repo.asset_graph.get_all_asset_keys()}
    assert {"vendor_catalog", "raw_captures", "listings", "product_matches", "price_snapshots",
            "vendor_performance", "search_analytics"} <= assets
    vendor_keys = repo.get_job("scrape").partitions_def.get_partitions_def_for_dimension("vendor")
    assert vendor_keys.get_partition_keys() == ["cardvault", "fynda"]
    lines = [line for problem in VendorRegistry(directory=str(folder)).problems() for line in problem.errors]
    assert any(line.endswith("chapin.yaml: colour: unknown field; allowed: allowed_hosts, base_url, cache, "
                             "country, currency, decimal_separator, display_name, enabled, extract, fetch, history, "
                             "locale, name, pagination, queries, rate_limit, removed_after_missing, schedule, search, "
                             "session, timezone") for line in lines), lines
    assert any(line.endswith("toko.yaml: schedule: invalid cron expression '0 0 31 2 *': February never has a "
                             "day 31") for line in lines), lines
    assert any("mercado.yaml: line 3, column 1: invalid YAML" in line for line in lines), lines


def test_importing_the_code_location_reads_nothing(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Definitions are built when Dagster asks for them, not at import: a missing vendors folder
    does not break `import`, only the load (with a message naming the folder)."""
    missing = tmp_path / "no-such-folder"
    monkeypatch.setenv("MARKET_PULSE_VENDORS_DIR", str(missing))
    module = importlib.reload(importlib.import_module(MODULE))
    with pytest.raises(Exception, match="no-such-folder"):
        module.defs()
