"""A widget: one KPI × dimension × grain × period × filters × chart, as a value.

The same :class:`WidgetSpec` is read from the Analysis page's query string, stored as JSON in
a dashboard's widget, used by the built-in dashboards, and turned into the engine's
:class:`~salescope.kpis.engine.KpiQuery` for a user. Periods are usually relative
(``this_month``, ``last_12_months`` ...) so a saved widget stays current; ``custom`` keeps
fixed days.

Query-string form (also what drill-down and export links carry)::

    ?kpi=win_rate&by=rep&grain=month&period=last_12_months&compare=previous
    &chart=bar&filter=source:1,2&filter=pipeline:1&currency=EUR&title=...
    ?kpi=won_revenue&period=custom&from=2026-01-01&to=2026-03-31
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlencode

from django.core.exceptions import ValidationError
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from salescope.kpis import engine, periods, registry
from salescope.kpis.periods import Period

#: Chart types a widget can show, with their names.
CHARTS: dict[str, Promise] = {
    "number": gettext_lazy("Number"),
    "table": gettext_lazy("Table"),
    "bar": gettext_lazy("Bar chart"),
    "stacked": gettext_lazy("Stacked bars"),
    "line": gettext_lazy("Line chart"),
    "pie": gettext_lazy("Pie chart"),
    "funnel": gettext_lazy("Funnel"),
    "histogram": gettext_lazy("Histogram"),
}

#: Relative periods, resolved against today (company time zone) when the widget is shown.
PERIODS: dict[str, Promise] = {
    "today": gettext_lazy("Today"),
    "this_week": gettext_lazy("This week"),
    "last_week": gettext_lazy("Last week"),
    "this_month": gettext_lazy("This month"),
    "last_month": gettext_lazy("Last month"),
    "this_quarter": gettext_lazy("This quarter"),
    "last_quarter": gettext_lazy("Last quarter"),
    "this_year": gettext_lazy("This year"),
    "last_year": gettext_lazy("Last year"),
    "this_fiscal_year": gettext_lazy("This fiscal year"),
    "last_30_days": gettext_lazy("Last 30 days"),
    "last_90_days": gettext_lazy("Last 90 days"),
    "last_12_months": gettext_lazy("Last 12 months"),
    "next_3_months": gettext_lazy("Next 3 months"),
    "next_6_months": gettext_lazy("Next 6 months"),
    "custom": gettext_lazy("Custom dates"),
}

#: KPIs whose records carry a value ``v`` to spread in a histogram.
HISTOGRAM_AGGREGATES = ("sum", "average", "median")


def resolve_period(
    name: str, today: dt.date, *, start: dt.date | None = None, end: dt.date | None = None
) -> Period:
    """The days of the relative period ``name`` on ``today`` (``custom``: start–end, end
    included)."""
    fiscal = periods.fiscal_start_month()

    def bucket(grain: str, day: dt.date = today) -> Period:
        first = periods.bucket_of(day, grain, fiscal)
        return Period(first, periods.next_bucket(first, grain))

    if name == "today":
        return Period(today, today + dt.timedelta(days=1))
    if name == "this_week":
        return bucket("week")
    if name == "last_week":
        return bucket("week", today - dt.timedelta(days=7))
    if name == "this_month":
        return bucket("month")
    if name == "last_month":
        return bucket("month", periods.add_months(today.replace(day=1), -1))
    if name == "this_quarter":
        return bucket("quarter")
    if name == "last_quarter":
        return bucket("quarter", periods.add_months(today.replace(day=1), -3))
    if name == "this_year":
        return bucket("year")
    if name == "last_year":
        return bucket("year", dt.date(today.year - 1, 1, 1))
    if name == "this_fiscal_year":
        return bucket("fiscal_year")
    if name == "last_30_days":
        return Period(today - dt.timedelta(days=29), today + dt.timedelta(days=1))
    if name == "last_90_days":
        return Period(today - dt.timedelta(days=89), today + dt.timedelta(days=1))
    if name == "last_12_months":
        first = periods.add_months(today.replace(day=1), -11)
        return Period(first, periods.add_months(today.replace(day=1), 1))
    if name in ("next_3_months", "next_6_months"):
        first = today.replace(day=1)
        return Period(first, periods.add_months(first, 3 if name == "next_3_months" else 6))
    if name == "custom":
        if start is None or end is None:
            raise ValidationError({"from": [_("A custom period needs “from” and “to” days.")]})
        if end < start:
            raise ValidationError({"to": [_("“to” (%(to)s) is before “from” (%(from)s).") % {
                "to": end.isoformat(), "from": start.isoformat()}]})  # fmt: skip
        return Period(start, end + dt.timedelta(days=1))
    raise ValidationError(
        {"period": [_("Unknown period %(value)r; use one of %(allowed)s.") % {
            "value": name, "allowed": ", ".join(PERIODS)}]}
    )  # fmt: skip


@dataclass(frozen=True)
class WidgetSpec:
    kpi: str
    chart: str = "number"
    by: str | None = None
    grain: str | None = None
    period: str = "this_month"
    #: custom period: first and last day (both included)
    start: dt.date | None = None
    end: dt.date | None = None
    compare: str | None = None
    #: ``{dimension: [value, ...]}``; values as in URLs (ids, codes, ``none``)
    filters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    currency: str | None = None
    title: str = ""

    # --- reading --------------------------------------------------------------------------

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> WidgetSpec:
        """From a query string (a QueryDict or a dict of strings/lists); checked."""

        def one(name: str) -> str | None:
            value = params.get(name)
            if isinstance(value, list | tuple):
                value = value[-1] if value else None
            value = None if value is None else str(value).strip()
            return value or None

        getlist = getattr(params, "getlist", None)
        raw_filters = getlist("filter") if getlist else params.get("filter", [])
        if isinstance(raw_filters, str):
            raw_filters = [raw_filters]
        filters: dict[str, tuple[str, ...]] = {}
        for item in raw_filters or []:
            key, sep, values = str(item).partition(":")
            if not sep or not key.strip():
                raise ValidationError(
                    {"filter": [_("Write filters as dimension:value,value (got %(value)r).")
                                % {"value": item}]}
                )  # fmt: skip
            parts = tuple(v.strip() for v in values.split(",") if v.strip())
            if parts:
                filters[key.strip()] = filters.get(key.strip(), ()) + parts
        kpi = one("kpi")
        if kpi is None:
            raise ValidationError({"kpi": [_("Choose a KPI.")]})
        start = one("from")
        end = one("to")
        spec = cls(
            kpi=kpi,
            chart=one("chart") or "number",
            by=one("by"),
            grain=one("grain"),
            period=one("period") or ("custom" if start or end else "this_month"),
            start=periods.parse_day(start, "from") if start else None,
            end=periods.parse_day(end, "to") if end else None,
            compare=periods.check_compare(one("compare")),
            filters=filters,
            currency=(one("currency") or "").upper() or None,
            title=(one("title") or "")[:200],
        )
        spec.check()
        return spec

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> WidgetSpec:
        """From the JSON stored in a widget (see :meth:`to_json`)."""
        params: dict[str, Any] = {k: v for k, v in data.items() if k != "filters"}
        params["filter"] = [
            f"{k}:{','.join(map(str, v))}" for k, v in data.get("filters", {}).items()
        ]
        return cls.from_params(params)

    # --- writing --------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kpi": self.kpi, "chart": self.chart, "period": self.period}
        for name in ("by", "grain", "compare", "currency", "title"):
            value = getattr(self, name)
            if value:
                data[name] = value
        if self.period == "custom":
            data["from"] = self.start.isoformat() if self.start else None
            data["to"] = self.end.isoformat() if self.end else None
        if self.filters:
            data["filters"] = {k: list(v) for k, v in self.filters.items()}
        return data

    def params(self) -> list[tuple[str, str]]:
        """The query-string pairs (``filter`` repeated), in a stable order."""
        pairs: list[tuple[str, str]] = []
        for key, value in self.to_json().items():
            if key == "filters":
                pairs.extend(("filter", f"{k}:{','.join(v)}") for k, v in value.items())
            elif value is not None:
                pairs.append((key, str(value)))
        return pairs

    def querystring(self, **extra: Any) -> str:
        """``kpi=...&by=...`` plus ``extra`` (e.g. ``group`` and ``bucket`` of a drill-down)."""
        pairs = self.params() + [(k, str(v)) for k, v in extra.items() if v is not None]
        return urlencode(pairs)

    def with_(self, **changes: Any) -> WidgetSpec:
        return replace(self, **changes)

    # --- meaning --------------------------------------------------------------------------

    def kpi_def(self) -> registry.Kpi:
        return registry.get(self.kpi)

    def resolve_period(self, today: dt.date) -> Period:
        return resolve_period(self.period, today, start=self.start, end=self.end)

    def query(self, user: Any, *, today: dt.date | None = None) -> engine.KpiQuery:
        """The engine query for ``user`` (their scope), periods resolved on ``today``."""
        from salescope.core import clock

        return engine.KpiQuery(
            kpi=self.kpi,
            period=self.resolve_period(today or clock.today()),
            grain=self.grain,
            by=self.by,
            filters={k: list(v) for k, v in self.filters.items()},
            compare=self.compare,
            currency=self.currency,
            user=user,
        )

    def display_title(self) -> str:
        """The title, or one made of the KPI, dimension and period."""
        if self.title:
            return self.title
        from salescope.kpis import dimensions as dims

        parts = [str(self.kpi_def().name)]
        if self.by:
            parts.append(
                _("by %(dimension)s") % {"dimension": str(dims.get(self.by).label).lower()}
            )
        return " ".join(parts)

    def check(self) -> None:
        """Every part valid for the KPI and the chart (ValidationError naming the field)."""
        if self.chart not in CHARTS:
            raise ValidationError(
                {"chart": [_("Unknown chart %(value)r; use one of %(allowed)s.") % {
                    "value": self.chart, "allowed": ", ".join(CHARTS)}]}
            )  # fmt: skip
        if self.period not in PERIODS:
            resolve_period(self.period, dt.date.today())  # raises the error
        if self.period == "custom":
            resolve_period(self.period, dt.date.today(), start=self.start, end=self.end)
        kpi = self.kpi_def()
        engine.check_query(
            engine.KpiQuery(
                kpi=self.kpi,
                period=Period(dt.date(2000, 1, 1), dt.date(2000, 1, 2)),
                grain=self.grain,
                by=self.by,
                filters={k: list(v) for k, v in self.filters.items()},
                compare=self.compare,
                currency=self.currency,
            )
        )
        engine.parse_filters({k: list(v) for k, v in self.filters.items()})
        problem = chart_problem(self.chart, kpi, by=self.by, grain=self.grain)
        if problem:
            raise ValidationError({"chart": [problem]})


def chart_problem(chart: str, kpi: registry.Kpi, *, by: str | None, grain: str | None) -> str:
    """Why ``chart`` cannot show this KPI cut this way ("" when it can)."""
    if chart == "stacked" and not (by and grain):
        return _("Stacked bars need both a dimension and a grain.")
    if chart == "line" and not grain:
        return _("A line chart needs a grain (day, week, month ...).")
    if chart == "pie" and not by:
        return _("A pie chart needs a dimension.")
    if chart == "funnel" and not by:
        return _("A funnel needs a dimension (usually the stage).")
    if chart == "pie" and grain:
        return _("A pie chart shows one period: remove the grain.")
    if chart == "funnel" and grain:
        return _("A funnel shows one period: remove the grain.")
    if chart == "bar" and not (by or grain):
        return _("A bar chart needs a dimension or a grain.")
    if chart == "histogram":
        base = kpi
        if base.is_derived or base.aggregate not in HISTOGRAM_AGGREGATES:
            return _(
                "A histogram spreads the values of single records (deal sizes, cycle "
                "lengths ...); %(kpi)s has none."
            ) % {"kpi": kpi.name}
    return ""
