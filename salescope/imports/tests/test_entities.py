"""Importing leads, activities and contacts with their roles at accounts (engine via services)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from salescope.accounts.models import Account, AccountContact, Contact, ContactRole
from salescope.activities.models import Activity, ActivityType
from salescope.core.models import ExternalId
from salescope.imports import services
from salescope.imports.models import ImportJob, JobStatus
from salescope.leads.models import Campaign, Lead, LeadStatus
from salescope.pipeline.models import Opportunity, OpportunityEvent, Source

pytestmark = pytest.mark.django_db

BERLIN = dt.timezone(dt.timedelta(hours=1))  # February and March 2025 are winter time


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def counts() -> tuple[int, ...]:
    """Row counts of everything these imports write."""
    return (
        Lead.objects.count(),
        Campaign.objects.count(),
        Source.objects.count(),
        Activity.objects.count(),
        Activity.contacts.through.objects.count(),
        ActivityType.objects.count(),
        Account.objects.count(),
        Contact.objects.count(),
        AccountContact.objects.count(),
        AccountContact.roles.through.objects.count(),
        ContactRole.objects.count(),
        Opportunity.objects.count(),
        OpportunityEvent.objects.count(),
        ExternalId.objects.count(),
    )


def versions() -> dict[str, list[tuple[int, int]]]:
    """(pk, version) of every record: an unchanged re-run must not touch any."""
    return {
        "leads": list(Lead.objects.order_by("pk").values_list("pk", "version")),
        "activities": list(Activity.objects.order_by("pk").values_list("pk", "version")),
        "contacts": list(Contact.objects.order_by("pk").values_list("pk", "version")),
        "accounts": list(Account.objects.order_by("pk").values_list("pk", "version")),
    }


# --- leads --------------------------------------------------------------------------------

LEADS = """Lead-Nr;Vorname;Nachname;Firma;E-Mail;Quelle;Kampagne;Status;Betreuer;Angelegt
L1;Anna;Schmidt;Schmidt GmbH;anna@schmidt.example;Messe;Frühjahr 2025;Neu;{rep};03.02.2025
L2;Jörg;Weber;Weber & Söhne;joerg@weber.example;Website;Frühjahr 2025;In Bearbeitung;{rep2};\
14.02.2025
L3;;Lang;;;Messe;;Converted;{rep};28.02.2025
L4;Lea;Nowak;Nowak KG;lea@nowak.example;;;in progress;;01.03.2025
"""

LEAD_MAPPING: dict[str, Any] = {
    "name": "Leads from the old CRM",
    "tables": [
        {
            "file": "leads*",
            "entity": "leads",
            "system": "oldcrm",
            "timezone": "Europe/Berlin",
            "columns": {
                "Lead-Nr": "external_id",
                "Vorname": "first_name",
                "Nachname": "last_name",
                "Firma": "company",
                "E-Mail": "email",
                "Quelle": "source",
                "Kampagne": "campaign",
                "Status": "status",
                "Betreuer": "owner",
                "Angelegt": "created_at",
            },
            "values": {
                "status": {"Neu": "new", "In Bearbeitung": "in_progress", "Abgelehnt": "rejected"},
                "source": {"Messe": "Trade fair"},
            },
        }
    ],
}


def import_leads(tmp_path: Path, org: Any, text: str, **kwargs: Any) -> Any:
    path = write(tmp_path, "leads.csv", text.format(rep=org.rep.email, rep2=org.rep2.email))
    kwargs.setdefault("dry_run", False)
    return services.import_paths(paths=[path], mapping=LEAD_MAPPING, actor=org.admin, **kwargs)


def test_leads_are_created_field_by_field(tmp_path: Path, org_setup: Any, frozen_now: Any) -> None:
    result = import_leads(tmp_path, org_setup, LEADS)
    assert result.ok and result.written, result.errors
    assert result.summary["leads"] == {"created": 4, "updated": 0, "unchanged": 0, "rejected": 0}
    assert result.created_references["campaigns"] == ["Frühjahr 2025"]
    assert sorted(result.created_references["sources"]) == ["Trade fair", "Website"]

    anna = Lead.objects.get(email="anna@schmidt.example")
    assert (anna.first_name, anna.last_name, anna.company) == ("Anna", "Schmidt", "Schmidt GmbH")
    assert anna.source is not None and anna.source.name == "Trade fair"  # through the value map
    assert anna.campaign is not None and anna.campaign.name == "Frühjahr 2025"
    assert anna.campaign.currency_id == "EUR"  # the company currency
    assert anna.status == LeadStatus.NEW  # "Neu"
    assert anna.owner == org_setup.rep
    # 03.02.2025 is day first; midnight in Berlin is 23:00 UTC the day before.
    assert anna.created_at == dt.datetime(2025, 2, 3, tzinfo=BERLIN)
    assert anna.created_at.astimezone(dt.UTC) == dt.datetime(2025, 2, 2, 23, 0, tzinfo=dt.UTC)
    assert anna.created_by == org_setup.admin

    joerg = Lead.objects.get(email="joerg@weber.example")
    assert (joerg.first_name, joerg.last_name, joerg.company) == ("Jörg", "Weber", "Weber & Söhne")
    assert joerg.status == LeadStatus.IN_PROGRESS  # "In Bearbeitung"
    assert joerg.owner == org_setup.rep2
    assert joerg.source is not None and joerg.source.name == "Website"
    assert joerg.campaign == anna.campaign  # one campaign, not two
    assert joerg.created_at == dt.datetime(2025, 2, 14, tzinfo=BERLIN)

    lang = Lead.objects.get(last_name="Lang")
    assert (lang.first_name, lang.email, lang.company, lang.campaign) == ("", "", "", None)
    assert lang.status == LeadStatus.CONVERTED  # an English word, no value map needed
    assert lang.source == anna.source

    lea = Lead.objects.get(email="lea@nowak.example")
    assert lea.status == LeadStatus.IN_PROGRESS  # "in progress": case and spaces forgiven
    assert lea.owner is None  # no owner column value: leads may be unassigned
    assert (lea.source, lea.campaign) == (None, None)
    assert lea.created_at == dt.datetime(2025, 3, 1, tzinfo=BERLIN)

    ids = dict(
        ExternalId.objects.filter(system="oldcrm", value__startswith="L").values_list(
            "value", "object_id"
        )
    )
    assert ids == {"L1": anna.pk, "L2": joerg.pk, "L3": lang.pk, "L4": lea.pk}
    assert Campaign.objects.count() == 1


def test_leads_second_run_changes_nothing(tmp_path: Path, org_setup: Any, frozen_now: Any) -> None:
    import_leads(tmp_path, org_setup, LEADS)
    before, before_versions = counts(), versions()
    again = import_leads(tmp_path, org_setup, LEADS)
    assert again.ok and again.written
    assert again.summary["leads"] == {"created": 0, "updated": 0, "unchanged": 4, "rejected": 0}
    assert again.created_references == {}
    assert counts() == before
    assert versions() == before_versions


def test_leads_changed_value_updates_only_that_lead(
    tmp_path: Path, org_setup: Any, frozen_now: Any
) -> None:
    import_leads(tmp_path, org_setup, LEADS)
    changed = LEADS.replace("Neu;{rep};03.02.2025", "Abgelehnt;{rep};03.02.2025")
    result = import_leads(tmp_path, org_setup, changed)
    assert result.summary["leads"] == {"created": 0, "updated": 1, "unchanged": 3, "rejected": 0}
    anna = Lead.objects.get(email="anna@schmidt.example")
    assert anna.status == LeadStatus.REJECTED
    assert anna.version == 2


def test_lead_with_bad_date_or_status_rejects_everything(
    tmp_path: Path, org_setup: Any, frozen_now: Any
) -> None:
    bad = LEADS.replace("14.02.2025", "31.02.2025").replace("Converted", "Gewonnen")
    before = counts()
    result = import_leads(tmp_path, org_setup, bad)
    assert not result.written
    assert counts() == before  # all or nothing: not even the campaign or the sources
    by_column = {e.column: e for e in result.errors}
    assert set(by_column) == {"Angelegt", "Status"}
    date = by_column["Angelegt"]
    assert (date.table, date.row, date.value) == ("leads.csv", 3, "31.02.2025")
    assert date.message
    status = by_column["Status"]
    assert (status.table, status.row, status.value) == ("leads.csv", 4, "Gewonnen")
    assert "new, in_progress, rejected, converted" in status.message
    assert result.summary["leads"]["rejected"] == 2
    assert result.summary["leads"]["created"] == 2  # counted as a dry run would, then rolled back


def test_leads_through_a_job(tmp_path: Path, org_setup: Any, frozen_now: Any) -> None:
    """The wizard's and the API's path: create_job, dry run, real run."""
    text = LEADS.format(rep=org_setup.rep.email, rep2=org_setup.rep2.email)
    job = services.create_job(
        actor=org_setup.manager, files=[("leads.csv", text.encode())], mapping=LEAD_MAPPING
    )
    dry = services.run_import(job=job, dry_run=True, actor=org_setup.manager)
    assert dry.ok and not dry.written and Lead.objects.count() == 0
    job.refresh_from_db()
    assert job.status == JobStatus.ANALYSED
    assert job.summary["leads"]["created"] == 4
    real = services.run_import(job=job, dry_run=False, actor=org_setup.manager)
    assert real.written
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED and job.total_rows == 4
    assert Lead.objects.count() == 4
    assert Lead.objects.get(email="anna@schmidt.example").created_by == org_setup.manager
    assert ImportJob.objects.count() == 1


# --- accounts, contacts with roles, deals and activities ------------------------------------

ACCOUNTS = """ID,Name,Domain
ACC1,Acme GmbH,acme.example
ACC2,Beta AG,beta.example
"""

CONTACTS = """ID,First,Last,Email,Account ID,Role
C1,Clara,Klein,clara@acme.example,ACC1,"Decision maker, Champion"
C2,Dirk,Dorn,dirk@beta.example,ACC2,Buyer
C3,Eva,Ernst,eva@acme.example,ACC1,
"""

DEALS = """ID,Name,Account ID,Owner,Stage,Amount,Created
D1,Hall lighting,ACC1,{rep},Meeting,1200,2025-01-10
D2,Office retrofit,ACC2,{rep2},Proposal,5000,2025-02-01
"""

ACTIVITIES = """ID,Type,Subject,Due,Done,Minutes,Owner,Account ID,Deal ID,Contacts
A1,Call,Intro call,10.03.2025,11.03.2025 14:30,25,{rep},ACC1,D1,clara@acme.example
A2,Meeting,Workshop on site,12.03.2025,,90,{rep2},ACC2,D2,dirk@beta.example; eva@acme.example
A3,Demo,,20.03.2025,,,{rep},ACC1,,
A4,Call,Follow-up,24.03.2025,,,{rep},,D1,
"""

CRM_MAPPING: dict[str, Any] = {
    "name": "Old CRM",
    "tables": [
        {
            "file": "accounts*",
            "entity": "accounts",
            "system": "oldcrm",
            "columns": {"ID": "external_id", "Name": "name", "Domain": "domain"},
        },
        {
            "file": "contacts*",
            "entity": "contacts",
            "system": "oldcrm",
            "columns": {
                "ID": "external_id",
                "First": "first_name",
                "Last": "last_name",
                "Email": "email",
                "Account ID": "account_external_id",
                "Role": "role",
            },
        },
        {
            "file": "deals*",
            "entity": "opportunities",
            "system": "oldcrm",
            "date_format": "iso",
            "columns": {
                "ID": "external_id",
                "Name": "name",
                "Account ID": "account_external_id",
                "Owner": "owner",
                "Stage": "stage",
                "Amount": "amount",
                "Created": "created_at",
            },
            "defaults": {"currency": "EUR"},
        },
        {
            "file": "activities*",
            "entity": "activities",
            "system": "oldcrm",
            "timezone": "Europe/Berlin",
            "date_format": "dmy",
            "columns": {
                "ID": "external_id",
                "Type": "type",
                "Subject": "subject",
                "Due": "due_on",
                "Done": "done_at",
                "Minutes": "duration_minutes",
                "Owner": "owner",
                "Account ID": "account_external_id",
                "Deal ID": "opportunity_external_id",
                "Contacts": "contact_email",
            },
        },
    ],
}

FILES = {
    "accounts.csv": ACCOUNTS,
    "contacts.csv": CONTACTS,
    "deals.csv": DEALS,
    "activities.csv": ACTIVITIES,
}


@pytest.fixture
def types(db: Any) -> dict[str, ActivityType]:
    return {
        "Call": ActivityType.objects.create(name="Call", code="call"),
        "Meeting": ActivityType.objects.create(name="Meeting", code="meeting", is_meeting=True),
    }


def import_crm(tmp_path: Path, org: Any, files: dict[str, str] | None = None, **kwargs: Any) -> Any:
    paths = [
        write(tmp_path, name, text.format(rep=org.rep.email, rep2=org.rep2.email))
        for name, text in (files or FILES).items()
    ]
    kwargs.setdefault("dry_run", False)
    return services.import_paths(paths=paths, mapping=CRM_MAPPING, actor=org.admin, **kwargs)


def test_contacts_are_linked_to_their_accounts_with_roles(
    tmp_path: Path, org_setup: Any, frozen_now: Any, types: Any
) -> None:
    result = import_crm(tmp_path, org_setup)
    assert result.ok and result.written, result.errors
    assert result.summary["contacts"] == {"created": 3, "updated": 0, "unchanged": 0, "rejected": 0}
    assert sorted(result.created_references["contact roles"]) == [
        "Buyer",
        "Champion",
        "Decision maker",
    ]
    acme = Account.objects.get(name="Acme GmbH")
    beta = Account.objects.get(name="Beta AG")
    clara = Contact.objects.get(email="clara@acme.example")
    assert (clara.first_name, clara.last_name, clara.owner) == ("Clara", "Klein", org_setup.admin)
    membership = AccountContact.objects.get(contact=clara)
    assert membership.account == acme
    assert sorted(r.name for r in membership.roles.all()) == ["Champion", "Decision maker"]
    dirk = AccountContact.objects.get(contact__email="dirk@beta.example")
    assert dirk.account == beta
    assert [r.name for r in dirk.roles.all()] == ["Buyer"]
    eva = AccountContact.objects.get(contact__email="eva@acme.example")
    assert eva.account == acme and not eva.roles.exists()


def test_activities_are_created_field_by_field(
    tmp_path: Path, org_setup: Any, frozen_now: Any, types: Any
) -> None:
    result = import_crm(tmp_path, org_setup)
    assert result.ok and result.written, result.errors
    assert result.summary["activities"] == {
        "created": 4,
        "updated": 0,
        "unchanged": 0,
        "rejected": 0,
    }
    assert result.created_references["activity types"] == ["Demo"]  # unknown types are created
    acme = Account.objects.get(name="Acme GmbH")
    beta = Account.objects.get(name="Beta AG")
    d1 = Opportunity.objects.get(name="Hall lighting")
    d2 = Opportunity.objects.get(name="Office retrofit")

    call = Activity.objects.get(subject="Intro call")
    assert call.activity_type == types["Call"]
    assert call.due_on == dt.date(2025, 3, 10)
    assert call.done_at == dt.datetime(2025, 3, 11, 14, 30, tzinfo=BERLIN)
    assert call.duration_minutes == 25
    assert call.owner == org_setup.rep
    assert (call.account, call.opportunity) == (acme, d1)
    assert [c.email for c in call.contacts.all()] == ["clara@acme.example"]
    assert (call.created_by, call.created_at) == (org_setup.admin, frozen_now)

    workshop = Activity.objects.get(subject="Workshop on site")
    assert workshop.activity_type == types["Meeting"]
    assert workshop.due_on == dt.date(2025, 3, 12)
    assert workshop.done_at is None
    assert workshop.duration_minutes == 90
    assert workshop.owner == org_setup.rep2
    assert (workshop.account, workshop.opportunity) == (beta, d2)
    assert sorted(c.email for c in workshop.contacts.all()) == [
        "dirk@beta.example",
        "eva@acme.example",
    ]

    demo = Activity.objects.get(activity_type__name="Demo")
    assert demo.subject == "Demo"  # no subject: the type's name
    assert demo.activity_type.code == "demo"
    assert (demo.due_on, demo.duration_minutes, demo.done_at) == (dt.date(2025, 3, 20), None, None)
    assert (demo.account, demo.opportunity) == (acme, None)

    follow_up = Activity.objects.get(subject="Follow-up")
    assert (follow_up.account, follow_up.opportunity) == (None, d1)

    ids = dict(
        ExternalId.objects.filter(
            system="oldcrm", value__startswith="A", value__regex=r"^A\d"
        ).values_list("value", "object_id")
    )
    assert ids == {"A1": call.pk, "A2": workshop.pk, "A3": demo.pk, "A4": follow_up.pk}


def test_second_run_creates_and_updates_nothing(
    tmp_path: Path, org_setup: Any, frozen_now: Any, types: Any
) -> None:
    import_crm(tmp_path, org_setup)
    before, before_versions = counts(), versions()
    again = import_crm(tmp_path, org_setup)
    assert again.ok and again.written, again.errors
    for entity, n in (("accounts", 2), ("contacts", 3), ("opportunities", 2), ("activities", 4)):
        assert again.summary[entity] == {
            "created": 0,
            "updated": 0,
            "unchanged": n,
            "rejected": 0,
        }, entity
    assert again.created_references == {}
    assert counts() == before
    assert versions() == before_versions


def test_activities_without_external_id_match_on_their_natural_key(
    tmp_path: Path, org_setup: Any, frozen_now: Any, types: Any
) -> None:
    no_ids = "\n".join(line.split(",", 1)[1] for line in ACTIVITIES.strip().splitlines()) + "\n"
    files = {**FILES, "activities.csv": no_ids}
    first = import_crm(tmp_path, org_setup, files)
    assert first.ok and first.summary["activities"]["created"] == 4, first.errors
    before = counts()
    again = import_crm(tmp_path, org_setup, files)
    assert again.summary["activities"] == {
        "created": 0,
        "updated": 0,
        "unchanged": 4,
        "rejected": 0,
    }
    assert counts() == before


@pytest.mark.parametrize(
    ("line", "column", "value", "words"),
    [
        (
            "A5,Call,Bad date,32.03.2025,,,{rep},ACC1,,",
            "Due",
            "32.03.2025",
            (),
        ),
        (
            "A5,Call,Bad minutes,25.03.2025,,zwanzig,{rep},ACC1,,",
            "Minutes",
            "zwanzig",
            (),
        ),
        (
            "A5,Call,Unknown deal,25.03.2025,,,{rep},ACC1,D9,",
            "Deal ID",
            "D9",
            ("D9",),
        ),
        (
            "A5,Call,Unknown account,25.03.2025,,,{rep},ACC9,,",
            "Account ID",
            "ACC9",
            ("ACC9",),
        ),
        (
            "A5,Call,Unknown contact,25.03.2025,,,{rep},ACC1,,nobody@acme.example",
            "Contacts",
            "nobody@acme.example",
            ("nobody@acme.example",),
        ),
        (
            "A5,Call,Read-only owner,25.03.2025,,,readonly@example.com,ACC1,,",
            "Owner",
            "readonly@example.com",
            ("read-only",),
        ),
    ],
    ids=["date", "number", "deal", "account", "contact", "owner"],
)
def test_bad_activity_row_names_row_column_value_and_writes_nothing(
    tmp_path: Path,
    org_setup: Any,
    frozen_now: Any,
    types: Any,
    line: str,
    column: str,
    value: str,
    words: tuple[str, ...],
) -> None:
    org_setup.readonly.email = "readonly@example.com"
    org_setup.readonly.save()
    before = counts()
    files = {**FILES, "activities.csv": ACTIVITIES + line + "\n"}
    result = import_crm(tmp_path, org_setup, files)
    assert not result.written
    assert counts() == before  # nothing: not the accounts, contacts, deals or other activities
    assert len(result.errors) == 1, result.errors
    error = result.errors[0]
    assert (error.table, error.row, error.column, error.value) == (
        "activities.csv",
        6,
        column,
        value,
    )
    assert error.message
    for word in words:
        assert word in error.message
    assert result.summary["activities"]["rejected"] == 1
    # The same file as a dry run reports the same problem and also writes nothing.
    dry = import_crm(tmp_path, org_setup, files, dry_run=True)
    assert [e.as_dict() for e in dry.errors] == [e.as_dict() for e in result.errors]
    assert counts() == before


def test_skip_invalid_writes_the_valid_activities(
    tmp_path: Path, org_setup: Any, frozen_now: Any, types: Any
) -> None:
    files = {**FILES, "activities.csv": ACTIVITIES + "A5,Call,Bad,32.03.2025,,,{rep},ACC1,,\n"}
    result = import_crm(tmp_path, org_setup, files, skip_invalid=True)
    assert result.written
    assert result.summary["activities"]["created"] == 4
    assert result.summary["activities"]["rejected"] == 1
    assert not Activity.objects.filter(subject="Bad").exists()
    assert not ExternalId.objects.filter(system="oldcrm", value="A5").exists()


def test_negative_duration_and_end_before_start_are_rejected(
    tmp_path: Path, org_setup: Any, frozen_now: Any, types: Any
) -> None:
    text = (
        "Subject,Owner,Minutes,Starts,Ends\n"
        "Negative,{rep},-5,2025-03-10 10:00,2025-03-10 11:00\n"
        "Backwards,{rep},10,2025-03-10 10:00,2025-03-10 09:00\n"
    )
    mapping = {
        "tables": [
            {
                "entity": "activities",
                "date_format": "iso",
                "columns": {
                    "Subject": "subject",
                    "Owner": "owner",
                    "Minutes": "duration_minutes",
                    "Starts": "starts_at",
                    "Ends": "ends_at",
                },
            }
        ]
    }
    path = write(tmp_path, "acts.csv", text.format(rep=org_setup.rep.email))
    before = counts()
    result = services.import_paths(
        paths=[path], mapping=mapping, actor=org_setup.admin, dry_run=False
    )
    assert not result.written and counts() == before
    found = {(e.row, e.column, e.value) for e in result.errors}
    assert found == {(2, "Minutes", "-5"), (3, "Ends", "2025-03-10 09:00")}


def test_too_long_activity_type_is_a_row_error(
    tmp_path: Path, org_setup: Any, frozen_now: Any, types: Any
) -> None:
    long_type = "Quarterly business review with the whole buying committee on site"
    assert 60 < len(long_type) <= 100
    files = {**FILES, "activities.csv": ACTIVITIES + f"A5,{long_type},QBR,25.03.2025,,,,,,\n"}
    before = counts()
    result = import_crm(tmp_path, org_setup, files)
    assert not result.written and counts() == before
    assert [(e.row, e.column, e.value) for e in result.errors] == [(6, "Type", long_type)]
    assert "at most 60" in result.errors[0].message


def test_people_without_id_or_email_are_matched_by_name_on_a_second_run(
    tmp_path: Path, org_setup: Any, frozen_now: Any
) -> None:
    """A spreadsheet of leads and contacts with neither ids nor e-mails: a re-run updates."""
    from salescope.accounts.models import Contact
    from salescope.imports.services import import_paths
    from salescope.leads.models import Lead

    spec = tmp_path / "people.toml"
    spec.write_text(
        """
[[tables]]
file = "leads*"
entity = "leads"
[tables.columns]
"Vorname" = "first_name"
"Nachname" = "last_name"
"Firma" = "company"
"Telefon" = "phone"

[[tables]]
file = "contacts*"
entity = "contacts"
[tables.columns]
"Vorname" = "first_name"
"Nachname" = "last_name"
"Firma" = "account"
"Position" = "job_title"
""",
        encoding="utf-8",
    )

    def run(phone: str, title: str) -> Any:
        (tmp_path / "leads.csv").write_text(
            f"Vorname;Nachname;Firma;Telefon\nEva;Brandt;Kessler AG;{phone}\n", encoding="utf-8"
        )
        (tmp_path / "contacts.csv").write_text(
            f"Vorname;Nachname;Firma;Position\nJan;Roth;Kessler AG;{title}\n", encoding="utf-8"
        )
        return import_paths(
            paths=[tmp_path / "leads.csv", tmp_path / "contacts.csv"],
            mapping=str(spec),
            dry_run=False,
            actor=org_setup.admin,
        )

    first = run("+49 30 1234567", "Einkauf")
    assert first.written, first.errors
    second = run("+49 30 1234567", "Einkauf")
    assert second.summary["leads"]["created"] == 0 and second.summary["leads"]["unchanged"] == 1
    assert second.summary["contacts"]["created"] == 0
    third = run("+49 30 7654321", "Einkaufsleitung")
    assert third.summary["leads"]["updated"] == 1 and third.summary["contacts"]["updated"] == 1
    assert Lead.objects.count() == 1 and Lead.objects.get().phone == "+49 30 7654321"
    assert Contact.objects.count() == 1 and Contact.objects.get().job_title == "Einkaufsleitung"
