"""Grouping and filtering by every dimension, including the multi-valued ones.

Accounts: acc1 (tier Gold, region Rhineland, type Customer, tags Industry: Auto and Food),
acc2 (tier Silver, tag Industry: Auto, no region, no type).
Deals (March 2026): d1 rep, acc1, source Fair, products P1 + P2, won 1000;
d2 rep2, acc2, products P1, won 2000; d3 other_rep, no account, pipeline Inbound, won 500;
d4 rep, acc1, lost (reason Price).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from salescope.accounts.models import AccountType, Region, Tag, TagCategory, Tier
from salescope.core import clock
from salescope.kpis import engine
from salescope.kpis.tests.conftest import MARCH, NOW, at, by_group, total
from salescope.pipeline import services
from salescope.pipeline.models import ProductLine, Source
from salescope.testing.factories import AccountFactory, make_opportunity

pytestmark = pytest.mark.django_db


@pytest.fixture
def segments(org_setup: Any) -> Any:
    o = org_setup
    o.gold, o.silver = Tier.objects.create(name="Gold"), Tier.objects.create(name="Silver")
    o.region = Region.objects.create(name="Rhineland")
    o.customer = AccountType.objects.create(name="Customer")
    industry = TagCategory.objects.create(name="Industry")
    o.auto = Tag.objects.create(category=industry, name="Auto")
    o.food = Tag.objects.create(category=industry, name="Food")
    o.fair = Source.objects.create(name="Fair", channel="marketing")
    o.p1, o.p2 = ProductLine.objects.create(name="P1"), ProductLine.objects.create(name="P2")
    acc1 = AccountFactory(owner=o.rep, tier=o.gold, region=o.region, account_type=o.customer)
    acc1.tags.set([o.auto, o.food])
    acc2 = AccountFactory(owner=o.rep2, tier=o.silver)
    acc2.tags.set([o.auto])
    inbound_new = o.other_pipeline.stages.get(name="New")
    q = o.stages["Qualification"]
    specs = [
        ("d1", o.rep, q, acc1, o.fair, [o.p1, o.p2], "1000", "won"),
        ("d2", o.rep2, q, acc2, None, [o.p1], "2000", "won"),
        ("d3", o.other_rep, inbound_new, None, None, [], "500", "won"),
        ("d4", o.rep, q, acc1, None, [], "700", "lost"),
    ]
    o.deals = {}
    for name, owner, stage, account, source, products, amount, outcome in specs:
        with clock.frozen(at(3, 2)):
            opp = make_opportunity(
                owner=owner, stage=stage, account=account, source=source,
                products=products, amount=amount, name=name,
            )  # fmt: skip
        with clock.frozen(at(3, 9)):
            if outcome == "won":
                services.mark_won(opportunity=opp, actor=None)
            else:
                services.mark_lost(opportunity=opp, actor=None, reason=o.reason)
        o.deals[name] = opp
    return o


def test_group_by_each_deal_dimension(segments: Any) -> None:
    o = segments
    won = "deals_won"  # d1, d2, d3
    assert by_group(won, "rep") == {o.rep.pk: 1, o.rep2.pk: 1, o.other_rep.pk: 1}
    assert by_group(won, "team") == {o.team.pk: 2, o.other_team.pk: 1}
    assert by_group(won, "pipeline") == {o.pipeline.pk: 2, o.other_pipeline.pk: 1}
    assert by_group(won, "tier") == {o.gold.pk: 1, o.silver.pk: 1, None: 1}
    assert by_group(won, "region") == {o.region.pk: 1, None: 2}
    assert by_group(won, "account_type") == {o.customer.pk: 1, None: 2}
    assert by_group(won, "source") == {o.fair.pk: 1, None: 2}
    # multi-valued: d1 counts under Auto and Food (and P1 and P2); groups add up to more
    assert by_group(won, "tag_category") == {o.auto.pk: 2, o.food.pk: 1, None: 1}
    assert by_group(won, "product") == {o.p1.pk: 2, o.p2.pk: 1, None: 1}
    assert total(won) == 3
    assert by_group("deals_lost", "lost_reason") == {o.reason.pk: 1}
    assert by_group("opportunities_created", "outcome") == {"won": 3, "lost": 1}
    stages = by_group("opportunities_created", "stage")
    assert stages == {
        o.won.pk: 2,
        o.other_pipeline.stages.get(kind="won").pk: 1,
        o.lost.pk: 1,
    }


def test_group_labels(segments: Any) -> None:
    o = segments
    with clock.frozen(NOW):
        result = engine.compute(engine.KpiQuery(kpi="deals_won", period=MARCH, by="tag_category"))
    assert dict(result.groups) == {o.auto.pk: "Industry: Auto", o.food.pk: "Industry: Food",
                                   None: "(none)"}  # fmt: skip
    with clock.frozen(NOW):
        result = engine.compute(
            engine.KpiQuery(kpi="opportunities_created", period=MARCH, by="outcome")
        )
    assert dict(result.groups) == {"won": "Won", "lost": "Lost"}


def test_filters_on_multi_valued_dimensions_count_each_deal_once(segments: Any) -> None:
    o = segments
    # d1 has both Auto and Food: a filter on both still counts it once → d1, d2
    assert total("deals_won", filters={"tag_category": [o.auto.pk, o.food.pk]}) == 2
    assert total("won_revenue", filters={"product": [o.p1.pk, o.p2.pk]}) == 3000
    # deals without any product: d3 (won) and d4 (lost) → win rate 1 / 2
    assert total("win_rate", filters={"product": ["none"]}) == Decimal("0.500000")
    assert total("deals_won", filters={"tier": [o.gold.pk], "rep": [o.rep.pk]}) == 1


def test_records_of_a_multi_valued_group(segments: Any) -> None:
    o = segments
    query = engine.KpiQuery(kpi="won_revenue", period=MARCH, by="product")
    with clock.frozen(NOW):
        records = engine.records(query, group=o.p1.pk)
        assert {r.name for r in records.queryset} == {"d1", "d2"}
        assert records.total() == 3000
        nothing = engine.records(query, group=None)
        assert {r.name for r in nothing.queryset} == {"d3"}


DIMENSIONS = ["rep", "team", "pipeline", "tier", "region", "account_type", "source"]


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    kpi=st.sampled_from(["deals_won", "won_revenue", "deals_lost", "opportunities_created"]),
    by=st.sampled_from(DIMENSIONS),
    filter_dim=st.sampled_from([None, *DIMENSIONS]),
    pick=st.integers(min_value=0, max_value=3),
    grain=st.sampled_from([None, "week", "month"]),
)
def test_drill_down_totals_equal_the_numbers(
    segments: Any, kpi: str, by: str, filter_dim: str | None, pick: int, grain: str | None
) -> None:
    """For single-valued dimensions, every cell's records add up to the cell and the cells to
    the total."""
    filters: dict[str, list[Any]] = {}
    if filter_dim is not None:
        deal = list(segments.deals.values())[pick]
        from salescope.kpis import dimensions

        path = dimensions.get(filter_dim).path("opportunity")
        value = type(deal).objects.filter(pk=deal.pk).values_list(path, flat=True).first()
        filters[filter_dim] = ["none" if value is None else str(value)]
    query = engine.KpiQuery(kpi=kpi, period=MARCH, by=by, grain=grain, filters=filters)
    with clock.frozen(NOW):
        result = engine.compute(query)
        cell_sum = sum((r.value or 0) for r in result.rows)
        assert cell_sum == result.total.value
        for row in result.rows:
            records = engine.records(query, group=row.group, bucket=row.bucket)
            assert records.total().quantize(Decimal(row.value or 0)) == row.value
