"""Writes of the restapi app: create and revoke personal API tokens, record their use."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from salescope.core import clock
from salescope.core.errors import field_error, field_label
from salescope.org.models import User
from salescope.restapi.models import ApiToken

#: Every token starts with this marker, so leaked tokens are easy to recognise in logs.
TOKEN_MARKER = "sc_"
PREFIX_LENGTH = 8
MAX_NAME = 100
#: ``last_used_at`` is written at most this often per token (no write per request).
TOUCH_EVERY = dt.timedelta(minutes=1)


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    plain: str  # shown once, never stored


def hash_token(plain: str) -> str:
    return hashlib.sha256(plain.encode("utf-8", "surrogatepass")).hexdigest()


def create_token(
    *, user: User, name: str, expires_at: dt.datetime | None = None, actor: User | None = None
) -> NewToken:
    """Create a token for ``user``; the plain token is in the result and nowhere else."""
    actor = actor or user
    if actor.pk != user.pk and not actor.is_superuser:
        raise PermissionDenied(_("You can only create tokens for yourself."))
    if not user.is_active:
        raise field_error("user", _("Inactive users cannot have API tokens."))
    name = (name or "").replace("\x00", "").strip() if isinstance(name, str) else ""
    if not name:
        raise field_error("name", _("%(field)s is required.") % {"field": field_label("name")})
    if len(name) > MAX_NAME:
        raise field_error(
            "name",
            _("%(field)s is longer than %(max)s characters.")
            % {"field": field_label("name"), "max": MAX_NAME},
        )
    now = clock.now()
    if expires_at is not None:
        if expires_at.tzinfo is None:
            raise field_error("expires_at", _("The expiry needs a time zone."))
        if expires_at <= now:
            raise field_error("expires_at", _("The expiry must be in the future."))
    plain = TOKEN_MARKER + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user,
            name=name,
            prefix=plain[:PREFIX_LENGTH],
            secret_hash=hash_token(plain),
            created_at=now,
            expires_at=expires_at,
        )
    return NewToken(token=token, plain=plain)


def revoke_token(*, token: ApiToken, actor: User) -> ApiToken:
    """Revoke ``token`` (its owner or an admin); revoking twice keeps the first time."""
    with transaction.atomic():
        locked = ApiToken.objects.select_for_update().get(pk=token.pk)
        if locked.user_id != actor.pk and not actor.is_superuser:
            raise PermissionDenied(_("You can only revoke your own tokens."))
        if locked.revoked_at is None:
            locked.revoked_at = clock.now()
            locked.save(update_fields=["revoked_at"])
    return locked


def authenticate_token(plain: str) -> User | None:
    """The active user behind a valid, unrevoked, unexpired token, or None.

    The token is looked up by its hash and the hash compared in constant time.
    """
    if not plain or not plain.startswith(TOKEN_MARKER) or len(plain) > 200:
        return None
    digest = hash_token(plain)
    token = ApiToken.objects.select_related("user").filter(secret_hash=digest).first()
    if token is None or not hmac.compare_digest(token.secret_hash, digest):
        return None
    now = clock.now()
    if token.revoked_at is not None or (token.expires_at is not None and token.expires_at <= now):
        return None
    if not token.user.is_active:
        return None
    if token.last_used_at is None or now - token.last_used_at >= TOUCH_EVERY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
