"""Saved views per user, bulk reassign and tag (all or nothing), custom-field columns."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.messages import get_messages

from salescope.accounts.models import Account
from salescope.lists import services
from salescope.lists.models import SavedView
from salescope.pipeline.models import Opportunity

pytestmark = pytest.mark.django_db


def messages_of(response: Any) -> str:
    return " ".join(str(m) for m in get_messages(response.wsgi_request))


# --- saved views ---------------------------------------------------------------------------


def test_save_pick_update_and_delete_a_view(client, world) -> None:
    org = world.org
    client.force_login(org.manager)
    query = f"stage={org.stages['Proposal'].pk}&sort=-amount"
    response = client.post(
        "/lists/deals/views/",
        {
            "name": "Proposals",
            "query_string": query,
            "cols": ["name", "amount", "weighted"],
        },
    )
    view = SavedView.objects.get(user=org.manager, list_key="deals")
    assert (view.name, view.query_string, view.columns) == (
        "Proposals",
        query,
        ["name", "amount", "weighted"],
    )
    assert response.status_code == 302 and f"view={view.pk}" in response["Location"]

    page = client.get(response["Location"])
    assert page.context["current_view"] == view
    assert [c.key for c in page.context["state"].columns] == ["name", "amount", "weighted"]
    html = page.content.decode()
    assert "Acme lighting" in html and "Globex retrofit" not in html

    # Saving under the same name replaces it; a default view opens on a bare visit.
    client.post(
        "/lists/deals/views/",
        {"name": "Proposals", "query_string": "sort=name", "cols": ["name"], "is_default": "on"},
    )
    view.refresh_from_db()
    assert view.query_string == "sort=name" and view.is_default
    assert SavedView.objects.count() == 1
    bare = client.get("/deals/")
    assert bare.status_code == 302 and f"view={view.pk}" in bare["Location"]
    assert client.get("/deals/?clear=1").status_code == 200

    response = client.post(f"/lists/deals/views/{view.pk}/delete/")
    assert response.status_code == 302
    assert not SavedView.objects.exists()
    assert client.get("/deals/").status_code == 200


def test_saved_views_are_private_to_their_user(client, world) -> None:
    org = world.org
    mine = services.save_view(
        user=org.manager, list_key="deals", name="Mine", query_string="sort=name", columns=["name"]
    )
    client.force_login(org.rep)
    html = client.get("/deals/").content.decode()
    assert "Mine" not in html
    assert client.post(f"/lists/deals/views/{mine.pk}/delete/").status_code == 404
    assert SavedView.objects.filter(pk=mine.pk).exists()
    # Another user's view id in the URL does not load their view.
    page = client.get(f"/deals/?view={mine.pk}")
    assert page.context["current_view"] is None


def test_saving_a_view_without_a_name_is_refused(client, world) -> None:
    client.force_login(world.org.manager)
    response = client.post("/lists/accounts/views/", {"name": "  ", "next": "sort=name"})
    assert response.status_code == 302
    assert "Give the view a name" in messages_of(response)
    assert not SavedView.objects.exists()
    assert client.post("/lists/nope/views/", {"name": "x"}).status_code == 404
    assert client.get("/lists/deals/views/").status_code == 405


def test_one_default_view_per_list(world) -> None:
    user = world.org.manager
    services.save_view(user=user, list_key="deals", name="A", query_string="", is_default=True)
    services.save_view(user=user, list_key="deals", name="B", query_string="", is_default=True)
    services.save_view(user=user, list_key="accounts", name="C", query_string="", is_default=True)
    defaults = SavedView.objects.filter(is_default=True).values_list("name", flat=True)
    assert sorted(defaults) == ["B", "C"]


# --- bulk actions --------------------------------------------------------------------------


def test_bulk_reassign_deals(client, world) -> None:
    org = world.org
    client.force_login(org.manager)
    ids = [world.rep_deal.pk, world.rep2_deal.pk]
    response = client.post(
        "/lists/deals/bulk/",
        {
            "action": "reassign",
            "owner": org.rep2.pk,
            "ids": ids,
            "next": "sort=name",
        },
    )
    assert response.status_code == 302 and response["Location"].endswith("/deals/?sort=name")
    assert "1 record given to" in messages_of(response)
    world.rep_deal.refresh_from_db()
    assert world.rep_deal.owner == org.rep2
    # The hand-over is in the deal's history, like any reassign.
    assert world.rep_deal.events.filter(kind="owner", verb="reassign").exists()


def test_bulk_reassign_is_all_or_nothing(client, world) -> None:
    org = world.org
    # A read-only user sees every deal but may change none.
    client.force_login(org.readonly)
    response = client.post(
        "/lists/deals/bulk/",
        {
            "action": "reassign",
            "owner": org.rep.pk,
            "ids": [world.rep2_deal.pk, world.other_deal.pk],
        },
    )
    text = messages_of(response)
    assert "Nothing was changed" in text and "Globex retrofit" in text
    assert set(Opportunity.objects.values_list("owner_id", flat=True)) == {
        org.rep.pk,
        org.rep2.pk,
        org.other_rep.pk,
    }

    # A rep selecting their own deal plus one they cannot see: nothing changes.
    client.force_login(org.rep)
    response = client.post(
        "/lists/deals/bulk/",
        {
            "action": "reassign",
            "owner": org.rep2.pk,
            "ids": [world.rep_deal.pk, world.other_deal.pk],
        },
    )
    assert "not visible to you" in messages_of(response)
    world.rep_deal.refresh_from_db()
    assert world.rep_deal.owner == org.rep


def test_bulk_reassign_accounts_with_one_forbidden_row_changes_nothing(client, world) -> None:
    org = world.org
    mine = Account.objects.create(
        name="Marketing's own",
        normalized_name="marketing s own",
        status=org.status,
        owner=org.marketing,
        created_at=world.acme.created_at,
        updated_at=world.acme.updated_at,
    )
    client.force_login(org.marketing)  # sees every account, changes only their own
    response = client.post(
        "/lists/accounts/bulk/",
        {
            "action": "reassign",
            "owner": org.rep.pk,
            "ids": [mine.pk, world.globex.pk],
        },
    )
    text = messages_of(response)
    assert "Nothing was changed" in text and "Globex AG" in text
    mine.refresh_from_db()
    assert mine.owner == org.marketing

    response = client.post(
        "/lists/accounts/bulk/",
        {
            "action": "reassign",
            "owner": org.rep.pk,
            "ids": [mine.pk],
        },
    )
    mine.refresh_from_db()
    assert mine.owner == org.rep


def test_bulk_tag_accounts_and_contacts(client, world) -> None:
    org = world.org
    client.force_login(org.manager)
    ids = [world.acme.pk, world.globex.pk]
    response = client.post(
        "/lists/accounts/bulk/",
        {
            "action": "add_tag",
            "tag": world.cold.pk,
            "ids": ids,
        },
    )
    assert "added to 2 records" in messages_of(response)
    assert set(world.acme.tags.all()) == {world.hot, world.cold}
    assert set(world.globex.tags.all()) == {world.cold}
    client.post("/lists/accounts/bulk/", {"action": "remove_tag", "tag": world.hot.pk, "ids": ids})
    assert set(world.acme.tags.all()) == {world.cold}

    response = client.post(
        "/lists/contacts/bulk/",
        {
            "action": "add_tag",
            "tag": world.hot.pk,
            "ids": [world.contact_acme.pk],
        },
    )
    assert set(world.contact_acme.tags.all()) == {world.hot}
    html = client.get(f"/contacts/?tag={world.hot.pk}&cols=tags").content.decode()
    assert "Adler" in html and "Berg" not in html


def test_bulk_bad_input_never_fails(client, world) -> None:
    client.force_login(world.org.manager)
    cases = [
        {"action": "explode", "ids": [world.rep_deal.pk]},
        {"action": "reassign", "ids": [world.rep_deal.pk], "owner": "nobody"},
        {"action": "reassign", "ids": ["x", "-1"], "owner": world.org.rep.pk},
        {"action": "add_tag", "ids": [world.rep_deal.pk], "tag": world.hot.pk},
    ]
    for data in cases:
        response = client.post("/lists/deals/bulk/", data)
        assert response.status_code == 302, data
        assert messages_of(response), data
    response = client.post("/lists/accounts/bulk/", {"action": "add_tag", "ids": [1], "tag": ""})
    assert "Choose a tag" in messages_of(response)
    assert client.get("/lists/deals/bulk/").status_code == 405
    world.rep_deal.refresh_from_db()
    assert world.rep_deal.owner == world.org.rep


# --- custom fields -------------------------------------------------------------------------


def test_custom_field_columns_sort_and_filter(client, world) -> None:
    from salescope.accounts.services import update_account
    from salescope.customfields.services import define_field
    from salescope.pipeline.services import update_opportunity

    define_field(target="opportunity", key="seats", label="Seats", field_type="number")
    define_field(
        target="opportunity",
        key="segment",
        label="Segment",
        field_type="choice",
        choices=["SMB", "Enterprise"],
    )
    define_field(target="account", key="vip", label="VIP", field_type="boolean")
    define_field(target="account", key="since", label="Customer since", field_type="date")
    update_opportunity(
        opportunity=world.rep_deal,
        actor=None,
        changes={"custom": {"seats": "120", "segment": "Enterprise"}},
    )
    update_opportunity(
        opportunity=world.rep2_deal,
        actor=None,
        changes={"custom": {"seats": "9", "segment": "SMB"}},
    )
    update_account(account=world.acme, actor=None, custom={"vip": True, "since": "2020-05-01"})
    client.force_login(world.org.manager)

    response = client.get("/deals/?cols=name&cols=cf_seats&cols=cf_segment&sort=cf_seats")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Seats" in html and "Enterprise" in html
    # Numeric order (9 before 120), not text order.
    assert html.index("Globex retrofit") < html.index("Acme lighting")
    html = client.get("/deals/?cols=name&cols=cf_seats&sort=-cf_seats").content.decode()
    assert html.index("Acme lighting") < html.index("Globex retrofit")
    html = client.get("/deals/?cf_segment=SMB").content.decode()
    assert "Globex retrofit" in html and "Acme lighting" not in html

    html = client.get("/accounts/?cols=name&cols=cf_vip&cols=cf_since&cf_vip=yes").content.decode()
    assert "Acme GmbH" in html and "Globex AG" not in html and "1 May 2020" in html
    html = client.get("/accounts/?cf_vip=no").content.decode()
    assert "Globex AG" in html and "Acme GmbH" not in html
    html = client.get("/accounts/?cols=name&cols=cf_since&sort=cf_since").content.decode()
    assert html.index("Acme GmbH") < html.index("Globex AG")  # empty values last
    response = client.get("/deals/?cf_segment=Nope")
    assert "Nope" in " ".join(response.context["state"].warnings)
