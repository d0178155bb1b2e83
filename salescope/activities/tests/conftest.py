"""Activity types and a few deals for the activity tests (on top of ``org_setup``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from salescope.accounts.services import create_account, create_contact
from salescope.testing.factories import ActivityTypeFactory, make_opportunity


@dataclass
class Setup:
    call: Any
    meeting: Any
    retired: Any
    acme: Any
    jane: Any
    deal: Any
    south: Any
    south_contact: Any
    south_deal: Any


@pytest.fixture
def act_setup(org_setup) -> Setup:
    s = org_setup
    acme = create_account(actor=s.rep, name="Acme GmbH")
    south = create_account(actor=s.other_rep, name="South SA")
    return Setup(
        call=ActivityTypeFactory(code="call", name="Call"),
        meeting=ActivityTypeFactory(code="meeting", name="Meeting", is_meeting=True),
        retired=ActivityTypeFactory(code="fax", name="Fax", active=False),
        acme=acme,
        jane=create_contact(actor=s.rep, first_name="Jane", last_name="Doe", account=acme),
        deal=make_opportunity(owner=s.rep, stage=s.stages["Meeting"], account=acme, name="Acme"),
        south=south,
        south_contact=create_contact(actor=s.other_rep, last_name="Sud", account=south),
        south_deal=make_opportunity(
            owner=s.other_rep, stage=s.stages["Meeting"], account=south, name="South deal"
        ),
    )
