"""Webhook subscriptions and the log of every delivery attempt (I3).

A :class:`WebhookSubscription` says where to POST which kinds of events and holds the shared
secret the payloads are signed with. Each event that matches an active subscription becomes
one :class:`WebhookDelivery`: the payload as sent, its status and the outcome of the last
attempt. Retries reuse the row; "redeliver" creates a new row with the same event id.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from salescope.core.models import TrackedModel


class EventType(models.TextChoices):
    """The kinds of events a subscription can ask for (the payload's ``type``)."""

    DEAL_CREATED = "deal.created", _("Deal created")
    DEAL_STAGE_CHANGED = "deal.stage_changed", _("Deal moved to another stage")
    DEAL_WON = "deal.won", _("Deal won")
    DEAL_LOST = "deal.lost", _("Deal lost")
    ACTIVITY_DONE = "activity.done", _("Activity done")
    IMPORT_FINISHED = "import.finished", _("Import finished")


#: Sent only by "send test ping", never subscribed to.
PING = "ping"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed, will retry")
    GAVE_UP = "gave_up", _("Gave up")


class WebhookSubscription(TrackedModel):
    name = models.CharField(_("name"), max_length=100)
    url = models.CharField(_("target URL"), max_length=500)
    event_types = models.JSONField(_("events"), default=list)
    secret = models.CharField(_("signing secret"), max_length=100)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("webhook subscription")
        verbose_name_plural = _("webhook subscriptions")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    def event_labels(self) -> list[str]:
        labels = dict(EventType.choices)
        return [str(labels.get(kind, kind)) for kind in self.event_types]


class WebhookDelivery(models.Model):
    subscription = models.ForeignKey(
        WebhookSubscription,
        verbose_name=_("subscription"),
        on_delete=models.CASCADE,
        related_name="deliveries",
    )
    uuid = models.UUIDField(_("delivery id"), default=uuid.uuid4, unique=True, editable=False)
    event_type = models.CharField(_("event"), max_length=40)
    event_id = models.UUIDField(_("event id"), db_index=True)
    payload = models.JSONField(_("payload"))
    status = models.CharField(
        _("status"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(
        _("last status code"), null=True, blank=True
    )
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    response_excerpt = models.TextField(_("response excerpt"), blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), db_index=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    redelivery_of = models.ForeignKey(
        "self",
        verbose_name=_("redelivery of"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="redeliveries",
    )

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["subscription", "-created_at"], name="webhooks_delivery_sub_idx"),
            models.Index(fields=["status", "next_attempt_at"], name="webhooks_delivery_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.subscription_id} ({self.status})"

    @property
    def can_redeliver(self) -> bool:
        return self.status in (DeliveryStatus.FAILED, DeliveryStatus.GAVE_UP)
