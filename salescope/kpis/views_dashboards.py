"""Dashboards: the list (built-ins, mine, shared with me), one dashboard as a grid of widget
cards, its printable page, and the forms that change them.

Views parse input, call :mod:`salescope.kpis.services` and :mod:`salescope.kpis.queries`,
and render. A dashboard someone may not see is a 404; changing one that is not theirs is a
403 (the services say why). Every form posts and redirects, so it works without JavaScript;
with htmx the dashboard's grid is swapped in place and each widget loads on its own.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import NoReverseMatch, URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from salescope.core import clock
from salescope.core.errors import PermissionDenied, field_label
from salescope.kpis import builtins, queries, services
from salescope.kpis.models import Dashboard, Sharing, Widget, WidgetSize
from salescope.kpis.widgets import WidgetSpec
from salescope.org.models import User
from salescope.visibility import require_writer

if TYPE_CHECKING:
    from salescope.kpis.render import WidgetView

View = Callable[..., HttpResponse]

#: form fields of "Save to dashboard" that are not part of the widget's spec
_ADD_FIELDS = ("dashboard", "new_dashboard", "size", "csrfmiddlewaretoken")


# --- helpers ------------------------------------------------------------------------------


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # login_required
    return user


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def can_write(user: User) -> bool:
    """May ``user`` create dashboards (everyone but read-only and deactivated users)?"""
    try:
        require_writer(user, "")
    except PermissionDenied:
        return False
    return True


def _messages_of(exc: ValidationError) -> list[str]:
    """``field: message`` lines of a service's ValidationError."""
    if hasattr(exc, "error_dict"):
        return [
            f"{field_label(field)}: {message}" if field != "__all__" else str(message)
            for field, errors in exc.message_dict.items()
            for message in errors
        ]
    return [str(m) for m in exc.messages]


def _safe_reverse(name: str, *args: Any) -> str:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


def analysis_url(spec: WidgetSpec) -> str:
    """The Analysis page showing ``spec`` (to change it or save a variant)."""
    base = _safe_reverse("kpis:analysis")
    return f"{base}?{spec.querystring()}" if base else ""


def _dashboard(request: HttpRequest, pk: int) -> Dashboard:
    """A dashboard the user may see, else 404."""
    try:
        return queries.visible_dashboards(_user(request)).get(pk=pk)
    except Dashboard.DoesNotExist:
        raise Http404 from None


def _widget(request: HttpRequest, pk: int) -> Widget:
    """A widget of a dashboard the user may see, else 404."""
    visible = queries.visible_dashboards(_user(request)).values("pk")
    try:
        return Widget.objects.select_related("dashboard").get(pk=pk, dashboard__in=visible)
    except Widget.DoesNotExist:
        raise Http404 from None


def _builtin(key: str) -> builtins.BuiltinDashboard:
    try:
        return builtins.BUILTINS[key]
    except KeyError:
        raise Http404 from None


def _offset(request: HttpRequest) -> int:
    raw = request.POST.get("offset", "")
    try:
        return max(-1000, min(1000, int(raw)))
    except ValueError:
        return 0


# --- widget cards -------------------------------------------------------------------------


@dataclass
class Card:
    """One widget on a dashboard page: its chrome (title, formula, menu) and where its body
    comes from. ``spec`` is None when the stored definition no longer holds (``error``)."""

    key: str
    title: str
    size: str
    spec: WidgetSpec | None
    error: str = ""
    formula: str = ""
    kpi_name: str = ""
    body_url: str = ""
    analysis_url: str = ""
    pk: int | None = None
    first: bool = False
    last: bool = False
    view: WidgetView | None = None

    @property
    def other_size(self) -> str:
        return WidgetSize.HALF if self.size == WidgetSize.FULL else WidgetSize.FULL


def _card(
    *, key: str, spec_json: Any, title: str, size: str, body_url: str, pk: int | None = None
) -> Card:
    try:
        spec = spec_json if isinstance(spec_json, WidgetSpec) else WidgetSpec.from_json(spec_json)
    except ValidationError as exc:
        return Card(
            key=key,
            title=title or str(spec_json.get("kpi", "")),
            size=size,
            spec=None,
            error=" ".join(_messages_of(exc)),
            pk=pk,
        )
    if title and title != spec.title:
        spec = spec.with_(title=title)
    kpi = spec.kpi_def()
    return Card(
        key=key,
        title=spec.display_title(),
        size=size,
        spec=spec,
        formula=str(kpi.formula),
        kpi_name=str(kpi.name),
        body_url=body_url,
        analysis_url=analysis_url(spec),
        pk=pk,
    )


def widget_cards(dashboard: Dashboard) -> list[Card]:
    cards = [
        _card(
            key=f"w{w.pk}",
            spec_json=w.spec,
            title=w.title,
            size=w.size,
            body_url=reverse("kpis:widget", args=[w.pk]),
            pk=w.pk,
        )
        for w in dashboard.widgets.order_by("position", "pk")
    ]
    _mark_ends(cards)
    return cards


def builtin_cards(board: builtins.BuiltinDashboard) -> list[Card]:
    cards = [
        _card(
            key=f"b{index}",
            spec_json=w.spec,
            title=w.spec.title,
            size=w.size,
            body_url=reverse("kpis:builtin_widget", args=[board.key, index]),
        )
        for index, w in enumerate(board.widgets)
    ]
    _mark_ends(cards)
    return cards


def _mark_ends(cards: Sequence[Card]) -> None:
    if cards:
        cards[0].first = True
        cards[-1].last = True


def _fill(cards: Sequence[Card], user: User) -> None:
    """Compute every widget now (the printable page and ``?all=1``)."""
    from salescope.kpis.render import widget_view

    today = clock.today()
    for card in cards:
        if card.spec is not None:
            card.view = widget_view(card.spec, user, today=today)


def _widget_body(request: HttpRequest, card: Card) -> HttpResponse:
    if card.spec is None:
        return HttpResponse(format_html('<p class="error" role="alert">{}</p>', card.error))
    _fill([card], _user(request))
    return render(request, "kpis/_widget.html", {"w": card.view})


# --- the list -----------------------------------------------------------------------------


def _list_context(request: HttpRequest, form: dict[str, Any] | None = None) -> dict[str, Any]:
    user = _user(request)
    visible = list(queries.visible_dashboards(user).annotate(widget_count=Count("widgets")))
    mine = [d for d in visible if d.owner_id == user.pk]
    shared = sorted(
        (d for d in visible if d.owner_id != user.pk),
        key=lambda d: (d.name.lower(), d.pk),
    )
    return {
        "builtins": list(builtins.BUILTINS.values()),
        "default_builtin": builtins.default_dashboard_key(user.role),
        "mine": mine,
        "shared": shared,
        "can_create": can_write(user),
        "has_team": user.team_id is not None,
        "sharing_choices": Sharing.choices,
        "form": form or {"name": "", "sharing": Sharing.PRIVATE, "errors": []},
    }


@login_required
@require_http_methods(["GET", "POST"])
def dashboard_list(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return render(request, "kpis/dashboards.html", _list_context(request))
    name = request.POST.get("name", "")
    sharing = request.POST.get("sharing", Sharing.PRIVATE)
    try:
        dashboard = services.create_dashboard(actor=_user(request), name=name, sharing=sharing)
    except ValidationError as exc:
        form = {"name": name, "sharing": sharing, "errors": _messages_of(exc)}
        return render(request, "kpis/dashboards.html", _list_context(request, form), status=400)
    messages.success(
        request,
        _("Dashboard “%(name)s” created. Add widgets from the Analysis page.")
        % {"name": dashboard.name},
    )
    return HttpResponseRedirect(reverse("kpis:dashboard", args=[dashboard.pk]))


@login_required
@require_POST
def dashboard_move(request: HttpRequest, pk: int) -> HttpResponse:
    dashboard = _dashboard(request, pk)
    services.move_dashboard(actor=_user(request), dashboard=dashboard, offset=_offset(request))
    return HttpResponseRedirect(reverse("kpis:dashboards"))


# --- one dashboard ------------------------------------------------------------------------


def _page(
    request: HttpRequest,
    *,
    cards: list[Card],
    context: dict[str, Any],
    template: str = "kpis/dashboard.html",
    status: int = 200,
) -> HttpResponse:
    printing = template == "kpis/dashboard_print.html"
    if printing or request.GET.get("all") == "1":
        _fill(cards, _user(request))
    today = clock.today()
    return render(
        request,
        template,
        {
            **context,
            "cards": cards,
            "inline": printing or request.GET.get("all") == "1",
            "today": today,
            "printed_at": clock.now(),
            "can_create": can_write(_user(request)),
        },
        status=status,
    )


def _dashboard_context(request: HttpRequest, dashboard: Dashboard) -> dict[str, Any]:
    user = _user(request)
    editable = queries.can_edit_dashboard(user, dashboard)
    return {
        "dashboard": dashboard,
        "title": dashboard.name,
        "editable": editable,
        "is_owner": dashboard.owner_id == user.pk,
        "sharing_choices": Sharing.choices,
        "has_team": dashboard.owner.team_id is not None,
        "print_url": reverse("kpis:dashboard_print", args=[dashboard.pk]),
        "copy_url": reverse("kpis:dashboard_copy", args=[dashboard.pk]),
        "page_url": reverse("kpis:dashboard", args=[dashboard.pk]),
        "analysis_url": _safe_reverse("kpis:analysis"),
    }


@login_required
@require_GET
def dashboard_detail(request: HttpRequest, pk: int) -> HttpResponse:
    dashboard = _dashboard(request, pk)
    return _page(
        request,
        cards=widget_cards(dashboard),
        context=_dashboard_context(request, dashboard),
    )


@login_required
@require_GET
def dashboard_print(request: HttpRequest, pk: int) -> HttpResponse:
    dashboard = _dashboard(request, pk)
    return _page(
        request,
        cards=widget_cards(dashboard),
        context=_dashboard_context(request, dashboard),
        template="kpis/dashboard_print.html",
    )


def _builtin_context(board: builtins.BuiltinDashboard) -> dict[str, Any]:
    return {
        "builtin": board,
        "title": str(board.name),
        "editable": False,
        "print_url": reverse("kpis:builtin_dashboard_print", args=[board.key]),
        "copy_url": reverse("kpis:builtin_copy", args=[board.key]),
        "page_url": reverse("kpis:builtin_dashboard", args=[board.key]),
        "analysis_url": _safe_reverse("kpis:analysis"),
    }


@login_required
@require_GET
def builtin_dashboard(request: HttpRequest, key: str) -> HttpResponse:
    board = _builtin(key)
    return _page(request, cards=builtin_cards(board), context=_builtin_context(board))


@login_required
@require_GET
def builtin_dashboard_print(request: HttpRequest, key: str) -> HttpResponse:
    board = _builtin(key)
    return _page(
        request,
        cards=builtin_cards(board),
        context=_builtin_context(board),
        template="kpis/dashboard_print.html",
    )


@login_required
@require_GET
def widget_body(request: HttpRequest, pk: int) -> HttpResponse:
    """One widget's body (number, chart or table), loaded by its card."""
    widget = _widget(request, pk)
    card = _card(
        key=f"w{widget.pk}",
        spec_json=widget.spec,
        title=widget.title,
        size=widget.size,
        body_url="",
        pk=widget.pk,
    )
    return _widget_body(request, card)


@login_required
@require_GET
def builtin_widget_body(request: HttpRequest, key: str, index: int) -> HttpResponse:
    board = _builtin(key)
    if not 0 <= index < len(board.widgets):
        raise Http404
    item = board.widgets[index]
    card = _card(
        key=f"b{index}", spec_json=item.spec, title=item.spec.title, size=item.size, body_url=""
    )
    return _widget_body(request, card)


# --- changing a dashboard -----------------------------------------------------------------


@login_required
@require_POST
def dashboard_update(request: HttpRequest, pk: int) -> HttpResponse:
    dashboard = _dashboard(request, pk)
    name = request.POST.get("name")
    sharing = request.POST.get("sharing")
    try:
        services.update_dashboard(
            actor=_user(request), dashboard=dashboard, name=name, sharing=sharing
        )
    except ValidationError as exc:
        dashboard.refresh_from_db()
        return _page(
            request,
            cards=widget_cards(dashboard),
            context={
                **_dashboard_context(request, dashboard),
                "form_errors": _messages_of(exc),
                "form": {"name": name, "sharing": sharing},
            },
            status=400,
        )
    messages.success(request, _("Dashboard “%(name)s” saved.") % {"name": dashboard.name})
    return HttpResponseRedirect(reverse("kpis:dashboard", args=[dashboard.pk]))


@login_required
@require_POST
def dashboard_delete(request: HttpRequest, pk: int) -> HttpResponse:
    dashboard = _dashboard(request, pk)
    name = dashboard.name
    services.delete_dashboard(actor=_user(request), dashboard=dashboard)
    messages.success(request, _("Dashboard “%(name)s” deleted.") % {"name": name})
    return HttpResponseRedirect(reverse("kpis:dashboards"))


def _copy_name(request: HttpRequest, original: str) -> str:
    return request.POST.get("name") or _("Copy of %(name)s") % {"name": original}


def _copied(request: HttpRequest, copy: Dashboard) -> HttpResponse:
    messages.success(
        request,
        _("“%(name)s” is your own copy: change it as you like.") % {"name": copy.name},
    )
    return HttpResponseRedirect(reverse("kpis:dashboard", args=[copy.pk]))


def _copy_failed(request: HttpRequest, exc: ValidationError, back: str) -> HttpResponse:
    messages.error(request, " ".join(_messages_of(exc)))
    return HttpResponseRedirect(back)


@login_required
@require_POST
def dashboard_copy(request: HttpRequest, pk: int) -> HttpResponse:
    source = _dashboard(request, pk)
    try:
        copy = services.copy_dashboard(
            actor=_user(request), name=_copy_name(request, source.name)[:120], source=source
        )
    except ValidationError as exc:
        return _copy_failed(request, exc, reverse("kpis:dashboard", args=[source.pk]))
    return _copied(request, copy)


@login_required
@require_POST
def builtin_copy(request: HttpRequest, key: str) -> HttpResponse:
    board = _builtin(key)
    try:
        copy = services.copy_dashboard(
            actor=_user(request), name=_copy_name(request, str(board.name))[:120], builtin=key
        )
    except ValidationError as exc:
        return _copy_failed(request, exc, reverse("kpis:builtin_dashboard", args=[key]))
    return _copied(request, copy)


# --- changing a widget --------------------------------------------------------------------


def _to_dashboard(request: HttpRequest, widget: Widget) -> HttpResponse:
    return HttpResponseRedirect(reverse("kpis:dashboard", args=[widget.dashboard_id]))


@login_required
@require_POST
def widget_move(request: HttpRequest, pk: int) -> HttpResponse:
    widget = _widget(request, pk)
    services.move_widget(actor=_user(request), widget=widget, offset=_offset(request))
    return _to_dashboard(request, widget)


@login_required
@require_POST
def widget_size(request: HttpRequest, pk: int) -> HttpResponse:
    widget = _widget(request, pk)
    try:
        services.update_widget(actor=_user(request), widget=widget, size=request.POST.get("size"))
    except ValidationError as exc:
        messages.error(request, " ".join(_messages_of(exc)))
    return _to_dashboard(request, widget)


@login_required
@require_POST
def widget_remove(request: HttpRequest, pk: int) -> HttpResponse:
    widget = _widget(request, pk)
    title = str(widget)
    services.remove_widget(actor=_user(request), widget=widget)
    if not _is_htmx(request):
        messages.success(request, _("Widget “%(title)s” removed.") % {"title": title})
    return _to_dashboard(request, widget)


# --- saving a widget from the Analysis page -------------------------------------------------


def _spec_params(request: HttpRequest) -> Any:
    params = request.POST.copy()
    for name in _ADD_FIELDS:
        params.pop(name, None)
    return params


@login_required
@require_POST
def widget_add(request: HttpRequest) -> HttpResponse:
    """Save the Analysis page's widget to one of the user's dashboards or to a new one."""
    user = _user(request)
    post = request.POST
    dashboard_id = post.get("dashboard", "").strip()
    new_name = post.get("new_dashboard", "").strip()
    size = post.get("size", "") or WidgetSize.HALF
    title = post.get("title", "")
    errors: list[str] = []
    spec: WidgetSpec | None = None
    try:
        spec = WidgetSpec.from_params(_spec_params(request))
    except ValidationError as exc:
        errors += _messages_of(exc)
    target: Dashboard | None = None
    if not new_name and dashboard_id:
        try:
            target = queries.visible_dashboards(user).get(pk=int(dashboard_id))
        except (ValueError, Dashboard.DoesNotExist):
            errors.append(_("dashboard: no such dashboard; choose one of yours."))
    elif not new_name:
        errors.append(_("dashboard: choose a dashboard or name a new one."))
    if size not in WidgetSize.values:
        errors.append(_("size: Size is half or full."))
    widget: Widget | None = None
    status = 400
    if not errors:
        assert spec is not None
        try:
            widget = services.save_widget(
                actor=user,
                spec=spec,
                dashboard=target,
                new_dashboard=new_name,
                size=size,
                title=title,
            )
            target = widget.dashboard
        except ValidationError as exc:
            errors += _messages_of(exc)
        except PermissionDenied as exc:
            errors.append(str(exc) or _("You may not change this dashboard."))
            status = 403
    if errors or widget is None or target is None or spec is None:
        back = analysis_url(spec) if spec is not None else _safe_reverse("kpis:analysis")
        context = _list_context(request)
        context["add_errors"] = errors or [_("The widget was not saved.")]
        context["add_back_url"] = back
        return render(request, "kpis/dashboards.html", context, status=status)
    messages.success(
        request,
        _("“%(widget)s” saved to dashboard “%(dashboard)s”.")
        % {"widget": spec.with_(title=widget.title).display_title(), "dashboard": target.name},
    )
    return HttpResponseRedirect(reverse("kpis:dashboard", args=[target.pk]) + f"#w{widget.pk}")


urlpatterns: list[URLPattern] = [
    path("dashboards/", dashboard_list, name="dashboards"),
    path("dashboards/add-widget/", widget_add, name="widget_add"),
    path("dashboards/builtin/<str:key>/", builtin_dashboard, name="builtin_dashboard"),
    path(
        "dashboards/builtin/<str:key>/print/",
        builtin_dashboard_print,
        name="builtin_dashboard_print",
    ),
    path(
        "dashboards/builtin/<str:key>/widget/<int:index>/",
        builtin_widget_body,
        name="builtin_widget",
    ),
    path("dashboards/builtin/<str:key>/copy/", builtin_copy, name="builtin_copy"),
    path("dashboards/<int:pk>/", dashboard_detail, name="dashboard"),
    path("dashboards/<int:pk>/print/", dashboard_print, name="dashboard_print"),
    path("dashboards/<int:pk>/update/", dashboard_update, name="dashboard_update"),
    path("dashboards/<int:pk>/delete/", dashboard_delete, name="dashboard_delete"),
    path("dashboards/<int:pk>/copy/", dashboard_copy, name="dashboard_copy"),
    path("dashboards/<int:pk>/move/", dashboard_move, name="dashboard_move"),
    path("dashboards/widget/<int:pk>/", widget_body, name="widget"),
    path("dashboards/widget/<int:pk>/move/", widget_move, name="widget_move"),
    path("dashboards/widget/<int:pk>/size/", widget_size, name="widget_size"),
    path("dashboards/widget/<int:pk>/remove/", widget_remove, name="widget_remove"),
]
