"""Pytest plugin: PostgreSQL-only tests, and making sure a PostgreSQL run really is one.

- ``@pytest.mark.postgres_only`` deselects a test unless the test database is PostgreSQL
  (``skip_unless_postgres()`` skips from inside a test).
- With ``SALESCOPE_REQUIRE_POSTGRES=1`` (CI) and ``DATABASE_URL`` set, the session stops at
  once unless Django's default database really is PostgreSQL.

Load it with ``pytest_plugins = ["salescope.testing.postgres"]``.
"""

from __future__ import annotations

import os

import pytest


def database_vendor() -> str:
    from django.db import connection

    return str(connection.vendor)


def skip_unless_postgres() -> None:
    """Skip the calling test unless the test database is PostgreSQL."""
    vendor = database_vendor()
    if vendor != "postgresql":
        pytest.skip(f"PostgreSQL only (the test database is {vendor})")


@pytest.fixture
def requires_postgres() -> None:
    skip_unless_postgres()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On another database, PostgreSQL-only tests are deselected (they run in the PostgreSQL
    pass of ``make test``), so a run's skips only ever mean something is missing."""
    if not _django_configured():
        return
    from django.conf import settings

    if "postgresql" in settings.DATABASES["default"]["ENGINE"]:
        return
    deselected = [item for item in items if item.get_closest_marker("postgres_only")]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if not item.get_closest_marker("postgres_only")]


def _django_configured() -> bool:
    from django.conf import settings

    return bool(settings.configured)


def pytest_report_header(config: pytest.Config) -> str | None:
    if not _django_configured():
        return None
    from django.db import connection

    db = connection.settings_dict
    where = (
        f"{db.get('HOST')}:{db.get('PORT')}/{db.get('NAME')}" if db.get("HOST") else db.get("NAME")
    )
    return f"database: {connection.vendor} ({where})"


def pytest_sessionstart(session: pytest.Session) -> None:
    if os.environ.get("SALESCOPE_REQUIRE_POSTGRES") != "1" or not os.environ.get("DATABASE_URL"):
        return
    vendor = database_vendor() if _django_configured() else "unconfigured"
    if vendor != "postgresql":
        pytest.exit(
            "!!! SALESCOPE_REQUIRE_POSTGRES=1 and DATABASE_URL is set, but Django's default "
            f"database is {vendor}, not postgresql. Check DATABASE_URL and the settings. !!!",
            returncode=3,
        )
