"""Back office: personal API tokens, read-only (created and revoked on the token screens)."""

from __future__ import annotations

from django.contrib import admin

from salescope.core.admin_mixins import ReadOnlyAdmin
from salescope.restapi.models import ApiToken


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    list_display = (
        "name",
        "user",
        "prefix",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
    )
    list_filter = ("revoked_at",)
    search_fields = ("name", "prefix", "user__username")
    list_select_related = ("user",)
    exclude = ("secret_hash",)
