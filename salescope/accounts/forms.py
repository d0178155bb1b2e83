"""Forms of the customer-base pages. They only parse input; the services validate and write.

``cleaned_data`` is turned into keyword arguments of the services by :meth:`service_kwargs`;
a ``ValidationError`` from a service is put back on the form with :func:`add_service_errors`
(``custom.<key>`` errors land on the field ``custom_<key>``).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from salescope.accounts.models import (
    Account,
    AccountStatus,
    AccountType,
    ContactRole,
    Industry,
    Region,
    Tag,
    Tier,
)
from salescope.customfields.models import CustomFieldDefinition, FieldType
from salescope.customfields.services import definitions
from salescope.org.models import Currency, Role, User


def _active(model: type[Any], current: Any = None) -> Any:
    """Active entries of a configurable list, plus the one in use (even if retired)."""
    qs = model._default_manager.filter(active=True)
    if current is not None:
        qs = model._default_manager.filter(pk=current.pk) | qs
    return qs


def _custom_field(definition: CustomFieldDefinition) -> list[tuple[str, forms.Field]]:
    """Form fields for one custom field definition (a money field takes two inputs)."""
    name = f"custom_{definition.key}"
    common: dict[str, Any] = {
        "label": definition.label,
        "required": False,
        "help_text": definition.help_text,
    }
    kind = definition.field_type
    if kind == FieldType.TEXT:
        return [(name, forms.CharField(**common))]
    if kind == FieldType.NUMBER:
        return [(name, forms.CharField(widget=forms.TextInput(attrs={"inputmode": "decimal"}),
                                       **common))]  # fmt: skip
    if kind == FieldType.MONEY:
        currencies = [(c, c) for c in Currency.objects.filter(active=True).values_list(
            "code", flat=True)]  # fmt: skip
        return [
            (name, forms.CharField(widget=forms.TextInput(attrs={"inputmode": "decimal"}),
                                   **common)),
            (f"{name}__currency", forms.ChoiceField(
                label=_("%(label)s currency") % {"label": definition.label},
                choices=currencies, required=False)),
        ]  # fmt: skip
    if kind == FieldType.DATE:
        return [(name, forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), **common))]
    if kind == FieldType.CHOICE:
        choices = [("", "—"), *((c, c) for c in definition.choices)]
        return [(name, forms.ChoiceField(choices=choices, **common))]
    if kind == FieldType.MULTI_CHOICE:
        return [(name, forms.MultipleChoiceField(
            choices=[(c, c) for c in definition.choices],
            widget=forms.CheckboxSelectMultiple, **common))]  # fmt: skip
    if kind == FieldType.BOOLEAN:
        choices = [("", "—"), ("yes", _("Yes")), ("no", _("No"))]
        return [(name, forms.ChoiceField(choices=choices, **common))]
    return []


def _custom_initial(definition: CustomFieldDefinition, value: Any) -> dict[str, Any]:
    name = f"custom_{definition.key}"
    if value is None:
        return {}
    if definition.field_type == FieldType.MONEY and isinstance(value, dict):
        return {name: value.get("amount"), f"{name}__currency": value.get("currency")}
    if definition.field_type == FieldType.BOOLEAN:
        return {name: "yes" if value else "no"}
    return {name: value}


class ServiceForm(forms.Form):
    """A form whose custom fields come from the admin's definitions (D3)."""

    target = ""

    def __init__(self, *args: Any, custom: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.custom_definitions = definitions(self.target) if self.target else []
        self.custom_field_names: list[str] = []
        for definition in self.custom_definitions:
            for name, field in _custom_field(definition):
                self.fields[name] = field
                self.custom_field_names.append(name)
            if custom and not self.is_bound:
                self.initial.update(_custom_initial(definition, custom.get(definition.key)))

    @property
    def custom_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.custom_field_names]

    @property
    def standard_fields(self) -> list[forms.BoundField]:
        hidden = {"version", "confirm_duplicate"}
        return [f for f in self if f.name not in self.custom_field_names and f.name not in hidden]

    def custom_values(self) -> dict[str, Any]:
        """The custom values as the services take them ("" clears a value)."""
        values: dict[str, Any] = {}
        data = self.cleaned_data
        for definition in self.custom_definitions:
            name = f"custom_{definition.key}"
            value = data.get(name)
            if definition.field_type == FieldType.MONEY:
                currency = data.get(f"{name}__currency")
                value = {"amount": value, "currency": currency} if value else None
            elif definition.field_type == FieldType.BOOLEAN:
                value = {"yes": True, "no": False}.get(value or "")
            values[definition.key] = value if value not in ("", []) else None
        return values


def add_service_errors(form: forms.Form, exc: ValidationError) -> None:
    """Show a service's field errors next to the form's fields (others above the form)."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for key, messages in exc.message_dict.items():
        name = key.replace("custom.", "custom_", 1) if key.startswith("custom.") else key
        if name == "account" and "account" not in form.fields:
            name = "__all__"
        form.add_error(name if name in form.fields else None, messages)


def _owner_field(user: User, current: User | None) -> forms.ModelChoiceField | None:
    """Admins and managers choose an owner (managers: their team); reps own what they add."""
    from salescope.visibility import owner_ids

    if user.role == Role.ADMIN or user.is_superuser:
        qs = User.objects.filter(is_active=True).exclude(role=Role.READ_ONLY)
    elif user.role == Role.MANAGER:
        qs = User.objects.filter(pk__in=owner_ids(user), is_active=True)
    else:
        return None
    if current is not None:
        qs = User.objects.filter(pk=current.pk) | qs
    return forms.ModelChoiceField(label=_("Owner"), queryset=qs.order_by("first_name", "last_name"))


class AccountForm(ServiceForm):
    target = "account"

    name = forms.CharField(label=_("Company name"), max_length=200)
    status = forms.ModelChoiceField(label=_("Status"), queryset=AccountStatus.objects.none())
    tier = forms.ModelChoiceField(label=_("Tier"), queryset=Tier.objects.none(), required=False)
    account_type = forms.ModelChoiceField(
        label=_("Account type"), queryset=AccountType.objects.none(), required=False
    )
    industry = forms.ModelChoiceField(
        label=_("Industry"), queryset=Industry.objects.none(), required=False
    )
    region = forms.ModelChoiceField(
        label=_("Region / territory"), queryset=Region.objects.none(), required=False
    )
    website = forms.CharField(
        label=_("Website"), required=False, max_length=200,
        widget=forms.TextInput(attrs={"inputmode": "url", "placeholder": "example.com"}),
    )  # fmt: skip
    phone = forms.CharField(label=_("Phone"), required=False, max_length=40,
                            widget=forms.TextInput(attrs={"type": "tel"}))  # fmt: skip
    street = forms.CharField(label=_("Street"), required=False, max_length=200)
    postal_code = forms.CharField(label=_("Postal code"), required=False, max_length=20)
    city = forms.CharField(label=_("City"), required=False, max_length=100)
    country = forms.CharField(
        label=_("Country"), required=False, max_length=2, help_text=_("ISO code, e.g. DE")
    )
    employees = forms.IntegerField(label=_("Employees"), required=False, min_value=0)
    annual_revenue = forms.DecimalField(
        label=_("Annual revenue"), required=False, max_digits=16, decimal_places=2, min_value=0
    )
    tags = forms.ModelMultipleChoiceField(
        label=_("Tags"), queryset=Tag.objects.none(), required=False,
        widget=forms.CheckboxSelectMultiple,
    )  # fmt: skip
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(
        attrs={"rows": 3}))  # fmt: skip
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    confirm_duplicate = forms.BooleanField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, user: User, account: Account | None = None,
                 **kwargs: Any) -> None:  # fmt: skip
        if account is not None and not kwargs.get("data") and not args:
            kwargs.setdefault("initial", {}).update(
                {
                    **{f: getattr(account, f) for f in (
                        "name", "status", "tier", "account_type", "industry", "region",
                        "website", "phone", "street", "postal_code", "city", "country",
                        "employees", "annual_revenue", "description")},
                    "tags": list(account.tags.all()),
                    "version": account.version,
                }
            )  # fmt: skip
        super().__init__(*args, custom=account.custom if account else None, **kwargs)
        self.user = user
        self.account = account
        f: Any = self.fields
        f["status"].queryset = _active(AccountStatus, account.status if account else None)
        f["tier"].queryset = _active(Tier, account.tier if account else None)
        f["account_type"].queryset = _active(AccountType, account.account_type if account else None)
        f["industry"].queryset = _active(Industry, account.industry if account else None)
        f["region"].queryset = _active(Region, account.region if account else None)
        f["tags"].queryset = Tag.objects.filter(category__active=True).select_related("category")
        if account is not None:
            f["tags"].queryset = (f["tags"].queryset | account.tags.all()).distinct()
        if not f["tags"].queryset.exists():
            del f["tags"]  # no tags defined yet: nothing to choose
        if account is None:
            from salescope.accounts.services import default_status

            f["status"].initial = default_status()
        owner = _owner_field(user, account.owner if account else None)
        if owner is not None:
            f["owner"] = owner
            self.initial.setdefault("owner", account.owner if account else user)
        # Keep the field order readable: owner after the name and status.
        order = ["name", "status", "owner", "tier"]
        self.order_fields(order + [n for n in f if n not in order])

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        names = [
            "name", "status", "tier", "account_type", "industry", "region", "website", "phone",
            "street", "postal_code", "city", "country", "employees", "annual_revenue",
            "description", "tags",
        ]  # fmt: skip
        kwargs = {n: data.get(n) for n in names}
        if "tags" in self.fields:
            kwargs["tags"] = list(data.get("tags") or [])
        else:
            del kwargs["tags"]
        for text in ("website", "phone", "street", "postal_code", "city", "country",
                     "description"):  # fmt: skip
            kwargs[text] = kwargs[text] or ""
        if "owner" in self.fields:
            kwargs["owner"] = data.get("owner")
        if self.custom_definitions:
            kwargs["custom"] = self.custom_values()
        return kwargs


class ContactForm(ServiceForm):
    target = "contact"

    first_name = forms.CharField(label=_("First name"), required=False, max_length=100)
    last_name = forms.CharField(label=_("Last name"), max_length=100)
    email = forms.EmailField(label=_("Email"), required=False, max_length=254)
    phone = forms.CharField(label=_("Phone"), required=False, max_length=40,
                            widget=forms.TextInput(attrs={"type": "tel"}))  # fmt: skip
    mobile = forms.CharField(label=_("Mobile"), required=False, max_length=40,
                             widget=forms.TextInput(attrs={"type": "tel"}))  # fmt: skip
    job_title = forms.CharField(label=_("Job title"), required=False, max_length=120)
    notes = forms.CharField(label=_("Notes"), required=False,
                            widget=forms.Textarea(attrs={"rows": 3}))  # fmt: skip
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    confirm_duplicate = forms.BooleanField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, user: User, contact: Any = None,
                 accounts: Any = None, **kwargs: Any) -> None:  # fmt: skip
        if contact is not None and not kwargs.get("data") and not args:
            kwargs.setdefault("initial", {}).update(
                {f: getattr(contact, f) for f in (
                    "first_name", "last_name", "email", "phone", "mobile", "job_title", "notes")}
                | {"version": contact.version}
            )  # fmt: skip
        super().__init__(*args, custom=contact.custom if contact else None, **kwargs)
        self.user = user
        if contact is None:
            # Where the new contact works, and their roles there (D4).
            self.fields["account"] = forms.ModelChoiceField(
                label=_("Account"), queryset=accounts, required=False
            )
            self.fields["roles"] = forms.ModelMultipleChoiceField(
                label=_("Roles at the account"), queryset=_active(ContactRole), required=False,
                widget=forms.CheckboxSelectMultiple,
            )  # fmt: skip
            self.fields["is_primary"] = forms.BooleanField(
                label=_("Primary contact of the account"), required=False
            )
            order = ["account", "roles", "is_primary"]
            self.order_fields(order + [n for n in self.fields if n not in order])
        owner = _owner_field(user, contact.owner if contact else None)
        if owner is not None:
            self.fields["owner"] = owner
            self.initial.setdefault("owner", contact.owner if contact else user)

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        kwargs: dict[str, Any] = {
            n: data.get(n) or ""
            for n in ("first_name", "last_name", "email", "phone", "mobile", "job_title", "notes")
        }
        if "owner" in self.fields:
            kwargs["owner"] = data.get("owner")
        if self.custom_definitions:
            kwargs["custom"] = self.custom_values()
        return kwargs


class MembershipForm(forms.Form):
    """A contact's roles at one account (D4)."""

    roles = forms.ModelMultipleChoiceField(
        label=_("Roles"), queryset=ContactRole.objects.none(), required=False,
        widget=forms.CheckboxSelectMultiple,
    )  # fmt: skip
    is_primary = forms.BooleanField(label=_("Primary contact"), required=False)

    def __init__(self, *args: Any, current: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        qs = ContactRole.objects.filter(active=True)
        ids = [r.pk for r in current]
        if ids:
            qs = ContactRole.objects.filter(pk__in=ids) | qs
        roles: Any = self.fields["roles"]
        roles.queryset = qs


class CommentForm(forms.Form):
    body = forms.CharField(
        label=_("Comment"),
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": _("Write a comment…")}),
    )


class AttachmentForm(forms.Form):
    file = forms.FileField(label=_("File"))


class MergeForm(forms.Form):
    """Which record to merge into the one shown (it is deleted afterwards)."""

    merge = forms.IntegerField(widget=forms.HiddenInput)
