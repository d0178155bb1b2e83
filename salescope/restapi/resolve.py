"""Turn ids of a request into records, or a field error naming the id (422).

Records a user may not see are reported exactly like missing ones, so the API never
reveals that they exist.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.utils.translation import gettext as _

from salescope.core.errors import field_error, field_label
from salescope.org.models import Role, User


def one(field: str, source: type[Model] | QuerySet[Any], pk: int | None) -> Any:
    """The record ``pk`` of ``source`` (a model or a visibility-scoped queryset); None → None."""
    if pk is None:
        return None
    qs = source if isinstance(source, QuerySet) else source._default_manager.all()
    record = qs.filter(pk=pk).first()
    if record is None:
        raise field_error(
            field,
            _("%(field)s: there is no record with id %(id)s.")
            % {"field": field_label(field), "id": pk},
            "does_not_exist",
        )
    return record


def many(field: str, source: type[Model] | QuerySet[Any], pks: Iterable[int] | None) -> list[Any]:
    """The records of ``pks`` (each must exist), in the order given, without duplicates."""
    if pks is None:
        return []
    wanted = list(dict.fromkeys(pks))
    qs = source if isinstance(source, QuerySet) else source._default_manager.all()
    found = {r.pk: r for r in qs.filter(pk__in=wanted)}
    missing = [str(pk) for pk in wanted if pk not in found]
    if missing:
        raise field_error(
            field,
            _("%(field)s: there are no records with ids %(ids)s.")
            % {"field": field_label(field), "ids": ", ".join(missing[:20])},
            "does_not_exist",
        )
    return [found[pk] for pk in wanted]


def require_writer(user: User) -> None:
    """Read-only users change nothing: every write of the API answers them 403 up front."""
    if user.role == Role.READ_ONLY and not user.is_superuser:
        raise PermissionDenied(_("Read-only users cannot change anything."))
