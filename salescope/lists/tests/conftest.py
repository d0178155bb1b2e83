"""A small sales world for the list tests, built through the services."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest

from salescope.accounts.models import AccountContact, ContactRole, Tag, TagCategory, Tier
from salescope.core import clock
from salescope.org.models import Currency
from salescope.pipeline.models import ProductLine, Source
from salescope.testing.factories import (
    AccountFactory,
    ActivityFactory,
    ActivityTypeFactory,
    ContactFactory,
    make_opportunity,
)

PASSWORD = "a-Long-pass-123"


@dataclass
class World:
    org: Any
    gold: Any
    silver: Any
    hot: Any
    cold: Any
    decision_maker: Any
    source: Any
    product: Any
    acme: Any
    globex: Any
    initech: Any
    contact_acme: Any
    contact_globex: Any
    rep_deal: Any
    rep2_deal: Any
    other_deal: Any
    call: Any
    meeting: Any


@pytest.fixture
def world(org_setup: Any, frozen_now: Any) -> World:
    org = org_setup
    Currency.objects.get_or_create(code="USD", defaults={"name": "US dollar", "symbol": "$"})
    gold = Tier.objects.create(name="Gold", order=1, colour="#d4af37")
    silver = Tier.objects.create(name="Silver", order=2)
    category = TagCategory.objects.create(name="Potential")
    hot = Tag.objects.create(category=category, name="Hot")
    cold = Tag.objects.create(category=category, name="Cold")
    decision_maker = ContactRole.objects.create(name="Decision maker")
    source = Source.objects.create(name="Trade fair")
    product = ProductLine.objects.create(name="Lighting")

    acme = AccountFactory(name="Acme GmbH", owner=org.rep, tier=gold, city="Berlin")
    acme.tags.set([hot])
    globex = AccountFactory(name="Globex AG", owner=org.rep2, tier=silver, city="Munich")
    initech = AccountFactory(name="Initech SA", owner=org.other_rep, city="Lyon")
    contact_acme = ContactFactory(first_name="Anna", last_name="Adler", owner=org.rep)
    link = AccountContact.objects.create(account=acme, contact=contact_acme)
    link.roles.set([decision_maker])
    contact_globex = ContactFactory(first_name="Bert", last_name="Berg", owner=org.rep2)
    AccountContact.objects.create(account=globex, contact=contact_globex)

    stages = org.stages
    rep_deal = make_opportunity(
        owner=org.rep,
        stage=stages["Proposal"],
        account=acme,
        amount="5000.00",
        name="Acme lighting",
        source=source,
        products=[product],
        expected_close=dt.date(2026, 4, 10),
    )
    rep2_deal = make_opportunity(
        owner=org.rep2,
        stage=stages["Qualification"],
        account=globex,
        amount="1200.50",
        name="Globex retrofit",
        currency="USD",
        expected_close=dt.date(2026, 6, 1),
    )
    other_deal = make_opportunity(
        owner=org.other_rep,
        stage=stages["Meeting"],
        account=initech,
        amount="9999.00",
        name="Initech secret deal",
        expected_close=dt.date(2026, 5, 1),
    )
    call = ActivityTypeFactory(code="call", colour="#4e79a7")
    meeting = ActivityTypeFactory(code="meeting", colour="#e15759")
    today = clock.today()
    ActivityFactory(
        subject="Call Acme",
        activity_type=call,
        owner=org.rep,
        account=acme,
        due_on=today - dt.timedelta(days=3),
    )
    ActivityFactory(
        subject="Meet Globex",
        activity_type=meeting,
        owner=org.rep2,
        account=globex,
        due_on=today + dt.timedelta(days=2),
    )
    ActivityFactory(
        subject="Done call",
        activity_type=call,
        owner=org.rep,
        account=acme,
        due_on=today - dt.timedelta(days=1),
        done_at=clock.now(),
    )
    ActivityFactory(
        subject="Initech secret call",
        activity_type=call,
        owner=org.other_rep,
        account=initech,
        due_on=today,
    )
    return World(
        org=org,
        gold=gold,
        silver=silver,
        hot=hot,
        cold=cold,
        decision_maker=decision_maker,
        source=source,
        product=product,
        acme=acme,
        globex=globex,
        initech=initech,
        contact_acme=contact_acme,
        contact_globex=contact_globex,
        rep_deal=rep_deal,
        rep2_deal=rep2_deal,
        other_deal=other_deal,
        call=call,
        meeting=meeting,
    )
