"""Reads about pipelines and opportunities. Callers pass the user; visibility is applied here."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, DecimalField, ExpressionWrapper, F, QuerySet, Sum

from salescope.accounts.models import Account
from salescope.core import clock
from salescope.core.money import quantize
from salescope.customfields.models import Target
from salescope.customfields.services import definitions
from salescope.org.models import User
from salescope.pipeline import domain
from salescope.pipeline.models import (
    EventKind,
    ForecastCategory,
    LostReason,
    Opportunity,
    OpportunityEvent,
    Outcome,
    Pipeline,
    Source,
    Stage,
    StageKind,
)
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


# --- the board (P5) -----------------------------------------------------------------------


def pipelines() -> QuerySet[Pipeline]:
    """Active pipelines, default first."""
    return Pipeline.objects.filter(active=True).order_by("-is_default", "order", "name")


def default_pipeline() -> Pipeline | None:
    return pipelines().first()


def stages_of(pipeline: Pipeline) -> list[Stage]:
    return list(pipeline.stages.order_by("order"))


CLOSE_PERIODS = ("overdue", "this_month", "next_month", "this_quarter", "next_quarter", "later")


def close_period_bounds(period: str, today: dt.date) -> tuple[dt.date | None, dt.date | None]:
    """``[start, end)`` of an expected-close period relative to ``today`` (None: open end)."""

    def month_start(d: dt.date, plus: int = 0) -> dt.date:
        index = d.year * 12 + d.month - 1 + plus
        return dt.date(index // 12, index % 12 + 1, 1)

    quarter_first = dt.date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
    if period == "overdue":
        return None, today
    if period == "this_month":
        return month_start(today), month_start(today, 1)
    if period == "next_month":
        return month_start(today, 1), month_start(today, 2)
    if period == "this_quarter":
        return quarter_first, month_start(quarter_first, 3)
    if period == "next_quarter":
        return month_start(quarter_first, 3), month_start(quarter_first, 6)
    if period == "later":
        return month_start(quarter_first, 6), None
    raise ValueError(f"Unknown period {period!r}")


@dataclass
class BoardFilters:
    owner: Any = None
    team: Any = None
    tier: Any = None
    tag: Any = None
    source: Any = None
    product: Any = None
    close: str = ""

    @property
    def active(self) -> bool:
        return any(
            (self.owner, self.team, self.tier, self.tag, self.source, self.product, self.close)
        )


def filter_opportunities(
    qs: QuerySet[Opportunity], filters: BoardFilters, *, today: dt.date
) -> QuerySet[Opportunity]:
    if filters.owner:
        qs = qs.filter(owner=filters.owner)
    if filters.team:
        qs = qs.filter(owner__team=filters.team)
    if filters.tier:
        qs = qs.filter(account__tier=filters.tier)
    if filters.tag:
        qs = qs.filter(account__in=Account.objects.filter(tags=filters.tag).values("pk"))
    if filters.source:
        qs = qs.filter(source=filters.source)
    if filters.product:
        qs = qs.filter(
            pk__in=Opportunity.products.through.objects.filter(productline=filters.product).values(
                "opportunity_id"
            )
        )
    if filters.close:
        start, end = close_period_bounds(filters.close, today)
        if start is not None:
            qs = qs.filter(expected_close__gte=start)
        if end is not None:
            qs = qs.filter(expected_close__lt=end)
    return qs


def open_board_deals(
    user: User, pipeline: Pipeline, filters: BoardFilters, *, stage_ids: Iterable[int] | None = None
) -> QuerySet[Opportunity]:
    """The open deals of ``pipeline`` that ``user`` sees, filtered (the board's cards)."""
    qs = visible_opportunities(user, Opportunity.objects.all()).filter(
        pipeline=pipeline, outcome=Outcome.OPEN
    )
    if stage_ids is not None:
        qs = qs.filter(stage_id__in=list(stage_ids))
    return filter_opportunities(qs, filters, today=clock.today())


@dataclass
class MoneyTotal:
    currency: str
    amount: Decimal
    weighted: Decimal


#: What a board card shows; cards are plain dicts so 2,000 of them render fast.
CARD_FIELDS = (
    "pk", "name", "version", "stage_id", "amount", "currency_id", "expected_close",
    "stage_entered_at", "account__name", "owner__first_name", "owner__last_name",
    "owner__username",
)  # fmt: skip


@dataclass
class Column:
    stage: Stage
    cards: list[dict[str, Any]] = field(default_factory=list)
    count: int = 0
    totals: list[MoneyTotal] = field(default_factory=list)


def stage_totals(deals: QuerySet[Opportunity]) -> dict[int, tuple[int, list[MoneyTotal]]]:
    """Count, amount and weighted amount per stage, per currency (one grouped query)."""
    rows = (
        deals.order_by()
        .values("stage_id", "currency_id")
        .annotate(
            n=Count("pk"),
            total=Sum("amount"),
            weighted=Sum(
                ExpressionWrapper(
                    F("amount") * F("probability"), output_field=DecimalField(max_digits=20)
                )
            ),
        )
        .order_by("stage_id", "currency_id")
    )
    result: dict[int, tuple[int, list[MoneyTotal]]] = {}
    for row in rows:
        count, totals = result.get(row["stage_id"], (0, []))
        totals.append(
            MoneyTotal(
                currency=row["currency_id"],
                amount=quantize(Decimal(row["total"] or 0)),
                weighted=quantize(Decimal(row["weighted"] or 0) / 100),
            )
        )
        result[row["stage_id"]] = (count + row["n"], totals)
    return result


def board_columns(
    user: User, pipeline: Pipeline, filters: BoardFilters, *, stages: Iterable[Stage]
) -> list[Column]:
    """One column per given open stage with its cards and totals; queries do not grow with cards."""
    stages = [s for s in stages if s.kind == StageKind.OPEN]
    deals = open_board_deals(user, pipeline, filters, stage_ids=[s.pk for s in stages])
    columns = {s.pk: Column(stage=s) for s in stages}
    cards = deals.order_by("expected_close", "-amount", "pk").values(*CARD_FIELDS)
    now = clock.now()
    for card in cards:
        column = columns[card["stage_id"]]
        days = (now - card["stage_entered_at"]).days
        card["days_in_stage"] = max(days, 0)
        rot = column.stage.rotting_days
        card["rotting"] = rot is not None and days > rot
        column.cards.append(card)
    for stage_id, (count, totals) in stage_totals(deals).items():
        columns[stage_id].count = count
        columns[stage_id].totals = totals
    return list(columns.values())


def board_totals(user: User, pipeline: Pipeline, filters: BoardFilters) -> list[MoneyTotal]:
    """Totals of the whole board per currency (one grouped query)."""
    stage_ids = list(pipeline.stages.filter(kind=StageKind.OPEN).values_list("pk", flat=True))
    deals = open_board_deals(user, pipeline, filters, stage_ids=stage_ids)
    columns = [Column(stage=Stage(), totals=t) for _n, t in stage_totals(deals).values()]
    return sum_totals(columns)


def sum_totals(columns: Iterable[Column]) -> list[MoneyTotal]:
    """Board-wide totals per currency (never adding different currencies)."""
    by_currency: dict[str, MoneyTotal] = {}
    for column in columns:
        for t in column.totals:
            acc = by_currency.setdefault(t.currency, MoneyTotal(t.currency, Decimal(0), Decimal(0)))
            acc.amount += t.amount
            acc.weighted += t.weighted
    return [by_currency[c] for c in sorted(by_currency)]


def display_custom(d: Any, value: Any) -> str:
    """A stored custom value as the user reads it (locale-aware)."""
    from decimal import InvalidOperation

    from django.utils.translation import gettext as _

    from salescope.core import formatting

    if value in (None, "", [], {}):
        return "–"
    try:
        if d.field_type == "money":
            return formatting.money(Decimal(value["amount"]), value["currency"])
        if d.field_type == "number":
            return formatting.number(Decimal(value))
        if d.field_type == "date":
            return formatting.date(dt.date.fromisoformat(value))
    except (InvalidOperation, ValueError, KeyError, TypeError):
        return str(value)
    if d.field_type == "boolean":
        return str(_("Yes") if value else _("No"))
    if d.field_type == "multi_choice":
        return ", ".join(map(str, value))
    return str(value)


# --- the deal page ------------------------------------------------------------------------


@dataclass
class StageTime:
    stage: Stage
    seconds: float
    state: str  # "past" (visited), "current", "future" (not reached)

    @property
    def days(self) -> float:
        return self.seconds / 86400


def time_in_stages(
    events: Iterable[Any], *, now: dt.datetime
) -> tuple[dict[int, float], int | None]:
    """Seconds spent in each stage (by stage id) from an opportunity's events in order.

    ``events`` are the opportunity's ``created`` and ``stage`` events (objects with ``kind``,
    ``to_stage_id`` and ``occurred_at``), oldest first. The current stage counts until
    ``now``. Returns the durations and the current stage id.
    """
    spent: dict[int, float] = {}
    current: int | None = None
    since: dt.datetime | None = None
    for event in events:
        if event.kind not in (EventKind.CREATED, EventKind.STAGE) or event.to_stage_id is None:
            continue
        if current is not None and since is not None:
            spent[current] = spent.get(current, 0.0) + (event.occurred_at - since).total_seconds()
        current, since = event.to_stage_id, event.occurred_at
    if current is not None and since is not None:
        spent[current] = spent.get(current, 0.0) + max((now - since).total_seconds(), 0.0)
    return spent, current


def stage_bar(opportunity: Opportunity, stages: Iterable[Stage]) -> list[StageTime]:
    """Every stage of the pipeline with the time the deal spent there so far."""
    events = opportunity.events.filter(kind__in=[EventKind.CREATED, EventKind.STAGE]).order_by(
        "occurred_at", "id"
    )
    spent, current = time_in_stages(events, now=clock.now())
    result = []
    reached = True
    ordered = list(stages)
    current_stage = next((s for s in ordered if s.pk == current), None)
    for stage in ordered:
        if stage.kind != StageKind.OPEN and stage.pk != current:
            continue  # only the closing stage the deal is in, not both
        if stage.pk == current:
            state, reached = "current", False
        elif stage.pk in spent or (
            reached and current_stage is not None and stage.order < current_stage.order
        ):
            state = "past"
        else:
            state = "future"
        result.append(StageTime(stage=stage, seconds=spent.get(stage.pk, 0.0), state=state))
    return result


@dataclass
class Change:
    kind: str
    label: str
    old: str
    new: str


@dataclass
class TimelineEntry:
    kind: str  # "change" | "activity" | "comment" | "attachment"
    at: dt.datetime
    actor: Any = None
    verb: str = ""
    changes: list[Change] = field(default_factory=list)
    obj: Any = None


TIMELINE_FILTERS = ("all", "changes", "activities", "comments")


def _event_value(kind: str, value: Any, names: dict[str, dict[Any, str]], currency: str) -> str:
    from salescope.core import formatting

    if value in (None, "", {}):
        return "–"
    if kind == EventKind.AMOUNT:
        return formatting.money(Decimal(str(value)), currency)
    if kind == EventKind.PROBABILITY:
        return formatting.percent(Decimal(value) / 100)
    if kind in (EventKind.EXPECTED_CLOSE, EventKind.CLOSED_ON):
        return formatting.date(dt.date.fromisoformat(str(value)))
    if kind == EventKind.FORECAST_CATEGORY:
        return str(ForecastCategory(value).label) if value in ForecastCategory.values else value
    if kind == EventKind.OUTCOME:
        return str(Outcome(value).label) if value in Outcome.values else value
    if kind in names:
        return names[kind].get(value, f"#{value}")
    if kind == EventKind.CUSTOM:
        return ", ".join(sorted(value)) if isinstance(value, dict) else str(value)
    return str(value)


def describe_events(events: list[OpportunityEvent]) -> list[TimelineEntry]:
    """Group events by action into human-readable timeline entries (oldest first)."""
    from salescope.org.models import User as UserModel

    ids: dict[str, set[Any]] = {
        "owner": set(),
        "account": set(),
        "source": set(),
        "lost_reason": set(),
    }
    for e in events:
        for kind in ids:
            if e.kind == kind:
                ids[kind].update(v for v in (e.old_value, e.new_value) if v is not None)
    names: dict[str, dict[Any, str]] = {
        "owner": {u.pk: str(u) for u in UserModel.objects.filter(pk__in=ids["owner"])},
        "account": dict(Account.objects.filter(pk__in=ids["account"]).values_list("pk", "name")),
        "source": dict(Source.objects.filter(pk__in=ids["source"]).values_list("pk", "name")),
        "lost_reason": dict(
            LostReason.objects.filter(pk__in=ids["lost_reason"]).values_list("pk", "name")
        ),
    }
    defs = (
        {d.key: d for d in definitions(Target.OPPORTUNITY)}
        if any(e.kind == EventKind.CUSTOM for e in events)
        else {}
    )
    entries: list[TimelineEntry] = []
    by_action: dict[Any, TimelineEntry] = {}
    currency = ""
    for e in events:
        if e.kind == EventKind.CREATED:
            currency = (e.new_value or {}).get("currency", "")
            entries.append(
                TimelineEntry(kind="change", at=e.occurred_at, actor=e.actor, verb="created", obj=e)
            )
            continue
        if e.kind == EventKind.CURRENCY:
            currency = e.new_value or currency
        found = by_action.get(e.action_id)
        if found is not None:
            entry = found
        else:
            entry = TimelineEntry(kind="change", at=e.occurred_at, actor=e.actor, verb=e.verb)
            by_action[e.action_id] = entry
            entries.append(entry)
        if e.kind == EventKind.CUSTOM:
            entry.changes += _custom_changes(e.old_value or {}, e.new_value or {}, defs)
            continue
        if e.kind == EventKind.STAGE:
            old = e.from_stage.name if e.from_stage else "–"
            new = e.to_stage.name if e.to_stage else "–"
        else:
            old = _event_value(e.kind, e.old_value, names, currency)
            new = _event_value(e.kind, e.new_value, names, currency)
        entry.changes.append(
            Change(kind=e.kind, label=str(EventKind(e.kind).label), old=old, new=new)
        )
    return entries


def _custom_changes(old: dict[str, Any], new: dict[str, Any], defs: dict[str, Any]) -> list[Change]:
    changes = []
    for key in sorted(set(old) | set(new)):
        if old.get(key) == new.get(key):
            continue
        d = defs.get(key)
        if d is None:  # a field that was deleted since: show the raw values
            changes.append(Change("custom", key, str(old.get(key, "–")), str(new.get(key, "–"))))
            continue
        changes.append(
            Change(
                "custom", d.label, display_custom(d, old.get(key)), display_custom(d, new.get(key))
            )
        )
    return changes


def timeline(user: User, opportunity: Opportunity, show: str = "all") -> list[TimelineEntry]:
    """Events, activities, comments and attachments of a deal, newest first."""
    from salescope.activities.models import Attachment, Comment
    from salescope.activities.selectors import activities_for

    entries: list[TimelineEntry] = []
    if show in ("all", "changes"):
        entries += describe_events(list(history(opportunity)))
    if show in ("all", "activities"):
        for a in activities_for(user).filter(opportunity=opportunity):
            when = a.done_at or a.starts_at or a.created_at
            entries.append(TimelineEntry(kind="activity", at=when, actor=a.owner, obj=a))
    if show in ("all", "comments"):
        for c in Comment.objects.filter(opportunity=opportunity).select_related("author"):
            entries.append(TimelineEntry(kind="comment", at=c.created_at, actor=c.author, obj=c))
        for f in Attachment.objects.filter(opportunity=opportunity).select_related("uploaded_by"):
            entries.append(
                TimelineEntry(kind="attachment", at=f.uploaded_at, actor=f.uploaded_by, obj=f)
            )
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries


def deal_contacts(opportunity: Opportunity) -> list[dict[str, Any]]:
    """The deal's contacts with their roles at the deal's account (D4)."""
    from salescope.accounts.models import AccountContact

    contacts = list(opportunity.contacts.all())
    roles: dict[int, list[str]] = {}
    if opportunity.account_id and contacts:
        for m in AccountContact.objects.filter(
            account_id=opportunity.account_id, contact__in=contacts
        ).prefetch_related("roles"):
            roles[m.contact_id] = [r.name for r in m.roles.all()]
    return [{"contact": c, "roles": roles.get(c.pk, [])} for c in contacts]


def account_contact_choices(opportunity: Opportunity) -> QuerySet[Any]:
    """Contacts at the deal's account (to pick the deal's contacts from)."""
    from salescope.accounts.models import Contact

    if not opportunity.account_id:
        return Contact.objects.none()
    return Contact.objects.filter(memberships__account_id=opportunity.account_id).order_by(
        "last_name", "first_name"
    )


def weighted_amount(opportunity: Opportunity) -> Decimal:
    """Amount × probability (the deal's contribution to the weighted pipeline)."""
    return quantize(opportunity.amount * opportunity.probability / 100)
