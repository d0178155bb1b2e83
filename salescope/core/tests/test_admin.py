"""The back office: every model is reachable, lists stay fast, and writes go through services."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django import forms
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from salescope.accounts.models import (
    Account,
    AccountContact,
    AccountType,
    Contact,
    ContactRole,
    Industry,
    Region,
    Tag,
    TagCategory,
    Tier,
)
from salescope.activities.models import Activity, Agreement, Attachment, Comment
from salescope.core import clock
from salescope.core.models import ExternalId
from salescope.customfields.models import CustomFieldDefinition
from salescope.org.models import CompanySettings, ExchangeRate
from salescope.pipeline import services
from salescope.pipeline.models import (
    EventKind,
    Opportunity,
    OpportunityEvent,
    Outcome,
    ProductLine,
    Source,
)
from salescope.testing.factories import (
    AccountFactory,
    ActivityFactory,
    ActivityTypeFactory,
    ContactFactory,
    UserFactory,
    make_opportunity,
)

pytestmark = pytest.mark.django_db


# --- helpers -----------------------------------------------------------------------------------


def _post_value(bound: forms.BoundField) -> Any:
    value = bound.value()
    if isinstance(bound.field, forms.BooleanField):
        return "on" if value else None
    if isinstance(bound.field, forms.MultipleChoiceField | forms.ModelMultipleChoiceField):
        return [str(v) for v in value or []]
    if value is None:
        return ""
    return str(value)


def _form_fields(form: forms.BaseForm) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for bound in form:
        widget = bound.field.widget
        if isinstance(widget, forms.MultiWidget):
            parts = widget.decompress(bound.value())
            for suffix, part in zip(widget.widgets_names, parts, strict=True):
                data[bound.html_name + suffix] = "" if part is None else str(part)
            continue
        value = _post_value(bound)
        if value is not None:
            data[bound.html_name] = value
    return data


def form_data(response: Any) -> dict[str, Any]:
    """What a browser would post back from an admin change form, unchanged."""
    data = _form_fields(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        data.update(_form_fields(formset.management_form))
        for form in formset.forms:
            data.update(_form_fields(form))
    data["_save"] = "Save"
    return data


def change_url(obj: Any) -> str:
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


def errors_of(response: Any) -> dict[str, list[str]]:
    form = response.context["adminform"].form
    return {k: list(v) for k, v in form.errors.items()}


@pytest.fixture
def admin_client_(client: Any, org_setup: Any) -> Any:
    client.force_login(org_setup.admin)
    return client


@pytest.fixture
def records(org_setup: Any) -> dict[str, Any]:
    """A few records of every model."""
    s = org_setup
    now = clock.now()
    category = TagCategory.objects.create(name="Potential")
    tag = Tag.objects.create(category=category, name="High")
    tier = Tier.objects.create(name="Gold")
    region = Region.objects.create(name="Bavaria", country="DE")
    account = AccountFactory(
        owner=s.rep,
        status=s.status,
        tier=tier,
        region=region,
        account_type=AccountType.objects.create(name="Distributor"),
        industry=Industry.objects.create(name="Lighting"),
        city="Munich",
    )
    account.tags.add(tag)
    contact = ContactFactory(owner=s.rep)
    membership = AccountContact.objects.create(account=account, contact=contact, is_primary=True)
    membership.roles.add(ContactRole.objects.create(name="Decision maker"))
    source = Source.objects.create(name="Trade fair", channel="marketing")
    product = ProductLine.objects.create(name="LED panels", code="LED")
    opp = make_opportunity(
        owner=s.rep,
        stage=s.stages["Qualification"],
        account=account,
        name="Lighting retrofit",
        source=source,
        products=[product],
        contacts=[contact],
    )
    activity = ActivityFactory(owner=s.rep, account=account, opportunity=opp)
    Agreement.objects.create(activity=activity, text="Send the offer", owner=s.rep)
    Comment.objects.create(account=account, author=s.rep, body="Met at the fair", created_at=now)
    Attachment.objects.create(
        account=account,
        file="attachments/2026/03/offer.pdf",
        filename="offer.pdf",
        size=1200,
        uploaded_by=s.rep,
        uploaded_at=now,
    )
    ExchangeRate.objects.create(
        currency_id="USD", valid_from=dt.date(2026, 1, 1), rate=Decimal("0.92")
    )
    ExternalId.objects.create(
        content_type=ContentType.objects.get_for_model(account),
        object_id=account.pk,
        system="erp",
        value="K-100",
    )
    CustomFieldDefinition.objects.create(
        target="opportunity", key="budget", label="Budget", field_type="number"
    )
    return {"account": account, "contact": contact, "opportunity": opp}


# --- every page --------------------------------------------------------------------------------


def test_index_lists_every_app(admin_client_: Any, records: Any) -> None:
    response = admin_client_.get(reverse("admin:index"))
    assert response.status_code == 200
    for model in admin.site._registry:
        assert (
            reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
            in response.content.decode()
        )


def test_every_changelist_add_and_change_page_renders(
    admin_client_: Any, org_setup: Any, records: Any
) -> None:
    request = RequestFactory().get("/")
    request.user = org_setup.admin
    failures = []
    for model, model_admin in admin.site._registry.items():
        info = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        pages = [reverse(f"{info}_changelist")]
        if model_admin.has_add_permission(request):
            pages.append(reverse(f"{info}_add"))
        obj = model._default_manager.first()
        if obj is not None:
            pages.append(reverse(f"{info}_change", args=[obj.pk]))
        for url in pages:
            status = admin_client_.get(url).status_code
            if status != 200:
                failures.append((url, status))
    assert failures == []


def test_every_concrete_model_is_registered() -> None:
    from django.apps import apps

    ours = [m for m in apps.get_models() if m.__module__.startswith("salescope.")]
    missing = [m._meta.label for m in ours if m not in admin.site._registry]
    assert missing == []


def test_changelist_search_and_filters_work(
    admin_client_: Any, records: Any, org_setup: Any
) -> None:
    url = reverse("admin:pipeline_opportunity_changelist")
    stage = org_setup.stages["Qualification"]
    for query in (
        {"q": "retrofit"},
        {"q": records["account"].name},
        {"pipeline__id__exact": org_setup.pipeline.pk, "stage__id__exact": stage.pk},
        {"outcome__exact": "open"},
        {"owner__id__exact": org_setup.rep.pk},
    ):
        response = admin_client_.get(url, query)
        assert response.status_code == 200
        assert "Lighting retrofit" in response.content.decode(), query
    response = admin_client_.get(reverse("admin:accounts_account_changelist"), {"q": "Munich"})
    assert records["account"].name in response.content.decode()


def test_non_staff_rep_is_sent_to_login(client: Any, org_setup: Any, records: Any) -> None:
    client.force_login(org_setup.rep)
    for url in (
        reverse("admin:index"),
        reverse("admin:pipeline_opportunity_changelist"),
        change_url(records["opportunity"]),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))


def test_anonymous_is_sent_to_login(client: Any, org_setup: Any) -> None:
    response = client.get(reverse("admin:pipeline_opportunity_changelist"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


# --- fast lists --------------------------------------------------------------------------------


def _make_opportunities(org_setup: Any, count: int, start: int) -> None:
    stages = [org_setup.stages[n] for n in ("Qualification", "Meeting", "Proposal")]
    other = list(org_setup.other_pipeline.stages.filter(kind="open"))
    for i in range(start, start + count):
        owner = UserFactory(username=f"seller{i}")
        account = AccountFactory(owner=owner, status=org_setup.status)
        stage = other[i % len(other)] if i % 4 == 0 else stages[i % len(stages)]
        source = Source.objects.create(name=f"Source {i}")
        make_opportunity(owner=owner, stage=stage, account=account, name=f"Deal {i}", source=source)


@pytest.mark.parametrize(
    "changelist",
    [
        "pipeline_opportunity",
        "pipeline_opportunityevent",
        "accounts_account",
        "activities_activity",
    ],
)
def test_changelist_queries_do_not_grow_with_rows(
    admin_client_: Any, org_setup: Any, changelist: str
) -> None:
    url = reverse(f"admin:{changelist}_changelist")

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            response = admin_client_.get(url)
            assert response.status_code == 200
        return len(ctx.captured_queries)

    _make_opportunities(org_setup, 5, 0)
    for opp in Opportunity.objects.all():
        ActivityFactory(owner=opp.owner, account=opp.account, opportunity=opp)
    few = queries()
    _make_opportunities(org_setup, 20, 5)
    for opp in Opportunity.objects.filter(activities__isnull=True):
        ActivityFactory(owner=opp.owner, account=opp.account, opportunity=opp)
    many = queries()
    assert Opportunity.objects.count() == 25
    # New owners and sources add filter choices, never queries.
    assert many == few, (few, many)


def test_opportunity_list_shows_the_columns(admin_client_: Any, records: Any) -> None:
    response = admin_client_.get(reverse("admin:pipeline_opportunity_changelist"))
    html = response.content.decode()
    for text in ("Lighting retrofit", "Qualification", "1,000.00 EUR", "10 %", "Days in stage"):
        assert text in html


# --- opportunity writes go through the verbs ----------------------------------------------------


def test_edit_stage_and_amount_writes_events_with_admin_as_actor(
    admin_client_: Any,
    org_setup: Any,
    records: Any,
) -> None:
    opp = records["opportunity"]
    url = change_url(opp)
    data = form_data(admin_client_.get(url))
    data.update(stage=str(org_setup.stages["Proposal"].pk), amount="5000.00")
    response = admin_client_.post(url, data)
    assert response.status_code == 302, errors_of(response)
    opp.refresh_from_db()
    assert (opp.stage, opp.amount, opp.probability) == (
        org_setup.stages["Proposal"],
        Decimal("5000.00"),
        60,
    )
    assert opp.version == 3  # one verb each: change_amount, move_to_stage
    events = list(OpportunityEvent.objects.filter(opportunity=opp).exclude(kind=EventKind.CREATED))
    assert {(e.kind, e.verb) for e in events} == {
        ("amount", "change_amount"),
        ("stage", "move_to_stage"),
        ("probability", "move_to_stage"),
    }
    assert {e.actor for e in events} == {org_setup.admin}
    assert {e.origin for e in events} == {"ui"}
    stage_event = next(e for e in events if e.kind == "stage")
    assert (stage_event.from_stage, stage_event.to_stage) == (
        org_setup.stages["Qualification"],
        org_setup.stages["Proposal"],
    )
    # Products and contacts were posted unchanged and stay.
    assert list(opp.products.all()) and list(opp.contacts.all())


def test_stale_version_shows_a_conflict_and_changes_nothing(
    admin_client_: Any,
    org_setup: Any,
    records: Any,
) -> None:
    opp = records["opportunity"]
    url = change_url(opp)
    data = form_data(admin_client_.get(url))
    # Someone else saves in between.
    services.change_amount(opportunity=opp, amount="2000.00", actor=org_setup.rep)
    before = OpportunityEvent.objects.filter(opportunity=opp).count()
    data.update(stage=str(org_setup.stages["Negotiation"].pk), amount="9000.00", name="Renamed")
    response = admin_client_.post(url, data)
    assert response.status_code == 200
    html = response.content.decode()
    assert f"changed by {org_setup.rep.get_full_name()}" in html
    assert "Reload" in html
    opp.refresh_from_db()
    assert (opp.stage, opp.amount, opp.name) == (
        org_setup.stages["Qualification"],
        Decimal("2000.00"),
        "Lighting retrofit",
    )
    assert OpportunityEvent.objects.filter(opportunity=opp).count() == before


def test_lost_without_reason_is_a_field_error_and_writes_nothing(
    admin_client_: Any,
    org_setup: Any,
    records: Any,
) -> None:
    opp = records["opportunity"]
    url = change_url(opp)
    data = form_data(admin_client_.get(url))
    data.update(outcome="lost", lost_reason="", amount="1500.00")
    response = admin_client_.post(url, data)
    assert response.status_code == 200
    assert "lost_reason" in errors_of(response)
    opp.refresh_from_db()
    assert (opp.outcome, opp.amount, opp.version) == (Outcome.OPEN, Decimal("1000.00"), 1)
    assert OpportunityEvent.objects.filter(opportunity=opp).count() == 1


def test_mark_lost_with_reason_then_reopen(
    admin_client_: Any, org_setup: Any, records: Any
) -> None:
    opp = records["opportunity"]
    url = change_url(opp)
    data = form_data(admin_client_.get(url))
    data.update(
        outcome="lost",
        lost_reason=str(org_setup.reason.pk),
        lost_note="Too expensive",
        expected_close="2026-06-30",
    )
    response = admin_client_.post(url, data)
    assert response.status_code == 302, errors_of(response)
    opp.refresh_from_db()
    assert (opp.outcome, opp.stage, opp.lost_reason) == ("lost", org_setup.lost, org_setup.reason)
    assert opp.expected_close == dt.date(2026, 6, 30)  # applied before closing, not dropped
    verbs = set(opp.events.values_list("verb", flat=True))
    assert {"change_expected_close", "mark_lost"} <= verbs

    data = form_data(admin_client_.get(url))
    data["outcome"] = "open"
    response = admin_client_.post(url, data)
    assert response.status_code == 302, errors_of(response)
    opp.refresh_from_db()
    assert (opp.outcome, opp.stage, opp.lost_reason) == (
        "open",
        org_setup.stages["Qualification"],
        None,
    )
    assert opp.events.filter(verb="reopen").exists()


def test_closed_opportunity_refuses_silent_edits(
    admin_client_: Any, org_setup: Any, records: Any
) -> None:
    opp = services.mark_won(opportunity=records["opportunity"], actor=org_setup.admin)
    url = change_url(opp)
    data = form_data(admin_client_.get(url))
    data.update(probability="50", outcome="lost", lost_reason=str(org_setup.reason.pk))
    response = admin_client_.post(url, data)
    assert response.status_code == 200
    assert "probability" in errors_of(response)  # closing sets it; never dropped silently
    opp.refresh_from_db()
    assert (opp.outcome, opp.probability) == ("won", 100)
    # Correcting won to lost goes through a reopen, so the history shows both steps.
    data.update(probability="100")
    response = admin_client_.post(url, data)
    assert response.status_code == 302, errors_of(response)
    opp.refresh_from_db()
    assert (opp.outcome, opp.probability, opp.lost_reason) == ("lost", 0, org_setup.reason)
    assert list(opp.events.filter(kind="outcome").values_list("new_value", flat=True)) == [
        "won",
        "open",
        "lost",
    ]


def test_closing_fields_are_not_dropped_silently(
    admin_client_: Any, org_setup: Any, records: Any
) -> None:
    opp = records["opportunity"]
    url = change_url(opp)
    data = form_data(admin_client_.get(url))
    yesterday = clock.today() - dt.timedelta(days=1)
    data.update(lost_reason=str(org_setup.reason.pk), closed_on=yesterday.isoformat())
    response = admin_client_.post(url, data)
    assert response.status_code == 200
    assert {"lost_reason", "closed_on"} <= set(errors_of(response))
    data.update(outcome="won", lost_reason="")
    response = admin_client_.post(url, data)
    assert response.status_code == 302, errors_of(response)
    opp.refresh_from_db()
    assert (opp.outcome, opp.closed_on) == ("won", yesterday)


def test_service_rule_shows_on_the_field(admin_client_: Any, org_setup: Any, records: Any) -> None:
    opp = records["opportunity"]
    url = change_url(opp)
    data = form_data(admin_client_.get(url))
    data["stage"] = str(org_setup.won.pk)  # closing is mark won, not a stage move
    response = admin_client_.post(url, data)
    assert response.status_code == 200
    assert "mark won" in " ".join(errors_of(response)["stage"])
    opp.refresh_from_db()
    assert opp.stage == org_setup.stages["Qualification"]


def test_add_opportunity_goes_through_create(
    admin_client_: Any, org_setup: Any, records: Any
) -> None:
    url = reverse("admin:pipeline_opportunity_add")
    response = admin_client_.get(url)
    assert response.status_code == 200
    data = form_data(response)
    data.update(
        name="New deal",
        account=str(records["account"].pk),
        owner=str(org_setup.rep.pk),
        stage=str(org_setup.stages["Meeting"].pk),
        amount="750.00",
        currency="EUR",
        expected_close="2026-05-31",
        probability="",
        forecast_category="pipeline",
    )
    response = admin_client_.post(url, data)
    assert response.status_code == 302, errors_of(response)
    opp = Opportunity.objects.get(name="New deal")
    assert (opp.owner, opp.probability, opp.created_by) == (org_setup.rep, 30, org_setup.admin)
    created = opp.events.get()
    assert (created.kind, created.actor, created.verb) == (
        "created",
        org_setup.admin,
        "create_opportunity",
    )


def test_add_opportunity_with_bad_input_shows_errors(admin_client_: Any, org_setup: Any) -> None:
    url = reverse("admin:pipeline_opportunity_add")
    data = form_data(admin_client_.get(url))
    data.update(
        name="X",
        owner=str(org_setup.readonly.pk),
        stage=str(org_setup.stages["Meeting"].pk),
        amount="10.00",
        currency="EUR",
        expected_close="2026-05-31",
        forecast_category="pipeline",
    )
    response = admin_client_.post(url, data)
    assert response.status_code == 200
    assert "owner" in errors_of(response)
    assert not Opportunity.objects.filter(name="X").exists()


def test_opportunity_cannot_be_deleted(admin_client_: Any, records: Any) -> None:
    opp = records["opportunity"]
    url = reverse("admin:pipeline_opportunity_delete", args=[opp.pk])
    assert admin_client_.get(url).status_code == 403
    assert admin_client_.post(url, {"post": "yes"}).status_code == 403
    html = admin_client_.get(change_url(opp)).content.decode()
    assert 'class="deletelink"' not in html
    assert "create_opportunity" in html  # the history inline is there
    assert Opportunity.objects.filter(pk=opp.pk).exists()


# --- the history is read-only -------------------------------------------------------------------


def test_event_admin_is_read_only(admin_client_: Any, records: Any) -> None:
    event = records["opportunity"].events.get()
    assert admin_client_.get(reverse("admin:pipeline_opportunityevent_add")).status_code == 403
    response = admin_client_.get(change_url(event))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="_save"' not in html and 'class="deletelink"' not in html
    assert admin_client_.post(change_url(event), {"kind": "amount"}).status_code == 403
    delete = reverse("admin:pipeline_opportunityevent_delete", args=[event.pk])
    assert admin_client_.get(delete).status_code == 403
    assert admin_client_.post(delete, {"post": "yes"}).status_code == 403
    changelist = admin_client_.get(
        reverse("admin:pipeline_opportunityevent_changelist"),
        {
            "kind__exact": "created",
            "verb": "create_opportunity",
            "origin__exact": "ui",
            "reconstructed__exact": "0",
        },
    )
    assert changelist.status_code == 200
    assert "action-select" not in changelist.content.decode()
    assert OpportunityEvent.objects.filter(pk=event.pk, kind="created").exists()


def test_history_link_filters_by_opportunity(
    admin_client_: Any, org_setup: Any, records: Any
) -> None:
    other = make_opportunity(owner=org_setup.rep, stage=org_setup.stages["Meeting"], name="Other")
    url = reverse("admin:pipeline_opportunityevent_changelist")
    response = admin_client_.get(url, {"opportunity": records["opportunity"].pk})
    assert response.status_code == 200
    assert response.context["cl"].result_count == 1
    assert other.events.exists()


# --- accounts and the rest --------------------------------------------------------------------


def test_account_edit_bumps_version_and_stale_form_conflicts(
    admin_client_: Any,
    org_setup: Any,
    records: Any,
) -> None:
    account = records["account"]
    url = change_url(account)
    stale = form_data(admin_client_.get(url))
    data = dict(stale, city="Augsburg")
    response = admin_client_.post(url, data)
    assert response.status_code == 302, errors_of(response)
    account.refresh_from_db()
    assert (account.city, account.version, account.updated_by) == ("Augsburg", 2, org_setup.admin)

    response = admin_client_.post(url, dict(stale, city="Nuremberg"))
    assert response.status_code == 200
    assert "changed by" in response.content.decode()
    account.refresh_from_db()
    assert (account.city, account.version) == ("Augsburg", 2)


def test_invalid_inline_rolls_back_the_service_write(admin_client_: Any, records: Any) -> None:
    account = records["account"]
    url = change_url(account)
    data = form_data(admin_client_.get(url))
    # A second row for the same contact violates the unique membership.
    data.update(
        {
            "memberships-TOTAL_FORMS": "2",
            "memberships-1-contact": str(records["contact"].pk),
            "memberships-1-account": str(account.pk),
            "city": "Regensburg",
        }
    )
    response = admin_client_.post(url, data)
    assert response.status_code == 200
    account.refresh_from_db()
    assert (account.city, account.version) == ("Munich", 1)


def test_company_settings_is_a_singleton(admin_client_: Any, org_setup: Any) -> None:
    settings = CompanySettings.objects.get()
    assert admin_client_.get(reverse("admin:org_companysettings_add")).status_code == 403
    delete = reverse("admin:org_companysettings_delete", args=[settings.pk])
    assert admin_client_.get(delete).status_code == 403


def test_team_page_lists_members(admin_client_: Any, org_setup: Any) -> None:
    response = admin_client_.get(change_url(org_setup.team))
    assert response.status_code == 200
    html = response.content.decode()
    assert "rep2" in html and "manager" in html


def test_role_decides_back_office_access(admin_client_: Any, org_setup: Any) -> None:
    user = org_setup.rep2
    url = change_url(user)
    data = form_data(admin_client_.get(url))
    data["role"] = "admin"
    response = admin_client_.post(url, data)
    assert response.status_code == 302, errors_of(response)
    user.refresh_from_db()
    assert user.is_staff and user.is_superuser


def test_add_account_with_a_contact_goes_through_services(
    admin_client_: Any, org_setup: Any, records: Any
) -> None:
    url = reverse("admin:accounts_account_add")
    data = form_data(admin_client_.get(url))
    role = ContactRole.objects.get(name="Decision maker")
    data.update(
        {
            "name": "Müller Leuchten GmbH & Co. KG",
            "owner": str(org_setup.rep.pk),
            "status": str(org_setup.status.pk),
            "website": "www.mueller-leuchten.de",
            "memberships-TOTAL_FORMS": "1",
            "memberships-INITIAL_FORMS": "0",
            "memberships-0-contact": str(records["contact"].pk),
            "memberships-0-roles": [str(role.pk)],
            "memberships-0-is_primary": "on",
        }
    )
    response = admin_client_.post(url, data)
    assert response.status_code == 302, errors_of(response)
    account = Account.objects.get(name="Müller Leuchten GmbH & Co. KG")
    assert (account.normalized_name, account.domain) == ("muller leuchten", "mueller-leuchten.de")
    assert (account.created_by, account.version) == (org_setup.admin, 1)
    membership = AccountContact.objects.get(account=account)
    assert (membership.contact, membership.is_primary) == (records["contact"], True)
    assert list(membership.roles.all()) == [role]


def test_account_service_rules_show_on_fields(admin_client_: Any, records: Any) -> None:
    url = change_url(records["account"])
    data = form_data(admin_client_.get(url))
    data.update(country="XX", phone="call me")
    response = admin_client_.post(url, data)
    assert response.status_code == 200
    assert {"country", "phone"} <= set(errors_of(response))
    records["account"].refresh_from_db()
    assert records["account"].version == 1


def test_contact_inline_moves_and_removes_links_through_services(
    admin_client_: Any,
    org_setup: Any,
    records: Any,
) -> None:
    contact = records["contact"]
    other = AccountFactory(owner=org_setup.rep, status=org_setup.status, name="Second AG")
    url = change_url(contact)
    data = form_data(admin_client_.get(url))
    assert data["memberships-INITIAL_FORMS"] == "1"
    data["memberships-0-account"] = str(other.pk)  # moved to another account
    data["job_title"] = "Head of purchasing"
    response = admin_client_.post(url, data)
    assert response.status_code == 302, errors_of(response)
    assert list(
        AccountContact.objects.filter(contact=contact).values_list("account", flat=True)
    ) == [other.pk]
    contact.refresh_from_db()
    assert (contact.job_title, contact.version, contact.updated_by) == (
        "Head of purchasing",
        2,
        org_setup.admin,
    )

    data = form_data(admin_client_.get(url))
    data["memberships-0-DELETE"] = "on"
    response = admin_client_.post(url, data)
    assert response.status_code == 302, errors_of(response)
    assert not AccountContact.objects.filter(contact=contact).exists()


def test_add_contact_and_membership_pages(admin_client_: Any, org_setup: Any, records: Any) -> None:
    url = reverse("admin:accounts_contact_add")
    data = form_data(admin_client_.get(url))
    data.update(
        last_name="Dupont",
        first_name="Claire",
        email="Claire@Example.FR",
        owner=str(org_setup.rep.pk),
    )
    response = admin_client_.post(url, data)
    assert response.status_code == 302, errors_of(response)
    claire = Contact.objects.get(last_name="Dupont")
    assert (claire.email, claire.created_by) == ("Claire@example.fr", org_setup.admin)

    url = reverse("admin:accounts_accountcontact_add")
    data = form_data(admin_client_.get(url))
    data.update(
        account=str(records["account"].pk),
        contact=str(claire.pk),
        since="2026-01-01",
        until="2025-01-01",
    )
    response = admin_client_.post(url, data)
    assert response.status_code == 200
    assert "until" in errors_of(response)
    data["until"] = ""
    response = admin_client_.post(url, data)
    assert response.status_code == 302, errors_of(response)
    assert AccountContact.objects.get(contact=claire).since == dt.date(2026, 1, 1)


def test_opportunity_custom_field_error_shows_on_custom(admin_client_: Any, records: Any) -> None:
    opp = records["opportunity"]
    url = change_url(opp)
    data = form_data(admin_client_.get(url))
    data["custom"] = '{"budget": "lots"}'
    response = admin_client_.post(url, data)
    assert response.status_code == 200
    assert "Budget" in " ".join(errors_of(response)["custom"])
    data["custom"] = '{"budget": "1500"}'
    response = admin_client_.post(url, data)
    assert response.status_code == 302, errors_of(response)
    opp.refresh_from_db()
    assert opp.custom == {"budget": "1500"}
    assert opp.events.filter(kind="custom", actor__username="admin").exists()


def test_activity_with_minutes_and_agreements(
    admin_client_: Any, org_setup: Any, records: Any
) -> None:
    meeting = ActivityTypeFactory(code="meeting", is_meeting=True)
    url = reverse("admin:activities_activity_add")
    data = form_data(admin_client_.get(url))
    data.update(
        {
            "activity_type": str(meeting.pk),
            "subject": "Kick-off",
            "owner": str(org_setup.rep.pk),
            "opportunity": str(records["opportunity"].pk),
            "due_on": "2026-03-10",
            "discussion": "Scope and budget",
            "participant_users": [str(org_setup.manager.pk)],
            "agreements-TOTAL_FORMS": "1",
            "agreements-INITIAL_FORMS": "0",
            "agreements-0-text": "Send the offer",
            "agreements-0-owner": str(org_setup.rep.pk),
            "agreements-0-due_on": "2026-03-20",
        }
    )
    response = admin_client_.post(url, data)
    assert response.status_code == 302, errors_of(response)
    activity = Activity.objects.get(subject="Kick-off")
    assert (activity.account, activity.assigned_by) == (records["account"], org_setup.admin)
    assert activity.discussion == "Scope and budget"
    assert list(activity.participant_users.all()) == [org_setup.manager]
    assert list(activity.agreements.values_list("text", flat=True)) == ["Send the offer"]

    url = change_url(activity)
    data = form_data(admin_client_.get(url))
    yesterday = (clock.today() - dt.timedelta(days=1)).isoformat()
    data.update({"done_at_0": yesterday, "done_at_1": "11:00:00", "duration_minutes": "45"})
    response = admin_client_.post(url, data)
    assert response.status_code == 302, errors_of(response)
    activity.refresh_from_db()
    assert activity.done_at is not None and activity.duration_minutes == 45
    assert activity.updated_by == org_setup.admin


def test_agreements_need_a_meeting(admin_client_: Any, org_setup: Any, records: Any) -> None:
    activity = Activity.objects.get(opportunity=records["opportunity"])  # a call
    url = change_url(activity)
    data = form_data(admin_client_.get(url))
    data.update({"agreements-TOTAL_FORMS": str(int(data["agreements-TOTAL_FORMS"]) + 1)})
    index = int(data["agreements-TOTAL_FORMS"]) - 1
    data.update(
        {
            f"agreements-{index}-text": "Call back",
            f"agreements-{index}-owner": str(org_setup.rep.pk),
        }
    )
    response = admin_client_.post(url, data)
    assert response.status_code == 200
    assert "has no minutes" in response.content.decode()
    assert activity.agreements.count() == 1


def test_a_refusal_after_validation_saves_nothing_and_says_why(
    admin_client_: Any,
    org_setup: Any,
) -> None:
    meeting = ActivityTypeFactory(code="visit", is_meeting=True)
    activity = ActivityFactory(
        owner=org_setup.rep, activity_type=meeting, subject="Visit", discussion="Notes"
    )
    url = change_url(activity)
    data = form_data(admin_client_.get(url))
    data.update(discussion="", subject="Visit at the plant")  # minutes with nothing in them
    response = admin_client_.post(url, data, follow=True)
    assert "Nothing was saved" in response.content.decode()
    activity.refresh_from_db()
    assert (activity.subject, activity.discussion, activity.version) == ("Visit", "Notes", 1)


def test_comment_and_attachment_are_added_through_services(
    admin_client_: Any,
    org_setup: Any,
    records: Any,
    settings: Any,
    tmp_path: Any,
) -> None:
    settings.MEDIA_ROOT = str(tmp_path)
    url = reverse("admin:activities_comment_add")
    data = form_data(admin_client_.get(url))
    data.update(
        body="Both?", account=str(records["account"].pk), opportunity=str(records["opportunity"].pk)
    )
    response = admin_client_.post(url, data)
    assert response.status_code == 200
    assert {"account", "opportunity"} <= set(errors_of(response))
    data["opportunity"] = ""
    response = admin_client_.post(url, data)
    assert response.status_code == 302, errors_of(response)
    comment = Comment.objects.get(body="Both?")
    assert comment.author == org_setup.admin

    url = reverse("admin:activities_attachment_add")
    data = form_data(admin_client_.get(url))
    data.update(
        opportunity=str(records["opportunity"].pk),
        file=SimpleUploadedFile(
            "../Angebot März.pdf", b"%PDF-1.4 offer", content_type="application/pdf"
        ),
    )
    response = admin_client_.post(url, data)
    assert response.status_code == 302, errors_of(response)
    attachment = Attachment.objects.get(opportunity=records["opportunity"])
    assert (attachment.filename, attachment.size, attachment.uploaded_by) == (
        "Angebot März.pdf",
        14,
        org_setup.admin,
    )
    assert admin_client_.get(change_url(attachment)).status_code == 200


def test_custom_field_definitions_follow_the_rules(admin_client_: Any, org_setup: Any) -> None:
    url = reverse("admin:customfields_customfielddefinition_add")
    data = form_data(admin_client_.get(url))
    data.update(
        target="account",
        key="size_class",
        label="Size class",
        field_type="choice",
        choices="",
        required_from_stage=str(org_setup.stages["Meeting"].pk),
    )
    response = admin_client_.post(url, data)
    assert response.status_code == 200
    assert {"choices", "required_from_stage"} <= set(errors_of(response))
    data.update(choices='["S", "M", "L"]', required_from_stage="")
    response = admin_client_.post(url, data)
    assert response.status_code == 302, errors_of(response)
    assert CustomFieldDefinition.objects.get(key="size_class").choices == ["S", "M", "L"]
