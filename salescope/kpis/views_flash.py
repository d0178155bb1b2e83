"""Flash figures (K1) pages: the per-rep table of the home page (an htmx partial for managers
and administrators) and the page where a user chooses and orders their tiles."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from salescope.kpis import builtins, flash, queries, registry, services
from salescope.org.models import User

#: Names of the catalogue's categories, in the order the tiles page shows them.
CATEGORIES = {
    "outcomes": gettext_lazy("Outcomes"),
    "pipeline": gettext_lazy("Pipeline"),
    "funnel": gettext_lazy("Funnel"),
    "activity": gettext_lazy("Activity"),
}


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # login_required
    return user


@login_required
@require_GET
def flash_reps(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not flash.may_see_reps(user):
        raise PermissionDenied(_("Only managers and administrators see the figures per rep."))
    template = (
        "kpis/_flash_reps.html" if request.headers.get("HX-Request") else "kpis/flash_reps.html"
    )
    return render(request, template, {"table": flash.flash_by_rep(user)})


def _catalogue(chosen: list[str], positions: dict[str, str]) -> list[dict[str, Any]]:
    """The catalogue grouped by category, each KPI with whether it is chosen and its place."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for kpi in registry.all_kpis():
        groups.setdefault(kpi.category, []).append(
            {
                "kpi": kpi,
                "chosen": kpi.key in chosen,
                "position": positions.get(kpi.key, ""),
            }
        )
    order = list(CATEGORIES)
    return [
        {"key": key, "label": CATEGORIES.get(key, key.replace("_", " ").capitalize()),
         "items": items}
        for key, items in sorted(
            groups.items(), key=lambda g: (order.index(g[0]) if g[0] in order else 99, g[0])
        )
    ]  # fmt: skip


def _ordered(keys: list[str], positions: dict[str, str]) -> list[str]:
    """``keys`` sorted by the position typed beside them (keys without one keep their order,
    after those with one)."""

    def place(item: tuple[int, str]) -> tuple[int, int, int]:
        index, key = item
        raw = positions.get(key, "").strip()
        try:
            return (0, int(raw), index)
        except ValueError:
            return (1, 0, index)

    return [key for _i, key in sorted(enumerate(keys), key=place)]


def _render_tiles(
    request: HttpRequest,
    user: User,
    chosen: list[str],
    positions: dict[str, str],
    errors: list[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "kpis/flash_tiles.html",
        {
            "categories": _catalogue(chosen, positions),
            "chosen": chosen,
            "errors": errors or [],
            "custom": queries.has_custom_tiles(user),
            "current": queries.flash_kpis(user),
            "max_tiles": builtins.MAX_TILES,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def flash_tiles(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if request.method == "GET":
        chosen = [k.key for k in queries.flash_kpis(user)]
        positions = {key: str(i) for i, key in enumerate(chosen, start=1)}
        return _render_tiles(request, user, chosen, positions)
    restore = request.POST.get("action") == "restore"
    submitted = [k.strip() for k in request.POST.getlist("kpi") if k.strip()]
    positions = {
        name.removeprefix("position-"): str(value)
        for name, value in request.POST.items()
        if name.startswith("position-")
    }
    keys = [] if restore else _ordered(submitted, positions)
    if not restore and not keys:
        return _render_tiles(
            request, user, keys, positions,
            [_("Choose at least one figure, or restore the defaults.")], status=400,
        )  # fmt: skip
    try:
        services.set_flash_tiles(actor=user, kpis=keys)
    except ValidationError as exc:
        return _render_tiles(request, user, keys, positions, list(exc.messages), status=400)
    if restore:
        messages.success(request, _("Your flash figures are back to the defaults."))
    else:
        messages.success(request, _("Your flash figures are saved."))
    return HttpResponseRedirect(reverse("home"))


urlpatterns: list[URLPattern] = [
    path("flash/reps/", flash_reps, name="flash_reps"),
    path("flash/tiles/", flash_tiles, name="flash_tiles"),
]
