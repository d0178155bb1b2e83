"""The activities API: visibility, create, change, complete, bad input."""

from typing import Any

import pytest

from salescope.activities.models import Activity
from salescope.restapi.tests.conftest import ApiClient
from salescope.testing.factories import AccountFactory, ActivityFactory, ActivityTypeFactory

pytestmark = pytest.mark.django_db


def test_activities_api(org_setup: Any, frozen_now: Any) -> None:
    call = ActivityTypeFactory(code="call")
    ActivityFactory(owner=org_setup.other_rep, activity_type=call, subject="Hidden")
    account = AccountFactory(owner=org_setup.rep)
    api = ApiClient(org_setup.rep)
    assert api.get("/activities").json()["count"] == 0
    created = api.post(
        "/activities",
        {"activity_type": call.pk, "subject": "Call Acme", "account": account.pk,
         "due_on": "2026-03-20"},
    )  # fmt: skip
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    assert api.get("/activities", {"state": "open"}).json()["count"] == 1
    assert api.get("/activities", {"state": "done"}).json()["count"] == 0
    patched = api.patch(f"/activities/{pk}", {"subject": "Call Acme again", "version": 1})
    assert patched.status_code == 200 and patched.json()["subject"] == "Call Acme again"
    done = api.post(
        f"/activities/{pk}/complete",
        {"duration_minutes": 15, "outcome": "Reached"},
        headers={"If-Match": patched["ETag"]},
    )
    assert done.status_code == 200, done.json()
    assert done.json()["done_at"] and done.json()["duration_minutes"] == 15
    again = api.post(f"/activities/{pk}/complete", {"version": done.json()["version"]})
    assert again.status_code == 422 and "done_at" in again.json()["error"]["fields"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"activity_type": 999999, "subject": "X"}, "activity_type"),
        ({"subject": ""}, "subject"),
        ({"subject": "X", "starts_at": "2026-03-20T10:00:00Z",
          "ends_at": "2026-03-20T09:00:00Z"}, "ends_at"),
    ],
)  # fmt: skip
def test_bad_activity_input_writes_nothing(org_setup: Any, payload: Any, field: str) -> None:
    call = ActivityTypeFactory(code="call")
    response = ApiClient(org_setup.rep).post("/activities", {"activity_type": call.pk, **payload})
    assert response.status_code == 422, response.json()
    assert field in response.json()["error"]["fields"]
    assert not Activity.objects.exists()


def test_read_only_cannot_create(org_setup: Any) -> None:
    call = ActivityTypeFactory(code="call")
    response = ApiClient(org_setup.readonly).post(
        "/activities", {"activity_type": call.pk, "subject": "X"}
    )
    assert response.status_code == 403 and not Activity.objects.exists()
