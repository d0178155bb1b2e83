"""Pages of the leads app: the leads list (the generic list framework's "leads" list)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from salescope.lists.views import list_page


def lead_list(request: HttpRequest) -> HttpResponse:
    return list_page(request, "leads")
