"""Leads and campaigns: services (validation, permissions, versions), visibility, list page."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from salescope.core.errors import ConflictError, PermissionDenied
from salescope.leads import services
from salescope.leads.models import Campaign, Lead, LeadStatus
from salescope.leads.selectors import can_change_lead, visible_leads
from salescope.org.models import Currency
from salescope.pipeline.models import Source

pytestmark = pytest.mark.django_db


@pytest.fixture
def eur(org_setup):
    return Currency.objects.get(code="EUR")


def test_create_lead_defaults_to_actor_and_normalises(org_setup, frozen_now):
    lead = services.create_lead(
        actor=org_setup.rep,
        first_name=" Anna ",
        last_name="Berg",
        company="Berg AG",
        email="Anna@Example.COM",
        phone="+49 30 1234",
    )
    lead.refresh_from_db()
    assert lead.owner == org_setup.rep
    assert (lead.first_name, lead.last_name) == ("Anna", "Berg")
    assert lead.email == "Anna@example.com"
    assert lead.status == LeadStatus.NEW
    assert lead.version == 1
    assert lead.created_at == frozen_now
    assert lead.created_by == org_setup.rep


def test_create_lead_reports_every_bad_field_and_writes_nothing(org_setup):
    with pytest.raises(ValidationError) as exc:
        services.create_lead(
            actor=org_setup.admin,
            last_name="  ",
            email="not-an-email",
            phone="call me",
            status="hot",
            score=10**6,
            notes="a\x00b",
        )
    assert set(exc.value.message_dict) == {
        "last_name", "email", "phone", "status", "score", "notes"
    }  # fmt: skip
    assert not Lead.objects.exists()


@pytest.mark.parametrize("score", ["abc", 1.5, True, None])
def test_score_must_be_whole_number(org_setup, score):
    with pytest.raises(ValidationError) as exc:
        services.create_lead(actor=org_setup.admin, last_name="X", score=score)
    assert "score" in exc.value.message_dict


def test_read_only_and_inactive_users_cannot_create(org_setup):
    with pytest.raises(PermissionDenied):
        services.create_lead(actor=org_setup.readonly, last_name="X")
    org_setup.rep.is_active = False
    org_setup.rep.save()
    with pytest.raises(PermissionDenied):
        services.create_lead(actor=org_setup.rep, last_name="X")
    assert not Lead.objects.exists()


def test_rep_assigns_only_to_self_marketing_to_anyone(org_setup):
    with pytest.raises(ValidationError) as exc:
        services.create_lead(actor=org_setup.rep, last_name="X", owner=org_setup.rep2)
    assert "owner" in exc.value.message_dict
    lead = services.create_lead(actor=org_setup.marketing, last_name="X", owner=org_setup.rep2)
    assert lead.owner == org_setup.rep2
    unassigned = services.create_lead(actor=None, last_name="Y")
    assert unassigned.owner is None


def test_owner_cannot_be_read_only(org_setup):
    with pytest.raises(ValidationError) as exc:
        services.create_lead(actor=org_setup.admin, last_name="X", owner=org_setup.readonly)
    assert "owner" in exc.value.message_dict


def test_update_lead_changes_version_and_refuses_stale_and_unknown(org_setup, eur):
    source = Source.objects.create(name="Web")
    campaign = services.create_campaign(actor=org_setup.marketing, name="Fair", currency=eur)
    lead = services.create_lead(actor=org_setup.rep, last_name="Berg")
    lead = services.update_lead(
        lead=lead,
        actor=org_setup.rep,
        expected_version=1,
        status=LeadStatus.IN_PROGRESS,
        source=source,
        campaign=campaign,
        score=42,
    )
    assert lead.version == 2
    lead.refresh_from_db()
    assert (lead.status, lead.source, lead.campaign, lead.score) == (
        "in_progress", source, campaign, 42,
    )  # fmt: skip
    # No change: no new version.
    assert services.update_lead(lead=lead, actor=org_setup.rep, score=42).version == 2
    with pytest.raises(ConflictError):
        services.update_lead(lead=lead, actor=org_setup.rep, expected_version=1, score=1)
    with pytest.raises(ValidationError) as exc:
        services.update_lead(lead=lead, actor=org_setup.rep, colour="red")
    assert "colour" in exc.value.message_dict
    with pytest.raises(ValidationError):
        services.update_lead(lead=lead, actor=org_setup.rep, last_name="", score=7)
    lead.refresh_from_db()
    assert lead.score == 42 and lead.last_name == "Berg"


def test_rep_cannot_change_someone_elses_lead(org_setup):
    lead = services.create_lead(actor=org_setup.rep2, last_name="Other")
    with pytest.raises(PermissionDenied):
        services.update_lead(lead=lead, actor=org_setup.rep, score=5)
    assert services.update_lead(lead=lead, actor=org_setup.manager, score=5).score == 5
    with pytest.raises(PermissionDenied):
        services.update_lead(lead=lead, actor=org_setup.readonly, score=6)


def test_visibility(org_setup):
    mine = services.create_lead(actor=org_setup.rep, last_name="Mine")
    theirs = services.create_lead(actor=org_setup.other_rep, last_name="Theirs")
    unassigned = services.create_lead(actor=None, last_name="Nobody")
    everything = {mine, theirs, unassigned}
    assert set(visible_leads(org_setup.rep)) == {mine}
    for user in (org_setup.admin, org_setup.manager, org_setup.marketing, org_setup.readonly):
        assert set(visible_leads(user)) == everything
    assert can_change_lead(org_setup.rep, mine)
    assert not can_change_lead(org_setup.rep, theirs)
    assert not can_change_lead(org_setup.readonly, mine)
    org_setup.manager.is_active = False
    assert not visible_leads(org_setup.manager).exists()


def test_campaigns_validation_and_rights(org_setup, eur):
    with pytest.raises(PermissionDenied):
        services.create_campaign(actor=org_setup.rep, name="X", currency=eur)
    with pytest.raises(ValidationError) as exc:
        services.create_campaign(
            actor=org_setup.marketing,
            name="",
            currency=eur,
            channel="pigeon",
            cost="-5",
            starts_on=dt.date(2026, 3, 1),
            ends_on=dt.date(2026, 2, 1),
        )
    assert set(exc.value.message_dict) == {"name", "channel", "cost", "ends_on"}
    assert not Campaign.objects.exists()
    campaign = services.create_campaign(
        actor=org_setup.marketing, name="Fair", currency=eur, channel="event", cost="1200.50"
    )
    assert campaign.cost == Decimal("1200.50")
    with pytest.raises(ValidationError) as exc:
        services.create_campaign(actor=org_setup.admin, name="fair", currency=eur)
    assert "name" in exc.value.message_dict
    updated = services.update_campaign(campaign=campaign, actor=org_setup.admin, cost="99")
    assert updated.cost == Decimal("99.00")


def test_list_page_shows_visible_leads_only(client, org_setup):
    services.create_lead(actor=org_setup.rep, last_name="Visible", company="Mine GmbH")
    services.create_lead(actor=org_setup.other_rep, last_name="Hidden", company="Theirs SE")
    client.force_login(org_setup.rep)
    response = client.get(reverse("leads:list"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Mine GmbH" in html
    assert "Theirs SE" not in html
    client.force_login(org_setup.marketing)
    html = client.get(reverse("leads:list") + "?status=new&q=Theirs").content.decode()
    assert "Theirs SE" in html and "Mine GmbH" not in html


def test_list_page_bad_filters_are_ignored(client, org_setup):
    services.create_lead(actor=org_setup.rep, last_name="Visible", company="Mine GmbH")
    client.force_login(org_setup.rep)
    response = client.get(reverse("leads:list") + "?status=bogus&score_from=abc&sort=nope")
    assert response.status_code == 200
    assert "Mine GmbH" in response.content.decode()


def test_list_export_csv(client, org_setup):
    services.create_lead(actor=org_setup.rep, last_name="Visible", company="=cmd|x")
    client.force_login(org_setup.rep)
    response = client.get(reverse("lists:export", args=["leads", "csv"]))
    assert response.status_code == 200
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert "'=cmd|x" in body.decode("utf-8-sig")


def test_list_page_requires_login(client, org_setup):
    response = client.get(reverse("leads:list"))
    assert response.status_code == 302
