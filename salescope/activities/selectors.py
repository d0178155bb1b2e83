"""Reads about activities: lists, the agenda (A2) and overdue actions. Visibility applied here."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import F, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from salescope.accounts.models import Account, Contact
from salescope.activities.models import Activity, ActivityType, Agreement
from salescope.core import clock
from salescope.core.errors import field_error
from salescope.org.models import Role, User
from salescope.visibility import owner_ids, sees_everything, visible_activities, visible_contacts


def activities_for(user: User) -> QuerySet[Activity]:
    """The activities ``user`` sees, with what lists and calendars show."""
    return visible_activities(user, Activity.objects.all()).select_related(
        "activity_type", "owner", "assigned_by", "account", "opportunity"
    )


def _start_of(day: dt.date) -> dt.datetime:
    """Midnight at the start of ``day`` in the active time zone (as an aware datetime)."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _bounds(start: Any, end: Any) -> tuple[dt.datetime, dt.datetime, dt.date, dt.date]:
    """The window as aware datetimes and as dates (``end`` exclusive in both)."""
    moments = []
    for field, value in (("start", start), ("end", end)):
        if isinstance(value, dt.datetime):
            if timezone.is_naive(value):
                raise field_error(
                    field, _("%(field)s must include a time zone.") % {"field": field}
                )
            moments.append(value)
        elif isinstance(value, dt.date):
            moments.append(_start_of(value))
        else:
            raise field_error(
                field,
                _("%(field)s must be a date or a date and time (got %(value)s).")
                % {"field": field, "value": repr(value)},
            )
    start_at, end_at = moments
    if end_at < start_at:
        raise field_error("end", _("end is before start."))
    first_day = timezone.localdate(start_at)
    last_moment = timezone.localtime(end_at)
    end_day = last_moment.date()
    if last_moment.timetz().replace(tzinfo=None) != dt.time.min:
        end_day += dt.timedelta(days=1)
    return start_at, end_at, first_day, end_day


def agenda(
    user: User, start: dt.date | dt.datetime, end: dt.date | dt.datetime,
    owners: Iterable[User | int] | None = None,
) -> QuerySet[Activity]:  # fmt: skip
    """What is planned between ``start`` and ``end`` (exclusive), as far as ``user`` sees it.

    Dates are whole days in the active time zone. Timed activities count when they overlap
    the window; activities with only a due date count when it falls within its days.
    ``owners`` narrows to some people's agendas (A2: colleagues' agendas); by default
    every visible activity is included.
    """
    start_at, end_at, first_day, end_day = _bounds(start, end)
    timed = Q(starts_at__isnull=False, starts_at__lt=end_at) & (
        Q(starts_at__gte=start_at) | Q(ends_at__gt=start_at)
    )
    dated = Q(starts_at__isnull=True, due_on__gte=first_day, due_on__lt=end_day)
    qs = activities_for(user).filter(timed | dated)
    if owners is not None:
        ids = [getattr(o, "pk", o) for o in owners]
        qs = qs.filter(owner_id__in=ids)
    return qs.order_by(F("starts_at").asc(nulls_last=True), "due_on", "pk")


def overdue_for(user: User, owners: Iterable[User | int] | None = None) -> QuerySet[Activity]:
    """Open activities whose date has passed, as far as ``user`` sees them.

    Overdue means: due date before today, or (without a due date) end (or start) before
    now. Pass ``owners=[user]`` for a person's own list, a team for a manager's view.
    """
    now = clock.now()
    today = clock.today()
    late = (
        Q(due_on__lt=today)
        | Q(
            due_on__isnull=True,
            starts_at__isnull=False,
            ends_at__isnull=True,
            starts_at__lt=now,
        )
        | Q(due_on__isnull=True, ends_at__isnull=False, ends_at__lt=now)
    )
    qs = activities_for(user).filter(late, done_at__isnull=True)
    if owners is not None:
        ids = [getattr(o, "pk", o) for o in owners]
        qs = qs.filter(owner_id__in=ids)
    return qs.order_by(F("due_on").asc(nulls_last=True), "starts_at", "pk")


# --- pages (A2, A3) -------------------------------------------------------------------------


def agenda_people(user: User) -> QuerySet[User]:
    """Whose agenda ``user`` may open (A2): admins and read-only users everyone's, managers
    their teams', reps and marketing their own and their team colleagues' (showing only the
    colleagues' activities they see: assigned by them, shared with them, joined by them)."""
    people = User.objects.filter(is_active=True)
    if not user.is_active:
        return people.none()
    if sees_everything(user):
        return people
    if user.role == Role.MANAGER:
        return people.filter(pk__in=owner_ids(user))
    mine = Q(pk=user.pk)
    if user.team_id is not None:
        mine |= Q(team_id=user.team_id)
    return people.filter(mine)


def assignable_users(user: User) -> QuerySet[User]:
    """Whom ``user`` may give an activity to (the rule of ``services.check_assignee``)."""
    people = User.objects.filter(is_active=True).exclude(role=Role.READ_ONLY)
    if user.is_superuser or user.role == Role.ADMIN:
        return people
    if user.role == Role.MANAGER:
        return people.filter(pk__in=owner_ids(user))
    mine = Q(pk=user.pk)
    if user.team_id is not None:
        mine |= Q(team_id=user.team_id)
    return people.filter(mine)


def activity_types() -> QuerySet[ActivityType]:
    """Active activity types (the agenda's legend and the create form's choices)."""
    return ActivityType.objects.filter(active=True).order_by("order", "name")


def activity_detail(user: User, pk: int) -> Activity | None:
    """One activity with everything its page shows, or None when ``user`` cannot see it."""
    return (
        activities_for(user)
        .select_related("created_by", "updated_by")
        .prefetch_related(
            Prefetch("contacts", queryset=Contact.objects.order_by("last_name", "first_name")),
            "participant_users",
            Prefetch(
                "agreements",
                queryset=Agreement.objects.select_related("owner", "owner_contact"),
            ),
        )
        .filter(pk=pk)
        .first()
    )


def contacts_for_activity(
    user: User, *, account: Account | None, include: Iterable[Contact | int] = ()
) -> QuerySet[Contact]:
    """Contacts offered on an activity's forms: the account's people plus those already
    chosen, as far as ``user`` sees them."""
    ids = [getattr(c, "pk", c) for c in include]
    where = Q(pk__in=ids)
    if account is not None:
        where |= Q(memberships__account=account, memberships__until__isnull=True)
    return (
        visible_contacts(user, Contact.objects.all())
        .filter(pk__in=Contact.objects.filter(where).values("pk"))
        .order_by("last_name", "first_name")
    )


@dataclass(frozen=True)
class Recipient:
    name: str
    email: str
    language: str
    kind: str  # "user" or "contact"


def minutes_recipients(activity: Activity) -> tuple[list[Recipient], list[str]]:
    """Who the minutes of ``activity`` go to: its internal participants and its contacts,
    each once by e-mail address; and the names of those without an address."""
    recipients: list[Recipient] = []
    missing: list[str] = []
    seen: set[str] = set()
    people: list[tuple[str, Any]] = [("user", u) for u in activity.participant_users.all()]
    people += [("contact", c) for c in activity.contacts.all()]
    for kind, person in people:
        name = str(person)
        email = (person.email or "").strip()
        if not email:
            missing.append(name)
            continue
        if email.lower() in seen:
            continue
        seen.add(email.lower())
        recipients.append(Recipient(name, email, (person.language or "").strip(), kind))
    return recipients, missing
