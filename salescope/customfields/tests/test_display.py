"""Showing custom values on pages (``{% custom_values %}``) and fields in forms
(``customfields/_form_fields.html``), formatted for the user's language."""

from __future__ import annotations

from typing import Any

import pytest
from django import forms
from django.template import Context, Template
from django.test import RequestFactory
from django.utils import translation

from salescope.customfields.forms import custom_form_fields, display_value
from salescope.customfields.services import deactivate_field, define_field

pytestmark = pytest.mark.django_db


@pytest.fixture
def account_fields(org_setup: Any) -> dict[str, Any]:
    spec = [
        ("budget", "Budget", "money", []),
        ("employees", "Employees", "number", []),
        ("renewal", "Renewal", "date", []),
        ("gdpr", "GDPR consent", "boolean", []),
        ("partner", "Partner", "boolean", []),
        ("markets", "Markets", "multi_choice", ["DACH", "France", "Nordics"]),
        ("size", "Size", "choice", ["Small", "Large"]),
        ("notes", "Notes", "text", []),
        ("empty", "Nothing here", "text", []),
    ]
    return {
        key: define_field(
            target="account", key=key, label=label, field_type=kind, choices=choices, order=i
        )
        for i, (key, label, kind, choices) in enumerate(spec)
    }


VALUES = {
    "budget": {"amount": "1234.56", "currency": "EUR"},
    "employees": "12500.5",
    "renewal": "2026-03-16",
    "gdpr": True,
    "partner": False,
    "markets": ["DACH", "France"],
    "size": "Large",
    "notes": "Line one\n<b>two</b>",
}


class Rec:
    def __init__(self, custom: dict[str, Any]) -> None:
        self.custom = custom


def render(template: str, **context: Any) -> str:
    request = RequestFactory().get("/")
    return Template("{% load customfields %}" + template).render(
        Context({"request": request, **context})
    )


def test_values_in_english(account_fields: Any) -> None:
    with translation.override("en"):
        html = render('{% custom_values rec "account" %}', rec=Rec(VALUES))
    assert "€1,234.56" in html
    assert "12,500.5" in html
    assert "16 Mar 2026" in html
    assert "<dt>GDPR consent</dt>\n    <dd>Yes</dd>" in html
    assert "<dt>Partner</dt>\n    <dd>No</dd>" in html
    assert "DACH, France" in html
    assert "Line one<br>&lt;b&gt;two&lt;/b&gt;" in html  # escaped, line breaks kept
    assert '<dt>Nothing here</dt>\n    <dd><span class="muted">–</span>' in html
    assert html.index("Budget") < html.index("Employees") < html.index("Notes")


def test_values_in_german(account_fields: Any) -> None:
    with translation.override("de"):
        html = render('{% custom_values rec "account" %}', rec=Rec(VALUES))
    assert "1.234,56\xa0€" in html
    assert "12.500,5" in html
    assert "16.03.2026" in html
    assert "<dd>Ja</dd>" in html or "<dd>Yes</dd>" in html  # wording translated centrally


def test_hide_empty_and_inactive_fields(account_fields: Any) -> None:
    deactivate_field(definition=account_fields["notes"])
    html = render('{% custom_values rec "account" hide_empty=True %}', rec=Rec(VALUES))
    assert "Nothing here" not in html and "Notes" not in html and "Budget" in html
    assert render('{% custom_values rec "account" %}', rec=Rec({})).count("<dt>") == 8


def test_broken_stored_value_is_shown_as_text(account_fields: Any) -> None:
    html = render(
        '{% custom_values rec "account" %}', rec=Rec({"employees": "n/a", "renewal": "soon"})
    )
    assert "n/a" in html and "soon" in html


def test_one_query_per_request_for_many_records(
    account_fields: Any, django_assert_num_queries: Any
) -> None:
    records = [Rec(VALUES) for _ in range(20)]
    request = RequestFactory().get("/")
    template = Template(
        '{% load customfields %}{% for r in records %}{% custom_values r "account" %}{% endfor %}'
    )
    with django_assert_num_queries(1):
        html = template.render(Context({"request": request, "records": records}))
        template.render(Context({"request": request, "records": records}))  # cached on request
    assert html.count("Budget") == 20


def test_display_value_for_exports(account_fields: Any) -> None:
    f = account_fields
    with translation.override("de"):
        assert display_value(f["budget"], VALUES["budget"]) == "1.234,56\xa0€"
        assert display_value(f["renewal"], "2026-03-16") == "16.03.2026"
    with translation.override("en"):
        assert display_value(f["gdpr"], True) == "Yes"
        assert display_value(f["partner"], False) == "No"
        assert display_value(f["markets"], ["DACH", "France"]) == "DACH, France"
        assert display_value(f["notes"], None) == ""


def test_form_fields_snippet(account_fields: Any) -> None:
    define_field(
        target="account", key="vat", label="VAT id", field_type="text",
        required_on_create=True, help_text="As on the invoice",
    )  # fmt: skip
    form_class = type("F", (forms.Form,), dict(custom_form_fields("account")))
    form = form_class(data={"custom__budget_0": "abc", "custom__budget_1": "EUR"})
    form.is_valid()
    html = render('{% include "customfields/_form_fields.html" %}', form=form)
    assert '<label for="id_custom__vat">VAT id <span class="req"' in html
    assert "As on the invoice" in html
    assert 'aria-label="Currency"' in html and 'id="id_custom__budget_0"' in html
    assert '<label for="id_custom__budget_0">Budget' in html
    assert "<legend>Markets" in html and 'type="checkbox"' in html
    assert 'type="date"' in html
    assert html.count('class="errorlist') == 2  # amount not a number, VAT id required
