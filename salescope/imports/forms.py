"""Forms of the import wizard: upload, column mapping, run options.

They parse what the browser sends into the shapes the services take (files as
``(name, bytes)`` pairs, the mapping as a spec dict); the services validate the content.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from salescope.imports.reading import Limits, read_tables

MAX_UPLOAD_FILES = 20
MAX_MAPPING_NAME = 120


def megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.0f} MB" if size >= 1024 * 1024 else f"{size / 1024:.0f} KB"


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (``<input type=file multiple>``)."""

    widget = MultipleFileInput

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        items = [i for i in data if i] if isinstance(data, list | tuple) else [data] if data else []
        if not items:
            if self.required:
                raise ValidationError(_("Choose at least one file to import."), code="required")
            return []
        files, problems = [], []
        for item in items:
            try:
                files.append(super().clean(item, initial))
            except ValidationError as exc:
                name = getattr(item, "name", "") or _("The file")
                if exc.code == "empty":
                    problems.append(_("%(file)s is empty.") % {"file": name})
                else:
                    problems.extend(f"{name}: {m}" for m in exc.messages)
        if problems:
            raise ValidationError(problems)
        return files


class _UploadCleaning(forms.Form):
    def clean_upload(self) -> list[UploadedFile]:
        return check_uploads(self.cleaned_data["upload"])

    def file_pairs(self) -> list[tuple[str, bytes]]:
        pairs = []
        for upload in self.cleaned_data["upload"]:
            upload.seek(0)
            pairs.append((str(upload.name), upload.read()))
        return pairs


class UploadForm(_UploadCleaning):
    upload = MultipleFileField(
        label=_("Files"),
        help_text=_(
            "CSV or Excel (.xlsx), or a ZIP of several. Export your deals (and if you like "
            "accounts, contacts and activities) from your old CRM or spreadsheet."
        ),
        widget=MultipleFileInput(
            attrs={"accept": ".csv,.tsv,.txt,.xlsx,.xlsm,.zip", "class": "im-file-input"}
        ),
    )
    preset = forms.ChoiceField(label=_("Format"), required=False)
    saved_mapping = forms.ChoiceField(label=_("Use a saved mapping"), required=False)

    def __init__(
        self,
        *args: Any,
        presets: Sequence[tuple[str, str]] = (),
        saved_mappings: Sequence[tuple[int, str]] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        preset_field: Any = self.fields["preset"]
        preset_field.choices = [("", _("Recognise automatically")), *presets]
        saved_field: Any = self.fields["saved_mapping"]
        saved_field.choices = [("", _("No, suggest a mapping")), *saved_mappings]
        if not saved_mappings:
            saved_field.widget = forms.HiddenInput()

    def saved_mapping_id(self) -> int | None:
        value = self.cleaned_data.get("saved_mapping")
        return int(value) if value else None


def check_uploads(files: list[UploadedFile]) -> list[UploadedFile]:
    """Refuse too many, too large, empty and unreadable files, naming them."""
    if not files:
        raise forms.ValidationError(_("Choose at least one file to import."))
    if len(files) > MAX_UPLOAD_FILES:
        raise forms.ValidationError(
            _("Please upload at most %(max)d files at once, or put them in one ZIP file.")
            % {"max": MAX_UPLOAD_FILES}
        )
    limit = Limits.from_settings().max_bytes
    too_big = [f for f in files if (f.size or 0) > limit]
    if too_big:
        raise forms.ValidationError(
            [
                _("%(file)s is %(size)s; files can be at most %(limit)s.")
                % {"file": f.name, "size": megabytes(f.size or 0), "limit": megabytes(limit)}
                for f in too_big
            ]
        )
    empty = [f for f in files if not f.size]
    if empty:
        raise forms.ValidationError([_("%(file)s is empty.") % {"file": f.name} for f in empty])
    problems = []
    for upload in files:  # unreadable files are refused before anything is stored
        upload.seek(0)
        try:
            read_tables(str(upload.name), upload.read())
        except ValidationError as exc:
            problems.extend(exc.messages)
    if problems:
        raise forms.ValidationError(problems)
    return files


class ReuploadForm(_UploadCleaning):
    """A corrected file for a job: same mapping, new data."""

    upload = MultipleFileField(
        label=_("Corrected file"),
        widget=MultipleFileInput(attrs={"accept": ".csv,.tsv,.txt,.xlsx,.xlsm,.zip"}),
    )


class RunForm(forms.Form):
    skip_invalid = forms.BooleanField(
        label=_("Skip the rejected rows and import the others"), required=False
    )


# --- column mapping -----------------------------------------------------------------------

ENTITY_LABELS: dict[str, Any] = {
    "opportunities": _("Deals"),
    "accounts": _("Accounts"),
    "contacts": _("Contacts"),
    "leads": _("Leads"),
    "activities": _("Activities"),
    "history": _("Deal history (stage changes)"),
    "users": _("Users (sales team)"),
    "products": _("Products"),
}

#: The same kinds of records inside a sentence ("Importing deals…"): German keeps capitals.
ENTITY_IN_SENTENCE: dict[str, Any] = {
    "opportunities": pgettext_lazy("imported records in a sentence", "deals"),
    "accounts": pgettext_lazy("imported records in a sentence", "accounts"),
    "contacts": pgettext_lazy("imported records in a sentence", "contacts"),
    "leads": pgettext_lazy("imported records in a sentence", "leads"),
    "activities": pgettext_lazy("imported records in a sentence", "activities"),
    "history": pgettext_lazy("imported records in a sentence", "deal history"),
    "users": pgettext_lazy("imported records in a sentence", "users"),
    "products": pgettext_lazy("imported records in a sentence", "products"),
}

FIELD_LABELS: dict[str, Any] = {
    "external_id": _("ID in the old system"),
    "name": _("Name"),
    "domain": _("Domain"),
    "website": _("Website"),
    "phone": _("Phone"),
    "mobile": _("Mobile"),
    "street": _("Street"),
    "postal_code": _("Postal code"),
    "city": _("City"),
    "country": _("Country"),
    "industry": _("Industry"),
    "account_type": _("Account type"),
    "tier": _("Tier"),
    "status": _("Status"),
    "region": _("Region"),
    "employees": _("Employees"),
    "annual_revenue": _("Annual revenue"),
    "owner": _("Owner"),
    "parent": _("Parent account"),
    "tags": _("Tags"),
    "description": _("Description"),
    "created_at": _("Created on"),
    "first_name": _("First name"),
    "last_name": _("Last name"),
    "full_name": _("Full name"),
    "email": _("Email"),
    "job_title": _("Job title"),
    "language": _("Language"),
    "account": _("Account (name)"),
    "account_external_id": _("Account ID in the old system"),
    "role": _("Role"),
    "notes": _("Notes"),
    "pipeline": _("Pipeline"),
    "stage": _("Stage"),
    "outcome": _("Outcome (won/lost)"),
    "amount": _("Amount"),
    "currency": _("Currency"),
    "probability": _("Probability (%)"),
    "expected_close": _("Expected close date"),
    "closed_on": _("Closed on"),
    "source": _("Source"),
    "product": _("Product"),
    "lost_reason": _("Lost reason"),
    "lost_note": _("Lost note"),
    "forecast_category": _("Forecast category"),
    "next_step": _("Next step"),
    "contact_email": _("Contact email"),
    "opportunity_external_id": _("Deal ID in the old system"),
    "opportunity": _("Deal (name)"),
    "field": _("Changed field"),
    "old_value": _("Old value"),
    "new_value": _("New value"),
    "occurred_at": _("Changed on"),
    "actor": _("Changed by"),
    "type": _("Type"),
    "subject": _("Subject"),
    "due_on": _("Due on"),
    "starts_at": _("Starts at"),
    "ends_at": _("Ends at"),
    "done_at": _("Done at"),
    "done": _("Done"),
    "duration_minutes": _("Duration (minutes)"),
    "company": _("Company"),
    "campaign": _("Campaign"),
    "team": _("Team"),
    "manager": _("Manager"),
    "active": _("Active"),
    "code": _("Code"),
    "list_price": _("List price"),
}

DATE_FORMAT_LABELS: dict[str, Any] = {
    "dmy": _("Day first (31.12.2025, 31/12/2025)"),
    "mdy": _("Month first (12/31/2025)"),
    "iso": _("Year first (2025-12-31)"),
    "ymd": _("Year first (2025/12/31)"),
    "excel": _("Excel date numbers (45657)"),
}

DECIMAL_LABELS: dict[str, Any] = {
    "auto": _("Recognise automatically"),
    "point": _("Decimal point (1,234.56)"),
    "comma": _("Decimal comma (1.234,56)"),
}

IGNORE = "-"


def field_label(name: str, custom_labels: dict[str, str] | None = None) -> str:
    if name.startswith("custom."):
        return str((custom_labels or {}).get(name, name[len("custom.") :]))
    return str(FIELD_LABELS.get(name, name.replace("_", " ").capitalize()))


class MappingForm(forms.Form):
    """The column matching of every table of a job.

    Per table ``i``: ``t{i}_entity`` (empty: skip the table), ``t{i}_c{j}`` the field of
    column ``j`` (``-``: ignore), ``t{i}_d{j}`` the answer to an ambiguous date column,
    ``t{i}_decimal`` and defaults ``t{i}_owner``, ``t{i}_pipeline``, ``t{i}_currency``.
    Choices cover every entity; ``clean`` checks each table's fields against its entity.
    """

    save_name = forms.CharField(
        label=_("Save this column matching as"),
        required=False,
        max_length=MAX_MAPPING_NAME,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. Deals from our old CRM")}),
    )
    save_shared = forms.BooleanField(label=_("Share it with the other importers"), required=False)

    def __init__(
        self,
        *args: Any,
        tables: Sequence[Any],
        entities: Sequence[str],
        fields_of: dict[str, Sequence[str]],
        custom_fields: dict[str, list[tuple[str, str]]],
        owners: Sequence[tuple[str, str]],
        pipelines: Sequence[str],
        currencies: Sequence[str],
        questions: dict[int, dict[str, list[str]]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.tables = list(tables)
        self.fields_of = fields_of
        self.custom_fields = custom_fields
        custom_labels = {k: v for pairs in custom_fields.values() for k, v in pairs}
        every_target = sorted(
            {f for names in fields_of.values() for f in names} | set(custom_labels)
        )
        target_choices = [(IGNORE, _("Don't import")), *((t, t) for t in every_target)]
        for i, table in enumerate(self.tables):
            self.fields[f"t{i}_entity"] = forms.ChoiceField(
                label=_("These rows are"),
                required=False,
                choices=[
                    ("", _("Skip this table")),
                    *((e, ENTITY_LABELS.get(e, e)) for e in entities),
                ],
            )
            for j, header in enumerate(table.headers):
                self.fields[f"t{i}_c{j}"] = forms.ChoiceField(
                    label=header, choices=target_choices, required=False
                )
            for j, header in enumerate(table.headers):
                candidates = questions.get(i, {}).get(header)
                if candidates:
                    self.fields[f"t{i}_d{j}"] = forms.ChoiceField(
                        label=header,
                        required=False,
                        widget=forms.RadioSelect,
                        choices=[(c, DATE_FORMAT_LABELS.get(c, c)) for c in candidates],
                    )
            self.fields[f"t{i}_decimal"] = forms.ChoiceField(
                label=_("Numbers"), required=False, choices=list(DECIMAL_LABELS.items())
            )
            self.fields[f"t{i}_owner"] = forms.ChoiceField(
                label=_("Owner when the row names none"),
                required=False,
                choices=[("", "–"), *owners],
            )
            self.fields[f"t{i}_pipeline"] = forms.ChoiceField(
                label=_("Pipeline when the row names none"),
                required=False,
                choices=[("", _("The default pipeline")), *((p, p) for p in pipelines)],
            )
            self.fields[f"t{i}_currency"] = forms.ChoiceField(
                label=_("Currency when the row names none"),
                required=False,
                choices=[("", _("The company currency")), *((c, c) for c in currencies)],
            )

    def table_choices(self, i: int) -> dict[str, Any]:
        """What the form holds for table ``i`` (bound data, else the initial values)."""

        def value(name: str) -> str:
            bound = self[name]
            data = bound.value()
            return "" if data is None else str(data)

        table = self.tables[i]
        columns = {h: value(f"t{i}_c{j}") or IGNORE for j, h in enumerate(table.headers)}
        answers = {
            h: value(f"t{i}_d{j}")
            for j, h in enumerate(table.headers)
            if f"t{i}_d{j}" in self.fields and value(f"t{i}_d{j}")
        }
        return {
            "entity": value(f"t{i}_entity"),
            "columns": columns,
            "date_formats": answers,
            "decimal": value(f"t{i}_decimal") or "auto",
            "owner": value(f"t{i}_owner"),
            "pipeline": value(f"t{i}_pipeline"),
            "currency": value(f"t{i}_currency"),
        }

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        active = [i for i in range(len(self.tables)) if cleaned.get(f"t{i}_entity")]
        if not active:
            raise forms.ValidationError(_("Choose what at least one table holds."))
        for i in active:
            entity = cleaned[f"t{i}_entity"]
            allowed = set(self.fields_of.get(entity, ())) | {
                k for k, _label in self.custom_fields.get(entity, [])
            }
            seen: dict[str, str] = {}
            for j, header in enumerate(self.tables[i].headers):
                target = cleaned.get(f"t{i}_c{j}") or IGNORE
                if target == IGNORE:
                    continue
                name = f"t{i}_c{j}"
                if target not in allowed:
                    self.add_error(
                        name,
                        _("%(entity)s have no field “%(field)s”.")
                        % {"entity": ENTITY_LABELS.get(entity, entity), "field": target},
                    )
                elif target in seen:
                    self.add_error(
                        name,
                        _("“%(field)s” is already filled from column “%(column)s”.")
                        % {
                            "field": field_label(target, dict(self.custom_fields.get(entity, []))),
                            "column": seen[target],
                        },
                    )
                else:
                    seen[target] = header
            for j, header in enumerate(self.tables[i].headers):
                name = f"t{i}_d{j}"
                target = cleaned.get(f"t{i}_c{j}") or IGNORE
                if name in self.fields and target != IGNORE and not cleaned.get(name):
                    self.add_error(
                        name,
                        _("Tell us how the dates in “%(column)s” are written.")
                        % {"column": header},
                    )
        return cleaned
