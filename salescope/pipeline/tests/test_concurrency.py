"""Concurrent edits: the second save gets a clear conflict, never a silent overwrite."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import connections

from salescope.core.errors import ConflictError
from salescope.pipeline import services
from salescope.pipeline.models import Opportunity
from salescope.testing.factories import make_opportunity


@pytest.mark.django_db
def test_second_save_with_stale_version_gets_conflict_naming_who_and_when(org_setup):
    s = org_setup
    opp = make_opportunity(owner=s.rep, actor=s.rep, stage=s.stages["Meeting"], amount="1000.00")
    manager_view = Opportunity.objects.get(pk=opp.pk)  # both open the deal at version 1
    rep_view = Opportunity.objects.get(pk=opp.pk)
    services.change_amount(
        opportunity=rep_view, amount="1500.00", actor=s.rep, expected_version=rep_view.version
    )
    with pytest.raises(ConflictError) as exc:
        services.change_amount(
            opportunity=manager_view,
            amount="900.00",
            actor=s.manager,
            expected_version=manager_view.version,
        )
    message = str(exc.value)
    assert s.rep.get_full_name() in message and "Reload" in message
    assert exc.value.current_version == 2
    stored = Opportunity.objects.get(pk=opp.pk)
    assert stored.amount == Decimal("1500.00")
    assert stored.events.filter(kind="amount").count() == 1


@pytest.mark.django_db
def test_update_opportunity_checks_the_version_once_for_the_whole_form(org_setup):
    s = org_setup
    opp = make_opportunity(owner=s.rep, actor=s.rep, stage=s.stages["Meeting"])
    services.change_probability(opportunity=opp, probability=40, actor=s.rep, expected_version=1)
    with pytest.raises(ConflictError):
        services.update_opportunity(
            opportunity=opp,
            actor=s.manager,
            expected_version=1,
            changes={"name": "Renamed", "amount": Decimal("5.00")},
        )
    stored = Opportunity.objects.get(pk=opp.pk)
    assert stored.name == "Deal" and stored.version == 2


@pytest.mark.django_db(transaction=True)
def test_truly_concurrent_writers_one_wins_one_conflicts(org_setup):
    """Two threads save the same version at the same moment.

    PostgreSQL serialises them on the row lock (select_for_update); SQLite on the database
    write lock its IMMEDIATE transactions take. Either way the second sees version 2.
    """
    s = org_setup
    opp = make_opportunity(owner=s.rep, actor=s.rep, stage=s.stages["Meeting"], amount="1000.00")
    barrier = threading.Barrier(2)
    results: list[str] = []

    def writer(user, amount):
        try:
            barrier.wait(timeout=10)
            services.change_amount(opportunity=opp, amount=amount, actor=user, expected_version=1)
            results.append("ok")
        except ConflictError:
            results.append("conflict")
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=writer, args=(s.rep, "1100.00")),
        threading.Thread(target=writer, args=(s.manager, "1200.00")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(results) == ["conflict", "ok"]
    stored = Opportunity.objects.get(pk=opp.pk)
    assert stored.version == 2
    assert stored.events.filter(kind="amount").count() == 1
