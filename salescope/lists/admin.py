from django.contrib import admin

from salescope.core.admin_mixins import ReadOnlyAdminMixin
from salescope.lists.models import SavedView


@admin.register(SavedView)
class SavedViewAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Users manage their saved views on the lists; the back office only shows them."""

    list_display = ("name", "user", "list_key", "is_default", "updated_at")
    list_filter = ("list_key", "is_default")
    search_fields = ("name", "user__username", "user__last_name")
    list_select_related = ("user",)
