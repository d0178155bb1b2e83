"""In Chromium: a manager filters the deals list, adds a column, saves the view, reloads it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from django.conf import settings

from salescope.testing.browser import login

if TYPE_CHECKING:
    from playwright.sync_api import Page
    from pytest_django.live_server_helper import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-Long-pass-123"


def test_filter_choose_a_column_save_and_reload_a_view(
    live_server: LiveServer, page: Page, world
) -> None:
    from playwright.sync_api import expect

    from salescope.testing.factories import make_opportunity

    org = world.org
    for i in range(12):
        make_opportunity(
            owner=org.rep if i % 2 else org.rep2,
            stage=org.stages["Meeting"],
            account=world.acme if i % 3 else world.globex,
            name=f"Retrofit {i:02d}",
            amount=str(1500 + 250 * i),
            next_step="Send offer" if i % 4 else "",
        )
    login(page, live_server.url, org.manager.username, PASSWORD)
    page.goto(live_server.url + "/deals/")
    table = page.locator("#list-table")
    expect(table).to_contain_text("Acme lighting")
    expect(table).to_contain_text("Globex retrofit")

    # Filter: stage Proposal.
    page.get_by_text("Filters", exact=True).click()
    page.locator("#filter-panel").get_by_label("Stage", exact=True).select_option(
        label="Standard › Proposal"
    )
    # Choose a column: Weighted.
    page.locator("#column-panel > summary").click()
    page.locator("#column-panel").get_by_label("Weighted", exact=True).check()
    page.get_by_role("button", name="Apply", exact=True).click()
    expect(table).to_contain_text("Acme lighting")
    expect(table).not_to_contain_text("Globex retrofit")
    expect(page.locator("#list-table thead")).to_contain_text("Weighted")
    assert "stage=" in page.url and "cols=weighted" in page.url

    # Save the view.
    page.locator("#saved-views > summary").click()
    page.get_by_label("Save the current filters and columns as").fill("Hot proposals")
    page.get_by_role("button", name="Save view").click()
    expect(page.locator(".messages")).to_contain_text("Hot proposals")

    # Go back to everything, then reload the view from the menu.
    page.goto(live_server.url + "/deals/?clear=1")
    expect(table).to_contain_text("Globex retrofit")
    expect(page.locator("#list-table thead")).not_to_contain_text("Weighted")
    page.locator("#saved-views > summary").click()
    page.locator("#saved-views").get_by_role("link", name="Hot proposals").click()
    expect(table).not_to_contain_text("Globex retrofit")
    expect(table).to_contain_text("Acme lighting")
    expect(page.locator("#list-table thead")).to_contain_text("Weighted")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hot proposals")

    # Screenshots of the full list at desktop and phone width.
    page.goto(
        live_server.url + "/deals/?clear=1&cols=name&cols=account&cols=stage&cols=amount"
        "&cols=weighted&cols=expected_close&cols=owner&cols=outcome&cols=next_step"
    )
    folder = settings.PROJECT_DIR / "var" / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    page.locator('input[name="ids"]').nth(1).check()
    page.locator("#bulk-action").select_option("reassign")
    page.screenshot(path=folder / "deals-list-desktop.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    page.screenshot(path=folder / "deals-list-phone.png", full_page=True)
