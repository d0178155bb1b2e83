"""The webhooks screens: admins manage subscriptions; everyone else gets 403."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from salescope.webhooks import services
from salescope.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookSubscription
from salescope.webhooks.tests.conftest import Answer, Receiver

pytestmark = pytest.mark.django_db


@pytest.fixture
def sub(org_setup: Any) -> WebhookSubscription:
    return services.create_subscription(
        actor=org_setup.admin, name="ERP", url="https://erp.example.com/h",
        event_types=["deal.won", "deal.lost"],
    )  # fmt: skip


@pytest.fixture
def admin_client(client: Any, org_setup: Any) -> Any:
    client.force_login(org_setup.admin)
    return client


def test_list_shows_subscriptions_with_their_last_delivery(
    admin_client: Any, sub: WebhookSubscription
) -> None:
    quiet = services.create_subscription(
        actor=None, name="Quiet", url="https://q.example.com", event_types=["deal.created"]
    )
    WebhookDelivery.objects.create(
        subscription=sub, event_type="deal.won", event_id="9f1c2a4e-4c59-4a7e-9d43-2b7f1ad0a0a1",
        payload={}, status=DeliveryStatus.GAVE_UP, last_status_code=503,
        created_at=sub.created_at,
    )  # fmt: skip
    response = admin_client.get(reverse("webhooks:list"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "ERP" in html and "https://erp.example.com/h" in html and "Deal won" in html
    assert "Gave up" in html and "HTTP 503" in html
    row = html[html.index(f'data-subscription="{quiet.pk}"') :]
    assert "Nothing sent yet" in row[: row.index("</tr>")]
    assert reverse("webhooks:list") in admin_client.get(reverse("home")).content.decode()


def test_create_with_checkboxes(admin_client: Any) -> None:
    response = admin_client.post(
        reverse("webhooks:create"),
        {"name": "Chat", "url": "https://chat.example.com/in", "active": "on",
         "event_types": ["deal.won", "activity.done"]},
    )  # fmt: skip
    sub = WebhookSubscription.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("webhooks:detail", args=[sub.pk])
    assert sub.event_types == ["deal.won", "activity.done"] and sub.active
    page = admin_client.get(response["Location"]).content.decode()
    assert sub.secret in page and "Send test ping" in page and "Rotate secret" in page


@pytest.mark.parametrize(
    ("data", "field_text"),
    [
        ({"name": "X", "url": "ftp://x.example.com", "event_types": ["deal.won"]}, "http://"),
        ({"name": "X", "url": "https://x.example.com"}, "Choose at least one event"),
        ({"name": "X", "url": "https://x.example.com", "event_types": ["nope"]}, "nope"),
        ({"name": "", "url": "https://x.example.com", "event_types": ["deal.won"]}, "required"),
    ],
)
def test_create_with_bad_input_shows_the_error_and_writes_nothing(
    admin_client: Any, data: dict[str, Any], field_text: str
) -> None:
    response = admin_client.post(reverse("webhooks:create"), data)
    assert response.status_code == 400
    assert field_text in response.content.decode()
    assert not WebhookSubscription.objects.exists()


def test_edit_keeps_the_secret_and_refuses_a_stale_form(
    admin_client: Any, sub: WebhookSubscription
) -> None:
    url = reverse("webhooks:edit", args=[sub.pk])
    form = admin_client.get(url).content.decode()
    assert 'value="deal.won"' in form and 'name="version"' in form
    data = {"name": "ERP 2", "url": sub.url, "event_types": ["deal.created"], "version": 1}
    assert admin_client.post(url, data).status_code == 302
    sub.refresh_from_db()
    assert (sub.name, sub.event_types, sub.active, sub.version) == (
        "ERP 2", ["deal.created"], False, 2,
    )  # fmt: skip
    stale = admin_client.post(url, {**data, "name": "Other"})
    assert stale.status_code == 400 and "was changed by" in stale.content.decode()
    sub.refresh_from_db()
    assert sub.name == "ERP 2"


def test_rotate_ping_redeliver_and_delete(
    admin_client: Any, org_setup: Any, receiver: Receiver, django_capture_on_commit_callbacks
) -> None:
    sub = services.create_subscription(
        actor=org_setup.admin, name="Local", url=receiver.url, event_types=["deal.won"]
    )
    old = sub.secret
    admin_client.post(reverse("webhooks:rotate", args=[sub.pk]), {"version": 1})
    sub.refresh_from_db()
    assert sub.secret != old and sub.version == 2

    receiver.answer(Answer(500, b"nope"))
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("webhooks:ping", args=[sub.pk]))
    assert response.status_code == 302
    failed = WebhookDelivery.objects.get()
    assert failed.status == DeliveryStatus.FAILED
    page = admin_client.get(reverse("webhooks:detail", args=[sub.pk])).content.decode()
    assert "Failed, will retry" in page and "nope" in page
    assert "&quot;type&quot;: &quot;ping&quot;" in page
    assert reverse("webhooks:redeliver", args=[failed.pk]) in page

    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(reverse("webhooks:redeliver", args=[failed.pk]))
    assert WebhookDelivery.objects.filter(status=DeliveryStatus.SUCCEEDED).count() == 1
    filtered = admin_client.get(reverse("webhooks:detail", args=[sub.pk]), {"status": "failed"})
    assert filtered.content.decode().count("data-delivery=") == 1

    stale = admin_client.post(reverse("webhooks:delete", args=[sub.pk]), {"version": 1})
    assert stale.status_code == 302 and WebhookSubscription.objects.exists()
    admin_client.post(reverse("webhooks:delete", args=[sub.pk]), {"version": 2})
    assert not WebhookSubscription.objects.exists()


def test_redeliver_of_a_successful_delivery_is_refused(
    admin_client: Any, sub: WebhookSubscription
) -> None:
    ok = WebhookDelivery.objects.create(
        subscription=sub, event_type="deal.won", event_id="9f1c2a4e-4c59-4a7e-9d43-2b7f1ad0a0a1",
        payload={}, status=DeliveryStatus.SUCCEEDED, created_at=sub.created_at,
    )  # fmt: skip
    response = admin_client.post(reverse("webhooks:redeliver", args=[ok.pk]), follow=True)
    assert "Only a failed delivery" in response.content.decode()
    assert WebhookDelivery.objects.count() == 1


@pytest.mark.parametrize("role", ["manager", "rep", "marketing", "readonly"])
def test_non_admins_get_403_everywhere(
    client: Any, org_setup: Any, sub: WebhookSubscription, role: str
) -> None:
    client.force_login(getattr(org_setup, role))
    pages = [
        ("get", reverse("webhooks:list")),
        ("get", reverse("webhooks:create")),
        ("get", reverse("webhooks:detail", args=[sub.pk])),
        ("get", reverse("webhooks:edit", args=[sub.pk])),
        ("post", reverse("webhooks:rotate", args=[sub.pk])),
        ("post", reverse("webhooks:ping", args=[sub.pk])),
        ("post", reverse("webhooks:delete", args=[sub.pk])),
        ("post", reverse("webhooks:redeliver", args=[1])),
    ]
    for method, url in pages:
        assert getattr(client, method)(url).status_code == 403, url
    assert WebhookSubscription.objects.get().version == 1
    assert not WebhookDelivery.objects.exists()


def test_anonymous_is_sent_to_login(client: Any) -> None:
    response = client.get(reverse("webhooks:list"))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_unknown_ids_are_404(admin_client: Any) -> None:
    assert admin_client.get(reverse("webhooks:detail", args=[999])).status_code == 404
    assert admin_client.post(reverse("webhooks:redeliver", args=[999])).status_code == 404
    assert admin_client.get(reverse("webhooks:ping", args=[999])).status_code == 405
