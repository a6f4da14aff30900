"""Fixtures of the UI suite: the stack (once per session), Chromium, a fresh tab per test.

The suite is part of ``make test`` and CI (a few minutes); ``pytest -m ui`` runs it alone and
``pytest -m "not ui"`` leaves it out while iterating on something else.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.conftest import drop_database
from tests.support.ui_browser import Screenshots, launch_chromium, ui_tab
from tests.support.ui_stack import UI_DAY, UiStack, started_ui_stack
from tests.support.ui_steps import RUN_TIMEOUT_S, SCRAPE_JOB, LaunchedRun, toast_link

expect.set_options(timeout=30_000)  # a 2-core machine under load renders pages slowly


_REPORTS = pytest.StashKey[dict[str, pytest.TestReport]]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> pytest.TestReport:
    report = yield
    item.stash.setdefault(_REPORTS, {})[report.when] = report
    return report


@pytest.fixture(scope="session")
def ui_stack() -> Iterator[UiStack]:
    with started_ui_stack(drop_database) as stack:
        yield stack


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def shots() -> Screenshots:
    return Screenshots()


@pytest.fixture
def page(request: pytest.FixtureRequest, browser: Browser, ui_stack: UiStack) -> Iterator[Page]:
    """An operator's fresh tab on the UI (logged in through the front door); when the test fails its
    screenshot and trace are kept."""
    with ui_tab(browser, ui_stack.url, request.node.name, login=ui_stack.login("operator")) as tab:
        yield tab.page
        tab.failed = any(report.failed for report in request.node.stash.get(_REPORTS, {}).values())


@pytest.fixture(scope="session")
def partition_launch(ui_stack: UiStack, browser: Browser, shots: Screenshots) -> LaunchedRun:
    """raw_captures + listings for one (date, vendor) partition, launched from the scrape job's dialog.

    Session-scoped and requested by the first test, so the run (a few minutes on a busy 2-core
    machine) executes while the quicker steps are checked.
    """
    partition = f"{UI_DAY}|{ui_stack.vendor}"
    with ui_tab(browser, ui_stack.url, "launch-partition", login=ui_stack.login("operator")) as tab:
        page = tab.page
        page.goto(f"/locations/market_pulse/jobs/{SCRAPE_JOB}")
        page.get_by_role("button", name="Materialize all").click()
        dialog = page.get_by_role("dialog").filter(has_text="Launch runs to materialize")
        expect(dialog.get_by_text("Launch runs to materialize 2 assets")).to_be_visible()
        day = dialog.get_by_placeholder(re.compile(r"^ex: \d{4}-\d{2}-\d{2}"))  # the date dimension
        day.fill(UI_DAY.isoformat())
        day.press("Enter")
        dialog.get_by_text("Select a partition or create one").click()  # the vendor dimension
        page.get_by_role("menuitem").filter(has=page.get_by_title(ui_stack.vendor, exact=True)).click()
        dialog.get_by_text("Launch runs to materialize 2 assets").click()  # closes the vendor list
        expect(dialog.get_by_text("1 partition", exact=True)).to_be_visible()
        expect(day).to_have_value(UI_DAY.isoformat())
        shots.take(page, "01-launch-partition", doc="launch-partition")
        dialog.get_by_role("button", name="Launch 1 run", exact=True).click()
        href = toast_link(page)
    return LaunchedRun(run_id=href.rstrip("/").rsplit("/", 1)[-1], partition=partition)


@pytest.fixture(scope="session")
def partition_run(ui_stack: UiStack, partition_launch: LaunchedRun) -> str:
    """The launched run's final status (RunStatus: SUCCESS, FAILURE, CANCELED)."""
    return ui_stack.server.wait_for_run(partition_launch.run_id, timeout=RUN_TIMEOUT_S)
