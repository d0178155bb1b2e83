"""Admin screens for custom fields (D3): list per model, create, edit, deactivate/activate.

Views parse input, call ``services`` and ``selectors``, and render; only administrators
may open them (others get 403).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from salescope.customfields import selectors, services
from salescope.customfields.forms import FieldDefinitionForm, apply_service_errors
from salescope.customfields.models import CustomFieldDefinition, FieldType, Target

View = Callable[..., HttpResponse]


def admin_only(view: View) -> View:
    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not services.can_define_fields(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def _target(value: str | None) -> str:
    if value in (None, ""):
        return Target.ACCOUNT
    if value not in Target.values:
        raise Http404
    return value


def _list_url(target: str) -> str:
    return f"{reverse('customfields:list')}?target={target}"


@admin_only
def field_list(request: HttpRequest) -> HttpResponse:
    target = _target(request.GET.get("target"))
    counts = selectors.count_by_target()
    tabs = [
        {
            "value": value,
            "label": label,
            "active": counts[value]["active"],
            "url": _list_url(value),
            "current": value == target,
        }
        for value, label in Target.choices
    ]
    return render(
        request,
        "customfields/list.html",
        {
            "target": target,
            "target_label": Target(target).label,
            "tabs": tabs,
            "fields": list(selectors.field_definitions(target, include_inactive=True)),
            "choice_types": (FieldType.CHOICE, FieldType.MULTI_CHOICE),
        },
    )


def _render_form(
    request: HttpRequest, form: FieldDefinitionForm, status: int = 200
) -> HttpResponse:
    return render(
        request,
        "customfields/form.html",
        {
            "form": form,
            "target": form.target,
            "target_label": Target(form.target).label,
            "definition": form.definition,
            "list_url": _list_url(form.target),
            "choice_types": [FieldType.CHOICE.value, FieldType.MULTI_CHOICE.value],
        },
        status=status,
    )


@admin_only
@require_http_methods(["GET", "POST"])
def field_create(request: HttpRequest, target: str) -> HttpResponse:
    target = _target(target)
    stages = selectors.gate_stages()
    if request.method != "POST":
        return _render_form(request, FieldDefinitionForm(target=target, stages=stages))
    form = FieldDefinitionForm(request.POST, target=target, stages=stages)
    if form.is_valid():
        try:
            definition = services.define_field(**form.service_kwargs())
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("Field “%(label)s” added.") % {"label": definition.label})
            return HttpResponseRedirect(_list_url(target))
    return _render_form(request, form, status=400)


@admin_only
@require_http_methods(["GET", "POST"])
def field_edit(request: HttpRequest, pk: int) -> HttpResponse:
    definition = get_object_or_404(
        CustomFieldDefinition.objects.select_related("required_from_stage__pipeline"), pk=pk
    )
    stages = selectors.gate_stages()
    if request.method != "POST":
        return _render_form(
            request,
            FieldDefinitionForm(target=definition.target, definition=definition, stages=stages),
        )
    form = FieldDefinitionForm(
        request.POST, target=definition.target, definition=definition, stages=stages
    )
    if form.is_valid():
        try:
            services.update_field(
                definition=definition, actor=request.user, **form.service_kwargs()
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(
                request, _("Field “%(label)s” saved.") % {"label": form.cleaned_data["label"]}
            )
            return HttpResponseRedirect(_list_url(definition.target))
    return _render_form(request, form, status=400)


@admin_only
@require_POST
def field_set_active(request: HttpRequest, pk: int, active: bool) -> HttpResponse:
    definition = get_object_or_404(CustomFieldDefinition, pk=pk)
    if active:
        services.update_field(definition=definition, actor=request.user, active=True)
        message = _("Field “%(label)s” is active again; its stored values show again.")
    else:
        services.deactivate_field(definition=definition, actor=request.user)
        message = _(
            "Field “%(label)s” deactivated: hidden from forms and pages, values kept in records."
        )
    messages.success(request, message % {"label": definition.label})
    return HttpResponseRedirect(_list_url(definition.target))
