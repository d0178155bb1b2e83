"""Authentication of the API: a personal token (``Authorization: Bearer …``) or the session.

Both resolve to the ``org.User`` (``request.auth``); the API then applies exactly the
visibility and permissions of the UI. The session is for the browser (interactive docs,
scripts of the workspace): unsafe methods need the CSRF token (``X-CSRFToken``).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja.errors import HttpError
from ninja.security import HttpBearer
from ninja.security.apikey import APIKeyCookie
from ninja.utils import check_csrf

from salescope.restapi.services import authenticate_token

SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}


class TokenAuth(HttpBearer):
    """``Authorization: Bearer sc_…`` with a personal API token."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = authenticate_token(token.strip())
        if user is not None:
            request.user = user
        return user


class SessionAuth(APIKeyCookie):
    """The logged-in browser session; unsafe methods must pass Django's CSRF check."""

    param_name = settings.SESSION_COOKIE_NAME

    def __init__(self) -> None:
        super().__init__(csrf=False)  # checked below, only once we know there is a user

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not user.is_active:
            return None
        if request.method not in SAFE_METHODS and check_csrf(request) is not None:
            raise HttpError(403, _("CSRF check failed: send the X-CSRFToken header."))
        return user


token_auth = TokenAuth()
session_auth = SessionAuth()
#: The global auth of the API (set on the root ``NinjaAPI``).
AUTH = [token_auth, session_auth]
