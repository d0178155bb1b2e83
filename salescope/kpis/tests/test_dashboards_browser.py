"""End-to-end: a manager builds a widget, saves it to a dashboard, shares it, drills down and
exports.

Log in → Analysis: won revenue by rep this month as a bar chart → "Save to dashboard" as a
new dashboard → the dashboard with the widget's chart → share it with the team → click the
total → the records behind it add up to the number → download the widget's CSV → the
printable page. Screenshots go to ``var/screenshots/dashboards-*.png``.
"""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from django.urls import reverse

from salescope.kpis import builtins
from salescope.kpis.models import Dashboard
from salescope.pipeline import services as pipeline
from salescope.testing.browser import login, screenshot
from salescope.testing.factories import make_opportunity

if TYPE_CHECKING:
    from playwright.sync_api import Page
    from pytest_django.live_server_helper import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-Long-pass-123"


def shot(page: Page, name: str) -> None:
    screenshot(page, f"dashboards-{name}")


def _world(o: Any) -> None:
    """Won today: rep 1,000 and 3,000, rep2 500 (team North); other_rep 4,000 (South)."""
    q = o.stages["Qualification"]
    for owner, amount in [(o.rep, "1000"), (o.rep, "3000"), (o.rep2, "500"), (o.other_rep, "4000")]:
        deal = make_opportunity(owner=owner, stage=q, amount=amount, name=f"Deal {amount}")
        pipeline.mark_won(opportunity=deal, actor=None)
    o.manager.set_password(PASSWORD)
    o.manager.save()


def _choose(page: Page, select: str, value: str) -> None:
    """Pick an option of the Analysis form and wait until the result is redrawn with it."""
    from playwright.sync_api import expect

    with page.expect_response(lambda r: "/analysis/" in r.url and r.request.method == "GET"):
        page.select_option(select, value)
    expect(page.locator(select)).to_have_value(value)


def test_build_save_share_drill_down_export_and_print(
    live_server: LiveServer, page: Page, org_setup: Any
) -> None:
    from playwright.sync_api import expect

    o = org_setup
    _world(o)
    base = live_server.url
    login(page, base, "manager", PASSWORD)

    # Build the widget on the Analysis page.
    page.goto(base + reverse("kpis:analysis"))
    _choose(page, "#an-kpi", "won_revenue")
    _choose(page, "#an-by", "rep")
    _choose(page, "#an-period", "this_month")
    _choose(page, "#an-chart", "bar")
    expect(page.locator("#an-result [data-echarts][data-drawn='1'] svg")).to_be_visible()

    # Save it to a new dashboard.
    page.fill("#an-new-dashboard", "Team revenue")
    page.fill("#an-title", "Revenue by rep")
    with page.expect_navigation():
        page.locator("#an-save-form [type=submit]").click()
    board = Dashboard.objects.get(name="Team revenue")
    expect(page).to_have_url(re.compile(rf"/analysis/dashboards/{board.pk}/"))
    expect(page.locator(".messages")).to_contain_text("saved to dashboard")
    card = page.locator(".db-card", has_text="Revenue by rep")
    expect(card.locator("[data-echarts][data-drawn='1'] svg")).to_be_visible()
    total = card.locator(".kw-total")
    expect(total).to_contain_text("4,500")  # North only: not other_rep's 4,000
    shot(page, "dashboard")

    # Share it with the team.
    page.locator(".db-settings > summary").click()
    page.select_option("#db-share", "team")
    with page.expect_navigation():
        page.locator(".db-settings form:has(#db-share) [type=submit]").click()
    expect(page.locator("#db-sharing")).to_contain_text("Team North")
    board.refresh_from_db()
    assert (board.sharing, board.team) == ("team", o.team)

    # The card's menu: full width (swapped in place), the chart drawn again.
    card.locator(".db-menu > summary").click()
    shot(page, "menu")
    card.get_by_role("button", name="Full width").click()
    expect(page.locator(".db-card.db-full", has_text="Revenue by rep")).to_be_visible()
    expect(card.locator("[data-echarts][data-drawn='1'] svg")).to_be_visible()
    assert board.widgets.get().size == "full"

    # Drill down: the records behind the total add up to it.
    number = total.inner_text().strip()
    with page.expect_navigation():
        page.locator(".db-card", has_text="Revenue by rep").locator(".kw-total").click()
    expect(page.locator("#rec-summary")).to_contain_text("3 records")
    assert page.locator("#rec-total").inner_text().strip() == number
    assert Decimal(page.locator("#rec-summary").get_attribute("data-total") or "") == 4500
    expect(page.locator("#rec-table")).not_to_contain_text("Deal 4000")
    shot(page, "records")
    page.go_back()

    # Download the widget's data.
    card = page.locator(".db-card", has_text="Revenue by rep")
    with page.expect_download() as info:
        card.locator(".kw-export-csv").click()
    data = Path(info.value.path()).read_text(encoding="utf-8-sig")
    lines = list(csv.reader(io.StringIO(data)))
    values = {line[0]: line[2] for line in lines if len(line) > 2}
    assert Decimal(values["Total"]) == 4500
    assert Decimal(values[o.rep.display_name]) == 4000

    # The printable page.
    with page.expect_navigation():
        page.locator("#db-print").click()
    expect(page.locator("#db-print-button")).to_be_visible()
    expect(page.locator(".mainnav")).to_have_count(0)
    expect(page.locator("[data-echarts][data-drawn='1'] svg").first).to_be_visible()
    expect(page.locator(".kw-formula")).to_contain_text("Formula")
    expect(page.locator(".kw-table")).to_contain_text(o.rep.display_name)
    page.emulate_media(media="print")
    shot(page, "print")

    # The list: built-ins first, then the manager's own dashboard, shared with the team.
    page.emulate_media(media="screen")
    page.goto(base + reverse("kpis:dashboards"))
    expect(page.locator("#db-mine-list")).to_contain_text("Team revenue")
    expect(page.locator("#db-mine-list")).to_contain_text("North")
    shot(page, "list")

    # The built-in manager dashboard loads every widget by itself.
    page.get_by_role("link", name="Sales manager").click()
    expect(page.locator(".db-loading")).to_have_count(0)
    expect(page.locator(".db-card .kw")).to_have_count(len(builtins.MANAGER.widgets))
    shot(page, "builtin-manager")
