from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def company(request: HttpRequest) -> dict[str, Any]:
    from salescope.core.navigation import nav_items, settings_items
    from salescope.org.selectors import company_settings

    return {
        "company": company_settings(),
        "nav_items": nav_items(request),
        "settings_items": settings_items(request),
    }
