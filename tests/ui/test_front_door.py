"""The front door in Chromium: the login page, the session cookie, logging out, and what a viewer
and an operator can do in Dagster's UI behind it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, expect

from tests.support.ui_browser import Screenshots, ui_tab
from tests.support.ui_stack import UiStack
from tests.support.ui_steps import SCRAPE_JOB, LaunchedRun, instigator_switch

pytestmark = [pytest.mark.ui, pytest.mark.browser, pytest.mark.slow]

RUN_IDS = "{ runsOrError { ... on Runs { results { runId } } } }"
FETCH_MUTATION = """async () => {
  const response = await fetch('/graphql', {method: 'POST', headers: {'Content-Type': 'application/json'},
    body: JSON.stringify({query: 'mutation { launchPartitionBackfill(backfillParams: {partitionNames: []}) '
                                 + '{ __typename } }'})});
  return response.status;
}"""


def run_ids(ui_stack: UiStack) -> set[str]:
    return {r["runId"] for r in ui_stack.server.graphql(RUN_IDS)["runsOrError"]["results"]}


def test_login_cookie_and_logout(browser: Browser, ui_stack: UiStack, shots: Screenshots) -> None:
    with ui_tab(browser, ui_stack.url, "login") as tab:
        page = tab.page
        page.goto("/runs")
        expect(page).to_have_url(re.compile(r"/login\?next=%2Fruns$"))
        page.get_by_label("User name").fill("viewer")
        shots.take(page, "16-login", doc="login")
        page.get_by_label("Password").fill("not the password at all")
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("alert")).to_contain_text("Wrong user name or password")
        assert not [c for c in tab.context.cookies() if c["name"].endswith("mp_session")]
        page.get_by_label("Password").fill(ui_stack.passwords["viewer"])
        page.get_by_role("button", name="Log in").click()
        expect(page).to_have_url(re.compile(r"/runs$"))
        expect(page.get_by_role("link", name="Runs").first).to_be_visible()

        (cookie,) = [c for c in tab.context.cookies() if c["name"] == "mp_session"]
        assert cookie["httpOnly"] is True and cookie["sameSite"] == "Strict" and cookie["path"] == "/"
        assert cookie["secure"] is False  # plain http on loopback; on https it is __Host-mp_session, Secure
        assert page.evaluate("document.cookie") == "", "scripts must not see the session cookie"

        page.goto("/account")
        page.get_by_role("button", name="Log out").click()
        expect(page).to_have_url(re.compile(r"/login$"))
        page.goto("/runs")
        expect(page).to_have_url(re.compile(r"/login\?next=%2Fruns$"))


def test_viewer_cannot_launch_a_run_while_an_operator_can(browser: Browser, ui_stack: UiStack,
                                                          partition_launch: LaunchedRun, shots: Screenshots) -> None:
    assert partition_launch.run_id in run_ids(ui_stack), "the operator's launch from the dialog made a run"
    before = run_ids(ui_stack)
    with ui_tab(browser, ui_stack.url, "viewer", login=ui_stack.login("viewer")) as tab:
        page = tab.page
        page.goto(f"/locations/market_pulse/jobs/{SCRAPE_JOB}")
        materialize = page.get_by_role("button", name="Materialize all")
        expect(materialize).to_be_disabled()
        materialize.hover()
        expect(page.get_by_text("You do not have permission to materialize assets")).to_be_visible()
        shots.take(page, "17-viewer-read-only", doc="viewer-read-only")
        materialize.click(force=True)
        expect(page.get_by_role("dialog").filter(has_text="Launch runs to materialize")).to_have_count(0)
        # What a crafted request from the viewer's own page gets: the front door refuses it.
        assert page.evaluate(FETCH_MUTATION) == 403

        page.goto("/automation")
        expect(instigator_switch(page, f"scrape_{ui_stack.vendor}")).to_be_disabled()

    with ui_tab(browser, ui_stack.url, "operator", login=ui_stack.login("operator")) as tab:
        page = tab.page
        page.goto(f"/locations/market_pulse/jobs/{SCRAPE_JOB}")
        materialize = page.get_by_role("button", name="Materialize all")
        expect(materialize).to_be_enabled()
        materialize.click()
        expect(page.get_by_role("dialog").filter(has_text="Launch runs to materialize")).to_be_visible()
        page.goto("/automation")
        expect(instigator_switch(page, f"scrape_{ui_stack.vendor}")).to_be_enabled()
    assert run_ids(ui_stack) == before, "the viewer launched nothing"
