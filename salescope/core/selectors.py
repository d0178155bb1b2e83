"""Reads for the home page (to be replaced by registry-driven flash figures)."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q

from salescope.org.models import User


def home_summary(*, user: User) -> dict[str, Any]:
    from salescope.activities.models import Activity
    from salescope.core.clock import today
    from salescope.pipeline.models import Opportunity, Outcome
    from salescope.visibility import visible_activities, visible_opportunities

    day = today()
    opps = visible_opportunities(user, Opportunity.objects.all())
    counts = opps.aggregate(
        open=Count("id", filter=Q(outcome=Outcome.OPEN)),
        won_this_month=Count(
            "id",
            filter=Q(outcome=Outcome.WON, closed_on__year=day.year, closed_on__month=day.month),
        ),
        lost_this_month=Count(
            "id",
            filter=Q(outcome=Outcome.LOST, closed_on__year=day.year, closed_on__month=day.month),
        ),
    )
    my_open_activities = (
        visible_activities(user, Activity.objects.all())
        .filter(owner=user, done_at__isnull=True)
        .select_related("activity_type", "account", "opportunity")
        .order_by("due_on", "starts_at")[:10]
    )
    return {"today": day, "counts": counts, "my_open_activities": list(my_open_activities)}
