"""Forms of the activity pages: they parse and present input; the services decide (A2, A3)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from salescope.accounts.models import Account, Contact
from salescope.activities.models import Activity, ActivityType
from salescope.activities.selectors import (
    activity_types,
    assignable_users,
    contacts_for_activity,
)
from salescope.org.models import User
from salescope.pipeline.models import Opportunity
from salescope.visibility import visible_accounts, visible_contacts, visible_opportunities

# How many accounts and deals a form offers in its drop-downs (any visible one is accepted).
MAX_CHOICES = 300


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%d")


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return obj.display_name


class UserMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return obj.display_name


class ContactChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        title = f" · {obj.job_title}" if obj.job_title else ""
        email = "" if obj.email else " " + str(_("(no e-mail)"))
        return f"{obj}{title}{email}"


def _limited_choices(field: forms.ModelChoiceField, offered: Any, current: Any) -> None:
    """Validate against the field's (visible) queryset but offer only ``offered`` (+ current)."""
    items = list(offered[:MAX_CHOICES])
    if current is not None and current.pk not in {o.pk for o in items}:
        items.insert(0, current)
    field.widget.choices = [("", "—")] + [(o.pk, str(o)) for o in items]


class ActivityForm(forms.Form):
    """Create or edit an activity (call, meeting, demo, visit, task …)."""

    activity_type = forms.ModelChoiceField(label=_("Type"), queryset=ActivityType.objects.none())
    subject = forms.CharField(label=_("Subject"), max_length=200)
    owner = UserChoiceField(label=_("Assigned to"), queryset=User.objects.none())
    opportunity = forms.ModelChoiceField(
        label=_("Deal"), queryset=Opportunity.objects.none(), required=False
    )
    account = forms.ModelChoiceField(
        label=_("Account"), queryset=Account.objects.none(), required=False
    )
    contacts = ContactChoiceField(
        label=_("Contacts"),
        queryset=Contact.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    due_on = forms.DateField(
        label=_("Due date"),
        required=False,
        widget=DateInput(),
        help_text=_("For tasks and calls without a fixed time."),
    )
    starts_at = forms.DateTimeField(label=_("Starts"), required=False, widget=DateTimeInput())
    ends_at = forms.DateTimeField(label=_("Ends"), required=False, widget=DateTimeInput())
    duration_minutes = forms.IntegerField(
        label=_("Time spent (minutes)"), required=False, min_value=0, max_value=7 * 24 * 60
    )
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    done = forms.BooleanField(
        label=_("Already done (log it)"),
        required=False,
        help_text=_("For a call or a visit that took place."),
    )
    outcome = forms.CharField(label=_("Outcome"), required=False, max_length=300)

    def __init__(
        self, *args: Any, user: User, activity: Activity | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.activity = activity
        types = activity_types()
        if activity is not None:
            types = ActivityType.objects.filter(Q(active=True) | Q(pk=activity.activity_type_id))
        self.fields["activity_type"].queryset = types.order_by("order", "name")  # type: ignore[attr-defined]
        owners = assignable_users(user)
        if activity is not None:
            owners = User.objects.filter(Q(pk__in=owners.values("pk")) | Q(pk=activity.owner_id))
        self.fields["owner"].queryset = owners.order_by("first_name", "last_name", "username")  # type: ignore[attr-defined]

        initial_opp = self._initial_object("opportunity")
        initial_account = self._initial_object("account")
        opp_field: Any = self.fields["opportunity"]
        opp_field.queryset = visible_opportunities(user, Opportunity.objects.all())
        _limited_choices(
            opp_field,
            opp_field.queryset.filter(outcome="open", owner=user).order_by("name"),
            initial_opp,
        )
        account_field: Any = self.fields["account"]
        account_field.queryset = visible_accounts(user, Account.objects.all())
        _limited_choices(
            account_field,
            account_field.queryset.filter(owner=user).order_by("name"),
            initial_account,
        )
        contacts_field: Any = self.fields["contacts"]
        contacts_field.queryset = visible_contacts(user, Contact.objects.all())
        chosen = self._initial_ids("contacts")
        account = initial_account or (initial_opp.account if initial_opp is not None else None)
        contacts_field.widget.choices = [
            (c.pk, contacts_field.label_from_instance(c))
            for c in contacts_for_activity(user, account=account, include=chosen)[:MAX_CHOICES]
        ]
        # Choosing a deal or an account offers its contacts (the contacts box is reloaded).
        refresh = {
            "hx-get": reverse("activities:create"),
            "hx-include": "#id_account, #id_opportunity, [name=contacts]",
            "hx-target": "#contacts-field",
            "hx-select": "#contacts-field",
            "hx-swap": "outerHTML",
            "hx-trigger": "change",
        }
        opp_field.widget.attrs.update(refresh)
        account_field.widget.attrs.update(refresh)
        if activity is not None:
            del self.fields["done"]
            del self.fields["outcome"]

    def _initial_object(self, name: str) -> Any:
        """The account or deal the form starts with (bound data, initial, or the activity)."""
        field: Any = self.fields[name]
        raw = self.data.get(name) if self.is_bound else self.initial.get(name)
        if raw in (None, ""):
            return None
        if isinstance(raw, Account | Opportunity):
            return raw
        try:
            return field.queryset.model._default_manager.filter(pk=int(raw)).first()
        except (TypeError, ValueError):
            return None

    def _initial_ids(self, name: str) -> list[int]:
        raw = self.data.getlist(name) if self.is_bound else self.initial.get(name) or []  # type: ignore[attr-defined]
        ids = []
        for value in raw:
            try:
                ids.append(int(getattr(value, "pk", value)))
            except (TypeError, ValueError):
                continue
        return ids

    def service_values(self) -> dict[str, Any]:
        """The cleaned values named as the services expect them."""
        data = dict(self.cleaned_data)
        data["contacts"] = list(data.get("contacts") or [])
        data["description"] = data.get("description") or ""
        return data


class RescheduleForm(forms.Form):
    """A drag and drop (or the keyboard alternative): the new day, optionally a time."""

    date = forms.DateField(label=_("New date"), widget=DateInput())
    time = forms.TimeField(
        label=_("Time"), required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)


class CompleteForm(forms.Form):
    duration_minutes = forms.IntegerField(
        label=_("Time spent (minutes)"), required=False, min_value=0, max_value=7 * 24 * 60
    )
    outcome = forms.CharField(label=_("Outcome"), required=False, max_length=300)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)


class MinutesForm(forms.Form):
    participant_users = UserMultipleChoiceField(
        label=_("Internal participants"),
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    participant_contacts = ContactChoiceField(
        label=_("Customer participants"),
        queryset=Contact.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    discussion = forms.CharField(
        label=_("What was discussed"), required=False, widget=forms.Textarea(attrs={"rows": 6})
    )
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, user: User, activity: Activity, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        users: Any = self.fields["participant_users"]
        users.queryset = User.objects.filter(is_active=True).order_by(
            "first_name", "last_name", "username"
        )
        contacts: Any = self.fields["participant_contacts"]
        contacts.queryset = visible_contacts(user, Contact.objects.all())
        chosen = [c.pk for c in activity.contacts.all()]
        contacts.widget.choices = [
            (c.pk, contacts.label_from_instance(c))
            for c in contacts_for_activity(user, account=activity.account, include=chosen)[
                :MAX_CHOICES
            ]
        ]


def responsible_choices(users: list[User], contacts: list[Contact]) -> list[tuple[str, Any]]:
    """Grouped choices for who is responsible for an agreement: "u:<id>" or "c:<id>"."""
    return [
        ("", "—"),
        (str(_("Our side")), [(f"u:{u.pk}", u.display_name) for u in users]),
        (str(_("Customer")), [(f"c:{c.pk}", str(c)) for c in contacts]),
    ]


class AgreementForm(forms.Form):
    text = forms.CharField(label=_("Agreement"), max_length=300, required=False)
    responsible = forms.ChoiceField(label=_("Responsible"), required=False, choices=[])
    due_on = forms.DateField(label=_("Due"), required=False, widget=DateInput())

    def __init__(
        self, *args: Any, responsible: list[tuple[str, Any]] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["responsible"].choices = responsible or [("", "—")]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("DELETE") or not (data.get("text") or "").strip():
            return data
        if not data.get("responsible"):
            raise ValidationError({"responsible": _("Choose who is responsible.")})
        return data


class BaseAgreementFormSet(forms.BaseFormSet):
    def get_form_kwargs(self, index: int | None) -> dict[str, Any]:
        kwargs = super().get_form_kwargs(index)
        kwargs["responsible"] = self.form_kwargs.get("responsible")
        return kwargs


AgreementFormSet = forms.formset_factory(
    AgreementForm, formset=BaseAgreementFormSet, extra=1, can_delete=True, max_num=50
)


def agreement_items(
    formset: Any, users: dict[int, User], contacts: dict[int, Contact]
) -> list[dict[str, Any]]:
    """The agreements of a valid formset as ``record_minutes`` takes them."""
    items = []
    for form in formset.forms:
        data = getattr(form, "cleaned_data", None) or {}
        text = (data.get("text") or "").strip()
        if data.get("DELETE") or not text:
            continue
        kind, _sep, raw_id = (data.get("responsible") or "").partition(":")
        item: dict[str, Any] = {"text": text, "due_on": data.get("due_on")}
        try:
            pk = int(raw_id)
        except ValueError:
            pk = 0
        if kind == "u":
            item["owner"] = users.get(pk)
        elif kind == "c":
            item["owner_contact"] = contacts.get(pk)
        items.append(item)
    return items


def parse_day(value: str | None, default: dt.date) -> dt.date:
    try:
        return dt.date.fromisoformat(value) if value else default
    except ValueError:
        return default
