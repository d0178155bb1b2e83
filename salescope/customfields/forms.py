"""Form helpers that show custom fields (D3) in the product's forms, dialogs and pages.

Building a form with the custom fields of a model::

    class AccountForm(CustomFieldsFormMixin, forms.Form):
        custom_target = "account"
        name = forms.CharField()

    form = AccountForm(request.POST or None, custom_record=account)   # or ModelForm(instance=…)
    if form.is_valid():
        try:
            update_account(account=account, changes={..., "custom": form.custom_values()}, …)
        except ValidationError as exc:
            apply_service_errors(form, exc)          # ``custom.<key>`` → ``custom__<key>``

Every custom field is named ``custom__<key>``; ``{% include "customfields/_form_fields.html" %}``
renders them (labels, help, errors), ``{% custom_values record "account" %}`` shows the values.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from salescope.customfields.models import CustomFieldDefinition, FieldType
from salescope.customfields.services import MAX_TEXT, definitions, missing_for_stage

PREFIX = "custom__"
YES, NO = "yes", "no"


def form_name(key: str) -> str:
    """Name of the form field for the custom field ``key``."""
    return f"{PREFIX}{key}"


def suggest_key(label: str) -> str:
    """A key for a new field derived from its label: "Budget confirmed?" → "budget_confirmed"."""
    text = unicodedata.normalize("NFKD", label.replace("ß", "ss"))
    text = text.encode("ascii", "ignore").decode().lower()
    text = re.sub(r"[^a-z0-9]+", "_", text).strip("_")
    text = re.sub(r"^[0-9_]+", "", text)
    return text[:50].rstrip("_")


# --- widgets and fields -------------------------------------------------------------------


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class MoneyWidget(forms.MultiWidget):
    def __init__(self, currencies: Sequence[tuple[str, str]], attrs: dict[str, Any] | None = None):
        widgets = [
            forms.TextInput(attrs={"inputmode": "decimal", "class": "cf-amount"}),
            forms.Select(
                choices=currencies, attrs={"class": "cf-currency", "aria-label": _("Currency")}
            ),
        ]
        super().__init__(widgets, attrs)

    def id_for_label(self, id_: str) -> str:
        # The field's label names the amount; the currency select has its own aria-label.
        return f"{id_}_0" if id_ else ""

    def decompress(self, value: Any) -> list[Any]:
        if isinstance(value, Mapping):
            return [value.get("amount"), value.get("currency")]
        if isinstance(value, list | tuple) and len(value) == 2:
            return list(value)
        return [None, None]


class MoneyField(forms.MultiValueField):
    """Amount + currency; cleans to ``{"amount": "12.50", "currency": "EUR"}`` or None."""

    def __init__(
        self, *, currencies: Sequence[tuple[str, str]], default_currency: str, **kwargs: Any
    ) -> None:
        required = kwargs.pop("required", False)
        amount = forms.DecimalField(
            required=required,
            localize=True,
            max_digits=17,
            decimal_places=2,
            error_messages={"incomplete": _("Enter an amount.")},
        )
        currency = forms.ChoiceField(choices=currencies, required=False)
        self.default_currency = default_currency
        super().__init__(
            fields=(amount, currency),
            require_all_fields=False,
            required=required,
            widget=MoneyWidget(currencies),
            **kwargs,
        )

    def compress(self, data_list: list[Any]) -> dict[str, str] | None:
        if not data_list or data_list[0] in (None, ""):
            return None
        amount, currency = data_list
        return {"amount": str(amount), "currency": currency or self.default_currency}

    def has_changed(self, initial: Any, data: Any) -> bool:
        before = self.widget.decompress(initial)
        if before[0] in (None, ""):
            before = [None, None]
        try:
            after = self.clean(data) if data else None
        except ValidationError:
            return True
        if after is None:
            return before[0] is not None
        try:
            return Decimal(str(before[0])) != Decimal(after["amount"]) or (
                before[1] != after["currency"]
            )
        except InvalidOperation:
            return True


def _currencies() -> tuple[list[tuple[str, str]], str]:
    from salescope.org.models import Currency
    from salescope.org.selectors import company_currency

    codes = list(Currency.objects.filter(active=True).values_list("code", flat=True))
    default = company_currency()
    if default in codes:  # the company currency first: the most likely one
        codes.remove(default)
        codes.insert(0, default)
    return [(c, c) for c in codes], default


def _stage_required(defs: Iterable[CustomFieldDefinition], stage: Any) -> set[str]:
    if stage is None:
        return set()
    return {d.key for d in missing_for_stage(values={}, stage=stage, defs=list(defs))}


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def initial_value(definition: CustomFieldDefinition, value: Any) -> Any:
    """The stored canonical value as the form field's Python type (for ``initial``)."""
    if _empty(value):
        return None
    kind = definition.field_type
    try:
        if kind == FieldType.NUMBER:
            return Decimal(str(value))
        if kind == FieldType.DATE:
            return dt.date.fromisoformat(str(value))
        if kind == FieldType.MONEY:
            return [Decimal(str(value["amount"])), value["currency"]]
        if kind == FieldType.BOOLEAN:
            return YES if value is True else NO if value is False else None
        if kind == FieldType.MULTI_CHOICE:
            return [str(v) for v in value]
    except (InvalidOperation, ValueError, TypeError, KeyError):
        return None
    return value


def custom_form_field(
    definition: CustomFieldDefinition,
    *,
    required: bool = False,
    current: Any = None,
    currencies: tuple[list[tuple[str, str]], str] | None = None,
) -> forms.Field:
    """One Django form field for ``definition`` (``current``: the stored value, if any)."""
    common: dict[str, Any] = {
        "label": definition.label,
        "help_text": definition.help_text,
        "required": required,
    }
    kind = definition.field_type
    field: forms.Field
    if kind == FieldType.TEXT:
        field = forms.CharField(max_length=MAX_TEXT, **common)
    elif kind == FieldType.NUMBER:
        field = forms.DecimalField(
            localize=True,
            max_digits=34,
            widget=forms.TextInput(attrs={"inputmode": "decimal"}),
            **common,
        )
    elif kind == FieldType.MONEY:
        codes, default = currencies or _currencies()
        if isinstance(current, Mapping) and current.get("currency") not in dict(codes):
            codes = [*codes, (str(current.get("currency")), str(current.get("currency")))]
        field = MoneyField(currencies=codes, default_currency=default, **common)
    elif kind == FieldType.DATE:
        field = forms.DateField(widget=DateInput(), input_formats=["%Y-%m-%d"], **common)
    elif kind in (FieldType.CHOICE, FieldType.MULTI_CHOICE):
        options = [str(c) for c in definition.choices]
        kept = current if isinstance(current, list) else [current]
        options += [str(v) for v in kept if not _empty(v) and str(v) not in options]
        if kind == FieldType.CHOICE:
            field = forms.ChoiceField(choices=[("", "—"), *((c, c) for c in options)], **common)
        else:
            field = forms.MultipleChoiceField(
                choices=[(c, c) for c in options], widget=forms.CheckboxSelectMultiple, **common
            )
    elif kind == FieldType.BOOLEAN:
        field = forms.ChoiceField(choices=[("", "—"), (YES, _("Yes")), (NO, _("No"))], **common)
    else:  # pragma: no cover - the model's choices list every type
        raise ValueError(f"unsupported field type {kind!r}")
    setattr(field, "custom_definition", definition)  # noqa: B010 - read back by the helpers
    setattr(field, "custom_kind", kind)  # noqa: B010
    return field


def custom_form_fields(
    target: str,
    *,
    values: Mapping[str, Any] | None = None,
    stage: Any = None,
    creating: bool | None = None,
    defs: list[CustomFieldDefinition] | None = None,
) -> dict[str, forms.Field]:
    """Form fields ``custom__<key>`` for the active custom fields of ``target``, in order.

    ``values``: the record's stored ``custom`` (initial values); ``creating`` defaults to
    "no values given". A field is required when mandatory on create (new records; on existing
    records only once it holds a value, since the services refuse clearing it) or mandatory
    from ``stage`` on (e.g. the stage a deal is created in or moved to).
    """
    defs = definitions(target) if defs is None else defs
    creating = values is None if creating is None else creating
    values = values or {}
    gated = _stage_required(defs, stage)
    currencies = _currencies() if any(d.field_type == FieldType.MONEY for d in defs) else None
    fields: dict[str, forms.Field] = {}
    for d in defs:
        current = values.get(d.key)
        on_create = d.required_on_create and (creating or not _empty(current))
        field = custom_form_field(
            d, required=on_create or d.key in gated, current=current, currencies=currencies
        )
        field.initial = initial_value(d, current)
        fields[form_name(d.key)] = field
    return fields


def canonical(definition: CustomFieldDefinition, value: Any) -> Any:
    """A cleaned form value in the form ``clean_custom_values`` accepts (None = clear)."""
    if _empty(value):
        return None
    kind = definition.field_type
    if kind == FieldType.NUMBER:
        return str(value)
    if kind == FieldType.DATE:
        return value.isoformat() if isinstance(value, dt.date) else str(value)
    if kind == FieldType.BOOLEAN:
        return {YES: True, NO: False}.get(value)
    if kind == FieldType.MULTI_CHOICE:
        return sorted(set(value))
    return value


def custom_values_from(form: forms.BaseForm, *, only_changed: bool = False) -> dict[str, Any]:
    """``custom=`` for the services from a valid form holding ``custom__<key>`` fields."""
    result: dict[str, Any] = {}
    changed = set(form.changed_data) if only_changed else None
    for name, field in form.fields.items():
        definition = getattr(field, "custom_definition", None)
        if definition is None or not name.startswith(PREFIX):
            continue
        if changed is not None and name not in changed:
            continue
        result[definition.key] = canonical(definition, form.cleaned_data.get(name))
    return result


class CustomFieldsFormMixin:
    """Adds the custom fields of ``custom_target`` to a Form or ModelForm.

    Keyword arguments: ``custom_record`` (the record being edited, defaults to the
    ModelForm's ``instance``; None or unsaved = creating) and ``custom_stage`` (the stage the
    deal is in or is entering: fields mandatory from that stage on become required).
    """

    custom_target: str = ""
    fields: dict[str, forms.Field]
    cleaned_data: dict[str, Any]

    def __init__(
        self,
        *args: Any,
        custom_record: Any = None,
        custom_stage: Any = None,
        custom_defs: list[CustomFieldDefinition] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        record = custom_record if custom_record is not None else getattr(self, "instance", None)
        self.custom_creating = record is None or getattr(record, "pk", None) is None
        stored = None if self.custom_creating else (getattr(record, "custom", None) or {})
        if custom_stage is None and record is not None and not self.custom_creating:
            custom_stage = getattr(record, "stage", None)
        new_fields = custom_form_fields(
            self.custom_target,
            values=stored,
            stage=custom_stage,
            creating=self.custom_creating,
            defs=custom_defs,
        )
        self.fields.update(new_fields)
        initial = getattr(self, "initial", {})
        for name, field in new_fields.items():
            if name not in initial and field.initial is not None:
                initial[name] = field.initial

    def custom_values(self) -> dict[str, Any]:
        """Values for ``custom=``: every field when creating, the changed ones when editing
        (so a value that no longer fits an edited definition is kept rather than refused)."""
        assert isinstance(self, forms.BaseForm)
        return custom_values_from(self, only_changed=not self.custom_creating)

    def custom_bound_fields(self) -> list[forms.BoundField]:
        assert isinstance(self, forms.BaseForm)
        return [self[name] for name in self.fields if name.startswith(PREFIX)]


def apply_service_errors(form: forms.BaseForm, exc: ValidationError) -> None:
    """Show a service's ``ValidationError`` on the form: ``custom.<key>`` → ``custom__<key>``,
    other keys on the same-named field, the rest as non-field errors."""
    if not hasattr(exc, "error_dict"):
        for message in exc.messages:
            form.add_error(None, message)
        return
    for key, messages in exc.message_dict.items():
        name = form_name(key.removeprefix("custom.")) if key.startswith("custom.") else key
        target = name if name in form.fields and key != "__all__" else None
        for message in messages:
            form.add_error(target, message)


# --- display -------------------------------------------------------------------------------


def display_entries(
    defs: Iterable[CustomFieldDefinition], values: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """One entry per definition for ``customfields/_values.html``: label, kind, the value as a
    Python object for the ``salescope`` filters (Decimal, date, bool, list), ``currency``."""
    entries = []
    for d in defs:
        raw = values.get(d.key) if isinstance(values, Mapping) else None
        typed = initial_value(d, raw)
        entry: dict[str, Any] = {
            "key": d.key,
            "label": d.label,
            "kind": d.field_type,
            "value": typed,
            "currency": None,
            "empty": _empty(raw),
        }
        if d.field_type == FieldType.MONEY and typed is not None:
            entry["value"], entry["currency"] = typed
        elif d.field_type == FieldType.BOOLEAN:
            entry["value"] = raw if isinstance(raw, bool) else None
        if typed is None and not _empty(raw):  # a stored value that no longer parses
            entry["kind"], entry["value"] = FieldType.TEXT, str(raw)
        entries.append(entry)
    return entries


def display_value(definition: CustomFieldDefinition, value: Any) -> str:
    """A stored value as text in the user's locale (lists, exports, e-mails); "" when empty."""
    from django.utils.translation import gettext

    from salescope.core import formatting

    if _empty(value):
        return ""
    typed = initial_value(definition, value)
    kind = definition.field_type
    if typed is None:
        return str(value)
    if kind == FieldType.NUMBER:
        return formatting.number(typed)
    if kind == FieldType.MONEY:
        return formatting.money(typed[0], typed[1])
    if kind == FieldType.DATE:
        return formatting.date(typed)
    if kind == FieldType.BOOLEAN:
        return gettext("Yes") if value is True else gettext("No")
    if kind == FieldType.MULTI_CHOICE:
        return ", ".join(typed)
    return str(typed)


# --- the admin screens' form ---------------------------------------------------------------


class FieldDefinitionForm(forms.Form):
    """Parses the create/edit screen of a definition; the services do the validation.

    ``target`` comes from the URL; key and type only when creating (fixed afterwards);
    "mandatory from stage" only for opportunity fields, grouped by pipeline.
    """

    label = forms.CharField(label=_("Label"), max_length=100)
    key = forms.CharField(
        label=_("Key"),
        max_length=50,
        required=False,
        help_text=_(
            "Used in imports, exports and the API. Lowercase letters, digits and underscores; "
            "cannot be changed later."
        ),
    )
    field_type = forms.ChoiceField(label=_("Type"), choices=FieldType.choices)
    choices = forms.CharField(
        label=_("Choices"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("One per line."),
    )
    required_on_create = forms.BooleanField(
        label=_("Mandatory on create"),
        required=False,
        help_text=_("A record cannot be created without a value."),
    )
    required_from_stage = forms.ChoiceField(
        label=_("Mandatory from stage"),
        required=False,
        help_text=_("Deals need a value before entering this stage or any later one (won too)."),
    )
    help_text = forms.CharField(
        label=_("Help text"),
        max_length=200,
        required=False,
        help_text=_("Shown under the field in forms."),
    )
    order = forms.IntegerField(
        label=_("Order"),
        required=False,
        min_value=0,
        max_value=32767,
        initial=0,
        help_text=_("Fields are shown by order, then label."),
    )

    def __init__(
        self,
        *args: Any,
        target: str,
        definition: CustomFieldDefinition | None = None,
        stages: Iterable[Any] = (),
        **kwargs: Any,
    ) -> None:
        if definition is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "label": definition.label,
                "choices": "\n".join(map(str, definition.choices)),
                "required_on_create": definition.required_on_create,
                "required_from_stage": definition.required_from_stage_id or "",
                "help_text": definition.help_text,
                "order": definition.order,
            }
        super().__init__(*args, **kwargs)
        self.target = target
        self.definition = definition
        self.kind = definition.field_type if definition is not None else None
        if definition is not None:  # fixed once created
            del self.fields["key"]
            del self.fields["field_type"]
        else:
            self.fields["key"].widget.attrs.update(
                {"pattern": "[a-z][a-z0-9_]{0,49}", "autocapitalize": "off", "spellcheck": "false"}
            )
        # Offered for opportunity fields only; parsed for every target so that a stage sent
        # for another target is refused by the service (on this field) rather than ignored.
        self._stages = {str(s.pk): s for s in stages}
        groups: dict[str, list[tuple[str, str]]] = {}
        for stage in self._stages.values():
            groups.setdefault(str(stage.pipeline), []).append(
                (str(stage.pk), f"{stage.name} · {stage.pipeline}")
            )
        current = definition.required_from_stage if definition is not None else None
        if current is not None and str(current.pk) not in self._stages:
            self._stages[str(current.pk)] = current  # e.g. its pipeline was archived
            groups.setdefault(str(current.pipeline), []).append(
                (str(current.pk), f"{current.name} · {current.pipeline}")
            )
        field = self.fields["required_from_stage"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", _("Not required")), *groups.items()]

    @property
    def offers_stage(self) -> bool:
        """Show the stage select: opportunity fields, or to show an error about it."""
        return self.target == "opportunity" or bool(self["required_from_stage"].errors)

    @property
    def is_choice_type(self) -> bool:
        kind = self.kind or (self.data.get("field_type") if self.is_bound else None)
        return kind in (FieldType.CHOICE, FieldType.MULTI_CHOICE)

    def clean_choices(self) -> list[str]:
        lines = (line.strip() for line in self.cleaned_data.get("choices", "").splitlines())
        return list(dict.fromkeys(line for line in lines if line))

    def clean_key(self) -> str:
        key = self.cleaned_data.get("key", "").strip()
        return key or suggest_key(self.data.get("label", ""))

    def service_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``define_field`` (new) or ``update_field`` (edit)."""
        cd = self.cleaned_data
        kind = self.kind or cd["field_type"]
        kwargs: dict[str, Any] = {
            "label": cd["label"],
            "required_on_create": cd["required_on_create"],
            "help_text": cd["help_text"],
            "order": cd["order"] or 0,
        }
        if kind in (FieldType.CHOICE, FieldType.MULTI_CHOICE):
            kwargs["choices"] = cd["choices"]
        chosen = cd.get("required_from_stage")
        if chosen or self.target == "opportunity":
            kwargs["required_from_stage"] = self._stages.get(chosen) if chosen else None
        if self.definition is None:
            kwargs.update(target=self.target, key=cd["key"], field_type=kind)
        return kwargs
