"""The main navigation shows each user the pages they may use."""

from __future__ import annotations

from typing import Any

from django.test import RequestFactory
from django.urls import reverse

from salescope.core.navigation import nav_items, settings_items


def _urls(user: Any) -> list[str]:
    request = RequestFactory().get("/")
    request.user = user
    return [item["url"] for item in nav_items(request)]


def test_import_is_offered_to_admins_and_managers_only(org_setup: Any) -> None:
    s = org_setup
    imports = reverse("imports:index")
    assert imports in _urls(s.admin)
    assert imports in _urls(s.manager)
    assert imports not in _urls(s.rep)


def _settings(user: Any) -> list[str]:
    request = RequestFactory().get("/")
    request.user = user
    return [item["url"] for item in settings_items(request)]


def test_settings_are_in_the_user_menu_and_staff_ones_for_staff(org_setup: Any) -> None:
    s = org_setup
    staff_only = [reverse(n) for n in ("admin:index", "webhooks:list", "customfields:list")]
    assert not set(staff_only) & set(_settings(s.manager))
    assert reverse("restapi:tokens") in _settings(s.manager)
    assert s.admin.is_staff
    assert set(staff_only) <= set(_settings(s.admin))
    assert not set(staff_only) & set(_urls(s.admin))  # the main bar keeps to the daily work


def test_every_user_gets_the_workspace(org_setup: Any) -> None:
    for user in (org_setup.rep, org_setup.manager, org_setup.admin):
        urls = _urls(user)
        assert reverse("pipeline:board") in urls and reverse("leads:list") in urls


def test_dashboards_are_in_the_main_bar(org_setup: Any) -> None:
    for user in (org_setup.rep, org_setup.manager, org_setup.readonly):
        assert reverse("kpis:dashboards") in _urls(user)


def test_only_the_closest_entry_is_active(org_setup: Any) -> None:
    request = RequestFactory().get(reverse("kpis:dashboards") + "1/")
    request.user = org_setup.manager
    active = [item["url"] for item in nav_items(request) if item["active"]]
    assert active == [reverse("kpis:dashboards")]
    request = RequestFactory().get("/")
    request.user = org_setup.manager
    assert [item["url"] for item in nav_items(request) if item["active"]] == ["/"]
