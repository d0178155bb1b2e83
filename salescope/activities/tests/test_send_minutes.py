"""Sending meeting minutes to the participants (A3)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from salescope.accounts.services import create_contact
from salescope.activities import services
from salescope.activities.models import Activity, Comment
from salescope.testing.fixtures import FIXED_NOW

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 3, 13, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def meeting(org_setup, act_setup, frozen_now):
    s, a = org_setup, act_setup
    act = services.create_activity(
        actor=s.rep, activity_type=a.meeting, subject="Kick-off workshop", opportunity=a.deal,
        starts_at=START, ends_at=START + dt.timedelta(hours=1),
    )  # fmt: skip
    return act


def _minutes(s, a, act, **kwargs):
    kwargs.setdefault("discussion", "Scope, budget & timing")
    kwargs.setdefault("participant_users", [s.rep, s.manager])
    kwargs.setdefault("participant_contacts", [a.jane])
    kwargs.setdefault(
        "agreements",
        [
            {"text": "Send the offer", "owner": s.rep, "due_on": dt.date(2026, 3, 20)},
            {"text": "Share the floor plan", "owner_contact": a.jane},
        ],
    )
    return services.record_minutes(activity=act, actor=s.rep, **kwargs)


def test_send_minutes_to_every_participant(org_setup, act_setup, meeting, mailoutbox):
    s, a = org_setup, act_setup
    a.jane.email = "jane@acme.example"
    a.jane.save()
    nomail = create_contact(actor=s.rep, first_name="No", last_name="Mail", account=a.acme)
    _minutes(s, a, meeting, participant_contacts=[a.jane, nomail])

    sent = services.send_minutes(activity=meeting, actor=s.rep)

    assert sent.without_email == ["No Mail"]
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert sorted(mail.to) == sorted(
        [
            f"{s.rep} <rep@example.com>",
            f"{s.manager} <manager@example.com>",
            "Jane Doe <jane@acme.example>",
        ]
    )
    assert mail.reply_to == ["rep@example.com"]
    assert "Kick-off workshop" in mail.subject and mail.subject.startswith("Minutes:")
    assert "Send the offer" in mail.body and "Share the floor plan" in mail.body
    assert "Scope, budget & timing" in mail.body  # the text part is not HTML-escaped
    html, mimetype = mail.alternatives[0]
    assert mimetype == "text/html"
    assert "Send the offer" in html and "Scope, budget &amp; timing" in html and "<table" in html

    meeting.refresh_from_db()
    assert meeting.minutes_sent_at == FIXED_NOW and meeting.version == 3
    comment = Comment.objects.get()
    assert comment.opportunity == a.deal and comment.author == s.rep
    assert "Jane Doe" in comment.body and "Minutes" in comment.body


def test_minutes_go_out_in_each_recipients_language(org_setup, act_setup, meeting, mailoutbox):
    s, a = org_setup, act_setup
    a.jane.email, a.jane.language = "jane@acme.example", "de"
    a.jane.save()
    _minutes(s, a, meeting)
    sent = services.send_minutes(activity=meeting, actor=s.rep)
    assert sent.messages == 2
    by_to = {tuple(m.to): m for m in mailoutbox}
    assert ("Jane Doe <jane@acme.example>",) in by_to
    assert all(m.alternatives for m in mailoutbox)


def test_nothing_is_sent_without_recipients(org_setup, act_setup, meeting, mailoutbox):
    s, a = org_setup, act_setup
    _minutes(s, a, meeting, participant_users=[], participant_contacts=[a.jane])  # Jane: no e-mail
    with pytest.raises(ValidationError) as exc:
        services.send_minutes(activity=meeting, actor=s.rep)
    assert "participants" in exc.value.message_dict
    assert "Jane Doe" in exc.value.message_dict["participants"][0]
    assert mailoutbox == []
    stored = Activity.objects.get(pk=meeting.pk)
    assert stored.minutes_sent_at is None and stored.version == 2
    assert not Comment.objects.exists()


def test_nothing_is_sent_without_minutes(org_setup, meeting, mailoutbox):
    s = org_setup
    meeting.participant_users.set([s.rep])
    with pytest.raises(ValidationError) as exc:
        services.send_minutes(activity=meeting, actor=s.rep)
    assert "discussion" in exc.value.message_dict
    assert mailoutbox == []
    assert Activity.objects.get(pk=meeting.pk).minutes_sent_at is None


def test_only_who_may_change_the_meeting_sends(org_setup, act_setup, meeting, mailoutbox):
    from django.core.exceptions import PermissionDenied

    s, a = org_setup, act_setup
    _minutes(s, a, meeting)
    for user in (s.readonly, s.other_rep):
        with pytest.raises(PermissionDenied):
            services.send_minutes(activity=meeting, actor=user)
    assert mailoutbox == []


def test_send_minutes_view_confirms(org_setup, act_setup, meeting, mailoutbox, client):
    s, a = org_setup, act_setup
    client.force_login(s.rep)
    url = reverse("activities:send_minutes", args=[meeting.pk])
    response = client.post(url, follow=True)  # no minutes yet
    assert "There are no minutes to send yet" in response.content.decode()
    assert mailoutbox == []

    _minutes(s, a, meeting)
    response = client.post(url, follow=True)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Minutes sent to" in html and "Not sent to Jane Doe: no e-mail address." in html
    assert len(mailoutbox) == 1
    assert 'data-testid="minutes-sent"' in html
