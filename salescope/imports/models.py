"""Tables of the imports app: import jobs, their files and row errors, saved mappings."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _


class JobStatus(models.TextChoices):
    UPLOADED = "uploaded", _("Uploaded")
    ANALYSED = "analysed", _("Analysed")
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


class ImportJob(models.Model):
    """One import: uploaded files, the mapping chosen for them and the result of the last run."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_by = models.ForeignKey(
        "org.User",
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="import_jobs",
    )
    created_at = models.DateTimeField(_("created at"), db_index=True)
    status = models.CharField(
        _("status"), max_length=12, choices=JobStatus.choices, default=JobStatus.UPLOADED
    )
    preset = models.CharField(_("preset"), max_length=40, blank=True)
    mapping = models.JSONField(_("mapping"), default=dict, blank=True)
    options = models.JSONField(_("options"), default=dict, blank=True)
    dry_run = models.BooleanField(_("dry run"), default=True, help_text=_("Of the last run."))
    summary = models.JSONField(
        _("summary"),
        default=dict,
        blank=True,
        help_text=_("Per entity: created, updated, unchanged, rejected."),
    )
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    message = models.TextField(_("message"), blank=True)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.get_status_display()}"


def _upload_to(instance: ImportFile, filename: str) -> str:
    return f"imports/{instance.job_id}/{filename}"


class ImportFile(models.Model):
    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="files")
    name = models.CharField(_("name"), max_length=255)
    file = models.FileField(_("file"), upload_to=_upload_to, max_length=400)
    size = models.PositiveBigIntegerField(_("size"), default=0)

    class Meta:
        verbose_name = _("import file")
        verbose_name_plural = _("import files")
        ordering = ["job", "id"]

    def __str__(self) -> str:
        return self.name


class ImportRowError(models.Model):
    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="row_errors")
    table = models.CharField(_("table"), max_length=255)
    row = models.PositiveIntegerField(_("row"), null=True, blank=True)
    column = models.CharField(_("column"), max_length=255, blank=True)
    value = models.TextField(_("value"), blank=True)
    message = models.TextField(_("message"))

    class Meta:
        verbose_name = _("import row error")
        verbose_name_plural = _("import row errors")
        ordering = ["job", "table", "row", "id"]

    def __str__(self) -> str:
        return f"{self.table}:{self.row} {self.column}: {self.message}"


class SavedMapping(models.Model):
    name = models.CharField(_("name"), max_length=120)
    spec = models.JSONField(_("mapping"))
    created_by = models.ForeignKey(
        "org.User",
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="saved_mappings",
    )
    created_at = models.DateTimeField(_("created at"))
    shared = models.BooleanField(_("shared with everyone"), default=False)

    class Meta:
        verbose_name = _("saved mapping")
        verbose_name_plural = _("saved mappings")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["created_by", "name"], name="unique_mapping_name")
        ]

    def __str__(self) -> str:
        return self.name
