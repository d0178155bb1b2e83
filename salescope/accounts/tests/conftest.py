"""Reference data for the customer-base tests (on top of the shared ``org_setup``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from salescope.accounts.models import (
    AccountStatus,
    AccountType,
    ContactRole,
    Industry,
    Region,
    Tag,
    TagCategory,
    Tier,
)


@dataclass
class Lists:
    customer: Any
    retired_status: Any
    gold: Any
    retired_tier: Any
    reseller: Any
    machinery: Any
    bavaria: Any
    decision_maker: Any
    billing: Any
    retired_role: Any
    tag_hot: Any
    tag_fair: Any
    tag_retired: Any


@pytest.fixture
def lists(org_setup) -> Lists:
    """Configurable lists: an active and an inactive entry of each kind."""
    category = TagCategory.objects.create(name="Potential")
    old_category = TagCategory.objects.create(name="Old", active=False)
    return Lists(
        customer=AccountStatus.objects.create(name="Customer", is_customer=True),
        retired_status=AccountStatus.objects.create(name="Hot prospect", active=False),
        gold=Tier.objects.create(name="Gold"),
        retired_tier=Tier.objects.create(name="Platinum", active=False),
        reseller=AccountType.objects.create(name="Reseller"),
        machinery=Industry.objects.create(name="Machinery"),
        bavaria=Region.objects.create(name="Bavaria", country="DE"),
        decision_maker=ContactRole.objects.create(name="Decision maker"),
        billing=ContactRole.objects.create(name="Billing contact"),
        retired_role=ContactRole.objects.create(name="Champion", active=False),
        tag_hot=Tag.objects.create(category=category, name="Hot"),
        tag_fair=Tag.objects.create(category=category, name="Met at fair"),
        tag_retired=Tag.objects.create(category=old_category, name="Legacy"),
    )
