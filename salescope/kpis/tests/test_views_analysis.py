"""The Analysis page, its htmx partial, drill-down pages and exports.

Data: rep wins W1 (1000 EUR, 03-10) and W2 (3000 EUR, 03-20), other_rep wins W3 (500 EUR,
03-12) and loses L1 (700 EUR, 03-14); all in the Standard pipeline.
"""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
from typing import Any

import pytest
from openpyxl import load_workbook

from salescope.core import clock
from salescope.kpis.tests.conftest import NOW, at
from salescope.kpis.widgets import CHARTS
from salescope.pipeline import services
from salescope.testing.factories import make_opportunity

MARCH = {"period": "custom", "from": "2026-03-01", "to": "2026-03-31"}


@pytest.fixture(name="deals")
def deals_fixture(org_setup: Any) -> Any:
    o = org_setup
    q = o.stages["Qualification"]
    o.opps = {}
    for name, owner, amount, day, won in (
        ("W1", o.rep, "1000", 10, True),
        ("W2", o.rep, "3000", 20, True),
        ("W3", o.other_rep, "500", 12, True),
        ("L1", o.other_rep, "700", 14, False),
    ):
        with clock.frozen(at(3, 1)):
            opp = make_opportunity(owner=owner, stage=q, amount=amount, name=name)
        with clock.frozen(at(3, day)):
            if won:
                services.mark_won(opportunity=opp, actor=None)
            else:
                services.mark_lost(opportunity=opp, actor=None, reason=o.reason)
        o.opps[name] = opp
    return o


@pytest.fixture(name="frozen")
def frozen_fixture() -> Any:
    with clock.frozen(NOW):
        yield NOW


def _get(client: Any, user: Any, name: str, params: Any = None, **headers: Any) -> Any:
    client.force_login(user)
    return client.get(f"/analysis/{name}", params or {}, headers=headers)


# --- the page ---------------------------------------------------------------------------------


def test_page_shows_form_formula_chart_and_table(client: Any, deals: Any, frozen: Any) -> None:
    params = {"kpi": "won_revenue", "by": "rep", "chart": "bar", **MARCH}
    response = _get(client, deals.admin, "", params)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="an-form"' in html and 'hx-get="/analysis/result/"' in html
    assert "sum of amount of deals won in the period" in html  # the formula
    assert "data-echarts=" in html and 'type="application/json"' in html
    assert "€4,000.00" in html and "€4,500.00" in html  # rep's cell, total
    assert "/analysis/records/?" in html
    assert 'name="f_source"' in html  # filters per dimension


def test_default_page_without_parameters(client: Any, deals: Any, frozen: Any) -> None:
    response = _get(client, deals.admin, "")
    assert response.status_code == 200
    assert "Won revenue" in response.content.decode()


@pytest.mark.parametrize("chart", list(CHARTS))
def test_every_chart_type_renders(client: Any, deals: Any, frozen: Any, chart: str) -> None:
    params: dict[str, Any] = {"kpi": "won_revenue", "chart": chart, **MARCH}
    if chart in ("bar", "stacked", "pie", "table", "funnel"):
        params["by"] = "rep"
    if chart in ("stacked", "line"):
        params["grain"] = "week"
    if chart == "funnel":
        params.update(kpi="stage_entries", by="stage")
    response = _get(client, deals.admin, "result/", params)
    assert response.status_code == 200, response.content.decode()[:500]
    html = response.content.decode()
    assert "kw-error" not in html
    if chart in ("number", "table"):
        assert "data-echarts" not in html
    else:
        assert "data-echarts" in html


def test_partial_pushes_the_page_url(client: Any, deals: Any, frozen: Any) -> None:
    response = _get(client, deals.admin, "result/", {"kpi": "deals_won", **MARCH})
    assert response.status_code == 200
    assert response["HX-Push-Url"].startswith("/analysis/?")
    assert "kpi=deals_won" in response["HX-Push-Url"]


def test_changing_the_kpi_drops_what_it_does_not_support(
    client: Any, deals: Any, frozen: Any
) -> None:
    params = {"kpi": "open_opportunities", "by": "lost_reason", "grain": "month", **MARCH}
    response = _get(client, deals.admin, "result/", params, HX_Trigger_Name="kpi")
    assert response.status_code == 200
    assert "by=lost_reason" not in response["HX-Push-Url"]
    assert "grain" not in response["HX-Push-Url"]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"kpi": "nope"}, "Unknown KPI"),
        ({"kpi": "deals_won", "by": "activity_type"}, "cannot be grouped by"),
        ({"kpi": "deals_won", "period": "custom", "from": "2026-03-10", "to": "2026-03-01"},
         "is before"),
        ({"kpi": "deals_won", "currency": "XXQ"}, "Unknown currency"),
        ({"kpi": "deals_won", "f_source": "abc"}, "is not an id"),
    ],
)  # fmt: skip
def test_bad_input_gives_a_clear_message(
    client: Any, deals: Any, frozen: Any, params: dict[str, str], message: str
) -> None:
    page = _get(client, deals.admin, "", params)
    assert page.status_code == 200
    assert message in page.content.decode()
    partial = _get(client, deals.admin, "result/", params)
    assert partial.status_code == 400
    assert message in partial.content.decode()
    for name in ("export.csv", "export.xlsx", "records/", "records.csv"):
        response = _get(client, deals.admin, name, params)
        assert response.status_code == 400, name
        assert message in response.content.decode(errors="replace"), name


def test_a_chart_problem_does_not_stop_records_or_exports(
    client: Any, deals: Any, frozen: Any
) -> None:
    params = {"kpi": "deals_won", "chart": "pie", **MARCH}
    page = _get(client, deals.admin, "", params)
    assert "A pie chart needs a dimension." in page.content.decode()
    assert _get(client, deals.admin, "result/", params).status_code == 400
    for name in ("export.csv", "export.xlsx", "records/", "records.csv"):
        assert _get(client, deals.admin, name, params).status_code == 200, name


def test_missing_exchange_rate_is_an_error_not_a_crash(
    client: Any, deals: Any, frozen: Any
) -> None:
    from salescope.org.models import Currency

    Currency.objects.get_or_create(code="USD", defaults={"name": "US dollar"})
    params = {"kpi": "won_revenue", "currency": "USD", **MARCH}
    response = _get(client, deals.admin, "result/", params)
    assert response.status_code == 400
    assert "No exchange rate" in response.content.decode()


def test_pages_need_a_login(client: Any, deals: Any) -> None:
    for name in ("", "result/", "records/", "export.csv", "export.xlsx", "records.csv"):
        response = client.get(f"/analysis/{name}", {"kpi": "deals_won"})
        assert response.status_code == 302, name


# --- drill-down -------------------------------------------------------------------------------


def test_drill_down_lists_the_records_of_a_cell(client: Any, deals: Any, frozen: Any) -> None:
    params = {"kpi": "won_revenue", "by": "rep", "group": str(deals.rep.pk), **MARCH}
    response = _get(client, deals.admin, "records/", params)
    assert response.status_code == 200
    html = response.content.decode()
    assert "2 records" in html and "€4,000.00" in html
    assert "the number you clicked" in html
    assert f"/deals/{deals.opps['W1'].pk}/" in html and "W3" not in html


def test_drill_down_of_a_bucket(client: Any, deals: Any, frozen: Any) -> None:
    params = {"kpi": "deals_won", "grain": "week", "bucket": "2026-03-09", **MARCH}
    html = _get(client, deals.admin, "records/", params).content.decode()
    assert "2 records" in html  # W1 (03-10) and W3 (03-12)
    assert "W1" in html and "W3" in html and "W2" not in html


def test_a_rep_only_sees_own_records(client: Any, deals: Any, frozen: Any) -> None:
    params = {"kpi": "deals_won", **MARCH}
    html = _get(client, deals.other_rep, "records/", params).content.decode()
    assert "1 record" in html and "W3" in html and "W1" not in html
    body = _get(client, deals.other_rep, "records.csv", params).content.decode("utf-8-sig")
    names = [row[1] for row in csv.reader(io.StringIO(body))][1:]
    assert names == ["W3"]
    # grouping by someone else's id gives nothing either
    params = {"kpi": "deals_won", "by": "rep", "group": str(deals.rep.pk), **MARCH}
    html = _get(client, deals.other_rep, "records/", params).content.decode()
    assert "0 records" in html


def test_derived_kpi_drills_into_its_records(client: Any, deals: Any, frozen: Any) -> None:
    params = {"kpi": "win_rate", **MARCH}
    html = _get(client, deals.admin, "records/", params).content.decode()
    assert "Win rate" in html and "computed from these records" in html


def test_histogram_bins_link_to_their_records(client: Any, deals: Any, frozen: Any) -> None:
    from salescope.kpis import charts, engine
    from salescope.kpis.widgets import WidgetSpec

    spec = WidgetSpec.from_params({"kpi": "average_deal_size", "chart": "histogram", **MARCH})
    result = engine.compute(spec.query(deals.admin))
    option = charts.option(spec, result)
    assert option is not None
    points = option["series"][0]["data"]
    assert sum(p["value"] for p in points) == 3
    client.force_login(deals.admin)
    seen = 0
    for point in points:
        html = client.get(point["url"]).content.decode()
        assert f'data-count="{point["value"]}"' in html
        seen += point["value"]
    assert seen == 3


# --- exports --------------------------------------------------------------------------------


def test_csv_export_equals_the_computed_values(client: Any, deals: Any, frozen: Any) -> None:
    params = {"kpi": "won_revenue", "by": "rep", "grain": "month", **MARCH}
    response = _get(client, deals.admin, "export.csv", params)
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith('won_revenue-2026-03-01-2026-03-31.csv"')
    assert response.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["group", "bucket", "value", "compare", "change"]
    body = {(r[0], r[1]): r[2] for r in rows[1:]}
    assert Decimal(body[(deals.rep.get_full_name(), "2026-03-01")]) == Decimal("4000")
    assert Decimal(body[("Total", "Total")]) == Decimal("4500")


def test_xlsx_export_keeps_numbers(client: Any, deals: Any, frozen: Any) -> None:
    params = {"kpi": "deals_won", "by": "rep", "filter": "source:none", **MARCH}
    response = _get(client, deals.admin, "export.xlsx", params)
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    flat = {str(r[0]): r[1] for r in values if r and r[0]}
    assert flat["KPI"] == "Deals won"
    assert "count of opportunities" in flat["Formula"]
    assert "(none)" in flat["Filters"]
    header_at = next(i for i, r in enumerate(values) if r[:3] == ["group", "bucket", "value"])
    data = {r[0]: r[2] for r in values[header_at + 1 :]}
    assert data[deals.rep.get_full_name()] == 2 and data["Total"] == 3
    assert isinstance(data["Total"], int | float)


def test_records_are_paginated(client: Any, deals: Any, frozen: Any, monkeypatch: Any) -> None:
    from salescope.kpis import views_analysis

    monkeypatch.setattr(views_analysis, "RECORDS_PER_PAGE", 2)
    params = {"kpi": "deals_won", **MARCH}
    first = _get(client, deals.admin, "records/", params).content.decode()
    assert "3 records" in first and "Page 1 of 2" in first and "page=2" in first
    second = _get(client, deals.admin, "records/", {**params, "page": "2"}).content.decode()
    assert "Page 2 of 2" in second and len(re.findall(r'href="/deals/\d+/"', second)) == 1


def test_filter_choices_of_a_rep_are_their_own(client: Any, deals: Any, frozen: Any) -> None:
    html = _get(client, deals.rep, "", {"kpi": "deals_won", **MARCH}).content.decode()
    start = html.index('name="f_rep"')
    options = html[start : html.index("</select>", start)]
    assert deals.rep.get_full_name() in options
    assert deals.other_rep.get_full_name() not in options
    assert re.search(r'class="kw-value"[^>]*>2</a>', html)  # only the rep's two wins
