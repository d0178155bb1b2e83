"""Global search across accounts, contacts and deals, within the user's visibility.

Each group goes through the scoped selector of its app, so nobody finds what they may not
see. The search box in the top bar asks with htmx and swaps ``#search-results``; the same
view is a full page without htmx.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from salescope.accounts.selectors import accounts_for, contacts_for
from salescope.accounts.services import normalize_name
from salescope.org.models import User
from salescope.pipeline.selectors import opportunities_for

PER_GROUP = 8
MIN_LENGTH = 2
MAX_LENGTH = 100


@dataclass
class Result:
    title: str
    subtitle: str
    url: str | None


@dataclass
class Group:
    key: str
    label: str
    results: list[Result]


def _url(name: str, pk: int) -> str | None:
    try:
        return reverse(name, args=[pk])
    except NoReverseMatch:
        return None


def _terms(q: str) -> list[str]:
    return [t for t in q.replace("\x00", "").split() if t][:5]


def search(user: User, q: str, *, limit: int = PER_GROUP) -> list[Group]:
    """The groups with at least one hit for ``q`` (every word must match), best-known first."""
    q = q.replace("\x00", "").strip()[:MAX_LENGTH]
    terms = _terms(q)
    if len(q) < MIN_LENGTH or not terms:
        return []
    groups: list[Group] = []

    accounts = accounts_for(user)
    normalized = normalize_name(q)
    account_q = Q()
    for term in terms:
        account_q &= Q(name__icontains=term) | Q(domain__icontains=term) | Q(city__icontains=term)
    if normalized:
        account_q |= Q(normalized_name__icontains=normalized)
    rows: list[Any] = list(accounts.filter(account_q).order_by("name", "pk")[:limit])
    if rows:
        groups.append(Group("accounts", _("Accounts"), [
            Result(a.name, " · ".join(x for x in (a.city, a.domain, str(a.status)) if x),
                   _url("accounts:detail", a.pk))
            for a in rows
        ]))  # fmt: skip

    contact_q = Q()
    for term in terms:
        contact_q &= (
            Q(first_name__icontains=term) | Q(last_name__icontains=term) | Q(email__icontains=term)
        )
    rows = list(
        contacts_for(user).filter(contact_q).order_by("last_name", "first_name", "pk")[:limit]
    )
    if rows:
        results = []
        for c in rows:
            places = [m.account.name for m in c.memberships.all() if m.until is None][:2]
            results.append(Result(str(c), " · ".join([*places, c.email][:3]).strip(" ·"),
                                  _url("accounts:contact", c.pk)))  # fmt: skip
        groups.append(Group("contacts", _("Contacts"), results))

    deal_q = Q()
    for term in terms:
        deal_q &= Q(name__icontains=term) | Q(account__name__icontains=term)
    rows = list(opportunities_for(user).filter(deal_q).order_by("-created_at", "-pk")[:limit])
    if rows:
        groups.append(Group("deals", _("Deals"), [
            Result(o.name, " · ".join(x for x in (
                o.account.name if o.account else "", o.stage.name if o.outcome == "open"
                else o.get_outcome_display()) if x), _url("pipeline:detail", o.pk))
            for o in rows
        ]))  # fmt: skip
    return groups


@login_required
def search_view(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)  # login_required
    q = request.GET.get("q", "").strip()[:MAX_LENGTH]
    groups = search(user, q)
    htmx = request.headers.get("HX-Request") == "true"
    template = "accounts/_search_results.html" if htmx else "core/search.html"
    return render(
        request, template, {"q": q, "groups": groups, "too_short": 0 < len(q) < MIN_LENGTH}
    )
