"""ECharts options of a widget, built from a :class:`~salescope.kpis.engine.KpiResult`.

Every option is plain JSON (values as numbers; percentages as percent points); each data
point carries ``url``, the drill-down link of its number, which ``static/js/charts.js``
opens on a click. ``salescope`` (not an ECharts key, removed by charts.js) tells the script
how to format values: ``unit``, ``currency`` and ``locale``. Axis labels also carry an
ECharts formatter string so they read right without it.

The histogram counts the records' values ``v`` per bin in the database: the bin index is
``FLOOR((v - min) / width)``, counted with ``GROUP BY``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db.models import Count, ExpressionWrapper, F, FloatField, Max, Min, Value
from django.db.models.functions import Floor
from django.utils.translation import gettext as _

from salescope.core import formatting
from salescope.kpis import engine
from salescope.kpis.engine import Cell, KpiResult
from salescope.kpis.widgets import HISTOGRAM_AGGREGATES, WidgetSpec

#: number of bins of a histogram (fewer for few distinct values)
HISTOGRAM_BINS = 12
COMPARE_COLOR = "#9ca3af"
PALETTE = [
    "#2563eb", "#059669", "#d97706", "#7c3aed", "#dc2626", "#0891b2", "#65a30d", "#db2777",
    "#4b5563", "#ea580c", "#0d9488", "#9333ea",
]  # fmt: skip


def number(kpi_unit: str, value: Decimal | None) -> float | str:
    """A value as the chart plots it (percent points for percentages; "-" for no value)."""
    if value is None:
        return "-"
    if kpi_unit == "percent":
        return round(float(value) * 100, 2)
    return float(value)


def _fmt(result: KpiResult) -> dict[str, Any]:
    return {
        "unit": result.kpi.unit,
        "currency": result.currency or "",
        "locale": formatting.current_locale().replace("_", "-"),
    }


def _axis_formatter(unit: str) -> str:
    if unit == "percent":
        return "{value} %"
    if unit == "days":
        return "{value} d"
    if unit == "hours":
        return "{value} h"
    return "{value}"


def _base(result: KpiResult) -> dict[str, Any]:
    return {
        "color": PALETTE,
        "animation": False,
        "textStyle": {"fontFamily": "system-ui, sans-serif"},
        "tooltip": {"trigger": "item", "confine": True},
        "grid": {"left": 12, "right": 16, "top": 36, "bottom": 12, "containLabel": True},
        "salescope": _fmt(result),
    }


def _value_axis(result: KpiResult) -> dict[str, Any]:
    return {
        "type": "value",
        "axisLabel": {"formatter": _axis_formatter(result.kpi.unit)},
        "splitLine": {"lineStyle": {"color": "#e5e7eb"}},
    }


def _category_axis(labels: list[str]) -> dict[str, Any]:
    many = len(labels) > 6
    return {
        "type": "category",
        "data": labels,
        "axisTick": {"alignWithLabel": True},
        "axisLabel": {"interval": 0, "rotate": 30 if many else 0, "hideOverlap": True,
                      "width": 110, "overflow": "truncate"},
    }  # fmt: skip


def _point(
    spec: WidgetSpec, result: KpiResult, cell: Cell, *, grouped: bool, compare: bool = False
) -> dict[str, Any]:
    from salescope.kpis.render import records_url

    value = cell.compare if compare else cell.value
    point: dict[str, Any] = {
        "value": number(result.kpi.unit, value),
        "text": engine.display(result.kpi, value, result.currency),
    }
    if not compare:
        point["url"] = records_url(spec, group=cell.group, bucket=cell.bucket, grouped=grouped)
    return point


def _legend(names: list[str]) -> dict[str, Any]:
    return {"type": "scroll", "top": 0, "data": names}


def _grid_cells(result: KpiResult) -> dict[tuple[Any, dt.date | None], Cell]:
    return {(c.group, c.bucket): c for c in result.rows}


def _compare_name(result: KpiResult) -> str:
    return _("Comparison period")


# --- chart types ------------------------------------------------------------------------------


def bar(spec: WidgetSpec, result: KpiResult, *, stacked: bool = False) -> dict[str, Any]:
    """Bars by dimension or by bucket; with both, one series per group across the buckets
    (stacked for ``stacked``)."""
    option = _base(result)
    option["tooltip"] = {"trigger": "axis", "axisPointer": {"type": "shadow"}, "confine": True}
    compare = result.compare_period is not None
    name = str(result.kpi.name)
    series: list[dict[str, Any]] = []
    if result.query.by is not None and result.query.grain is not None:
        cells = _grid_cells(result)
        labels = [c.bucket_label for c in result.rows[: len(result.buckets)]]
        for group, label in result.groups:
            data = [
                _point(spec, result, cells[(group, b)], grouped=True)
                for b in result.buckets
                if (group, b) in cells
            ]
            item: dict[str, Any] = {"name": label, "type": "bar", "data": data}
            if stacked:
                item["stack"] = "total"
                item["emphasis"] = {"focus": "series"}
            series.append(item)
        option["legend"] = _legend([label for _g, label in result.groups])
        option["grid"]["top"] = 40
    else:
        grouped = result.query.by is not None
        cells_list = result.rows
        labels = [c.group_label if grouped else c.bucket_label for c in cells_list]
        series.append({
            "name": name, "type": "bar",
            "data": [_point(spec, result, c, grouped=grouped) for c in cells_list],
        })  # fmt: skip
        if compare:
            series.append({
                "name": _compare_name(result), "type": "bar",
                "itemStyle": {"color": COMPARE_COLOR},
                "data": [_point(spec, result, c, grouped=grouped, compare=True)
                         for c in cells_list],
            })  # fmt: skip
            option["legend"] = _legend([name, _compare_name(result)])
    option["xAxis"] = _category_axis(labels)
    option["yAxis"] = _value_axis(result)
    option["series"] = series
    return option


def line(spec: WidgetSpec, result: KpiResult) -> dict[str, Any]:
    """One line per group over the buckets (one line without a dimension); the comparison
    period's values dashed."""
    option = _base(result)
    option["tooltip"] = {"trigger": "axis", "confine": True}
    compare = result.compare_period is not None
    cells = _grid_cells(result)
    labels = [c.bucket_label for c in result.rows[: len(result.buckets)]]
    groups: list[tuple[Any, str]] = (
        result.groups if result.query.by is not None else [(None, str(result.kpi.name))]
    )
    grouped = result.query.by is not None
    series: list[dict[str, Any]] = []
    names: list[str] = []
    for index, (group, label) in enumerate(groups):
        color = PALETTE[index % len(PALETTE)]
        row = [cells[(group, b)] for b in result.buckets if (group, b) in cells]
        series.append({
            "name": label, "type": "line", "symbolSize": 6, "connectNulls": False,
            "itemStyle": {"color": color},
            "data": [_point(spec, result, c, grouped=grouped) for c in row],
        })  # fmt: skip
        names.append(label)
        if compare:
            compare_name = (
                _("%(name)s (comparison)") % {"name": label} if grouped else _compare_name(result)
            )
            series.append({
                "name": compare_name, "type": "line", "symbolSize": 4,
                "itemStyle": {"color": color if grouped else COMPARE_COLOR},
                "lineStyle": {"type": "dashed", "width": 1.5},
                "data": [_point(spec, result, c, grouped=grouped, compare=True) for c in row],
            })  # fmt: skip
            names.append(compare_name)
    if len(names) > 1:
        option["legend"] = _legend(names)
        option["grid"]["top"] = 40
    option["xAxis"] = {**_category_axis(labels), "boundaryGap": False}
    option["yAxis"] = _value_axis(result)
    option["series"] = series
    return option


def pie(spec: WidgetSpec, result: KpiResult) -> dict[str, Any]:
    option = _base(result)
    data = []
    for cell in result.rows:
        point = _point(spec, result, cell, grouped=True)
        point["name"] = cell.group_label
        data.append(point)
    option["legend"] = {"type": "scroll", "bottom": 0}
    option["series"] = [{
        "name": str(result.kpi.name), "type": "pie", "radius": ["35%", "65%"],
        "center": ["50%", "45%"], "avoidLabelOverlap": True,
        "label": {"formatter": "{b}: {d}%"},
        "data": data,
    }]  # fmt: skip
    return option


def _stage_order(result: KpiResult) -> list[Cell]:
    """The cells of a funnel: stages in their pipelines' order, other groups as they are."""
    cells = list(result.rows)
    if result.query.by != "stage":
        return sorted(
            cells, key=lambda c: -(float(c.value) if c.value is not None else float("-inf"))
        )
    from salescope.pipeline.models import Stage

    ids = [c.group for c in cells if c.group is not None]
    order = {
        pk: (pipeline, position)
        for pk, pipeline, position in Stage.objects.filter(pk__in=ids).values_list(
            "pk", "pipeline_id", "order"
        )
    }
    return sorted(cells, key=lambda c: order.get(c.group, (10**9, 10**9)))


def _funnel_groups(result: KpiResult) -> list[tuple[str, list[tuple[Cell, str]]]]:
    """The funnel's steps per pipeline (one funnel each), with each step's short name.

    Stages of several pipelines are not one funnel: each pipeline gets its own, side by side.
    Other dimensions make one funnel of all groups.
    """
    cells = _stage_order(result)
    if result.query.by != "stage":
        return [("", [(c, c.group_label) for c in cells])]
    from salescope.pipeline.models import Stage

    names = {
        pk: (pipeline, name)
        for pk, pipeline, name in Stage.objects.filter(
            pk__in=[c.group for c in cells if c.group is not None]
        ).values_list("pk", "pipeline__name", "name")
    }
    funnels: dict[str, list[tuple[Cell, str]]] = {}
    for cell in cells:
        pipeline, name = names.get(cell.group, ("", cell.group_label))
        funnels.setdefault(pipeline, []).append((cell, name))
    return list(funnels.items())


def funnel(spec: WidgetSpec, result: KpiResult) -> dict[str, Any]:
    """Steps in stage order, each label with the rate from the step before; one funnel per
    pipeline when the stages come from several."""
    option = _base(result)
    groups = _funnel_groups(result) or [("", [])]
    n = len(groups)
    slot = 100 / n
    series = []
    titles = []
    for index, (pipeline, steps) in enumerate(groups):
        data = []
        previous: Decimal | None = None
        for cell, name in steps:
            point = _point(spec, result, cell, grouped=True)
            point["name"] = cell.group_label
            label = f"{name}: {point['text']}"
            if previous and cell.value is not None:
                rate = formatting.percent(cell.value / previous, digits=0)
                label += "\n" + _("%(rate)s of the step before") % {"rate": rate}
            point["label_text"] = label
            data.append(point)
            previous = cell.value
        values = [p["value"] for p in data if isinstance(p["value"], float)]
        left = index * slot + slot * 0.04
        series.append({
            "name": pipeline or str(result.kpi.name), "type": "funnel", "sort": "none",
            "gap": 2, "left": f"{left:.1f}%", "width": f"{slot * 0.92:.1f}%",
            "top": 34 if pipeline and n > 1 else 12, "bottom": 12,
            "min": 0, "max": max(values) if values else 1, "minSize": "30%",
            "label": {"position": "inside", "formatter": "{b}", "color": "#fff",
                      "textBorderWidth": 0, "overflow": "break", "fontSize": 11,
                      "lineHeight": 13},
            "data": data,
        })  # fmt: skip
        if pipeline and n > 1:
            titles.append({
                "text": pipeline, "left": f"{index * slot + slot / 2:.1f}%", "top": 4,
                "textAlign": "center", "textStyle": {"fontSize": 12, "fontWeight": "normal"},
            })  # fmt: skip
    option["series"] = series
    if titles:
        option["title"] = titles
    return option


def histogram_bins(
    spec: WidgetSpec, result: KpiResult, bins: int = HISTOGRAM_BINS
) -> list[dict[str, Any]]:
    """``[{lo, hi, count}]``: the records' values ``v`` counted per bin, in the database."""
    records = engine.records(result.query)
    qs = records.queryset.exclude(v__isnull=True).order_by()
    bounds = qs.aggregate(lo=Min("v"), hi=Max("v"))
    if bounds["lo"] is None:
        return []
    per = Decimal(result.kpi.per)
    lo = Decimal(str(bounds["lo"]))
    hi = Decimal(str(bounds["hi"]))
    if hi == lo:
        return [{"lo": lo / per, "hi": hi / per, "count": qs.count(), "last": True}]
    width = (hi - lo) / bins
    counted = (
        qs.annotate(
            _bin=Floor(
                ExpressionWrapper(
                    (F("v") - Value(float(lo), output_field=FloatField()))
                    / Value(float(width), output_field=FloatField()),
                    output_field=FloatField(),
                )
            )
        )
        .values("_bin")
        .annotate(n=Count("pk"))
        .order_by("_bin")
    )
    counts = [0] * bins
    for row in counted:  # one line per bin, not per record
        index = min(max(int(row["_bin"]), 0), bins - 1)
        counts[index] += row["n"]
    return [
        {"lo": (lo + width * i) / per, "hi": (lo + width * (i + 1)) / per, "count": counts[i],
         "last": i == bins - 1}
        for i in range(bins)
    ]  # fmt: skip


def histogram(spec: WidgetSpec, result: KpiResult) -> dict[str, Any]:
    from salescope.kpis.render import records_url

    option = _base(result)
    option["salescope"]["unit"] = "count"
    option["tooltip"] = {"trigger": "axis", "axisPointer": {"type": "shadow"}, "confine": True}
    kpi = result.kpi
    rows = histogram_bins(spec, result)

    def edge(value: Decimal) -> str:
        if kpi.unit == "money":
            return formatting.money(value, result.currency, whole=True)
        return engine.display(kpi, round(value, 1), result.currency)

    labels = []
    data = []
    for row in rows:
        labels.append(f"{edge(row['lo'])} – {edge(row['hi'])}")
        url = records_url(
            spec,
            vmin=str(row["lo"] * kpi.per),
            vmax=str(row["hi"] * kpi.per),
            vlast="1" if row["last"] else None,
        )
        data.append({"value": row["count"], "url": url, "text": str(row["count"])})
    option["xAxis"] = _category_axis(labels)
    option["xAxis"]["axisLabel"].update(rotate=30, overflow="none", hideOverlap=False)
    option["yAxis"] = {"type": "value", "minInterval": 1, "name": _("Records")}
    option["series"] = [{"name": _("Records"), "type": "bar", "barCategoryGap": "4%", "data": data}]
    return option


def option(spec: WidgetSpec, result: KpiResult) -> dict[str, Any] | None:
    """The ECharts option of ``spec``'s chart (None for a number or a table)."""
    chart = spec.chart
    if chart in ("number", "table"):
        return None
    if chart == "bar":
        return bar(spec, result)
    if chart == "stacked":
        return bar(spec, result, stacked=True)
    if chart == "line":
        return line(spec, result)
    if chart == "pie":
        return pie(spec, result)
    if chart == "funnel":
        return funnel(spec, result)
    if chart == "histogram":
        if result.kpi.is_derived or result.kpi.aggregate not in HISTOGRAM_AGGREGATES:
            return None
        return histogram(spec, result)
    return None  # pragma: no cover - WidgetSpec.check() knows the charts
