"""Back office for imports: jobs with their row errors (read-only) and saved mappings."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from salescope.core.admin_mixins import ReadOnlyAdmin
from salescope.imports.models import ImportFile, ImportJob, ImportRowError, SavedMapping


class _ReadOnly:
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ImportFileInline(_ReadOnly, admin.TabularInline):  # type: ignore[type-arg]
    model = ImportFile
    fields = ("name", "size", "file")
    extra = 0


@admin.register(ImportJob)
class ImportJobAdmin(_ReadOnly, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("created_at", "created_by", "status", "preset", "dry_run", "total_rows")
    list_filter = ("status", "preset", "dry_run")
    list_select_related = ("created_by",)
    inlines = [ImportFileInline]


@admin.register(ImportRowError)
class ImportRowErrorAdmin(_ReadOnly, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("job", "table", "row", "column", "value", "message")
    list_select_related = ("job",)
    search_fields = ("message", "value", "column")


@admin.register(SavedMapping)
class SavedMappingAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "created_by", "shared", "created_at")
    list_filter = ("shared",)


@admin.register(ImportFile)
class ImportFileAdmin(ReadOnlyAdmin):
    list_display = ("name", "job", "size")
    list_select_related = ("job",)
    search_fields = ("name",)
