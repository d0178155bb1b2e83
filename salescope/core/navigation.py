"""The main navigation: one list, rendered by ``base.html`` (via the context processor)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

# (url name, label, who sees it: None = everyone logged in, "staff" = admins, or the dotted
# path of a predicate taking the user, e.g. the import permission check)
NAV: list[tuple[str, Any, str | None]] = [
    ("home", _("Home"), None),
    ("pipeline:board", _("Pipeline"), None),
    ("lists:deals", _("Deals"), None),
    ("lists:accounts", _("Accounts"), None),
    ("lists:contacts", _("Contacts"), None),
    ("activities:agenda", _("Agenda"), None),
    ("kpis:dashboards", _("Dashboards"), None),
    ("kpis:analysis", _("Analysis"), None),
    ("leads:list", _("Leads"), None),
    ("imports:index", _("Import"), "salescope.imports.services.can_import"),
]

# The settings pages, in the user menu (so the main bar keeps to the daily work).
SETTINGS: list[tuple[str, Any, str | None]] = [
    ("restapi:tokens", _("API tokens"), None),
    ("customfields:list", _("Custom fields"), "staff"),
    ("webhooks:list", _("Webhooks"), "staff"),
    ("admin:index", _("Back office"), "staff"),
]


def nav_items(
    request: HttpRequest, entries: list[tuple[str, Any, str | None]] | None = None
) -> list[dict[str, Any]]:
    """The entries of ``entries`` (default: the main navigation) this user may open."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return []
    items = []
    path = request.path
    for name, label, audience in NAV if entries is None else entries:
        if audience == "staff" and not user.is_staff:
            continue
        if audience not in (None, "staff") and not import_string(audience)(user):
            continue
        try:
            url = reverse(name)
        except NoReverseMatch:
            continue  # the page's app is not installed yet
        items.append({"url": url, "label": label, "active": False})
    # the entry whose address is the longest start of the path (/analysis/dashboards/ is
    # "Dashboards", not also "Analysis")
    matches = [i for i in items if (path == "/" if i["url"] == "/" else path.startswith(i["url"]))]
    if matches:
        max(matches, key=lambda i: len(i["url"]))["active"] = True
    return items


def settings_items(request: HttpRequest) -> list[dict[str, Any]]:
    return nav_items(request, SETTINGS)
