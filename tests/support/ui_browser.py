"""The Dagster UI in Chromium (Playwright): launching the browser, first-run pop-ups, screenshots.

Chromium is the system one (``downloader.browser.default_chromium_path()``, or
``$MARKET_PULSE_CHROMIUM``): Playwright's own browser download is not used.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Browser, BrowserContext, Page, Playwright

from downloader.browser import default_chromium_path
from infra.settings import PROJECT_ROOT

ARTIFACTS = PROJECT_ROOT / "test-artifacts" / "ui"
"""Screenshots, logs and failure traces of the UI suite (gitignored)."""
DOCS_IMAGES = PROJECT_ROOT / "docs" / "images"
UPDATE_DOCS_ENV = "MARKET_PULSE_UPDATE_DOCS_IMAGES"
"""Set to 1 to refresh the screenshots in docs/images/ from this run."""

LAUNCH_ARGS = ("--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--no-first-run", "--disable-quic", "--disable-dev-shm-usage")
VIEWPORT = {"width": 1440, "height": 900}

# Pop-ups the UI may show on a first visit, as (dialog text, button that dismisses it). Dagster OSS
# shows the community sign-up ("Join the Dagster community", dismissed with "Skip") unless the
# instance sets `nux: enabled: false`, as our dagster.yaml does; the others are there so a future
# "what's new" / consent / onboarding dialog does not block a step.
FIRST_RUN_POPUPS = (
    ("Join the Dagster community", re.compile(r"^(Skip|Dismiss|Close)$")),
    (re.compile(r"What's new|Welcome to Dagster|Get started", re.I),
     re.compile(r"^(Dismiss|Close|Got it|Skip)$", re.I)),
    (re.compile(r"cookies|telemetry", re.I), re.compile(r"^(Decline|Reject|No thanks|Close|Dismiss)", re.I)),
)


def launch_chromium(playwright: Playwright) -> Browser:
    path = default_chromium_path()
    if not path or not Path(path).exists():
        raise FileNotFoundError("no Chromium: install it (e.g. `apt-get install chromium`) or set "
                                "MARKET_PULSE_CHROMIUM to a Chromium/Chrome executable")
    return playwright.chromium.launch(executable_path=path, args=list(LAUNCH_ARGS))


def dismiss_first_run_popups(page: Page) -> None:
    """Register handlers that close first-run pop-ups whenever one covers what a step acts on."""
    for text, button in FIRST_RUN_POPUPS:
        dialog = page.get_by_role("dialog").filter(has_text=text)

        def close(popup, button=button) -> None:  # type: ignore[no-untyped-def]
            popup.get_by_role("button", name=button).first.click()

        page.add_locator_handler(dialog, close)


@dataclass
class UiTab:
    """A browser profile and tab on the UI; set ``failed`` to keep its screenshot and trace."""

    context: BrowserContext
    page: Page
    name: str
    failed: bool = False


def log_in(page: Page, username: str, password: str) -> None:
    """Through the front door's login page, as a person does; ends on the Dagster UI."""
    page.goto("/login")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/login" not in url)


@contextmanager
def ui_tab(browser: Browser, base_url: str, name: str, login: tuple[str, str] | None = None) -> Iterator[UiTab]:
    """A fresh browser profile on the UI (a first-time visitor) recording a Playwright trace;
    logged in through the front door as ``login`` = (user, password) when given.

    When the block raises or marks the tab failed, ``test-artifacts/ui/FAILED-<name>.png`` and
    ``FAILED-<name>.trace.zip`` are written (open the trace with ``playwright show-trace``).
    """
    context = browser.new_context(base_url=base_url, viewport=VIEWPORT, device_scale_factor=1)
    context.set_default_timeout(30_000)
    context.set_default_navigation_timeout(60_000)
    context.tracing.start(snapshots=True)  # DOM snapshots; a screencast costs CPU
    page = context.new_page()
    dismiss_first_run_popups(page)
    tab = UiTab(context=context, page=page, name=name)
    try:
        if login is not None:
            log_in(page, *login)
        yield tab
    except BaseException:
        tab.failed = True
        raise
    finally:
        try:
            if tab.failed:
                save_failure(context, page, name)
            else:
                context.tracing.stop()
        finally:
            context.close()


def save_failure(context: BrowserContext, page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    try:
        page.screenshot(path=ARTIFACTS / f"FAILED-{name}.png", full_page=True)
    finally:
        context.tracing.stop(path=ARTIFACTS / f"FAILED-{name}.trace.zip")


@dataclass
class Screenshots:
    """Screenshots of each step under ``test-artifacts/ui/``; the ones named for the docs are also
    written, palette-compressed, to ``docs/images/`` when ``$MARKET_PULSE_UPDATE_DOCS_IMAGES=1``."""

    directory: Path = ARTIFACTS
    docs: Path | None = DOCS_IMAGES if os.environ.get(UPDATE_DOCS_ENV) == "1" else None

    def take(self, page: Page, name: str, *, doc: str | None = None, full_page: bool = False) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"{name}.png"
        page.screenshot(path=path, full_page=full_page, animations="disabled", caret="hide")
        if doc and self.docs is not None:
            small_png(path, self.docs / f"{doc}.png")
        return path


def small_png(source: Path, target: Path, colours: int = 128) -> None:
    """A UI screenshot as a small PNG (flat colours survive a palette well)."""
    from PIL import Image

    target.parent.mkdir(parents=True, exist_ok=True)
    with Image.open(source) as image:
        image.convert("RGB").quantize(colors=colours, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE) \
            .save(target, optimize=True)
