"""REST endpoints of the org app: users and teams (read), and ``/me``."""

import datetime as dt
from typing import Any, Literal

from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema

from salescope.lists.framework import search_q
from salescope.org.models import Team, User
from salescope.restapi import errors
from salescope.restapi.pagination import Pagination, paginate
from salescope.restapi.schemas import Id, PathId

router = Router(tags=["users and teams"])

RoleValue = Literal["admin", "manager", "rep", "marketing", "readonly"]


class TeamRef(Schema):
    id: int
    name: str


class UserOut(Schema):
    id: int
    username: str
    first_name: str
    last_name: str
    display_name: str
    email: str
    role: RoleValue
    team: TeamRef | None
    is_active: bool
    language: str
    hired_on: dt.date | None


class TeamOut(Schema):
    id: int
    name: str
    description: str
    manager: UserOut | None
    members: list[int] = Field(..., description="Ids of the active members.")


class UserFilters(Schema):
    role: list[RoleValue] | None = None
    team: list[Id] | None = None
    active: bool | None = Field(None, description="Only active (true) or inactive (false).")
    q: str | None = Field(None, max_length=200, description="Search in names and username.")


def _users() -> Any:
    return User.objects.select_related("team").order_by("first_name", "last_name", "id")


@router.get("/me", response={200: UserOut, **errors.ITEM})
def me(request: Any) -> Any:
    """The user the request authenticates as."""
    return _users().get(pk=request.auth.pk)


@router.get("/users", response={200: list[UserOut], **errors.LIST})
@paginate(Pagination)
def list_users(request: Any, filters: Query[UserFilters]) -> Any:
    """Every user of the company (names and roles are visible to every user, as in the UI)."""
    qs = _users()
    if filters.role:
        qs = qs.filter(role__in=filters.role)
    if filters.team:
        qs = qs.filter(team_id__in=filters.team)
    if filters.active is not None:
        qs = qs.filter(is_active=filters.active)
    if filters.q:
        qs = qs.filter(
            search_q(("first_name", "last_name", "username"), filters.q.replace("\x00", ""))
        )
    return qs


@router.get("/users/{user_id}", response={200: UserOut, **errors.ITEM})
def get_user(request: Any, user_id: PathId) -> Any:
    return get_object_or_404(_users(), pk=user_id)


def _team_out(team: Team) -> dict[str, Any]:
    return {
        "id": team.pk,
        "name": team.name,
        "description": team.description,
        "manager": team.manager,
        "members": sorted(m.pk for m in team.members.all() if m.is_active),
    }


def _teams() -> Any:
    return (
        Team.objects.select_related("manager__team")
        .prefetch_related("members")
        .order_by("name", "id")
    )


@router.get("/teams", response={200: list[TeamOut], **errors.LIST})
@paginate(Pagination)
def list_teams(request: Any) -> Any:
    return [_team_out(t) for t in _teams()]


@router.get("/teams/{team_id}", response={200: TeamOut, **errors.ITEM})
def get_team(request: Any, team_id: PathId) -> Any:
    return _team_out(get_object_or_404(_teams(), pk=team_id))
