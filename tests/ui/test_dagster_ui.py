"""Operating Market Pulse from the Dagster UI: Chromium drives a stack started as `make run` starts it.

Every test asserts on what the page shows (GraphQL is used only to learn what to expect, and to
cross-check). Screenshots of each step go to ``test-artifacts/ui/``; with
``MARKET_PULSE_UPDATE_DOCS_IMAGES=1`` the ones used by the docs are refreshed in ``docs/images/``.
Run with ``uv run pytest -m ui``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.support.ui_browser import Screenshots
from tests.support.ui_stack import SEEDED_DAY, UiStack
from tests.support.ui_steps import RUN_TIMEOUT_S, LaunchedRun, instigator_switch, toast_link

pytestmark = [pytest.mark.ui, pytest.mark.browser, pytest.mark.slow]

ALERT_SENSOR = "alert_matching_sensor"
PREFERRED_ROLLUP = "vendor_performance"
"""Backfilled when it exists: its metadata has a chart. Otherwise any daily single-run asset."""
BACKFILL_DAYS = 3
TERMINAL_RUN = re.compile(r"^(Success|Failure|Canceled)$")


def deps_of(nodes: dict[str, dict[str, Any]]) -> dict[str, set[str]]:
    return {key: {"/".join(d["path"]) for d in node["dependencyKeys"]} for key, node in nodes.items()}


def lineage_section(page: Page, heading: str) -> Locator:
    """The "Upstream assets" / "Downstream assets" block of an asset's overview."""
    return page.get_by_text(heading, exact=True).locator("xpath=..")


def expect_lineage(page: Page, asset: str, upstream: set[str], downstream: set[str]) -> None:
    page.goto(f"/assets/{asset}")
    for heading, names in (("Upstream assets", upstream), ("Downstream assets", downstream)):
        section = lineage_section(page, heading)
        for name in sorted(names):
            expect(section.locator(f'a[href="/assets/{name}"]'), f"{asset}: {heading} lists {name}").to_be_visible()


def latest_materialization(page: Page) -> Locator:
    return page.get_by_text("Latest materialization", exact=True).locator("xpath=..")


def metadata_value(page: Page, key: str) -> str:
    row = page.get_by_role("row").filter(has=page.get_by_text(key, exact=True))
    expect(row, f"metadata row {key}").to_be_visible()
    return row.get_by_role("cell").last.inner_text().strip()


def settle(spinner: Locator, timeout_ms: int = 15_000) -> None:
    """Give a loading indicator a moment to go (for a clean screenshot; not an assertion)."""
    with contextlib.suppress(PlaywrightTimeoutError):
        spinner.first.wait_for(state="hidden", timeout=timeout_ms)


def flip(switch: Locator) -> None:
    # The checkbox input is visually hidden under the drawn switch; a user clicks the switch (its label).
    switch.locator("xpath=ancestor::label[1]").click()


def test_launch_partition_from_dialog(partition_launch: LaunchedRun, page: Page, shots: Screenshots) -> None:
    page.goto(f"/runs/{partition_launch.run_id}")
    expect(page.get_by_text(f"partition: {partition_launch.partition}")).to_be_visible()
    expect(page.get_by_text(re.compile(r"^(Queued|Starting|Started|Success)$")).first).to_be_visible()
    expect(page.get_by_text("2 assets", exact=True)).to_be_visible()  # raw_captures and listings
    shots.take(page, "02-run-launched")


def test_asset_graph_shows_lineage_and_alert_sensor(ui_stack: UiStack, page: Page, shots: Screenshots) -> None:
    nodes = ui_stack.server.asset_nodes()
    deps = deps_of(nodes)
    rollups = ui_stack.server.daily_single_run_assets()

    page.goto("/asset-groups")
    expect(page.get_by_text("Global asset lineage")).to_be_visible()
    graph = page.locator("svg").filter(has=page.locator("foreignObject")).first  # nodes are HTML in the SVG
    for group in sorted({node["groupName"] for node in nodes.values()}):
        expect(graph.get_by_text(group, exact=True).first, f"group {group}").to_be_visible()
    # Room for the graph: fold the main navigation and the graph's group tree (an icon-only button).
    page.get_by_role("button", name="Hide navigation").click()
    tree = page.get_by_role("button", name="panel_show_right", exact=True)
    if tree.count() == 1:
        tree.click()
    page.keyboard.press("Alt+KeyE")  # the graph's shortcut (⌥E) for "expand all groups"
    for asset in ["vendor_catalog", "raw_captures", "listings", *rollups]:
        expect(graph.get_by_text(asset, exact=True).first, f"asset {asset} in the graph").to_be_visible()
    shots.take(page, "03-asset-graph", doc="asset-graph")

    # The edges, as each asset's page lists them: vendors → raw_captures → listings → rollups.
    readers = {key for key, d in deps.items() if "listings" in d and key in rollups}
    if rollups:
        assert readers, f"no rollup reads listings: {sorted(rollups)}"
    expect_lineage(page, "raw_captures", upstream={"vendor_catalog"}, downstream={"listings"})
    expect_lineage(page, "listings", upstream={"raw_captures"}, downstream=readers)
    for rollup in sorted(readers)[:1]:
        expect_lineage(page, rollup, upstream=deps[rollup], downstream=set())
    shots.take(page, "04-rollup-lineage")

    page.goto("/automation")
    expect(page.locator(f'a[href$="/sensors/{ALERT_SENSOR}"]'), "the alert sensor is listed").to_be_visible()


def test_schedules_and_sensors_listed_and_toggle_persists(ui_stack: UiStack, page: Page,
                                                          shots: Screenshots) -> None:
    states = ui_stack.server.instigator_states()
    schedule = f"scrape_{ui_stack.vendor}"
    assert schedule in states and ALERT_SENSOR in states, sorted(states)

    page.goto("/automation")
    for name, state in sorted(states.items()):
        expect(instigator_switch(page, name), f"{name} is {state}").to_be_checked(checked=state == "RUNNING")
    shots.take(page, "05-automation", doc="automation")

    was_running = states[schedule] == "RUNNING"
    for running in (not was_running, was_running):  # flip it, then back
        flip(instigator_switch(page, schedule))
        expect(instigator_switch(page, schedule)).to_be_checked(checked=running)
        page.reload()
        expect(instigator_switch(page, schedule), f"{schedule} after reload").to_be_checked(checked=running)
        assert ui_stack.server.instigator_states()[schedule] == ("RUNNING" if running else "STOPPED")
        if running != was_running:
            shots.take(page, "06-automation-toggled")


def test_rollup_backfill_runs_as_one_run(ui_stack: UiStack, page: Page, shots: Screenshots) -> None:
    rollups = ui_stack.server.daily_single_run_assets()
    assert rollups, "no asset partitioned by day alone has a single-run backfill policy"
    deps = deps_of(ui_stack.server.asset_nodes())
    pool = [r for r in rollups if not deps[r] & set(rollups)] or rollups  # fewest rollups upstream
    rollup = PREFERRED_ROLLUP if PREFERRED_ROLLUP in pool else pool[0]
    first, last = SEEDED_DAY - dt.timedelta(days=BACKFILL_DAYS - 1), SEEDED_DAY

    page.goto(f"/assets/{rollup}?view=partitions")
    page.get_by_role("button", name=re.compile(r"Materialize…$")).first.click()
    dialog = page.get_by_role("dialog").filter(has_text=f"Launch runs to materialize {rollup}")
    expect(dialog.get_by_text("Backfills all partitions in a single run.")).to_be_visible()
    selection = dialog.get_by_role("textbox")
    selection.fill(f"[{first}...{last}]")
    selection.press("Enter")
    expect(dialog.get_by_text(f"{BACKFILL_DAYS} partitions", exact=True)).to_be_visible()
    settle(dialog.get_by_text("Loading pipeline and partition sets"))
    shots.take(page, "07-backfill-dialog", doc="backfill-dialog")
    dialog.get_by_role("button", name="Launch backfill", exact=True).click()

    href = toast_link(page)
    match = re.search(r"/runs/b/([^/?#]+)", href)
    assert match, f"the backfill toast links to {href}"
    backfill_id = match.group(1)
    backfill = ui_stack.server.wait_for_backfill(backfill_id, timeout=RUN_TIMEOUT_S)
    page.goto(f"/runs/b/{backfill_id}")
    status = page.get_by_text("Status", exact=True).locator("xpath=..")
    expect(status).to_contain_text(re.compile(r"Succeeded|Failed|Canceled|Completed"))
    shots.take(page, "08-backfill")
    expect(status, f"backfill {backfill}").to_contain_text("Succeeded")
    expect(page.get_by_text(f"{first}...{last}").first).to_be_visible()  # the partition selection

    page.get_by_role("tab", name="Runs").click()
    runs = page.get_by_role("link", name=re.compile(r"^run [0-9a-f]{8}$"))  # the ID column
    expect(runs.first).to_be_visible()
    expect(runs, "a single-run backfill is one run").to_have_count(1)
    expect(page.get_by_text("Success", exact=True)).to_be_visible()
    shots.take(page, "09-backfill-one-run", doc="backfill-one-run")
    assert backfill["numPartitions"] == BACKFILL_DAYS and len(backfill["runs"]) == 1, backfill

    page.goto(f"/assets/{rollup}")
    expect(latest_materialization(page)).to_contain_text(last.isoformat())
    shots.take(page, "10-rollup-metadata")
    # A chart, where the rollup's metadata has one (markdown with an embedded PNG).
    charted = False
    for button in page.get_by_text("[Show Markdown]", exact=True).all():
        button.click()
        shown = page.get_by_role("dialog")
        expect(shown).to_be_visible()
        image = shown.locator("img")
        if image.count():
            expect(image.first).to_be_visible()
            assert image.first.evaluate("img => img.naturalWidth") > 0, "the chart image did not load"
            shots.take(page, "11-rollup-plot", doc="rollup-plot")
            charted = True
            break
        shown.get_by_role("button", name="Close").click()
    assert charted or rollup != PREFERRED_ROLLUP, f"{rollup}: no chart in its metadata"


def test_partition_run_succeeds_and_metadata_shown(ui_stack: UiStack, partition_launch: LaunchedRun,
                                                   partition_run: str, page: Page, shots: Screenshots) -> None:
    page.goto(f"/runs/{partition_launch.run_id}")
    expect(page.get_by_text(TERMINAL_RUN).first).to_be_visible()
    shots.take(page, "12-partition-run")
    assert partition_run == "SUCCESS", f"run {partition_launch.run_id}: {partition_run}\n{ui_stack.log_tail()}"
    expect(page.get_by_text("Success", exact=True)).to_be_visible()

    for asset in ("raw_captures", "listings"):
        page.goto(f"/assets/{asset}")
        expect(latest_materialization(page), f"{asset}: latest partition").to_contain_text(partition_launch.partition)

    seen = metadata_value(page, "listings_seen")  # still on listings
    assert seen.isdigit() and int(seen) > 0, f"listings_seen = {seen!r}"
    assert metadata_value(page, "listings_new").isdigit()
    shots.take(page, "13-listings-metadata", doc="asset-metadata")

    page.get_by_role("button", name=re.compile(r"Plots$")).click()  # numeric metadata over partitions
    expect(page.locator("canvas").first, "a metadata plot").to_be_visible()
    shots.take(page, "14-listings-plots")


def test_asset_check_results_visible(ui_stack: UiStack, partition_launch: LaunchedRun, partition_run: str,
                                     page: Page, shots: Screenshots) -> None:
    checks = ui_stack.server.asset_nodes()["listings"]["assetChecksOrError"]["checks"]
    blocking = sorted(c["name"] for c in checks if c["blocking"])
    assert blocking, f"listings has no blocking checks: {checks}"
    assert partition_run == "SUCCESS", f"run {partition_launch.run_id}: {partition_run}"

    page.goto("/assets/listings?view=checks")
    expect(page.get_by_text(f"Checks ({len(checks)})", exact=True)).to_be_visible()
    for name in blocking:
        title = page.get_by_title(name, exact=True)
        row = page.locator("div").filter(has=title).filter(
            has_text=re.compile(r"Succeeded|Failed|Not evaluated|Skipped|Executing|Error", re.I)).last
        expect(row, f"check {name} in the list").to_contain_text("Succeeded")

    page.get_by_title(blocking[0], exact=True).first.click()
    latest = page.get_by_text("Latest execution", exact=True)
    expect(latest).to_be_visible()
    expect(page.get_by_text("Passed", exact=True).first).to_be_visible()
    expect(page.get_by_text(partition_launch.partition, exact=True).first).to_be_visible()
    shots.take(page, "15-asset-checks", doc="asset-checks")
