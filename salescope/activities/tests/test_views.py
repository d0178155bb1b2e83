"""The agenda and activity pages (A2, A3): prefill, errors, scope, endpoints, query counts."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from salescope.activities import services
from salescope.activities.models import Activity, Agreement
from salescope.testing.factories import ActivityTypeFactory

pytestmark = pytest.mark.django_db

# FIXED_NOW is Monday 16 March 2026, 09:30 UTC (10:30 in Berlin).
TUE_10 = timezone.make_aware(dt.datetime(2026, 3, 17, 10, 0))
TUE_11 = TUE_10 + dt.timedelta(hours=1)


@pytest.fixture
def as_user(client):
    def login(user):
        client.force_login(user)
        return client

    return login


def _meeting(s, a, **kwargs):
    kwargs.setdefault("actor", s.rep)
    kwargs.setdefault("activity_type", a.meeting)
    kwargs.setdefault("subject", "Workshop")
    kwargs.setdefault("opportunity", a.deal)
    kwargs.setdefault("starts_at", TUE_10)
    kwargs.setdefault("ends_at", TUE_11)
    return services.create_activity(**kwargs)


# --- create and edit ------------------------------------------------------------------------


def test_create_from_the_deal_is_prefilled(org_setup, act_setup, as_user, frozen_now):
    s, a = org_setup, act_setup
    client = as_user(s.rep)
    url = reverse("activities:create")
    response = client.get(url, {"opportunity": a.deal.pk, "type": "meeting", "next": "/deal/1/"})
    assert response.status_code == 200
    form = response.context["form"]
    assert form.initial["opportunity"] == a.deal.pk
    assert form.initial["account"] == a.acme.pk
    assert form.initial["activity_type"] == a.meeting.pk
    html = response.content.decode()
    assert f'<option value="{a.deal.pk}" selected>' in html
    assert "Jane Doe" in html  # the account's contacts are offered

    response = client.post(
        url,
        {
            "activity_type": a.meeting.pk,
            "subject": "Kick-off",
            "owner": s.rep.pk,
            "opportunity": a.deal.pk,
            "account": a.acme.pk,
            "contacts": [a.jane.pk],
            "starts_at": "2026-03-18T14:00",
            "ends_at": "2026-03-18T15:30",
            "next": "/deal/1/",
        },
    )
    assert response.status_code == 302 and response["Location"] == "/deal/1/"
    act = Activity.objects.get(subject="Kick-off")
    assert act.opportunity == a.deal and act.account == a.acme and act.owner == s.rep
    assert list(act.contacts.all()) == [a.jane]
    assert timezone.localtime(act.starts_at).hour == 14
    assert act.ends_at - act.starts_at == dt.timedelta(minutes=90)


def test_create_prefills_a_slot_from_the_agenda(org_setup, act_setup, as_user, frozen_now):
    client = as_user(org_setup.rep)
    response = client.get(reverse("activities:create"), {"date": "2026-03-19", "time": "14:00"})
    assert response.context["form"].initial["starts_at"] == dt.datetime(2026, 3, 19, 14, 0)
    assert 'value="2026-03-19T14:00"' in response.content.decode()
    response = client.get(reverse("activities:create"), {"date": "2026-03-19"})
    assert response.context["form"].initial["due_on"] == dt.date(2026, 3, 19)


def test_bad_input_shows_errors_and_writes_nothing(org_setup, act_setup, as_user, frozen_now):
    s, a = org_setup, act_setup
    client = as_user(s.rep)
    response = client.post(
        reverse("activities:create"),
        {
            "activity_type": a.meeting.pk,
            "subject": "   ",
            "owner": s.rep.pk,
            "starts_at": "2026-03-18T14:00",
            "ends_at": "2026-03-18T13:00",
        },
    )
    assert response.status_code == 200
    assert Activity.objects.count() == 0
    errors = response.context["form"].errors
    assert "subject" in errors
    # Past the form, the service checks the rest (ends before start), keyed by field.
    response = client.post(
        reverse("activities:create"),
        {
            "activity_type": a.meeting.pk,
            "subject": "Late",
            "owner": s.rep.pk,
            "starts_at": "2026-03-18T14:00",
            "ends_at": "2026-03-18T13:00",
        },
    )
    assert response.status_code == 200 and Activity.objects.count() == 0
    assert "ends_at" in response.context["form"].errors
    assert "is before starts_at" in response.content.decode()


def test_a_rep_cannot_assign_to_another_team_or_link_a_hidden_deal(
    org_setup, act_setup, as_user, frozen_now
):
    s, a = org_setup, act_setup
    client = as_user(s.rep)
    response = client.post(
        reverse("activities:create"),
        {
            "activity_type": a.call.pk,
            "subject": "Call",
            "owner": s.other_rep.pk,
            "opportunity": a.south_deal.pk,
            "due_on": "2026-03-18",
        },
    )
    assert response.status_code == 200 and Activity.objects.count() == 0
    assert {"owner", "opportunity"} <= set(response.context["form"].errors)


def test_assign_to_a_colleague_records_who_assigned(org_setup, act_setup, as_user, frozen_now):
    s, a = org_setup, act_setup
    client = as_user(s.manager)
    response = client.post(
        reverse("activities:create"),
        {
            "activity_type": a.call.pk,
            "subject": "Call Acme",
            "owner": s.rep.pk,
            "due_on": "2026-03-18",
        },
    )
    assert response.status_code == 302
    act = Activity.objects.get()
    assert act.owner == s.rep and act.assigned_by == s.manager


def test_edit_and_stale_version(org_setup, act_setup, as_user, frozen_now):
    s, a = org_setup, act_setup
    act = _meeting(s, a)
    client = as_user(s.rep)
    url = reverse("activities:edit", args=[act.pk])
    assert client.get(url).status_code == 200
    data = {
        "activity_type": a.meeting.pk,
        "subject": "Workshop (moved)",
        "owner": s.rep.pk,
        "opportunity": a.deal.pk,
        "account": a.acme.pk,
        "starts_at": "2026-03-17T12:00",
        "ends_at": "2026-03-17T13:00",
        "version": act.version,
    }
    assert client.post(url, data).status_code == 302
    act.refresh_from_db()
    assert act.subject == "Workshop (moved)" and act.version == 2
    response = client.post(url, {**data, "subject": "Stale", "version": 1})
    assert response.status_code == 200
    assert "changed by" in response.content.decode()
    act.refresh_from_db()
    assert act.subject == "Workshop (moved)"


# --- scope ----------------------------------------------------------------------------------


def test_a_rep_cannot_open_another_teams_activity(org_setup, act_setup, as_user, frozen_now):
    s, a = org_setup, act_setup
    hidden = services.create_activity(
        actor=s.other_rep, activity_type=a.call, subject="Secret", opportunity=a.south_deal
    )
    client = as_user(s.rep)
    for name in ("detail", "edit", "minutes", "complete"):
        assert client.get(reverse(f"activities:{name}", args=[hidden.pk])).status_code == 404
    for name in ("send_minutes", "reschedule", "complete"):
        response = client.post(
            reverse(f"activities:{name}", args=[hidden.pk]), {"date": "2026-03-20"}
        )
        assert response.status_code == 404
    hidden.refresh_from_db()
    assert hidden.done_at is None and hidden.version == 1
    # Their manager sees it.
    assert (
        as_user(s.other_manager).get(reverse("activities:detail", args=[hidden.pk])).status_code
        == 200
    )


def test_detail_page_shows_links_participants_and_minutes(
    org_setup, act_setup, as_user, frozen_now
):
    s, a = org_setup, act_setup
    act = _meeting(s, a, contacts=[a.jane])
    services.record_minutes(
        activity=act, actor=s.rep, discussion="Budget approved",
        participant_users=[s.rep, s.manager],
        agreements=[{"text": "Send the offer", "owner": s.rep, "due_on": dt.date(2026, 3, 20)}],
    )  # fmt: skip
    response = as_user(s.rep).get(reverse("activities:detail", args=[act.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    for text in (
        "Workshop",
        "Acme GmbH",
        "Jane Doe",
        "Budget approved",
        "Send the offer",
        "Send minutes",
    ):
        assert text in html
    assert s.manager.display_name in html


# --- agenda ---------------------------------------------------------------------------------


def test_agenda_week_shows_the_week_in_type_colours(org_setup, act_setup, as_user, frozen_now):
    s, a = org_setup, act_setup
    a.meeting.colour = "#e15759"
    a.meeting.save()
    _meeting(s, a)
    services.create_activity(
        actor=s.rep, activity_type=a.call, subject="Call back", due_on=dt.date(2026, 3, 19)
    )
    services.create_activity(  # next week: not shown
        actor=s.rep, activity_type=a.call, subject="Later", due_on=dt.date(2026, 3, 24)
    )
    response = as_user(s.rep).get(
        reverse("activities:agenda"), {"view": "week", "date": "2026-03-18"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Workshop" in html and "Call back" in html and "Later" not in html
    assert "background-color: #e15759" in html
    days = response.context["days"]
    assert [d.date.day for d in days] == [16, 17, 18, 19, 20, 21, 22]
    assert days[0].is_today
    assert [e.activity.subject for e in days[1].timed] == ["Workshop"]
    assert [e.activity.subject for e in days[3].all_day] == ["Call back"]


@pytest.mark.parametrize("view", ["day", "month"])
def test_agenda_day_and_month(org_setup, act_setup, as_user, frozen_now, view):
    s, a = org_setup, act_setup
    _meeting(s, a)
    response = as_user(s.rep).get(
        reverse("activities:agenda"), {"view": view, "date": "2026-03-17"}
    )
    assert response.status_code == 200
    assert "Workshop" in response.content.decode()
    if view == "month":
        assert len(response.context["days"]) % 7 == 0


@pytest.mark.parametrize(
    ("viewer", "owner", "status"),
    [
        ("rep", "rep2", 200),  # a team colleague
        ("rep", "other_rep", 404),
        ("manager", "rep", 200),
        ("manager", "other_rep", 404),
        ("admin", "other_rep", 200),
        ("readonly", "rep", 200),
    ],
)
def test_colleagues_agenda_by_role(
    org_setup, act_setup, as_user, frozen_now, viewer, owner, status
):
    s = org_setup
    person = getattr(s, owner)
    response = as_user(getattr(s, viewer)).get(reverse("activities:agenda"), {"user": person.pk})
    assert response.status_code == status


def test_a_colleagues_agenda_shows_only_what_the_viewer_sees(
    org_setup, act_setup, as_user, frozen_now
):
    s, a = org_setup, act_setup
    services.create_activity(
        actor=s.rep2, activity_type=a.call, subject="Private call", due_on=dt.date(2026, 3, 17)
    )
    services.create_activity(
        actor=s.rep,
        activity_type=a.call,
        subject="Assigned call",
        owner=s.rep2,
        due_on=dt.date(2026, 3, 17),
    )
    response = as_user(s.rep).get(reverse("activities:agenda"), {"user": s.rep2.pk})
    html = response.content.decode()
    assert "Assigned call" in html and "Private call" not in html
    response = as_user(s.manager).get(reverse("activities:agenda"), {"user": s.rep2.pk})
    assert "Private call" in response.content.decode()


def test_agenda_query_count_does_not_grow(org_setup, act_setup, as_user, frozen_now):
    s, a = org_setup, act_setup
    client = as_user(s.manager)
    url = reverse("activities:agenda")
    params = {"view": "week", "date": "2026-03-17", "user": "all"}
    _meeting(s, a)
    client.get(url, params)  # warm caches (session, content types)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url, params).status_code == 200
    for i in range(25):
        owner = s.rep if i % 2 else s.rep2
        start = TUE_10 + dt.timedelta(days=i % 5, minutes=i)
        _meeting(s, a, actor=s.manager, owner=owner, subject=f"Meeting {i}",
                 starts_at=start, ends_at=start + dt.timedelta(hours=1))  # fmt: skip
        day = dt.date(2026, 3, 16 + i % 7)
        services.create_activity(actor=s.manager, owner=owner, activity_type=a.call,
                                 subject=f"Call {i}", due_on=day)  # fmt: skip
    with CaptureQueriesContext(connection) as many:
        response = client.get(url, params)
    assert response.context["count"] == 51
    assert len(many) == len(few)
    assert len(many) <= 10


def test_overdue_list(org_setup, act_setup, as_user, frozen_now):
    s, a = org_setup, act_setup
    services.create_activity(
        actor=s.rep, activity_type=a.call, subject="Late call", due_on=dt.date(2026, 3, 10)
    )
    services.create_activity(
        actor=s.rep, activity_type=a.call, subject="Future call", due_on=dt.date(2026, 3, 20)
    )
    response = as_user(s.rep).get(reverse("activities:overdue"))
    html = response.content.decode()
    assert response.status_code == 200 and "Late call" in html and "Future call" not in html
    assert (
        as_user(s.rep).get(reverse("activities:overdue"), {"user": s.other_rep.pk}).status_code
        == 404
    )


# --- endpoints ------------------------------------------------------------------------------


def test_reschedule_endpoint(org_setup, act_setup, as_user, frozen_now):
    s, a = org_setup, act_setup
    act = _meeting(s, a)
    client = as_user(s.rep)
    url = reverse("activities:reschedule", args=[act.pk])
    response = client.post(
        url, {"date": "2026-03-19", "version": act.version}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 204 and response["HX-Trigger"] == "agenda-changed"
    act.refresh_from_db()
    assert act.starts_at == TUE_10 + dt.timedelta(days=2)
    assert act.ends_at - act.starts_at == dt.timedelta(hours=1)
    # A drop on an hour of the day view sets the time as well.
    client.post(url, {"date": "2026-03-20", "time": "15:00"}, HTTP_HX_REQUEST="true")
    act.refresh_from_db()
    assert timezone.localtime(act.starts_at) == timezone.make_aware(dt.datetime(2026, 3, 20, 15, 0))
    # A stale version or a bad date is refused with a message, nothing moves.
    response = client.post(url, {"date": "2026-03-23", "version": 1}, HTTP_HX_REQUEST="true")
    assert response.status_code == 422 and "changed by" in response.content.decode()
    response = client.post(url, {"date": "tomorrow"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 422
    # Without htmx (the detail page's form), a redirect back.
    response = client.post(url, {"date": "2026-03-24", "next": "/agenda/"})
    assert response.status_code == 302 and response["Location"] == "/agenda/"
    act.refresh_from_db()
    assert timezone.localtime(act.starts_at).date() == dt.date(2026, 3, 24)


def test_reschedule_a_task_moves_its_due_date(org_setup, act_setup, as_user, frozen_now):
    s, a = org_setup, act_setup
    task = services.create_activity(
        actor=s.rep, activity_type=a.call, subject="Call", due_on=dt.date(2026, 3, 17)
    )
    as_user(s.rep).post(
        reverse("activities:reschedule", args=[task.pk]),
        {"date": "2026-03-18"},
        HTTP_HX_REQUEST="true",
    )
    task.refresh_from_db()
    assert task.due_on == dt.date(2026, 3, 18) and task.starts_at is None


def test_a_colleague_without_rights_cannot_move(org_setup, act_setup, as_user, frozen_now):
    s, a = org_setup, act_setup
    act = services.create_activity(
        actor=s.rep,
        activity_type=a.call,
        subject="Mine",
        due_on=dt.date(2026, 3, 17),
        account=a.acme,
    )
    response = as_user(s.rep2).post(
        reverse("activities:reschedule", args=[act.pk]),
        {"date": "2026-03-18"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 404
    act.refresh_from_db()
    assert act.due_on == dt.date(2026, 3, 17)


def test_complete_endpoint(org_setup, act_setup, as_user, frozen_now):
    s, a = org_setup, act_setup
    act = _meeting(
        s, a, starts_at=TUE_10 - dt.timedelta(days=3), ends_at=TUE_11 - dt.timedelta(days=3)
    )
    client = as_user(s.rep)
    url = reverse("activities:complete", args=[act.pk])
    assert client.get(url).status_code == 200
    response = client.post(
        url, {"duration_minutes": "45", "outcome": "Went well", "next": "/agenda/"}
    )
    assert response.status_code == 302 and response["Location"] == "/agenda/"
    act.refresh_from_db()
    assert act.done_at is not None and act.duration_minutes == 45 and act.outcome == "Went well"
    # Twice is refused with the reason.
    response = client.post(url, {}, HTTP_HX_REQUEST="true")
    assert response.status_code == 422 and "already done" in response.content.decode()
    response = client.post(url, {"duration_minutes": "-5"})
    assert response.status_code == 200
    assert "duration_minutes" in response.context["form"].errors


def test_complete_with_one_click_via_htmx(org_setup, act_setup, as_user, frozen_now):
    s, a = org_setup, act_setup
    act = services.create_activity(
        actor=s.rep, activity_type=a.call, subject="Call", due_on=dt.date(2026, 3, 16)
    )
    response = as_user(s.rep).post(
        reverse("activities:complete", args=[act.pk]), {}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 204
    act.refresh_from_db()
    assert act.done_at is not None


# --- minutes form ---------------------------------------------------------------------------


def test_minutes_form_records_participants_and_agreements(
    org_setup, act_setup, as_user, frozen_now
):
    s, a = org_setup, act_setup
    act = _meeting(s, a, contacts=[a.jane])
    client = as_user(s.rep)
    url = reverse("activities:minutes", args=[act.pk])
    response = client.get(url)
    assert response.status_code == 200 and "agreements-TOTAL_FORMS" in response.content.decode()
    data = {
        "version": act.version,
        "participant_users": [s.rep.pk, s.manager.pk],
        "participant_contacts": [a.jane.pk],
        "discussion": "Scope and budget",
        "agreements-TOTAL_FORMS": "3",
        "agreements-INITIAL_FORMS": "0",
        "agreements-MIN_NUM_FORMS": "0",
        "agreements-MAX_NUM_FORMS": "50",
        "agreements-0-text": "Send the offer",
        "agreements-0-responsible": f"u:{s.rep.pk}",
        "agreements-0-due_on": "2026-03-20",
        "agreements-1-text": "Share technical data",
        "agreements-1-responsible": f"c:{a.jane.pk}",
        "agreements-2-text": "",
    }
    response = client.post(url, data)
    assert response.status_code == 302
    act.refresh_from_db()
    assert act.discussion == "Scope and budget"
    assert set(act.participant_users.all()) == {s.rep, s.manager}
    rows = list(
        Agreement.objects.filter(activity=act)
        .order_by("id")
        .values_list("text", "owner", "owner_contact")
    )
    assert rows == [("Send the offer", s.rep.pk, None), ("Share technical data", None, a.jane.pk)]


def test_minutes_form_needs_a_responsible(org_setup, act_setup, as_user, frozen_now):
    s, a = org_setup, act_setup
    act = _meeting(s, a)
    data = {
        "version": act.version, "discussion": "x",
        "agreements-TOTAL_FORMS": "1", "agreements-INITIAL_FORMS": "0",
        "agreements-0-text": "Orphan agreement",
    }  # fmt: skip
    response = as_user(s.rep).post(reverse("activities:minutes", args=[act.pk]), data)
    assert response.status_code == 200
    assert "Choose who is responsible." in response.content.decode()
    assert not Agreement.objects.exists()


def test_minutes_only_for_meetings(org_setup, act_setup, as_user, frozen_now):
    s, a = org_setup, act_setup
    call = services.create_activity(
        actor=s.rep, activity_type=a.call, subject="Call", due_on=dt.date(2026, 3, 17)
    )
    response = as_user(s.rep).get(reverse("activities:minutes", args=[call.pk]))
    assert response.status_code == 302


def test_logging_a_done_meeting_leads_to_its_minutes(org_setup, act_setup, as_user, frozen_now):
    s, a = org_setup, act_setup
    demo = ActivityTypeFactory(code="demo", name="Demo", is_meeting=True)
    response = as_user(s.rep).post(
        reverse("activities:create") + "?next=/agenda/",
        {"activity_type": demo.pk, "subject": "Demo done", "owner": s.rep.pk,
         "account": a.acme.pk, "starts_at": "2026-03-16T08:00", "ends_at": "2026-03-16T09:00",
         "done": "on", "next": "/agenda/"},
    )  # fmt: skip
    act = Activity.objects.get(subject="Demo done")
    assert act.done_at is not None and act.duration_minutes == 60
    assert response["Location"].startswith(reverse("activities:minutes", args=[act.pk]))
