"""Fixtures of the UI suite: the stack (once per session), Chromium, a fresh tab per test.

The suite is opt-in (it takes a few minutes): it runs with ``pytest -m ui``, when its files are
named on the command line, or with ``MARKET_PULSE_UI_TESTS=1``; otherwise its tests are skipped.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.conftest import drop_database
from tests.support.ui_browser import Screenshots, launch_chromium, ui_tab
from tests.support.ui_stack import UiStack, started_ui_stack

UI_DIR = Path(__file__).resolve().parent
OPT_IN_ENV = "MARKET_PULSE_UI_TESTS"

expect.set_options(timeout=30_000)  # a 2-core machine under load renders pages slowly


def _ui_requested(config: pytest.Config) -> bool:
    if os.environ.get(OPT_IN_ENV) == "1":
        return True
    if "ui" in (config.option.markexpr or "").replace("not ui", ""):
        return True
    return any(Path(arg.split("::")[0]).resolve().is_relative_to(UI_DIR) for arg in config.args)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if _ui_requested(config):
        return
    skip = pytest.mark.skip(reason="Dagster UI suite (a few minutes): run it with `pytest -m ui`")
    for item in items:
        if item.get_closest_marker("ui") and Path(str(item.path)).is_relative_to(UI_DIR):
            item.add_marker(skip)


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
