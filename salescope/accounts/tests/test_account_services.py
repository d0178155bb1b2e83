"""Writing accounts (D1-D3): happy paths, refused input, conflicts and permissions."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from salescope.accounts import services
from salescope.accounts.models import Account, AccountStatus
from salescope.core.errors import ConflictError
from salescope.core.models import ExternalId
from salescope.core.services import external_ids_of, find_by_external_id
from salescope.customfields.services import define_field
from salescope.testing.fixtures import FIXED_NOW

pytestmark = pytest.mark.django_db


def _counts():
    return (
        Account.objects.count(),
        Account.tags.through.objects.count(),
        ExternalId.objects.count(),
    )


# --- create -----------------------------------------------------------------------------


def test_create_account_with_every_field(org_setup, lists, frozen_now):
    s = org_setup
    define_field(target="account", key="potential", label="Potential", field_type="money")
    parent = services.create_account(actor=s.rep, name="Holding AG")
    account = services.create_account(
        actor=s.rep,
        name="  Müller Maschinenbau GmbH & Co. KG ",
        status=lists.customer,
        tier=lists.gold,
        account_type=lists.reseller,
        industry=lists.machinery,
        region=lists.bavaria,
        parent=parent,
        website="www.mueller-maschinen.de",
        phone="+49 (0)89 123-456",
        street="Hauptstraße 1",
        postal_code="80331",
        city="München",
        country="de",
        employees=250,
        annual_revenue="12500000.00",
        description="Family business",
        tags=[lists.tag_hot, lists.tag_fair],
        custom={"potential": {"amount": "50000", "currency": "EUR"}},
        external_ids={"Salesforce": "001A", "erp": "4711"},
    )
    account.refresh_from_db()
    assert account.name == "Müller Maschinenbau GmbH & Co. KG"
    assert account.normalized_name == "muller maschinenbau"
    assert account.owner == s.rep
    assert account.created_by == account.updated_by == s.rep
    assert account.created_at == account.updated_at == FIXED_NOW
    assert account.version == 1
    assert account.website == "https://www.mueller-maschinen.de"
    assert account.domain == "mueller-maschinen.de"
    assert account.country == "DE"
    assert account.employees == 250
    assert account.annual_revenue == Decimal("12500000.00")
    assert account.parent == parent
    assert (account.status, account.tier, account.account_type) == (
        lists.customer,
        lists.gold,
        lists.reseller,
    )
    assert (account.industry, account.region) == (lists.machinery, lists.bavaria)
    assert set(account.tags.all()) == {lists.tag_hot, lists.tag_fair}
    assert account.custom == {"potential": {"amount": "50000.00", "currency": "EUR"}}
    assert external_ids_of(account) == {"erp": "4711", "salesforce": "001A"}
    assert find_by_external_id(Account, "salesforce", "001A") == account


def test_create_account_defaults(org_setup, lists):
    s = org_setup
    account = services.create_account(actor=s.rep, name="Acme")
    assert account.status == s.status  # the default status
    assert account.owner == s.rep
    assert account.domain == "" and account.custom == {}


def test_default_status_falls_back_to_the_first_active_one(org_setup):
    s = org_setup
    AccountStatus.objects.update(is_default=False)
    AccountStatus.objects.create(name="Aaa first", order=0)
    assert services.create_account(actor=s.rep, name="Acme").status.name == "Aaa first"


def test_without_any_status_the_admin_must_add_one(org_setup):
    AccountStatus.objects.update(active=False)
    with pytest.raises(ValidationError) as exc:
        services.create_account(actor=org_setup.rep, name="Acme")
    assert "status" in exc.value.message_dict


def test_explicit_domain_wins_over_the_website(org_setup):
    account = services.create_account(
        actor=org_setup.rep,
        name="Acme",
        website="https://acme-shop.com",
        domain="https://www.ACME.com/",
    )
    assert account.domain == "acme.com"


def test_system_creates_for_any_owner_and_manager_for_their_team(org_setup):
    s = org_setup
    assert services.create_account(actor=None, name="Imported", owner=s.other_rep).owner == (
        s.other_rep
    )
    assert services.create_account(actor=s.manager, name="For rep", owner=s.rep).owner == s.rep
    assert services.create_account(actor=s.admin, name="Any", owner=s.other_rep).owner == (
        s.other_rep
    )


@pytest.mark.parametrize(
    ("actor", "owner"),
    [("rep", "rep2"), ("marketing", "rep"), ("manager", "other_rep")],
)
def test_creating_for_someone_outside_your_reach_is_refused(org_setup, actor, owner):
    s = org_setup
    before = _counts()
    with pytest.raises(ValidationError) as exc:
        services.create_account(actor=getattr(s, actor), name="X", owner=getattr(s, owner))
    assert "owner" in exc.value.message_dict
    assert _counts() == before


def test_system_needs_an_owner(org_setup):
    with pytest.raises(ValidationError) as exc:
        services.create_account(actor=None, name="Imported")
    assert "owner" in exc.value.message_dict


# --- refused input -----------------------------------------------------------------------


BAD_ACCOUNT_INPUT = [
    ("name", ""),
    ("name", "   "),
    ("name", "x" * 201),
    ("name", None),
    ("name", "Acme\x00"),
    ("city", "Köln\x00"),
    ("website", "not a url"),
    ("website", "ftp://example.com"),
    ("website", "https://" + "a" * 200 + ".com"),
    ("domain", "no spaces allowed.com x"),
    ("domain", "localhost"),
    ("phone", "call me maybe"),
    ("phone", "12"),
    ("street", "x" * 201),
    ("postal_code", "1" * 21),
    ("city", "x" * 101),
    ("country", "Germany"),
    ("country", "D"),
    ("country", "12"),
    ("country", "UK"),
    ("country", "ZZ"),
    ("employees", -1),
    ("employees", "many"),
    ("employees", 2.5),
    ("employees", True),
    ("annual_revenue", "abc"),
    ("annual_revenue", 1.5),
    ("annual_revenue", "-5"),
    ("annual_revenue", "1.234"),
    ("description", 42),
    ("tags", "Hot"),
    ("tags", [object()]),
    ("parent", "Holding"),
    ("custom.unknown", {"unknown": "x"}),
    ("external_ids", {"": "1"}),
    ("external_ids", {"erp": "x" * 201}),
    ("external_ids", ["erp", "1"]),
    ("external_ids", {"erp": "1\x002"}),
]


@pytest.mark.parametrize(("field", "value"), BAD_ACCOUNT_INPUT)
def test_malformed_values_are_refused_by_field_name_and_nothing_is_written(
    org_setup, lists, field, value
):
    before = _counts()
    kwargs: dict[str, Any] = {"name": "Acme"}
    kwargs["custom" if field.startswith("custom.") else field] = value
    with pytest.raises(ValidationError) as exc:
        services.create_account(actor=org_setup.rep, **kwargs)
    errors = exc.value.message_dict
    assert field in errors, errors
    if not field.startswith("custom."):
        assert field in " ".join(errors[field])  # the message names the field
    assert _counts() == before


@pytest.mark.parametrize("field", ["status", "tier"])
def test_inactive_list_entries_are_refused(org_setup, lists, field):
    value = {"status": lists.retired_status, "tier": lists.retired_tier}[field]
    before = _counts()
    with pytest.raises(ValidationError) as exc:
        services.create_account(actor=org_setup.rep, name="Acme", **{field: value})
    assert field in exc.value.message_dict
    assert "no longer in use" in exc.value.message_dict[field][0]
    assert _counts() == before


def test_tags_of_a_retired_category_are_refused(org_setup, lists):
    with pytest.raises(ValidationError) as exc:
        services.create_account(actor=org_setup.rep, name="Acme", tags=[lists.tag_retired])
    assert "tags" in exc.value.message_dict


@pytest.mark.parametrize("owner", ["inactive", "readonly"])
def test_owner_must_be_active_and_able_to_write(org_setup, owner):
    s = org_setup
    user = s.readonly
    if owner == "inactive":
        user = s.rep2
        user.is_active = False
        user.save()
    before = _counts()
    with pytest.raises(ValidationError) as exc:
        services.create_account(actor=s.admin, name="Acme", owner=user)
    assert "owner" in exc.value.message_dict
    assert _counts() == before


def test_mandatory_custom_field_missing_on_create(org_setup):
    define_field(
        target="account", key="vat_id", label="VAT ID", field_type="text", required_on_create=True
    )
    before = _counts()
    with pytest.raises(ValidationError) as exc:
        services.create_account(actor=org_setup.rep, name="Acme")
    assert exc.value.message_dict == {"custom.vat_id": ["VAT ID is mandatory."]}
    assert _counts() == before
    account = services.create_account(actor=org_setup.rep, name="Acme", custom={"vat_id": "DE1"})
    assert account.custom == {"vat_id": "DE1"}


def test_every_bad_value_is_reported_at_once(org_setup):
    with pytest.raises(ValidationError) as exc:
        services.create_account(
            actor=org_setup.rep, name="", country="Germany", employees=-3, website="nope"
        )
    assert {"name", "country", "employees", "website"} <= set(exc.value.message_dict)


def test_external_id_taken_by_another_account_is_refused(org_setup):
    s = org_setup
    services.create_account(actor=s.rep, name="First", external_ids={"erp": "1"})
    before = _counts()
    with pytest.raises(ValidationError) as exc:
        services.create_account(actor=s.rep, name="Second", external_ids={"ERP": " 1 "})
    assert "already belongs" in exc.value.message_dict["external_ids"][0]
    assert _counts() == before


# --- update ------------------------------------------------------------------------------


def test_update_changes_fields_bumps_version_and_records_who(org_setup, lists, frozen_now):
    s = org_setup
    account = services.create_account(actor=s.rep, name="Acme", website="acme.com")
    updated = services.update_account(
        account=account,
        actor=s.manager,
        expected_version=1,
        name="ACME Europe S.A.",
        tier=lists.gold,
        website="https://acme.eu",
        employees="120",
    )
    stored = Account.objects.get(pk=account.pk)
    assert stored.version == updated.version == 2
    assert stored.updated_by == s.manager and stored.updated_at == FIXED_NOW
    assert stored.normalized_name == "acme europe"
    assert stored.domain == "acme.eu"  # derived domain follows the website
    assert stored.tier == lists.gold and stored.employees == 120


def test_update_without_a_real_change_keeps_the_version(org_setup):
    s = org_setup
    account = services.create_account(actor=s.rep, name="Acme", country="DE")
    services.update_account(account=account, actor=s.rep, name="Acme", country="de")
    assert Account.objects.get(pk=account.pk).version == 1


def test_explicit_domain_survives_a_website_change(org_setup):
    s = org_setup
    account = services.create_account(
        actor=s.rep, name="Acme", website="acme-shop.com", domain="acme.com"
    )
    services.update_account(account=account, actor=s.rep, website="https://acme-store.com")
    assert Account.objects.get(pk=account.pk).domain == "acme.com"
    services.update_account(account=account, actor=s.rep, domain="")
    assert Account.objects.get(pk=account.pk).domain == "acme-store.com"


def test_unknown_fields_are_refused_by_name(org_setup):
    account = services.create_account(actor=org_setup.rep, name="Acme")
    with pytest.raises(ValidationError) as exc:
        services.update_account(
            account=account, actor=org_setup.rep, nmae="Typo", version=7, normalized_name="x"
        )
    assert set(exc.value.message_dict) == {"nmae", "version", "normalized_name"}
    assert "nmae" in exc.value.message_dict["nmae"][0]


def test_custom_values_are_merged(org_setup):
    define_field(target="account", key="vat_id", label="VAT ID", field_type="text")
    define_field(target="account", key="fleet", label="Fleet size", field_type="number")
    account = services.create_account(actor=org_setup.rep, name="Acme", custom={"vat_id": "DE1"})
    services.update_account(account=account, actor=org_setup.rep, custom={"fleet": "12"})
    assert Account.objects.get(pk=account.pk).custom == {"vat_id": "DE1", "fleet": "12"}
    services.update_account(account=account, actor=org_setup.rep, custom={"vat_id": None})
    assert Account.objects.get(pk=account.pk).custom == {"fleet": "12"}


def test_a_mandatory_custom_field_cannot_be_cleared(org_setup):
    define_field(
        target="account", key="vat_id", label="VAT ID", field_type="text", required_on_create=True
    )
    account = services.create_account(actor=org_setup.rep, name="Acme", custom={"vat_id": "DE1"})
    with pytest.raises(ValidationError) as exc:
        services.update_account(account=account, actor=org_setup.rep, custom={"vat_id": ""})
    assert "custom.vat_id" in exc.value.message_dict
    assert Account.objects.get(pk=account.pk).custom == {"vat_id": "DE1"}


def test_invalid_update_writes_nothing(org_setup, lists):
    s = org_setup
    account = services.create_account(actor=s.rep, name="Acme", tags=[lists.tag_hot])
    with pytest.raises(ValidationError) as exc:
        services.update_account(
            account=account, actor=s.rep, name="Renamed", tags=[lists.tag_fair], country="XX"
        )
    assert set(exc.value.message_dict) == {"country"}
    stored = Account.objects.get(pk=account.pk)
    assert stored.name == "Acme" and stored.version == 1
    assert list(stored.tags.all()) == [lists.tag_hot]


def test_a_retired_entry_already_in_use_may_stay(org_setup, lists):
    s = org_setup
    account = services.create_account(actor=s.rep, name="Acme", tier=lists.gold)
    Account.objects.filter(pk=account.pk).update(tier=lists.retired_tier)
    services.update_account(account=account, actor=s.rep, tier=lists.retired_tier, city="Köln")
    assert Account.objects.get(pk=account.pk).city == "Köln"


def test_parent_cannot_be_itself_or_a_subsidiary(org_setup):
    s = org_setup
    top = services.create_account(actor=s.rep, name="Top")
    middle = services.create_account(actor=s.rep, name="Middle", parent=top)
    bottom = services.create_account(actor=s.rep, name="Bottom", parent=middle)
    for parent in (top, bottom):
        with pytest.raises(ValidationError) as exc:
            services.update_account(account=top, actor=s.rep, parent=parent)
        assert "parent" in exc.value.message_dict
    services.update_account(account=bottom, actor=s.rep, parent=top)
    assert Account.objects.get(pk=bottom.pk).parent == top


def test_parent_must_be_visible_to_the_actor(org_setup):
    s = org_setup
    hidden = services.create_account(actor=s.other_rep, name="Hidden")
    with pytest.raises(ValidationError) as exc:
        services.create_account(actor=s.rep, name="Child", parent=hidden)
    assert "parent" in exc.value.message_dict


def test_tags_and_sharing(org_setup, lists):
    s = org_setup
    account = services.create_account(actor=s.rep, name="Acme")
    services.set_account_tags(account=account, tags=[lists.tag_hot], actor=s.rep)
    stored = Account.objects.get(pk=account.pk)
    assert list(stored.tags.all()) == [lists.tag_hot] and stored.version == 2
    services.share_account(account=account, users=[s.other_rep], actor=s.rep)
    assert list(stored.shared_with.all()) == [s.other_rep]
    # Sharing lets the other rep change it.
    services.update_account(account=account, actor=s.other_rep, city="Lyon")
    services.share_account(account=account, users=[], actor=s.rep)
    assert not stored.shared_with.exists()


def test_sharing_with_a_deactivated_user_is_refused(org_setup):
    s = org_setup
    account = services.create_account(actor=s.rep, name="Acme")
    s.rep2.is_active = False
    s.rep2.save()
    with pytest.raises(ValidationError) as exc:
        services.share_account(account=account, users=[s.rep2], actor=s.rep)
    assert "users" in exc.value.message_dict
    assert not account.shared_with.exists()


def test_external_ids_can_be_changed_and_removed(org_setup):
    s = org_setup
    account = services.create_account(actor=s.rep, name="Acme", external_ids={"erp": "1"})
    services.update_account(account=account, actor=s.rep, external_ids={"erp": "2", "crm": "9"})
    assert external_ids_of(account) == {"crm": "9", "erp": "2"}
    assert Account.objects.get(pk=account.pk).version == 2
    services.update_account(account=account, actor=s.rep, external_ids={"crm": ""})
    assert external_ids_of(account) == {"erp": "2"}
    assert find_by_external_id(Account, "erp", "1") is None


# --- conflicts ---------------------------------------------------------------------------


def test_second_writer_with_a_stale_version_gets_a_conflict_naming_the_first(org_setup):
    s = org_setup
    account = services.create_account(actor=s.rep, name="Acme")
    rep_view = Account.objects.get(pk=account.pk)
    manager_view = Account.objects.get(pk=account.pk)
    assert rep_view.version == manager_view.version == 1
    services.update_account(
        account=rep_view, actor=s.rep, expected_version=rep_view.version, city="Berlin"
    )
    with pytest.raises(ConflictError) as exc:
        services.update_account(
            account=manager_view,
            actor=s.manager,
            expected_version=manager_view.version,
            city="Hamburg",
        )
    assert s.rep.get_full_name() in str(exc.value)
    assert "Reload" in str(exc.value)
    assert exc.value.current_version == 2
    stored = Account.objects.get(pk=account.pk)
    assert stored.city == "Berlin" and stored.version == 2


def test_tag_changes_also_count_as_a_change_for_the_version(org_setup, lists):
    s = org_setup
    account = services.create_account(actor=s.rep, name="Acme")
    services.set_account_tags(account=account, tags=[lists.tag_hot], actor=s.manager)
    with pytest.raises(ConflictError):
        services.update_account(account=account, actor=s.rep, expected_version=1, city="Bonn")


# --- permissions -------------------------------------------------------------------------


def test_rep_cannot_update_another_teams_account(org_setup):
    s = org_setup
    account = services.create_account(actor=s.other_rep, name="South GmbH")
    with pytest.raises(PermissionDenied):
        services.update_account(account=account, actor=s.rep, city="Berlin")
    with pytest.raises(PermissionDenied):
        services.share_account(account=account, users=[s.rep], actor=s.rep)
    assert Account.objects.get(pk=account.pk).city == ""


def test_rep_cannot_update_a_teammates_account(org_setup):
    s = org_setup
    account = services.create_account(actor=s.rep2, name="Teammate's")
    with pytest.raises(PermissionDenied):
        services.update_account(account=account, actor=s.rep, city="Berlin")


def test_manager_can_update_their_teams_account_but_not_another_teams(org_setup):
    s = org_setup
    ours = services.create_account(actor=s.rep, name="Ours")
    theirs = services.create_account(actor=s.other_rep, name="Theirs")
    services.update_account(account=ours, actor=s.manager, city="Berlin")
    assert Account.objects.get(pk=ours.pk).city == "Berlin"
    with pytest.raises(PermissionDenied):
        services.update_account(account=theirs, actor=s.manager, city="Berlin")


def test_admin_can_update_anything(org_setup):
    s = org_setup
    account = services.create_account(actor=s.other_rep, name="Theirs")
    services.update_account(account=account, actor=s.admin, owner=s.rep)
    assert Account.objects.get(pk=account.pk).owner == s.rep


def test_marketing_changes_only_what_they_own(org_setup):
    s = org_setup
    own = services.create_account(actor=s.marketing, name="Campaign list")
    services.update_account(account=own, actor=s.marketing, city="Paris")
    reps = services.create_account(actor=s.rep, name="Rep's")
    with pytest.raises(PermissionDenied):
        services.update_account(account=reps, actor=s.marketing, city="Paris")


def test_read_only_writes_nothing(org_setup, lists):
    s = org_setup
    account = services.create_account(actor=s.rep, name="Acme")
    before = _counts()
    with pytest.raises(PermissionDenied):
        services.create_account(actor=s.readonly, name="Nope")
    with pytest.raises(PermissionDenied):
        services.update_account(account=account, actor=s.readonly, city="Berlin")
    with pytest.raises(PermissionDenied):
        services.set_account_tags(account=account, tags=[lists.tag_hot], actor=s.readonly)
    with pytest.raises(PermissionDenied):
        services.share_account(account=account, users=[s.readonly], actor=s.readonly)
    assert _counts() == before
    assert Account.objects.get(pk=account.pk).version == 1


def test_deactivated_user_writes_nothing(org_setup):
    s = org_setup
    account = services.create_account(actor=s.rep, name="Acme")
    s.rep.is_active = False
    s.rep.save()
    with pytest.raises(PermissionDenied):
        services.create_account(actor=s.rep, name="Nope")
    with pytest.raises(PermissionDenied):
        services.update_account(account=account, actor=s.rep, city="Berlin")
