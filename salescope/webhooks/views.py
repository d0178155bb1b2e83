"""Webhook screens for administrators: subscriptions, their secret, test ping, delivery log.

Views parse input, call ``services`` and ``selectors`` and render; others get 403.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from salescope.core.errors import ConflictError
from salescope.customfields.forms import apply_service_errors
from salescope.webhooks import selectors, services
from salescope.webhooks.forms import SubscriptionForm
from salescope.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookSubscription

View = Callable[..., HttpResponse]
PAGE_SIZE = 50


def admin_only(view: View) -> View:
    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not services.can_manage_webhooks(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def _get(request: HttpRequest, pk: int) -> WebhookSubscription:
    try:
        return selectors.subscription(request.user, pk)
    except WebhookSubscription.DoesNotExist:
        raise Http404 from None


def _detail_url(sub: WebhookSubscription | int) -> str:
    return reverse("webhooks:detail", args=[getattr(sub, "pk", sub)])


def _posted_version(request: HttpRequest) -> int | None:
    raw = request.POST.get("version", "")
    return int(raw) if raw.isdigit() else None


@admin_only
def subscription_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "webhooks/list.html",
        {"subscriptions": list(selectors.subscriptions(request.user)), "statuses": DeliveryStatus},
    )


def _render_form(request: HttpRequest, form: SubscriptionForm, status: int = 200) -> HttpResponse:
    return render(
        request,
        "webhooks/form.html",
        {"form": form, "subscription": form.subscription},
        status=status,
    )


@admin_only
@require_http_methods(["GET", "POST"])
def subscription_create(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _render_form(request, SubscriptionForm())
    form = SubscriptionForm(request.POST)
    if form.is_valid():
        try:
            sub = services.create_subscription(actor=request.user, **form.service_kwargs())
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("Subscription “%(name)s” created. Give its signing secret to the receiver.")
                % {"name": sub.name},
            )
            return HttpResponseRedirect(_detail_url(sub))
    return _render_form(request, form, status=400)


@admin_only
@require_http_methods(["GET", "POST"])
def subscription_edit(request: HttpRequest, pk: int) -> HttpResponse:
    sub = _get(request, pk)
    if request.method != "POST":
        return _render_form(request, SubscriptionForm(subscription=sub))
    form = SubscriptionForm(request.POST, subscription=sub)
    if form.is_valid():
        try:
            services.update_subscription(
                actor=request.user,
                subscription=sub,
                expected_version=form.cleaned_data["version"],
                **form.service_kwargs(),
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        except ConflictError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Subscription “%(name)s” saved.") % {"name": sub.name})
            return HttpResponseRedirect(_detail_url(sub))
    return _render_form(request, form, status=400)


@admin_only
def subscription_detail(request: HttpRequest, pk: int) -> HttpResponse:
    sub = _get(request, pk)
    status = request.GET.get("status", "")
    if status not in DeliveryStatus.values:
        status = ""
    log = selectors.deliveries(request.user, subscription=sub, status=status or None)
    page = Paginator(log, PAGE_SIZE).get_page(request.GET.get("page"))
    for delivery in page.object_list:
        text = json.dumps(delivery.payload, indent=2, ensure_ascii=False)
        setattr(delivery, "payload_json", text)  # noqa: B010 - a display-only attribute
    return render(
        request,
        "webhooks/detail.html",
        {
            "subscription": sub,
            "page": page,
            "deliveries": page.object_list,
            "status": status,
            "statuses": DeliveryStatus.choices,
        },
    )


@admin_only
@require_POST
def subscription_rotate(request: HttpRequest, pk: int) -> HttpResponse:
    sub = _get(request, pk)
    try:
        services.rotate_secret(
            actor=request.user, subscription=sub, expected_version=_posted_version(request)
        )
    except ConflictError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("New signing secret generated. Update the receiver: the old one no longer works."),
        )
    return HttpResponseRedirect(_detail_url(sub))


@admin_only
@require_POST
def subscription_ping(request: HttpRequest, pk: int) -> HttpResponse:
    sub = _get(request, pk)
    services.send_ping(actor=request.user, subscription=sub)
    messages.success(request, _("Test ping sent; its outcome shows in the delivery log."))
    return HttpResponseRedirect(_detail_url(sub))


@admin_only
@require_POST
def subscription_delete(request: HttpRequest, pk: int) -> HttpResponse:
    sub = _get(request, pk)
    try:
        services.delete_subscription(
            actor=request.user, subscription=sub, expected_version=_posted_version(request)
        )
    except ConflictError as exc:
        messages.error(request, str(exc))
        return HttpResponseRedirect(_detail_url(sub))
    messages.success(request, _("Subscription “%(name)s” deleted.") % {"name": sub.name})
    return HttpResponseRedirect(reverse("webhooks:list"))


@admin_only
@require_POST
def delivery_redeliver(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        delivery = selectors.delivery(request.user, pk)
    except WebhookDelivery.DoesNotExist:
        raise Http404 from None
    try:
        services.redeliver(actor=request.user, delivery=delivery)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Sent again as a new delivery."))
    return HttpResponseRedirect(_detail_url(delivery.subscription_id))
