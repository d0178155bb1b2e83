"""The agenda (A2) and overdue lists, within what each user sees."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.core.exceptions import ValidationError

from salescope.activities import services
from salescope.activities.selectors import activities_for, agenda, overdue_for
from salescope.testing.fixtures import FIXED_NOW

pytestmark = pytest.mark.django_db

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")


def at(day, hour, minute=0):
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=BERLIN)


@pytest.fixture
def week(org_setup, act_setup, settings):
    """Activities around the week of Monday 16 March 2026 (Berlin time)."""
    settings.TIME_ZONE = "Europe/Berlin"
    s, a = org_setup, act_setup

    def plan(subject, owner=None, actor=None, **kwargs):
        return services.create_activity(
            actor=actor or s.rep, owner=owner, activity_type=a.call, subject=subject, **kwargs
        )

    return {
        "before": plan("before", starts_at=at(15, 10), ends_at=at(15, 11)),
        "overlapping start": plan("overlapping start", starts_at=at(15, 23), ends_at=at(16, 1)),
        "monday": plan("monday", starts_at=at(16, 9), ends_at=at(16, 10)),
        "sunday late": plan("sunday late", starts_at=at(22, 23, 30)),
        "next monday": plan("next monday", starts_at=at(23, 0)),
        "due friday": plan("due friday", due_on=dt.date(2026, 3, 20)),
        "due next monday": plan("due next monday", due_on=dt.date(2026, 3, 23)),
        "undated": plan("undated"),
        "rep2": plan("rep2", owner=s.rep2, actor=s.rep2, due_on=dt.date(2026, 3, 18)),
        "south": plan("south", owner=s.other_rep, actor=s.other_rep, due_on=dt.date(2026, 3, 18)),
    }


def subjects(qs):
    return sorted(a.subject for a in qs)


def test_agenda_of_a_week_by_dates(org_setup, week):
    s = org_setup
    got = subjects(agenda(s.rep, dt.date(2026, 3, 16), dt.date(2026, 3, 23)))
    assert got == ["due friday", "monday", "overlapping start", "sunday late"]


def test_agenda_by_datetimes(org_setup, week):
    s = org_setup
    # 9:30 falls inside "monday" (9:00-10:00); a due date counts for every day touched.
    assert subjects(agenda(s.manager, at(16, 9, 30), at(18, 12))) == ["monday", "rep2"]
    # Midnight as the end leaves that day out (the end is exclusive).
    assert subjects(agenda(s.manager, at(16, 9, 30), at(18, 0))) == ["monday"]


def test_agenda_respects_visibility_and_owner_filter(org_setup, week):
    s = org_setup
    start, end = dt.date(2026, 3, 16), dt.date(2026, 3, 23)
    assert "rep2" not in subjects(agenda(s.rep, start, end))
    manager_view = subjects(agenda(s.manager, start, end))
    assert "rep2" in manager_view and "south" not in manager_view
    assert subjects(agenda(s.manager, start, end, owners=[s.rep2])) == ["rep2"]
    assert subjects(agenda(s.manager, start, end, owners=[s.other_rep.pk])) == []
    assert "south" in subjects(agenda(s.admin, start, end))
    assert subjects(agenda(s.readonly, start, end)) == subjects(agenda(s.admin, start, end))


def test_agenda_orders_timed_entries_first(org_setup, week):
    rows = list(agenda(org_setup.rep, dt.date(2026, 3, 16), dt.date(2026, 3, 23)))
    assert [r.subject for r in rows] == [
        "overlapping start", "monday", "sunday late", "due friday",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        (dt.date(2026, 3, 23), dt.date(2026, 3, 16), "end"),
        ("2026-03-16", dt.date(2026, 3, 23), "start"),
        (dt.datetime(2026, 3, 16, 0, 0), dt.date(2026, 3, 23), "start"),
    ],
)
def test_agenda_refuses_bad_windows(org_setup, start, end, field):
    with pytest.raises(ValidationError) as exc:
        list(agenda(org_setup.rep, start, end))
    assert field in exc.value.message_dict


def test_overdue(org_setup, act_setup, settings, frozen_now):
    settings.TIME_ZONE = "Europe/Berlin"
    s, a = org_setup, act_setup

    def plan(subject, **kwargs):
        return services.create_activity(
            actor=s.rep, activity_type=a.call, subject=subject, **kwargs
        )

    plan("due yesterday", due_on=dt.date(2026, 3, 15))
    plan("due today", due_on=dt.date(2026, 3, 16))
    plan("started an hour ago", starts_at=FIXED_NOW - dt.timedelta(hours=1))
    plan("still running", starts_at=FIXED_NOW - dt.timedelta(hours=1),
         ends_at=FIXED_NOW + dt.timedelta(hours=1))  # fmt: skip
    plan("later today", starts_at=FIXED_NOW + dt.timedelta(hours=2))
    plan("undated")
    done = plan("done late", due_on=dt.date(2026, 3, 1))
    services.complete_activity(activity=done, actor=s.rep)
    services.create_activity(
        actor=s.other_rep, activity_type=a.call, subject="south late", due_on=dt.date(2026, 3, 2)
    )
    assert subjects(overdue_for(s.rep)) == ["due yesterday", "started an hour ago"]
    assert subjects(overdue_for(s.manager)) == ["due yesterday", "started an hour ago"]
    assert subjects(overdue_for(s.manager, owners=[s.manager])) == []
    assert "south late" in subjects(overdue_for(s.admin))


def test_activities_for_loads_relations_at_once(org_setup, week, django_assert_num_queries):
    with django_assert_num_queries(1):
        rows = [(a.activity_type.name, a.owner.username) for a in activities_for(org_setup.rep)]
    assert len(rows) == 8
