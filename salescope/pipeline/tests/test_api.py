"""The opportunities API: visibility, verbs, history, concurrency and bad input."""

from __future__ import annotations

from typing import Any

import pytest

from salescope.pipeline.models import EventOrigin, Opportunity, OpportunityEvent
from salescope.restapi.tests.conftest import ApiClient
from salescope.testing.factories import make_opportunity

pytestmark = pytest.mark.django_db


@pytest.fixture
def deals(org_setup: Any) -> dict[str, Any]:
    s = org_setup
    return {
        "mine": make_opportunity(owner=s.rep, stage=s.stages["Qualification"], name="Mine"),
        "theirs": make_opportunity(
            owner=s.other_rep, stage=s.stages["Meeting"], name="Theirs", amount="5000.00"
        ),
    }


def test_rep_never_sees_another_reps_deals(org_setup: Any, deals: Any) -> None:
    api = ApiClient(org_setup.rep)
    listed = api.get("/opportunities").json()
    assert [d["name"] for d in listed["items"]] == ["Mine"]
    assert listed["count"] == 1
    theirs = deals["theirs"].pk
    assert api.get(f"/opportunities/{theirs}").status_code == 404
    assert api.get(f"/opportunities/{theirs}/events").status_code == 404
    moved = api.post(f"/opportunities/{theirs}/win", {"version": 1})
    assert moved.status_code == 404
    assert Opportunity.objects.get(pk=theirs).outcome == "open"
    admin = ApiClient(org_setup.admin).get("/opportunities").json()
    assert admin["count"] == 2


def test_filters_and_sorting_match_the_deals_list(org_setup: Any, deals: Any) -> None:
    api = ApiClient(org_setup.admin)
    by_amount = api.get("/opportunities", {"sort": "-amount"}).json()["items"]
    assert [d["name"] for d in by_amount] == ["Theirs", "Mine"]
    assert by_amount[0]["amount"] == "5000.00" and by_amount[0]["currency"] == "EUR"
    stage = org_setup.stages["Meeting"].pk
    assert [d["name"] for d in api.get("/opportunities", {"stage": stage}).json()["items"]] == [
        "Theirs"
    ]
    assert api.get("/opportunities", {"q": "mine"}).json()["count"] == 1
    assert api.get("/opportunities", {"amount_from": "2000"}).json()["count"] == 1
    bad = api.get("/opportunities", {"sort": "nonsense"})
    assert bad.status_code == 422 and "sort" in bad.json()["error"]["fields"]
    assert api.get("/opportunities", {"stage": "x"}).status_code == 422
    assert api.get("/opportunities", {"outcome": "maybe"}).status_code == 422


def test_create_and_verbs_write_history(org_setup: Any) -> None:
    s = org_setup
    api = ApiClient(s.rep)
    created = api.post(
        "/opportunities",
        {"name": "API deal", "stage": s.stages["Qualification"].pk, "amount": "1200.50",
         "expected_close": "2030-01-31"},
    )  # fmt: skip
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["amount"] == "1200.50" and body["owner"]["id"] == s.rep.pk
    assert created["ETag"] == '"1"'
    pk = body["id"]
    moved = api.post(
        f"/opportunities/{pk}/move",
        {"stage": s.stages["Proposal"].pk},
        headers={"If-Match": created["ETag"]},
    )
    assert moved.status_code == 200, moved.json()
    assert moved.json()["stage"]["name"] == "Proposal" and moved.json()["probability"] == 60
    lost = api.post(
        f"/opportunities/{pk}/lose", {"reason": s.reason.pk, "version": moved.json()["version"]}
    )
    assert lost.status_code == 200 and lost.json()["outcome"] == "lost"
    reopened = api.post(f"/opportunities/{pk}/reopen", {"version": lost.json()["version"]})
    assert reopened.json()["stage"]["name"] == "Proposal"
    won = api.post(f"/opportunities/{pk}/win", {"version": reopened.json()["version"]})
    assert won.json()["outcome"] == "won"
    events = api.get(f"/opportunities/{pk}/events").json()["items"]
    assert events[0]["kind"] == "created"
    assert {e["verb"] for e in events} >= {"move_to_stage", "mark_lost", "reopen", "mark_won"}
    assert set(
        OpportunityEvent.objects.filter(opportunity_id=pk).values_list("origin", flat=True)
    ) == {EventOrigin.API}


def test_patch_goes_through_the_verbs(org_setup: Any, deals: Any) -> None:
    api = ApiClient(org_setup.rep)
    pk = deals["mine"].pk
    patched = api.patch(
        f"/opportunities/{pk}", {"amount": "777.00", "next_step": "Call"}, {"If-Match": '"1"'}
    )
    assert patched.status_code == 200, patched.json()
    body = patched.json()
    assert body["amount"] == "777.00" and body["next_step"] == "Call"
    assert body["version"] > 1 and patched["ETag"] == f'"{body["version"]}"'
    kinds = set(OpportunityEvent.objects.filter(opportunity_id=pk).values_list("kind", flat=True))
    assert {"amount", "next_step"} <= kinds


def test_concurrency_statuses(org_setup: Any, deals: Any) -> None:
    api = ApiClient(org_setup.rep)
    pk = deals["mine"].pk
    missing = api.patch(f"/opportunities/{pk}", {"name": "X"})
    assert missing.status_code == 428
    assert missing.json()["error"]["code"] == "precondition_required"
    assert api.patch(f"/opportunities/{pk}", {"name": "A", "version": 1}).status_code == 200
    stale_body = api.patch(f"/opportunities/{pk}", {"name": "B", "version": 1})
    assert stale_body.status_code == 409
    assert "changed by" in stale_body.json()["error"]["message"]
    stale_header = api.patch(f"/opportunities/{pk}", {"name": "B"}, {"If-Match": '"1"'})
    assert stale_header.status_code == 412
    malformed = api.patch(f"/opportunities/{pk}", {"name": "B"}, {"If-Match": "yesterday"})
    assert malformed.status_code == 412
    assert Opportunity.objects.get(pk=pk).name == "A"


def test_read_only_user_gets_403_on_writes(org_setup: Any, deals: Any) -> None:
    api = ApiClient(org_setup.readonly)
    pk = deals["mine"].pk
    assert api.get(f"/opportunities/{pk}").status_code == 200
    response = api.post(f"/opportunities/{pk}/win", {"version": 1})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    created = api.post(
        "/opportunities",
        {"name": "X", "stage": org_setup.stages["Qualification"].pk, "amount": "1",
         "expected_close": "2030-01-01"},
    )  # fmt: skip
    assert created.status_code == 403
    assert Opportunity.objects.count() == 2


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"amount": "-5"}, "amount"),
        ({"amount": "abc"}, "amount"),
        ({"stage": 999999}, "stage"),
        ({"account": 999999}, "account"),
        ({"expected_close": "2030-02-31"}, "expected_close"),
        ({"name": ""}, "name"),
        ({"currency": "XXX"}, "currency"),
        ({"probability": 101}, "probability"),
    ],
)
def test_bad_create_input_writes_nothing(org_setup: Any, payload: Any, field: str) -> None:
    base = {"name": "Deal", "stage": org_setup.stages["Qualification"].pk, "amount": "10",
            "expected_close": "2030-01-01"}  # fmt: skip
    response = ApiClient(org_setup.rep).post("/opportunities", {**base, **payload})
    assert response.status_code == 422, response.json()
    assert field in response.json()["error"]["fields"]
    assert not Opportunity.objects.exists()


def test_lose_without_valid_reason_is_refused(org_setup: Any, deals: Any) -> None:
    api = ApiClient(org_setup.rep)
    pk = deals["mine"].pk
    response = api.post(f"/opportunities/{pk}/lose", {"reason": 999999, "version": 1})
    assert response.status_code == 422 and "reason" in response.json()["error"]["fields"]
    assert Opportunity.objects.get(pk=pk).outcome == "open"


def test_configuration_lists(org_setup: Any) -> None:
    api = ApiClient(org_setup.rep)
    pipelines = api.get("/pipelines").json()["items"]
    assert pipelines[0]["name"] == "Standard"
    assert [s["kind"] for s in pipelines[0]["stages"]][-2:] == ["won", "lost"]
    assert api.get("/lost-reasons").json()["items"][0]["name"] == "Price"
    assert api.get("/stages").json()["count"] == 10
    assert api.get("/pipelines/999999").status_code == 404
