"""Cross-domain tables: external ids of any record in other systems (for imports and sync)."""

from __future__ import annotations

from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _


class ExternalId(models.Model):
    """The id a record has in another system (old CRM, ERP, spreadsheet)."""

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    object_id = models.PositiveBigIntegerField()
    record = GenericForeignKey("content_type", "object_id")
    system = models.CharField(
        _("system"), max_length=40, help_text=_("e.g. salesforce, hubspot, erp")
    )
    value = models.CharField(_("external id"), max_length=200)

    class Meta:
        verbose_name = _("external id")
        verbose_name_plural = _("external ids")
        constraints = [
            models.UniqueConstraint(
                fields=["content_type", "system", "value"], name="unique_external_id"
            ),
        ]
        indexes = [models.Index(fields=["content_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.system}:{self.value}"


class TrackedModel(models.Model):
    """Who created and last changed a record, when, and its optimistic-lock version."""

    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    created_at = models.DateTimeField(_("created at"), editable=False, db_index=True)
    created_by = models.ForeignKey(
        "org.User",
        verbose_name=_("created by"),
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    updated_at = models.DateTimeField(_("updated at"), editable=False)
    updated_by = models.ForeignKey(
        "org.User",
        verbose_name=_("updated by"),
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        abstract = True
