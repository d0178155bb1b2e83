"""Property: every number of a widget drills down to records that add up to it.

On a small seeded demo company, random KPI × dimension × grain × filter × period × user
choices are rendered as a widget; for each table cell (and the total) its drill-down link is
followed as the records page does. For counts and sums, the records' count or sum equals the
number; for averages and medians, the records are exactly the values the number is taken
from (count of records = count of values, mean of the records' values = the average).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterator
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.db import transaction
from django.db.models import Avg, Count
from django.http import QueryDict
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from salescope.core import clock
from salescope.kpis import dimensions as dims
from salescope.kpis import engine, registry
from salescope.kpis.render import widget_view
from salescope.kpis.views_analysis import drill
from salescope.kpis.widgets import WidgetSpec

pytestmark = pytest.mark.django_db

END = dt.date(2026, 6, 30)
NOW = dt.datetime(2026, 6, 30, 18, 0, tzinfo=zoneinfo.ZoneInfo("Europe/Berlin"))
PERIODS = [
    ("custom", "2026-01-01", "2026-06-30"),
    ("custom", "2025-10-01", "2026-03-31"),
    ("custom", "2026-04-10", "2026-05-20"),
    ("last_12_months", None, None),
    ("this_quarter", None, None),
]
GRAINS = [None, None, "month", "quarter", "week"]
MAX_CELLS = 8


@pytest.fixture(scope="module")
def world(django_db_setup: Any, django_db_blocker: Any) -> Iterator[dict[str, Any]]:
    """A 300-deal demo company, made once for the module and rolled back at its end."""
    from salescope.demo.generator import generate
    from salescope.org.models import Role, User

    with django_db_blocker.unblock(), transaction.atomic():
        with clock.frozen(NOW):
            generate(opportunities=300, seed=7, end=END)
        users = {
            role: User.objects.filter(role=role, is_active=True).order_by("pk").first()
            for role in (Role.ADMIN, Role.MANAGER, Role.REP)
        }
        values = {key: _values(key) for key in dims.DIMENSION_KEYS}
        yield {"users": [u for u in users.values() if u is not None], "values": values}
        transaction.set_rollback(True)


def _values(key: str) -> list[str]:
    from salescope.accounts.models import AccountType, Region, Tag, Tier
    from salescope.activities.models import ActivityType
    from salescope.org.models import Team, User
    from salescope.pipeline.models import LostReason, Outcome, Pipeline, ProductLine, Source, Stage

    if key == "outcome":
        return list(Outcome.values)
    model: Any = {
        "rep": User, "team": Team, "pipeline": Pipeline, "stage": Stage, "tier": Tier,
        "tag_category": Tag, "source": Source, "product": ProductLine, "region": Region,
        "account_type": AccountType, "activity_type": ActivityType, "lost_reason": LostReason,
    }[key]  # fmt: skip
    return [str(pk) for pk in model.objects.order_by("pk").values_list("pk", flat=True)[:6]]


@st.composite
def choices(draw: Any) -> dict[str, Any]:
    kpi = draw(st.sampled_from(registry.all_kpis()))
    by = draw(st.one_of(st.none(), st.sampled_from(kpi.dimensions)))
    grain = draw(st.sampled_from(GRAINS)) if kpi.grains else None
    period, start, end = draw(st.sampled_from(PERIODS))
    filter_dim = draw(st.one_of(st.none(), st.none(), st.sampled_from(kpi.dimensions)))
    return {
        "kpi": kpi.key,
        "by": by,
        "grain": grain,
        "period": period,
        "from": start,
        "to": end,
        "filter_dim": filter_dim,
        "filter_pick": draw(st.lists(st.integers(0, 5), min_size=1, max_size=3, unique=True)),
        "filter_none": draw(st.booleans()),
        "user": draw(st.integers(0, 2)),
        "cells": draw(st.randoms(use_true_random=False)),
    }


def _params(c: dict[str, Any], world: dict[str, Any]) -> dict[str, Any]:
    params: dict[str, Any] = {"kpi": c["kpi"], "chart": "table", "period": c["period"]}
    for key in ("by", "grain", "from", "to"):
        if c[key]:
            params[key] = c[key]
    if c["filter_dim"]:
        available = world["values"][c["filter_dim"]]
        picked = [available[i] for i in c["filter_pick"] if i < len(available)]
        if c["filter_none"] or not picked:
            picked.append("none")
        params["filter"] = [f"{c['filter_dim']}:{','.join(picked)}"]
    return params


def _check(kpi: registry.Kpi, value: Decimal | None, url: str, user: Any) -> None:
    found = drill(QueryDict(urlsplit(url).query), user)
    records = found.records
    if kpi.is_derived:
        records.queryset.count()  # the records of its input exist and can be listed
        return
    if kpi.aggregate in ("count", "count_distinct", "sum"):
        assert engine.quantize(kpi, records.total()) == value, url
        return
    # average / median: the records are the values the number is taken from
    stats = records.queryset.aggregate(n=Count("pk"), values=Count("v"), mean=Avg("v"))
    assert stats["n"] == stats["values"], url
    assert (value is None) == (stats["n"] == 0), url
    if kpi.aggregate == "average" and value is not None:
        mean = Decimal(str(stats["mean"])) / kpi.per
        assert abs(mean - value) <= Decimal(1).scaleb(-kpi.places), url


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(c=choices())
def test_drill_down_totals_equal_the_numbers(world: dict[str, Any], c: dict[str, Any]) -> None:
    user = world["users"][c["user"] % len(world["users"])]
    spec = WidgetSpec.from_params(_params(c, world))
    with clock.frozen(NOW):
        view = widget_view(spec, user)
        assert not view.error, view.error
        assert view.result is not None
        kpi = view.result.kpi
        _check(kpi, view.result.total.value, view.records_url, user)
        if view.table is None:
            return
        cells = [cell for row in view.table.rows for cell in row.cells if cell.url]
        for cell in c["cells"].sample(cells, min(MAX_CELLS, len(cells))):
            _check(kpi, cell.value, cell.url, user)
