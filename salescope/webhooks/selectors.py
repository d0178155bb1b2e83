"""Reads of the webhooks app. Only administrators see subscriptions and their deliveries;
for everyone else these querysets are empty."""

from __future__ import annotations

from typing import Any

from django.db.models import OuterRef, QuerySet, Subquery

from salescope.webhooks.models import WebhookDelivery, WebhookSubscription
from salescope.webhooks.services import can_manage_webhooks


def subscriptions(user: Any) -> QuerySet[WebhookSubscription]:
    """Subscriptions with ``last_status``, ``last_event``, ``last_at`` of the latest delivery."""
    qs = WebhookSubscription.objects.all()
    if not can_manage_webhooks(user):
        return qs.none()
    latest = WebhookDelivery.objects.filter(subscription=OuterRef("pk")).order_by(
        "-created_at", "-id"
    )
    return qs.select_related("created_by").annotate(
        last_status=Subquery(latest.values("status")[:1]),
        last_event=Subquery(latest.values("event_type")[:1]),
        last_at=Subquery(latest.values("created_at")[:1]),
        last_code=Subquery(latest.values("last_status_code")[:1]),
    )


def subscription(user: Any, pk: int) -> WebhookSubscription:
    """One subscription (``DoesNotExist`` when missing or not visible to ``user``)."""
    return subscriptions(user).get(pk=pk)


def deliveries(
    user: Any,
    *,
    subscription: WebhookSubscription | int | None = None,
    status: str | None = None,
    event_type: str | None = None,
) -> QuerySet[WebhookDelivery]:
    """Deliveries, newest first, optionally of one subscription, status or event."""
    qs = WebhookDelivery.objects.select_related("subscription")
    if not can_manage_webhooks(user):
        return qs.none()
    if subscription is not None:
        qs = qs.filter(subscription=subscription)
    if status:
        qs = qs.filter(status=status)
    if event_type:
        qs = qs.filter(event_type=event_type)
    return qs.order_by("-created_at", "-id")


def delivery(user: Any, pk: int) -> WebhookDelivery:
    return deliveries(user).get(pk=pk)
