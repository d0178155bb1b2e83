"""Weighted pipeline, open and stale opportunities, sales velocity, slipped deals and pushes.

KPIs are read at NOW = 2026-04-02 12:00 Berlin; stale means not updated since 03-26 12:00.
Stages: Qualification 10 %, Meeting 30 %, Proposal 60 %. USD = 0.80 EUR from 03-15.

====  =========  ===================================================  ===========  ========
deal  owner      life                                                 amount       exp. close
====  =========  ===================================================  ===========  ========
P1    rep        created 03-01 in Qualification                       1000 EUR     04-15
P2    rep        created 03-30, moved to Proposal 03-31               2000 EUR     04-20
P3    rep2       created 03-05, moved to Meeting 03-28                3000 USD     05-10
P4    rep2       created 03-01, won 03-10                             500 EUR      –
P5    other_rep  created 02-01 in Qualification                       4000 EUR     03-20
====  =========  ===================================================  ===========  ========
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from salescope.core import clock
from salescope.kpis.periods import Period
from salescope.kpis.tests.conftest import D, at, by_bucket, by_group, total, value
from salescope.org.services import set_exchange_rate
from salescope.pipeline import services
from salescope.testing.factories import make_opportunity

pytestmark = pytest.mark.django_db
FEB = Period(dt.date(2026, 2, 1), dt.date(2026, 3, 1))


def _deal(owner: Any, stage: Any, when: dt.datetime, amount: str, close: dt.date, **kw: Any) -> Any:
    with clock.frozen(when):
        return make_opportunity(owner=owner, stage=stage, amount=amount, expected_close=close, **kw)


@pytest.fixture
def pipeline(org_setup: Any) -> Any:
    o = org_setup
    s = o.stages
    set_exchange_rate(currency="USD", valid_from=dt.date(2026, 1, 1), rate=D("0.90"))
    set_exchange_rate(currency="USD", valid_from=dt.date(2026, 3, 15), rate=D("0.80"))
    q = s["Qualification"]
    _deal(o.rep, q, at(3, 1), "1000", dt.date(2026, 4, 15))
    p2 = _deal(o.rep, q, at(3, 30), "2000", dt.date(2026, 4, 20))
    with clock.frozen(at(3, 31)):
        services.move_to_stage(opportunity=p2, stage=s["Proposal"], actor=None)
    p3 = _deal(o.rep2, q, at(3, 5), "3000", dt.date(2026, 5, 10), currency="USD")
    with clock.frozen(at(3, 28)):
        services.move_to_stage(opportunity=p3, stage=s["Meeting"], actor=None)
    p4 = _deal(o.rep2, q, at(3, 1), "500", dt.date(2026, 3, 31))
    with clock.frozen(at(3, 10)):
        services.mark_won(opportunity=p4, actor=None)
    _deal(o.other_rep, q, at(2, 1), "4000", dt.date(2026, 3, 20))
    return o


APRIL = Period(dt.date(2026, 4, 1), dt.date(2026, 5, 1))
MAR_MAY = Period(dt.date(2026, 3, 1), dt.date(2026, 6, 1))


def test_weighted_pipeline_by_expected_close_month(pipeline: Any) -> None:
    # April: P1 1000 × 10 % = 100 + P2 2000 × 60 % = 1200 → 1300.00
    assert total("weighted_pipeline", period=APRIL) == D("1300.00")
    # by month: March P5 4000 × 10 % = 400 (overdue); April 1300;
    # May P3 3000 USD × 30 % × 0.80 (today's rate) = 720
    assert by_bucket("weighted_pipeline", "month", period=MAR_MAY) == {
        dt.date(2026, 3, 1): D("400.00"),
        dt.date(2026, 4, 1): D("1300.00"),
        dt.date(2026, 5, 1): D("720.00"),
    }
    # total 400 + 1300 + 720 = 2420; won P4 is not in the pipeline
    assert total("weighted_pipeline", period=MAR_MAY) == D("2420.00")
    assert by_group("weighted_pipeline", "stage", period=MAR_MAY) == {
        pipeline.stages["Qualification"].pk: D("500.00"),  # P1 100 + P5 400
        pipeline.stages["Meeting"].pk: D("720.00"),
        pipeline.stages["Proposal"].pk: D("1200.00"),
    }


def test_open_opportunities_as_of_now(pipeline: Any) -> None:
    # P1, P2, P3, P5 (P4 won) = 4, whatever the period
    assert total("open_opportunities") == 4
    assert total("open_opportunities", period=FEB) == 4
    o = pipeline
    assert by_group("open_opportunities", "rep") == {o.rep.pk: 2, o.rep2.pk: 1, o.other_rep.pk: 1}
    # as-of-now KPIs take no comparison period
    assert value("open_opportunities", compare="previous").compare_period is None


def test_stale_opportunities_and_share(pipeline: Any) -> None:
    o = pipeline
    # not updated since 03-26 12:00: P1 (03-01), P5 (02-01) = 2; P2 (03-31) and P3 (03-28) fresh
    assert total("stale_opportunities") == 2
    # share: 2 / 4 = 0.5; rep 1 / 2; rep2 0 / 1; other_rep 1 / 1
    assert total("stale_share") == D("0.500000")
    assert by_group("stale_share", "rep") == {
        o.rep.pk: D("0.500000"),
        o.rep2.pk: D("0.000000"),
        o.other_rep.pk: D("1.000000"),
    }
    # a rep sees only their own: rep has P1 stale of P1, P2
    assert total("stale_share", user=o.rep) == D("0.500000")
    assert total("stale_opportunities", user=o.rep2) == 0


def test_stale_after_follows_the_company_setting(pipeline: Any) -> None:
    from salescope.org.models import CompanySettings

    CompanySettings.objects.update(stale_after_days=6)
    # since 03-27 12:00: P3 (03-28) and P2 (03-31) still fresh, P1 and P5 stale → 2
    assert total("stale_opportunities") == 2
    CompanySettings.objects.update(stale_after_days=5)
    # since 03-28 12:00: P3 moved 03-28 10:00 is now stale too → 3
    assert total("stale_opportunities") == 3


def test_sales_velocity(pipeline: Any) -> None:
    # March: open now 4 × win rate 1/1 (P4) × average deal 500 / mean cycle 9 days (03-01→03-10)
    # = 4 × 1 × 500 / 9 = 222.222… → 222.22 per day
    assert total("sales_velocity") == D("222.22")
    o = pipeline
    # rep2: 1 open × 1 × 500 / 9 = 55.56; rep: nothing closed → no value
    groups = by_group("sales_velocity", "rep")
    assert groups[o.rep2.pk] == D("55.56")
    assert groups[o.rep.pk] is None
    # February: nothing closed → no value, never 0
    assert total("sales_velocity", period=FEB) is None


# --- slipped deals and pushes -------------------------------------------------------------


@pytest.fixture
def slips(org_setup: Any) -> Any:
    """S1 (rep) exp. 03-31: 03-10 → 04-30 (push), 03-20 → 04-15 (pull), 03-25 → 05-31 (push).
    S2 (rep2) exp. 04-10: 03-12 → 04-20 (push), then won 03-15.
    S3 (rep) exp. 02-28: 02-20 → 03-31 (push in February), 03-05 → 03-10 (pull)."""
    o = org_setup
    q = o.stages["Qualification"]

    def change(opp: Any, when: dt.datetime, new: dt.date) -> None:
        with clock.frozen(when):
            services.change_expected_close(opportunity=opp, expected_close=new, actor=None)

    s1 = _deal(o.rep, q, at(3, 1), "1000", dt.date(2026, 3, 31))
    change(s1, at(3, 10), dt.date(2026, 4, 30))
    change(s1, at(3, 20), dt.date(2026, 4, 15))
    change(s1, at(3, 25), dt.date(2026, 5, 31))
    s2 = _deal(o.rep2, q, at(3, 1), "1000", dt.date(2026, 4, 10))
    change(s2, at(3, 12), dt.date(2026, 4, 20))
    with clock.frozen(at(3, 15)):
        services.mark_won(opportunity=s2, actor=None)
    s3 = _deal(o.rep, q, at(2, 1), "1000", dt.date(2026, 2, 28))
    change(s3, at(2, 20), dt.date(2026, 3, 31))
    change(s3, at(3, 5), dt.date(2026, 3, 10))
    return o


def test_close_date_pushes(slips: Any) -> None:
    # March pushes: S1 twice (03-10, 03-25), S2 once (03-12) = 3; the pulls do not count
    assert total("close_date_pushes") == 3
    assert by_group("close_date_pushes", "rep") == {slips.rep.pk: 2, slips.rep2.pk: 1}
    # February: S3 once
    assert total("close_date_pushes", period=FEB) == 1


def test_slipped_deals(slips: Any) -> None:
    # March: S1 and S2 (won since: closed deals count too) = 2 deals
    assert total("slipped_deals") == 2
    assert by_group("slipped_deals", "rep") == {slips.rep.pk: 1, slips.rep2.pk: 1}
    assert total("slipped_deals", period=FEB) == 1
    # by week: S1 03-10 (week of 03-09), S2 03-12 (week of 03-09), S1 03-25 (week of 03-23)
    weeks = by_bucket("slipped_deals", "week")
    assert weeks[dt.date(2026, 3, 9)] == 2
    assert weeks[dt.date(2026, 3, 23)] == 1
    assert weeks[dt.date(2026, 3, 16)] == 0
    # rep2 sees only S2
    assert total("slipped_deals", user=slips.rep2) == 1
