"""Stage conversion, drop-off and time in stage, from the history.

Pipeline "Standard": Qualification (Q) → Meeting (M) → Proposal (P) → Negotiation (N) → Won
(Lost last). Times are Berlin wall-clock at 10:00 unless said.

====  =====  ===========================================================================
deal  owner  history
====  =====  ===========================================================================
F1    rep    created 03-02 in Q → M 03-04 → P 03-09 → won 03-19
F2    rep    created 03-02 in Q → lost 03-06
F3    rep2   created 03-03 in Q → M 03-05 → back to Q 03-07 → M 03-11 → lost 03-21
F4    rep2   created 02-20 in Q → M 03-02 (still there)
F5    rep    created 03-10 in Q → straight to N 03-12 (still there)
====  =====  ===========================================================================
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from salescope.core import clock
from salescope.kpis import engine
from salescope.kpis.periods import Period
from salescope.kpis.tests.conftest import MARCH, D, at, by_group, total
from salescope.pipeline import services
from salescope.testing.factories import make_opportunity

pytestmark = pytest.mark.django_db


def _deal(owner: Any, stage: Any, when: dt.datetime) -> Any:
    with clock.frozen(when):
        return make_opportunity(owner=owner, stage=stage, expected_close=dt.date(2026, 6, 30))


def _move(opp: Any, stage: Any, when: dt.datetime) -> None:
    with clock.frozen(when):
        services.move_to_stage(opportunity=opp, stage=stage, actor=None)


@pytest.fixture
def funnel(org_setup: Any) -> Any:
    o = org_setup
    s = o.stages
    q, m, p, n = s["Qualification"], s["Meeting"], s["Proposal"], s["Negotiation"]
    f1 = _deal(o.rep, q, at(3, 2))
    _move(f1, m, at(3, 4))
    _move(f1, p, at(3, 9))
    with clock.frozen(at(3, 19)):
        services.mark_won(opportunity=f1, actor=None)
    f2 = _deal(o.rep, q, at(3, 2))
    with clock.frozen(at(3, 6)):
        services.mark_lost(opportunity=f2, actor=None, reason=o.reason)
    f3 = _deal(o.rep2, q, at(3, 3))
    _move(f3, m, at(3, 5))
    _move(f3, q, at(3, 7))
    _move(f3, m, at(3, 11))
    with clock.frozen(at(3, 21)):
        services.mark_lost(opportunity=f3, actor=None, reason=o.reason)
    f4 = _deal(o.rep2, q, at(2, 20))
    _move(f4, m, at(3, 2))
    f5 = _deal(o.rep, q, at(3, 10))
    _move(f5, n, at(3, 12))
    o.q, o.m, o.p, o.n = q, m, p, n
    return o


def test_stage_entries(funnel: Any) -> None:
    # first entry per deal per stage in March:
    # Q: F1, F2, F3 (its return on 03-07 is not a second entry), F5 = 4 (F4 entered in Feb)
    # M: F1, F3 (again on 03-11: once), F4 = 3; P: F1 = 1; N: F5 = 1 → 9 in all
    o = funnel
    assert by_group("stage_entries", "stage") == {o.q.pk: 4, o.m.pk: 3, o.p.pk: 1, o.n.pk: 1}
    assert total("stage_entries") == 9


def test_stage_advances(funnel: Any) -> None:
    # Q: F1 (→ M), F3 (→ M on 03-05), F5 (→ N, skipping) advanced; F2 lost → 3
    # M: F1 (→ P) advanced; F3 went back to Q then lost; F4 still there → 1
    # P: F1 won → 1; N: F5 still there → 0 (no advance at all: the group is absent)
    o = funnel
    assert by_group("stage_advances", "stage") == {o.q.pk: 3, o.m.pk: 1, o.p.pk: 1}
    assert total("stage_advances") == 5


def test_stage_conversion_and_dropoff(funnel: Any) -> None:
    o = funnel
    # Q 3/4 = 0.75; M 1/3 = 0.333333; P 1/1 = 1; N 0/1 = 0
    assert by_group("stage_conversion", "stage") == {
        o.q.pk: D("0.750000"),
        o.m.pk: D("0.333333"),
        o.p.pk: D("1.000000"),
        o.n.pk: D("0.000000"),
    }
    # drop-off = (entered − advanced) / entered: Q 1/4; M 2/3; P 0; N 1
    assert by_group("stage_dropoff", "stage") == {
        o.q.pk: D("0.250000"),
        o.m.pk: D("0.666667"),
        o.p.pk: D("0.000000"),
        o.n.pk: D("1.000000"),
    }
    # all stages: 5 advances / 9 entries = 0.555556
    assert total("stage_conversion") == D("0.555556")
    # rep: F1 Q,M,P + F2 Q + F5 Q,N = 6 entries; advances F1×3 + F5 Q = 4 → 0.666667
    # rep2: F3 Q,M + F4 M = 3 entries; advances F3 Q = 1 → 0.333333
    assert by_group("stage_conversion", "rep") == {
        o.rep.pk: D("0.666667"),
        o.rep2.pk: D("0.333333"),
    }


def test_funnel_of_an_empty_period_has_no_value(funnel: Any) -> None:
    empty = Period(dt.date(2030, 1, 1), dt.date(2030, 2, 1))
    assert total("stage_entries", period=empty) == 0
    assert total("stage_conversion", period=empty) is None
    assert total("stage_dropoff", period=empty) is None


def test_funnel_by_pipeline_and_scope(funnel: Any) -> None:
    o = funnel
    assert by_group("stage_entries", "pipeline") == {o.pipeline.pk: 9}
    # rep2 sees only F3 and F4: entries Q (F3), M (F3, F4) = 3; advances 1
    assert total("stage_entries", user=o.rep2) == 3
    assert total("stage_conversion", user=o.rep2) == D("0.333333")


def test_time_in_stage(funnel: Any) -> None:
    o = funnel
    # stays in open stages that ended in March (days):
    # Q: F1 03-02→03-04 = 2, F2 03-02→03-06 = 4, F3 03-03→03-05 = 2, F3 03-07→03-11 = 4,
    #    F4 02-20→03-02 = 10 (ended in March), F5 03-10→03-12 = 2  → 2, 2, 2, 4, 4, 10
    # M: F1 03-04→03-09 = 5, F3 03-05→03-07 = 2, F3 03-11→03-21 = 10
    # P: F1 03-09→03-19 = 10.   F4 in M and F5 in N are still running: not counted.
    medians = by_group("time_in_stage_median", "stage")
    means = by_group("time_in_stage_mean", "stage")
    # Q median (2 + 4) / 2 = 3; mean 24 / 6 = 4
    assert (medians[o.q.pk], means[o.q.pk]) == (D("3.000"), D("4.000"))
    # M median 5; mean 17 / 3 = 5.667
    assert (medians[o.m.pk], means[o.m.pk]) == (D("5.000"), D("5.667"))
    assert (medians[o.p.pk], means[o.p.pk]) == (D("10.000"), D("10.000"))
    assert o.n.pk not in medians
    # all 10 stays: 2,2,2,2,4,4,5,10,10,10 → median (4 + 4) / 2 = 4; mean 51 / 10 = 5.1
    assert total("time_in_stage_median") == D("4.000")
    assert total("time_in_stage_mean") == D("5.100")


def test_time_in_stage_grain_week(funnel: Any) -> None:
    # stays by the ISO week in which they ended (weeks start on Mondays):
    # week of 03-02: F4 Q 10 (ended 03-02), F1 Q 2 (03-04), F3 Q 2 (03-05), F2 Q 4 (03-06),
    #                F3 M 2 (03-07) → mean 20 / 5 = 4
    # week of 03-09: F1 M 5 (03-09), F3 Q 4 (03-11), F5 Q 2 (03-12) → mean 11 / 3 = 3.667
    # week of 03-16: F1 P 10 (03-19), F3 M 10 (03-21) → mean 10
    result = engine.compute(engine.KpiQuery(kpi="time_in_stage_mean", period=MARCH, grain="week"))
    weeks = {r.bucket: r.value for r in result.rows}
    assert weeks[dt.date(2026, 3, 2)] == D("4.000")
    assert weeks[dt.date(2026, 3, 9)] == D("3.667")
    assert weeks[dt.date(2026, 3, 16)] == D("10.000")
    assert weeks[dt.date(2026, 3, 23)] is None  # no stay ended: no value
    # February 23 (week containing 1 March, a Sunday) is the first bucket: nothing ended
    assert weeks[dt.date(2026, 2, 23)] is None


def test_funnel_records_are_the_entries(funnel: Any) -> None:
    o = funnel
    query = engine.KpiQuery(kpi="stage_conversion", period=MARCH, by="stage")
    records = engine.records(query, group=o.m.pk)
    # the entries into Meeting behind the rate's denominator: F1, F3, F4
    assert records.total() == Decimal(3)
    assert records.queryset.values("opportunity_id").distinct().count() == 3
