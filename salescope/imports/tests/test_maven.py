"""The Maven sample data set imported with its preset matches the published reference figures."""

from __future__ import annotations

import json
import statistics
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction
from django.db.models import Count, Q, Sum

from salescope.core.models import ExternalId
from salescope.imports.services import import_paths
from salescope.org.models import Role, Team, User
from salescope.pipeline import domain
from salescope.pipeline.models import EventKind, Opportunity, OpportunityEvent, Outcome, Stage

MAVEN = Path("/work/shared/datasets/maven")
pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not MAVEN.is_dir(), reason="Maven data set not present"),
]


@pytest.fixture(scope="module")
def maven(django_db_setup: Any, django_db_blocker: Any) -> Iterator[dict[str, Any]]:
    """Import once for the module (inside a transaction rolled back at the end)."""
    from salescope.org.services import ensure_company_settings

    with django_db_blocker.unblock(), transaction.atomic():
        ensure_company_settings(name="Maven", currency="USD")
        admin = User.objects.create(username="admin", role=Role.ADMIN, is_staff=True)
        first = import_paths(paths=[MAVEN], preset="maven", dry_run=False, actor=admin)
        counts_after_first = {
            "opps": Opportunity.objects.count(),
            "events": OpportunityEvent.objects.count(),
            "users": User.objects.count(),
        }
        second = import_paths(paths=[MAVEN], preset="maven", dry_run=False, actor=admin)
        yield {"first": first, "second": second, "admin": admin, "counts": counts_after_first}
        transaction.set_rollback(True)


@pytest.fixture
def reference() -> dict[str, Any]:
    return dict(json.loads((MAVEN / "reference.json").read_text()))


def test_first_run_imports_everything(maven: dict[str, Any], reference: dict[str, Any]) -> None:
    first = maven["first"]
    assert first.ok, first.errors[:5]
    assert first.written
    assert first.count("opportunities", "created") == reference["files"]["sales_pipeline.csv"]
    assert first.count("accounts", "created") == reference["files"]["accounts.csv"]
    assert first.count("products", "created") == reference["files"]["products.csv"]
    # 35 agents plus their 6 managers
    assert first.count("users", "created") == reference["files"]["sales_teams.csv"] + 6
    assert "data_dictionary.csv" in first.skipped_tables


def test_outcome_counts_and_revenue(maven: dict[str, Any], reference: dict[str, Any]) -> None:
    opps = Opportunity.objects.filter(pipeline__name="Maven")
    counts = opps.aggregate(
        won=Count("pk", filter=Q(outcome=Outcome.WON)),
        lost=Count("pk", filter=Q(outcome=Outcome.LOST)),
        open=Count("pk", filter=Q(outcome=Outcome.OPEN)),
        revenue=Sum("amount", filter=Q(outcome=Outcome.WON)),
    )
    assert counts["won"] == reference["n_won"]
    assert counts["lost"] == reference["n_lost"]
    assert counts["open"] == reference["n_open"]
    assert counts["won"] / (counts["won"] + counts["lost"]) == pytest.approx(
        reference["overall_win_rate"], abs=1e-6
    )
    assert counts["revenue"] == Decimal(str(reference["won_revenue_total"]))
    won_amounts = sorted(opps.filter(outcome=Outcome.WON).values_list("amount", flat=True))
    assert float(statistics.mean(won_amounts)) == pytest.approx(
        reference["mean_close_value_won"], abs=1e-4
    )
    assert float(statistics.median(won_amounts)) == reference["median_close_value_won"]
    assert not opps.filter(outcome=Outcome.LOST).exclude(amount=0).exists()
    stages = dict(
        opps.filter(outcome=Outcome.OPEN).values_list("stage__name").annotate(n=Count("pk"))
    )
    assert stages == {
        "Engaging": reference["deal_stage_counts"]["Engaging"],
        "Prospecting": reference["deal_stage_counts"]["Prospecting"],
    }


def test_per_agent_win_rates(maven: dict[str, Any], reference: dict[str, Any]) -> None:
    rows = (
        Opportunity.objects.filter(pipeline__name="Maven")
        .values("owner__first_name", "owner__last_name")
        .annotate(
            won=Count("pk", filter=Q(outcome=Outcome.WON)),
            lost=Count("pk", filter=Q(outcome=Outcome.LOST)),
        )
    )
    by_agent = {f"{r['owner__first_name']} {r['owner__last_name']}": r for r in rows}
    assert len(by_agent) == reference["n_sales_agents_in_pipeline"]
    expected = reference["win_rate_by_agent_top5"] + reference["win_rate_by_agent_bottom5"]
    for ref in expected:
        got = by_agent[ref["sales_agent"]]
        assert (got["won"], got["lost"]) == (ref["won"], ref["lost"])
        assert got["won"] / (got["won"] + got["lost"]) == pytest.approx(ref["win_rate"], abs=1e-6)


def test_per_manager_win_rates_through_teams(
    maven: dict[str, Any], reference: dict[str, Any]
) -> None:
    for ref in reference["win_rate_by_manager"]:
        team = Team.objects.get(manager__first_name=ref["manager"].split()[0])
        opps = Opportunity.objects.filter(owner__team=team)
        won = opps.filter(outcome=Outcome.WON).count()
        lost = opps.filter(outcome=Outcome.LOST).count()
        assert (won, lost) == (ref["won"], ref["lost"]), team.name


def test_history_reconstructed_from_dates(maven: dict[str, Any], reference: dict[str, Any]) -> None:
    engaging = Stage.objects.get(pipeline__name="Maven", name="Engaging")
    entered = dict(
        OpportunityEvent.objects.filter(to_stage=engaging).values_list(
            "opportunity_id", "occurred_at"
        )
    )
    won = Opportunity.objects.filter(pipeline__name="Maven", outcome=Outcome.WON)
    days = [(o.closed_on - entered[o.pk].date()).days for o in won]
    assert statistics.median(days) == reference["median_days_engage_to_close_won"]
    assert statistics.mean(days) == pytest.approx(
        reference["mean_days_engage_to_close_won"], abs=1e-3
    )
    events = OpportunityEvent.objects.filter(opportunity__pipeline__name="Maven")
    assert not events.filter(reconstructed=False).exists()
    assert set(events.values_list("origin", flat=True)) == {"import"}
    # Every opportunity's state is the replay of its history.
    sample = list(won[:50]) + list(
        Opportunity.objects.filter(pipeline__name="Maven", outcome=Outcome.LOST)[:50]
    )
    for opp in sample:
        history = opp.events.order_by("occurred_at", "id").values_list(
            "kind", "old_value", "new_value"
        )
        assert domain.replay(history) == domain.snapshot(opp)
        assert opp.events.filter(kind=EventKind.CREATED).count() == 1


def test_second_run_changes_nothing(maven: dict[str, Any]) -> None:
    second = maven["second"]
    assert second.ok and second.written
    for entity, counts in second.summary.items():
        assert counts["created"] == 0, entity
        assert counts["updated"] == 0, entity
    assert second.count("opportunities", "unchanged") == 8800
    assert Opportunity.objects.count() == maven["counts"]["opps"]
    assert OpportunityEvent.objects.count() == maven["counts"]["events"]
    assert User.objects.count() == maven["counts"]["users"]
    assert ExternalId.objects.filter(system="maven").count() == 8800


def test_accounts_and_products(maven: dict[str, Any]) -> None:
    from salescope.accounts.models import Account
    from salescope.pipeline.models import ProductLine

    acme = Account.objects.get(name="Acme Corporation")
    assert acme.industry is not None and acme.industry.name == "Technology"
    assert acme.country == "US"
    assert acme.annual_revenue == Decimal("1100040000.00")
    assert acme.employees == 2822
    assert Account.objects.filter(parent__isnull=False).count() == 15
    assert ProductLine.objects.get(name="GTX Pro").list_price == Decimal("4821")
    # "GTXPro" in the deals is the product "GTX Pro" (value map), never a product of its own
    assert not ProductLine.objects.filter(name="GTXPro").exists()
    assert Opportunity.objects.filter(products__name="GTX Pro").count() == 1480
