"""Reads of the imports app: jobs and saved mappings a user may see."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from salescope.imports.models import ImportJob, ImportRowError, SavedMapping
from salescope.org.models import Role, User


def visible_jobs(user: User) -> QuerySet[ImportJob]:
    """Admins see every import, managers their own."""
    jobs = ImportJob.objects.select_related("created_by")
    if not user.is_active:
        return jobs.none()
    if user.role == Role.ADMIN:
        return jobs
    if user.role == Role.MANAGER:
        return jobs.filter(created_by=user)
    return jobs.none()


def job_errors(job: ImportJob) -> QuerySet[ImportRowError]:
    return job.row_errors.order_by("id")


def saved_mappings(user: User) -> QuerySet[SavedMapping]:
    """The user's own mappings and the shared ones."""
    return SavedMapping.objects.filter(Q(created_by=user) | Q(shared=True)).order_by("name")
