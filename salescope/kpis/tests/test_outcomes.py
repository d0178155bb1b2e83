"""Deals won and lost, won revenue, win rate, deal size, sales cycle, opportunities created.

The hand-made data set (times are Berlin wall-clock, the company time zone; EUR unless said):

====  =========  ============  ==========================================  ==========
deal  owner      created       life                                        amount
====  =========  ============  ==========================================  ==========
A     rep        01-10         won 03-10                                   1000
B     rep        02-15         won 03-20                                   3000
C     rep2       03-02         won 03-25                                   2000 USD
D     rep2       03-03         lost 03-12                                  500
E     other_rep  02-20         lost 03-28                                  4000
H     rep        01-05         won 02-10, reopened 03-05, won again 03-15  800
J     rep        03-20         won 03-31 at 23:30 (Berlin)                 700
X     rep        02-01         won 02-25                                   400
Y     rep2       02-02         won 03-03, reopened 03-04, still open       5000
K     rep        03-31 23:30   open                                        600
L     rep2       04-01 00:30   open                                        900
====  =========  ============  ==========================================  ==========

USD is worth 0.90 EUR from 2026-01-01 and 0.80 EUR from 2026-03-15 (C closes at 0.80).
rep and rep2 are in team North (manager), other_rep in South (manager2).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from salescope.core import clock
from salescope.kpis import engine
from salescope.kpis.periods import Period
from salescope.kpis.tests.conftest import MARCH, D, at, by_bucket, by_group, total, value
from salescope.org.services import set_exchange_rate, update_company_settings
from salescope.pipeline import services
from salescope.testing.factories import make_opportunity

pytestmark = pytest.mark.django_db
FEB = Period(dt.date(2026, 2, 1), dt.date(2026, 3, 1))


def _deal(owner: Any, stage: Any, when: dt.datetime, amount: str, **kw: Any) -> Any:
    with clock.frozen(when):
        return make_opportunity(
            owner=owner,
            stage=stage,
            amount=amount,
            expected_close=dt.date(2026, 4, 30),
            **kw,
        )


def _won(opp: Any, when: dt.datetime) -> None:
    with clock.frozen(when):
        services.mark_won(opportunity=opp, actor=None)


def _lost(opp: Any, when: dt.datetime, reason: Any) -> None:
    with clock.frozen(when):
        services.mark_lost(opportunity=opp, actor=None, reason=reason)


def _reopen(opp: Any, when: dt.datetime) -> None:
    with clock.frozen(when):
        services.reopen(opportunity=opp, actor=None)


@pytest.fixture
def world(org_setup: Any) -> Any:
    o = org_setup
    q = o.stages["Qualification"]
    set_exchange_rate(currency="USD", valid_from=dt.date(2026, 1, 1), rate=D("0.90"))
    set_exchange_rate(currency="USD", valid_from=dt.date(2026, 3, 15), rate=D("0.80"))
    deals = {}
    deals["A"] = _deal(o.rep, q, at(1, 10), "1000")
    _won(deals["A"], at(3, 10))
    deals["B"] = _deal(o.rep, q, at(2, 15), "3000")
    _won(deals["B"], at(3, 20))
    deals["C"] = _deal(o.rep2, q, at(3, 2), "2000", currency="USD")
    _won(deals["C"], at(3, 25))
    deals["D"] = _deal(o.rep2, q, at(3, 3), "500")
    _lost(deals["D"], at(3, 12), o.reason)
    deals["E"] = _deal(o.other_rep, q, at(2, 20), "4000")
    _lost(deals["E"], at(3, 28), o.reason)
    deals["H"] = _deal(o.rep, q, at(1, 5), "800")
    _won(deals["H"], at(2, 10))
    _reopen(deals["H"], at(3, 5))
    _won(deals["H"], at(3, 15))
    deals["J"] = _deal(o.rep, q, at(3, 20), "700")
    _won(deals["J"], at(3, 31, 23, 30))
    deals["X"] = _deal(o.rep, q, at(2, 1), "400")
    _won(deals["X"], at(2, 25))
    deals["Y"] = _deal(o.rep2, q, at(2, 2), "5000")
    _won(deals["Y"], at(3, 3))
    _reopen(deals["Y"], at(3, 4))
    deals["K"] = _deal(o.rep, q, at(3, 31, 23, 30), "600")
    deals["L"] = _deal(o.rep2, q, at(4, 1, 0, 30), "900")
    o.deals = deals
    return o


# --- deals won / lost -------------------------------------------------------------------------


def test_deals_won(world: Any) -> None:
    # March: A, B, C, H (latest close 03-15), J (03-31 23:30 Berlin) = 5.
    # Y was won on 03-03 but reopened: not won anywhere. X closed in February.
    assert total("deals_won") == 5
    # rep: A, B, H, J = 4; rep2: C = 1
    assert by_group("deals_won", "rep") == {world.rep.pk: 4, world.rep2.pk: 1}
    # February: X only (H's first close on 02-10 was superseded by its latest close)
    assert total("deals_won", period=FEB) == 1


def test_deals_lost(world: Any) -> None:
    # March: D (rep2, 03-12), E (other_rep, 03-28) = 2
    assert total("deals_lost") == 2
    assert by_group("deals_lost", "team") == {world.team.pk: 1, world.other_team.pk: 1}
    assert by_group("deals_lost", "lost_reason") == {world.reason.pk: 2}


def test_won_revenue_converts_at_the_rate_of_the_close_date(world: Any) -> None:
    # A 1000 + B 3000 + C 2000 USD × 0.80 (rate from 03-15, closed 03-25) + H 800 + J 700
    # = 1000 + 3000 + 1600 + 800 + 700 = 7100.00 EUR
    assert total("won_revenue") == D("7100.00")
    # rep: 1000 + 3000 + 800 + 700 = 5500; rep2: 1600
    assert by_group("won_revenue", "rep") == {
        world.rep.pk: D("5500.00"),
        world.rep2.pk: D("1600.00"),
    }
    result = value("won_revenue")
    assert result.currency == "EUR"


def test_won_revenue_in_another_currency(world: Any) -> None:
    # In USD, each EUR amount is divided by the USD rate of its close date:
    # A 1000 / 0.90 (03-10) = 1111.111…; B 3000 / 0.80 = 3750; C 2000 (USD itself);
    # H 800 / 0.80 = 1000; J 700 / 0.80 = 875 → 8736.111… → 8736.11
    assert total("won_revenue", currency="USD") == D("8736.11")


def test_missing_rate_is_an_error_naming_currency_and_day(world: Any) -> None:
    q = world.stages["Qualification"]
    gbp = _deal(world.rep, q, at(3, 1), "100", currency="GBP")
    _won(gbp, at(3, 2))
    with pytest.raises(ValidationError) as exc:
        total("won_revenue")
    message = str(exc.value.message_dict["currency"])
    assert "GBP" in message and "2026-03-02" in message
    with pytest.raises(ValidationError):
        total("median_deal_size")


def test_win_rate(world: Any) -> None:
    # won 5 / (won 5 + lost 2) = 0.714285… → 0.714286
    assert total("win_rate") == D("0.714286")
    # rep 4/(4+0) = 1; rep2 1/(1+1) = 0.5; other_rep 0/(0+1) = 0
    assert by_group("win_rate", "rep") == {
        world.rep.pk: D("1.000000"),
        world.rep2.pk: D("0.500000"),
        world.other_rep.pk: D("0.000000"),
    }


def test_win_rate_without_closed_deals_has_no_value(world: Any) -> None:
    # Nothing closed in 2030: 0 / 0 → no value (never 0)
    empty = Period(dt.date(2030, 1, 1), dt.date(2030, 2, 1))
    assert total("win_rate", period=empty) is None
    assert total("deals_won", period=empty) == 0
    assert total("won_revenue", period=empty) == D("0.00")


def test_average_and_median_deal_size(world: Any) -> None:
    # won amounts in EUR: 1000, 3000, 1600, 800, 700 → mean 7100 / 5 = 1420.00
    assert total("average_deal_size") == D("1420.00")
    # sorted 700, 800, 1000, 1600, 3000 → median 1000.00
    assert total("median_deal_size") == D("1000.00")
    # rep: 1000, 3000, 800, 700 → mean 5500 / 4 = 1375; median (800 + 1000) / 2 = 900
    assert by_group("average_deal_size", "rep")[world.rep.pk] == D("1375.00")
    assert by_group("median_deal_size", "rep")[world.rep.pk] == D("900.00")
    empty = Period(dt.date(2030, 1, 1), dt.date(2030, 2, 1))
    assert total("average_deal_size", period=empty) is None
    assert total("median_deal_size", period=empty) is None


def test_sales_cycle(world: Any) -> None:
    # days created → closed: A 01-10→03-10 = 59; B 02-15→03-20 = 33; C 03-02→03-25 = 23;
    # H 01-05→03-15 (latest close) = 69; J 03-20→03-31 = 11
    # mean (59 + 33 + 23 + 69 + 11) / 5 = 195 / 5 = 39; median of 11, 23, 33, 59, 69 = 33
    assert total("sales_cycle_mean") == D("39.000")
    assert total("sales_cycle_median") == D("33.000")
    # rep: 59, 33, 69, 11 → mean 172 / 4 = 43; median (33 + 59) / 2 = 46
    assert by_group("sales_cycle_mean", "rep")[world.rep.pk] == D("43.000")
    assert by_group("sales_cycle_median", "rep")[world.rep.pk] == D("46.000")


def test_opportunities_created_by_company_day(world: Any) -> None:
    # March (Berlin): C 03-02, D 03-03, J 03-20, K 03-31 23:30 = 4 (L at 04-01 00:30 is April)
    assert total("opportunities_created") == 4
    # February: B 02-15, E 02-20, X 02-01, Y 02-02 = 4
    assert total("opportunities_created", period=FEB) == 4
    # by day at the month boundary: K on 03-31, L on 04-01 (22:30 UTC on 03-31)
    days = by_bucket(
        "opportunities_created", "day", period=Period(dt.date(2026, 3, 31), dt.date(2026, 4, 2))
    )
    assert days == {dt.date(2026, 3, 31): 1, dt.date(2026, 4, 1): 1}


def test_time_zone_boundary_of_close_date(world: Any) -> None:
    # J was won at 23:30 Berlin on 31 March (21:30 UTC): it counts on 31 March, not in April.
    last_day = Period(dt.date(2026, 3, 31), dt.date(2026, 4, 1))
    assert total("deals_won", period=last_day) == 1
    assert total("deals_won", period=Period(dt.date(2026, 4, 1), dt.date(2026, 5, 1))) == 0


def test_grain_month_and_comparison(world: Any) -> None:
    # deals won by month over February–March: Feb X = 1, Mar 5
    two_months = Period(dt.date(2026, 2, 1), dt.date(2026, 4, 1))
    assert by_bucket("deals_won", "month", period=two_months) == {
        dt.date(2026, 2, 1): 1,
        dt.date(2026, 3, 1): 5,
    }
    # March against the previous period (February): 5 vs 1, change (5 − 1) / 1 = 4
    result = value("deals_won", compare="previous")
    assert result.compare_period == FEB
    assert (result.total.value, result.total.compare) == (5, 1)
    assert result.total.change == D("4.000000")
    # against March 2025 (nothing then): compare 0, no relative change
    last_year = value("deals_won", compare="year")
    assert last_year.compare_period == Period(dt.date(2025, 3, 1), dt.date(2025, 4, 1))
    assert last_year.total.compare == 0 and last_year.total.change is None
    # grouped with comparison: rep 4 (March) vs 1 (February: X)
    grouped = value("deals_won", by="rep", compare="previous")
    rep_row = next(r for r in grouped.rows if r.group == world.rep.pk)
    assert (rep_row.value, rep_row.compare) == (4, 1)


def test_fiscal_quarters(world: Any) -> None:
    # Fiscal year from March: fiscal quarters Dec–Feb and Mar–May.
    update_company_settings(fiscal_year_start_month=3)
    period = Period(dt.date(2026, 1, 1), dt.date(2026, 4, 1))
    # Dec 2025–Feb 2026: X (02-25) = 1; Mar–May 2026: 5
    assert by_bucket("deals_won", "fiscal_quarter", period=period) == {
        dt.date(2025, 12, 1): 1,
        dt.date(2026, 3, 1): 5,
    }
    result = value("deals_won", grain="fiscal_year", period=period)
    # fiscal year Mar 2025–Feb 2026: X = 1; from Mar 2026: 5
    assert [(r.bucket, r.value, r.bucket_label) for r in result.rows] == [
        (dt.date(2025, 3, 1), 1, "FY2025/26"),
        (dt.date(2026, 3, 1), 5, "FY2026/27"),
    ]


def test_grouped_by_rep_and_month_with_group_totals(world: Any) -> None:
    two_months = Period(dt.date(2026, 2, 1), dt.date(2026, 4, 1))
    result = value("won_revenue", by="rep", grain="month", period=two_months)
    cells = {(r.group, r.bucket): r.value for r in result.rows}
    # rep: Feb X 400; Mar 5500. rep2: Feb 0; Mar C 1600.
    assert cells == {
        (world.rep.pk, dt.date(2026, 2, 1)): D("400.00"),
        (world.rep.pk, dt.date(2026, 3, 1)): D("5500.00"),
        (world.rep2.pk, dt.date(2026, 2, 1)): D("0.00"),
        (world.rep2.pk, dt.date(2026, 3, 1)): D("1600.00"),
    }
    assert {r.group: r.value for r in result.group_totals} == {
        world.rep.pk: D("5900.00"),
        world.rep2.pk: D("1600.00"),
    }
    assert result.total.value == D("7500.00")
    labels = dict(result.groups)
    assert labels[world.rep.pk] == world.rep.get_full_name()


def test_filters(world: Any) -> None:
    # rep2 only: C won, D lost → 1 / 2
    assert total("win_rate", filters={"rep": [world.rep2.pk]}) == D("0.500000")
    # team South: E lost only → 0 won, win rate 0 / 1 = 0
    assert total("deals_won", filters={"team": [world.other_team.pk]}) == 0
    assert total("win_rate", filters={"team": str(world.other_team.pk)}) == D("0.000000")
    # deals without a source ("none"): all of them
    assert total("deals_won", filters={"source": ["none"]}) == 5


def test_scope_of_reps_and_managers(world: Any) -> None:
    # rep sees A, B, H, J won; rep2 sees C won and D lost; manager (North) sees both reps;
    # manager2 (South) sees only E; admin everything.
    assert total("deals_won", user=world.rep) == 4
    assert total("won_revenue", user=world.rep) == D("5500.00")
    assert total("win_rate", user=world.rep2) == D("0.500000")
    assert total("deals_won", user=world.manager) == 5
    assert total("deals_lost", user=world.manager) == 1
    assert total("deals_won", user=world.other_manager) == 0
    assert total("deals_lost", user=world.other_manager) == 1
    assert total("deals_won", user=world.admin) == 5
    # grouping never reveals other reps' groups
    assert set(by_group("deals_won", "rep", user=world.rep)) == {world.rep.pk}


def test_records_add_up_to_the_numbers(world: Any) -> None:
    query = engine.KpiQuery(kpi="won_revenue", period=MARCH, by="rep")
    with clock.frozen(at(4, 2)):
        result = engine.compute(query)
        for row in result.rows:
            recs = engine.records(query, group=row.group)
            assert recs.total().quantize(Decimal("0.01")) == row.value
        won = engine.records(engine.KpiQuery(kpi="deals_won", period=MARCH))
        assert {o.name for o in won.queryset} == {"Deal"}
        assert won.total() == 5
        assert set(won.queryset.values_list("pk", flat=True)) == {
            world.deals[k].pk for k in "ABCHJ"
        }
        # win rate: the closed deals behind it (records of deals_won by default)
        rate = engine.records(engine.KpiQuery(kpi="win_rate", period=MARCH), group=None)
        assert rate.kpi.key == "deals_won"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"kpi": "nope"}, "kpi"),
        ({"kpi": "deals_won", "by": "colour"}, "by"),
        ({"kpi": "deals_won", "by": "activity_type"}, "by"),
        ({"kpi": "deals_won", "grain": "fortnight"}, "grain"),
        ({"kpi": "open_opportunities", "grain": "month"}, "grain"),
        ({"kpi": "deals_won", "compare": "decade"}, "compare"),
        ({"kpi": "deals_won", "currency": "XXX"}, "currency"),
        ({"kpi": "deals_won", "filters": {"rep": ["abc"]}}, "filter.rep"),
        ({"kpi": "deals_won", "filters": {"colour": ["1"]}}, "filter.colour"),
        ({"kpi": "deals_won", "filters": {"activity_type": ["1"]}}, "filter.activity_type"),
        ({"kpi": "deals_won", "filters": {"rep": []}}, "filter.rep"),
        ({"kpi": "opportunities_created", "filters": {"outcome": ["maybe"]}}, "filter.outcome"),
    ],
)
def test_bad_queries_are_refused_with_the_field(
    world: Any, query: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as exc:
        engine.compute(engine.KpiQuery(period=MARCH, **query))
    assert field in exc.value.message_dict
