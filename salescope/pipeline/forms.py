"""Forms of the pipeline workspace: they parse input only; the services apply the rules."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from salescope.accounts.models import Account, Tag, Tier
from salescope.customfields.models import CustomFieldDefinition, FieldType
from salescope.org.models import Currency, Role, Team, User
from salescope.pipeline.models import (
    ForecastCategory,
    LostReason,
    Opportunity,
    Pipeline,
    ProductLine,
    Source,
    Stage,
    StageKind,
)
from salescope.pipeline.selectors import BoardFilters, display_custom
from salescope.visibility import owner_ids, sees_everything, visible_accounts


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


CLOSE_CHOICES = [
    ("", _("Any time")),
    ("overdue", _("Overdue")),
    ("this_month", _("This month")),
    ("next_month", _("Next month")),
    ("this_quarter", _("This quarter")),
    ("next_quarter", _("Next quarter")),
    ("later", _("Later")),
]


def owner_choices(user: User) -> Any:
    """People whose deals ``user`` may filter on or hand deals to."""
    qs = User.objects.filter(is_active=True).exclude(role=Role.READ_ONLY)
    if not sees_everything(user):
        qs = qs.filter(pk__in=owner_ids(user))
    return qs.order_by("first_name", "last_name", "username")


class BoardFilterForm(forms.Form):
    owner = forms.ModelChoiceField(
        queryset=User.objects.none(), required=False, label=_("Owner"), empty_label=_("Anyone")
    )
    team = forms.ModelChoiceField(
        queryset=Team.objects.all(), required=False, label=_("Team"), empty_label=_("Any team")
    )
    tier = forms.ModelChoiceField(
        queryset=Tier.objects.filter(active=True),
        required=False,
        label=_("Tier"),
        empty_label=_("Any tier"),
    )
    tag = forms.ModelChoiceField(
        queryset=Tag.objects.select_related("category"),
        required=False,
        label=_("Tag"),
        empty_label=_("Any tag"),
    )
    source = forms.ModelChoiceField(
        queryset=Source.objects.filter(active=True),
        required=False,
        label=_("Source"),
        empty_label=_("Any source"),
    )
    product = forms.ModelChoiceField(
        queryset=ProductLine.objects.filter(active=True),
        required=False,
        label=_("Product"),
        empty_label=_("Any product"),
    )
    close = forms.ChoiceField(choices=CLOSE_CHOICES, required=False, label=_("Expected close"))

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owner_choices(user)  # type: ignore[attr-defined]

    def filters(self) -> BoardFilters:
        """The valid filters (an invalid value is ignored and shown as an error on the form)."""
        self.is_valid()
        data = self.cleaned_data
        return BoardFilters(
            owner=data.get("owner"),
            team=data.get("team"),
            tier=data.get("tier"),
            tag=data.get("tag"),
            source=data.get("source"),
            product=data.get("product"),
            close=data.get("close") or "",
        )


# --- custom fields ------------------------------------------------------------------------


def custom_from_post(
    data: Mapping[str, Any], defs: Iterable[CustomFieldDefinition]
) -> dict[str, Any]:
    """Custom values posted as ``custom.<key>`` for the fields the form rendered.

    The form lists the keys it rendered in ``custom_keys`` so an unchecked box or an empty
    multi-choice means "no value" rather than "not on this form".
    """
    rendered = set(data.getlist("custom_keys")) if hasattr(data, "getlist") else set()
    values: dict[str, Any] = {}
    for d in defs:
        name = f"custom.{d.key}"
        if d.key not in rendered:
            continue
        if d.field_type == FieldType.BOOLEAN:
            values[d.key] = data.get(name) in ("on", "true", "1")
        elif d.field_type == FieldType.MULTI_CHOICE:
            values[d.key] = data.getlist(name)  # type: ignore[attr-defined]
        elif d.field_type == FieldType.MONEY:
            amount = (data.get(name) or "").strip()
            currency = data.get(f"{name}.currency") or ""
            values[d.key] = {"amount": amount, "currency": currency} if amount else None
        else:
            values[d.key] = (data.get(name) or "").strip()
    return values


def custom_inputs(
    defs: Iterable[CustomFieldDefinition],
    values: Mapping[str, Any] | None,
    errors: Mapping[str, list[str]] | None = None,
    posted: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """What the template needs to render one input per custom field."""
    values = values or {}
    errors = errors or {}
    rows = []
    for d in defs:
        value = values.get(d.key)
        if posted is not None and d.key in set(posted.getlist("custom_keys")):  # type: ignore[attr-defined]
            name = f"custom.{d.key}"
            if d.field_type == FieldType.MULTI_CHOICE:
                value = posted.getlist(name)  # type: ignore[attr-defined]
            elif d.field_type == FieldType.MONEY:
                value = {"amount": posted.get(name, ""), "currency": posted.get(f"{name}.currency")}
            elif d.field_type == FieldType.BOOLEAN:
                value = posted.get(name) == "on"
            else:
                value = posted.get(name, "")
        rows.append(
            {
                "def": d,
                "display": display_custom(d, values.get(d.key)),
                "name": f"custom.{d.key}",
                "id": f"id_custom_{d.key}",
                "value": value,
                "errors": errors.get(f"custom.{d.key}", []),
            }
        )
    return rows


def split_errors(exc: ValidationError) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """(custom field errors keyed ``custom.<key>``, other errors by field)."""
    custom: dict[str, list[str]] = {}
    other: dict[str, list[str]] = {}
    for key, messages in exc.message_dict.items():
        (custom if key.startswith("custom.") else other)[key] = list(messages)
    return custom, other


def add_service_errors(form: forms.Form, exc: ValidationError) -> dict[str, list[str]]:
    """Attach a service's field errors to the form; returns the custom-field ones."""
    custom, other = split_errors(exc)
    for key, messages in other.items():
        target = key if key in form.fields else None
        for message in messages:
            form.add_error(target, message)
    return custom


# --- creating a deal ----------------------------------------------------------------------


def open_stage_choices(pipeline: Pipeline | None = None) -> Any:
    qs = Stage.objects.filter(kind=StageKind.OPEN, pipeline__active=True).select_related("pipeline")
    if pipeline is not None:
        qs = qs.filter(pipeline=pipeline)
    return qs.order_by("-pipeline__is_default", "pipeline__order", "pipeline__name", "order")


class StageChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.pipeline.name} › {obj.name}"


class DealForm(forms.Form):
    name = forms.CharField(label=_("Deal name"), max_length=200)
    account = forms.ModelChoiceField(
        queryset=Account.objects.none(), required=False, label=_("Account")
    )
    stage = StageChoiceField(queryset=Stage.objects.none(), label=_("Stage"))
    amount = forms.DecimalField(
        label=_("Amount"), min_value=0, max_digits=14, decimal_places=2, localize=True
    )
    currency = forms.ModelChoiceField(
        queryset=Currency.objects.filter(active=True), label=_("Currency"), required=False
    )
    expected_close = forms.DateField(label=_("Expected close"), widget=DateInput())
    owner = forms.ModelChoiceField(queryset=User.objects.none(), required=False, label=_("Owner"))
    source = forms.ModelChoiceField(
        queryset=Source.objects.filter(active=True), required=False, label=_("Source")
    )
    products = forms.ModelMultipleChoiceField(
        queryset=ProductLine.objects.filter(active=True), required=False, label=_("Products")
    )
    next_step = forms.CharField(label=_("Next step"), max_length=300, required=False)

    QUICK_FIELDS = ("name", "account", "stage", "amount", "expected_close")

    def __init__(self, *args: Any, user: User, quick: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = visible_accounts(  # type: ignore[attr-defined]
            user, Account.objects.all()
        ).only("pk", "name")
        self.fields["stage"].queryset = open_stage_choices()  # type: ignore[attr-defined]
        self.fields["owner"].queryset = owner_choices(user)  # type: ignore[attr-defined]
        if user.role in (Role.REP, Role.MARKETING):
            del self.fields["owner"]
        if quick:
            for name in list(self.fields):
                if name not in self.QUICK_FIELDS:
                    del self.fields[name]


# --- actions ------------------------------------------------------------------------------


class LostForm(forms.Form):
    lost_reason = forms.ModelChoiceField(
        queryset=LostReason.objects.filter(active=True),
        required=False,  # the service says it is mandatory, in the user's words
        label=_("Reason"),
        empty_label=_("Choose a reason…"),
    )
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea({"rows": 2}))


class CommentForm(forms.Form):
    body = forms.CharField(label=_("Comment"), widget=forms.Textarea({"rows": 2}))


class AttachmentForm(forms.Form):
    file = forms.FileField(label=_("File"))


# --- inline editing (one field per form) --------------------------------------------------

EDITABLE = (
    "name",
    "account",
    "amount",
    "probability",
    "expected_close",
    "owner",
    "forecast_category",
    "stage",
    "source",
    "next_step",
    "contacts",
    "products",
    "custom",
)
OPEN_ONLY = {"probability", "expected_close", "forecast_category", "stage"}


def field_form(
    name: str, opp: Opportunity, user: User, data: Mapping[str, Any] | None = None
) -> forms.Form:
    """A one-field form for inline editing of ``name`` on ``opp`` (initial: its value)."""
    from salescope.pipeline.selectors import account_contact_choices

    form = forms.Form(data=data)
    f: forms.Field
    initial: Any
    if name == "name":
        f, initial = forms.CharField(label=_("Deal name"), max_length=200), opp.name
    elif name == "account":
        f = forms.ModelChoiceField(
            queryset=visible_accounts(user, Account.objects.all()).only("pk", "name"),
            required=False,
            label=_("Account"),
        )
        initial = opp.account_id
    elif name == "amount":
        f = forms.DecimalField(
            label=_("Amount"), min_value=0, max_digits=14, decimal_places=2, localize=True
        )
        initial = opp.amount
        form.fields["currency"] = forms.ModelChoiceField(
            queryset=Currency.objects.filter(active=True),
            label=_("Currency"),
            initial=opp.currency_id,
        )
    elif name == "probability":
        f = forms.IntegerField(label=_("Probability (%)"), min_value=0, max_value=100)
        initial = opp.probability
    elif name == "expected_close":
        f, initial = (
            forms.DateField(label=_("Expected close"), widget=DateInput()),
            opp.expected_close,
        )
    elif name == "owner":
        f = forms.ModelChoiceField(
            queryset=owner_choices(user) | User.objects.filter(pk=opp.owner_id), label=_("Owner")
        )
        initial = opp.owner_id
    elif name == "forecast_category":
        choices = [c for c in ForecastCategory.choices if c[0] != ForecastCategory.CLOSED]
        f, initial = (
            forms.ChoiceField(label=_("Forecast category"), choices=choices),
            opp.forecast_category,
        )
    elif name == "stage":
        f = forms.ModelChoiceField(
            queryset=Stage.objects.filter(pipeline_id=opp.pipeline_id, kind=StageKind.OPEN),
            label=_("Stage"),
            empty_label=None,
        )
        initial = opp.stage_id
    elif name == "source":
        f = forms.ModelChoiceField(
            queryset=Source.objects.filter(Q(active=True) | Q(pk=opp.source_id)),
            required=False,
            label=_("Source"),
        )
        initial = opp.source_id
    elif name == "next_step":
        f, initial = (
            forms.CharField(label=_("Next step"), max_length=300, required=False),
            opp.next_step,
        )
    elif name == "contacts":
        f = forms.ModelMultipleChoiceField(
            queryset=account_contact_choices(opp),
            required=False,
            label=_("Contacts"),
            widget=forms.CheckboxSelectMultiple,
        )
        initial = [c.pk for c in opp.contacts.all()]
    elif name == "products":
        f = forms.ModelMultipleChoiceField(
            queryset=ProductLine.objects.filter(Q(active=True) | Q(opportunities=opp)).distinct(),
            required=False,
            label=_("Products"),
            widget=forms.CheckboxSelectMultiple,
        )
        initial = [p.pk for p in opp.products.all()]
    else:
        raise KeyError(name)
    f.initial = initial
    form.fields["value"] = f
    form.order_fields(["value"])
    return form
