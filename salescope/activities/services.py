"""Every write to activities, meeting minutes, comments and attachments (A1-A4, D5).

Each use case is one transaction with keyword-only arguments; input is checked completely
before anything is written and every bad value is reported in a ``ValidationError`` keyed by
field name. Changes to an activity take the version the caller loaded (``expected_version``)
and raise ``ConflictError`` when someone saved in between. ``actor=None`` means the system
(automation, imports) and skips the permission checks.

Assigning an action to someone else (A2): admins assign to anyone, managers to the members
of the teams they manage, reps and marketing to colleagues of their own team. The person
who assigned it is kept in ``assigned_by`` (and may change the activity afterwards).
"""

from __future__ import annotations

import datetime as dt
import mimetypes
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import django.dispatch
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.text import get_valid_filename
from django.utils.translation import gettext, gettext_lazy, pgettext_lazy
from django.utils.translation import gettext as _

from salescope.accounts.models import Account, Contact
from salescope.accounts.services import (
    FieldErrors,
    check_date,
    check_owner,
    check_text,
    check_users,
)
from salescope.activities.models import Activity, ActivityType, Agreement, Attachment, Comment
from salescope.activities.selectors import Recipient, minutes_recipients
from salescope.core import clock
from salescope.core.concurrency import check_version
from salescope.core.errors import PermissionDenied, field_error, field_label
from salescope.org.models import Role, User
from salescope.pipeline.models import Opportunity
from salescope.visibility import (
    can_view,
    owner_ids,
    require_change,
    require_writer,
    visible_contacts,
)

MAX_SUBJECT = 200
MAX_OUTCOME = 300
MAX_AGREEMENT = 300
MAX_LONG_TEXT = 50_000
MAX_COMMENT = 10_000
MAX_DURATION = 7 * 24 * 60  # minutes: one week
MAX_FILENAME = 255
MIN_MOMENT = dt.datetime(1990, 1, 1, tzinfo=dt.UTC)
MAX_MOMENT = dt.datetime(2101, 1, 1, tzinfo=dt.UTC)

#: Sent after commit with ``activity`` and ``actor`` when an activity becomes done: by
#: :func:`complete_activity`, or by :func:`create_activity` logging one as already done.
activity_completed = django.dispatch.Signal()

ACTIVITY_FIELDS = frozenset(
    {
        "activity_type", "subject", "description", "owner", "account", "opportunity",
        "contacts", "due_on", "starts_at", "ends_at", "duration_minutes", "outcome",
    }
)  # fmt: skip
_SCHEDULE = ("due_on", "starts_at", "ends_at")
_UNSET: Any = object()


# --- checks --------------------------------------------------------------------------------


def check_activity_type(value: Any, *, current_id: int | None = None) -> ActivityType:
    field = "activity_type"
    if not isinstance(value, ActivityType) or value.pk is None:
        raise field_error(
            field,
            _("%(field)s must be a saved activity type (got %(value)r).")
            % {"field": field_label(field), "value": value},
        )
    active = ActivityType.objects.filter(pk=value.pk).values_list("active", flat=True).first()
    if active is None:
        raise field_error(
            field,
            _("%(field)s: activity type “%(value)s” no longer exists.")
            % {"field": field_label(field), "value": value},
        )
    if not active and value.pk != current_id:
        raise field_error(
            field,
            _("%(field)s: activity type “%(value)s” is no longer in use.")
            % {"field": field_label(field), "value": value},
        )
    return value


def check_moment(value: Any, field: str) -> dt.datetime | None:
    if value is None:
        return None
    if not isinstance(value, dt.datetime):
        raise field_error(
            field,
            _("%(field)s must be a date and time (got %(value)r).")
            % {"field": field_label(field), "value": value},
        )
    if timezone.is_naive(value):
        raise field_error(
            field,
            _("%(field)s must include a time zone (got %(value)s).")
            % {"field": field_label(field), "value": value.isoformat()},
        )
    if not MIN_MOMENT <= value < MAX_MOMENT:
        raise field_error(
            field,
            _("%(field)s %(value)s is outside %(min)s–%(max)s.")
            % {"field": field_label(field), "value": value.isoformat(), "min": 1990, "max": 2100},
        )
    return value


def check_duration(value: Any, field: str = "duration_minutes") -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise field_error(
            field,
            _("%(field)s must be a whole number of minutes (got %(value)r).")
            % {"field": field_label(field), "value": value},
        )
    if not 0 <= value <= MAX_DURATION:
        raise field_error(
            field,
            _("%(field)s must be between 0 and %(max)s (one week), got %(value)s.")
            % {"field": field_label(field), "max": MAX_DURATION, "value": value},
        )
    return value


def check_assignee(actor: User | None, owner: Any, *, current_id: int | None = None) -> User:
    """Who ``actor`` may give an activity to (see the module docstring)."""
    owner = check_owner(owner, current_id=current_id)
    if actor is None or owner.pk in (actor.pk, current_id):
        return owner
    if actor.is_superuser or actor.role == Role.ADMIN:
        return owner
    if actor.role == Role.MANAGER:
        if owner_ids(actor).filter(pk=owner.pk).exists():
            return owner
        raise field_error(
            "owner",
            _("%(field)s: you can assign activities to your team, not to %(user)s.")
            % {"field": field_label("owner"), "user": owner},
        )
    team_id = User.objects.filter(pk=owner.pk).values_list("team_id", flat=True).first()
    if actor.team_id is not None and team_id == actor.team_id:
        return owner
    raise field_error(
        "owner",
        _("%(field)s: you can assign activities to colleagues of your team, not to %(user)s.")
        % {"field": field_label("owner"), "user": owner},
    )


def _check_visible_record(field: str, value: Any, model: type[Any], actor: User | None) -> Any:
    if value is None:
        return None
    name = model._meta.verbose_name
    if not isinstance(value, model) or value.pk is None:
        raise field_error(
            field,
            _("%(field)s must be a saved %(name)s (got %(value)r).")
            % {"field": field_label(field), "name": name, "value": value},
        )
    if not model._default_manager.filter(pk=value.pk).exists():
        raise field_error(
            field,
            _("%(field)s: %(name)s “%(value)s” no longer exists.")
            % {"field": field_label(field), "name": name, "value": value},
        )
    if actor is not None and not can_view(actor, value):
        raise field_error(
            field,
            _("%(field)s: you cannot see %(name)s “%(value)s”.")
            % {"field": field_label(field), "name": name, "value": value},
        )
    return value


def check_contacts(values: Any, actor: User | None, field: str = "contacts") -> list[Contact]:
    if values is None:
        return []
    if isinstance(values, Contact):
        values = [values]
    if isinstance(values, str | bytes | Mapping) or not isinstance(values, Iterable):
        raise field_error(
            field,
            _("%(field)s must be a list of contacts (got %(value)r).")
            % {"field": field_label(field), "value": values},
        )
    items = list(values)
    bad = [c for c in items if not isinstance(c, Contact) or c.pk is None]
    if bad:
        raise field_error(
            field,
            _("%(field)s: %(values)s are not saved contacts.")
            % {"field": field_label(field), "values": ", ".join(map(repr, bad))},
        )
    ids = {c.pk for c in items}
    found = Contact.objects.filter(pk__in=ids)
    if actor is not None:
        found = visible_contacts(actor, found)
    known = set(found.values_list("pk", flat=True))
    unknown = [c for c in items if c.pk not in known]
    if unknown:
        raise field_error(
            field,
            _("%(field)s: %(values)s do not exist or are not visible to you.")
            % {"field": field_label(field), "values": ", ".join(map(str, unknown))},
        )
    return list({c.pk: c for c in items}.values())


def _clean(
    data: Mapping[str, Any], *, actor: User | None, current: Activity | None, errors: FieldErrors
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for field, value in data.items():
        if field == "activity_type":
            current_id = current.activity_type_id if current else None
            out[field] = errors.check(field, check_activity_type, value, current_id=current_id)
        elif field == "subject":
            out[field] = errors.check(field, check_text, field, value, MAX_SUBJECT, required=True)
        elif field == "description":
            out[field] = errors.check(field, check_text, field, value, MAX_LONG_TEXT)
        elif field == "outcome":
            out[field] = errors.check(field, check_text, field, value, MAX_OUTCOME)
        elif field == "owner":
            current_id = current.owner_id if current else None
            out[field] = errors.check(field, check_assignee, actor, value, current_id=current_id)
        elif field == "account":
            unchanged = current is not None and getattr(value, "pk", None) == current.account_id
            who = None if unchanged else actor
            out[field] = errors.check(field, _check_visible_record, field, value, Account, who)
        elif field == "opportunity":
            unchanged = current is not None and getattr(value, "pk", None) == current.opportunity_id
            who = None if unchanged else actor
            out[field] = errors.check(field, _check_visible_record, field, value, Opportunity, who)
        elif field == "contacts":
            out[field] = errors.check(field, check_contacts, value, actor)
        elif field == "due_on":
            out[field] = errors.check(field, check_date, value, field)
        elif field in ("starts_at", "ends_at"):
            out[field] = errors.check(field, check_moment, value, field)
        elif field == "duration_minutes":
            out[field] = errors.check(field, check_duration, value)
    return out


def _check_consistency(state: Mapping[str, Any], errors: FieldErrors) -> None:
    """Rules across fields, on the activity as it would be saved."""
    opp, account = state.get("opportunity"), state.get("account")
    if opp is not None and account is not None and opp.account_id not in (None, account.pk):
        errors.add(
            "account",
            _(
                "%(field)s: opportunity “%(opportunity)s” belongs to another account "
                "than “%(account)s”."
            )
            % {"field": field_label("account"), "opportunity": opp, "account": account},
        )
    starts, ends = state.get("starts_at"), state.get("ends_at")
    if ends is not None and starts is None:
        errors.add(
            "ends_at",
            _("%(ends)s needs %(starts)s: give the start as well.")
            % {"ends": field_label("ends_at"), "starts": field_label("starts_at")},
        )
    elif starts is not None and ends is not None and ends < starts:
        errors.add(
            "ends_at",
            _("%(ends)s %(end)s is before %(starts)s %(start)s.")
            % {
                "ends": field_label("ends_at"),
                "end": ends.isoformat(),
                "starts": field_label("starts_at"),
                "start": starts.isoformat(),
            },
        )


def _span_minutes(starts: dt.datetime | None, ends: dt.datetime | None) -> int | None:
    if starts is None or ends is None or ends < starts:
        return None
    minutes = round((ends - starts).total_seconds() / 60)
    return minutes if minutes <= MAX_DURATION else None


def _lock(activity: Activity) -> Activity:
    return (
        Activity.objects.select_for_update(of=("self",))
        .select_related("updated_by", "activity_type", "account", "opportunity")
        .get(pk=activity.pk)
    )


def _load_for_change(
    activity: Activity, actor: User | None, expected_version: int | None, what: str | Promise
) -> Activity:
    act = _lock(activity)
    if actor is not None:
        require_writer(actor, what)
        require_change(actor, act)
    check_version(act, expected_version)
    return act


def _save(act: Activity, actor: User | None) -> Activity:
    act.version += 1
    act.updated_at = clock.now()
    act.updated_by = actor
    act.save()
    return act


def _check_done_at(value: Any, field: str = "done_at") -> dt.datetime:
    moment = check_moment(value, field)
    if moment is None:
        return clock.now()
    if moment > clock.now():
        raise field_error(
            field,
            _("%(field)s %(value)s is in the future.")
            % {"field": field_label(field), "value": moment.isoformat()},
        )
    return moment


# --- activities ----------------------------------------------------------------------------


def _announce_done(act: Activity, actor: User | None) -> None:
    transaction.on_commit(
        lambda: activity_completed.send(sender=Activity, activity=act, actor=actor)
    )


@transaction.atomic
def create_activity(
    *,
    actor: User | None,
    activity_type: ActivityType,
    subject: str,
    owner: User | None = None,
    account: Account | None = None,
    opportunity: Opportunity | None = None,
    contacts: Iterable[Contact] = (),
    due_on: dt.date | None = None,
    starts_at: dt.datetime | None = None,
    ends_at: dt.datetime | None = None,
    duration_minutes: int | None = None,
    description: str = "",
    done: bool = False,
    done_at: dt.datetime | None = None,
    outcome: str = "",
) -> Activity:
    """Plan or log an activity (A1-A4); give it to ``owner`` (default: the actor).

    The account defaults to the opportunity's. ``done=True`` (or a ``done_at``) logs it as
    done; its time spent defaults to the planned span when both times are given.
    """
    require_writer(actor, gettext_lazy("create activities"))
    errors = FieldErrors()
    data = {
        "activity_type": activity_type, "subject": subject, "owner": owner or actor,
        "account": account, "opportunity": opportunity, "contacts": contacts,
        "due_on": due_on, "starts_at": starts_at, "ends_at": ends_at,
        "duration_minutes": duration_minutes, "description": description, "outcome": outcome,
    }  # fmt: skip
    values = _clean(data, actor=actor, current=None, errors=errors)
    if not isinstance(done, bool):
        errors.add(
            "done",
            _("%(field)s must be true or false (got %(value)r).")
            % {"field": field_label("done"), "value": done},
        )
    finished = None
    if done is True or done_at is not None:
        finished = errors.check("done_at", _check_done_at, done_at)
    opp = values.get("opportunity")
    if values.get("account") is None and opp is not None and opp.account_id is not None:
        values["account"] = opp.account
    _check_consistency(values, errors)
    errors.raise_if_any()

    now = clock.now()
    owner_user = values["owner"]
    act = Activity(created_at=now, updated_at=now, created_by=actor, updated_by=actor)
    for field, value in values.items():
        if field != "contacts":
            setattr(act, field, value)
    act.assigned_by = actor if actor is not None and owner_user.pk != actor.pk else None
    if finished is not None:
        act.done_at = finished
        if act.duration_minutes is None:
            act.duration_minutes = _span_minutes(act.starts_at, act.ends_at)
    act.save()
    if values["contacts"]:
        act.contacts.set(values["contacts"])
    if finished is not None:
        _announce_done(act, actor)
    return act


@transaction.atomic
def update_activity(
    *, activity: Activity, actor: User | None, expected_version: int | None = None, **changes: Any
) -> Activity:
    """Change the given fields of an activity; unknown fields are refused by name.

    Giving the activity to someone else records the actor in ``assigned_by``. Changing the
    opportunity without an account moves the activity to the opportunity's account.
    """
    unknown = sorted(set(changes) - ACTIVITY_FIELDS)
    if unknown:
        raise ValidationError(
            {
                k: _("%(field)s is not a field of %(what)s that can be changed here.")
                % {"field": field_label(k), "what": _("an activity")}
                for k in unknown
            }
        )
    act = _load_for_change(activity, actor, expected_version, gettext_lazy("change activities"))
    errors = FieldErrors()
    values = _clean(changes, actor=actor, current=act, errors=errors)
    opp = values.get("opportunity")
    if "account" not in values and opp is not None and opp.account_id is not None:
        values["account"] = opp.account
    state = {
        "opportunity": act.opportunity, "account": act.account,
        "starts_at": act.starts_at, "ends_at": act.ends_at,
    }  # fmt: skip
    state.update({k: v for k, v in values.items() if k in state})
    _check_consistency(state, errors)
    errors.raise_if_any()
    return _apply_values(act, values, actor)


def _apply_values(act: Activity, values: Mapping[str, Any], actor: User | None) -> Activity:
    changed = False
    for field, value in values.items():
        if field == "contacts":
            new_ids = {c.pk for c in value}
            if new_ids != set(act.contacts.values_list("pk", flat=True)):
                act.contacts.set(value)
                changed = True
            continue
        is_fk = field in ("activity_type", "owner", "account", "opportunity")
        current = getattr(act, f"{field}_id" if is_fk else field)
        new = value.pk if is_fk and value is not None else value
        if current != new:
            setattr(act, field, value)
            changed = True
            if field == "owner" and actor is not None:
                act.assigned_by = actor if value.pk != actor.pk else None
    if changed:
        _save(act, actor)
    return act


@transaction.atomic
def reschedule_activity(
    *,
    activity: Activity,
    actor: User | None,
    due_on: Any = _UNSET,
    starts_at: Any = _UNSET,
    ends_at: Any = _UNSET,
    expected_version: int | None = None,
) -> Activity:
    """Move an open activity (A2 drag and drop). Only the given values change; None clears.

    Moving the start without giving the end keeps the planned length.
    """
    act = _load_for_change(activity, actor, expected_version, gettext_lazy("reschedule activities"))
    if act.done_at is not None:
        raise field_error(
            "done_at",
            _("%(field)s: the activity is done; reopen it to reschedule it.")
            % {"field": field_label("done_at")},
        )
    given = {
        k: v
        for k, v in (("due_on", due_on), ("starts_at", starts_at), ("ends_at", ends_at))
        if v is not _UNSET
    }
    errors = FieldErrors()
    values = _clean(given, actor=actor, current=act, errors=errors)
    if "starts_at" in values and "ends_at" not in values and not errors:
        new_start = values["starts_at"]
        if new_start is None:
            values["ends_at"] = None
        elif act.starts_at is not None and act.ends_at is not None:
            values["ends_at"] = new_start + (act.ends_at - act.starts_at)
    state = {"starts_at": act.starts_at, "ends_at": act.ends_at}
    state.update({k: v for k, v in values.items() if k in state})
    _check_consistency(state, errors)
    errors.raise_if_any()
    return _apply_values(act, values, actor)


@transaction.atomic
def complete_activity(
    *,
    activity: Activity,
    actor: User | None,
    done_at: dt.datetime | None = None,
    duration_minutes: int | None = None,
    outcome: str = "",
    expected_version: int | None = None,
) -> Activity:
    """Mark an activity done (now, or at ``done_at`` in the past) with its time spent (A4).

    Without ``duration_minutes`` the time spent stays as recorded, or is the planned span.
    """
    act = _load_for_change(activity, actor, expected_version, gettext_lazy("complete activities"))
    errors = FieldErrors()
    if act.done_at is not None:
        errors.add(
            "done_at",
            _("%(field)s: the activity was already done at %(value)s.")
            % {"field": field_label("done_at"), "value": f"{act.done_at:%Y-%m-%d}"},
        )
    finished = errors.check("done_at", _check_done_at, done_at)
    duration = errors.check("duration_minutes", check_duration, duration_minutes)
    text = errors.check("outcome", check_text, "outcome", outcome, MAX_OUTCOME)
    errors.raise_if_any()
    act.done_at = finished
    if duration is not None:
        act.duration_minutes = duration
    elif act.duration_minutes is None:
        act.duration_minutes = _span_minutes(act.starts_at, act.ends_at)
    if text:
        act.outcome = text
    act = _save(act, actor)
    _announce_done(act, actor)
    return act


@transaction.atomic
def reopen_activity(
    *, activity: Activity, actor: User | None, expected_version: int | None = None
) -> Activity:
    """Mark a done activity as not done again (its time spent and outcome stay)."""
    act = _load_for_change(activity, actor, expected_version, gettext_lazy("reopen activities"))
    if act.done_at is None:
        raise field_error(
            "done_at", _("%(field)s: the activity is not done.") % {"field": field_label("done_at")}
        )
    act.done_at = None
    return _save(act, actor)


def _clean_agreement(index: int, item: Any, actor: User | None) -> dict[str, Any]:
    where = _("%(field)s: item %(index)s") % {"field": field_label("agreements"), "index": index}
    if not isinstance(item, Mapping):
        raise ValueError(
            _("%(where)s must be a mapping with text, owner or owner_contact, due_on.")
            % {"where": where}
        )
    unknown = sorted(set(item) - {"text", "owner", "owner_contact", "due_on", "done"})
    if unknown:
        raise ValueError(
            _("%(where)s: unknown keys %(keys)s.") % {"where": where, "keys": ", ".join(unknown)}
        )
    text = item.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ValueError(_("%(where)s: text cannot be empty.") % {"where": where})
    if "\x00" in text:
        raise ValueError(
            _("%(where)s: text contains a NUL character, which cannot be stored.")
            % {"where": where}
        )
    if len(text.strip()) > MAX_AGREEMENT:
        raise ValueError(
            _("%(where)s: text is longer than %(max)s characters.")
            % {"where": where, "max": MAX_AGREEMENT}
        )
    owner, owner_contact = item.get("owner"), item.get("owner_contact")
    if (owner is None) == (owner_contact is None):
        raise ValueError(
            _("%(where)s: give who is responsible: either owner (a user) or owner_contact.")
            % {"where": where}
        )
    try:
        if owner is not None:
            check_owner(owner)
        if owner_contact is not None:
            check_contacts([owner_contact], actor, field="owner_contact")
        due = check_date(item.get("due_on"), "due_on")
    except ValidationError as exc:
        raise ValueError(f"{where}: {'; '.join(exc.messages)}") from None
    done = item.get("done", False)
    if not isinstance(done, bool):
        raise ValueError(_("%(where)s: done must be true or false.") % {"where": where})
    return {
        "text": text.strip(), "owner": owner, "owner_contact": owner_contact,
        "due_on": due, "done": done,
    }  # fmt: skip


@transaction.atomic
def record_minutes(
    *,
    activity: Activity,
    actor: User | None,
    discussion: str,
    participant_users: Iterable[User] | None = None,
    participant_contacts: Iterable[Contact] | None = None,
    agreements: Iterable[Mapping[str, Any]] | None = None,
    expected_version: int | None = None,
) -> Activity:
    """Write the minutes of a meeting (A3): what was discussed, who took part, what was agreed.

    Only for activity types with minutes (``is_meeting``). ``participant_users`` and
    ``participant_contacts`` (the activity's contacts) replace the current ones when given;
    ``agreements`` (dicts with text, owner or owner_contact, due_on) replace the agreements.
    """
    act = _load_for_change(activity, actor, expected_version, gettext_lazy("record minutes"))
    if not act.activity_type.is_meeting:
        raise field_error(
            "activity_type",
            _("%(field)s: a %(type)s has no minutes; only meetings, visits and demos do.")
            % {"field": field_label("activity_type"), "type": act.activity_type},
        )
    errors = FieldErrors()
    text = errors.check("discussion", check_text, "discussion", discussion, MAX_LONG_TEXT)
    users = None
    if participant_users is not None:
        users = errors.check("participant_users", check_users, participant_users,
                             field="participant_users")  # fmt: skip
    contacts = None
    if participant_contacts is not None:
        contacts = errors.check("participant_contacts", check_contacts, participant_contacts,
                                actor, "participant_contacts")  # fmt: skip
    items: list[dict[str, Any]] | None = None
    if agreements is not None:
        if isinstance(agreements, str | bytes | Mapping) or not isinstance(agreements, Iterable):
            errors.add(
                "agreements",
                _("%(field)s must be a list of agreements.") % {"field": field_label("agreements")},
            )
        else:
            items = []
            for index, item in enumerate(agreements, start=1):
                try:
                    items.append(_clean_agreement(index, item, actor))
                except ValueError as exc:
                    errors.add("agreements", str(exc))
    has_agreements = bool(items) or (items is None and act.agreements.exists())
    if text == "" and not has_agreements:
        errors.add(
            "discussion",
            _("%(field)s: write what was discussed or what was agreed.")
            % {"field": field_label("discussion")},
        )
    errors.raise_if_any()

    act.discussion = text or ""
    if users is not None:
        act.participant_users.set(users)
    if contacts is not None:
        act.contacts.set(contacts)
    if items is not None:
        act.agreements.all().delete()
        Agreement.objects.bulk_create(Agreement(activity=act, **item) for item in items)
    return _save(act, actor)


@transaction.atomic
def reschedule_to_day(
    *,
    activity: Activity,
    actor: User | None,
    day: Any,
    time: dt.time | None = None,
    expected_version: int | None = None,
) -> Activity:
    """Move an open activity to another day (the agenda's drag and drop).

    A timed activity keeps its time of day (or takes ``time``) and its length; one with only
    a due date gets ``day`` as due date, and becomes timed when a ``time`` is given.
    """
    day = check_date(day, "due_on")
    if day is None:
        raise field_error(
            "due_on",
            _("%(field)s: give the day to move the activity to.")
            % {"field": field_label("due_on")},
            "required",
        )
    if time is not None and not isinstance(time, dt.time):
        raise field_error(
            "starts_at",
            _("%(field)s: %(value)r is not a time of day.")
            % {"field": field_label("starts_at"), "value": time},
        )
    current = Activity.objects.filter(pk=activity.pk).values("starts_at", "due_on").first()
    if current is None:
        raise field_error(
            "activity", _("%(field)s: it no longer exists.") % {"field": field_label("activity")}
        )
    changes: dict[str, Any] = {}
    if current["starts_at"] is not None or time is not None:
        clock_time = time or timezone.localtime(current["starts_at"]).time()
        changes["starts_at"] = timezone.make_aware(dt.datetime.combine(day, clock_time))
        if current["due_on"] is not None:
            changes["due_on"] = day
    else:
        changes["due_on"] = day
    return reschedule_activity(
        activity=activity, actor=actor, expected_version=expected_version, **changes
    )


# --- sending the minutes (A3) ---------------------------------------------------------------


@dataclass(frozen=True)
class SentMinutes:
    """What ``send_minutes`` did: to whom, and who was left out for want of an address."""

    recipients: list[Recipient]
    without_email: list[str]
    messages: int


def _language_of(recipient: Recipient, fallback: str) -> str:
    known = {code for code, _name in settings.LANGUAGES}
    code = recipient.language.lower().replace("_", "-").split("-")[0]
    return code if code in known else fallback


def _fallback_language() -> str:
    from salescope.org.selectors import company_settings

    known = {code for code, _name in settings.LANGUAGES}
    code = (company_settings().locale or "").lower().replace("_", "-").split("-")[0]
    if code in known:
        return code
    return str(settings.LANGUAGE_CODE).split("-")[0]


@transaction.atomic
def send_minutes(*, activity: Activity, actor: User) -> SentMinutes:
    """E-mail the minutes of a meeting to its participants (A3) and record that it was sent.

    Recipients are the internal participants and the customer contacts with an e-mail
    address (each once); people without one are reported in ``without_email``. Each recipient
    gets the minutes in their language when it is known (the company's otherwise), as text
    and HTML. ``minutes_sent_at`` is set and a comment "Minutes sent to …" goes on the deal's
    (or account's) timeline. Nothing is sent or recorded when there are no minutes or no
    recipient.
    """
    author = _require_author(actor, gettext_lazy("send minutes"))
    act = _load_for_change(activity, author, None, gettext_lazy("send minutes"))
    agreements = list(act.agreements.select_related("owner", "owner_contact"))
    if not act.activity_type.is_meeting or (not act.discussion.strip() and not agreements):
        raise field_error(
            "discussion",
            gettext("There are no minutes to send yet: write what was discussed or agreed."),
            "no_minutes",
        )
    recipients, without_email = minutes_recipients(act)
    if not recipients:
        refusal = gettext("Nobody to send the minutes to: add participants with an e-mail address.")
        if without_email:
            refusal += " " + gettext("No e-mail address: %(names)s.") % {
                "names": ", ".join(without_email)
            }
        raise field_error("participants", refusal, "no_recipients")

    fallback = _fallback_language()
    by_language: dict[str, list[Recipient]] = {}
    for recipient in recipients:
        by_language.setdefault(_language_of(recipient, fallback), []).append(recipient)
    context = {
        "activity": act,
        "agreements": agreements,
        "participant_users": list(act.participant_users.all()),
        "contacts": list(act.contacts.all()),
        "sender": author,
    }
    messages: list[EmailMultiAlternatives] = []
    for language, group in sorted(by_language.items()):
        with translation.override(language):
            subject = " ".join(render_to_string("email/minutes_subject.txt", context).split())
            text = render_to_string("email/minutes.txt", context)
            html = render_to_string("email/minutes.html", context)
        message = EmailMultiAlternatives(
            subject=subject,
            body=text,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[f"{r.name} <{r.email}>" if r.name else r.email for r in group],
            reply_to=[author.email] if author.email else None,
        )
        message.attach_alternative(html, "text/html")
        messages.append(message)

    act.minutes_sent_at = clock.now()
    _save(act, author)
    target: Any = act.opportunity or act.account
    if target is not None and can_view(author, target):
        names = ", ".join(r.name or r.email for r in recipients)
        body = gettext("Minutes of “%(subject)s” sent to %(names)s.") % {
            "subject": act.subject,
            "names": names,
        }
        add_comment(
            actor=author,
            body=body[:MAX_COMMENT],
            opportunity=act.opportunity,
            account=None if act.opportunity else act.account,
        )
    for message in messages:
        message.send(fail_silently=False)
    return SentMinutes(recipients=recipients, without_email=without_email, messages=len(messages))


# --- comments and attachments (D5) ----------------------------------------------------------


def _one_target(
    actor: User | None, account: Account | None, opportunity: Opportunity | None
) -> tuple[Account | None, Opportunity | None]:
    """Exactly one of ``account`` and ``opportunity``, existing; the actor must see it."""
    if (account is None) == (opportunity is None):
        message = _("Give exactly one of account and opportunity.")
        raise ValidationError({"account": message, "opportunity": message})
    errors = FieldErrors()
    errors.check("account", _check_visible_record, "account", account, Account, None)
    errors.check(
        "opportunity", _check_visible_record, "opportunity", opportunity, Opportunity, None
    )
    errors.raise_if_any()
    target: Any = account if account is not None else opportunity
    if actor is not None and not can_view(actor, target):
        name = type(target)._meta.verbose_name
        raise PermissionDenied(
            _("%(user)s cannot see %(name)s “%(target)s”.")
            % {"user": actor, "name": name, "target": target}
        )
    return account, opportunity


def _require_author(actor: User | None, what: str | Promise) -> User:
    if actor is None:
        raise PermissionDenied(_("Only a signed-in user can %(action)s.") % {"action": what})
    require_writer(actor, what)
    return actor


@transaction.atomic
def add_comment(
    *,
    actor: User,
    body: str,
    account: Account | None = None,
    opportunity: Opportunity | None = None,
) -> Comment:
    """Comment on an account or an opportunity (visible to everyone who sees it)."""
    author = _require_author(actor, pgettext_lazy("action", "comment"))
    errors = FieldErrors()
    text = errors.check("body", check_text, "body", body, MAX_COMMENT, required=True)
    targets = errors.check("account", _one_target, actor, account, opportunity)
    errors.raise_if_any()
    account, opportunity = targets
    return Comment.objects.create(
        account=account, opportunity=opportunity, author=author, body=text, created_at=clock.now()
    )


_CONTENT_TYPE = re.compile(r"^[\w.+-]+/[\w.+-]+$")


def safe_filename(name: Any) -> str:
    """A file name fit to show and store: no directories, control characters, leading dots
    or trailing spaces; at most 255 characters with the extension kept."""
    base = str(name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = unicodedata.normalize("NFC", base)
    base = "".join(c for c in base if unicodedata.category(c)[0] != "C")
    base = re.sub(r"\s+", " ", base).strip().lstrip(".").strip()
    if not base or base in (".", ".."):
        base = "attachment"
    if len(base) > MAX_FILENAME:
        stem, dot, ext = base.rpartition(".")
        if dot and 0 < len(ext) <= 16:
            base = f"{stem[: MAX_FILENAME - len(ext) - 1]}.{ext}"
        else:
            base = base[:MAX_FILENAME]
    return base


def _storage_name(display: str) -> str:
    """An ASCII name for the file on disk (the display name keeps accents and spaces)."""
    ascii_name = unicodedata.normalize("NFKD", display).encode("ascii", "ignore").decode()
    stem, dot, ext = ascii_name.rpartition(".")
    if not dot:
        stem, ext = ascii_name, ""
    stem = get_valid_filename(stem) if re.search(r"[\w-]", stem) else ""
    ext = re.sub(r"[^A-Za-z0-9]", "", ext)[:16]
    stem = stem.strip(".")[:100] or "attachment"
    return f"{stem}.{ext}" if ext else stem


@transaction.atomic
def add_attachment(
    *,
    actor: User,
    file: Any,
    account: Account | None = None,
    opportunity: Opportunity | None = None,
) -> Attachment:
    """Attach an uploaded file to an account or an opportunity (D5).

    Files larger than ``settings.SALESCOPE_MAX_ATTACHMENT_BYTES`` and empty files are refused.
    """
    uploader = _require_author(actor, gettext_lazy("attach files"))
    if file is None or not hasattr(file, "read"):
        raise field_error(
            "file",
            _("%(field)s: choose a file to upload.") % {"field": field_label("file")},
            "required",
        )
    display = safe_filename(getattr(file, "name", ""))
    size = getattr(file, "size", None)
    limit = int(settings.SALESCOPE_MAX_ATTACHMENT_BYTES)
    if size is None:
        raise field_error(
            "file",
            _("%(field)s: the size of %(name)s is unknown.")
            % {"field": field_label("file"), "name": display},
        )
    if size == 0:
        raise field_error(
            "file",
            _("%(field)s: %(name)s is empty.") % {"field": field_label("file"), "name": display},
        )
    if size > limit:
        raise field_error(
            "file",
            _("%(field)s: %(name)s is %(size)s MB; the limit is %(limit)s MB.")
            % {
                "field": field_label("file"),
                "name": display,
                "size": f"{size / 1_048_576:.1f}",
                "limit": f"{limit / 1_048_576:.1f}",
            },
            "too_large",
        )
    account, opportunity = _one_target(actor, account, opportunity)
    content_type = str(getattr(file, "content_type", "") or "").split(";")[0].strip().lower()
    if not _CONTENT_TYPE.match(content_type) or len(content_type) > 100:
        content_type = mimetypes.guess_type(display)[0] or "application/octet-stream"

    attachment = Attachment(
        account=account, opportunity=opportunity, filename=display, content_type=content_type,
        size=size, uploaded_by=uploader, uploaded_at=clock.now(),
    )  # fmt: skip
    if hasattr(file, "seek"):
        file.seek(0)
    attachment.file.save(_storage_name(display), File(file), save=False)
    try:
        attachment.save()
    except Exception:
        attachment.file.delete(save=False)
        raise
    return attachment
