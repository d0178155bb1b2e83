"""Every write to an opportunity: named verbs, one transaction each, each writing its history.

A verb loads the row under lock, checks the caller may change it and that nobody saved it
since they loaded it (``expected_version``), applies the pure transition from
:mod:`salescope.pipeline.domain`, saves, and appends one event per changed field, all in
one transaction. After commit it sends :data:`opportunity_changed` (automation listens).

``actor=None`` means the system (imports, automation, demo); it skips the permission check.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import django.dispatch
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from salescope.core import clock
from salescope.core.concurrency import check_version
from salescope.core.errors import field_error, field_label
from salescope.customfields.models import Target
from salescope.customfields.services import definitions
from salescope.org.models import Currency, User
from salescope.pipeline import domain
from salescope.pipeline.models import (
    EventKind,
    EventOrigin,
    LostReason,
    Opportunity,
    OpportunityEvent,
    Outcome,
    Pipeline,
    Stage,
    StageKind,
)
from salescope.visibility import require_change

#: Sent after commit with ``opportunity``, ``verb``, ``events`` (list) and ``actor``.
opportunity_changed = django.dispatch.Signal()


def _check_currency(code: Any) -> str:
    if not isinstance(code, str) or not Currency.objects.filter(code=code, active=True).exists():
        raise field_error(
            "currency",
            _("%(field)s %(value)r is not an active currency.")
            % {"field": field_label("currency"), "value": code},
        )
    return code


def _emit(opp: Opportunity, verb: str, events: list[OpportunityEvent], actor: User | None) -> None:
    transaction.on_commit(
        lambda: opportunity_changed.send(
            sender=Opportunity, opportunity=opp, verb=verb, events=events, actor=actor
        )
    )


def _write(
    opp: Opportunity, *, before: dict[str, Any] | None, verb: str, actor: User | None, origin: str
) -> list[OpportunityEvent]:
    now = clock.now()
    events = domain.build_events(
        opp=opp,
        before=before,
        verb=verb,
        actor_id=actor.pk if actor else None,
        at=now,
        recorded_at=now,
        origin=origin,
        action_id=uuid.uuid4(),
    )
    return OpportunityEvent.objects.bulk_create(events)


def _apply(
    opportunity: Opportunity,
    *,
    verb: str,
    actor: User | None,
    expected_version: int | None,
    origin: str,
    mutate: Callable[[Opportunity], None],
) -> Opportunity:
    with transaction.atomic():
        opp = (
            Opportunity.objects.select_for_update(of=("self",))
            .select_related("stage", "updated_by", "owner")
            .get(pk=opportunity.pk)
        )
        if actor is not None:
            require_change(actor, opp)
        check_version(opp, expected_version)
        before = domain.snapshot(opp)
        mutate(opp)
        changed = domain.diff(before, domain.snapshot(opp))
        if not changed:
            return opp
        now = clock.now()
        if any(field == "stage" for field, _o, _n in changed):
            opp.stage_entered_at = now
        opp.version += 1
        opp.updated_at = now
        opp.updated_by = actor
        opp.full_clean(
            exclude=["contacts", "products", "shared_with", "custom"], validate_unique=False
        )
        opp.save()
        events = _write(opp, before=before, verb=verb, actor=actor, origin=origin)
        _emit(opp, verb, events, actor)
    return opp


def _defs() -> list[Any]:
    return definitions(Target.OPPORTUNITY)


def stage_of_kind(pipeline_id: int, kind: str) -> Stage:
    try:
        return Stage.objects.get(pipeline_id=pipeline_id, kind=kind)
    except Stage.DoesNotExist:
        raise field_error(
            "stage",
            _("The pipeline has no %(kind)s stage; an admin must add one.")
            % {"kind": domain.outcome_word(kind)},
        ) from None


@transaction.atomic
def create_opportunity(
    *,
    actor: User | None,
    name: str,
    stage: Stage,
    amount: Any,
    expected_close: dt.date,
    owner: User | None = None,
    currency: str | None = None,
    probability: int | None = None,
    account: Any = None,
    source: Any = None,
    products: Iterable[Any] = (),
    contacts: Iterable[Any] = (),
    forecast_category: str | None = None,
    next_step: str = "",
    custom: Mapping[str, Any] | None = None,
    origin: str = EventOrigin.UI,
) -> Opportunity:
    """Create an opportunity in an open stage; probability defaults to the stage's."""
    from salescope.org.selectors import company_currency

    owner = owner or actor
    if actor is not None and actor.role == "readonly":
        raise field_error("owner", _("Read-only users cannot create opportunities."))
    if (
        actor is not None
        and owner is not None
        and owner.pk != actor.pk
        and actor.role in ("rep", "marketing")
    ):
        # Reps create for themselves; hand-over goes through ``reassign``.
        raise field_error("owner", _("You can only create opportunities that you own."))
    currency = _check_currency(currency or company_currency())
    if stage is None or not isinstance(stage, Stage):
        raise field_error("stage", _("%(field)s is required.") % {"field": field_label("stage")})
    if not stage.pipeline.active:
        raise field_error(
            "stage", _("Pipeline “%(pipeline)s” is archived.") % {"pipeline": stage.pipeline}
        )
    now = clock.now()
    opp = Opportunity(created_at=now, updated_at=now, created_by=actor, updated_by=actor)
    domain.init_opportunity(
        opp,
        name=name,
        stage=stage,
        owner=owner,
        amount=amount,
        currency=currency,
        expected_close=expected_close,
        probability=probability,
        account=account,
        source=source,
        forecast_category=forecast_category,
        next_step=next_step,
        custom=custom,
        defs=_defs(),
        at=now,
    )
    opp.full_clean(exclude=["contacts", "products", "shared_with", "custom"], validate_unique=False)
    opp.save()
    if products:
        opp.products.set(products)
    if contacts:
        opp.contacts.set(contacts)
    events = _write(opp, before=None, verb="create_opportunity", actor=actor, origin=origin)
    _emit(opp, "create_opportunity", events, actor)
    return opp


def move_to_stage(
    *,
    opportunity: Opportunity,
    stage: Stage,
    actor: User | None,
    probability: int | None = None,
    custom: Mapping[str, Any] | None = None,
    expected_version: int | None = None,
    origin: str = EventOrigin.UI,
) -> Opportunity:
    """Move to another open stage. Probability becomes the stage's default unless given here.

    Missing fields that are mandatory from ``stage`` on can be supplied in ``custom``.
    """
    defs = _defs()
    return _apply(
        opportunity,
        verb="move_to_stage",
        actor=actor,
        expected_version=expected_version,
        origin=origin,
        mutate=lambda o: domain.move_to_stage(
            o, stage=stage, probability=probability, custom=custom, defs=defs
        ),
    )


def change_amount(
    *,
    opportunity: Opportunity,
    amount: Any,
    actor: User | None,
    currency: str | None = None,
    expected_version: int | None = None,
    origin: str = EventOrigin.UI,
) -> Opportunity:
    if currency is not None:
        _check_currency(currency)
    return _apply(
        opportunity,
        verb="change_amount",
        actor=actor,
        expected_version=expected_version,
        origin=origin,
        mutate=lambda o: domain.change_amount(o, amount=amount, currency=currency),
    )


def change_probability(
    *,
    opportunity: Opportunity,
    probability: int,
    actor: User | None,
    expected_version: int | None = None,
    origin: str = EventOrigin.UI,
) -> Opportunity:
    return _apply(
        opportunity,
        verb="change_probability",
        actor=actor,
        expected_version=expected_version,
        origin=origin,
        mutate=lambda o: domain.change_probability(o, probability=probability),
    )


def change_expected_close(
    *,
    opportunity: Opportunity,
    expected_close: dt.date,
    actor: User | None,
    expected_version: int | None = None,
    origin: str = EventOrigin.UI,
) -> Opportunity:
    return _apply(
        opportunity,
        verb="change_expected_close",
        actor=actor,
        expected_version=expected_version,
        origin=origin,
        mutate=lambda o: domain.change_expected_close(o, expected_close=expected_close),
    )


def reassign(
    *,
    opportunity: Opportunity,
    owner: User,
    actor: User | None,
    expected_version: int | None = None,
    origin: str = EventOrigin.UI,
) -> Opportunity:
    """Hand the opportunity over to ``owner`` (recorded as an owner event: P6 hand-over)."""
    return _apply(
        opportunity,
        verb="reassign",
        actor=actor,
        expected_version=expected_version,
        origin=origin,
        mutate=lambda o: domain.reassign(o, owner=owner),
    )


def set_forecast_category(
    *,
    opportunity: Opportunity,
    category: str,
    actor: User | None,
    expected_version: int | None = None,
    origin: str = EventOrigin.UI,
) -> Opportunity:
    return _apply(
        opportunity,
        verb="set_forecast_category",
        actor=actor,
        expected_version=expected_version,
        origin=origin,
        mutate=lambda o: domain.set_forecast_category(o, category=category),
    )


def _closing_date(closed_on: dt.date | None) -> dt.date:
    today = clock.today()
    if closed_on is None:
        return today
    domain.check_date("closed_on", closed_on)
    if closed_on > today:
        raise field_error(
            "closed_on",
            _("%(field)s %(value)s is in the future.")
            % {"field": field_label("closed_on"), "value": closed_on.isoformat()},
        )
    return closed_on


def mark_won(
    *,
    opportunity: Opportunity,
    actor: User | None,
    closed_on: dt.date | None = None,
    amount: Any = None,
    custom: Mapping[str, Any] | None = None,
    expected_version: int | None = None,
    origin: str = EventOrigin.UI,
) -> Opportunity:
    won = stage_of_kind(opportunity.pipeline_id, StageKind.WON)
    day = _closing_date(closed_on)
    defs = _defs()
    return _apply(
        opportunity,
        verb="mark_won",
        actor=actor,
        expected_version=expected_version,
        origin=origin,
        mutate=lambda o: domain.mark_won(
            o, won_stage=won, closed_on=day, amount=amount, custom=custom, defs=defs
        ),
    )


def mark_lost(
    *,
    opportunity: Opportunity,
    reason: LostReason | None,
    actor: User | None,
    note: str = "",
    closed_on: dt.date | None = None,
    expected_version: int | None = None,
    origin: str = EventOrigin.UI,
) -> Opportunity:
    lost = stage_of_kind(opportunity.pipeline_id, StageKind.LOST)
    day = _closing_date(closed_on)
    return _apply(
        opportunity,
        verb="mark_lost",
        actor=actor,
        expected_version=expected_version,
        origin=origin,
        mutate=lambda o: domain.mark_lost(
            o, lost_stage=lost, reason=reason, closed_on=day, note=note
        ),
    )


def stage_before_close(opportunity: Opportunity) -> Stage | None:
    """The open stage the opportunity was in when it was last closed (from its history)."""
    event = (
        OpportunityEvent.objects.filter(
            opportunity=opportunity, kind=EventKind.STAGE, from_stage__kind=StageKind.OPEN
        )
        .exclude(to_stage__kind=StageKind.OPEN)
        .order_by("-occurred_at", "-id")
        .select_related("from_stage")
        .first()
    )
    return event.from_stage if event else None


def reopen(
    *,
    opportunity: Opportunity,
    actor: User | None,
    stage: Stage | None = None,
    probability: int | None = None,
    expected_version: int | None = None,
    origin: str = EventOrigin.UI,
) -> Opportunity:
    """Reopen a won or lost opportunity into ``stage`` (default: the stage it closed from)."""
    target = (
        stage
        or stage_before_close(opportunity)
        or (
            Stage.objects.filter(pipeline_id=opportunity.pipeline_id, kind=StageKind.OPEN)
            .order_by("order")
            .first()
        )
    )
    if target is None:
        raise field_error("stage", _("The pipeline has no open stage to reopen into."))
    return _apply(
        opportunity,
        verb="reopen",
        actor=actor,
        expected_version=expected_version,
        origin=origin,
        mutate=lambda o: domain.reopen(o, stage=target, probability=probability),
    )


def update_details(
    *,
    opportunity: Opportunity,
    actor: User | None,
    name: str | None = None,
    account: Any = ...,
    source: Any = ...,
    next_step: str | None = None,
    custom: Mapping[str, Any] | None = None,
    expected_version: int | None = None,
    origin: str = EventOrigin.UI,
) -> Opportunity:
    """Change name, account, source, next step or custom fields (each recorded as history)."""
    defs = _defs()
    return _apply(
        opportunity,
        verb="update_details",
        actor=actor,
        expected_version=expected_version,
        origin=origin,
        mutate=lambda o: domain.update_details(
            o,
            name=name,
            account=account,
            source=source,
            next_step=next_step,
            custom=custom,
            defs=defs,
        ),
    )


def _set_relation(
    opportunity: Opportunity,
    actor: User | None,
    relation: str,
    items: Iterable[Any],
    expected_version: int | None,
) -> None:
    """Replace a many-to-many relation (not tracked history) under the row lock, versioned."""
    with transaction.atomic():
        opp = (
            Opportunity.objects.select_for_update(of=("self",))
            .select_related("updated_by")
            .get(pk=opportunity.pk)
        )
        if actor is not None:
            require_change(actor, opp)
        check_version(opp, expected_version)
        getattr(opp, relation).set(items)
        Opportunity.objects.filter(pk=opp.pk).update(
            version=opp.version + 1, updated_at=clock.now(), updated_by=actor
        )


def set_products(
    *,
    opportunity: Opportunity,
    products: Iterable[Any],
    actor: User | None,
    expected_version: int | None = None,
) -> None:
    _set_relation(opportunity, actor, "products", products, expected_version)


def set_contacts(
    *,
    opportunity: Opportunity,
    contacts: Iterable[Any],
    actor: User | None,
    expected_version: int | None = None,
) -> None:
    _set_relation(opportunity, actor, "contacts", contacts, expected_version)


def share(
    *,
    opportunity: Opportunity,
    users: Iterable[User],
    actor: User | None,
    expected_version: int | None = None,
) -> None:
    """Share with ``users`` (replaces the previous list): they may see and work the deal."""
    _set_relation(opportunity, actor, "shared_with", users, expected_version)


def change_lost_reason(
    *,
    opportunity: Opportunity,
    reason: LostReason | None,
    actor: User | None,
    note: str | None = None,
    expected_version: int | None = None,
    origin: str = EventOrigin.UI,
) -> Opportunity:
    """Correct the lost reason (and note) of a lost opportunity."""
    return _apply(
        opportunity,
        verb="change_lost_reason",
        actor=actor,
        expected_version=expected_version,
        origin=origin,
        mutate=lambda o: domain.change_lost_reason(o, reason=reason, note=note),
    )


UPDATABLE_FIELDS = frozenset(
    {
        "name", "account", "source", "next_step", "custom", "stage", "probability", "amount",
        "currency", "expected_close", "owner", "forecast_category", "outcome", "closed_on",
        "lost_reason", "lost_note",
    }
)  # fmt: skip


@transaction.atomic
def update_opportunity(
    *,
    opportunity: Opportunity,
    actor: User | None,
    changes: Mapping[str, Any],
    expected_version: int | None = None,
    origin: str = EventOrigin.UI,
) -> Opportunity:
    """Apply a form's worth of changes through the verbs, in one transaction.

    Used by the back office and inline editing: each field that differs from the state the
    form was loaded from is routed to its verb, so history and rules are the same as for
    single actions. The permission and the version are checked once, up front. A requested
    change that no verb can apply (e.g. a new stage for a won deal) is an error, never
    silently dropped; any error rolls the whole form back.
    """
    opp = (
        Opportunity.objects.select_for_update(of=("self",))
        .select_related("updated_by")
        .get(pk=opportunity.pk)
    )
    if actor is not None:
        require_change(actor, opp)
    check_version(opp, expected_version)
    unknown = set(changes) - UPDATABLE_FIELDS
    if unknown:
        raise ValidationError(
            {
                k: _("%(field)s cannot be changed here.") % {"field": field_label(k)}
                for k in sorted(unknown)
            }
        )
    loaded = domain.snapshot(opp)
    wanted = {f: v for f, v in changes.items() if domain.differs_from(loaded, f, v)}
    applied: set[str] = set()
    target = wanted.get("outcome", opp.outcome)
    if target not in Outcome.values:
        raise field_error(
            "outcome",
            _("%(field)s %(value)r is not one of %(allowed)s.")
            % {
                "field": field_label("outcome"),
                "value": target,
                "allowed": ", ".join(Outcome.values),
            },
        )

    def run(fields: set[str], verb: Callable[..., Opportunity], **kwargs: Any) -> None:
        nonlocal opp
        opp = verb(opportunity=opp, actor=actor, origin=origin, **kwargs)
        applied.update(fields)

    details = {
        k: wanted[k] for k in ("name", "account", "source", "next_step", "custom") if k in wanted
    }
    if details:
        run(set(details), update_details, **details)
    if "owner" in wanted:
        run({"owner"}, reassign, owner=wanted["owner"])
    if {"amount", "currency"} & set(wanted):
        run({"amount", "currency"}, change_amount, amount=changes.get("amount", opp.amount),
            currency=getattr(wanted.get("currency"), "pk", wanted.get("currency")))  # fmt: skip
    if opp.outcome != Outcome.OPEN and target != opp.outcome:
        # Reopen first (also on the way from won to lost or back, so history shows both).
        reopen_stage = wanted.get("stage") if target == Outcome.OPEN else None
        run({"outcome"} | ({"stage"} if reopen_stage else set()), reopen, stage=reopen_stage)
    closing = target != Outcome.OPEN
    if closing and {"stage", "probability", "forecast_category"} & set(wanted) - applied:
        raise ValidationError(
            {f: _("%(field)s is set by marking the opportunity %(outcome)s; leave it unchanged.")
                % {"field": field_label(f), "outcome": domain.outcome_word(target)}
             for f in sorted({"stage", "probability", "forecast_category"} & set(wanted))}
        )  # fmt: skip
    if opp.outcome == Outcome.OPEN:
        if "stage" in wanted and "stage" not in applied:
            run({"stage", "probability"}, move_to_stage, stage=wanted["stage"],
                probability=wanted.get("probability"))  # fmt: skip
        elif "probability" in wanted:
            run({"probability"}, change_probability, probability=wanted["probability"])
        if "expected_close" in wanted:
            run({"expected_close"}, change_expected_close, expected_close=wanted["expected_close"])
        if "forecast_category" in wanted:
            run({"forecast_category"}, set_forecast_category, category=wanted["forecast_category"])
        if target == Outcome.WON:
            run({"outcome", "closed_on"}, mark_won, closed_on=wanted.get("closed_on"))
        elif target == Outcome.LOST:
            run({"outcome", "closed_on", "lost_reason", "lost_note"}, mark_lost,
                reason=changes.get("lost_reason"), note=changes.get("lost_note") or "",
                closed_on=wanted.get("closed_on"))  # fmt: skip
    elif opp.outcome == Outcome.LOST and {"lost_reason", "lost_note"} & set(wanted):
        reason = changes.get("lost_reason", opp.lost_reason)
        run({"lost_reason", "lost_note"}, change_lost_reason, reason=reason,
            note=changes.get("lost_note"))  # fmt: skip
    ignored = set(wanted) - applied
    if ignored:
        if opp.outcome == Outcome.OPEN:
            why = _("%(field)s is only used when the opportunity is marked won or lost.")
        else:
            why = _(
                "%(field)s cannot be changed while the opportunity is %(outcome)s; reopen it first."
            )
        outcome = domain.outcome_word(opp.outcome)
        raise ValidationError(
            {f: why % {"field": field_label(f), "outcome": outcome} for f in sorted(ignored)}
        )
    return opp


@transaction.atomic
def create_pipeline(
    *, name: str, stages: list[dict[str, Any]], is_default: bool = False, description: str = ""
) -> Pipeline:
    """Create a pipeline with its open stages (in order) plus a Won and a Lost stage.

    ``stages`` items: ``name``, ``probability``, optional ``rotting_days``, ``function``.
    """
    if not name or not name.strip():
        raise field_error("name", _("Pipeline name cannot be empty."))
    if Pipeline.objects.filter(name=name.strip()).exists():
        raise field_error("name", _("A pipeline named %(name)r already exists.") % {"name": name})
    if not stages:
        raise field_error("stages", _("A pipeline needs at least one open stage."))
    pipeline = Pipeline.objects.create(
        name=name.strip(),
        is_default=is_default,
        description=description,
        order=Pipeline.objects.count(),
    )
    order = 0
    for order, spec in enumerate(stages, start=1):
        prob = spec.get("probability")
        if isinstance(prob, bool) or not isinstance(prob, int) or not 0 <= prob <= 100:
            raise field_error(
                "stages",
                _("Stage %(name)r: probability must be 0 to 100.") % {"name": spec.get("name")},
            )
        Stage.objects.create(
            pipeline=pipeline,
            name=spec["name"],
            order=order,
            kind=StageKind.OPEN,
            default_probability=prob,
            rotting_days=spec.get("rotting_days"),
            owning_function=spec.get("function", ""),
            checklist=spec.get("checklist", []),
        )
    Stage.objects.create(
        pipeline=pipeline, name="Won", order=order + 1, kind=StageKind.WON, default_probability=100
    )
    Stage.objects.create(
        pipeline=pipeline, name="Lost", order=order + 2, kind=StageKind.LOST, default_probability=0
    )
    return pipeline
