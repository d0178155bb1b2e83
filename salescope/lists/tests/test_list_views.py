"""The four lists: render, sort, filter, search, paginate, stay in scope, bad input."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from salescope.testing.factories import (
    AccountFactory,
    ActivityFactory,
    ContactFactory,
    make_opportunity,
)

pytestmark = pytest.mark.django_db


def names_in(response: Any, *names: str) -> list[str]:
    html = response.content.decode()
    return [n for n in names if n in html]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("/deals/", ["Acme lighting", "Globex retrofit"]),
        ("/accounts/", ["Acme GmbH", "Globex AG"]),
        ("/contacts/", ["Adler", "Berg", "Decision maker"]),
        ("/activities/", ["Call Acme", "Meet Globex", "Done call"]),
    ],
)
def test_each_list_renders_for_a_manager(client, world, url, expected) -> None:
    client.force_login(world.org.manager)
    response = client.get(url)
    assert response.status_code == 200
    assert names_in(response, *expected) == expected
    html = response.content.decode()
    assert "Initech" not in html  # the other team's records
    assert 'name="cols"' in html and "Saved views" in html


def test_deals_show_money_in_each_currency_and_link_records(client, world) -> None:
    client.force_login(world.org.manager)
    html = client.get("/deals/").content.decode()
    assert "€5,000.00" in html
    assert "US$1,200.50" in html or "$1,200.50" in html
    assert 'aria-sort="ascending"' in html  # default order: expected close


def test_sort_by_a_column_both_ways_and_keep_it_in_links(client, world) -> None:
    client.force_login(world.org.manager)
    html = client.get("/deals/?sort=-amount").content.decode()
    assert html.index("Acme lighting") < html.index("Globex retrofit")
    assert "sort=amount" in html  # the header now offers the other direction
    html = client.get("/deals/?sort=amount").content.decode()
    assert html.index("Globex retrofit") < html.index("Acme lighting")
    html = client.get("/accounts/?sort=-name").content.decode()
    assert html.index("Globex AG") < html.index("Acme GmbH")


def test_deal_filters(client, world) -> None:
    org = world.org
    client.force_login(org.manager)

    def shown(query: str) -> list[str]:
        response = client.get("/deals/?" + query)
        assert response.status_code == 200
        return names_in(response, "Acme lighting", "Globex retrofit")

    assert shown(f"stage={org.stages['Proposal'].pk}") == ["Acme lighting"]
    assert shown(f"owner={org.rep2.pk}") == ["Globex retrofit"]
    assert shown(f"team={org.team.pk}") == ["Acme lighting", "Globex retrofit"]
    assert shown(f"pipeline={org.other_pipeline.pk}") == []
    assert shown("outcome=open") == ["Acme lighting", "Globex retrofit"]
    assert shown(f"source={world.source.pk}") == ["Acme lighting"]
    assert shown(f"product={world.product.pk}") == ["Acme lighting"]
    assert shown(f"tier={world.silver.pk}") == ["Globex retrofit"]
    assert shown(f"tag={world.hot.pk}") == ["Acme lighting"]
    assert shown("close_from=2026-05-01&close_to=2026-12-31") == ["Globex retrofit"]
    assert shown("amount_from=2000") == ["Acme lighting"]
    assert shown("amount_to=2000,50") == ["Globex retrofit"]
    assert shown("q=globex") == ["Globex retrofit"]
    # Filters are kept in the sort links and shown as removable chips.
    html = client.get(f"/deals/?stage={org.stages['Proposal'].pk}").content.decode()
    assert f"stage={org.stages['Proposal'].pk}" in html.split("<thead>")[1]
    assert "Remove filter Stage" in html


def test_account_contact_and_activity_filters(client, world) -> None:
    org = world.org
    client.force_login(org.manager)
    html = client.get(f"/accounts/?tier={world.gold.pk}").content.decode()
    assert "Acme GmbH" in html and "Globex AG" not in html
    html = client.get(f"/accounts/?tag={world.hot.pk}&owner={org.rep.pk}").content.decode()
    assert "Acme GmbH" in html and "Globex AG" not in html
    html = client.get(f"/accounts/?status={org.status.pk}&q=munich").content.decode()
    assert "Globex AG" in html and "Acme GmbH" not in html

    html = client.get("/contacts/?account=acme").content.decode()
    assert "Adler" in html and "Berg" not in html
    html = client.get(f"/contacts/?account={world.globex.pk}").content.decode()
    assert "Berg" in html and "Adler" not in html
    html = client.get(f"/contacts/?role={world.decision_maker.pk}").content.decode()
    assert "Adler" in html and "Berg" not in html

    def activities(query: str) -> list[str]:
        response = client.get("/activities/?" + query)
        return names_in(response, "Call Acme", "Meet Globex", "Done call")

    assert activities("state=overdue") == ["Call Acme"]
    assert activities("state=done") == ["Done call"]
    assert activities("state=open") == ["Call Acme", "Meet Globex"]
    assert activities(f"type={world.meeting.pk}") == ["Meet Globex"]
    assert activities(f"owner={org.rep.pk}&state=open") == ["Call Acme"]
    assert activities("date_from=2026-03-16&date_to=2026-03-31") == ["Meet Globex"]


def test_pagination_with_a_page_size_choice(client, world, frozen_now) -> None:
    org = world.org
    for i in range(60):
        make_opportunity(
            owner=org.rep,
            stage=org.stages["Meeting"],
            name=f"Bulk deal {i:02d}",
            amount=str(100 + i),
        )
    client.force_login(org.manager)
    response = client.get("/deals/?sort=name")
    assert response.context["page"].paginator.count == 62
    assert len(response.context["rows"]) == 50
    assert "Page 1 of 2" in response.content.decode()
    response = client.get("/deals/?sort=name&page=2")
    assert len(response.context["rows"]) == 12
    response = client.get("/deals/?sort=name&per_page=25&page=3")
    assert len(response.context["rows"]) == 12
    assert "per_page=25" in response.context["page_query"]
    # A page number past the end shows the last page instead of failing.
    assert client.get("/deals/?page=999").status_code == 200


def test_a_rep_sees_only_their_deals_in_list_and_search(client, world) -> None:
    client.force_login(world.org.rep)
    html = client.get("/deals/").content.decode()
    assert "Acme lighting" in html
    assert "Globex retrofit" not in html and "Initech secret deal" not in html
    html = client.get("/deals/?q=secret").content.decode()
    assert "Initech" not in html
    html = client.get(f"/deals/?owner={world.org.other_rep.pk}").content.decode()
    assert "Initech" not in html
    html = client.get("/activities/?q=secret").content.decode()
    assert "Initech secret call" not in html
    html = client.get("/accounts/").content.decode()
    assert "Acme GmbH" in html and "Initech SA" not in html


def _queries(client: Any, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


ALL_COLUMNS = {
    "deals": "name account pipeline stage amount weighted probability expected_close owner team "
    "outcome days_in_stage source products tier forecast_category next_step closed_on "
    "lost_reason created_at updated_at",
    "accounts": "name status tier account_type industry region owner city country domain phone "
    "employees annual_revenue tags created_at updated_at",
    "contacts": "name accounts job_title email phone mobile owner tags language created_at",
    "activities": "subject type when state owner account opportunity duration outcome "
    "assigned_by done_at minutes_sent created_at",
}


def _add_rows(world: Any, n: int) -> None:
    org = world.org
    for i in range(n):
        account = AccountFactory(name=f"Row account {i}", owner=org.rep, tier=world.gold)
        account.tags.set([world.hot, world.cold])
        contact = ContactFactory(last_name=f"Row {i}", owner=org.rep)
        contact.tags.set([world.hot])
        link = account.memberships.create(contact=contact)
        link.roles.set([world.decision_maker])
        make_opportunity(
            owner=org.rep,
            stage=org.stages["Meeting"],
            account=account,
            name=f"Row deal {i}",
            products=[world.product],
            source=world.source,
        )
        ActivityFactory(
            subject=f"Row call {i}",
            activity_type=world.call,
            owner=org.rep,
            account=account,
            assigned_by=org.manager,
            due_on=dt.date(2026, 3, 20),
        )


@pytest.mark.parametrize("name", ["deals", "accounts", "contacts", "activities"])
def test_query_count_does_not_grow_with_rows(client, world, name) -> None:
    client.force_login(world.org.manager)
    url = f"/{name}/?" + "&".join(f"cols={c}" for c in ALL_COLUMNS[name].split())
    _add_rows(world, 5)
    few = _queries(client, url)
    _add_rows(world, 25)
    many = _queries(client, url)
    assert many == few, f"{name}: {few} queries with 5 rows, {many} with 30"
    assert few <= 25


def test_bad_input_is_ignored_with_a_message(client, world) -> None:
    client.force_login(world.org.manager)
    response = client.get(
        "/deals/?sort=-password&stage=abc&owner=1;DROP&amount_from=lots&close_to=2026-13-45"
        "&per_page=7&page=x&cols=nonsense&cols=amount&outcome=maybe&q=%00"
    )
    assert response.status_code == 200
    warnings = " ".join(response.context["state"].warnings)
    assert "Cannot sort by" in warnings
    assert "“abc” is not a valid value" in warnings
    assert "lots" in warnings and "2026-13-45" in warnings and "maybe" in warnings
    assert "Ignored unknown columns: nonsense" in warnings
    assert "Page size" in warnings
    assert "Acme lighting" in response.content.decode()
    for url in (
        "/accounts/?tier=-1&sort=tags&tag=9999999999999999999999",
        "/contacts/?account=%00&role=x",
        "/activities/?state=later&date_from=yesterday&sort=cf_nope",
    ):
        assert client.get(url).status_code == 200
    assert client.get("/lists/nope/export/csv/").status_code == 404
    assert client.get("/lists/deals/export/pdf/").status_code == 404


def test_lists_need_a_login(client, world) -> None:
    response = client.get("/deals/")
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert client.get("/lists/deals/export/csv/").status_code == 302
