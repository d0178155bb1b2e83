"""End-to-end: a manager analyses won revenue by rep.

Open Analysis → pick a KPI, a dimension, a period and a chart (htmx updates the result and
the address) → the chart is drawn and the table filled → click a number → the records behind
it add up to it → download the CSV export. Screenshots: ``var/screenshots/analysis-*.png``.
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

from salescope.pipeline import services as pipeline
from salescope.testing.browser import login, screenshot
from salescope.testing.factories import make_opportunity

if TYPE_CHECKING:
    from playwright.sync_api import Page
    from pytest_django.live_server_helper import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-Long-pass-123"


def shot(page: Page, name: str) -> None:
    screenshot(page, f"analysis-{name}")


def _world(o: Any) -> None:
    """Today: rep wins 1,200 and 800, rep2 wins 5,000; other_rep (another team) wins 700."""
    q = o.stages["Qualification"]
    for owner, amount in [(o.rep, "1200"), (o.rep, "800"), (o.rep2, "5000"), (o.other_rep, "700")]:
        deal = make_opportunity(owner=owner, stage=q, amount=amount, name=f"Deal {amount}")
        pipeline.mark_won(opportunity=deal, actor=None)


def _choose(page: Page, select: str, value: str) -> None:
    """Pick an option; wait for the htmx result that follows."""
    with page.expect_response(lambda r: "/analysis/result/" in r.url):
        page.select_option(select, value)
    page.wait_for_function("() => !document.querySelector('.htmx-request')")


def test_analyse_drill_down_and_export(live_server: LiveServer, page: Page, org_setup: Any) -> None:
    from playwright.sync_api import expect

    o = org_setup
    _world(o)
    login(page, live_server.url, o.manager.username, PASSWORD)
    page.goto(live_server.url + reverse("kpis:analysis"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Analysis")

    _choose(page, "#an-kpi", "deals_won")
    expect(page.locator(".kpi-help")).to_contain_text("count of opportunities")
    _choose(page, "#an-kpi", "won_revenue")
    _choose(page, "#an-grain", "")
    _choose(page, "#an-by", "rep")
    _choose(page, "#an-period", "this_month")
    _choose(page, "#an-chart", "bar")
    expect(page).to_have_url(re.compile(r"/analysis/\?.*by=rep"))
    expect(page).to_have_url(re.compile(r"chart=bar"))

    # The chart (SVG) and the table; the formula under them.
    chart = page.locator("#an-result [data-echarts]")
    expect(chart).to_have_attribute("data-drawn", "1")
    expect(chart.locator("svg")).to_be_visible()
    expect(page.locator("#an-result .kw-formula")).to_contain_text("sum of amount")
    table = page.locator("#an-result table.kw-table")
    rep_cell = table.locator("tr", has_text=o.rep.get_full_name()).locator("a.kw-cell")
    expect(rep_cell).to_have_text("€2,000.00")
    expect(table.locator("tr.kw-total-row a.kw-cell")).to_have_text("€7,000.00")
    expect(table).not_to_contain_text(o.other_rep.get_full_name())
    shot(page, "1-result")

    # The address can be shared: opening it shows the same.
    shared = page.url
    page.goto(shared)
    expect(page.locator("#an-by")).to_have_value("rep")
    expect(page.locator("#an-result [data-echarts] svg")).to_be_visible()

    # Click a number: the records behind it add up to it.
    rep_cell = page.locator("#an-result table.kw-table tr", has_text=o.rep.get_full_name())
    with page.expect_navigation():
        rep_cell.locator("a.kw-cell").click()
    expect(page.locator("#rec-summary")).to_have_attribute("data-count", "2")
    expect(page.locator("#rec-total")).to_have_text("€2,000.00")
    expect(page.locator("#rec-summary")).to_contain_text("the number you clicked")
    expect(page.locator("#rec-table tbody tr")).to_have_count(2)
    shot(page, "2-records")

    # Back, and download the widget's data as CSV.
    page.go_back()
    with page.expect_download() as info:
        page.locator("#an-result a.kw-export-csv").click()
    download = info.value
    assert download.suggested_filename.startswith("won_revenue-")
    body = Path(download.path()).read_bytes().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0] == ["group", "bucket", "value", "compare", "change"]
    values = {r[0]: Decimal(r[2]) for r in rows[1:]}
    assert values[o.rep.get_full_name()] == Decimal("2000.00")
    assert values["Total"] == Decimal("7000.00")

    # Another chart type on the same page: a pie, drawn after the swap.
    _choose(page, "#an-chart", "pie")
    expect(page.locator("#an-result [data-echarts][data-drawn='1'] svg")).to_be_visible()
    shot(page, "3-pie")

    # A pie needs a dimension: the message shows next to the chart field.
    _choose(page, "#an-by", "")
    expect(page.locator("#an-chart + .errorlist")).to_contain_text("needs a dimension")
    shot(page, "4-error")

    # Back to bars; a click on a bar opens the records behind it.
    _choose(page, "#an-by", "rep")
    _choose(page, "#an-chart", "bar")
    chart = page.locator("#an-result [data-echarts][data-drawn='1']")
    expect(chart.locator("svg")).to_be_visible()
    x, y = page.evaluate(
        """(name) => {
            const el = document.querySelector("#an-result [data-echarts]");
            const chart = echarts.getInstanceByDom(el);
            const option = chart.getOption();
            const index = option.xAxis[0].data.indexOf(name);
            const value = option.series[0].data[index].value;
            return chart.convertToPixel({seriesIndex: 0}, [index, value / 2]);
        }""",
        o.rep2.get_full_name(),
    )
    box = chart.bounding_box()
    assert box is not None
    with page.expect_navigation():
        page.mouse.click(box["x"] + x, box["y"] + y)
    expect(page.locator("#rec-total")).to_have_text("€5,000.00")
