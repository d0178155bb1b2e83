"""Concurrent edits of one activity: one writer wins, the other gets a conflict."""

from __future__ import annotations

import threading
from typing import cast

import pytest
from django.db import connections

from salescope.activities import services
from salescope.activities.models import Activity, ActivityType
from salescope.core.errors import ConflictError
from salescope.testing.factories import ActivityTypeFactory


@pytest.mark.django_db(transaction=True)
def test_complete_and_update_at_the_same_moment(org_setup):
    s = org_setup
    call = cast(ActivityType, ActivityTypeFactory(code="call"))
    act = services.create_activity(actor=s.manager, owner=s.rep, activity_type=call, subject="x")
    barrier = threading.Barrier(2)
    results: list[str] = []

    def run(verb, **kwargs):
        try:
            barrier.wait(timeout=10)
            verb(activity=act, expected_version=1, **kwargs)
            results.append("ok")
        except ConflictError:
            results.append("conflict")
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=run, kwargs={"verb": services.complete_activity, "actor": s.rep}),
        threading.Thread(
            target=run,
            kwargs={"verb": services.update_activity, "actor": s.manager, "subject": "y"},
        ),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(results) == ["conflict", "ok"]
    assert Activity.objects.get(pk=act.pk).version == 2
