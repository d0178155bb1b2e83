"""Writing contacts and their places at accounts with roles (D1, D4)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from salescope.accounts import services
from salescope.accounts.models import AccountContact, Contact
from salescope.accounts.selectors import account_contacts, contact_accounts
from salescope.core.errors import ConflictError
from salescope.core.models import ExternalId
from salescope.core.services import external_ids_of
from salescope.customfields.services import define_field

pytestmark = pytest.mark.django_db


def _counts():
    return (
        Contact.objects.count(),
        AccountContact.objects.count(),
        AccountContact.roles.through.objects.count(),
        Contact.tags.through.objects.count(),
        ExternalId.objects.count(),
    )


@pytest.fixture
def acme(org_setup):
    return services.create_account(actor=org_setup.rep, name="Acme GmbH")


def test_create_contact_at_accounts_with_roles(org_setup, lists, acme):
    s = org_setup
    define_field(target="contact", key="newsletter", label="Newsletter", field_type="boolean")
    branch = services.create_account(actor=s.rep, name="Acme Branch")
    contact = services.create_contact(
        actor=s.rep,
        first_name=" Jane ",
        last_name="Doe",
        email="Jane.Doe@ACME.example",
        phone="+49 89 1234",
        mobile="0171 555 0101",
        job_title="Head of purchasing",
        language="DE",
        notes="Prefers calls in the morning",
        accounts=[(acme, [lists.decision_maker, lists.billing], True), (branch, [])],
        tags=[lists.tag_hot],
        custom={"newsletter": "yes"},
        external_ids={"hubspot": "77"},
    )
    contact.refresh_from_db()
    assert (contact.first_name, contact.last_name) == ("Jane", "Doe")
    assert contact.email == "Jane.Doe@acme.example"  # the domain is lowercased, not the name
    assert contact.language == "de"
    assert contact.owner == s.rep and contact.version == 1
    assert contact.custom == {"newsletter": True}
    assert external_ids_of(contact) == {"hubspot": "77"}
    assert list(contact.tags.all()) == [lists.tag_hot]
    at_acme = AccountContact.objects.get(contact=contact, account=acme)
    assert at_acme.is_primary
    assert set(at_acme.roles.all()) == {lists.decision_maker, lists.billing}
    assert not AccountContact.objects.get(contact=contact, account=branch).is_primary


def test_simple_account_and_roles_form(org_setup, lists, acme):
    contact = services.create_contact(
        actor=org_setup.rep, last_name="Doe", account=acme, roles=[lists.billing]
    )
    membership = AccountContact.objects.get(contact=contact)
    assert membership.account == acme
    assert list(membership.roles.all()) == [lists.billing]


BAD_CONTACT_INPUT = [
    ("last_name", ""),
    ("last_name", "x" * 101),
    ("first_name", "x" * 101),
    ("first_name", "Jane\x00"),
    ("email", "jane\x00@example.com"),
    ("email", "jane.doe"),
    ("email", "jane@"),
    ("email", "jane doe@example.com"),
    ("phone", "ask reception"),
    ("mobile", "++"),
    ("job_title", "x" * 121),
    ("language", "German"),
    ("tags", [1, 2]),
    ("custom.unknown", {"unknown": 1}),
    ("external_ids", {"bad system!": "1"}),
    ("accounts", [("not an account", [], False)]),
    ("accounts", "Acme"),
    ("roles", ["decision maker"]),
]


@pytest.mark.parametrize(("field", "value"), BAD_CONTACT_INPUT)
def test_malformed_contact_values_are_refused_and_nothing_is_written(
    org_setup, lists, acme, field, value
):
    before = _counts()
    kwargs: dict[str, Any] = {"last_name": "Doe"}
    if field == "roles":
        kwargs.update(account=acme, roles=value)
    else:
        kwargs["custom" if field.startswith("custom.") else field] = value
    with pytest.raises(ValidationError) as exc:
        services.create_contact(actor=org_setup.rep, **kwargs)
    errors = exc.value.message_dict
    assert field in errors, errors
    if not field.startswith("custom."):
        assert field in " ".join(errors[field])
    assert _counts() == before


def test_a_retired_role_or_an_invisible_account_is_refused(org_setup, lists, acme):
    s = org_setup
    hidden = services.create_account(actor=s.other_rep, name="Hidden")
    before = _counts()
    with pytest.raises(ValidationError) as exc:
        services.create_contact(
            actor=s.rep,
            last_name="Doe",
            accounts=[(acme, [lists.retired_role]), (hidden, [])],
        )
    assert set(exc.value.message_dict) == {"roles", "accounts"}
    assert _counts() == before


def test_the_same_account_twice_is_refused(org_setup, acme):
    with pytest.raises(ValidationError) as exc:
        services.create_contact(
            actor=org_setup.rep, last_name="Doe", accounts=[(acme, []), (acme, [], True)]
        )
    assert "accounts" in exc.value.message_dict


def test_a_mandatory_contact_field_is_required_on_create(org_setup):
    define_field(
        target="contact", key="consent", label="Consent", field_type="boolean",
        required_on_create=True,
    )  # fmt: skip
    with pytest.raises(ValidationError) as exc:
        services.create_contact(actor=org_setup.rep, last_name="Doe")
    assert "custom.consent" in exc.value.message_dict


def test_update_contact(org_setup):
    s = org_setup
    contact = services.create_contact(actor=s.rep, last_name="Doe", email="j@example.com")
    services.update_contact(
        contact=contact, actor=s.rep, expected_version=1, email="jane@example.com",
        job_title="CEO",
    )  # fmt: skip
    stored = Contact.objects.get(pk=contact.pk)
    assert (stored.email, stored.job_title, stored.version) == ("jane@example.com", "CEO", 2)
    assert stored.updated_by == s.rep


def test_update_contact_refuses_unknown_fields_and_bad_values(org_setup):
    s = org_setup
    contact = services.create_contact(actor=s.rep, last_name="Doe")
    with pytest.raises(ValidationError) as exc:
        services.update_contact(contact=contact, actor=s.rep, accounts=[])
    assert "accounts" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.update_contact(contact=contact, actor=s.rep, last_name="", email="x")
    assert set(exc.value.message_dict) == {"last_name", "email"}
    assert Contact.objects.get(pk=contact.pk).version == 1


def test_contact_conflict_names_the_first_writer(org_setup):
    s = org_setup
    contact = services.create_contact(actor=s.rep, last_name="Doe")
    services.update_contact(contact=contact, actor=s.rep, expected_version=1, first_name="Jane")
    with pytest.raises(ConflictError) as exc:
        services.update_contact(
            contact=contact, actor=s.manager, expected_version=1, first_name="John"
        )
    assert s.rep.get_full_name() in str(exc.value)
    assert Contact.objects.get(pk=contact.pk).first_name == "Jane"


def test_contact_permissions(org_setup):
    s = org_setup
    theirs = services.create_contact(actor=s.other_rep, last_name="South")
    ours = services.create_contact(actor=s.rep2, last_name="North")
    with pytest.raises(PermissionDenied):
        services.update_contact(contact=theirs, actor=s.rep, job_title="x")
    with pytest.raises(PermissionDenied):
        services.update_contact(contact=ours, actor=s.readonly, job_title="x")
    with pytest.raises(PermissionDenied):
        services.create_contact(actor=s.readonly, last_name="Nope")
    services.update_contact(contact=ours, actor=s.manager, job_title="Buyer")
    assert Contact.objects.get(pk=ours.pk).job_title == "Buyer"


def test_link_update_and_unlink(org_setup, lists, acme):
    s = org_setup
    jane = services.create_contact(actor=s.rep, last_name="Doe", account=acme)
    john = services.create_contact(actor=s.rep, last_name="Roe")
    link = services.link_contact(
        contact=john, account=acme, roles=[lists.decision_maker], is_primary=True, actor=s.rep
    )
    assert link.is_primary and list(link.roles.all()) == [lists.decision_maker]
    # Jane becomes primary: John is not any more (one primary contact per account).
    services.link_contact(contact=jane, account=acme, is_primary=True, actor=s.rep)
    assert not AccountContact.objects.get(pk=link.pk).is_primary
    # None keeps the roles; a list replaces them.
    services.link_contact(contact=john, account=acme, actor=s.rep, since=dt.date(2020, 1, 1))
    assert list(AccountContact.objects.get(pk=link.pk).roles.all()) == [lists.decision_maker]
    services.link_contact(contact=john, account=acme, roles=[lists.billing], actor=s.rep)
    assert list(AccountContact.objects.get(pk=link.pk).roles.all()) == [lists.billing]
    rows = list(account_contacts(acme))
    assert [m.contact for m in rows] == [jane, john]  # primary first
    assert [m.account for m in contact_accounts(john)] == [acme]
    services.unlink_contact(contact=john, account=acme, actor=s.rep)
    assert not AccountContact.objects.filter(contact=john).exists()
    with pytest.raises(ValidationError) as exc:
        services.unlink_contact(contact=john, account=acme, actor=s.rep)
    assert "account" in exc.value.message_dict


def test_link_refuses_bad_dates_and_retired_roles(org_setup, lists, acme):
    s = org_setup
    john = services.create_contact(actor=s.rep, last_name="Roe")
    with pytest.raises(ValidationError) as exc:
        services.link_contact(
            contact=john, account=acme, actor=s.rep, since=dt.date(2024, 5, 1),
            until=dt.date(2024, 1, 1), roles=[lists.retired_role],
        )  # fmt: skip
    assert set(exc.value.message_dict) == {"until", "roles"}
    assert not AccountContact.objects.filter(contact=john).exists()


def test_linking_needs_sight_of_both_and_the_right_to_change_one(org_setup, acme):
    s = org_setup
    theirs = services.create_account(actor=s.other_rep, name="South")
    their_contact = services.create_contact(actor=s.other_rep, last_name="South")
    mine = services.create_contact(actor=s.rep, last_name="Mine")
    with pytest.raises(PermissionDenied):
        services.link_contact(contact=mine, account=theirs, actor=s.rep)
    with pytest.raises(PermissionDenied):
        services.link_contact(contact=their_contact, account=acme, actor=s.rep)
    with pytest.raises(PermissionDenied):
        services.link_contact(contact=mine, account=acme, actor=s.readonly)
    # Marketing sees every account and contact but changes neither of these.
    with pytest.raises(PermissionDenied):
        services.link_contact(contact=their_contact, account=acme, actor=s.marketing)
    assert not AccountContact.objects.exists()
    # The other rep may put their contact at an account they can see (here: shared).
    services.share_account(account=acme, users=[s.other_rep], actor=s.rep)
    services.link_contact(contact=their_contact, account=acme, actor=s.other_rep)
    services.link_contact(contact=mine, account=theirs, actor=None)  # the system may
    assert AccountContact.objects.count() == 2
