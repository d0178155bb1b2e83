"""Managing subscriptions: input checks, private addresses, permissions, versions."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from salescope.core.errors import ConflictError
from salescope.webhooks import services
from salescope.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookSubscription

pytestmark = pytest.mark.django_db

URL = "https://erp.example.com/hooks/salescope"


def create(actor: Any, **kw: Any) -> WebhookSubscription:
    args = {"name": "ERP", "url": URL, "event_types": ["deal.won"], **kw}
    return services.create_subscription(actor=actor, **args)


def test_create_generates_a_secret_and_keeps_events_in_canonical_order(org_setup: Any) -> None:
    sub = create(
        org_setup.admin, name="  ERP sync ", event_types=["deal.won", "deal.created", "deal.won"]
    )
    assert sub.name == "ERP sync"
    assert sub.event_types == ["deal.created", "deal.won"]
    assert sub.secret.startswith("whsec_") and sub.active
    assert sub.created_by == org_setup.admin and sub.version == 1
    assert create(org_setup.admin).secret != sub.secret


@pytest.mark.parametrize(
    "url",
    [
        "",
        "   ",
        "erp.example.com/hook",
        "ftp://erp.example.com/hook",
        "javascript:alert(1)",
        "file:///etc/passwd",
        "http://",
        "https:///path-only",
        "https://user:secret@erp.example.com/hook",
        "https://erp.example.com:99999/hook",
        "https://erp.example.com:port/hook",
        "https://erp example.com/hook",
        "https://erp.example.com/a b",
        "https://erp.example.com/\nX-Injected: 1",
        "https://exa_mple.com/hook",
        "https://-bad-.example.com/",
        "https://example.com/" + "x" * 500,
        None,
        42,
    ],
)
def test_bad_urls_are_refused_and_nothing_is_written(org_setup: Any, url: Any) -> None:
    with pytest.raises(ValidationError) as info:
        create(org_setup.admin, url=url)
    assert list(info.value.message_dict) == ["url"]
    assert not WebhookSubscription.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "https://erp.example.com/hooks?token=abc",
        "http://localhost:8080/hook",
        "http://127.0.0.1:9000/",
        "http://n8n:5678/webhook/abc",
        "https://[2001:db8::1]/hook",
        "HTTPS://ERP.EXAMPLE.COM/Hook",
    ],
)
def test_good_urls_are_accepted_outside_production(org_setup: Any, url: str) -> None:
    assert create(org_setup.admin, url=f"  {url} ").url == url


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://localhost:8000/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.10/hook",
        "http://172.16.5.4/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://[fd00::1]/hook",
        "http://[::ffff:10.0.0.1]/hook",
        "http://0.0.0.0/hook",
        "http://100.64.0.1/hook",
        "http://224.0.0.1/hook",
    ],
)
def test_production_refuses_private_addresses(org_setup: Any, settings: Any, url: str) -> None:
    settings.PRODUCTION = True
    with pytest.raises(ValidationError) as info:
        create(org_setup.admin, url=url)
    assert "public addresses" in info.value.message_dict["url"][0]
    settings.SALESCOPE_WEBHOOKS_ALLOW_PRIVATE = True
    assert create(org_setup.admin, url=url).url == url


def test_production_accepts_public_addresses_and_refuses_unresolvable_hosts(
    org_setup: Any, settings: Any
) -> None:
    settings.PRODUCTION = True
    assert create(org_setup.admin, url="https://93.184.215.14/hook").pk
    with pytest.raises(ValidationError) as info:
        create(org_setup.admin, url="https://no-such-host.invalid/hook")
    assert "cannot be resolved" in info.value.message_dict["url"][0]


def test_production_refuses_sending_to_an_address_that_became_private(
    org_setup: Any, settings: Any
) -> None:
    """The check runs again before every attempt (a name may point elsewhere later)."""
    sub = create(org_setup.admin, url="http://127.0.0.1:9/hook")
    delivery = services.send_ping(actor=org_setup.admin, subscription=sub)
    settings.PRODUCTION = True
    services.attempt_delivery(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    assert "public addresses" in delivery.last_error


@pytest.mark.parametrize(
    ("kinds", "message"),
    [
        ([], "at least one"),
        (["deal.created", "deal.exploded"], "deal.exploded"),
        (["ping"], "ping"),
        ("deal.won", "as a list"),
        (None, "as a list"),
        ([None], "None"),
    ],
)
def test_bad_event_types_are_refused(org_setup: Any, kinds: Any, message: str) -> None:
    with pytest.raises(ValidationError) as info:
        create(org_setup.admin, event_types=kinds)
    assert message in info.value.message_dict["event_types"][0]
    assert not WebhookSubscription.objects.exists()


def test_every_bad_field_is_reported_at_once(org_setup: Any) -> None:
    with pytest.raises(ValidationError) as info:
        services.create_subscription(
            actor=org_setup.admin, name=" ", url="nope", event_types=[], active="yes"
        )
    assert set(info.value.message_dict) == {"name", "url", "event_types", "active"}
    with pytest.raises(ValidationError) as info:
        create(org_setup.admin, name="x" * 101)
    assert "too long" in info.value.message_dict["name"][0]


@pytest.mark.parametrize("role", ["manager", "rep", "marketing", "readonly"])
def test_only_admins_manage_webhooks(org_setup: Any, role: str) -> None:
    user = getattr(org_setup, role)
    sub = create(org_setup.admin)
    failed = WebhookDelivery.objects.create(
        subscription=sub, event_type="deal.won", event_id="9f1c2a4e-4c59-4a7e-9d43-2b7f1ad0a0a1",
        payload={}, status=DeliveryStatus.GAVE_UP, created_at=sub.created_at,
    )  # fmt: skip
    calls = [
        lambda: create(user),
        lambda: services.update_subscription(actor=user, subscription=sub, name="Mine"),
        lambda: services.rotate_secret(actor=user, subscription=sub),
        lambda: services.delete_subscription(actor=user, subscription=sub),
        lambda: services.send_ping(actor=user, subscription=sub),
        lambda: services.redeliver(actor=user, delivery=failed),
    ]
    for call in calls:
        with pytest.raises(PermissionDenied):
            call()
    sub.refresh_from_db()
    assert (sub.name, sub.version) == ("ERP", 1)
    assert WebhookSubscription.objects.count() == 1 and WebhookDelivery.objects.count() == 1


def test_inactive_admin_is_refused(org_setup: Any) -> None:
    org_setup.admin.is_active = False
    with pytest.raises(PermissionDenied):
        create(org_setup.admin)


def test_update_checks_the_version_and_changes_only_what_is_given(org_setup: Any) -> None:
    admin = org_setup.admin
    sub = create(admin)
    secret = sub.secret
    updated = services.update_subscription(
        actor=admin, subscription=sub, expected_version=1, event_types=["deal.lost"], active=False
    )
    assert (updated.name, updated.url, updated.event_types) == ("ERP", URL, ["deal.lost"])
    assert not updated.active and updated.version == 2 and updated.secret == secret
    with pytest.raises(ConflictError):
        services.update_subscription(actor=admin, subscription=sub, expected_version=1, name="x")
    with pytest.raises(ValidationError):
        services.update_subscription(actor=admin, subscription=sub, url="ftp://x", name="Ok")
    sub.refresh_from_db()
    assert (sub.name, sub.url, sub.version) == ("ERP", URL, 2)


def test_rotate_replaces_the_secret(org_setup: Any) -> None:
    sub = create(org_setup.admin)
    rotated = services.rotate_secret(actor=org_setup.admin, subscription=sub, expected_version=1)
    assert rotated.secret != sub.secret and rotated.version == 2
    with pytest.raises(ConflictError):
        services.rotate_secret(actor=org_setup.admin, subscription=sub, expected_version=1)


def test_delete_removes_the_log_too(org_setup: Any) -> None:
    sub = create(org_setup.admin)
    services.send_ping(actor=org_setup.admin, subscription=sub)
    with pytest.raises(ConflictError):
        services.delete_subscription(actor=org_setup.admin, subscription=sub, expected_version=7)
    services.delete_subscription(actor=org_setup.admin, subscription=sub, expected_version=1)
    assert not WebhookSubscription.objects.exists() and not WebhookDelivery.objects.exists()


def test_only_failed_deliveries_are_sent_again(org_setup: Any) -> None:
    sub = create(org_setup.admin)
    pending = services.send_ping(actor=org_setup.admin, subscription=sub)
    with pytest.raises(ValidationError) as info:
        services.redeliver(actor=org_setup.admin, delivery=pending)
    assert "delivery" in info.value.message_dict
    WebhookDelivery.objects.filter(pk=pending.pk).update(status=DeliveryStatus.SUCCEEDED)
    with pytest.raises(ValidationError):
        services.redeliver(actor=org_setup.admin, delivery=pending)
    assert WebhookDelivery.objects.count() == 1


def test_no_redelivery_while_the_subscription_is_inactive(org_setup: Any) -> None:
    sub = create(org_setup.admin)
    with services.transaction.atomic():
        (delivery,) = services.record_event(event_type="deal.won", data={})
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.GAVE_UP)
    services.update_subscription(actor=org_setup.admin, subscription=sub, active=False)
    with pytest.raises(ValidationError) as info:
        services.redeliver(actor=org_setup.admin, delivery=delivery)
    assert "inactive" in info.value.message_dict["delivery"][0]
