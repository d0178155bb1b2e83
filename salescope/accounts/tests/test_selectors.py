"""Reads: duplicate candidates (D6), lists with roles (D4), external ids (imports)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from salescope.accounts import services
from salescope.accounts.models import Account, Contact
from salescope.accounts.selectors import (
    accounts_for,
    contacts_for,
    find_duplicate_accounts,
    find_duplicate_contacts,
)
from salescope.core.models import ExternalId
from salescope.core.services import external_ids_of, find_by_external_id, set_external_ids

pytestmark = pytest.mark.django_db


def test_duplicate_accounts_by_normalised_name_or_domain(org_setup):
    s = org_setup
    muller = services.create_account(actor=s.rep, name="Müller GmbH", website="mueller.de")
    same_domain = services.create_account(
        actor=s.other_rep, name="Mueller Service", website="https://www.mueller.de/service"
    )
    services.create_account(actor=s.rep, name="Someone else", website="else.com")
    assert set(find_duplicate_accounts(name="MULLER & Co. KG")) == {muller}
    assert set(find_duplicate_accounts(name="New name", domain="info@Mueller.de")) == {
        muller,
        same_domain,
    }
    assert set(find_duplicate_accounts(name="Müller AG", exclude=muller)) == set()
    # Restricted to what a user sees.
    assert set(find_duplicate_accounts(name="x", domain="mueller.de", user=s.rep)) == {muller}


def test_free_mail_domains_and_empty_input_match_nothing(org_setup):
    s = org_setup
    services.create_account(actor=s.rep, name="Gmail fan", domain="gmail.com")
    assert not find_duplicate_accounts(domain="someone@gmail.com").exists()
    assert not find_duplicate_accounts().exists()
    assert not find_duplicate_accounts(name="\x00", domain="a\x00b.com").exists()


def test_duplicate_contacts_by_email_or_full_name(org_setup):
    s = org_setup
    jane = services.create_contact(
        actor=s.rep, first_name="Jane", last_name="Doe", email="jane@acme.com"
    )
    other = services.create_contact(actor=s.rep, first_name="John", last_name="Doe")
    assert list(find_duplicate_contacts(email="JANE@acme.com")) == [jane]
    assert list(find_duplicate_contacts(first_name="jane", last_name="DOE")) == [jane]
    assert list(find_duplicate_contacts(first_name="John", last_name="Doe", exclude=other)) == []
    assert not find_duplicate_contacts(last_name="Doe").exists()  # too vague on its own
    assert not find_duplicate_contacts().exists()
    assert list(find_duplicate_contacts(email="jane@acme.com\x00")) == [jane]


def test_lists_carry_their_relations(org_setup, lists, django_assert_max_num_queries):
    s = org_setup
    account = services.create_account(actor=s.rep, name="Acme", tier=lists.gold)
    for i in range(3):
        services.create_contact(
            actor=s.rep, last_name=f"Person {i}", account=account, roles=[lists.billing]
        )
    with django_assert_max_num_queries(2):
        rows = [(a.name, a.status.name, str(a.tier), a.owner.username) for a in accounts_for(s.rep)]
    assert rows == [("Acme", "Prospect", "Gold", "rep")]
    with django_assert_max_num_queries(4):
        roles = [
            [r.name for m in c.memberships.all() for r in m.roles.all()]
            for c in contacts_for(s.rep)
        ]
    assert roles == [["Billing contact"]] * 3


def test_external_id_helpers(org_setup):
    s = org_setup
    account = services.create_account(actor=s.rep, name="Acme")
    contact = services.create_contact(actor=s.rep, last_name="Doe")
    assert set_external_ids(record=account, ids={"ERP": "42"}) == {"erp": "42"}
    # The same id may exist once per model: a contact may also be "erp 42".
    set_external_ids(record=contact, ids={"erp": "42"})
    assert find_by_external_id(Account, "erp", "42") == account
    assert find_by_external_id(Contact, "Erp", 42) == contact
    assert find_by_external_id(Account, "erp", "43") is None
    assert find_by_external_id(Account, "", "42") is None
    other = services.create_account(actor=s.rep, name="Other")
    with pytest.raises(ValidationError) as exc:
        set_external_ids(record=other, ids={"erp": "42"})
    assert "external_ids" in exc.value.message_dict
    # One id per system and record: setting a new one replaces it.
    set_external_ids(record=account, ids={"erp": "43"})
    assert external_ids_of(account) == {"erp": "43"}
    assert external_ids_of(contact) == {"erp": "42"}
    assert ExternalId.objects.count() == 2
    assert find_by_external_id(Account, "erp", "43") == account
