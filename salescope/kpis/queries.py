"""Reads of the kpis app: dashboards a user may see or change, and their flash tiles."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from salescope.kpis import builtins, registry
from salescope.kpis.models import Dashboard, FlashTiles, Sharing
from salescope.org.models import Role, User


def visible_dashboards(user: User) -> QuerySet[Dashboard]:
    """The user's own dashboards, those shared with their team, and those shared with all."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Dashboard.objects.none()
    shared = Q(sharing=Sharing.EVERYONE)
    if user.team_id is not None:
        shared |= Q(sharing=Sharing.TEAM, team_id=user.team_id)
    if user.role == Role.MANAGER:
        shared |= Q(sharing=Sharing.TEAM, team__manager=user)
    return (
        Dashboard.objects.filter(Q(owner=user) | shared)
        .select_related("owner", "team")
        .order_by("position", "name", "pk")
        .distinct()
    )


def can_edit_dashboard(user: User, dashboard: Dashboard) -> bool:
    """The owner (and administrators) change a dashboard; others may view and copy it."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.role == Role.READ_ONLY and not user.is_superuser:
        return False
    return dashboard.owner_id == user.pk or user.is_superuser or user.role == Role.ADMIN


def flash_kpis(user: User) -> list[registry.Kpi]:
    """The user's chosen tiles (unknown keys dropped), else their role's defaults."""
    chosen = FlashTiles.objects.filter(user=user).values_list("kpis", flat=True).first()
    keys: Any = (
        chosen
        if chosen
        else builtins.DEFAULT_TILES.get(user.role, builtins.DEFAULT_TILES[Role.REP])
    )
    return [registry.get(k) for k in keys if registry.exists(k)]


def has_custom_tiles(user: User) -> bool:
    return FlashTiles.objects.filter(user=user).exclude(kpis=[]).exists()
