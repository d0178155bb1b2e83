"""Optimistic concurrency: every editable record carries a ``version`` counter.

A writer sends the version it loaded; :func:`check_version` raises a
:class:`ConflictError` naming who saved in between instead of overwriting silently.
Services load the row with ``select_for_update()`` inside their transaction, so the
check and the write are atomic on PostgreSQL (row lock) and on SQLite (the IMMEDIATE
transaction holds the database write lock).
"""

from __future__ import annotations

from typing import Any

from salescope.core.errors import ConflictError


def check_version(obj: Any, expected_version: int | None, *, label: str | None = None) -> None:
    if expected_version is None or obj.version == expected_version:
        return
    changed_by = (
        obj.updated_by.get_full_name() or obj.updated_by.get_username()
        if getattr(obj, "updated_by", None)
        else "another user"
    )
    raise ConflictError(
        label=label or f"{obj._meta.verbose_name.capitalize()} “{obj}”",
        changed_by=changed_by,
        changed_at=getattr(obj, "updated_at", None),
        current_version=obj.version,
    )
