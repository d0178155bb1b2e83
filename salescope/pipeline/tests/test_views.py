"""Views of the pipeline workspace: board, moves, gates, deal page, inline editing, creation."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from salescope.activities.models import Comment
from salescope.core import clock
from salescope.customfields.services import define_field
from salescope.org.models import Currency
from salescope.pipeline import selectors
from salescope.pipeline.models import EventKind, Opportunity, OpportunityEvent, Outcome
from salescope.testing.factories import AccountFactory, make_opportunity

JSON = {"HTTP_ACCEPT": "application/json"}
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def rep_client(client: Any, org_setup: Any) -> Any:
    client.force_login(org_setup.rep)
    return client


def deal(org: Any, stage: str = "Qualification", **kwargs: Any) -> Opportunity:
    kwargs.setdefault("owner", org.rep)
    return make_opportunity(stage=org.stages[stage], **kwargs)


# --- board --------------------------------------------------------------------------------


def test_board_renders_cards_and_totals(rep_client: Any, org_setup: Any, frozen_now: Any) -> None:
    acct = AccountFactory(owner=org_setup.rep, name="Acme GmbH")
    deal(org_setup, name="Alpha", amount="1000.00", account=acct)
    deal(org_setup, name="Beta", amount="500.00")
    deal(org_setup, "Proposal", name="Gamma", amount="2000.00")
    make_opportunity(owner=org_setup.other_rep, stage=org_setup.stages["Meeting"], name="Hidden")
    response = rep_client.get(reverse("pipeline:board"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Alpha" in html and "Beta" in html and "Gamma" in html and "Acme GmbH" in html
    assert "Hidden" not in html
    columns = {c.stage.name: c for c in response.context["columns"]}
    q = columns["Qualification"]
    assert q.count == 2
    assert q.totals[0].amount == Decimal("1500.00")
    assert q.totals[0].weighted == Decimal("150.00")
    assert columns["Proposal"].totals[0].weighted == Decimal("1200.00")
    assert "€1,500" in html and "€150" in html


def test_board_totals_per_currency_never_mixed(
    rep_client: Any, org_setup: Any, frozen_now: Any
) -> None:
    Currency.objects.get_or_create(code="USD", defaults={"name": "US dollar"})
    deal(org_setup, amount="1000.00")
    deal(org_setup, amount="300.00", currency="USD")
    response = rep_client.get(reverse("pipeline:board"))
    totals = response.context["columns"][0].totals
    assert {(t.currency, t.amount) for t in totals} == {
        ("EUR", Decimal("1000.00")),
        ("USD", Decimal("300.00")),
    }
    assert "never added" in response.content.decode()


def test_board_shows_only_open_deals_and_rotting(
    rep_client: Any, org_setup: Any, frozen_now: Any
) -> None:
    with clock.frozen(frozen_now - dt.timedelta(days=20)):
        deal(org_setup, name="Old one")  # Qualification rots after 14 days
    fresh = deal(org_setup, name="Fresh")
    from salescope.pipeline.services import mark_won

    won = deal(org_setup, name="Already won")
    mark_won(opportunity=won, actor=org_setup.rep)
    html = rep_client.get(reverse("pipeline:board")).content.decode()
    assert "Already won" not in html
    assert "Old one" in html and fresh.name in html
    assert html.count("badge rotting") == 1
    assert "20 d in stage" in html


def test_board_query_count_does_not_grow(
    rep_client: Any, org_setup: Any, frozen_now: Any, django_assert_max_num_queries: Any
) -> None:
    for i in range(3):
        deal(org_setup, name=f"D{i}", account=AccountFactory(owner=org_setup.rep))
    with django_assert_max_num_queries(25) as small:
        rep_client.get(reverse("pipeline:board"))
    for i in range(30):
        deal(org_setup, "Meeting", name=f"E{i}", account=AccountFactory(owner=org_setup.rep))
    with django_assert_max_num_queries(len(small.captured_queries)):
        rep_client.get(reverse("pipeline:board"))


def test_board_pipeline_switcher(rep_client: Any, org_setup: Any, frozen_now: Any) -> None:
    new = org_setup.other_pipeline.stages.get(name="New")
    make_opportunity(owner=org_setup.rep, stage=new, name="Inbound deal")
    html = rep_client.get(reverse("pipeline:board")).content.decode()
    assert "Inbound deal" not in html
    url = reverse("pipeline:board") + f"?pipeline={org_setup.other_pipeline.pk}"
    html = rep_client.get(url).content.decode()
    assert "Inbound deal" in html and "Offer" in html


def test_board_filters_kept_in_url(client: Any, org_setup: Any, frozen_now: Any) -> None:
    client.force_login(org_setup.manager)
    deal(org_setup, name="Rep deal")
    deal(org_setup, name="Rep2 deal", owner=org_setup.rep2)
    deal(org_setup, name="Late deal", expected_close=clock.today() + dt.timedelta(days=200))
    url = reverse("pipeline:board")
    html = client.get(url, {"owner": org_setup.rep2.pk}).content.decode()
    assert "Rep2 deal" in html and "Rep deal" not in html
    html = client.get(url, {"close": "later"}).content.decode()
    assert "Late deal" in html and "Rep2 deal" not in html
    # The filters survive in the pipeline switcher and come back selected in the form.
    response = client.get(url, {"owner": org_setup.rep2.pk, "close": "this_month"})
    assert response.context["filter_query"] == f"owner={org_setup.rep2.pk}&close=this_month"
    assert response.context["form"]["close"].value() == "this_month"


def test_board_filter_by_tier_and_team(client: Any, org_setup: Any, frozen_now: Any) -> None:
    from salescope.accounts.models import Tier

    gold = Tier.objects.create(name="Gold")
    client.force_login(org_setup.admin)
    deal(org_setup, name="Gold deal", account=AccountFactory(owner=org_setup.rep, tier=gold))
    deal(org_setup, name="South deal", owner=org_setup.other_rep)
    url = reverse("pipeline:board")
    html = client.get(url, {"tier": gold.pk}).content.decode()
    assert "Gold deal" in html and "South deal" not in html
    html = client.get(url, {"team": org_setup.other_team.pk}).content.decode()
    assert "South deal" in html and "Gold deal" not in html


def test_board_renders_two_thousand_deals(
    rep_client: Any, org_setup: Any, frozen_now: Any, django_assert_max_num_queries: Any
) -> None:
    import time

    seed = deal(org_setup)
    stages = [org_setup.stages[n] for n in ("Qualification", "Meeting", "Proposal", "Negotiation")]
    now = clock.now()
    Opportunity.objects.bulk_create(
        Opportunity(
            name=f"Bulk {i}", pipeline=org_setup.pipeline, stage=stages[i % 4],
            stage_entered_at=now, owner=org_setup.rep, amount=Decimal(1000 + i),
            currency_id="EUR", probability=stages[i % 4].default_probability,
            expected_close=seed.expected_close, created_at=now, updated_at=now,
        )
        for i in range(2000)
    )  # fmt: skip
    start = time.perf_counter()
    with django_assert_max_num_queries(25):
        response = rep_client.get(reverse("pipeline:board"))
    elapsed = time.perf_counter() - start
    assert response.status_code == 200
    assert sum(c.count for c in response.context["columns"]) == 2001
    assert elapsed < 10.0  # catches pathologies only: shared CI machines are noisy


# --- moving -------------------------------------------------------------------------------


def test_move_endpoint_moves_and_records_events(
    rep_client: Any, org_setup: Any, frozen_now: Any
) -> None:
    opp = deal(org_setup)
    meeting = org_setup.stages["Meeting"]
    response = rep_client.post(
        reverse("pipeline:move", args=[opp.pk]),
        {"stage": meeting.pk, "version": opp.version},
        **JSON,
    )
    assert response.status_code == 200
    data = response.json()
    assert data["ok"] is True
    assert set(data["columns"]) == {str(org_setup.stages["Qualification"].pk), str(meeting.pk)}
    assert "Deal" in data["columns"][str(meeting.pk)]
    assert "€300" in data["summary"]  # board-wide weighted total, updated in place
    opp.refresh_from_db()
    assert opp.stage == meeting and opp.probability == 30
    kinds = set(
        OpportunityEvent.objects.filter(opportunity=opp, verb="move_to_stage").values_list(
            "kind", flat=True
        )
    )
    assert kinds == {EventKind.STAGE, EventKind.PROBABILITY}


def test_move_with_stale_version_is_a_conflict(
    rep_client: Any, org_setup: Any, frozen_now: Any
) -> None:
    opp = deal(org_setup)
    response = rep_client.post(
        reverse("pipeline:move", args=[opp.pk]),
        {"stage": org_setup.stages["Meeting"].pk, "version": opp.version - 1 + 5},
        **JSON,
    )
    assert response.status_code == 409
    assert "Reload" in response.json()["error"]
    opp.refresh_from_db()
    assert opp.stage == org_setup.stages["Qualification"]


def test_move_gate_refusal_returns_dialog_with_missing_fields(
    rep_client: Any, org_setup: Any, frozen_now: Any
) -> None:
    define_field(
        target="opportunity", key="budget", label="Budget confirmed", field_type="text",
        required_from_stage=org_setup.stages["Proposal"],
    )  # fmt: skip
    define_field(target="opportunity", key="other", label="Other", field_type="text")
    opp = deal(org_setup)
    url = reverse("pipeline:move", args=[opp.pk])
    proposal = org_setup.stages["Proposal"]
    response = rep_client.post(url, {"stage": proposal.pk, "version": opp.version}, **JSON)
    assert response.status_code == 422
    gate = response.json()["gate"]
    assert 'name="custom.budget"' in gate and "Budget confirmed" in gate
    assert "custom.other" not in gate
    opp.refresh_from_db()
    assert opp.stage.name == "Qualification"
    response = rep_client.post(
        url,
        {"stage": proposal.pk, "version": opp.version, "custom_keys": "budget",
         "custom.budget": "Yes, 50k"},
        **JSON,
    )  # fmt: skip
    assert response.json()["ok"] is True
    opp.refresh_from_db()
    assert opp.stage == proposal and opp.custom == {"budget": "Yes, 50k"}


def test_drop_on_won_marks_won(rep_client: Any, org_setup: Any, frozen_now: Any) -> None:
    opp = deal(org_setup)
    response = rep_client.post(
        reverse("pipeline:move", args=[opp.pk]),
        {"stage": org_setup.won.pk, "version": opp.version},
        **JSON,
    )
    assert response.json()["ok"] is True
    opp.refresh_from_db()
    assert opp.outcome == Outcome.WON


def test_lost_without_reason_is_refused(rep_client: Any, org_setup: Any, frozen_now: Any) -> None:
    opp = deal(org_setup)
    url = reverse("pipeline:move", args=[opp.pk])
    response = rep_client.post(url, {"stage": org_setup.lost.pk, "version": opp.version}, **JSON)
    assert response.status_code == 422
    assert "lost reason is mandatory" in response.json()["error"]
    opp.refresh_from_db()
    assert opp.outcome == Outcome.OPEN
    # From the deal page (htmx): the error lands in the dialog, nothing is written.
    response = rep_client.post(
        reverse("pipeline:lost", args=[opp.pk]), {"version": opp.version}, **HTMX
    )
    assert response.status_code == 200 and "mandatory" in response.content.decode()
    assert Opportunity.objects.get(pk=opp.pk).outcome == Outcome.OPEN
    response = rep_client.post(
        reverse("pipeline:lost", args=[opp.pk]),
        {"version": opp.version, "lost_reason": org_setup.reason.pk, "note": "Too pricey"},
        **HTMX,
    )
    assert response.status_code == 204
    assert response["HX-Redirect"] == reverse("pipeline:detail", args=[opp.pk])
    opp.refresh_from_db()
    assert opp.outcome == Outcome.LOST and opp.lost_note == "Too pricey"


def test_reopen(rep_client: Any, org_setup: Any, frozen_now: Any) -> None:
    opp = deal(org_setup, "Meeting")
    from salescope.pipeline.services import mark_lost

    opp = mark_lost(opportunity=opp, reason=org_setup.reason, actor=org_setup.rep)
    response = rep_client.post(reverse("pipeline:reopen", args=[opp.pk]), {"version": opp.version})
    assert response.status_code == 302
    opp.refresh_from_db()
    assert opp.outcome == Outcome.OPEN and opp.stage.name == "Meeting"


def test_out_of_scope_deal_is_404_everywhere(client: Any, org_setup: Any, frozen_now: Any) -> None:
    client.force_login(org_setup.other_rep)
    opp = deal(org_setup, name="Secret")
    for name, method in [
        ("pipeline:detail", "get"), ("pipeline:timeline", "get"), ("pipeline:move", "post"),
        ("pipeline:won", "post"), ("pipeline:lost", "post"), ("pipeline:reopen", "post"),
        ("pipeline:comment", "post"), ("pipeline:attach", "post"),
    ]:  # fmt: skip
        response = getattr(client, method)(reverse(name, args=[opp.pk]))
        assert response.status_code == 404, name
    response = client.get(reverse("pipeline:edit", args=[opp.pk, "amount"]))
    assert response.status_code == 404
    assert "Secret" not in client.get(reverse("pipeline:board")).content.decode()
    assert Opportunity.objects.get(pk=opp.pk).version == 1


def test_readonly_user_sees_but_cannot_change(client: Any, org_setup: Any, frozen_now: Any) -> None:
    client.force_login(org_setup.readonly)
    opp = deal(org_setup)
    response = client.get(reverse("pipeline:detail", args=[opp.pk]))
    assert response.status_code == 200
    assert 'hx-get="/deals/' not in response.content.decode().split("timeline")[0]
    response = client.post(
        reverse("pipeline:move", args=[opp.pk]),
        {"stage": org_setup.stages["Meeting"].pk},
        **JSON,
    )
    assert response.status_code == 403
    assert client.get(reverse("pipeline:edit", args=[opp.pk, "amount"])).status_code == 403


# --- creating -----------------------------------------------------------------------------


def test_create_deal_full_form(rep_client: Any, org_setup: Any, frozen_now: Any) -> None:
    acct = AccountFactory(owner=org_setup.rep, name="Initech")
    response = rep_client.get(reverse("pipeline:create"), {"account": acct.pk})
    assert response.status_code == 200
    assert response.context["form"].initial["account"] == acct.pk
    response = rep_client.post(
        reverse("pipeline:create"),
        {"name": "New machine", "account": acct.pk, "stage": org_setup.stages["Meeting"].pk,
         "amount": "12500.50", "currency": "EUR", "expected_close": "2026-05-01"},
    )  # fmt: skip
    opp = Opportunity.objects.get(name="New machine")
    assert response.status_code == 302
    assert response["Location"] == reverse("pipeline:detail", args=[opp.pk])
    assert opp.owner == org_setup.rep and opp.amount == Decimal("12500.50")
    assert opp.account == acct and opp.stage.name == "Meeting"


def test_create_bad_input_shows_errors_and_writes_nothing(
    rep_client: Any, org_setup: Any, frozen_now: Any
) -> None:
    response = rep_client.post(
        reverse("pipeline:create"),
        {"name": "", "stage": org_setup.stages["Meeting"].pk, "amount": "-5",
         "expected_close": "not a date"},
    )  # fmt: skip
    assert response.status_code == 200
    form = response.context["form"]
    assert {"name", "amount", "expected_close"} <= set(form.errors)
    assert not Opportunity.objects.exists()


def test_create_cannot_use_an_account_out_of_scope(
    rep_client: Any, org_setup: Any, frozen_now: Any
) -> None:
    foreign = AccountFactory(owner=org_setup.other_rep)
    response = rep_client.post(
        reverse("pipeline:create"),
        {"name": "X", "account": foreign.pk, "stage": org_setup.stages["Meeting"].pk,
         "amount": "10", "expected_close": "2026-05-01"},
    )  # fmt: skip
    assert "account" in response.context["form"].errors
    assert not Opportunity.objects.exists()


def test_quick_add_from_board(rep_client: Any, org_setup: Any, frozen_now: Any) -> None:
    meeting = org_setup.stages["Meeting"]
    response = rep_client.get(reverse("pipeline:create"), {"quick": "1", "stage": meeting.pk})
    html = response.content.decode()
    assert "<form" in html and "New deal in Meeting" in html and "extends" not in html
    url = reverse("pipeline:create") + "?quick=1"
    bad = rep_client.post(url, {"quick": "1", "stage": meeting.pk, "name": "Q"}, **JSON)
    assert bad.status_code == 422 and "errorlist" in bad.json()["form"]
    response = rep_client.post(
        url,
        {"quick": "1", "stage": meeting.pk, "name": "Quick one", "amount": "700",
         "expected_close": "2026-04-30"},
        **JSON,
    )  # fmt: skip
    data = response.json()
    assert data["ok"] is True and "Quick one" in data["columns"][str(meeting.pk)]
    assert Opportunity.objects.get(name="Quick one").stage == meeting


def test_quick_add_asks_for_fields_mandatory_on_create(
    rep_client: Any, org_setup: Any, frozen_now: Any
) -> None:
    define_field(
        target="opportunity", key="region_code", label="Region code", field_type="choice",
        choices=["N", "S"], required_on_create=True,
    )  # fmt: skip
    meeting = org_setup.stages["Meeting"]
    html = rep_client.get(reverse("pipeline:create"), {"quick": "1", "stage": meeting.pk})
    assert 'name="custom.region_code"' in html.content.decode()
    url = reverse("pipeline:create") + "?quick=1"
    base = {"quick": "1", "stage": meeting.pk, "name": "Q", "amount": "1",
            "expected_close": "2026-04-30", "custom_keys": "region_code"}  # fmt: skip
    response = rep_client.post(url, {**base, "custom.region_code": ""}, **JSON)
    assert "Region code is mandatory" in response.json()["form"]
    response = rep_client.post(url, {**base, "custom.region_code": "S"}, **JSON)
    assert response.json()["ok"] is True
    assert Opportunity.objects.get().custom == {"region_code": "S"}


# --- deal page ----------------------------------------------------------------------------


def test_deal_page_shows_everything(
    rep_client: Any, org_setup: Any, frozen_now: Any, django_assert_max_num_queries: Any
) -> None:
    from salescope.pipeline.services import change_amount, move_to_stage

    acct = AccountFactory(owner=org_setup.rep, name="Umbrella AG")
    with clock.frozen(frozen_now - dt.timedelta(days=10)):
        opp = deal(org_setup, account=acct, amount="1000.00")
    with clock.frozen(frozen_now - dt.timedelta(days=4)):
        opp = move_to_stage(opportunity=opp, stage=org_setup.stages["Meeting"], actor=org_setup.rep)
    opp = change_amount(opportunity=opp, amount="2500.00", actor=org_setup.rep)
    Comment.objects.create(
        opportunity=opp, author=org_setup.rep2, body="Call them Friday", created_at=clock.now()
    )
    response = rep_client.get(reverse("pipeline:detail", args=[opp.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Umbrella AG" in html and "€2,500.00" in html
    assert "moved" in html and "Qualification → Meeting" in html
    assert "Call them Friday" in html
    assert 'Amount: <span class="old">€1,000.00</span>' in html
    bar = {s.stage.name: s for s in response.context["stagebar"]}
    assert round(bar["Qualification"].days) == 6 and bar["Qualification"].state == "past"
    assert round(bar["Meeting"].days) == 4 and bar["Meeting"].state == "current"
    assert bar["Proposal"].state == "future"
    entries = response.context["timeline"]
    assert entries[0].at >= entries[-1].at  # newest first
    # Query count stays flat with more history.
    with django_assert_max_num_queries(40) as before:
        rep_client.get(reverse("pipeline:detail", args=[opp.pk]))
    for i in range(10):
        opp = change_amount(opportunity=opp, amount=f"{3000 + i}.00", actor=org_setup.rep)
        Comment.objects.create(
            opportunity=opp, author=org_setup.rep, body=f"c{i}", created_at=clock.now()
        )
    with django_assert_max_num_queries(len(before.captured_queries)):
        rep_client.get(reverse("pipeline:detail", args=[opp.pk]))


def test_timeline_filter(rep_client: Any, org_setup: Any, frozen_now: Any) -> None:
    opp = deal(org_setup)
    Comment.objects.create(
        opportunity=opp, author=org_setup.rep, body="Hello", created_at=clock.now()
    )
    url = reverse("pipeline:timeline", args=[opp.pk])
    html = rep_client.get(url, {"show": "changes"}).content.decode()
    assert "created the deal" in html and "Hello" not in html
    html = rep_client.get(url, {"show": "comments"}).content.decode()
    assert "created the deal" not in html and "Hello" in html


def test_time_in_stages_from_events() -> None:
    from types import SimpleNamespace as E

    t0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    events = [
        E(kind="created", to_stage_id=1, occurred_at=t0),
        E(kind="probability", to_stage_id=None, occurred_at=t0 + dt.timedelta(days=1)),
        E(kind="stage", to_stage_id=2, occurred_at=t0 + dt.timedelta(days=3)),
        E(kind="stage", to_stage_id=1, occurred_at=t0 + dt.timedelta(days=5)),
        E(kind="stage", to_stage_id=3, occurred_at=t0 + dt.timedelta(days=6)),
    ]
    spent, current = selectors.time_in_stages(events, now=t0 + dt.timedelta(days=10))
    assert current == 3
    assert spent == {1: 4 * 86400, 2: 2 * 86400, 3: 4 * 86400}
    assert selectors.time_in_stages([], now=t0) == ({}, None)


def test_inline_edit_amount_and_conflict(rep_client: Any, org_setup: Any, frozen_now: Any) -> None:
    opp = deal(org_setup)
    url = reverse("pipeline:edit", args=[opp.pk, "amount"])
    form = rep_client.get(url, **HTMX)
    assert form.status_code == 200 and 'name="value"' in form.content.decode()
    response = rep_client.post(
        url, {"value": "4200", "currency": "EUR", "version": opp.version}, **HTMX
    )
    assert response.status_code == 200
    assert response["HX-Retarget"] == "#facts"
    html = response.content.decode()
    assert "€4,200.00" in html and 'id="deal-version"' in html and "hx-swap-oob" in html
    opp.refresh_from_db()
    assert opp.amount == Decimal("4200.00") and opp.version == 2
    assert OpportunityEvent.objects.filter(opportunity=opp, kind="amount").count() == 1
    # Someone else saves in between: a stale version is refused with who and when.
    from salescope.pipeline.services import change_probability

    change_probability(opportunity=opp, probability=55, actor=org_setup.manager)
    response = rep_client.post(url, {"value": "5000", "currency": "EUR", "version": 2}, **HTMX)
    html = response.content.decode()
    assert "Changed by" in html and str(org_setup.manager) in html and "Reload" in html
    opp.refresh_from_db()
    assert opp.amount == Decimal("4200.00")


def test_inline_edit_bad_input(rep_client: Any, org_setup: Any, frozen_now: Any) -> None:
    opp = deal(org_setup)
    url = reverse("pipeline:edit", args=[opp.pk, "probability"])
    response = rep_client.post(url, {"value": "150", "version": opp.version}, **HTMX)
    assert "errorlist" in response.content.decode()
    assert "HX-Retarget" not in response
    opp.refresh_from_db()
    assert opp.probability == 10 and opp.version == 1
    response = rep_client.post(
        reverse("pipeline:edit", args=[opp.pk, "nonsense"]), {"value": "1"}, **HTMX
    )
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("field", "value", "check"),
    [
        ("name", "Renamed", lambda o, org: o.name == "Renamed"),
        ("probability", "45", lambda o, org: o.probability == 45),
        ("expected_close", "2026-06-30", lambda o, org: o.expected_close == dt.date(2026, 6, 30)),
        ("forecast_category", "commit", lambda o, org: o.forecast_category == "commit"),
        ("next_step", "Send offer", lambda o, org: o.next_step == "Send offer"),
        ("owner", "rep2", lambda o, org: o.owner == org.rep2),
        ("stage", "Meeting", lambda o, org: o.stage.name == "Meeting"),
    ],
)
def test_inline_edit_each_field(
    client: Any, org_setup: Any, frozen_now: Any, field: str, value: str, check: Any
) -> None:
    client.force_login(org_setup.manager)
    opp = deal(org_setup)
    if field == "owner":
        value = str(org_setup.rep2.pk)
    if field == "stage":
        value = str(org_setup.stages[value].pk)
    response = client.post(
        reverse("pipeline:edit", args=[opp.pk, field]),
        {"value": value, "version": opp.version},
        **HTMX,
    )
    assert response.status_code == 200 and response["HX-Retarget"] == "#facts"
    opp.refresh_from_db()
    assert check(opp, org_setup)


def test_inline_stage_edit_asks_gate_fields(
    rep_client: Any, org_setup: Any, frozen_now: Any
) -> None:
    define_field(
        target="opportunity", key="budget", label="Budget", field_type="money",
        required_from_stage=org_setup.stages["Meeting"],
    )  # fmt: skip
    opp = deal(org_setup)
    url = reverse("pipeline:edit", args=[opp.pk, "stage"])
    meeting = org_setup.stages["Meeting"].pk
    response = rep_client.post(url, {"value": meeting, "version": 1}, **HTMX)
    html = response.content.decode()
    assert 'name="custom.budget"' in html and "Fill in the mandatory fields" in html
    response = rep_client.post(
        url,
        {"value": meeting, "version": 1, "custom_keys": "budget", "custom.budget": "5000",
         "custom.budget.currency": "EUR"},
        **HTMX,
    )  # fmt: skip
    assert response["HX-Retarget"] == "#facts"
    opp.refresh_from_db()
    assert opp.custom == {"budget": {"amount": "5000.00", "currency": "EUR"}}


def test_edit_custom_fields(rep_client: Any, org_setup: Any, frozen_now: Any) -> None:
    define_field(target="opportunity", key="competitor", label="Competitor", field_type="text")
    define_field(target="opportunity", key="trial", label="On trial", field_type="boolean")
    opp = deal(org_setup)
    url = reverse("pipeline:edit_custom", args=[opp.pk])
    assert 'name="custom.trial"' in rep_client.get(url, **HTMX).content.decode()
    response = rep_client.post(
        url,
        {"custom_keys": ["competitor", "trial"], "custom.competitor": "Globex",
         "custom.trial": "on", "version": 1},
        **HTMX,
    )  # fmt: skip
    assert response.status_code == 200
    opp.refresh_from_db()
    assert opp.custom == {"competitor": "Globex", "trial": True}
    html = rep_client.get(reverse("pipeline:detail", args=[opp.pk])).content.decode()
    assert "Globex" in html
    assert 'Competitor: <span class="old">–</span> → <span class="new">Globex</span>' in html
    assert 'On trial: <span class="old">–</span> → <span class="new">Yes</span>' in html


def test_contacts_with_roles(rep_client: Any, org_setup: Any, frozen_now: Any) -> None:
    from salescope.accounts.models import AccountContact, ContactRole
    from salescope.testing.factories import ContactFactory

    acct = AccountFactory(owner=org_setup.rep)
    contact = ContactFactory(owner=org_setup.rep, first_name="Dana", last_name="Scully")
    member = AccountContact.objects.create(account=acct, contact=contact)
    member.roles.add(ContactRole.objects.create(name="Decision maker"))
    opp = deal(org_setup, account=acct)
    response = rep_client.post(
        reverse("pipeline:edit", args=[opp.pk, "contacts"]),
        {"value": [contact.pk], "version": opp.version},
        **HTMX,
    )
    assert response.status_code == 200
    html = rep_client.get(reverse("pipeline:detail", args=[opp.pk])).content.decode()
    assert "Dana Scully" in html and "Decision maker" in html


def test_comment_and_attachment(rep_client: Any, org_setup: Any, frozen_now: Any) -> None:
    opp = deal(org_setup)
    response = rep_client.post(reverse("pipeline:comment", args=[opp.pk]), {"body": ""}, **HTMX)
    assert response["HX-Retarget"] == "#write-errors"
    assert not Comment.objects.exists()
    response = rep_client.post(
        reverse("pipeline:comment", args=[opp.pk]), {"body": "Looks good"}, **HTMX
    )
    assert "Looks good" in response.content.decode()
    upload = SimpleUploadedFile("offer.pdf", b"%PDF-1.4 test", content_type="application/pdf")
    response = rep_client.post(reverse("pipeline:attach", args=[opp.pk]), {"file": upload})
    assert response.status_code == 302
    attachment = opp.attachments.get()
    html = rep_client.get(reverse("pipeline:detail", args=[opp.pk])).content.decode()
    assert "offer.pdf" in html
    download = rep_client.get(reverse("pipeline:attachment", args=[opp.pk, attachment.pk]))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"%PDF-1.4 test"


def test_json_error_for_unknown_stage(rep_client: Any, org_setup: Any, frozen_now: Any) -> None:
    opp = deal(org_setup)
    other = org_setup.other_pipeline.stages.first()
    response = rep_client.post(reverse("pipeline:move", args=[opp.pk]), {"stage": other.pk}, **JSON)
    assert response.status_code == 422
    assert json.loads(response.content)["error"]


@pytest.mark.parametrize(("lang", "expected"), [("en", "€12,346"), ("de", "12.346\u00a0€")])
def test_card_amounts_match_the_money_filter(lang: str, expected: str) -> None:
    from django.utils import translation

    from salescope.core import formatting
    from salescope.pipeline.views import _card_formatters

    with translation.override(lang):
        money, day = _card_formatters()
        assert money(Decimal("12345.67"), "EUR") == expected
        assert money(Decimal("12345.67"), "EUR") == formatting.money(
            Decimal("12345.67"), "EUR", whole=True
        )
        assert day(dt.date(2026, 3, 1)) == formatting.date(dt.date(2026, 3, 1), style="short")
