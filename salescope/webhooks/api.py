"""REST endpoints of the webhooks app (mounted by ``salescope/api.py``); administrators only.

No ``from __future__ import annotations`` here: ninja reads the parameter annotations.
"""

import datetime as dt
from typing import Any, Literal
from uuid import UUID

from django.http import HttpResponse
from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from salescope.restapi import errors
from salescope.restapi.concurrency import expected_version, set_etag
from salescope.restapi.pagination import Pagination, paginate
from salescope.restapi.schemas import PathId
from salescope.webhooks import selectors, services
from salescope.webhooks.models import WebhookDelivery, WebhookSubscription

router = Router(tags=["webhooks"])

#: The values of ``models.EventType`` (a test keeps them equal).
EventTypeName = Literal[
    "deal.created", "deal.stage_changed", "deal.won", "deal.lost", "activity.done",
    "import.finished",
]  # fmt: skip
StatusName = Literal["pending", "succeeded", "failed", "gave_up"]


class UserRef(Schema):
    id: int
    name: str


class SubscriptionOut(Schema):
    id: int
    name: str
    url: str
    event_types: list[str]
    active: bool
    secret: str = Field(..., description="Signing secret: HMAC-SHA256 key of the signature.")
    version: int
    created_at: dt.datetime
    created_by: UserRef | None
    last_status: str | None = Field(None, description="Status of the latest delivery.")
    last_at: dt.datetime | None = Field(None, description="When the latest delivery was made.")

    @staticmethod
    def resolve_created_by(obj: WebhookSubscription) -> dict[str, Any] | None:
        user = obj.created_by
        return {"id": user.pk, "name": str(user)} if user else None

    @staticmethod
    def resolve_last_status(obj: WebhookSubscription) -> str | None:
        return getattr(obj, "last_status", None)

    @staticmethod
    def resolve_last_at(obj: WebhookSubscription) -> dt.datetime | None:
        return getattr(obj, "last_at", None)


class SubscriptionIn(Schema):
    name: str = Field(..., max_length=services.MAX_NAME)
    url: str = Field(..., max_length=services.MAX_URL, description="http:// or https:// URL.")
    event_types: list[EventTypeName] = Field(..., max_length=20)
    active: bool = True


class SubscriptionPatch(Schema):
    name: str | None = Field(None, max_length=services.MAX_NAME)
    url: str | None = Field(None, max_length=services.MAX_URL)
    event_types: list[EventTypeName] | None = Field(None, max_length=20)
    active: bool | None = None
    version: int | None = Field(None, ge=1, description="The version you loaded (or If-Match).")


class VersionIn(Schema):
    version: int | None = Field(None, ge=1, description="The version you loaded (or If-Match).")


class SubscriptionRef(Schema):
    id: int
    name: str


class DeliveryOut(Schema):
    id: int
    uuid: UUID = Field(..., description="Sent as the Salescope-Delivery header.")
    subscription: SubscriptionRef
    event_type: str
    event_id: UUID = Field(..., description="The payload's id; the same on redelivery.")
    payload: dict[str, Any]
    status: str
    attempts: int
    next_attempt_at: dt.datetime | None
    last_status_code: int | None
    last_error: str
    response_excerpt: str
    duration_ms: int | None
    created_at: dt.datetime
    delivered_at: dt.datetime | None
    redelivery_of: int | None

    @staticmethod
    def resolve_subscription(obj: WebhookDelivery) -> dict[str, Any]:
        return {"id": obj.subscription_id, "name": obj.subscription.name}

    @staticmethod
    def resolve_redelivery_of(obj: WebhookDelivery) -> int | None:
        return obj.redelivery_of_id


class DeliveryFilters(Schema):
    subscription: int | None = Field(None, ge=1, le=10**17)
    status: StatusName | None = None
    event_type: str | None = Field(None, max_length=40)


def _subscription(request: Any, subscription_id: int) -> WebhookSubscription:
    services.require_manage(request.auth)
    return selectors.subscription(request.auth, subscription_id)


@router.get("/webhooks/subscriptions", response={200: list[SubscriptionOut], **errors.LIST})
@paginate(Pagination)
def list_subscriptions(request: Any) -> Any:
    """Every webhook subscription with the status of its latest delivery."""
    services.require_manage(request.auth)
    return selectors.subscriptions(request.auth)


@router.post("/webhooks/subscriptions", response={201: SubscriptionOut, **errors.CREATE})
def create_subscription(request: Any, payload: SubscriptionIn, response: HttpResponse) -> Any:
    """Subscribe a URL to events; the answer holds the generated signing secret."""
    sub = services.create_subscription(
        actor=request.auth,
        name=payload.name,
        url=payload.url,
        event_types=list(payload.event_types),
        active=payload.active,
    )
    set_etag(response, sub.version)
    return Status(201, selectors.subscription(request.auth, sub.pk))


@router.get(
    "/webhooks/subscriptions/{subscription_id}", response={200: SubscriptionOut, **errors.ITEM}
)
def get_subscription(request: Any, subscription_id: PathId, response: HttpResponse) -> Any:
    sub = _subscription(request, subscription_id)
    set_etag(response, sub.version)
    return sub


@router.patch(
    "/webhooks/subscriptions/{subscription_id}", response={200: SubscriptionOut, **errors.WRITE}
)
def update_subscription(
    request: Any, subscription_id: PathId, payload: SubscriptionPatch, response: HttpResponse
) -> Any:
    """Change name, URL, events or active (send only what changes, with the version)."""
    sub = _subscription(request, subscription_id)
    version = expected_version(request, payload.version)
    changes = payload.dict(exclude_unset=True, exclude={"version"})
    sub = services.update_subscription(
        actor=request.auth,
        subscription=sub,
        expected_version=version,
        name=changes.get("name"),
        url=changes.get("url"),
        event_types=changes.get("event_types"),
        active=changes.get("active"),
    )
    set_etag(response, sub.version)
    return selectors.subscription(request.auth, sub.pk)


@router.post(
    "/webhooks/subscriptions/{subscription_id}/rotate-secret",
    response={200: SubscriptionOut, **errors.WRITE},
)
def rotate_secret(
    request: Any, subscription_id: PathId, payload: VersionIn, response: HttpResponse
) -> Any:
    """Replace the signing secret; later attempts are signed with the new one."""
    sub = _subscription(request, subscription_id)
    version = expected_version(request, payload.version)
    sub = services.rotate_secret(actor=request.auth, subscription=sub, expected_version=version)
    set_etag(response, sub.version)
    return selectors.subscription(request.auth, sub.pk)


@router.delete("/webhooks/subscriptions/{subscription_id}", response={204: None, **errors.WRITE})
def delete_subscription(request: Any, subscription_id: PathId) -> Any:
    """Delete a subscription and its delivery log (needs If-Match)."""
    sub = _subscription(request, subscription_id)
    version = expected_version(request, None)
    services.delete_subscription(actor=request.auth, subscription=sub, expected_version=version)
    return Status(204, None)


@router.post(
    "/webhooks/subscriptions/{subscription_id}/ping",
    response={201: DeliveryOut, **errors.CREATE},
)
def ping(request: Any, subscription_id: PathId) -> Any:
    """Send a ``ping`` event to this subscription to test the receiver."""
    sub = _subscription(request, subscription_id)
    delivery = services.send_ping(actor=request.auth, subscription=sub)
    return Status(201, selectors.delivery(request.auth, delivery.pk))


@router.get("/webhooks/deliveries", response={200: list[DeliveryOut], **errors.LIST})
@paginate(Pagination)
def list_deliveries(request: Any, filters: Query[DeliveryFilters]) -> Any:
    """The delivery log, newest first."""
    services.require_manage(request.auth)
    return selectors.deliveries(
        request.auth,
        subscription=filters.subscription,
        status=filters.status,
        event_type=filters.event_type,
    )


@router.get("/webhooks/deliveries/{delivery_id}", response={200: DeliveryOut, **errors.ITEM})
def get_delivery(request: Any, delivery_id: PathId) -> Any:
    services.require_manage(request.auth)
    return selectors.delivery(request.auth, delivery_id)


@router.post(
    "/webhooks/deliveries/{delivery_id}/redeliver", response={201: DeliveryOut, **errors.CREATE}
)
def redeliver(request: Any, delivery_id: PathId) -> Any:
    """Send a failed delivery again (a new delivery with the same event id and payload)."""
    services.require_manage(request.auth)
    original = selectors.delivery(request.auth, delivery_id)
    new = services.redeliver(actor=request.auth, delivery=original)
    return Status(201, selectors.delivery(request.auth, new.pk))
