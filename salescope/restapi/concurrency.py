"""Optimistic concurrency over HTTP: ``ETag`` out, ``If-Match`` (or ``version``) in.

* Every single-record response carries ``ETag: "<version>"`` (:func:`set_etag`).
* Every PATCH and action needs the version the client loaded: the ``If-Match`` header
  (``"3"``, ``W/"3"`` or ``3``) or a ``version`` field in the body
  (:func:`expected_version`). Neither → **428**. Both and they disagree → **422**.
  ``If-Match: *`` means "whatever is current" (no check).
* A stale version: the service raises ``ConflictError``; the answer is **412** when the
  version came in ``If-Match`` and **409** when it came in the body, both with the message
  naming who changed the record and when.
"""

from __future__ import annotations

import re

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from salescope.core.errors import field_error
from salescope.restapi.errors import PreconditionFailed, PreconditionRequired

_ETAG = re.compile(r'^\s*(?:W/)?"?(\d{1,18})"?\s*$')
ANY = object()


def etag(version: int) -> str:
    return f'"{version}"'


def set_etag(response: HttpResponse, version: int) -> None:
    response["ETag"] = etag(version)


def if_match(request: HttpRequest) -> int | object | None:
    """The version in ``If-Match``: an int, ``ANY`` for ``*``, None when absent."""
    raw = request.headers.get("If-Match")
    if raw is None or not raw.strip():
        return None
    if raw.strip() == "*":
        return ANY
    match = _ETAG.match(raw)
    if match is None:
        raise PreconditionFailed(
            _('If-Match must be the ETag of the record, e.g. "3" (got %(value)s).')
            % {"value": raw[:40]}
        )
    return int(match.group(1))


def expected_version(
    request: HttpRequest, version: int | None = None, *, required: bool = True
) -> int | None:
    """The version the client loaded, for a service's ``expected_version``.

    ``version`` is the body field (None when not sent). Raises 428 when ``required`` and
    neither is sent; returns None for ``If-Match: *`` (no check).
    """
    header = if_match(request)
    if header is ANY:
        return None
    if isinstance(header, int):
        if version is not None and version != header:
            raise field_error("version", _("version and If-Match name different versions."))
        return header
    if version is not None:
        return version
    if required:
        raise PreconditionRequired(
            _("Send the version you loaded: an If-Match header or “version” in the body.")
        )
    return None
