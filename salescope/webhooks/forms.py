"""The subscription form of the webhooks screens (parsing only; the service checks)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from salescope.webhooks.models import EventType, WebhookSubscription
from salescope.webhooks.services import MAX_NAME, MAX_URL


class SubscriptionForm(forms.Form):
    name = forms.CharField(
        label=_("Name"), max_length=MAX_NAME, help_text=_("E.g. “ERP sync” or “Slack bot”.")
    )
    url = forms.CharField(
        label=_("Target URL"),
        max_length=MAX_URL,
        help_text=_("We POST the events to this http:// or https:// address."),
        widget=forms.URLInput(attrs={"placeholder": "https://example.com/salescope-webhook"}),
    )
    event_types = forms.MultipleChoiceField(
        label=_("Events"),
        choices=EventType.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one event.")},
    )
    active = forms.BooleanField(
        label=_("Active"),
        required=False,
        initial=True,
        help_text=_("Inactive subscriptions get nothing."),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, subscription: WebhookSubscription | None = None, **kwargs: Any):
        if subscription is not None and not args and "data" not in kwargs:
            kwargs["initial"] = {
                "name": subscription.name,
                "url": subscription.url,
                "event_types": subscription.event_types,
                "active": subscription.active,
                "version": subscription.version,
            }
        super().__init__(*args, **kwargs)
        self.subscription = subscription

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "url": data["url"],
            "event_types": data["event_types"],
            "active": data["active"],
        }
