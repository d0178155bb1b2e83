"""The webhooks REST API: administrators only, typed answers, versions, bad input."""

from __future__ import annotations

import typing
from typing import Any

import pytest

from salescope.restapi.tests.conftest import ApiClient
from salescope.webhooks import api as webhooks_api
from salescope.webhooks import services
from salescope.webhooks.models import (
    DeliveryStatus,
    EventType,
    WebhookDelivery,
    WebhookSubscription,
)
from salescope.webhooks.tests.conftest import Answer, Receiver

pytestmark = pytest.mark.django_db

BASE = "/webhooks/subscriptions"
NEW = {"name": "ERP", "url": "https://erp.example.com/hook", "event_types": ["deal.won"]}


def test_event_type_names_match_the_model() -> None:
    assert list(typing.get_args(webhooks_api.EventTypeName)) == EventType.values
    assert list(typing.get_args(webhooks_api.StatusName)) == DeliveryStatus.values


def test_crud(org_setup: Any) -> None:
    api = ApiClient(org_setup.admin)
    created = api.post(BASE, NEW)
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["secret"].startswith("whsec_") and body["version"] == 1
    assert body["event_types"] == ["deal.won"] and body["active"] is True
    assert body["created_by"] == {"id": org_setup.admin.pk, "name": str(org_setup.admin)}
    assert body["last_status"] is None
    pk = body["id"]

    got = api.get(f"{BASE}/{pk}")
    assert got.status_code == 200 and got["ETag"] == '"1"'
    listed = api.get(BASE).json()
    assert listed["count"] == 1 and listed["items"][0]["id"] == pk

    no_version = api.patch(f"{BASE}/{pk}", {"active": False})
    assert no_version.status_code == 428
    patched = api.patch(f"{BASE}/{pk}", {"active": False, "event_types": ["deal.lost", "deal.won"]},
                        headers={"If-Match": '"1"'})  # fmt: skip
    assert patched.status_code == 200, patched.content
    assert patched.json()["active"] is False
    assert patched.json()["event_types"] == ["deal.won", "deal.lost"]
    stale = api.patch(f"{BASE}/{pk}", {"name": "x", "version": 1})
    assert stale.status_code == 409

    rotated = api.post(f"{BASE}/{pk}/rotate-secret", {"version": 2})
    assert rotated.status_code == 200 and rotated.json()["secret"] != body["secret"]

    assert api.delete(f"{BASE}/{pk}").status_code == 428
    assert api.delete(f"{BASE}/{pk}", headers={"If-Match": '"2"'}).status_code == 412
    assert api.delete(f"{BASE}/{pk}", headers={"If-Match": '"3"'}).status_code == 204
    assert not WebhookSubscription.objects.exists()
    assert api.get(f"{BASE}/{pk}").status_code == 404


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({**NEW, "url": "ftp://erp.example.com"}, "url"),
        ({**NEW, "url": "https://user:pw@erp.example.com"}, "url"),
        ({**NEW, "event_types": []}, "event_types"),
        ({**NEW, "event_types": ["deal.exploded"]}, "event_types"),
        ({**NEW, "name": "  "}, "name"),
        ({**NEW, "name": "x" * 101}, "name"),
        ({**NEW, "active": "maybe"}, "active"),
        ({"name": "ERP"}, "url"),
    ],
)
def test_bad_input_is_422_and_writes_nothing(org_setup: Any, data: Any, field: str) -> None:
    response = ApiClient(org_setup.admin).post(BASE, data)
    assert response.status_code == 422, response.content
    fields = response.json()["error"]["fields"]
    assert any(field in key for key in fields), fields
    assert not WebhookSubscription.objects.exists()


@pytest.mark.parametrize("role", ["manager", "rep", "marketing", "readonly"])
def test_non_admins_get_403(org_setup: Any, role: str) -> None:
    sub = services.create_subscription(actor=org_setup.admin, **NEW)
    api = ApiClient(getattr(org_setup, role))
    assert api.get(BASE).status_code == 403
    assert api.post(BASE, NEW).status_code == 403
    assert api.get(f"{BASE}/{sub.pk}").status_code == 403
    assert api.patch(f"{BASE}/{sub.pk}", {"name": "x", "version": 1}).status_code == 403
    assert api.post(f"{BASE}/{sub.pk}/rotate-secret", {"version": 1}).status_code == 403
    assert api.post(f"{BASE}/{sub.pk}/ping").status_code == 403
    assert api.delete(f"{BASE}/{sub.pk}", headers={"If-Match": "1"}).status_code == 403
    assert api.get("/webhooks/deliveries").status_code == 403
    assert api.get("/webhooks/deliveries/1").status_code == 403
    assert api.post("/webhooks/deliveries/1/redeliver").status_code == 403
    sub.refresh_from_db()
    assert sub.version == 1 and WebhookSubscription.objects.count() == 1
    assert not WebhookDelivery.objects.exists()


def test_ping_deliveries_and_redeliver(
    org_setup: Any, receiver: Receiver, django_capture_on_commit_callbacks
) -> None:
    api = ApiClient(org_setup.admin)
    sub = services.create_subscription(
        actor=org_setup.admin, name="Local", url=receiver.url, event_types=["deal.won"]
    )
    receiver.answer(Answer(500, b"boom"))
    with django_capture_on_commit_callbacks(execute=True):
        pinged = api.post(f"{BASE}/{sub.pk}/ping")
    assert pinged.status_code == 201
    delivery_id = pinged.json()["id"]
    assert pinged.json()["event_type"] == "ping"

    listed = api.get("/webhooks/deliveries", {"subscription": sub.pk}).json()
    assert listed["count"] == 1
    item = listed["items"][0]
    assert item["status"] == "failed" and item["last_status_code"] == 500
    assert item["response_excerpt"] == "boom" and item["attempts"] == 1
    assert item["subscription"] == {"id": sub.pk, "name": "Local"}
    assert item["payload"]["type"] == "ping"
    assert api.get("/webhooks/deliveries", {"status": "succeeded"}).json()["count"] == 0
    assert api.get("/webhooks/deliveries", {"status": "weird"}).status_code == 422
    assert api.get(f"{BASE}", {"page_size": 0}).status_code == 422

    with django_capture_on_commit_callbacks(execute=True):
        again = api.post(f"/webhooks/deliveries/{delivery_id}/redeliver")
    assert again.status_code == 201
    assert again.json()["redelivery_of"] == delivery_id
    assert again.json()["event_id"] == item["event_id"]
    assert api.get(f"/webhooks/deliveries/{again.json()['id']}").json()["status"] == "succeeded"
    refused = api.post(f"/webhooks/deliveries/{again.json()['id']}/redeliver")
    assert refused.status_code == 422
    listed = api.get(BASE).json()["items"][0]
    assert listed["last_status"] == "succeeded"
    assert api.get("/webhooks/deliveries/999999").status_code == 404
    assert api.post("/webhooks/deliveries/999999/redeliver").status_code == 404


def test_openapi_describes_the_operations(org_setup: Any) -> None:
    spec = ApiClient(org_setup.admin).get("/openapi.json").json()
    paths = spec["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/webhooks/subscriptions"])
    assert {"get", "patch", "delete"} <= set(
        paths["/api/v1/webhooks/subscriptions/{subscription_id}"]
    )
    assert "post" in paths["/api/v1/webhooks/deliveries/{delivery_id}/redeliver"]
