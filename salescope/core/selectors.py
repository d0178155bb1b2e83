"""Reads for the home page: the user's flash figures (K1) and their next actions."""

from __future__ import annotations

from typing import Any

from salescope.org.models import User


def home_summary(*, user: User) -> dict[str, Any]:
    from salescope.activities.models import Activity
    from salescope.core.clock import today
    from salescope.kpis import flash
    from salescope.visibility import visible_activities

    day = today()
    my_open_activities = (
        visible_activities(user, Activity.objects.all())
        .filter(owner=user, done_at__isnull=True)
        .select_related("activity_type", "account", "opportunity")
        .order_by("due_on", "starts_at")[:10]
    )
    return {
        "today": day,
        "tiles": flash.flash_tiles(user, today=day),
        "show_reps": flash.may_see_reps(user),
        "my_open_activities": list(my_open_activities),
    }
