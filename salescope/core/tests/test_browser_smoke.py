"""End-to-end smoke test in headless Chromium: log in and land on the home page."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from django.conf import settings

from salescope.org.services import create_user
from salescope.testing.browser import login

if TYPE_CHECKING:
    from playwright.sync_api import Page
    from pytest_django.live_server_helper import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-Long-pass-123"


def test_login_lands_on_the_home_page(live_server: LiveServer, page: Page) -> None:
    from playwright.sync_api import expect

    create_user(username="ada", password=PASSWORD, role="manager", check_password=False)
    page.goto(live_server.url + "/")
    expect(page).to_have_url(f"{live_server.url}/login/?next=/")

    login(page, live_server.url, "ada", PASSWORD)

    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Good day")
    screenshots = settings.PROJECT_DIR / "var" / "screenshots"
    screenshots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=screenshots / "home.png", full_page=True)


def test_wrong_password_shows_an_error(live_server: LiveServer, page: Page) -> None:
    from playwright.sync_api import expect

    create_user(username="ada", password=PASSWORD, role="manager", check_password=False)
    login(page, live_server.url, "ada", "not-the-password")

    expect(page.get_by_role("alert")).to_contain_text("didn't match")
    expect(page.locator("#id_username")).to_be_visible()
