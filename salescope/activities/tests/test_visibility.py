"""Who sees which activities (S1), through the one visibility module.

Each activity is named after why someone may see it. A rep sees activities they own,
assigned, take part in, or that sit on an opportunity or account they see; a manager also
their team's; admins and read-only users everything.
"""

from __future__ import annotations

from typing import Any, cast

import pytest
from django.contrib.auth.models import AnonymousUser

from salescope.accounts.models import Account
from salescope.activities.models import Activity
from salescope.activities.selectors import activities_for
from salescope.testing.factories import AccountFactory, ActivityFactory, make_opportunity
from salescope.visibility import can_change, can_view, visible_activities

pytestmark = pytest.mark.django_db


def _account(**kwargs: Any) -> Account:
    return cast(Account, AccountFactory(**kwargs))


def _activity(**kwargs: Any) -> Activity:
    return cast(Activity, ActivityFactory(**kwargs))


ALL = [
    "assigned by rep to rep2", "manager's", "on other account", "on rep's deal",
    "on shared account", "other rep's", "rep takes part", "rep's", "rep2's",
]  # fmt: skip


@pytest.fixture
def base(org_setup):
    s = org_setup
    shared = _account(name="shared with rep", owner=s.other_rep, status=s.status)
    shared.shared_with.add(s.rep)
    other = _account(name="south only", owner=s.other_rep, status=s.status)
    rep_deal = make_opportunity(owner=s.rep, stage=s.stages["Meeting"])

    def act(subject, owner, **kwargs):
        return _activity(subject=subject, owner=owner, **kwargs)

    acts = {
        "rep's": act("rep's", s.rep),
        "rep2's": act("rep2's", s.rep2),
        "assigned by rep to rep2": act("assigned by rep to rep2", s.rep2, assigned_by=s.rep),
        "manager's": act("manager's", s.manager),
        "other rep's": act("other rep's", s.other_rep),
        "rep takes part": act("rep takes part", s.other_rep),
        "on rep's deal": act("on rep's deal", s.other_rep, opportunity=rep_deal),
        "on shared account": act("on shared account", s.other_rep, account=shared),
        "on other account": act("on other account", s.other_rep, account=other),
    }
    acts["rep takes part"].participant_users.add(s.rep, s.rep2)
    return acts


def names(user):
    return sorted(
        visible_activities(user, Activity.objects.all()).values_list("subject", flat=True)
    )


def test_rep_sees_own_assigned_attended_and_on_what_they_see(org_setup, base):
    assert names(org_setup.rep) == [
        "assigned by rep to rep2", "on rep's deal", "on shared account", "rep takes part",
        "rep's",
    ]  # fmt: skip


def test_an_activity_with_several_participants_is_listed_once(org_setup, base):
    rows = list(visible_activities(org_setup.rep2, Activity.objects.all()))
    assert len(rows) == len({r.pk for r in rows})
    assert names(org_setup.rep2) == ["assigned by rep to rep2", "rep takes part", "rep2's"]


def test_manager_sees_their_teams_activities(org_setup, base):
    s = org_setup
    assert names(s.manager) == [
        "assigned by rep to rep2", "manager's", "on rep's deal", "rep's", "rep2's",
    ]  # fmt: skip
    assert names(s.other_manager) == [
        "on other account", "on rep's deal", "on shared account", "other rep's",
        "rep takes part",
    ]  # fmt: skip


@pytest.mark.parametrize("role", ["admin", "readonly"])
def test_admin_and_read_only_see_everything(org_setup, base, role):
    assert names(getattr(org_setup, role)) == sorted(ALL)


def test_marketing_sees_activities_on_accounts_only(org_setup, base):
    # Marketing sees every account, so every activity filed on an account (the account's
    # timeline); activities on deals and unfiled ones stay private, as for a rep.
    assert names(org_setup.marketing) == ["on other account", "on shared account"]


def test_inactive_and_anonymous_users_see_nothing(org_setup, base):
    s = org_setup
    s.readonly.is_active = False
    s.readonly.save()
    assert names(s.readonly) == []
    assert not visible_activities(cast(Any, AnonymousUser()), Activity.objects.all()).exists()


def test_selector_applies_the_same_rules(org_setup, base):
    s = org_setup
    for user in (s.rep, s.rep2, s.manager, s.marketing, s.admin):
        assert sorted(a.subject for a in activities_for(user)) == names(user)


def test_who_may_change_an_activity(org_setup, base):
    s = org_setup
    assert can_change(s.rep, base["assigned by rep to rep2"])  # the assigner
    assert can_change(s.rep2, base["assigned by rep to rep2"])  # the owner
    assert can_change(s.manager, base["rep2's"])
    # Taking part does not give the right to change it...
    assert can_view(s.rep, base["rep takes part"]) and not can_change(s.rep, base["rep takes part"])
    # ...but whoever may change the deal may work the activities on it.
    assert can_change(s.rep, base["on rep's deal"])
    assert not can_change(s.rep2, base["on rep's deal"])
    assert not can_change(s.readonly, base["rep's"]) and can_change(s.admin, base["rep's"])


def test_grouped_counts_over_visible_activities_are_exact(org_setup):
    """Participants must not multiply rows: KPIs group and count over this queryset."""
    from django.db.models import Count

    from salescope.testing.factories import ActivityFactory

    s = org_setup
    meeting = ActivityFactory(owner=s.rep, subject="Kick-off")
    meeting.participant_users.set([s.rep2, s.manager, s.admin])
    ActivityFactory(owner=s.rep, subject="Call")
    rows = list(
        visible_activities(s.manager, Activity.objects.all())
        .values("owner")
        .annotate(n=Count("id"))
        .order_by("owner")
    )
    assert rows == [{"owner": s.rep.pk, "n": 2}]
