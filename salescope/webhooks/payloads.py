"""The ``data`` part of webhook payloads: stable, JSON-safe dicts of deals, activities, imports.

The shapes are part of the public contract documented in ``docs/webhooks.md``; add keys,
never rename or remove them.
"""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from typing import Any

MAX_TEXT = 2000


def _iso(value: dt.date | dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def user_ref(user: Any) -> dict[str, Any] | None:
    if user is None:
        return None
    return {"id": user.pk, "username": user.get_username(), "name": str(user)}


def _ref(obj: Any, **extra: Any) -> dict[str, Any] | None:
    if obj is None:
        return None
    return {"id": obj.pk, "name": str(obj), **extra}


def stage_ref(stage: Any) -> dict[str, Any] | None:
    if stage is None:
        return None
    return {"id": stage.pk, "name": stage.name, "kind": stage.kind}


def deal(opp: Any) -> dict[str, Any]:
    """A deal in the shape of the REST API's opportunity (``OpportunityOut``), JSON-safe."""
    from salescope.pipeline.api import OpportunityOut

    data: dict[str, Any] = OpportunityOut.from_orm(opp).model_dump(mode="json")
    return data


def activity(act: Any) -> dict[str, Any]:
    kind = act.activity_type
    return {
        "id": act.pk,
        "subject": act.subject,
        "type": {"code": kind.code, "name": kind.name},
        "owner": user_ref(act.owner),
        "account": _ref(act.account),
        "deal": _ref(act.opportunity),
        "due_on": _iso(act.due_on),
        "starts_at": _iso(act.starts_at),
        "ends_at": _iso(act.ends_at),
        "done_at": _iso(act.done_at),
        "duration_minutes": act.duration_minutes,
        "outcome": act.outcome,
        "version": act.version,
    }


def json_value(value: Any) -> Any:
    """``value`` made JSON-safe: dates ISO, decimals and UUIDs as text, long text truncated."""
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, str):
        return value if len(value) <= MAX_TEXT else value[:MAX_TEXT] + "…"
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return str(value)


#: The columns of an import job passed on (those the job has); its creator as a user.
IMPORT_FIELDS = (
    "status",
    "preset",
    "dry_run",
    "total_rows",
    "summary",
    "message",
    "created_at",
    "started_at",
    "finished_at",
)


def import_job(job: Any) -> dict[str, Any]:
    """An import job's outcome: id, status, counts (``summary``), times and who started it.

    The import engine owns the job's shape; the fields it has of :data:`IMPORT_FIELDS` are
    passed on as they are (JSON-safe).
    """
    data: dict[str, Any] = {"id": json_value(getattr(job, "pk", None))}
    for name in IMPORT_FIELDS:
        if hasattr(job, name):
            data[name] = json_value(getattr(job, name))
    if hasattr(job, "created_by"):
        data["created_by"] = user_ref(job.created_by)
    return data
