"""The accounts and contacts API: visibility, writes through the services, bad input."""

from typing import Any

import pytest

from salescope.accounts.models import Account, AccountContact, Contact, ContactRole
from salescope.restapi.tests.conftest import ApiClient
from salescope.testing.factories import AccountFactory, ContactFactory

pytestmark = pytest.mark.django_db


def test_rep_sees_only_their_accounts(org_setup: Any) -> None:
    mine = AccountFactory(owner=org_setup.rep, name="Mine AG")
    theirs = AccountFactory(owner=org_setup.other_rep, name="Theirs AG")
    api = ApiClient(org_setup.rep)
    listed = api.get("/accounts").json()
    assert [a["name"] for a in listed["items"]] == ["Mine AG"]
    assert api.get(f"/accounts/{theirs.pk}").status_code == 404
    got = api.get(f"/accounts/{mine.pk}")
    assert got.status_code == 200 and got["ETag"] == f'"{mine.version}"'
    assert got.json()["external_ids"] == {}


def test_create_patch_and_concurrency(org_setup: Any) -> None:
    api = ApiClient(org_setup.rep)
    created = api.post(
        "/accounts",
        {"name": "Acme GmbH", "website": "https://acme.example", "external_ids": {"erp": "A-1"}},
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["owner"]["id"] == org_setup.rep.pk and body["domain"] == "acme.example"
    assert body["external_ids"] == {"erp": "A-1"}
    pk = body["id"]
    assert api.patch(f"/accounts/{pk}", {"city": "Köln"}).status_code == 428
    patched = api.patch(f"/accounts/{pk}", {"city": "Köln", "version": body["version"]})
    assert patched.status_code == 200 and patched.json()["city"] == "Köln"
    stale = api.patch(f"/accounts/{pk}", {"city": "Bonn"}, {"If-Match": f'"{body["version"]}"'})
    assert stale.status_code == 412
    assert Account.objects.get(pk=pk).city == "Köln"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "X", "website": "not a url"}, "website"),
        ({"name": "X", "status": 999999}, "status"),
        ({"name": "X", "employees": -1}, "employees"),
        ({"name": "X", "annual_revenue": "lots"}, "annual_revenue"),
    ],
)
def test_bad_account_input_writes_nothing(org_setup: Any, payload: Any, field: str) -> None:
    response = ApiClient(org_setup.rep).post("/accounts", payload)
    assert response.status_code == 422, response.json()
    assert field in response.json()["error"]["fields"]
    assert not Account.objects.exists()


def test_read_only_cannot_write(org_setup: Any) -> None:
    account = AccountFactory(owner=org_setup.rep)
    api = ApiClient(org_setup.readonly)
    assert api.post("/accounts", {"name": "X"}).status_code == 403
    response = api.patch(f"/accounts/{account.pk}", {"city": "X", "version": 1})
    assert response.status_code == 403
    assert Account.objects.count() == 1


def test_contacts_and_links(org_setup: Any) -> None:
    account = AccountFactory(owner=org_setup.rep)
    role = ContactRole.objects.create(name="Buyer")
    api = ApiClient(org_setup.rep)
    created = api.post(
        "/contacts",
        {"last_name": "Meier", "email": "m@example.org", "account": account.pk,
         "roles": [role.pk]},
    )  # fmt: skip
    assert created.status_code == 201, created.json()
    contact = created.json()
    assert contact["accounts"][0]["account"]["id"] == account.pk
    assert contact["accounts"][0]["roles"][0]["name"] == "Buyer"
    at_account = api.get(f"/accounts/{account.pk}/contacts").json()["items"]
    assert [c["contact_id"] for c in at_account] == [contact["id"]]
    linked = api.put(f"/contacts/{contact['id']}/accounts/{account.pk}", {"is_primary": True})
    assert linked.status_code == 200 and linked.json()["is_primary"] is True
    assert api.delete(f"/contacts/{contact['id']}/accounts/{account.pk}").status_code == 204
    assert not AccountContact.objects.exists()
    bad = api.post("/contacts", {"last_name": "X", "email": "nope"})
    assert bad.status_code == 422 and "email" in bad.json()["error"]["fields"]
    assert Contact.objects.count() == 1
    hidden = ContactFactory(owner=org_setup.other_rep)
    assert api.get(f"/contacts/{hidden.pk}").status_code == 404
    options = api.get("/account-options").json()
    assert options["contact_roles"][0]["name"] == "Buyer"
