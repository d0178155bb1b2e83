"""The import engine: mapping, matching, history, safety (all or nothing), services and CLI."""

from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError

from salescope.accounts.models import Account, AccountContact, Contact
from salescope.core.models import ExternalId
from salescope.imports import services
from salescope.imports.mapping import MappingSpec, parse_mapping_text
from salescope.imports.models import ImportJob, JobStatus
from salescope.org.models import User
from salescope.pipeline import domain
from salescope.pipeline.models import Opportunity, OpportunityEvent, Outcome

pytestmark = pytest.mark.django_db

DEALS = """Deal ID,Deal,Company,Owner,Stage,Amount,Created,Closed,Reason
D1,Hall lighting,Acme GmbH,rep,Meeting,"1,200.50",2025-01-10,,
D2,Office retrofit,Beta AG,rep,Won,5000,2025-02-01,2025-03-15,
D3,Parking lot,Acme GmbH,rep2,Lost,800,2025-02-03,2025-02-20,Price
"""

MAPPING: dict[str, Any] = {
    "name": "Old CRM deals",
    "tables": [
        {
            "file": "*deals*",
            "entity": "opportunities",
            "system": "oldcrm",
            "date_format": "iso",
            "columns": {
                "Deal ID": "external_id",
                "Deal": "name",
                "Company": "account",
                "Owner": "owner",
                "Stage": "stage",
                "Amount": "amount",
                "Created": "created_at",
                "Closed": "closed_on",
                "Reason": "lost_reason",
            },
            "defaults": {"currency": "EUR"},
        }
    ],
}


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def state() -> tuple[int, ...]:
    """Row counts of everything an import writes."""
    return (
        Opportunity.objects.count(),
        OpportunityEvent.objects.count(),
        Account.objects.count(),
        Contact.objects.count(),
        User.objects.count(),
        ExternalId.objects.count(),
    )


def run(tmp_path: Path, org: Any, *, files: dict[str, str | bytes], **kwargs: Any) -> Any:
    paths = [write(tmp_path, name, text) for name, text in files.items()]
    kwargs.setdefault("mapping", MAPPING)
    kwargs.setdefault("dry_run", False)
    return services.import_paths(paths=paths, actor=org.admin, **kwargs)


# --- the happy path ---------------------------------------------------------------------------


def test_deals_import_creates_opportunities_with_reconstructed_history(
    tmp_path: Path, org_setup: Any, frozen_now: Any
) -> None:
    result = run(tmp_path, org_setup, files={"deals.csv": DEALS})
    assert result.ok and result.written
    assert result.summary["opportunities"]["created"] == 3
    assert result.summary["accounts"]["created"] == 2  # named in the deals, created and reported
    assert sorted(result.created_references["accounts"]) == ["Acme GmbH", "Beta AG"]
    d1 = Opportunity.objects.get(name="Hall lighting")
    assert d1.stage == org_setup.stages["Meeting"]
    assert d1.amount == Decimal("1200.50")
    assert d1.owner == org_setup.rep
    assert d1.created_at == dt.datetime(2025, 1, 10, tzinfo=dt.UTC)
    assert d1.expected_close == dt.date(2025, 2, 9)  # created + 30 days when not given
    won = Opportunity.objects.get(name="Office retrofit")
    assert (won.outcome, won.closed_on, won.stage) == (
        Outcome.WON,
        dt.date(2025, 3, 15),
        org_setup.won,
    )
    lost = Opportunity.objects.get(name="Parking lot")
    assert lost.outcome == Outcome.LOST and lost.lost_reason == org_setup.reason
    for opp in (d1, won, lost):
        events = opp.events.order_by("occurred_at", "id")
        assert {e.origin for e in events} == {"import"}
        assert all(e.reconstructed for e in events)
        assert domain.replay(events.values_list("kind", "old_value", "new_value")) == (
            domain.snapshot(opp)
        )
    won_event = won.events.get(kind="outcome")
    assert won_event.occurred_at == dt.datetime(2025, 3, 15, tzinfo=dt.UTC)
    assert ExternalId.objects.filter(system="oldcrm").count() == 3


def test_dry_run_counts_exactly_and_writes_nothing(
    tmp_path: Path, org_setup: Any, frozen_now: Any
) -> None:
    before = state()
    dry = run(tmp_path, org_setup, files={"deals.csv": DEALS}, dry_run=True)
    assert state() == before
    assert not dry.written
    real = run(tmp_path, org_setup, files={"deals.csv": DEALS})
    assert dry.summary == real.summary


def test_second_run_changes_nothing_and_changed_values_become_events(
    tmp_path: Path, org_setup: Any, frozen_now: Any
) -> None:
    run(tmp_path, org_setup, files={"deals.csv": DEALS})
    before = state()
    again = run(tmp_path, org_setup, files={"deals.csv": DEALS})
    assert state() == before
    assert again.summary["opportunities"] == {
        "created": 0,
        "updated": 0,
        "unchanged": 3,
        "rejected": 0,
    }
    changed = DEALS.replace('Meeting,"1,200.50"', 'Proposal,"1,500.00"')
    third = run(tmp_path, org_setup, files={"deals.csv": changed})
    assert third.summary["opportunities"]["updated"] == 1
    d1 = Opportunity.objects.get(name="Hall lighting")
    assert d1.stage == org_setup.stages["Proposal"] and d1.amount == Decimal("1500.00")
    new = d1.events.filter(occurred_at=frozen_now)
    assert set(new.values_list("kind", flat=True)) == {"stage", "probability", "amount"}
    assert {e.origin for e in new} == {"import"} and not any(e.reconstructed for e in new)
    assert d1.version == 2


def test_history_file_keeps_original_timestamps(
    tmp_path: Path, org_setup: Any, frozen_now: Any
) -> None:
    history = """Deal,Stage,Amount,Date,By
D1,Qualification,1000,2025-01-10 09:00,rep
D1,Meeting,1100,2025-01-20 10:30,manager
D1,Proposal,1200.50,2025-02-01 08:00,rep
"""
    deals = DEALS.replace("Meeting", "Proposal")
    mapping = {
        "tables": [
            MAPPING["tables"][0],
            {
                "file": "*history*",
                "entity": "history",
                "system": "oldcrm",
                "columns": {
                    "Deal": "opportunity_external_id",
                    "Stage": "stage",
                    "Amount": "amount",
                    "Date": "occurred_at",
                    "By": "actor",
                },
            },
        ]
    }
    result = run(
        tmp_path, org_setup, files={"deals.csv": deals, "history.csv": history}, mapping=mapping
    )
    assert result.ok, result.errors
    assert result.summary["history"]["created"] == 3
    d1 = Opportunity.objects.get(name="Hall lighting")
    moves = d1.events.filter(kind="stage").order_by("occurred_at")
    assert [(e.to_stage.name, e.occurred_at, e.actor) for e in moves] == [
        ("Meeting", dt.datetime(2025, 1, 20, 10, 30, tzinfo=dt.UTC), org_setup.manager),
        ("Proposal", dt.datetime(2025, 2, 1, 8, tzinfo=dt.UTC), org_setup.rep),
    ]
    assert not d1.events.filter(reconstructed=True).exists()
    created = d1.events.get(kind="created")
    assert created.new_value["amount"] == "1000.00"
    assert d1.amount == Decimal("1200.50")
    assert domain.replay(
        d1.events.order_by("occurred_at", "id").values_list("kind", "old_value", "new_value")
    ) == domain.snapshot(d1)
    before = state()
    again = run(
        tmp_path, org_setup, files={"deals.csv": deals, "history.csv": history}, mapping=mapping
    )
    assert state() == before
    assert again.summary["history"]["unchanged"] == 3


def test_stage_date_columns_become_stage_events(
    tmp_path: Path, org_setup: Any, frozen_now: Any
) -> None:
    csv_text = (
        'Record ID,Deal Name,Deal owner,Deal Stage,Amount,Date entered "Meeting (Standard)",'
        'Date entered "Proposal (Standard)"\n'
        "H1,Warehouse,rep,Proposal,900,2025-03-01,2025-03-09\n"
    )
    mapping = parse_mapping_text(
        """
[[tables]]
entity = "opportunities"
system = "hubspot"
[tables.columns]
"Record ID" = "external_id"
"Deal Name" = "name"
"Deal owner" = "owner"
"Deal Stage" = "stage"
"Amount" = "amount"
[tables.stage_dates]
pattern = 'Date entered "(?P<stage>.+?)( \\(.*\\))?"'
"""
    )
    result = run(tmp_path, org_setup, files={"deals.csv": csv_text}, mapping=mapping)
    assert result.ok, result.errors
    opp = Opportunity.objects.get(name="Warehouse")
    assert opp.created_at == dt.datetime(2025, 3, 1, tzinfo=dt.UTC)
    assert opp.events.get(kind="created").to_stage == org_setup.stages["Meeting"]
    move = opp.events.get(kind="stage")
    assert move.to_stage == org_setup.stages["Proposal"]
    assert move.occurred_at == dt.datetime(2025, 3, 9, tzinfo=dt.UTC)
    assert opp.stage_entered_at == move.occurred_at


def test_unknown_owner_is_created_inactive_and_reported(
    tmp_path: Path, org_setup: Any, frozen_now: Any
) -> None:
    text = DEALS.replace("D3,Parking lot,Acme GmbH,rep2", "D3,Parking lot,Acme GmbH,Jane Former")
    result = run(tmp_path, org_setup, files={"deals.csv": text})
    assert result.ok
    jane = User.objects.get(first_name="Jane", last_name="Former")
    assert not jane.is_active
    assert result.created_references["users (inactive)"] == ["Jane Former"]
    assert Opportunity.objects.get(name="Parking lot").owner == jane


def test_accounts_and_contacts_with_roles_match_on_domain_and_email(
    tmp_path: Path, org_setup: Any, frozen_now: Any
) -> None:
    accounts = "Id,Company,Web,Country,Employees\nA1,Acme GmbH,https://www.acme.de,DE,120\n"
    contacts = (
        "Email,Name,Company,Role,Phone\n"
        "anna@acme.de,Anna Berg,Acme GmbH,Decision maker,+49 30 1234\n"
    )
    mapping = {
        "tables": [
            {
                "file": "accounts*",
                "entity": "accounts",
                "columns": {
                    "Id": "external_id",
                    "Company": "name",
                    "Web": "website",
                    "Country": "country",
                    "Employees": "employees",
                },
                "defaults": {"owner": "rep"},
            },
            {
                "file": "contacts*",
                "entity": "contacts",
                "columns": {
                    "Email": "email",
                    "Name": "full_name",
                    "Company": "account",
                    "Role": "role",
                    "Phone": "phone",
                },
            },
        ]
    }
    files = {"accounts.csv": accounts, "contacts.csv": contacts}
    result = run(tmp_path, org_setup, files=files, mapping=mapping)
    assert result.ok, result.errors
    acme = Account.objects.get()
    assert (acme.domain, acme.country, acme.employees, acme.owner) == (
        "acme.de",
        "DE",
        120,
        org_setup.rep,
    )
    anna = Contact.objects.get()
    assert (anna.first_name, anna.last_name) == ("Anna", "Berg")
    membership = AccountContact.objects.get()
    assert membership.account == acme
    assert [r.name for r in membership.roles.all()] == ["Decision maker"]
    # the same company under another name but the same domain is the same account
    renamed = accounts.replace("A1,Acme GmbH", "A9,ACME Lighting")
    again = run(
        tmp_path,
        org_setup,
        files={"accounts.csv": renamed, "contacts.csv": contacts},
        mapping=mapping,
    )
    assert again.summary["accounts"]["updated"] == 1
    assert again.summary["contacts"]["unchanged"] == 1
    assert Account.objects.count() == 1 and Contact.objects.count() == 1


def test_skip_invalid_writes_the_valid_rows(
    tmp_path: Path, org_setup: Any, frozen_now: Any
) -> None:
    text = DEALS.replace(
        "D2,Office retrofit,Beta AG,rep,Won,5000", "D2,Office retrofit,Beta AG,rep,Won,-5"
    )
    strict = run(tmp_path, org_setup, files={"deals.csv": text})
    assert not strict.written and Opportunity.objects.count() == 0
    lenient = run(tmp_path, org_setup, files={"deals.csv": text}, skip_invalid=True)
    assert lenient.written
    assert lenient.summary["opportunities"]["created"] == 2
    assert lenient.summary["opportunities"]["rejected"] == 1
    assert Opportunity.objects.count() == 2


# --- bad input: a clear error, nothing written -------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("deals.csv", b"", "empty"),
        ("deals.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200), "cannot be imported"),
        ("deals.csv", b"Deal ID,Deal,Company,Stage\nD1,x,y,Meeting\n", "owner"),
    ],
)
def test_unreadable_files_are_refused_whole(
    tmp_path: Path, org_setup: Any, name: str, content: bytes, expected: str
) -> None:
    before = state()
    with pytest.raises(ValidationError) as exc:
        run(tmp_path, org_setup, files={name: content})
    assert expected in " ".join(exc.value.messages).lower()
    assert state() == before


def test_wrong_sheet_names_the_available_ones(tmp_path: Path, org_setup: Any) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    book.active.title = "Deals"
    book.active.append(["Deal ID", "Owner", "Stage"])
    data = io.BytesIO()
    book.save(data)
    mapping = {"tables": [{**MAPPING["tables"][0], "file": "*", "sheet": "Opportunities"}]}
    before = state()
    with pytest.raises(ValidationError) as exc:
        run(tmp_path, org_setup, files={"deals.xlsx": data.getvalue()}, mapping=mapping)
    message = " ".join(exc.value.messages)
    assert "Opportunities" in message and "Deals" in message
    assert state() == before


@pytest.mark.parametrize(
    ("old", "new", "column", "needle"),
    [
        (",rep,Meeting,", ",rep,Signed,", "Stage", "Unknown stage"),
        ('"1,200.50"', "-40", "Amount", "negative"),
        (",2025-01-10,", ",2025-13-45,", "Created", ""),
        (",rep,Meeting,", ",readonly,Meeting,", "Owner", "read-only"),
        (
            "D3,Parking lot,Acme GmbH,rep2,Lost,800,2025-02-03,2025-02-20,Price",
            "D3,Parking lot,Acme GmbH,rep2,Lost,800,2025-02-03,2025-02-20,",
            "Reason",
            "lost reason",
        ),
    ],
)
def test_bad_rows_are_reported_and_nothing_is_written(
    tmp_path: Path, org_setup: Any, frozen_now: Any, old: str, new: str, column: str, needle: str
) -> None:
    before = state()
    result = run(tmp_path, org_setup, files={"deals.csv": DEALS.replace(old, new, 1)})
    assert not result.written
    assert state() == before
    assert len(result.errors) == 1
    error = result.errors[0]
    assert error.table == "deals.csv" and error.row in (2, 4) and error.column == column
    assert needle.lower() in error.message.lower()
    assert error.message


def test_mapping_errors_are_clear() -> None:
    with pytest.raises(ValidationError, match="unknown field 'amout'"):
        MappingSpec.from_dict(
            {"tables": [{"entity": "opportunities", "columns": {"Amount": "amout"}}]}
        )
    with pytest.raises(ValidationError, match="'deals' is not one of"):
        MappingSpec.from_dict({"tables": [{"entity": "deals"}]})
    with pytest.raises(ValidationError, match="not valid TOML"):
        parse_mapping_text("[[tables]\nentity=")
    with pytest.raises(ValidationError, match="not one of auto, iso"):
        MappingSpec.from_dict({"tables": [{"entity": "accounts", "date_format": "us"}]})
    with pytest.raises(ValidationError, match="time zone"):
        MappingSpec.from_dict({"tables": [{"entity": "accounts", "timezone": "Mars/Base"}]})
    spec = parse_mapping_text(
        "tables:\n  - entity: contacts\n    columns: {E-Mail: email}\n", filename="m.yaml"
    )
    assert spec.tables[0].columns == {"E-Mail": "email"}
    assert MappingSpec.from_dict(spec.as_dict()).as_dict() == spec.as_dict()


# --- jobs, permissions, error report, CLI --------------------------------------------------------


def test_job_flow_stores_summary_and_errors(org_setup: Any, frozen_now: Any) -> None:
    text = DEALS.replace(",rep,Meeting,", ",rep,Signed,")
    job = services.create_job(
        actor=org_setup.admin, files=[("deals.csv", text.encode())], mapping=MAPPING
    )
    dry = services.run_import(job=job, dry_run=True, actor=org_setup.admin)
    assert not dry.written and len(dry.errors) == 1
    job.refresh_from_db()
    assert job.status == JobStatus.ANALYSED and job.dry_run
    assert job.summary["opportunities"]["rejected"] == 1
    report = services.errors_csv(job).decode("utf-8-sig")
    assert "deals.csv,2,Stage,Signed" in report
    real = services.run_import(job=job, dry_run=False, actor=org_setup.admin)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and not real.written
    assert Opportunity.objects.count() == 0
    good = services.create_job(
        actor=org_setup.manager, files=[("deals.csv", DEALS.encode())], mapping=MAPPING
    )
    services.run_import(job=good, dry_run=False, actor=org_setup.manager)
    good.refresh_from_db()
    assert good.status == JobStatus.SUCCEEDED
    assert Opportunity.objects.count() == 3


def test_only_admins_and_managers_import(org_setup: Any) -> None:
    for user in (org_setup.rep, org_setup.marketing, org_setup.readonly):
        with pytest.raises(PermissionDenied):
            services.create_job(actor=user, files=[("deals.csv", DEALS.encode())])
    with pytest.raises(ValidationError, match="Unknown preset"):
        services.create_job(actor=org_setup.admin, files=[("d.csv", b"a\n1\n")], preset="nope")


def test_cli_json_dry_run_and_failure(tmp_path: Path, org_setup: Any, frozen_now: Any) -> None:
    mapping = tmp_path / "mapping.json.yaml"
    mapping.write_text(json.dumps(MAPPING))  # JSON is valid YAML
    deals = write(tmp_path, "deals.csv", DEALS)
    out = io.StringIO()
    call_command("import", str(deals), "--mapping", str(mapping), "--dry-run", "--json", stdout=out)
    data = json.loads(out.getvalue())
    assert data["dry_run"] and not data["written"]
    assert data["summary"]["opportunities"]["created"] == 3
    assert Opportunity.objects.count() == 0
    bad = write(tmp_path, "bad_deals.csv", DEALS.replace("Meeting", "Signed"))
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import", str(bad), "--mapping", str(mapping), stdout=io.StringIO())
    call_command("import", str(deals), "--mapping", str(mapping), stdout=io.StringIO())
    assert Opportunity.objects.count() == 3
    assert ImportJob.objects.filter(status=JobStatus.SUCCEEDED).count() == 1
