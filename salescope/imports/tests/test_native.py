"""The full export and reading it back: round trip, refusals, bad archives, the command."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, models

from salescope.accounts.models import Account
from salescope.activities.models import Attachment, Comment
from salescope.core.errors import PermissionDenied
from salescope.core.models import ExternalId
from salescope.demo.generator import generate
from salescope.imports import native
from salescope.imports.errors import ImportFileError
from salescope.leads.models import Campaign, Lead
from salescope.org.models import CompanySettings, Currency, ExchangeRate, Role, Team, User
from salescope.pipeline.models import Opportunity, OpportunityEvent, Source

pytestmark = pytest.mark.django_db

END = dt.date(2026, 3, 16)


def _enrich() -> User:
    """What the demo company lacks: leads, campaigns, external ids, a parent, an attachment."""
    admin = User.objects.filter(role=Role.ADMIN).order_by("pk").first()
    assert admin is not None
    now = dt.datetime(2026, 3, 1, 8, 0, 0, 123456, tzinfo=dt.UTC)
    campaign = Campaign.objects.create(
        name="Fair 2026", channel="event", cost=Decimal("1200.50"), currency_id="EUR",
        starts_on=dt.date(2026, 2, 1), ends_on=dt.date(2026, 2, 3),
    )  # fmt: skip
    source = Source.objects.order_by("pk").first()
    rep = User.objects.filter(role=Role.REP).order_by("pk").first()
    Lead.objects.create(
        first_name="Ünal", last_name="Özdemir", company='=HYPERLINK("x")', email="u@example.de",
        source=source, campaign=campaign, status="in_progress", owner=rep, score=-3,
        notes="line 1\r\nline 2, \"quoted\"", created_at=now, updated_at=now, version=4,
    )  # fmt: skip
    Lead.objects.create(last_name="Nobody", created_at=now, updated_at=now)
    first, second = Account.objects.order_by("pk")[:2]
    Account.objects.filter(pk=first.pk).update(parent=second)  # a forward reference
    for model, pk in ((Account, first.pk), (User, rep.pk), (Lead, Lead.objects.first().pk)):
        ExternalId.objects.create(
            content_type=ContentType.objects.get_for_model(model), object_id=pk,
            system="oldcrm", value=f"X-{model.__name__}-{pk}",
        )  # fmt: skip
    opp = Opportunity.objects.order_by("pk").first()
    Attachment.objects.create(
        opportunity=opp, file="attachments/2026/03/offer.pdf", filename="offer.pdf",
        content_type="application/pdf", size=1234, uploaded_by=rep, uploaded_at=now,
    )  # fmt: skip
    if not Comment.objects.exists():
        Comment.objects.create(opportunity=opp, author=rep, body="Hi", created_at=now)
    ExchangeRate.objects.get_or_create(
        currency_id="USD", valid_from=dt.date(2026, 1, 1), defaults={"rate": Decimal("0.9")}
    )
    return admin


def _all_tables() -> list[str]:
    """Every table of the archive plus the link tables of its many-to-many columns."""
    tables = []
    for spec in native.TABLES:
        for name in spec.m2m:
            field = spec.model._meta.get_field(name)
            assert isinstance(field, models.ManyToManyField)
            tables.append(field.remote_field.through._meta.db_table)
    return tables + [spec.model._meta.db_table for spec in reversed(native.TABLES)]


def _wipe(keep_user: User | None) -> None:
    """An empty instance: raw deletes (the event table refuses deletes through the ORM)."""
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM auth_permission WHERE 1 = 0")  # (keeps the cursor honest)
        for table in _all_tables():
            if table == User._meta.db_table and keep_user is not None:
                cursor.execute(f"DELETE FROM {table} WHERE id <> %s", [keep_user.pk])
            elif table == Currency._meta.db_table or table == CompanySettings._meta.db_table:
                continue  # an empty instance has its currencies and company settings
            else:
                cursor.execute(f"DELETE FROM {table}")
    if keep_user is not None:
        # The new instance's administrator: same username, a different profile until import.
        User.objects.filter(pk=keep_user.pk).update(first_name="Temp", team=None)


def _members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _csv(data: bytes, table: str) -> list[dict[str, str]]:
    text = _members(data)[f"{table}.csv"].decode("utf-8")
    return list(csv.DictReader(io.StringIO(text)))


@pytest.fixture
def company(frozen_now: Any) -> User:
    generate(opportunities=40, seed=5, end=END)
    return _enrich()


@pytest.mark.parametrize("keep_admin", [True, False], ids=["admin-kept", "no-users"])
def test_round_trip_gives_identical_archives(company: User, keep_admin: bool) -> None:
    first = native.export_bytes(actor=company)
    manifest = json.loads(_members(first)["manifest.json"])
    counts = manifest["counts"]
    assert manifest["format"] == native.FORMAT and manifest["version"] == native.VERSION
    assert counts["opportunities"] == Opportunity.objects.count() == 40
    assert counts["opportunity_events"] == OpportunityEvent.objects.count() > 40
    assert counts["leads"] == 2 and counts["external_ids"] == 3 and counts["attachments"] == 1
    assert all(
        counts[name] > 0
        for name in (
            "users",
            "teams",
            "stages",
            "activities",
            "account_contacts",
            "comments",
            "agreements",
        )
    )
    events_before = list(
        OpportunityEvent.objects.order_by("pk").values_list(
            "pk", "opportunity_id", "action_id", "occurred_at", "recorded_at", "origin", "kind"
        )
    )
    versions_before = dict(Opportunity.objects.values_list("pk", "version"))

    _wipe(company if keep_admin else None)
    assert not Opportunity.objects.exists() and not OpportunityEvent.objects.exists()
    result = native.import_archive(first, actor=company if keep_admin else None)
    connection.check_constraints()
    assert result == counts

    second = native.export_bytes(actor=None)
    a, b = _members(first), _members(second)
    assert a.keys() == b.keys()
    for name in a:
        if name != "manifest.json":
            assert a[name] == b[name], f"{name} differs after the round trip"
    m1, m2 = json.loads(a["manifest.json"]), json.loads(b["manifest.json"])
    m1.pop("created_at"), m2.pop("created_at")
    assert m1 == m2
    # Same ids, event order, action ids, timestamps and versions.
    assert events_before == list(
        OpportunityEvent.objects.order_by("pk").values_list(
            "pk", "opportunity_id", "action_id", "occurred_at", "recorded_at", "origin", "kind"
        )
    )
    assert versions_before == dict(Opportunity.objects.values_list("pk", "version"))
    lead = Lead.objects.get(last_name="Özdemir")
    assert lead.notes == 'line 1\r\nline 2, "quoted"' and lead.company == '=HYPERLINK("x")'
    assert lead.campaign.name == "Fair 2026" and lead.score == -3 and lead.version == 4
    assert Account.objects.filter(parent__isnull=False).count() == 1
    # New records continue after the imported ids (sequences moved on PostgreSQL).
    fresh = Source.objects.create(name="After import")
    assert fresh.pk > max(int(r["id"]) for r in _csv(first, "sources"))


def test_the_archive_is_not_neutralised(company: User) -> None:
    data = native.export_bytes(actor=company)
    leads = _csv(data, "leads")
    assert '=HYPERLINK("x")' in {row["company"] for row in leads}


def test_users_are_referred_to_by_username_and_have_no_password(company: User) -> None:
    data = native.export_bytes(actor=company)
    users = _csv(data, "users")
    assert "password" not in users[0] and "id" not in users[0]
    usernames = {row["username"] for row in users}
    assert {row["owner"] for row in _csv(data, "opportunities")} <= usernames
    ext = {row["value"]: row["object_id"] for row in _csv(data, "external_ids")}
    rep = User.objects.filter(role=Role.REP).order_by("pk").first()
    assert ext[f"X-User-{rep.pk}"] == rep.username


def test_imported_new_users_cannot_log_in_until_a_password_is_set(company: User) -> None:
    data = native.export_bytes(actor=company)
    _wipe(company)
    native.import_archive(data, actor=company)
    others = User.objects.exclude(pk=company.pk)
    assert others.exists()
    assert not any(u.has_usable_password() for u in others)
    company.refresh_from_db()
    assert company.has_usable_password() and company.role == Role.ADMIN


# --- refusals ------------------------------------------------------------------------------


def test_only_admins_export_and_import(org_setup: Any) -> None:
    for user in (org_setup.manager, org_setup.rep, org_setup.readonly, org_setup.marketing):
        with pytest.raises(PermissionDenied):
            native.export_bytes(actor=user)
    data = native.export_bytes(actor=org_setup.admin)
    with pytest.raises(PermissionDenied):
        native.import_archive(data, actor=org_setup.manager)


def test_refuses_an_instance_with_data(company: User) -> None:
    data = native.export_bytes(actor=company)
    before = Lead.objects.count()
    with pytest.raises(ImportFileError) as exc:
        native.import_archive(data, actor=company)
    assert exc.value.code == native.CODE_NOT_EMPTY
    assert "opportunities: 40" in str(exc.value)
    assert Lead.objects.count() == before


def _rewrite(data: bytes, name: str, change: Any) -> bytes:
    members = _members(data)
    members[name] = change(members[name])
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for key, value in members.items():
            archive.writestr(key, value)
    return out.getvalue()


def _replace(old: str, new: str, count: int = 1) -> Any:
    def change(content: bytes) -> bytes:
        text = content.decode("utf-8")
        assert old in text, old
        return text.replace(old, new, count).encode("utf-8")

    return change


def _cell(column: str, value: str) -> Any:
    """Set ``column`` of the first data row."""

    def change(content: bytes) -> bytes:
        rows = list(csv.reader(io.StringIO(content.decode("utf-8"))))
        rows[1][rows[0].index(column)] = value
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows(rows)
        return out.getvalue().encode("utf-8")

    return change


@pytest.fixture
def small_archive(org_setup: Any) -> tuple[bytes, User]:
    """A small company's archive, and the instance emptied for reading it back."""
    Lead.objects.create(last_name="Lead", owner=org_setup.admin,
                        created_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
                        updated_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))  # fmt: skip
    data = native.export_bytes(actor=org_setup.admin)
    _wipe(org_setup.admin)
    return data, org_setup.admin


@pytest.mark.parametrize(
    ("name", "change", "message"),
    [
        ("manifest.json", lambda c: b"{", "not valid JSON"),
        ("manifest.json", _replace('"version": 1', '"version": 99'), "version 99"),
        ("manifest.json", _replace('"salescope-export"', '"other"'), "does not describe"),
        ("stages.csv", _replace("default_probability", "chance"), "columns do not match"),
        ("stages.csv", _cell("default_probability", "ten"), "default_probability"),
        ("leads.csv", _cell("created_at", "yesterday"), "created_at"),
        ("leads.csv", _cell("created_at", "2026-01-01T00:00:00"), "time zone"),
        ("stages.csv", _cell("pipeline", "999999"), "no pipeline with this id"),
        ("leads.csv", _cell("owner", "ghost"), "no user with this username"),
        ("sources.csv", lambda c: c + b"77,Extra,other,true\n", "the manifest says"),
        ("stages.csv", lambda c: c + c.split(b"\n")[1] + b"\n", "appears twice"),
        ("leads.csv", lambda c: c + b"2,1\n", "cells instead of"),
        ("leads.csv", lambda c: b"\xff\xfe" + c, "not UTF-8 text"),
        ("leads.csv", lambda c: c + b'3,"unterminated\n', "not valid CSV"),
    ],
)
def test_bad_archives_are_refused_and_nothing_is_written(
    small_archive: tuple[bytes, User], name: str, change: Any, message: str
) -> None:
    data, admin = small_archive
    bad = _rewrite(data, name, change)
    with pytest.raises(ImportFileError) as exc:
        native.import_archive(bad, actor=admin)
    assert message in str(exc.value)
    assert not Lead.objects.exists() and not Team.objects.exists()
    native.import_archive(data, actor=admin)  # the untouched archive reads back
    assert Lead.objects.count() == 1 and Team.objects.count() == 2


def test_missing_tables_are_refused(small_archive: tuple[bytes, User]) -> None:
    data, admin = small_archive
    members = _members(data)
    del members["leads.csv"]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for key, value in members.items():
            archive.writestr(key, value)
    with pytest.raises(ImportFileError, match=r"lacks leads\.csv"):
        native.import_archive(out.getvalue(), actor=admin)
    assert not Lead.objects.exists()


@pytest.mark.parametrize("data", [b"", b"not a zip", b"PK\x03\x04garbage"])
def test_not_an_archive(org_setup: Any, data: bytes) -> None:
    assert not native.is_native_archive(data)
    with pytest.raises(ValidationError):
        native.import_archive(data, actor=org_setup.admin)


def test_zip_without_manifest(org_setup: Any) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("deals.csv", "a,b\n1,2\n")
    assert not native.is_native_archive(out.getvalue())
    with pytest.raises(ImportFileError, match=r"no manifest\.json"):
        native.import_archive(out.getvalue(), actor=org_setup.admin)


# --- the command ---------------------------------------------------------------------------


def test_export_command_writes_the_archive(org_setup: Any, tmp_path: Path) -> None:
    target = tmp_path / "company.zip"
    out = io.StringIO()
    call_command("export", "--all", str(target), stdout=out)
    assert native.is_native_archive(target.read_bytes())
    assert "users: 8" in out.getvalue()
    with pytest.raises(CommandError, match="exists"):
        call_command("export", "--all", str(target))
    call_command("export", "--all", str(target), "--force", "--as", "admin", stdout=out)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["out.zip"], "--all"),
        (["--all", "out.csv"], ".zip"),
        (["--all", "out.zip", "--as", "nobody"], "No user"),
        (["--all", "out.zip", "--as", "rep"], "administrators"),
        (["--all", "missing-dir/out.zip"], "not a directory"),
    ],
)
def test_export_command_bad_input(
    org_setup: Any, tmp_path: Path, monkeypatch: Any, args: list[str], message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(CommandError, match=message):
        call_command("export", *args)
    assert not list(tmp_path.glob("*.zip"))


def test_dry_run_checks_everything_and_writes_nothing(small_archive: tuple[bytes, User]) -> None:
    data, admin = small_archive
    counts = native.import_archive(data, actor=admin, dry_run=True)
    assert counts["leads"] == 1 and counts["stages"] == 10  # (4 + won + lost) + (2 + won + lost)
    assert not Lead.objects.exists() and not Team.objects.exists()


def test_import_command_recognises_the_archive(org_setup: Any, tmp_path: Path) -> None:
    Lead.objects.create(last_name="Lead", owner=org_setup.rep,
                        created_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
                        updated_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))  # fmt: skip
    target = tmp_path / "company.zip"
    call_command("export", "--all", str(target), stdout=io.StringIO())
    with pytest.raises(CommandError, match="empty instance"):
        call_command("import", str(target), stdout=io.StringIO())
    _wipe(None)
    out = io.StringIO()
    call_command("import", str(target), "--dry-run", "--json", stdout=out)
    assert json.loads(out.getvalue())["counts"]["leads"] == 1
    assert not Lead.objects.exists()
    out = io.StringIO()
    call_command("import", str(target), stdout=out)
    assert "leads: 1" in out.getvalue()
    assert Lead.objects.get().owner.username == "rep"
    assert User.objects.count() == 8
