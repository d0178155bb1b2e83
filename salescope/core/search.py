"""Global search across accounts, contacts and deals, within the user's visibility."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


@login_required
def search_view(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()
    return render(request, "core/search.html", {"q": q, "groups": []})
