"""Every write of the webhooks app: subscriptions, recording events, delivering them (I3).

Only administrators manage subscriptions (``actor=None`` is the system and skips the check).
An event that matches active subscriptions becomes one :class:`WebhookDelivery` per
subscription, written in one transaction; after commit a task (``tasks.deliver_webhook``)
sends each. A failed attempt (non-2xx, timeout, connection error) is retried after
:data:`BACKOFF` (1 min, 5 min, 30 min, 2 h, 12 h); after the last one the delivery gives up.

Sending claims the attempt with a conditional update first, so two workers never send the
same attempt twice, and holds no transaction (nor lock) while waiting for the receiver.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import re
import socket
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from salescope.core import clock
from salescope.core.concurrency import check_version
from salescope.core.config import env_bool
from salescope.webhooks import payloads, signing
from salescope.webhooks.models import (
    PING,
    DeliveryStatus,
    EventType,
    WebhookDelivery,
    WebhookSubscription,
)

logger = logging.getLogger(__name__)

#: Wait before retry n (after attempt n failed); after the last one the delivery gives up.
BACKOFF: tuple[dt.timedelta, ...] = (
    dt.timedelta(minutes=1),
    dt.timedelta(minutes=5),
    dt.timedelta(minutes=30),
    dt.timedelta(hours=2),
    dt.timedelta(hours=12),
)
MAX_ATTEMPTS = len(BACKOFF) + 1
TIMEOUT_SECONDS = 10
#: How long a claimed attempt keeps others away (longer than the timeout).
CLAIM_LEASE = dt.timedelta(minutes=2)
MAX_NAME = 100
MAX_URL = 500
MAX_READ_BYTES = 64 * 1024
MAX_EXCERPT = 2000
MAX_ERROR = 500
USER_AGENT = "Salescope-Webhooks/1"
_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?"
_HOSTNAME = re.compile(rf"^{_LABEL}(\.{_LABEL})*\.?$")


# --- permissions -------------------------------------------------------------------------------


def can_manage_webhooks(actor: Any) -> bool:
    """Only administrators manage webhooks."""
    return bool(
        getattr(actor, "is_authenticated", False)
        and actor.is_active
        and (actor.is_superuser or getattr(actor, "role", None) == "admin")
    )


def require_manage(actor: Any) -> None:
    if actor is not None and not can_manage_webhooks(actor):
        raise PermissionDenied(_("Only administrators can manage webhooks."))


# --- input checks ------------------------------------------------------------------------------


def allow_private_targets() -> bool:
    configured = getattr(settings, "SALESCOPE_WEBHOOKS_ALLOW_PRIVATE", None)
    if configured is not None:
        return bool(configured)
    return env_bool("SALESCOPE_WEBHOOKS_ALLOW_PRIVATE", default=False)


def refuse_private_targets() -> bool:
    """In production, targets on private, loopback or link-local addresses are refused."""
    return bool(getattr(settings, "PRODUCTION", False)) and not allow_private_targets()


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def private_address_error(host: str, port: int | None) -> str | None:
    """Why ``host`` may not be called (it is resolved), or ``None`` if it is public."""
    try:
        infos = socket.getaddrinfo(host, port or 443, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return _("The host %(host)s cannot be resolved.") % {"host": host}
    addresses = sorted({str(info[4][0]) for info in infos})
    for address in addresses:
        if not _is_public(address):
            return _(
                "%(host)s is a private, loopback or link-local address (%(address)s); "
                "webhooks may only call public addresses."
            ) % {"host": host, "address": address}
    return None


def clean_url(value: Any) -> str:
    """A http(s) URL with a host and no credentials; in production only public addresses."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(_("Enter the URL to send the events to."))
    url = value.strip()
    if len(url) > MAX_URL:
        raise ValidationError(
            _("The URL is too long (at most %(max)s characters).") % {"max": MAX_URL}
        )
    if any(ch.isspace() or ord(ch) < 32 for ch in url):
        raise ValidationError(_("The URL must not contain spaces or control characters."))
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        raise ValidationError(_("The URL must start with http:// or https://."))
    host = parts.hostname or ""
    try:
        port = parts.port
    except ValueError:
        raise ValidationError(_("The URL has an invalid port.")) from None
    if parts.username is not None or parts.password is not None:
        raise ValidationError(
            _("Put no user name or password in the URL; the signature authenticates us.")
        )
    if not host:
        raise ValidationError(_("The URL has no host name."))
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        if not _HOSTNAME.match(host) or len(host) > 253:
            raise ValidationError(
                _("%(host)s is not a valid host name.") % {"host": host}
            ) from None
    if refuse_private_targets():
        problem = private_address_error(host, port)
        if problem:
            raise ValidationError(problem)
    return url


def clean_event_types(value: Any) -> list[str]:
    allowed = EventType.values
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ValidationError(_("Choose the events as a list."))
    given = list(value)
    unknown = [v for v in given if v not in allowed]
    if unknown:
        raise ValidationError(
            _("Unknown events: %(unknown)s (choose from %(allowed)s).")
            % {"unknown": ", ".join(map(repr, unknown)), "allowed": ", ".join(allowed)}
        )
    if not given:
        raise ValidationError(_("Choose at least one event."))
    return [kind for kind in allowed if kind in given]


def clean_name(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(_("Enter a name."))
    name = value.strip()
    if len(name) > MAX_NAME:
        raise ValidationError(
            _("The name is too long (at most %(max)s characters).") % {"max": MAX_NAME}
        )
    return name


def _clean_active(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValidationError(_("Active must be true or false."))
    return value


_CLEANERS = {
    "name": clean_name,
    "url": clean_url,
    "event_types": clean_event_types,
    "active": _clean_active,
}


def _clean(given: dict[str, Any]) -> dict[str, Any]:
    """Every given field checked; all problems reported at once, keyed by field."""
    values: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for field, raw in given.items():
        try:
            values[field] = _CLEANERS[field](raw)
        except ValidationError as exc:
            errors[field] = exc.messages
    if errors:
        raise ValidationError(errors)
    return values


# --- subscriptions -----------------------------------------------------------------------------


@transaction.atomic
def create_subscription(
    *,
    actor: Any,
    name: str,
    url: str,
    event_types: Iterable[str],
    active: bool = True,
) -> WebhookSubscription:
    """A new subscription with a freshly generated signing secret."""
    require_manage(actor)
    values = _clean({"name": name, "url": url, "event_types": event_types, "active": active})
    now = clock.now()
    return WebhookSubscription.objects.create(
        **values,
        secret=signing.new_secret(),
        created_at=now,
        created_by=actor,
        updated_at=now,
        updated_by=actor,
    )


def _lock(subscription: WebhookSubscription) -> WebhookSubscription:
    return (
        WebhookSubscription.objects.select_for_update(of=("self",))
        .select_related("updated_by")
        .get(pk=subscription.pk)
    )


def _save(sub: WebhookSubscription, actor: Any) -> WebhookSubscription:
    sub.version += 1
    sub.updated_at = clock.now()
    sub.updated_by = actor
    sub.save()
    return sub


@transaction.atomic
def update_subscription(
    *,
    actor: Any,
    subscription: WebhookSubscription,
    expected_version: int | None = None,
    name: str | None = None,
    url: str | None = None,
    event_types: Iterable[str] | None = None,
    active: bool | None = None,
) -> WebhookSubscription:
    """Change the given fields (``None`` leaves a field as it is)."""
    require_manage(actor)
    sub = _lock(subscription)
    check_version(sub, expected_version)
    given = {"name": name, "url": url, "event_types": event_types, "active": active}
    values = _clean({k: v for k, v in given.items() if v is not None})
    for field, value in values.items():
        setattr(sub, field, value)
    return _save(sub, actor)


@transaction.atomic
def rotate_secret(
    *, actor: Any, subscription: WebhookSubscription, expected_version: int | None = None
) -> WebhookSubscription:
    """Replace the signing secret; every later attempt (retries too) is signed with the new one."""
    require_manage(actor)
    sub = _lock(subscription)
    check_version(sub, expected_version)
    sub.secret = signing.new_secret()
    return _save(sub, actor)


@transaction.atomic
def delete_subscription(
    *, actor: Any, subscription: WebhookSubscription, expected_version: int | None = None
) -> None:
    """Delete a subscription together with its delivery log."""
    require_manage(actor)
    sub = _lock(subscription)
    check_version(sub, expected_version)
    sub.delete()


# --- events and deliveries ---------------------------------------------------------------------


def _envelope(event_type: str, event_id: uuid.UUID, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": str(event_id),
        "type": event_type,
        "created_at": clock.now().isoformat(),
        "data": payloads.json_value(data),
    }


def _enqueue(delivery: WebhookDelivery, run_after: dt.datetime | None = None) -> None:
    from salescope.webhooks.tasks import enqueue_delivery

    pk = delivery.pk
    transaction.on_commit(lambda: enqueue_delivery(pk, run_after=run_after), robust=True)


def _new_delivery(
    sub: WebhookSubscription,
    *,
    event_type: str,
    event_id: uuid.UUID,
    payload: dict[str, Any],
    redelivery_of: WebhookDelivery | None = None,
) -> WebhookDelivery:
    now = clock.now()
    delivery = WebhookDelivery.objects.create(
        subscription=sub,
        event_type=event_type,
        event_id=event_id,
        payload=payload,
        status=DeliveryStatus.PENDING,
        next_attempt_at=now,
        created_at=now,
        redelivery_of=redelivery_of,
    )
    _enqueue(delivery)
    return delivery


def wanted_by(event_type: str) -> list[WebhookSubscription]:
    """The active subscriptions that asked for ``event_type`` (a system read, for every user)."""
    return [
        sub
        for sub in WebhookSubscription.objects.filter(active=True).order_by("pk")
        if event_type in sub.event_types
    ]


@transaction.atomic
def record_event(
    *, event_type: str, data: dict[str, Any], event_id: uuid.UUID | None = None
) -> list[WebhookDelivery]:
    """One delivery per active subscription that wants ``event_type``, all with the same payload.

    Called by the system (signal receivers), after the change itself was committed; the
    deliveries are sent by the task queue once this transaction commits.
    """
    if event_type not in EventType.values:
        raise ValidationError({"event_type": _("Unknown event %(kind)r.") % {"kind": event_type}})
    subscribers = wanted_by(event_type)
    if not subscribers:
        return []
    event_id = event_id or uuid.uuid4()
    payload = _envelope(event_type, event_id, data)
    return [
        _new_delivery(sub, event_type=event_type, event_id=event_id, payload=payload)
        for sub in subscribers
    ]


@transaction.atomic
def send_ping(*, actor: Any, subscription: WebhookSubscription) -> WebhookDelivery:
    """A ``ping`` event to this subscription only (also when inactive), to test the receiver."""
    require_manage(actor)
    sub = WebhookSubscription.objects.get(pk=subscription.pk)
    event_id = uuid.uuid4()
    data = {
        "subscription": {"id": sub.pk, "name": sub.name, "events": sub.event_types},
        "sent_by": payloads.user_ref(actor),
    }
    return _new_delivery(
        sub, event_type=PING, event_id=event_id, payload=_envelope(PING, event_id, data)
    )


@transaction.atomic
def redeliver(*, actor: Any, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a failed delivery again as a new delivery (same event id and payload)."""
    require_manage(actor)
    original = WebhookDelivery.objects.select_related("subscription").get(pk=delivery.pk)
    if original.status not in (DeliveryStatus.FAILED, DeliveryStatus.GAVE_UP):
        raise ValidationError(
            {"delivery": _("Only a failed delivery can be sent again (this one is %(status)s).")
             % {"status": original.get_status_display()}}
        )  # fmt: skip
    if not original.subscription.active and original.event_type != PING:
        raise ValidationError(
            {"delivery": _("The subscription is inactive; activate it before sending again.")}
        )
    return _new_delivery(
        original.subscription,
        event_type=original.event_type,
        event_id=original.event_id,
        payload=original.payload,
        redelivery_of=original,
    )


@dataclass(frozen=True)
class AttemptResult:
    ok: bool
    status_code: int | None
    error: str
    excerpt: str
    duration_ms: int


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect counts as a failure: following it could reach an address we refuse."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def _read_excerpt(response: Any) -> str:
    try:
        raw = response.read(MAX_READ_BYTES)
    except Exception:  # a broken body must not hide the status
        return ""
    text = raw.decode("utf-8", errors="replace")
    return text if len(text) <= MAX_EXCERPT else text[:MAX_EXCERPT] + "…"


def post(url: str, *, body: bytes, headers: dict[str, str]) -> AttemptResult:
    """POST ``body`` to ``url`` once (stdlib urllib, 10 s timeout, no redirects)."""
    started = time.monotonic()

    def took() -> int:
        return int((time.monotonic() - started) * 1000)

    if refuse_private_targets():
        parts = urlsplit(url)
        problem = private_address_error(parts.hostname or "", parts.port)
        if problem:
            return AttemptResult(False, None, problem, "", took())
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with _opener.open(request, timeout=TIMEOUT_SECONDS) as response:
            code = response.status
            excerpt = _read_excerpt(response)
    except urllib.error.HTTPError as exc:
        excerpt = _read_excerpt(exc)
        exc.close()
        return AttemptResult(
            False, exc.code, _("The receiver answered HTTP %(code)s.") % {"code": exc.code},
            excerpt, took(),
        )  # fmt: skip
    except TimeoutError:
        return AttemptResult(
            False, None, _("No answer within %(s)s seconds.") % {"s": TIMEOUT_SECONDS}, "", took()
        )
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, TimeoutError):
            message = _("No answer within %(s)s seconds.") % {"s": TIMEOUT_SECONDS}
        else:
            message = _("Connection failed: %(reason)s") % {"reason": reason}
        return AttemptResult(False, None, message, "", took())
    except (OSError, ValueError) as exc:
        message = _("Connection failed: %(reason)s") % {"reason": exc}
        return AttemptResult(False, None, message, "", took())
    if 200 <= code < 300:
        return AttemptResult(True, code, "", excerpt, took())
    return AttemptResult(
        False, code, _("The receiver answered HTTP %(code)s.") % {"code": code}, excerpt, took()
    )


def request_headers(
    delivery: WebhookDelivery, *, secret: str, timestamp: int, body: bytes
) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Salescope-Event": delivery.event_type,
        "Salescope-Delivery": str(delivery.uuid),
        "Salescope-Timestamp": str(timestamp),
        "Salescope-Signature": signing.signature_header(secret, timestamp, body),
    }


def _claim(delivery_id: int, now: dt.datetime) -> WebhookDelivery | None:
    """Take the next attempt of a due delivery, or ``None`` when it is not ours to send."""
    delivery = WebhookDelivery.objects.select_related("subscription").filter(pk=delivery_id).first()
    if delivery is None or delivery.status not in (DeliveryStatus.PENDING, DeliveryStatus.FAILED):
        return None
    if delivery.next_attempt_at is not None and delivery.next_attempt_at > now:
        return None
    with transaction.atomic():
        claimed = WebhookDelivery.objects.filter(
            pk=delivery.pk, status=delivery.status, attempts=delivery.attempts
        ).update(attempts=F("attempts") + 1, next_attempt_at=now + CLAIM_LEASE)
    if not claimed:
        return None
    delivery.attempts += 1
    return delivery


def attempt_delivery(*, delivery_id: int) -> WebhookDelivery | None:
    """Send a due delivery once and record the outcome; schedule the retry when it failed.

    Returns the delivery as recorded, or ``None`` when there was nothing to send (unknown,
    finished, not yet due, or another worker took this attempt).
    """
    now = clock.now()
    delivery = _claim(delivery_id, now)
    if delivery is None:
        return None
    sub = delivery.subscription
    if not sub.active and delivery.event_type != PING:
        result = AttemptResult(False, None, _("The subscription is inactive."), "", 0)
        final = True
    else:
        body = signing.encode_body(delivery.payload)
        timestamp = int(now.timestamp())
        headers = request_headers(delivery, secret=sub.secret, timestamp=timestamp, body=body)
        result = post(sub.url, body=body, headers=headers)
        final = delivery.attempts >= MAX_ATTEMPTS
    with transaction.atomic():
        delivery.last_status_code = result.status_code
        delivery.last_error = result.error[:MAX_ERROR]
        delivery.response_excerpt = result.excerpt
        delivery.duration_ms = result.duration_ms
        retry_at = None
        if result.ok:
            delivery.status = DeliveryStatus.SUCCEEDED
            delivery.delivered_at = clock.now()
        elif final:
            delivery.status = DeliveryStatus.GAVE_UP
        else:
            delivery.status = DeliveryStatus.FAILED
            retry_at = now + BACKOFF[delivery.attempts - 1]
        delivery.next_attempt_at = retry_at
        delivery.save(
            update_fields=[
                "status", "attempts", "next_attempt_at", "last_status_code", "last_error",
                "response_excerpt", "duration_ms", "delivered_at",
            ]
        )  # fmt: skip
        if retry_at is not None:
            _enqueue(delivery, run_after=retry_at)
    return delivery


def send_due(*, limit: int = 500) -> int:
    """Attempt every delivery that is due now (a safety net beside the task queue).

    Covers task backends that cannot schedule a later run and tasks lost with a worker.
    Returns how many attempts were made.
    """
    now = clock.now()
    due = list(
        WebhookDelivery.objects.filter(
            status__in=(DeliveryStatus.PENDING, DeliveryStatus.FAILED), next_attempt_at__lte=now
        )
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(1 for pk in due if attempt_delivery(delivery_id=pk) is not None)
