import os

# Tests run background tasks in-process unless a test picks another backend.
os.environ.setdefault("SALESCOPE_TASK_BACKEND", "django_tasks.backends.immediate.ImmediateBackend")

pytest_plugins = [
    "salescope.testing.fixtures",
    "salescope.testing.browser",
    "salescope.testing.postgres",
]
