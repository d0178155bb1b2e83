"""REST endpoints of the imports app (mounted by ``salescope/api.py``).

Upload files (``POST /imports``, multipart), check them (``POST /imports/{id}/dry-run``,
synchronous, nothing is written), import them in the background (``POST /imports/{id}/run``,
202) and follow the job (``GET /imports/{id}``: status, progress, summary) and its rejected
rows (``GET /imports/{id}/errors``, ``/errors.csv``). Only administrators and sales
managers may import; managers see their own jobs.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count, QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Router, Schema
from ninja.files import UploadedFile

from salescope.imports import progress, selectors, services
from salescope.imports.forms import check_uploads
from salescope.imports.models import ImportJob, JobStatus
from salescope.imports.tasks import enqueue_import
from salescope.restapi import errors
from salescope.restapi.pagination import Pagination, paginate

router = Router(tags=["imports"])

FIRST_ERRORS = 20


class ImportFileOut(Schema):
    name: str
    size: int


class Counts(Schema):
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0


class ProgressOut(Schema):
    phase: str = Field(..., description="reading, then the kind of record being written.")
    done: int
    total: int
    percent: int = Field(..., description="Of the current phase.")


class ImportJobOut(Schema):
    id: uuid.UUID
    status: str = Field(
        ..., description="uploaded, analysed (checked), queued, running, succeeded or failed."
    )
    dry_run: bool = Field(..., description="Whether the last run was a dry run.")
    created_at: dt.datetime
    created_by: str | None
    preset: str
    files: list[ImportFileOut]
    summary: dict[str, Counts] = Field(
        ..., description="Per kind of record (accounts, opportunities…) of the last run."
    )
    total_rows: int
    error_count: int = Field(..., description="Rejected rows (and table problems) of the last run.")
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    message: str

    @staticmethod
    def resolve_created_by(obj: ImportJob) -> str | None:
        return obj.created_by.username if obj.created_by else None

    @staticmethod
    def resolve_files(obj: ImportJob) -> list[dict[str, Any]]:
        return [{"name": f.name, "size": f.size} for f in obj.files.all()]

    @staticmethod
    def resolve_error_count(obj: ImportJob) -> int:
        count = getattr(obj, "error_count", None)
        return int(count) if count is not None else obj.row_errors.count()


class ImportJobDetail(ImportJobOut):
    progress: ProgressOut | None = Field(
        None, description="While queued or running: the phase and how far it got."
    )

    @staticmethod
    def resolve_progress(obj: ImportJob) -> dict[str, Any] | None:
        if obj.status not in (JobStatus.QUEUED, JobStatus.RUNNING):
            return None
        state = progress.get_progress(obj.pk)
        if not state:
            return None
        return {
            "phase": str(state.get("phase", "")),
            "done": int(state.get("done", 0)),
            "total": int(state.get("total", 0)),
            "percent": int(state.get("percent", 0)),
        }


class RowErrorOut(Schema):
    table: str = Field(..., description="File (or file:sheet) of the row.")
    row: int | None = Field(..., description="Line or row number in the file (header = 1).")
    column: str
    value: str
    message: str


class DryRunOut(Schema):
    job: ImportJobDetail
    errors: list[RowErrorOut] = Field(..., description=f"The first {FIRST_ERRORS} problems.")


class RunIn(Schema):
    skip_invalid: bool = Field(
        False, description="Import the valid rows when some are rejected (all or nothing)."
    )


def _jobs(user: Any) -> QuerySet[ImportJob]:
    services.require_import_permission(user)
    return (
        selectors.visible_jobs(user)
        .prefetch_related("files")
        .annotate(error_count=Count("row_errors"))
    )


def _job(user: Any, job_id: uuid.UUID) -> ImportJob:
    return get_object_or_404(_jobs(user), pk=job_id)


def _mapping(text: str | None) -> dict[str, Any] | None:
    if not text:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        raise ValidationError({"mapping": _("The mapping is not valid JSON.")}) from None
    if not isinstance(data, dict):
        raise ValidationError({"mapping": _("The mapping must be a JSON object.")})
    return data


@router.post("/imports", response={201: ImportJobDetail, **errors.CREATE})
def create_import(
    request: Any,
    files: File[list[UploadedFile]],
    preset: Form[str | None] = None,
    mapping: Form[str | None] = None,
) -> Any:
    """Upload CSV, XLSX or ZIP files (multipart ``files``, several allowed) as an import job.

    ``preset`` names a known export format (maven, salesforce, hubspot, pipedrive, odoo);
    ``mapping`` is a mapping spec as JSON (as in the mapping files of
    ``salescope import``). Without either, the format is recognised from the headers.
    A full export (``salescope export --all``, recognised by its ``manifest.json``) is read
    back as a whole, alone and by an administrator, into an empty instance."""
    services.require_import_permission(request.auth)
    try:
        uploads = check_uploads(list(files))
    except ValidationError as exc:
        raise ValidationError({"files": exc.messages}) from None
    pairs = []
    for upload in uploads:
        upload.seek(0)
        pairs.append((str(upload.name), upload.read()))
    job = services.create_job(
        actor=request.auth, files=pairs, preset=preset or None, mapping=_mapping(mapping)
    )
    return 201, _job(request.auth, job.pk)


@router.get("/imports", response={200: list[ImportJobOut], **errors.LIST})
@paginate(Pagination)
def list_imports(request: Any) -> Any:
    """Import jobs, newest first (administrators see all, managers their own)."""
    return _jobs(request.auth)


@router.get("/imports/{job_id}", response={200: ImportJobDetail, **errors.ITEM})
def get_import(request: Any, job_id: uuid.UUID) -> Any:
    """Status, progress (while running) and the summary of the last run."""
    return _job(request.auth, job_id)


@router.post("/imports/{job_id}/dry-run", response={200: DryRunOut, **errors.ITEM})
def dry_run(request: Any, job_id: uuid.UUID) -> Any:
    """Run the import without writing anything: what would be created, updated, unchanged
    and rejected, and the first problems (row, column, value, message)."""
    job = _job(request.auth, job_id)
    _not_busy(job)
    services.run_import(job=job, dry_run=True, actor=request.auth)
    job = _job(request.auth, job_id)
    return {"job": job, "errors": list(selectors.job_errors(job)[:FIRST_ERRORS])}


@router.post("/imports/{job_id}/run", response={202: ImportJobDetail, **errors.ITEM})
def run_import(request: Any, job_id: uuid.UUID, payload: RunIn | None = None) -> Any:
    """Queue the import in the background; follow it with ``GET /imports/{id}``. If any row
    is rejected nothing is written, unless ``skip_invalid`` is set."""
    job = _job(request.auth, job_id)
    services.require_import_permission(request.auth)
    _not_busy(job)
    if job.status == JobStatus.SUCCEEDED and not job.dry_run:
        raise ValidationError({"status": _("This import has already been carried out.")})
    skip = bool(payload.skip_invalid) if payload is not None else False
    enqueue_import(job=job, actor=request.auth, skip_invalid=skip)
    return 202, _job(request.auth, job_id)


def _not_busy(job: ImportJob) -> None:
    if job.status in (JobStatus.QUEUED, JobStatus.RUNNING):
        raise ValidationError({"status": _("This import is already queued or running.")})


@router.get("/imports/{job_id}/errors", response={200: list[RowErrorOut], **errors.ITEM})
@paginate(Pagination)
def list_errors(request: Any, job_id: uuid.UUID) -> Any:
    """Every rejected row of the last run, in file order."""
    return selectors.job_errors(_job(request.auth, job_id))


@router.get(
    "/imports/{job_id}/errors.csv",
    response={**errors.ITEM},
    openapi_extra={
        "responses": {
            "200": {
                "description": "The rejected rows as CSV (UTF-8 with BOM).",
                "content": {"text/csv": {"schema": {"type": "string"}}},
            }
        }
    },
)
def errors_csv(request: Any, job_id: uuid.UUID) -> HttpResponse:
    """The rejected rows of the last run as a CSV file: file, row, column, value, message."""
    job = _job(request.auth, job_id)
    response = HttpResponse(services.errors_csv(job), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-errors-{job.pk}.csv"'
    return response
