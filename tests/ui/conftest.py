"""Fixtures of the UI suite: the stack (once per session), Chromium, a fresh tab per test.

The suite is part of ``make test`` and CI (a few minutes); ``pytest -m ui`` runs it alone and
``pytest -m "not ui"`` leaves it out while iterating on something else.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.conftest import drop_database
from tests.support.ui_browser import Screenshots, launch_chromium, ui_tab
from tests.support.ui_stack import UiStack, started_ui_stack

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
    """A first-time visitor's tab on the UI; when the test fails its screenshot and trace are kept."""
    with ui_tab(browser, ui_stack.url, request.node.name) as tab:
        yield tab.page
        tab.failed = any(report.failed for report in request.node.stash.get(_REPORTS, {}).values())
