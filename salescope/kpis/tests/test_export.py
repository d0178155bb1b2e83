"""Widget data and drill-down records as CSV / XLSX: the computed values, numbers as numbers,
no spreadsheet formulas."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

from openpyxl import load_workbook

from salescope.kpis import engine, export
from salescope.kpis.tests.test_views_analysis import (  # noqa: F401  (fixtures)
    MARCH,
    deals_fixture,
    frozen_fixture,
)
from salescope.kpis.widgets import WidgetSpec


def _result(user: Any, **params: Any) -> tuple[WidgetSpec, engine.KpiResult]:
    spec = WidgetSpec.from_params({**MARCH, **params})
    return spec, engine.compute(spec.query(user))


def _csv(body: bytes) -> list[list[str]]:
    assert body.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def test_rows_are_the_cells_group_totals_and_total(deals: Any, frozen: Any) -> None:
    _spec, result = _result(deals.admin, kpi="won_revenue", by="rep", grain="month",
                            compare="previous")  # fmt: skip
    rows = export.rows(result)
    assert len(rows) == len(result.rows) + len(result.group_totals) + 1
    assert rows[-1][:3] == ["Total", "Total", Decimal("4500.00")]
    cells = {(r[0], r[1]): r for r in rows}
    rep = cells[(deals.rep.get_full_name(), "2026-03-01")]
    assert rep[2] == Decimal("4000.00") and rep[3] == Decimal("0.00") and rep[4] is None


def test_csv_equals_the_computed_values(deals: Any, frozen: Any) -> None:
    _spec, result = _result(deals.admin, kpi="win_rate", by="rep")
    table = _csv(export.widget_csv(result))
    assert table[0] == ["group", "bucket", "value", "compare", "change"]
    computed = {c.group_label: c.value for c in result.rows}
    for group, _bucket, value, _compare, _change in table[1:-1]:
        assert Decimal(value) == computed[group]
    assert Decimal(table[-1][2]) == result.total.value


def test_csv_neutralises_formulas_and_quotes_separators(deals: Any, frozen: Any) -> None:
    deals.rep.first_name, deals.rep.last_name = "=HYPERLINK(1)", "; x"
    deals.rep.save()
    _spec, result = _result(deals.admin, kpi="deals_won", by="rep")
    body = export.widget_csv(result).decode("utf-8-sig")
    assert '"\'=HYPERLINK(1) ; x"' in body  # neutralised and quoted (semicolon)
    assert "\n=HYPERLINK" not in body


def test_xlsx_title_block_and_numbers(deals: Any, frozen: Any) -> None:
    spec, result = _result(deals.admin, kpi="average_deal_size", by="rep",
                           filter="source:none")  # fmt: skip
    book = load_workbook(io.BytesIO(export.widget_xlsx(spec, result)))
    sheet = book.active
    assert sheet is not None
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0][0] == "Average deal size by rep"
    meta = {r[0]: r[1] for r in rows[1:8] if r and r[0]}
    assert meta["KPI"] == "Average deal size"
    assert meta["Period"] == "2026-03-01 – 2026-03-31"
    assert meta["Filters"] == "Source: (none)"
    assert meta["Currency"] == "EUR"
    assert meta["Formula"].startswith("mean amount of deals won")
    start = next(i for i, r in enumerate(rows) if r[:2] == ["group", "bucket"])
    data = {r[0]: r[2] for r in rows[start + 1 :]}
    assert data[deals.rep.get_full_name()] == 2000
    assert isinstance(data["Total"], float | int) and data["Total"] == 1500


def test_records_csv(deals: Any, frozen: Any) -> None:
    spec = WidgetSpec.from_params({**MARCH, "kpi": "won_revenue"})
    records = engine.records(spec.query(deals.admin))
    table = _csv(export.records_csv(records))
    assert table[0][:3] == ["id", "name", "account"] and table[0][-1] == "value"
    assert sorted(r[1] for r in table[1:]) == ["W1", "W2", "W3"]
    assert sum(Decimal(r[-1]) for r in table[1:]) == records.total()


def test_records_csv_of_activities_and_events(deals: Any, frozen: Any) -> None:
    spec = WidgetSpec.from_params({**MARCH, "kpi": "stage_entries"})
    table = _csv(export.records_csv(engine.records(spec.query(deals.admin))))
    assert table[0] == ["id", "deal id", "deal", "stage", "time"]
    assert len(table) == 5  # four deals entered Qualification
