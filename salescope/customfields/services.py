"""Validation of custom field values (D3), used by every write path of accounts, contacts and deals.

Values are stored in each record's ``custom`` JSON in a canonical form:
text → str, number → decimal string, money → {"amount": "12.50", "currency": "EUR"},
date → "YYYY-MM-DD", choice → str, multi_choice → sorted list of str, boolean → bool.
Errors are keyed ``custom.<key>`` and name the field's label.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from salescope.core.money import parse_amount
from salescope.customfields.models import CustomFieldDefinition, FieldType, Target, key_validator

MAX_TEXT = 2000
MAX_NUMBER = Decimal("1e15")
MIN_EXPONENT = -30  # smallest magnitude: 1e-30
MAX_DIGITS = 34
_TRUE = {"true", "yes", "1", "ja", "oui", "on"}
_FALSE = {"false", "no", "0", "nein", "non", "off", ""}


def definitions(target: str) -> list[CustomFieldDefinition]:
    return list(
        CustomFieldDefinition.objects.filter(target=target, active=True).select_related(
            "required_from_stage"
        )
    )


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def clean_value(definition: CustomFieldDefinition, value: Any) -> Any:
    """Canonical form of ``value`` for ``definition``; raises ValueError with a user message."""
    label = definition.label
    kind = definition.field_type
    if kind == FieldType.TEXT:
        if not isinstance(value, str):
            raise ValueError(_("%(label)s: expected text.") % {"label": label})
        if len(value) > MAX_TEXT:
            raise ValueError(
                _("%(label)s: at most %(max)s characters.") % {"label": label, "max": MAX_TEXT}
            )
        if "\x00" in value:
            raise ValueError(
                _("%(label)s: contains a NUL character, which cannot be stored.") % {"label": label}
            )
        return value.strip() or None
    if kind == FieldType.NUMBER:
        if isinstance(value, bool | float):
            raise ValueError(_("%(label)s: enter an exact number, e.g. 12.5.") % {"label": label})
        try:
            number = Decimal(str(value).strip())
        except (InvalidOperation, ValueError):
            raise ValueError(
                _("%(label)s: %(value)r is not a number.") % {"label": label, "value": value}
            ) from None
        if not number.is_finite():
            raise ValueError(
                _("%(label)s: %(value)r is not a finite number.") % {"label": label, "value": value}
            )
        if abs(number) >= MAX_NUMBER or (number and number.adjusted() < MIN_EXPONENT):
            raise ValueError(
                _("%(label)s: %(value)r is out of range.") % {"label": label, "value": value}
            )
        if len(number.as_tuple().digits) > MAX_DIGITS:
            raise ValueError(
                _("%(label)s: at most %(max)s significant digits.")
                % {"label": label, "max": MAX_DIGITS}
            )
        return str(number)
    if kind == FieldType.MONEY:
        if not isinstance(value, Mapping) or set(value) != {"amount", "currency"}:
            raise ValueError(_("%(label)s: expected an amount and a currency.") % {"label": label})
        from salescope.org.models import Currency

        currency = str(value["currency"])
        if not Currency.objects.filter(code=currency, active=True).exists():
            raise ValueError(
                _("%(label)s: unknown currency %(value)r.") % {"label": label, "value": currency}
            )
        try:
            amount = parse_amount(value["amount"], field=label, allow_negative=True)
        except ValidationError as exc:
            raise ValueError("; ".join(exc.messages)) from None
        return {"amount": str(amount), "currency": currency}
    if kind == FieldType.DATE:
        if isinstance(value, dt.datetime):
            raise ValueError(
                _("%(label)s: expected a date, not a date and time.") % {"label": label}
            )
        if isinstance(value, dt.date):
            return value.isoformat()
        try:
            return dt.date.fromisoformat(str(value)).isoformat()
        except ValueError:
            raise ValueError(
                _("%(label)s: %(value)r is not a date (use YYYY-MM-DD).")
                % {"label": label, "value": value}
            ) from None
    if kind == FieldType.CHOICE:
        if value not in definition.choices:
            raise ValueError(
                _("%(label)s: %(value)r is not one of %(allowed)s.")
                % {
                    "label": label,
                    "value": value,
                    "allowed": ", ".join(map(str, definition.choices)),
                }
            )
        return value
    if kind == FieldType.MULTI_CHOICE:
        if isinstance(value, str) or not isinstance(value, Iterable):
            raise ValueError(_("%(label)s: expected a list of choices.") % {"label": label})
        items = list(value)
        bad = [v for v in items if v not in definition.choices]
        if bad:
            raise ValueError(
                _("%(label)s: %(values)s not among %(allowed)s.")
                % {
                    "label": label,
                    "values": ", ".join(map(repr, bad)),
                    "allowed": ", ".join(definition.choices),
                }
            )
        return sorted(set(items), key=str)
    if kind == FieldType.BOOLEAN:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        raise ValueError(_("%(label)s: expected yes or no.") % {"label": label})
    raise ValueError(
        _("%(label)s: unsupported field type %(value)r.") % {"label": label, "value": kind}
    )


_TARGET_WORDS = {
    "account": pgettext_lazy("custom field target in messages", "account"),
    "contact": pgettext_lazy("custom field target in messages", "contact"),
    "opportunity": pgettext_lazy("custom field target in messages", "opportunity"),
}


def _target_word(target: Any) -> str:
    return str(_TARGET_WORDS.get(str(target), target))


def clean_custom_values(
    *,
    target: str,
    values: Mapping[str, Any] | None,
    previous: Mapping[str, Any] | None = None,
    creating: bool = False,
    defs: list[CustomFieldDefinition] | None = None,
) -> dict[str, Any]:
    """Merge ``values`` into ``previous`` and validate; ``None`` or "" clears a value.

    Raises ``ValidationError`` keyed ``custom.<key>`` for unknown keys, malformed values and,
    when ``creating``, missing fields that are mandatory on create.
    """
    if values is not None and not isinstance(values, Mapping):
        raise ValidationError(
            {"custom": _("Custom fields must be given as a mapping of key to value.")}
        )
    defs = definitions(target) if defs is None else defs
    by_key = {d.key: d for d in defs}
    result = dict(previous or {})
    errors: dict[str, list[str]] = {}
    for key, value in (values or {}).items():
        definition = by_key.get(key)
        if definition is None:
            errors[f"custom.{key}"] = [
                _("Unknown custom field %(key)r for %(target)s.")
                % {"key": key, "target": _target_word(target)}
            ]
            continue
        try:
            cleaned = None if _empty(value) else clean_value(definition, value)
        except ValueError as exc:
            errors[f"custom.{key}"] = [str(exc)]
            continue
        if cleaned is None:
            result.pop(key, None)
        else:
            result[key] = cleaned
    if creating:
        for definition in defs:
            if definition.required_on_create and _empty(result.get(definition.key)):
                errors.setdefault(f"custom.{definition.key}", []).append(
                    _("%(label)s is mandatory.") % {"label": definition.label}
                )
    if errors:
        raise ValidationError(errors)
    return result


def missing_for_stage(
    *, values: Mapping[str, Any], stage: Any, defs: list[CustomFieldDefinition] | None = None
) -> list[CustomFieldDefinition]:
    """Opportunity fields that must be filled before entering ``stage`` (gate from that stage on).

    A field required from stage S is required for S and every later stage of S's pipeline,
    including the won stage; never for the lost stage.
    """
    if stage.kind == "lost":
        return []
    defs = definitions(Target.OPPORTUNITY) if defs is None else defs
    missing = []
    for d in defs:
        gate = d.required_from_stage
        if gate is None or gate.pipeline_id != stage.pipeline_id:
            continue
        if (stage.kind == "won" or stage.order >= gate.order) and _empty(values.get(d.key)):
            missing.append(d)
    return missing


@transaction.atomic
def define_field(
    *,
    target: str,
    key: str,
    label: str,
    field_type: str,
    choices: list[str] | None = None,
    required_on_create: bool = False,
    required_from_stage: Any = None,
    help_text: str = "",
    order: int = 0,
) -> CustomFieldDefinition:
    errors: dict[str, str] = {}
    if target not in Target.values:
        errors["target"] = _("Unknown target %(value)r; choose one of %(allowed)s.") % {
            "value": target,
            "allowed": ", ".join(Target.values),
        }
    if field_type not in FieldType.values:
        errors["field_type"] = _("Unknown type %(value)r; choose one of %(allowed)s.") % {
            "value": field_type,
            "allowed": ", ".join(FieldType.values),
        }
    try:
        key_validator(key)
    except ValidationError:
        errors["key"] = _(
            "Key %(key)r: use lowercase letters, digits and underscores, starting with a letter."
        ) % {"key": key}
    if not label.strip():
        errors["label"] = _("Label cannot be empty.")
    choices = list(choices or [])
    if field_type in (FieldType.CHOICE, FieldType.MULTI_CHOICE) and not choices:
        errors["choices"] = _("Choice fields need at least one choice.")
    if required_from_stage is not None and target != Target.OPPORTUNITY:
        errors["required_from_stage"] = _(
            "Only opportunity fields can be mandatory from a stage on."
        )
    if CustomFieldDefinition.objects.filter(target=target, key=key).exists():
        errors["key"] = _("A %(target)s field with key %(key)r already exists.") % {
            "target": _target_word(target),
            "key": key,
        }
    if errors:
        raise ValidationError(errors)
    return CustomFieldDefinition.objects.create(
        target=target,
        key=key,
        label=label.strip(),
        field_type=field_type,
        choices=choices,
        required_on_create=required_on_create,
        required_from_stage=required_from_stage,
        help_text=help_text,
        order=order,
    )


_UNSET: Any = object()


def can_define_fields(actor: Any) -> bool:
    """Only administrators define custom fields."""
    return bool(
        getattr(actor, "is_authenticated", False)
        and actor.is_active
        and (actor.is_superuser or getattr(actor, "role", None) == "admin")
    )


def _check_actor(actor: Any) -> None:
    if actor is not None and not can_define_fields(actor):
        raise PermissionDenied(_("Only administrators can change custom fields."))


@transaction.atomic
def update_field(
    *,
    definition: CustomFieldDefinition,
    actor: Any = None,
    label: str = _UNSET,
    choices: list[str] | None = _UNSET,
    required_on_create: bool = _UNSET,
    required_from_stage: Any = _UNSET,
    help_text: str = _UNSET,
    order: int = _UNSET,
    active: bool = _UNSET,
) -> CustomFieldDefinition:
    """Change a definition; arguments not given stay as they are. Key, target and type are
    fixed once created (values are stored under the key in every record, in the type's form).

    Values already stored stay in the records: removing a choice or adding a mandatory flag
    does not touch them; the rules apply to the next write of each record.
    """
    _check_actor(actor)
    definition = CustomFieldDefinition.objects.select_for_update().get(pk=definition.pk)
    errors: dict[str, str] = {}
    changed: dict[str, Any] = {}
    if label is not _UNSET:
        label = (label or "").strip()
        if not label:
            errors["label"] = _("Label cannot be empty.")
        elif len(label) > 100:
            errors["label"] = _("Label: at most 100 characters.")
        changed["label"] = label
    if choices is not _UNSET:
        cleaned_choices: list[str] = []
        for choice in choices or []:
            if not isinstance(choice, str) or not choice.strip():
                errors["choices"] = _("Choices must be non-empty texts.")
                break
            if choice.strip() not in cleaned_choices:
                cleaned_choices.append(choice.strip())
        changed["choices"] = cleaned_choices
    if definition.field_type in (FieldType.CHOICE, FieldType.MULTI_CHOICE) and not changed.get(
        "choices", definition.choices
    ):
        errors.setdefault("choices", _("Choice fields need at least one choice."))
    if required_on_create is not _UNSET:
        changed["required_on_create"] = bool(required_on_create)
    if required_from_stage is not _UNSET:
        stage = required_from_stage
        if stage is not None and definition.target != Target.OPPORTUNITY:
            errors["required_from_stage"] = _(
                "Only opportunity fields can be mandatory from a stage on."
            )
        elif stage is not None and getattr(stage, "kind", None) == "lost":
            errors["required_from_stage"] = _("A field cannot be mandatory from the lost stage on.")
        changed["required_from_stage"] = stage
    if help_text is not _UNSET:
        help_text = (help_text or "").strip()
        if len(help_text) > 200:
            errors["help_text"] = _("Help text: at most 200 characters.")
        changed["help_text"] = help_text
    if order is not _UNSET:
        if isinstance(order, bool) or not isinstance(order, int) or not 0 <= order <= 32767:
            errors["order"] = _("Order must be a whole number between 0 and 32767.")
        changed["order"] = order
    if active is not _UNSET:
        changed["active"] = bool(active)
    if errors:
        raise ValidationError(errors)
    for name, value in changed.items():
        setattr(definition, name, value)
    if changed:
        definition.save(update_fields=list(changed))
    return definition


def deactivate_field(
    *, definition: CustomFieldDefinition, actor: Any = None
) -> CustomFieldDefinition:
    """Hide a field from forms, pages and gates; the values stay in the records (and come
    back if the field is activated again with ``update_field(active=True)``)."""
    return update_field(definition=definition, actor=actor, active=False)
