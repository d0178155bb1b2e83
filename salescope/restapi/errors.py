"""One error body for every failure of the API, and the exception handlers producing it.

Every error response (400 is never used: malformed input is a 422) looks like::

    {"error": {"code": "invalid", "message": "amount cannot be negative.",
               "fields": {"amount": ["amount cannot be negative."]}}}

======  =======================  ===============================================
status  code                     raised by
======  =======================  ===============================================
401     ``not_authenticated``    no, an invalid, expired or revoked token / session
403     ``permission_denied``    ``PermissionDenied`` (read-only user, not allowed), CSRF
404     ``not_found``            ``Http404``, ``DoesNotExist``, invisible records
409     ``conflict``             ``ConflictError`` (stale ``version`` in the body)
412     ``precondition_failed``  stale or malformed ``If-Match``
422     ``invalid``              Django ``ValidationError``, malformed request data
428     ``precondition_required`` a write without ``If-Match`` or ``version``
======  =======================  ===============================================

Endpoints declare the statuses they may answer with ``response={200: Out, **errors.ITEM}``
(or ``LIST``, ``WRITE``, ``CREATE``), so the OpenAPI description is exact.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from salescope.core.errors import ConflictError

logger = logging.getLogger(__name__)

NON_FIELD = "__all__"


class ErrorDetail(Schema):
    code: str
    message: str
    fields: dict[str, list[str]] = {}


class ErrorBody(Schema):
    error: ErrorDetail


class PreconditionRequired(Exception):
    """A write needs the version the client loaded (``If-Match`` or ``version``)."""


class PreconditionFailed(Exception):
    """``If-Match`` does not name a version (or not the current one)."""


def _e(*codes: int) -> dict[int, type[ErrorBody]]:
    return dict.fromkeys(codes, ErrorBody)


#: Error statuses of the operations, to spread into ``response={...}``.
LIST = _e(401, 403, 422)
ITEM = _e(401, 403, 404, 422)
CREATE = _e(401, 403, 404, 422)
WRITE = _e(401, 403, 404, 409, 412, 422, 428)


def body(code: str, message: str, fields: dict[str, list[str]] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def validation_fields(exc: ValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {str(k): [str(m) for m in v] for k, v in exc.message_dict.items()}
    return {NON_FIELD: [str(m) for m in exc.messages]}


def _first(fields: dict[str, list[str]]) -> str:
    for messages in fields.values():
        if messages:
            return messages[0]
    return _("The request is not valid.")


def _ninja_fields(errors: list[dict[str, Any]]) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    for err in errors:
        loc = [str(p) for p in err.get("loc", ())]
        # ("body", "payload", "amount") → "amount"; ("query", "page") → "page"
        parts = loc[2:] if loc[:1] == ["body"] and len(loc) > 2 else loc[1:] or loc
        fields.setdefault(".".join(parts) or NON_FIELD, []).append(str(err.get("msg", "")))
    return fields


def install(api: NinjaAPI) -> None:
    """Register the handlers that turn exceptions into the one error body."""

    def respond(request: HttpRequest, status: int, payload: dict[str, Any]) -> HttpResponse:
        return api.create_response(request, payload, status=status)

    def on_validation(request: HttpRequest, exc: Any) -> HttpResponse:
        fields = validation_fields(exc)
        return respond(request, 422, body("invalid", _first(fields), fields))

    def on_ninja_validation(request: HttpRequest, exc: Any) -> HttpResponse:
        fields = _ninja_fields(exc.errors)
        return respond(request, 422, body("invalid", _first(fields), fields))

    def on_permission(request: HttpRequest, exc: Any) -> HttpResponse:
        message = str(exc) or _("You may not do this.")
        return respond(request, 403, body("permission_denied", message))

    def on_not_found(request: HttpRequest, exc: Any) -> HttpResponse:
        return respond(request, 404, body("not_found", _("Not found.")))

    def on_conflict(request: HttpRequest, exc: Any) -> HttpResponse:
        if request.headers.get("If-Match"):
            return respond(request, 412, body("precondition_failed", str(exc)))
        return respond(request, 409, body("conflict", str(exc)))

    def on_precondition_required(request: HttpRequest, exc: Any) -> HttpResponse:
        message = str(exc) or _("Send the version you loaded: an If-Match header or “version”.")
        return respond(request, 428, body("precondition_required", message))

    def on_precondition_failed(request: HttpRequest, exc: Any) -> HttpResponse:
        return respond(request, 412, body("precondition_failed", str(exc)))

    def on_authentication(request: HttpRequest, exc: Any) -> HttpResponse:
        response = respond(
            request,
            401,
            body("not_authenticated", _("Authentication required: send a valid API token.")),
        )
        response["WWW-Authenticate"] = 'Bearer realm="api"'
        return response

    def on_http_error(request: HttpRequest, exc: Any) -> HttpResponse:
        status = exc.status_code
        if status == 400:  # unparsable body or parameters: one status for bad input
            return respond(request, 422, body("invalid", str(exc)))
        codes = {401: "not_authenticated", 403: "permission_denied", 404: "not_found"}
        return respond(request, status, body(codes.get(status, "error"), str(exc)))

    def on_overflow(request: HttpRequest, exc: Any) -> HttpResponse:
        return respond(request, 422, body("invalid", _("A number is out of range.")))

    api.add_exception_handler(ValidationError, on_validation)
    api.add_exception_handler(NinjaValidationError, on_ninja_validation)
    api.add_exception_handler(PermissionDenied, on_permission)
    api.add_exception_handler(Http404, on_not_found)
    api.add_exception_handler(ObjectDoesNotExist, on_not_found)
    api.add_exception_handler(ConflictError, on_conflict)
    api.add_exception_handler(PreconditionRequired, on_precondition_required)
    api.add_exception_handler(PreconditionFailed, on_precondition_failed)
    api.add_exception_handler(AuthenticationError, on_authentication)
    api.add_exception_handler(HttpError, on_http_error)
    api.add_exception_handler(OverflowError, on_overflow)
