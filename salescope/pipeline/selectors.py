"""Reads about pipelines and opportunities. Callers pass the user; visibility is applied here."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from salescope.org.models import User
from salescope.pipeline import domain
from salescope.pipeline.models import Opportunity, OpportunityEvent, Pipeline, Stage
from salescope.visibility import visible_opportunities


def opportunities_for(user: User) -> QuerySet[Opportunity]:
    return visible_opportunities(user, Opportunity.objects.all()).select_related(
        "stage", "pipeline", "account", "owner", "currency", "source"
    )


def open_stages(pipeline: Pipeline) -> QuerySet[Stage]:
    return pipeline.stages.filter(kind="open").order_by("order")


def history(opportunity: Opportunity) -> QuerySet[OpportunityEvent]:
    return opportunity.events.select_related("actor", "from_stage", "to_stage").order_by(
        "occurred_at", "id"
    )


def rebuilt_state(opportunity: Opportunity) -> dict[str, Any]:
    """The tracked state rebuilt from the history alone (must equal the live state)."""
    rows = history(opportunity).values_list("kind", "old_value", "new_value")
    return domain.replay(rows)
