"""Form helpers for custom fields: what a form shows is what it reads back, for every type, in
English and German; required flags; service errors on the right field."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django import forms
from django.core.exceptions import ValidationError
from django.utils import translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from salescope.customfields.forms import (
    CustomFieldsFormMixin,
    apply_service_errors,
    custom_form_fields,
    custom_values_from,
    suggest_key,
)
from salescope.customfields.models import CustomFieldDefinition
from salescope.customfields.services import clean_custom_values, define_field

pytestmark = pytest.mark.django_db

CHOICES = ["Small", "Large", "Gold partner"]


@pytest.fixture
def defs(org_setup: Any) -> dict[str, CustomFieldDefinition]:
    made = {}
    for kind in ("text", "number", "money", "date", "choice", "multi_choice", "boolean"):
        made[kind] = define_field(
            target="opportunity",
            key=f"f_{kind}",
            label=f"Field {kind}",
            field_type=kind,
            choices=CHOICES if "choice" in kind else [],
            help_text=f"Help for {kind}",
        )
    return made


def posted(form: forms.BaseForm) -> dict[str, Any]:
    """The data a browser sends back for an unchanged, unbound form (as the widgets render)."""
    data: dict[str, Any] = {}
    for name, field in form.fields.items():
        bound = form[name]
        context = field.widget.get_context(bound.html_name, bound.value(), {})["widget"]
        parts = context["subwidgets"] if isinstance(field.widget, forms.MultiWidget) else [context]
        for part in parts:
            value = part["value"]
            if isinstance(value, list) and not part.get("attrs", {}).get("multiple"):
                if isinstance(field.widget, forms.CheckboxSelectMultiple):
                    data[part["name"]] = value
                    continue
                value = value[0] if value else ""
            data[part["name"]] = "" if value is None else value
    return data


def make_form(defs: list[CustomFieldDefinition], **kwargs: Any) -> type[forms.Form]:
    fields = custom_form_fields("opportunity", defs=defs, **kwargs)
    return type("CustomForm", (forms.Form,), dict(fields))


def round_trip(definition: CustomFieldDefinition, stored: Any) -> dict[str, Any]:
    defs = [definition]
    unbound = make_form(defs, values={definition.key: stored}, creating=True)()
    bound = make_form(defs, creating=True)(data=posted(unbound))
    assert bound.is_valid(), bound.errors
    values = custom_values_from(bound)
    return clean_custom_values(target="opportunity", values=values, creating=True, defs=defs)


STORED = {
    "text": "Hello, Zürich",
    "number": "1234.5678",
    "money": {"amount": "1234.56", "currency": "USD"},
    "date": "2026-03-16",
    "choice": "Gold partner",
    "multi_choice": ["Gold partner", "Small"],
    "boolean": False,
}


@pytest.mark.parametrize("language", ["en", "de"])
@pytest.mark.parametrize("kind", list(STORED))
def test_every_type_reads_back_what_it_shows(defs: Any, kind: str, language: str) -> None:
    with translation.override(language):
        assert round_trip(defs[kind], STORED[kind]) == {f"f_{kind}": STORED[kind]}


def test_boolean_true_and_unset(defs: Any) -> None:
    assert round_trip(defs["boolean"], True) == {"f_boolean": True}
    assert round_trip(defs["boolean"], None) == {}


def test_field_types_widgets_labels_and_help(defs: Any) -> None:
    fields = custom_form_fields("opportunity")
    # named custom__<key>, in the definitions' order (order, then label)
    assert list(fields) == sorted(f"custom__f_{k}" for k in STORED)
    assert isinstance(fields["custom__f_number"], forms.DecimalField)
    assert isinstance(fields["custom__f_date"].widget, forms.DateInput)
    assert fields["custom__f_date"].widget.input_type == "date"
    assert isinstance(fields["custom__f_multi_choice"].widget, forms.CheckboxSelectMultiple)
    assert fields["custom__f_boolean"].choices[1:] == [("yes", "Yes"), ("no", "No")]
    assert fields["custom__f_text"].label == "Field text"
    assert fields["custom__f_text"].help_text == "Help for text"
    money = fields["custom__f_money"]
    currencies = [c for c, _ in money.widget.widgets[1].choices]
    assert currencies[0] == "EUR" and "USD" in currencies  # company currency first


def test_german_user_types_german_numbers(defs: Any) -> None:
    with translation.override("de"):
        form = make_form(list(defs.values()), creating=True)(
            data={
                "custom__f_number": "1234,5",
                "custom__f_money_0": "99,90",
                "custom__f_money_1": "EUR",
            }
        )
        assert form.is_valid(), form.errors
        values = custom_values_from(form)
    assert values["f_number"] == "1234.5"
    assert values["f_money"] == {"amount": "99.90", "currency": "EUR"}
    assert values["f_text"] is None and values["f_multi_choice"] is None  # empty clears


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    number=st.decimals(
        min_value=Decimal("-1e12"), max_value=Decimal("1e12"), places=4, allow_nan=False
    ),
    amount=st.decimals(
        min_value=Decimal("-1e9"), max_value=Decimal("1e9"), places=2, allow_nan=False
    ),
    text=st.text(
        alphabet=st.characters(blacklist_categories=["Cs", "Cc"]), min_size=1, max_size=60
    ).filter(lambda t: t.strip() == t and t),
    day=st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2200, 12, 31)),
    language=st.sampled_from(["en", "de"]),
)
def test_round_trip_property(
    defs: Any, number: Decimal, amount: Decimal, text: str, day: dt.date, language: str
) -> None:
    stored_number = clean_custom_values(
        target="opportunity", values={"f_number": str(number)}, defs=[defs["number"]]
    )["f_number"]
    with translation.override(language):
        assert round_trip(defs["number"], stored_number) == {"f_number": stored_number}
        money = {"amount": str(amount), "currency": "EUR"}
        assert round_trip(defs["money"], money) == {"f_money": money}
        assert round_trip(defs["text"], text) == {"f_text": text}
        assert round_trip(defs["date"], day.isoformat()) == {"f_date": day.isoformat()}


def test_required_on_create_and_from_stage(org_setup: Any) -> None:
    on_create = define_field(
        target="opportunity", key="region", label="Region", field_type="text",
        required_on_create=True,
    )  # fmt: skip
    gate = define_field(
        target="opportunity", key="budget", label="Budget confirmed", field_type="boolean",
        required_from_stage=org_setup.stages["Proposal"],
    )  # fmt: skip
    stages = org_setup.stages

    def required(**kwargs: Any) -> set[str]:
        fields = custom_form_fields("opportunity", defs=[on_create, gate], **kwargs)
        return {name for name, f in fields.items() if f.required}

    assert required() == {"custom__region"}  # new record
    assert required(values={}) == set()  # existing record without a value: may stay empty
    assert required(values={"region": "North"}) == {"custom__region"}  # cannot be cleared
    assert required(values={}, stage=stages["Meeting"]) == set()
    assert required(values={}, stage=stages["Proposal"]) == {"custom__budget"}
    assert required(values={}, stage=stages["Negotiation"]) == {"custom__budget"}
    assert required(values={}, stage=org_setup.won) == {"custom__budget"}
    assert required(values={}, stage=org_setup.lost) == set()
    other = org_setup.other_pipeline.stages.get(name="Offer")
    assert required(values={}, stage=other) == set()
    form = make_form([gate], values={}, stage=stages["Proposal"])(data={"custom__budget": ""})
    assert not form.is_valid() and "custom__budget" in form.errors


class DealForm(CustomFieldsFormMixin, forms.Form):
    custom_target = "opportunity"
    name = forms.CharField()


class Record:
    def __init__(self, pk: int | None, custom: dict[str, Any], stage: Any = None) -> None:
        self.pk, self.custom, self.stage = pk, custom, stage


def test_mixin_initial_from_record_and_changed_values_only(defs: Any) -> None:
    record = Record(1, {"f_text": "Kept", "f_choice": "Retired choice", "f_number": "7"})
    form = DealForm(custom_record=record)
    assert form["custom__f_text"].value() == "Kept"
    assert form["custom__f_number"].value() == Decimal("7")
    assert "Retired choice" in dict(form.fields["custom__f_choice"].choices)
    data = posted(form) | {"name": "X", "custom__f_text": "", "custom__f_date": "2026-05-01"}
    bound = DealForm(data=data, custom_record=record)
    assert bound.is_valid(), bound.errors
    # Only what changed goes to the service: the retired choice is not re-validated.
    assert bound.custom_values() == {"f_text": None, "f_date": "2026-05-01"}
    assert len(bound.custom_bound_fields()) == len(STORED)


def test_mixin_new_record_returns_every_value(defs: Any) -> None:
    form = DealForm(data={"name": "X", "custom__f_boolean": "yes"})
    assert form.is_valid(), form.errors
    values = form.custom_values()
    assert values["f_boolean"] is True and set(values) == {f"f_{k}" for k in STORED}


def test_mixin_with_model_form_instance(org_setup: Any) -> None:
    from salescope.testing.factories import AccountFactory

    define_field(target="account", key="employees", label="Employees", field_type="number")

    class AccountForm(CustomFieldsFormMixin, forms.ModelForm):  # type: ignore[type-arg]
        custom_target = "account"

        class Meta:
            from salescope.accounts.models import Account

            model = Account
            fields = ["name"]

    account = AccountFactory(custom={"employees": "120"})
    form = AccountForm(instance=account)
    assert form["custom__employees"].value() == Decimal("120")
    assert not form.custom_creating
    assert AccountForm().custom_creating


def test_apply_service_errors_maps_keys(defs: Any) -> None:
    form = DealForm(data={"name": "X"})
    assert form.is_valid()
    apply_service_errors(
        form,
        ValidationError(
            {
                "custom.f_text": ["Field text is mandatory."],
                "name": "Name is taken.",
                "custom.gone": "Unknown custom field 'gone'.",
                "stage": "Stage is archived.",
            }
        ),
    )
    assert form.errors["custom__f_text"] == ["Field text is mandatory."]
    assert form.errors["name"] == ["Name is taken."]
    assert form.non_field_errors() == ["Unknown custom field 'gone'.", "Stage is archived."]
    assert "name" not in form.cleaned_data

    plain = DealForm(data={"name": "X"})
    plain.is_valid()
    apply_service_errors(plain, ValidationError("Something went wrong."))
    assert plain.non_field_errors() == ["Something went wrong."]


def test_custom_fields_validate_types(defs: Any) -> None:
    form = make_form(list(defs.values()), creating=True)(
        data={
            "custom__f_number": "twelve",
            "custom__f_date": "16/03/2026",
            "custom__f_choice": "Medium",
            "custom__f_money_0": "1.234",
            "custom__f_money_1": "EUR",
        }
    )
    assert not form.is_valid()
    assert set(form.errors) == {
        "custom__f_number", "custom__f_date", "custom__f_choice", "custom__f_money"
    }  # fmt: skip


@pytest.mark.parametrize(
    ("label", "key"),
    [
        ("Budget confirmed?", "budget_confirmed"),
        ("Größe (m²)", "grosse_m2"),
        ("2nd contact", "nd_contact"),
        ("Ärger", "arger"),
    ],
)
def test_suggest_key(label: str, key: str) -> None:
    assert suggest_key(label) == key
