"""REST endpoints of the activities app: list, get, create, change and complete activities.

The list filters, searches and sorts like the activities list of the UI; every write goes
through :mod:`salescope.activities.services`.
"""

import datetime as dt
from typing import Annotated, Any

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from salescope.accounts.selectors import accounts_for, contacts_for
from salescope.activities import services
from salescope.activities.models import Activity, ActivityType
from salescope.activities.selectors import activities_for, activity_types
from salescope.lists.definitions import LISTS
from salescope.org.models import User
from salescope.pipeline.selectors import opportunities_for
from salescope.restapi import errors
from salescope.restapi.concurrency import expected_version, set_etag
from salescope.restapi.lists import list_rows, query_schema
from salescope.restapi.pagination import Pagination, paginate
from salescope.restapi.resolve import many, one, require_writer
from salescope.restapi.schemas import Id, PathId, Ref

router = Router(tags=["activities"])

Subject = Annotated[str, Field(min_length=1, max_length=200)]
LongText = Annotated[str, Field(max_length=50_000)]
Outcome = Annotated[str, Field(max_length=300)]
Minutes = Annotated[int, Field(ge=0, le=100_000)]
Day = Annotated[dt.date, Field(ge=dt.date(1900, 1, 1), le=dt.date(2100, 12, 31))]
Moment = Annotated[
    dt.datetime,
    Field(
        ge=dt.datetime(1900, 1, 2, tzinfo=dt.UTC),
        le=dt.datetime(2100, 12, 30, tzinfo=dt.UTC),
        description="With a time zone, e.g. 2026-03-16T09:30:00Z.",
    ),
]


class ActivityTypeOut(Schema):
    id: int
    code: str
    name: str


class ActivityPerson(Schema):
    id: int
    name: str

    @staticmethod
    def resolve_name(obj: User) -> str:
        return str(obj)


class ActivityOut(Schema):
    id: int
    activity_type: ActivityTypeOut
    subject: str
    description: str
    owner: ActivityPerson
    assigned_by: ActivityPerson | None
    account: Ref | None
    opportunity: Ref | None
    contacts: list[int]
    due_on: dt.date | None
    starts_at: dt.datetime | None
    ends_at: dt.datetime | None
    done_at: dt.datetime | None
    duration_minutes: int | None
    outcome: str
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_contacts(obj: Activity) -> list[int]:
        return sorted(c.pk for c in obj.contacts.all())


class ActivityIn(Schema):
    activity_type: Id = Field(..., description="See /activity-types.")
    subject: Subject
    description: LongText = ""
    owner: Id | None = Field(None, description="Default: you.")
    account: Id | None = None
    opportunity: Id | None = None
    contacts: list[Id] = []
    due_on: Day | None = None
    starts_at: Moment | None = None
    ends_at: Moment | None = None
    duration_minutes: Minutes | None = None
    done: bool = Field(False, description="Log it as already done.")
    done_at: Moment | None = None
    outcome: Outcome = ""


class ActivityPatch(Schema):
    version: int | None = Field(None, description="The version you loaded (or If-Match).")
    activity_type: Id | None = None
    subject: Subject | None = None
    description: LongText | None = None
    owner: Id | None = None
    account: Id | None = None
    opportunity: Id | None = None
    contacts: list[Id] | None = None
    due_on: Day | None = None
    starts_at: Moment | None = None
    ends_at: Moment | None = None
    duration_minutes: Minutes | None = None
    outcome: Outcome | None = None


class CompleteIn(Schema):
    version: int | None = Field(None, description="The version you loaded (or If-Match).")
    done_at: Moment | None = Field(None, description="Default: now.")
    duration_minutes: Minutes | None = None
    outcome: Outcome = ""


ActivityFilters = query_schema(LISTS["activities"], "ActivityFilters")


def _resolve(user: User, values: dict[str, Any]) -> dict[str, Any]:
    out = dict(values)
    if "activity_type" in out:
        out["activity_type"] = one("activity_type", ActivityType, out["activity_type"])
    if "owner" in out:
        out["owner"] = one("owner", User, out["owner"])
    if "account" in out:
        out["account"] = one("account", accounts_for(user), out["account"])
    if "opportunity" in out:
        out["opportunity"] = one("opportunity", opportunities_for(user), out["opportunity"])
    if "contacts" in out:
        out["contacts"] = many("contacts", contacts_for(user), out["contacts"] or [])
    for field in ("description", "outcome"):
        if field in out and out[field] is None:
            out[field] = ""
    for field in ("subject", "activity_type", "owner"):
        if field in out and out[field] is None:
            out.pop(field)
    return out


def _activity(request: Any, activity_id: int, response: HttpResponse) -> Activity:
    activity = get_object_or_404(
        activities_for(request.auth)
        .select_related("activity_type", "owner", "assigned_by", "account", "opportunity")
        .prefetch_related("contacts"),
        pk=activity_id,
    )
    set_etag(response, activity.version)
    return activity


@router.get("/activity-types", response={200: list[ActivityTypeOut], **errors.LIST})
@paginate(Pagination)
def list_activity_types(request: Any) -> Any:
    return activity_types()


@router.get("/activities", response={200: list[ActivityOut], **errors.LIST})
@paginate(Pagination)
def list_activities(request: Any, filters: Query[ActivityFilters]) -> Any:  # type: ignore[valid-type]
    """Activities the user sees, filtered, searched and sorted like the activities list."""
    return (
        list_rows(LISTS["activities"], request)
        .select_related("activity_type", "owner", "assigned_by", "account", "opportunity")
        .prefetch_related("contacts")
    )


@router.get("/activities/{activity_id}", response={200: ActivityOut, **errors.ITEM})
def get_activity(request: Any, activity_id: PathId, response: HttpResponse) -> Any:
    return _activity(request, activity_id, response)


@router.post("/activities", response={201: ActivityOut, **errors.CREATE})
def create_activity(request: Any, payload: ActivityIn, response: HttpResponse) -> Any:
    """Plan an activity (or log a done one with ``done``/``done_at``)."""
    user = request.auth
    require_writer(user)
    activity = services.create_activity(actor=user, **_resolve(user, payload.dict()))
    return Status(201, _activity(request, activity.pk, response))


@router.patch("/activities/{activity_id}", response={200: ActivityOut, **errors.WRITE})
def patch_activity(
    request: Any, activity_id: PathId, payload: ActivityPatch, response: HttpResponse
) -> Any:
    user = request.auth
    require_writer(user)
    activity = _activity(request, activity_id, response)
    version = expected_version(request, payload.version)
    sent = payload.dict(exclude_unset=True, exclude={"version"})
    services.update_activity(
        activity=activity, actor=user, expected_version=version, **_resolve(user, sent)
    )
    return _activity(request, activity_id, response)


@router.post("/activities/{activity_id}/complete", response={200: ActivityOut, **errors.WRITE})
def complete(request: Any, activity_id: PathId, payload: CompleteIn, response: HttpResponse) -> Any:
    """Mark done (now or at ``done_at``) with the time spent."""
    user = request.auth
    require_writer(user)
    activity = _activity(request, activity_id, response)
    services.complete_activity(
        activity=activity,
        actor=user,
        done_at=payload.done_at,
        duration_minutes=payload.duration_minutes,
        outcome=payload.outcome,
        expected_version=expected_version(request, payload.version),
    )
    return _activity(request, activity_id, response)
