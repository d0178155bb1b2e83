from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def company(request: HttpRequest) -> dict[str, Any]:
    from salescope.org.selectors import company_settings

    return {"company": company_settings()}
