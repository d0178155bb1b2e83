"""Opportunity verbs: history written, rules enforced, bad input refused, nothing written."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from salescope.core import clock
from salescope.customfields.services import define_field
from salescope.pipeline import services
from salescope.pipeline.domain import snapshot
from salescope.pipeline.models import (
    EventKind,
    ForecastCategory,
    Opportunity,
    OpportunityEvent,
    Outcome,
)
from salescope.pipeline.selectors import rebuilt_state
from salescope.testing.factories import AccountFactory, make_opportunity

pytestmark = pytest.mark.django_db


def kinds(opp):
    return list(opp.events.order_by("id").values_list("kind", flat=True))


def test_create_writes_created_event_with_full_state(org_setup, frozen_now):
    s = org_setup
    account = AccountFactory(owner=s.rep)
    opp = make_opportunity(
        owner=s.rep, actor=s.rep, stage=s.stages["Qualification"], account=account
    )
    assert opp.probability == 10  # the stage's default
    assert opp.stage_entered_at == frozen_now
    (event,) = opp.events.all()
    assert event.kind == EventKind.CREATED
    assert event.actor == s.rep
    assert event.occurred_at == frozen_now
    assert event.new_value == snapshot(opp)
    assert rebuilt_state(opp) == snapshot(opp)


def test_move_to_stage_sets_default_probability_unless_given(org_setup):
    s = org_setup
    opp = make_opportunity(owner=s.rep, actor=s.rep, stage=s.stages["Qualification"])
    opp = services.move_to_stage(opportunity=opp, stage=s.stages["Meeting"], actor=s.rep)
    assert (opp.stage, opp.probability) == (s.stages["Meeting"], 30)
    opp = services.move_to_stage(
        opportunity=opp, stage=s.stages["Proposal"], actor=s.rep, probability=45
    )
    assert opp.probability == 45
    stage_events = opp.events.filter(kind=EventKind.STAGE).order_by("id")
    assert [(e.from_stage.name, e.to_stage.name) for e in stage_events] == [
        ("Qualification", "Meeting"),
        ("Meeting", "Proposal"),
    ]
    assert kinds(opp) == ["created", "stage", "probability", "stage", "probability"]
    assert opp.version == 3


def test_stage_entered_at_follows_the_clock(org_setup):
    s = org_setup
    t0 = dt.datetime(2026, 1, 5, 8, tzinfo=dt.UTC)
    with clock.frozen(t0):
        opp = make_opportunity(owner=s.rep, actor=s.rep, stage=s.stages["Qualification"])
    with clock.frozen(t0 + dt.timedelta(days=9)):
        opp = services.move_to_stage(opportunity=opp, stage=s.stages["Meeting"], actor=s.rep)
    assert opp.stage_entered_at == t0 + dt.timedelta(days=9)
    assert opp.events.get(kind="stage").occurred_at == t0 + dt.timedelta(days=9)


def test_won_lost_reopen_cycle(org_setup, frozen_now):
    s = org_setup
    opp = make_opportunity(owner=s.rep, actor=s.rep, stage=s.stages["Proposal"])
    opp = services.mark_won(opportunity=opp, actor=s.rep)
    assert (opp.outcome, opp.stage, opp.probability, opp.closed_on) == (
        Outcome.WON,
        s.won,
        100,
        frozen_now.date(),
    )
    assert opp.forecast_category == ForecastCategory.CLOSED
    opp = services.reopen(opportunity=opp, actor=s.rep)
    assert opp.stage == s.stages["Proposal"]  # back where it closed from
    assert opp.outcome == Outcome.OPEN and opp.closed_on is None
    opp = services.mark_lost(opportunity=opp, actor=s.rep, reason=s.reason, note="Too expensive")
    assert (opp.outcome, opp.stage, opp.probability, opp.lost_reason) == (
        Outcome.LOST,
        s.lost,
        0,
        s.reason,
    )
    assert rebuilt_state(opp) == snapshot(opp)


def test_lost_without_reason_is_refused_and_writes_nothing(org_setup):
    s = org_setup
    opp = make_opportunity(owner=s.rep, actor=s.rep, stage=s.stages["Proposal"])
    with pytest.raises(ValidationError) as exc:
        services.mark_lost(opportunity=opp, actor=s.rep, reason=None)
    assert "lost_reason" in exc.value.message_dict
    opp.refresh_from_db()
    assert opp.outcome == Outcome.OPEN and opp.version == 1
    assert kinds(opp) == ["created"]


def test_stage_of_another_pipeline_is_refused(org_setup):
    s = org_setup
    opp = make_opportunity(owner=s.rep, actor=s.rep, stage=s.stages["Proposal"])
    foreign = s.other_pipeline.stages.get(name="Offer")
    with pytest.raises(ValidationError) as exc:
        services.move_to_stage(opportunity=opp, stage=foreign, actor=s.rep)
    assert "another pipeline" in exc.value.message_dict["stage"][0]
    assert kinds(opp) == ["created"]


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("amount", {"amount": "-1"}),
        ("amount", {"amount": "abc"}),
        ("amount", {"amount": 12.5}),
        ("amount", {"amount": "1.001"}),
        ("name", {"name": "  "}),
        ("name", {"name": "x" * 201}),
        ("expected_close", {"expected_close": "2026-13-01"}),
        ("expected_close", {"expected_close": dt.date(1900, 1, 1)}),
        ("probability", {"probability": 101}),
        ("probability", {"probability": "50"}),
        ("forecast_category", {"forecast_category": "maybe"}),
        ("currency", {"currency": "XXX"}),
    ],
)
def test_create_rejects_malformed_values_naming_the_field(org_setup, field, kwargs):
    s = org_setup
    args = dict(
        actor=s.rep,
        owner=s.rep,
        name="Deal",
        stage=s.stages["Qualification"],
        amount=Decimal("100.00"),
        expected_close=dt.date(2026, 6, 30),
    )
    args.update(kwargs)
    with pytest.raises(ValidationError) as exc:
        services.create_opportunity(**args)
    assert field in exc.value.message_dict
    assert field.split("_")[0] in " ".join(exc.value.message_dict[field]).lower()
    assert Opportunity.objects.count() == 0
    assert OpportunityEvent.objects.count() == 0


def test_new_opportunity_cannot_start_closed(org_setup):
    s = org_setup
    with pytest.raises(ValidationError) as exc:
        make_opportunity(owner=s.rep, actor=s.rep, stage=s.won)
    assert "stage" in exc.value.message_dict


@pytest.mark.parametrize(
    ("verb", "kwargs", "field"),
    [
        ("change_amount", {"amount": "-5"}, "amount"),
        ("change_probability", {"probability": -1}, "probability"),
        ("change_probability", {"probability": True}, "probability"),
        ("change_expected_close", {"expected_close": "tomorrow"}, "expected_close"),
        ("set_forecast_category", {"category": "closed"}, "forecast_category"),
        ("update_details", {"name": ""}, "name"),
        ("update_details", {"next_step": "x" * 301}, "next_step"),
        ("update_details", {"custom": {"nope": 1}}, "custom.nope"),
    ],
)
def test_verbs_reject_bad_input_and_write_nothing(org_setup, verb, kwargs, field):
    s = org_setup
    opp = make_opportunity(owner=s.rep, actor=s.rep, stage=s.stages["Meeting"])
    with pytest.raises(ValidationError) as exc:
        getattr(services, verb)(opportunity=opp, actor=s.rep, **kwargs)
    assert field in exc.value.message_dict
    fresh = Opportunity.objects.get(pk=opp.pk)
    assert snapshot(fresh) == snapshot(opp) and fresh.version == 1
    assert kinds(opp) == ["created"]


def test_closed_opportunity_refuses_open_only_verbs(org_setup):
    s = org_setup
    opp = make_opportunity(owner=s.rep, actor=s.rep, stage=s.stages["Meeting"])
    opp = services.mark_won(opportunity=opp, actor=s.rep)
    for verb, kwargs in [
        ("move_to_stage", {"stage": s.stages["Proposal"]}),
        ("change_probability", {"probability": 50}),
        ("mark_lost", {"reason": s.reason}),
    ]:
        with pytest.raises(ValidationError, match="Reopen"):
            getattr(services, verb)(opportunity=opp, actor=s.rep, **kwargs)


def test_won_in_the_future_is_refused(org_setup, frozen_now):
    s = org_setup
    opp = make_opportunity(owner=s.rep, actor=s.rep, stage=s.stages["Meeting"])
    with pytest.raises(ValidationError) as exc:
        services.mark_won(
            opportunity=opp, actor=s.rep, closed_on=frozen_now.date() + dt.timedelta(days=1)
        )
    assert "closed_on" in exc.value.message_dict


def test_stage_gate_requires_custom_field_from_its_stage_on(org_setup):
    s = org_setup
    define_field(
        target="opportunity",
        key="budget_confirmed",
        label="Budget confirmed",
        field_type="boolean",
        required_from_stage=s.stages["Proposal"],
    )
    opp = make_opportunity(owner=s.rep, actor=s.rep, stage=s.stages["Qualification"])
    opp = services.move_to_stage(
        opportunity=opp, stage=s.stages["Meeting"], actor=s.rep
    )  # before the gate
    for target in (s.stages["Proposal"], s.stages["Negotiation"]):
        with pytest.raises(ValidationError) as exc:
            services.move_to_stage(opportunity=opp, stage=target, actor=s.rep)
        assert (
            "Budget confirmed is mandatory" in exc.value.message_dict["custom.budget_confirmed"][0]
        )
    with pytest.raises(ValidationError):
        services.mark_won(opportunity=opp, actor=s.rep)
    # Losing needs no qualification data.
    lost = make_opportunity(owner=s.rep, actor=s.rep, stage=s.stages["Meeting"])
    services.mark_lost(opportunity=lost, actor=s.rep, reason=s.reason)
    # The gate dialog supplies the value in the same action.
    opp = services.move_to_stage(
        opportunity=opp, stage=s.stages["Proposal"], actor=s.rep, custom={"budget_confirmed": "yes"}
    )
    assert opp.custom == {"budget_confirmed": True}
    assert set(kinds(opp)[-3:]) == {"stage", "probability", "custom"}
    # Clearing it once past the gate is refused.
    with pytest.raises(ValidationError):
        services.update_details(opportunity=opp, actor=s.rep, custom={"budget_confirmed": None})


def test_mandatory_on_create_custom_field(org_setup):
    s = org_setup
    define_field(
        target="opportunity",
        key="campaign_code",
        label="Campaign code",
        field_type="text",
        required_on_create=True,
    )
    with pytest.raises(ValidationError) as exc:
        make_opportunity(owner=s.rep, actor=s.rep, stage=s.stages["Meeting"])
    assert "custom.campaign_code" in exc.value.message_dict
    opp = make_opportunity(
        owner=s.rep, actor=s.rep, stage=s.stages["Meeting"], custom={"campaign_code": "Q1"}
    )
    assert opp.custom == {"campaign_code": "Q1"}


def test_reassign_records_hand_over_and_checks_owner(org_setup):
    s = org_setup
    opp = make_opportunity(owner=s.rep, actor=s.rep, stage=s.stages["Meeting"])
    opp = services.reassign(opportunity=opp, owner=s.rep2, actor=s.rep)
    event = opp.events.get(kind=EventKind.OWNER)
    assert (event.old_value, event.new_value, event.actor) == (s.rep.pk, s.rep2.pk, s.rep)
    with pytest.raises(ValidationError) as exc:
        services.reassign(opportunity=opp, owner=s.readonly, actor=s.manager)
    assert "owner" in exc.value.message_dict


def test_permissions_follow_visibility(org_setup):
    s = org_setup
    opp = make_opportunity(owner=s.rep, actor=s.rep, stage=s.stages["Meeting"])
    for outsider in (s.other_rep, s.other_manager, s.readonly, s.rep2, s.marketing):
        with pytest.raises(PermissionDenied):
            services.change_probability(opportunity=opp, probability=50, actor=outsider)
    services.change_probability(opportunity=opp, probability=50, actor=s.manager)  # team manager
    services.change_probability(opportunity=opp, probability=55, actor=s.admin)
    services.share(opportunity=opp, users=[s.rep2], actor=s.rep)
    services.change_probability(opportunity=opp, probability=60, actor=s.rep2)  # shared with them
    assert kinds(opp).count("probability") == 3


def test_no_change_writes_no_event_and_keeps_version(org_setup):
    s = org_setup
    opp = make_opportunity(owner=s.rep, actor=s.rep, stage=s.stages["Meeting"], amount="500.00")
    opp = services.change_amount(opportunity=opp, amount="500.00", actor=s.rep)
    assert opp.version == 1 and kinds(opp) == ["created"]


def test_update_opportunity_routes_fields_to_verbs(org_setup):
    s = org_setup
    opp = make_opportunity(owner=s.rep, actor=s.rep, stage=s.stages["Qualification"])
    opp = services.update_opportunity(
        opportunity=opp,
        actor=s.manager,
        expected_version=1,
        changes={
            "stage": s.stages["Proposal"],
            "amount": Decimal("2500.00"),
            "owner": s.rep2,
            "name": "Bigger deal",
        },
    )
    assert (opp.stage, opp.probability, opp.amount, opp.owner, opp.name) == (
        s.stages["Proposal"],
        60,
        Decimal("2500.00"),
        s.rep2,
        "Bigger deal",
    )
    verbs = set(opp.events.exclude(kind="created").values_list("verb", flat=True))
    assert verbs == {"update_details", "reassign", "change_amount", "move_to_stage"}
    assert rebuilt_state(opp) == snapshot(opp)


def test_events_cannot_be_updated_or_deleted(org_setup):
    s = org_setup
    opp = make_opportunity(owner=s.rep, actor=s.rep, stage=s.stages["Meeting"])
    event = opp.events.get()
    event.new_value = {"tampered": True}
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        OpportunityEvent.objects.filter(pk=event.pk).update(verb="x")
    with pytest.raises(PermissionError):
        OpportunityEvent.objects.all().delete()


def test_update_opportunity_never_drops_a_change_silently(org_setup):
    s = org_setup
    opp = make_opportunity(owner=s.rep, actor=s.rep, stage=s.stages["Meeting"])
    with pytest.raises(ValidationError) as exc:
        services.update_opportunity(opportunity=opp, actor=s.rep, changes={"lost_reason": s.reason})
    assert "only used when" in exc.value.message_dict["lost_reason"][0]
    won = services.mark_won(opportunity=opp, actor=s.rep)
    with pytest.raises(ValidationError) as exc:
        services.update_opportunity(
            opportunity=won, actor=s.rep, changes={"expected_close": dt.date(2027, 1, 1)}
        )
    assert "reopen it first" in exc.value.message_dict["expected_close"][0]
    assert Opportunity.objects.get(pk=opp.pk).version == won.version


def test_update_opportunity_closes_after_applying_other_edits_and_corrects_lost_reason(org_setup):
    from salescope.pipeline.models import LostReason

    s = org_setup
    opp = make_opportunity(owner=s.rep, actor=s.rep, stage=s.stages["Meeting"])
    opp = services.update_opportunity(
        opportunity=opp,
        actor=s.rep,
        expected_version=1,
        changes={
            "amount": Decimal("750.00"),
            "outcome": "lost",
            "lost_reason": s.reason,
            "lost_note": "Budget cut",
        },
    )
    assert (opp.outcome, opp.amount, opp.lost_note) == ("lost", Decimal("750.00"), "Budget cut")
    competitor = LostReason.objects.create(name="Competitor")
    opp = services.update_opportunity(
        opportunity=opp, actor=s.rep, changes={"lost_reason": competitor}
    )
    assert opp.lost_reason == competitor
    assert opp.events.filter(verb="change_lost_reason", kind="lost_reason").count() == 1
    assert rebuilt_state(opp) == snapshot(opp)


def test_update_opportunity_checks_permission_before_version(org_setup):
    s = org_setup
    opp = make_opportunity(owner=s.rep, actor=s.rep, stage=s.stages["Meeting"])
    services.change_probability(opportunity=opp, probability=50, actor=s.rep)
    with pytest.raises(PermissionDenied):
        services.update_opportunity(
            opportunity=opp, actor=s.other_rep, expected_version=1, changes={"name": "x"}
        )
