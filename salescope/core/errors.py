"""Errors raised by services. Views, the API and the CLI translate them for their medium.

Validation problems are Django ``ValidationError``s keyed by field name, so every write
path (forms, admin, API, import) reports the offending field by name.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext, pgettext_lazy

__all__ = [
    "ConflictError",
    "PermissionDenied",
    "ValidationError",
    "field_error",
    "field_label",
]


class ConflictError(Exception):
    """Optimistic version check failed: someone else saved the record first."""

    def __init__(
        self, *, label: str, changed_by: str, changed_at: dt.datetime | None, current_version: int
    ) -> None:
        when = (
            timezone.localtime(changed_at).strftime("%Y-%m-%d %H:%M %Z")
            if changed_at
            else gettext("an unknown time")
        )
        self.changed_by = changed_by
        self.changed_at = changed_at
        self.current_version = current_version
        super().__init__(
            gettext(
                "%(label)s was changed by %(user)s at %(when)s after you opened it. "
                "Reload to see their changes, then apply yours again."
            )
            % {"label": label, "user": changed_by, "when": when}
        )


def field_error(field: str, message: str, code: str = "invalid") -> ValidationError:
    return ValidationError({field: [ValidationError(message, code=code)]})


# Technical field names as they appear at the start of service messages ("amount cannot be
# negative"). In English the name itself is shown, unchanged; translations give the label.
_FIELD_LABELS: dict[str, Promise] = {
    "account": pgettext_lazy("field name in messages", "account"),
    "accounts": pgettext_lazy("field name in messages", "accounts"),
    "activity": pgettext_lazy("field name in messages", "activity"),
    "account_type": pgettext_lazy("field name in messages", "account_type"),
    "activity_type": pgettext_lazy("field name in messages", "activity_type"),
    "agreements": pgettext_lazy("field name in messages", "agreements"),
    "amount": pgettext_lazy("field name in messages", "amount"),
    "annual_revenue": pgettext_lazy("field name in messages", "annual_revenue"),
    "body": pgettext_lazy("field name in messages", "body"),
    "city": pgettext_lazy("field name in messages", "city"),
    "closed_on": pgettext_lazy("field name in messages", "closed_on"),
    "contact": pgettext_lazy("field name in messages", "contact"),
    "contacts": pgettext_lazy("field name in messages", "contacts"),
    "country": pgettext_lazy("field name in messages", "country"),
    "currency": pgettext_lazy("field name in messages", "currency"),
    "custom": pgettext_lazy("field name in messages", "custom"),
    "department": pgettext_lazy("field name in messages", "department"),
    "description": pgettext_lazy("field name in messages", "description"),
    "discussion": pgettext_lazy("field name in messages", "discussion"),
    "domain": pgettext_lazy("field name in messages", "domain"),
    "done": pgettext_lazy("field name in messages", "done"),
    "done_at": pgettext_lazy("field name in messages", "done_at"),
    "due_on": pgettext_lazy("field name in messages", "due_on"),
    "duration_minutes": pgettext_lazy("field name in messages", "duration_minutes"),
    "email": pgettext_lazy("field name in messages", "email"),
    "employees": pgettext_lazy("field name in messages", "employees"),
    "ends_at": pgettext_lazy("field name in messages", "ends_at"),
    "expected_close": pgettext_lazy("field name in messages", "expected_close"),
    "file": pgettext_lazy("field name in messages", "file"),
    "first_name": pgettext_lazy("field name in messages", "first_name"),
    "forecast_category": pgettext_lazy("field name in messages", "forecast_category"),
    "industry": pgettext_lazy("field name in messages", "industry"),
    "job_title": pgettext_lazy("field name in messages", "job_title"),
    "keep": pgettext_lazy("field name in messages", "keep"),
    "language": pgettext_lazy("field name in messages", "language"),
    "last_name": pgettext_lazy("field name in messages", "last_name"),
    "lost_note": pgettext_lazy("field name in messages", "lost_note"),
    "lost_reason": pgettext_lazy("field name in messages", "lost_reason"),
    "merge": pgettext_lazy("field name in messages", "merge"),
    "mobile": pgettext_lazy("field name in messages", "mobile"),
    "name": pgettext_lazy("field name in messages", "name"),
    "next_step": pgettext_lazy("field name in messages", "next_step"),
    "notes": pgettext_lazy("field name in messages", "notes"),
    "opportunity": pgettext_lazy("field name in messages", "opportunity"),
    "outcome": pgettext_lazy("field name in messages", "outcome"),
    "owner": pgettext_lazy("field name in messages", "owner"),
    "owner_contact": pgettext_lazy("field name in messages", "owner_contact"),
    "parent": pgettext_lazy("field name in messages", "parent"),
    "participant_contacts": pgettext_lazy("field name in messages", "participant_contacts"),
    "participant_users": pgettext_lazy("field name in messages", "participant_users"),
    "participants": pgettext_lazy("field name in messages", "participants"),
    "phone": pgettext_lazy("field name in messages", "phone"),
    "postal_code": pgettext_lazy("field name in messages", "postal_code"),
    "probability": pgettext_lazy("field name in messages", "probability"),
    "rate": pgettext_lazy("field name in messages", "rate"),
    "region": pgettext_lazy("field name in messages", "region"),
    "roles": pgettext_lazy("field name in messages", "roles"),
    "since": pgettext_lazy("field name in messages", "since"),
    "source": pgettext_lazy("field name in messages", "source"),
    "stage": pgettext_lazy("field name in messages", "stage"),
    "starts_at": pgettext_lazy("field name in messages", "starts_at"),
    "status": pgettext_lazy("field name in messages", "status"),
    "street": pgettext_lazy("field name in messages", "street"),
    "subject": pgettext_lazy("field name in messages", "subject"),
    "tags": pgettext_lazy("field name in messages", "tags"),
    "text": pgettext_lazy("field name in messages", "text"),
    "tier": pgettext_lazy("field name in messages", "tier"),
    "title": pgettext_lazy("field name in messages", "title"),
    "type": pgettext_lazy("field name in messages", "type"),
    "until": pgettext_lazy("field name in messages", "until"),
    "website": pgettext_lazy("field name in messages", "website"),
}


def field_label(field: object) -> str:
    """The name of ``field`` for a message: the technical name in English, a label otherwise."""
    label = _FIELD_LABELS.get(str(field))
    return str(label) if label is not None else str(field)


def check_date_in_range(field: str, value: Any, *, earliest: dt.date, latest: dt.date) -> dt.date:
    """A real date (not a datetime, not text) within ``earliest``–``latest``, or a field error."""
    _ = gettext
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise field_error(
            field,
            _("%(field)s must be a date (got %(value)r).")
            % {"field": field_label(field), "value": value},
        )
    if not earliest <= value <= latest:
        raise field_error(
            field,
            _("%(field)s %(value)s is outside %(min)s–%(max)s.")
            % {
                "field": field_label(field),
                "value": value.isoformat(),
                "min": earliest.year,
                "max": latest.year,
            },
        )
    return value
