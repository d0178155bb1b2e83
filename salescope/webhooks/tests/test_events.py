"""Product events become webhook deliveries: which kinds, for whom, with which data."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from salescope.activities.services import complete_activity
from salescope.imports.signals import import_finished
from salescope.pipeline import services as pipeline
from salescope.pipeline.models import EventOrigin
from salescope.testing.factories import AccountFactory, ActivityFactory, make_opportunity
from salescope.webhooks import receivers, services
from salescope.webhooks.models import DeliveryStatus, EventType, WebhookDelivery
from salescope.webhooks.tests.conftest import Receiver

pytestmark = pytest.mark.django_db


def subscribe(admin: Any, url: str, kinds: list[str], **kw: Any) -> Any:
    return services.create_subscription(
        actor=admin, name=kw.pop("name", "Hook"), url=url, event_types=kinds, **kw
    )


def bodies(receiver: Receiver) -> list[dict[str, Any]]:
    return [json.loads(r.body) for r in receiver.requests]


def test_deal_lifecycle_sends_created_stage_changed_won(
    org_setup: Any, receiver: Receiver, frozen_now: dt.datetime, django_capture_on_commit_callbacks
) -> None:
    s = org_setup
    subscribe(s.admin, receiver.url, ["deal.created", "deal.stage_changed", "deal.won"])
    account = AccountFactory(owner=s.rep, name="Nordlicht GmbH")
    with django_capture_on_commit_callbacks(execute=True):
        opp = make_opportunity(
            owner=s.rep, actor=s.rep, stage=s.stages["Qualification"], account=account,
            name="Solar roof", amount="12500.50",
        )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        opp = pipeline.move_to_stage(opportunity=opp, stage=s.stages["Proposal"], actor=s.rep)
    with django_capture_on_commit_callbacks(execute=True):
        opp = pipeline.change_amount(opportunity=opp, amount="13000.00", actor=s.rep)  # no hook
    with django_capture_on_commit_callbacks(execute=True):
        opp = pipeline.mark_won(opportunity=opp, actor=s.rep)

    created, moved, won = bodies(receiver)
    assert [b["type"] for b in (created, moved, won)] == ["deal.created", "deal.stage_changed",
                                                          "deal.won"]  # fmt: skip
    deal = created["data"]["deal"]
    assert deal["id"] == opp.pk and deal["name"] == "Solar roof"
    assert deal["amount"] == "12500.50" and deal["currency"] == "EUR"
    assert deal["account"] == {"id": account.pk, "name": "Nordlicht GmbH"}
    assert deal["owner"] == {"id": s.rep.pk, "name": str(s.rep)}
    assert deal["stage"]["name"] == "Qualification" and deal["outcome"] == "open"
    assert deal["expected_close"] == (frozen_now.date() + dt.timedelta(days=30)).isoformat()
    assert deal["version"] == 1
    assert created["data"]["actor"]["username"] == "rep"
    assert "from_stage" not in created["data"]
    assert moved["data"]["from_stage"]["name"] == "Qualification"
    assert moved["data"]["to_stage"]["name"] == "Proposal"
    assert moved["data"]["deal"]["stage"]["name"] == "Proposal"
    assert won["data"]["deal"]["outcome"] == "won"
    assert won["data"]["deal"]["amount"] == "13000.00"
    assert won["data"]["from_stage"]["name"] == "Proposal"
    assert won["data"]["to_stage"]["kind"] == "won"
    assert len({b["id"] for b in (created, moved, won)}) == 3
    assert WebhookDelivery.objects.filter(status=DeliveryStatus.SUCCEEDED).count() == 3


def test_only_the_subscribed_kinds_are_sent(
    org_setup: Any, receiver: Receiver, django_capture_on_commit_callbacks
) -> None:
    s = org_setup
    lost_only = subscribe(s.admin, receiver.url, ["deal.lost"], name="lost")
    with django_capture_on_commit_callbacks(execute=True):
        opp = make_opportunity(owner=s.rep, actor=s.rep, stage=s.stages["Meeting"])
        opp = pipeline.move_to_stage(opportunity=opp, stage=s.stages["Proposal"], actor=s.rep)
    assert receiver.requests == []
    with django_capture_on_commit_callbacks(execute=True):
        pipeline.mark_lost(opportunity=opp, reason=s.reason, actor=s.rep, note="Too pricey")
    (lost,) = bodies(receiver)
    assert lost["type"] == "deal.lost"
    assert lost["data"]["deal"]["lost_reason"] == {"id": s.reason.pk, "name": "Price"}
    assert lost["data"]["deal"]["lost_note"] == "Too pricey"
    assert lost["data"]["deal"]["outcome"] == "lost"
    assert list(WebhookDelivery.objects.values_list("subscription", flat=True)) == [lost_only.pk]


def test_reopen_is_a_stage_change(
    org_setup: Any, receiver: Receiver, django_capture_on_commit_callbacks
) -> None:
    s = org_setup
    opp = make_opportunity(owner=s.rep, actor=s.rep, stage=s.stages["Meeting"])
    opp = pipeline.mark_won(opportunity=opp, actor=s.rep)
    subscribe(s.admin, receiver.url, ["deal.stage_changed"])
    with django_capture_on_commit_callbacks(execute=True):
        pipeline.reopen(opportunity=opp, actor=s.rep)
    (body,) = bodies(receiver)
    assert body["data"]["from_stage"]["kind"] == "won"
    assert body["data"]["to_stage"]["name"] == "Meeting"


def test_inactive_subscription_gets_nothing(
    org_setup: Any, receiver: Receiver, django_capture_on_commit_callbacks
) -> None:
    s = org_setup
    subscribe(s.admin, receiver.url, ["deal.created"], active=False)
    with django_capture_on_commit_callbacks(execute=True):
        make_opportunity(owner=s.rep, actor=s.rep, stage=s.stages["Meeting"])
    assert receiver.requests == []
    assert not WebhookDelivery.objects.exists()


def test_every_active_subscriber_gets_the_same_event(
    org_setup: Any, receiver: Receiver, django_capture_on_commit_callbacks
) -> None:
    s = org_setup
    a = subscribe(s.admin, receiver.url, ["deal.created"], name="a")
    b = subscribe(s.admin, receiver.url, ["deal.created", "deal.won"], name="b")
    subscribe(s.admin, receiver.url, ["deal.won"], name="c")
    with django_capture_on_commit_callbacks(execute=True):
        make_opportunity(owner=s.rep, actor=s.rep, stage=s.stages["Meeting"])
    deliveries = list(WebhookDelivery.objects.order_by("subscription_id"))
    assert [d.subscription_id for d in deliveries] == [a.pk, b.pk]
    assert deliveries[0].event_id == deliveries[1].event_id
    first, second = receiver.requests
    assert first.body == second.body
    assert first.headers["Salescope-Signature"] != second.headers["Salescope-Signature"]


def test_bulk_origins_send_no_deal_events(
    org_setup: Any, receiver: Receiver, django_capture_on_commit_callbacks
) -> None:
    s = org_setup
    subscribe(s.admin, receiver.url, ["deal.created"])
    with django_capture_on_commit_callbacks(execute=True):
        make_opportunity(
            owner=s.rep, actor=None, stage=s.stages["Meeting"], origin=EventOrigin.IMPORT
        )
    assert receiver.requests == []


def test_activity_done(
    org_setup: Any, receiver: Receiver, frozen_now: dt.datetime, django_capture_on_commit_callbacks
) -> None:
    s = org_setup
    subscribe(s.admin, receiver.url, ["activity.done"])
    opp = make_opportunity(owner=s.rep, actor=s.rep, stage=s.stages["Meeting"], name="Roof")
    act = ActivityFactory(owner=s.rep, opportunity=opp, subject="Call the CFO")
    with django_capture_on_commit_callbacks(execute=True):
        complete_activity(activity=act, actor=s.rep, duration_minutes=25, outcome="Budget ok")
    (body,) = bodies(receiver)
    assert body["type"] == "activity.done"
    data = body["data"]["activity"]
    assert data["id"] == act.pk and data["subject"] == "Call the CFO"
    assert data["type"]["code"] == "call"
    assert data["deal"] == {"id": opp.pk, "name": "Roof"}
    assert data["done_at"] == frozen_now.isoformat()
    assert data["duration_minutes"] == 25 and data["outcome"] == "Budget ok"
    assert body["data"]["actor"]["username"] == "rep"


def test_an_activity_logged_as_done_is_announced(
    org_setup: Any, receiver: Receiver, frozen_now: dt.datetime, django_capture_on_commit_callbacks
) -> None:
    from salescope.activities.services import create_activity
    from salescope.testing.factories import ActivityTypeFactory

    s = org_setup
    subscribe(s.admin, receiver.url, ["activity.done"])
    call = ActivityTypeFactory(code="call", name="Call")
    with django_capture_on_commit_callbacks(execute=True):
        create_activity(
            actor=s.rep,
            activity_type=call,
            subject="Logged call",
            done=True,
            duration_minutes=10,
        )
        create_activity(actor=s.rep, activity_type=call, subject="Planned")
    (body,) = bodies(receiver)
    assert body["type"] == "activity.done"
    assert body["data"]["activity"]["subject"] == "Logged call"
    assert body["data"]["activity"]["done_at"] == frozen_now.isoformat()


def test_a_failed_activity_completion_sends_nothing(
    org_setup: Any, receiver: Receiver, django_capture_on_commit_callbacks
) -> None:
    s = org_setup
    subscribe(s.admin, receiver.url, ["activity.done"])
    act = ActivityFactory(owner=s.rep, subject="Visit")
    with pytest.raises(ValidationError), django_capture_on_commit_callbacks(execute=True):
        complete_activity(activity=act, actor=s.rep, duration_minutes=-5)
    assert receiver.requests == []


class Job:
    """Stands in for the import engine's job (only the attributes it has are sent)."""

    pk = "7d7c8f5e-0000-4000-8000-000000000001"
    status = "finished"
    dry_run = False
    total_rows = 3
    summary = {"created": {"opportunities": 2, "accounts": 1}, "errors": 1}
    finished_at = dt.datetime(2026, 3, 16, 9, 0, tzinfo=dt.UTC)
    created_by = None


def test_import_finished_sends_one_summary(
    org_setup: Any, receiver: Receiver, django_capture_on_commit_callbacks
) -> None:
    subscribe(org_setup.admin, receiver.url, ["import.finished", "deal.created"])
    with django_capture_on_commit_callbacks(execute=True):
        import_finished.send(sender=None, job=Job())
    (body,) = bodies(receiver)
    assert body["type"] == "import.finished"
    assert body["data"]["import"] == {
        "id": Job.pk, "status": "finished", "dry_run": False, "total_rows": 3,
        "summary": Job.summary, "finished_at": "2026-03-16T09:00:00+00:00", "created_by": None,
    }  # fmt: skip


def test_a_broken_webhook_never_breaks_the_change(
    org_setup: Any, receiver: Receiver, monkeypatch: Any, django_capture_on_commit_callbacks
) -> None:
    s = org_setup
    subscribe(s.admin, receiver.url, ["deal.created"])

    def boom(**kwargs: Any) -> None:
        raise RuntimeError("queue down")

    monkeypatch.setattr(services, "record_event", boom)
    with django_capture_on_commit_callbacks(execute=True):
        opp = make_opportunity(owner=s.rep, actor=s.rep, stage=s.stages["Meeting"])
    assert opp.pk is not None and receiver.requests == []


def test_record_event_refuses_unknown_kinds(org_setup: Any) -> None:
    with pytest.raises(ValidationError) as info:
        services.record_event(event_type="deal.exploded", data={})
    assert "event_type" in info.value.message_dict


@pytest.mark.parametrize(
    ("verb", "kinds", "expected"),
    [
        ("create_opportunity", {"created"}, EventType.DEAL_CREATED),
        ("move_to_stage", {"stage", "probability"}, EventType.DEAL_STAGE_CHANGED),
        ("reopen", {"stage", "outcome"}, EventType.DEAL_STAGE_CHANGED),
        ("mark_won", {"stage", "outcome"}, EventType.DEAL_WON),
        ("mark_lost", {"stage", "outcome", "lost_reason"}, EventType.DEAL_LOST),
        ("change_amount", {"amount"}, None),
        ("reassign", {"owner"}, None),
    ],
)
def test_verbs_map_to_event_kinds(verb: str, kinds: set[str], expected: str | None) -> None:
    class E:
        def __init__(self, kind: str) -> None:
            self.kind = kind

    assert receivers.deal_event_type(verb, [E(k) for k in kinds]) == expected
