"""The list template renders with a minimal context (no view data at all)."""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory


@pytest.mark.django_db
def test_list_template_renders_with_a_minimal_context(org_setup) -> None:
    request = RequestFactory().get("/deals/")
    request.user = org_setup.manager
    html = render_to_string("lists/list.html", {}, request=request)
    assert "<table" in html
