"""update_field / deactivate_field: validation keyed by field, admins only, values kept."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from salescope.customfields.services import (
    clean_custom_values,
    deactivate_field,
    define_field,
    update_field,
)
from salescope.testing.factories import AccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def choice(org_setup: Any) -> Any:
    return define_field(
        target="opportunity", key="tier", label="Tier", field_type="choice", choices=["A", "B"]
    )


def test_update_changes_only_what_is_given(choice: Any, org_setup: Any) -> None:
    update_field(definition=choice, actor=org_setup.admin, label="  Customer tier ", order=4)
    choice.refresh_from_db()
    assert (choice.label, choice.order, choice.choices) == ("Customer tier", 4, ["A", "B"])
    update_field(
        definition=choice, choices=[" A", "C", "C"], required_on_create=True,
        required_from_stage=org_setup.stages["Meeting"], help_text=" Ask early ",
    )  # fmt: skip
    choice.refresh_from_db()
    assert choice.choices == ["A", "C"] and choice.required_on_create
    assert choice.required_from_stage == org_setup.stages["Meeting"]
    assert choice.help_text == "Ask early"
    update_field(definition=choice, required_from_stage=None)
    choice.refresh_from_db()
    assert choice.required_from_stage is None


@pytest.mark.parametrize(
    ("kwargs", "key"),
    [
        ({"label": "  "}, "label"),
        ({"label": "x" * 101}, "label"),
        ({"choices": []}, "choices"),
        ({"choices": ["A", ""]}, "choices"),
        ({"order": -1}, "order"),
        ({"order": "3"}, "order"),
        ({"help_text": "h" * 201}, "help_text"),
    ],
)
def test_update_refuses_bad_values(choice: Any, kwargs: dict[str, Any], key: str) -> None:
    with pytest.raises(ValidationError) as exc:
        update_field(definition=choice, **kwargs)
    assert key in exc.value.message_dict
    choice.refresh_from_db()
    assert choice.label == "Tier" and choice.choices == ["A", "B"] and choice.order == 0


def test_stage_rules(choice: Any, org_setup: Any) -> None:
    with pytest.raises(ValidationError) as exc:
        update_field(definition=choice, required_from_stage=org_setup.lost)
    assert "lost" in exc.value.message_dict["required_from_stage"][0]
    account_field = define_field(target="account", key="vat", label="VAT", field_type="text")
    with pytest.raises(ValidationError) as exc:
        update_field(definition=account_field, required_from_stage=org_setup.stages["Proposal"])
    assert "Only opportunity fields" in exc.value.message_dict["required_from_stage"][0]


@pytest.mark.parametrize("role", ["rep", "manager", "marketing", "readonly"])
def test_only_admins(choice: Any, org_setup: Any, role: str) -> None:
    with pytest.raises(PermissionDenied):
        update_field(definition=choice, actor=getattr(org_setup, role), label="X")
    with pytest.raises(PermissionDenied):
        deactivate_field(definition=choice, actor=getattr(org_setup, role))
    choice.refresh_from_db()
    assert choice.label == "Tier" and choice.active


def test_deactivated_field_keeps_values_and_stops_applying(org_setup: Any) -> None:
    field = define_field(
        target="account", key="vat", label="VAT", field_type="text", required_on_create=True
    )
    account = AccountFactory(custom={"vat": "DE123"})
    deactivate_field(definition=field, actor=org_setup.admin)
    account.refresh_from_db()
    assert account.custom == {"vat": "DE123"}
    assert clean_custom_values(target="account", values={}, creating=True) == {}  # no longer asked
    update_field(definition=field, active=True)
    with pytest.raises(ValidationError):
        clean_custom_values(target="account", values={}, creating=True)
