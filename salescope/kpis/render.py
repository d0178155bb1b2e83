"""One widget as people see it: the shared renderer of the Analysis page and the dashboards.

:func:`widget_view` turns a :class:`~salescope.kpis.widgets.WidgetSpec` into a
:class:`WidgetView` for one user (their scope): the computed result, the display of its
total and change, an ECharts option, a table whose every number links to the records behind
it, and the export links. Anything that makes the spec impossible to compute (an unknown
value, a missing exchange rate) becomes :attr:`WidgetView.error`, a sentence for the user,
never a server error. The template ``kpis/_widget.html`` draws the body of a widget from it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from salescope.core import formatting
from salescope.kpis import engine, registry
from salescope.kpis.dimensions import NONE_VALUE
from salescope.kpis.engine import Cell, KpiResult
from salescope.kpis.widgets import WidgetSpec


@dataclass
class Change:
    """The change against the comparison period (relative, or in points for rates)."""

    value: Decimal
    text: str
    #: the change goes the KPI's good way (up for "higher", down for "lower")
    good: bool
    compare_text: str

    @property
    def css(self) -> str:
        if self.value == 0:
            return "flat"
        return "good" if self.good else "bad"


@dataclass
class TableCell:
    text: str
    url: str
    value: Decimal | None
    change: Change | None = None
    compare_text: str = ""


@dataclass
class TableRow:
    label: str
    cells: list[TableCell]
    total: bool = False


@dataclass
class Table:
    #: column headings after the first (row label) column
    header: list[str]
    corner: str
    rows: list[TableRow]
    #: a column for the comparison value and one for the change
    with_compare: bool = False


@dataclass
class WidgetView:
    spec: WidgetSpec
    kpi: registry.Kpi | None
    result: KpiResult | None = None
    error: str = ""
    title: str = ""
    formula: str = ""
    description: str = ""
    unit: str = ""
    currency: str | None = None
    period_text: str = ""
    compare_text: str = ""
    number: str = "–"
    change: Change | None = None
    chart: dict[str, Any] | None = None
    table: Table | None = None
    records_url: str = ""
    export_csv_url: str = ""
    export_xlsx_url: str = ""
    #: the chart would have no data point (no group in the period)
    empty: bool = False
    dom_id: str = field(default_factory=lambda: "w" + uuid.uuid4().hex[:10])

    @property
    def chart_id(self) -> str:
        return f"{self.dom_id}-chart"

    @property
    def option_id(self) -> str:
        return f"{self.dom_id}-option"

    @property
    def shows_chart(self) -> bool:
        return self.chart is not None


# --- links ------------------------------------------------------------------------------------


def _url(name: str) -> str:
    try:
        return reverse(name)
    except NoReverseMatch:  # pragma: no cover - while the routes are not mounted
        return ""


def group_param(group: Any) -> str:
    """A group as it travels in a drill-down URL (``none`` for records without a value)."""
    return NONE_VALUE if group is None else str(group)


def records_url(spec: WidgetSpec, *, group: Any = None, bucket: dt.date | None = None,
                grouped: bool = False, **extra: Any) -> str:  # fmt: skip
    """The drill-down link of one number (``grouped``: ``group`` is a group of ``spec.by``)."""
    base = _url("kpis:records")
    if not base:
        return ""
    params: dict[str, Any] = {}
    if grouped:
        params["group"] = group_param(group)
    if bucket is not None:
        params["bucket"] = bucket.isoformat()
    params.update(extra)
    return f"{base}?{spec.querystring(**params)}"


def export_url(spec: WidgetSpec, kind: str) -> str:
    base = _url(f"kpis:export_{kind}")
    return f"{base}?{spec.querystring()}" if base else ""


# --- display ----------------------------------------------------------------------------------


def error_text(error: ValidationError) -> str:
    """One sentence out of a ValidationError (field names dropped)."""
    if hasattr(error, "error_dict"):
        return " ".join(str(m) for messages in error.message_dict.values() for m in messages)
    return " ".join(str(m) for m in error.messages)


def change_of(kpi: registry.Kpi, cell: Cell, currency: str | None) -> Change | None:
    return change_between(kpi, cell.value, cell.compare, currency)


def change_between(
    kpi: registry.Kpi, value: Decimal | None, compare: Decimal | None, currency: str | None
) -> Change | None:
    """How ``value`` moved from ``compare``: relative (+12.5 %) for amounts and counts, in
    percentage points (+4.2 pp) for rates, where a relative change of a percentage misleads.
    None without a comparison (or, relative, from 0)."""
    if value is None or compare is None:
        return None
    if kpi.unit == "percent":
        points = (value - compare) * 100
        sign = "+" if points > 0 else ("−" if points < 0 else "±")
        text = _("%(points)s pp") % {"points": sign + formatting.number(abs(points), digits=1)}
        change = points
    else:
        relative = Cell(None, "", None, "", value, compare).change
        if relative is None:
            return None
        change = relative
        sign = "+" if change > 0 else ("−" if change < 0 else "±")
        text = sign + formatting.percent(abs(change), digits=1)
    return Change(
        value=change,
        text=text,
        good=(change > 0) == (kpi.direction == "higher"),
        compare_text=engine.display(kpi, compare, currency),
    )


def period_text(start: dt.date, end_excluded: dt.date) -> str:
    last = end_excluded - dt.timedelta(days=1)
    if last == start:
        return formatting.date(start)
    return f"{formatting.date(start)} – {formatting.date(last)}"


def _cell(spec: WidgetSpec, result: KpiResult, cell: Cell, *, grouped: bool) -> TableCell:
    kpi = result.kpi
    return TableCell(
        text=engine.display(kpi, cell.value, result.currency),
        url=records_url(spec, group=cell.group, bucket=cell.bucket, grouped=grouped),
        value=cell.value,
        change=change_of(kpi, cell, result.currency),
        compare_text=engine.display(kpi, cell.compare, result.currency)
        if result.compare_period is not None
        else "",
    )


def group_order(result: KpiResult) -> list[tuple[Any, str]]:
    """The groups as shown: stages in their pipelines' order, other groups by name."""
    if result.query.by != "stage":
        return list(result.groups)
    from salescope.pipeline.models import Stage

    ids = [g for g, _label in result.groups if g is not None]
    position = {
        pk: (pipeline_name, order)
        for pk, pipeline_name, order in Stage.objects.filter(pk__in=ids).values_list(
            "pk", "pipeline__name", "order"
        )
    }
    return sorted(result.groups, key=lambda item: position.get(item[0], ("\uffff", 0)))


def build_table(spec: WidgetSpec, result: KpiResult) -> Table:
    """Groups × buckets (with a total column) when both are set, else one value per line."""
    by, grain = result.query.by, result.query.grain
    compare = result.compare_period is not None
    total = _cell(spec, result, result.total, grouped=False)
    if by is not None and grain is not None:
        cells = {(c.group, c.bucket): c for c in result.rows}
        group_totals = {c.group: c for c in result.group_totals}
        rows = []
        for group, label in group_order(result):
            line = [
                _cell(spec, result, cells[(group, b)], grouped=True)
                for b in result.buckets
                if (group, b) in cells
            ]
            line.append(_cell(spec, result, group_totals[group], grouped=True))
            rows.append(TableRow(label, line))
        footer = [TableCell("", "", None) for _b in result.buckets] + [total]
        rows.append(TableRow(_("Total"), footer, total=True))
        header = [periods_label(result, b) for b in result.buckets] + [_("Total")]
        return Table(header=header, corner=str(dim_label(by)), rows=rows, with_compare=False)
    rows = []
    if by is not None:
        corner = str(dim_label(by))
        index = {g: i for i, (g, _label) in enumerate(group_order(result))}
        for c in sorted(result.rows, key=lambda c: index.get(c.group, 0)):
            rows.append(TableRow(c.group_label, [_cell(spec, result, c, grouped=True)]))
    elif grain is not None:
        corner = _("Period")
        for c in result.rows:
            rows.append(TableRow(c.bucket_label, [_cell(spec, result, c, grouped=False)]))
    else:
        corner = ""
    rows.append(TableRow(_("Total"), [total], total=True))
    return Table(header=[str(result.kpi.name)], corner=corner, rows=rows, with_compare=compare)


def periods_label(result: KpiResult, bucket: dt.date) -> str:
    for c in result.rows:
        if c.bucket == bucket:
            return c.bucket_label
    return bucket.isoformat()  # pragma: no cover


def dim_label(key: str) -> str:
    from salescope.kpis import dimensions as dims

    return str(dims.get(key).label)


# --- the view ---------------------------------------------------------------------------------


def widget_view(spec: WidgetSpec, user: Any, *, today: dt.date | None = None) -> WidgetView:
    """Compute ``spec`` for ``user`` and prepare everything a widget shows."""
    from salescope.kpis import charts

    kpi = registry.get(spec.kpi) if registry.exists(spec.kpi) else None
    view = WidgetView(spec=spec, kpi=kpi)
    view.title = spec.display_title() if kpi is not None else spec.title or spec.kpi
    if kpi is not None:
        view.formula = str(kpi.formula)
        view.description = str(kpi.description)
        view.unit = kpi.unit
    view.export_csv_url = export_url(spec, "csv")
    view.export_xlsx_url = export_url(spec, "xlsx")
    try:
        spec.check()
        result = engine.compute(spec.query(user, today=today))
    except ValidationError as error:
        view.error = error_text(error)
        return view
    view.result = result
    view.currency = result.currency
    view.period_text = (
        _("as of now")
        if result.kpi.snapshot
        else period_text(result.period.start, result.period.end)
    )
    if result.compare_period is not None:
        view.compare_text = period_text(result.compare_period.start, result.compare_period.end)
    view.number = engine.display(result.kpi, result.total.value, result.currency)
    view.change = change_of(result.kpi, result.total, result.currency)
    view.records_url = records_url(spec)
    if spec.by is not None or spec.grain is not None:
        view.table = build_table(spec, result)
    try:
        view.chart = charts.option(spec, result)
    except ValidationError as error:
        view.error = error_text(error)
    if view.chart is not None and not any(s.get("data") for s in view.chart.get("series", [])):
        view.chart = None
        view.empty = True
    return view
