"""The Salesforce, HubSpot, Pipedrive and Odoo presets on hand-written sample exports.

Each sample (``samples/<preset>/``) uses the real column names and date formats of that
product's export: two won/lost deals with their close times, two open ones, and (Salesforce)
stage and field history. Checked: detection, counts, outcomes, amounts, history events with
their original times, a second run that changes nothing, bad rows that write nothing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from salescope.core.models import ExternalId
from salescope.imports import presets
from salescope.imports.presets import hooks_odoo, hooks_salesforce
from salescope.imports.reading import Table, read_tables
from salescope.imports.services import import_paths
from salescope.org.models import Role, User
from salescope.pipeline.models import EventKind, Opportunity, OpportunityEvent, Outcome

pytestmark = pytest.mark.django_db

SAMPLES = Path(__file__).resolve().parent / "samples"
UTC = dt.UTC


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


@dataclasses.dataclass(frozen=True)
class Expected:
    """What the sample of a preset must become (times in UTC)."""

    deals: dict[str, tuple[str, str, str]]  # name → (outcome, amount, final stage)
    closed: dict[str, tuple[dt.date, dt.datetime]]  # name → (closed_on, time of the close)
    currencies: dict[str, str]
    created: dict[str, dt.datetime]  # name → created_at
    stage_moves: dict[str, list[tuple[dt.datetime, str]]]  # name → [(when, to stage)]
    accounts: int
    system: str
    external_id: str  # of the first deal


EXPECTED: dict[str, Expected] = {
    "salesforce": Expected(
        deals={
            "Hoffmann – Retrofit Line 2": ("won", "185000.00", "Won"),
            "Van Dijk – Fleet Telematics": ("lost", "42000.00", "Lost"),
            "Dupont – Smart Metering Pilot": ("open", "96000.00", "Proposal/Price Quote"),
            "Hoffmann – Service Contract 2024": ("open", "12500.00", "Negotiation/Review"),
        },
        closed={
            "Hoffmann – Retrofit Line 2": (dt.date(2024, 3, 28), at("2024-03-28 12:00:00")),
            "Van Dijk – Fleet Telematics": (dt.date(2024, 4, 15), at("2024-04-15 17:20:00")),
        },
        currencies={"Hoffmann – Retrofit Line 2": "EUR"},
        created={"Hoffmann – Retrofit Line 2": at("2024-01-08 09:12:44")},
        stage_moves={
            "Hoffmann – Retrofit Line 2": [
                (at("2024-02-01 10:00:00"), "Value Proposition"),
                (at("2024-03-11 16:45:10"), "Negotiation/Review"),
                (at("2024-03-28 12:00:00"), "Won"),
            ],
            # From the field history: Qualification → Negotiation/Review.
            "Hoffmann – Service Contract 2024": [
                (at("2024-02-19 10:30:00"), "Negotiation/Review"),
            ],
        },
        accounts=3,
        system="salesforce",
        external_id="0065g00000C3dEfAAN",
    ),
    "hubspot": Expected(
        deals={
            "Hoffmann – Retrofit Line 3": ("won", "185000.00", "Won"),
            "Van Dijk – Telematics": ("lost", "42000.00", "Lost"),
            "Dupont – Metering Pilot": ("open", "96000.00", "Decision Maker Bought-In"),
            "Müller Bau – Wartungsvertrag": ("open", "8500.50", "Appointment Scheduled"),
        },
        closed={  # Europe/Berlin in the file (CET in winter, CEST from 31 March)
            "Hoffmann – Retrofit Line 3": (dt.date(2024, 3, 28), at("2024-03-28 11:00:00")),
            "Van Dijk – Telematics": (dt.date(2024, 4, 15), at("2024-04-15 15:20:00")),
        },
        currencies={},
        created={"Hoffmann – Retrofit Line 3": at("2024-01-08 08:12:00")},
        stage_moves={
            "Hoffmann – Retrofit Line 3": [
                (at("2024-01-19 09:00:00"), "Qualified To Buy"),
                (at("2024-02-02 13:30:00"), "Contract Sent"),
                (at("2024-03-28 11:00:00"), "Won"),
            ],
            "Dupont – Metering Pilot": [(at("2024-03-05 13:02:00"), "Decision Maker Bought-In")],
        },
        accounts=4,
        system="hubspot",
        external_id="9876543210",
    ),
    "pipedrive": Expected(
        deals={
            "Hoffmann Retrofit Linie 4": ("won", "185000.00", "Won"),
            "Van Dijk Telematik": ("lost", "42000.00", "Lost"),
            "Dupont Smart Metering": ("open", "96000.50", "Proposal Made"),
            "Müller Bau Wartung": ("open", "8500.00", "Qualified"),
        },
        closed={
            "Hoffmann Retrofit Linie 4": (dt.date(2024, 3, 28), at("2024-03-28 11:00:05")),
            "Van Dijk Telematik": (dt.date(2024, 4, 15), at("2024-04-15 15:20:31")),
        },
        currencies={"Müller Bau Wartung": "CHF", "Dupont Smart Metering": "EUR"},
        created={"Hoffmann Retrofit Linie 4": at("2024-01-08 08:12:44")},
        stage_moves={"Hoffmann Retrofit Linie 4": [(at("2024-03-28 11:00:05"), "Won")]},
        accounts=4,
        system="pipedrive",
        external_id="101",
    ),
    "odoo": Expected(
        deals={
            "Hoffmann – Retrofit Linie 5": ("won", "185000.00", "Won"),
            "Van Dijk – Telematik": ("lost", "42000.00", "Lost"),
            "Dupont – Smart Metering": ("open", "96000.00", "Proposition"),
            "Müller Bau – Wartung": ("open", "8500.00", "New"),
        },
        closed={  # Odoo exports UTC
            "Hoffmann – Retrofit Linie 5": (dt.date(2024, 3, 28), at("2024-03-28 12:00:05")),
            "Van Dijk – Telematik": (dt.date(2024, 4, 15), at("2024-04-15 17:20:31")),
        },
        currencies={},
        created={"Hoffmann – Retrofit Linie 5": at("2024-01-08 09:12:44")},
        stage_moves={"Van Dijk – Telematik": [(at("2024-04-15 17:20:31"), "Lost")]},
        accounts=4,
        system="odoo",
        external_id="__export__.crm_lead_12_5f3a9c1e",
    ),
}
PRESETS = list(EXPECTED)


@pytest.fixture
def admin(db: Any) -> User:
    from salescope.org.services import ensure_company_settings

    ensure_company_settings(name="Import GmbH", currency="EUR")
    for first, last in (("Anna", "Becker"), ("Jonas", "Weber")):
        User.objects.create(username=first.lower(), first_name=first, last_name=last)
    return User.objects.create(username="admin", role=Role.ADMIN, is_staff=True)


def run(preset: str, admin: User, *, dry_run: bool = False, path: Path | None = None) -> Any:
    return import_paths(
        paths=[path or SAMPLES / preset], preset=preset, dry_run=dry_run, actor=admin
    )


def _tables(preset: str) -> list[Table]:
    out: list[Table] = []
    for path in sorted((SAMPLES / preset).iterdir()):
        out.extend(read_tables(path.name, path.read_bytes()))
    return out


@pytest.mark.parametrize("preset", PRESETS)
def test_the_sample_is_recognised(preset: str) -> None:
    assert presets.detect_preset(_tables(preset)) == preset


@pytest.mark.parametrize("preset", PRESETS)
def test_counts_outcomes_and_amounts(preset: str, admin: User) -> None:
    expected = EXPECTED[preset]
    result = run(preset, admin)
    assert result.ok and result.written, result.errors
    assert result.count("opportunities", "created") == len(expected.deals)
    assert result.count("accounts", "created") == expected.accounts
    opps = {o.name: o for o in Opportunity.objects.select_related("stage", "owner")}
    assert set(opps) == set(expected.deals)
    for name, (outcome, amount, stage) in expected.deals.items():
        opp = opps[name]
        assert (opp.outcome, opp.amount, opp.stage.name) == (outcome, Decimal(amount), stage), name
        assert opp.owner.username in ("anna", "jonas") and opp.owner.is_active
        assert opp.account is not None
        assert (opp.closed_on is None) == (outcome == Outcome.OPEN)
        if outcome == Outcome.LOST:
            assert opp.lost_reason is not None
    for name, code in expected.currencies.items():
        assert opps[name].currency_id == code
    for name, (closed_on, _when) in expected.closed.items():
        assert opps[name].closed_on == closed_on
    first = Opportunity.objects.get(name=next(iter(expected.deals)))
    ext = ExternalId.objects.get(
        system=expected.system, object_id=first.pk, value=expected.external_id
    )
    assert ext.record == first


@pytest.mark.parametrize("preset", PRESETS)
def test_history_keeps_the_original_times(preset: str, admin: User) -> None:
    expected = EXPECTED[preset]
    run(preset, admin)
    for name, created_at in expected.created.items():
        opp = Opportunity.objects.get(name=name)
        assert opp.created_at == created_at
        created = opp.events.get(kind=EventKind.CREATED)
        assert created.occurred_at == created_at and created.origin == "import"
    for name, (_day, when) in expected.closed.items():
        opp = Opportunity.objects.get(name=name)
        outcome = opp.events.get(kind=EventKind.OUTCOME)
        assert outcome.occurred_at == when
        assert outcome.new_value == opp.outcome
    for name, moves in expected.stage_moves.items():
        opp = Opportunity.objects.get(name=name)
        events = opp.events.filter(kind=EventKind.STAGE).select_related("to_stage")
        assert [(e.occurred_at, e.to_stage.name) for e in events.order_by("occurred_at", "id")] == (
            moves
        )
        # Every event lies between creation and now, in order.
        times = list(opp.events.order_by("id").values_list("occurred_at", flat=True))
        assert times == sorted(times) and times[0] == opp.created_at


@pytest.mark.parametrize("preset", PRESETS)
def test_a_second_run_changes_nothing(preset: str, admin: User) -> None:
    run(preset, admin)
    events = OpportunityEvent.objects.count()
    versions = dict(Opportunity.objects.values_list("pk", "version"))
    users = User.objects.count()
    second = run(preset, admin)
    assert second.ok and second.written
    for entity, counts in second.summary.items():
        assert counts["created"] == counts["updated"] == counts["rejected"] == 0, entity
    assert second.count("opportunities", "unchanged") == len(EXPECTED[preset].deals)
    assert OpportunityEvent.objects.count() == events
    assert dict(Opportunity.objects.values_list("pk", "version")) == versions
    assert User.objects.count() == users


@pytest.mark.parametrize("preset", PRESETS)
def test_dry_run_writes_nothing(preset: str, admin: User) -> None:
    result = run(preset, admin, dry_run=True)
    assert result.ok and not result.written
    assert result.count("opportunities", "created") == len(EXPECTED[preset].deals)
    assert not Opportunity.objects.exists() and not OpportunityEvent.objects.exists()


def test_unknown_owners_are_created_inactive_and_reported(db: Any) -> None:
    from salescope.org.services import ensure_company_settings

    ensure_company_settings(name="Import GmbH", currency="EUR")
    admin = User.objects.create(username="admin", role=Role.ADMIN, is_staff=True)
    result = run("pipedrive", admin)
    assert result.written
    assert sorted(result.created_references["users (inactive)"]) == ["Anna Becker", "Jonas Weber"]
    assert not User.objects.get(last_name="Becker").is_active


# --- bad rows ------------------------------------------------------------------------------

BAD_ROWS = {
    # preset: (file, old text, new text, column named in the error)
    "salesforce": ("Opportunity.csv", ",Closed Lost,42000.00,", ",Verhandlung,42000.00,",
                   "StageName"),
    "hubspot": ("hubspot-crm-exports-all-deals-2024-04-20.csv", ",42000,", ",zweiundvierzig,",
                "Amount"),
    "pipedrive": ("deals-export.csv", ",lost,", ",vielleicht,", "Status"),
    "odoo": ("crm.lead.csv", ",2024-01-22 15:30:00,", ",22/22/2024,", "Created on"),
}  # fmt: skip


@pytest.mark.parametrize("preset", PRESETS)
def test_a_bad_row_is_reported_and_nothing_is_written(
    preset: str, admin: User, tmp_path: Path
) -> None:
    name, old, new, column = BAD_ROWS[preset]
    for path in (SAMPLES / preset).iterdir():
        text = path.read_text(encoding="utf-8")
        if path.name == name:
            assert old in text
            text = text.replace(old, new, 1)
        (tmp_path / path.name).write_text(text, encoding="utf-8")
    result = run(preset, admin, path=tmp_path)
    assert not result.written
    first = result.errors[0]
    assert (first.table, first.row, first.column) == (name, 3, column)
    # (Salesforce: the history rows of the refused deal are refused with it.)
    assert all(e.table != name or e.row == 3 for e in result.errors)
    assert not Opportunity.objects.exists() and not ExternalId.objects.exists()


# --- the hooks -----------------------------------------------------------------------------


def test_salesforce_close_date_is_the_close_of_closed_deals_only() -> None:
    table = Table(
        name="Opportunity.csv",
        headers=["Id", "StageName", "CloseDate", "IsClosed"],
        rows=[["1", "Closed Won", "2024-03-28", "true"], ["2", "Prospecting", "2024-06-30",
              "false"], ["3", "Closed Lost", "2024-04-01", None]],
    )  # fmt: skip
    out = hooks_salesforce.add_closed_on(table)
    assert out.headers[-1] == "ClosedOn"
    assert [row[-1] for row in out.rows] == ["2024-03-28", None, "2024-04-01"]


def test_salesforce_field_history_starts_from_the_old_values() -> None:
    table = Table(
        name="OpportunityFieldHistory.csv",
        headers=["OpportunityId", "CreatedById", "CreatedDate", "Field", "OldValue", "NewValue"],
        rows=[
            ["006A", "005X", "2024-02-26T09:15:00.000Z", "Amount", "10000", "12500"],
            ["006A", "005X", "2024-02-05T08:00:00.000Z", "created", None, None],
            ["006A", "005X", "2024-02-19T10:30:00.000Z", "StageName", "Prospecting", "Closed Won"],
            ["006A", "005X", "2024-03-01T08:00:00.000Z", "NextStep", None, "Call"],
            ["006B", "005X", "2024-03-02T08:00:00.000Z", "Probability", "10", "20"],
        ],
        line_numbers=[2, 3, 4, 5, 6],
    )
    out = hooks_salesforce.field_history_rows(table)
    assert out.headers == hooks_salesforce.HISTORY_HEADERS
    assert out.rows == [
        ["006A", "2024-02-05T08:00:00.000Z", "005X", "Prospecting", "10000", None, None],
        ["006A", "2024-02-19T10:30:00.000Z", "005X", "Closed Won", None, None, None],
        ["006A", "2024-02-26T09:15:00.000Z", "005X", None, "12500", None, None],
        # No "created" row: the first change's old values start the history.
        ["006B", "2024-03-02T08:00:00.000Z", "005X", None, None, None, "10"],
        ["006B", "2024-03-02T08:00:00.000Z", "005X", None, None, None, "20"],
    ]
    assert [out.row_number(i) for i in range(len(out.rows))] == [3, 4, 2, 6, 6]


def test_odoo_archived_leads_are_lost_and_won_stages_won() -> None:
    table = Table(
        name="crm.lead.csv",
        headers=["Opportunity", "Stage", "Expected Revenue", "Probability", "Active",
                 "Closed Date", "Last Stage Update"],
        rows=[
            ["A", "Won", "1", "100.0", "True", "2024-03-28 12:00:05", "2024-03-27 10:00:00"],
            ["B", "Qualified", "1", "0.0", "False", None, "2024-04-15 17:20:31"],
            ["C", "New", "1", "33.33", True, None, "2024-03-01 08:45:00"],
            ["D", "New", "1", "viel", False, None, None],
        ],
    )  # fmt: skip
    out = hooks_odoo.add_outcome(table)
    assert out.headers[-3:] == ["Outcome", "Won At", "Lost At"]
    assert [row[-3:] for row in out.rows] == [
        ["won", "2024-03-28 12:00:05", None],
        ["lost", None, "2024-04-15 17:20:31"],
        ["open", None, None],
        ["lost", None, None],
    ]
    assert [row[3] for row in out.rows] == ["100", "0", "33", "viel"]


def test_every_preset_loads_and_names_its_hook() -> None:
    for name in ("salesforce", "hubspot", "pipedrive", "odoo"):
        spec = presets.load_preset(name)
        assert spec.tables and spec.pipelines
    assert presets._HOOKS["salesforce"] is hooks_salesforce.prepare
    assert presets._HOOKS["odoo"] is hooks_odoo.prepare
