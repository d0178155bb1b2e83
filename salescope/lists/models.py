"""Saved list views: a user's named filters, sort and columns for one list."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class SavedView(models.Model):
    user = models.ForeignKey(
        "org.User",
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="saved_views",
    )
    list_key = models.CharField(_("list"), max_length=20)
    name = models.CharField(_("name"), max_length=80)
    query_string = models.TextField(_("filters"), blank=True)
    columns = models.JSONField(_("columns"), default=list, blank=True)
    is_default = models.BooleanField(_("open by default"), default=False)
    created_at = models.DateTimeField(_("created at"))
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        verbose_name = _("saved view")
        verbose_name_plural = _("saved views")
        ordering = ["user", "list_key", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "list_key", "name"], name="unique_saved_view_name"
            ),
            models.UniqueConstraint(
                fields=["user", "list_key"],
                condition=models.Q(is_default=True),
                name="one_default_view_per_list",
            ),
        ]

    def __str__(self) -> str:
        return self.name
