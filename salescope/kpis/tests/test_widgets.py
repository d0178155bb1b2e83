"""Widget specs: query-string and JSON round trips, relative periods, chart rules."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.http import QueryDict

from salescope.kpis import builtins
from salescope.kpis.widgets import PERIODS, WidgetSpec, resolve_period

pytestmark = pytest.mark.django_db


def test_builtin_widgets_are_valid() -> None:
    for board in builtins.BUILTINS.values():
        for widget in board.widgets:
            widget.spec.check()
            assert WidgetSpec.from_json(widget.spec.to_json()) == widget.spec


def test_query_string_round_trip() -> None:
    spec = WidgetSpec.from_params(
        QueryDict("kpi=win_rate&by=rep&grain=month&period=last_12_months&compare=previous"
                  "&chart=bar&filter=source:1,2&filter=pipeline:3")
    )  # fmt: skip
    assert spec.filters == {"source": ("1", "2"), "pipeline": ("3",)}
    assert WidgetSpec.from_params(QueryDict(spec.querystring())) == spec
    assert WidgetSpec.from_json(spec.to_json()) == spec


@pytest.mark.parametrize(
    ("name", "start", "end"),
    [
        ("today", "2026-11-23", "2026-11-24"),
        ("this_week", "2026-11-23", "2026-11-30"),
        ("last_week", "2026-11-16", "2026-11-23"),
        ("this_month", "2026-11-01", "2026-12-01"),
        ("last_month", "2026-10-01", "2026-11-01"),
        ("this_quarter", "2026-10-01", "2027-01-01"),
        ("last_quarter", "2026-07-01", "2026-10-01"),
        ("this_year", "2026-01-01", "2027-01-01"),
        ("last_year", "2025-01-01", "2026-01-01"),
        ("last_30_days", "2026-10-25", "2026-11-24"),
        ("last_90_days", "2026-08-26", "2026-11-24"),
        ("last_12_months", "2025-12-01", "2026-12-01"),
        ("next_3_months", "2026-11-01", "2027-02-01"),
        ("next_6_months", "2026-11-01", "2027-05-01"),
    ],
)
def test_relative_periods(name: str, start: str, end: str) -> None:
    period = resolve_period(name, dt.date(2026, 11, 23))
    assert (period.start.isoformat(), period.end.isoformat()) == (start, end)


def test_every_period_resolves() -> None:
    for name in PERIODS:
        if name != "custom":
            resolve_period(name, dt.date(2026, 2, 28))
    period = resolve_period(
        "custom", dt.date(2026, 1, 1), start=dt.date(2026, 1, 5), end=dt.date(2026, 1, 5)
    )
    assert period.days == 1


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("", "kpi"),
        ("kpi=nope", "kpi"),
        ("kpi=win_rate&chart=radar", "chart"),
        ("kpi=win_rate&chart=pie", "chart"),
        ("kpi=win_rate&chart=line&by=rep", "chart"),
        ("kpi=win_rate&chart=stacked&by=rep", "chart"),
        ("kpi=win_rate&chart=histogram", "chart"),
        ("kpi=win_rate&by=activity_type", "by"),
        ("kpi=win_rate&by=colour", "by"),
        ("kpi=win_rate&grain=fortnight", "grain"),
        ("kpi=win_rate&period=someday", "period"),
        ("kpi=win_rate&period=custom&from=2026-02-01", "from"),
        ("kpi=win_rate&from=2026-02-01&to=2026-01-01", "to"),
        ("kpi=win_rate&from=yesterday&to=2026-01-01", "from"),
        ("kpi=win_rate&compare=decade", "compare"),
        ("kpi=win_rate&filter=source", "filter"),
        ("kpi=win_rate&filter=source:abc", "filter.source"),
        ("kpi=win_rate&filter=colour:1", "filter.colour"),
        ("kpi=win_rate&currency=EURO", "currency"),
    ],
)
def test_bad_specs_name_the_field(query: str, field: str) -> None:
    with pytest.raises(ValidationError) as info:
        WidgetSpec.from_params(QueryDict(query))
    assert field in info.value.message_dict, info.value.message_dict
