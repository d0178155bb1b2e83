"""ECharts options per chart type: data points with drill-down links, stage order, dashed
comparison, histogram bins counted in the database."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from salescope.core import clock
from salescope.kpis import charts, engine
from salescope.kpis.tests.conftest import at
from salescope.kpis.tests.test_views_analysis import (  # noqa: F401  (fixtures)
    MARCH,
    deals_fixture,
    frozen_fixture,
)
from salescope.kpis.widgets import WidgetSpec
from salescope.pipeline import services
from salescope.testing.factories import make_opportunity


def build(user: Any, **params: Any) -> dict[str, Any]:
    spec = WidgetSpec.from_params({**MARCH, **params})
    result = engine.compute(spec.query(user))
    option = charts.option(spec, result)
    assert option is not None
    json.dumps(option)  # plain JSON
    return option


def test_bar_by_dimension(deals: Any, frozen: Any) -> None:
    option = build(deals.admin, kpi="won_revenue", by="rep", chart="bar")
    assert option["xAxis"]["type"] == "category"
    labels = option["xAxis"]["data"]
    assert deals.rep.get_full_name() in labels
    points = option["series"][0]["data"]
    values = dict(zip(labels, [p["value"] for p in points], strict=True))
    assert values[deals.rep.get_full_name()] == 4000.0
    url = points[labels.index(deals.rep.get_full_name())]["url"]
    assert parse_qs(urlsplit(url).query)["group"] == [str(deals.rep.pk)]
    assert option["salescope"] == {"unit": "money", "currency": "EUR", "locale": "en-GB"}


def test_bar_by_bucket_with_comparison(deals: Any, frozen: Any) -> None:
    option = build(deals.admin, kpi="deals_won", grain="week", chart="bar", compare="year")
    assert len(option["series"]) == 2
    assert option["series"][1]["itemStyle"]["color"] == charts.COMPARE_COLOR
    assert all("url" in p for p in option["series"][0]["data"])
    bucket_urls = [parse_qs(urlsplit(p["url"]).query)["bucket"][0] for p in
                   option["series"][0]["data"]]  # fmt: skip
    assert "2026-03-09" in bucket_urls


def test_stacked_bars_one_series_per_group(deals: Any, frozen: Any) -> None:
    option = build(deals.admin, kpi="deals_won", by="rep", grain="week", chart="stacked")
    assert {s["stack"] for s in option["series"]} == {"total"}
    assert {s["name"] for s in option["series"]} == {
        deals.rep.get_full_name(),
        deals.other_rep.get_full_name(),
    }
    assert option["legend"]["type"] == "scroll"


def test_line_with_dashed_comparison(deals: Any, frozen: Any) -> None:
    option = build(deals.admin, kpi="win_rate", grain="week", chart="line", compare="previous")
    solid, dashed = option["series"]
    assert solid["type"] == dashed["type"] == "line"
    assert dashed["lineStyle"]["type"] == "dashed"
    assert "url" not in dashed["data"][0]
    values = [p["value"] for p in solid["data"]]
    assert 66.67 in values  # percent points: week of 03-09 won 2 of 3
    assert option["yAxis"]["axisLabel"]["formatter"] == "{value} %"


def test_pie(deals: Any, frozen: Any) -> None:
    option = build(deals.admin, kpi="deals_won", by="rep", chart="pie")
    data = option["series"][0]["data"]
    assert {d["name"] for d in data} == {
        deals.rep.get_full_name(),
        deals.other_rep.get_full_name(),
    }
    assert sum(d["value"] for d in data) == 3


def test_funnel_in_stage_order_with_rates(deals: Any, frozen: Any) -> None:
    o = deals
    q, m, p = o.stages["Qualification"], o.stages["Meeting"], o.stages["Proposal"]
    with clock.frozen(at(3, 2)):
        opp = make_opportunity(owner=o.rep, stage=q, amount="100", name="F1")
    with clock.frozen(at(3, 3)):
        services.move_to_stage(opportunity=opp, stage=m, actor=None)
    with clock.frozen(at(3, 4)):
        services.move_to_stage(opportunity=opp, stage=p, actor=None)
    option = build(o.admin, kpi="stage_entries", by="stage", chart="funnel")
    series = option["series"][0]
    assert series["sort"] == "none"
    names = [d["name"] for d in series["data"]]
    assert [n.split(" › ")[-1] for n in names] == ["Qualification", "Meeting", "Proposal"]
    assert [d["value"] for d in series["data"]] == [5.0, 1.0, 1.0]
    assert "20% of the step before" in series["data"][1]["label_text"]
    assert "100% of the step before" in series["data"][2]["label_text"]
    assert series["max"] == 5.0


def test_histogram_counts_in_the_database(deals: Any, frozen: Any) -> None:
    spec = WidgetSpec.from_params({**MARCH, "kpi": "won_revenue", "chart": "histogram"})
    result = engine.compute(spec.query(deals.admin))
    with CaptureQueriesContext(connection) as queries:
        bins = charts.histogram_bins(spec, result, bins=10)
    # settings, bounds, then the counts per bin: never a query or a Python step per record
    assert len(queries.captured_queries) <= 3
    assert "GROUP BY" in queries.captured_queries[-1]["sql"].upper()
    assert len(bins) == 10 and sum(b["count"] for b in bins) == 3
    assert bins[0]["count"] == 1 and bins[-1]["count"] == 1  # 500 and 3000 at the edges
    option = charts.option(spec, result)
    assert option is not None and sum(p["value"] for p in option["series"][0]["data"]) == 3


def test_histogram_of_days(deals: Any, frozen: Any) -> None:
    option = build(deals.admin, kpi="sales_cycle_mean", chart="histogram")
    assert sum(p["value"] for p in option["series"][0]["data"]) == 3


@pytest.mark.parametrize("chart", ["number", "table"])
def test_no_chart_for_number_and_table(deals: Any, frozen: Any, chart: str) -> None:
    spec = WidgetSpec.from_params({**MARCH, "kpi": "deals_won", "by": "rep", "chart": chart})
    assert charts.option(spec, engine.compute(spec.query(deals.admin))) is None


def test_one_funnel_per_pipeline(deals: Any, frozen: Any) -> None:
    o = deals
    other = services.create_pipeline(name="Projects", stages=[{"name": "Brief", "probability": 10}])
    brief = other.stages.get(name="Brief")
    with clock.frozen(at(3, 2)):
        make_opportunity(owner=o.rep, stage=brief, amount="100", name="P1")
    option = build(o.admin, kpi="stage_entries", by="stage", chart="funnel")
    assert len(option["series"]) == 2
    assert [t["text"] for t in option["title"]] == [s["name"] for s in option["series"]]
    projects = next(s for s in option["series"] if s["name"] == "Projects")
    assert [d["label_text"] for d in projects["data"]] == ["Brief: 1"]
    assert projects["max"] == 1.0
