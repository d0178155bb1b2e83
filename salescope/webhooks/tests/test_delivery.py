"""Delivering to a real HTTP server: payload, headers, signature, retries, giving up."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import uuid
from typing import Any

import pytest
from django.core.management import call_command

from salescope.core import clock
from salescope.webhooks import services, tasks
from salescope.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookSubscription
from salescope.webhooks.tests.conftest import Answer, Receiver

pytestmark = pytest.mark.django_db

ALL = ["deal.created", "deal.stage_changed", "deal.won", "deal.lost", "activity.done"]


def subscribe(admin: Any, url: str, kinds: list[str] | None = None, **kw: Any) -> Any:
    return services.create_subscription(
        actor=admin, name=kw.pop("name", "Hook"), url=url, event_types=kinds or ALL, **kw
    )


def ping(admin: Any, sub: WebhookSubscription, capture: Any) -> WebhookDelivery:
    with capture(execute=True):
        delivery = services.send_ping(actor=admin, subscription=sub)
    delivery.refresh_from_db()
    return delivery


def test_ping_reaches_the_receiver_signed_with_every_header(
    org_setup: Any, receiver: Receiver, frozen_now: dt.datetime, django_capture_on_commit_callbacks
) -> None:
    sub = subscribe(org_setup.admin, receiver.url)
    receiver.answer(Answer(200, b'{"thanks": true}'))

    delivery = ping(org_setup.admin, sub, django_capture_on_commit_callbacks)

    assert len(receiver.requests) == 1
    got = receiver.requests[0]
    assert got.path == "/hook"
    payload = json.loads(got.body)
    assert payload["id"] == str(delivery.event_id)
    assert payload["type"] == "ping"
    assert payload["created_at"] == frozen_now.isoformat()
    assert payload["data"]["subscription"] == {"id": sub.pk, "name": "Hook", "events": ALL}
    assert payload["data"]["sent_by"]["username"] == "admin"
    assert got.headers["Content-Type"] == "application/json"
    assert got.headers["Salescope-Event"] == "ping"
    assert got.headers["Salescope-Delivery"] == str(delivery.uuid)
    timestamp = int(frozen_now.timestamp())
    assert got.headers["Salescope-Timestamp"] == str(timestamp)
    expected = hmac.new(
        sub.secret.encode(), f"{timestamp}.".encode() + got.body, hashlib.sha256
    ).hexdigest()
    assert got.headers["Salescope-Signature"] == f"t={timestamp},v1={expected}"

    assert delivery.status == DeliveryStatus.SUCCEEDED
    assert delivery.attempts == 1
    assert delivery.last_status_code == 200
    assert delivery.response_excerpt == '{"thanks": true}'
    assert delivery.last_error == ""
    assert delivery.duration_ms is not None and delivery.duration_ms >= 0
    assert delivery.delivered_at == frozen_now
    assert delivery.next_attempt_at is None


def test_retry_with_backoff_500_then_200(
    org_setup: Any, receiver: Receiver, django_capture_on_commit_callbacks
) -> None:
    start = dt.datetime(2026, 3, 16, 9, 0, tzinfo=dt.UTC)
    sub = subscribe(org_setup.admin, receiver.url)
    receiver.answer(Answer(500, b"database down"))
    with clock.frozen(start):
        delivery = ping(org_setup.admin, sub, django_capture_on_commit_callbacks)
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.attempts == 1
    assert delivery.last_status_code == 500
    assert delivery.response_excerpt == "database down"
    assert "500" in delivery.last_error
    assert delivery.next_attempt_at == start + dt.timedelta(minutes=1)

    with clock.frozen(start + dt.timedelta(seconds=59)):  # not due yet: nothing happens
        assert tasks.deliver_webhook.call(delivery.pk) is None
    assert len(receiver.requests) == 1

    with clock.frozen(start + dt.timedelta(minutes=1)):
        assert tasks.deliver_webhook.call(delivery.pk) == DeliveryStatus.SUCCEEDED
    delivery.refresh_from_db()
    assert len(receiver.requests) == 2
    assert delivery.attempts == 2
    assert delivery.last_status_code == 200
    assert delivery.last_error == ""
    assert delivery.delivered_at == start + dt.timedelta(minutes=1)
    # The retry is signed anew, with its own time.
    assert receiver.requests[1].headers["Salescope-Timestamp"] == str(int(start.timestamp()) + 60)
    # A finished delivery is not sent again.
    with clock.frozen(start + dt.timedelta(hours=1)):
        assert tasks.deliver_webhook.call(delivery.pk) is None
    assert len(receiver.requests) == 2


def test_gives_up_after_the_last_backoff(org_setup: Any, receiver: Receiver) -> None:
    at = dt.datetime(2026, 3, 16, 9, 0, tzinfo=dt.UTC)
    sub = subscribe(org_setup.admin, receiver.url)
    receiver.answer(*[Answer(503, b"busy")] * 10)
    with clock.frozen(at):
        delivery = services.send_ping(actor=org_setup.admin, subscription=sub)
    waits = []
    for attempt in range(1, services.MAX_ATTEMPTS + 1):
        with clock.frozen(at):
            services.attempt_delivery(delivery_id=delivery.pk)
        delivery.refresh_from_db()
        assert delivery.attempts == attempt
        if attempt < services.MAX_ATTEMPTS:
            assert delivery.status == DeliveryStatus.FAILED
            waits.append(delivery.next_attempt_at - at)
            at = delivery.next_attempt_at
    assert waits == [
        dt.timedelta(minutes=1), dt.timedelta(minutes=5), dt.timedelta(minutes=30),
        dt.timedelta(hours=2), dt.timedelta(hours=12),
    ]  # fmt: skip
    assert delivery.status == DeliveryStatus.GAVE_UP
    assert delivery.next_attempt_at is None
    assert len(receiver.requests) == 6
    with clock.frozen(at + dt.timedelta(days=2)):
        assert services.attempt_delivery(delivery_id=delivery.pk) is None
    assert len(receiver.requests) == 6


def test_retry_is_scheduled_through_the_task_library(
    org_setup: Any, receiver: Receiver, settings: Any, django_capture_on_commit_callbacks
) -> None:
    """With a backend that runs tasks later, the retry is enqueued with run_after."""
    at = dt.datetime(2026, 3, 16, 9, 0, tzinfo=dt.UTC)
    sub = subscribe(org_setup.admin, receiver.url)
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    backend = tasks.deliver_webhook.get_backend()
    receiver.answer(Answer(500))
    with clock.frozen(at), django_capture_on_commit_callbacks(execute=True):
        delivery = services.send_ping(actor=org_setup.admin, subscription=sub)
    # The first attempt was only queued (not run): run it as the worker would.
    assert [(r.args, r.task.run_after) for r in backend.results] == [([delivery.pk], None)]
    with clock.frozen(at), django_capture_on_commit_callbacks(execute=True):
        backend.results[0].task.call(*backend.results[0].args)
    retry = backend.results[1]
    assert retry.task.name == "deliver_webhook"
    assert retry.args == [delivery.pk]
    assert retry.task.run_after == at + dt.timedelta(minutes=1)


def test_timeout_connection_error_and_redirect_are_failures(
    org_setup: Any,
    receiver: Receiver,
    closed_port_url: str,
    monkeypatch: Any,
    frozen_now: dt.datetime,
) -> None:
    monkeypatch.setattr(services, "TIMEOUT_SECONDS", 0.3)
    slow = subscribe(org_setup.admin, receiver.url, name="slow")
    receiver.answer(Answer(200, delay=1.0))
    d = services.send_ping(actor=org_setup.admin, subscription=slow)
    services.attempt_delivery(delivery_id=d.pk)
    d.refresh_from_db()
    assert d.status == DeliveryStatus.FAILED and d.last_status_code is None
    assert "No answer within" in d.last_error

    dead = subscribe(org_setup.admin, closed_port_url, name="dead")
    d = services.send_ping(actor=org_setup.admin, subscription=dead)
    services.attempt_delivery(delivery_id=d.pk)
    d.refresh_from_db()
    assert d.status == DeliveryStatus.FAILED and d.last_status_code is None
    assert d.last_error.startswith("Connection failed")
    assert d.next_attempt_at == frozen_now + dt.timedelta(minutes=1)

    moved = subscribe(org_setup.admin, receiver.url, name="moved")
    receiver.answer(Answer(302, headers={"Location": "http://169.254.169.254/"}))
    d = services.send_ping(actor=org_setup.admin, subscription=moved)
    services.attempt_delivery(delivery_id=d.pk)
    d.refresh_from_db()
    assert d.status == DeliveryStatus.FAILED and d.last_status_code == 302


def test_long_responses_are_truncated(org_setup: Any, receiver: Receiver) -> None:
    sub = subscribe(org_setup.admin, receiver.url)
    receiver.answer(Answer(200, b"x" * 10_000))
    d = services.send_ping(actor=org_setup.admin, subscription=sub)
    services.attempt_delivery(delivery_id=d.pk)
    d.refresh_from_db()
    assert d.status == DeliveryStatus.SUCCEEDED
    assert len(d.response_excerpt) == services.MAX_EXCERPT + 1  # plus the ellipsis


def test_an_attempt_is_taken_once(org_setup: Any, receiver: Receiver) -> None:
    sub = subscribe(org_setup.admin, receiver.url)
    d = services.send_ping(actor=org_setup.admin, subscription=sub)
    now = clock.now()
    assert services._claim(d.pk, now) is not None
    assert services._claim(d.pk, now) is None  # the lease keeps a second worker away
    assert WebhookDelivery.objects.get(pk=d.pk).attempts == 1
    assert services.attempt_delivery(delivery_id=10**9) is None  # unknown id


def test_deactivated_subscription_stops_pending_retries(org_setup: Any, receiver: Receiver) -> None:
    sub = subscribe(org_setup.admin, receiver.url)
    with services.transaction.atomic():
        delivery = services.record_event(event_type="deal.won", data={"x": 1})[0]
    services.update_subscription(actor=org_setup.admin, subscription=sub, active=False)
    services.attempt_delivery(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.GAVE_UP
    assert delivery.last_error == "The subscription is inactive."
    assert receiver.requests == []


def test_send_due_command_sends_what_is_due(
    org_setup: Any, receiver: Receiver, capsys: Any
) -> None:
    at = dt.datetime(2026, 3, 16, 9, 0, tzinfo=dt.UTC)
    sub = subscribe(org_setup.admin, receiver.url)
    with clock.frozen(at):
        first = services.send_ping(actor=org_setup.admin, subscription=sub)
        later = services.send_ping(actor=org_setup.admin, subscription=sub)
    WebhookDelivery.objects.filter(pk=later.pk).update(
        status=DeliveryStatus.FAILED, attempts=1, next_attempt_at=at + dt.timedelta(hours=1)
    )
    with clock.frozen(at + dt.timedelta(minutes=5)):
        call_command("send_due_webhooks")
    assert "1 webhook deliveries attempted" in capsys.readouterr().out
    assert [json.loads(r.body)["id"] for r in receiver.requests] == [str(first.event_id)]
    assert WebhookDelivery.objects.get(pk=later.pk).status == DeliveryStatus.FAILED
    with clock.frozen(at + dt.timedelta(hours=1)):
        assert services.send_due() == 1
    assert WebhookDelivery.objects.get(pk=later.pk).status == DeliveryStatus.SUCCEEDED


def test_send_due_command_refuses_a_bad_limit(capsys: Any) -> None:
    with pytest.raises(SystemExit):
        call_command("send_due_webhooks", "--limit", "0")
    assert "--limit" in capsys.readouterr().err


def test_redelivery_sends_the_same_event_again(
    org_setup: Any, receiver: Receiver, django_capture_on_commit_callbacks
) -> None:
    sub = subscribe(org_setup.admin, receiver.url)
    receiver.answer(Answer(500))
    failed = ping(org_setup.admin, sub, django_capture_on_commit_callbacks)
    assert failed.status == DeliveryStatus.FAILED
    with django_capture_on_commit_callbacks(execute=True):
        again = services.redeliver(actor=org_setup.admin, delivery=failed)
    again.refresh_from_db()
    assert again.status == DeliveryStatus.SUCCEEDED
    assert again.redelivery_of_id == failed.pk
    assert again.event_id == failed.event_id and again.uuid != failed.uuid
    first, second = (json.loads(r.body) for r in receiver.requests)
    assert first == second
    assert uuid.UUID(receiver.requests[1].headers["Salescope-Delivery"]) == again.uuid
