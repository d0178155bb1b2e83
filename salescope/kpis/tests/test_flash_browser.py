"""End-to-end: a manager's flash figures on the home page.

Log in → the tiles with this month's values → the per-rep table loads by itself → customise
the tiles (remove one, add one, put it first) → click a number → the records behind it.
Screenshots go to ``var/screenshots/flash-*.png``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import pytest
from django.urls import reverse

from salescope.pipeline import services as pipeline
from salescope.testing.browser import login, screenshot
from salescope.testing.factories import ActivityFactory, ActivityTypeFactory, make_opportunity

if TYPE_CHECKING:
    from playwright.sync_api import Page
    from pytest_django.live_server_helper import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-Long-pass-123"


def shot(page: Page, name: str) -> None:
    screenshot(page, f"flash-{name}")


def _world(o: Any) -> None:
    """Today: rep wins two deals and loses one, rep2 wins one; two calls are done. On the 1st
    of last month: one deal won, two lost, three calls."""
    import datetime as dt

    from salescope.core import clock
    from salescope.kpis.periods import add_months, company_tz

    q = o.stages["Qualification"]
    first = add_months(clock.today().replace(day=1), -1)
    earlier = dt.datetime.combine(first, dt.time(12), tzinfo=company_tz())
    call = ActivityTypeFactory(code="call")
    with clock.frozen(earlier):
        deal = make_opportunity(owner=o.rep, stage=q, amount="900")
        pipeline.mark_won(opportunity=deal, actor=None)
        for _i in range(2):
            lost = make_opportunity(owner=o.rep2, stage=q, amount="300")
            pipeline.mark_lost(opportunity=lost, actor=None, reason=o.reason)
        for _i in range(3):
            ActivityFactory(owner=o.rep, activity_type=call, done_at=earlier)
    for owner, amount in [(o.rep, "1200"), (o.rep, "800"), (o.rep2, "5000")]:
        deal = make_opportunity(owner=owner, stage=q, amount=amount)
        pipeline.mark_won(opportunity=deal, actor=None)
    lost = make_opportunity(owner=o.rep, stage=q, amount="300")
    pipeline.mark_lost(opportunity=lost, actor=None, reason=o.reason)
    make_opportunity(owner=o.rep2, stage=o.stages["Proposal"], amount="10000")
    for owner in (o.rep, o.rep2):
        ActivityFactory(owner=owner, activity_type=call, done_at=clock.now(), duration_minutes=45)


def test_manager_sees_customises_and_drills_into_flash_figures(
    live_server: LiveServer, page: Page, org_setup: Any
) -> None:
    from playwright.sync_api import expect

    o = org_setup
    _world(o)
    login(page, live_server.url, o.manager.username, PASSWORD)
    page.goto(live_server.url + reverse("home"))

    # The tiles, with this month's values and today's.
    won = page.locator('.flash-tile[data-kpi="deals_won"]')
    expect(won.get_by_test_id("tile-value")).to_have_text("3")
    expect(won.get_by_test_id("tile-today")).to_have_text("3")
    expect(won.get_by_test_id("tile-compare")).to_have_text("1")
    expect(won.locator(".flash-change.good")).to_contain_text("+200.0%")
    lost = page.locator('.flash-tile[data-kpi="deals_lost"]')
    expect(lost.locator(".flash-change.good")).to_contain_text("−50.0%")  # fewer lost: good
    activities = page.locator('.flash-tile[data-kpi="activities_done"]')
    expect(activities.locator(".flash-change.bad")).to_contain_text("−33.3%")
    expect(page.locator('.flash-tile[data-kpi="win_rate"] [data-testid=tile-value]')).to_have_text(
        "75.0%"
    )
    expect(page.locator('.flash-tile[data-kpi="time_spent"]')).to_be_visible()

    # The per-rep table loads by itself.
    table = page.locator("#flash-reps table.flash-reps")
    expect(table).to_be_visible()
    rep_row = table.locator("tbody tr", has_text=o.rep.display_name)
    expect(rep_row).to_be_visible()
    expect(table.locator("tbody tr", has_text=o.rep2.display_name)).to_be_visible()
    expect(table).not_to_contain_text(o.other_rep.display_name)
    expect(rep_row.locator("td").first).to_have_text("2")  # rep's deals won
    shot(page, "1-home")

    # Customise: drop "Time spent", add "Open opportunities" in first place.
    page.get_by_role("link", name="Customise").click()
    expect(page.get_by_role("heading", name="Choose your flash figures")).to_be_visible()
    page.locator("#tile-time_spent").uncheck()
    page.locator("#tile-open_opportunities").check()
    page.get_by_label("Position of Open opportunities").fill("0")
    shot(page, "2-choose")
    page.get_by_role("button", name="Save").click()
    expect(page).to_have_url(live_server.url + reverse("home"))
    expect(page.get_by_role("status")).to_contain_text("Your flash figures are saved.")
    expect(page.locator('.flash-tile[data-kpi="time_spent"]')).to_have_count(0)
    first = page.locator(".flash-tile").first
    expect(first).to_have_attribute("data-kpi", "open_opportunities")
    expect(first.get_by_test_id("tile-value")).to_have_text("1")
    expect(first).to_contain_text("as of now")
    expect(page.locator("#flash-reps table.flash-reps thead")).to_contain_text("Open opportunities")

    # A number leads to the records behind it.
    won.get_by_test_id("tile-value").click()
    expect(page).to_have_url(re.compile(re.escape(reverse("kpis:records")) + r"\?kpi=deals_won"))
    expect(page.locator("#rec-summary")).to_have_attribute("data-count", "3")
    shot(page, "3-records")

    # On a phone the tiles stack and the per-rep table scrolls sideways.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server.url + reverse("home"))
    expect(page.locator("#flash-reps table.flash-reps")).to_be_visible()
    shot(page, "4-phone")
