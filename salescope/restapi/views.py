"""Token screens of the user menu: list your tokens, create one (shown once), revoke."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from salescope.restapi.forms import TokenForm
from salescope.restapi.selectors import tokens_of
from salescope.restapi.services import create_token, revoke_token


@login_required
@require_http_methods(["GET", "POST"])
def tokens(request: HttpRequest) -> HttpResponse:
    form = TokenForm(request.POST or None)
    new_token = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            day = form.cleaned_data.get("expires_on")
            expires_at = timezone.make_aware(dt.datetime.combine(day, dt.time.min)) if day else None
            try:
                new = create_token(
                    user=request.user,  # type: ignore[arg-type]
                    name=form.cleaned_data["name"],
                    expires_at=expires_at,
                )
            except ValidationError as exc:
                for field, errs in exc.message_dict.items():
                    target = "expires_on" if field == "expires_at" else field
                    for message in errs:
                        form.add_error(target if target in form.fields else None, message)
                status = 422
            else:
                new_token = new.plain
                form = TokenForm()
        else:
            status = 422
    context = {
        "form": form,
        "tokens": tokens_of(request.user),  # type: ignore[arg-type]
        "new_token": new_token,
        "now": timezone.now(),
        "api_docs": reverse("api-v1:openapi-view"),
    }
    response = render(request, "restapi/tokens.html", context, status=status)
    if new_token:
        response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(tokens_of(request.user), pk=pk)  # type: ignore[arg-type]
    revoke_token(token=token, actor=request.user)  # type: ignore[arg-type]
    messages.success(request, _("Token “%(name)s” revoked.") % {"name": token.name})
    return HttpResponseRedirect(reverse("restapi:tokens"))
