"""Background runs: the task runs the import and leaves its progress outside the database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from salescope.imports import progress, services
from salescope.imports.models import JobStatus
from salescope.imports.tasks import enqueue_import
from salescope.imports.tests.test_engine import DEALS, MAPPING
from salescope.pipeline.models import Opportunity

pytestmark = pytest.mark.django_db


def test_enqueued_import_runs_and_reports_progress(
    org_setup: Any, frozen_now: Any, settings: Any, tmp_path: Path
) -> None:
    settings.DATA_DIR = tmp_path
    job = services.create_job(
        actor=org_setup.admin, files=[("deals.csv", DEALS.encode())], mapping=MAPPING
    )
    job = enqueue_import(job=job, actor=org_setup.admin)  # immediate backend in tests
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED
    assert Opportunity.objects.count() == 3
    done = progress.get_progress(job.pk)
    assert done is not None and done["phase"] == "done" and done["percent"] == 100
    progress.clear_progress(job.pk)
    assert progress.get_progress(job.pk) is None


def test_progress_refuses_anything_but_a_job_id(settings: Any, tmp_path: Path) -> None:
    settings.DATA_DIR = tmp_path
    with pytest.raises(ValueError):
        progress.set_progress("../../etc/passwd", "x", 1, 2)
    assert progress.get_progress("../../etc/passwd") is None
    assert not list(tmp_path.rglob("*"))


def test_an_unexpected_error_fails_the_job_instead_of_leaving_it_running(
    org_setup: Any, frozen_now: Any, settings: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    settings.DATA_DIR = tmp_path
    job = services.create_job(
        actor=org_setup.admin, files=[("deals.csv", DEALS.encode())], mapping=MAPPING
    )

    def broken(**kwargs: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(services, "run_engine", broken)
    with pytest.raises(RuntimeError):
        services.run_import(job=job, dry_run=False, actor=org_setup.admin)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and job.finished_at is not None
    assert "unexpected error" in job.message and "nothing was written" in job.message
    assert Opportunity.objects.count() == 0
