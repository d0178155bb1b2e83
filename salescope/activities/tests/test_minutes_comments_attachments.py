"""Meeting minutes (A3), comments and attachments (D5)."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile

from salescope.activities import services
from salescope.activities.models import Activity, Agreement, Attachment, Comment
from salescope.core.errors import ConflictError
from salescope.testing.fixtures import FIXED_NOW

pytestmark = pytest.mark.django_db


@pytest.fixture
def meeting(org_setup, act_setup):
    return services.create_activity(
        actor=org_setup.rep,
        activity_type=act_setup.meeting,
        subject="Workshop",
        opportunity=act_setup.deal,
        starts_at=dt.datetime(2026, 3, 12, 9, 0, tzinfo=dt.UTC),
    )


# --- minutes -----------------------------------------------------------------------------


def test_record_minutes(org_setup, act_setup, meeting):
    s, a = org_setup, act_setup
    services.record_minutes(
        activity=meeting,
        actor=s.rep,
        expected_version=1,
        discussion="Scope and budget",
        participant_users=[s.rep, s.manager],
        participant_contacts=[a.jane],
        agreements=[
            {"text": "Send the product sheet", "owner": s.rep, "due_on": dt.date(2026, 3, 20)},
            {"text": "Share the technical data", "owner_contact": a.jane},
        ],
    )
    stored = Activity.objects.get(pk=meeting.pk)
    assert stored.discussion == "Scope and budget" and stored.version == 2
    assert set(stored.participant_users.all()) == {s.rep, s.manager}
    assert list(stored.contacts.all()) == [a.jane]
    rows = list(stored.agreements.order_by("id").values_list("text", "owner", "owner_contact"))
    assert rows == [
        ("Send the product sheet", s.rep.pk, None),
        ("Share the technical data", None, a.jane.pk),
    ]
    # Recording again replaces the agreements; participants stay when not given.
    services.record_minutes(
        activity=meeting, actor=s.rep, discussion="Scope, budget and timing",
        agreements=[{"text": "Book the trial", "owner": s.rep2}],
    )  # fmt: skip
    stored = Activity.objects.get(pk=meeting.pk)
    assert list(stored.agreements.values_list("text", flat=True)) == ["Book the trial"]
    assert set(stored.participant_users.all()) == {s.rep, s.manager}


def test_minutes_only_for_meeting_types(org_setup, act_setup):
    s, a = org_setup, act_setup
    call = services.create_activity(actor=s.rep, activity_type=a.call, subject="Call")
    with pytest.raises(ValidationError) as exc:
        services.record_minutes(activity=call, actor=s.rep, discussion="x")
    assert "activity_type" in exc.value.message_dict


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("discussion", {"discussion": ""}),
        ("discussion", {"discussion": 12}),
        ("participant_users", {"participant_users": ["rep"]}),
        ("participant_contacts", {"participant_contacts": ["Jane"]}),
        ("agreements", {"agreements": [{"text": "", "owner": "rep"}]}),
        ("agreements", {"agreements": [{"text": "x"}]}),
        ("agreements", {"agreements": [{"text": "x", "owner": "rep", "owner_contact": "jane"}]}),
        ("agreements", {"agreements": [{"text": "x" * 301, "owner": "rep"}]}),
        ("agreements", {"agreements": [{"text": "x", "owner": "rep", "due_on": "soon"}]}),
        ("agreements", {"agreements": [{"text": "x", "owner": "readonly"}]}),
        ("agreements", {"agreements": [{"text": "x", "owner": "rep", "colour": "red"}]}),
        ("agreements", {"agreements": "do it"}),
        ("agreements", {"agreements": [{"text": "x\x00", "owner": "rep"}]}),
        ("discussion", {"discussion": "notes\x00"}),
    ],
)
def test_bad_minutes_are_refused_and_nothing_is_written(
    org_setup, act_setup, meeting, field, kwargs
):
    s, a = org_setup, act_setup
    people = {"rep": s.rep, "readonly": s.readonly, "jane": a.jane}
    if "agreements" in kwargs and isinstance(kwargs["agreements"], list):
        kwargs = {
            "agreements": [
                {k: people.get(v, v) if k in ("owner", "owner_contact") else v
                 for k, v in item.items()}
                for item in kwargs["agreements"]
            ]
        }  # fmt: skip
    kwargs.setdefault("discussion", "Notes")
    with pytest.raises(ValidationError) as exc:
        services.record_minutes(activity=meeting, actor=s.rep, **kwargs)
    assert field in exc.value.message_dict
    assert field.split("_")[0] in " ".join(exc.value.message_dict[field])
    stored = Activity.objects.get(pk=meeting.pk)
    assert stored.version == 1 and stored.discussion == ""
    assert not Agreement.objects.exists() and not stored.participant_users.exists()


def test_minutes_need_the_right_to_change_the_meeting(org_setup, act_setup, meeting):
    s = org_setup
    for user in (s.readonly, s.other_rep, s.marketing):
        with pytest.raises(PermissionDenied):
            services.record_minutes(activity=meeting, actor=user, discussion="x")
    services.record_minutes(activity=meeting, actor=s.manager, discussion="By the manager")
    with pytest.raises(ConflictError):
        services.record_minutes(activity=meeting, actor=s.rep, discussion="y", expected_version=1)


# --- comments ----------------------------------------------------------------------------


def test_comment_on_an_account_and_an_opportunity(org_setup, act_setup, frozen_now):
    s, a = org_setup, act_setup
    comment = services.add_comment(actor=s.rep, body="  Called, no answer. ", account=a.acme)
    assert (comment.body, comment.author, comment.created_at) == (
        "Called, no answer.",
        s.rep,
        FIXED_NOW,
    )
    # Anyone who sees the record may comment, also without the right to change it.
    services.add_comment(actor=s.marketing, body="Came to our webinar", account=a.acme)
    services.add_comment(actor=s.manager, body="Push for Q2", opportunity=a.deal)
    assert Comment.objects.filter(account=a.acme).count() == 2
    assert Comment.objects.filter(opportunity=a.deal).count() == 1


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("body", {"body": "", "account": "acme"}),
        ("body", {"body": "   ", "account": "acme"}),
        ("body", {"body": "x" * 10_001, "account": "acme"}),
        ("body", {"body": None, "account": "acme"}),
        ("body", {"body": "Hello\x00", "account": "acme"}),
        ("account", {"body": "x"}),
        ("account", {"body": "x", "account": "acme", "opportunity": "deal"}),
        ("account", {"body": "x", "account": "Acme GmbH"}),
        ("opportunity", {"body": "x", "opportunity": 3}),
    ],
)
def test_bad_comments_are_refused(org_setup, act_setup, field, kwargs):
    s, a = org_setup, act_setup
    records = {"acme": a.acme, "deal": a.deal}
    kwargs = {k: records.get(v, v) if isinstance(v, str) and k != "body" else v
              for k, v in kwargs.items()}  # fmt: skip
    with pytest.raises(ValidationError) as exc:
        services.add_comment(actor=s.rep, **kwargs)
    assert field in exc.value.message_dict
    assert field in " ".join(exc.value.message_dict[field]).lower()
    assert not Comment.objects.exists()


def test_a_long_comment_at_the_limit_is_fine(org_setup, act_setup):
    services.add_comment(actor=org_setup.rep, body="x" * 10_000, account=act_setup.acme)
    assert Comment.objects.count() == 1


def test_comments_need_sight_of_the_record_and_a_writer(org_setup, act_setup):
    s, a = org_setup, act_setup
    with pytest.raises(PermissionDenied):
        services.add_comment(actor=s.rep, body="x", account=a.south)
    with pytest.raises(PermissionDenied):
        services.add_comment(actor=s.rep, body="x", opportunity=a.south_deal)
    with pytest.raises(PermissionDenied):
        services.add_comment(actor=s.readonly, body="x", account=a.acme)
    with pytest.raises(PermissionDenied):
        services.add_comment(actor=cast(Any, None), body="x", account=a.acme)
    assert not Comment.objects.exists()


# --- attachments -------------------------------------------------------------------------


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.SALESCOPE_MAX_ATTACHMENT_BYTES = 1000
    return tmp_path


def test_attach_a_file(org_setup, act_setup, media, frozen_now):
    s, a = org_setup, act_setup
    upload = SimpleUploadedFile("Angebot Müller.pdf", b"%PDF-1.4 offer", "application/pdf")
    att = services.add_attachment(actor=s.rep, file=upload, opportunity=a.deal)
    att.refresh_from_db()
    assert att.filename == "Angebot Müller.pdf"
    assert att.size == 14 and att.content_type == "application/pdf"
    assert att.uploaded_by == s.rep and att.uploaded_at == FIXED_NOW
    name = str(att.file.name)
    assert name.startswith("attachments/") and name.endswith("Muller.pdf")
    stored = media / att.file.name
    assert stored.read_bytes() == b"%PDF-1.4 offer"
    assert stored.resolve().is_relative_to(media.resolve())


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\jane\\report.xlsx", "report.xlsx"),
        (".htaccess", "htaccess"),
        ("line\nbreak\x00.txt", "linebreak.txt"),
        ("", "attachment"),
        ("...", "attachment"),
        ("a" * 300 + ".pdf", "a" * 251 + ".pdf"),
    ],
)
def test_file_names_are_made_safe(org_setup, act_setup, media, name, expected):
    s, a = org_setup, act_setup
    upload = ContentFile(b"data", name=name)  # an upload object keeps any name it is given
    att = services.add_attachment(actor=s.rep, file=upload, account=a.acme)
    assert att.filename == expected
    assert (media / att.file.name).exists()
    assert (media / att.file.name).resolve().is_relative_to(media.resolve())


def test_a_dubious_content_type_is_replaced_by_a_guess(org_setup, act_setup, media):
    upload = SimpleUploadedFile("notes.txt", b"data", "text/html; <script>")
    att = services.add_attachment(actor=org_setup.rep, file=upload, account=act_setup.acme)
    assert att.content_type == "text/html"
    upload = SimpleUploadedFile("notes.txt", b"data", "<script>")
    att = services.add_attachment(actor=org_setup.rep, file=upload, account=act_setup.acme)
    assert att.content_type == "text/plain"


@pytest.mark.parametrize(
    ("field", "content", "target"),
    [
        ("file", b"x" * 1001, "acme"),
        ("file", b"", "acme"),
        ("file", None, "acme"),
        ("account", b"data", None),
        ("account", b"data", "both"),
    ],
)
def test_bad_attachments_are_refused_and_nothing_is_stored(
    org_setup, act_setup, media, field, content, target
):
    s, a = org_setup, act_setup
    upload = None if content is None else SimpleUploadedFile("f.txt", content, "text/plain")
    targets = {"acme": {"account": a.acme}, None: {},
               "both": {"account": a.acme, "opportunity": a.deal}}[target]  # fmt: skip
    with pytest.raises(ValidationError) as exc:
        services.add_attachment(actor=s.rep, file=upload, **targets)
    assert field in exc.value.message_dict
    assert not Attachment.objects.exists()
    assert not any(p.is_file() for p in media.rglob("*"))


def test_attachments_need_sight_of_the_record_and_a_writer(org_setup, act_setup, media):
    s, a = org_setup, act_setup
    for actor, target in [(s.rep, {"account": a.south}), (s.readonly, {"account": a.acme})]:
        with pytest.raises(PermissionDenied):
            services.add_attachment(actor=actor, file=SimpleUploadedFile("f.txt", b"x"), **target)
    assert not Attachment.objects.exists()
    assert not any(p.is_file() for p in media.rglob("*"))
