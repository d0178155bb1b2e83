"""Who sees which accounts and contacts (S1), through the one visibility module.

The base: two teams (North: manager, rep, rep2; South: other_manager, other_rep), plus
marketing, read-only and admin users. Each account and contact is named after why someone
may see it.
"""

from __future__ import annotations

from typing import Any, cast

import pytest
from django.contrib.auth.models import AnonymousUser

from salescope.accounts.models import Account, AccountContact, Contact
from salescope.accounts.selectors import accounts_for, contacts_for
from salescope.testing.factories import AccountFactory, ContactFactory, make_opportunity
from salescope.visibility import can_change, can_view, visible_accounts, visible_contacts

pytestmark = pytest.mark.django_db


def _account(**kwargs: Any) -> Account:
    return cast(Account, AccountFactory(**kwargs))


def _contact(**kwargs: Any) -> Contact:
    return cast(Contact, ContactFactory(**kwargs))


ALL_ACCOUNTS = ["manager's", "other manager's", "other rep's", "rep's", "rep2's",
                "rep's deal at south", "shared with rep", "south only"]  # fmt: skip
ALL_CONTACTS = ["at rep's deal", "at south only", "marketing's", "rep's", "rep2's",
                "unattached other rep's"]  # fmt: skip


@pytest.fixture
def base(org_setup):
    s = org_setup
    accounts = {
        "rep's": _account(name="rep's", owner=s.rep, status=s.status),
        "rep2's": _account(name="rep2's", owner=s.rep2, status=s.status),
        "manager's": _account(name="manager's", owner=s.manager, status=s.status),
        "other rep's": _account(name="other rep's", owner=s.other_rep, status=s.status),
        "other manager's": _account(name="other manager's", owner=s.other_manager, status=s.status),
        "shared with rep": _account(name="shared with rep", owner=s.other_rep, status=s.status),
        "rep's deal at south": _account(
            name="rep's deal at south", owner=s.other_rep, status=s.status
        ),
        "south only": _account(name="south only", owner=s.other_rep, status=s.status),
    }
    accounts["shared with rep"].shared_with.add(s.rep)
    make_opportunity(
        owner=s.rep, stage=s.stages["Meeting"], account=accounts["rep's deal at south"]
    )

    def contact(name, owner, account=None):
        c = _contact(first_name="", last_name=name, owner=owner)
        if account is not None:
            AccountContact.objects.create(account=accounts[account], contact=c)
        return c

    contact("rep's", s.rep)
    contact("rep2's", s.rep2)
    contact("at rep's deal", s.other_rep, "rep's deal at south")
    contact("at south only", s.other_rep, "south only")
    contact("unattached other rep's", s.other_rep)
    contact("marketing's", s.marketing)
    return accounts


def account_names(user):
    return sorted(visible_accounts(user, Account.objects.all()).values_list("name", flat=True))


def contact_names(user):
    return sorted(visible_contacts(user, Contact.objects.all()).values_list("last_name", flat=True))


def test_rep_sees_own_shared_and_deal_accounts(org_setup, base):
    assert account_names(org_setup.rep) == ["rep's", "rep's deal at south", "shared with rep"]


def test_rep_sees_own_contacts_and_those_at_visible_accounts(org_setup, base):
    assert contact_names(org_setup.rep) == ["at rep's deal", "rep's"]


def test_manager_sees_their_teams_accounts_and_contacts(org_setup, base):
    s = org_setup
    # The rep's deal makes its account visible to the rep's manager too; what is only
    # shared with the rep is not.
    assert account_names(s.manager) == ["manager's", "rep's", "rep's deal at south", "rep2's"]
    assert contact_names(s.manager) == ["at rep's deal", "rep's", "rep2's"]
    assert account_names(s.other_manager) == [
        "other manager's", "other rep's", "rep's deal at south", "shared with rep", "south only",
    ]  # fmt: skip
    assert contact_names(s.other_manager) == [
        "at rep's deal", "at south only", "unattached other rep's",
    ]  # fmt: skip


@pytest.mark.parametrize("role", ["admin", "readonly", "marketing"])
def test_admin_read_only_and_marketing_see_the_whole_base(org_setup, base, role):
    user = getattr(org_setup, role)
    assert account_names(user) == sorted(ALL_ACCOUNTS)
    assert contact_names(user) == sorted(ALL_CONTACTS)


def test_inactive_and_anonymous_users_see_nothing(org_setup, base):
    s = org_setup
    s.admin.is_active = False
    s.admin.save()
    assert account_names(s.admin) == [] and contact_names(s.admin) == []
    anonymous = cast(Any, AnonymousUser())
    assert not visible_accounts(anonymous, Account.objects.all()).exists()
    assert not visible_contacts(anonymous, Contact.objects.all()).exists()


def test_selectors_apply_the_same_rules(org_setup, base):
    s = org_setup
    for user in (s.rep, s.manager, s.marketing, s.readonly):
        assert sorted(a.name for a in accounts_for(user)) == account_names(user)
        assert sorted(c.last_name for c in contacts_for(user)) == contact_names(user)


def test_who_may_change_an_account(org_setup, base):
    s = org_setup
    shared = base["shared with rep"]
    deal_account = base["rep's deal at south"]
    assert can_change(s.rep, base["rep's"]) and can_change(s.rep, shared)
    # Seeing an account through a deal does not allow changing it.
    assert can_view(s.rep, deal_account) and not can_change(s.rep, deal_account)
    assert can_change(s.manager, base["rep2's"]) and not can_change(s.manager, shared)
    assert can_view(s.marketing, base["rep's"]) and not can_change(s.marketing, base["rep's"])
    assert can_view(s.readonly, base["rep's"]) and not can_change(s.readonly, base["rep's"])
    assert can_change(s.admin, base["south only"])
