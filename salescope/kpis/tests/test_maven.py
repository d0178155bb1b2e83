"""The KPI engine on the Maven sample data set (imported with its preset) against the figures of
``datasets/maven/reference.json``, computed independently with pandas."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction

from salescope.core import clock
from salescope.kpis import engine
from salescope.kpis.periods import Period
from salescope.org.models import Role, User

MAVEN = Path("/work/shared/datasets/maven")
pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not MAVEN.is_dir(), reason="Maven data set not present"),
]
#: every engage and close date of the data set (2016-10-20 … 2017-12-31)
ALL = Period(dt.date(2016, 1, 1), dt.date(2018, 1, 1))
NOW = dt.datetime(2018, 1, 15, 12, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def maven(django_db_setup: Any, django_db_blocker: Any) -> Iterator[Any]:
    """Import once for the module, inside a transaction rolled back at the end."""
    from salescope.imports.services import import_paths
    from salescope.org.services import ensure_company_settings

    with django_db_blocker.unblock(), transaction.atomic():
        ensure_company_settings(name="Maven", currency="USD")
        admin = User.objects.create(username="kpi-admin", role=Role.ADMIN, is_staff=True)
        result = import_paths(paths=[MAVEN], preset="maven", dry_run=False, actor=admin)
        assert result.ok, result.errors[:5]
        yield admin
        transaction.set_rollback(True)


@pytest.fixture(scope="module")
def reference() -> dict[str, Any]:
    return dict(json.loads((MAVEN / "reference.json").read_text()))


def kpi(key: str, **kwargs: Any) -> engine.KpiResult:
    with clock.frozen(NOW):
        return engine.compute(engine.KpiQuery(kpi=key, period=ALL, **kwargs))


def _by_name(result: engine.KpiResult) -> dict[str, Decimal | None]:
    return {row.group_label: row.value for row in result.rows}


def test_overall_outcomes(maven: Any, reference: dict[str, Any]) -> None:
    assert kpi("deals_won").total.value == reference["n_won"]
    assert kpi("deals_lost").total.value == reference["n_lost"]
    assert kpi("open_opportunities").total.value == reference["n_open"]
    rate = kpi("win_rate").total.value
    assert rate == Decimal(str(reference["overall_win_rate"]))


def test_won_revenue_and_deal_size(maven: Any, reference: dict[str, Any]) -> None:
    revenue = kpi("won_revenue")
    assert revenue.currency == "USD"
    assert revenue.total.value == Decimal(str(reference["won_revenue_total"])).quantize(
        Decimal("0.01")
    )
    mean = kpi("average_deal_size").total.value
    assert mean is not None
    assert abs(mean - Decimal(str(reference["mean_close_value_won"]))) < Decimal("0.005")
    assert kpi("median_deal_size").total.value == Decimal(str(reference["median_close_value_won"]))


def test_per_agent_win_rate(maven: Any, reference: dict[str, Any]) -> None:
    rates = _by_name(kpi("win_rate", by="rep"))
    assert len(rates) == reference["n_sales_agents_in_pipeline"]
    for ref in reference["win_rate_by_agent_top5"] + reference["win_rate_by_agent_bottom5"]:
        assert rates[ref["sales_agent"]] == Decimal(str(ref["win_rate"])).quantize(
            Decimal("0.000001")
        ), ref["sales_agent"]
    won = _by_name(kpi("deals_won", by="rep"))
    lost = _by_name(kpi("deals_lost", by="rep"))
    for ref in reference["win_rate_by_agent_top5"]:
        assert (won[ref["sales_agent"]], lost[ref["sales_agent"]]) == (ref["won"], ref["lost"])


def test_per_agent_won_revenue(maven: Any, reference: dict[str, Any]) -> None:
    revenue = _by_name(kpi("won_revenue", by="rep"))
    for name, amount in reference["top5_agents_by_won_revenue"].items():
        assert revenue[name] == Decimal(str(amount)).quantize(Decimal("0.01")), name


def test_sales_cycle_from_engage_to_close(maven: Any, reference: dict[str, Any]) -> None:
    # The preset creates each deal on its engage date, so created → closed is engage → close.
    median = kpi("sales_cycle_median").total.value
    mean = kpi("sales_cycle_mean").total.value
    assert median == Decimal(str(reference["median_days_engage_to_close_won"])).quantize(
        Decimal("0.001")
    )
    assert mean is not None
    assert abs(mean - Decimal(str(reference["mean_days_engage_to_close_won"]))) < Decimal("0.001")


def test_win_rate_per_manager_team(maven: Any, reference: dict[str, Any]) -> None:
    rates = kpi("win_rate", by="team")
    by_team = {row.group: row.value for row in rates.rows}
    from salescope.org.models import Team

    for ref in reference["win_rate_by_manager"]:
        team = Team.objects.get(manager__first_name=ref["manager"].split()[0])
        expected = Decimal(ref["won"]) / Decimal(ref["won"] + ref["lost"])
        assert by_team[team.pk] == expected.quantize(Decimal("0.000001")), team.name


def test_drill_down_adds_up_on_maven(maven: Any) -> None:
    query = engine.KpiQuery(kpi="won_revenue", period=ALL, by="team", grain="quarter")
    with clock.frozen(NOW):
        result = engine.compute(query)
        checked = 0
        for row in result.rows:
            if row.value:
                records = engine.records(query, group=row.group, bucket=row.bucket)
                assert records.total().quantize(Decimal("0.01")) == row.value
                checked += 1
    assert checked >= 4
