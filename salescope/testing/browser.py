"""Pytest plugin: headless Debian Chromium through Playwright's sync API.

Load it with ``pytest_plugins = ["salescope.testing.browser"]`` and use the ``page`` fixture
together with pytest-django's ``live_server``; mark such tests ``@pytest.mark.browser``::

    @pytest.mark.browser
    @pytest.mark.django_db(transaction=True)
    def test_home(live_server, page):
        page.goto(live_server.url)

Without Chromium or the playwright package the tests are skipped, loudly; with
``SALESCOPE_REQUIRE_BROWSER=1`` (CI) they fail instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

# Playwright's sync API keeps an asyncio event loop in the test thread, which makes Django's
# async-safety check refuse ORM calls in tests; they are in fact synchronous and safe.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = os.environ.get("SALESCOPE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
    "--disable-quic",
]
DEFAULT_TIMEOUT_MS = 15_000


def browser_required() -> bool:
    return os.environ.get("SALESCOPE_REQUIRE_BROWSER") == "1"


def _unavailable(reason: str) -> NoReturn:
    message = f"!!! BROWSER TESTS NOT RUN: {reason} !!!"
    if browser_required():
        pytest.fail(f"{message} (SALESCOPE_REQUIRE_BROWSER=1)", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed (run 'make install')")
    if not (Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK)):
        _unavailable(f"Chromium not found at {CHROMIUM} (install it: apt-get install chromium)")
    with sync_playwright() as playwright:
        try:
            launched = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
        except PlaywrightError as exc:
            _unavailable(f"Chromium at {CHROMIUM} did not start: {exc}")
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 800})
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


def login(page: Page, live_server_url: str, username: str, password: str) -> None:
    """Log in through the login form; opens the login page first unless it is showing."""
    if page.locator("#id_username").count() == 0:
        from django.urls import reverse

        page.goto(live_server_url.rstrip("/") + reverse("login"))
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.locator("form:has(#id_username) [type=submit]").click()


def screenshot(page: Page, name: str, *, full_page: bool = True) -> None:
    """Save the page as ``var/screenshots/<name>.png`` (to look at what a test saw)."""
    from django.conf import settings

    folder = Path(settings.PROJECT_DIR) / "var" / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=full_page)
