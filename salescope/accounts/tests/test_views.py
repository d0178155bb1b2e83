"""Account and contact pages, their forms and the duplicate warning (D5, D6)."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from salescope.accounts.models import Account, AccountContact, Contact
from salescope.accounts.services import create_account, create_contact, update_account
from salescope.activities.models import Attachment, Comment
from salescope.activities.services import add_comment, create_activity
from salescope.core import clock
from salescope.pipeline.models import OpportunityEvent
from salescope.pipeline.services import change_amount, mark_lost, move_to_stage, reassign
from salescope.testing.factories import ActivityTypeFactory, make_opportunity

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_for(client):
    def login(user):
        client.force_login(user)
        return client

    return login


@pytest.fixture
def acme(org_setup, lists, frozen_now):
    account = create_account(
        actor=org_setup.rep,
        name="ACME Maschinenbau GmbH",
        website="https://www.acme.example",
        city="Augsburg",
        tier=lists.gold,
        tags=[lists.tag_hot],
    )
    return account


def test_account_page_shows_header_figures_contacts_deals_and_timeline(
    client_for, org_setup, lists, acme
):
    rep = org_setup.rep
    create_contact(
        actor=rep, first_name="Anna", last_name="Berg", account=acme, roles=[lists.decision_maker]
    )
    deal = make_opportunity(
        owner=rep, stage=org_setup.stages["Proposal"], account=acme, amount="10000.00",
        name="Press line", actor=rep,
    )  # fmt: skip
    move_to_stage(opportunity=deal, stage=org_setup.stages["Negotiation"], actor=rep)
    lost = make_opportunity(owner=rep, stage=org_setup.stages["Meeting"], account=acme,
                            name="Spare parts", actor=rep)  # fmt: skip
    mark_lost(opportunity=lost, reason=org_setup.reason, actor=rep)
    add_comment(actor=rep, body="Budget approved in March", account=acme)
    call: Any = ActivityTypeFactory(code="call", colour="#ff0000")
    create_activity(actor=rep, activity_type=call, subject="Intro call", account=acme,
                    due_on=dt.date(2026, 3, 10))  # fmt: skip

    response = client_for(rep).get(reverse("accounts:detail", args=[acme.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "ACME Maschinenbau GmbH" in html
    assert "Gold" in html and "Hot" in html and "Potential" in html  # tier, tag by category
    assert "Anna Berg" in html and "Decision maker" in html
    assert "Press line" in html and "Spare parts" in html
    assert reverse("pipeline:detail", args=[deal.pk]) in html
    assert "Stage: Proposal → Negotiation" in html
    assert "Budget approved in March" in html
    assert "Intro call" in html
    assert "Deal lost" in html
    assert "10,000" in html  # open amount
    assert "8,000" in html  # weighted at 80%
    assert f"{reverse('accounts:contact_create')}?account={acme.pk}" in html
    assert html.count('id="search-popup"') == 1  # the top bar's, once; ids stay unique


def test_rep_gets_404_for_account_outside_scope(client_for, org_setup, acme):
    c = client_for(org_setup.other_rep)
    for name in ("accounts:detail", "accounts:edit", "accounts:timeline"):
        assert c.get(reverse(name, args=[acme.pk])).status_code == 404
    response = c.post(reverse("accounts:comment", args=[acme.pk]), {"body": "hi"})
    assert response.status_code == 404
    assert not Comment.objects.exists()


def test_rep_does_not_see_deals_of_others_on_a_shared_account(client_for, org_setup, acme):
    secret = make_opportunity(owner=org_setup.other_rep, stage=org_setup.stages["Meeting"],
                              account=acme, name="Secret deal")  # fmt: skip
    html = client_for(org_setup.rep).get(reverse("accounts:detail", args=[acme.pk])).content
    assert b"Secret deal" not in html
    html = client_for(org_setup.admin).get(reverse("accounts:detail", args=[acme.pk])).content
    assert b"Secret deal" in html
    assert secret.pk


def test_create_account_with_bad_input_shows_errors_and_writes_nothing(client_for, org_setup):
    before = Account.objects.count()
    response = client_for(org_setup.rep).post(
        reverse("accounts:create"),
        {"name": "", "status": org_setup.status.pk, "website": "not a url at all", "country": "XX"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "errorlist" in html
    assert Account.objects.count() == before


def test_create_account_service_error_lands_on_the_field(client_for, org_setup):
    response = client_for(org_setup.rep).post(
        reverse("accounts:create"),
        {"name": "Zeta AG", "status": org_setup.status.pk, "country": "XX"},
    )
    assert response.status_code == 400
    form = response.context["form"]
    assert "country" in form.errors
    assert not Account.objects.filter(name="Zeta AG").exists()


def test_create_account_redirects_to_the_page(client_for, org_setup, lists):
    response = client_for(org_setup.rep).post(
        reverse("accounts:create"),
        {"name": "Zeta AG", "status": lists.customer.pk, "website": "zeta.example",
         "tags": [lists.tag_fair.pk], "employees": "120"},
    )  # fmt: skip
    account = Account.objects.get(name="Zeta AG")
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:detail", args=[account.pk])
    assert account.owner == org_setup.rep and account.domain == "zeta.example"
    assert account.employees == 120 and list(account.tags.all()) == [lists.tag_fair]


def test_duplicate_warning_then_create_anyway(client_for, org_setup, acme):
    c = client_for(org_setup.rep)
    data = {"name": "Acme Maschinenbau", "status": org_setup.status.pk}
    response = c.post(reverse("accounts:create"), data)
    assert response.status_code == 200
    html = response.content.decode()
    assert "This may already exist" in html and "ACME Maschinenbau GmbH" in html
    assert reverse("accounts:detail", args=[acme.pk]) in html
    assert Account.objects.count() == 1
    response = c.post(reverse("accounts:create"), {**data, "confirm_duplicate": "on"})
    assert response.status_code == 302
    assert Account.objects.count() == 2


def test_duplicate_by_domain_offers_merge_into(client_for, org_setup, acme):
    c = client_for(org_setup.rep)
    data = {"name": "Totally Different", "status": org_setup.status.pk,
            "website": "http://acme.example/contact", "phone": "+49 821 1234"}  # fmt: skip
    response = c.post(reverse("accounts:create"), data)
    assert b"This may already exist" in response.content
    response = c.post(reverse("accounts:create"), {**data, "merge_into": acme.pk})
    assert response.status_code == 302
    acme.refresh_from_db()
    assert acme.phone == "+49 821 1234"
    assert acme.name == "ACME Maschinenbau GmbH"  # filled fields stay
    assert Account.objects.count() == 1


def test_duplicates_outside_scope_are_not_revealed(client_for, org_setup, acme):
    response = client_for(org_setup.other_rep).post(
        reverse("accounts:create"), {"name": "ACME Maschinenbau", "status": org_setup.status.pk}
    )
    assert response.status_code == 302  # nothing visible to warn about: created
    assert Account.objects.count() == 2


def test_edit_account_with_stale_version_shows_conflict(client_for, org_setup, acme):
    version = acme.version
    update_account(account=acme, actor=org_setup.manager, city="München")
    response = client_for(org_setup.rep).post(
        reverse("accounts:edit", args=[acme.pk]),
        {"name": "ACME Renamed", "status": acme.status_id, "version": version},
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert "was changed by" in html and "Reload" in html
    acme.refresh_from_db()
    assert acme.name == "ACME Maschinenbau GmbH" and acme.city == "München"


def test_edit_account_saves_through_the_service(client_for, org_setup, acme):
    c = client_for(org_setup.rep)
    page = c.get(reverse("accounts:edit", args=[acme.pk]))
    assert page.status_code == 200 and b"ACME Maschinenbau GmbH" in page.content
    response = c.post(
        reverse("accounts:edit", args=[acme.pk]),
        {"name": "ACME AG", "status": acme.status_id, "version": acme.version, "city": "Ulm"},
    )
    assert response.status_code == 302
    acme.refresh_from_db()
    assert (acme.name, acme.city, acme.version) == ("ACME AG", "Ulm", 2)


def test_custom_fields_shown_and_editable(client_for, org_setup, acme):
    from salescope.customfields.models import CustomFieldDefinition

    CustomFieldDefinition.objects.create(target="account", key="erp_no", label="ERP number",
                                         field_type="text")  # fmt: skip
    CustomFieldDefinition.objects.create(target="account", key="credit", label="Credit limit",
                                         field_type="number")  # fmt: skip
    c = client_for(org_setup.rep)
    assert b"ERP number" in c.get(reverse("accounts:edit", args=[acme.pk])).content
    response = c.post(
        reverse("accounts:edit", args=[acme.pk]),
        {"name": acme.name, "status": acme.status_id, "version": acme.version,
         "custom_erp_no": "K-1234", "custom_credit": "abc"},
    )  # fmt: skip
    assert response.status_code == 400
    assert "custom_credit" in response.context["form"].errors
    response = c.post(
        reverse("accounts:edit", args=[acme.pk]),
        {"name": acme.name, "status": acme.status_id, "version": acme.version,
         "custom_erp_no": "K-1234", "custom_credit": "5000"},
    )  # fmt: skip
    assert response.status_code == 302
    acme.refresh_from_db()
    assert acme.custom == {"erp_no": "K-1234", "credit": "5000"}
    html = c.get(reverse("accounts:detail", args=[acme.pk])).content.decode()
    assert "K-1234" in html and "5,000" in html


def test_comment_and_attachment(client_for, org_setup, acme, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    c = client_for(org_setup.rep)
    assert c.post(reverse("accounts:comment", args=[acme.pk]), {"body": ""}).status_code == 400
    assert not Comment.objects.exists()
    response = c.post(reverse("accounts:comment", args=[acme.pk]), {"body": "Called back"})
    assert response.status_code == 302
    upload = SimpleUploadedFile("Angebot.pdf", b"%PDF-1.4 test", content_type="application/pdf")
    response = c.post(reverse("accounts:attach", args=[acme.pk]), {"file": upload})
    assert response.status_code == 302
    attachment = Attachment.objects.get()
    html = c.get(reverse("accounts:detail", args=[acme.pk])).content.decode()
    assert "Called back" in html and "Angebot.pdf" in html
    download = c.get(reverse("accounts:attachment", args=[attachment.pk]))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"%PDF-1.4 test"
    other = client_for(org_setup.other_rep)
    assert other.get(reverse("accounts:attachment", args=[attachment.pk])).status_code == 404


def test_attachment_over_the_limit_is_refused(client_for, org_setup, acme, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.SALESCOPE_MAX_ATTACHMENT_BYTES = 10
    upload = SimpleUploadedFile("big.bin", b"x" * 11)
    response = client_for(org_setup.rep).post(
        reverse("accounts:attach", args=[acme.pk]), {"file": upload}
    )
    assert response.status_code == 400
    assert b"the limit is" in response.content
    assert not Attachment.objects.exists()


def _busy_account(org_setup, acme, deals: int, changes: int) -> None:
    rep = org_setup.rep
    call: Any = ActivityTypeFactory(code="call")
    for i in range(deals):
        deal = make_opportunity(owner=rep, stage=org_setup.stages["Qualification"], account=acme,
                                name=f"Deal {i}", actor=rep)  # fmt: skip
        for j in range(changes):
            change_amount(opportunity=deal, amount=Decimal(2000 + j), actor=rep)
        reassign(opportunity=deal, owner=org_setup.rep2, actor=None)
        reassign(opportunity=deal, owner=rep, actor=None)
        add_comment(actor=rep, body=f"Note {i}", opportunity=deal)
        create_activity(actor=rep, activity_type=call, subject=f"Call {i}", opportunity=deal,
                        due_on=dt.date(2026, 3, 1))  # fmt: skip
        contact = create_contact(actor=rep, last_name=f"Person {i}", account=acme)
        assert contact.pk


def test_account_page_query_count_does_not_grow(
    client_for, org_setup, acme, django_assert_max_num_queries
):
    c = client_for(org_setup.rep)
    _busy_account(org_setup, acme, deals=2, changes=2)
    url = reverse("accounts:detail", args=[acme.pk])
    c.get(url)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        assert c.get(url).status_code == 200
    _busy_account(org_setup, acme, deals=6, changes=3)
    with django_assert_max_num_queries(len(small)):
        response = c.get(url)
    assert response.status_code == 200
    assert b"Load more" in response.content


def test_timeline_pages_through_500_entries_without_loss(client_for, org_setup, acme):
    rep = org_setup.rep
    deal = make_opportunity(owner=rep, stage=org_setup.stages["Qualification"], account=acme,
                            actor=rep)  # fmt: skip
    # 420 amount changes and 80 comments, written in bulk (the services would take long).
    now = clock.now()
    OpportunityEvent.objects.bulk_create(
        OpportunityEvent(opportunity=deal, kind="amount", verb="change_amount",
                         old_value=str(2000 + j), new_value=str(2001 + j), actor=rep,
                         occurred_at=now - dt.timedelta(minutes=j % 7), recorded_at=now,
                         action_id=uuid.uuid4())
        for j in range(420)
    )  # fmt: skip
    Comment.objects.bulk_create(
        Comment(
            account=acme, author=rep, body=f"c{j}", created_at=now - dt.timedelta(minutes=j % 5)
        )
        for j in range(80)
    )
    c = client_for(rep)
    url = reverse("accounts:timeline", args=[acme.pk])
    seen = 0
    cursor = None
    pages = 0
    while True:
        response = c.get(url, {"show": "all", **({"before": cursor} if cursor else {})})
        assert response.status_code == 200
        entries = response.context["timeline"]
        seen += len(entries)
        pages += 1
        more = response.context["timeline_more_url"]
        if not more:
            break
        cursor = more.split("before=")[1]
        from urllib.parse import unquote

        cursor = unquote(cursor)
    assert seen == 1 + 420 + 80
    assert pages == -(-501 // 40)


def test_timeline_filter(client_for, org_setup, acme):
    rep = org_setup.rep
    make_opportunity(owner=rep, stage=org_setup.stages["Meeting"], account=acme, actor=rep)
    add_comment(actor=rep, body="Only comments please", account=acme)
    c = client_for(rep)
    response = c.get(reverse("accounts:timeline", args=[acme.pk]), {"show": "comments"})
    kinds = {e.kind for e in response.context["timeline"]}
    assert kinds == {"comment"}
    assert b'id="timeline-box"' in response.content
    response = c.get(reverse("accounts:timeline", args=[acme.pk]), {"show": "bogus"})
    assert {e.kind for e in response.context["timeline"]} == {"comment", "change"}


# --- contacts ------------------------------------------------------------------------------


def test_create_contact_with_role_from_the_account(client_for, org_setup, lists, acme):
    c = client_for(org_setup.rep)
    url = reverse("accounts:contact_create") + f"?account={acme.pk}"
    page = c.get(url)
    assert page.status_code == 200 and b"ACME Maschinenbau GmbH" in page.content
    response = c.post(url, {"account": acme.pk, "roles": [lists.decision_maker.pk],
                            "first_name": "Jan", "last_name": "Vogel",
                            "email": "jan@acme.example"})  # fmt: skip
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:detail", args=[acme.pk])
    membership = AccountContact.objects.get(account=acme, contact__last_name="Vogel")
    assert [r.name for r in membership.roles.all()] == ["Decision maker"]


def test_create_contact_bad_input_and_duplicate(client_for, org_setup, acme):
    c = client_for(org_setup.rep)
    response = c.post(reverse("accounts:contact_create"), {"last_name": "", "email": "nope"})
    assert response.status_code == 400 and not Contact.objects.exists()
    create_contact(actor=org_setup.rep, first_name="Eva", last_name="Kern",
                   email="eva@acme.example", account=acme)  # fmt: skip
    data = {"first_name": "eva", "last_name": "kern", "account": acme.pk}
    response = c.post(reverse("accounts:contact_create"), data)
    assert response.status_code == 200 and b"This may already exist" in response.content
    assert Contact.objects.count() == 1
    response = c.post(reverse("accounts:contact_create"), {**data, "confirm_duplicate": "on"})
    assert response.status_code == 302 and Contact.objects.count() == 2


def test_contact_page_edit_conflict_and_scope(client_for, org_setup, lists, acme):
    contact = create_contact(actor=org_setup.rep, first_name="Eva", last_name="Kern",
                             account=acme, roles=[lists.billing])  # fmt: skip
    c = client_for(org_setup.rep)
    html = c.get(reverse("accounts:contact", args=[contact.pk])).content.decode()
    assert "Eva Kern" in html and "Billing contact" in html and "ACME" in html
    stale = contact.version
    response = c.post(reverse("accounts:contact_edit", args=[contact.pk]),
                      {"last_name": "Kern-Lang", "version": stale})  # fmt: skip
    assert response.status_code == 302
    response = c.post(reverse("accounts:contact_edit", args=[contact.pk]),
                      {"last_name": "Other", "version": stale})  # fmt: skip
    assert response.status_code == 409 and b"was changed by" in response.content
    contact.refresh_from_db()
    assert contact.last_name == "Kern-Lang"
    other = client_for(org_setup.other_rep)
    assert other.get(reverse("accounts:contact", args=[contact.pk])).status_code == 404


def test_contact_roles_change_and_add_to_account(client_for, org_setup, lists, acme):
    contact = create_contact(actor=org_setup.rep, last_name="Kern", account=acme)
    membership = AccountContact.objects.get(contact=contact)
    c = client_for(org_setup.rep)
    url = reverse("accounts:contact_link", args=[contact.pk])
    response = c.post(url, {"membership": membership.pk,
                            f"m{membership.pk}-roles": [lists.billing.pk]})  # fmt: skip
    assert response.status_code == 302
    assert list(membership.roles.all()) == [lists.billing]
    second = create_account(actor=org_setup.rep, name="Beta KG")
    response = c.post(url, {"account": second.pk, "roles": [lists.decision_maker.pk]})
    assert response.status_code == 302
    assert AccountContact.objects.filter(contact=contact).count() == 2


def test_templates_render_for_every_role(client_for, org_setup, acme):
    contact = create_contact(actor=org_setup.rep, last_name="Kern", account=acme)
    for user in (org_setup.admin, org_setup.manager, org_setup.marketing, org_setup.readonly):
        c = client_for(user)
        assert c.get(reverse("accounts:detail", args=[acme.pk])).status_code == 200
        assert c.get(reverse("accounts:contact", args=[contact.pk])).status_code == 200
        assert c.get(reverse("accounts:create")).status_code == 200
        assert c.get(reverse("accounts:contact_create")).status_code == 200
    ro = client_for(org_setup.readonly)
    assert ro.get(reverse("accounts:edit", args=[acme.pk])).status_code == 302
    response = ro.post(reverse("accounts:create"), {"name": "RO", "status": org_setup.status.pk})
    assert response.status_code == 400 and not Account.objects.filter(name="RO").exists()
