"""REST endpoints of the kpis app: the catalogue with formulas, and any KPI's values.

``GET /kpis/{key}?by=rep&grain=month&from=2026-01-01&to=2026-03-31&compare=previous
&filter=team:3&filter=source:1,2&currency=EUR`` returns the same numbers as the UI and the
command line, for the caller's scope.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from salescope.core import clock
from salescope.core.errors import field_error
from salescope.kpis import engine, periods, registry
from salescope.kpis.registry import Kpi
from salescope.restapi import errors

router = Router(tags=["kpis"])


class KpiOut(Schema):
    key: str
    name: str
    description: str
    formula: str = Field(..., description="The formula as shown in the product.")
    unit: str = Field(..., description=", ".join(registry.UNITS))
    direction: str = Field(..., description="higher or lower is better")
    kind: str = Field(..., description=", ".join(registry.KINDS))
    time_field: str | None = Field(None, description="The date the period filters on.")
    dimensions: list[str]
    grains: bool = Field(..., description="Whether the KPI can be cut by period grain.")
    snapshot: bool = Field(..., description="Measured as of now, whatever the period.")
    inputs: list[str] = Field(..., description="The KPIs a derived KPI is computed from.")
    rules: list[str]
    category: str


class CellOut(Schema):
    group: int | str | None = Field(None, description="Id (or code) of the group, if grouped.")
    group_label: str
    bucket: dt.date | None = Field(None, description="First day of the bucket, if a grain.")
    bucket_label: str
    value: Decimal | None = Field(None, description="None: no value (e.g. a rate of 0 / 0).")
    compare: Decimal | None = None
    change: Decimal | None = Field(None, description="(value − compare) / |compare|")


class GroupOut(Schema):
    key: int | str | None
    label: str


class PeriodOut(Schema):
    start: dt.date = Field(..., description="First day.")
    last_day: dt.date = Field(..., description="Last day (included).")


class KpiValuesOut(Schema):
    kpi: str
    unit: str
    currency: str | None = Field(None, description="Currency of money values.")
    period: PeriodOut
    compare_period: PeriodOut | None = None
    grain: str | None = None
    by: str | None = None
    buckets: list[dt.date]
    groups: list[GroupOut]
    rows: list[CellOut] = Field(..., description="One cell per group and bucket.")
    group_totals: list[CellOut] = Field(..., description="Per group, with both by and grain.")
    total: CellOut


def kpi_out(kpi: Kpi) -> dict[str, Any]:
    return {
        "key": kpi.key,
        "name": str(kpi.name),
        "description": str(kpi.description),
        "formula": str(kpi.formula),
        "unit": kpi.unit,
        "direction": kpi.direction,
        "kind": kpi.kind,
        "time_field": kpi.time_field.label if kpi.time_field else None,
        "dimensions": list(kpi.dimensions),
        "grains": kpi.grains,
        "snapshot": kpi.snapshot,
        "inputs": list(kpi.inputs),
        "rules": [str(r) for r in kpi.rules],
        "category": kpi.category,
    }


def _period(period: periods.Period | None) -> dict[str, Any] | None:
    if period is None:
        return None
    return {"start": period.start, "last_day": period.last_day}


def _cell(cell: engine.Cell) -> dict[str, Any]:
    return {
        "group": cell.group,
        "group_label": cell.group_label,
        "bucket": cell.bucket,
        "bucket_label": cell.bucket_label,
        "value": cell.value,
        "compare": cell.compare,
        "change": cell.change,
    }


def result_out(result: engine.KpiResult) -> dict[str, Any]:
    """The JSON shape of a result (shared by the API and ``salescope kpi show --json``)."""
    return {
        "kpi": result.kpi.key,
        "unit": result.kpi.unit,
        "currency": result.currency,
        "period": _period(result.period),
        "compare_period": _period(result.compare_period),
        "grain": result.query.grain,
        "by": result.query.by,
        "buckets": result.buckets,
        "groups": [{"key": k, "label": label} for k, label in result.groups],
        "rows": [_cell(c) for c in result.rows],
        "group_totals": [_cell(c) for c in result.group_totals],
        "total": _cell(result.total),
    }


def parse_filter_args(items: list[str] | None) -> dict[str, list[str]]:
    """``["team:3", "source:1,2"]`` → ``{"team": ["3"], "source": ["1", "2"]}``."""
    parsed: dict[str, list[str]] = {}
    for item in items or []:
        key, sep, values = item.partition(":")
        if not sep:
            key, sep, values = item.partition("=")
        if not sep or not key.strip():
            raise field_error(
                "filter",
                _("Filter %(value)r: use dimension:value[,value…], e.g. team:3.") % {"value": item},
            )
        parsed.setdefault(key.strip(), []).extend(v.strip() for v in values.split(","))
    return parsed


def build_query(
    *,
    key: str,
    user: Any,
    by: str | None = None,
    grain: str | None = None,
    start: str | None = None,
    last_day: str | None = None,
    compare: str | None = None,
    filters: list[str] | None = None,
    currency: str | None = None,
) -> engine.KpiQuery:
    """A checked :class:`engine.KpiQuery` from text input (API and command line)."""
    period = periods.parse_period(start, last_day, today=clock.today())
    return engine.KpiQuery(
        kpi=key,
        period=period,
        grain=periods.check_grain(grain),
        by=by or None,
        filters=parse_filter_args(filters),
        compare=periods.check_compare(compare),
        currency=(currency or "").strip().upper() or None,
        user=user,
    )


@router.get("/kpis", response={200: list[KpiOut], **errors.LIST})
def catalogue(request: Any) -> Any:
    """Every KPI with its formula, unit, direction, dimensions and rules."""
    return [kpi_out(k) for k in registry.all_kpis()]


class KpiParams(Schema):
    by: str | None = Field(None, description="A dimension of the KPI (see the catalogue).")
    grain: str | None = Field(None, description=", ".join(periods.GRAINS))
    from_: str | None = Field(None, alias="from", description="First day, YYYY-MM-DD.")
    to: str | None = Field(None, description="Last day (included), YYYY-MM-DD.")
    compare: str | None = Field(None, description="previous or year")
    filter: list[str] | None = Field(
        None, description="dimension:value[,value…]; repeat for several dimensions."
    )
    currency: str | None = Field(None, description="Report money in this currency.")


@router.get("/kpis/{key}", response={200: KpiValuesOut, **errors.ITEM})
def kpi_values(request: Any, key: str, params: Query[KpiParams]) -> Any:
    """The KPI's values in your scope: cells per group and bucket, totals, comparison."""
    if not registry.exists(key):
        raise Http404(_("Unknown KPI %(key)r.") % {"key": key})
    query = build_query(
        key=key,
        user=request.auth,
        by=params.by,
        grain=params.grain,
        start=params.from_,
        last_day=params.to,
        compare=params.compare,
        filters=params.filter,
        currency=params.currency,
    )
    return result_out(engine.compute(query))
