"""Reads about activities: lists, the agenda (A2) and overdue actions. Visibility applied here."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db.models import F, Q, QuerySet
from django.utils import timezone

from salescope.activities.models import Activity
from salescope.core import clock
from salescope.core.errors import field_error
from salescope.org.models import User
from salescope.visibility import visible_activities


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
                raise field_error(field, f"{field} must include a time zone.")
            moments.append(value)
        elif isinstance(value, dt.date):
            moments.append(_start_of(value))
        else:
            raise field_error(field, f"{field} must be a date or a date and time (got {value!r}).")
    start_at, end_at = moments
    if end_at < start_at:
        raise field_error("end", "end is before start.")
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
