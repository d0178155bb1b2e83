"""Settings for the test suite: the product's settings with tasks run in-process.

pytest-django loads these (see ``[tool.pytest.ini_options]``) before any conftest, so the
choice holds for every test process, with or without xdist. A test that needs another task
backend (e.g. the database one) overrides ``TASKS`` itself.
"""

from __future__ import annotations

import os

from salescope.settings import *  # noqa: F403

TASKS = {
    "default": {
        "BACKEND": os.environ.get(
            "SALESCOPE_TASK_BACKEND", "django_tasks.backends.immediate.ImmediateBackend"
        ),
        "QUEUES": ["default"],
    }
}
