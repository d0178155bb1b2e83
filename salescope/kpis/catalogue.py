"""The KPI catalogue: outcomes, pipeline, funnel from history, activity (formulas: PRODUCT.md).

Rules shared by the catalogue (also written into ``docs/kpis.md``):

- A deal counts as won (or lost) in the period of its **latest** close: the close date and
  outcome are the deal's current ones. A deal won, reopened and won again counts once, on its
  last close date; a deal won then reopened and still open is not won anywhere.
- The funnel and time in stage read the event history (``created`` and ``stage`` events),
  never the current stage.
- Money is converted to the report currency at the rate valid on the close date (won
  deals) or today (open pipeline).
"""

from __future__ import annotations

import statistics
from decimal import Decimal
from typing import Any

from django.db.models import (
    CharField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Cast
from django.utils.translation import gettext_lazy as _

from salescope.kpis import selectors as sel
from salescope.kpis.registry import Context, Kpi, TimeField, register
from salescope.pipeline.models import EventKind, OpportunityEvent, Outcome, StageKind

# --- time fields ------------------------------------------------------------------------------

CLOSE_DATE = TimeField("closed_on", True, "close date")
CREATED_AT = TimeField("created_at", False, "created at")
EXPECTED_CLOSE = TimeField("expected_close", True, "expected close date")
ENTERED_AT = TimeField("occurred_at", False, "time the stage was entered")
LEFT_AT = TimeField("left_at", False, "time the stage was left")
CHANGED_AT = TimeField("occurred_at", False, "time the close date was changed")
DONE_AT = TimeField("done_at", False, "time the activity was done")

# --- dimensions -------------------------------------------------------------------------------

DEAL = ("rep", "team", "pipeline", "tier", "tag_category", "source", "product", "region",
        "account_type")  # fmt: skip
LOST = (*DEAL, "lost_reason")
CREATED = (*DEAL, "stage", "outcome")
OPEN = (*DEAL, "stage")
FUNNEL = (*DEAL, "stage")
ACTIVITY = (*DEAL, "activity_type", "outcome")

NO_VALUE = _("No value (shown as –) when the denominator is 0, never 0.")
LATEST_CLOSE = _(
    "A deal counts in the period of its latest close; reopened deals are not counted twice."
)
CONVERTED = _(
    "Amounts are converted to the report currency at the stored rate valid on the close date."
)

# --- query builders ---------------------------------------------------------------------------


def _won(ctx: Context) -> QuerySet[Any]:
    return sel.opportunities(ctx.user).filter(outcome=Outcome.WON)


def _lost(ctx: Context) -> QuerySet[Any]:
    return sel.opportunities(ctx.user).filter(outcome=Outcome.LOST)


def _won_amounts(ctx: Context) -> QuerySet[Any]:
    return sel.with_money(_won(ctx), ctx, amount="amount", day="closed_on")


def _created(ctx: Context) -> QuerySet[Any]:
    return sel.opportunities(ctx.user)


def _cycle(ctx: Context) -> QuerySet[Any]:
    created_day = sel.LocalDate("created_at")
    return _won(ctx).annotate(v=sel.DaysBetweenDates(F("closed_on"), created_day))


def _open(ctx: Context) -> QuerySet[Any]:
    return sel.opportunities(ctx.user).filter(outcome=Outcome.OPEN)


def _weighted(ctx: Context) -> QuerySet[Any]:
    weighted = ExpressionWrapper(
        F("amount") * F("probability") * Value(Decimal("0.01")), output_field=sel.MONEY
    )
    return sel.with_money(_open(ctx), ctx, amount=weighted, day=ctx.today)


def _stale(ctx: Context) -> QuerySet[Any]:
    import datetime as dt

    return _open(ctx).filter(updated_at__lt=ctx.now - dt.timedelta(days=ctx.stale_after_days))


ENTRY_KINDS = (EventKind.CREATED, EventKind.STAGE)


def _after_outer() -> Q:
    return Q(occurred_at__gt=OuterRef("occurred_at")) | Q(
        occurred_at=OuterRef("occurred_at"), id__gt=OuterRef("id")
    )


def _entries(ctx: Context) -> QuerySet[Any]:
    """First entry of each deal into each open stage within the period, and whether the deal
    later entered a later stage of its pipeline or was won."""
    earlier_in_period = OpportunityEvent.objects.filter(
        opportunity_id=OuterRef("opportunity_id"),
        to_stage_id=OuterRef("to_stage_id"),
        kind__in=ENTRY_KINDS,
        occurred_at__gte=ctx.lo,
    ).filter(
        Q(occurred_at__lt=OuterRef("occurred_at"))
        | Q(occurred_at=OuterRef("occurred_at"), id__lt=OuterRef("id"))
    )
    later = (
        OpportunityEvent.objects.filter(
            opportunity_id=OuterRef("opportunity_id"),
            kind=EventKind.STAGE,
            to_stage__order__gt=OuterRef("to_stage__order"),
        )
        .exclude(to_stage__kind=StageKind.LOST)
        .filter(_after_outer())
    )
    return (
        sel.events(ctx.user)
        .filter(kind__in=ENTRY_KINDS, to_stage__kind=StageKind.OPEN)
        .filter(~Exists(earlier_in_period))
        .annotate(advanced=Exists(later))
    )


def _advances(ctx: Context) -> QuerySet[Any]:
    return _entries(ctx).filter(advanced=True)


def _stays(ctx: Context) -> QuerySet[Any]:
    """Completed stays in open stages: from entering a stage to the next stage event."""
    left = (
        OpportunityEvent.objects.filter(
            opportunity_id=OuterRef("opportunity_id"), kind=EventKind.STAGE
        )
        .filter(_after_outer())
        .order_by("occurred_at", "id")
        .values("occurred_at")[:1]
    )
    return (
        sel.events(ctx.user)
        .filter(kind__in=ENTRY_KINDS, to_stage__kind=StageKind.OPEN)
        .annotate(left_at=Subquery(left))
        .annotate(v=sel.DaysBetweenTimes(F("left_at"), F("occurred_at")))
    )


def _pushes(ctx: Context) -> QuerySet[Any]:
    """Changes of the expected close date to a later date (ISO dates compare as text)."""
    return (
        sel.events(ctx.user)
        .filter(kind=EventKind.EXPECTED_CLOSE)
        .annotate(_old=Cast("old_value", CharField()), _new=Cast("new_value", CharField()))
        .filter(_new__gt=F("_old"))
    )


def _done(ctx: Context) -> QuerySet[Any]:
    return sel.activities(ctx.user).filter(done_at__isnull=False)


def _time_spent(ctx: Context) -> QuerySet[Any]:
    return _done(ctx).annotate(v=F("duration_minutes"))


def _milestones(ctx: Context) -> QuerySet[Any]:
    return _done(ctx).filter(activity_type__is_milestone=True)


# --- formulas of derived KPIs -----------------------------------------------------------------


def _share(part: Decimal | None, whole: Decimal | None) -> Decimal | None:
    if part is None or not whole:
        return None
    return Decimal(part) / Decimal(whole)


def win_rate(won: Decimal | None, lost: Decimal | None) -> Decimal | None:
    return _share(won, Decimal(won or 0) + Decimal(lost or 0))


def dropoff(advanced: Decimal | None, entered: Decimal | None) -> Decimal | None:
    if advanced is None or not entered:
        return None
    return (Decimal(entered) - Decimal(advanced)) / Decimal(entered)


def velocity(
    open_count: Decimal | None,
    rate: Decimal | None,
    deal_size: Decimal | None,
    cycle: Decimal | None,
) -> Decimal | None:
    if open_count is None or rate is None or deal_size is None or not cycle:
        return None
    return Decimal(open_count) * rate * deal_size / Decimal(cycle)


def coefficient_of_variation(series: list[Decimal]) -> Decimal | None:
    """Population standard deviation / mean of the monthly values (months without wins = 0)."""
    values = [Decimal(v) for v in series]
    if not values:
        return None
    mean = sum(values, Decimal(0)) / len(values)
    if mean == 0:
        return None
    return statistics.pstdev(values) / mean


# --- the catalogue ----------------------------------------------------------------------------

DEALS_WON = register(Kpi(
    key="deals_won",
    name=_("Deals won"),
    description=_("How many deals were won in the period."),
    formula=_("count of opportunities whose outcome became won in the period (by close date)"),
    unit="count", direction="higher", kind="count",
    time_field=CLOSE_DATE, dimensions=DEAL, query=_won,
    rules=(LATEST_CLOSE,),
))  # fmt: skip

DEALS_LOST = register(Kpi(
    key="deals_lost",
    name=_("Deals lost"),
    description=_("How many deals were lost in the period, by lost reason if you like."),
    formula=_("count of opportunities whose outcome became lost in the period (by close date)"),
    unit="count", direction="lower", kind="count",
    time_field=CLOSE_DATE, dimensions=LOST, query=_lost,
    rules=(LATEST_CLOSE,),
))  # fmt: skip

WON_REVENUE = register(Kpi(
    key="won_revenue",
    name=_("Won revenue"),
    description=_("The amount of the deals won in the period."),
    formula=_("sum of amount of deals won in the period"),
    unit="money", direction="higher", kind="sum", aggregate="sum",
    time_field=CLOSE_DATE, dimensions=DEAL, query=_won_amounts,
    rules=(LATEST_CLOSE, CONVERTED),
))  # fmt: skip

register(Kpi(
    key="win_rate",
    name=_("Win rate"),
    description=_("The share of deals closed in the period that were won."),
    formula=_("won / (won + lost), deals closed in the period"),
    unit="percent", direction="higher", kind="ratio",
    time_field=CLOSE_DATE, dimensions=DEAL,
    inputs=("deals_won", "deals_lost"), combine=win_rate,
    rules=(LATEST_CLOSE, NO_VALUE),
))  # fmt: skip

register(Kpi(
    key="opportunities_created",
    name=_("Opportunities created"),
    description=_("New opportunities, e.g. by source: marketing, own prospecting, referral ..."),
    formula=_("count by created date; by source (marketing vs own prospecting vs referral ...)"),
    unit="count", direction="higher", kind="count",
    time_field=CREATED_AT, dimensions=CREATED, query=_created,
    rules=(_("The created date is the day in the company time zone."),),
))  # fmt: skip

register(Kpi(
    key="average_deal_size",
    name=_("Average deal size"),
    description=_("The mean amount of the deals won in the period."),
    formula=_("mean amount of deals won in the period (median beside it)"),
    unit="money", direction="higher", kind="average", aggregate="average",
    time_field=CLOSE_DATE, dimensions=DEAL, query=_won_amounts,
    rules=(LATEST_CLOSE, CONVERTED, _("No value when no deal was won.")),
))  # fmt: skip

register(Kpi(
    key="median_deal_size",
    name=_("Median deal size"),
    description=_("The middle amount of the deals won in the period."),
    formula=_("median amount of deals won in the period"),
    unit="money", direction="higher", kind="median", aggregate="median",
    time_field=CLOSE_DATE, dimensions=DEAL, query=_won_amounts,
    rules=(LATEST_CLOSE, CONVERTED, _("For an even count, the mean of the two middle amounts.")),
))  # fmt: skip

CYCLE_RULE = _(
    "Days from the created day (company time zone) to the close date of the latest close."
)
register(Kpi(
    key="sales_cycle_median",
    name=_("Sales cycle (median)"),
    description=_("How long won deals took from creation to close, the middle value."),
    formula=_("days from created to closed, deals won in the period; median"),
    unit="days", direction="lower", kind="median", aggregate="median",
    time_field=CLOSE_DATE, dimensions=DEAL, query=_cycle,
    rules=(LATEST_CLOSE, CYCLE_RULE),
))  # fmt: skip

register(Kpi(
    key="sales_cycle_mean",
    name=_("Sales cycle (mean)"),
    description=_("How long won deals took from creation to close, on average."),
    formula=_("days from created to closed, deals won in the period; mean"),
    unit="days", direction="lower", kind="average", aggregate="average",
    time_field=CLOSE_DATE, dimensions=DEAL, query=_cycle,
    rules=(LATEST_CLOSE, CYCLE_RULE),
))  # fmt: skip

FUNNEL_RULES = (
    _("From the history: a deal entering a stage in the period counts once per stage, at its "
      "first entry in the period, even if it moved backwards and entered again."),
    _("It advanced if, after that entry, it ever entered a later stage of its pipeline or was "
      "won (skipping stages counts; lost does not)."),
)  # fmt: skip
register(Kpi(
    key="stage_entries",
    name=_("Stage entries"),
    description=_("Deals that entered each stage in the period (the top of each funnel step)."),
    formula=_("count of opportunities that entered stage i in the period (from history)"),
    unit="count", direction="higher", kind="count",
    time_field=ENTERED_AT, subject="event", dimensions=FUNNEL, query=_entries,
    rules=FUNNEL_RULES, category="funnel",
))  # fmt: skip

register(Kpi(
    key="stage_advances",
    name=_("Stage advances"),
    description=_("Of the deals that entered a stage in the period, those that moved on."),
    formula=_(
        "of opportunities that entered stage i in the period, the number that later entered a "
        "later stage or won"
    ),
    unit="count", direction="higher", kind="count",
    time_field=ENTERED_AT, subject="event", dimensions=FUNNEL, query=_advances,
    rules=FUNNEL_RULES, category="funnel",
))  # fmt: skip

register(Kpi(
    key="stage_conversion",
    name=_("Stage conversion"),
    description=_("Stage-to-stage rate of the funnel, from the history (not the current stage)."),
    formula=_(
        "of opportunities that entered stage i in the period, the share that later entered a "
        "later stage or won"
    ),
    unit="percent", direction="higher", kind="ratio",
    time_field=ENTERED_AT, subject="event", dimensions=FUNNEL,
    inputs=("stage_advances", "stage_entries"), combine=_share, records_from="stage_entries",
    rules=(*FUNNEL_RULES, NO_VALUE), category="funnel",
))  # fmt: skip

register(Kpi(
    key="stage_dropoff",
    name=_("Stage drop-off"),
    description=_(
        "Of the deals that entered a stage in the period, the share that never moved on."
    ),
    formula=_("drop-off per stage = 1 − stage conversion (from history, not current stage)"),
    unit="percent", direction="lower", kind="ratio",
    time_field=ENTERED_AT, subject="event", dimensions=FUNNEL,
    inputs=("stage_advances", "stage_entries"), combine=dropoff, records_from="stage_entries",
    rules=(*FUNNEL_RULES, NO_VALUE), category="funnel",
))  # fmt: skip

STAY_RULE = _(
    "A stay in an open stage runs from entering it to the next stage change (move, won, lost); "
    "it counts in the period in which it ended. Stays still running are not counted."
)
register(Kpi(
    key="time_in_stage_median",
    name=_("Time in stage (median)"),
    description=_("How long deals stay in a stage before moving on, the middle value."),
    formula=_("days between entering and leaving each stage, median, from history"),
    unit="days", direction="lower", kind="median", aggregate="median",
    time_field=LEFT_AT, subject="event", dimensions=FUNNEL, query=_stays,
    rules=(STAY_RULE,), category="funnel",
))  # fmt: skip

register(Kpi(
    key="time_in_stage_mean",
    name=_("Time in stage (mean)"),
    description=_("How long deals stay in a stage before moving on, on average."),
    formula=_("days between entering and leaving each stage, mean, from history"),
    unit="days", direction="lower", kind="average", aggregate="average",
    time_field=LEFT_AT, subject="event", dimensions=FUNNEL, query=_stays,
    rules=(STAY_RULE,), category="funnel",
))  # fmt: skip

register(Kpi(
    key="weighted_pipeline",
    name=_("Weighted pipeline"),
    description=_(
        "What the open deals are worth, weighted by probability, by expected close month."
    ),
    formula=_(
        "sum of amount × probability over open opportunities, by expected close month"
    ),
    unit="money", direction="higher", kind="sum", aggregate="sum",
    time_field=EXPECTED_CLOSE, dimensions=OPEN, query=_weighted,
    rules=(
        _("Open deals as of now whose expected close date is in the period (overdue deals count "
          "in their past month)."),
        _("Amounts are converted at today's rate."),
    ),
    category="pipeline",
))  # fmt: skip

register(Kpi(
    key="open_opportunities",
    name=_("Open opportunities"),
    description=_("Deals open right now."),
    formula=_("count of open opportunities, as of now"),
    unit="count", direction="higher", kind="count",
    dimensions=OPEN, query=_open, grains=False, snapshot=True,
    rules=(_("As of now, whatever the period."),), category="pipeline",
))  # fmt: skip

register(Kpi(
    key="sales_velocity",
    name=_("Sales velocity"),
    description=_("The revenue the pipeline produces per day at the current pace."),
    formula=_("open opportunities × win rate × average deal size / sales cycle (per day)"),
    unit="per_day", direction="higher", kind="derived",
    time_field=CLOSE_DATE, dimensions=DEAL,
    inputs=("open_opportunities", "win_rate", "average_deal_size", "sales_cycle_mean"),
    combine=velocity, records_from="open_opportunities",
    rules=(
        _("Open opportunities as of now; win rate, average deal size and mean sales cycle of the "
          "deals closed in the period."),
        _("No value when any factor has none or the mean cycle is 0 days."),
    ),
    category="pipeline",
))  # fmt: skip

register(Kpi(
    key="stale_opportunities",
    name=_("Stale opportunities"),
    description=_("Open deals nobody updated for a week (company setting)."),
    formula=_("open opportunities not updated for 7 days"),
    unit="count", direction="lower", kind="count",
    dimensions=OPEN, query=_stale, grains=False, snapshot=True,
    rules=(
        _("As of now; the number of days is the company setting “stale after (days)”, 7 by "
          "default; any change to the deal counts as an update."),
    ),
    category="pipeline",
))  # fmt: skip

register(Kpi(
    key="stale_share",
    name=_("Stale share"),
    description=_("The share of open deals that are stale, e.g. per rep."),
    formula=_("stale opportunities / open opportunities, share per rep"),
    unit="percent", direction="lower", kind="ratio",
    dimensions=OPEN, grains=False, snapshot=True,
    inputs=("stale_opportunities", "open_opportunities"), combine=_share,
    records_from="stale_opportunities",
    rules=(NO_VALUE,), category="pipeline",
))  # fmt: skip

SLIP_RULE = _(
    "A push is a change of the expected close date to a later date, counted when it was made; "
    "pulling a date earlier is not a push."
)
register(Kpi(
    key="slipped_deals",
    name=_("Slipped deals"),
    description=_("Deals (open or closed) whose expected close date was moved later."),
    formula=_("open or closed deals whose expected close date was moved later"),
    unit="count", direction="lower", kind="count", aggregate="count_distinct",
    distinct="opportunity_id",
    time_field=CHANGED_AT, subject="event", dimensions=DEAL, query=_pushes,
    rules=(SLIP_RULE, _("A deal pushed several times in the period counts once.")),
    category="pipeline",
))  # fmt: skip

register(Kpi(
    key="close_date_pushes",
    name=_("Close date pushes"),
    description=_("How often expected close dates were moved later."),
    formula=_("count of pushes (expected close date moved later)"),
    unit="count", direction="lower", kind="count",
    time_field=CHANGED_AT, subject="event", dimensions=DEAL, query=_pushes,
    rules=(SLIP_RULE,), category="pipeline",
))  # fmt: skip

ACTIVITY_RULE = _(
    "Done activities of the people whose figures you see (yourself; a sales manager: the "
    "team), in the period in which they were done; rep is the person the activity is assigned "
    "to; segment dimensions are those of the activity's account."
)
ACTIVITIES_DONE = register(Kpi(
    key="activities_done",
    name=_("Activities"),
    description=_("Activities done in the period (calls, meetings, visits ...)."),
    formula=_("count of activities done in the period, by type"),
    unit="count", direction="higher", kind="count",
    time_field=DONE_AT, subject="activity", dimensions=ACTIVITY, query=_done,
    rules=(ACTIVITY_RULE,), category="activity",
))  # fmt: skip

register(Kpi(
    key="time_spent",
    name=_("Time spent"),
    description=_("Hours spent on activities done in the period."),
    formula=_("sum of time spent (duration in minutes / 60) of activities done in the period"),
    unit="hours", direction="higher", kind="sum", aggregate="sum", per=60,
    time_field=DONE_AT, subject="activity", dimensions=ACTIVITY, query=_time_spent,
    rules=(ACTIVITY_RULE, _("Activities without a time spent count 0.")),
    category="activity",
))  # fmt: skip

register(Kpi(
    key="milestone_actions",
    name=_("Milestone actions"),
    description=_("The concrete actions that move deals (types flagged as milestone)."),
    formula=_("count of done activities of milestone types, per type, rep and period"),
    unit="count", direction="higher", kind="count",
    time_field=DONE_AT, subject="activity", dimensions=ACTIVITY, query=_milestones,
    rules=(ACTIVITY_RULE,), category="activity",
))  # fmt: skip

register(Kpi(
    key="activity_effort",
    name=_("Activity effort"),
    description=_("Activities it takes to win one deal, by type, rep and segment."),
    formula=_("activities (by type) per deal won, by rep and segment"),
    unit="ratio", direction="lower", kind="derived",
    time_field=DONE_AT, dimensions=(*DEAL, "activity_type"),
    inputs=("activities_done", "deals_won"), combine=_share,
    rules=(
        ACTIVITY_RULE,
        _("By activity type, each type's count is divided by all deals won."),
        NO_VALUE,
    ),
    category="activity",
))  # fmt: skip

register(Kpi(
    key="regularity",
    name=_("Regularity"),
    description=_("How steady monthly won revenue is (lower is steadier), e.g. per rep."),
    formula=_(
        "coefficient of variation of a rep's monthly won revenue over 12 months "
        "(lower is steadier)"
    ),
    unit="ratio", direction="lower", kind="derived",
    time_field=CLOSE_DATE, dimensions=DEAL,
    inputs=("won_revenue",), combine=coefficient_of_variation, window_months=12,
    rules=(
        _("The 12 calendar months ending with the period's (or bucket's) last month; months "
          "without a won deal count 0."),
        _("Population standard deviation divided by the mean; no value when the mean is 0."),
    ),
))  # fmt: skip
