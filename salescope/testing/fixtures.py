"""Pytest fixtures shared by every app (loaded from the root conftest)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from salescope.core import clock

FIXED_NOW = dt.datetime(2026, 3, 16, 9, 30, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    """Real hashers are slow on purpose; tests need speed, not brute-force resistance."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def frozen_now() -> Iterator[dt.datetime]:
    """Freeze the product clock at a known instant (a Monday)."""
    with clock.frozen(FIXED_NOW):
        yield FIXED_NOW


@dataclass
class OrgSetup:
    admin: Any
    manager: Any
    rep: Any
    rep2: Any
    other_rep: Any
    other_manager: Any
    marketing: Any
    readonly: Any
    team: Any
    other_team: Any
    pipeline: Any
    other_pipeline: Any
    stages: dict[str, Any]
    won: Any
    lost: Any
    reason: Any
    status: Any


@pytest.fixture
def org_setup(db: Any) -> OrgSetup:
    """A small company: two teams, every role, a 4-stage pipeline and a second pipeline."""
    from salescope.org.models import Role
    from salescope.org.services import ensure_company_settings
    from salescope.pipeline.models import LostReason
    from salescope.pipeline.services import create_pipeline
    from salescope.testing.factories import AccountStatusFactory, TeamFactory, UserFactory

    ensure_company_settings(name="Test GmbH", currency="EUR")
    team: Any = TeamFactory(name="North")
    other_team: Any = TeamFactory(name="South")
    manager = UserFactory(username="manager", role=Role.MANAGER, team=team)
    team.manager = manager
    team.save()
    other_manager = UserFactory(username="manager2", role=Role.MANAGER, team=other_team)
    other_team.manager = other_manager
    other_team.save()
    pipeline = create_pipeline(
        name="Standard",
        is_default=True,
        stages=[
            {"name": "Qualification", "probability": 10, "rotting_days": 14},
            {"name": "Meeting", "probability": 30, "rotting_days": 21},
            {"name": "Proposal", "probability": 60, "rotting_days": 21},
            {"name": "Negotiation", "probability": 80, "rotting_days": 14},
        ],
    )
    other_pipeline = create_pipeline(
        name="Inbound",
        stages=[
            {"name": "New", "probability": 20},
            {"name": "Offer", "probability": 50},
        ],
    )
    stages = {s.name: s for s in pipeline.stages.all()}
    return OrgSetup(
        admin=UserFactory(username="admin", role=Role.ADMIN),
        manager=manager,
        rep=UserFactory(username="rep", role=Role.REP, team=team),
        rep2=UserFactory(username="rep2", role=Role.REP, team=team),
        other_rep=UserFactory(username="other_rep", role=Role.REP, team=other_team),
        other_manager=other_manager,
        marketing=UserFactory(username="marketing", role=Role.MARKETING),
        readonly=UserFactory(username="readonly", role=Role.READ_ONLY),
        team=team,
        other_team=other_team,
        pipeline=pipeline,
        other_pipeline=other_pipeline,
        stages=stages,
        won=stages["Won"],
        lost=stages["Lost"],
        reason=LostReason.objects.create(name="Price"),
        status=AccountStatusFactory(),
    )
