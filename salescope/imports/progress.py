"""Progress of running imports, kept outside the database.

An import holds its transaction (on SQLite the write lock) until it is done, and its rows are
invisible to others until then, so progress goes to a small JSON file per job under
``settings.DATA_DIR / "imports"`` that the progress bar reads.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings

from salescope.core import clock


def _path(job_id: Any) -> Path:
    key = uuid.UUID(str(job_id)).hex  # refuses anything but a job id (no path tricks)
    return Path(settings.DATA_DIR) / "imports" / f"{key}.progress.json"


def set_progress(job_id: Any, phase: str, done: int, total: int) -> None:
    path = _path(job_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {
        "phase": phase,
        "done": int(done),
        "total": int(total),
        "percent": round(100 * done / total) if total else 0,
        "at": clock.now().isoformat(),
    }
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "w") as fh:
        json.dump(data, fh)
    os.replace(tmp, path)  # readers never see half a file


def get_progress(job_id: Any) -> dict[str, Any] | None:
    try:
        return dict(json.loads(_path(job_id).read_text()))
    except (OSError, ValueError):
        return None


def clear_progress(job_id: Any) -> None:
    with contextlib.suppress(OSError, ValueError):
        _path(job_id).unlink()
