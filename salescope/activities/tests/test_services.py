"""Planning, assigning, rescheduling and completing activities (A1-A4)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from salescope.activities import services
from salescope.activities.models import Activity
from salescope.core.errors import ConflictError
from salescope.testing.fixtures import FIXED_NOW

pytestmark = pytest.mark.django_db

T9 = dt.datetime(2026, 3, 17, 9, 0, tzinfo=dt.UTC)
T10 = T9 + dt.timedelta(hours=1)


def _counts():
    return (Activity.objects.count(), Activity.contacts.through.objects.count())


def _call(s, a, **kwargs):
    kwargs.setdefault("actor", s.rep)
    kwargs.setdefault("activity_type", a.call)
    kwargs.setdefault("subject", "Follow-up call")
    return services.create_activity(**kwargs)


# --- create ------------------------------------------------------------------------------


def test_plan_an_activity_on_a_deal(org_setup, act_setup, frozen_now):
    s, a = org_setup, act_setup
    act = services.create_activity(
        actor=s.rep,
        activity_type=a.meeting,
        subject="  Kick-off  ",
        opportunity=a.deal,
        contacts=[a.jane],
        starts_at=T9,
        ends_at=T10,
        description="Agenda: scope",
    )
    act.refresh_from_db()
    assert act.subject == "Kick-off"
    assert act.owner == s.rep and act.assigned_by is None
    assert act.account == a.acme  # from the opportunity
    assert list(act.contacts.all()) == [a.jane]
    assert (act.starts_at, act.ends_at, act.done_at) == (T9, T10, None)
    assert act.created_by == s.rep and act.created_at == FIXED_NOW and act.version == 1


def test_log_a_done_activity_with_its_time_spent(org_setup, act_setup, frozen_now):
    s, a = org_setup, act_setup
    start = FIXED_NOW - dt.timedelta(hours=2)
    act = _call(s, a, account=a.acme, starts_at=start, ends_at=start + dt.timedelta(minutes=25),
                done=True, outcome="Interested")  # fmt: skip
    assert act.done_at == FIXED_NOW and act.duration_minutes == 25 and act.outcome == "Interested"
    past = _call(s, a, done_at=FIXED_NOW - dt.timedelta(days=3), duration_minutes=10)
    assert past.is_done and past.duration_minutes == 10


@pytest.mark.parametrize(
    ("actor", "owner"),
    [("manager", "rep"), ("manager", "rep2"), ("rep", "rep2"), ("admin", "other_rep")],
)
def test_assigning_to_someone_else_records_who_assigned(org_setup, act_setup, actor, owner):
    s, a = org_setup, act_setup
    act = _call(s, a, actor=getattr(s, actor), owner=getattr(s, owner))
    assert act.owner == getattr(s, owner) and act.assigned_by == getattr(s, actor)


@pytest.mark.parametrize(
    ("actor", "owner"),
    [("rep", "other_rep"), ("manager", "other_rep"), ("marketing", "rep"), ("rep", "manager2")],
)
def test_assigning_outside_your_reach_is_refused(org_setup, act_setup, actor, owner):
    s, a = org_setup, act_setup
    target = s.other_manager if owner == "manager2" else getattr(s, owner)
    before = _counts()
    with pytest.raises(ValidationError) as exc:
        _call(s, a, actor=getattr(s, actor), owner=target)
    assert "owner" in exc.value.message_dict
    assert _counts() == before


def test_the_system_assigns_to_anyone_but_needs_an_owner(org_setup, act_setup):
    s, a = org_setup, act_setup
    act = _call(s, a, actor=None, owner=s.other_rep)
    assert act.assigned_by is None and act.owner == s.other_rep
    with pytest.raises(ValidationError) as exc:
        _call(s, a, actor=None)
    assert "owner" in exc.value.message_dict


BAD_ACTIVITY_INPUT = [
    ("subject", ""),
    ("subject", "x" * 201),
    ("subject", None),
    ("subject", "Call\x00"),
    ("description", "\x00"),
    ("activity_type", None),
    ("activity_type", "call"),
    ("due_on", dt.datetime(2026, 3, 20, 10, 0, tzinfo=dt.UTC)),
    ("due_on", "2026-03-20"),
    ("due_on", dt.date(1850, 1, 1)),
    ("starts_at", dt.datetime(2026, 3, 20, 10, 0)),  # naive
    ("starts_at", dt.date(2026, 3, 20)),
    ("duration_minutes", -1),
    ("duration_minutes", 7 * 24 * 60 + 1),
    ("duration_minutes", "30"),
    ("duration_minutes", True),
    ("description", 5),
    ("outcome", "x" * 301),
    ("contacts", ["Jane"]),
    ("account", "Acme"),
    ("opportunity", 1),
    ("done_at", dt.datetime(2030, 1, 1, tzinfo=dt.UTC)),
    ("done", "yes"),
]


@pytest.mark.parametrize(("field", "value"), BAD_ACTIVITY_INPUT)
def test_malformed_values_are_refused_by_field_name_and_nothing_is_written(
    org_setup, act_setup, frozen_now, field, value
):
    s, a = org_setup, act_setup
    before = _counts()
    with pytest.raises(ValidationError) as exc:
        _call(s, a, **{field: value})
    errors = exc.value.message_dict
    assert field in errors, errors
    assert field in " ".join(errors[field])
    assert _counts() == before


def test_inactive_type_and_read_only_owner_are_refused(org_setup, act_setup):
    s, a = org_setup, act_setup
    with pytest.raises(ValidationError) as exc:
        _call(s, a, activity_type=a.retired)
    assert "activity_type" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        _call(s, a, actor=s.admin, owner=s.readonly)
    assert "owner" in exc.value.message_dict


def test_consistency_rules(org_setup, act_setup):
    s, a = org_setup, act_setup
    other_account = services_account(s)
    before = _counts()
    with pytest.raises(ValidationError) as exc:
        _call(s, a, opportunity=a.deal, account=other_account)
    assert "account" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        _call(s, a, starts_at=T10, ends_at=T9)
    assert "ends_at" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        _call(s, a, ends_at=T10)
    assert "ends_at" in exc.value.message_dict
    assert _counts() == before
    # A zero-length activity is fine.
    assert _call(s, a, starts_at=T9, ends_at=T9).ends_at == T9


def services_account(s):
    from salescope.accounts.services import create_account

    return create_account(actor=s.rep, name="Elsewhere")


def test_records_the_actor_cannot_see_are_refused(org_setup, act_setup):
    s, a = org_setup, act_setup
    before = _counts()
    for field, value in [
        ("opportunity", a.south_deal),
        ("account", a.south),
        ("contacts", [a.south_contact]),
    ]:
        with pytest.raises(ValidationError) as exc:
            _call(s, a, **{field: value})
        assert field in exc.value.message_dict
    assert _counts() == before


def test_read_only_cannot_create(org_setup, act_setup):
    s, a = org_setup, act_setup
    with pytest.raises(PermissionDenied):
        _call(s, a, actor=s.readonly)
    assert _counts() == (0, 0)


# --- update ------------------------------------------------------------------------------


def test_update_activity(org_setup, act_setup, frozen_now):
    s, a = org_setup, act_setup
    act = _call(s, a)
    updated = services.update_activity(
        activity=act, actor=s.rep, expected_version=1, subject="Call back", opportunity=a.deal,
        contacts=[a.jane], due_on=dt.date(2026, 3, 20),
    )  # fmt: skip
    stored = Activity.objects.get(pk=act.pk)
    assert stored.version == updated.version == 2
    assert stored.subject == "Call back" and stored.account == a.acme
    assert list(stored.contacts.all()) == [a.jane] and stored.due_on == dt.date(2026, 3, 20)
    assert stored.updated_by == s.rep and stored.updated_at == FIXED_NOW
    # Nothing changed: same version.
    services.update_activity(activity=act, actor=s.rep, subject="Call back", contacts=[a.jane])
    assert Activity.objects.get(pk=act.pk).version == 2


def test_update_refuses_unknown_fields_and_bad_values(org_setup, act_setup):
    s, a = org_setup, act_setup
    act = _call(s, a)
    with pytest.raises(ValidationError) as exc:
        services.update_activity(activity=act, actor=s.rep, done_at=None, assigned_by=s.rep)
    assert set(exc.value.message_dict) == {"assigned_by", "done_at"}
    with pytest.raises(ValidationError) as exc:
        services.update_activity(activity=act, actor=s.rep, subject="", duration_minutes=-5)
    assert set(exc.value.message_dict) == {"subject", "duration_minutes"}
    with pytest.raises(ValidationError) as exc:
        services.update_activity(activity=act, actor=s.rep, starts_at=T10, ends_at=T9)
    assert "ends_at" in exc.value.message_dict
    assert Activity.objects.get(pk=act.pk).version == 1


def test_reassigning_records_who_assigned(org_setup, act_setup):
    s, a = org_setup, act_setup
    act = _call(s, a)
    services.update_activity(activity=act, actor=s.manager, owner=s.rep2)
    stored = Activity.objects.get(pk=act.pk)
    assert stored.owner == s.rep2 and stored.assigned_by == s.manager
    with pytest.raises(ValidationError):
        services.update_activity(activity=act, actor=s.manager, owner=s.other_rep)


def test_conflict_names_the_first_writer(org_setup, act_setup):
    s, a = org_setup, act_setup
    act = _call(s, a)
    services.update_activity(activity=act, actor=s.rep, expected_version=1, subject="Mine")
    with pytest.raises(ConflictError) as exc:
        services.complete_activity(activity=act, actor=s.manager, expected_version=1)
    assert s.rep.get_full_name() in str(exc.value)
    assert Activity.objects.get(pk=act.pk).done_at is None


def test_permissions_to_change_an_activity(org_setup, act_setup):
    s, a = org_setup, act_setup
    theirs = _call(s, a, actor=s.other_rep)
    with pytest.raises(PermissionDenied):
        services.update_activity(activity=theirs, actor=s.rep, subject="x")
    with pytest.raises(PermissionDenied):
        services.complete_activity(activity=theirs, actor=s.manager)
    assigned = _call(s, a, actor=s.manager, owner=s.rep)
    services.update_activity(activity=assigned, actor=s.manager, subject="Updated by assigner")
    services.update_activity(activity=assigned, actor=s.rep, subject="Updated by owner")
    mine = _call(s, a)
    verbs: list[tuple[Any, dict[str, Any]]] = [
        (services.update_activity, {"subject": "x"}),
        (services.complete_activity, {}),
        (services.reschedule_activity, {"due_on": dt.date(2026, 4, 1)}),
    ]
    for verb, kwargs in verbs:
        with pytest.raises(PermissionDenied):
            verb(activity=mine, actor=s.readonly, **kwargs)
        with pytest.raises(PermissionDenied):
            verb(activity=mine, actor=s.rep2, **kwargs)
    assert Activity.objects.get(pk=mine.pk).version == 1


# --- reschedule, complete, reopen --------------------------------------------------------


def test_reschedule_keeps_the_planned_length(org_setup, act_setup):
    s, a = org_setup, act_setup
    act = _call(s, a, starts_at=T9, ends_at=T10)
    later = T9 + dt.timedelta(days=2, hours=3)
    services.reschedule_activity(activity=act, actor=s.rep, starts_at=later, expected_version=1)
    stored = Activity.objects.get(pk=act.pk)
    assert stored.starts_at == later and stored.ends_at == later + dt.timedelta(hours=1)
    assert stored.version == 2
    services.reschedule_activity(activity=act, actor=s.rep, starts_at=None,
                                 due_on=dt.date(2026, 4, 2))  # fmt: skip
    stored = Activity.objects.get(pk=act.pk)
    assert (stored.starts_at, stored.ends_at, stored.due_on) == (None, None, dt.date(2026, 4, 2))


def test_reschedule_refuses_bad_times_and_done_activities(org_setup, act_setup):
    s, a = org_setup, act_setup
    act = _call(s, a, starts_at=T9, ends_at=T10)
    with pytest.raises(ValidationError) as exc:
        services.reschedule_activity(activity=act, actor=s.rep, ends_at=T9 - dt.timedelta(1))
    assert "ends_at" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.reschedule_activity(activity=act, actor=s.rep, due_on="tomorrow")
    assert "due_on" in exc.value.message_dict
    services.complete_activity(activity=act, actor=s.rep)
    with pytest.raises(ValidationError) as exc:
        services.reschedule_activity(activity=act, actor=s.rep, starts_at=T10)
    assert "done_at" in exc.value.message_dict
    assert Activity.objects.get(pk=act.pk).starts_at == T9


def test_complete_and_reopen(org_setup, act_setup, frozen_now):
    s, a = org_setup, act_setup
    start = FIXED_NOW - dt.timedelta(hours=3)
    act = _call(s, a, starts_at=start, ends_at=start + dt.timedelta(minutes=45))
    services.complete_activity(activity=act, actor=s.rep, outcome="Offer requested",
                               expected_version=1)  # fmt: skip
    stored = Activity.objects.get(pk=act.pk)
    assert stored.done_at == FIXED_NOW and stored.duration_minutes == 45
    assert stored.outcome == "Offer requested" and stored.version == 2
    with pytest.raises(ValidationError) as exc:
        services.complete_activity(activity=act, actor=s.rep)
    assert "done_at" in exc.value.message_dict
    services.reopen_activity(activity=act, actor=s.rep, expected_version=2)
    stored = Activity.objects.get(pk=act.pk)
    assert stored.done_at is None and stored.version == 3
    with pytest.raises(ValidationError):
        services.reopen_activity(activity=act, actor=s.rep)
    services.complete_activity(
        activity=act, actor=s.rep, done_at=FIXED_NOW - dt.timedelta(hours=1), duration_minutes=50
    )
    stored = Activity.objects.get(pk=act.pk)
    assert stored.done_at == FIXED_NOW - dt.timedelta(hours=1) and stored.duration_minutes == 50


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("done_at", dt.datetime(2030, 1, 1, tzinfo=dt.UTC)),
        ("done_at", dt.datetime(2026, 3, 1, 10, 0)),
        ("duration_minutes", -1),
        ("duration_minutes", 20000),
        ("outcome", "x" * 301),
    ],
)
def test_complete_refuses_bad_values(org_setup, act_setup, frozen_now, field, value):
    s, a = org_setup, act_setup
    act = _call(s, a)
    with pytest.raises(ValidationError) as exc:
        services.complete_activity(activity=act, actor=s.rep, **{field: value})
    assert field in exc.value.message_dict
    stored = Activity.objects.get(pk=act.pk)
    assert stored.done_at is None and stored.version == 1
