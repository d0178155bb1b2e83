"""Who sees which opportunities (S1), through the one visibility module."""

from __future__ import annotations

import pytest

from salescope.pipeline import services
from salescope.pipeline.models import Opportunity
from salescope.pipeline.selectors import opportunities_for
from salescope.testing.factories import make_opportunity
from salescope.visibility import can_change, can_view, visible_opportunities

pytestmark = pytest.mark.django_db


@pytest.fixture
def deals(org_setup):
    s = org_setup
    stage = s.stages["Meeting"]
    return {
        "rep": make_opportunity(owner=s.rep, stage=stage, name="rep's"),
        "rep2": make_opportunity(owner=s.rep2, stage=stage, name="rep2's"),
        "manager": make_opportunity(owner=s.manager, stage=stage, name="manager's"),
        "other_rep": make_opportunity(owner=s.other_rep, stage=stage, name="other rep's"),
        "other_manager": make_opportunity(
            owner=s.other_manager, stage=stage, name="other manager's"
        ),
    }


def names(user):
    return sorted(
        visible_opportunities(user, Opportunity.objects.all()).values_list("name", flat=True)
    )


def test_rep_sees_own_and_shared(org_setup, deals):
    s = org_setup
    assert names(s.rep) == ["rep's"]
    services.share(opportunity=deals["other_rep"], users=[s.rep], actor=s.other_rep)
    assert names(s.rep) == ["other rep's", "rep's"]
    assert can_view(s.rep, deals["other_rep"]) and not can_view(s.rep, deals["rep2"])


def test_manager_sees_their_teams(org_setup, deals):
    s = org_setup
    assert names(s.manager) == ["manager's", "rep's", "rep2's"]
    assert names(s.other_manager) == ["other manager's", "other rep's"]


@pytest.mark.parametrize("role", ["admin", "readonly"])
def test_admin_and_read_only_see_everything(org_setup, deals, role):
    assert len(names(getattr(org_setup, role))) == 5


def test_marketing_sees_only_own_opportunities(org_setup, deals):
    assert names(org_setup.marketing) == []


def test_inactive_or_anonymous_users_see_nothing(org_setup, deals):
    from django.contrib.auth.models import AnonymousUser

    s = org_setup
    s.manager.is_active = False
    s.manager.save()
    assert names(s.manager) == []
    assert not visible_opportunities(AnonymousUser(), Opportunity.objects.all()).exists()


def test_change_rights(org_setup, deals):
    s = org_setup
    rep_deal = deals["rep"]
    assert can_change(s.rep, rep_deal)
    assert can_change(s.manager, rep_deal)
    assert can_change(s.admin, rep_deal)
    assert not can_change(s.readonly, rep_deal)  # sees everything, changes nothing
    assert not can_change(s.rep2, rep_deal)
    assert not can_change(s.other_manager, rep_deal)
    assert not can_change(s.marketing, rep_deal)


def test_selector_applies_scope_and_stays_one_query(org_setup, deals, django_assert_num_queries):
    with django_assert_num_queries(1):
        rows = [
            (o.name, o.stage.name, o.owner.username) for o in opportunities_for(org_setup.manager)
        ]
    assert len(rows) == 3
