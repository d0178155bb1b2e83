"""Turn product signals into webhook events (connected in ``apps.WebhooksConfig.ready``).

Every receiver runs after the change was committed. It must never break the change that
triggered it, so a failure is logged, not raised.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from salescope.webhooks import payloads, services
from salescope.webhooks.models import EventType

logger = logging.getLogger(__name__)

#: Verbs that are events of their own; any other verb that changed the stage is a stage change.
_VERB_EVENTS = {
    "create_opportunity": EventType.DEAL_CREATED,
    "mark_won": EventType.DEAL_WON,
    "mark_lost": EventType.DEAL_LOST,
}
#: Bulk writers' history does not trigger webhooks (an import sends one ``import.finished``).
_SILENT_ORIGINS = {"import", "demo"}


def deal_event_type(verb: str, events: Iterable[Any]) -> str | None:
    """The webhook event for one verb's history rows, or ``None`` when there is none."""
    kinds = {getattr(e, "kind", None) for e in events}
    if verb in _VERB_EVENTS:
        return _VERB_EVENTS[verb]
    if "stage" in kinds:
        return EventType.DEAL_STAGE_CHANGED
    return None


def _stage_move(events: Iterable[Any]) -> tuple[Any, Any] | None:
    for event in events:
        if getattr(event, "kind", None) == "stage":
            return event.from_stage, event.to_stage
    return None


def on_opportunity_changed(
    sender: Any, *, opportunity: Any, verb: str, events: list[Any], actor: Any, **kwargs: Any
) -> None:
    try:
        kind = deal_event_type(verb, events)
        if kind is None or not services.wanted_by(kind):
            return
        if any(getattr(e, "origin", None) in _SILENT_ORIGINS for e in events):
            return
        data: dict[str, Any] = {
            "deal": payloads.deal(opportunity),
            "actor": payloads.user_ref(actor),
        }
        move = _stage_move(events)
        if move is not None and kind != EventType.DEAL_CREATED:
            data["from_stage"] = payloads.stage_ref(move[0])
            data["to_stage"] = payloads.stage_ref(move[1])
        services.record_event(event_type=kind, data=data)
    except Exception:
        logger.exception("Webhook event for opportunity %s (%s) not recorded", opportunity.pk, verb)


def on_activity_completed(sender: Any, *, activity: Any, actor: Any, **kwargs: Any) -> None:
    try:
        if not services.wanted_by(EventType.ACTIVITY_DONE):
            return
        services.record_event(
            event_type=EventType.ACTIVITY_DONE,
            data={"activity": payloads.activity(activity), "actor": payloads.user_ref(actor)},
        )
    except Exception:
        logger.exception("Webhook event for activity %s not recorded", activity.pk)


def on_import_finished(sender: Any, *, job: Any, **kwargs: Any) -> None:
    try:
        if not services.wanted_by(EventType.IMPORT_FINISHED):
            return
        services.record_event(
            event_type=EventType.IMPORT_FINISHED, data={"import": payloads.import_job(job)}
        )
    except Exception:
        logger.exception("Webhook event for import %s not recorded", getattr(job, "pk", job))
