"""The shared widget renderer: numbers, changes, tables with drill-down links, errors.

Data (see test_views_analysis): rep wins W1 1000 and W2 3000, other_rep wins W3 500 and
loses L1 700, all in March 2026.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

from django.template.loader import render_to_string

from salescope.kpis.render import widget_view
from salescope.kpis.tests.test_views_analysis import (  # noqa: F401  (fixtures)
    MARCH,
    deals_fixture,
    frozen_fixture,
)
from salescope.kpis.widgets import WidgetSpec


def spec(**params: Any) -> WidgetSpec:
    return WidgetSpec.from_params({**MARCH, **params})


def test_number_with_change_and_formula(deals: Any, frozen: Any) -> None:
    w = widget_view(spec(kpi="deals_won", compare="previous"), deals.admin)
    assert not w.error
    assert w.number == "3"
    assert w.formula.startswith("count of opportunities whose outcome became won")
    assert w.change is None  # nothing in February: no change from 0
    assert w.records_url.startswith("/analysis/records/?kpi=deals_won")
    assert w.export_csv_url.startswith("/analysis/export.csv?")
    assert w.chart is None and w.table is None
    assert w.period_text == "1 Mar 2026 – 31 Mar 2026"


def test_change_is_good_or_bad_by_direction(deals: Any, frozen: Any) -> None:
    # March vs April (no deals closed in April): revenue went down → bad; lost deals down → good
    april = {"period": "custom", "from": "2026-04-01", "to": "2026-04-30", "compare": "previous"}
    revenue = widget_view(WidgetSpec.from_params({"kpi": "won_revenue", **april}), deals.admin)
    assert revenue.change is not None
    assert revenue.change.value == Decimal(-1) and not revenue.change.good
    assert revenue.change.css == "bad"
    lost = widget_view(WidgetSpec.from_params({"kpi": "deals_lost", **april}), deals.admin)
    assert lost.change is not None and lost.change.good and lost.change.css == "good"


def test_table_by_dimension_links_every_cell(deals: Any, frozen: Any) -> None:
    w = widget_view(spec(kpi="won_revenue", by="rep", chart="bar"), deals.admin)
    assert w.table is not None
    labels = [row.label for row in w.table.rows]
    assert labels[-1] == "Total"
    cells = {row.label: row.cells[0] for row in w.table.rows}
    rep = cells[deals.rep.get_full_name()]
    assert rep.value == Decimal("4000.00") and rep.text == "€4,000.00"
    query = parse_qs(urlsplit(rep.url).query)
    assert query["group"] == [str(deals.rep.pk)] and query["by"] == ["rep"]
    assert cells["Total"].value == Decimal("4500.00")
    assert "group" not in parse_qs(urlsplit(cells["Total"].url).query)


def test_pivot_table_of_groups_and_buckets(deals: Any, frozen: Any) -> None:
    w = widget_view(spec(kpi="deals_won", by="rep", grain="week", chart="stacked"), deals.admin)
    assert w.table is not None
    assert w.result is not None
    buckets = w.result.buckets
    assert w.table.header[-1] == "Total" and len(w.table.header) == len(buckets) + 1
    rep_row = next(r for r in w.table.rows if r.label == deals.rep.get_full_name())
    by_week = {b: c.value for b, c in zip(buckets, rep_row.cells, strict=False)}
    assert by_week[dt.date(2026, 3, 9)] == 1 and by_week[dt.date(2026, 3, 16)] == 1
    assert sum(by_week.values()) == 2 and rep_row.cells[-1].value == 2
    cell = rep_row.cells[buckets.index(dt.date(2026, 3, 9))]
    assert parse_qs(urlsplit(cell.url).query)["bucket"] == ["2026-03-09"]


def test_errors_are_messages_not_crashes(deals: Any, frozen: Any) -> None:
    from salescope.org.models import Currency

    Currency.objects.get_or_create(code="USD", defaults={"name": "US dollar"})
    w = widget_view(spec(kpi="won_revenue", currency="USD"), deals.admin)
    assert w.result is None
    assert "No exchange rate for EUR" in w.error
    html = render_to_string("kpis/_widget.html", {"w": w})
    assert 'role="alert"' in html and "No exchange rate" in html
    unknown = widget_view(WidgetSpec(kpi="gone", chart="number"), deals.admin)
    assert "Unknown KPI" in unknown.error


def test_widgets_have_unique_dom_ids(deals: Any, frozen: Any) -> None:
    one = widget_view(spec(kpi="deals_won", by="rep", chart="bar"), deals.admin)
    two = widget_view(spec(kpi="deals_won", by="rep", chart="bar"), deals.admin)
    assert one.dom_id != two.dom_id
    html = render_to_string("kpis/_widget.html", {"w": one}) + render_to_string(
        "kpis/_widget.html", {"w": two}
    )
    assert html.count(f'data-echarts="{one.option_id}"') == 1
    assert html.count(f'id="{one.option_id}"') == 1 and html.count(f'id="{two.option_id}"') == 1
    assert "<h2" not in html  # no card chrome


def test_template_shows_table_for_table_charts_only(deals: Any, frozen: Any) -> None:
    bar = widget_view(spec(kpi="deals_won", by="rep", chart="bar"), deals.admin)
    assert "kw-table" not in render_to_string("kpis/_widget.html", {"w": bar})
    assert "kw-table" in render_to_string("kpis/_widget.html", {"w": bar, "show_table": True})
    table = widget_view(spec(kpi="deals_won", by="rep", chart="table"), deals.admin)
    assert "kw-table" in render_to_string("kpis/_widget.html", {"w": table})


def test_a_rep_sees_own_scope(deals: Any, frozen: Any) -> None:
    w = widget_view(spec(kpi="won_revenue", by="rep", chart="pie"), deals.rep)
    assert w.result is not None
    assert w.result.total.value == Decimal("4000.00")
    assert [g for g, _label in w.result.groups] == [deals.rep.pk]


def test_relative_periods_resolve_on_today(deals: Any) -> None:
    relative = WidgetSpec.from_params({"kpi": "deals_won", "period": "this_month"})
    w = widget_view(relative, deals.admin, today=dt.date(2026, 3, 15))
    assert w.number == "3"


def test_a_chart_without_data_says_so(deals: Any, frozen: Any) -> None:
    april = {"period": "custom", "from": "2026-04-01", "to": "2026-04-30"}
    spec = WidgetSpec.from_params({"kpi": "deals_won", "by": "rep", "chart": "pie", **april})
    w = widget_view(spec, deals.admin)
    assert w.empty and w.chart is None and not w.error
    assert "No records in this period." in render_to_string("kpis/_widget.html", {"w": w})
