"""Reads of the restapi app."""

from __future__ import annotations

from django.db.models import QuerySet

from salescope.org.models import User
from salescope.restapi.models import ApiToken


def tokens_of(user: User) -> QuerySet[ApiToken]:
    """The tokens of ``user`` (revoked ones too, newest first)."""
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-id")
