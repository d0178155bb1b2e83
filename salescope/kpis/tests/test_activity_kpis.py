"""Activities, time spent, milestone actions, activity effort, and regularity.

Activities (Berlin wall-clock; "call" is no milestone, "meeting" and "offer" are):

===  =====  =======  ==========================  =======
id   owner  type     done                        minutes
===  =====  =======  ==========================  =======
a1   rep    call     03-02 10:00                 30
a2   rep    meeting  03-05 10:00                 90
a3   rep    offer    03-10 10:00                 45
a4   rep2   call     03-12 10:00                 15
a5   rep2   meeting  03-31 23:30 (still March)   60
a6   rep    call     not done                    20
a7   rep    call     04-01 00:30 (April)         20
a8   rep2   call     03-15 10:00                 –
===  =====  =======  ==========================  =======

Deals won in March: rep 2, rep2 1.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from salescope.core import clock
from salescope.kpis.periods import Period, add_months
from salescope.kpis.tests.conftest import D, at, by_bucket, by_group, total, value
from salescope.pipeline import services
from salescope.testing.factories import ActivityFactory, ActivityTypeFactory, make_opportunity

pytestmark = pytest.mark.django_db


def _win(owner: Any, stage: Any, created: dt.datetime, won: dt.datetime, amount: str) -> Any:
    with clock.frozen(created):
        opp = make_opportunity(owner=owner, stage=stage, amount=amount, expected_close=won.date())
    with clock.frozen(won):
        services.mark_won(opportunity=opp, actor=None)
    return opp


@pytest.fixture
def effort(org_setup: Any) -> Any:
    o = org_setup
    call = ActivityTypeFactory(code="call", is_milestone=False)
    meeting = ActivityTypeFactory(code="meeting", is_milestone=True)
    offer = ActivityTypeFactory(code="offer", is_milestone=True)
    rows = [
        (o.rep, call, at(3, 2), 30),
        (o.rep, meeting, at(3, 5), 90),
        (o.rep, offer, at(3, 10), 45),
        (o.rep2, call, at(3, 12), 15),
        (o.rep2, meeting, at(3, 31, 23, 30), 60),
        (o.rep, call, None, 20),
        (o.rep, call, at(4, 1, 0, 30), 20),
        (o.rep2, call, at(3, 15), None),
    ]
    for owner, kind, done, minutes in rows:
        ActivityFactory(owner=owner, activity_type=kind, done_at=done, duration_minutes=minutes)
    q = o.stages["Qualification"]
    _win(o.rep, q, at(3, 1), at(3, 10), "1000")
    _win(o.rep, q, at(3, 1), at(3, 20), "1000")
    _win(o.rep2, q, at(3, 1), at(3, 21), "1000")
    o.call, o.meeting, o.offer = call, meeting, offer
    return o


def test_activities_done(effort: Any) -> None:
    o = effort
    # done in March (Berlin): a1, a2, a3, a4, a5 (23:30 on 03-31), a8 = 6; a6 undone, a7 April
    assert total("activities_done") == 6
    assert by_group("activities_done", "rep") == {o.rep.pk: 3, o.rep2.pk: 3}
    # call a1, a4, a8 = 3; meeting a2, a5 = 2; offer a3 = 1
    assert by_group("activities_done", "activity_type") == {
        o.call.pk: 3,
        o.meeting.pk: 2,
        o.offer.pk: 1,
    }
    april = Period(dt.date(2026, 4, 1), dt.date(2026, 5, 1))
    assert total("activities_done", period=april) == 1


def test_time_spent_in_hours(effort: Any) -> None:
    o = effort
    # 30 + 90 + 45 + 15 + 60 + 0 (a8 without a time) = 240 min = 4.00 h
    assert total("time_spent") == D("4.00")
    # rep 30 + 90 + 45 = 165 min = 2.75 h; rep2 15 + 60 = 75 min = 1.25 h
    assert by_group("time_spent", "rep") == {o.rep.pk: D("2.75"), o.rep2.pk: D("1.25")}


def test_milestone_actions(effort: Any) -> None:
    o = effort
    # milestone types meeting and offer: a2, a3, a5 = 3; rep 2, rep2 1
    assert total("milestone_actions") == 3
    assert by_group("milestone_actions", "rep") == {o.rep.pk: 2, o.rep2.pk: 1}
    assert by_group("milestone_actions", "activity_type") == {o.meeting.pk: 2, o.offer.pk: 1}
    # rep2's own view: a4 call is not a milestone, a5 is → 1
    assert total("milestone_actions", user=o.rep2) == 1


def test_activity_effort(effort: Any) -> None:
    o = effort
    # 6 activities / 3 deals won = 2
    assert total("activity_effort") == D("2.000000")
    # rep 3 / 2 = 1.5; rep2 3 / 1 = 3
    assert by_group("activity_effort", "rep") == {o.rep.pk: D("1.500000"), o.rep2.pk: D("3.000000")}
    # by type, each type over all 3 deals won: call 3/3, meeting 2/3, offer 1/3
    assert by_group("activity_effort", "activity_type") == {
        o.call.pk: D("1.000000"),
        o.meeting.pk: D("0.666667"),
        o.offer.pk: D("0.333333"),
    }
    # April: 1 activity, no deal won → no value (not 0, not infinite)
    assert total("activity_effort", period=Period(dt.date(2026, 4, 1), dt.date(2026, 5, 1))) is None


def test_activities_by_day_at_the_month_boundary(effort: Any) -> None:
    days = by_bucket(
        "activities_done", "day", period=Period(dt.date(2026, 3, 31), dt.date(2026, 4, 2))
    )
    # a5 done 23:30 Berlin on 03-31 (21:30 UTC); a7 00:30 Berlin on 04-01 (22:30 UTC on 03-31)
    assert days == {dt.date(2026, 3, 31): 1, dt.date(2026, 4, 1): 1}


def test_activity_scope(effort: Any) -> None:
    o = effort
    # other_rep sees none of these activities; the manager of North sees all of them
    assert total("activities_done", user=o.other_rep) == 0
    assert total("activities_done", user=o.manager) == 6
    assert total("time_spent", user=o.rep) == D("2.75")


# --- regularity ---------------------------------------------------------------------------------


@pytest.fixture
def regular(org_setup: Any) -> Any:
    """rep wins 1000 on 2026-01-15 and 3000 on 2026-03-10; rep2 wins 1000 on the 10th of every
    month from April 2025 to March 2026 (12 deals)."""
    o = org_setup
    q = o.stages["Qualification"]
    _win(o.rep, q, at(1, 5), at(1, 15), "1000")
    _win(o.rep, q, at(3, 1), at(3, 10), "3000")
    for i in range(12):
        month = add_months(dt.date(2025, 4, 1), i)
        won = dt.datetime(month.year, month.month, 10, 10, tzinfo=at(1, 1).tzinfo)
        _win(o.rep2, q, won - dt.timedelta(days=3), won, "1000")
    return o


def test_regularity(regular: Any) -> None:
    o = regular
    # window April 2025 – March 2026. CV = pstdev / mean = sqrt(12·Σx² − (Σx)²) / Σx
    # rep: 1000 (Jan) and 3000 (Mar), 10 months 0: Σx = 4000, Σx² = 10,000,000
    #   → sqrt(120,000,000 − 16,000,000) / 4000 = sqrt(104,000,000) / 4000 = 2.549510
    # rep2: 1000 every month → pstdev 0 → 0 (perfectly steady)
    assert by_group("regularity", "rep") == {o.rep.pk: D("2.549510"), o.rep2.pk: D("0.000000")}
    # all reps together: Apr–Dec 1000 each, Jan 2000, Feb 1000, Mar 4000:
    # Σx = 16,000, Σx² = 9·10^6 + 4·10^6 + 10^6 + 16·10^6 = 30·10^6
    #   → sqrt(360·10^6 − 256·10^6) / 16,000 = sqrt(104·10^6) / 16,000 = 0.637377
    assert total("regularity") == D("0.637377")


def test_regularity_by_month_uses_the_window_ending_with_each_month(regular: Any) -> None:
    o = regular
    result = value(
        "regularity",
        by="rep",
        grain="month",
        period=Period(dt.date(2026, 2, 1), dt.date(2026, 4, 1)),
    )
    cells = {(r.group, r.bucket): r.value for r in result.rows}
    # February's window is March 2025 – February 2026:
    # rep: only 1000 in Jan → sqrt(12·10^6 − 10^6) / 1000 = sqrt(11·10^6) / 1000 = 3.316625
    # rep2: 0 in March 2025, then 11 × 1000 → sqrt(12·11·10^6 − 121·10^6) / 11,000
    #   = sqrt(11·10^6) / 11,000 = 0.301511
    assert cells[(o.rep.pk, dt.date(2026, 2, 1))] == D("3.316625")
    assert cells[(o.rep2.pk, dt.date(2026, 2, 1))] == D("0.301511")
    assert cells[(o.rep.pk, dt.date(2026, 3, 1))] == D("2.549510")


def test_regularity_without_revenue_has_no_value(regular: Any) -> None:
    # other_rep won nothing in the 12 months: mean 0 → no value
    assert total("regularity", filters={"rep": [regular.other_rep.pk]}) is None
    assert total("regularity", user=regular.other_rep) is None
