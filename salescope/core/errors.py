"""Errors raised by services. Views, the API and the CLI translate them for their medium.

Validation problems are Django ``ValidationError``s keyed by field name, so every write
path (forms, admin, API, import) reports the offending field by name.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

__all__ = ["ConflictError", "PermissionDenied", "ValidationError", "field_error"]


class ConflictError(Exception):
    """Optimistic version check failed: someone else saved the record first."""

    def __init__(
        self, *, label: str, changed_by: str, changed_at: dt.datetime | None, current_version: int
    ) -> None:
        when = (
            timezone.localtime(changed_at).strftime("%Y-%m-%d %H:%M %Z")
            if changed_at
            else "an unknown time"
        )
        self.changed_by = changed_by
        self.changed_at = changed_at
        self.current_version = current_version
        super().__init__(
            f"{label} was changed by {changed_by} at {when} after you opened it. "
            "Reload to see their changes, then apply yours again."
        )


def field_error(field: str, message: str, code: str = "invalid") -> ValidationError:
    return ValidationError({field: [ValidationError(message, code=code)]})
