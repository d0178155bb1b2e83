"""Pure rules of an opportunity's life: snapshot, diff, replay and the transitions.

Nothing here touches the database. ``services`` wraps each transition in a transaction with
locking, permissions and event writing; the demo generator and imports apply the very same
transitions in memory and bulk-insert the result, so history written in bulk follows the
same rules as history written one click at a time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from salescope.core.errors import check_date_in_range, field_error, field_label
from salescope.core.money import parse_amount
from salescope.customfields.services import clean_custom_values, missing_for_stage
from salescope.pipeline.models import (
    EventKind,
    ForecastCategory,
    Opportunity,
    OpportunityEvent,
    Outcome,
    Stage,
    StageKind,
)

# The fields whose every change is an event, in the order events are written.
TRACKED_FIELDS: tuple[str, ...] = (
    "name",
    "stage",
    "account",
    "owner",
    "amount",
    "currency",
    "probability",
    "expected_close",
    "source",
    "forecast_category",
    "next_step",
    "outcome",
    "closed_on",
    "lost_reason",
    "lost_note",
    "custom",
)
_FK_FIELDS = {"stage", "account", "owner", "currency", "source", "lost_reason"}
MIN_DATE = dt.date(1990, 1, 1)
MAX_DATE = dt.date(2100, 12, 31)
MAX_NAME = 200
MAX_NEXT_STEP = 300


def _primitive(field: str, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return str(value.quantize(Decimal("0.01")))
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return dict(value)
    return value


def snapshot(opp: Opportunity) -> dict[str, Any]:
    """The tracked state of ``opp`` as JSON-ready primitives (ids for relations)."""
    state = {}
    for field in TRACKED_FIELDS:
        attr = f"{field}_id" if field in _FK_FIELDS else field
        state[field] = _primitive(field, getattr(opp, attr))
    return state


def differs_from(state: Mapping[str, Any], field: str, value: Any) -> bool:
    """Would setting ``field`` to ``value`` (model, Decimal, date...) change ``state``?"""
    if field not in state:
        return True
    if field in ("outcome", "closed_on", "lost_note") and value in (None, "") and not state[field]:
        return False
    candidate = getattr(value, "pk", value)
    if field == "amount" and not isinstance(candidate, Decimal):
        try:
            candidate = parse_amount(candidate)
        except ValidationError:
            return True
    if field == "custom" and isinstance(value, Mapping):
        current = state["custom"] or {}
        return any(current.get(k) != v for k, v in value.items())
    return _primitive(field, candidate) != state[field]


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[tuple[str, Any, Any]]:
    return [(f, before[f], after[f]) for f in TRACKED_FIELDS if before[f] != after[f]]


def replay(events: Iterable[tuple[str, Any, Any]]) -> dict[str, Any]:
    """Rebuild the tracked state from ``(kind, old, new)`` events in order."""
    state: dict[str, Any] = {}
    for kind, _old, new in events:
        if kind == EventKind.CREATED:
            state = dict(new)
        else:
            if not state:
                raise ValueError("History does not start with a 'created' event.")
            state[kind] = new
    return state


def build_events(
    *,
    opp: Opportunity,
    before: Mapping[str, Any] | None,
    verb: str,
    actor_id: int | None,
    at: dt.datetime,
    recorded_at: dt.datetime,
    origin: str,
    action_id: Any,
    reconstructed: bool = False,
) -> list[OpportunityEvent]:
    """Unsaved events describing the change from ``before`` (None: creation) to ``opp``."""
    after = snapshot(opp)
    common = dict(
        opportunity=opp,
        verb=verb,
        actor_id=actor_id,
        occurred_at=at,
        recorded_at=recorded_at,
        origin=origin,
        action_id=action_id,
        reconstructed=reconstructed,
    )
    if before is None:
        return [
            OpportunityEvent(
                kind=EventKind.CREATED,
                old_value=None,
                new_value=after,
                to_stage_id=after["stage"],
                **common,
            )
        ]
    events = []
    for field, old, new in diff(before, after):
        extra = {"from_stage_id": old, "to_stage_id": new} if field == "stage" else {}
        events.append(OpportunityEvent(kind=field, old_value=old, new_value=new, **extra, **common))
    return events


# --- value checks -------------------------------------------------------------------------


def check_probability(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise field_error(
            "probability",
            _("%(field)s must be a whole number from 0 to 100 (got %(value)r).")
            % {"field": field_label("probability"), "value": value},
        )
    if not 0 <= value <= 100:
        raise field_error(
            "probability",
            _("%(field)s must be between 0 and 100 (got %(value)s).")
            % {"field": field_label("probability"), "value": value},
        )
    return value


def check_date(field: str, value: Any) -> dt.date:
    return check_date_in_range(field, value, earliest=MIN_DATE, latest=MAX_DATE)


def check_name(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise field_error("name", _("%(field)s cannot be empty.") % {"field": field_label("name")})
    return check_text("name", value, MAX_NAME)


def check_text(field: str, value: Any, max_length: int | None = None) -> str:
    if not isinstance(value, str):
        raise field_error(
            field,
            _("%(field)s must be text (got %(value)r).")
            % {"field": field_label(field), "value": value},
        )
    if "\x00" in value:
        raise field_error(
            field,
            _("%(field)s contains a NUL character, which cannot be stored.")
            % {"field": field_label(field)},
        )
    if max_length is not None and len(value.strip()) > max_length:
        raise field_error(
            field,
            _("%(field)s is longer than %(max)s characters.")
            % {"field": field_label(field), "max": max_length},
        )
    return value.strip()


def check_forecast_category(value: Any) -> str:
    if value not in ForecastCategory.values or value == ForecastCategory.CLOSED:
        allowed = ", ".join(v for v in ForecastCategory.values if v != ForecastCategory.CLOSED)
        raise field_error(
            "forecast_category",
            _("%(field)s %(value)r is not one of %(allowed)s.")
            % {"field": field_label("forecast_category"), "value": value, "allowed": allowed},
        )
    return str(value)


def check_owner(owner: Any) -> None:
    from salescope.org.models import Role

    if owner is None or not getattr(owner, "pk", None):
        raise field_error("owner", _("%(field)s is required.") % {"field": field_label("owner")})
    if not owner.is_active:
        raise field_error(
            "owner",
            _("%(field)s %(user)s is deactivated.")
            % {"field": field_label("owner"), "user": owner},
        )
    if owner.role == Role.READ_ONLY:
        raise field_error(
            "owner",
            _("%(field)s %(user)s has a read-only role and cannot own deals.")
            % {"field": field_label("owner"), "user": owner},
        )


# The actions named in "Cannot …: the opportunity is won"; English text is the key.
_ACTIONS = {
    "move the stage": gettext_lazy("move the stage"),
    "change the probability": gettext_lazy("change the probability"),
    "change the expected close date": gettext_lazy("change the expected close date"),
    "change the forecast category": gettext_lazy("change the forecast category"),
    "mark it won": gettext_lazy("mark it won"),
    "mark it lost": gettext_lazy("mark it lost"),
}
_OUTCOMES = {
    "open": pgettext_lazy("opportunity outcome in messages", "open"),
    "won": pgettext_lazy("opportunity outcome in messages", "won"),
    "lost": pgettext_lazy("opportunity outcome in messages", "lost"),
}


def outcome_word(value: Any) -> str:
    return str(_OUTCOMES.get(str(value), value))


def require_open(opp: Opportunity, action: str) -> None:
    if opp.outcome != Outcome.OPEN:
        raise ValidationError(
            {
                "outcome": _("Cannot %(action)s: the opportunity is %(outcome)s. Reopen it first.")
                % {"action": _ACTIONS.get(action, action), "outcome": outcome_word(opp.outcome)}
            }
        )


def _gate(opp: Opportunity, stage: Stage, defs: Sequence[Any] | None) -> None:
    missing = missing_for_stage(
        values=opp.custom, stage=stage, defs=list(defs) if defs is not None else None
    )
    if missing:
        raise ValidationError(
            {
                f"custom.{d.key}": _("%(label)s is mandatory before entering “%(stage)s”.")
                % {"label": d.label, "stage": stage.name}
                for d in missing
            }
        )


def _merge_custom(
    opp: Opportunity,
    custom: Mapping[str, Any] | None,
    defs: Sequence[Any] | None,
    creating: bool = False,
) -> None:
    if custom is None and not creating:
        return
    opp.custom = clean_custom_values(
        target="opportunity",
        values=custom,
        previous=opp.custom,
        creating=creating,
        defs=list(defs) if defs is not None else None,
    )


# --- transitions (mutate ``opp`` in memory, raise ValidationError, write nothing) ----------


def init_opportunity(
    opp: Opportunity,
    *,
    name: Any,
    stage: Stage,
    owner: Any,
    amount: Any,
    currency: str,
    expected_close: Any,
    probability: Any = None,
    account: Any = None,
    source: Any = None,
    forecast_category: Any = None,
    next_step: Any = "",
    custom: Mapping[str, Any] | None = None,
    defs: Sequence[Any] | None = None,
    at: dt.datetime,
) -> None:
    errors: dict[str, Any] = {}

    def collect(fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except ValidationError as exc:
            errors.update(exc.message_dict)
            return None

    opp.name = collect(check_name, name)
    if stage is None:
        errors["stage"] = [_("%(field)s is required.") % {"field": field_label("stage")}]
    elif stage.kind != StageKind.OPEN:
        errors["stage"] = [
            _(
                "A new opportunity starts in an open stage, not “%(stage)s”; "
                "create it, then mark it won or lost."
            )
            % {"stage": stage.name}
        ]
    collect(check_owner, owner)
    opp.amount = collect(lambda: parse_amount(amount, field="amount"))
    opp.expected_close = collect(check_date, "expected_close", expected_close)
    if probability is not None:
        opp.probability = collect(check_probability, probability)
    opp.next_step = collect(check_text, "next_step", next_step or "", MAX_NEXT_STEP)
    opp.forecast_category = (
        collect(check_forecast_category, forecast_category)
        if forecast_category
        else ForecastCategory.PIPELINE
    )
    opp.custom = {}
    try:
        _merge_custom(opp, custom, defs, creating=True)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    opp.stage = stage
    opp.pipeline_id = stage.pipeline_id
    opp.owner = owner
    opp.currency_id = currency
    opp.account = account
    opp.source = source
    if probability is None:
        opp.probability = stage.default_probability
    opp.outcome = Outcome.OPEN
    opp.closed_on = None
    opp.lost_reason = None
    opp.lost_note = ""
    opp.stage_entered_at = at
    _gate(opp, stage, defs)


def move_to_stage(
    opp: Opportunity,
    *,
    stage: Stage,
    probability: Any = None,
    custom: Mapping[str, Any] | None = None,
    defs: Sequence[Any] | None = None,
) -> None:
    require_open(opp, "move the stage")
    if stage.pipeline_id != opp.pipeline_id:
        raise field_error(
            "stage",
            _("“%(stage)s” belongs to another pipeline than this opportunity.")
            % {"stage": stage.name},
        )
    if stage.kind != StageKind.OPEN:
        raise field_error(
            "stage",
            _("Use mark won / mark lost to close an opportunity, not a move to “%(stage)s”.")
            % {"stage": stage.name},
        )
    if stage.pk == opp.stage_id:
        raise field_error(
            "stage", _("The opportunity is already in “%(stage)s”.") % {"stage": stage.name}
        )
    if probability is not None:
        probability = check_probability(probability)
    _merge_custom(opp, custom, defs)
    _gate(opp, stage, defs)
    opp.stage = stage
    opp.probability = stage.default_probability if probability is None else probability


def change_amount(opp: Opportunity, *, amount: Any, currency: str | None = None) -> None:
    opp.amount = parse_amount(amount, field="amount")
    if currency is not None:
        opp.currency_id = currency


def change_probability(opp: Opportunity, *, probability: Any) -> None:
    require_open(opp, "change the probability")
    opp.probability = check_probability(probability)


def change_expected_close(opp: Opportunity, *, expected_close: Any) -> None:
    require_open(opp, "change the expected close date")
    opp.expected_close = check_date("expected_close", expected_close)


def reassign(opp: Opportunity, *, owner: Any) -> None:
    check_owner(owner)
    if owner.pk == opp.owner_id:
        raise field_error("owner", _("%(user)s already owns this opportunity.") % {"user": owner})
    opp.owner = owner


def set_forecast_category(opp: Opportunity, *, category: Any) -> None:
    require_open(opp, "change the forecast category")
    opp.forecast_category = check_forecast_category(category)


def mark_won(
    opp: Opportunity,
    *,
    won_stage: Stage,
    closed_on: dt.date,
    amount: Any = None,
    custom: Mapping[str, Any] | None = None,
    defs: Sequence[Any] | None = None,
) -> None:
    require_open(opp, "mark it won")
    if won_stage.pipeline_id != opp.pipeline_id or won_stage.kind != StageKind.WON:
        raise field_error("stage", _("The won stage must belong to the opportunity's pipeline."))
    check_date("closed_on", closed_on)
    if amount is not None:
        opp.amount = parse_amount(amount, field="amount")
    _merge_custom(opp, custom, defs)
    _gate(opp, won_stage, defs)
    opp.stage = won_stage
    opp.probability = 100
    opp.outcome = Outcome.WON
    opp.closed_on = closed_on
    opp.forecast_category = ForecastCategory.CLOSED


def mark_lost(
    opp: Opportunity, *, lost_stage: Stage, reason: Any, closed_on: dt.date, note: str = ""
) -> None:
    require_open(opp, "mark it lost")
    if reason is None or not getattr(reason, "pk", None):
        raise field_error(
            "lost_reason", _("A lost reason is mandatory when an opportunity is lost.")
        )
    if not reason.active:
        raise field_error(
            "lost_reason", _("Lost reason “%(reason)s” is no longer in use.") % {"reason": reason}
        )
    if lost_stage.pipeline_id != opp.pipeline_id or lost_stage.kind != StageKind.LOST:
        raise field_error("stage", _("The lost stage must belong to the opportunity's pipeline."))
    check_date("closed_on", closed_on)
    opp.lost_note = check_text("lost_note", note or "")
    opp.stage = lost_stage
    opp.probability = 0
    opp.outcome = Outcome.LOST
    opp.closed_on = closed_on
    opp.lost_reason = reason
    opp.forecast_category = ForecastCategory.OMITTED


def reopen(opp: Opportunity, *, stage: Stage, probability: Any = None) -> None:
    if opp.outcome == Outcome.OPEN:
        raise ValidationError({"outcome": _("The opportunity is already open.")})
    if stage.pipeline_id != opp.pipeline_id or stage.kind != StageKind.OPEN:
        raise field_error("stage", _("Reopen into an open stage of the opportunity's pipeline."))
    opp.stage = stage
    opp.probability = (
        stage.default_probability if probability is None else check_probability(probability)
    )
    opp.outcome = Outcome.OPEN
    opp.closed_on = None
    opp.lost_reason = None
    opp.lost_note = ""
    opp.forecast_category = ForecastCategory.PIPELINE


def change_lost_reason(opp: Opportunity, *, reason: Any, note: str | None = None) -> None:
    if opp.outcome != Outcome.LOST:
        raise field_error("lost_reason", _("Only a lost opportunity has a lost reason."))
    if reason is None or not getattr(reason, "pk", None):
        raise field_error(
            "lost_reason", _("A lost reason is mandatory when an opportunity is lost.")
        )
    if not reason.active and reason.pk != opp.lost_reason_id:
        raise field_error(
            "lost_reason", _("Lost reason “%(reason)s” is no longer in use.") % {"reason": reason}
        )
    opp.lost_reason = reason
    if note is not None:
        opp.lost_note = check_text("lost_note", note)


def update_details(
    opp: Opportunity,
    *,
    name: Any = None,
    account: Any = ...,
    source: Any = ...,
    next_step: Any = None,
    custom: Mapping[str, Any] | None = None,
    defs: Sequence[Any] | None = None,
) -> None:
    """Fields without consequences of their own (still recorded as history)."""
    if name is not None:
        opp.name = check_name(name)
    if account is not ...:
        opp.account = account
    if source is not ...:
        opp.source = source
    if next_step is not None:
        opp.next_step = check_text("next_step", next_step, MAX_NEXT_STEP)
    if custom is not None:
        _merge_custom(opp, custom, defs)
        if opp.outcome != Outcome.LOST:
            _gate(opp, opp.stage, defs)
