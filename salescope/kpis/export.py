"""A widget's data (and the records behind a number) as CSV and XLSX files.

Rows: ``group, bucket, value, compare, change`` for every cell, then the per-group totals
and the overall total. CSV is UTF-8 with a BOM (spreadsheets recognise it), values are
plain numbers (``.`` as decimal separator) and any text that a spreadsheet would read as a
formula gets a leading quote. XLSX keeps numbers as numbers, under a title block naming the
KPI, period, filters and formula.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from salescope.kpis import dimensions as dims
from salescope.kpis.engine import Cell, KpiResult, Records
from salescope.kpis.widgets import WidgetSpec

Row = list[Any]


def neutral(text: Any) -> Any:
    """No formulas in spreadsheets: text starting with = + - @ (or a tab) gets a quote."""
    if isinstance(text, str) and text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


def header() -> list[str]:
    return [_("group"), _("bucket"), _("value"), _("compare"), _("change")]


def _line(cell: Cell, group: str, bucket: str) -> Row:
    return [group, bucket, cell.value, cell.compare, cell.change]


def rows(result: KpiResult) -> list[Row]:
    """One line per cell, then the group totals and the overall total (header excluded)."""
    lines: list[Row] = []
    total_label = _("Total")
    for cell in result.rows:
        bucket = cell.bucket.isoformat() if cell.bucket else ""
        group = cell.group_label if result.query.by else ""
        lines.append(_line(cell, group, bucket))
    for cell in result.group_totals:
        lines.append(_line(cell, cell.group_label, total_label))
    lines.append(_line(result.total, total_label, total_label if result.query.grain else ""))
    return lines


def filters_text(spec: WidgetSpec) -> str:
    """``Source: Referral, Web; Rep: Ada`` (the labels of the filter values)."""
    parts = []
    for key, values in spec.filters.items():
        dimension = dims.get(key)
        parsed = dimension.parse(values)
        labels = dims.group_labels(dimension, parsed)
        names = [labels.get(v, str(v)) for v in parsed]
        parts.append(f"{dimension.label}: {', '.join(names)}")
    return "; ".join(parts)


def title_lines(spec: WidgetSpec, result: KpiResult) -> list[tuple[str, str]]:
    period = f"{result.period.start.isoformat()} – {result.period.last_day.isoformat()}"
    lines = [
        (_("KPI"), str(result.kpi.name)),
        (_("Period"), period),
    ]
    if result.compare_period is not None:
        c = result.compare_period
        lines.append((_("Compared with"), f"{c.start.isoformat()} – {c.last_day.isoformat()}"))
    if spec.by:
        lines.append((_("Dimension"), str(dims.get(spec.by).label)))
    if spec.grain:
        lines.append((_("Grain"), spec.grain))
    lines.append((_("Filters"), filters_text(spec) or _("none")))
    if result.currency:
        lines.append((_("Currency"), result.currency))
    lines.append((_("Formula"), str(result.kpi.formula)))
    return lines


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return neutral(str(value))


def _field(value: Any) -> str:
    """One CSV field, quoted when it holds a comma, a semicolon (the separator spreadsheets
    in many locales expect), a quote or a line break."""
    text = str(value)
    if any(ch in text for ch in ',;"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def to_csv(head: Sequence[str], lines: Iterable[Sequence[Any]]) -> bytes:
    out = io.StringIO()
    out.write("\ufeff")
    out.write(",".join(_field(neutral(h)) for h in head) + "\r\n")
    for line in lines:
        out.write(",".join(_field(_csv_value(v)) for v in line) + "\r\n")
    return out.getvalue().encode("utf-8")


def widget_csv(result: KpiResult) -> bytes:
    return to_csv(header(), rows(result))


def widget_xlsx(spec: WidgetSpec, result: KpiResult) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = str(result.kpi.key)[:31]
    sheet.append([spec.display_title()])
    sheet["A1"].font = Font(bold=True, size=13)
    for label, text in title_lines(spec, result):
        sheet.append([label, neutral(text)])
    sheet.append([])
    sheet.append(header())
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    number_format = _number_format(result.kpi.unit)
    for line in rows(result):
        sheet.append([neutral(v) if isinstance(v, str) else v for v in line])
        row = sheet[sheet.max_row]
        for cell in row[2:4]:
            cell.number_format = number_format
        row[4].number_format = "0.0%"
    sheet.column_dimensions["A"].width = 28
    sheet.column_dimensions["B"].width = 14
    for column in "CDE":
        sheet.column_dimensions[column].width = 16
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _number_format(unit: str) -> str:
    if unit == "percent":
        return "0.0%"
    if unit == "count":
        return "#,##0"
    if unit in ("money", "per_day", "hours"):
        return "#,##0.00"
    return "#,##0.0##"


# --- drill-down records -----------------------------------------------------------------------


def record_lines(records: Records) -> tuple[list[str], Iterable[Row]]:
    """The header and lines of the records behind a number (all of them, streamed)."""
    from salescope.activities.models import Activity
    from salescope.pipeline.models import Opportunity, OpportunityEvent

    qs = records.queryset
    model = qs.model
    has_value = records.value_field is not None or "v" in qs.query.annotations
    if model is Opportunity:
        head = [_("id"), _("name"), _("account"), _("owner"), _("stage"), _("amount"),
                _("currency"), _("expected close"), _("closed on"), _("outcome")]  # fmt: skip
        qs = qs.select_related("account", "owner", "stage")

        def line(o: Any) -> Row:
            return [o.pk, o.name, o.account.name if o.account else "", str(o.owner),
                    o.stage.name, o.amount, o.currency_id, o.expected_close, o.closed_on,
                    o.outcome]  # fmt: skip

    elif model is OpportunityEvent:
        head = [_("id"), _("deal id"), _("deal"), _("stage"), _("time")]
        qs = qs.select_related("opportunity", "to_stage")

        def line(o: Any) -> Row:
            return [o.pk, o.opportunity_id, o.opportunity.name,
                    o.to_stage.name if o.to_stage else "", o.occurred_at]  # fmt: skip

    elif model is Activity:
        head = [_("id"), _("type"), _("subject"), _("owner"), _("done at"), _("minutes")]
        qs = qs.select_related("activity_type", "owner")

        def line(o: Any) -> Row:
            return [o.pk, o.activity_type.name, o.subject, str(o.owner), o.done_at,
                    o.duration_minutes]  # fmt: skip

    else:  # pragma: no cover - the engine has three subjects
        head = [_("id")]

        def line(o: Any) -> Row:
            return [o.pk]

    if has_value:
        head = [*head, _("value")]
        base_line = line

        def line(o: Any) -> Row:
            v = getattr(o, "v", None)
            value = None if v is None else Decimal(str(v)) / records.kpi.per
            return [*base_line(o), value]

    return head, (line(o) for o in qs.order_by("pk").iterator(chunk_size=2000))


def records_csv(records: Records) -> bytes:
    head, lines = record_lines(records)
    return to_csv(head, lines)
