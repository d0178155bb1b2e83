"""Import use cases, shared by the import wizard, the REST API and ``salescope import``.

``create_job`` stores uploaded files, ``analyse`` looks at them (tables, detected preset,
suggested mapping, date formats to confirm), ``set_mapping`` stores the mapping chosen, and
``run_import`` runs the engine (dry run or real) and records the summary and the row errors
on the job. ``import_paths`` does the same for files on disk (the CLI) without a job.
"""

from __future__ import annotations

import csv
import io
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext as _

from salescope.core import clock
from salescope.imports import native, presets
from salescope.imports.engine import COUNT_KEYS, ImportResult, RowError
from salescope.imports.engine import run_import as run_engine
from salescope.imports.mapping import FIELD_KINDS, MappingSpec
from salescope.imports.models import ImportFile, ImportJob, ImportRowError, JobStatus, SavedMapping
from salescope.imports.reading import Table, read_tables
from salescope.imports.signals import import_finished
from salescope.org.models import Role, User

ProgressFn = Callable[[str, int, int], None]
MAX_STORED_ERRORS = 10000
SAMPLE_ROWS = 5
FILE_SUFFIXES = frozenset({".csv", ".tsv", ".txt", ".tab", ".xlsx", ".xlsm", ".zip"})
#: ``job.options["format"]`` of a job whose file is a full export (``salescope export --all``).
NATIVE_FORMAT = native.FORMAT
NATIVE_PRESET = "salescope"

logger = logging.getLogger(__name__)


def can_import(actor: User | None) -> bool:
    return bool(actor is not None and actor.is_active and actor.role in (Role.ADMIN, Role.MANAGER))


def require_import_permission(actor: User | None) -> None:
    if not can_import(actor):
        raise PermissionDenied(_("Only administrators and sales managers may import data."))


def is_native_job(job: ImportJob) -> bool:
    """Is the job's file a Salescope full export (read back by ``native.import_archive``)?"""
    return bool((job.options or {}).get("format") == NATIVE_FORMAT)


def _native_upload(actor: User, files: Sequence[tuple[str, bytes]]) -> bool:
    """Is the upload a full export? It is read back as a whole, alone and by an admin."""
    archives = [name for name, data in files if native.is_native_archive(data)]
    if not archives:
        return False
    if len(files) > 1:
        raise ValidationError(
            {
                "files": _(
                    "%(file)s is a full Salescope export; it is imported on its own. "
                    "Upload it without other files."
                )
                % {"file": Path(archives[0]).name}
            }
        )
    if not (actor.is_superuser or actor.role == Role.ADMIN):
        raise PermissionDenied(_("Only administrators may import a full Salescope export."))
    return True


# --- jobs ---------------------------------------------------------------------------------


@transaction.atomic
def create_job(
    *,
    actor: User,
    files: Sequence[tuple[str, bytes]],
    preset: str | None = None,
    mapping: dict[str, Any] | None = None,
    options: dict[str, Any] | None = None,
) -> ImportJob:
    require_import_permission(actor)
    if not files:
        raise ValidationError({"files": _("Choose at least one file to import.")})
    options = dict(options or {})
    if _native_upload(actor, files):
        # Read back as written, like ``salescope import export.zip``: no preset or mapping.
        preset, mapping = None, None
        options["format"] = NATIVE_FORMAT
    if preset:
        presets.load_preset(preset)  # unknown preset: a clear error now, not at run time
    if mapping is not None:
        mapping = MappingSpec.from_dict(mapping).as_dict()
    job = ImportJob.objects.create(
        created_by=actor,
        created_at=clock.now(),
        preset=NATIVE_PRESET if options.get("format") == NATIVE_FORMAT else preset or "",
        mapping=mapping or {},
        options=options,
    )
    for name, data in files:
        base = Path(name).name or "upload"
        ImportFile.objects.create(
            job=job, name=base, file=ContentFile(data, name=base), size=len(data)
        )
    return job


def _job_tables(job: ImportJob, sheet: str | None = None) -> list[Table]:
    tables: list[Table] = []
    for stored in job.files.all():
        with stored.file.open("rb") as fh:
            data = fh.read()
        tables.extend(read_tables(stored.name, data, sheet=sheet))
    return tables


def _sheet_of(spec: MappingSpec | None) -> str | None:
    sheets = {t.sheet for t in spec.tables} if spec is not None else set()
    return sheets.pop() if len(sheets) == 1 else None


def spec_for_job(job: ImportJob, tables: Sequence[Table] | None = None) -> MappingSpec:
    """The mapping of ``job``: its own, else its preset's, else the one detected."""
    if job.mapping:
        return MappingSpec.from_dict(job.mapping)
    if job.preset:
        return presets.load_preset(job.preset)
    name = presets.detect_preset(tables or [])
    if name is None:
        raise ValidationError(
            {"mapping": _("No preset recognises these files; choose a mapping for the columns.")}
        )
    return presets.load_preset(name)


@dataclass
class TableAnalysis:
    name: str
    headers: list[str]
    rows: int
    sample: list[list[Any]]
    entity: str
    mapping: dict[str, str]
    date_columns: dict[str, str] = field(default_factory=dict)  # column → detected format
    ambiguous_dates: dict[str, list[str]] = field(default_factory=dict)  # column → candidates


@dataclass
class Analysis:
    tables: list[TableAnalysis]
    preset: str | None
    mapping: dict[str, Any] | None  # the preset's (or job's) mapping, when there is one


def analyse(*, job: ImportJob) -> Analysis:
    """Tables, headers and sample rows of the job's files, the preset they look like, a
    suggested mapping per table and the date columns (with the ambiguous ones to ask)."""
    from salescope.imports import headers as header_rules
    from salescope.imports import values

    if is_native_job(job):  # nothing to map: the archive is read back as it was written
        if job.status == JobStatus.UPLOADED:
            job.status = JobStatus.ANALYSED
            job.save(update_fields=["status"])
        return Analysis(tables=[], preset=NATIVE_PRESET, mapping=None)
    tables = _job_tables(job)
    preset = job.preset or presets.detect_preset(tables)
    spec: MappingSpec | None = None
    if job.mapping:
        spec = MappingSpec.from_dict(job.mapping)
    elif preset:
        spec = presets.load_preset(preset)
    result = []
    for table in tables:
        table_spec = spec.spec_for(table.name) if spec is not None else None
        if table_spec is not None:
            entity = table_spec.entity
            mapping = {h: table_spec.columns.get(h, "-") for h in table.headers}
        else:
            entity = header_rules.guess_entity(table.headers)
            mapping = header_rules.suggest_mapping(table.headers, entity)
        analysis = TableAnalysis(
            name=table.name,
            headers=list(table.headers),
            rows=len(table.rows),
            sample=[list(r) for r in table.rows[:SAMPLE_ROWS]],
            entity=entity,
            mapping=mapping,
        )
        for column, target in mapping.items():
            if FIELD_KINDS.get(target) not in ("date", "datetime"):
                continue
            guess = values.detect_date_format(table.column(column))
            analysis.date_columns[column] = guess.format or "iso"
            if guess.ambiguous:
                analysis.ambiguous_dates[column] = list(guess.candidates)
        result.append(analysis)
    if job.status == JobStatus.UPLOADED:
        job.status = JobStatus.ANALYSED
        job.preset = preset or ""
        job.save(update_fields=["status", "preset"])
    return Analysis(tables=result, preset=preset, mapping=spec.as_dict() if spec else None)


@transaction.atomic
def set_mapping(*, job: ImportJob, mapping: dict[str, Any], actor: User) -> ImportJob:
    require_import_permission(actor)
    spec = MappingSpec.from_dict(mapping)
    job.mapping = spec.as_dict()
    job.status = JobStatus.ANALYSED
    job.save(update_fields=["mapping", "status"])
    return job


def _store_errors(job: ImportJob, errors: Sequence[RowError]) -> None:
    job.row_errors.all().delete()
    ImportRowError.objects.bulk_create(
        [
            ImportRowError(
                job=job,
                table=e.table[:255],
                row=e.row,
                column=e.column[:255],
                value=e.value[:2000],
                message=e.message,
            )
            for e in errors[:MAX_STORED_ERRORS]
        ],
        batch_size=2000,
    )


def _job_failed(job: ImportJob, exc: ValidationError) -> None:
    job.status = JobStatus.FAILED
    job.message = "; ".join(exc.messages)
    job.finished_at = clock.now()
    job.save(update_fields=["status", "message", "finished_at"])
    _store_errors(job, [])


def run_import(
    *,
    job: ImportJob,
    dry_run: bool,
    actor: User,
    skip_invalid: bool = False,
    progress: ProgressFn | None = None,
) -> ImportResult:
    """Run the job's import (all or nothing); the summary and row errors go on the job."""
    require_import_permission(actor)
    job.status = JobStatus.RUNNING
    job.started_at = clock.now()
    job.dry_run = dry_run
    job.message = ""
    job.save(update_fields=["status", "started_at", "dry_run", "message"])
    try:
        if is_native_job(job):
            result = _run_native(job=job, dry_run=dry_run, actor=actor, progress=progress)
        else:
            spec = MappingSpec.from_dict(job.mapping) if job.mapping else None
            tables = _job_tables(job, sheet=_sheet_of(spec))
            if spec is None:
                spec = spec_for_job(job, tables)
            tables = presets.apply_hooks(job.preset or None, tables)
            result = run_engine(
                tables=tables,
                spec=spec,
                actor=actor,
                dry_run=dry_run,
                skip_invalid=skip_invalid,
                progress=progress,
            )
    except ValidationError as exc:
        _job_failed(job, exc)
        raise
    except PermissionDenied as exc:
        _job_failed(job, ValidationError(str(exc)))
        raise
    except Exception:
        # A bug, not bad input: the job must not stay "running" with a spinning progress bar.
        logger.exception("Import %s stopped by an unexpected error", job.pk)
        _job_failed(
            job,
            ValidationError(
                _(
                    "An unexpected error stopped the import; nothing was written. "
                    "The details are in the server log."
                )
            ),
        )
        raise
    job.summary = result.summary
    job.total_rows = result.total_rows
    job.finished_at = clock.now()
    if dry_run:
        job.status = JobStatus.ANALYSED
    else:
        job.status = JobStatus.SUCCEEDED if result.written else JobStatus.FAILED
    if result.errors and not result.written and not dry_run:
        job.message = _("%(count)s rows were rejected; nothing was imported.") % {
            "count": len(result.errors)
        }
    job.options = {**job.options, "created_references": result.created_references}
    job.save(
        update_fields=[
            "summary",
            "total_rows",
            "finished_at",
            "status",
            "message",
            "options",
        ]
    )
    _store_errors(job, result.errors)
    if not dry_run:
        transaction.on_commit(lambda: import_finished.send(sender=ImportJob, job=job))
    return result


def _run_native(
    *, job: ImportJob, dry_run: bool, actor: User, progress: ProgressFn | None
) -> ImportResult:
    """A full export read back (``native.import_archive``, its own transaction), its row
    counts per table in the summary shape of the engine (everything is created)."""
    started = time.monotonic()
    stored = job.files.get()
    with stored.file.open("rb") as fh:
        data = fh.read()
    counts = native.import_archive(data, actor=actor, dry_run=dry_run, progress=progress)
    summary = {
        table: {**dict.fromkeys(COUNT_KEYS, 0), "created": count}
        for table, count in counts.items()
        if count
    }
    return ImportResult(
        dry_run=dry_run,
        written=not dry_run,
        summary=summary,
        total_rows=sum(counts.values()),
        seconds=time.monotonic() - started,
    )


@transaction.atomic
def save_mapping(
    *, name: str, spec: dict[str, Any], actor: User, shared: bool = False
) -> SavedMapping:
    require_import_permission(actor)
    if not isinstance(name, str) or not name.strip():
        raise ValidationError({"name": _("Give the mapping a name.")})
    cleaned = MappingSpec.from_dict(spec).as_dict()
    saved, _created = SavedMapping.objects.update_or_create(
        created_by=actor,
        name=name.strip()[:120],
        defaults={"spec": cleaned, "shared": shared, "created_at": clock.now()},
    )
    return saved


def can_delete_mapping(actor: User | None, mapping: SavedMapping) -> bool:
    """Importers delete their own saved mappings; administrators any."""
    if not can_import(actor):
        return False
    assert actor is not None
    return actor.role == Role.ADMIN or mapping.created_by_id == actor.pk


@transaction.atomic
def delete_mapping(*, mapping: SavedMapping, actor: User) -> None:
    require_import_permission(actor)
    if not can_delete_mapping(actor, mapping):
        raise PermissionDenied(
            _("Only its owner or an administrator may delete the saved mapping “%(name)s”.")
            % {"name": mapping.name}
        )
    SavedMapping.objects.filter(pk=mapping.pk).delete()


def errors_csv(job: ImportJob) -> bytes:
    """The row errors of the last run as CSV (UTF-8 with BOM, for spreadsheets)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_("file"), _("row"), _("column"), _("value"), _("message")])
    for error in job.row_errors.order_by("id"):
        writer.writerow(
            [
                _neutral(error.table),
                error.row or "",
                _neutral(error.column),
                _neutral(error.value),
                _neutral(error.message),
            ]
        )
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _neutral(text: str) -> str:
    """No formulas in spreadsheets: a leading = + - @ gets a quote."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


# --- files on disk (CLI) ------------------------------------------------------------------


def _files_of(paths: Sequence[str | Path]) -> list[Path]:
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(
                p
                for p in sorted(path.iterdir())
                if p.is_file() and p.suffix.lower() in FILE_SUFFIXES
            )
        elif path.is_file():
            files.append(path)
        else:
            raise ValidationError({"file": _("%(path)s does not exist.") % {"path": path}})
    if not files:
        raise ValidationError({"file": _("No CSV, Excel or ZIP file to import.")})
    return files


def import_paths(
    *,
    paths: Sequence[str | Path],
    preset: str | None = None,
    mapping: str | Path | dict[str, Any] | MappingSpec | None = None,
    dry_run: bool,
    actor: User,
    skip_invalid: bool = False,
    progress: ProgressFn | None = None,
) -> ImportResult:
    """Import files and folders (every CSV/XLSX/ZIP directly inside) without a job."""
    from salescope.imports.mapping import load_mapping

    require_import_permission(actor)
    spec: MappingSpec | None
    if isinstance(mapping, MappingSpec):
        spec = mapping
    elif isinstance(mapping, dict):
        spec = MappingSpec.from_dict(mapping)
    elif mapping is not None:
        spec = load_mapping(mapping)
    elif preset:
        spec = presets.load_preset(preset)
    else:
        spec = None
    tables: list[Table] = []
    for path in _files_of(paths):
        tables.extend(read_tables(path.name, path.read_bytes(), sheet=_sheet_of(spec)))
    if spec is None:
        preset = presets.detect_preset(tables)
        if preset is None:
            raise ValidationError(
                {"mapping": _("No preset recognises these files; pass --preset or --mapping.")}
            )
        spec = presets.load_preset(preset)
    tables = presets.apply_hooks(preset, tables)
    result = run_engine(
        tables=tables,
        spec=spec,
        actor=actor,
        dry_run=dry_run,
        skip_invalid=skip_invalid,
        progress=progress,
    )
    if not dry_run:
        # The command line keeps a record too (import history, the import_finished signal).
        now = clock.now()
        job = ImportJob.objects.create(
            created_by=actor,
            created_at=now,
            status=JobStatus.SUCCEEDED if result.written else JobStatus.FAILED,
            preset=preset or "",
            mapping={} if preset else spec.as_dict(),
            options={
                "paths": [str(p) for p in paths],
                "created_references": result.created_references,
            },
            dry_run=False,
            summary=result.summary,
            total_rows=result.total_rows,
            started_at=now,
            finished_at=now,
        )
        _store_errors(job, result.errors)
        transaction.on_commit(lambda: import_finished.send(sender=ImportJob, job=job))
    return result


def default_actor() -> User | None:
    """The user the command line acts as: the first active administrator."""
    return User.objects.filter(role=Role.ADMIN, is_active=True).order_by("pk").first()
