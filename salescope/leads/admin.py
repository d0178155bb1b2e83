"""Back office for leads and campaigns; writes go through ``leads.services``."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from salescope.core.admin_mixins import TRACKED_READONLY, ServiceAdminMixin, ServiceModelForm
from salescope.leads import services
from salescope.leads.models import Campaign, Lead

_LEAD_FIELDS = ("first_name", "last_name", "company", "email", "phone", "source", "campaign",
                "status", "owner", "score", "notes")  # fmt: skip
_CAMPAIGN_FIELDS = ("name", "channel", "cost", "currency", "starts_on", "ends_on")


def _values(
    form: ServiceModelForm, names: tuple[str, ...], *, only_changed: bool
) -> dict[str, Any]:
    cd = form.cleaned_data
    return {n: cd[n] for n in names if n in cd and (not only_changed or form.changed(n))}


class LeadAdminForm(ServiceModelForm):
    """Add: ``create_lead``; change: ``update_lead``."""

    model_validation = False

    class Meta:
        model = Lead
        fields = "__all__"

    def save_through_services(self) -> Lead:
        if self.adding:
            return services.create_lead(
                actor=self.actor, **_values(self, _LEAD_FIELDS, only_changed=False)
            )
        return services.update_lead(
            lead=self.instance,
            actor=self.actor,
            expected_version=self.expected_version,
            **_values(self, _LEAD_FIELDS, only_changed=True),
        )


@admin.register(Lead)
class LeadAdmin(ServiceAdminMixin, admin.ModelAdmin):
    form = LeadAdminForm
    list_display = ("last_name", "first_name", "company", "email", "status", "score", "owner")
    list_filter = ("status", "source", "campaign")
    list_select_related = ("owner",)
    search_fields = ("last_name", "first_name", "company", "email")
    autocomplete_fields = ("owner",)
    fieldsets = (
        (None, {"fields": (("first_name", "last_name"), "company", "owner", "version")}),
        (_("Reach"), {"fields": ("email", "phone")}),
        (_("Qualification"), {"fields": ("status", "score", "source", "campaign", "notes")}),
        (_("Record"), {"fields": TRACKED_READONLY, "classes": ("collapse",)}),
    )
    readonly_fields = TRACKED_READONLY

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        initial = super().get_changeform_initial_data(request)
        initial.setdefault("owner", str(request.user.pk))
        return initial


class CampaignAdminForm(ServiceModelForm):
    """Add: ``create_campaign``; change: ``update_campaign``."""

    model_validation = False

    class Meta:
        model = Campaign
        fields = "__all__"

    def save_through_services(self) -> Campaign:
        if self.adding:
            return services.create_campaign(
                actor=self.actor, **_values(self, _CAMPAIGN_FIELDS, only_changed=False)
            )
        return services.update_campaign(
            campaign=self.instance,
            actor=self.actor,
            **_values(self, _CAMPAIGN_FIELDS, only_changed=True),
        )


@admin.register(Campaign)
class CampaignAdmin(ServiceAdminMixin, admin.ModelAdmin):
    form = CampaignAdminForm
    list_display = ("name", "channel", "cost", "currency", "starts_on", "ends_on")
    list_filter = ("channel",)
    search_fields = ("name",)
