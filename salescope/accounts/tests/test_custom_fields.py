"""Custom field values (D3) through the account and contact services, for every field type.

Property: a cleaned value is a fixed point of cleaning (cleaning it again gives it back),
survives the JSON column unchanged, and reads back equal after an update.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from salescope.accounts import services
from salescope.accounts.models import Account, Contact
from salescope.customfields.models import CustomFieldDefinition
from salescope.customfields.services import clean_custom_values, define_field

pytestmark = pytest.mark.django_db

CHOICES = ["A", "B", "C", "Gold partner"]
FIELDS: dict[str, dict[str, Any]] = {
    "text": {},
    "number": {},
    "money": {},
    "date": {},
    "choice": {"choices": CHOICES},
    "multi_choice": {"choices": CHOICES},
    "boolean": {},
}

exact_numbers = st.decimals(
    min_value=Decimal("-1e9"),
    max_value=Decimal("1e9"),
    places=10,
    allow_nan=False,
    allow_infinity=False,
)
VALUES = {
    "text": st.text(max_size=200).filter(lambda t: t.strip() != "" and "\x00" not in t),
    "number": st.one_of(exact_numbers, exact_numbers.map(str), st.integers(-(10**9), 10**9)),
    "money": st.fixed_dictionaries(
        {
            "amount": st.decimals(
                min_value=Decimal("-1e9"),
                max_value=Decimal("1e9"),
                places=2,
                allow_nan=False,
                allow_infinity=False,
            ).map(str),
            "currency": st.sampled_from(["EUR", "USD", "CHF"]),
        }
    ),
    "date": st.one_of(
        st.dates(dt.date(1900, 1, 1), dt.date(2100, 12, 31)),
        st.dates(dt.date(1900, 1, 1), dt.date(2100, 12, 31)).map(dt.date.isoformat),
    ),
    "choice": st.sampled_from(CHOICES),
    "multi_choice": st.lists(st.sampled_from(CHOICES), min_size=1, max_size=6),
    "boolean": st.one_of(st.booleans(), st.sampled_from(["yes", "No", "ja", "non", "TRUE"])),
}


@pytest.fixture
def custom_defs(org_setup):
    for kind, extra in FIELDS.items():
        define_field(
            target="account", key=f"f_{kind}", label=f"My {kind}", field_type=kind, **extra
        )
    return list(CustomFieldDefinition.objects.filter(target="account"))


@pytest.fixture
def account(org_setup, custom_defs):
    return services.create_account(actor=org_setup.rep, name="Acme")


@pytest.mark.parametrize("kind", list(FIELDS))
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_clean_values_round_trip_through_the_account(org_setup, custom_defs, account, kind, data):
    value = data.draw(VALUES[kind])
    key = f"f_{kind}"
    cleaned = clean_custom_values(target="account", values={key: value}, defs=custom_defs)
    again = clean_custom_values(target="account", values=cleaned, defs=custom_defs)
    assert again == cleaned
    services.update_account(account=account, actor=org_setup.rep, custom={key: value})
    assert Account.objects.get(pk=account.pk).custom[key] == cleaned[key]


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("text", 12),
        ("text", "x" * 2001),
        ("number", "twelve"),
        ("number", 1.5),
        ("number", "NaN"),
        ("number", "1e20"),
        ("number", "1e-40"),
        ("number", "1." + "1" * 40),
        ("money", "12.50"),
        ("money", {"amount": "12.505", "currency": "EUR"}),
        ("money", {"amount": "12", "currency": "XXX"}),
        ("date", "16.03.2026"),
        ("date", dt.datetime(2026, 3, 16, 9, 0)),
        ("choice", "D"),
        ("multi_choice", "A"),
        ("multi_choice", ["A", "Z"]),
        ("boolean", "maybe"),
    ],
)
def test_malformed_custom_values_name_the_field(org_setup, custom_defs, kind, value):
    before = Account.objects.count()
    with pytest.raises(ValidationError) as exc:
        services.create_account(actor=org_setup.rep, name="Acme", custom={f"f_{kind}": value})
    messages = exc.value.message_dict[f"custom.f_{kind}"]
    assert f"My {kind}" in messages[0]
    assert Account.objects.count() == before


def test_contact_custom_fields_use_their_own_definitions(org_setup, custom_defs):
    with pytest.raises(ValidationError) as exc:
        services.create_contact(actor=org_setup.rep, last_name="Doe", custom={"f_text": "x"})
    assert "custom.f_text" in exc.value.message_dict
    define_field(target="contact", key="f_text", label="Note", field_type="text")
    contact = services.create_contact(actor=org_setup.rep, last_name="Doe", custom={"f_text": "x"})
    assert Contact.objects.get(pk=contact.pk).custom == {"f_text": "x"}
