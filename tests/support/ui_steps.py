"""Steps and helpers shared by the UI suite's tests (the fixtures are in tests/ui/conftest.py)."""

from __future__ import annotations

from dataclasses import dataclass

from playwright.sync_api import Locator, Page, expect

RUN_TIMEOUT_S = 420
"""A scrape run is six step processes: about a minute on an idle 2-core machine, 3 when it is busy."""
SCRAPE_JOB = "scrape"


@dataclass(frozen=True)
class LaunchedRun:
    run_id: str
    partition: str


def toast_link(page: Page) -> str:
    """The "View" link of the toast a launch shows ("Launched run …" / "Created backfill …")."""
    view = page.get_by_role("link", name="View", exact=True).last
    expect(view).to_be_visible()
    href = view.get_attribute("href")
    assert href, "the toast's View link has no target"
    return href


def instigator_switch(page: Page, name: str) -> Locator:
    """The on/off switch of a schedule or sensor in the Automation list."""
    link = page.locator(f'a[href$="/schedules/{name}"], a[href$="/sensors/{name}"]')
    row = page.locator("div").filter(has=link).filter(has=page.get_by_role("checkbox")).last
    boxes = row.get_by_role("checkbox")
    expect(boxes, f"{name}: selection box and on/off switch").to_have_count(2)  # the switch renders once loaded
    return boxes.last
