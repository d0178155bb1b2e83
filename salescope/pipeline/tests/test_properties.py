"""Property tests: for any sequence of verbs, the history alone rebuilds the opportunity.

Each example creates one opportunity and applies a random sequence of valid and invalid
actions. After every action:
- a refused action raised a ValidationError and changed nothing (state, version, events);
- an accepted one wrote exactly one event per changed field;
and at the end the events alone rebuild every tracked field of the stored state.
"""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from salescope.core import clock
from salescope.customfields.services import define_field
from salescope.pipeline import domain, services
from salescope.pipeline.models import ForecastCategory, Opportunity
from salescope.pipeline.selectors import rebuilt_state
from salescope.testing.factories import make_opportunity

pytestmark = pytest.mark.django_db

STAGES = ["Qualification", "Meeting", "Proposal", "Negotiation", "Won", "Lost", "foreign"]

amounts = st.one_of(
    st.decimals(
        min_value=-10, max_value=10**6, places=2, allow_nan=False, allow_infinity=False
    ).map(str),
    st.sampled_from(["abc", "1.001", "", "1e3"]),
)
probabilities = st.one_of(st.integers(min_value=-5, max_value=105), st.just(None))
actions = st.one_of(
    st.tuples(
        st.just("move"),
        st.sampled_from(STAGES),
        probabilities,
        st.sampled_from([None, {"qualified": True}, {"qualified": "maybe"}]),
    ),
    st.tuples(st.just("amount"), amounts, st.sampled_from([None, "EUR", "USD", "XYZ"])),
    st.tuples(st.just("probability"), st.integers(min_value=-5, max_value=105)),
    st.tuples(st.just("close_date"), st.integers(min_value=-40000, max_value=40000)),
    st.tuples(st.just("reassign"), st.sampled_from(["rep", "rep2", "readonly", "manager"])),
    st.tuples(st.just("won"), st.integers(min_value=-30, max_value=3)),
    st.tuples(st.just("lost"), st.booleans()),
    st.tuples(st.just("reopen"), st.sampled_from([None, "Meeting", "Won", "foreign"])),
    st.tuples(st.just("forecast"), st.sampled_from([*ForecastCategory.values, "maybe"])),
    st.tuples(
        st.just("details"), st.text(max_size=210), st.sampled_from([None, "call back", "x" * 400])
    ),
)


def _apply(s: Any, opp: Opportunity, action: tuple[Any, ...]) -> Opportunity:
    name = action[0]
    stage_of = {**s.stages, "foreign": s.other_pipeline.stages.get(name="Offer")}
    actor = s.manager
    if name == "move":
        return services.move_to_stage(
            opportunity=opp,
            stage=stage_of[action[1]],
            actor=actor,
            probability=action[2],
            custom=action[3],
        )
    if name == "amount":
        return services.change_amount(
            opportunity=opp, amount=action[1], currency=action[2], actor=actor
        )
    if name == "probability":
        return services.change_probability(opportunity=opp, probability=action[1], actor=actor)
    if name == "close_date":
        day = clock.today() + dt.timedelta(days=action[1])
        return services.change_expected_close(opportunity=opp, expected_close=day, actor=actor)
    if name == "reassign":
        return services.reassign(opportunity=opp, owner=getattr(s, action[1]), actor=actor)
    if name == "won":
        return services.mark_won(
            opportunity=opp, actor=actor, closed_on=clock.today() + dt.timedelta(days=action[1])
        )
    if name == "lost":
        return services.mark_lost(
            opportunity=opp, actor=actor, reason=s.reason if action[1] else None
        )
    if name == "reopen":
        return services.reopen(
            opportunity=opp, actor=actor, stage=stage_of[action[1]] if action[1] else None
        )
    if name == "forecast":
        return services.set_forecast_category(opportunity=opp, category=action[1], actor=actor)
    if name == "details":
        return services.update_details(
            opportunity=opp, actor=actor, name=action[1], next_step=action[2]
        )
    raise AssertionError(name)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=st.lists(actions, min_size=1, max_size=12))
def test_any_verb_sequence_is_rebuilt_from_history(org_setup, steps):
    s = org_setup
    from salescope.customfields.models import CustomFieldDefinition
    from salescope.org.services import set_exchange_rate

    set_exchange_rate(currency="USD", valid_from=dt.date(2020, 1, 1), rate=Decimal("0.9"))
    if not CustomFieldDefinition.objects.filter(key="qualified").exists():
        define_field(
            target="opportunity",
            key="qualified",
            label="Qualified",
            field_type="boolean",
            required_from_stage=s.stages["Negotiation"],
        )
    t = dt.datetime(2026, 2, 2, 8, tzinfo=dt.UTC)
    with clock.frozen(t):
        opp = make_opportunity(owner=s.rep, actor=s.rep, stage=s.stages["Qualification"])
    for i, action in enumerate(steps, start=1):
        before = domain.snapshot(Opportunity.objects.get(pk=opp.pk))
        n_events = opp.events.count()
        version = Opportunity.objects.get(pk=opp.pk).version
        with clock.frozen(t + dt.timedelta(hours=i)):
            try:
                opp = _apply(s, opp, action)
            except ValidationError as exc:
                assert exc.message_dict, "a refusal names the offending field"
                stored = Opportunity.objects.get(pk=opp.pk)
                assert domain.snapshot(stored) == before
                assert stored.version == version
                assert opp.events.count() == n_events
                continue
        stored = Opportunity.objects.get(pk=opp.pk)
        changed = domain.diff(before, domain.snapshot(stored))
        assert opp.events.count() == n_events + len(changed), "one event per changed field"
        assert stored.version == version + (1 if changed else 0)
        assert rebuilt_state(stored) == domain.snapshot(stored)
        # Invariants of the stored state.
        assert (stored.outcome == "open") == (stored.closed_on is None)
        assert stored.stage.kind == stored.outcome
        assert (stored.outcome == "lost") == (stored.lost_reason_id is not None)
    stored = Opportunity.objects.get(pk=opp.pk)
    assert rebuilt_state(stored) == domain.snapshot(stored)
    last_stage_event = stored.events.filter(kind__in=["stage", "created"]).order_by(
        "-occurred_at", "-id"
    )[0]
    assert stored.stage_entered_at == last_stage_event.occurred_at


@given(
    states=st.lists(
        st.fixed_dictionaries(
            {
                f: st.one_of(st.none(), st.integers(0, 3), st.text(max_size=3))
                for f in domain.TRACKED_FIELDS
            }
        ),
        min_size=1,
        max_size=8,
    )
)
def test_replay_of_diffs_rebuilds_any_state_sequence(states):
    """Pure check of snapshot/diff/replay: writing diffs then replaying them is lossless."""
    events = [("created", None, states[0])]
    for before, after in itertools.pairwise(states):
        events += domain.diff(before, after)
    assert domain.replay(events) == states[-1]
