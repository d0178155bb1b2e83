"""Back office: dashboards and flash tiles are shown read-only (they are changed on their
screens, through ``kpis.services``)."""

from __future__ import annotations

from django.contrib import admin

from salescope.core.admin_mixins import ReadOnlyAdmin, ReadOnlyInline
from salescope.kpis.models import Dashboard, FlashTiles, Widget


class WidgetInline(ReadOnlyInline):
    model = Widget
    fields = ("position", "title", "size", "spec")


@admin.register(Dashboard)
class DashboardAdmin(ReadOnlyAdmin):
    list_display = ("name", "owner", "sharing", "team", "updated_at")
    list_filter = ("sharing",)
    search_fields = ("name", "owner__username")
    inlines = (WidgetInline,)


@admin.register(FlashTiles)
class FlashTilesAdmin(ReadOnlyAdmin):
    list_display = ("user", "kpis", "updated_at")
    search_fields = ("user__username",)


@admin.register(Widget)
class WidgetAdmin(ReadOnlyAdmin):
    list_display = ("dashboard", "position", "title", "size")
    list_select_related = ("dashboard",)
