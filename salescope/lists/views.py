"""HTML views: parse input, call services/selectors, render. No business rules here."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from salescope.accounts.models import Tag
from salescope.core import clock
from salescope.lists import exports, services
from salescope.lists.definitions import ADD_TAG, LISTS, REASSIGN, REMOVE_TAG
from salescope.lists.framework import (
    MONEY,
    PAGE_SIZES,
    ChoiceFilter,
    Column,
    Filter,
    JsonValueFilter,
    ListSpec,
    ListState,
    RangeFilter,
    TextFilter,
    attr_path,
    link_pattern,
    parse_state,
)
from salescope.lists.models import SavedView
from salescope.lists.selectors import custom_definitions, list_queryset, saved_views
from salescope.org.models import Role, User

COLOUR = re.compile(r"^#[0-9a-fA-F]{3,8}$")
ACTION_LABELS = {
    REASSIGN: gettext_lazy("Reassign to…"),
    ADD_TAG: gettext_lazy("Add tag…"),
    REMOVE_TAG: gettext_lazy("Remove tag…"),
}


def _spec(key: str) -> ListSpec:
    spec = LISTS.get(key)
    if spec is None:
        raise Http404
    return spec


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # login_required
    return user


def _list_url(key: str) -> str:
    try:
        return reverse(f"lists:{key}")
    except NoReverseMatch:  # a list served by its own app, e.g. leads:list
        return reverse(f"{key}:list")


def _view_url(view: SavedView) -> str:
    query = view.query_string
    cols = "&".join(f"cols={c}" for c in view.columns)
    parts = [p for p in (query, cols, f"view={view.pk}") if p]
    return _list_url(view.list_key) + "?" + "&".join(parts)


def _state(request: HttpRequest, spec: ListSpec) -> tuple[ListState, list[Column], list[Filter]]:
    defs = custom_definitions(spec)
    columns = spec.all_columns(defs)
    filters = spec.all_filters(defs)
    state = parse_state(spec, request.GET, columns=columns, filters=filters)
    return state, columns, filters


def _can_write(user: User) -> bool:
    return user.is_active and (user.is_superuser or user.role != Role.READ_ONLY)


def _filter_widgets(
    filters: list[Filter], state: ListState, user: User
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The filter fields of the form, and a chip for every active filter."""
    widgets, chips = [], []
    for flt in filters:
        value = state.filters.get(flt.key)
        item: dict[str, Any] = {"filter": flt, "key": flt.key, "label": flt.label, "value": value}
        if isinstance(flt, ChoiceFilter | JsonValueFilter):
            options = flt.options(user)
            selected = {str(v) for v in value} if isinstance(value, list) else {str(value)}
            item.update(widget="select", options=options, selected=selected)
            if value is not None:
                names = dict(options)
                shown = ", ".join(names.get(v, v) for v in sorted(selected))
                chips.append({"label": flt.label, "text": shown, "key": flt.key})
        elif isinstance(flt, RangeFilter):
            low, high = value if value is not None else (None, None)
            item.update(widget=flt.widget, low=low, high=high)
            if value is not None:
                chips.append({"label": flt.label, "text": _range_text(low, high), "key": flt.key})
        elif isinstance(flt, TextFilter):
            item.update(widget="text")
            if value is not None:
                chips.append({"label": flt.label, "text": value, "key": flt.key})
        widgets.append(item)
    for chip in chips:
        flt = next(f for f in filters if f.key == chip["key"])
        chip["url"] = "?" + state.query(drop=flt.params())
    return widgets, chips


def _range_text(low: Any, high: Any) -> str:
    from salescope.core import formatting

    def show(v: Any) -> str:
        return formatting.date(v) if isinstance(v, dt.date) else formatting.number(v)

    if low is not None and high is not None:
        return f"{show(low)} – {show(high)}"
    if low is not None:
        return _("from %(value)s") % {"value": show(low)}
    return _("until %(value)s") % {"value": show(high)}


def _rows(objects: Any, state: ListState) -> list[dict[str, Any]]:
    patterns = {c.key: link_pattern(c.link) for c in state.columns}
    rows = []
    for obj in objects:
        cells = []
        for column in state.columns:
            value = column.value_of(obj)
            pattern = patterns[column.key]
            target = attr_path(obj, column.link_attr) if pattern else None
            colour = column.colour(obj) if column.colour else None
            cells.append(
                {
                    "col": column,
                    "value": value,
                    "empty": value is None or value == "" or value == [],
                    "currency": column.currency_of(obj) if column.fmt == MONEY else None,
                    "url": pattern.format(pk=target) if pattern and target else None,
                    "badge": column.badge(obj) if column.badge else "",
                    "colour": colour if colour and COLOUR.match(colour) else None,
                    "has_time": isinstance(value, dt.datetime),
                }
            )
        rows.append({"pk": obj.pk, "cells": cells})
    return rows


def _headers(state: ListState) -> list[dict[str, Any]]:
    out = []
    for column in state.columns:
        current = column.key == state.sort_key
        header: dict[str, Any] = {"col": column, "current": current, "url": None}
        if column.sortable:
            descending = current and not state.descending
            header["url"] = "?" + state.query(sort=("-" if descending else "") + column.key)
            header["aria_sort"] = (
                ("descending" if state.descending else "ascending") if current else "none"
            )
        out.append(header)
    return out


@login_required
def list_page(request: HttpRequest, key: str) -> HttpResponse:
    spec = _spec(key)
    user = _user(request)
    views = list(saved_views(user, key))
    if not request.GET:
        default = next((v for v in views if v.is_default), None)
        if default is not None:
            return redirect(_view_url(default))
    state, columns, filters = _state(request, spec)
    qs = list_queryset(spec, user, state, filters)
    page = Paginator(qs, state.per_page).get_page(state.page)
    widgets, chips = _filter_widgets(filters, state, user)
    visible = {c.key for c in state.columns}
    can_write = _can_write(user) and bool(spec.bulk_actions)
    tags = list(Tag.objects.select_related("category")) if can_write and {
        ADD_TAG, REMOVE_TAG
    } & set(spec.bulk_actions) else []  # fmt: skip
    owners = list(User.objects.filter(is_active=True).exclude(role=Role.READ_ONLY))
    active_view = request.GET.get("view", "")
    try:
        create_url = reverse(spec.create_url) if spec.create_url else None
    except NoReverseMatch:
        create_url = None
    context = {
        "spec": spec,
        "state": state,
        "page": page,
        "rows": _rows(page.object_list, state),
        "headers": _headers(state),
        "filters": widgets,
        "chips": chips,
        "active_filters": len(chips),
        "columns": [
            {"col": c, "checked": c.key in visible, "custom": c.custom is not None} for c in columns
        ],
        "page_sizes": PAGE_SIZES,
        "saved_views": [
            {
                "view": v,
                "url": _view_url(v),
                "active": str(v.pk) == active_view,
                "delete_url": reverse("lists:delete_view", args=[key, v.pk]),
            }
            for v in views
        ],
        "save_url": reverse("lists:save_view", args=[key]),
        "bulk_url": reverse("lists:bulk", args=[key]),
        "current_view": next((v for v in views if str(v.pk) == active_view), None),
        "page_query": state.query(),
        "filter_query": state.filter_query(),
        "csv_url": reverse("lists:export", args=[key, "csv"]) + "?" + state.query(),
        "xlsx_url": reverse("lists:export", args=[key, "xlsx"]) + "?" + state.query(),
        "bulk_actions": [(a, ACTION_LABELS[a]) for a in spec.bulk_actions] if can_write else [],
        "owners": owners,
        "tags": tags,
        "create_url": create_url,
        "list_url": _list_url(key),
    }
    return render(request, "lists/list.html", context)


def deals(request: HttpRequest) -> HttpResponse:
    return list_page(request, "deals")


def accounts(request: HttpRequest) -> HttpResponse:
    return list_page(request, "accounts")


def contacts(request: HttpRequest) -> HttpResponse:
    return list_page(request, "contacts")


def activities(request: HttpRequest) -> HttpResponse:
    return list_page(request, "activities")


@login_required
def export(request: HttpRequest, key: str, fmt: str) -> HttpResponse:
    spec = _spec(key)
    user = _user(request)
    if fmt not in ("csv", "xlsx"):
        raise Http404
    state, _columns, filters = _state(request, spec)
    qs = list_queryset(spec, user, state, filters)
    stamp = clock.today().isoformat()
    filename = f"{key}-{stamp}.{fmt}"
    response: HttpResponse | StreamingHttpResponse
    if fmt == "csv":
        response = StreamingHttpResponse(
            exports.csv_stream(qs, state.columns), content_type="text/csv; charset=utf-8"
        )
    else:
        data = exports.xlsx_bytes(qs, state.columns, title=str(spec.title))
        response = HttpResponse(data, content_type=exports.XLSX_MIME)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response  # type: ignore[return-value]


def _ids(request: HttpRequest) -> list[int]:
    return [int(v) for v in request.POST.getlist("ids") if v.isdigit() and len(v) < 18]


def _back(key: str, request: HttpRequest) -> HttpResponse:
    query = request.POST.get("next", "").lstrip("?").replace("\n", "").replace("\r", "")
    return redirect(_list_url(key) + ("?" + query if query else "?clear=1"))


def _lookup(model: Any, raw: str, **filters: Any) -> Any:
    if not raw.isdigit() or len(raw) > 18:
        return None
    return model.objects.filter(pk=int(raw), **filters).first()


@login_required
@require_POST
def bulk(request: HttpRequest, key: str) -> HttpResponse:
    spec = _spec(key)
    user = _user(request)
    action = request.POST.get("action", "")
    ids = _ids(request)
    try:
        if action not in spec.bulk_actions:
            raise ValidationError({"action": _("Choose what to do with the selected rows.")})
        if action == REASSIGN:
            owner = _lookup(User, request.POST.get("owner", ""), is_active=True)
            count = services.bulk_reassign(list_key=key, actor=user, ids=ids, owner=owner)
            if count:
                messages.success(
                    request,
                    ngettext(
                        "%(count)d record given to %(owner)s.",
                        "%(count)d records given to %(owner)s.",
                        count,
                    )
                    % {"count": count, "owner": owner},
                )
            else:
                messages.info(request, _("Nothing to change: %(owner)s already owns them.")
                              % {"owner": owner})  # fmt: skip
        else:
            tag = _lookup(Tag, request.POST.get("tag", ""))
            count = services.bulk_tag(list_key=key, actor=user, ids=ids, tag=tag, action=action)
            done = (
                ngettext("Tag “%(tag)s” added to %(count)d record.",
                         "Tag “%(tag)s” added to %(count)d records.", count)
                if action == ADD_TAG
                else ngettext("Tag “%(tag)s” removed from %(count)d record.",
                              "Tag “%(tag)s” removed from %(count)d records.", count)
            )  # fmt: skip
            messages.success(request, done % {"tag": tag.name if tag else "", "count": count})
    except services.BulkActionError as exc:
        messages.error(request, str(exc))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return _back(key, request)


@login_required
@require_POST
def save_view(request: HttpRequest, key: str) -> HttpResponse:
    _spec(key)
    user = _user(request)
    try:
        view = services.save_view(
            user=user,
            list_key=key,
            name=request.POST.get("name", ""),
            query_string=request.POST.get("query_string", ""),
            columns=request.POST.getlist("cols"),
            is_default=request.POST.get("is_default") == "on",
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return _back(key, request)
    messages.success(request, _("View “%(name)s” saved.") % {"name": view.name})
    return redirect(_view_url(view))


@login_required
@require_POST
def delete_view(request: HttpRequest, key: str, pk: int) -> HttpResponse:
    _spec(key)
    user = _user(request)
    try:
        services.delete_view(user=user, view_id=pk)
    except SavedView.DoesNotExist:
        raise Http404 from None
    messages.success(request, _("View deleted."))
    return redirect(_list_url(key) + "?clear=1")
