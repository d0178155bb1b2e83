"""The two built-in dashboards ("Sales manager", "Rep") and the default flash tiles per role.

Built-ins live in code, not in the database: everyone sees them (each user in their own
scope), nobody edits them, and "Copy" turns one into a dashboard of one's own.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from salescope.kpis.widgets import WidgetSpec
from salescope.org.models import Role


@dataclass(frozen=True)
class BuiltinWidget:
    spec: WidgetSpec
    size: str = "half"


@dataclass(frozen=True)
class BuiltinDashboard:
    key: str
    name: Promise
    description: Promise
    widgets: tuple[BuiltinWidget, ...]


def _w(size: str = "half", **spec: object) -> BuiltinWidget:
    return BuiltinWidget(WidgetSpec(**spec), size)  # type: ignore[arg-type]


MANAGER = BuiltinDashboard(
    key="manager",
    name=_("Sales manager"),
    description=_("The team's month, its pipeline and its funnel, rep by rep."),
    widgets=(
        _w(kpi="deals_won", chart="number", period="this_month", compare="previous"),
        _w(kpi="won_revenue", chart="number", period="this_month", compare="previous"),
        _w("full", kpi="won_revenue", chart="bar", grain="month", period="last_12_months",
           compare="year"),
        _w(kpi="win_rate", chart="bar", by="rep", period="this_quarter"),
        _w("full", kpi="stage_entries", chart="funnel", by="stage", period="this_quarter"),
        _w(kpi="weighted_pipeline", chart="stacked", by="rep", grain="month",
           period="next_6_months"),
        _w(kpi="sales_cycle_median", chart="bar", by="rep", period="last_12_months"),
        _w(kpi="activities_done", chart="stacked", by="activity_type", grain="week",
           period="last_90_days"),
        _w(kpi="opportunities_created", chart="pie", by="source", period="this_quarter"),
        _w(kpi="stale_opportunities", chart="table", by="rep", period="this_month"),
        _w(kpi="slipped_deals", chart="table", by="rep", period="this_month"),
    ),
)  # fmt: skip

REP = BuiltinDashboard(
    key="rep",
    name=_("Rep"),
    description=_("My month, my pipeline and my activity."),
    widgets=(
        _w(kpi="deals_won", chart="number", period="this_month", compare="previous"),
        _w(kpi="won_revenue", chart="number", period="this_month", compare="previous"),
        _w(kpi="weighted_pipeline", chart="bar", grain="month", period="next_6_months"),
        _w(kpi="open_opportunities", chart="bar", by="stage", period="this_month"),
        _w(kpi="win_rate", chart="line", grain="month", period="last_12_months"),
        _w(kpi="activities_done", chart="pie", by="activity_type", period="this_month"),
        _w(kpi="stale_opportunities", chart="number", period="this_month"),
        _w(kpi="average_deal_size", chart="histogram", period="last_12_months"),
    ),
)

BUILTINS: dict[str, BuiltinDashboard] = {d.key: d for d in (MANAGER, REP)}

#: Flash tiles (home page) for a user who has not chosen any, per role.
DEFAULT_TILES: dict[str, tuple[str, ...]] = {
    Role.ADMIN: (
        "deals_won", "deals_lost", "win_rate", "won_revenue", "opportunities_created",
        "weighted_pipeline", "activities_done", "time_spent",
    ),
    Role.MANAGER: (
        "deals_won", "deals_lost", "win_rate", "won_revenue", "opportunities_created",
        "weighted_pipeline", "activities_done", "time_spent",
    ),
    Role.REP: (
        "deals_won", "deals_lost", "win_rate", "won_revenue", "weighted_pipeline",
        "activities_done", "time_spent", "stale_opportunities",
    ),
    Role.MARKETING: ("opportunities_created", "deals_won", "won_revenue", "win_rate"),
    Role.READ_ONLY: ("deals_won", "deals_lost", "win_rate", "won_revenue", "weighted_pipeline"),
}  # fmt: skip

#: The most tiles a user may pin.
MAX_TILES = 12


def default_dashboard_key(role: str) -> str:
    return "rep" if role in (Role.REP,) else "manager"
