"""Global search: grouped results within the user's scope only."""

from __future__ import annotations

import pytest
from django.urls import reverse

from salescope.accounts.services import create_account, create_contact
from salescope.core.search import search
from salescope.testing.factories import make_opportunity

pytestmark = pytest.mark.django_db


@pytest.fixture
def data(org_setup):
    mine = create_account(actor=org_setup.rep, name="Müller Maschinenbau GmbH",
                          website="https://mueller-mb.example", city="Augsburg")  # fmt: skip
    theirs = create_account(actor=org_setup.other_rep, name="Müller Logistik AG", city="Kiel")
    create_contact(actor=org_setup.rep, first_name="Anna", last_name="Müller",
                   email="anna@mueller-mb.example", account=mine)  # fmt: skip
    create_contact(actor=org_setup.other_rep, first_name="Otto", last_name="Müller",
                   account=theirs)  # fmt: skip
    make_opportunity(owner=org_setup.rep, stage=org_setup.stages["Meeting"], account=mine,
                     name="Press line")  # fmt: skip
    make_opportunity(owner=org_setup.other_rep, stage=org_setup.stages["Meeting"], account=theirs,
                     name="Forklifts")  # fmt: skip
    return mine, theirs


def _titles(groups):
    return {g.key: [r.title for r in g.results] for g in groups}


def test_rep_finds_only_their_scope(org_setup, data):
    found = _titles(search(org_setup.rep, "müller"))
    assert found["accounts"] == ["Müller Maschinenbau GmbH"]
    assert found["contacts"] == ["Anna Müller"]
    assert found["deals"] == ["Press line"]  # by account name
    assert _titles(search(org_setup.rep, "Forklifts")) == {}
    assert _titles(search(org_setup.rep, "Kiel")) == {}
    admin = _titles(search(org_setup.admin, "müller"))
    assert len(admin["accounts"]) == 2 and len(admin["contacts"]) == 2 and len(admin["deals"]) == 2


def test_search_fields(org_setup, data):
    rep = org_setup.rep
    assert _titles(search(rep, "augsburg"))["accounts"] == ["Müller Maschinenbau GmbH"]
    assert _titles(search(rep, "mueller-mb"))["accounts"] == ["Müller Maschinenbau GmbH"]
    assert _titles(search(rep, "anna@mueller"))["contacts"] == ["Anna Müller"]
    assert _titles(search(rep, "anna müller"))["contacts"] == ["Anna Müller"]
    assert _titles(search(rep, "MULLER maschinenbau"))["accounts"] == ["Müller Maschinenbau GmbH"]
    assert search(rep, "a") == []
    assert search(rep, "\x00\x00") == []


def test_search_limits_each_group(org_setup):
    for i in range(12):
        create_account(actor=org_setup.rep, name=f"Alpha {i:02d}")
    groups = search(org_setup.rep, "alpha")
    assert len(groups[0].results) == 8


def test_search_view_htmx_and_full_page(client, org_setup, data):
    client.force_login(org_setup.other_rep)
    response = client.get(reverse("search"), {"q": "müller"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="search-results"')
    assert "Müller Logistik AG" in html and "Otto Müller" in html and "Forklifts" in html
    assert "Maschinenbau" not in html and "Anna" not in html and "Press line" not in html
    assert reverse("accounts:detail", args=[data[1].pk]) in html
    page = client.get(reverse("search"), {"q": "müller"})
    assert page.status_code == 200 and b'id="search-results"' in page.content
    assert b"<html" in page.content
    empty = client.get(reverse("search"), {"q": "zzzz"}, HTTP_HX_REQUEST="true")
    assert "Nothing found" in empty.content.decode()


def test_search_query_count_is_bounded(client, org_setup, data, django_assert_max_num_queries):
    for i in range(10):
        create_account(actor=org_setup.rep, name=f"Müller {i}")
    client.force_login(org_setup.rep)
    with django_assert_max_num_queries(12):
        client.get(reverse("search"), {"q": "müller"}, HTTP_HX_REQUEST="true")
