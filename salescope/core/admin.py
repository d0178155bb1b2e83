"""Back office for cross-domain tables: external ids of records in other systems."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from salescope.core.models import ExternalId

#: Record types that can carry external ids (the ones imports and sync match on).
EXTERNAL_ID_MODELS = (
    "org.user",
    "accounts.account",
    "accounts.contact",
    "pipeline.opportunity",
    "activities.activity",
)


@admin.register(ExternalId)
class ExternalIdAdmin(admin.ModelAdmin):
    list_display = ("system", "value", "content_type", "object_id", "record_link")
    list_filter = ("system", "content_type")
    list_select_related = ("content_type",)
    search_fields = ("value", "system")
    readonly_fields = ("record_link",)
    show_full_result_count = False

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "content_type":
            ids = [
                ct.pk
                for ct in ContentType.objects.all()
                if f"{ct.app_label}.{ct.model}" in EXTERNAL_ID_MODELS
            ]
            kwargs["queryset"] = ContentType.objects.filter(pk__in=ids)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description=_("record"))
    def record_link(self, obj: ExternalId) -> str:
        # A link by id, without loading the record (no query per row).
        if obj.pk is None or obj.content_type_id is None:
            return "–"
        ct = obj.content_type
        try:
            url = reverse(f"admin:{ct.app_label}_{ct.model}_change", args=[obj.object_id])
        except NoReverseMatch:
            return f"{ct.model} #{obj.object_id}"
        return format_html('<a href="{}">{} #{}</a>', url, ct.name, obj.object_id)
