"""Background imports and checks (dry runs) with django-tasks: ``enqueue_import``."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django_tasks import task

from salescope.imports import progress
from salescope.imports.models import ImportJob, JobStatus
from salescope.org.models import User


@task()
def run_import_task(
    *, job_id: str, actor_id: int, dry_run: bool = False, skip_invalid: bool = False
) -> dict[str, Any]:
    from salescope.imports.services import run_import

    job = ImportJob.objects.get(pk=job_id)
    actor = User.objects.get(pk=actor_id)

    def report(phase: str, done: int, total: int) -> None:
        progress.set_progress(job_id, phase, done, total)

    report("starting", 0, 1)
    try:
        result = run_import(
            job=job, dry_run=dry_run, actor=actor, skip_invalid=skip_invalid, progress=report
        )
    except ValidationError as exc:
        report("failed", 1, 1)
        return {"status": JobStatus.FAILED, "message": "; ".join(exc.messages)}
    except Exception:
        report("failed", 1, 1)  # the job is marked failed; the task result keeps the error
        raise
    report("done", 1, 1)
    return {"status": job.status, "summary": result.summary, "errors": len(result.errors)}


def enqueue_import(
    *, job: ImportJob, actor: User, dry_run: bool = False, skip_invalid: bool = False
) -> ImportJob:
    """Queue the job's run, real or dry, in the background (the progress bar follows it)."""
    job.status = JobStatus.QUEUED
    job.dry_run = dry_run  # the job page says "Checking…" or "Importing…" from the start
    job.save(update_fields=["status", "dry_run"])
    progress.set_progress(job.pk, "queued", 0, 1)
    run_import_task.enqueue(
        job_id=str(job.pk), actor_id=actor.pk, dry_run=dry_run, skip_invalid=skip_invalid
    )
    job.refresh_from_db()
    return job
