"""Cross-domain writes: the ids a record has in other systems (imports, ERP sync, old CRMs).

A record has at most one id per system; an id of a system belongs to one record of a model.
Systems are stored in lowercase (``Salesforce`` and ``salesforce`` are the same system).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils.translation import gettext as _

from salescope.core.models import ExternalId

FIELD = "external_ids"
MAX_SYSTEM = 40
MAX_VALUE = 200
_SYSTEM_RE = re.compile(r"^[a-z0-9][a-z0-9_.\-]*$")


def clean_system(system: Any) -> str:
    """The canonical name of a system; raises ValueError with a user message."""
    if not isinstance(system, str) or not system.strip():
        raise ValueError(_("external_ids: the system name cannot be empty."))
    name = system.strip().lower()
    if len(name) > MAX_SYSTEM:
        raise ValueError(
            _("external_ids: system %(name)s is longer than %(max)s characters.")
            % {"name": repr(name), "max": MAX_SYSTEM}
        )
    if not _SYSTEM_RE.match(name):
        raise ValueError(
            _("external_ids: system %(name)s may only use letters, digits, '.', '_' and '-'.")
            % {"name": repr(system)}
        )
    return name


def clean_external_value(system: str, value: Any) -> str:
    """The external id as stored (stripped text, numbers accepted); "" means remove."""
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError(
            _("external_ids: the %(system)s id must be text (got %(value)s).")
            % {"system": system, "value": repr(value)}
        )
    text = str(value).strip()
    if "\x00" in text:
        raise ValueError(
            _("external_ids: the %(system)s id contains a NUL character.") % {"system": system}
        )
    if len(text) > MAX_VALUE:
        raise ValueError(
            _("external_ids: the %(system)s id is longer than %(max)s characters.")
            % {"system": system, "max": MAX_VALUE}
        )
    return text


def clean_external_ids(
    model: type[models.Model], ids: Mapping[str, Any] | None, *, record_pk: int | None = None
) -> dict[str, str]:
    """Validate ``ids`` for a record of ``model`` (``record_pk`` None: a new record).

    Returns ``{system: value}`` (value "" means: remove the id of that system). Raises a
    ``ValidationError`` keyed ``external_ids`` naming every problem, including ids that
    already belong to another record.
    """
    if ids is None:
        return {}
    if not isinstance(ids, Mapping):
        raise ValidationError(
            {FIELD: "external_ids must be a mapping of system to id, e.g. {'erp': '4711'}."}
        )
    errors: list[str] = []
    cleaned: dict[str, str] = {}
    for system, value in ids.items():
        try:
            name = clean_system(system)
            if name in cleaned:
                raise ValueError(
                    _("external_ids: system %(name)s is given twice.") % {"name": repr(name)}
                )
            cleaned[name] = clean_external_value(name, value)
        except ValueError as exc:
            errors.append(str(exc))
    if not errors and cleaned:
        content_type = ContentType.objects.get_for_model(model)
        query = models.Q()
        for system, value in cleaned.items():
            if value:
                query |= models.Q(system=system, value=value)
        if query:
            taken = ExternalId.objects.filter(query, content_type=content_type)
            if record_pk is not None:
                taken = taken.exclude(object_id=record_pk)
            for ext in taken.order_by("system", "value"):
                errors.append(
                    _(
                        "external_ids: %(system)s id %(value)s already belongs to another "
                        "%(model)s (#%(id)s)."
                    )
                    % {
                        "system": ext.system,
                        "value": repr(ext.value),
                        "model": model._meta.verbose_name,
                        "id": ext.object_id,
                    }
                )
    if errors:
        raise ValidationError({FIELD: errors})
    return cleaned


@transaction.atomic
def set_external_ids(*, record: models.Model, ids: Mapping[str, Any]) -> dict[str, str]:
    """Set (or, with an empty value, remove) ``record``'s id per system; other systems stay.

    Returns all the record's external ids after the change.
    """
    if record.pk is None:
        raise ValueError("Save the record before giving it external ids.")
    cleaned = clean_external_ids(type(record), ids, record_pk=record.pk)
    content_type = ContentType.objects.get_for_model(type(record))
    mine = ExternalId.objects.filter(content_type=content_type, object_id=record.pk)
    for system, value in cleaned.items():
        current = mine.filter(system=system)
        if not value:
            current.delete()
            continue
        if current.filter(value=value).exists():
            continue
        current.delete()
        ExternalId.objects.create(
            content_type=content_type, object_id=record.pk, system=system, value=value
        )
    return external_ids_of(record)


def external_ids_of(record: models.Model) -> dict[str, str]:
    """``{system: id}`` of ``record``."""
    content_type = ContentType.objects.get_for_model(type(record))
    rows = ExternalId.objects.filter(content_type=content_type, object_id=record.pk)
    return dict(rows.order_by("system").values_list("system", "value"))


def find_by_external_id(model: type[models.Model], system: str, value: Any) -> Any:
    """The record of ``model`` whose id in ``system`` is ``value``, or None."""
    try:
        name = clean_system(system)
        text = clean_external_value(name, value)
    except ValueError:
        return None
    if not text:
        return None
    content_type = ContentType.objects.get_for_model(model)
    object_id = (
        ExternalId.objects.filter(content_type=content_type, system=name, value=text)
        .values_list("object_id", flat=True)
        .first()
    )
    if object_id is None:
        return None
    return model._default_manager.filter(pk=object_id).first()
