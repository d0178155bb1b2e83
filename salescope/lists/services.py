"""Writes of the lists: saved views, and bulk actions on selected rows.

Bulk actions call each record's own service (so permissions, validation and history are
the same as for one record) inside one transaction: one failing row changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from salescope.accounts import services as account_services
from salescope.accounts.models import Tag
from salescope.activities import services as activity_services
from salescope.core import clock
from salescope.core.errors import ConflictError, field_error
from salescope.lists.definitions import ADD_TAG, LISTS, REASSIGN, REMOVE_TAG
from salescope.lists.models import SavedView
from salescope.org.models import User
from salescope.pipeline import services as pipeline_services

MAX_NAME = 80
MAX_QUERY = 4000
MAX_BULK = 500
MAX_REPORTED = 5


class BulkActionError(Exception):
    """A bulk action failed for some rows; nothing was changed. ``problems`` name them."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        shown = self.problems[:MAX_REPORTED]
        more = len(self.problems) - len(shown)
        text = " ".join(shown)
        if more:
            text += " " + _("(and %(count)d more problems)") % {"count": more}
        super().__init__(_("Nothing was changed. %(problems)s") % {"problems": text})


# --- saved views -------------------------------------------------------------------------


@transaction.atomic
def save_view(
    *,
    user: User,
    list_key: str,
    name: str,
    query_string: str,
    columns: Iterable[str] = (),
    is_default: bool = False,
) -> SavedView:
    """Save the current filters and columns under ``name`` (replacing a view of that name)."""
    if list_key not in LISTS:
        raise field_error("list_key", _("Unknown list “%(key)s”.") % {"key": list_key[:30]})
    name = (name or "").replace("\x00", "").strip()
    if not name:
        raise field_error("name", _("Give the view a name."), code="required")
    if len(name) > MAX_NAME:
        raise field_error("name", _("At most %(n)d characters.") % {"n": MAX_NAME})
    query_string = (query_string or "").replace("\x00", "").lstrip("?")
    if len(query_string) > MAX_QUERY:
        raise field_error("query_string", _("These filters are too long to save."))
    cols = [str(c)[:60] for c in columns if str(c).strip()][:100]
    now = clock.now()
    if is_default:
        SavedView.objects.filter(user=user, list_key=list_key, is_default=True).exclude(
            name=name
        ).update(is_default=False, updated_at=now)
    view, created = SavedView.objects.select_for_update().get_or_create(
        user=user,
        list_key=list_key,
        name=name,
        defaults={
            "query_string": query_string,
            "columns": cols,
            "is_default": is_default,
            "created_at": now,
            "updated_at": now,
        },
    )
    if not created:
        view.query_string = query_string
        view.columns = cols
        view.is_default = is_default
        view.updated_at = now
        view.save()
    return view


@transaction.atomic
def delete_view(*, user: User, view_id: int) -> None:
    """Delete one of the user's own saved views (others' views do not exist for them)."""
    deleted, _rows = SavedView.objects.filter(user=user, pk=view_id).delete()
    if not deleted:
        raise SavedView.DoesNotExist


# --- bulk actions ------------------------------------------------------------------------


def _problem(record: Any, exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        detail = "; ".join(exc.messages)
    elif isinstance(exc, PermissionDenied):
        detail = str(exc) or _("you may not change it")
    else:
        detail = str(exc)
    return f"“{record}”: {detail}"


def _selected(list_key: str, actor: User, ids: Iterable[int]) -> tuple[list[Any], list[str]]:
    spec = LISTS[list_key]
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        raise field_error("ids", _("Select at least one row."), code="required")
    if len(wanted) > MAX_BULK:
        raise field_error("ids", _("Select at most %(n)d rows at once.") % {"n": MAX_BULK})
    qs = spec.base(actor).filter(pk__in=wanted)
    if list_key in ("accounts", "contacts"):
        qs = qs.prefetch_related("tags")
    records = list(qs.order_by("pk"))
    problems = []
    missing = len(wanted) - len(records)
    if missing:
        problems.append(
            _("%(count)d of the selected rows do not exist or are not visible to you.")
            % {"count": missing}
        )
    return records, problems


def _run(records: list[Any], problems: list[str], change: Any) -> int:
    """Apply ``change`` to every record in one transaction; any problem undoes them all."""
    changed = 0
    with transaction.atomic():
        for record in records:
            try:
                if change(record):
                    changed += 1
            except (PermissionDenied, ValidationError, ConflictError) as exc:
                problems.append(_problem(record, exc))
        if problems:
            raise BulkActionError(problems)
    return changed


def bulk_reassign(*, list_key: str, actor: User, ids: Iterable[int], owner: Any) -> int:
    """Give the selected records to ``owner``; returns how many changed hands."""
    if list_key not in LISTS or REASSIGN not in LISTS[list_key].bulk_actions:
        raise field_error("action", _("This list cannot be reassigned."))
    if not isinstance(owner, User):
        raise field_error("owner", _("Choose the new owner."), code="required")
    records, problems = _selected(list_key, actor, ids)

    def change(record: Any) -> bool:
        if record.owner_id == owner.pk:
            return False
        if list_key == "deals":
            pipeline_services.reassign(opportunity=record, owner=owner, actor=actor)
        elif list_key == "accounts":
            account_services.update_account(account=record, actor=actor, owner=owner)
        elif list_key == "contacts":
            account_services.update_contact(contact=record, actor=actor, owner=owner)
        else:
            activity_services.update_activity(activity=record, actor=actor, owner=owner)
        return True

    return _run(records, problems, change)


def bulk_tag(
    *, list_key: str, actor: User, ids: Iterable[int], tag: Any, action: str = ADD_TAG
) -> int:
    """Add ``tag`` to (or remove it from) the selected accounts or contacts."""
    if list_key not in ("accounts", "contacts"):
        raise field_error("action", _("Only accounts and contacts have tags."))
    if action not in (ADD_TAG, REMOVE_TAG):
        raise field_error("action", _("Unknown action."))
    if not isinstance(tag, Tag):
        raise field_error("tag", _("Choose a tag."), code="required")
    records, problems = _selected(list_key, actor, ids)

    def change(record: Any) -> bool:
        current = list(record.tags.all())
        has = any(t.pk == tag.pk for t in current)
        if action == ADD_TAG and not has:
            tags = [*current, tag]
        elif action == REMOVE_TAG and has:
            tags = [t for t in current if t.pk != tag.pk]
        else:
            return False
        if list_key == "accounts":
            account_services.set_account_tags(account=record, tags=tags, actor=actor)
        else:
            account_services.set_contact_tags(contact=record, tags=tags, actor=actor)
        return True

    return _run(records, problems, change)
