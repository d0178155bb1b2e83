"""Back office: webhook subscriptions and deliveries, read-only.

Subscriptions are managed on the webhooks screens (``webhooks:list``), which go through the
services (secret generation, URL checks); the back office only shows them.
"""

from __future__ import annotations

from django.contrib import admin

from salescope.core.admin_mixins import ReadOnlyAdmin
from salescope.webhooks.models import WebhookDelivery, WebhookSubscription


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(ReadOnlyAdmin):
    list_display = ("name", "url", "active", "created_at", "created_by")
    list_filter = ("active",)
    search_fields = ("name", "url")
    list_select_related = ("created_by",)
    exclude = ("secret",)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at", "subscription", "event_type", "status", "attempts", "last_status_code",
        "duration_ms",
    )  # fmt: skip
    list_filter = ("status", "event_type")
    search_fields = ("event_id", "uuid", "subscription__name")
    list_select_related = ("subscription",)
    date_hierarchy = "created_at"
