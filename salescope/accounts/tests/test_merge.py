"""Merging duplicates keeps everything (D6)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse

from salescope.accounts.models import Account, AccountContact, Contact
from salescope.accounts.services import (
    create_account,
    create_contact,
    merge_accounts,
    merge_contacts,
)
from salescope.activities.models import Activity, Attachment, Comment
from salescope.activities.services import add_comment, create_activity
from salescope.core.errors import PermissionDenied
from salescope.core.services import external_ids_of
from salescope.pipeline import domain
from salescope.pipeline.models import OpportunityEvent
from salescope.pipeline.selectors import rebuilt_state
from salescope.pipeline.services import change_amount, mark_won, move_to_stage, set_contacts
from salescope.testing.factories import ActivityTypeFactory, make_opportunity

pytestmark = pytest.mark.django_db


@pytest.fixture
def pair(org_setup, lists, frozen_now):
    rep = org_setup.rep
    keep = create_account(actor=rep, name="Müller GmbH", city="", tier=lists.gold,
                          external_ids={"erp": "K1"})  # fmt: skip
    merge = create_account(
        actor=rep, name="MÜLLER", city="Köln", phone="+49 221 1", tags=[lists.tag_hot],
        external_ids={"erp": "K2", "crm": "X9"},
    )  # fmt: skip
    return keep, merge


def _counts():
    return {
        "deals": OpportunityEvent.objects.values("opportunity").distinct().count(),
        "events": OpportunityEvent.objects.count(),
        "activities": Activity.objects.count(),
        "comments": Comment.objects.count(),
        "attachments": Attachment.objects.count(),
        "contacts": Contact.objects.count(),
    }


def test_merge_accounts_keeps_everything(org_setup, lists, pair, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    from django.core.files.uploadedfile import SimpleUploadedFile

    from salescope.activities.services import add_attachment

    rep = org_setup.rep
    keep, merge = pair
    deal = make_opportunity(owner=rep, stage=org_setup.stages["Meeting"], account=merge,
                            actor=rep, name="Line 1")  # fmt: skip
    move_to_stage(opportunity=deal, stage=org_setup.stages["Proposal"], actor=rep)
    change_amount(opportunity=deal, amount=Decimal("5000"), actor=rep)
    won = make_opportunity(owner=rep, stage=org_setup.stages["Negotiation"], account=merge,
                           actor=rep, name="Line 2")  # fmt: skip
    mark_won(opportunity=won, actor=rep)
    both = create_contact(actor=rep, last_name="Both", account=keep, roles=[lists.billing])
    from salescope.accounts.services import link_contact

    link_contact(contact=both, account=merge, actor=rep, roles=[lists.decision_maker],
                 is_primary=True)  # fmt: skip
    only = create_contact(actor=rep, last_name="Only", account=merge)
    call: Any = ActivityTypeFactory(code="call")
    create_activity(actor=rep, activity_type=call, subject="Visit", account=merge,
                    due_on=dt.date(2026, 3, 20))  # fmt: skip
    create_activity(actor=rep, activity_type=call, subject="On deal", opportunity=deal,
                    due_on=dt.date(2026, 3, 20))  # fmt: skip
    add_comment(actor=rep, body="Old note", account=merge)
    add_attachment(actor=rep, file=SimpleUploadedFile("a.txt", b"abc"), account=merge)
    merge.shared_with.add(org_setup.rep2)
    before = _counts()
    events_before = {d.pk: OpportunityEvent.objects.filter(opportunity=d).count()
                     for d in (deal, won)}  # fmt: skip

    result = merge_accounts(keep=keep, merge=merge, actor=rep)

    assert not Account.objects.filter(pk=merge.pk).exists()
    after = _counts()
    # Every deal and event stays; each moved deal gains exactly one account event.
    assert after["deals"] == before["deals"]
    assert after["events"] == before["events"] + 2
    for key in ("activities", "comments", "attachments", "contacts"):
        assert after[key] == before[key], key
    for d in (deal, won):
        d.refresh_from_db()
        assert d.account_id == keep.pk
        history = OpportunityEvent.objects.filter(opportunity=d).order_by("occurred_at", "id")
        assert history.count() == events_before[d.pk] + 1
        last: Any = history.last()
        assert (last.kind, last.old_value, last.new_value) == ("account", merge.pk, keep.pk)
        assert last.actor == rep
        assert rebuilt_state(d) == domain.snapshot(d)
    assert Activity.objects.filter(account=keep).count() == 2  # one via its deal
    assert Comment.objects.filter(account=keep).count() == 1
    assert Attachment.objects.filter(account=keep).count() == 1
    m_both = AccountContact.objects.get(account=keep, contact=both)
    assert {r.name for r in m_both.roles.all()} == {"Billing contact", "Decision maker"}
    assert m_both.is_primary
    assert AccountContact.objects.filter(account=keep, contact=only).exists()
    assert AccountContact.objects.filter(contact=both).count() == 1
    result.refresh_from_db()
    assert result.city == "Köln" and result.phone == "+49 221 1"  # gaps filled
    assert result.name == "Müller GmbH" and result.tier == lists.gold  # filled fields stay
    assert list(result.tags.all()) == [lists.tag_hot]
    assert org_setup.rep2 in result.shared_with.all()
    assert external_ids_of(result) == {"crm": "X9", "erp": "K1"}
    assert result.version == keep.version + 1


def test_merge_accounts_permission(org_setup, pair):
    keep, merge = pair
    with pytest.raises(PermissionDenied):
        merge_accounts(keep=keep, merge=merge, actor=org_setup.other_rep)
    foreign = make_opportunity(owner=org_setup.other_rep, stage=org_setup.stages["Meeting"],
                               account=merge)  # fmt: skip
    with pytest.raises(PermissionDenied, match="may not move the deals"):
        merge_accounts(keep=keep, merge=merge, actor=org_setup.rep)
    assert Account.objects.filter(pk=merge.pk).exists()
    foreign.refresh_from_db()
    assert foreign.account_id == merge.pk
    merge_accounts(keep=keep, merge=merge, actor=org_setup.admin)
    foreign.refresh_from_db()
    assert foreign.account_id == keep.pk
    assert org_setup.rep in keep.shared_with.all() or keep.owner == org_setup.rep


def test_merge_into_itself_is_refused(org_setup, pair):
    from django.core.exceptions import ValidationError

    keep, _merge = pair
    with pytest.raises(ValidationError):
        merge_accounts(keep=keep, merge=keep, actor=org_setup.rep)


def test_merge_contacts_keeps_links(org_setup, lists, pair):
    rep = org_setup.rep
    keep_acc, other_acc = pair
    keep = create_contact(actor=rep, first_name="Eva", last_name="Kern", account=keep_acc,
                          roles=[lists.billing])  # fmt: skip
    merge = create_contact(actor=rep, first_name="Eva", last_name="Kern", email="eva@x.example",
                           phone="+49 1", accounts=[(keep_acc, [lists.decision_maker], True),
                                                     (other_acc, [], False)])  # fmt: skip
    call: Any = ActivityTypeFactory(code="call")
    act = create_activity(actor=rep, activity_type=call, subject="Call", account=keep_acc,
                          contacts=[merge, keep], due_on=dt.date(2026, 3, 20))  # fmt: skip
    act2 = create_activity(actor=rep, activity_type=call, subject="Call 2", account=keep_acc,
                           contacts=[merge], due_on=dt.date(2026, 3, 20))  # fmt: skip
    deal = make_opportunity(owner=rep, stage=org_setup.stages["Meeting"], account=keep_acc)
    set_contacts(opportunity=deal, contacts=[merge], actor=rep)
    events = OpportunityEvent.objects.count()

    merge_contacts(keep=keep, merge=merge, actor=rep)

    assert not Contact.objects.filter(pk=merge.pk).exists()
    keep.refresh_from_db()
    assert keep.email == "eva@x.example" and keep.phone == "+49 1"
    m = AccountContact.objects.get(contact=keep, account=keep_acc)
    assert {r.name for r in m.roles.all()} == {"Billing contact", "Decision maker"}
    assert m.is_primary
    assert AccountContact.objects.filter(contact=keep, account=other_acc).exists()
    assert list(act.contacts.all()) == [keep]
    assert list(act2.contacts.all()) == [keep]
    assert list(deal.contacts.all()) == [keep]
    assert OpportunityEvent.objects.count() == events
    deal.refresh_from_db()
    assert rebuilt_state(deal) == domain.snapshot(deal)


def test_merge_views(client, org_setup, pair):
    keep, merge = pair
    client.force_login(org_setup.rep)
    url = reverse("accounts:merge", args=[keep.pk, merge.pk])
    page = client.get(url)
    assert page.status_code == 200 and b"Merge" in page.content
    detail = client.get(reverse("accounts:detail", args=[keep.pk])).content.decode()
    assert "Possible duplicates" in detail and url in detail
    response = client.post(url)
    assert response.status_code == 302
    assert not Account.objects.filter(pk=merge.pk).exists()
    client.force_login(org_setup.other_rep)
    assert client.get(url).status_code == 404


def test_merge_view_refusal_is_shown(client, org_setup, pair):
    keep, merge = pair
    make_opportunity(owner=org_setup.other_rep, stage=org_setup.stages["Meeting"], account=merge)
    client.force_login(org_setup.rep)
    response = client.post(reverse("accounts:merge", args=[keep.pk, merge.pk]))
    assert response.status_code == 403
    assert b"may not move the deals" in response.content
    assert Account.objects.filter(pk=merge.pk).exists()


def test_contact_merge_view(client, org_setup, pair):
    keep_acc, _ = pair
    a = create_contact(actor=org_setup.rep, first_name="Eva", last_name="Kern", account=keep_acc)
    b = create_contact(actor=org_setup.rep, first_name="Eva", last_name="Kern")
    client.force_login(org_setup.rep)
    page = client.get(reverse("accounts:contact", args=[a.pk])).content.decode()
    url = reverse("accounts:contact_merge", args=[a.pk, b.pk])
    assert url in page
    assert client.post(url).status_code == 302
    assert not Contact.objects.filter(pk=b.pk).exists()
