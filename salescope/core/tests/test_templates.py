"""Every template renders with a minimal context (catches broken tags, filters and URLs)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.template.loader import get_template
from django.test import RequestFactory

from salescope.activities.models import Activity
from salescope.testing.factories import (
    AccountFactory,
    ActivityFactory,
    ContactFactory,
    make_opportunity,
)

TEMPLATE_DIR = Path(settings.BASE_DIR) / "templates"
TEMPLATES = sorted(str(p.relative_to(TEMPLATE_DIR)) for p in TEMPLATE_DIR.rglob("*.html"))


def _extra(name: str) -> dict[str, Any]:
    """What a page template needs beyond the shared records (its view always passes these)."""
    from django.core.paginator import Paginator

    return {
        "accounts/account_detail.html": {
            "figures": {"open_count": 0, "won_count": 0, "lost_count": 0}
        },
        "lists/list.html": {"page": Paginator([], 50).page(1)},
        "customfields/list.html": {"target": "account"},
        "pipeline/_fact_edit.html": {"fact": {"name": "name", "label": "Name"}},
    }.get(name, {})


@pytest.fixture
def context(org_setup: Any) -> dict[str, Any]:
    s = org_setup
    account = AccountFactory(owner=s.rep)
    contact = ContactFactory(owner=s.rep)
    opp = make_opportunity(owner=s.rep, actor=s.rep, stage=s.stages["Meeting"], account=account)
    activity: Activity = ActivityFactory(owner=s.rep, account=account, opportunity=opp)
    records = {"opp": opp, "opportunity": opp, "deal": opp, "object": opp, "account": account}
    return {
        **records, "contact": contact, "activity": activity, "pipeline": s.pipeline,
        "stage": s.stages["Meeting"], "user": s.rep, "q": "", "groups": [], "rows": [], "items": [],
    }  # fmt: skip


def test_templates_were_found():
    assert len(TEMPLATES) > 20


def _import_job(org_setup: Any) -> dict[str, Any]:
    """An uploaded import job: what every import page is about."""
    from salescope.imports.services import create_job

    job = create_job(actor=org_setup.admin, files=[("deals.csv", b"Name,Amount\nRetrofit,100\n")])
    return {"job": job, "table": {"index": 0, "name": "deals.csv", "rows": 1, "sample": []}}


@pytest.mark.parametrize("name", TEMPLATES)
def test_template_renders_with_a_minimal_context(
    name: str, context: dict[str, Any], org_setup: Any
) -> None:
    request = RequestFactory().get("/")
    request.user = context["user"]
    request.session = {}  # type: ignore[assignment]
    extra = _import_job(org_setup) if name.startswith("imports/") else {}
    html = get_template(name).render(
        {**context, **_extra(name), **extra, "request": request}, request
    )
    assert isinstance(html, str)


def test_every_static_file_a_template_references_exists() -> None:
    """A script or stylesheet missing from the repository breaks pages only in a fresh clone."""
    import re

    from django.contrib.staticfiles import finders

    pattern = re.compile(r"""{%\s*static\s+['"]([^'"]+)['"]\s*%}""")
    referenced = {
        path for name in TEMPLATES for path in pattern.findall((TEMPLATE_DIR / name).read_text())
    }
    assert referenced, "templates reference static files"
    missing = sorted(path for path in referenced if not finders.find(path))
    assert missing == []
